/* Policies: freeing them. Every function accepts NULL. */
#include "store/types.h"

#include <stdlib.h>

void mni_policy_clear(void *item)
{
    mn_policy *p = item;
    free(p->id);
    free(p->tenant_id);
    free(p->role);
    free(p->rule);
    free(p->description);
}

void mn_policy_free(mn_policy *p)
{
    if (!p)
        return;
    mni_policy_clear(p);
    free(p);
}

void mn_policy_list_free(mn_policy_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        mni_policy_clear(&l->items[i]);
    free(l->items);
    free(l);
}
