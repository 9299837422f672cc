/* The handle's read-through cache: settings, opening by mn_config.cache, generations, stats. */
#include "api/cache.h"
#include "api/abi_structs.h"
#include "api/apikey.h"
#include "api/handle.h"
#include "cache/backends.h"
#include "store/store.h"
#include "core/error.h"
#include "core/metrics.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_MAX_BYTES ((size_t)64 << 20)
#define DEFAULT_LOCAL_MS 1000
#define MAX_LOCAL_MS 3600000

int mni_cache_settle(mn_db *db)
{
    mn_config *c = &db->cfg;
    if (c->cache != MN_CACHE_AUTO && c->cache != MN_CACHE_OFF && c->cache != MN_CACHE_MEMORY &&
        c->cache != MN_CACHE_REDIS)
        return mni_seterr(db, MN_EINVAL, "mn_config.cache is %d; give MN_CACHE_AUTO (0), "
                          "MN_CACHE_OFF (1), MN_CACHE_MEMORY (2) or MN_CACHE_REDIS (3)", c->cache);
    if (c->cache == MN_CACHE_REDIS && (!c->redis_url || !*c->redis_url))
        return mni_seterr(db, MN_EINVAL, "mn_config.cache is MN_CACHE_REDIS but "
                          "mn_config.redis_url is not set; give redis://host:port");
    if (c->cache_local_ms < 0 || c->cache_local_ms > MAX_LOCAL_MS)
        return mni_seterr(db, MN_EINVAL, "mn_config.cache_local_ms is %d; give 1..%d (0 = the "
                          "default, %d)", c->cache_local_ms, MAX_LOCAL_MS, DEFAULT_LOCAL_MS);
    if (!c->cache_local_ms)
        c->cache_local_ms = DEFAULT_LOCAL_MS;
    if (!c->cache_max_bytes)
        c->cache_max_bytes = DEFAULT_MAX_BYTES;
    return MN_OK;
}

/* The database's name in a shared Redis: a keyed hash of a fixed text with the database's own
 * secret (the one API keys are hashed with), the same in every process that opens it however
 * its URL is written, and different for every database. */
static int namespace_of(mn_db *db, char ns[33])
{
    char text[MNI_APIKEY_LEN + 1];
    memset(text, '.', MNI_APIKEY_LEN);
    text[MNI_APIKEY_LEN] = '\0';
    memcpy(text, "manushya cache namespace", 24);
    unsigned char h[MNI_APIKEY_HASH_BYTES];
    int rc = mni_apikey_hash(db, text, h);
    if (rc == MN_OK)
        sodium_bin2hex(ns, 33, h, 16);
    return rc;
}

/* MN_CACHE_AUTO once the store is open: Redis for a PostgreSQL store when redis_url is set
 * (processes on several machines share it, and every one sees every write at once), else
 * none. Not the in-process cache: other processes on the same SQLite file would see this
 * one's entries stale for up to cache_local_ms, where without a cache every read is current;
 * a program that is the only writer (or accepts that) asks for MN_CACHE_MEMORY. Nor Redis for
 * SQLite: a round trip costs more than the local read it saves. */
static int auto_backend(const mn_db *db)
{
    int server = strncmp(db->store->ops->scheme, "postgres", 8) == 0;
    return server && db->cfg.redis_url && *db->cfg.redis_url ? MN_CACHE_REDIS : MN_CACHE_OFF;
}

int mni_cache_open(mn_db *db)
{
    if (db->cfg.cache == MN_CACHE_AUTO)
        db->cfg.cache = auto_backend(db);
    if (db->cfg.cache == MN_CACHE_OFF)
        return MN_OK;
    char ns[33] = "";
    if (db->cfg.cache == MN_CACHE_REDIS) {
        mni_errmark mark = mni_err_mark();
        if (namespace_of(db, ns) != MN_OK) {
            /* A read-only handle on a database that never made its secret: no cache. */
            mni_log(db, "cache: off: the database could not be named in Redis: %s",
                    mn_errmsg(db));
            mni_err_forget(mark);
            return MN_OK;
        }
    }
    return mni_cache_create(db, &db->cfg, ns, &db->cache);
}

void mni_cache_close(mn_db *db)
{
    if (db->cache)
        db->cache->ops->destroy(db->cache);
    db->cache = NULL;
}

void mni_cache_bump(mn_db *db, const char *scope)
{
    if (db->cache)
        db->cache->ops->bump(db->cache, scope);
}

int mni_cache_lookup(mn_db *db, unsigned label, const void *k, size_t kn, void **v, size_t *n)
{
    struct mni_cache *c = db->cache;
    int hit = c->ops->get(c, k, kn, v, n);
    atomic_fetch_add_explicit(hit ? &c->hits : &c->misses, 1, memory_order_relaxed);
    mni_metrics_inc(db->metrics, (hit ? MNI_S_CACHE_HITS : MNI_S_CACHE_MISSES) + label);
    return hit;
}

int mn_cache_stats_get(mn_db *db, mn_cache_stats *out)
{
    if (!db)
        return mni_err_no_db(__func__);
    mn_cache_stats s = {.version = MN_CACHE_STATS_VERSION, .backend = MN_CACHE_OFF};
    struct mni_cache *c = db->cache;
    if (c) {
        s.backend = c->ops->backend;
        s.hits = atomic_load(&c->hits);
        s.misses = atomic_load(&c->misses);
        s.evictions = atomic_load(&c->evictions);
        s.failures = atomic_load(&c->failures);
        c->ops->size(c, &s.entries, &s.bytes);
    }
    return mni_abi_write(db, &mni_abi_cache_stats, out, &s);
}

int mn_cache_clear(mn_db *db)
{
    if (!db)
        return mni_err_no_db(__func__);
    char err[MNI_ERRMSG_MAX];
    if (db->cache && db->cache->ops->clear(db->cache, err, sizeof err) != MN_OK)
        return mni_seterr(db, MN_EBACKEND, "mn_cache_clear: %s", err);
    return MN_OK;
}
