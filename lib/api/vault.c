/* Encryption at rest, the public calls: master keys, re-keying a tenant (store/vault.h). */
#include "api/actor.h"
#include "api/audit.h"
#include "api/handle.h"
#include "crypto/master_key.h"
#include "core/error.h"
#include "store/driver.h"
#include "store/vault.h"

#include <stdlib.h>

#define MAX_REKEY_BATCH 100000

int mn_master_key_create(const char *path)
{
    if (!path || !*path)
        return mni_seterr(NULL, MN_EINVAL, "mn_master_key_create: no path; give the file to "
                          "write the new key to");
    return mni_master_key_create(NULL, path);
}

int mn_db_encrypted(const mn_db *db)
{
    return db && db->store && db->store->vault;
}

int mn_master_key_rotate(mn_db *db, const char *new_key_file)
{
    if (!db)
        return mni_err_no_db(__func__);
    int rc = mni_require(db, new_key_file, "the new master key file");
    return rc == MN_OK ? mni_vault_rotate_master(db->store, new_key_file) : rc;
}

int mn_tenant_rekey(mn_db *db, const char *id_or_name, size_t batch, int *done)
{
    if (!db)
        return mni_err_no_db(__func__);
    int rc = mni_require(db, done, "done");
    if (rc != MN_OK)
        return rc;
    *done = 0;
    rc = mni_require(db, id_or_name, "the tenant id or name");
    if (rc == MN_OK && !db->store->vault)
        rc = mni_seterr(db, MN_EINVAL, "mn_tenant_rekey: this database is not encrypted, so "
                        "its tenants have no data keys");
    if (rc == MN_OK && (batch == 0 || batch > MAX_REKEY_BATCH))
        rc = mni_seterr(db, MN_EINVAL, "mn_tenant_rekey: batch is %zu; give 1..%d rows per "
                        "write", batch, MAX_REKEY_BATCH);
    mn_tenant *t = NULL;
    if (rc == MN_OK)
        rc = db->store->ops->tenant_get(db->store, id_or_name, &t);
    /* The audit keeps the fact: the host, as the system actor, re-keyed the tenant. */
    char resources[MNI_AUDIT_HOST_RESOURCES];
    struct mni_audit au;
    if (rc == MN_OK) {
        mni_audit_host(&au, resources, "tenant:rekey", t->id);
        rc = mni_op_rekey_step(db->store, t->id, batch, &au, done);
    }
    mn_tenant_free(t);
    return rc;
}
