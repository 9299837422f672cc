/* API keys, written once over the driver (driver.h): table apikeys (sqlite 007, postgres 009),
 * and the meta value their hashes are keyed with. Single statements: each is its own
 * transaction. */
#include "store/driver.h"
#include "store/notfound.h"
#include "store/types.h"
#include "core/error.h"

#include <stdlib.h>

int mni_op_meta_add(struct mni_store *s, const char *key, const char *value)
{
    struct mni_args a = {0};
    mni_arg_text(&a, key);
    mni_arg_text(&a, value);
    return s->driver->exec(s, NULL, MNI_META_ADD, &a, NULL, NULL, "recording a setting");
}

int mni_op_apikey_insert(struct mni_store *s, const mn_apikey *k, const char *hash,
                         const struct mni_audit *au)
{
    struct mni_args a = {0};
    mni_arg_text(&a, k->id);
    mni_arg_text(&a, k->tenant_id);
    mni_arg_text(&a, k->identity_id);
    mni_arg_text(&a, hash);
    mni_arg_text(&a, k->scopes);
    mni_arg_int(&a, k->created_at);
    mni_arg_int(&a, k->expires_at);
    /* 64 random bits of id: a clash is as good as impossible, and then only refused. */
    return mni_op_audited_exec(s, MNI_APIKEY_INSERT, &a, NULL,
                               "a new API key's random id is taken; create it again",
                               "storing an API key", au);
}

int mni_op_apikey_get(struct mni_store *s, const char *id, struct mni_apikey_row **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, id);
    return mni_query_one(s, MNI_APIKEY_GET, &a, &mni_map_apikey_row, sizeof **out,
                         mni_apikey_row_clear, (void **)out, "reading an API key");
}

int mni_op_apikey_list(struct mni_store *s, const char *tenant_id, const char *identity_id,
                       mn_apikeys **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, identity_id);
    mn_apikeys *l = calloc(1, sizeof *l);
    if (!l)
        return mni_seterr(s->db, MN_ENOMEM, "out of memory reading API keys");
    int rc = mni_query_list(s, MNI_APIKEY_LIST, &a, &mni_map_apikey, sizeof(mn_apikey),
                            mni_apikey_clear, (void ***)&l->items, &l->count,
                            "reading API keys");
    if (rc != MN_OK) {
        mn_apikeys_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

int mni_op_apikey_delete(struct mni_store *s, const char *tenant_id, const char *id,
                         const struct mni_audit *au)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, id);
    int64_t changed = 0;
    int rc = mni_op_audited_exec(s, MNI_APIKEY_DELETE, &a, &changed, NULL,
                                 "revoking an API key", au);
    return rc == MN_OK && !changed ? mni_store_no_apikey(s->db, id) : rc;
}

int mni_op_apikey_touch(struct mni_store *s, const char *id, int64_t now, int64_t before)
{
    struct mni_args a = {0};
    mni_arg_text(&a, id);
    mni_arg_int(&a, now);
    mni_arg_int(&a, before);
    return s->driver->exec(s, NULL, MNI_APIKEY_TOUCH, &a, NULL, NULL,
                           "recording an API key's use");
}
