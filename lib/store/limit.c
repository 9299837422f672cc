/* Rate-limit overrides: freeing them. Every function accepts NULL. */
#include "store/types.h"

#include <stdlib.h>

void mni_limit_clear(void *item)
{
    mn_limit *l = item;
    free(l->endpoint);
}

void mn_limit_free(mn_limit *l)
{
    mni_one_free(l, mni_limit_clear);
}

void mn_limits_free(mn_limits *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_limit_clear);
    free(l);
}
