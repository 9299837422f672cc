/* Policies, written once over the driver (driver.h). Each change also advances the tenant's
 * policy_gen, in the same transaction, so that every process's caches see the change on their
 * next decision. */
#include "store/driver.h"
#include "store/notfound.h"
#include "store/types.h"
#include "core/error.h"

#include <stdlib.h>

/* p's columns as the policy statements take them; an update leaves created_at out. */
static void policy_args(struct mni_args *a, const mn_policy *p, int with_created)
{
    mni_arg_text(a, p->id);
    mni_arg_text(a, p->tenant_id);
    mni_arg_text(a, p->role);
    mni_arg_text(a, p->rule);
    mni_arg_int(a, p->priority);
    mni_arg_int(a, p->active);
    mni_arg_text(a, p->description);
    if (with_created)
        mni_arg_int(a, p->created_at);
    mni_arg_int(a, p->updated_at);
}

int mni_op_policy_insert_in(struct mni_store *s, struct mni_tx *tx, const mn_policy *p)
{
    struct mni_args a = {0};
    policy_args(&a, p, 1);
    return s->driver->exec(s, tx, MNI_POLICY_INSERT, &a, NULL, NULL, "adding a policy");
}

/* Runs one policy statement and the generation bump in one transaction. */
static int change(struct mni_store *s, enum mni_stmt id, const mn_policy *p,
                  const char *tenant_id, const char *policy_id, const char *doing,
                  const struct mni_audit *au)
{
    struct mni_tx *tx;
    int rc = s->driver->begin(s, 0, NULL, &tx);
    if (rc != MN_OK)
        return rc;
    struct mni_args a = {0};
    if (p) {
        policy_args(&a, p, id == MNI_POLICY_INSERT);
    } else {
        mni_arg_text(&a, tenant_id);
        mni_arg_text(&a, policy_id);
    }
    int64_t changed = 0;
    rc = s->driver->exec(s, tx, id, &a, &changed, NULL, doing);
    if (rc == MN_OK && id != MNI_POLICY_INSERT && changed == 0)
        rc = mni_store_no_policy(s->db, doing, policy_id);
    if (rc == MN_OK) {
        struct mni_args b = {0};
        mni_arg_text(&b, tenant_id);
        rc = s->driver->exec(s, tx, MNI_POLICY_GEN_BUMP, &b, NULL, NULL,
                             "recording a policy change");
    }
    return mni_audit_end(s, tx, au, rc);
}

int mni_op_policy_insert(struct mni_store *s, const mn_policy *p,
                         const struct mni_audit *au)
{
    return change(s, MNI_POLICY_INSERT, p, p->tenant_id, p->id, "adding a policy", au);
}

int mni_op_policy_update(struct mni_store *s, const mn_policy *p,
                         const struct mni_audit *au)
{
    return change(s, MNI_POLICY_UPDATE, p, p->tenant_id, p->id, "updating a policy", au);
}

int mni_op_policy_delete(struct mni_store *s, const char *tenant_id, const char *id,
                         const struct mni_audit *au)
{
    return change(s, MNI_POLICY_DELETE, NULL, tenant_id, id, "deleting a policy", au);
}

int mni_op_policy_get(struct mni_store *s, const char *tenant_id, const char *id,
                      mn_policy **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, id);
    int rc = mni_query_one(s, MNI_POLICY_GET, &a, &mni_map_policy, sizeof **out,
                           mni_policy_clear, (void **)out, "reading a policy");
    if (rc == MN_ENOTFOUND)
        mni_store_no_policy(s->db, "reading a policy", id);
    return rc;
}

int mni_op_policy_list(struct mni_store *s, const char *tenant_id, mn_policies **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mn_policies *l = calloc(1, sizeof *l);
    int rc = l ? mni_query_list(s, MNI_POLICY_LIST, &a, &mni_map_policy, sizeof(mn_policy),
                                mni_policy_clear, (void ***)&l->items, &l->count,
                                "listing policies")
               : mni_seterr(s->db, MN_ENOMEM, "out of memory listing policies");
    if (rc != MN_OK) {
        free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}
