/* Unit tests of the policy engine (lib/policy/policy_*.c) and the decision cache
 * (lib/policy/decision_cache.c): rule validation with JSON paths, deny-overrides and priority,
 * every condition type (roles, time windows with an injected clock, days, dates, IPv4/IPv6
 * CIDRs, memory types, metadata, identity claims, "when"), decisions without resource data,
 * the default policies, cache hits, generations, expiry, eviction and threads, and a fuzz loop
 * of garbage rules. */
#include <check.h>
#include <cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manushya.h"
#include "policy/decision_cache.h"
#include "policy/decision_key.h"
#include "policy/policy.h"
#include "policy/policy_impl.h"
#include "support/harness.h"

/* ---- helpers ------------------------------------------------------------------------------- */

typedef struct pol {
    const char *id, *role;
    int priority;
    const char *rule;
} pol;

/* Compiles the policies (all active), asserting success. */
static mni_policyset *set_of(const pol *p, size_t n)
{
    struct mni_policy_src src[32];
    ck_assert_uint_le(n, 32);
    for (size_t i = 0; i < n; i++) {
        src[i].id = p[i].id;
        src[i].role = p[i].role;
        src[i].rule = p[i].rule;
        src[i].priority = p[i].priority;
        src[i].active = 1;
    }
    mni_policyset *ps = NULL;
    char err[512];
    int rc = mni_policyset_compile(src, n, &ps, err, sizeof err);
    ck_assert_msg(rc == MN_OK, "compile: rc %d: %s", rc, err);
    ck_assert_ptr_nonnull(ps);
    return ps;
}
#define SET(...)                                                                               \
    set_of((const pol[]){__VA_ARGS__}, sizeof((const pol[]){__VA_ARGS__}) / sizeof(pol))

/* ms since the epoch of date ("YYYY-MM-DD") at hh:mm UTC. */
static int64_t at(const char *date, int hh, int mm)
{
    int64_t days;
    ck_assert_int_eq(pl_parse_date(date, &days), 0);
    return days * 86400000LL + (int64_t)(hh * 60 + mm) * 60000;
}

/* A request; JSON texts may be NULL. */
typedef struct req {
    const char *id, *role, *action, *resource, *data, *ctx, *claims;
    int64_t now;
} req;

static cJSON *parse_or_null(const char *t)
{
    if (!t)
        return NULL;
    cJSON *j = cJSON_Parse(t);
    ck_assert_msg(j != NULL, "bad test JSON %s", t);
    return j;
}

static int decide_rc(const mni_policyset *ps, const req *r, struct mni_verdict *v)
{
    cJSON *d = parse_or_null(r->data), *c = parse_or_null(r->ctx), *cl = parse_or_null(r->claims);
    struct mni_request rq = {r->id ? r->id : "id-1", r->role ? r->role : "agent", cl, r->action,
                            r->resource ? r->resource : "memory", d, c,
                            r->now ? r->now : at("2026-03-02", 10, 30)};
    int rc = mni_policyset_decide(ps, &rq, v);
    cJSON_Delete(d);
    cJSON_Delete(c);
    cJSON_Delete(cl);
    return rc;
}

/* Decides (asserting MN_OK) and returns allowed. */
static int decide(const mni_policyset *ps, const req *r, struct mni_verdict *v)
{
    int rc = decide_rc(ps, r, v);
    ck_assert_msg(rc == MN_OK, "decide %s: rc %d: %s", r->action, rc, v->reason);
    return v->allowed;
}
#define ALLOWED(ps, ...) decide(ps, &(req){__VA_ARGS__}, &v)

#define REASON_HAS(s)                                                                          \
    ck_assert_msg(strstr(v.reason, s) != NULL, "reason \"%s\" lacks \"%s\"", v.reason, s)

/* ---- validation ------------------------------------------------------------------------------ */

static void bad_rule(const char *rule, const char *want)
{
    char err[512];
    int rc = mni_policy_rule_check(rule, err, sizeof err);
    ck_assert_msg(rc == MN_EINVAL, "%s: rc %d, want MN_EINVAL", rule, rc);
    ck_assert_msg(strstr(err, want) != NULL, "%s: error \"%s\" lacks \"%s\"", rule, err, want);
}

static void good_rule(const char *rule)
{
    char err[512];
    int rc = mni_policy_rule_check(rule, err, sizeof err);
    ck_assert_msg(rc == MN_OK, "%s: rc %d: %s", rule, rc, err);
}

#define R(x) "{\"effect\":\"allow\",\"actions\":[\"read\"],\"resource\":\"memory\"" x "}"
#define C(x) R(",\"conditions\":{" x "}")

