/* Erasure, above the store (api/erase.h). */
#include "api/erase.h"
#include "store/vault.h"
#include "api/apikey.h"
#include "api/handle.h"
#include "api/limiter.h"
#include "index/vindex.h"

void mni_erased(mn_db *db, const char *tenant_id)
{
    if (db->index)
        mni_vindex_forget(db->index, tenant_id);
    mni_apikeys_invalidate(db);
    mni_rl_targets_invalidate(db);
    mni_vault_forget(db->store, tenant_id, 0);
}
