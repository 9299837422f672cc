/*
 * cmd_bench.c — manushya bench ingest: end-to-end ingest throughput through the public API
 * (texts embedded by the library, added in all-or-none batches), then search latency on what
 * was ingested; bench encrypt, the same plain and encrypted. The other benchmarks have files
 * of their own (bench_*.c) and are in the table below. All print the parameters with the
 * figures; they assert nothing.
 */
#include "bench_text.h"
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define BENCH_QUERIES 100
#define BENCH_K 10

/* Creates tenant "bench" and identity "bench-agent" unless they exist. */
static int bench_setup(cli_ctx *c, const mn_actor *agent)
{
    mn_tenant *t = NULL;
    int rc = mn_tenant_create(c->db, agent->tenant, &t);
    mn_tenant_free(t);
    if (rc != MN_OK && rc != MN_EEXISTS)
        return cli_fail(c, rc, "bench: tenant %s", agent->tenant);
    const mn_actor system = {.version = MN_ACTOR_VERSION, .tenant = agent->tenant};
    mn_identity *i = NULL;
    rc = mn_identity_create(c->db, &system, agent->identity, "agent", NULL, &i);
    mn_identity_free(i);
    if (rc != MN_OK && rc != MN_EEXISTS)
        return cli_fail(c, rc, "bench: identity %s", agent->identity);
    return CLI_EXIT_OK;
}

static int ingest(cli_ctx *c, const mn_actor *agent, int n, int batch)
{
    mn_memory_input *in = calloc((size_t)batch, sizeof *in);
    char *texts = malloc((size_t)batch * BENCH_TEXT_MAX);
    int rc = CLI_EXIT_OK;
    if (!in || !texts)
        rc = cli_error("bench: out of memory for a batch of %d", batch);
    for (int start = 0; start < n && rc == CLI_EXIT_OK; start += batch) {
        int m = n - start < batch ? n - start : batch;
        for (int j = 0; j < m; j++) {
            char *t = texts + (size_t)j * BENCH_TEXT_MAX;
            bench_text((uint64_t)(start + j), t, BENCH_TEXT_MAX);
            in[j] = (mn_memory_input)MN_MEMORY_INPUT_INIT;
            in[j].text = t;
            in[j].type = bench_type((uint64_t)(start + j));
        }
        int mrc = mn_memory_add_many(c->db, agent, in, (size_t)m, NULL, NULL);
        if (mrc != MN_OK)
            rc = cli_fail(c, mrc, "bench: add batch at %d", start);
    }
    free(in);
    free(texts);
    return rc;
}

typedef struct search_stats {
    double p50, p99, mean;
    int self_top1; /* queries whose own memory text came back first */
} search_stats;

/* Queries are stored texts spread over the ingested range, so each has an exact answer. */
static int searches(cli_ctx *c, const mn_actor *agent, int n, search_stats *st)
{
    double lat[BENCH_QUERIES];
    char q[BENCH_TEXT_MAX];
    memset(st, 0, sizeof *st);
    for (int i = 0; i < BENCH_QUERIES; i++) {
        bench_text((uint64_t)i * (uint64_t)n / BENCH_QUERIES, q, sizeof q);
        mn_search_options so = MN_SEARCH_OPTIONS_INIT;
        so.query = q;
        so.k = BENCH_K;
        mn_memories *hits = NULL;
        double t0 = cli_now();
        int rc = mn_memory_search(c->db, agent, &so, &hits);
        lat[i] = (cli_now() - t0) * 1000.0;
        if (rc != MN_OK)
            return cli_fail(c, rc, "bench: search %d", i);
        st->self_top1 += hits->count > 0 && strcmp(hits->items[0]->text, q) == 0;
        mn_memories_free(hits);
    }
    cli_latency l = cli_latency_of(lat, BENCH_QUERIES);
    st->p50 = l.p50;
    st->p99 = l.p99;
    st->mean = l.mean;
    return CLI_EXIT_OK;
}

