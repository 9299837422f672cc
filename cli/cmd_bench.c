/*
 * cmd_bench.c — manushya bench ingest: end-to-end ingest throughput through the public API
 * (texts embedded by the library, added in all-or-none batches), then search latency on what
 * was ingested. manushya bench ann: the standalone
 * vector index (mni_ann_*) on .fvecs/.ivecs files: build speed, memory, and recall@k, queries/s
 * and latency for each ef. The other benchmarks have files of their own (bench_*.c) and are in
 * the table below. All print the parameters with the figures; they assert nothing.
 */
#include "ann_vecs.h"
#include "bench_text.h"
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- bench ann ----------------------------------------------------------------------------- */

#define ANN_MAX_EFS 64
#define ANN_MIN_SECONDS 1.0 /* timed passes over the queries per ef: at least this long, */
#define ANN_MAX_PASSES 100  /* at least one pass and at most this many */
#define ANN_RUN_ROWS 65536  /* base vectors read and added at once */

/* "10,20,40" into efs[]; 0 on success. */
static int ann_parse_efs(const char *s, int *efs, int *nefs)
{
    *nefs = 0;
    while (*s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 1 || v > 100000 || *nefs >= ANN_MAX_EFS ||
            (*end && *end != ','))
            return -1;
        efs[(*nefs)++] = (int)v;
        s = *end ? end + 1 : end;
        if (*end && !*s)
            return -1; /* trailing comma */
    }
    return *nefs ? 0 : -1;
}

/* The filter's deterministic predicate: key passes when hash(key) / 2^64 < P (splitmix64's
 * finaliser, top 53 bits). tests/bench/hnswlib_bench.cc uses the same one. */
static uint64_t ann_hash(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static int ann_accept(void *ctx, int64_t key)
{
    return (ann_hash((uint64_t)key) >> 11) < *(const uint64_t *)ctx;
}

static float ann_dot(const float *a, const float *b, int d)
{
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= d; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j] * b[i + j];
    float t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
    for (; i < d; i++)
        t += a[i] * b[i];
    return t;
}

/* Exact top-k by inner product among the base rows the filter accepts, fed a run of rows at a
 * time as the base is read (so the base is read once and never held whole): ids (nq * k, best
 * first; equal scores: smaller id first; -1 past the end once finished) with their scores. */
typedef struct ann_truth {
    size_t k, accepted;
    uint64_t thr;
    float *best;  /* nq * k */
    size_t *have; /* per query */
    int32_t *ids; /* nq * k */
    double secs;
} ann_truth;

static void ann_truth_feed(ann_truth *t, const ann_vecs *qs, const float *rows, size_t first,
                           size_t count)
{
    double t0 = cli_now();
    int d = qs->dim;
    size_t k = t->k;
    for (size_t r = 0; r < count; r++) {
        int32_t id = (int32_t)(first + r);
        if (!ann_accept(&t->thr, id))
            continue;
        t->accepted++;
        const float *v = rows + r * (size_t)d;
        for (size_t qi = 0; qi < qs->n; qi++) {
            float s = ann_dot((const float *)qs->data + qi * (size_t)d, v, d);
            float *best = t->best + qi * k;
            int32_t *ids = t->ids + qi * k;
            if (t->have[qi] == k && !(s > best[k - 1]))
                continue; /* ids ascend: an equal score loses to the smaller id kept */
            size_t j = t->have[qi] < k ? t->have[qi]++ : k - 1;
            while (j > 0 && s > best[j - 1]) {
                best[j] = best[j - 1];
                ids[j] = ids[j - 1];
                j--;
            }
            best[j] = s;
            ids[j] = id;
        }
    }
    t->secs += cli_now() - t0;
}

static void ann_truth_finish(ann_truth *t, size_t nq)
{
    for (size_t qi = 0; qi < nq; qi++)
        for (size_t j = t->have[qi]; j < t->k; j++)
            t->ids[qi * t->k + j] = -1;
}

static size_t ann_peak_rss_bytes(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (size_t)ru.ru_maxrss * 1024 : 0; /* Linux: KiB */
}

/* The resident set, and into *anon its anonymous part (the rest is mapped files: page cache the
 * kernel may drop, shared with other processes). */