START_TEST(validation_errors_name_the_path)
{
    good_rule(R(""));
    good_rule("{\"effect\":\"deny\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{}}");
    good_rule(C("\"time_restrictions\":{\"time_of_day\":{\"start\":\"22:00\",\"end\":\"06:00\"},"
                "\"days_of_week\":[\"Monday\",\"fri\",\"SUNDAY\"],"
                "\"date_range\":{\"start\":\"2024-02-29\",\"end\":\"2024-02-29\"}}"));
    good_rule(C("\"ip_restrictions\":{\"allowed_ips\":[\"::1\",\"10.0.0.1\",\"::ffff:1.2.3.4\"],"
                "\"allowed_ranges\":[\"0.0.0.0/0\",\"::/0\",\"2001:db8::/32\",\"10.1.2.3\"]}"));
    good_rule(R(",\"when\":{\"==\":[{\"var\":\"actor.id\"},{\"var\":\"resource.identity_id\"}]}"));

    bad_rule("", "rule: is not valid JSON");
    bad_rule("{\"effect\":\"allow\"", "rule: is not valid JSON");
    bad_rule("[1]", "rule: must be a JSON object");
    bad_rule(R(",\"efect\":1"), "rule: unknown key \"efect\"");
    bad_rule("{\"effect\":\"allow\",\"effect\":\"deny\",\"actions\":\"*\",\"resource\":\"*\"}",
             "rule: duplicate key \"effect\"");
    bad_rule("{\"actions\":\"*\",\"resource\":\"*\"}", "effect: missing");
    bad_rule("{\"effect\":\"permit\",\"actions\":\"*\",\"resource\":\"*\"}",
             "effect: must be \"allow\" or \"deny\", not \"permit\"");
    bad_rule("{\"effect\":\"Allow\",\"actions\":\"*\",\"resource\":\"*\"}", "effect:");
    bad_rule("{\"effect\":\"allow\",\"resource\":\"*\"}", "actions: missing");
    bad_rule("{\"effect\":\"allow\",\"actions\":[],"
             "\"resource\":\"*\"}", "actions: must not be empty");
    bad_rule("{\"effect\":\"allow\",\"actions\":\"read\",\"resource\":\"*\"}",
             "actions: must be an array of strings or \"*\", not \"read\"");
    bad_rule("{\"effect\":\"allow\",\"actions\":[\"read\",3],\"resource\":\"*\"}",
             "actions[1]: must be a non-empty string, not a number");
    bad_rule("{\"effect\":\"allow\",\"actions\":[\"read\",\"\"],"
             "\"resource\":\"*\"}", "actions[1]:");
    bad_rule("{\"effect\":\"allow\",\"actions\":\"*\"}", "resource: missing");
    bad_rule("{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":[\"memory\"]}",
             "resource: must be a non-empty string");
    bad_rule(R(",\"conditions\":[]"), "conditions: must be a JSON object, not an array");
    bad_rule(C("\"role\":[\"x\"]"), "conditions: unknown key \"role\"");
    bad_rule(C("\"roles\":[]"), "conditions.roles: must not be empty");
    bad_rule(C("\"roles\":[\"a\",null]"), "conditions.roles[1]: must be a non-empty string,"
                                          " not null");
    bad_rule(C("\"time_restrictions\":{}"), "conditions.time_restrictions: is empty");
    bad_rule(C("\"time_restrictions\":{\"hours\":1}"),
             "conditions.time_restrictions: unknown key \"hours\"");
    bad_rule(C("\"time_restrictions\":{\"time_of_day\":{\"start\":\"24:00\",\"end\":\"06:00\"}}"),
             "conditions.time_restrictions.time_of_day.start: \"24:00\" is not a time");
    bad_rule(C("\"time_restrictions\":{\"time_of_day\":{\"start\":\"09:00\",\"end\":\"9:30\"}}"),
             "conditions.time_restrictions.time_of_day.end: \"9:30\" is not a time");
    bad_rule(C("\"time_restrictions\":{\"time_of_day\":{\"start\":\"09:60\",\"end\":\"10:00\"}}"),
             "time_of_day.start:");
    bad_rule(C("\"time_restrictions\":{\"time_of_day\":{\"start\":\"09:00\"}}"),
             "conditions.time_restrictions.time_of_day.end: missing");
    bad_rule(C("\"time_restrictions\":{\"time_of_day\":{\"start\":\"09:00\",\"end\":\"09:00\"}}"),
             "time_of_day: start and end are equal");
    bad_rule(C("\"time_restrictions\":{\"days_of_week\":[\"monday\",\"funday\"]}"),
             "conditions.time_restrictions.days_of_week[1]: \"funday\" is not a day of the week");
    bad_rule(C("\"time_restrictions\":{\"days_of_week\":[]}"), "days_of_week: must be a non-empty");
    bad_rule(C("\"time_restrictions\":{\"date_range\":{\"start\":\"2026-02-29\","
               "\"end\":\"2026-03-01\"}}"),
             "conditions.time_restrictions.date_range.start: \"2026-02-29\" is not a date");
    bad_rule(C("\"time_restrictions\":{\"date_range\":{\"start\":\"2026-03-02\","
               "\"end\":\"2026-03-01\"}}"),
             "date_range: start is after end");
    bad_rule(C("\"ip_restrictions\":{}"), "conditions.ip_restrictions: allows no address");
    bad_rule(C("\"ip_restrictions\":{\"allowed_ips\":[]}"), "ip_restrictions: allows no address");
    bad_rule(C("\"ip_restrictions\":{\"allowed_ips\":[\"1.2.3.4\",\"1.2.3\"]}"),
             "conditions.ip_restrictions.allowed_ips[1]: \"1.2.3\" is not an IPv4 or IPv6 address");
    bad_rule(C("\"ip_restrictions\":{\"allowed_ips\":[\"10.0.0.0/8\"]}"),
             "put ranges in allowed_ranges");
    bad_rule(C("\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.0/8\",\"10.0.0.0/33\"]}"),
             "conditions.ip_restrictions.allowed_ranges[1]: \"10.0.0.0/33\" is not a CIDR");
    bad_rule(C("\"ip_restrictions\":{\"allowed_ranges\":[\"2001:db8::/129\"]}"),
             "allowed_ranges[0]: \"2001:db8::/129\" is not a CIDR");
    bad_rule(C("\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.1/8\"]}"),
             "allowed_ranges[0]: \"10.0.0.1/8\" has bits set past its prefix");
    bad_rule(C("\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.0/\"]}"), "is not a CIDR");
    bad_rule(C("\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.0/-1\"]}"), "is not a CIDR");
    bad_rule(C("\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.0/08\"]}"), "is not a CIDR");
    bad_rule(C("\"ip_restrictions\":{\"allowed_ranges\":\"10.0.0.0/8\"}"),
             "conditions.ip_restrictions.allowed_ranges: must be an array of CIDR ranges");
    bad_rule(C("\"resource_conditions\":{\"memory_types\":\"fact\"}"),
             "conditions.resource_conditions.memory_types: must be an array of strings");
    bad_rule(C("\"resource_conditions\":{\"metadata_requirements\":[1]}"),
             "conditions.resource_conditions.metadata_requirements: must be a JSON object");
    bad_rule(C("\"resource_conditions\":{}"), "conditions.resource_conditions: is empty");
    bad_rule(C("\"custom_conditions\":{\"identity_claims\":\"x\"}"),
             "conditions.custom_conditions.identity_claims: must be a JSON object, not a string");
    bad_rule(C("\"custom_conditions\":{\"claims\":{}}"),
             "conditions.custom_conditions: unknown key \"claims\"");
    bad_rule(R(",\"when\":{\"and\":[true,{\"=~\":[1,2]}]}"), "when.and[1]");
    bad_rule(R(",\"when\":{\"var\":[1,2,3]}"), "when");
    /* "when" is one operation or a boolean: anything else would be a constant, and all but
     * false, 0, "", null and [] are truthy, so a typo would allow everything. */
    good_rule(R(",\"when\":true"));
    good_rule(R(",\"when\":false"));
    bad_rule(R(",\"when\":{\"==\":[1,2],\"!\":true}"),
             "when: an object with 2 keys (\"==\", \"!\") is not an operation");
    bad_rule(R(",\"when\":{}"), "when: an empty object is not an operation");
    bad_rule(R(",\"when\":[{\"==\":[1,2]}]"), "when: a condition is one operation");
    bad_rule(R(",\"when\":[]"), "not an array");
    bad_rule(R(",\"when\":\"no\""), "not a string");
    bad_rule(R(",\"when\":1"), "not a number");
    bad_rule(R(",\"when\":null"), "not null");
    /* ... and so is every object inside it. */
    bad_rule(R(",\"when\":{\"and\":[{\"var\":\"actor.id\"},{\"==\":[1,2],\"!\":1,\"or\":2}]}"),
             "when.and[1]: an object with 3 keys (\"==\", \"!\", ...) is not an operation");
    bad_rule(R(",\"when\":{\"in\":[\"x\",[{}]]}"), "when.in[1][0]: an empty object");
    bad_rule(R(",\"when\":{\"==\":[{\"var\":\"a\"},{\"b\":1,\"c\":2}]}"), "when.==[1]");
    ck_assert_int_eq(mni_policy_rule_check(NULL, NULL, 0), MN_EINVAL);
}
END_TEST

START_TEST(compile_names_the_policy)
{
    struct mni_policy_src src[] = {
        {"p-good", "agent", R(""), 1, 1},
        {"p-bad", "agent", C("\"ip_restrictions\":{\"allowed_ranges\":[\"1.2.3.0/40\"]}"), 2, 1},
    };
    mni_policyset *ps = (mni_policyset *)1;
    char err[512];
    ck_assert_int_eq(mni_policyset_compile(src, 2, &ps, err, sizeof err), MN_EINVAL);
    ck_assert_ptr_null(ps);
    ck_assert_msg(strstr(err, "policy p-bad: conditions.ip_restrictions.allowed_ranges[0]"),
                  "%s", err);
    /* inactive policies are left out, even unparsable ones */
    src[1].active = 0;
    src[1].rule = "not json";
    ck_assert_int_eq(mni_policyset_compile(src, 2, &ps, err, sizeof err), MN_OK);
    mni_policyset_free(ps);
    src[0].role = "";
    ck_assert_int_eq(mni_policyset_compile(src, 2, &ps, err, sizeof err), MN_EINVAL);
    ck_assert_msg(strstr(err, "policy p-good: role"), "%s", err);
    /* an empty set denies everything */
    ck_assert_int_eq(mni_policyset_compile(NULL, 0, &ps, err, sizeof err), MN_OK);
    struct mni_verdict v;
    ck_assert(!ALLOWED(ps, .action = "read"));
    REASON_HAS("no policy allows read on memory for role agent");
    mni_policyset_free(ps);
    mni_policyset_free(NULL);
}
END_TEST

/* ---- decisions ------------------------------------------------------------------------------- */

START_TEST(deny_overrides_and_priority)
{
    struct mni_verdict v;
    mni_policyset *ps = SET(
        {"allow-all", "agent", 100, "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\"}"},
        {"allow-read", "agent", 200, R("")},
        {"deny-delete", "agent", 1,
         "{\"effect\":\"deny\",\"actions\":[\"delete\"],\"resource\":\"memory\"}"},
        {"deny-admin-only", "admin", 500, "{\"effect\":\"deny\",\"actions\":\"*\","
                                          "\"resource\":\"*\"}"},
        {"any-role-list", "*", 10,
         "{\"effect\":\"allow\",\"actions\":[\"list\"],\"resource\":\"identity\"}"});
    /* the highest-priority applying allow decides */
    ck_assert(ALLOWED(ps, .action = "read"));
    ck_assert_str_eq(v.policy_id, "allow-read");
    REASON_HAS("allowed by policy allow-read");
    ck_assert_int_eq(v.partial, 0);
    ck_assert(v.valid_until_ms == INT64_MAX);
    ck_assert(ALLOWED(ps, .action = "update"));
    ck_assert_str_eq(v.policy_id, "allow-all");
    /* a low-priority deny overrides higher allows */
    ck_assert(!ALLOWED(ps, .action = "delete"));
    ck_assert_str_eq(v.policy_id, "deny-delete");
    REASON_HAS("denied by policy deny-delete");
    /* policies of other roles are not consulted; "*" roles are */
    ck_assert(!ALLOWED(ps, .role = "admin", .action = "read"));
    ck_assert_str_eq(v.policy_id, "deny-admin-only");
    ck_assert(!ALLOWED(ps, .role = "viewer", .action = "read"));
    ck_assert_ptr_null(v.policy_id);
    REASON_HAS("no policy allows read on memory for role viewer");
    ck_assert(ALLOWED(ps, .role = "viewer", .action = "list", .resource = "identity"));
    ck_assert_str_eq(v.policy_id, "any-role-list");
    ck_assert(!ALLOWED(ps, .role = "viewer", .action = "list", .resource = "memory"));
    mni_policyset_free(ps);

    /* a deny whose conditions do not hold does not apply; equal priorities: by id */
    ps = SET({"b", "agent", 5, R("")}, {"a", "agent", 5, R("")},
             {"d", "agent", 9, "{\"effect\":\"deny\",\"actions\":[\"read\"],"
                               "\"resource\":\"memory\","
                               "\"conditions\":{\"roles\":[\"intern\"]}}"});
    ck_assert(ALLOWED(ps, .action = "read"));
    ck_assert_str_eq(v.policy_id, "a");
    ck_assert(!ALLOWED(ps, .action = "read", .role = "agent", .id = "x",
                       .claims = "{}", .resource = "identity"));
    mni_policyset_free(ps);

    /* actions "*" inside an array; allow after an unmet higher allow explains the miss */
    ps = SET({"hi", "agent", 9, C("\"roles\":[\"boss\"]")},
             {"star", "agent", 1, "{\"effect\":\"allow\",\"actions\":[\"x\",\"*\"],"
                                  "\"resource\":\"memory\"}"});
    ck_assert(ALLOWED(ps, .action = "anything"));
    ck_assert_str_eq(v.policy_id, "star");
    mni_policyset_free(ps);
    ps = SET({"hi", "agent", 9, C("\"roles\":[\"boss\"]")});
    ck_assert(!ALLOWED(ps, .action = "read"));
    REASON_HAS("no policy allows read on memory for role agent (policy hi does not apply: role "
               "agent is not in its conditions.roles)");
    mni_policyset_free(ps);
}
END_TEST

START_TEST(bad_requests_deny)
{
    mni_policyset *ps = SET({"p", "*", 1, "{\"effect\":\"allow\",\"actions\":\"*\","
                                         "\"resource\":\"*\"}"});
    struct mni_verdict v;
    struct mni_request rq = {"i", "agent", NULL, NULL, "memory", NULL, NULL, 0};
    ck_assert_int_eq(mni_policyset_decide(ps, &rq, &v), MN_EINVAL);
    ck_assert_int_eq(v.allowed, 0);
    rq.action = "read";
    cJSON *arr = cJSON_Parse("[1]");
    rq.resource_data = arr;
    ck_assert_int_eq(mni_policyset_decide(ps, &rq, &v), MN_EINVAL);
    ck_assert_int_eq(v.allowed, 0);
    cJSON_Delete(arr);
    rq.resource_data = NULL;
    rq.role = NULL; /* a role "*" policy still applies */
    ck_assert_int_eq(mni_policyset_decide(ps, &rq, &v), MN_OK);
    ck_assert_int_eq(v.allowed, 1);
    ck_assert_int_eq(mni_policyset_decide(NULL, &rq, &v), MN_EINVAL);
    ck_assert_int_eq(v.allowed, 0);
    mni_policyset_free(ps);
}
END_TEST

START_TEST(time_of_day_windows)
{
    struct mni_verdict v;
    mni_policyset *ps = SET(
        {"office", "agent", 1,
         C("\"time_restrictions\":{\"time_of_day\":{\"start\":\"09:00\",\"end\":\"17:00\"}}")},
        {"night", "agent", 1,
         "{\"effect\":\"allow\",\"actions\":[\"write\"],\"resource\":\"memory\",\"conditions\":"
         "{\"time_restrictions\":{\"time_of_day\":{\"start\":\"22:00\",\"end\":\"06:00\"}}}}"});
    const char *d = "2026-03-02";
    ck_assert(!ALLOWED(ps, .action = "read", .now = at(d, 8, 59)));
    REASON_HAS("08:59 UTC is outside 09:00-17:00");
    ck_assert(v.valid_until_ms == at(d, 9, 0));
    ck_assert(ALLOWED(ps, .action = "read", .now = at(d, 9, 0)));
    ck_assert(v.valid_until_ms == at(d, 17, 0));
    ck_assert(ALLOWED(ps, .action = "read", .now = at(d, 16, 59) + 59999));
    ck_assert(!ALLOWED(ps, .action = "read", .now = at(d, 17, 0)));
    ck_assert(v.valid_until_ms == at("2026-03-03", 9, 0));
    /* wrapping midnight */
    ck_assert(ALLOWED(ps, .action = "write", .now = at(d, 22, 0)));
    ck_assert(v.valid_until_ms == at(d, 24, 0) + 6 * 3600000LL);
    ck_assert(ALLOWED(ps, .action = "write", .now = at(d, 23, 59)));
    ck_assert(ALLOWED(ps, .action = "write", .now = at(d, 0, 0)));
    ck_assert(ALLOWED(ps, .action = "write", .now = at(d, 5, 59)));
    ck_assert(!ALLOWED(ps, .action = "write", .now = at(d, 6, 0)));
    ck_assert(!ALLOWED(ps, .action = "write", .now = at(d, 12, 0)));
    ck_assert(!ALLOWED(ps, .action = "write", .now = at(d, 21, 59)));
    ck_assert(v.valid_until_ms == at(d, 22, 0));
    /* before the epoch too */
    ck_assert(ALLOWED(ps, .action = "write", .now = at("1969-12-31", 23, 30)));
    ck_assert(!ALLOWED(ps, .action = "write", .now = at("1969-12-31", 12, 30)));
    mni_policyset_free(ps);
}
END_TEST

START_TEST(days_and_dates)
{
    struct mni_verdict v;
    mni_policyset *ps = SET(
        {"weekdays", "agent", 1,
         C("\"time_restrictions\":{\"days_of_week\":[\"MONDAY\",\"tue\",\"Wednesday\","
           "\"thursday\",\"Fri\"]}")},
        {"year", "agent", 1,
         "{\"effect\":\"allow\",\"actions\":[\"write\"],\"resource\":\"memory\",\"conditions\":"
         "{\"time_restrictions\":{\"date_range\":{\"start\":\"2026-01-01\","
         "\"end\":\"2026-12-31\"}}}}"},
        {"both", "agent", 1,
         "{\"effect\":\"allow\",\"actions\":[\"both\"],\"resource\":\"memory\",\"conditions\":"
         "{\"time_restrictions\":{\"days_of_week\":[\"saturday\"],\"time_of_day\":{\"start\":"
         "\"10:00\",\"end\":\"12:00\"},\"date_range\":{\"start\":\"2026-03-07\",\"end\":"
         "\"2026-03-07\"}}}}"});
    ck_assert(ALLOWED(ps, .action = "read", .now = at("2026-03-02", 0, 0)));  /* Monday */
    ck_assert(v.valid_until_ms == at("2026-03-03", 0, 0));
    ck_assert(ALLOWED(ps, .action = "read", .now = at("2026-03-06", 23, 59))); /* Friday */
    ck_assert(!ALLOWED(ps, .action = "read", .now = at("2026-03-07", 0, 0)));  /* Saturday */
    REASON_HAS("saturday (UTC) is not in its days_of_week");
    ck_assert(!ALLOWED(ps, .action = "read", .now = at("2026-03-08", 12, 0))); /* Sunday */
    ck_assert(ALLOWED(ps, .action = "read", .now = at("2026-03-09", 12, 0)));
    /* date range: both ends included */
    ck_assert(!ALLOWED(ps, .action = "write", .now = at("2025-12-31", 23, 59)));
    REASON_HAS("2025-12-31 (UTC) is outside its date_range starting 2026-01-01");
    ck_assert(ALLOWED(ps, .action = "write", .now = at("2026-01-01", 0, 0)));
    ck_assert(ALLOWED(ps, .action = "write", .now = at("2026-12-31", 23, 59)));
    ck_assert(!ALLOWED(ps, .action = "write", .now = at("2027-01-01", 0, 0)));
    /* all three together */
    ck_assert(ALLOWED(ps, .action = "both", .now = at("2026-03-07", 11, 0)));
    ck_assert(v.valid_until_ms == at("2026-03-07", 12, 0));
    ck_assert(!ALLOWED(ps, .action = "both", .now = at("2026-03-07", 12, 0)));
    ck_assert(!ALLOWED(ps, .action = "both", .now = at("2026-03-14", 11, 0)));
    ck_assert(!ALLOWED(ps, .action = "both", .now = at("2026-03-06", 11, 0)));
    mni_policyset_free(ps);
}
END_TEST

START_TEST(ip_restrictions)
{
    struct mni_verdict v;
    mni_policyset *ps = SET(
        {"ips", "agent", 1,
         C("\"ip_restrictions\":{\"allowed_ips\":[\"192.0.2.7\",\"2001:db8::1\"],"
           "\"allowed_ranges\":[\"10.0.0.0/8\",\"2001:db8:ab00::/40\",\"172.16.0.0/12\"]}")},
        {"v6only", "agent", 1,
         "{\"effect\":\"allow\",\"actions\":[\"v6\"],\"resource\":\"memory\",\"conditions\":"
         "{\"ip_restrictions\":{\"allowed_ranges\":[\"::ffff:192.168.0.0/112\",\"fe80::/10\"]}}}"},
        {"any", "agent", 1,
         "{\"effect\":\"allow\",\"actions\":[\"any4\"],\"resource\":\"memory\",\"conditions\":"
         "{\"ip_restrictions\":{\"allowed_ranges\":[\"0.0.0.0/0\"]}}}"},
        {"deny-ip", "agent", 1,
         "{\"effect\":\"deny\",\"actions\":[\"read\"],\"resource\":\"memory\",\"conditions\":"
         "{\"ip_restrictions\":{\"allowed_ips\":[\"10.6.6.6\"]}}}"});
    ck_assert(ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"192.0.2.7\"}"));
    ck_assert(!ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"192.0.2.8\"}"));
    REASON_HAS("ip 192.0.2.8 is not in its allowed ips or ranges");
    ck_assert(ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"10.255.255.255\"}"));
    ck_assert(ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"172.31.0.1\"}"));
    ck_assert(!ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"172.32.0.1\"}"));
    ck_assert(!ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"11.0.0.1\"}"));
    /* IPv6 exact and CIDR */
    ck_assert(ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"2001:db8:0:0::1\"}"));
    ck_assert(!ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"2001:db8::2\"}"));
    ck_assert(ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"2001:db8:abff:ffff::9\"}"));
    ck_assert(!ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"2001:db8:ac00::9\"}"));
    /* IPv4-mapped IPv6 addresses are their IPv4 address */
    ck_assert(ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"::ffff:10.1.2.3\"}"));
    ck_assert(ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"::FFFF:192.0.2.7\"}"));
    ck_assert(!ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"::10.1.2.3\"}"));
    ck_assert(ALLOWED(ps, .action = "v6", .ctx = "{\"ip\":\"192.168.3.4\"}"));
    ck_assert(!ALLOWED(ps, .action = "v6", .ctx = "{\"ip\":\"192.169.3.4\"}"));
    ck_assert(ALLOWED(ps, .action = "v6", .ctx = "{\"ip\":\"fe80::1234\"}"));
    ck_assert(ALLOWED(ps, .action = "any4", .ctx = "{\"ip\":\"::ffff:8.8.8.8\"}"));
    ck_assert(!ALLOWED(ps, .action = "any4", .ctx = "{\"ip\":\"::1\"}"));
    /* no ip: neither the allow nor the deny applies */
    ck_assert(!ALLOWED(ps, .action = "read"));
    REASON_HAS("no context.ip");
    /* the deny only where its ip matches */
    ck_assert(!ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"10.6.6.6\"}"));
    ck_assert_str_eq(v.policy_id, "deny-ip");
    ck_assert(ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"10.6.6.7\"}"));
    mni_policyset_free(ps);
}
END_TEST

