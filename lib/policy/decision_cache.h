/*
 * Decision cache: verdicts of the policy engine, keyed by the bytes of everything a decision
 * depends on. The caller builds the key (tenant, identity, role, claims, action, resource,
 * resource data text, context text: whatever its decision read) and passes the tenant's policy
 * generation, a counter it bumps whenever any policy of the tenant changes: an entry put under
 * another generation misses, so a policy change invalidates the tenant's entries at once
 * without a scan. Entries also expire ttl_ms after they were put (default 300 s, the guide's
 * figure), or earlier at the verdict's valid_until_ms (a time condition's boundary). Time is
 * passed in by the caller (ms since the epoch), so tests inject it.
 *
 * Layout: a table of 4-way sets (64 bytes each), a set chosen by a 64-bit hash of the key; a
 * lookup compares the stored hashes, then the stored key bytes. Within a set entries are kept
 * most recently used first; a put into a full set replaces an expired entry, else the least
 * recently used one. Capacity is fixed at creation (rounded up to a power of two): memory stays
 * bounded whatever the keys.
 *
 * Thread safety: every function but mn_dcache_free may be called from any number of threads at
 * once. The sets are guarded by 256 (or fewer) striped spin locks held for a few dozen
 * nanoseconds; no allocation or free happens under a lock.
 */
#ifndef MN_POLICY_DECISION_CACHE_H
#define MN_POLICY_DECISION_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define MN_DCACHE_DEFAULT_CAPACITY 65536
#define MN_DCACHE_DEFAULT_TTL_MS ((int64_t)300 * 1000)
#define MN_DCACHE_REASON_MAX 256 /* reasons are kept up to this size, terminator included */

typedef struct mn_dcache mn_dcache;

typedef struct mn_dcache_stats {
    uint64_t hits;
    uint64_t misses;    /* absent, put under another generation, or expired */
    uint64_t puts;
    uint64_t evictions; /* live entries replaced by a put of another key into a full set */
    size_t entries;     /* entries held now (expired ones included until replaced) */
    size_t capacity;
} mn_dcache_stats;

/* A cache of at least capacity entries (0: MN_DCACHE_DEFAULT_CAPACITY) living ttl_ms
 * (<= 0: MN_DCACHE_DEFAULT_TTL_MS). NULL when out of memory. */
mn_dcache *mn_dcache_create(size_t capacity, int64_t ttl_ms);
/* Frees the cache and its entries (NULL is fine). No other thread may be using it. */
void mn_dcache_free(mn_dcache *c);

/* Looks key[0..len) up. 1 (hit) when it is there, was put under generation and has not expired
 * at now_ms: *allowed, policy_id (the deciding policy, "" for none, cut to idlen) and reason
 * (cut to reasonlen) are then set; each output may be NULL. 0 (miss) otherwise, outputs
 * untouched. */
int mn_dcache_get(mn_dcache *c, const void *key, size_t len, uint64_t generation, int64_t now_ms,
                  int *allowed, char *policy_id, size_t idlen, char *reason, size_t reasonlen);

/* Stores a verdict for key under generation, replacing any entry of the same key. It expires at
 * now_ms + the TTL, or at valid_until_ms if that is earlier (0 or INT64_MAX: no such limit); a
 * verdict already past valid_until_ms is not stored. policy_id and reason may be NULL. MN_OK, or
 * MN_ENOMEM (nothing stored). */
int mn_dcache_put(mn_dcache *c, const void *key, size_t len, uint64_t generation, int64_t now_ms,
                  int64_t valid_until_ms, int allowed, const char *policy_id, const char *reason);

/* Drops every entry (the counters stay). */
void mn_dcache_clear(mn_dcache *c);
void mn_dcache_stats_get(mn_dcache *c, mn_dcache_stats *out);

/* The 64-bit hash the cache uses (wyhash-style multiply-mix; not for security). */
uint64_t mn_dcache_hash(const void *key, size_t len);

#endif
