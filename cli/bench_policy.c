/*
 * bench_policy.c — manushya bench policy: policy decisions per second of the public call
 * mn_policy_test for a realistic set of 10 policies (bench_policy_set.h), single-threaded, on
 * the given database: resolving the actor (through the read-through cache, as every call
 * does) and parsing the JSON arguments included. Wall time per call. The engine alone, which only the library's internals reach,
 * is measured by bench/bench_policy_engine.c (make bench-policy runs both).
 * It prints the parameters with the figures and asserts nothing.
 */
#include "bench_policy_set.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define BP_TENANT "bench-policy"
#define BP_AGENT "bench-agent"
#define BP_WARMUP 200

/* Creates the tenant (replacing a new tenant's default policies with the benchmark's set) and the
 * identity unless they exist; an existing tenant keeps the policies it has, so that a changed
 * set can be measured too. *npolicies counts the active ones for role agent (or "*"); the
 * agent's id goes to agent_id. */
static int bp_setup(cli_ctx *c, int *npolicies, char agent_id[64])
{
    const mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = BP_TENANT};
    mn_tenant *t = NULL;
    int created = 0, rc = mn_tenant_create(c->db, BP_TENANT, &t);
    mn_tenant_free(t);
    if (rc == MN_OK)
        created = 1;
    else if (rc != MN_EEXISTS)
        return cli_fail(c, rc, "bench: tenant %s", BP_TENANT);

    mn_policies *l = NULL;
    if (created) {
        if ((rc = mn_policy_list(c->db, &sys, &l)) != MN_OK)
            return cli_fail(c, rc, "bench: listing the default policies");
        for (size_t i = 0; i < l->count && rc == MN_OK; i++)
            if ((rc = mn_policy_delete(c->db, &sys, l->items[i]->id)) != MN_OK)
                cli_fail(c, rc, "bench: deleting default policy %s", l->items[i]->id);
        mn_policies_free(l);
        l = NULL;
        for (size_t i = 0; i < BENCH_NPOLICIES && rc == MN_OK; i++) {
            mn_policy_input in = {.version = MN_POLICY_INPUT_VERSION,
                                  .role = "agent",
                                  .rule = bench_policies[i].rule,
                                  .description = bench_policies[i].description,
                                  .priority = bench_policies[i].priority};
            if ((rc = mn_policy_add(c->db, &sys, &in, NULL)) != MN_OK)
                cli_fail(c, rc, "bench: adding policy \"%s\"", bench_policies[i].description);
        }
        if (rc != MN_OK)
            return cli_exit_code(rc);
    }

    mn_identity *i = NULL;
    rc = mn_identity_create(c->db, &sys, BP_AGENT, "agent", BENCH_POLICY_CLAIMS, &i);
    if (rc == MN_EEXISTS)
        rc = mn_identity_get(c->db, &sys, BP_AGENT, &i);
    if (rc != MN_OK)
        return cli_fail(c, rc, "bench: identity %s", BP_AGENT);
    snprintf(agent_id, 64, "%s", i->id);
    mn_identity_free(i);

    if ((rc = mn_policy_list(c->db, &sys, &l)) != MN_OK)
        return cli_fail(c, rc, "bench: listing the policies");
    *npolicies = 0;
    for (size_t k = 0; k < l->count; k++)
        *npolicies += l->items[k]->active && (strcmp(l->items[k]->role, "agent") == 0 ||
                                             strcmp(l->items[k]->role, "*") == 0);
    mn_policies_free(l);
    return CLI_EXIT_OK;
}

/* ---- the public call ----------------------------------------------------------------------- */

typedef struct bp_call_stats {
    double per_s;
    cli_latency lat; /* microseconds */
    int allowed;
} bp_call_stats;

/* n calls of mn_policy_test, each timed: requests first .. first + n - 1, or (cached) request
 * first every time. */
