/*
 * Policies: access decisions for an actor's request, the way Manushya.ai's policy engine makes
 * them. A tenant's active policies are compiled once into a policy set (rules parsed,
 * JSON Logic compiled, CIDRs and times parsed); a decision walks the set:
 *   - only policies whose role is the actor's role (or "*") and whose actions and resource match
 *     the request are considered, highest priority first;
 *   - a policy applies when all its conditions hold;
 *   - an applying deny overrides any allow (deny-overrides), whatever their priorities;
 *   - otherwise the highest-priority applying allow decides; no applying allow means deny.
 *
 * Rule format (a JSON object, Manushya.ai's keys plus "when"):
 *   {"effect": "allow"|"deny",
 *    "actions": ["read", "create", ...] | "*",
 *    "resource": "memory" | "identity" | "policy" | "api_key" | ... | "*",
 *    "conditions": {
 *      "roles": ["agent", ...],
 *      "time_restrictions": {"time_of_day": {"start": "09:00", "end": "17:00"},
 *                            "days_of_week": ["monday", ...],
 *                            "date_range": {"start": "2026-01-01", "end": "2026-12-31"}},
 *      "ip_restrictions": {"allowed_ips": ["192.0.2.7", "2001:db8::1"],
 *                          "allowed_ranges": ["10.0.0.0/8", "2001:db8::/32"]},
 *      "resource_conditions": {"memory_types": ["fact", ...],
 *                              "metadata_requirements": {"project": "apollo"}},
 *      "custom_conditions": {"identity_claims": {"department": "support"}}},
 *    "when": <one JSON Logic operation over {actor, action, resource, context}, or a boolean>}
 * Times are UTC.
 *
 * Validation (mni_policy_rule_check, mni_policyset_compile): unknown or duplicate keys are errors;
 * effect, actions and resource are required; actions is a non-empty array of non-empty strings
 * or "*" ("*" inside the array also means every action); resource a non-empty string. Roles and
 * memory_types are non-empty arrays of non-empty strings; metadata_requirements and
 * identity_claims objects. time_of_day: {start, end}, each "HH:MM" from 00:00 to 23:59, start
 * included and end excluded; start > end wraps midnight ("22:00".."06:00"); start == end is an
 * error. days_of_week: english day names, any case, or their 3-letter forms ("Mon"). date_range:
 * {start, end}, "YYYY-MM-DD", both days included, start <= end. allowed_ips: IPv4 or IPv6
 * addresses; allowed_ranges: CIDRs (prefix 0..32 for IPv4, 0..128 for IPv6; a bare address is
 * one host; bits set past the prefix, "10.0.0.1/8", are an error). An IPv4-mapped IPv6 address
 * (::ffff:10.1.2.3) is the IPv4 address it maps: it matches IPv4 ranges and vice versa.
 * time_restrictions, ip_restrictions, resource_conditions and custom_conditions may not be
 * empty (ip_restrictions must allow at least one address). "when" is compiled by the JSON Logic
 * engine (policy/jsonlogic.h) as a condition (MNI_JL_CONDITION): one operation, or true or
 * false, with no literal object anywhere in it (json-logic-js would take a multi-key object, an
 * array, {}, a string or a number for a value, always truthy or falsy whatever the request: a
 * typo that allows everything). Its errors read `when.and[1]: unknown operator "=~"`.
 *
 * Conditions: a policy applies when all of its conditions hold:
 *   roles                 the actor's role is one of them (in addition to the policy's role);
 *   time_restrictions     rq->now_ms (UTC) is in the window, on one of the days, in the range;
 *   ip_restrictions       context.ip (a string) is one of allowed_ips or in allowed_ranges; a
 *                         request without context.ip satisfies no policy's; one whose
 *                         context.ip is there but not an address ("10.1.2.3:8080", " 10.1.2.3",
 *                         "[::1]", "10.1.2.3/32", a number, null) fails closed: it satisfies
 *                         every deny's and no allow's;
 *   memory_types          resource_data.type is one of them;
 *   metadata_requirements resource_data.metadata (an object; missing = {}) contains it, as
 *                         PostgreSQL's jsonb @> (mni_json_contains);
 *   identity_claims       rq->claims (missing = {}) contains it, likewise;
 *   when                  the expression is truthy (JSON Logic truthiness) on the data below.
 *
 * The data "when" sees:
 *   {"actor":    {"id": rq->identity_id or null, "role": rq->role or null,
 *                 "claims": rq->claims or {}},
 *    "action":   rq->action,
 *    "resource": {"kind": rq->resource, ...every member of rq->resource_data...},
 *    "context":  rq->context or {}}
 * so a memory's owner is {"var":"resource.identity_id"}, its type {"var":"resource.type"}, a
 * metadata field {"var":"resource.metadata.project"}, the client ip {"var":"context.ip"}.
 * "kind" is reserved: a member "kind" of resource_data is hidden by the resource's name.
 * A "when" evaluation is limited to MNI_POLICY_WHEN_MAX_STEPS steps and MNI_POLICY_WHEN_MAX_BYTES of
 * scratch memory; past them mni_policyset_decide fails with MN_ERANGE (a deny).
 *
 * Conditions on the resource — memory_types, metadata_requirements and a "when" that may read the
 * resource's data (any var path other than resource.kind; checked conservatively) — need
 * rq->resource_data. When it is NULL the request asks "may this actor do this to resources of
 * this kind at all?" (list and search ask it before looking at any memory): an allow whose other
 * conditions hold counts as applying, a deny with resource conditions does not apply, and the
 * verdict says so (partial = 1): the caller must then decide again resource by resource with the
 * data. A NULL-data verdict that denies holds for every resource. Callers that act on one
 * resource (get, update, delete, create) must pass its data.
 *
 * Thread safety: a compiled set is immutable; any number of threads may decide with it at once.
 */
