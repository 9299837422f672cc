/*
 * The library's one concurrent hash table: split into stripes, each with its own lock (a spin
 * lock: what it guards is a short chain walk), so threads working on different keys rarely
 * wait on one another. The caller allocates its entries, each embedding a struct
 * mni_striped_node, and gives the table the entries' hash (mni_hash64 of their key) and an
 * equality test; the table links, finds, bounds and frees them.
 *
 * A hash's low bits pick the stripe, the bits above its bucket, so the two do not correlate.
 * A stripe's bucket array doubles when it holds as many entries as buckets, so chains stay
 * short whatever the number of keys. Each stripe has a bound, limit: adding to a stripe that
 * holds limit entries first calls the table's full callback, which makes room (mni_striped_
 * sweep, _delete, _clear) or moves the bound; with none, the stripe starts over (cleared),
 * the cheapest bound for a cache with no order to keep.
 *
 * The functions below that take a stripe want it locked (mni_striped_lock), so that a caller
 * may find, decide and add under one lock; mni_striped_put and _destroy lock themselves.
 */
#ifndef MNI_CORE_STRIPED_H
#define MNI_CORE_STRIPED_H

#include "core/spin.h"

#include <stddef.h>
#include <stdint.h>

struct mni_striped_node {
    struct mni_striped_node *next;
    uint64_t hash;
};

/* The entry of type holding node as member. */
#define MNI_STRIPED_ENTRY(node, type, member) \
    ((type *)((char *)(node) - offsetof(type, member)))

/* Aligned to a cache line so that threads on neighbouring stripes do not share one. */
struct mni_striped_stripe {
    mni_spin mu;
    struct mni_striped_node **buckets;
    size_t nbuckets;                   /* 0 or a power of two */
    size_t n;                          /* entries */
    size_t limit;                      /* adding at n >= limit calls the full callback first */
} __attribute__((aligned(64)));

struct mni_striped;
/* Frees an entry the table dropped (ctx: the table's). */
typedef void mni_striped_free_fn(struct mni_striped_node *node, void *ctx);
/* Makes room in the locked stripe s, which holds s->limit entries (arg: mni_striped_add's). */
typedef void mni_striped_full_fn(struct mni_striped *t, struct mni_striped_stripe *s, void *arg);
/* 1 when node's entry has key (whatever the caller looks up by). */
typedef int mni_striped_eq_fn(const struct mni_striped_node *node, const void *key);
/* 1 to drop node's entry in a sweep (it may update the entries it keeps). */
typedef int mni_striped_drop_fn(struct mni_striped_node *node, void *arg);

struct mni_striped {
    struct mni_striped_stripe *stripes;
    uint64_t mask;                     /* stripes - 1 */
    unsigned shift;                    /* log2(stripes): the hash's bits above pick the bucket */
    mni_striped_free_fn *free_node;
    mni_striped_full_fn *full;         /* NULL: a full stripe is cleared */
    void *ctx;
};

/* Makes an empty table of nstripes stripes (rounded up to a power of two), each bounded by
 * limit entries at first (SIZE_MAX: none). MN_OK or MN_ENOMEM. */
int mni_striped_init(struct mni_striped *t, unsigned nstripes, size_t limit,
                     mni_striped_free_fn *free_node, mni_striped_full_fn *full, void *ctx);
/* Frees every entry (free_node) and the table's own memory; no other thread may use it. */
void mni_striped_destroy(struct mni_striped *t);

static inline struct mni_striped_stripe *mni_striped_at(const struct mni_striped *t, uint64_t hash)
{
    return &t->stripes[hash & t->mask];
}

static inline void mni_striped_lock(struct mni_striped_stripe *s)
{
    mni_spin_lock(&s->mu);
}

static inline void mni_striped_unlock(struct mni_striped_stripe *s)
{
    mni_spin_unlock(&s->mu);
}

/* The entry of the locked stripe s with key, or NULL. Inline, so that a constant eq is too:
 * a lookup is then a hash, one lock and a short chain walk with no call. */
static inline struct mni_striped_node *mni_striped_find(const struct mni_striped *t,
                                                        const struct mni_striped_stripe *s,
                                                        uint64_t hash, mni_striped_eq_fn *eq,
                                                        const void *key)
{
    if (!s->nbuckets)
        return NULL;
    struct mni_striped_node *n = s->buckets[(hash >> t->shift) & (s->nbuckets - 1)];
    for (; n; n = n->next)
        if (n->hash == hash && eq(n, key))
            return n;
    return NULL;
}

/* Adds node (its hash set) to the locked stripe s, which must be mni_striped_at(t, node->hash)
 * and hold no entry with its key; a full stripe is made room in first (arg goes to the full
 * callback). MN_OK, or MN_ENOMEM when the stripe has no bucket array and none could be made
 * (node not added: still the caller's). */
int mni_striped_add(struct mni_striped *t, struct mni_striped_stripe *s,
                    struct mni_striped_node *node, void *arg);
/* Adds node in place of the entry with key, if any, locking its stripe: for a cache, whose
 * lookup and insert are apart, so that another thread may have added the key in between.
 * Best effort: without memory for buckets node is freed (free_node). */
void mni_striped_put(struct mni_striped *t, struct mni_striped_node *node, mni_striped_eq_fn *eq,
                     const void *key, void *arg);
/* Unlinks node from the locked stripe s and frees it (free_node). */
void mni_striped_delete(struct mni_striped *t, struct mni_striped_stripe *s,
                        struct mni_striped_node *node);
/* Frees the entries of the locked stripe s for which drop(node, arg) is 1; how many. drop sees
 * every entry once, so it may also note what it keeps (valid until the stripe is unlocked). */
size_t mni_striped_sweep(struct mni_striped *t, struct mni_striped_stripe *s,
                         mni_striped_drop_fn *drop, void *arg);
/* Frees every entry of the locked stripe s and its bucket array. */
void mni_striped_clear(struct mni_striped *t, struct mni_striped_stripe *s);

#endif
