#include "api/actor.h"
#include "api/abi_structs.h"
#include "api/access.h"
#include "api/cache.h"
#include "api/validate.h"
#include "core/error.h"
#include "api/handle.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

int mni_require(mn_db *db, const void *p, const char *what)
{
    return p ? MN_OK : mni_seterr(db, MN_EINVAL, "%s is NULL; it is required", what);
}

/* The key stands for its tenant and identity: naming them as well could only disagree. */
static int read_key(mn_db *db, mn_actor *actor, struct mni_apikey_grant *g)
{
    if (actor->tenant || actor->identity)
        return mni_seterr(db, MN_EINVAL, "the actor has an API key and a tenant or identity; "
                          "give one or the other (the key stands for its tenant and identity)");
    int rc = mni_apikey_check(db, actor->api_key, g, NULL);
    if (rc == MN_OK) {
        actor->tenant = g->tenant_id;
        actor->identity = g->identity_id;
    }
    return rc;
}

int mni_actor_read(mn_db *db, const mn_actor *in, mn_actor *actor, struct mni_apikey_grant *g)
{
    memset(g, 0, sizeof *g);
    if (!in)
        return mni_seterr(db, MN_EINVAL, "no actor given; every data call acts for a tenant "
                          "(an mn_actor whose tenant is its id or name)");
    int rc = mni_abi_read(db, &mni_abi_actor, in, 0, actor, sizeof *actor);
    if (rc == MN_OK && actor->api_key)
        rc = read_key(db, actor, g);
    if (rc == MN_OK && (!actor->tenant || !*actor->tenant))
        rc = mni_seterr(db, MN_EINVAL, "no tenant given; every data call acts for a tenant "
                        "(mn_actor.tenant: its id or name)");
    /* Only NULL means the system actor: an empty string is a name gone missing on its way
     * here (an unset variable), and must not turn into the most trusted actor. */
    if (rc == MN_OK && actor->identity && !*actor->identity)
        rc = mni_seterr(db, MN_EINVAL, "the actor's identity is an empty string; give an "
                        "identity id or external_id, or NULL to act as the tenant's system actor");
    return rc;
}

int mni_who_resolve(mn_db *db, const mn_actor *in, struct mni_who *who)
{
    memset(who, 0, sizeof *who);
    if (!db)
        return mni_err_no_db(__func__);
    mn_actor copy;
    const mn_actor *actor = &copy;
    int rc = mni_actor_read(db, in, &copy, &who->apikey);
    if (rc != MN_OK)
        return rc;
    /* The context is checked for every actor, so that a typo never passes unnoticed. */
    if (actor->context) {
        rc = mni_check_json_object(db, "the actor's context", actor->context, &who->context, NULL);
        if (rc != MN_OK)
            return rc;
    }
    rc = mni_cached_actor_get(db, actor->tenant, actor->identity, &who->tenant, &who->identity,
                              &who->policy_gen);
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
    mni_apikey_grant_release(&who->apikey);
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
