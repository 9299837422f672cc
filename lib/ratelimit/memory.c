/*
 * In-process counters: a hash table split into stripes, each with its own lock, so threads
 * deciding for different keys rarely wait on one another. Each key holds its sliding window
 * of sub-window counts (window.c), a fixed 512 bytes whatever its limit; a decision moves it
 * to the present and compares with the limit under the stripe's lock, so it is exact across
 * threads, costs O(1) and allocates nothing once the key exists.
 *
 * Memory is bounded by max_bytes: keys whose window emptied are freed when their stripe fills
 * up; a new key that would pass the bound is an MN_EBACKEND failure (the limiter's fail mode
 * decides), never an eviction of live counts (which would admit too much).
 */
#include "ratelimit/counter.h"
#include "core/spin.h"
#include "ratelimit/window.h"
#include "core/clock.h"
#include "core/error.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MC_STRIPES 64            /* a power of two */
#define MC_MIN_BUCKETS 16

struct mc_entry {
    struct mc_entry *next;
    uint64_t hash;
    int64_t window_us;
    struct mni_rl_window win;
    size_t keylen;
    char key[];
};

struct mc_stripe {
    mni_spin mu;
    struct mc_entry **buckets;
    size_t nbuckets, nentries, sweep_at;
} __attribute__((aligned(64)));

struct mc_counter {
    struct mni_counter base;
    size_t max_bytes;
    _Atomic size_t bytes;
    struct mc_stripe stripes[MC_STRIPES];
};

/* Takes bytes from the bound; 0 when that would pass it. */
static int take_bytes(struct mc_counter *m, size_t n)
{
    size_t have = atomic_load_explicit(&m->bytes, memory_order_relaxed);
    do {
        if (have + n > m->max_bytes)
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(&m->bytes, &have, have + n,
                                                    memory_order_relaxed, memory_order_relaxed));
    return 1;
}

static void give_bytes(struct mc_counter *m, size_t n)
{
    atomic_fetch_sub_explicit(&m->bytes, n, memory_order_relaxed);
}

static size_t entry_bytes(const struct mc_entry *e)
{
    return sizeof *e + e->keylen;
}

static void free_entry(struct mc_counter *m, struct mc_entry *e)
{
    give_bytes(m, entry_bytes(e));
    free(e);
}

/* Frees the stripe's keys whose window holds no call any more. */
static void sweep(struct mc_counter *m, struct mc_stripe *s, int64_t now)
{
    for (size_t b = 0; b < s->nbuckets; b++)
        for (struct mc_entry **p = &s->buckets[b]; *p;) {
            struct mc_entry *e = *p;
            if (mni_rl_window_count(&e->win, now, e->window_us)) {
                p = &e->next;
                continue;
            }
            *p = e->next;
            free_entry(m, e);
            s->nentries--;
        }
    s->sweep_at = s->nentries * 2 > MC_MIN_BUCKETS ? s->nentries * 2 : MC_MIN_BUCKETS;
}

/* Doubles the bucket array when the stripe holds more keys than buckets (best effort). */
static void grow_buckets(struct mc_stripe *s)
{
    size_t nb = s->nbuckets ? s->nbuckets * 2 : MC_MIN_BUCKETS;
    struct mc_entry **nbk = calloc(nb, sizeof *nbk);
    if (!nbk)
        return;
    for (size_t b = 0; b < s->nbuckets; b++)
        for (struct mc_entry *e = s->buckets[b], *next; e; e = next) {
            next = e->next;
            size_t i = (e->hash / MC_STRIPES) & (nb - 1);
            e->next = nbk[i];
            nbk[i] = e;
        }
    free(s->buckets);
    s->buckets = nbk;
    s->nbuckets = nb;
}

static int full(struct mc_counter *m)
{
    return mni_seterr(m->base.db, MN_EBACKEND, "the in-process rate-limit counters are full "
                     "(%zu bytes, mn_config.ratelimit_max_bytes); raise the bound or keep the "
                     "counters in Redis (MN_RATELIMIT_REDIS)", m->max_bytes);
}