/* A context.ip that is there but not an address fails closed: every deny's ip_restrictions
 * hold (whatever they list) and no allow's, in the same set. */
START_TEST(malformed_ip_fails_closed)
{
    struct mni_verdict v;
    mni_policyset *ps = SET(
        {"allow-10", "agent", 1,
         C("\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.0/8\",\"::/0\"]}")},
        {"allow-any", "agent", 1,
         "{\"effect\":\"allow\",\"actions\":[\"list\"],\"resource\":\"memory\"}"},
        {"deny-10", "agent", 1,
         "{\"effect\":\"deny\",\"actions\":[\"list\"],\"resource\":\"memory\",\"conditions\":"
         "{\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.0/8\"]}}}"});
    ck_assert(ALLOWED(ps, .action = "read", .ctx = "{\"ip\":\"10.1.2.3\"}"));
    ck_assert(!ALLOWED(ps, .action = "list", .ctx = "{\"ip\":\"10.1.2.3\"}"));
    ck_assert(ALLOWED(ps, .action = "list", .ctx = "{\"ip\":\"192.0.2.1\"}"));
    ck_assert(ALLOWED(ps, .action = "list")); /* no ip: the deny does not apply */
    static const char *const bad[] = {
        "\"10.1.2.3:8080\"", "\" 10.1.2.3\"", "\"10.1.2.3 \"", "\"[::ffff:10.1.2.3]\"",
        "\"10.1.2.3/32\"", "\"010.1.2.3\"", "\"\"", "167838211", "null", "true", "[\"10.1.2.3\"]",
        "{\"v4\":\"10.1.2.3\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char ctx[64];
        snprintf(ctx, sizeof ctx, "{\"ip\":%s}", bad[i]);
        ck_assert_msg(!ALLOWED(ps, .action = "list", .ctx = ctx), "%s: %s", ctx, v.reason);
        ck_assert_str_eq(v.policy_id, "deny-10");
        REASON_HAS("not an IP address");
        REASON_HAS("fail closed");
        ck_assert_msg(!ALLOWED(ps, .action = "read", .ctx = ctx), "%s: %s", ctx, v.reason);
        ck_assert_ptr_null(v.policy_id);
        REASON_HAS("policy allow-10 does not apply: context.ip");
        REASON_HAS("not an IP address");
    }
    mni_policyset_free(ps);
}
END_TEST

