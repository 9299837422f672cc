/* API keys: making, listing, revoking and verifying them (the public calls). A key's secret
 * exists in the library only while it is made; the store keeps its keyed hash. */
#include "api/audit.h"
#include "api/abi_structs.h"
#include "api/metrics.h"
#include "api/access.h"
#include "api/actor.h"
#include "api/apikey.h"
#include "api/handle.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/notfound.h"
#include "store/store.h"
#include "store/types.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* May who `action` ("create", "read", "delete") API keys (of identity_id, when one is meant)? */
static int check_apikey(mn_db *db, struct mni_who *who, const char *action,
                        const char *id, const char *identity_id)
{
    if (!who->identity)
        return MN_OK;
    cJSON *data = cJSON_CreateObject();
    int rc = data && (!id || cJSON_AddStringToObject(data, "id", id)) &&
             (!identity_id || cJSON_AddStringToObject(data, "identity_id", identity_id))
                 ? mni_access_check(db, who, action, "apikey", data)
                 : mni_seterr(db, MN_ENOMEM, "out of memory");
    cJSON_Delete(data);
    return rc;
}

static int check_input(mn_db *db, const mn_apikey_input *in, char **scopes)
{
    char *list = NULL;
    int rc = mni_require(db, in->identity, "the API key's identity (mn_apikey_input.identity)");
    if (rc == MN_OK && in->scopes)
        rc = mni_apikey_scopes_parse(db, in->scopes, scopes, &list);
    free(list);
    if (rc == MN_OK && in->expires_at && in->expires_at <= mni_now_ms())
        rc = mni_seterr(db, MN_EINVAL, "the API key's expires_at (%lld) is not in the future; "
                        "give a time to come, in ms since the epoch, or 0 for never",
                        (long long)in->expires_at);
    return rc;
}

/* Makes a key into key, its public id into k->id (MNI_APIKEY_ID_HEX + 1 bytes, the caller's),
 * and stores k with the key's hash, recorded in the audit log as made by who. */
static int make_and_store(mn_db *db, const struct mni_who *who, mn_apikey *k,
                          char key[MNI_APIKEY_LEN + 1])
{
    unsigned char id[MNI_APIKEY_ID_HEX / 2], secret[MNI_APIKEY_SECRET_HEX / 2];
    unsigned char mac[MNI_APIKEY_HASH_BYTES];
    char mac_hex[2 * MNI_APIKEY_HASH_BYTES + 1];
    randombytes_buf(id, sizeof id);
    randombytes_buf(secret, sizeof secret);
    sodium_bin2hex(k->id, MNI_APIKEY_ID_HEX + 1, id, sizeof id);
    snprintf(key, 4 + MNI_APIKEY_ID_HEX + 1, "mk_%s_", k->id);
    sodium_bin2hex(key + 4 + MNI_APIKEY_ID_HEX, MNI_APIKEY_SECRET_HEX + 1, secret, sizeof secret);
    sodium_memzero(secret, sizeof secret);
    int rc = mni_apikey_hash(db, key, mac);
    const char *ids[] = { k->id };
    struct mni_audit_call au = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, who, "apikey:create", ids, 1, &au);
    if (rc == MN_OK) {
        sodium_bin2hex(mac_hex, sizeof mac_hex, mac, sizeof mac);
        rc = db->store->ops->apikey_insert(db->store, k, mac_hex, &au.au);
    }
    mni_audit_call_release(&au);
    return rc;
}

