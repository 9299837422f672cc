/*
 * The in-process cache: core/striped.h's table, each stripe with its own LRU list and an equal
 * share of the byte budget, so that a put evicts within the stripe it already holds locked.
 * Generations are a fixed array of counters indexed by the scope's hash, one for the process,
 * so that a write through any handle of it (on any database) invalidates what every handle
 * cached: two scopes sharing a counter only invalidate each other more often, never less.
 * Other processes' writes reach no counter here: entries live max_age_ms at most.
 */
#include "cache/cache.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/striped.h"

#include <stdlib.h>
#include <string.h>

#define STRIPES 16
#define GENS 1024
#define ENTRY_OVERHEAD 64 /* what an entry costs beyond its bytes: node, links, malloc */

struct entry {
    struct mni_striped_node node;
    struct entry *prev, *next; /* the stripe's LRU list, most recent first */
    int64_t expires;           /* mni_mono_coarse_ms */
    size_t klen, vlen;
    unsigned char data[];      /* key, then value */
};

struct lru {
    struct entry *head, *tail;
    size_t bytes;
} __attribute__((aligned(64)));

struct mem_cache {
    struct mni_cache base;
    struct mni_striped t;
    struct lru lru[STRIPES];
    size_t stripe_budget;
    int64_t max_age_ms;
};

/* Start at 1 (0 is the backends' "could not read it"): each counter is read as 1 + its value. */
static _Atomic uint64_t gens[GENS];

struct lookup {
    const void *key;
    size_t klen;
};

static size_t cost(const struct entry *e)
{
    return sizeof *e + e->klen + e->vlen + ENTRY_OVERHEAD;
}

static struct lru *lru_of(struct mem_cache *m, uint64_t hash)
{
    return &m->lru[hash & m->t.mask];
}