START_TEST(cidr_parsing)
{
    pl_net n;
    uint8_t ip[16];
    int v4;
    ck_assert_int_eq(pl_parse_cidr("0.0.0.0/0", &n), 0);
    ck_assert_int_eq(n.bits, 96);
    ck_assert_int_eq(pl_parse_cidr("::/0", &n), 0);
    ck_assert_int_eq(n.bits, 0);
    ck_assert_int_eq(pl_parse_ip("1.2.3.4", ip, &v4), 0);
    ck_assert(pl_net_contains(&n, ip)); /* ::/0 holds every address, mapped IPv4 too */
    ck_assert_int_eq(pl_parse_cidr("1.2.3.4/32", &n), 0);
    ck_assert(pl_net_contains(&n, ip));
    ck_assert_int_eq(pl_parse_cidr("1.2.3.5", &n), 0);
    ck_assert_int_eq(n.bits, 128);
    ck_assert(!pl_net_contains(&n, ip));
    ck_assert_int_eq(pl_parse_cidr("1.2.3.0/25", &n), 0);
    ck_assert(pl_net_contains(&n, ip));
    ck_assert_int_eq(pl_parse_cidr("1.2.3.128/25", &n), 0);
    ck_assert(!pl_net_contains(&n, ip));
    ck_assert_int_eq(pl_parse_cidr("2001:db8::/127", &n), 0);
    ck_assert_int_eq(pl_parse_cidr("2001:db8::1/127", &n), -2);
    ck_assert_int_eq(pl_parse_cidr("2001:db8::1/128", &n), 0);
    ck_assert_int_eq(pl_parse_cidr("1.2.3.4/33", &n), -1);
    ck_assert_int_eq(pl_parse_cidr("/8", &n), -1);
    ck_assert_int_eq(pl_parse_cidr("1.2.3.4/ 8", &n), -1);
    ck_assert_int_eq(pl_parse_cidr("1.2.3.4/8/8", &n), -1);
    ck_assert_int_eq(pl_parse_cidr("fe80::1%eth0/64", &n), -1);
    static const char *const good4[] = {"0.0.0.0", "255.255.255.255", "10.0.0.1", "1.22.233.4"};
    static const char *const bad4[] = {"01.2.3.4", "1.2.3", "1.2.3.4.", "256.1.1.1", "1.2.3.04",
                                       "1..2.3", "1.2.3.4 ", "", "1234.1.1.1", ".1.2.3.4",
                                       "1.2.3.4.5", "-1.2.3.4", "1.2.3.2555", "a.b.c.d"};
    for (size_t i = 0; i < sizeof good4 / sizeof good4[0]; i++) {
        ck_assert_msg(pl_parse_ip(good4[i], ip, &v4) == 0 && v4, "%s", good4[i]);
        ck_assert_int_eq(ip[10], 0xff);
    }
    for (size_t i = 0; i < sizeof bad4 / sizeof bad4[0]; i++)
        ck_assert_msg(pl_parse_ip(bad4[i], ip, &v4) == -1, "%s parsed", bad4[i]);
    ck_assert_int_eq(pl_parse_ip("1.22.233.4", ip, &v4), 0);
    ck_assert(ip[12] == 1 && ip[13] == 22 && ip[14] == 233 && ip[15] == 4);
    ck_assert_int_eq(pl_parse_ip("::ffff:1.2.3.4", ip, &v4), 0);
    ck_assert_int_eq(v4, 0);
    ck_assert_int_eq(ip[10], 0xff);
    int m;
    ck_assert_int_eq(pl_parse_hhmm("00:00", &m), 0);
    ck_assert_int_eq(pl_parse_hhmm("23:59", &m), 0);
    ck_assert_int_eq(m, 1439);
    ck_assert_int_eq(pl_parse_hhmm("2:00", &m), -1);
    ck_assert_int_eq(pl_parse_hhmm("02:00 ", &m), -1);
    int64_t d;
    ck_assert_int_eq(pl_parse_date("1970-01-01", &d), 0);
    ck_assert_int_eq(d, 0);
    ck_assert_int_eq(pl_parse_date("2000-02-29", &d), 0);
    ck_assert_int_eq(pl_parse_date("1900-02-29", &d), -1);
    ck_assert_int_eq(pl_parse_date("2026-13-01", &d), -1);
    ck_assert_int_eq(pl_parse_date("2026-04-31", &d), -1);
    ck_assert_int_eq(pl_parse_date("2026-1-01", &d), -1);
}
END_TEST

START_TEST(resource_conditions_with_and_without_data)
{
    struct mni_verdict v;
    mni_policyset *ps = SET(
        {"facts", "agent", 10,
         "{\"effect\":\"allow\",\"actions\":[\"read\",\"list\"],\"resource\":\"memory\","
         "\"conditions\":"
         "{\"resource_conditions\":{\"memory_types\":[\"fact\",\"note\"],"
         "\"metadata_requirements\":{\"project\":\"apollo\",\"tags\":[\"ok\"]}}}}"},
        {"no-secrets", "agent", 1,
         "{\"effect\":\"deny\",\"actions\":\"*\",\"resource\":\"memory\",\"conditions\":"
         "{\"resource_conditions\":{\"memory_types\":[\"secret\"]}}}"},
        {"plain", "agent", 1, "{\"effect\":\"allow\",\"actions\":[\"search\"],"
                              "\"resource\":\"memory\"}"},
        {"no-secret-search", "agent", 1,
         "{\"effect\":\"deny\",\"actions\":[\"search\"],\"resource\":\"memory\",\"conditions\":"
         "{\"resource_conditions\":{\"memory_types\":[\"secret\"]}}}"});
    ck_assert(ALLOWED(ps, .action = "read",
                      .data = "{\"type\":\"fact\",\"metadata\":{\"project\":\"apollo\",\"tags\":"
                              "[\"x\",\"ok\"],\"more\":1}}"));
    ck_assert_int_eq(v.partial, 0);
    ck_assert(!ALLOWED(ps, .action = "read",
                       .data = "{\"type\":\"event\",\"metadata\":{\"project\":\"apollo\","
                               "\"tags\":[\"ok\"]}}"));
    REASON_HAS("memory type \"event\" is not in its memory_types");
    ck_assert(!ALLOWED(ps, .action = "read", .data = "{\"type\":\"fact\","
                                                     "\"metadata\":{\"project\":\"apollo\"}}"));
    REASON_HAS("metadata does not contain its metadata_requirements");
    ck_assert(!ALLOWED(ps, .action = "read", .data = "{\"type\":\"fact\"}"));
    ck_assert(!ALLOWED(ps, .action = "read", .data = "{}"));
    /* without data: may, subject to per-memory checks */
    ck_assert(ALLOWED(ps, .action = "list"));
    ck_assert_int_eq(v.partial, 1);
    REASON_HAS("subject to each resource's own conditions");
    ck_assert_int_eq(mni_policyset_per_resource(ps, "agent", "list", "memory"), 1);
    /* a deny on the resource's type is checked per memory, not applied without data */
    ck_assert(ALLOWED(ps, .action = "search"));
    ck_assert_str_eq(v.policy_id, "plain");
    ck_assert_int_eq(v.partial, 1);
    ck_assert(!ALLOWED(ps, .action = "search", .data = "{\"type\":\"secret\"}"));
    ck_assert_str_eq(v.policy_id, "no-secret-search");
    ck_assert(ALLOWED(ps, .action = "search", .data = "{\"type\":\"fact\"}"));
    ck_assert_int_eq(v.partial, 0);
    ck_assert(!ALLOWED(ps, .action = "read", .data = "{\"type\":\"secret\",\"metadata\":"
                                                      "{\"project\":\"apollo\","
                                                      "\"tags\":[\"ok\"]}}"));
    ck_assert_str_eq(v.policy_id, "no-secrets");
    ck_assert_int_eq(mni_policyset_per_resource(ps, "admin", "list", "memory"), 0);
    ck_assert_int_eq(mni_policyset_per_resource(ps, "agent", "list", "identity"), 0);
    mni_policyset_free(ps);

    ps = SET({"all", "agent", 1, "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\"}"},
             {"intern-facts", "agent", 1,
              "{\"effect\":\"deny\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{\"roles\":"
              "[\"intern\"],\"resource_conditions\":{\"memory_types\":[\"fact\"]}}}"});
    ck_assert_int_eq(mni_policyset_per_resource(ps, "agent", "list", "memory"), 0);
    ck_assert_int_eq(mni_policyset_per_resource(ps, "intern", "list", "memory"), 0);
    ck_assert(ALLOWED(ps, .action = "list"));
    ck_assert_int_eq(v.partial, 0);
    mni_policyset_free(ps);
}
END_TEST

START_TEST(identity_claims)
{
    struct mni_verdict v;
    mni_policyset *ps = SET(
        {"support", "agent", 1,
         C("\"custom_conditions\":{\"identity_claims\":{\"department\":\"support\","
           "\"levels\":[2],\"org\":{\"region\":\"eu\"}}}")},
        {"empty", "agent", 1,
         "{\"effect\":\"allow\",\"actions\":[\"e\"],\"resource\":\"memory\",\"conditions\":"
         "{\"custom_conditions\":{\"identity_claims\":{}}}}"});
    ck_assert(ALLOWED(ps, .action = "read",
                      .claims = "{\"department\":\"support\",\"levels\":[1,2,3],"
                                "\"org\":{\"region\":\"eu\",\"city\":\"Oslo\"}}"));
    ck_assert(!ALLOWED(ps, .action = "read",
                       .claims = "{\"department\":\"support\",\"levels\":[1,3],"
                                 "\"org\":{\"region\":\"eu\"}}"));
    REASON_HAS("claims do not contain its identity_claims");
    ck_assert(!ALLOWED(ps, .action = "read",
                       .claims = "{\"department\":\"Support\",\"levels\":[2],"
                                 "\"org\":{\"region\":\"eu\"}}"));
    ck_assert(!ALLOWED(ps, .action = "read", .claims = "{\"department\":\"support\","
                                                       "\"levels\":[2]}"));
    ck_assert(!ALLOWED(ps, .action = "read"));
    ck_assert(ALLOWED(ps, .action = "e"));
    mni_policyset_free(ps);
}
END_TEST

