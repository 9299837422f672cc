/*
 * cmd_bench.c — manushya bench ingest: end-to-end ingest throughput through the public API
 * (texts embedded by the library, added in all-or-none batches), then search latency on what
 * was ingested. It prints the parameters with the figures; it asserts nothing.
 */
#include "bench_text.h"
#include "cli.h"

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
    const mn_actor system = {agent->tenant, NULL};
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct search_stats {
    double p50, p99, mean;
    int self_top1; /* queries whose own memory text came back first */
} search_stats;

/* Queries are stored texts spread over the ingested range, so each has an exact answer. */
static int searches(cli_ctx *c, const mn_actor *agent, int n, search_stats *st)
{
    double lat[BENCH_QUERIES], sum = 0;
    char q[BENCH_TEXT_MAX];
    memset(st, 0, sizeof *st);
    for (int i = 0; i < BENCH_QUERIES; i++) {
        bench_text((uint64_t)i * (uint64_t)n / BENCH_QUERIES, q, sizeof q);
        mn_search_options so = {0};
        so.query = q;
        so.k = BENCH_K;
        mn_memory_list *hits = NULL;
        double t0 = cli_now();
        int rc = mn_memory_search(c->db, agent, &so, &hits);
        lat[i] = (cli_now() - t0) * 1000.0;
        if (rc != MN_OK)
            return cli_fail(c, rc, "bench: search %d", i);
        st->self_top1 += hits->count > 0 && strcmp(hits->items[0].text, q) == 0;
        mn_memory_list_free(hits);
        sum += lat[i];
    }
    qsort(lat, BENCH_QUERIES, sizeof lat[0], cmp_double);
    st->p50 = lat[(BENCH_QUERIES * 50 + 99) / 100 - 1]; /* nearest rank */
    st->p99 = lat[(BENCH_QUERIES * 99 + 99) / 100 - 1];
    st->mean = sum / BENCH_QUERIES;
    return CLI_EXIT_OK;
}

static int run_ingest(cli_ctx *c, int argc, char **argv)
{
    int n = 0, batch = 1000, n_given = 0;
    const cli_opt opts[] = {{"n", CLI_OPT_INT, &n, &n_given},
                            {"batch", CLI_OPT_INT, &batch, NULL}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!n_given || n < 1)
        return cli_usage_error(c, "--n N (at least 1) is required");
    if (batch < 1)
        return cli_usage_error(c, "--batch must be at least 1");
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;

    const mn_actor agent = {"bench", "bench-agent"};
    if ((rc = bench_setup(c, &agent)) != CLI_EXIT_OK)
        return rc;
    double t0 = cli_now();
    if ((rc = ingest(c, &agent, n, batch)) != CLI_EXIT_OK)
        return rc;
    double secs = cli_now() - t0, rate = secs > 0 ? n / secs : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_mib = (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
    search_stats st;
    if ((rc = searches(c, &agent, n, &st)) != CLI_EXIT_OK)
        return rc;

    int dim = mn_embed_dim(c->db);
    const char *embedder = c->cfg.embedder ? c->cfg.embedder : "local";
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "database", cli_url(c));
        cJSON_AddNumberToObject(o, "n", n);
        cJSON_AddNumberToObject(o, "batch", batch);
        cJSON_AddNumberToObject(o, "dim", dim);
        cJSON_AddStringToObject(o, "embedder", embedder);
        cJSON_AddStringToObject(o, "library", mn_version());
        cJSON_AddItemToObject(o, "seconds", cli_json_number(secs, 6));
        cJSON_AddItemToObject(o, "memories_per_s", cli_json_number(rate, 6));
        cJSON_AddItemToObject(o, "peak_rss_mib", cli_json_number(rss_mib, 4));
        cJSON_AddNumberToObject(o, "search_queries", BENCH_QUERIES);
        cJSON_AddNumberToObject(o, "search_k", BENCH_K);
        cJSON_AddItemToObject(o, "search_p50_ms", cli_json_number(st.p50, 4));
        cJSON_AddItemToObject(o, "search_p99_ms", cli_json_number(st.p99, 4));
        cJSON_AddItemToObject(o, "search_mean_ms", cli_json_number(st.mean, 4));
        cJSON_AddNumberToObject(o, "search_self_top1", st.self_top1);
        return cli_json_emit(o);
    }
    printf("bench ingest  n=%d batch=%d dim=%d embedder=%s libmanushya=%s\n"
           "database      %s\n"
           "ingest        %d memories in %.3f s = %.0f memories/s (end to end, embedding "
           "included)\n"
           "peak RSS      %.1f MiB\n"
           "search        %d queries, k=%d: p50 %.3f ms, p99 %.3f ms, mean %.3f ms "
           "(own text first: %d/%d)\n",
           n, batch, dim, embedder, mn_version(), cli_url(c), n, secs, rate, rss_mib,
           BENCH_QUERIES, BENCH_K, st.p50, st.p99, st.mean, st.self_top1, BENCH_QUERIES);
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {"ingest", run_ingest, "bench ingest --n N [--batch B]",
     "On the given database (normally a fresh one), creates tenant \"bench\" and identity\n"
     "\"bench-agent\" if absent, adds N deterministic synthetic memories in batches of B\n"
     "(default 1000; embedded by the library, all or none per batch) and prints memories/s end\n"
     "to end, total seconds and peak RSS; then times 100 searches (k=10) whose queries are\n"
     "stored texts and prints p50/p99/mean latency. --json prints one object."},
};
const cli_group cli_group_bench = {"bench", "benchmarks (figures and parameters, no assertions)",
                                   cmds, sizeof cmds / sizeof cmds[0]};
