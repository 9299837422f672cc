/*
 * cmd_bench.c — manushya bench ingest: end-to-end ingest throughput through the public API
 * (texts embedded by the library, added in all-or-none batches), then search latency on what
 * was ingested. manushya bench policy: policy decisions per second through mn_policy_test, on
 * requests that all differ and on one request repeated. Both print the parameters with the
 * figures; they assert nothing.
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
    const mn_actor system = {.tenant = agent->tenant};
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

    const mn_actor agent = {.tenant = "bench", .identity = "bench-agent"};
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

/* ---- bench policy -------------------------------------------------------------------------- */

#define BP_TENANT "bench-policy"
#define BP_AGENT "bench-agent"
#define BP_CLAIMS "{\"department\":\"support\",\"clearance\":3,\"region\":\"eu\"}"
#define BP_OTHER "01890a5d-ac96-774b-bcce-b302099a8057" /* another identity's id */
#define BP_WARMUP 200

/* A realistic set for role "agent": deny and allow, every condition type, "when" clauses, a
 * spread of priorities. Order is irrelevant (the library orders by priority). */
static const struct {
    int priority;
    const char *description;
    const char *rule;
} bp_policies[] = {
    {100, "bench: secret memories are off limits",
     "{\"effect\":\"deny\",\"actions\":[\"read\",\"update\",\"delete\"],\"resource\":\"memory\","
     "\"conditions\":{\"resource_conditions\":{\"metadata_requirements\":"
     "{\"classification\":\"secret\"}}}}"},
    {90, "bench: agents never manage policies",
     "{\"effect\":\"deny\",\"actions\":\"*\",\"resource\":\"policy\"}"},
    {80, "bench: blocked networks",
     "{\"effect\":\"deny\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":"
     "{\"ip_restrictions\":{\"allowed_ranges\":[\"203.0.113.0/24\",\"198.51.100.0/24\","
     "\"2001:db8:bad::/48\"]}}}"},
    {70, "bench: no deletes during the nightly backup",
     "{\"effect\":\"deny\",\"actions\":[\"delete\"],\"resource\":\"memory\",\"conditions\":"
     "{\"time_restrictions\":{\"time_of_day\":{\"start\":\"02:00\",\"end\":\"03:00\"}}}}"},
    {50, "bench: own memories, from the office networks",
     "{\"effect\":\"allow\",\"actions\":[\"read\",\"list\",\"search\"],\"resource\":\"memory\","
     "\"conditions\":{\"ip_restrictions\":{\"allowed_ips\":[\"198.18.0.1\"],\"allowed_ranges\":"
     "[\"10.0.0.0/8\",\"172.16.0.0/12\",\"192.168.0.0/16\",\"2001:db8::/32\"]},"
     "\"resource_conditions\":{\"memory_types\":[\"fact\",\"preference\",\"event\",\"note\"]}},"
     "\"when\":{\"==\":[{\"var\":\"resource.identity_id\"},{\"var\":\"actor.id\"}]}}"},
    {40, "bench: support reads shared memories",
     "{\"effect\":\"allow\",\"actions\":[\"read\",\"search\"],\"resource\":\"memory\","
     "\"conditions\":{\"custom_conditions\":{\"identity_claims\":{\"department\":\"support\"}},"
     "\"resource_conditions\":{\"metadata_requirements\":{\"shared\":true}}}}"},
    {30, "bench: write own memories during the contract",
     "{\"effect\":\"allow\",\"actions\":[\"create\",\"update\"],\"resource\":\"memory\","
     "\"conditions\":{\"resource_conditions\":{\"memory_types\":[\"fact\",\"preference\","
     "\"note\"]},\"time_restrictions\":{\"date_range\":{\"start\":\"2024-01-01\","
     "\"end\":\"2099-12-31\"}}},"
     "\"when\":{\"==\":[{\"var\":\"resource.identity_id\"},{\"var\":\"actor.id\"}]}}"},
    {20, "bench: delete own unimportant memories",
     "{\"effect\":\"allow\",\"actions\":[\"delete\"],\"resource\":\"memory\",\"when\":{\"and\":["
     "{\"==\":[{\"var\":\"resource.identity_id\"},{\"var\":\"actor.id\"}]},"
     "{\"<\":[{\"var\":\"resource.importance\"},0.8]}]}}"},
    {10, "bench: read own identity",
     "{\"effect\":\"allow\",\"actions\":[\"read\"],\"resource\":\"identity\","
     "\"when\":{\"==\":[{\"var\":\"resource.id\"},{\"var\":\"actor.id\"}]}}"},
    {5, "bench: weekday office-hours search from allowed regions",
     "{\"effect\":\"allow\",\"actions\":[\"list\",\"search\"],\"resource\":\"memory\","
     "\"conditions\":{\"roles\":[\"agent\"],\"time_restrictions\":{\"days_of_week\":[\"monday\","
     "\"tuesday\",\"wednesday\",\"thursday\",\"friday\"],\"time_of_day\":{\"start\":\"06:00\","
     "\"end\":\"22:00\"}},\"custom_conditions\":{\"identity_claims\":{\"clearance\":3}}},"
     "\"when\":{\"in\":[{\"var\":\"context.region\"},[\"eu\",\"us\"]]}}"},
};
#define BP_NPOLICIES (sizeof bp_policies / sizeof bp_policies[0])