START_TEST(when_expressions)
{
    struct mni_verdict v;
    mni_policyset *ps = SET(
        {"own", "agent", 1,
         R(",\"when\":{\"==\":[{\"var\":\"resource.identity_id\"},{\"var\":\"actor.id\"}]}")},
        {"ctx", "agent", 1,
         "{\"effect\":\"allow\",\"actions\":[\"ctx\"],\"resource\":\"memory\",\"when\":{\"and\":["
         "{\"==\":[{\"var\":\"context.channel\"},\"web\"]},{\"==\":[{\"var\":\"action\"},\"ctx\"]},"
         "{\"==\":[{\"var\":\"resource.kind\"},\"memory\"]},{\"==\":[{\"var\":\"actor.role\"},"
         "\"agent\"]},"
         "{\"in\":[\"vip\",{\"var\":\"actor.claims.groups\"}]}]}}"},
        {"meta", "agent", 1,
         "{\"effect\":\"allow\",\"actions\":[\"meta\"],\"resource\":\"memory\",\"when\":"
         "{\">=\":[{\"var\":\"resource.metadata.level\"},3]}}"},
        {"boom", "agent", 1,
         "{\"effect\":\"allow\",\"actions\":[\"boom\"],\"resource\":\"memory\",\"when\":"
         "{\"reduce\":[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,"
         "28,29,30],{\"merge\":[{\"var\":\"accumulator\"},{\"var\":\"accumulator\"}]},[1]]}}"});
    ck_assert(ALLOWED(ps, .action = "read", .id = "me", .data = "{\"identity_id\":\"me\"}"));
    ck_assert(!ALLOWED(ps, .action = "read", .id = "me", .data = "{\"identity_id\":\"you\"}"));
    REASON_HAS("its \"when\" is false");
    ck_assert(ALLOWED(ps, .action = "read", .id = "me"));
    ck_assert_int_eq(v.partial, 1);
    ck_assert_int_eq(mni_policyset_per_resource(ps, "agent", "read", "memory"), 1);
    /* a "when" reading only actor, action, context and resource.kind does not need data */
    ck_assert_int_eq(mni_policyset_per_resource(ps, "agent", "ctx", "memory"), 0);
    ck_assert(ALLOWED(ps, .action = "ctx", .ctx = "{\"channel\":\"web\"}",
                      .claims = "{\"groups\":[\"vip\"]}"));
    ck_assert_int_eq(v.partial, 0);
    ck_assert(!ALLOWED(ps, .action = "ctx", .ctx = "{\"channel\":\"api\"}",
                       .claims = "{\"groups\":[\"vip\"]}"));
    ck_assert(!ALLOWED(ps, .action = "ctx", .ctx = "{\"channel\":\"web\"}"));
    ck_assert(ALLOWED(ps, .action = "meta", .data = "{\"metadata\":{\"level\":4}}"));
    ck_assert(!ALLOWED(ps, .action = "meta", .data = "{\"metadata\":{\"level\":2}}"));
    /* resource data members are under resource; "kind" stays the resource's name */
    ck_assert(ALLOWED(ps, .action = "ctx", .ctx = "{\"channel\":\"web\"}",
                      .claims = "{\"groups\":[\"vip\"]}", .data = "{\"kind\":\"other\"}"));
    /* an evaluation past its limits is an error and a deny */
    ck_assert_int_eq(decide_rc(ps, &(req){.action = "boom"}, &v), MN_ERANGE);
    ck_assert_int_eq(v.allowed, 0);
    REASON_HAS("policy boom: its \"when\" failed");
    mni_policyset_free(ps);
}
END_TEST

static int on_res(const char *logic)
{
    cJSON *j = cJSON_Parse(logic);
    ck_assert_ptr_nonnull(j);
    int r = pl_logic_on_resource(j);
    cJSON_Delete(j);
    return r;
}

START_TEST(when_reads_resource_analysis)
{
    ck_assert(on_res("{\"var\":\"resource.identity_id\"}"));
    ck_assert(on_res("{\"var\":[\"resource.type\",\"x\"]}"));
    ck_assert(on_res("{\"var\":\"resource\"}"));
    ck_assert(on_res("{\"var\":\"\"}"));
    ck_assert(on_res("{\"var\":[]}"));
    ck_assert(on_res("{\"var\":{\"cat\":[\"reso\",\"urce.x\"]}}"));
    ck_assert(on_res("{\"missing\":[\"a\",\"resource.type\"]}"));
    ck_assert(on_res("{\"missing_some\":[1,[\"resource.type\"]]}"));
    ck_assert(on_res("{\"some\":[{\"var\":\"resource.metadata.tags\"},{\"==\":[{\"var\":\"\"},"
                     "1]}]}"));
    ck_assert(on_res("{\"reduce\":[[1],{\"var\":\"current\"},{\"var\":\"resource.n\"}]}"));
    ck_assert(on_res("{\"var\":[\"x\",{\"var\":\"resource.y\"}]}"));
    ck_assert(!on_res("{\"var\":\"resource.kind\"}"));
    ck_assert(!on_res("{\"var\":\"resources.x\"}"));
    ck_assert(!on_res("{\"var\":\"actor.id\"}"));
    ck_assert(!on_res("{\"var\":1}"));
    ck_assert(!on_res("{\"map\":[{\"var\":\"actor.claims.xs\"},{\"var\":\"\"}]}"));
    ck_assert(!on_res("{\"and\":[true,{\"var\":\"context.ip\"}]}"));
    ck_assert(!on_res("{\"a\":{\"var\":\"resource.x\"},\"b\":1}")); /* a literal object */
    ck_assert(!on_res("\"resource.x\""));
}
END_TEST

/* ---- default policies ------------------------------------------------------------------------ */

START_TEST(default_policies)
{
    cJSON *arr = cJSON_Parse(mni_policy_defaults);
    ck_assert_msg(cJSON_IsArray(arr), "mni_policy_defaults is not a JSON array");
    struct mni_policy_src src[8];
    char *texts[8];
    size_t n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        ck_assert_uint_lt(n, 8);
        const cJSON *role = cJSON_GetObjectItem(e, "role");
        const cJSON *pr = cJSON_GetObjectItem(e, "priority");
        const cJSON *desc = cJSON_GetObjectItem(e, "description");
        const cJSON *rule = cJSON_GetObjectItem(e, "rule");
        ck_assert(cJSON_IsString(role) && cJSON_IsNumber(pr) && cJSON_IsString(desc) &&
                  cJSON_IsObject(rule));
        texts[n] = cJSON_PrintUnformatted(rule);
        char err[512];
        ck_assert_msg(mni_policy_rule_check(texts[n], err, sizeof err) == MN_OK, "%s", err);
        src[n] = (struct mni_policy_src){th_fmt("default-%zu", n), role->valuestring, texts[n],
                                        pr->valueint, 1};
        n++;
    }
    ck_assert_uint_eq(n, 3);
    mni_policyset *ps = NULL;
    char err[512];
    ck_assert_int_eq(mni_policyset_compile(src, n, &ps, err, sizeof err), MN_OK);
    struct mni_verdict v;
    static const char *const actions[] = {"create", "read", "update", "delete", "list", "search"};
    /* admin: everything */
    ck_assert(ALLOWED(ps, .role = "admin", .action = "delete", .resource = "policy"));
    ck_assert(ALLOWED(ps, .role = "admin", .action = "read",
                      .data = "{\"identity_id\":\"other\"}"));
    ck_assert_int_eq(v.partial, 0);
    for (size_t i = 0; i < 6; i++) {
        /* agent: its own memories only */
        const char *a = actions[i];
        ck_assert(ALLOWED(ps, .id = "me", .action = a, .data = "{\"identity_id\":\"me\"}"));
        ck_assert(!ALLOWED(ps, .id = "me", .action = a, .data = "{\"identity_id\":\"you\"}"));
        ck_assert(!ALLOWED(ps, .id = "me", .action = actions[i], .data = "{}"));
        ck_assert(ALLOWED(ps, .id = "me", .action = actions[i]));
        ck_assert_int_eq(v.partial, 1);
    }
    ck_assert(!ALLOWED(ps, .id = "me", .action = "purge", .data = "{\"identity_id\":\"me\"}"));
    ck_assert(!ALLOWED(ps, .id = "me", .action = "read", .resource = "policy"));
    ck_assert(!ALLOWED(ps, .id = "me", .action = "create", .resource = "identity"));
    const char *ir = "identity";
    ck_assert(ALLOWED(ps, .id = "me", .action = "read", .resource = ir, .data = "{\"id\":\"me\"}"));
    ck_assert(!ALLOWED(ps, .id = "me", .action = "read", .resource = ir, .data = "{\"id\":1}"));
    ck_assert(!ALLOWED(ps, .id = "me", .action = "update", .resource = ir,
                       .data = "{\"id\":\"me\"}"));
    ck_assert(!ALLOWED(ps, .role = "viewer", .id = "me", .action = "read",
                       .data = "{\"identity_id\":\"me\"}"));
    /* no identity never matches an ownerless resource */
    struct mni_request rq = {NULL, "agent", NULL, "read", "memory", NULL, NULL, 0};
    cJSON *d = cJSON_Parse("{\"identity_id\":null}");
    rq.resource_data = d;
    ck_assert_int_eq(mni_policyset_decide(ps, &rq, &v), MN_OK);
    ck_assert_int_eq(v.allowed, 0);
    cJSON_Delete(d);
    mni_policyset_free(ps);
    for (size_t i = 0; i < n; i++)
        cJSON_free(texts[i]);
    cJSON_Delete(arr);
}
END_TEST

/* ---- decision cache -------------------------------------------------------------------------- */

/* A key of one part, as the two arguments the cache takes. */
#define KEY(bytes, len) ((mni_dcache_part[]){ mni_dcache_part_of((bytes), (len)) }), 1

