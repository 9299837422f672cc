/*
 * Policies: a rule's parsing (policy/policy.h: mni_policy_rule_check, mni_policyset_compile)
 * and decisions with it, next to the default policies a tenant starts with.
 * Input: the rule's JSON text, a newline, a request as a JSON object (every member optional):
 *   {"identity_id": "a", "role": "agent", "claims": {...}, "action": "read",
 *    "resource": "memory", "resource_data": {...}, "context": {"ip": "10.0.0.1"},
 *    "now_ms": 1767225600000}
 * Checks, besides no crash or leak: the rule check and the set's compiler agree on the rule;
 * a decision without the resource's data that denies denies with the data too; and when the
 * set says a decision does not depend on the resource (mni_policyset_per_resource), the
 * decisions with and without the data agree.
 */
#include "fuzz.h"
#include "policy/policy.h"

#include <manushya.h>

#include <stdlib.h>
#include <string.h>

#define MAX_POLICIES 8

static const char *member_string(const cJSON *o, const char *name, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* The decision for rq; a failed one (a "when" out of its limits) is a deny, as callers take it. */
static int allowed(const mni_policyset *ps, const struct mni_request *rq)
{
    struct mni_verdict v;
    return mni_policyset_decide(ps, rq, &v) == MN_OK && v.allowed;
}

static void decide_all_ways(const mni_policyset *ps, const cJSON *req)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(req, "resource_data");
    const cJSON *now = cJSON_GetObjectItemCaseSensitive(req, "now_ms");
    struct mni_request rq = {
        .identity_id = member_string(req, "identity_id", NULL),
        .role = member_string(req, "role", "agent"),
        .claims = cJSON_GetObjectItemCaseSensitive(req, "claims"),
        .action = member_string(req, "action", "read"),
        .resource = member_string(req, "resource", "memory"),
        .resource_data = cJSON_IsObject(data) ? data : NULL,
        .context = cJSON_GetObjectItemCaseSensitive(req, "context"),
        .now_ms = cJSON_IsNumber(now) && now->valuedouble > -9e15 && now->valuedouble < 9e15
                      ? (int64_t)now->valuedouble : 1767225600000,
    };
    int with = allowed(ps, &rq);
    rq.resource_data = NULL;
    int without = allowed(ps, &rq);
    if (!cJSON_IsObject(data))
        return;
    fuzz_assert(without || !with, "a deny without the resource's data became an allow with it");
    if (!mni_policyset_per_resource(ps, rq.role, rq.action, rq.resource))
        fuzz_assert(with == without, "a decision said not to depend on the resource did");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *rule, *req_text, err[512];
    fuzz_split(data, size, &rule, &req_text);
    struct mni_policy_src src[MAX_POLICIES] = {{"fuzzed", "*", rule, 60, 1}};
    size_t n = 1;
    char *texts[MAX_POLICIES] = {0};
    cJSON *defaults = cJSON_Parse(mni_policy_defaults), *d;
    cJSON_ArrayForEach(d, defaults) {
        if (n == MAX_POLICIES)
            break;
        texts[n] = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(d, "rule"));
        src[n] = (struct mni_policy_src){"default", member_string(d, "role", "*"), texts[n],
                                        cJSON_GetObjectItemCaseSensitive(d, "priority")->valueint,
                                        1};
        n++;
    }
    int checked = mni_policy_rule_check(rule, err, sizeof err);
    mni_policyset *ps = NULL;
    int compiled = mni_policyset_compile(src, n, &ps, err, sizeof err);
    fuzz_assert((checked == MN_OK) == (compiled == MN_OK),
                "mni_policy_rule_check and mni_policyset_compile disagree on the rule");
    if (compiled == MN_OK) {
        cJSON *req = cJSON_Parse(req_text);
        decide_all_ways(ps, cJSON_IsObject(req) ? req : NULL);
        cJSON_Delete(req);
    }
    mni_policyset_free(ps);
    for (size_t i = 0; i < n; i++)
        cJSON_free(texts[i]);
    cJSON_Delete(defaults);
    free(rule);
    free(req_text);
    return 0;
}