static size_t ann_rss_bytes(size_t *anon)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib, rss = 0;
    *anon = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %llu kB", &kib) == 1)
            rss = kib * 1024;
        else if (sscanf(line, "RssAnon: %llu kB", &kib) == 1)
            *anon = (size_t)kib * 1024;
    }
    fclose(f);
    return (size_t)rss;
}

typedef struct ann_run {
    int ef;
    double recall, qps, cpu_qps, p50_us, p99_us, mean_us;
    size_t timed; /* queries timed (passes x queries) */
} ann_run;

/* Recall@k of the results against truth[qi * tk ..] (its first k, fewer when the filtered set
 * is smaller), averaged over the queries. */
static double ann_recall(const int64_t *got, const size_t *ngot, const int32_t *truth, size_t tk,
                         size_t nq, size_t k)
{
    double sum = 0;
    size_t counted = 0;
    for (size_t qi = 0; qi < nq; qi++) {
        const int32_t *t = truth + qi * tk;
        size_t want = 0, hit = 0;
        while (want < k && t[want] >= 0)
            want++;
        if (!want)
            continue;
        for (size_t i = 0; i < ngot[qi]; i++)
            for (size_t j = 0; j < want; j++)
                if (got[qi * k + i] == t[j]) {
                    hit++;
                    break;
                }
        sum += (double)hit / (double)want;
        counted++;
    }
    return counted ? sum / (double)counted : 1.0;
}

static int ann_measure(mn_ann *a, const ann_vecs *qs, size_t k, int ef, mn_ann_accept_fn accept,
                       void *ctx, const int32_t *truth, size_t tk, ann_run *r)
{
    size_t nq = qs->n, cap = nq * 8;
    int64_t *got = malloc(nq * k * sizeof *got);
    size_t *ngot = malloc(nq * sizeof *ngot);
    double *lat = malloc(cap * sizeof *lat);
    int rc = MN_OK;
    if (!got || !ngot || !lat) {
        free(got);
        free(ngot);
        free(lat);
        return cli_error("bench: out of memory for %zu queries", nq);
    }
    /* untimed pass: warms the caches and gives the results for recall */
    for (size_t qi = 0; qi < nq && rc == MN_OK; qi++)
        rc = mn_ann_search_filtered(a, (const float *)qs->data + qi * (size_t)qs->dim, k, ef,
                                    accept, ctx, got + qi * k, NULL, &ngot[qi]);
    size_t timed = 0;
    double total = 0, cpu0 = cli_thread_cpu();
    int64_t keys[1024];
    for (int pass = 0; rc == MN_OK && pass < ANN_MAX_PASSES &&
                       (pass == 0 || total < ANN_MIN_SECONDS); pass++) {
        if (timed + nq > cap) {
            double *nl = realloc(lat, (cap *= 2) * sizeof *lat);
            if (!nl) {
                rc = MN_ENOMEM;
                break;
            }
            lat = nl;
        }
        double t0 = cli_now();
        for (size_t qi = 0; qi < nq && rc == MN_OK; qi++) {
            size_t m;
            double s = cli_now();
            rc = mn_ann_search_filtered(a, (const float *)qs->data + qi * (size_t)qs->dim, k, ef,
                                        accept, ctx, keys, NULL, &m);
            lat[timed++] = (cli_now() - s) * 1e6;
        }
        total += cli_now() - t0;
    }
    if (rc == MN_OK) {
        cli_latency l = cli_latency_of(lat, timed);
        r->ef = ef;
        r->recall = ann_recall(got, ngot, truth, tk, nq, k);
        /* This thread's CPU time: what a search costs when other processes share the cores
         * (wall-clock queries/s also counts the time the scheduler gave to them). */
        double cpu = cli_thread_cpu() - cpu0;
        r->qps = total > 0 ? (double)timed / total : 0;
        r->cpu_qps = cpu > 0 ? (double)timed / cpu : 0;
        r->p50_us = l.p50;
        r->p99_us = l.p99;
        r->mean_us = l.mean;
        r->timed = timed;
    }
    free(got);
    free(ngot);
    free(lat);
    if (rc != MN_OK)
        return cli_error("bench: search at ef %d: %s", ef, mn_errmsg(NULL));
    return CLI_EXIT_OK;
}

