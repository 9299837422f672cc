/*
 * Decision cache: verdicts of the policy engine, keyed by the bytes of everything a decision
 * depends on. The caller gives the key as parts (policy/decision_key.h: who asks, what is
 * asked), each hashed once when it is made and compared where it lies, never concatenated;
 * part boundaries count ("ab","c" is not "a","bc"). It passes the tenant's policy generation,
 * a counter it bumps whenever any policy of the tenant changes: an entry put under
 * another generation misses, so a policy change invalidates the tenant's entries at once
 * without a scan. Entries also expire ttl_ms after they were put (default 300 s, the guide's
 * figure), or earlier at the verdict's valid_until_ms (a time condition's boundary). Time is
 * passed in by the caller (ms since the epoch), so tests inject it.
 *
 * Layout: a table of 4-way sets, each one cache line with its own spin lock, a set chosen by a
 * 64-bit hash of the key; a lookup compares the stored hash tags, then the stored parts (lengths
 * and bytes). Within a set entries are kept most recently used first; a put into a full set
 * replaces an expired entry, else the least recently used one. Capacity is fixed at creation
 * (rounded up to a power of two): memory stays bounded whatever the keys.
 *
 * Thread safety: every function but mni_dcache_free may be called from any number of threads at
 * once. A set's lock is held for a few dozen nanoseconds; no allocation or free happens under
 * a lock, and a hit writes nothing outside its set and entry.
 */
#ifndef MNI_POLICY_DECISION_CACHE_H
#define MNI_POLICY_DECISION_CACHE_H

#include "core/hash.h"

#include <stddef.h>
#include <stdint.h>

#define MNI_DCACHE_DEFAULT_CAPACITY 65536
#define MNI_DCACHE_DEFAULT_TTL_MS ((int64_t)300 * 1000)
#define MNI_DCACHE_REASON_MAX 256 /* reasons are kept up to this size, terminator included */

typedef struct mni_dcache mni_dcache;

/* One part of a key: len bytes at p (any bytes; p may be NULL when len is 0) and their hash.
 * Make parts with mni_dcache_part_of; a part that recurs (the actor, say, in every decision of
 * a call) can be made once and reused, so its bytes are hashed once. */
typedef struct mni_dcache_part {
    const void *p;
    size_t len;
    uint64_t hash; /* mni_hash64(p, len, 0) */
} mni_dcache_part;
#define MNI_DCACHE_MAX_PARTS 16

typedef struct mni_dcache_stats {
    uint64_t hits;
    uint64_t misses;    /* absent, put under another generation, or expired */
    uint64_t puts;
    uint64_t evictions; /* live entries replaced by a put of another key into a full set */
    size_t entries;     /* entries held now (expired ones included until replaced) */
    size_t capacity;
} mni_dcache_stats;

/* A cache of at least capacity entries (0: MNI_DCACHE_DEFAULT_CAPACITY) living ttl_ms
 * (<= 0: MNI_DCACHE_DEFAULT_TTL_MS). NULL when out of memory. */
mni_dcache *mni_dcache_create(size_t capacity, int64_t ttl_ms);
/* Frees the cache and its entries (NULL is fine). No other thread may be using it. */
void mni_dcache_free(mni_dcache *c);

/* Looks the key key[0..nparts) up (nparts <= MNI_DCACHE_MAX_PARTS; each part's hash must be
 * that of its bytes, as mni_dcache_part_of makes it). 1 (hit) when it is there, was put under
 * generation and has not expired at now_ms: *verdict (the int put, exactly: callers may keep
 * bits in it), policy_id (the deciding policy, "" for none, cut to idlen) and reason (cut to
 * reasonlen) are then set; each output may be NULL, and a caller that leaves out the reason
 * does not touch its bytes. 0 (miss) otherwise, outputs untouched. */
int mni_dcache_get(mni_dcache *c, const mni_dcache_part *key, size_t nparts, uint64_t generation,
                  int64_t now_ms, int *verdict, char *policy_id, size_t idlen, char *reason,
                  size_t reasonlen);

/* Stores verdict (any int) for key under generation, replacing any entry of the same key. It
 * expires at now_ms + the TTL, or at valid_until_ms if that is earlier (0 or INT64_MAX: no
 * such limit); a verdict already past valid_until_ms is not stored. policy_id and reason may
 * be NULL. MN_OK, MN_EINVAL (more than MNI_DCACHE_MAX_PARTS parts, a part of 4 GiB or more) or
 * MN_ENOMEM (nothing stored either way). */
int mni_dcache_put(mni_dcache *c, const mni_dcache_part *key, size_t nparts, uint64_t generation,
                  int64_t now_ms, int64_t valid_until_ms, int verdict, const char *policy_id,
                  const char *reason);

/* Scopes: parts that many keys share (an actor and a context, for every decision of one call)
 * interned once into an id that stands in for them: a key made with a part of the id's 8 bytes
 * instead of those parts hashes and compares in a fraction of the time. Ids are unique for the
 * cache's life and never reused (a scope evicted and interned again gets a new id, and the
 * entries under the old one simply miss), so no two sets of parts share an id. Returns the id
 * (never 0), or 0 when out of memory or the parts are bad (key them in full then). The scope
 * table holds a quarter of the capacity, least recently used first out. */
uint64_t mni_dcache_scope(mni_dcache *c, const mni_dcache_part *parts, size_t nparts);

/* Drops every entry and scope (the counters stay; scope ids are not reused). */
void mni_dcache_clear(mni_dcache *c);
void mni_dcache_stats_get(mni_dcache *c, mni_dcache_stats *out);

/* A part of a key with its hash; a key's hash combines those of its parts. */
static inline mni_dcache_part mni_dcache_part_of(const void *p, size_t len)
{
    return (mni_dcache_part){ p, len, mni_hash64(p, len, 0) };
}

#endif
