/*
 * routes_policy.c — /v1/policy: the tenant's access policies and the decision one would make.
 */
#include "serve.h"
#include "cli.h"

#include <stdlib.h>

static int policy_out(sv_req *r, int rc, mn_policy *p)
{
    if (rc == MN_OK)
        r->out = cli_json_policy(p);
    mn_policy_free(p);
    return rc;
}

static int list(sv_req *r)
{
    mn_policies *l = NULL;
    int rc = mn_policy_list(r->db, &r->actor, &l);
    if (rc == MN_OK) {
        cJSON *items = sv_items(r);
        for (size_t i = 0; i < l->count; i++)
            cJSON_AddItemToArray(items, cli_json_policy(l->items[i]));
    }
    mn_policies_free(l);
    return rc;
}

static int add(sv_req *r)
{
    int rc = MN_OK;
    mn_policy_input in = MN_POLICY_INPUT_INIT;
    char *rule = sv_arg_json(r, "rule", &rc);
    in.role = sv_arg_str(r, "role");
    in.rule = rule;
    in.description = sv_arg_str(r, "description");
    in.priority = (int)sv_arg_int(r, "priority", 0);
    in.inactive = sv_arg_given(r, "active") && !sv_arg_bool(r, "active");
    mn_policy *p = NULL;
    if (rc == MN_OK)
        rc = mn_policy_add(r->db, &r->actor, &in, &p);
    free(rule);
    return policy_out(r, rc, p);
}

static int get(sv_req *r)
{
    mn_policy *p = NULL;
    int rc = mn_policy_get(r->db, &r->actor, r->params[0], &p);
    return policy_out(r, rc, p);
}

static int update(sv_req *r)
{
    int rc = MN_OK;
    mn_policy_changes ch = MN_POLICY_CHANGES_INIT;
    char *rule = sv_arg_json(r, "rule", &rc);
    if ((ch.role = sv_arg_str(r, "role")))
        ch.set |= MN_POLICY_SET_ROLE;
    if ((ch.rule = rule))
        ch.set |= MN_POLICY_SET_RULE;
    if (sv_arg_given(r, "description")) {
        ch.description = sv_arg_str(r, "description");
        ch.set |= MN_POLICY_SET_DESCRIPTION;
    }
    if (sv_arg_given(r, "priority")) {
        ch.priority = (int)sv_arg_int(r, "priority", 0);
        ch.set |= MN_POLICY_SET_PRIORITY;
    }
    if (sv_arg_given(r, "active")) {
        ch.active = sv_arg_bool(r, "active");
        ch.set |= MN_POLICY_SET_ACTIVE;
    }
    mn_policy *p = NULL;
    if (rc == MN_OK && !ch.set)
        rc = sv_invalid(r, "nothing to change: give role, rule, description, priority or active");
    if (rc == MN_OK)
        rc = mn_policy_update(r->db, &r->actor, r->params[0], &ch, &p);
    free(rule);
    return policy_out(r, rc, p);
}

static int remove_one(sv_req *r)
{
    int rc = mn_policy_delete(r->db, &r->actor, r->params[0]);
    if (rc == MN_OK)
        r->status = 204;
    return rc;
}

static int test(sv_req *r)
{
    int rc = MN_OK;
    char *data = sv_arg_json(r, "resource_data", &rc);
    mn_decision *d = NULL;
    if (rc == MN_OK)
        rc = mn_policy_test(r->db, &r->actor, sv_arg_str(r, "action"),
                            sv_arg_str(r, "resource"), data, &d);
    if (rc == MN_OK)
        r->out = cli_json_decision(d);
    mn_decision_free(d);
    free(data);
    return rc;
}

#define POLICY_FIELDS(role_about)                                                        \
    {"role", SV_STR, SV_BODY, role_about},                                               \
    {"rule", SV_OBJECT, SV_BODY, "the rule, a JSON object in the policy rule format"},   \
    {"description", SV_STR, SV_BODY, "words for people"},                               \
    {"priority", SV_INT, SV_BODY, "higher is consulted first; default 0"},               \
    {"active", SV_BOOL, SV_BODY, "false: switched off; default true"}

const sv_route sv_routes_policy[] = {
    {"GET", "/v1/policy", list, 0, "policy:list", 0, 0, "The tenant's policies", {{0}}},
    {"POST", "/v1/policy", add, 0, "policy:create", 0, 1, "Add a policy",
     {POLICY_FIELDS("the role it applies to, or * (required)"), {0}}},
    {"POST", "/v1/policy/test", test, 0, "policy:test", 1, 0,
     "The decision the policies make for the key's identity",
     {{"action", SV_STR, SV_BODY, "create, read, update, delete, list, search (required)"},
      {"resource", SV_STR, SV_BODY, "memory, identity, policy, ... (required)"},
      {"resource_data", SV_OBJECT, SV_BODY, "the resource as the rule sees it"},
      {0}}},
    {"GET", "/v1/policy/{id}", get, 0, "policy:read", 0, 0, "A policy", {{0}}},
    {"PUT", "/v1/policy/{id}", update, 0, "policy:update", 0, 0, "Change a policy",
     {POLICY_FIELDS("the role it applies to, or *"), {0}}},
    {"DELETE", "/v1/policy/{id}", remove_one, 0, "policy:delete", 0, 0, "Delete a policy",
     {{0}}},
};
const size_t sv_nroutes_policy = sizeof sv_routes_policy / sizeof sv_routes_policy[0];
