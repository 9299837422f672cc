/*
 * bench_policy_engine: the policy engine alone (lib/policy), without the store: decisions/s
 * single-threaded for a realistic 10-policy set with conditions (roles, claims, time window,
 * days, date range, IPv4/IPv6 ranges, memory types, metadata, "when"), uncached and through the
 * decision cache, and the bare cache lookup. `manushya bench policy` measures the whole public
 * call (actor lookup in the store included); this measures what the engine itself costs.
 *   build/bench/bench_policy_engine [N]      (N decisions per run, default 2000000)
 * Times are the thread's CPU time, so other processes on the machine do not inflate them.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "manushya.h"
#include "policy/decision_cache.h"
#include "policy/policy.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const struct mn_policy_src pols[] = {
    {"p01-admin", "admin", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\"}", 100, 1},
    {"p02-agent-own", "agent",
     "{\"effect\":\"allow\",\"actions\":[\"create\",\"read\",\"update\",\"delete\",\"list\",\"search\"],"
     "\"resource\":\"memory\",\"when\":{\"and\":[{\"!!\":{\"var\":\"actor.id\"}},{\"===\":[{\"var\":"
     "\"resource.identity_id\"},{\"var\":\"actor.id\"}]}]}}", 50, 1},
    {"p03-agent-identity", "agent",
     "{\"effect\":\"allow\",\"actions\":[\"read\"],\"resource\":\"identity\",\"when\":{\"===\":"
     "[{\"var\":\"resource.id\"},{\"var\":\"actor.id\"}]}}", 50, 1},
    {"p04-no-audit-delete", "agent",
     "{\"effect\":\"deny\",\"actions\":[\"delete\",\"update\"],\"resource\":\"memory\",\"conditions\":"
     "{\"resource_conditions\":{\"memory_types\":[\"audit\",\"legal\"]}}}", 60, 1},
    {"p05-support-hours", "*",
     "{\"effect\":\"allow\",\"actions\":[\"read\",\"list\"],\"resource\":\"memory\",\"conditions\":"
     "{\"roles\":[\"support\",\"agent\"],\"custom_conditions\":{\"identity_claims\":{\"department\":"
     "\"support\"}},\"time_restrictions\":{\"time_of_day\":{\"start\":\"08:00\",\"end\":\"18:00\"},"
     "\"days_of_week\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"]}}}", 40, 1},
    {"p06-office-network", "agent",
     "{\"effect\":\"allow\",\"actions\":[\"read\"],\"resource\":\"memory\",\"conditions\":"
     "{\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.0/8\",\"2001:db8::/32\"]},"
     "\"resource_conditions\":{\"metadata_requirements\":{\"project\":\"apollo\"}}}}", 30, 1},
    {"p07-no-policy-edits", "agent",
     "{\"effect\":\"deny\",\"actions\":\"*\",\"resource\":\"policy\"}", 90, 1},
    {"p08-banned-net", "*",
     "{\"effect\":\"deny\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{\"ip_restrictions\":"
     "{\"allowed_ranges\":[\"203.0.113.0/24\",\"2001:db8:bad::/48\"]}}}", 200, 1},
    {"p09-auditor-2026", "auditor",
     "{\"effect\":\"allow\",\"actions\":[\"read\",\"list\"],\"resource\":\"*\",\"conditions\":"
     "{\"time_restrictions\":{\"date_range\":{\"start\":\"2026-01-01\",\"end\":\"2026-12-31\"}}}}", 20, 1},
    {"p10-api-search", "agent",
     "{\"effect\":\"allow\",\"actions\":[\"search\"],\"resource\":\"memory\",\"when\":{\"and\":["
     "{\"==\":[{\"var\":\"context.channel\"},\"api\"]},{\"in\":[{\"var\":\"resource.type\"},"
     "[\"fact\",\"note\",\"preference\"]]}]}}", 10, 1},
};

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    mn_policyset *ps;
    char err[512];
    if (mn_policyset_compile(pols, 10, &ps, err, sizeof err) != MN_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    /* 64 memories: owners me/other, types, projects; 4 actions; 2 contexts */
    enum { NM = 64 };
    cJSON *data[NM];
    char ids[NM][40];
    static const char *const types[] = {"fact", "note", "audit", "preference"};
    for (int i = 0; i < NM; i++) {
        snprintf(ids[i], sizeof ids[i], "0190f3a0-0000-7000-8000-%012d", i);
        data[i] = cJSON_CreateObject();
        cJSON_AddStringToObject(data[i], "id", ids[i]);
        cJSON_AddStringToObject(data[i], "type", types[i % 4]);
        cJSON *m = cJSON_AddObjectToObject(data[i], "metadata");
        cJSON_AddStringToObject(m, "project", i % 3 ? "apollo" : "gemini");
        cJSON_AddNumberToObject(m, "priority", i);
        cJSON_AddStringToObject(data[i], "identity_id",
                                i % 2 ? "0190f3a0-aaaa-7000-8000-000000000001"
                                      : "0190f3a0-bbbb-7000-8000-000000000002");
    }
    cJSON *ctx[2] = {cJSON_Parse("{\"ip\":\"10.1.2.3\",\"channel\":\"api\"}"),
                     cJSON_Parse("{\"ip\":\"2001:db8:1::7\",\"channel\":\"web\"}")};
    const char *ctxt[2] = {"{\"ip\":\"10.1.2.3\",\"channel\":\"api\"}",
                           "{\"ip\":\"2001:db8:1::7\",\"channel\":\"web\"}"};
    cJSON *claims = cJSON_Parse("{\"department\":\"support\",\"level\":2}");
    static const char *const actions[] = {"read", "update", "delete", "search"};
    int64_t now = 1772447400000LL; /* 2026-03-02 10:30 UTC, a Monday */
    struct mn_request rq = {"0190f3a0-aaaa-7000-8000-000000000001", "agent", claims, "read",
                            "memory", NULL, NULL, now};
    struct mn_verdict v;
    long allowed = 0;
    /* warm up */
    for (long i = 0; i < 100000; i++) {
        rq.resource_data = data[i % NM];
        rq.action = actions[(i / NM) % 4];
        rq.context = ctx[(i / 256) % 2];
        mn_policyset_decide(ps, &rq, &v);
    }
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        rq.resource_data = data[i % NM];
        rq.action = actions[(i / NM) % 4];
        rq.context = ctx[(i / 256) % 2];
        if (mn_policyset_decide(ps, &rq, &v) == MN_OK && v.allowed)
            allowed++;
    }
    double t1 = now_s();
    printf("uncached: %.0f decisions/s (%.0f ns each; %ld of %ld allowed)\n", n / (t1 - t0),
           (t1 - t0) / n * 1e9, allowed, n);

    /* cached: the key is what the decision depends on, built per request as a caller would */
    mn_dcache *c = mn_dcache_create(0, 0);
    char key[512], pid[64], reason[256];
    long hits = 0;
    allowed = 0;
    const char *tenant = "0190f3a0-tttt-7000-8000-000000000000";
    for (int pass = 0; pass < 2; pass++) {
        t0 = now_s();
        for (long i = 0; i < n; i++) {
            const char *parts[6] = {tenant, rq.identity_id, rq.role, actions[(i / NM) % 4],
                                    ids[i % NM], ctxt[(i / 256) % 2]};
            size_t kl = 0;
            for (int k = 0; k < 6; k++) {
                size_t l = strlen(parts[k]);
                memcpy(key + kl, parts[k], l + 1);
                kl += l + 1;
            }
            int a;
            if (mn_dcache_get(c, key, kl, 7, now, &a, pid, sizeof pid, reason, sizeof reason)) {
                hits++;
                allowed += a;
                continue;
            }
            rq.resource_data = data[i % NM];
            rq.action = actions[(i / NM) % 4];
            rq.context = ctx[(i / 256) % 2];
            mn_policyset_decide(ps, &rq, &v);
            allowed += v.allowed;
            mn_dcache_put(c, key, kl, 7, now, v.valid_until_ms, v.allowed, v.policy_id, v.reason);
        }
        t1 = now_s();
        if (pass == 1)
            printf("cached:   %.0f decisions/s (%.1f ns each, key building included; %ld hits, "
                   "%ld allowed)\n", n / (t1 - t0), (t1 - t0) / n * 1e9, hits, allowed);
        hits = allowed = 0;
    }
    /* the bare lookup, key prebuilt */
    size_t kl = 0;
    {
        const char *parts[6] = {tenant, rq.identity_id, rq.role, "read", ids[1], ctxt[0]};
        for (int k = 0; k < 6; k++) {
            size_t l = strlen(parts[k]);
            memcpy(key + kl, parts[k], l + 1);
            kl += l + 1;
        }
    }
    mn_dcache_put(c, key, kl, 7, now, 0, 1, "p", "allowed by policy p");
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        int a;
        hits += mn_dcache_get(c, key, kl, 7, now, &a, pid, sizeof pid, reason, sizeof reason);
    }
    t1 = now_s();
    printf("lookup:   %.0f lookups/s (%.1f ns each, %zu-byte key)\n", n / (t1 - t0),
           (t1 - t0) / n * 1e9, kl);
    printf("parameters: 10 policies, 64 memories x 4 actions x 2 contexts, n=%ld\n", n);
    mn_dcache_free(c);
    mn_policyset_free(ps);
    for (int i = 0; i < NM; i++)
        cJSON_Delete(data[i]);
    cJSON_Delete(ctx[0]);
    cJSON_Delete(ctx[1]);
    cJSON_Delete(claims);
    return 0;
}
