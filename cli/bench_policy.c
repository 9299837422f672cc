/*
 * bench_policy.c — manushya bench policy: policy decisions per second for a realistic set of
 * 10 policies (issue 4), single-threaded, measured at two depths:
 *   engine  the compiled set (lib/policy) deciding prepared requests, without and with the
 *           decision cache: what the check in front of every API call costs once the actor and
 *           the arguments are in hand. It calls the engine's internal functions, which is why
 *           the CLI links the library's objects rather than its archive. Thread CPU time.
 *   call    the public call mn_policy_test on the given database, resolving the actor in the
 *           store and parsing the JSON arguments included. Wall time per call.
 * It prints the parameters with the figures and asserts nothing.
 */
#include "cli.h"
#include "policy/decision_cache.h"
#include "policy/decision_key.h"
#include "policy/policy.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        for (size_t i = 0; i < BP_NPOLICIES && rc == MN_OK; i++) {
            mn_policy_input in = {.version = MN_POLICY_INPUT_VERSION,
                                  .role = "agent",
                                  .rule = bp_policies[i].rule,
                                  .description = bp_policies[i].description,
                                  .priority = bp_policies[i].priority};
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

    if ((rc = mn_policy_list(c->db, &sys, &l)) != MN_OK)
        return cli_fail(c, rc, "bench: listing the policies");
    *npolicies = 0;
    for (size_t k = 0; k < l->count; k++)
        *npolicies += l->items[k]->active && (strcmp(l->items[k]->role, "agent") == 0 ||
                                             strcmp(l->items[k]->role, "*") == 0);
    mn_policies_free(l);
    return CLI_EXIT_OK;
}

/* Request i: a mix of actions, owners, types, metadata, IPv4 and IPv6 addresses; the address
 * (which the ip conditions read) differs on every call, so no two requests are the same. */
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

/* ---- engine -------------------------------------------------------------------------------- */

/* The engine decides BP_CALLS calls of BP_PER_CALL decisions each, as a list or search call
 * decides for each memory it shows: one actor and one context per call, a memory and an action
 * per decision. */
#define BP_CALLS 64
#define BP_PER_CALL 8
#define BP_ROUNDS 5 /* each figure: the best and the median of this many timed rounds */

typedef struct bp_figure {
    double best_per_s, median_per_s; /* decisions per second of thread CPU time */
    long allowed;                    /* in the last round */
} bp_figure;

typedef struct bp_engine_stats {
    bp_figure uncached, cached, cached_single;
    long rounds, per_round, misses;
} bp_engine_stats;

/* A decision as the library holds it: a stored memory (id and version for the key, its JSON for
 * the engine) and the action; the call it belongs to has the context. */
typedef struct bp_prepared {
    const char *action;
    char id[40];
    cJSON *data;
} bp_prepared;

typedef struct bp_call {
    char ctx_text[88]; /* the context as the library keys it */
    cJSON *ctx;
    bp_prepared rq[BP_PER_CALL];
} bp_call;

typedef struct bp_engine {
    mni_policyset *set;
    cJSON *claims;
    bp_call *calls;  /* BP_CALLS of them */
    mni_dcache *cache;
    const char *agent_id;
    int64_t now_ms;
} bp_engine;

static double bp_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bp_engine_free(bp_engine *e)
{
    mni_policyset_free(e->set);
    cJSON_Delete(e->claims);
    for (size_t c = 0; e->calls && c < BP_CALLS; c++) {
        cJSON_Delete(e->calls[c].ctx);
        for (size_t i = 0; i < BP_PER_CALL; i++)
            cJSON_Delete(e->calls[c].rq[i].data);
    }
    free(e->calls);
    mni_dcache_free(e->cache);
}

/* The set above compiled as the library compiles a tenant's policies, the calls, and an empty
 * decision cache of the library's default size. */