/* Creates the tenant (replacing a new tenant's default policies with the set above) and the
 * identity unless they exist; an existing tenant keeps the policies it has, so that a changed
 * set can be measured too. *npolicies counts the active ones for role agent (or "*"); the
 * agent's id goes to agent_id. */
static int bp_setup(cli_ctx *c, int *npolicies, char agent_id[64])
{
    const mn_actor sys = {.tenant = BP_TENANT};
    mn_tenant *t = NULL;
    int created = 0, rc = mn_tenant_create(c->db, BP_TENANT, &t);
    mn_tenant_free(t);
    if (rc == MN_OK)
        created = 1;
    else if (rc != MN_EEXISTS)
        return cli_fail(c, rc, "bench: tenant %s", BP_TENANT);

    mn_policy_list *l = NULL;
    if (created) {
        if ((rc = mn_policy_list_all(c->db, &sys, &l)) != MN_OK)
            return cli_fail(c, rc, "bench: listing the default policies");
        for (size_t i = 0; i < l->count && rc == MN_OK; i++)
            if ((rc = mn_policy_delete(c->db, &sys, l->items[i].id)) != MN_OK)
                cli_fail(c, rc, "bench: deleting default policy %s", l->items[i].id);
        mn_policy_list_free(l);
        l = NULL;
        for (size_t i = 0; i < BP_NPOLICIES && rc == MN_OK; i++) {
            mn_policy_input in = {.role = "agent", .rule = bp_policies[i].rule,
                                  .description = bp_policies[i].description,
                                  .has_priority = 1, .priority = bp_policies[i].priority};
            if ((rc = mn_policy_add(c->db, &sys, &in, NULL)) != MN_OK)
                cli_fail(c, rc, "bench: adding policy \"%s\"", bp_policies[i].description);
        }
        if (rc != MN_OK)
            return cli_exit_code(rc);
    }

    mn_identity *i = NULL;
    rc = mn_identity_create(c->db, &sys, BP_AGENT, "agent", BP_CLAIMS, &i);
    if (rc == MN_EEXISTS)
        rc = mn_identity_get(c->db, &sys, BP_AGENT, &i);
    if (rc != MN_OK)
        return cli_fail(c, rc, "bench: identity %s", BP_AGENT);
    snprintf(agent_id, 64, "%s", i->id);
    mn_identity_free(i);

    if ((rc = mn_policy_list_all(c->db, &sys, &l)) != MN_OK)
        return cli_fail(c, rc, "bench: listing the policies");
    *npolicies = 0;
    for (size_t k = 0; k < l->count; k++)
        *npolicies += l->items[k].active && (strcmp(l->items[k].role, "agent") == 0 ||
                                             strcmp(l->items[k].role, "*") == 0);
    mn_policy_list_free(l);
    return CLI_EXIT_OK;
}

/* Request i of the uncached run: a mix of actions, owners, types, metadata, IPv4 and IPv6
 * addresses; the address (which the ip conditions read) differs on every call, so no two
 * requests are the same. */
