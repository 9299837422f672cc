/*
 * In-process counters: the striped hash table (core/striped.h), so threads deciding for different
 * keys rarely wait on one another. Each key holds its sliding window of sub-window counts
 * (window.c), a fixed 512 bytes whatever its limit; a decision moves it to the present and
 * compares with the limit under the stripe's lock, so it is exact across threads, costs O(1) and
 * allocates nothing once the key exists.
 *
 * Memory is bounded by max_bytes: keys whose window emptied are freed when their stripe has
 * doubled since its last sweep, or when the bound is reached; a new key that would pass the bound
 * is an MN_EBACKEND failure (the limiter's fail mode decides), never an eviction of live counts
 * (which would admit too much).
 */
#include "ratelimit/counter.h"
#include "ratelimit/window.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/striped.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MC_STRIPES 64            /* more than the limiter's caches: every decision lands here */
#define MC_SWEEP_MIN 16          /* the fewest keys a stripe holds before it is swept */

struct mc_entry {
    struct mni_striped_node node;
    int64_t window_us;
    struct mni_rl_window win;
    size_t keylen;
    char key[];
};

struct mc_counter {
    struct mni_counter base;
    size_t max_bytes;
    _Atomic size_t bytes;
    struct mni_striped table;
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

static size_t entry_bytes(const struct mc_entry *e)
{
    return sizeof *e + e->keylen;
}

static void free_entry(struct mni_striped_node *node, void *ctx)
{
    struct mc_counter *m = ctx;
    struct mc_entry *e = MNI_STRIPED_ENTRY(node, struct mc_entry, node);
    atomic_fetch_sub_explicit(&m->bytes, entry_bytes(e), memory_order_relaxed);
    free(e);
}

static int same_key(const struct mni_striped_node *node, const void *key)
{
    const struct mc_entry *e = MNI_STRIPED_ENTRY(node, const struct mc_entry, node);
    const struct mni_count_req *rq = key;
    return e->keylen == rq->keylen && memcmp(e->key, rq->key, rq->keylen) == 0;
}

static int window_empty(struct mni_striped_node *node, void *now)
{
    struct mc_entry *e = MNI_STRIPED_ENTRY(node, struct mc_entry, node);
    return !mni_rl_window_count(&e->win, *(const int64_t *)now, e->window_us);
}

/* Frees the stripe's keys whose window holds no call any more (arg: now, in us); the next
 * sweep comes when the stripe has doubled, so sweeps cost O(1) per key added. */
static void sweep(struct mni_striped *t, struct mni_striped_stripe *s, void *now)
{
    mni_striped_sweep(t, s, window_empty, now);
    s->limit = s->n * 2 > MC_SWEEP_MIN ? s->n * 2 : MC_SWEEP_MIN;
}

static int full(struct mc_counter *m)
{
    return mni_seterr(m->base.db, MN_EBACKEND, "the in-process rate-limit counters are full "
                     "(%zu bytes, mn_config.ratelimit_max_bytes); raise the bound or keep the "
                     "counters in Redis (MN_RATELIMIT_REDIS)", m->max_bytes);
}

static int add_entry(struct mc_counter *m, struct mni_striped_stripe *s,
                     const struct mni_count_req *rq, int64_t now, struct mc_entry **out)
{
    struct mc_entry *e = calloc(1, sizeof *e + rq->keylen);
    if (!e)
        return mni_seterr(m->base.db, MN_ENOMEM, "out of memory for the rate-limit counters");
    e->node.hash = rq->hash;
    e->window_us = rq->window_us;
    e->keylen = rq->keylen;
    memcpy(e->key, rq->key, rq->keylen);
    if (!take_bytes(m, entry_bytes(e))) {
        sweep(&m->table, s, &now);
        if (!take_bytes(m, entry_bytes(e))) {
            free(e);
            return full(m);
        }
    }
    if (mni_striped_add(&m->table, s, &e->node, &now) != MN_OK) {
        free_entry(&e->node, m);
        return mni_seterr(m->base.db, MN_ENOMEM, "out of memory for the rate-limit counters");
    }
    *out = e;
    return MN_OK;
}

static int mc_decide(struct mni_counter *c, const struct mni_count_req *rq, struct mni_count_res *out)
{
    struct mc_counter *m = (struct mc_counter *)c;
    struct mni_striped_stripe *s = mni_striped_at(&m->table, rq->hash);
    mni_striped_lock(s);
    int64_t now = rq->now_us;
    struct mni_striped_node *n = mni_striped_find(&m->table, s, rq->hash, same_key, rq);
    struct mc_entry *e = n ? MNI_STRIPED_ENTRY(n, struct mc_entry, node) : NULL;
    int rc = MN_OK;
    if (!e && !rq->peek && rq->n <= rq->limit)
        rc = add_entry(m, s, rq, now, &e);
    if (rc == MN_OK) {
        /* A key not kept (a peek, or n over the limit) is an empty window, left unrecorded. */
        struct mni_rl_window none = {0};
        mni_rl_window_decide(e ? &e->win : &none, now, rq->window_us, rq->limit, rq->n,
                            rq->peek, out);
    }
    out->now_ms = mni_now_coarse_ms();
    mni_striped_unlock(s);
    return rc;
}

static int mc_reset(struct mni_counter *c, const char *key, size_t keylen, uint64_t h)
{
    struct mc_counter *m = (struct mc_counter *)c;
    struct mni_count_req rq = {.key = key, .keylen = keylen};
    struct mni_striped_stripe *s = mni_striped_at(&m->table, h);
    mni_striped_lock(s);
    struct mni_striped_node *n = mni_striped_find(&m->table, s, h, same_key, &rq);
    if (n)
        mni_striped_delete(&m->table, s, n);
    mni_striped_unlock(s);
    return MN_OK;
}

static void mc_destroy(struct mni_counter *c)
{
    struct mc_counter *m = (struct mc_counter *)c;
    mni_striped_destroy(&m->table);
    free(m);
}

static const struct mni_counter_ops memory_ops = {"memory", mc_decide, mc_reset, mc_destroy,
                                                  NULL, NULL};

int mni_counter_memory_create(mn_db *db, mn_config *cfg, struct mni_counter **out)
{
    struct mc_counter *m = calloc(1, sizeof *m);
    if (!m ||
        mni_striped_init(&m->table, MC_STRIPES, MC_SWEEP_MIN, free_entry, sweep, m) != MN_OK) {
        free(m);
        return mni_seterr(db, MN_ENOMEM, "out of memory for the rate-limit counters");
    }
    m->base.ops = &memory_ops;
    m->base.db = db;
    m->max_bytes = cfg->ratelimit_max_bytes;
    *out = &m->base;
    return MN_OK;
}
