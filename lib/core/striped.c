/*
 * The striped hash table's slow paths (striped.h has the design and the inline lookup):
 * adding with the stripe's bound and bucket growth, removal, sweeps, clearing and teardown.
 */
#include "core/striped.h"
#include "manushya.h"

#include <stdlib.h>
#include <string.h>

#define MIN_BUCKETS 16

int mni_striped_init(struct mni_striped *t, unsigned nstripes, size_t limit,
                     mni_striped_free_fn *free_node, mni_striped_full_fn *full, void *ctx)
{
    unsigned shift = 0;
    while ((1u << shift) < nstripes)
        shift++;
    size_t size = (size_t)1 << shift;
    t->stripes = aligned_alloc(64, size * sizeof *t->stripes);
    if (!t->stripes)
        return MN_ENOMEM;
    memset(t->stripes, 0, size * sizeof *t->stripes);
    for (size_t i = 0; i < size; i++)
        t->stripes[i].limit = limit;
    t->mask = size - 1;
    t->shift = shift;
    t->free_node = free_node;
    t->full = full;
    t->ctx = ctx;
    return MN_OK;
}

void mni_striped_destroy(struct mni_striped *t)
{
    if (!t->stripes)
        return;
    for (size_t i = 0; i <= t->mask; i++)
        mni_striped_clear(t, &t->stripes[i]);
    free(t->stripes);
    t->stripes = NULL;
}

static size_t bucket(const struct mni_striped *t, size_t nbuckets, uint64_t hash)
{
    return (hash >> t->shift) & (nbuckets - 1);
}

/* Doubles the bucket array (best effort: on no memory the chains grow longer). */
static void grow(const struct mni_striped *t, struct mni_striped_stripe *s)
{
    size_t nb = s->nbuckets ? s->nbuckets * 2 : MIN_BUCKETS;
    struct mni_striped_node **nbk = calloc(nb, sizeof *nbk);
    if (!nbk)
        return;
    for (size_t b = 0; b < s->nbuckets; b++)
        for (struct mni_striped_node *n = s->buckets[b], *next; n; n = next) {
            next = n->next;
            size_t i = bucket(t, nb, n->hash);
            n->next = nbk[i];
            nbk[i] = n;
        }
    free(s->buckets);
    s->buckets = nbk;
    s->nbuckets = nb;
}

int mni_striped_add(struct mni_striped *t, struct mni_striped_stripe *s,
                    struct mni_striped_node *node, void *arg)
{
    if (s->n >= s->limit) {
        if (t->full)
            t->full(t, s, arg);
        else
            mni_striped_clear(t, s);
    }
    if (s->n >= s->nbuckets)
        grow(t, s);
    if (!s->nbuckets)
        return MN_ENOMEM;
    struct mni_striped_node **head = &s->buckets[bucket(t, s->nbuckets, node->hash)];
    node->next = *head;
    *head = node;
    s->n++;
    return MN_OK;
}

void mni_striped_put(struct mni_striped *t, struct mni_striped_node *node, mni_striped_eq_fn *eq,
                     const void *key, void *arg)
{
    struct mni_striped_stripe *s = mni_striped_at(t, node->hash);
    mni_striped_lock(s);
    struct mni_striped_node *old = mni_striped_find(t, s, node->hash, eq, key);
    if (old)
        mni_striped_delete(t, s, old);
    int rc = mni_striped_add(t, s, node, arg);
    mni_striped_unlock(s);
    if (rc != MN_OK)
        t->free_node(node, t->ctx);
}

void mni_striped_delete(struct mni_striped *t, struct mni_striped_stripe *s,
                        struct mni_striped_node *node)
{
    struct mni_striped_node **p = &s->buckets[bucket(t, s->nbuckets, node->hash)];
    while (*p != node)
        p = &(*p)->next;
    *p = node->next;
    s->n--;
    t->free_node(node, t->ctx);
}

size_t mni_striped_sweep(struct mni_striped *t, struct mni_striped_stripe *s,
                         mni_striped_drop_fn *drop, void *arg)
{
    size_t dropped = 0;
    for (size_t b = 0; b < s->nbuckets; b++)
        for (struct mni_striped_node **p = &s->buckets[b]; *p;) {
            struct mni_striped_node *n = *p;
            if (!drop(n, arg)) {
                p = &n->next;
                continue;
            }
            *p = n->next;
            t->free_node(n, t->ctx);
            dropped++;
        }
    s->n -= dropped;
    return dropped;
}

void mni_striped_clear(struct mni_striped *t, struct mni_striped_stripe *s)
{
    for (size_t b = 0; b < s->nbuckets; b++)
        for (struct mni_striped_node *n = s->buckets[b], *next; n; n = next) {
            next = n->next;
            t->free_node(n, t->ctx);
        }
    free(s->buckets);
    s->buckets = NULL;
    s->nbuckets = s->n = 0;
}
