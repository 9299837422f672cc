#include "api/actor.h"
#include "api/access.h"
#include "api/validate.h"
#include "core/error.h"
#include "api/handle.h"
#include "core/json.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

int mni_require(mn_db *db, const void *p, const char *what)
{
    return p ? MN_OK : mni_seterr(db, MN_EINVAL, "%s is NULL; it is required", what);
}

int mni_who_resolve(mn_db *db, const mn_actor *actor, struct mni_who *who)
{
    memset(who, 0, sizeof *who);
    if (!db)
        return MN_EINVAL;
    if (!actor || !actor->tenant || !*actor->tenant)
        return mni_seterr(db, MN_EINVAL, "no tenant given; every data call acts for a tenant "
                         "(mn_actor.tenant: its id or name)");
    /* The context is checked for every actor, so that a typo never passes unnoticed. */
    if (actor->context) {
        char err[MNI_ERRMSG_MAX];
        /* cJSON passes any bytes through strings; JSON text is UTF-8 (RFC 8259). */
        if (!mni_utf8_valid(actor->context, strlen(actor->context)))
            return mni_seterr(db, MN_EINVAL, "the actor's context is not valid UTF-8; give a JSON "
                             "object in UTF-8");
        int rc = mni_json_object_parse(actor->context, "the actor's context", &who->context, err,
                                      sizeof err);
        if (rc != MN_OK)
            return mni_seterr(db, rc, "%s", err);
    }
    int rc = db->store->ops->actor_get(db->store, actor->tenant, actor->identity, &who->tenant,
                                       &who->identity, &who->policy_gen);
    if (rc != MN_OK || !actor->identity)
        return rc;
    if (!who->identity->active)
        rc = mni_seterr(db, MN_EDENIED, "identity \"%.128s\" is deactivated and may not act",
                       who->identity->external_id);
    /* Policies read the claims and the context: parse them once per call. */
    if (rc == MN_OK && !(who->claims = cJSON_Parse(who->identity->claims)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory reading the claims of \"%.128s\"",
                       who->identity->external_id);
    if (rc == MN_OK && mni_access_key_prepare(db, who) != MN_OK)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    return rc;
}

void mni_who_release(struct mni_who *who)
{
    mn_tenant_free(who->tenant);
    mn_identity_free(who->identity);
    cJSON_Delete(who->claims);
    cJSON_Delete(who->context);
    mni_dkey_who_free(&who->key);
    cJSON_free(who->key_context);
    memset(who, 0, sizeof *who);
}

int mni_who_identity_id(mn_db *db, const struct mni_who *who, const char *id_or_external,
                       char **out)
{
    mn_identity *i;
    int rc = db->store->ops->identity_get(db->store, who->tenant->id, id_or_external, &i);
    if (rc != MN_OK)
        return rc;
    *out = i->id;
    i->id = NULL;
    mn_identity_free(i);
    return MN_OK;
}

int mni_who_owner(mn_db *db, const struct mni_who *who, const char *owner, char **out)
{
    if (owner)
        return mni_who_identity_id(db, who, owner, out);
    if (!who->identity)
        return mni_seterr(db, MN_EINVAL, "no owner for the memory: acting as the tenant itself "
                         "(no identity), name the identity that owns it");
    *out = strdup(who->identity->id);
    return *out ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory");
}