START_TEST(cache_hits_generations_expiry)
{
    mni_dcache *c = mni_dcache_create(0, 0);
    ck_assert_ptr_nonnull(c);
    int allowed = -1;
    char id[64], why[MNI_DCACHE_REASON_MAX];
    const char *k = "t1|i1|agent|read|memory|{}|{}";
    size_t kl = strlen(k);
    int64_t t0 = 1000000;
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl), 1, t0, &allowed, id, sizeof id, why, sizeof why), 0);
    ck_assert_int_eq(allowed, -1);
    ck_assert_int_eq(mni_dcache_put(c, KEY(k, kl), 1, t0, INT64_MAX, 1, "pol-1",
                                   "allowed by policy pol-1"), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl), 1, t0 + 1, &allowed, id, sizeof id, why, sizeof why),
                     1);
    ck_assert_int_eq(allowed, 1);
    ck_assert_str_eq(id, "pol-1");
    ck_assert_str_eq(why, "allowed by policy pol-1");
    /* cut outputs, NULL outputs */
    char small[4];
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl), 1, t0, NULL, small, sizeof small, NULL, 0), 1);
    ck_assert_str_eq(small, "pol");
    /* another key, a prefix of the key: misses */
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl - 1), 1, t0, &allowed, NULL, 0, NULL, 0), 0);
    /* TTL: 300 s by default */
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl), 1, t0 + 299999, &allowed, NULL, 0, NULL, 0), 1);
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl), 1, t0 + 300000, &allowed, NULL, 0, NULL, 0), 0);
    /* replaced by a put of the same key; a new generation misses */
    ck_assert_int_eq(mni_dcache_put(c, KEY(k, kl), 1, t0, 0, 0, NULL, "no policy allows"), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl), 1, t0, &allowed, id, sizeof id, why, sizeof why), 1);
    ck_assert_int_eq(allowed, 0);
    ck_assert_str_eq(id, "");
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl), 2, t0, &allowed, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl), 1, t0, &allowed, NULL, 0, NULL, 0), 0); /* dropped */
    /* valid_until shortens the life; a verdict already past it is not stored */
    ck_assert_int_eq(mni_dcache_put(c, KEY(k, kl), 2, t0, t0 + 10, 1, "p", "r"), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl), 2, t0 + 9, &allowed, NULL, 0, NULL, 0), 1);
    ck_assert_int_eq(mni_dcache_get(c, KEY(k, kl), 2, t0 + 10, &allowed, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(mni_dcache_put(c, KEY("zz", 2), 2, t0, t0, 1, "p", "r"), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, KEY("zz", 2), 2, t0, &allowed, NULL, 0, NULL, 0), 0);
    /* empty key, long reason */
    char longr[600];
    memset(longr, 'r', sizeof longr - 1);
    longr[sizeof longr - 1] = '\0';
    ck_assert_int_eq(mni_dcache_put(c, KEY("", 0), 3, t0, 0, 1, "p", longr), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, KEY("", 0), 3, t0, &allowed, NULL, 0, why, sizeof why), 1);
    ck_assert_uint_eq(strlen(why), MNI_DCACHE_REASON_MAX - 1);
    mni_dcache_stats st;
    mni_dcache_stats_get(c, &st);
    ck_assert_uint_ge(st.capacity, MNI_DCACHE_DEFAULT_CAPACITY);
    ck_assert_uint_eq(st.hits, 6);
    ck_assert_uint_eq(st.misses, 7);
    ck_assert_uint_eq(st.puts, 4);
    ck_assert_uint_eq(st.entries, 1);
    mni_dcache_clear(c);
    mni_dcache_stats_get(c, &st);
    ck_assert_uint_eq(st.entries, 0);
    ck_assert_int_eq(mni_dcache_get(c, KEY("", 0), 3, t0, &allowed, NULL, 0, NULL, 0), 0);
    mni_dcache_free(c);
    mni_dcache_free(NULL);

    c = mni_dcache_create(10, 50); /* a custom TTL */
    ck_assert_int_eq(mni_dcache_put(c, KEY("a", 1), 0, 0, 0, 1, "p", "r"), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, KEY("a", 1), 0, 49, &allowed, NULL, 0, NULL, 0), 1);
    ck_assert_int_eq(mni_dcache_get(c, KEY("a", 1), 0, 50, &allowed, NULL, 0, NULL, 0), 0);
    mni_dcache_free(c);
}
END_TEST

