/*
 * In-process counters: a hash table split into stripes, each with its own lock, so threads
 * deciding for different keys rarely wait on one another. Each key keeps a ring of the
 * (monotonic) times of the calls admitted in its window, oldest first; a decision drops the
 * times that left the window and compares what remains with the limit, under the stripe's lock,
 * so it is exact across threads. After a key's ring has grown to its steady size a decision
 * allocates nothing.
 *
 * Memory is bounded by max_bytes: keys whose window emptied are freed when their stripe fills
 * up; a new key or a bigger ring that would pass the bound is an MN_EBACKEND failure (the
 * limiter's fail mode decides), never an eviction of live counts (which would admit too much).
 */
#include "ratelimit/counter.h"
#include "ratelimit/spin.h"
#include "core/clock.h"
#include "core/error.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MC_STRIPES 64            /* a power of two */
#define MC_MIN_BUCKETS 16
#define MC_MIN_RING 8

struct mc_entry {
    struct mc_entry *next;
    uint64_t hash;
    int64_t window_us;
    int64_t *ring;               /* admitted call times (µs), oldest at head */
    size_t cap, head, count;
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
    return sizeof *e + e->keylen + e->cap * sizeof *e->ring;
}

static void expire(struct mc_entry *e, int64_t now)
{
    int64_t oldest_kept = now - e->window_us;
    while (e->count && e->ring[e->head] <= oldest_kept) {
        e->head = e->head + 1 == e->cap ? 0 : e->head + 1;
        e->count--;
    }
}

/* The i-th oldest time in the ring (i < count). */
static int64_t ring_at(const struct mc_entry *e, size_t i)
{
    size_t j = e->head + i;
    return e->ring[j >= e->cap ? j - e->cap : j];
}

static void free_entry(struct mc_counter *m, struct mc_entry *e)
{
    give_bytes(m, entry_bytes(e));
    free(e->ring);
    free(e);
}

/* Frees the stripe's keys whose window holds no call any more. */
static void sweep(struct mc_counter *m, struct mc_stripe *s, int64_t now)
{
    for (size_t b = 0; b < s->nbuckets; b++)
        for (struct mc_entry **p = &s->buckets[b]; *p;) {
            struct mc_entry *e = *p;
            expire(e, now);
            if (e->count) {
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

/* Makes room in the ring for `need` times, keeping their order. */
static int grow_ring(struct mc_counter *m, struct mc_stripe *s, struct mc_entry *e, size_t need,
                     int64_t now)
{
    size_t cap = e->cap ? e->cap : MC_MIN_RING;
    while (cap < need)
        cap *= 2;
    size_t more = (cap - e->cap) * sizeof *e->ring;
    if (!take_bytes(m, more)) {
        sweep(m, s, now); /* e holds calls (or is about to): the sweep keeps it */
        if (!take_bytes(m, more))
            return full(m);
    }
    int64_t *ring = malloc(cap * sizeof *ring);
    if (!ring) {
        give_bytes(m, more);
        return mni_seterr(m->base.db, MN_ENOMEM, "out of memory for the rate-limit counters");
    }
    for (size_t i = 0; i < e->count; i++)
        ring[i] = ring_at(e, i);
    free(e->ring);
    e->ring = ring;
    e->cap = cap;
    e->head = 0;
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
    size_t count = 0;
    if (e) {
        expire(e, now);
        count = e->count;
    }
    out->allowed = rc == MN_OK && (int64_t)count + rq->n <= rq->limit;
    out->retry_after_us = 0;
    if (rc == MN_OK && out->allowed && !rq->peek) {
        if (count + (size_t)rq->n > e->cap)
            rc = grow_ring(m, s, e, count + (size_t)rq->n, now);
        /* Times stay in order whatever the threads' clock readings: a later call never
         * records an earlier time (which could only make its call leave the window late). */
        int64_t t = count ? ring_at(e, count - 1) : now;
        t = t > now ? t : now;
        for (int64_t i = 0; rc == MN_OK && i < rq->n; i++) {
            size_t j = e->head + e->count;
            e->ring[j >= e->cap ? j - e->cap : j] = t;
            e->count++;
        }
        count = e->count;
    } else if (rc == MN_OK && !out->allowed) {
        /* n fit once the (count + n - limit)-th oldest call has left the window. */
        out->retry_after_us = rq->n > rq->limit ? -1
                              : ring_at(e, (size_t)((int64_t)count + rq->n - rq->limit - 1)) +
                                    rq->window_us - now;
    }
    out->count = (int64_t)count;
    out->reset_in_us = count ? ring_at(e, 0) + rq->window_us - now : 0;
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
                free(e->ring);
                free(e);
            }
        free(s->buckets);
    }
    free(m);
}

static const struct mni_counter_ops memory_ops = {"memory", mc_decide, mc_reset, mc_destroy};

int mni_counter_memory_create(mn_db *db, size_t max_bytes, struct mni_counter **out)
{
    struct mc_counter *m = aligned_alloc(64, (sizeof *m + 63) / 64 * 64);
    if (!m)
        return mni_seterr(db, MN_ENOMEM, "out of memory for the rate-limit counters");
    memset(m, 0, sizeof *m);
    m->base.ops = &memory_ops;
    m->base.db = db;
    m->max_bytes = max_bytes;
    for (int i = 0; i < MC_STRIPES; i++)
        m->stripes[i].sweep_at = MC_MIN_BUCKETS;
    *out = &m->base;
    return MN_OK;
}
