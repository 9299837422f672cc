/* Freeing what the library returns. Every function accepts NULL. */
#include "core/free.h"

#include <stdlib.h>

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

void mn_tenant_list_free(mn_tenant_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        mni_tenant_clear(&l->items[i]);
    free(l->items);
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

void mn_identity_list_free(mn_identity_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        mni_identity_clear(&l->items[i]);
    free(l->items);
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

void mn_policy_list_free(mn_policy_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        mni_policy_clear(&l->items[i]);
    free(l->items);
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
