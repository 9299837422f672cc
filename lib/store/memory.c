/* Memories and their history: freeing them. Every function accepts NULL. */
#include "store/types.h"

#include <stdlib.h>

void mni_memory_clear(void *item)
{
    mn_memory *m = item;
    free(m->id);
    free(m->tenant_id);
    free(m->identity_id);
    free(m->text);
    free(m->type);
    free(m->metadata);
    free(m->embedding);
    free(m->embed_error);
}

void mn_memory_free(mn_memory *m)
{
    if (!m)
        return;
    mni_memory_clear(m);
    free(m);
}

void mn_memory_list_free(mn_memory_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        mni_memory_clear(&l->items[i]);
    free(l->items);
    free(l->next_cursor);
    free(l);
}

void mni_history_entry_clear(void *item)
{
    mn_history_entry *h = item;
    free(h->changed_by);
    free(h->before);
    free(h->after);
}

void mn_history_free(mn_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->count; i++)
        mni_history_entry_clear(&h->items[i]);
    free(h->items);
    free(h);
}
