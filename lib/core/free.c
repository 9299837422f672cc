/* Freeing what the library returns. Every function accepts NULL. */
#include "core/free.h"

#include <stdlib.h>

void mni_items_free(void **items, size_t n, void (*clear)(void *))
{
    for (size_t i = 0; items && i < n; i++) {
        if (clear && items[i])
            clear(items[i]);
        free(items[i]);
    }
    free(items);
}

void mni_tenant_clear(void *item)
{
    mn_tenant *t = item;
    free(t->id);
    free(t->name);
}

void mn_tenant_free(mn_tenant *t)
{
    if (!t)
        return;
    mni_tenant_clear(t);
    free(t);
}

void mn_tenants_free(mn_tenants *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_tenant_clear);
    free(l);
}

void mni_identity_clear(void *item)
{
    mn_identity *i = item;
    free(i->id);
    free(i->tenant_id);
    free(i->external_id);
    free(i->role);
    free(i->claims);
}

void mn_identity_free(mn_identity *i)
{
    if (!i)
        return;
    mni_identity_clear(i);
    free(i);
}

void mn_identities_free(mn_identities *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_identity_clear);
    free(l);
}

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

void mn_strings_free(char **s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

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

void mn_policies_free(mn_policies *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_policy_clear);
    free(l);
}

void mn_decision_free(mn_decision *d)
{
    if (!d)
        return;
    free(d->policy_id);
    free(d->reason);
    free(d);
}