static int bp_call_run(cli_ctx *c, const char *agent_id, uint64_t first, int n, int cached,
                       bp_call_stats *st)
{
    double *lat = malloc((size_t)n * sizeof *lat);
    if (!lat)
        return cli_error("bench: out of memory for %d latencies", n);
    char data[512], ctx[160];
    memset(st, 0, sizeof *st);
    const char *action = bench_policy_request(first, agent_id, data, sizeof data, ctx, sizeof ctx);
    for (int i = 0; i < n; i++) {
        if (!cached && i > 0)
            action = bench_policy_request(first + (uint64_t)i, agent_id, data, sizeof data, ctx,
                                sizeof ctx);
        const mn_actor agent = {
            .version = MN_ACTOR_VERSION, .tenant = BP_TENANT, .identity = BP_AGENT, .context = ctx};
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
    }
    st->lat = cli_latency_of(lat, (size_t)n);
    st->per_s = st->lat.mean > 0 ? 1e6 / st->lat.mean : 0;
    free(lat);
    return CLI_EXIT_OK;
}

/* ---- output -------------------------------------------------------------------------------- */

static void bp_json_add(cJSON *o, const char *prefix, const char *name, double v, int sig)
{
    char k[64];
    snprintf(k, sizeof k, "%s_%s", prefix, name);
    cJSON_AddItemToObject(o, k, cli_json_number(v, sig));
}

static void bp_json_call(cJSON *o, const char *prefix, const bp_call_stats *st)
{
    bp_json_add(o, prefix, "decisions_per_s", st->per_s, 6);
    bp_json_add(o, prefix, "p50_us", st->lat.p50, 4);
    bp_json_add(o, prefix, "p99_us", st->lat.p99, 4);
    bp_json_add(o, prefix, "mean_us", st->lat.mean, 4);
    bp_json_add(o, prefix, "allowed", st->allowed, 12);
}

static int bp_print(cli_ctx *c, int npolicies, int n, const bp_call_stats *unc,
                    const bp_call_stats *hot)
{
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "database", cli_url_shown(c));
        cJSON_AddStringToObject(o, "tenant", BP_TENANT);
        cJSON_AddStringToObject(o, "identity", BP_AGENT);
        cJSON_AddNumberToObject(o, "policies", npolicies);
        cJSON_AddNumberToObject(o, "threads", 1);
        cJSON_AddStringToObject(o, "library", mn_version());
        cJSON_AddNumberToObject(o, "n", n);
        bp_json_call(o, "call_uncached", unc);
        bp_json_call(o, "call_cached", hot);
        return cli_json_emit(o);
    }
    printf("bench policy     %d policies (role agent) threads=1 libmanushya=%s\n"
           "call             mn_policy_test as %s on %s (tenant %s: %d active policies for "
           "role agent), n=%d; wall time per call: the actor resolved (through the read-through "
           "cache), resource and context parsed from JSON text\n",
           BENCH_NPOLICIES, mn_version(), BP_AGENT, cli_url_shown(c), BP_TENANT, npolicies, n);
    const struct { const char *name, *what; const bp_call_stats *st; } rows[] = {
        {"call uncached", "every request different", unc},
        {"call cached", "one request repeated", hot},
    };
    for (size_t i = 0; i < 2; i++)
        printf("%-16s %.0f decisions/s: p50 %.2f us, p99 %.2f us, mean %.2f us (%s; allowed "
               "%d/%d)\n", rows[i].name, rows[i].st->per_s, rows[i].st->lat.p50,
               rows[i].st->lat.p99, rows[i].st->lat.mean, rows[i].what, rows[i].st->allowed, n);
    return CLI_EXIT_OK;
}

/* --metrics-compare: the cached and uncached calls on this handle (metrics on) and on a second
 * handle of the same database with metrics off, in turns, rounds times; the best mean of each. */