static const char *bp_request(uint64_t i, const char *agent_id, char *data, size_t dlen,
                              char *ctx, size_t clen)
{
    static const char *const actions[] = {"read",   "read",   "read",  "search",
                                          "list",   "create", "update", "delete"};
    static const char *const types[] = {"fact", "preference", "event", "note", "secret-ish"};
    snprintf(data, dlen,
             "{\"identity_id\":\"%s\",\"type\":\"%s\",\"importance\":%.1f,\"metadata\":"
             "{\"project\":\"apollo\",\"seq\":%llu,\"shared\":%s,\"classification\":\"%s\"}}",
             i % 3 ? agent_id : BP_OTHER, types[i % 5], (double)(i % 10) / 10.0,
             (unsigned long long)i, i % 2 ? "false" : "true", i % 10 ? "internal" : "secret");
    if (i % 4 == 3)
        snprintf(ctx, clen, "{\"ip\":\"2001:db8:%x:%x::1\",\"region\":\"%s\"}",
                 (unsigned)((i >> 16) & 0xffff), (unsigned)(i & 0xffff), i % 5 ? "eu" : "apac");
    else
        snprintf(ctx, clen, "{\"ip\":\"10.%u.%u.%u\",\"region\":\"%s\"}",
                 (unsigned)((i >> 16) & 0xff), (unsigned)((i >> 8) & 0xff), (unsigned)(i & 0xff),
                 i % 5 ? "eu" : "apac");
    return actions[i % 8];
}

typedef struct bp_stats {
    double per_s, p50_us, p99_us, mean_us;
    int allowed;
} bp_stats;

/* n calls of mn_policy_test, each timed: requests first .. first + n - 1, or (cached) request
 * first every time. */
static int bp_run(cli_ctx *c, const char *agent_id, uint64_t first, int n, int cached,
                  bp_stats *st)
{
    double *lat = malloc((size_t)n * sizeof *lat), sum = 0;
    if (!lat)
        return cli_error("bench: out of memory for %d latencies", n);
    char data[512], ctx[160];
    memset(st, 0, sizeof *st);
    const char *action = bp_request(first, agent_id, data, sizeof data, ctx, sizeof ctx);
    for (int i = 0; i < n; i++) {
        if (!cached && i > 0)
            action = bp_request(first + (uint64_t)i, agent_id, data, sizeof data, ctx,
                                sizeof ctx);
        const mn_actor agent = {.tenant = BP_TENANT, .identity = BP_AGENT, .context = ctx};
        mn_decision *d = NULL;
        double t0 = cli_now();
        int rc = mn_policy_test(c->db, &agent, action, "memory", data, &d);
        lat[i] = (cli_now() - t0) * 1e6;
        if (rc != MN_OK) {
            free(lat);
            return cli_fail(c, rc, "bench: policy test %d", i);
        }
        st->allowed += d->allowed != 0;
        mn_decision_free(d);
        sum += lat[i];
    }
    qsort(lat, (size_t)n, sizeof lat[0], cmp_double);
    st->p50_us = lat[((size_t)n * 50 + 99) / 100 - 1]; /* nearest rank */
    st->p99_us = lat[((size_t)n * 99 + 99) / 100 - 1];
    st->mean_us = sum / n;
    st->per_s = sum > 0 ? n / (sum / 1e6) : 0;
    free(lat);
    return CLI_EXIT_OK;
}

static void bp_json(cJSON *o, const char *prefix, const bp_stats *st)
{
    char k[64];
    snprintf(k, sizeof k, "%s_decisions_per_s", prefix);
    cJSON_AddItemToObject(o, k, cli_json_number(st->per_s, 6));
    snprintf(k, sizeof k, "%s_p50_us", prefix);
    cJSON_AddItemToObject(o, k, cli_json_number(st->p50_us, 4));
    snprintf(k, sizeof k, "%s_p99_us", prefix);
    cJSON_AddItemToObject(o, k, cli_json_number(st->p99_us, 4));
    snprintf(k, sizeof k, "%s_mean_us", prefix);
    cJSON_AddItemToObject(o, k, cli_json_number(st->mean_us, 4));
    snprintf(k, sizeof k, "%s_allowed", prefix);
    cJSON_AddNumberToObject(o, k, st->allowed);
}

