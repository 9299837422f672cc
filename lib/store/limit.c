/* Rate-limit overrides: freeing them. Every function accepts NULL. */
#include "store/types.h"

#include <stdlib.h>

void mni_limit_clear(void *item)
{
    mn_ratelimit_limit *l = item;
    free(l->endpoint);
}

void mn_ratelimit_limit_free(mn_ratelimit_limit *l)
{
    mni_one_free(l, mni_limit_clear);
}

void mn_ratelimit_limit_list_free(mn_ratelimit_limit_list *l)
{
    if (!l)
        return;
    mni_items_free(l->items, l->count, sizeof *l->items, mni_limit_clear);
    free(l);
}