/* Writes the handle's metrics (Prometheus text) to path. */
static int metrics_to(cli_ctx *c, const char *path)
{
    char *text = NULL;
    int rc = mn_metrics_write(c->db, MN_METRICS_PROMETHEUS, &text);
    if (rc != MN_OK)
        return cli_fail(c, rc, "bench: metrics");
    FILE *f = fopen(path, "w");
    int bad = !f || fputs(text, f) < 0;
    if (f && fclose(f) != 0)
        bad = 1;
    mn_free(text);
    return bad ? cli_error("bench: cannot write %s: %s", path, strerror(errno)) : CLI_EXIT_OK;
}

/* ---- comparisons: the same ingest and searches on fresh databases of two kinds ---------- */

/* What one round measured, in the calling thread. */
typedef struct compare_figures {
    double rate;        /* memories/s, wall time */
    double ingest_cpu;  /* CPU us per memory */
    double search_ms;   /* mean search latency, wall time */
    double search_cpu;  /* CPU us per search */
} compare_figures;

/* How a comparison opens its two kinds of database: the command's config, changed for kind
 * 0 or 1 (arg: the comparison's own). */
typedef void compare_kind_fn(mn_config *cfg, int kind, const void *arg);

/* One round: a fresh database at url opened with cfg, ingest, then the searches once the
 * vector index has caught up. */
static int compare_round(cli_ctx *c, const char *url, const mn_config *cfg, int n, int batch,
                         compare_figures *f)
{
    mn_db *db = NULL;
    int rc = mn_open(&db, url, cfg);
    mn_db *saved = c->db;
    c->db = db;
    const mn_actor agent = {
        .version = MN_ACTOR_VERSION, .tenant = "bench", .identity = "bench-agent"};
    if (rc != MN_OK)
        rc = cli_fail(c, rc, "bench: open %s", url);
    else if ((rc = bench_setup(c, &agent)) == CLI_EXIT_OK) {
        double t0 = cli_now(), cpu0 = cli_thread_cpu();
        rc = ingest(c, &agent, n, batch);
        double secs = cli_now() - t0, cpu1 = cli_thread_cpu();
        f->rate = secs > 0 ? n / secs : 0;
        f->ingest_cpu = (cpu1 - cpu0) * 1e6 / n;
        search_stats st = { 0, 0, 0, 0 };
        cli_wait_for_index(db);
        cpu1 = cli_thread_cpu();
        if (rc == CLI_EXIT_OK)
            rc = searches(c, &agent, n, &st);
        f->search_ms = st.mean;
        f->search_cpu = (cli_thread_cpu() - cpu1) * 1e6 / BENCH_QUERIES;
    }
    c->db = saved;
    mn_close(db);
    return rc;
}

static void keep_best(compare_figures *best, const compare_figures *f, int first)
{
    if (first || f->rate > best->rate)
        best->rate = f->rate;
    if (first || f->ingest_cpu < best->ingest_cpu)
        best->ingest_cpu = f->ingest_cpu;
    if (first || f->search_ms < best->search_ms)
        best->search_ms = f->search_ms;
    if (first || f->search_cpu < best->search_cpu)
        best->search_cpu = f->search_cpu;
}

/* rounds of each kind on fresh databases in dir, alternating (kind 0 first in even rounds,
 * 1 in odd ones, so that a drift of the machine hits both), each kind's best round kept in
 * best[kind]: wall time, and the CPU time of the calling thread, which the load of other
 * processes on a shared machine disturbs much less. */
static int compare(cli_ctx *c, const char *dir, int n, int batch, int rounds,
                   compare_kind_fn *kind_cfg, const void *arg, compare_figures best[2])
{
    int rc = CLI_EXIT_OK;
    memset(best, 0, 2 * sizeof *best);
    for (int r = 0; r < rounds && rc == CLI_EXIT_OK; r++)
        for (int i = 0; i < 2 && rc == CLI_EXIT_OK; i++) {
            int kind = (r + i) % 2;
            char url[CLI_TEMP_DIR_MAX + 64];
            snprintf(url, sizeof url, "sqlite:%s/round%d-kind%d.db", dir, r, kind);
            mn_config cfg = c->cfg;
            kind_cfg(&cfg, kind, arg);
            compare_figures f = { 0, 0, 0, 0 };
            rc = compare_round(c, url, &cfg, n, batch, &f);
            if (rc == CLI_EXIT_OK)
                keep_best(&best[kind], &f, r == 0);
        }
    return rc;
}

