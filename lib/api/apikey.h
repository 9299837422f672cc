/* API keys inside the library: what a verified key grants (api/apikey_cache.c), the scopes it
 * narrows access to (api/apikey_scope.c), and the handle's cache of keys. */
#ifndef MNI_API_APIKEY_H
#define MNI_API_APIKEY_H

#include "manushya.h"
#include "core/uuid.h"

#include <stddef.h>

/* mk_ + 16 hex digits of id + _ + 64 hex digits of secret (256 bits). */
#define MNI_APIKEY_ID_HEX 16
#define MNI_APIKEY_SECRET_HEX 64
#define MNI_APIKEY_LEN (3 + MNI_APIKEY_ID_HEX + 1 + MNI_APIKEY_SECRET_HEX)

/* What a verified key lets a call do: act for its identity in its tenant, within its scopes. */
struct mni_apikey_grant {
    char id[MNI_APIKEY_ID_HEX + 1];
    char tenant_id[MNI_UUID_LEN + 1];
    char identity_id[MNI_UUID_LEN + 1];
    char *scopes;              /* "resource:action" strings one after the other, each ending
                                * in NUL, an empty one last; NULL: no narrowing */
};
void mni_apikey_grant_release(struct mni_apikey_grant *g);

/* Verifies key: MN_OK with *g filled (release it), and, when out is not NULL, *out the key as
 * lists show it; MN_EINVAL for a key not shaped like one; MN_EDENIED, one message for every
 * case, for a wrong, unknown, revoked or expired one. Records the use at most once a minute. */
int mni_apikey_check(mn_db *db, const char *key, struct mni_apikey_grant *g, mn_apikey **out);

/* The handle's key cache (db->apikeys). */
struct mni_apikeys;
int mni_apikeys_create(struct mni_apikeys **out);
void mni_apikeys_free(struct mni_apikeys *c);
/* Forgets every cached key at once (a revoke through this handle). */
void mni_apikeys_invalidate(mn_db *db);
/* The keyed hash of key (MNI_APIKEY_LEN bytes) with the database's secret, made once per
 * database (meta apikey_secret) and loaded once per handle: MN_OK or an error set on db. */
#define MNI_APIKEY_HASH_BYTES 32
int mni_apikey_hash(mn_db *db, const char *key, unsigned char out[MNI_APIKEY_HASH_BYTES]);

/* Scopes. Checks text (a JSON array of known "resource:action", at least one) and makes its
 * compact JSON (*json, freed with cJSON_free) and its list as a grant holds it (*list,
 * malloc'd). */
int mni_apikey_scopes_parse(mn_db *db, const char *text, char **json, char **list);
/* 1 when list (a grant's; NULL: no narrowing) holds resource:action. */
int mni_apikey_scope_has(const char *list, const char *action, const char *resource);
/* MN_OK when g (all zero: not acting by key) allows resource:action; else MN_EDENIED naming
 * the scope missing. */
int mni_apikey_scope_check(mn_db *db, const struct mni_apikey_grant *g, const char *action,
                           const char *resource);

#endif