static int bp_compare(cli_ctx *c, const char *agent_id, int n, int rounds)
{
    mn_config cfg = c->cfg;
    cfg.metrics = MN_METRICS_OFF;
    mn_db *off = NULL, *on = c->db;
    int rc = mn_open(&off, cli_url(c), &cfg);
    if (rc != MN_OK) {
        rc = cli_fail(c, rc, "bench: open %s with metrics off", cli_url_shown(c));
        mn_close(off);
        return rc;
    }
    double best[2][2] = { { 0, 0 }, { 0, 0 } }; /* [metrics on][cached]: mean us */
    rc = CLI_EXIT_OK;
    for (int r = 0; r <= rounds && rc == CLI_EXIT_OK; r++)
        for (int k = 0; k < 4 && rc == CLI_EXIT_OK; k++) {
            int m = (k + r) % 2, cached = k / 2; /* alternate which handle goes first */
            bp_call_stats st;
            c->db = m ? on : off;
            rc = bp_call_run(c, agent_id, 1, n, cached, &st);
            if (r > 0 && rc == CLI_EXIT_OK && (!best[m][cached] || st.lat.mean < best[m][cached]))
                best[m][cached] = st.lat.mean; /* round 0 warms both handles up */
        }
    c->db = on;
    mn_close(off);
    if (rc != CLI_EXIT_OK)
        return rc;
    double cost[2];
    for (int k = 0; k < 2; k++)
        cost[k] = best[0][k] > 0 ? (best[1][k] / best[0][k] - 1) * 100 : 0;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "n", n);
        cJSON_AddNumberToObject(o, "rounds", rounds);
        cJSON_AddItemToObject(o, "uncached_mean_us_off", cli_json_number(best[0][0], 4));
        cJSON_AddItemToObject(o, "uncached_mean_us_on", cli_json_number(best[1][0], 4));
        cJSON_AddItemToObject(o, "uncached_slower_percent", cli_json_number(cost[0], 3));
        cJSON_AddItemToObject(o, "cached_mean_us_off", cli_json_number(best[0][1], 4));
        cJSON_AddItemToObject(o, "cached_mean_us_on", cli_json_number(best[1][1], 4));
        cJSON_AddItemToObject(o, "cached_slower_percent", cli_json_number(cost[1], 3));
        return cli_json_emit(o);
    }
    printf("bench policy --metrics-compare  n=%d rounds=%d libmanushya=%s (mn_policy_test, "
           "best round of each, two handles of one database)\n"
           "call uncached   metrics off mean %.3f us, on %.3f us: %+.2f%% slower\n"
           "call cached     metrics off mean %.3f us, on %.3f us: %+.2f%% slower\n",
           n, rounds, mn_version(), best[0][0], best[1][0], cost[0], best[0][1], best[1][1],
           cost[1]);
    return CLI_EXIT_OK;
}

int cli_bench_policy(cli_ctx *c, int argc, char **argv)
{
    int n = 100000, compare = 0;
    const cli_opt opts[] = {{"n", CLI_OPT_INT, &n, NULL},
                            {"metrics-compare", CLI_OPT_INT, &compare, NULL}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (n < 1)
        return cli_usage_error(c, "--n must be at least 1");
    if (compare < 0)
        return cli_usage_error(c, "--metrics-compare R: give a number of rounds >= 1");
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    int npolicies = 0;
    char agent_id[64];
    if ((rc = bp_setup(c, &npolicies, agent_id)) != CLI_EXIT_OK)
        return rc;
    if (compare)
        return bp_compare(c, agent_id, n, compare);

    /* Warm-up (the tenant's set compiled, the store's pages cached) on requests of its own; the
     * cached run repeats request 1, an allowed read of the agent's own memory. */
    bp_call_stats unc, hot, warm;
    if ((rc = bp_call_run(c, agent_id, (uint64_t)n + 1, BP_WARMUP, 0, &warm)) != CLI_EXIT_OK ||
        (rc = bp_call_run(c, agent_id, 1, n, 0, &unc)) != CLI_EXIT_OK ||
        (rc = bp_call_run(c, agent_id, 1, n, 1, &hot)) != CLI_EXIT_OK)
        return rc;
    return bp_print(c, npolicies, n, &unc, &hot);
}
