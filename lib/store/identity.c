/* Identities: freeing them. Every function accepts NULL. */
#include "store/types.h"

#include <stdlib.h>

void mni_identity_clear(void *item)
{
    mn_identity *i = item;
    free(i->id);
    free(i->tenant_id);
    free(i->external_id);
    free(i->role);
    free(i->claims);
}

void mn_identity_free(mn_identity *i)
{
    mni_one_free(i, mni_identity_clear);
}

void mn_identities_free(mn_identities *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_identity_clear);
    free(l);
}
