/* Identities, written once over the driver (driver.h). */
#include "store/driver.h"
#include "store/notfound.h"
#include "store/types.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>

int mni_op_identity_insert(struct mni_store *s, const mn_identity *i,
                           const struct mni_audit *au)
{
    struct mni_args a = {0};
    mni_arg_text(&a, i->id);
    mni_arg_text(&a, i->tenant_id);
    mni_arg_text(&a, i->external_id);
    mni_arg_text(&a, i->role);
    mni_arg_text(&a, i->claims);
    mni_arg_int(&a, i->active);
    mni_arg_int(&a, i->created_at);
    mni_arg_int(&a, i->updated_at);
    char taken[220];
    snprintf(taken, sizeof taken, "the tenant already has an identity with external_id "
             "\"%.128s\"; pick another", i->external_id);
    return mni_op_audited_exec(s, MNI_IDENTITY_INSERT, &a, NULL, taken, "creating an identity",
                               au);
}

int mni_op_identity_get(struct mni_store *s, const char *tenant_id, const char *id_or_external,
                        mn_identity **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, id_or_external);
    int rc = mni_query_one(s, MNI_IDENTITY_GET, &a, &mni_map_identity, sizeof **out,
                           mni_identity_clear, (void **)out, "reading an identity");
    if (rc == MN_ENOTFOUND)
        mni_store_no_identity(s->db, id_or_external);
    return rc;
}

int mni_op_identity_list(struct mni_store *s, const char *tenant_id, mn_identities **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mn_identities *l = calloc(1, sizeof *l);
    int rc = l ? mni_query_list(s, MNI_IDENTITY_LIST, &a, &mni_map_identity,
                                sizeof(mn_identity), mni_identity_clear, (void ***)&l->items,
                                &l->count, "listing identities")
               : mni_seterr(s->db, MN_ENOMEM, "out of memory listing identities");
    if (rc != MN_OK) {
        free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

int mni_op_identity_set_active(struct mni_store *s, const char *tenant_id, const char *id,
                               int active, int64_t now,
                               const struct mni_audit *au)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, id);
    mni_arg_int(&a, active);
    mni_arg_int(&a, now);
    int64_t changed = 0;
    int rc = mni_op_audited_exec(s, MNI_IDENTITY_SET_ACTIVE, &a, &changed, NULL,
                                 "changing an identity", au);
    if (rc == MN_OK && changed == 0)
        rc = mni_store_identity_gone(s->db, id);
    return rc;
}

/* The history goes first: it finds its rows through the memories. The identity's API keys
 * go with it: none may act for an identity that is no more. */
int mni_op_identity_delete(struct mni_store *s, const char *tenant_id, const char *id,
                           const struct mni_audit *au)
{
    static const enum mni_stmt steps[] = {
        MNI_IDENTITY_DELETE_HISTORY, MNI_IDENTITY_DELETE_MEMORIES, MNI_IDENTITY_DELETE_APIKEYS,
        MNI_IDENTITY_DELETE,
    };
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, id);
    int rc = mni_erase(s, 1, steps, sizeof steps / sizeof *steps, &a, "deleting an identity",
                       au);
    if (rc == MN_ENOTFOUND)
        rc = mni_store_identity_gone(s->db, id);
    if (rc == MN_OK)
        mni_store_changed(s, tenant_id);
    return rc;
}