/* Saves the index to a file in a new temporary directory and loads it back three times,
 * timing each: the first load follows the write at once (the kernel may still be writing the
 * pages back), the second is what opening an index saved earlier costs when the file is in the
 * page cache, and the resident memory it takes; the third loads with MN_ANN_LOAD_MAP (the
 * floats left in the file's pages) and is kept in *a for the caller to search (the file is
 * removed; its pages stay mapped). The index is freed once saved, so that a loaded copy never
 * sits beside it: at 10M vectors each is about 21 GB. Each loaded copy must hold as many keys
 * as the original. */
typedef struct ann_persist {
    double save_secs, load_secs, reload_secs, map_secs;
    double reload_cpu_secs, map_cpu_secs; /* the loading thread's: steadier under load */
    size_t count; /* keys the saved index holds */
    size_t file_bytes, reload_rss_bytes, reload_anon_bytes;
    size_t map_owned_bytes, map_rss_bytes, map_anon_bytes;
} ann_persist;

/* Saves a to path (timed) and notes its key count and the file's size. */
static int ann_save(const mn_ann *a, const char *path, ann_persist *out)
{
    double t0 = cli_now();
    if (mn_ann_save(a, path) != MN_OK)
        return cli_error("bench: saving the index: %s", mn_errmsg(NULL));
    out->save_secs = cli_now() - t0;
    out->count = mn_ann_count(a);
    struct stat sb;
    out->file_bytes = stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
    return CLI_EXIT_OK;
}

/* One timed load of the saved index into *back: pass 0 right after the save (or first from
 * --load's file), pass 1 again from the page cache, both copied; pass 2 with MN_ANN_LOAD_MAP.
 * A load whose key count differs from the saved one (pass 0 sets it for --load) is an error. */
static int ann_load_pass(const char *path, int pass, ann_persist *out, mn_ann **back)
{
    size_t anon0, anon1, rss0 = ann_rss_bytes(&anon0);
    double cpu0 = cli_thread_cpu(), t0 = cli_now();
    if (mn_ann_load_v2(path, pass == 2 ? MN_ANN_LOAD_MAP : 0, back) != MN_OK)
        return cli_error("bench: loading the saved index %s: %s", path, mn_errmsg(NULL));
    double secs = cli_now() - t0, cpu = cli_thread_cpu() - cpu0;
    size_t rss1 = ann_rss_bytes(&anon1);
    if (pass)
        *(pass == 1 ? &out->reload_cpu_secs : &out->map_cpu_secs) = cpu;
    *(pass == 0 ? &out->load_secs : pass == 1 ? &out->reload_secs : &out->map_secs) = secs;
    *(pass < 2 ? &out->reload_rss_bytes : &out->map_rss_bytes) = rss1 > rss0 ? rss1 - rss0 : 0;
    *(pass < 2 ? &out->reload_anon_bytes : &out->map_anon_bytes) =
        anon1 > anon0 ? anon1 - anon0 : 0;
    if (pass == 2)
        out->map_owned_bytes = mn_ann_bytes(*back);
    if (!out->count)
        out->count = mn_ann_count(*back);
    if (mn_ann_count(*back) != out->count)
        return cli_error("bench: the loaded index holds %zu keys, the saved one %zu",
                         mn_ann_count(*back), out->count);
    return CLI_EXIT_OK;
}

/* The runs of one index as a JSON array. */
static cJSON *ann_runs_json(const ann_run *runs, int n)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < n; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "ef", runs[i].ef);
        cJSON_AddItemToObject(r, "recall", cli_json_number(runs[i].recall, 6));
        cJSON_AddItemToObject(r, "queries_per_s", cli_json_number(runs[i].qps, 6));
        cJSON_AddItemToObject(r, "queries_per_cpu_s", cli_json_number(runs[i].cpu_qps, 6));
        cJSON_AddItemToObject(r, "p50_us", cli_json_number(runs[i].p50_us, 5));
        cJSON_AddItemToObject(r, "p99_us", cli_json_number(runs[i].p99_us, 5));
        cJSON_AddItemToObject(r, "mean_us", cli_json_number(runs[i].mean_us, 5));
        cJSON_AddNumberToObject(r, "timed_queries", (double)runs[i].timed);
        cJSON_AddItemToArray(arr, r);
    }
    return arr;
}

