/* The scopes of an API key: the "resource:action" pairs it narrows its identity's policies to.
 * Only pairs the library's own access checks ask for are accepted, so that a scope misspelt
 * never silently allows nothing (or something else). */
#include "api/apikey.h"
#include "core/error.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

/* Every resource:action an access check asks (api/access.c's callers). */
static const char *const known[] = {
    "memory:create", "memory:read", "memory:update", "memory:delete", "memory:list",
    "memory:search",
    "identity:create", "identity:read", "identity:update", "identity:delete", "identity:list",
    "policy:create", "policy:read", "policy:update", "policy:delete", "policy:list",
    "ratelimit:read", "ratelimit:update", "ratelimit:delete",
    "apikey:create", "apikey:read", "apikey:delete",
    "audit:read", "audit:update", "audit:delete",
    "webhook:create", "webhook:read", "webhook:update", "webhook:delete",
};
#define NKNOWN (sizeof known / sizeof *known)

static int is_known(const char *s)
{
    for (size_t i = 0; i < NKNOWN; i++)
        if (strcmp(known[i], s) == 0)
            return 1;
    return 0;
}

/* what: how the scopes are wrong; name: the scope at fault, or NULL. */
static int bad(mn_db *db, const char *what, const char *name)
{
    return mni_seterr(db, MN_EINVAL, "the API key's scopes %s%.64s%s; give a JSON array of one "
                     "or more "
                     "of memory:create, memory:read, memory:update, memory:delete, memory:list, "
                     "memory:search, identity:create|read|update|delete|list, "
                     "policy:create|read|update|delete|list, ratelimit:read|update|delete, "
                     "apikey:create|read|delete, audit:read|update|delete, "
                     "webhook:create|read|update|delete (or no scopes: whatever the "
                     "identity may do)",
                     what, name ? name : "", name ? "\"" : "");
}

/* Appends each scope and its NUL to list (sized for all of them), an empty one last. */
static void list_of(const cJSON *arr, char *list)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        size_t n = strlen(it->valuestring) + 1;
        memcpy(list, it->valuestring, n);
        list += n;
    }
    *list = '\0';
}

int mni_apikey_scopes_parse(mn_db *db, const char *text, char **json, char **list)
{
    *json = *list = NULL;
    cJSON *arr = cJSON_Parse(text);
    int rc = MN_OK;
    size_t bytes = 1;
    if (!cJSON_IsArray(arr))
        rc = bad(db, "are not a JSON array", NULL);
    else if (!cJSON_GetArraySize(arr))
        rc = bad(db, "are an empty array, which would allow nothing", NULL);
    const cJSON *it, *walk = rc == MN_OK ? arr : NULL;
    cJSON_ArrayForEach(it, walk) {
        if (!cJSON_IsString(it)) {
            rc = bad(db, "hold something that is not a string", NULL);
            break;
        }
        if (!is_known(it->valuestring)) {
            rc = bad(db, "name an unknown one, \"", it->valuestring);
            break;
        }
        bytes += strlen(it->valuestring) + 1;
    }
    if (rc == MN_OK && (!(*json = cJSON_PrintUnformatted(arr)) || !(*list = malloc(bytes))))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    if (rc == MN_OK)
        list_of(arr, *list);
    if (rc != MN_OK) {
        cJSON_free(*json);
        free(*list);
        *json = *list = NULL;
    }
    cJSON_Delete(arr);
    return rc;
}

int mni_apikey_scope_has(const char *list, const char *action, const char *resource)
{
    if (!list)
        return 1;
    size_t nr = strlen(resource);
    for (const char *s = list; *s; s += strlen(s) + 1)
        if (strncmp(s, resource, nr) == 0 && s[nr] == ':' && strcmp(s + nr + 1, action) == 0)
            return 1;
    return 0;
}

int mni_apikey_scope_check(mn_db *db, const struct mni_apikey_grant *g, const char *action,
                           const char *resource)
{
    if (mni_apikey_scope_has(g->scopes, action, resource))
        return MN_OK;
    return mni_seterr(db, MN_EDENIED, "API key %s has no scope \"%.32s:%.32s\", which this call "
                     "needs; make a key with that scope (mn_apikey_input.scopes)", g->id,
                     resource, action);
}
