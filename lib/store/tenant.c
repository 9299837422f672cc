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
    mni_one_free(t, mni_tenant_clear);
}

void mn_tenants_free(mn_tenants *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_tenant_clear);
    free(l);
}
