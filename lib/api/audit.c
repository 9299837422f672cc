/* Audit entries of API calls (api/audit.h), and the public calls on a tenant's log: verifying,
 * listing and pruning it. */
#include "api/audit.h"
#include "api/abi_structs.h"
#include "api/access.h"
#include "api/handle.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/metrics.h"
#include "store/store.h"
#include "store/types.h"

#include <limits.h>
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
        .policy_id = who->allowed_by[0] ? who->allowed_by : NULL,
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

#define LIST_DEFAULT 100
#define LIST_MAX 1000

/* f (the caller's copy, checked) as the store's query; *identity_id: the identity named by id or
 * external_id, or the text itself for one that is gone (its entries outlive it). */
static int audit_query(mn_db *db, const struct mni_who *who, const mn_audit_filter *f,
                       char **identity_id, struct mni_audit_query *q)
{
    if (f->limit < 0 || f->limit > LIST_MAX)
        return mni_seterr(db, MN_EINVAL, "mn_audit_filter.limit is %d; give 1 to %d, or 0 for "
                          "%d", f->limit, LIST_MAX, LIST_DEFAULT);
    if (f->since < 0 || f->until < 0 || f->after_seq < 0)
        return mni_seterr(db, MN_EINVAL, "mn_audit_filter: since, until and after_seq are "
                          "times (ms since the epoch) and a seq, none below 0");
    if (f->outcome && strcmp(f->outcome, "ok") != 0 && strcmp(f->outcome, "denied") != 0)
        return mni_seterr(db, MN_EINVAL, "mn_audit_filter.outcome \"%.32s\" is none; give "
                          "\"ok\", \"denied\" or NULL for either", f->outcome);
    if (f->identity) {
        mni_errmark mark = mni_err_mark();
        int rc = mni_who_identity_id(db, who, f->identity, identity_id);
        if (rc == MN_ENOTFOUND) {
            mni_err_forget(mark);
            rc = (*identity_id = strdup(f->identity)) ? MN_OK : MN_ENOMEM;
        }
        if (rc == MN_ENOMEM)
            return mni_seterr(db, rc, "out of memory");
        if (rc != MN_OK)
            return rc;
    }
    *q = (struct mni_audit_query){
        .action = f->action, .identity_id = *identity_id, .resource = f->resource,
        .outcome = f->outcome, .since = f->since, .until = f->until,
        .after_seq = f->after_seq, .limit = f->limit ? f->limit : LIST_DEFAULT,
    };
    return MN_OK;
}

int mn_audit_list(mn_db *db, const mn_actor *actor, const mn_audit_filter *filter,
                  mn_audit_entries **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    mn_audit_filter f;
    struct mni_audit_query q;
    char *identity_id = NULL;
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        *out = NULL;
    if (rc == MN_OK)
        rc = mni_abi_read(db, &mni_abi_audit_filter, filter, 1, &f, sizeof f);
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_access_check(db, &who, "read", "audit", NULL);
    if (rc == MN_OK)
        rc = audit_query(db, &who, &f, &identity_id, &q);
    if (rc == MN_OK)
        rc = db->store->ops->audit_list(db->store, who.tenant->id, &q, out);
    free(identity_id);
    mni_who_release(&who);
    return rc;
}

int mn_audit_prune(mn_db *db, const mn_actor *actor, int64_t older_than_ms, int64_t *removed)
{
    if (!db)
        return mni_err_no_db(__func__);
    if (removed)
        *removed = 0;
    struct mni_who who = {0};
    int64_t n = 0, now = mni_now_ms();
    int rc = MN_OK;
    if (older_than_ms < 0 || older_than_ms > now)
        rc = mni_seterr(db, MN_EINVAL, "mn_audit_prune: older_than_ms is %lld; give an age in "
                        "ms from 0 (every entry made before now) to %lld",
                        (long long)older_than_ms, (long long)now);
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_access_check(db, &who, "delete", "audit", NULL);
    int64_t keep = 0;
    if (rc == MN_OK)
        rc = db->store->ops->audit_retention_get(db->store, who.tenant->id, &keep);
    if (rc == MN_OK && older_than_ms < keep)
        rc = mni_seterr(db, MN_EINVAL, "mn_audit_prune: older_than_ms is %lld, but tenant %s "
                        "keeps its audit entries for %lld ms (mn_audit_retention_set); give "
                        "at least that", (long long)older_than_ms, who.tenant->id,
                        (long long)keep);
    /* A chain that does not verify keeps its entries: pruning them would hide the damage. */
    if (rc == MN_OK)
        rc = db->store->ops->audit_verify(db->store, who.tenant->id, &n);
    struct mni_audit_call c = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, "audit:prune", NULL, 0, &c);
    /* The entry of the prune is made now, so that it is never among those it removes. */
    c.au.at = now;
    if (rc == MN_OK)
        rc = db->store->ops->audit_prune(db->store, who.tenant->id, now - older_than_ms, &n,
                                         &c.au);
    mni_audit_call_release(&c);
    if (rc == MN_OK)
        mni_metrics_inc(db->metrics, MNI_S_MAINTENANCE + MNI_MAINT_AUDIT_PRUNE);
    if (rc == MN_OK && removed)
        *removed = n;
    mni_who_release(&who);
    return rc;
}

void mni_audit_host(struct mni_audit *au, char resources[MNI_AUDIT_HOST_RESOURCES],
                    const char *action, const char *tenant_id)
{
    snprintf(resources, MNI_AUDIT_HOST_RESOURCES, "[\"%s\"]", tenant_id);
    *au = (struct mni_audit){ .tenant_id = tenant_id, .at = mni_now_ms(), .action = action,
                              .resources = resources, .outcome = "ok" };
}

int mn_audit_retention_set(mn_db *db, const mn_actor *actor, int64_t keep_ms)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    int rc = MN_OK;
    if (keep_ms < 0)
        rc = mni_seterr(db, MN_EINVAL, "mn_audit_retention_set: keep_ms is %lld; give how "
                        "long entries are kept in ms, or 0 for no minimum", (long long)keep_ms);
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_access_check(db, &who, "update", "audit", NULL);
    /* The entry names the new retention, as a prune's names the last seq it removed. */
    char ms[24];
    snprintf(ms, sizeof ms, "%lld", (long long)keep_ms);
    const char *ids[] = { ms };
    struct mni_audit_call c = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, "audit:retention", ids, 1, &c);
    if (rc == MN_OK)
        rc = db->store->ops->audit_retention_set(db->store, who.tenant->id, keep_ms, &c.au);
    mni_audit_call_release(&c);
    mni_who_release(&who);
    return rc;
}

int mn_audit_retention_get(mn_db *db, const mn_actor *actor, int64_t *keep_ms)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    int64_t keep = 0;
    int rc = mni_require(db, keep_ms, "keep_ms");
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_access_check(db, &who, "read", "audit", NULL);
    if (rc == MN_OK)
        rc = db->store->ops->audit_retention_get(db->store, who.tenant->id, &keep);
    if (keep_ms)
        *keep_ms = rc == MN_OK ? keep : 0;
    mni_who_release(&who);
    return rc;
}