START_TEST(cache_keys_in_parts)
{
    mni_dcache *c = mni_dcache_create(0, 0);
    int allowed = -1;
    const mni_dcache_part ab = mni_dcache_part_of("ab", 2), c1 = mni_dcache_part_of("c", 1);
    const mni_dcache_part ab_c[] = { ab, c1 }, ab_c_empty[] = { ab, c1, mni_dcache_part_of(NULL, 0) };
    const mni_dcache_part a_bc[] = { mni_dcache_part_of("a", 1), mni_dcache_part_of("bc", 2) };
    const mni_dcache_part abc[] = { mni_dcache_part_of("abc", 3) };
    /* the verdict comes back exactly as put: callers keep bits in it */
    ck_assert_int_eq(mni_dcache_put(c, abc, 1, 1, 0, 0, 3, "p", "r"), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, abc, 1, 1, 0, &allowed, NULL, 0, NULL, 0), 1);
    ck_assert_int_eq(allowed, 3);
    ck_assert_int_eq(mni_dcache_put(c, abc, 1, 1, 0, 0, -7, "p", "r"), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, abc, 1, 1, 0, &allowed, NULL, 0, NULL, 0), 1);
    ck_assert_int_eq(allowed, -7);
    mni_dcache_clear(c);
    ck_assert_int_eq(mni_dcache_put(c, ab_c, 2, 1, 0, 0, 1, "p", "r"), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, ab_c, 2, 1, 0, &allowed, NULL, 0, NULL, 0), 1);
    ck_assert_int_eq(allowed, 1);
    /* the same bytes cut elsewhere, joined, or with an empty part more are other keys */
    ck_assert_int_eq(mni_dcache_get(c, a_bc, 2, 1, 0, &allowed, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(mni_dcache_get(c, abc, 1, 1, 0, &allowed, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(mni_dcache_get(c, ab_c_empty, 3, 1, 0, &allowed, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(mni_dcache_put(c, a_bc, 2, 1, 0, 0, 0, "q", "s"), MN_OK);
    char id[8];
    ck_assert_int_eq(mni_dcache_get(c, a_bc, 2, 1, 0, &allowed, id, sizeof id, NULL, 0), 1);
    ck_assert_int_eq(allowed, 0);
    ck_assert_str_eq(id, "q");
    ck_assert_int_eq(mni_dcache_get(c, ab_c, 2, 1, 0, &allowed, id, sizeof id, NULL, 0), 1);
    ck_assert_str_eq(id, "p");
    /* a key the cache cannot hold: refused by put, a miss for get */
    mni_dcache_part many[MNI_DCACHE_MAX_PARTS + 1];
    for (size_t i = 0; i < MNI_DCACHE_MAX_PARTS + 1; i++)
        many[i] = mni_dcache_part_of("x", 1);
    ck_assert_int_eq(mni_dcache_put(c, many, MNI_DCACHE_MAX_PARTS + 1, 1, 0, 0, 1, "p", "r"),
                     MN_EINVAL);
    ck_assert_int_eq(mni_dcache_get(c, many, MNI_DCACHE_MAX_PARTS + 1, 1, 0, &allowed, NULL, 0,
                                   NULL, 0), 0);
    ck_assert_int_eq(mni_dcache_put(c, many, MNI_DCACHE_MAX_PARTS, 1, 0, 0, 1, "p", "r"), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, many, MNI_DCACHE_MAX_PARTS, 1, 0, &allowed, NULL, 0, NULL,
                                   0), 1);
    const mni_dcache_part null_bytes[] = { { NULL, 3, 0 } };
    ck_assert_int_eq(mni_dcache_put(c, null_bytes, 1, 1, 0, 0, 1, "p", "r"), MN_EINVAL);
    ck_assert_int_eq(mni_dcache_get(c, null_bytes, 1, 1, 0, &allowed, NULL, 0, NULL, 0), 0);
    mni_dcache_free(c);
}
END_TEST

START_TEST(cache_scopes)
{
    mni_dcache *c = mni_dcache_create(64, 0); /* 16 sets of verdicts, 4 of scopes */
    const mni_dcache_part actor = mni_dcache_part_of("t\0i\0agent\0{}", 13),
                         ctx1 = mni_dcache_part_of("{\"ip\":\"10.0.0.1\"}", 17),
                         ctx2 = mni_dcache_part_of("{\"ip\":\"10.0.0.2\"}", 17);
    const mni_dcache_part a1[] = { actor, ctx1 }, a2[] = { actor, ctx2 };
    uint64_t s1 = mni_dcache_scope(c, a1, 2), s2 = mni_dcache_scope(c, a2, 2);
    ck_assert_uint_ne(s1, 0);
    ck_assert_uint_ne(s2, 0);
    ck_assert_uint_ne(s1, s2);
    ck_assert_uint_eq(mni_dcache_scope(c, a1, 2), s1); /* the same parts, the same scope */
    const mni_dcache_part joined[] = { mni_dcache_part_of("t\0i\0agent\0{}{\"ip\":\"10.0.0.1\"}",
                                                        30) };
    uint64_t sj = mni_dcache_scope(c, joined, 1);
    ck_assert(sj != 0 && sj != s1 && sj != s2);
    /* bad parts: no scope (the caller keys in full) */
    const mni_dcache_part bad[] = { { NULL, 3, 0 } };
    ck_assert_uint_eq(mni_dcache_scope(c, bad, 1), 0);
    ck_assert_uint_eq(mni_dcache_scope(NULL, a1, 2), 0);
    /* many scopes through a small table: old ones are evicted and come back with new ids,
     * never an id seen before */
    uint64_t seen_max = sj > s2 ? sj : s2;
    char ctx[32];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(ctx, sizeof ctx, "{\"ip\":\"10.1.0.%d\"}", i);
        const mni_dcache_part p[] = { actor, mni_dcache_part_of(ctx, (size_t)n) };
        uint64_t id = mni_dcache_scope(c, p, 2);
        ck_assert_uint_gt(id, seen_max);
        seen_max = id;
    }
    uint64_t again = mni_dcache_scope(c, a1, 2);
    ck_assert_uint_gt(again, seen_max); /* s1 was evicted: a new id */
    mni_dcache_clear(c);
    ck_assert_uint_gt(mni_dcache_scope(c, a1, 2), again); /* ids are not reused after a clear */
    mni_dcache_free(c);
}
END_TEST

/* Keys as the API builds them: who asks (a scope, or actor and context in full) and what. */
START_TEST(decision_keys)
{
    mni_dcache *c = mni_dcache_create(0, 0);
    mni_dkey_who who, again, unscoped, other_ctx;
    ck_assert_int_eq(mni_dkey_who_init(&who, c, "t1", "i1", "agent", "{}", "{\"ip\":\"1.2.3.4\"}"),
                     MN_OK);
    ck_assert_int_eq(mni_dkey_who_init(&again, c, "t1", "i1", "agent", "{}", "{\"ip\":\"1.2.3.4\"}"),
                     MN_OK);
    ck_assert_int_eq(mni_dkey_who_init(&unscoped, NULL, "t1", "i1", "agent", "{}",
                                      "{\"ip\":\"1.2.3.4\"}"), MN_OK);
    ck_assert_int_eq(mni_dkey_who_init(&other_ctx, c, "t1", "i1", "agent", "{}", NULL), MN_OK);
    ck_assert_uint_ne(who.scope, 0);
    ck_assert_uint_eq(again.scope, who.scope);
    ck_assert_uint_eq(unscoped.scope, 0);
    ck_assert_uint_ne(other_ctx.scope, who.scope);

    cJSON *data = cJSON_Parse("{\"type\":\"fact\"}");
    mni_dkey k[7];
    ck_assert_int_eq(mni_dkey_build(&k[0], &who, "read", "memory", NULL, "m-1", 1), MN_OK);
    ck_assert_int_eq(mni_dkey_build(&k[1], &who, "read", "memory", NULL, "m-1", 2), MN_OK);
    ck_assert_int_eq(mni_dkey_build(&k[2], &who, "read", "memory", data, NULL, 0), MN_OK);
    ck_assert_int_eq(mni_dkey_build(&k[3], &who, "read", "memory", NULL, NULL, 0), MN_OK);
    ck_assert_int_eq(mni_dkey_build(&k[4], &unscoped, "read", "memory", NULL, "m-1", 1), MN_OK);
    ck_assert_int_eq(mni_dkey_build(&k[5], &other_ctx, "read", "memory", NULL, "m-1", 1), MN_OK);
    ck_assert_int_eq(mni_dkey_build(&k[6], &again, "read", "memory", NULL, "m-1", 1), MN_OK);
    ck_assert_uint_eq(k[0].nparts, 1);
    ck_assert_uint_eq(k[2].nparts, 2); /* with the data's text */
    ck_assert_uint_eq(k[4].nparts, 3); /* actor and context in full */
    /* each verdict under its own key; the same request made again finds its own */
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(mni_dcache_put(c, k[i].parts, k[i].nparts, 1, 0, 0, i % 2, NULL, NULL),
                         MN_OK);
    for (int i = 0; i < 6; i++) {
        int allowed = -1;
        ck_assert_int_eq(mni_dcache_get(c, k[i].parts, k[i].nparts, 1, 0, &allowed, NULL, 0, NULL,
                                       0), 1);
        ck_assert_int_eq(allowed, i % 2);
    }
    mni_dcache_stats st;
    mni_dcache_stats_get(c, &st);
    ck_assert_uint_eq(st.entries, 6); /* six different keys */
    int allowed = -1;
    ck_assert_int_eq(mni_dcache_get(c, k[6].parts, k[6].nparts, 1, 0, &allowed, NULL, 0, NULL, 0),
                     1);
    ck_assert_int_eq(allowed, 0); /* k[0]'s verdict */
    /* looked up as the API does: the explanation only as far as asked */
    ck_assert_int_eq(mni_dcache_put(c, k[0].parts, k[0].nparts, 1, 0, 0, 2, "p-deny", "no way"),
                     MN_OK); /* bit 1 set, bit 0 (allowed) not: a denial */
    ck_assert_int_eq(mni_dcache_put(c, k[1].parts, k[1].nparts, 1, 0, 0, 1, "p-ok", "fine"),
                     MN_OK);
    const enum mni_dkey_explain modes[] = { MNI_DKEY_EXPLAIN_NONE, MNI_DKEY_EXPLAIN_DENIALS,
                                           MNI_DKEY_EXPLAIN_ALL };
    for (int m = 0; m < 3; m++)
        for (int i = 0; i < 2; i++) {
            char pid[16] = "junk", why[16] = "junk";
            int bits = -1;
            ck_assert_int_eq(mni_dkey_lookup(c, &k[i], 1, 0, modes[m], 1, &bits, pid, sizeof pid,
                                            why, sizeof why), 1);
            ck_assert_int_eq(bits, i == 0 ? 2 : 1);
            /* A check reads the deciding policy of every verdict (an audit entry names it),
             * the reason of a denial only. */
            int shown = modes[m] == MNI_DKEY_EXPLAIN_ALL ||
                        (modes[m] == MNI_DKEY_EXPLAIN_DENIALS && i == 0);
            int id_shown = modes[m] != MNI_DKEY_EXPLAIN_NONE;
            ck_assert_str_eq(pid, id_shown ? (i == 0 ? "p-deny" : "p-ok") : "");
            ck_assert_str_eq(why, shown ? (i == 0 ? "no way" : "fine") : "");
        }
    ck_assert_int_eq(mni_dkey_lookup(c, &k[0], 2, 0, MNI_DKEY_EXPLAIN_ALL, 1, &allowed, NULL, 0,
                                    NULL, 0), 0); /* another generation */
    /* names and ids past their limits */
    char longname[MNI_DKEY_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    mni_dkey bad;
    ck_assert_int_eq(mni_dkey_build(&bad, &who, longname, "memory", NULL, NULL, 0), MN_EINVAL);
    mni_dkey_release(&bad);
    ck_assert_int_eq(mni_dkey_build(&bad, &who, "read", longname, NULL, NULL, 0), MN_EINVAL);
    mni_dkey_release(&bad);
    ck_assert_int_eq(mni_dkey_build(&bad, &who, "read", "memory", NULL,
                                   "0190f3a0-0000-7000-8000-0000000000011", 1), MN_EINVAL);
    mni_dkey_release(&bad);
    longname[MNI_DKEY_NAME_MAX] = '\0'; /* exactly the limit */
    ck_assert_int_eq(mni_dkey_build(&bad, &who, longname, longname, NULL,
                                   "0190f3a0-0000-7000-8000-000000000001", INT64_MAX), MN_OK);
    mni_dkey_release(&bad);
    for (int i = 0; i < 7; i++)
        mni_dkey_release(&k[i]);
    cJSON_Delete(data);
    mni_dkey_who_free(&who);
    mni_dkey_who_free(&again);
    mni_dkey_who_free(&unscoped);
    mni_dkey_who_free(&other_ctx);
    mni_dcache_free(c);
}
END_TEST

START_TEST(cache_eviction_is_bounded)
{
    mni_dcache *c = mni_dcache_create(64, 0);
    mni_dcache_stats st;
    mni_dcache_stats_get(c, &st);
    ck_assert_uint_eq(st.capacity, 64);
    char key[32];
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        ck_assert_int_eq(mni_dcache_put(c, KEY(key, (size_t)n), 1, 0, 0, i & 1, "p", "r"), MN_OK);
    }
    mni_dcache_stats_get(c, &st);
    ck_assert_uint_le(st.entries, 64);
    ck_assert_uint_ge(st.entries, 32);
    ck_assert_uint_ge(st.evictions, 10000 - 64);
    /* the latest keys are mostly there; the first ones are gone */
    int found = 0, allowed;
    for (int i = 10000 - 16; i < 10000; i++) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        int hit = mni_dcache_get(c, KEY(key, (size_t)n), 1, 0, &allowed, NULL, 0, NULL, 0);
        if (hit)
            ck_assert_int_eq(allowed, i & 1);
        found += hit;
    }
    ck_assert_int_ge(found, 8);
    ck_assert_int_eq(mni_dcache_get(c, KEY("key-0", 5), 1, 0, &allowed, NULL, 0, NULL, 0), 0);
    /* a recently used entry survives puts into its set */
    mni_dcache_free(c);
    c = mni_dcache_create(4, 0); /* one set of four */
    ck_assert_int_eq(mni_dcache_put(c, KEY("hot", 3), 1, 0, 0, 1, "p", "r"), MN_OK);
    for (int i = 0; i < 100; i++) {
        int n = snprintf(key, sizeof key, "cold-%d", i);
        ck_assert_int_eq(mni_dcache_put(c, KEY(key, (size_t)n), 1, 0, 0, 0, "p", "r"), MN_OK);
        ck_assert_int_eq(mni_dcache_get(c, KEY("hot", 3), 1, 0, &allowed, NULL, 0, NULL, 0), 1);
    }
    /* expired entries are replaced before live ones */
    ck_assert_int_eq(mni_dcache_put(c, KEY("short", 5), 1, 0, 10, 1, "p", "r"), MN_OK);
    ck_assert_int_eq(mni_dcache_get(c, KEY("hot", 3), 1, 20, &allowed, NULL, 0, NULL, 0), 1);
    mni_dcache_stats_get(c, &st);
    uint64_t ev = st.evictions;
    ck_assert_int_eq(mni_dcache_put(c, KEY("new", 3), 1, 20, 0, 1, "p", "r"), MN_OK);
    mni_dcache_stats_get(c, &st);
    ck_assert_uint_eq(st.evictions, ev);
    ck_assert_int_eq(mni_dcache_get(c, KEY("short", 5), 1, 20, &allowed, NULL, 0, NULL, 0), 0);
    ck_assert_int_eq(mni_dcache_get(c, KEY("hot", 3), 1, 20, &allowed, NULL, 0, NULL, 0), 1);
    mni_dcache_free(c);
}
END_TEST

typedef struct cache_arg {
    mni_dcache *c;
    const mni_policyset *ps;
    int t;
    long hits, wrong;
} cache_arg;

static _Atomic uint64_t cache_gen;

static void *cache_thread(void *p)
{
    cache_arg *a = p;
    char key[64], id[64];
    for (int i = 0; i < 40000; i++) {
        int k = (i * 7 + a->t * 13) % 500;
        /* the tenant's policies change every 10000 steps of thread 0: every thread sees it */
        if (a->t == 0 && i % 10000 == 0)
            atomic_fetch_add(&cache_gen, 1);
        uint64_t gen = atomic_load(&cache_gen);
        int n = snprintf(key, sizeof key, "tenant|ident-%d|agent|read|memory", k);
        int allowed = -1;
        if (mni_dcache_get(a->c, KEY(key, (size_t)n), gen, 1000, &allowed, id, sizeof id, NULL, 0)) {
            a->hits++;
            if (allowed != (k % 3 != 0) || strcmp(id, k % 3 ? "p-allow" : "") != 0)
                a->wrong++;
            continue;
        }
        /* decide for real, as a caller would, and store it */
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "identity_id", k % 3 ? "me" : "you");
        struct mni_request rq = {"me", "agent", NULL, "read", "memory", d, NULL, 1000};
        struct mni_verdict v;
        if (mni_policyset_decide(a->ps, &rq, &v) != MN_OK || v.allowed != (k % 3 != 0))
            a->wrong++;
        cJSON_Delete(d);
        mni_dcache_put(a->c, KEY(key, (size_t)n), gen, 1000, v.valid_until_ms, v.allowed,
                      v.policy_id, v.reason);
    }
    return NULL;
}

START_TEST(cache_four_threads)
{
    mni_policyset *ps = SET({"p-allow", "agent", 1,
                            R(",\"when\":{\"==\":[{\"var\":\"resource.identity_id\"},"
                              "{\"var\":\"actor.id\"}]}")});
    mni_dcache *c = mni_dcache_create(4096, 0);
    pthread_t th[4];
    cache_arg args[4];
    for (int t = 0; t < 4; t++) {
        args[t] = (cache_arg){c, ps, t, 0, 0};
        ck_assert_int_eq(pthread_create(&th[t], NULL, cache_thread, &args[t]), 0);
    }
    long hits = 0;
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        ck_assert_int_eq(args[t].wrong, 0);
        hits += args[t].hits;
    }
    mni_dcache_stats st;
    mni_dcache_stats_get(c, &st);
    ck_assert_uint_eq(st.hits, (uint64_t)hits);
    ck_assert_uint_eq(st.hits + st.misses, 4 * 40000);
    ck_assert_uint_le(st.entries, st.capacity);
    ck_assert_int_gt(hits, 4 * 40000 / 4);
    mni_dcache_free(c);
    mni_policyset_free(ps);
}
END_TEST