static int add_entry(struct mc_counter *m, struct mc_stripe *s, const struct mni_count_req *rq,
                     uint64_t h, int64_t now, struct mc_entry **out)
{
    if (s->nentries >= s->sweep_at)
        sweep(m, s, now);
    if (s->nentries >= s->nbuckets)
        grow_buckets(s);
    if (!s->nbuckets)
        return mni_seterr(m->base.db, MN_ENOMEM, "out of memory for the rate-limit counters");
    struct mc_entry *e = calloc(1, sizeof *e + rq->keylen);
    if (!e)
        return mni_seterr(m->base.db, MN_ENOMEM, "out of memory for the rate-limit counters");
    e->hash = h;
    e->window_us = rq->window_us;
    e->keylen = rq->keylen;
    memcpy(e->key, rq->key, rq->keylen);
    if (!take_bytes(m, entry_bytes(e))) {
        sweep(m, s, now);
        if (!take_bytes(m, entry_bytes(e))) {
            free(e);
            return full(m);
        }
    }
    size_t i = (h / MC_STRIPES) & (s->nbuckets - 1);
    e->next = s->buckets[i];
    s->buckets[i] = e;
    s->nentries++;
    *out = e;
    return MN_OK;
}

static int mc_decide(struct mni_counter *c, const struct mni_count_req *rq, struct mni_count_res *out)
{
    struct mc_counter *m = (struct mc_counter *)c;
    uint64_t h = rq->hash;
    struct mc_stripe *s = &m->stripes[h & (MC_STRIPES - 1)];
    mni_spin_lock(&s->mu);
    int64_t now = rq->now_us;
    struct mc_entry *e = NULL;
    if (s->nbuckets)
        for (e = s->buckets[(h / MC_STRIPES) & (s->nbuckets - 1)]; e; e = e->next)
            if (e->hash == h && e->keylen == rq->keylen && memcmp(e->key, rq->key, rq->keylen) == 0)
                break;
    int rc = MN_OK;
    if (!e && !rq->peek && rq->n <= rq->limit)
        rc = add_entry(m, s, rq, h, now, &e);
    if (rc == MN_OK) {
        /* A key not kept (a peek, or n over the limit) is an empty window, left unrecorded. */
        struct mni_rl_window none = {0};
        mni_rl_window_decide(e ? &e->win : &none, now, rq->window_us, rq->limit, rq->n,
                            rq->peek, out);
    }
    out->now_ms = mni_now_coarse_ms();
    mni_spin_unlock(&s->mu);
    return rc;
}

static int mc_reset(struct mni_counter *c, const char *key, size_t keylen, uint64_t h)
{
    struct mc_counter *m = (struct mc_counter *)c;
    struct mc_stripe *s = &m->stripes[h & (MC_STRIPES - 1)];
    mni_spin_lock(&s->mu);
    if (s->nbuckets)
        for (struct mc_entry **p = &s->buckets[(h / MC_STRIPES) & (s->nbuckets - 1)]; *p;
             p = &(*p)->next) {
            struct mc_entry *e = *p;
            if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0) {
                *p = e->next;
                free_entry(m, e);
                s->nentries--;
                break;
            }
        }
    mni_spin_unlock(&s->mu);
    return MN_OK;
}

static void mc_destroy(struct mni_counter *c)
{
    struct mc_counter *m = (struct mc_counter *)c;
    for (int i = 0; i < MC_STRIPES; i++) {
        struct mc_stripe *s = &m->stripes[i];
        for (size_t b = 0; b < s->nbuckets; b++)
            for (struct mc_entry *e = s->buckets[b], *next; e; e = next) {
                next = e->next;
                free(e);
            }
        free(s->buckets);
    }
    free(m);
}

static const struct mni_counter_ops memory_ops = {"memory", mc_decide, mc_reset, mc_destroy};

int mni_counter_memory_create(mn_db *db, mn_config *cfg, struct mni_counter **out)
{
    struct mc_counter *m = aligned_alloc(64, (sizeof *m + 63) / 64 * 64);
    if (!m)
        return mni_seterr(db, MN_ENOMEM, "out of memory for the rate-limit counters");
    memset(m, 0, sizeof *m);
    m->base.ops = &memory_ops;
    m->base.db = db;
    m->max_bytes = cfg->ratelimit_max_bytes;
    for (int i = 0; i < MC_STRIPES; i++)
        m->stripes[i].sweep_at = MC_MIN_BUCKETS;
    *out = &m->base;
    return MN_OK;
}
