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

void mn_tenant_list_free(mn_tenant_list *l)
{
    if (!l)
        return;
    mni_items_free(l->items, l->count, sizeof *l->items, mni_tenant_clear);
    free(l);
}