/* ---- robustness ------------------------------------------------------------------------------ */

static uint32_t rng = 12345;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) % n;
}

/* A random rule made of plausible pieces (valid and invalid). */
static void random_rule(char *buf, size_t len)
{
    static const char *const effects[] = {"\"allow\"", "\"deny\"", "\"allow\"", "\"deny\"",
                                          "\"maybe\"", "1", "null"};
    static const char *const actions[] = {"\"*\"", "[\"read\"]", "[\"read\",\"list\"]", "[]",
                                          "[1]", "\"read\"", "[\"*\"]", "[\"list\","
                                              "\"search\"]", "\"*\""};
    static const char *const resources[] = {"\"memory\"", "\"*\"", "\"identity\"", "\"memory\"",
                                            "\"\"", "{}"};
    static const char *const conds[] = {
        "\"roles\":[\"agent\"]", "\"roles\":[]",
        "\"time_restrictions\":{\"time_of_day\":{\"start\":\"09:00\",\"end\":\"17:00\"}}",
        "\"time_restrictions\":{\"time_of_day\":{\"start\":\"23:00\",\"end\":\"01:00\"},"
        "\"days_of_week\":[\"sat\",\"Sunday\"]}",
        "\"time_restrictions\":{\"date_range\":{\"start\":\"2026-01-01\",\"end\":\"2026-06-30\"}}",
        "\"time_restrictions\":{\"time_of_day\":{\"start\":\"25:00\",\"end\":\"01:00\"}}",
        "\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.0/8\",\"::/1\"]}",
        "\"ip_restrictions\":{\"allowed_ips\":[\"::ffff:1.2.3.4\"]}",
        "\"ip_restrictions\":{\"allowed_ranges\":[\"1.2.3.4/99\"]}",
        "\"resource_conditions\":{\"memory_types\":[\"fact\"]}",
        "\"resource_conditions\":{\"metadata_requirements\":{\"p\":[1]}}",
        "\"custom_conditions\":{\"identity_claims\":{\"d\":\"x\"}}", "\"bogus\":1"};
    static const char *const whens[] = {
        "true", "{\"var\":\"resource.identity_id\"}", "{\"==\":[{\"var\":\"actor.id\"},\"i\"]}",
        "{\"some\":[{\"var\":\"resource.metadata.p\"},{\">\":[{\"var\":\"\"},0]}]}",
        "{\"nope\":1}", "{\"in\":[{\"var\":\"context.ip\"},[\"1.2.3.4\"]]}",
        "{\"reduce\":[[1,2,3],{\"+\":[{\"var\":\"current\"},{\"var\":\"accumulator\"}]},0]}"};
#define PICK(a) a[rnd(sizeof a / sizeof a[0])]
    int n = snprintf(buf, len, "{\"effect\":%s,\"actions\":%s,\"resource\":%s", PICK(effects),
                     PICK(actions), PICK(resources));
    if (rnd(2)) {
        n += snprintf(buf + n, len - (size_t)n, ",\"conditions\":{");
        int k = (int)rnd(4);
        for (int i = 0; i < k; i++)
            n += snprintf(buf + n, len - (size_t)n, "%s%s", i ? "," : "", PICK(conds));
        n += snprintf(buf + n, len - (size_t)n, "}");
    }
    if (rnd(2))
        n += snprintf(buf + n, len - (size_t)n, ",\"when\":%s", PICK(whens));
    snprintf(buf + n, len - (size_t)n, "}");
    /* sometimes damage it */
    size_t sl = strlen(buf);
    for (int i = 0, d = rnd(3) == 0 ? (int)rnd(4) : 0; i < d && sl; i++)
        buf[rnd((uint32_t)sl)] = "{}[]\":,0a/ \x01\xff"[rnd(13)];
}

START_TEST(fuzz_never_crashes)
{
    char rule[2][2048], err[512];
    int ok = 0, compiled = 0, decided = 0;
    static const char *const data[] = {NULL, "{}", "{\"identity_id\":\"i\",\"type\":\"fact\","
                                                   "\"metadata\":{\"p\":[1,2]}}"};
    static const char *const ctx[] = {NULL, "{\"ip\":\"10.1.2.3\"}", "{\"ip\":\"::ffff:1.2.3.4\"}",
                                      "{\"ip\":\"zzz\"}", "[]"};
    for (int it = 0; it < 20000; it++) {
        random_rule(rule[0], sizeof rule[0]);
        random_rule(rule[1], sizeof rule[1]);
        if (it % 5 == 0) { /* plain garbage */
            size_t n = rnd(64);
            for (size_t i = 0; i < n; i++)
                rule[0][i] = (char)(1 + rnd(255));
            rule[0][n] = '\0';
        }
        int rc = mni_policy_rule_check(rule[0], err, sizeof err);
        ck_assert(rc == MN_OK || rc == MN_EINVAL);
        ck_assert(rc == MN_OK || err[0] != '\0');
        ok += rc == MN_OK;
        struct mni_policy_src src[2] = {{"f0", rnd(2) ? "agent" : "*", rule[0], (int)rnd(3), 1},
                                       {"f1", "agent", rule[1], (int)rnd(3), (int)rnd(2)}};
        mni_policyset *ps = NULL;
        rc = mni_policyset_compile(src, 2, &ps, err, sizeof err);
        ck_assert(rc == MN_OK || rc == MN_EINVAL);
        if (rc != MN_OK)
            continue;
        compiled++;
        for (int k = 0; k < 8; k++) {
            const char *dt = data[rnd(3)];
            cJSON *d = dt ? cJSON_Parse(dt) : NULL;
            const char *ct = ctx[rnd(5)];
            cJSON *c = ct ? cJSON_Parse(ct) : NULL;
            struct mni_request rq = {rnd(2) ? "i" : NULL, rnd(2) ? "agent" : NULL, NULL,
                                    rnd(2) ? "read" : "list", rnd(2) ? "memory" : "identity", d, c,
                                    (int64_t)rnd(100000) * 86400000LL / 1000 * 1000};
            struct mni_verdict v;
            rc = mni_policyset_decide(ps, &rq, &v);
            ck_assert(rc == MN_OK || rc == MN_ERANGE);
            ck_assert(rc == MN_OK || !v.allowed);
            ck_assert(strlen(v.reason) > 0);
            mni_policyset_per_resource(ps, rq.role, rq.action, rq.resource);
            decided++;
            cJSON_Delete(d);
            cJSON_Delete(c);
        }
        mni_policyset_free(ps);
    }
    fprintf(stderr, "policy fuzz: %d valid rules, %d sets compiled, %d decisions\n", ok, compiled,
            decided);
    ck_assert_int_gt(ok, 1000);
    ck_assert_int_gt(decided, 1000);
}
END_TEST

static Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("rules");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, validation_errors_name_the_path);
    tcase_add_test(tc, compile_names_the_policy);
    tcase_add_test(tc, cidr_parsing);
    tcase_add_test(tc, when_reads_resource_analysis);
    suite_add_tcase(s, tc);
    tc = tcase_create("decisions");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, deny_overrides_and_priority);
    tcase_add_test(tc, bad_requests_deny);
    tcase_add_test(tc, time_of_day_windows);
    tcase_add_test(tc, days_and_dates);
    tcase_add_test(tc, ip_restrictions);
    tcase_add_test(tc, malformed_ip_fails_closed);
    tcase_add_test(tc, resource_conditions_with_and_without_data);
    tcase_add_test(tc, identity_claims);
    tcase_add_test(tc, when_expressions);
    tcase_add_test(tc, default_policies);
    suite_add_tcase(s, tc);
    tc = tcase_create("cache");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cache_hits_generations_expiry);
    tcase_add_test(tc, cache_keys_in_parts);
    tcase_add_test(tc, cache_scopes);
    tcase_add_test(tc, decision_keys);
    tcase_add_test(tc, cache_eviction_is_bounded);
    tcase_add_test(tc, cache_four_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("robustness");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, fuzz_never_crashes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(policy_suite());
}