/* The stored key with that id, as lists show it. */
static int read_back(mn_db *db, const char *id, mn_apikey **out)
{
    struct mni_apikey_row *row = NULL;
    int rc = db->store->ops->apikey_get(db->store, id, &row);
    if (rc == MN_ENOTFOUND)
        rc = mni_seterr(db, MN_EBACKEND, "API key %s vanished as it was made", id);
    if (rc == MN_OK && !(*out = malloc(sizeof **out)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    if (rc == MN_OK) {
        **out = row->key;
        memset(&row->key, 0, sizeof row->key);
    }
    mni_one_free(row, mni_apikey_row_clear);
    return rc;
}

int mn_apikey_create(mn_db *db, const mn_actor *actor, const mn_apikey_input *input,
                     char **key_out, mn_apikey **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    if (key_out)
        *key_out = NULL;
    if (out)
        *out = NULL;
    mn_apikey_input in;
    char *scopes = NULL, *identity_id = NULL;
    char key[MNI_APIKEY_LEN + 1], id[MNI_APIKEY_ID_HEX + 1];
    struct mni_who who = {0};
    int rc = mni_require(db, key_out, "key_out");
    if (rc == MN_OK)
        rc = mni_abi_read(db, &mni_abi_apikey_input, input, 0, &in, sizeof in);
    if (rc == MN_OK)
        rc = check_input(db, &in, &scopes);
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_who_identity_id(db, &who, in.identity, &identity_id);
    if (rc == MN_OK)
        rc = check_apikey(db, &who, "create", NULL, identity_id);
    mn_apikey k = { .id = id, .tenant_id = rc == MN_OK ? who.tenant->id : NULL,
                    .identity_id = identity_id, .scopes = scopes, .created_at = mni_now_ms(),
                    .expires_at = in.expires_at };
    if (rc == MN_OK)
        rc = make_and_store(db, &who, &k, key);
    if (rc == MN_OK && out)
        rc = read_back(db, id, out);
    if (rc == MN_OK && !(*key_out = strdup(key)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    if (rc != MN_OK && out) {
        mn_apikey_free(*out);
        *out = NULL;
    }
    sodium_memzero(key, sizeof key);
    cJSON_free(scopes);
    free(identity_id);
    mni_who_release(&who);
    return rc;
}

int mn_apikey_list(mn_db *db, const mn_actor *actor, const char *identity, mn_apikeys **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    char *identity_id = NULL;
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        *out = NULL;
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK && identity)
        rc = mni_who_identity_id(db, &who, identity, &identity_id);
    if (rc == MN_OK)
        rc = check_apikey(db, &who, "read", NULL, identity_id);
    if (rc == MN_OK)
        rc = db->store->ops->apikey_list(db->store, who.tenant->id, identity_id, out);
    free(identity_id);
    mni_who_release(&who);
    return rc;
}

int mn_apikey_revoke(mn_db *db, const mn_actor *actor, const char *id)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    struct mni_apikey_row *row = NULL;
    int rc = mni_require(db, id, "the API key id");
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    /* Another tenant's key is as good as none. */
    if (rc == MN_OK && ((rc = db->store->ops->apikey_get(db->store, id, &row)) == MN_ENOTFOUND ||
                        (rc == MN_OK && strcmp(row->key.tenant_id, who.tenant->id) != 0)))
        rc = mni_store_no_apikey(db, id);
    if (rc == MN_OK)
        rc = check_apikey(db, &who, "delete", row->key.id, row->key.identity_id);
    struct mni_audit_call au = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, "apikey:delete", (const char *const *)&row->key.id, 1,
                            &au);
    if (rc == MN_OK)
        rc = db->store->ops->apikey_delete(db->store, who.tenant->id, row->key.id, &au.au);
    mni_audit_call_release(&au);
    if (rc == MN_OK)
        mni_apikeys_invalidate(db);
    mni_one_free(row, mni_apikey_row_clear);
    mni_who_release(&who);
    return rc;
}

static int apikey_verify(mn_db *db, const char *key, mn_apikey **out)
{
    if (!db)
        return mni_err_no_db("mn_apikey_verify");
    return mni_apikey_check(db, key, NULL, out);
}

int mn_apikey_verify(mn_db *db, const char *key, mn_apikey **out)
{
    MNI_TIMED(db, apikey_verify, apikey_verify(db, key, out));
}
