/* Identities: the agents, users and services that act inside a tenant. */
#include "api/cache.h"
#include "api/audit.h"
#include "api/access.h"
#include "api/metrics.h"
#include "api/actor.h"
#include "api/erase.h"
#include "api/validate.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "core/uuid.h"
#include "api/limiter.h"
#include "store/store.h"

#include <stdlib.h>

#define MNI_EXTERNAL_ID_MAX 256
#define MNI_ROLE_MAX 64

/* May who `action` the identity (id may be NULL for one not made yet)? */
static int check_identity(mn_db *db, struct mni_who *who, const char *action,
                          const char *id, const char *external_id, const char *role)
{
    if (!who->identity)
        return MN_OK;
    cJSON *data = cJSON_CreateObject();
    int rc = data && (!id || cJSON_AddStringToObject(data, "id", id)) &&
             cJSON_AddStringToObject(data, "external_id", external_id) &&
             cJSON_AddStringToObject(data, "role", role)
                 ? mni_access_check(db, who, action, "identity", data)
                 : mni_seterr(db, MN_ENOMEM, "out of memory");
    cJSON_Delete(data);
    return rc;
}

static int identity_create(mn_db *db, const mn_actor *actor, const char *external_id,
                           const char *role, const char *claims, mn_identity **out)
{
    if (!db)
        return mni_err_no_db("mn_identity_create");
    char *claims_json = NULL;
    int rc = mni_check_name(db, "external_id", external_id, MNI_EXTERNAL_ID_MAX);
    if (rc == MN_OK)
        rc = mni_check_not_an_id(db, "external_id", external_id);
    if (rc == MN_OK)
        rc = mni_check_name(db, "role", role ? role : "agent", MNI_ROLE_MAX);
    if (rc == MN_OK)
        rc = mni_check_json_object(db, "claims", claims, NULL, &claims_json);
    struct mni_who who = {0};
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = check_identity(db, &who, "create", NULL, external_id, role ? role : "agent");
    if (rc == MN_OK)
        rc = mni_ratelimit_enforce(db, &who, "identity:create", 1);
    if (rc == MN_OK) {
        char id[MNI_UUID_LEN + 1];
        mn_identity i = { .id = id, .tenant_id = who.tenant->id, .external_id = (char *)external_id,
                          .role = (char *)(role ? role : "agent"), .claims = claims_json,
                          .active = 1 };
        i.created_at = i.updated_at = mni_uuid7(id);
        const char *ids[] = { id };
        struct mni_audit_call au;
        if ((rc = mni_audit_call(db, &who, "identity:create", ids, 1, &au)) == MN_OK)
            rc = db->store->ops->identity_insert(db->store, &i, &au.au);
        mni_cache_bump(db, MNI_SCOPE_DIRECTORY);
        mni_audit_call_release(&au);
        if (rc == MN_OK && out)
            rc = db->store->ops->identity_get(db->store, who.tenant->id, id, out);
    }
    mni_who_release(&who);
    free(claims_json);
    return rc;
}

int mn_identity_create(mn_db *db, const mn_actor *actor, const char *external_id,
                       const char *role, const char *claims, mn_identity **out)
{
    MNI_TIMED(db, identity_create, identity_create(db, actor, external_id, role, claims, out));
}

int mn_identity_get(mn_db *db, const mn_actor *actor, const char *id_or_external_id,
                    mn_identity **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    int rc = mni_require(db, id_or_external_id, "the identity id or external_id");
    if (rc == MN_OK)
        rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = db->store->ops->identity_get(db->store, who.tenant->id, id_or_external_id, out);
    if (rc == MN_OK &&
        (rc = check_identity(db, &who, "read", (*out)->id, (*out)->external_id, (*out)->role))) {
        mn_identity_free(*out);
        *out = NULL;
    }
    mni_who_release(&who);
    return rc;
}

int mn_identity_list(mn_db *db, const mn_actor *actor, mn_identities **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_access_check(db, &who, "list", "identity", NULL);
    if (rc == MN_OK)
        rc = db->store->ops->identity_list(db->store, who.tenant->id, out);
    mni_who_release(&who);
    return rc;
}

/* Resolves the target identity, then applies a change to it by id. */
static int change_identity(mn_db *db, const mn_actor *actor, const char *id_or_external_id,
                           int deactivate)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    mn_identity *target = NULL;
    int rc = mni_require(db, id_or_external_id, "the identity id or external_id");
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = db->store->ops->identity_get(db->store, who.tenant->id, id_or_external_id, &target);
    if (rc == MN_OK)
        rc = check_identity(db, &who, deactivate ? "update" : "delete", target->id,
                            target->external_id, target->role);
    struct mni_audit_call au = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, deactivate ? "identity:deactivate" : "identity:delete",
                            (const char *const *)&target->id, 1, &au);
    if (rc == MN_OK && deactivate)
        rc = db->store->ops->identity_set_active(db->store, who.tenant->id, target->id, 0,
                                                 mni_now_ms(), &au.au);
    else if (rc == MN_OK && (rc = db->store->ops->identity_delete(db->store, who.tenant->id,
                                                                  target->id, &au.au)) == MN_OK)
        mni_erased(db, who.tenant->id);
    /* After the commit, before returning: no later resolution of the actor may come from the
     * cache (a deactivated identity acting on). Also after a failure, which may have come
     * after the commit: an extra bump costs one miss. */
    mni_cache_bump(db, MNI_SCOPE_DIRECTORY);
    mni_audit_call_release(&au);
    mn_identity_free(target);
    mni_who_release(&who);
    return rc;
}

int mn_identity_deactivate(mn_db *db, const mn_actor *actor, const char *id_or_external_id)
{
    return change_identity(db, actor, id_or_external_id, 1);
}

static int identity_delete(mn_db *db, const mn_actor *actor, const char *id_or_external_id)
{
    return change_identity(db, actor, id_or_external_id, 0);
}

int mn_identity_delete(mn_db *db, const mn_actor *actor, const char *id_or_external_id)
{
    MNI_TIMED(db, identity_delete, identity_delete(db, actor, id_or_external_id));
}