static double slower(double off, double on)
{
    return off > 0 ? (on / off - 1) * 100 : 0;
}

/* Kind 0: metrics off, 1: on. */
static void metrics_kind(mn_config *cfg, int kind, const void *arg)
{
    (void)arg;
    cfg->metrics = kind ? MN_METRICS_AUTO : MN_METRICS_OFF;
}

/* --metrics-compare: how much slower metrics make ingest and search. */
static int metrics_compare(cli_ctx *c, int n, int batch, int rounds)
{
    char dir[CLI_TEMP_DIR_MAX];
    int rc = cli_temp_dir("bench-metrics", dir, sizeof dir);
    compare_figures best[2]; /* [metrics on] */
    if (rc == CLI_EXIT_OK) {
        rc = compare(c, dir, n, batch, rounds, metrics_kind, NULL, best);
        cli_temp_dir_remove(dir);
    }
    if (rc != CLI_EXIT_OK)
        return rc;
    const compare_figures *of = &best[0], *on = &best[1];
    double ingest_cost = of->rate > 0 && on->rate > 0 ? (of->rate / on->rate - 1) * 100 : 0;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "n", n);
        cJSON_AddNumberToObject(o, "batch", batch);
        cJSON_AddNumberToObject(o, "rounds", rounds);
        cJSON_AddItemToObject(o, "memories_per_s_off", cli_json_number(of->rate, 6));
        cJSON_AddItemToObject(o, "memories_per_s_on", cli_json_number(on->rate, 6));
        cJSON_AddItemToObject(o, "ingest_slower_percent", cli_json_number(ingest_cost, 3));
        cJSON_AddItemToObject(o, "ingest_cpu_us_off", cli_json_number(of->ingest_cpu, 4));
        cJSON_AddItemToObject(o, "ingest_cpu_us_on", cli_json_number(on->ingest_cpu, 4));
        cJSON_AddItemToObject(o, "ingest_cpu_slower_percent",
                              cli_json_number(slower(of->ingest_cpu, on->ingest_cpu), 3));
        cJSON_AddItemToObject(o, "search_mean_ms_off", cli_json_number(of->search_ms, 4));
        cJSON_AddItemToObject(o, "search_mean_ms_on", cli_json_number(on->search_ms, 4));
        cJSON_AddItemToObject(o, "search_slower_percent",
                              cli_json_number(slower(of->search_ms, on->search_ms), 3));
        cJSON_AddItemToObject(o, "search_cpu_us_off", cli_json_number(of->search_cpu, 4));
        cJSON_AddItemToObject(o, "search_cpu_us_on", cli_json_number(on->search_cpu, 4));
        cJSON_AddItemToObject(o, "search_cpu_slower_percent",
                              cli_json_number(slower(of->search_cpu, on->search_cpu), 3));
        return cli_json_emit(o);
    }
    printf("bench ingest --metrics-compare  n=%d batch=%d rounds=%d libmanushya=%s "
           "(best round of each, fresh databases)\n"
           "ingest   metrics off %.0f memories/s, on %.0f memories/s: %+.2f%% slower; "
           "CPU per memory off %.2f us, on %.2f us: %+.2f%%\n"
           "search   metrics off mean %.4f ms, on %.4f ms: %+.2f%% slower; "
           "CPU per search off %.1f us, on %.1f us: %+.2f%%\n",
           n, batch, rounds, mn_version(), of->rate, on->rate, ingest_cost, of->ingest_cpu,
           on->ingest_cpu, slower(of->ingest_cpu, on->ingest_cpu), of->search_ms,
           on->search_ms, slower(of->search_ms, on->search_ms), of->search_cpu, on->search_cpu,
           slower(of->search_cpu, on->search_cpu));
    return CLI_EXIT_OK;
}