static void unlink_entry(struct lru *l, struct entry *e)
{
    *(e->prev ? &e->prev->next : &l->head) = e->next;
    *(e->next ? &e->next->prev : &l->tail) = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(struct lru *l, struct entry *e)
{
    e->prev = NULL;
    e->next = l->head;
    *(l->head ? &l->head->prev : &l->tail) = e;
    l->head = e;
}

/* The table drops an entry (delete, clear): off its list, out of the budget. Stripe locked. */
static void free_entry(struct mni_striped_node *node, void *ctx)
{
    struct mem_cache *m = ctx;
    struct entry *e = MNI_STRIPED_ENTRY(node, struct entry, node);
    struct lru *l = lru_of(m, node->hash);
    unlink_entry(l, e);
    l->bytes -= cost(e);
    free(e);
}

static int eq(const struct mni_striped_node *node, const void *key)
{
    const struct entry *e = MNI_STRIPED_ENTRY(node, struct entry, node);
    const struct lookup *k = key;
    return e->klen == k->klen && memcmp(e->data, k->key, k->klen) == 0;
}

static int mem_get(struct mni_cache *c, const void *key, size_t klen, void **val, size_t *vlen)
{
    struct mem_cache *m = (struct mem_cache *)c;
    struct lookup k = {key, klen};
    uint64_t h = mni_hash64(key, klen, 0);
    struct mni_striped_stripe *s = mni_striped_at(&m->t, h);
    int hit = 0;
    mni_striped_lock(s);
    struct mni_striped_node *n = mni_striped_find(&m->t, s, h, eq, &k);
    struct entry *e = n ? MNI_STRIPED_ENTRY(n, struct entry, node) : NULL;
    if (e && e->expires <= mni_mono_coarse_ms()) {
        mni_striped_delete(&m->t, s, n);
        e = NULL;
    }
    if (e && (*val = malloc(e->vlen ? e->vlen : 1)) != NULL) {
        memcpy(*val, e->data + e->klen, e->vlen);
        *vlen = e->vlen;
        struct lru *l = lru_of(m, h);
        unlink_entry(l, e);
        push_front(l, e);
        hit = 1;
    }
    mni_striped_unlock(s);
    return hit;
}

static void mem_put(struct mni_cache *c, const void *key, size_t klen, const void *val,
                    size_t vlen, int64_t ttl_ms)
{
    struct mem_cache *m = (struct mem_cache *)c;
    struct entry *e = malloc(sizeof *e + klen + vlen);
    if (!e)
        return;
    *e = (struct entry){.klen = klen, .vlen = vlen};
    e->expires = mni_mono_coarse_ms() + (ttl_ms < m->max_age_ms ? ttl_ms : m->max_age_ms);
    memcpy(e->data, key, klen);
    memcpy(e->data + klen, val, vlen);
    if (cost(e) > m->stripe_budget) {
        free(e);
        return;
    }
    uint64_t h = e->node.hash = mni_hash64(key, klen, 0);
    struct lookup k = {key, klen};
    struct mni_striped_stripe *s = mni_striped_at(&m->t, h);
    struct lru *l = lru_of(m, h);
    mni_striped_lock(s);
    struct mni_striped_node *old = mni_striped_find(&m->t, s, h, eq, &k);
    if (old)
        mni_striped_delete(&m->t, s, old);
    uint64_t evicted = 0;
    while (l->tail && l->bytes + cost(e) > m->stripe_budget) {
        mni_striped_delete(&m->t, s, &l->tail->node);
        evicted++;
    }
    if (mni_striped_add(&m->t, s, &e->node, NULL) == MN_OK) {
        push_front(l, e);
        l->bytes += cost(e);
    } else {
        free(e);
    }
    mni_striped_unlock(s);
    if (evicted)
        atomic_fetch_add_explicit(&c->evictions, evicted, memory_order_relaxed);
}

static _Atomic uint64_t *gen_of(const char *scope)
{
    return &gens[mni_hash64(scope, strlen(scope), 0) & (GENS - 1)];
}

static uint64_t mem_gen(struct mni_cache *c, const char *scope)
{
    (void)c;
    return 1 + atomic_load_explicit(gen_of(scope), memory_order_acquire);
}

static int mem_bump(struct mni_cache *c, const char *scope)
{
    (void)c;
    atomic_fetch_add_explicit(gen_of(scope), 1, memory_order_acq_rel);
    return 0;
}

static int mem_clear(struct mni_cache *c, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct mem_cache *m = (struct mem_cache *)c;
    for (size_t i = 0; i <= m->t.mask; i++) {
        mni_striped_lock(&m->t.stripes[i]);
        mni_striped_clear(&m->t, &m->t.stripes[i]);
        mni_striped_unlock(&m->t.stripes[i]);
    }
    return MN_OK;
}

static void mem_size(struct mni_cache *c, uint64_t *entries, uint64_t *bytes)
{
    struct mem_cache *m = (struct mem_cache *)c;
    *entries = *bytes = 0;
    for (size_t i = 0; i <= m->t.mask; i++) {
        mni_striped_lock(&m->t.stripes[i]);
        *entries += m->t.stripes[i].n;
        *bytes += m->lru[i].bytes;
        mni_striped_unlock(&m->t.stripes[i]);
    }
}

static void mem_destroy(struct mni_cache *c)
{
    struct mem_cache *m = (struct mem_cache *)c;
    mni_striped_destroy(&m->t);
    mni_cache_base_destroy(c);
    free(m);
}

static const struct mni_cache_ops mem_ops = {"memory",  MN_CACHE_MEMORY, mem_get,  mem_put,
                                             mem_gen,   mem_bump,        mem_clear, mem_size,
                                             mem_destroy};

struct mni_cache *mni_cache_memory_create(const mn_db *db, size_t max_bytes, int64_t max_age_ms)
{
    struct mem_cache *m = aligned_alloc(64, (sizeof *m + 63) / 64 * 64);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    if (mni_striped_init(&m->t, STRIPES, SIZE_MAX, free_entry, NULL, m) != MN_OK) {
        free(m);
        return NULL;
    }
    m->stripe_budget = max_bytes / STRIPES;
    m->max_age_ms = max_age_ms;
    mni_cache_base_init(&m->base, &mem_ops, db, 0);
    return &m->base;
}
