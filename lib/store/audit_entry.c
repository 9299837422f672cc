/* Audit entries: freeing them. Every function accepts NULL. */
#include "store/types.h"

#include <stdlib.h>

void mni_audit_entry_clear(void *entry)
{
    mn_audit_entry *e = entry;
    free(e->identity_id);
    free(e->apikey_id);
    free(e->action);
    free(e->resources);
    free(e->outcome);
    free(e->policy_id);
    free(e->context);
    free(e->prev_hash);
    free(e->hash);
}

void mn_audit_entry_free(mn_audit_entry *e)
{
    mni_one_free(e, mni_audit_entry_clear);
}

void mn_audit_entries_free(mn_audit_entries *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_audit_entry_clear);
    free(l);
}