static int run_policy(cli_ctx *c, int argc, char **argv)
{
    int n = 100000;
    const cli_opt opts[] = {{"n", CLI_OPT_INT, &n, NULL}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (n < 1)
        return cli_usage_error(c, "--n must be at least 1");
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    int npolicies = 0;
    char agent_id[64];
    if ((rc = bp_setup(c, &npolicies, agent_id)) != CLI_EXIT_OK)
        return rc;

    /* Warm-up (the policy set compiled, the store's pages cached) on requests of its own; the
     * cached run repeats request 1, an allowed read of the agent's own memory. */
    bp_stats unc, hot, warm;
    if ((rc = bp_run(c, agent_id, (uint64_t)n + 1, BP_WARMUP, 0, &warm)) != CLI_EXIT_OK ||
        (rc = bp_run(c, agent_id, 1, n, 0, &unc)) != CLI_EXIT_OK ||
        (rc = bp_run(c, agent_id, 1, n, 1, &hot)) != CLI_EXIT_OK)
        return rc;

    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "database", cli_url(c));
        cJSON_AddStringToObject(o, "tenant", BP_TENANT);
        cJSON_AddStringToObject(o, "identity", BP_AGENT);
        cJSON_AddNumberToObject(o, "policies", npolicies);
        cJSON_AddNumberToObject(o, "n", n);
        cJSON_AddNumberToObject(o, "threads", 1);
        cJSON_AddStringToObject(o, "library", mn_version());
        bp_json(o, "uncached", &unc);
        bp_json(o, "cached", &hot);
        return cli_json_emit(o);
    }
    printf("bench policy  policies=%d (role agent, tenant %s) n=%d threads=1 libmanushya=%s\n"
           "database      %s\n"
           "call          mn_policy_test as %s, a decision per call (actor, resource and "
           "context as JSON text)\n",
           npolicies, BP_TENANT, n, mn_version(), cli_url(c), BP_AGENT);
    const struct { const char *name, *what; const bp_stats *st; } rows[] = {
        {"uncached", "every request different", &unc},
        {"cached", "one request repeated", &hot},
    };
    for (size_t i = 0; i < 2; i++)
        printf("%-13s %.0f decisions/s per call: p50 %.2f us, p99 %.2f us, mean %.2f us "
               "(%s; allowed %d/%d)\n",
               rows[i].name, rows[i].st->per_s, rows[i].st->p50_us, rows[i].st->p99_us,
               rows[i].st->mean_us, rows[i].what, rows[i].st->allowed, n);
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {"ingest", run_ingest, "bench ingest --n N [--batch B]",
     "On the given database (normally a fresh one), creates tenant \"bench\" and identity\n"
     "\"bench-agent\" if absent, adds N deterministic synthetic memories in batches of B\n"
     "(default 1000; embedded by the library, all or none per batch) and prints memories/s end\n"
     "to end, total seconds and peak RSS; then times 100 searches (k=10) whose queries are\n"
     "stored texts and prints p50/p99/mean latency. --json prints one object."},
    {"policy", run_policy, "bench policy [--n N]",
     "On the given database, creates tenant \"bench-policy\" if absent, with a 10-policy set\n"
     "for role \"agent\" instead of the default policies (deny and allow, priorities, time\n"
     "windows, IPv4/IPv6 ranges, memory_types, metadata_requirements, identity_claims, \"when\"),\n"
     "and identity \"bench-agent\" with claims; an existing tenant keeps its policies. Then\n"
     "times N (default 100000) calls of mn_policy_test, single-threaded, twice: \"uncached\",\n"
     "every request different (action, owner, type, metadata, IPv4 or IPv6 address), and\n"
     "\"cached\", one request repeated. Prints decisions/s per call (1 / mean latency) and\n"
     "p50/p99/mean in microseconds; --json prints one object. The figures are of the public\n"
     "call: resolving the actor and parsing the JSON arguments are included. The global\n"
     "--context is not used: the bench makes its own."},
};
const cli_group cli_group_bench = {"bench", "benchmarks (figures and parameters, no assertions)",
                                   cmds, sizeof cmds / sizeof cmds[0]};