#ifndef MNI_POLICY_POLICY_H
#define MNI_POLICY_POLICY_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define MNI_POLICY_WHEN_MAX_STEPS ((uint64_t)1000000)       /* per "when" evaluation */
#define MNI_POLICY_WHEN_MAX_BYTES ((size_t)4 * 1024 * 1024) /* per "when" evaluation */

typedef struct mni_policyset mni_policyset;

/* One stored policy, as the compiler reads it. */
struct mni_policy_src {
    const char *id;
    const char *role;        /* a role name or "*" */
    const char *rule;        /* JSON text, the format above */
    int priority;            /* higher is consulted first */
    int active;              /* inactive policies are left out of the set */
};

/* Checks a rule without compiling a set: MN_EINVAL with a message naming the bad field (JSON
 * path, e.g. `conditions.ip_restrictions.allowed_ranges[1]: "10.0.0.0/33" is not a CIDR`). */
int mni_policy_rule_check(const char *rule_json, char *err, size_t errlen);

/* Compiles the active policies among p[0..n-1]. Fails like mni_policy_rule_check, naming the
 * policy id, if a stored rule does not compile. */
int mni_policyset_compile(const struct mni_policy_src *p, size_t n, mni_policyset **out, char *err,
                         size_t errlen);
void mni_policyset_free(mni_policyset *ps);

/* A request to decide. All pointers are borrowed. */
struct mni_request {
    const char *identity_id;
    const char *role;
    const cJSON *claims;         /* the identity's claims object (may be NULL) */
    const char *action;          /* "create", "read", "update", "delete", "list", "search", ... */
    const char *resource;        /* "memory", "identity", "policy", ... */
    const cJSON *resource_data;  /* the resource: for a memory {"id","type","metadata",
                                  * "identity_id"}; NULL when the request is not about one */
    const cJSON *context;        /* caller's context object, e.g. {"ip": "10.1.2.3"}; may be NULL */
    int64_t now_ms;              /* the time of the request (ms since the epoch, UTC) */
};

struct mni_verdict {
    int allowed;
    const char *policy_id;   /* the deciding policy (points into the set), NULL: none applied */
    char reason[256];        /* why, for people (forms under mni_policyset_decide) */
    int partial;             /* allowed without resource_data although a condition on the
                              * resource was involved: decide again per resource (see above) */
    int64_t valid_until_ms;  /* the verdict may change at this instant (a time condition that
                              * was looked at reaches a boundary): cache it no longer than
                              * that; INT64_MAX when no time condition mattered */
};

/* Decides rq against ps. Returns MN_OK (the verdict says allowed or not) or an error of a
 * "when" evaluation (MN_ERANGE, MN_ENOMEM), which callers treat as a deny (v->allowed is 0 and
 * v->reason says which policy failed). MN_EINVAL (a deny) when ps, rq, rq->action or
 * rq->resource is NULL or resource_data is not an object. Reasons:
 *   "allowed by policy P" (+ " (subject to each resource's own conditions)" when partial),
 *   "denied by policy P (deny read on memory, role agent)",
 *   "no policy allows read on memory for role agent" (+ " (policy P does not apply: ip 1.2.3.4
 *   is not in its allowed ips or ranges)", for the first matching allow that did not apply).
 * Equal priorities are consulted denies first, then by policy id. Allocates nothing unless a
 * "when" needs more than a small stack buffer. */
int mni_policyset_decide(const mni_policyset *ps, const struct mni_request *rq, struct mni_verdict *v);

/* 1 when a decision for (role, action, resource) may depend on the resource's data (a
 * resource_conditions or a "when" that reads "resource"): list and search must then decide
 * memory by memory; 0 when one decision without resource data holds for every memory. */
int mni_policyset_per_resource(const mni_policyset *ps, const char *role, const char *action,
                              const char *resource);

/* The policies a new tenant starts with (JSON array of {role, priority, description, rule}, rule
 * being a rule object as above):
 *   admin, priority 100: {"effect":"allow","actions":"*","resource":"*"}
 *   agent, priority 50:  allow create, read, update, delete, list, search on memory when
 *                        resource.identity_id === actor.id (its own memories; for create,
 *                        resource_data.identity_id is the new memory's owner);
 *   agent, priority 50:  allow read on identity when resource.id === actor.id.
 * Each "when" also requires actor.id to be truthy, so that a request without an identity never
 * matches a resource without an owner. */
extern const char mni_policy_defaults[];

#endif
