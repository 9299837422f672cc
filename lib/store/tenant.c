/* Tenants: freeing them. Every function accepts NULL. */
#include "store/types.h"

#include <stdlib.h>

void mni_tenant_clear(void *item)
{
    mn_tenant *t = item;
    free(t->id);
    free(t->name);
}

void mn_tenant_free(mn_tenant *t)
{
    if (!t)
        return;
    mni_tenant_clear(t);
    free(t);
}

void mn_tenant_list_free(mn_tenant_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        mni_tenant_clear(&l->items[i]);
    free(l->items);
    free(l);
}
