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
    free(m->external_key);
    free(m->session);
}

void mn_memory_free(mn_memory *m)
{
    mni_one_free(m, mni_memory_clear);
}

void mn_memories_free(mn_memories *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_memory_clear);
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
    mni_items_free((void **)h->items, h->count, mni_history_entry_clear);
    free(h);
}
