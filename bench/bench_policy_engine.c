/*
 * bench_policy_engine.c — the policy engine's decisions per second, without the public call
 * around it: the compiled set (lib/policy) deciding prepared requests, uncached and through
 * the decision cache, single-threaded, in thread CPU time. It calls the library's internal
 * functions, so it links the library's objects and is never installed; `make bench-policy`
 * builds and runs it, then `manushya bench policy` (the public call mn_policy_test) on the
 * same workload (cli/bench_policy_set.h).
 *   bench_policy_engine [--n N] [--json]   about N decisions per mode (default 2000000)
 * It prints the parameters with the figures and asserts nothing.
 */
#include "manushya.h"
#include "bench_policy_set.h"
#include "policy/decision_cache.h"
#include "policy/decision_key.h"
#include "policy/policy.h"

#include <cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BP_TENANT "bench-policy"
/* The agent's identity id: the engine compares it with the requests' owners only. */
#define BP_AGENT_ID "01890a5d-0000-7000-8000-0000000a9e47"

/* Prints "bench_policy_engine: MESSAGE" on stderr and returns 1 (the exit status). */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_policy_engine: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

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
    struct mni_policy_src src[BENCH_NPOLICIES];
    char ids[BENCH_NPOLICIES][16], err[512];
    for (size_t i = 0; i < BENCH_NPOLICIES; i++) {
        snprintf(ids[i], sizeof ids[i], "bench-%02zu", i + 1);
        src[i] = (struct mni_policy_src){ids[i], "agent", bench_policies[i].rule,
                                        bench_policies[i].priority, 1};
    }
    if (mni_policyset_compile(src, BENCH_NPOLICIES, &e->set, err, sizeof err) != MN_OK)
        return fail("the policy set does not compile: %s", err);
    int ok = (e->claims = cJSON_Parse(BENCH_POLICY_CLAIMS)) &&
             (e->calls = calloc(BP_CALLS, sizeof *e->calls)) && (e->cache = mni_dcache_create(0, 0));
    for (size_t c = 0; ok && c < BP_CALLS; c++) {
        bp_call *call = &e->calls[c];
        for (size_t i = 0; ok && i < BP_PER_CALL; i++) {
            bp_prepared *p = &call->rq[i];
            size_t k = c * BP_PER_CALL + i;
            char data_text[512], ctx_text[sizeof call->ctx_text];
            p->action = bench_policy_request(k + 1, agent_id, data_text, sizeof data_text,
                                             ctx_text, sizeof ctx_text);
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
        return fail("out of memory preparing the requests");
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    e->now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return 0;
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
    return mni_dkey_who_init(who, e->cache, BP_TENANT, e->agent_id, "agent",
                            BENCH_POLICY_CLAIMS, call->ctx_text);
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
    qsort(rate, BP_ROUNDS, sizeof *rate, cmp_double);
    f->median_per_s = rate[BP_ROUNDS / 2];
    f->best_per_s = rate[BP_ROUNDS - 1];
}

/* About n decisions in each mode, in BP_ROUNDS rounds of whole passes. */
static int bp_engine_run(const char *agent_id, long n, bp_engine_stats *st)
{
    bp_engine e;
    int rc = bp_engine_init(&e, agent_id);
    if (rc != 0)
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
    return 0;
}

static void print_json(const bp_engine_stats *st)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "library", MN_VERSION);
    cJSON_AddNumberToObject(o, "policies", BENCH_NPOLICIES);
    cJSON_AddNumberToObject(o, "threads", 1);
    cJSON_AddNumberToObject(o, "calls", BP_CALLS);
    cJSON_AddNumberToObject(o, "decisions_per_call", BP_PER_CALL);
    cJSON_AddNumberToObject(o, "rounds", (double)st->rounds);
    cJSON_AddNumberToObject(o, "decisions_per_round", (double)st->per_round);
    const struct { const char *name; const bp_figure *f; } modes[] = {
        {"uncached", &st->uncached}, {"cached", &st->cached}, {"cached_single", &st->cached_single},
    };
    for (size_t i = 0; i < 3; i++) {
        cJSON *m = cJSON_AddObjectToObject(o, modes[i].name);
        cJSON_AddNumberToObject(m, "decisions_per_s", modes[i].f->best_per_s);
        cJSON_AddNumberToObject(m, "median_decisions_per_s", modes[i].f->median_per_s);
        cJSON_AddNumberToObject(m, "allowed", (double)modes[i].f->allowed);
    }
    cJSON_AddNumberToObject(o, "cache_misses", (double)st->misses);
    char *text = cJSON_Print(o);
    if (text)
        puts(text);
    free(text);
    cJSON_Delete(o);
}

static void print_text(const bp_engine_stats *st)
{
    const long per_pass = BP_CALLS * BP_PER_CALL;
    printf("bench policy     engine: %d policies (role agent) threads=1 libmanushya=%s\n"
           "engine           the compiled set on %d calls of %d decisions (one context per call, "
           "a memory and an action per decision, as list and search decide), %ld decisions a "
           "round; decisions per second of thread CPU time, best of %ld rounds (median)\n",
           BENCH_NPOLICIES, MN_VERSION, BP_CALLS, BP_PER_CALL, st->per_round, st->rounds);
    const struct { const char *name, *what; const bp_figure *f; } rows[] = {
        {"engine uncached", "every decision evaluated", &st->uncached},
        {"engine cached", "through the decision cache, keyed by the library's code: the "
         "actor's key part made once, the context's once per call, the rest per decision",
         &st->cached},
        {"engine cached/1", "the same with calls of one decision: the context's part made for "
         "every decision", &st->cached_single},
    };
    for (size_t i = 0; i < 3; i++)
        printf("%-16s %.0f decisions/s, %.1f ns each (median %.0f/s; %s; allowed %ld/%ld)\n",
               rows[i].name, rows[i].f->best_per_s, 1e9 / rows[i].f->best_per_s,
               rows[i].f->median_per_s, rows[i].what, rows[i].f->allowed, per_pass);
}

int main(int argc, char **argv)
{
    long n = 2000000;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--n") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            n = strtol(argv[++i], &end, 10);
            if (errno || *end || n < 1)
                return fail("--n %s: give a whole number of decisions, at least 1", argv[i]);
        } else {
            fprintf(stderr, "usage: bench_policy_engine [--n N] [--json]\n");
            return 2;
        }
    }
    bp_engine_stats st;
    if (bp_engine_run(BP_AGENT_ID, n, &st) != 0)
        return 1;
    if (json)
        print_json(&st);
    else
        print_text(&st);
    return 0;
}
