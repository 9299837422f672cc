/*
 * bench_policy_set.c — the workload of the policy benchmarks (bench_policy_set.h). Public data
 * only: no library call, so that the CLI and the engine benchmark (bench/) both link it.
 */
#include "bench_policy_set.h"

#include <stdio.h>

/* Another identity's id: the owner of the requests that are not the agent's. */
#define BENCH_POLICY_OTHER "01890a5d-ac96-774b-bcce-b302099a8057"

/* A realistic set for role "agent": deny and allow, every condition type, "when" clauses, a
 * spread of priorities. Order is irrelevant (the library orders by priority). */
const struct bench_policy bench_policies[BENCH_NPOLICIES] = {
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

/* Request i: a mix of actions, owners, types, metadata, IPv4 and IPv6 addresses; the address
 * (which the ip conditions read) differs on every call, so no two requests are the same. */
const char *bench_policy_request(uint64_t i, const char *agent_id, char *data, size_t dlen,
                                 char *ctx, size_t clen)
{
    static const char *const actions[] = {"read",   "read",   "read",  "search",
                                          "list",   "create", "update", "delete"};
    static const char *const types[] = {"fact", "preference", "event", "note", "secret-ish"};
    snprintf(data, dlen,
             "{\"identity_id\":\"%s\",\"type\":\"%s\",\"importance\":%.1f,\"metadata\":"
             "{\"project\":\"apollo\",\"seq\":%llu,\"shared\":%s,\"classification\":\"%s\"}}",
             i % 3 ? agent_id : BENCH_POLICY_OTHER, types[i % 5], (double)(i % 10) / 10.0,
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
