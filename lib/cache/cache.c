/* What every cache backend shares: counters, and a failure log paced like the rate limiter's
 * fail-open one (api/limiter.c): once per interval, with how many failed since the last. */
#include "cache/cache.h"
#include "core/clock.h"
#include "core/error.h"

#include <string.h>

void mni_cache_base_init(struct mni_cache *c, const struct mni_cache_ops *ops, const mn_db *db,
                         int64_t log_interval_ms)
{
    c->ops = ops;
    c->db = db;
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    atomic_init(&c->evictions, 0);
    atomic_init(&c->failures, 0);
    pthread_mutex_init(&c->log_mu, NULL);
    c->log_interval_ms = log_interval_ms > 0 ? log_interval_ms : 30000;
    c->last_log_ms = 0;
    c->unlogged = 0;
}

void mni_cache_base_destroy(struct mni_cache *c)
{
    pthread_mutex_destroy(&c->log_mu);
}

void mni_cache_failed(struct mni_cache *c, const char *what, const char *why)
{
    atomic_fetch_add_explicit(&c->failures, 1, memory_order_relaxed);
    int64_t now = mni_mono_coarse_ms();
    unsigned long long n = 0; /* to report; 0: not this time */
    pthread_mutex_lock(&c->log_mu);
    c->unlogged++;
    if (!c->last_log_ms || now - c->last_log_ms >= c->log_interval_ms) {
        n = c->unlogged;
        c->last_log_ms = now;
        c->unlogged = 0;
    }
    pthread_mutex_unlock(&c->log_mu);
    if (n)
        mni_log(c->db, "cache (%s): %s failed: %s; going on without the cache (%llu failure(s) "
                "since the last report)", c->ops->name, what, why, n);
}