/* Checks --n and --batch as bench ingest and encrypt take them. */
static int check_n_batch(cli_ctx *c, int n_given, int n, int batch)
{
    if (!n_given || n < 1)
        return cli_usage_error(c, "--n N (at least 1) is required");
    if (batch < 1)
        return cli_usage_error(c, "--batch must be at least 1");
    return CLI_CONTINUE;
}

static int run_ingest(cli_ctx *c, int argc, char **argv)
{
    int n = 0, batch = 1000, n_given = 0, compare = 0, during = -1, during_given = 0;
    int after = -1, after_given = 0;
    const char *metrics_out = NULL;
    const cli_opt opts[] = {{"n", CLI_OPT_INT, &n, &n_given},
                            {"batch", CLI_OPT_INT, &batch, NULL},
                            {"metrics-out", CLI_OPT_STR, &metrics_out, NULL},
                            {"metrics-compare", CLI_OPT_INT, &compare, NULL},
                            {"search-during", CLI_OPT_INT, &during, &during_given},
                            {"search-after", CLI_OPT_INT, &after, &after_given}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = check_n_batch(c, n_given, n, batch)) != CLI_CONTINUE)
        return rc;
    if (compare < 0)
        return cli_usage_error(c, "--metrics-compare R: give a number of rounds >= 1");
    if ((during_given && during < 1) || (after_given && after < 1) ||
        ((during_given || after_given) && compare) || (during_given && after_given))
        return cli_usage_error(c, "--search-during S or --search-after S: give the seconds to "
                                  "search after the import (>= 1); one of them, without "
                                  "--metrics-compare");
    if (compare)
        return metrics_compare(c, n, batch, compare);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;

    const mn_actor agent = {
        .version = MN_ACTOR_VERSION, .tenant = "bench", .identity = "bench-agent"};
    if ((rc = bench_setup(c, &agent)) != CLI_EXIT_OK)
        return rc;
    cli_search_during *sd = NULL;
    if ((during_given || after_given) &&
        (rc = cli_search_during_start(c->db, &agent, n, during_given,
                                      during_given ? during : after, &sd)) != CLI_EXIT_OK) {
        free(sd);
        return rc;
    }
    double t0 = cli_now(), cpu0 = cli_thread_cpu();
    rc = ingest(c, &agent, n, batch);
    double secs = cli_now() - t0, rate = secs > 0 ? n / secs : 0, caught_up = 0;
    /* The adding thread's own CPU time: on a busy machine the wall time measures the others
     * too. The index's build worker is not in it. */
    double cpu_us = (cli_thread_cpu() - cpu0) * 1e6 / n;
    if (sd) {
        /* The thread keeps searching while the index catches up; then the 100 searches
         * below time the caught-up index. */
        cli_search_during_done(sd);
        cli_wait_for_index(c->db);
        caught_up = cli_now() - t0 - secs;
    }
    int drc = cli_search_during_join(sd);
    if (rc == CLI_EXIT_OK)
        rc = drc;
    if (rc != CLI_EXIT_OK) {
        cli_search_during_report(sd, caught_up, NULL);
        return rc;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_mib = (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
    search_stats st;
    rc = searches(c, &agent, n, &st);
    if (rc == CLI_EXIT_OK && metrics_out)
        rc = metrics_to(c, metrics_out);
    if (rc != CLI_EXIT_OK) {
        cli_search_during_report(sd, caught_up, NULL);
        return rc;
    }
    /* The database is left with its vector index caught up, and so saved whole on close: the
     * next process opens it from its files (bench/open_search.sh times that). */
    cli_wait_for_index(c->db);

    int dim = mn_embed_dim(c->db);
    const char *embedder = c->cfg.embedder ? c->cfg.embedder : "local";
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "database", cli_url_shown(c));
        cJSON_AddNumberToObject(o, "n", n);
        cJSON_AddNumberToObject(o, "batch", batch);
        cJSON_AddNumberToObject(o, "dim", dim);
        cJSON_AddStringToObject(o, "embedder", embedder);
        cJSON_AddStringToObject(o, "library", mn_version());
        cJSON_AddBoolToObject(o, "encrypted", mn_db_encrypted(c->db));
        cJSON_AddItemToObject(o, "seconds", cli_json_number(secs, 6));
        cJSON_AddItemToObject(o, "memories_per_s", cli_json_number(rate, 6));
        cJSON_AddItemToObject(o, "ingest_cpu_us", cli_json_number(cpu_us, 4));
        cJSON_AddItemToObject(o, "peak_rss_mib", cli_json_number(rss_mib, 4));
        cJSON_AddNumberToObject(o, "search_queries", BENCH_QUERIES);
        cJSON_AddNumberToObject(o, "search_k", BENCH_K);
        cJSON_AddItemToObject(o, "search_p50_ms", cli_json_number(st.p50, 4));
        cJSON_AddItemToObject(o, "search_p99_ms", cli_json_number(st.p99, 4));
        cJSON_AddItemToObject(o, "search_mean_ms", cli_json_number(st.mean, 4));
        cJSON_AddNumberToObject(o, "search_self_top1", st.self_top1);
        cli_search_during_report(sd, caught_up, o);
        return cli_json_emit(o);
    }
    printf("bench ingest  n=%d batch=%d dim=%d embedder=%s libmanushya=%s\n"
           "database      %s%s\n"
           "ingest        %d memories in %.3f s = %.0f memories/s (end to end, embedding "
           "included)\n"
           "ingest CPU    %.1f us per memory on the adding thread (%.0f memories per CPU "
           "second)\n"
           "peak RSS      %.1f MiB\n"
           "search        %d queries, k=%d: p50 %.3f ms, p99 %.3f ms, mean %.3f ms "
           "(own text first: %d/%d)\n",
           n, batch, dim, embedder, mn_version(), cli_url_shown(c),
           mn_db_encrypted(c->db) ? " (encrypted)" : "", n, secs, rate, cpu_us,
           cpu_us > 0 ? 1e6 / cpu_us : 0, rss_mib,
           BENCH_QUERIES, BENCH_K, st.p50, st.p99, st.mean, st.self_top1, BENCH_QUERIES);
    cli_search_during_report(sd, caught_up, NULL);
    return CLI_EXIT_OK;
}

