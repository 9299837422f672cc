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
    if (!i)
        return;
    mni_identity_clear(i);
    free(i);
}

void mn_identity_list_free(mn_identity_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        mni_identity_clear(&l->items[i]);
    free(l->items);
    free(l);
}
