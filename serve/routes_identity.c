/*
 * routes_identity.c — /v1/identity: who the key is (/me), the tenant's identities, creating
 * and deactivating them. There is no route that makes a tenant or a first key: the first
 * admin key of a tenant is made with the CLI (manushya-serve(1), BOOTSTRAP).
 */
#include "serve.h"
#include "cli.h"

#include <stdlib.h>

static int identity_out(sv_req *r, int rc, mn_identity *i)
{
    if (rc == MN_OK)
        r->out = cli_json_identity(i);
    mn_identity_free(i);
    return rc;
}

static int me(sv_req *r)
{
    mn_identity *i = NULL;
    int rc = mn_identity_get(r->db, &r->actor, r->identity_id, &i);
    return identity_out(r, rc, i);
}

static int get(sv_req *r)
{
    mn_identity *i = NULL;
    int rc = mn_identity_get(r->db, &r->actor, r->params[0], &i);
    return identity_out(r, rc, i);
}

static int list(sv_req *r)
{
    mn_identities *l = NULL;
    int rc = mn_identity_list(r->db, &r->actor, &l);
    if (rc == MN_OK) {
        cJSON *items = sv_items(r);
        for (size_t i = 0; i < l->count; i++)
            cJSON_AddItemToArray(items, cli_json_identity(l->items[i]));
    }
    mn_identities_free(l);
    return rc;
}

static int create(sv_req *r)
{
    int rc = MN_OK;
    char *claims = sv_arg_json(r, "claims", &rc);
    mn_identity *i = NULL;
    if (rc == MN_OK)
        rc = mn_identity_create(r->db, &r->actor, sv_arg_str(r, "external_id"),
                                sv_arg_str(r, "role"), claims, &i);
    free(claims);
    return identity_out(r, rc, i);
}

static int remove_one(sv_req *r)
{
    int rc = sv_arg_bool(r, "erase") ? mn_identity_delete(r->db, &r->actor, r->params[0])
                                     : mn_identity_deactivate(r->db, &r->actor, r->params[0]);
    if (rc == MN_OK)
        r->status = 204;
    return rc;
}

const sv_route sv_routes_identity[] = {
    {"GET", "/v1/identity/me", me, 0, "identity:read", 0, 0, "The identity of the API key",
     {{0}}},
    {"GET", "/v1/identity", list, 0, "identity:list", 0, 0, "The tenant's identities", {{0}}},
    {"POST", "/v1/identity", create, 0, "identity:create", 1, 1,
     "Add an identity to the key's tenant",
     {{"external_id", SV_STR, SV_BODY, "the caller's id of the identity (required)"},
      {"role", SV_STR, SV_BODY, "default agent"},
      {"claims", SV_OBJECT, SV_BODY, "JSON object the policies may test"},
      {0}}},
    {"GET", "/v1/identity/{id}", get, 0, "identity:read", 0, 0,
     "An identity, by id or external_id", {{0}}},
    {"DELETE", "/v1/identity/{id}", remove_one, 0, "identity:delete", 0, 0,
     "Deactivate an identity (erase=true: erase it and everything it owns)",
     {{"erase", SV_BOOL, SV_QUERY, "true: erase the identity, its memories and keys"}, {0}}},
};
const size_t sv_nroutes_identity = sizeof sv_routes_identity / sizeof sv_routes_identity[0];
