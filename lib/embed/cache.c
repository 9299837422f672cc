/*
 * The embedding cache: before a remote embedder is asked, the store is asked for the vectors
 * of the same (model, dimension, SHA-256 of the text) made before; only the misses are sent,
 * and their vectors are kept for next time. The cache is an optimisation: a store that cannot
 * read or write it never makes embedding fail (the texts are then simply embedded).
 */
#include "embed/cache.h"
#include "embed/sha256.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/handle.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

int mn_embed_cache_usable(const mn_db *db)
{
    const struct mn_store_ops *ops = db->store ? db->store->ops : NULL;
    return db->embed_ops->cacheable && db->cfg.embed_cache == MN_EMBED_CACHE_AUTO && ops &&
           ops->embed_cache_get && ops->embed_cache_put;
}

static int embed_direct(mn_db *db, const char *const *texts, const size_t *lens, size_t n,
                        float *out)
{
    char err[MN_ERRMSG_MAX];
    int rc = db->embed_ops->embed(db->embedder, texts, lens, n, out, err, sizeof err);
    return rc == MN_OK ? MN_OK : mn_seterr(db, rc, "%s", err);
}

int mn_embed_cached(mn_db *db, const char *scope, const char *const *texts, const size_t *lens,
                    size_t n, float *out)
{
    if (!db->embed_cached || n == 0)
        return embed_direct(db, texts, lens, n, out);
    const struct mn_store_ops *ops = db->store->ops;
    const char *model = db->embed_ops->cache_key(db->embedder);
    size_t dim = (size_t)db->dim;
    unsigned char *hashes = malloc(n * MN_SHA256_LEN), *hit = calloc(n, 1);
    const char **mt = malloc(n * sizeof *mt);
    size_t *ml = malloc(n * sizeof *ml);
    unsigned char *mh = malloc(n * MN_SHA256_LEN);
    float *mv = malloc(n * dim * sizeof *mv);
    int rc = hashes && hit && mt && ml && mh && mv
                 ? MN_OK : mn_seterr(db, MN_ENOMEM, "out of memory embedding %zu texts", n);
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        mn_sha256(texts[i], lens[i], hashes + i * MN_SHA256_LEN);
    if (rc == MN_OK)
        ops->embed_cache_get(db->store, scope ? scope : "", model, db->dim, hashes, n, out, hit);
    size_t misses = 0;
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        if (hit[i])
            continue;
        mt[misses] = texts[i];
        ml[misses] = lens[i];
        memcpy(mh + misses * MN_SHA256_LEN, hashes + i * MN_SHA256_LEN, MN_SHA256_LEN);
        misses++;
    }
    if (rc == MN_OK && misses)
        rc = embed_direct(db, mt, ml, misses, mv);
    if (rc == MN_OK && misses) {
        if (!(db->cfg.flags & MN_OPEN_READONLY))
            ops->embed_cache_put(db->store, scope ? scope : "", model, db->dim, mh, misses, mv,
                                 mn_now_ms());
        for (size_t i = 0, j = 0; i < n; i++)
            if (!hit[i])
                memcpy(out + i * dim, mv + j++ * dim, dim * sizeof *out);
    }
    if (rc == MN_OK) {
        __atomic_fetch_add(&db->embed_hits, (uint64_t)(n - misses), __ATOMIC_RELAXED);
        __atomic_fetch_add(&db->embed_misses, (uint64_t)misses, __ATOMIC_RELAXED);
    }
    free(hashes);
    free(hit);
    free(mt);
    free(ml);
    free(mh);
    free(mv);
    return rc;
}
