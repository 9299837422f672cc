/* Who a call acts for: the actor resolved against the store, and the checks every call shares. */
#ifndef MNI_API_ACTOR_H
#define MNI_API_ACTOR_H

#include "manushya.h"
#include "api/apikey.h"
#include "core/uuid.h"
#include "policy/decision_key.h"

#include <cJSON.h>
#include <stdint.h>

struct mni_who {
    mn_tenant *tenant;
    mn_identity *identity;  /* NULL for the tenant's system actor */
    cJSON *claims;          /* the identity's claims, parsed (NULL for the system actor) */
    cJSON *context;         /* mn_actor.context, parsed (NULL when none) */
    int64_t policy_gen;     /* the tenant's policy generation when the call began */
    const char *listing;    /* the list or search action being checked (api/access.c) */
    /* Who asks, as the decision cache keys it (policy/decision_key.h), made once per call for
     * every decision of the call (api/access.c); key_context: the context's JSON text. */
    mni_dkey_who key;
    char *key_context;
    struct mni_apikey_grant apikey; /* acting by API key: what it grants (id "" otherwise) */
    /* The policy that allowed the call's last access check (api/access.c), which its audit
     * entry names; "" for none (the system actor, or no check yet). */
    char allowed_by[MNI_UUID_LEN + 1];
};

/* Copies the caller's actor into *actor (as its version has it) and checks it names a tenant:
 * MN_EINVAL otherwise. An actor given by API key is verified into *g (release it, also after
 * a failure), and *actor names the key's tenant and identity by id from it. */
int mni_actor_read(mn_db *db, const mn_actor *in, mn_actor *actor, struct mni_apikey_grant *g);

/* Resolves actor (tenant by id or name, identity by id or external_id). MN_EINVAL when actor
 * or its tenant is missing, MN_ENOTFOUND when one does not exist, MN_EDENIED when the
 * identity is deactivated. Release with mni_who_release (also after a failure). */
int mni_who_resolve(mn_db *db, const mn_actor *actor, struct mni_who *who);
void mni_who_release(struct mni_who *who);

/* The identity id that owns a new memory: `owner` (id or external_id) if given, else the
 * actor's identity; *out is malloc'd. MN_EINVAL when the system actor names no owner. */
int mni_who_owner(mn_db *db, const struct mni_who *who, const char *owner, char **out);

/* The id of the identity named by id_or_external in the actor's tenant (for filters). */
int mni_who_identity_id(mn_db *db, const struct mni_who *who, const char *id_or_external,
                       char **out);

/* MN_EINVAL naming `what` when p is NULL (a required argument). */
int mni_require(mn_db *db, const void *p, const char *what);

#endif
