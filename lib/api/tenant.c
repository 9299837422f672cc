/* Tenants: the top of the data model. Every other row belongs to exactly one. */
#include "api/actor.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/handle.h"
#include "core/uuid.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define MN_TENANT_NAME_MAX 128

static int check_tenant_name(mn_db *db, const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > MN_TENANT_NAME_MAX ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != len)
        return mn_seterr(db, MN_EINVAL, "tenant name \"%.160s\" is not allowed; use 1..%d "
                         "letters, digits, '-', '_' or '.'", name ? name : "",
                         MN_TENANT_NAME_MAX);
    return MN_OK;
}

int mn_tenant_create(mn_db *db, const char *name, mn_tenant **out)
{
    if (!db)
        return MN_EINVAL;
    int rc = check_tenant_name(db, name);
    if (rc != MN_OK)
        return rc;
    char id[MN_UUID_LEN + 1];
    mn_tenant t = { .id = id, .name = (char *)name };
    t.created_at = mn_uuid7(id);
    if (t.created_at < 0)
        return mn_seterr(db, MN_ERROR, "the system gave no randomness for a new id");
    rc = db->store->ops->tenant_insert(db->store, &t);
    if (rc == MN_OK && out)
        rc = db->store->ops->tenant_get(db->store, id, out);
    return rc;
}

int mn_tenant_get(mn_db *db, const char *id_or_name, mn_tenant **out)
{
    if (!db)
        return MN_EINVAL;
    int rc = mn_require(db, id_or_name, "the tenant id or name");
    if (rc == MN_OK)
        rc = mn_require(db, out, "out");
    return rc == MN_OK ? db->store->ops->tenant_get(db->store, id_or_name, out) : rc;
}

int mn_tenant_list_all(mn_db *db, mn_tenant_list **out)
{
    if (!db)
        return MN_EINVAL;
    int rc = mn_require(db, out, "out");
    return rc == MN_OK ? db->store->ops->tenant_list(db->store, out) : rc;
}
