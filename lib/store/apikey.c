/* API keys: freeing them. Every function accepts NULL. */
#include "store/store.h"
#include "store/types.h"

#include <stdlib.h>

void mni_apikey_clear(void *item)
{
    mn_apikey *k = item;
    free(k->id);
    free(k->tenant_id);
    free(k->identity_id);
    free(k->scopes);
}

void mni_apikey_row_clear(void *item)
{
    struct mni_apikey_row *r = item;
    mni_apikey_clear(&r->key);
    free(r->hash);
}

void mn_apikey_free(mn_apikey *k)
{
    mni_one_free(k, mni_apikey_clear);
}

void mn_apikeys_free(mn_apikeys *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_apikey_clear);
    free(l);
}
