/* Tenants: the top of the data model. Every other row belongs to exactly one. */
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
#include "policy/policy.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MNI_TENANT_NAME_MAX 128

static int check_tenant_name(mn_db *db, const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > MNI_TENANT_NAME_MAX ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != len)
        return mni_seterr(db, MN_EINVAL, "tenant name \"%.160s\" is not allowed; use 1..%d "
                         "letters, digits, '-', '_' or '.'", name ? name : "",
                         MNI_TENANT_NAME_MAX);
    return mni_check_not_an_id(db, "tenant name", name);
}

/* The default policies of a new tenant (policy/policy_defaults.c), as rows for it. */
struct defaults {
    cJSON *parsed;
    mn_policy *rows;
    char (*ids)[MNI_UUID_LEN + 1];
    char **rules;
    size_t n;
};

static void defaults_free(struct defaults *d)
{
    for (size_t i = 0; d->rules && i < d->n; i++)
        cJSON_free(d->rules[i]);
    free(d->rules);
    free(d->ids);
    free(d->rows);
    cJSON_Delete(d->parsed);
}

static int defaults_make(mn_db *db, const char *tenant_id, int64_t now, struct defaults *d)
{
    memset(d, 0, sizeof *d);
    d->parsed = cJSON_Parse(mni_policy_defaults);
    d->n = (size_t)cJSON_GetArraySize(d->parsed);
    d->rows = calloc(d->n + 1, sizeof *d->rows);
    d->ids = calloc(d->n + 1, sizeof *d->ids);
    d->rules = calloc(d->n + 1, sizeof *d->rules);
    if (!d->parsed || !d->rows || !d->ids || !d->rules)
        return mni_seterr(db, MN_ENOMEM, "out of memory preparing the default policies");
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, d->parsed) {
        d->rules[i] = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(item, "rule"));
        if (!d->rules[i])
            return mni_seterr(db, MN_ENOMEM, "out of memory preparing the default policies");
        mni_uuid7(d->ids[i]);
        d->rows[i] = (mn_policy){
            .id = d->ids[i], .tenant_id = (char *)tenant_id,
            .role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "role")),
            .rule = d->rules[i],
            .priority = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(item,
                                                                                 "priority")),
            .active = 1,
            .description = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item,
                                                                                "description")),
            .created_at = now, .updated_at = now,
        };
        i++;
    }
    return MN_OK;
}

static int tenant_create(mn_db *db, const char *name, mn_tenant **out)
{
    if (!db)
        return mni_err_no_db("mn_tenant_create");
    int rc = check_tenant_name(db, name);
    if (rc != MN_OK)
        return rc;
    char id[MNI_UUID_LEN + 1];
    mn_tenant t = { .id = id, .name = (char *)name };
    t.created_at = mni_uuid7(id);
    struct defaults d;
    rc = defaults_make(db, id, t.created_at, &d);
    if (rc == MN_OK)
        rc = db->store->ops->tenant_insert(db->store, &t, d.rows, d.n);
    if (rc == MN_OK && out)
        rc = db->store->ops->tenant_get(db->store, id, out);
    defaults_free(&d);
    return rc;
}

int mn_tenant_create(mn_db *db, const char *name, mn_tenant **out)
{
    MNI_TIMED(db, tenant_create, tenant_create(db, name, out));
}

/* Tenants that never had a policy are those of a database made before the default policies
 * existed: since every tenant is made with them, a database is looked through once, and the
 * meta key DEFAULTS_KEY says it was. The key costs an open a lookup in a table it has read
 * already; the look through, a statement on the tenants and policies tables that a fresh
 * PostgreSQL session plans from cold catalog caches (2-3 ms of the server's time). */
#define DEFAULTS_KEY "default_policies"

int mni_tenant_install_default_policies(mn_db *db)
{
    char *done = NULL;
    int rc = db->store->ops->meta_get(db->store, DEFAULTS_KEY, &done);
    int looked = done != NULL;
    free(done);
    if (rc != MN_OK || looked)
        return rc;
    mn_tenants *l = NULL;
    rc = db->store->ops->tenant_list_unruled(db->store, &l);
    for (size_t t = 0; rc == MN_OK && t < l->count; t++) {
        struct defaults d;
        rc = defaults_make(db, l->items[t]->id, mni_now_ms(), &d);
        for (size_t i = 0; rc == MN_OK && i < d.n; i++)
            rc = db->store->ops->policy_insert(db->store, &d.rows[i], NULL);
        defaults_free(&d);
    }
    if (l && l->count)
        mni_cache_bump(db, MNI_SCOPE_DIRECTORY); /* their policy generations moved */
    mn_tenants_free(l);
    return rc == MN_OK ? db->store->ops->meta_add(db->store, DEFAULTS_KEY, "1") : rc;
}

int mn_tenant_get(mn_db *db, const char *id_or_name, mn_tenant **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    int rc = mni_require(db, id_or_name, "the tenant id or name");
    if (rc == MN_OK)
        rc = mni_require(db, out, "out");
    return rc == MN_OK ? db->store->ops->tenant_get(db->store, id_or_name, out) : rc;
}

int mn_tenant_list(mn_db *db, mn_tenants **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    int rc = mni_require(db, out, "out");
    return rc == MN_OK ? db->store->ops->tenant_list(db->store, out) : rc;
}

/* A host operation, as creating one: no actor, no policy (a tenant's policies could not
 * stand in the way of erasing it). */
static int tenant_delete(mn_db *db, const char *id_or_name)
{
    if (!db)
        return mni_err_no_db("mn_tenant_delete");
    mn_tenant *t = NULL;
    int rc = mni_require(db, id_or_name, "the tenant id or name");
    if (rc == MN_OK && !*id_or_name)
        rc = mni_seterr(db, MN_EINVAL, "the tenant id or name is empty; give the id or the "
                        "name of the tenant to delete");
    if (rc == MN_OK)
        rc = db->store->ops->tenant_get(db->store, id_or_name, &t);
    /* The audit log keeps the fact (the host, as the system actor, erased the tenant), never
     * what was erased. */
    char resources[MNI_AUDIT_HOST_RESOURCES];
    struct mni_audit au;
    if (rc == MN_OK) {
        mni_audit_host(&au, resources, "tenant:delete", t->id);
        rc = db->store->ops->tenant_delete(db->store, t->id, &au);
        mni_cache_bump(db, MNI_SCOPE_DIRECTORY); /* its name may be taken by a new tenant */
        mni_cache_bump(db, t->id);
    }
    if (rc == MN_OK)
        mni_erased(db, t->id);
    mn_tenant_free(t);
    return rc;
}

int mn_tenant_delete(mn_db *db, const char *id_or_name)
{
    MNI_TIMED(db, tenant_delete, tenant_delete(db, id_or_name));
}
