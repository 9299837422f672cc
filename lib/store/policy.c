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
    mni_one_free(p, mni_policy_clear);
}

void mn_policies_free(mn_policies *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_policy_clear);
    free(l);
}
