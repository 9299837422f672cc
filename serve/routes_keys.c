/*
 * routes_keys.c — /v1/api-keys: the tenant's API keys. A new key is in the answer to its
 * POST, the one time it is shown.
 */
#include "serve.h"
#include "cli.h"

#include <stdlib.h>

static int list(sv_req *r)
{
    mn_apikeys *l = NULL;
    int rc = mn_apikey_list(r->db, &r->actor, sv_arg_str(r, "identity"), &l);
    if (rc == MN_OK) {
        cJSON *items = sv_items(r);
        for (size_t i = 0; i < l->count; i++)
            cJSON_AddItemToArray(items, cli_json_apikey(l->items[i], NULL));
    }
    mn_apikeys_free(l);
    return rc;
}

static int create(sv_req *r)
{
    int rc = MN_OK;
    mn_apikey_input in = MN_APIKEY_INPUT_INIT;
    char *scopes = sv_arg_json(r, "scopes", &rc);
    in.identity = sv_arg_str(r, "identity");
    in.scopes = scopes;
    in.expires_at = sv_arg_int(r, "expires_at", 0);
    char *key = NULL;
    mn_apikey *k = NULL;
    if (rc == MN_OK && (rc = mn_apikey_create(r->db, &r->actor, &in, &key, &k)) == MN_OK)
        r->out = cli_json_apikey(k, key);
    mn_free(key);
    mn_apikey_free(k);
    free(scopes);
    return rc;
}

static int revoke(sv_req *r)
{
    int rc = mn_apikey_revoke(r->db, &r->actor, r->params[0]);
    if (rc == MN_OK)
        r->status = 204;
    return rc;
}

const sv_route sv_routes_keys[] = {
    {"GET", "/v1/api-keys", list, 0, "apikey:list", 0, 0, "The tenant's API keys (never a key)",
     {{"identity", SV_STR, SV_QUERY, "only this identity's keys"}, {0}}},
    {"POST", "/v1/api-keys", create, 0, "apikey:create", 0, 1,
     "Make a key; the answer holds it, the one time it is shown",
     {{"identity", SV_STR, SV_BODY, "the identity it acts for (required)"},
      {"scopes", SV_STR_ARRAY, SV_BODY, "resource:action pairs it is narrowed to"},
      {"expires_at", SV_INT, SV_BODY, "ms since the epoch; 0 or absent: never"},
      {0}}},
    {"DELETE", "/v1/api-keys/{id}", revoke, 0, "apikey:delete", 0, 0,
     "Revoke a key by its public id", {{0}}},
};
const size_t sv_nroutes_keys = sizeof sv_routes_keys / sizeof sv_routes_keys[0];