static int bp_engine_init(bp_engine *e, const char *agent_id)
{
    memset(e, 0, sizeof *e);
    e->agent_id = agent_id;
    struct mni_policy_src src[BP_NPOLICIES];
    char ids[BP_NPOLICIES][16], err[512];
    for (size_t i = 0; i < BP_NPOLICIES; i++) {
        snprintf(ids[i], sizeof ids[i], "bench-%02zu", i + 1);
        src[i] = (struct mni_policy_src){ids[i], "agent", bp_policies[i].rule,
                                        bp_policies[i].priority, 1};
    }
    if (mni_policyset_compile(src, BP_NPOLICIES, &e->set, err, sizeof err) != MN_OK)
        return cli_error("bench: the policy set does not compile: %s", err);
    int ok = (e->claims = cJSON_Parse(BP_CLAIMS)) &&
             (e->calls = calloc(BP_CALLS, sizeof *e->calls)) && (e->cache = mni_dcache_create(0, 0));
    for (size_t c = 0; ok && c < BP_CALLS; c++) {
        bp_call *call = &e->calls[c];
        for (size_t i = 0; ok && i < BP_PER_CALL; i++) {
            bp_prepared *p = &call->rq[i];
            size_t k = c * BP_PER_CALL + i;
            char data_text[512], ctx_text[sizeof call->ctx_text];
            p->action = bp_request(k + 1, agent_id, data_text, sizeof data_text, ctx_text,
                                   sizeof ctx_text);
            if (i == 0) /* the call's context is its first request's */
                memcpy(call->ctx_text, ctx_text, sizeof ctx_text);
            snprintf(p->id, sizeof p->id, "01890a5d-0000-7000-8000-%012zx", k);
            ok = (p->data = cJSON_Parse(data_text)) &&
                 cJSON_AddStringToObject(p->data, "id", p->id);
        }
        ok = ok && (call->ctx = cJSON_Parse(call->ctx_text));
    }
    if (!ok) {
        bp_engine_free(e);
        return cli_error("bench: out of memory preparing the requests");
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    e->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return CLI_EXIT_OK;
}

static int bp_decide(const bp_engine *e, const bp_call *call, const bp_prepared *p,
                     struct mni_verdict *v)
{
    const struct mni_request rq = {e->agent_id, "agent", e->claims, p->action, "memory",
                                  p->data, call->ctx, e->now_ms};
    return mni_policyset_decide(e->set, &rq, v) == MN_OK && v->allowed;
}

/* Who asks in a call, keyed as the library keys it once per call (policy/decision_key.h): the
 * actor's and the context's parts made and interned as a scope of the cache. */
static int bp_who(bp_engine *e, const bp_call *call, mni_dkey_who *who)
{
    return mni_dkey_who_init(who, e->cache, BP_TENANT, e->agent_id, "agent", BP_CLAIMS,
                            call->ctx_text);
}

/* One decision through the cache, keyed and looked up by the library's own code as an API
 * check does (a denial's reason read for its error). Returns 1 when allowed. */
static int bp_decide_cached(bp_engine *e, const bp_call *call, const mni_dkey_who *who,
                            const bp_prepared *p, long *misses)
{
    mni_dkey key;
    int allowed = 0;
    char policy_id[64], reason[MNI_DCACHE_REASON_MAX];
    if (mni_dkey_build(&key, who, p->action, "memory", NULL, p->id, 1) == MN_OK &&
        !mni_dkey_lookup(e->cache, &key, 1, e->now_ms, MNI_DKEY_EXPLAIN_DENIALS, 1, &allowed,
                        policy_id, sizeof policy_id, reason, sizeof reason)) {
        struct mni_verdict v;
        allowed = bp_decide(e, call, p, &v);
        mni_dcache_put(e->cache, key.parts, key.nparts, 1, e->now_ms, v.valid_until_ms, allowed,
                      v.policy_id, v.reason);
        (*misses)++;
    }
    mni_dkey_release(&key);
    return allowed;
}

enum bp_mode { BP_UNCACHED, BP_CACHED, BP_CACHED_SINGLE };

/* One pass over every call: uncached; cached with who asks keyed once per call (as the
 * library does); or cached with it keyed for every decision (calls of one decision each).
 * Returns the decisions allowed. */
static long bp_pass(bp_engine *e, enum bp_mode mode, long *misses)
{
    long allowed = 0;
    struct mni_verdict v;
    mni_dkey_who who = {0};
    for (size_t c = 0; c < BP_CALLS; c++) {
        const bp_call *call = &e->calls[c];
        if (mode == BP_CACHED)
            bp_who(e, call, &who);
        for (size_t i = 0; i < BP_PER_CALL; i++) {
            if (mode == BP_UNCACHED) {
                allowed += bp_decide(e, call, &call->rq[i], &v);
                continue;
            }
            if (mode == BP_CACHED_SINGLE)
                bp_who(e, call, &who);
            allowed += bp_decide_cached(e, call, &who, &call->rq[i], misses);
            if (mode == BP_CACHED_SINGLE)
                mni_dkey_who_free(&who);
        }
        mni_dkey_who_free(&who);
    }
    return allowed;
}

/* BP_ROUNDS timed rounds of `passes` passes each. */
static void bp_measure(bp_engine *e, enum bp_mode mode, long passes, bp_figure *f, long *misses)
{
    double rate[BP_ROUNDS];
    for (int r = 0; r < BP_ROUNDS; r++) {
        double t0 = bp_cpu_now();
        for (long k = 0; k < passes; k++)
            f->allowed = bp_pass(e, mode, misses);
        double secs = bp_cpu_now() - t0;
        rate[r] = secs > 0 ? (double)(passes * BP_CALLS * BP_PER_CALL) / secs : 0;
    }
    f->median_per_s = cli_latency_of(rate, BP_ROUNDS).p50; /* sorts rate */
    f->best_per_s = rate[BP_ROUNDS - 1];
}

/* About n decisions in each mode, in BP_ROUNDS rounds of whole passes. */
static int bp_engine_run(const char *agent_id, long n, bp_engine_stats *st)
{
    bp_engine e;
    int rc = bp_engine_init(&e, agent_id);
    if (rc != CLI_EXIT_OK)
        return rc;
    memset(st, 0, sizeof *st);
    long per_pass = BP_CALLS * BP_PER_CALL, warm = 0;
    long passes = (n + per_pass * BP_ROUNDS - 1) / (per_pass * BP_ROUNDS);
    bp_pass(&e, BP_UNCACHED, &warm); /* warm-up */
    bp_pass(&e, BP_CACHED, &warm);   /* fills the cache */
    bp_measure(&e, BP_UNCACHED, passes, &st->uncached, &st->misses);
    bp_measure(&e, BP_CACHED, passes, &st->cached, &st->misses);
    bp_measure(&e, BP_CACHED_SINGLE, passes, &st->cached_single, &st->misses);
    st->rounds = BP_ROUNDS;
    st->per_round = passes * per_pass;
    bp_engine_free(&e);
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
    const char *action = bp_request(first, agent_id, data, sizeof data, ctx, sizeof ctx);
    for (int i = 0; i < n; i++) {
        if (!cached && i > 0)
            action = bp_request(first + (uint64_t)i, agent_id, data, sizeof data, ctx,
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

static void bp_json_engine(cJSON *o, const char *prefix, const bp_figure *f)
{
    bp_json_add(o, prefix, "decisions_per_s", f->best_per_s, 6);
    bp_json_add(o, prefix, "median_decisions_per_s", f->median_per_s, 6);
    bp_json_add(o, prefix, "allowed", (double)f->allowed, 15);
}

static int bp_print(cli_ctx *c, int npolicies, const bp_engine_stats *eng, int n,
                    const bp_call_stats *unc, const bp_call_stats *hot)
{
    const long per_pass = BP_CALLS * BP_PER_CALL;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "database", cli_url_shown(c));
        cJSON_AddStringToObject(o, "tenant", BP_TENANT);
        cJSON_AddStringToObject(o, "identity", BP_AGENT);
        cJSON_AddNumberToObject(o, "policies", npolicies);
        cJSON_AddNumberToObject(o, "threads", 1);
        cJSON_AddStringToObject(o, "library", mn_version());
        cJSON_AddNumberToObject(o, "engine_policies", (double)BP_NPOLICIES);
        cJSON_AddNumberToObject(o, "engine_calls", BP_CALLS);
        cJSON_AddNumberToObject(o, "engine_decisions_per_call", BP_PER_CALL);
        cJSON_AddNumberToObject(o, "engine_rounds", (double)eng->rounds);
        cJSON_AddNumberToObject(o, "engine_decisions_per_round", (double)eng->per_round);
        bp_json_engine(o, "engine_uncached", &eng->uncached);
        bp_json_engine(o, "engine_cached", &eng->cached);
        bp_json_engine(o, "engine_cached_single", &eng->cached_single);
        cJSON_AddNumberToObject(o, "engine_cache_misses", (double)eng->misses);
        cJSON_AddNumberToObject(o, "n", n);
        bp_json_call(o, "call_uncached", unc);
        bp_json_call(o, "call_cached", hot);
        return cli_json_emit(o);
    }
    printf("bench policy     %zu policies (role agent) threads=1 libmanushya=%s\n"
           "engine           the compiled set on %d calls of %d decisions (one context per call, "
           "a memory and an action per decision, as list and search decide), %ld decisions a "
           "round; decisions per second of thread CPU time, best of %ld rounds (median)\n",
           BP_NPOLICIES, mn_version(), BP_CALLS, BP_PER_CALL, eng->per_round, eng->rounds);
    const struct { const char *name, *what; const bp_figure *f; } erows[] = {
        {"engine uncached", "every decision evaluated", &eng->uncached},
        {"engine cached", "through the decision cache, keyed by the library's code: the "
         "actor's key part made once, the context's once per call, the rest per decision",
         &eng->cached},
        {"engine cached/1", "the same with calls of one decision: the context's part made for "
         "every decision", &eng->cached_single},
    };
    for (size_t i = 0; i < 3; i++)
        printf("%-16s %.0f decisions/s, %.1f ns each (median %.0f/s; %s; allowed %ld/%ld)\n",
               erows[i].name, erows[i].f->best_per_s, 1e9 / erows[i].f->best_per_s,
               erows[i].f->median_per_s, erows[i].what, erows[i].f->allowed, per_pass);
    printf("call             mn_policy_test as %s on %s (tenant %s: %d active policies for "
           "role agent), n=%d; wall time per call: the actor resolved in the store, resource "
           "and context parsed from JSON text\n",
           BP_AGENT, cli_url_shown(c), BP_TENANT, npolicies, n);
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

int cli_bench_policy(cli_ctx *c, int argc, char **argv)
{
    int n = 100000, engine_n = 2000000;
    const cli_opt opts[] = {{"n", CLI_OPT_INT, &n, NULL},
                            {"engine-n", CLI_OPT_INT, &engine_n, NULL}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (n < 1)
        return cli_usage_error(c, "--n must be at least 1");
    if (engine_n < 1)
        return cli_usage_error(c, "--engine-n must be at least 1");
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    int npolicies = 0;
    char agent_id[64];
    if ((rc = bp_setup(c, &npolicies, agent_id)) != CLI_EXIT_OK)
        return rc;

    bp_engine_stats eng;
    if ((rc = bp_engine_run(agent_id, engine_n, &eng)) != CLI_EXIT_OK)
        return rc;
    /* Warm-up (the tenant's set compiled, the store's pages cached) on requests of its own; the
     * cached run repeats request 1, an allowed read of the agent's own memory. */
    bp_call_stats unc, hot, warm;
    if ((rc = bp_call_run(c, agent_id, (uint64_t)n + 1, BP_WARMUP, 0, &warm)) != CLI_EXIT_OK ||
        (rc = bp_call_run(c, agent_id, 1, n, 0, &unc)) != CLI_EXIT_OK ||
        (rc = bp_call_run(c, agent_id, 1, n, 1, &hot)) != CLI_EXIT_OK)
        return rc;
    return bp_print(c, npolicies, &eng, n, &unc, &hot);
}
