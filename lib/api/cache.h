/* The handle's read-through cache (cache/cache.h): settings, opening, the generations writes
 * move on, and what is read through it. */
#ifndef MNI_API_CACHE_H
#define MNI_API_CACHE_H

#include "manushya.h"

#include <stdint.h>

/* The scope of what actors resolve to: tenants, identities and the tenants' policy
 * generations. Cached actors are keyed by the names callers give (a tenant's id or name, an
 * identity's id or external id), which do not say their tenant's id: one scope for all. */
#define MNI_SCOPE_DIRECTORY "dir"

/* Checks and fills in the mn_config.cache* fields (before anything is opened). */
int mni_cache_settle(mn_db *db);
/* Makes the cache mn_config.cache chose, once the store is open (a Redis cache is named after
 * the database). A Redis cache that cannot be named is no cache, logged, never an error. */
int mni_cache_open(mn_db *db);
void mni_cache_close(mn_db *db);

/* Moves scope on to a new generation: every write of what a scope's entries hold calls it
 * after its commit, before it returns (cache/cache.h says why after). Never fails. */
void mni_cache_bump(mn_db *db, const char *scope);

/* A lookup of key (k bytes) counted as a hit or a miss of the handle's cache and of the
 * metrics' label (MNI_CACHE_*): 1 with *v (malloc'd, *n bytes) on a hit. */
int mni_cache_lookup(mn_db *db, unsigned label, const void *k, size_t kn, void **v, size_t *n);

/* The store's actor_get, read through the cache for 30 minutes. */
int mni_cached_actor_get(mn_db *db, const char *tenant, const char *identity, mn_tenant **t,
                         mn_identity **i, int64_t *policy_gen);

/* The store's memory_get, read through the cache for an hour under the tenant's generation
 * (every committed memory change moves it on: the store's change hook). Not for a vector
 * (MN_WITH_EMBEDDING), nor in Redis for an encrypted database, whose texts never leave the
 * process in the clear. */
int mni_cached_memory_get(mn_db *db, const char *tenant_id, const char *id, unsigned flags,
                          int64_t now, mn_memory **out);

/* 1 when rows read with flags (MN_WITH_*) may be cached: a cache is on, no vector is asked
 * for, and no encrypted text would go to Redis. */
int mni_cache_rows_ok(const mn_db *db, unsigned flags);

/* A memory as cached bytes, and back: NULL when r does not start with a whole one (r moves on
 * past what was read). */
struct mni_wbuf;
struct mni_rbuf;
void mni_memory_encode(struct mni_wbuf *w, const mn_memory *m);
mn_memory *mni_memory_decode(struct mni_rbuf *r);

/* Search results, read through the cache for 30 minutes (the guide's TTL for searches) under
 * the tenant's generation (api/search_cache.c says what a key holds and when results are not
 * kept). mni_search_cache_key makes the key of a search (1) or says it is not to be cached (0,
 * key empty); the caller frees the key with mni_wbuf_free. */
struct mni_store_query;
struct mni_rank;
int mni_search_cache_key(mn_db *db, const char *tenant_id, const struct mni_store_query *q,
                         const float *vec, const mn_search_options *opt,
                         const struct mni_rank *rank, struct mni_wbuf *key);
/* 1 with *out on a hit; 0 on a miss (or an entry a memory of which has expired since). */
int mni_search_cache_get(mn_db *db, const struct mni_wbuf *key,
                         const struct mni_store_query *q, mn_memories **out);
void mni_search_cache_put(mn_db *db, const struct mni_wbuf *key,
                          const struct mni_store_query *q, const mn_memories *l);

#endif
