/*
 * A memory by id, read through the cache: the store's memory_get kept for an hour (the
 * guide's TTL for memories) under its tenant's generation, which the store's change hook
 * moves on after every committed change to the tenant's memories (api/handle.c), whoever made
 * it: a call, an embedding job, maintenance. The access check runs on every read, cached or
 * not (api/memory.c): the cache holds rows, never decisions about them.
 *
 * An entry read without MN_WITH_EXPIRED that has expired since it was put is a miss: the store
 * would no longer return it. Texts of an encrypted database never go to Redis (only the
 * in-process cache, inside the process that holds the key, keeps them).
 */
#include "api/cache.h"
#include "api/handle.h"
#include "cache/cache.h"
#include "cache/codec.h"
#include "core/metrics.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define MEMORY_TTL_MS (60 * 60 * 1000)
#define MEMORY_FORMAT 3 /* 3: with the session */

void mni_memory_encode(struct mni_wbuf *w, const mn_memory *m)
{
    int64_t importance;
    memcpy(&importance, &m->importance, sizeof importance);
    mni_wbuf_format(w, MEMORY_FORMAT);
    const char *s[] = {m->id, m->tenant_id, m->identity_id, m->text, m->type, m->metadata,
                       m->embed_error, m->external_key, m->session};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        mni_wbuf_str(w, s[i]);
    const int64_t n[] = {importance, m->version, m->created_at, m->updated_at, m->expires_at,
                         m->deleted, m->seq, m->embed_status};
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        mni_wbuf_i64(w, n[i]);
}

mn_memory *mni_memory_decode(struct mni_rbuf *r)
{
    mn_memory *m = mni_rbuf_format(r, MEMORY_FORMAT) ? calloc(1, sizeof *m) : NULL;
    if (!m)
        return NULL;
    char **s[] = {&m->id, &m->tenant_id, &m->identity_id, &m->text, &m->type, &m->metadata,
                  &m->embed_error, &m->external_key, &m->session};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        *s[i] = mni_rbuf_str(r);
    int64_t importance = mni_rbuf_i64(r);
    memcpy(&m->importance, &importance, sizeof importance);
    m->version = mni_rbuf_i64(r);
    m->created_at = mni_rbuf_i64(r);
    m->updated_at = mni_rbuf_i64(r);
    m->expires_at = mni_rbuf_i64(r);
    m->deleted = (int)mni_rbuf_i64(r);
    m->seq = mni_rbuf_i64(r);
    m->embed_status = (int)mni_rbuf_i64(r);
    /* Every string but embed_error, external_key and session is always set. */
    if (r->bad || !m->id || !m->tenant_id || !m->identity_id || !m->text || !m->type ||
        !m->metadata) {
        mn_memory_free(m);
        return NULL;
    }
    return m;
}

/* The memory v holds, or NULL when it is not a whole one (or no memory for it). */
static mn_memory *decode(const void *v, size_t len)
{
    struct mni_rbuf r = {v, len, 0};
    mn_memory *m = mni_memory_decode(&r);
    if (m && r.n) {
        mn_memory_free(m);
        return NULL;
    }
    return m;
}

int mni_cache_rows_ok(const mn_db *db, unsigned flags)
{
    return db->cache && !(flags & MN_WITH_EMBEDDING) &&
           !(db->cache->ops->backend == MN_CACHE_REDIS && mn_db_encrypted(db));
}

int mni_cached_memory_get(mn_db *db, const char *tenant_id, const char *id, unsigned flags,
                          int64_t now, mn_memory **out)
{
    struct mni_store_query q = {.flags = flags, .now = now};
    struct mni_cache *c = db->cache;
    uint64_t gen = mni_cache_rows_ok(db, flags) ? c->ops->gen(c, tenant_id) : 0;
    struct mni_wbuf k = {0};
    if (gen) {
        mni_wbuf_format(&k, 'm');
        mni_wbuf_i64(&k, (int64_t)gen);
        mni_wbuf_str(&k, tenant_id);
        mni_wbuf_str(&k, id);
        mni_wbuf_i64(&k, flags);
    }
    int keyed = gen && !k.oom;
    void *v;
    size_t n;
    if (keyed && mni_cache_lookup(db, MNI_CACHE_MEMORIES, k.p, k.n, &v, &n)) {
        mn_memory *m = decode(v, n);
        free(v);
        if (m && !(flags & MN_WITH_EXPIRED) && m->expires_at && m->expires_at <= now) {
            mn_memory_free(m);
            m = NULL;
        }
        if (m) {
            mni_wbuf_free(&k);
            *out = m;
            return MN_OK;
        }
    }
    int rc = db->store->ops->memory_get(db->store, tenant_id, id, &q, out);
    if (rc == MN_OK && keyed) {
        struct mni_wbuf w = {0};
        mni_memory_encode(&w, *out);
        if (!w.oom)
            c->ops->put(c, k.p, k.n, w.p, w.n, MEMORY_TTL_MS);
        mni_wbuf_free(&w);
    }
    mni_wbuf_free(&k);
    return rc;
}
