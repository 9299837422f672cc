/* The audit entry of an API call (store/audit.h): who made it, what it did to which ids. The
 * store appends it inside the change's own write. */
#ifndef MNI_API_AUDIT_H
#define MNI_API_AUDIT_H

#include "api/actor.h"
#include "core/uuid.h"
#include "store/audit.h"

/* An entry and the text it owns. */
struct mni_audit_call {
    struct mni_audit au;
    char *resources, *context;
};

/* Fills c: who does action ("memory:create") on the n ids (ids may be NULL when n is 0), now,
 * "ok". MN_ENOMEM with the message set; release c also after a failure. */
int mni_audit_call(mn_db *db, const struct mni_who *who, const char *action,
                   const char *const *ids, size_t n, struct mni_audit_call *c);
void mni_audit_call_release(struct mni_audit_call *c);

/* The entry of a host call on a whole tenant (its erasure, its re-key): the system actor did
 * action on tenant_id, now, "ok"; resources is the caller's, for the entry's life. */
#define MNI_AUDIT_HOST_RESOURCES (MNI_UUID_LEN + 5)
void mni_audit_host(struct mni_audit *au, char resources[MNI_AUDIT_HOST_RESOURCES],
                    const char *action, const char *tenant_id);

/* Records, in a write of its own, that the policy engine refused who `action` on `resource`
 * (the memory id, or NULL); policy_id: the denying policy, "" for none. Returns MN_EDENIED,
 * the denial's message (set by the caller) kept, or the failure to record it. */
int mni_audit_denied(mn_db *db, const struct mni_who *who, const char *action,
                     const char *resource, const char *memory_id, const char *policy_id);

#endif
