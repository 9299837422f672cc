/*
 * Read-through caches: one interface, values of bytes under keys of bytes, with two backends:
 * in this process (an LRU bounded by bytes) and Redis (shared by every process on the store).
 *
 * Never stale: a key carries the generation of what it depends on (a scope: a tenant, the
 * directory of tenants, identities and policies), and a write bumps that generation after it
 * commits and before it returns, so that no later read can find the entry made before it. A
 * generation is bumped, not a key scanned for: the guide's `KEYS search:*` walks every key of
 * the server in one command, and Redis, single-threaded, answers nobody else meanwhile. The
 * entries of old generations are left to their TTL (Redis) or to the LRU (in process).
 *
 * Why after the commit: a reader that took the generation before the bump and the row before
 * the commit puts an old value under the old generation, which no reader asks for any more.
 * Bumped before the commit, that reader could put the old row under the new generation.
 *
 * Failures never reach the caller: a backend that cannot answer is a miss (a put, a bump or a
 * clear it cannot do is dropped), counted in failures and logged at most once per interval
 * through the handle's log.
 */
#ifndef MNI_CACHE_CACHE_H
#define MNI_CACHE_CACHE_H

#include "manushya.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct mni_cache;

struct mni_cache_ops {
    const char *name; /* "memory", "redis" */
    int backend;      /* MN_CACHE_MEMORY, MN_CACHE_REDIS */
    /* 1 and *val (malloc'd, *vlen bytes) on a hit; 0 on a miss or a failure. */
    int (*get)(struct mni_cache *c, const void *key, size_t klen, void **val, size_t *vlen);
    /* Keeps val under key for ttl_ms at most (best effort). */
    void (*put)(struct mni_cache *c, const void *key, size_t klen, const void *val, size_t vlen,
                int64_t ttl_ms);
    /* The generation of scope (a NUL-terminated name); 0 when it could not be read, which the
     * caller takes as "do not cache". */
    uint64_t (*gen)(struct mni_cache *c, const char *scope);
    /* Moves scope to a new generation. 0, or -1 when it could not (a failure counted). */
    int (*bump)(struct mni_cache *c, const char *scope);
    /* Drops every entry: MN_OK, or MN_EBACKEND with the reason in err. */
    int (*clear)(struct mni_cache *c, char *err, size_t errlen);
    /* Entries and bytes held (in process: exact; Redis: 0, the server's to say). */
    void (*size)(struct mni_cache *c, uint64_t *entries, uint64_t *bytes);
    void (*destroy)(struct mni_cache *c);
};

/* What every backend shares: its handle (for the log), its counters and the log's pacing. */
struct mni_cache {
    const struct mni_cache_ops *ops;
    const mn_db *db;
    _Atomic uint64_t hits, misses, evictions, failures;
    pthread_mutex_t log_mu;
    int64_t log_interval_ms, last_log_ms;
    uint64_t unlogged;
};

void mni_cache_base_init(struct mni_cache *c, const struct mni_cache_ops *ops, const mn_db *db,
                         int64_t log_interval_ms);
void mni_cache_base_destroy(struct mni_cache *c);
/* Counts a failure and logs it (what, then why), at most once per interval. */
void mni_cache_failed(struct mni_cache *c, const char *what, const char *why);

/* In process: at most max_bytes of keys and values (and their bookkeeping), the least recently
 * used dropped first; generations shared by every handle of the process; no entry older than
 * max_age_ms (other processes' writes do not reach these generations: they are seen after
 * that long at most). NULL when out of memory. */
struct mni_cache *mni_cache_memory_create(const mn_db *db, size_t max_bytes, int64_t max_age_ms);

#endif