/* ---- bench encrypt: the cost of encryption at rest ---------------------------------------- */

#define ENCRYPT_ROUNDS 3

/* Kind 0: plain, 1: encrypted with the master key at arg. */
static void encrypt_kind(mn_config *cfg, int kind, const void *arg)
{
    cfg->flags = kind ? MN_OPEN_ENCRYPT : 0;
    cfg->master_key_file = kind ? arg : NULL;
}

/* The speed of encrypted over plain: above 1 is faster. */
static double ratio(double plain, double encrypted)
{
    return plain > 0 ? encrypted / plain : 0;
}

static int run_encrypt(cli_ctx *c, int argc, char **argv)
{
    int n = 0, batch = 1000, n_given = 0;
    const cli_opt opts[] = {{"n", CLI_OPT_INT, &n, &n_given},
                            {"batch", CLI_OPT_INT, &batch, NULL}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE || (rc = check_n_batch(c, n_given, n, batch)) != CLI_CONTINUE)
        return rc;
    char dir[CLI_TEMP_DIR_MAX], key[CLI_TEMP_DIR_MAX + 16];
    if ((rc = cli_temp_dir("bench-encrypt", dir, sizeof dir)) != CLI_EXIT_OK)
        return rc;
    snprintf(key, sizeof key, "%s/master.key", dir);
    compare_figures k[2]; /* [encrypted] */
    if (mn_master_key_create(key) != MN_OK)
        rc = cli_error("bench encrypt: %s", mn_errmsg(NULL));
    else
        rc = compare(c, dir, n, batch, ENCRYPT_ROUNDS, encrypt_kind, key, k);
    cli_temp_dir_remove(dir);
    if (rc != CLI_EXIT_OK)
        return rc;
    double ingest_ratio = ratio(k[0].rate, k[1].rate);
    double search_ratio = ratio(1 / k[0].search_ms, 1 / k[1].search_ms);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "n", n);
        cJSON_AddNumberToObject(o, "batch", batch);
        cJSON_AddNumberToObject(o, "rounds", ENCRYPT_ROUNDS);
        static const char *const names[] = { "plain", "encrypted" };
        for (int e = 0; e < 2; e++) {
            cJSON *x = cJSON_AddObjectToObject(o, names[e]);
            cJSON_AddItemToObject(x, "memories_per_s", cli_json_number(k[e].rate, 6));
            cJSON_AddItemToObject(x, "ingest_cpu_us", cli_json_number(k[e].ingest_cpu, 4));
            cJSON_AddItemToObject(x, "search_mean_ms", cli_json_number(k[e].search_ms, 4));
            cJSON_AddItemToObject(x, "search_cpu_us", cli_json_number(k[e].search_cpu, 4));
        }
        cJSON_AddItemToObject(o, "ingest_ratio", cli_json_number(ingest_ratio, 4));
        cJSON_AddItemToObject(o, "search_ratio", cli_json_number(search_ratio, 4));
        return cli_json_emit(o);
    }
    printf("bench encrypt  n=%d batch=%d rounds=%d libmanushya=%s (best round of each, fresh "
           "SQLite databases)\n", n, batch, ENCRYPT_ROUNDS, mn_version());
    for (int e = 0; e < 2; e++)
        printf("%-10s     ingest %.0f memories/s, CPU %.2f us per memory; search mean %.4f ms, "
               "CPU %.1f us per search\n", e ? "encrypted" : "plain", k[e].rate,
               k[e].ingest_cpu, k[e].search_ms, k[e].search_cpu);
    printf("encrypted/plain  ingest speed %.2fx, search speed %.2fx (goal >= 0.8x)\n",
           ingest_ratio, search_ratio);
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {"ingest", run_ingest,
     "bench ingest --n N [--batch B] [--metrics-out FILE] [--metrics-compare R]\n"
     "             [--search-during S | --search-after S]",
     "On the given database (normally a fresh one), creates tenant \"bench\" and identity\n"
     "\"bench-agent\" if absent, adds N deterministic synthetic memories in batches of B\n"
     "(default 1000; embedded by the library, all or none per batch) and prints memories/s end\n"
     "to end, total seconds, CPU time per memory of the adding thread and peak RSS; then\n"
     "times 100 searches (k=10) whose queries are stored texts and prints p50/p99/mean\n"
     "latency; then waits for the vector index to catch up (as long as it gains: it gives\n"
     "up after 60 s in which its lag did not fall), so that the database is left with its\n"
     "index saved. --json prints one object.\n"
     "  --metrics-out FILE    then writes the handle's metrics (Prometheus text) to FILE\n"
     "  --metrics-compare R   instead, R rounds on fresh databases in a temporary directory,\n"
     "                        metrics off and on in turn: the best ingest rate, search mean\n"
     "                        (once the index has caught up) and CPU time per memory and per\n"
     "                        search of each, and how much slower metrics make them\n"
     "  --search-during S     meanwhile a thread searches without pause (vector and hybrid\n"
     "                        mode in turn, k=10) during the import and for S seconds after\n"
     "                        it; prints p50/p99/mean latency (wall) and p50/p99 CPU time per\n"
     "                        search for each phase and mode, the vector index's lag (changes\n"
     "                        it has not applied) at most in each phase and at the end of the\n"
     "                        import, and how long after it the index caught up; the 100\n"
     "                        searches then run once it has\n"
     "  --search-after S      the same, the thread searching only after the import"},
    {"encrypt", run_encrypt, "bench encrypt --n N [--batch B]",
     "The cost of encryption at rest: bench ingest's ingest and searches (once the index has\n"
     "caught up) on fresh SQLite databases in a temporary directory (TMPDIR), plain and\n"
     "encrypted (a throwaway master key) in turn, three rounds each; prints the best ingest\n"
     "rate, search mean and CPU time per memory and per search of each, and the\n"
     "encrypted/plain speed ratios (goal: at least 0.8). --db is not used. --json prints\n"
     "one object."},
    {"policy", cli_bench_policy, "bench policy [--n N] [--metrics-compare R]",
     "Policy decisions per second of the public call mn_policy_test for a set of 10 policies\n"
     "for role \"agent\" (deny and allow, priorities, time windows, IPv4/IPv6 ranges,\n"
     "memory_types, metadata_requirements, identity_claims, \"when\"), single-threaded\n"
     "(cli/bench_policy.c). On the given database, creates tenant \"bench-policy\" if absent,\n"
     "with the set in place of the default policies, and identity \"bench-agent\" with claims\n"
     "(an existing tenant keeps its policies), then times N (default 100000) calls of\n"
     "mn_policy_test twice: every request different (action, owner, type, metadata, IPv4 or\n"
     "IPv6 address), and one request repeated; prints decisions/s (1 / mean latency) and\n"
     "p50/p99/mean in microseconds, resolving the actor and parsing the JSON arguments\n"
     "included. --json prints one object. The global --context is not used: the bench makes\n"
     "its own. The policy engine alone (uncached and through the decision cache) is measured\n"
     "by `make bench-policy`, with a tool of the source tree (bench/bench_policy_engine.c).\n"
     "  --metrics-compare R   instead, R rounds of both runs on this handle (metrics on) and on\n"
     "                        a second one with metrics off, in turns: the best mean of each,\n"
     "                        and how much slower metrics make the call"},
    {"embed", cli_bench_embed, "bench embed [--n N] [--batch B]",
     "Embeds N deterministic synthetic texts (default 200000 with the local embedder, 2000\n"
     "with openai) with the embedder the global options choose (--embedder, --embed-url,\n"
     "--embed-model, --embed-dim), B texts per mn_embed_many call (default 1000), on one\n"
     "thread, and prints texts/s; for an HTTP embedder also the requests, retries, the most\n"
     "requests in flight and the largest batch. Runs on a fresh temporary database with the\n"
     "embedding cache off (every text is embedded), removed afterwards. --json: one object."},
    {"ratelimit", cli_bench_ratelimit,
     "bench ratelimit [--backend memory|redis] [--threads N] [--seconds S] [--keys K]\n"
     "                [--limit L] [--window-ms W] [--n C]",
     "Rate-limit decisions through mn_ratelimit_hit (cli/bench_ratelimit.c), each for C calls\n"
     "at once (default 1): decisions/s and p50/p99 latency in microseconds, with the\n"
     "parameters; with Redis also the bench's keys there and the bytes of the largest (MEMORY\n"
     "USAGE). --backend redis needs --redis URL (or MANUSHYA_REDIS). Runs on a fresh temporary\n"
     "database, removed afterwards. --json."},
    {"apikey", cli_bench_apikey, "bench apikey [--n N] [--cold C] [--keys K]",
     "API key verifications through mn_apikey_verify on one thread (cli/bench_apikey.c), on a\n"
     "fresh temporary database (removed afterwards) with K keys (default 100) used round\n"
     "robin: warm, N verifications (default 1000000) with every key in the handle's cache\n"
     "(each key still hashed and compared), timed per group of 16; cold, C verifications\n"
     "(default 2000) each after the cache was emptied (by revoking a throwaway key, untimed),\n"
     "so each reads its key from the store. Prints verifications/s and p50/p99 latency in\n"
     "microseconds with the parameters. --json."},
    {"cache", cli_bench_cache,
     "bench cache [--backend memory|redis] [--n N] [--memories M] [--queries Q]",
     "The read-through cache on one thread (cli/bench_cache.c), on a fresh temporary database\n"
     "(removed afterwards) with M memories (default 1000). Memory reads through mn_memory_get,\n"
     "round robin: hit, N reads (default 20000) with the actor and every memory cached; miss,\n"
     "N reads each after mn_cache_clear (untimed), so each reads the store. A repeated search\n"
     "mix: N searches (k 10) of Q query texts (default 100) round robin, by the handle with the\n"
     "cache (no warm-up) and by one on the same file without a cache. Prints calls/s and\n"
     "p50/p99/mean latency in microseconds, and the speed-ups (miss mean / hit mean, uncached\n"
     "mean / cached mean). --backend redis needs --redis URL (or MANUSHYA_REDIS). --json."},
    {"search", cli_bench_search, "bench search [--n N] [--queries Q] [--k K]",
     "What each search mode finds and how fast (cli/bench_search.c), on a fresh temporary\n"
     "database (removed afterwards) holding a generated corpus of N memories (default 10000)\n"
     "with known answers: each memory six made-up words naming six of 4096 concepts (three\n"
     "synonyms each), one in ten also a code such as ord100420; the bench embeds concepts,\n"
     "not words, and no code. Q queries (default 200) of each class: rare (a code and two of\n"
     "its memory's words), keyword (three of its words verbatim), vector (four of its concepts\n"
     "through other synonyms: no word shared). Prints, for vector, keyword and hybrid mode,\n"
     "recall@K (default 10) and MRR per class, and p50/p99 latency in milliseconds, once the\n"
     "vector index has caught up with the corpus and the keyword index is merged (maintenance\n"
     "task keywords). --json."},
    {"ann", cli_bench_ann,
     "bench ann --base B.fvecs --queries Q.fvecs --truth T.ivecs [--k 10] [--m 16]\n"
     "          [--ef-construction 64] [--ef 10,20,40,80,160] [--threads N]\n"
     "          [--filter-selectivity P] [--quantize float32|int8] [--rerank R] [--save FILE]\n"
     "bench ann --load FILE --queries Q.fvecs --truth T.ivecs [--k 10] [--ef LIST]",
     "The standalone vector index (mni_ann_*, HNSW, inner product) on files in the standard ANN\n"
     "formats: .fvecs/.ivecs, each vector an int32 dimension then that many float32/int32.\n"
     "Needs no database. Builds an index of the base vectors (keys = row numbers) with\n"
     "mn_ann_add_many from N threads (default 1), reading and adding 65,536 of them at a time\n"
     "(the base is never held whole), then for each ef of the list searches every query\n"
     "single-threaded: once untimed (warm-up; its results give recall@k against the truth\n"
     "file's first k ids), then timed passes over all queries for at least 1 s (at most 100).\n"
     "Prints build time, build vectors/s, index bytes per vector (reported by the index, and\n"
     "the growth of the resident set during the build), the peak resident set, the time to save\n"
     "the index to a temporary file (TMPDIR) and load it back twice (mn_ann_save, mn_ann_load:\n"
     "right after the write, then again from the page cache, as opening a saved index costs)\n"
     "with the resident growth of that second load, and for each ef recall@k, queries/s,\n"
     "queries per second of the searching thread's CPU time (q/cpu-s: steadier than queries/s\n"
     "when other processes share the cores), p50 and p99 latency in microseconds. Then it\n"
     "loads the file a third time with MN_ANN_LOAD_MAP (mn_ann_load_v2: all but the keys,\n"
     "states and levels left in the file's pages, checked at the first write) and prints\n"
     "that load's time and CPU time (and the second's), the bytes per vector the index\n"
     "then holds of its own (mn_ann_bytes) and those it reads from the file, and the same\n"
     "table for the mapped index. The index does not normalise: give unit\n"
     "vectors for cosine. --filter-selectivity P (0 < P <= 1) searches only among the keys\n"
     "whose hash is below P (a deterministic predicate, about P of the keys) through the\n"
     "search filter, and computes the truth by exact search over that set instead of reading\n"
     "the truth file. A truncated or malformed file is an error naming the file and the fault.\n"
     "--quantize int8 builds the index with int8 codes (mn_ann_params.quantize MN_ANN_INT8):\n"
     "searches walk the codes and score the best R candidates again from the floats\n"
     "(--rerank R, default 0: all ef of them).\n"
     "--save FILE saves the index to FILE, kept, instead of a temporary file. --load FILE\n"
     "builds nothing: it loads an index saved before (by --save or mn_ann_save) twice, searches\n"
     "the second copy, then loads it mapped and searches that, printing the same figures (the\n"
     "index keeps its file's parameters; --filter-selectivity needs --base).\n"
     "--json prints one object. tests/bench/hnswlib_bench.cc prints the same figures for\n"
     "hnswlib (make bench-ann-hnswlib)."},
};
const cli_group cli_group_bench = {"bench", "benchmarks (figures and parameters, no assertions)",
                                   cmds, sizeof cmds / sizeof cmds[0]};
