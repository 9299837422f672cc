/* Audit entries of API calls (api/audit.h), and verifying a tenant's chain (the public call). */
#include "api/audit.h"
#include "api/access.h"
#include "api/handle.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mni_audit_call(mn_db *db, const struct mni_who *who, const char *action,
                   const char *const *ids, size_t n, struct mni_audit_call *c)
{
    memset(c, 0, sizeof *c);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(ids[i]))) {
            cJSON_Delete(a);
            a = NULL;
        }
    c->resources = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    /* The context as the decision cache printed it for an identity; the system actor's too. */
    const char *context = who->key_context;
    if (!context && who->context)
        context = c->context = cJSON_PrintUnformatted(who->context);
    if (!c->resources || (who->context && !context))
        return mni_seterr(db, MN_ENOMEM, "out of memory recording the change in the audit log");
    c->au = (struct mni_audit){
        .tenant_id = who->tenant->id, .at = mni_now_ms(),
        .identity_id = who->identity ? who->identity->id : NULL,
        .apikey_id = who->apikey.id[0] ? who->apikey.id : NULL,
        .action = action, .resources = c->resources, .outcome = "ok", .context = context,
    };
    return MN_OK;
}

void mni_audit_call_release(struct mni_audit_call *c)
{
    cJSON_free(c->resources);
    cJSON_free(c->context);
    memset(c, 0, sizeof *c);
}

int mni_audit_denied(mn_db *db, const struct mni_who *who, const char *action,
                     const char *resource, const char *memory_id, const char *policy_id)
{
    char name[160];
    snprintf(name, sizeof name, "%s:%s", resource, action);
    struct mni_audit_call c;
    int rc = mni_audit_call(db, who, name, &memory_id, memory_id ? 1 : 0, &c);
    c.au.outcome = "denied";
    c.au.policy_id = policy_id && policy_id[0] ? policy_id : NULL;
    if (rc == MN_OK)
        rc = db->store->ops->audit_record(db->store, &c.au);
    mni_audit_call_release(&c);
    return rc == MN_OK ? MN_EDENIED : rc;
}

int mn_audit_verify(mn_db *db, const mn_actor *actor, int64_t *checked)
{
    if (!db)
        return mni_err_no_db(__func__);
    if (checked)
        *checked = 0;
    struct mni_who who = {0};
    int64_t n = 0;
    int rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_access_check(db, &who, "read", "audit", NULL);
    if (rc == MN_OK)
        rc = db->store->ops->audit_verify(db->store, who.tenant->id, &n);
    if (checked)
        *checked = n;
    mni_who_release(&who);
    return rc;
}