/* The runs of one index as table rows. */
static void ann_runs_print(const ann_run *runs, int n)
{
    for (int i = 0; i < n; i++)
        printf("%-8d %9.4f %12.0f %12.0f %10.1f %10.1f\n", runs[i].ef, runs[i].recall,
               runs[i].qps, runs[i].cpu_qps, runs[i].p50_us, runs[i].p99_us);
}

/* The index being measured and what its build (or --load) left to print. */
typedef struct ann_subject {
    mn_ann *a;
    size_t n;            /* vectors indexed (keys 0 .. n - 1) */
    int dim;
    size_t accepted;     /* of them, those the filter passes */
    double build_secs;
    size_t rss_growth;   /* of the resident set during the build */
} ann_subject;

/* Builds the index of the base file, a run of rows at a time, so that the base is never held
 * whole beside the index (at 10M x 384 each is 15 GB); under a filter, the exact truth over
 * the rows it accepts is computed from the same runs. The buffers are touched before the
 * resident size is first read, so that its growth is the index's. */
static int ann_build(cli_ctx *c, ann_vecs_file *base, const mn_ann_params *prm, int threads,
                     const ann_vecs *qs, ann_truth *ft, ann_subject *out)
{
    size_t run = base->n < ANN_RUN_ROWS ? base->n : ANN_RUN_ROWS;
    float *rows = malloc(run * (size_t)base->dim * sizeof *rows);
    int64_t *keys = malloc(run * sizeof *keys);
    char why[4096];
    int rc = CLI_EXIT_ERROR;
    if (!rows || !keys) {
        cli_error("bench: out of memory for runs of %zu vectors", run);
        goto out;
    }
    memset(rows, 0, run * (size_t)base->dim * sizeof *rows);
    memset(keys, 0, run * sizeof *keys);
    int mrc = mn_ann_create(base->dim, prm, &out->a);
    if (mrc != MN_OK) {
        rc = mrc == MN_EINVAL ? cli_usage_error(c, "%s", mn_errmsg(NULL))
                              : cli_error("bench: %s", mn_errmsg(NULL));
        goto out;
    }
    size_t anon, rss0 = ann_rss_bytes(&anon);
    for (size_t first = 0; first < base->n; first += run) {
        size_t cnt = base->n - first < run ? base->n - first : run;
        if (ann_vecs_rows(base, first, cnt, rows, why, sizeof why) != 0) {
            cli_error("bench: %s", why);
            goto out;
        }
        if (ft->best)
            ann_truth_feed(ft, qs, rows, first, cnt);
        for (size_t i = 0; i < cnt; i++)
            keys[i] = (int64_t)(first + i);
        double t0 = cli_now();
        mrc = mn_ann_add_many(out->a, keys, rows, cnt, threads);
        out->build_secs += cli_now() - t0;
        if (mrc != MN_OK) {
            cli_error("bench: building the index: %s", mn_errmsg(NULL));
            goto out;
        }
    }
    size_t rss1 = ann_rss_bytes(&anon);
    out->rss_growth = rss1 > rss0 ? rss1 - rss0 : 0;
    out->accepted = ft->best ? ft->accepted : base->n;
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK) {
        mn_ann_free(out->a);
        out->a = NULL;
    }
    free(rows);
    free(keys);
    return rc;
}

