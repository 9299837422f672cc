/*
 * Counter backends of the rate limiter: where the counts of admitted calls live. A backend
 * fills a struct mni_counter_ops; the limiter (ratelimit.c) picks one at mn_open from
 * mn_config.ratelimit. Both keep, per key, the sliding window of window.h (calls counted per
 * sub-window), and decide "do n more fit under limit?" atomically with recording them, so
 * that the count is exact however many threads (memory) or processes (redis) ask at once.
 */
#ifndef MNI_RATELIMIT_COUNTER_H
#define MNI_RATELIMIT_COUNTER_H

#include "manushya.h"

#include <stddef.h>
#include <stdint.h>

/* Common head of every backend's state. */
struct mni_counter {
    const struct mni_counter_ops *ops;
    mn_db *db;
};

struct mni_count_req {
    const char *key;           /* ratelimit:{TENANT_ID}:ENDPOINT:WINDOW */
    size_t keylen;
    uint64_t hash;             /* mni_hash64(key, keylen, 0), made once per cached key */
    int64_t window_us;
    int64_t limit;             /* calls admitted per window (multiplier applied) */
    int64_t n;                 /* calls asked for at once, >= 1 */
    int peek;                  /* decide only: record nothing */
    int64_t now_us;            /* CLOCK_MONOTONIC when asked (in-process counters' clock) */
};

struct mni_count_res {
    int allowed;
    int64_t count;             /* calls counted in the window after the decision */
    int64_t retry_after_us;    /* refused: until n fit; -1 when n > limit */
    int64_t reset_in_us;       /* until the oldest counted calls stop counting; 0: none */
    int64_t now_ms;            /* the backend's clock, ms since the epoch */
};

struct mni_metrics;
struct mni_counter_ops {
    const char *name;
    /* MN_OK with the decision in *out; MN_EBACKEND (message set on c->db) when the counters
     * could not be reached or kept: the limiter then applies the fail mode. */
    int (*decide)(struct mni_counter *c, const struct mni_count_req *rq, struct mni_count_res *out);
    /* Forgets the key's calls. */
    int (*reset)(struct mni_counter *c, const char *key, size_t keylen, uint64_t hash);
    void (*destroy)(struct mni_counter *c);
    /* Hands the counters the handle's metrics, for their connection pool (NULL: none). */
    void (*set_metrics)(struct mni_counter *c, struct mni_metrics *m);
    /* Whether the counters' server answers (health): MN_OK, or MN_EBACKEND with why in err.
     * NULL: there is no server (in-process counters). */
    int (*ping)(struct mni_counter *c, char *err, size_t errlen);
};

/* The backend cfg->ratelimit names (MN_RATELIMIT_MEMORY or _REDIS; counters.c picks it), made
 * from cfg's settings (defaults written back). MN_EUNSUPPORTED for one this build left out. */
int mni_counter_create(mn_db *db, mn_config *cfg, struct mni_counter **out);

/* The backends. In-process counters (memory.c), bounded by cfg->ratelimit_max_bytes. */
int mni_counter_memory_create(mn_db *db, mn_config *cfg, struct mni_counter **out);
/* Redis counters (redis_counter.c) over a connection pool made from cfg's redis_* fields. */
int mni_counter_redis_create(mn_db *db, mn_config *cfg, struct mni_counter **out);
/* Their Lua script, window.c's steps (tests run it with a time of their own). */
extern const char mni_counter_redis_script[];

#endif
