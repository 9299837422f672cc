/*
 * bench_policy_set.h — the workload of the policy benchmarks, shared by `manushya bench policy`
 * (the public call, cli/bench_policy.c) and bench/bench_policy_engine.c (the engine itself):
 * a realistic set of policies for role "agent", the agent's claims and a generator of requests.
 */
#ifndef MANUSHYA_CLI_BENCH_POLICY_SET_H
#define MANUSHYA_CLI_BENCH_POLICY_SET_H

#include <stddef.h>
#include <stdint.h>

struct bench_policy {
    int priority;
    const char *description;
    const char *rule; /* JSON, in Manushya.ai's rule format */
};
#define BENCH_NPOLICIES 10
extern const struct bench_policy bench_policies[BENCH_NPOLICIES];

/* The agent's claims, which some policies read. */
#define BENCH_POLICY_CLAIMS "{\"department\":\"support\",\"clearance\":3,\"region\":\"eu\"}"

/* Request i for the agent whose identity id is agent_id: writes the resource (a memory, JSON)
 * into data and the call's context (JSON) into ctx, and returns the action. The same i always
 * gives the same request. */
const char *bench_policy_request(uint64_t i, const char *agent_id, char *data, size_t dlen,
                                 char *ctx, size_t clen);

#endif