static int run_ann(cli_ctx *c, int argc, char **argv)
{
    const char *base_path = NULL, *query_path = NULL, *truth_path = NULL,
               *ef_list = "10,20,40,80,160", *quantize = "float32", *save_path = NULL,
               *load_path = NULL;
    int k = 10, m = 16, efc = 64, threads = 1, filter_given = 0, rerank = 0;
    double sel = 1.0;
    const cli_opt opts[] = {{"base", CLI_OPT_STR, &base_path, NULL},
                            {"queries", CLI_OPT_STR, &query_path, NULL},
                            {"truth", CLI_OPT_STR, &truth_path, NULL},
                            {"k", CLI_OPT_INT, &k, NULL},
                            {"m", CLI_OPT_INT, &m, NULL},
                            {"ef-construction", CLI_OPT_INT, &efc, NULL},
                            {"ef", CLI_OPT_STR, &ef_list, NULL},
                            {"threads", CLI_OPT_INT, &threads, NULL},
                            {"filter-selectivity", CLI_OPT_NUM, &sel, &filter_given},
                            {"quantize", CLI_OPT_STR, &quantize, NULL},
                            {"rerank", CLI_OPT_INT, &rerank, NULL},
                            {"save", CLI_OPT_STR, &save_path, NULL},
                            {"load", CLI_OPT_STR, &load_path, NULL},
                            {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!!base_path == !!load_path)
        return cli_usage_error(c, "give --base (build an index) or --load (a saved one), "
                                  "one of them");
    if (!query_path || !truth_path)
        return cli_usage_error(c, "--queries and --truth are required");
    if (load_path && (save_path || filter_given))
        return cli_usage_error(c, "--%s needs --base: --load measures the saved index as it is",
                               save_path ? "save" : "filter-selectivity");
    int efs[ANN_MAX_EFS], nefs = 0;
    if (ann_parse_efs(ef_list, efs, &nefs) != 0)
        return cli_usage_error(c, "--ef: expected a comma-separated list of 1 to %d integers "
                                  "from 1 to 100000, got '%s'",
                               ANN_MAX_EFS, ef_list);
    if (k < 1 || k > 1024)
        return cli_usage_error(c, "--k must be 1 to 1024");
    if (threads < 1 || threads > 64)
        return cli_usage_error(c, "--threads must be 1 to 64");
    if (filter_given && !(sel > 0 && sel <= 1))
        return cli_usage_error(c, "--filter-selectivity must be above 0 and at most 1");
    int qmode = strcmp(quantize, "int8") == 0 ? MN_ANN_INT8 : MN_ANN_FLOAT32;
    if (qmode == MN_ANN_FLOAT32 && strcmp(quantize, "float32") != 0)
        return cli_usage_error(c, "--quantize must be float32 or int8, got '%s'", quantize);

    ann_vecs_file base = {.fd = -1};
    ann_vecs qs = {0}, tr = {0};
    ann_truth ft = {0};
    ann_subject sub = {0};
    ann_persist persist = {0};
    char why[4096], dir[CLI_TEMP_DIR_MAX] = "", tmp[CLI_TEMP_DIR_MAX + 16];
    const char *src = base_path ? base_path : load_path;
    if (base_path && ann_vecs_open(base_path, 1, &base, why, sizeof why) != 0)
        return cli_error("bench: %s", why);
    rc = CLI_EXIT_ERROR;
    if (ann_read_vecs(query_path, 1, &qs, why, sizeof why) != 0 ||
        ((!filter_given || sel >= 1) && ann_read_vecs(truth_path, 0, &tr, why, sizeof why) != 0)) {
        cli_error("bench: %s", why);
        goto out;
    }
    /* A saved index is loaded (copied) twice first: the second copy is the one searched as a
     * built one would be. */
    if (load_path) {
        for (int pass = 0; pass < 2; pass++) {
            mn_ann_free(sub.a);
            sub.a = NULL;
            if (ann_load_pass(load_path, pass, &persist, &sub.a) != CLI_EXIT_OK)
                goto out;
        }
        sub.n = sub.accepted = mn_ann_count(sub.a);
        sub.dim = mn_ann_dim(sub.a);
    } else {
        sub.n = base.n;
        sub.dim = base.dim;
    }
    if (qs.dim != sub.dim) {
        cli_error("bench: %s has dimension %d but %s has %d", query_path, qs.dim, src, sub.dim);
        goto out;
    }
    if (!sub.n || !qs.n) {
        cli_error("bench: %s holds no vectors", sub.n ? query_path : src);
        goto out;
    }
    if (sub.n > INT32_MAX) {
        cli_error("bench: %s holds %zu vectors, more than the truth file's ids can name", src,
                  sub.n);
        goto out;
    }
    if (tr.data) {
        if (tr.n != qs.n) {
            cli_error("bench: %s has %zu rows but %s has %zu queries", truth_path, tr.n,
                      query_path, qs.n);
            goto out;
        }
        if ((size_t)tr.dim < (size_t)k) {
            cli_error("bench: %s gives %d neighbours per query, fewer than --k %d", truth_path,
                      tr.dim, k);
            goto out;
        }
        const int32_t *t = tr.data;
        for (size_t i = 0; i < tr.n * (size_t)tr.dim; i++)
            if (t[i] < 0 || (size_t)t[i] >= sub.n) {
                cli_error("bench: %s: row %zu names base vector %d, outside 0 .. %zu",
                          truth_path, i / (size_t)tr.dim, (int)t[i], sub.n - 1);
                goto out;
            }
    }

    uint64_t thr = sel >= 1 ? (1ULL << 53) : (uint64_t)(sel * 9007199254740992.0);
    int exact = filter_given && sel < 1;
    if (exact) {
        size_t nk = qs.n * (size_t)k;
        ft = (ann_truth){.k = (size_t)k, .thr = thr, .best = malloc(nk * sizeof *ft.best),
                         .have = calloc(qs.n, sizeof *ft.have), .ids = malloc(nk * sizeof *ft.ids)};
        tr = (ann_vecs){.n = qs.n, .dim = k, .data = ft.ids};
        if (!ft.best || !ft.have || !ft.ids) {
            cli_error("bench: out of memory for the exact truth of %zu queries", qs.n);
            goto out;
        }
    }
    const mn_ann_params prm = {.version = MN_ANN_PARAMS_VERSION, .m = m, .ef_construction = efc,
                               .quantize = qmode, .rerank = rerank};
    if (base_path) {
        rc = ann_build(c, &base, &prm, threads, &qs, &ft, &sub);
        if (rc != CLI_EXIT_OK)
            goto out;
        rc = CLI_EXIT_ERROR;
        if (exact)
            ann_truth_finish(&ft, qs.n);
    }
    size_t bytes = mn_ann_bytes(sub.a);
    double bpv = (double)bytes / (double)sub.n;
    double rss_bpv = (double)sub.rss_growth / (double)sub.n;
    double vps = sub.build_secs > 0 ? (double)sub.n / sub.build_secs : 0;

    ann_run runs[ANN_MAX_EFS];
    rc = CLI_EXIT_OK;
    for (int i = 0; i < nefs && rc == CLI_EXIT_OK; i++)
        rc = ann_measure(sub.a, &qs, (size_t)k, efs[i], filter_given ? ann_accept : NULL, &thr,
                         tr.data, (size_t)tr.dim, &runs[i]);
    if (rc != CLI_EXIT_OK)
        goto out;
    /* A built index is saved (to --save's file, kept, or a temporary one) and loaded back
     * twice, each copy freed before the next load, as a process opening it would. */
    const char *path = load_path ? load_path : save_path;
    if (!path) {
        rc = cli_temp_dir("bench-ann", dir, sizeof dir);
        if (rc != CLI_EXIT_OK)
            goto out;
        snprintf(tmp, sizeof tmp, "%s/index", dir);
        path = tmp;
    }
    rc = CLI_EXIT_ERROR;
    if (base_path) {
        if (ann_save(sub.a, path, &persist) != CLI_EXIT_OK)
            goto out;
        for (int pass = 0; pass < 2; pass++) {
            mn_ann_free(sub.a);
            sub.a = NULL;
            if (ann_load_pass(path, pass, &persist, &sub.a) != CLI_EXIT_OK)
                goto out;
        }
    } else {
        struct stat sb;
        persist.file_bytes = stat(path, &sb) == 0 ? (size_t)sb.st_size : 0;
    }
    mn_ann_free(sub.a);
    sub.a = NULL;
    if (ann_load_pass(path, 2, &persist, &sub.a) != CLI_EXIT_OK)
        goto out;
    /* The mapped index searched as the built one was: the same graph, so the same recall; the
     * speed tells what reading the floats from the file's pages costs. */
    ann_run mruns[ANN_MAX_EFS];
    rc = CLI_EXIT_OK;
    for (int i = 0; i < nefs && rc == CLI_EXIT_OK; i++)
        rc = ann_measure(sub.a, &qs, (size_t)k, efs[i], filter_given ? ann_accept : NULL, &thr,
                         tr.data, (size_t)tr.dim, &mruns[i]);
    if (rc != CLI_EXIT_OK)
        goto out;
    double map_bpv = (double)persist.map_owned_bytes / (double)sub.n;
    /* All of the file but its keys, states and levels (10 bytes a vector, read) is mapped. */
    double mapped_bpv = (double)persist.file_bytes / (double)sub.n - 10.0;
    double map_anon_bpv = (double)persist.map_anon_bytes / (double)sub.n;
    double reload_bpv = (double)persist.reload_rss_bytes / (double)sub.n;
    double reload_anon_bpv = (double)persist.reload_anon_bytes / (double)sub.n;
    double peak_mib = (double)ann_peak_rss_bytes() / 1048576.0;

    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "impl", "libmanushya");
        cJSON_AddStringToObject(o, "version", mn_version());
        if (base_path)
            cJSON_AddStringToObject(o, "base", base_path);
        else
            cJSON_AddNullToObject(o, "base");
        if (load_path)
            cJSON_AddStringToObject(o, "load", load_path);
        else
            cJSON_AddNullToObject(o, "load");
        if (save_path)
            cJSON_AddStringToObject(o, "save", save_path);
        else
            cJSON_AddNullToObject(o, "save");
        cJSON_AddStringToObject(o, "queries", query_path);
        cJSON_AddStringToObject(o, "truth", exact ? "exact" : truth_path);
        cJSON_AddNumberToObject(o, "n", (double)sub.n);
        cJSON_AddNumberToObject(o, "dim", sub.dim);
        cJSON_AddNumberToObject(o, "nq", (double)qs.n);
        cJSON_AddNumberToObject(o, "k", k);
        if (base_path) { /* a loaded index keeps its file's parameters, not given here */
            cJSON_AddNumberToObject(o, "m", m);
            cJSON_AddNumberToObject(o, "ef_construction", efc);
            cJSON_AddNumberToObject(o, "threads", threads);
            cJSON_AddStringToObject(o, "quantize", quantize);
            cJSON_AddNumberToObject(o, "rerank", rerank);
        }
        if (filter_given)
            cJSON_AddItemToObject(o, "filter_selectivity", cli_json_number(sel, 6));
        else
            cJSON_AddNullToObject(o, "filter_selectivity");
        cJSON_AddNumberToObject(o, "filter_accepted", (double)sub.accepted);
        cJSON_AddItemToObject(o, "build_seconds", cli_json_number(sub.build_secs, 6));
        cJSON_AddItemToObject(o, "build_vectors_per_s", cli_json_number(vps, 6));
        cJSON_AddNumberToObject(o, "index_bytes", (double)bytes);
        cJSON_AddItemToObject(o, "bytes_per_vector", cli_json_number(bpv, 6));
        cJSON_AddItemToObject(o, "rss_growth_bytes_per_vector", cli_json_number(rss_bpv, 6));
        cJSON_AddItemToObject(o, "save_seconds", cli_json_number(persist.save_secs, 6));
        cJSON_AddItemToObject(o, "load_seconds", cli_json_number(persist.load_secs, 6));
        cJSON_AddItemToObject(o, "reload_seconds", cli_json_number(persist.reload_secs, 6));
        cJSON_AddItemToObject(o, "reload_cpu_seconds",
                              cli_json_number(persist.reload_cpu_secs, 6));
        cJSON_AddNumberToObject(o, "file_bytes", (double)persist.file_bytes);
        cJSON_AddItemToObject(o, "reload_rss_bytes_per_vector", cli_json_number(reload_bpv, 6));
        cJSON_AddItemToObject(o, "reload_anon_bytes_per_vector",
                              cli_json_number(reload_anon_bpv, 6));
        cJSON_AddItemToObject(o, "peak_rss_mib", cli_json_number(peak_mib, 6));
        cJSON_AddItemToObject(o, "runs", ann_runs_json(runs, nefs));
        cJSON_AddItemToObject(o, "map_load_seconds", cli_json_number(persist.map_secs, 6));
        cJSON_AddItemToObject(o, "map_load_cpu_seconds", cli_json_number(persist.map_cpu_secs, 6));
        cJSON_AddItemToObject(o, "map_bytes_per_vector", cli_json_number(map_bpv, 6));
        cJSON_AddItemToObject(o, "map_mapped_bytes_per_vector", cli_json_number(mapped_bpv, 6));
        cJSON_AddItemToObject(o, "map_anon_bytes_per_vector", cli_json_number(map_anon_bpv, 6));
        cJSON_AddItemToObject(o, "map_runs", ann_runs_json(mruns, nefs));
        rc = cli_json_emit(o);
        goto out;
    }
    char filt[128] = "none";
    if (filter_given)
        snprintf(filt, sizeof filt, "hash(key) < %g: %zu of %zu pass (%.3g%%), exact truth in "
                 "%.2f s", sel, sub.accepted, sub.n,
                 100.0 * (double)sub.accepted / (double)sub.n, ft.secs);
    char rr[32] = "all", built[160], kind[160], saved[64] = "(saved before)";
    if (rerank)
        snprintf(rr, sizeof rr, "%d", rerank);
    if (base_path) {
        snprintf(kind, sizeof kind, "m=%d ef_construction=%d, inner product, %s%s%s", m, efc,
                 quantize, qmode == MN_ANN_INT8 ? " codes, re-ranked: " : "",
                 qmode == MN_ANN_INT8 ? rr : "");
        snprintf(built, sizeof built, "%.3f s, %.0f vectors/s (%d thread%s)", sub.build_secs, vps,
                 threads, threads == 1 ? "" : "s");
        snprintf(saved, sizeof saved, "save %.3f s,", persist.save_secs);
    } else {
        snprintf(kind, sizeof kind, "inner product, the saved file's parameters");
        snprintf(built, sizeof built, "none: loaded from %s", load_path);
    }
    printf("bench ann     libmanushya %s: HNSW %s\n"
           "data          %zu base x %d (%s), %zu queries, k=%d, truth %s\n"
           "filter        %s\n"
           "build         %s\n"
           "memory        %.1f bytes/vector reported (%.1f MiB), RSS grew %.1f bytes/vector, "
           "peak RSS %.0f MiB\n"
           "persistence   %s load %.3f s at once, %.3f s again (%.3f s of CPU; file "
           "%.1f MiB, checksums and structure checked)\n"
           "loaded again  RSS grew %.1f bytes/vector, %.1f of them anonymous\n"
           "%-8s %9s %12s %12s %10s %10s   (queries single-threaded; the %s index)\n",
           mn_version(), kind, sub.n, sub.dim, src, qs.n, k,
           exact ? "exact over the filtered set" : truth_path, filt, built, bpv,
           (double)bytes / 1048576.0, rss_bpv, peak_mib, saved, persist.load_secs,
           persist.reload_secs, persist.reload_cpu_secs, (double)persist.file_bytes / 1048576.0,
           reload_bpv, reload_anon_bpv, "ef", "recall@k", "queries/s", "q/cpu-s", "p50 us",
           "p99 us", base_path ? "built" : "loaded");
    ann_runs_print(runs, nefs);
    printf("loaded mapped %.3f s, %.3f s of CPU (MN_ANN_LOAD_MAP): %.1f bytes/vector of its "
           "own (mn_ann_bytes), %.1f of the file (floats, codes, links) read from its pages; "
           "anonymous memory grew %.1f bytes/vector\n"
           "%-8s %9s %12s %12s %10s %10s   (the mapped index, the same graph)\n",
           persist.map_secs, persist.map_cpu_secs, map_bpv, mapped_bpv, map_anon_bpv, "ef",
           "recall@k", "queries/s", "q/cpu-s", "p50 us", "p99 us");
    ann_runs_print(mruns, nefs);
out:
    mn_ann_free(sub.a);
    if (*dir)
        cli_temp_dir_remove(dir);
    ann_vecs_close(&base);
    free(qs.data);
    free(tr.data); /* the exact truth's ids when filtered */
    free(ft.best);
    free(ft.have);
    return rc;
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
     "latency; then waits (up to 60 s) for the vector index to catch up, so that the\n"
     "database is left with its index saved. --json prints one object.\n"
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
    {"ann", run_ann,
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
