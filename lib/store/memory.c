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
    mni_one_free(m, mni_memory_clear);
}

void mn_memory_list_free(mn_memory_list *l)
{
    if (!l)
        return;
    mni_items_free(l->items, l->count, sizeof *l->items, mni_memory_clear);
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
    mni_items_free(h->items, h->count, sizeof *h->items, mni_history_entry_clear);
    free(h);
}
