/* A memory's history, written once over the driver (driver.h). */
#include "store/driver.h"
#include "store/types.h"
#include "store/vault.h"
#include "core/error.h"

#include <stdlib.h>

int mni_op_memory_history(struct mni_store *s, const char *tenant_id, const char *id,
                          mn_history **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, id);
    mn_history *h = calloc(1, sizeof *h);
    int rc = h ? mni_query_list(s, MNI_HISTORY_LIST, &a, &mni_map_history,
                                sizeof(mn_history_entry), mni_history_entry_clear,
                                (void ***)&h->items, &h->count, "reading a history")
               : mni_seterr(s->db, MN_ENOMEM, "out of memory reading a history");
    if (rc == MN_OK)
        rc = mni_vault_open_history(s, tenant_id, id, h);
    if (rc != MN_OK && h)
        mn_history_free(h);
    if (rc != MN_OK)
        h = NULL;
    *out = h;
    return rc;
}
