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
    if (!l)
        return;
    mni_limit_clear(l);
    free(l);
}

void mn_ratelimit_limit_list_free(mn_ratelimit_limit_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        mni_limit_clear(&l->items[i]);
    free(l->items);
    free(l);
}
