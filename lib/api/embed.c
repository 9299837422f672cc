#include "api/embed.h"
#include "api/validate.h"
#include "core/error.h"
#include "api/handle.h"
#include "api/embed_cache.h"

#include <stdlib.h>
#include <string.h>

int mni_embed_texts(mn_db *db, const char *scope, const char *const *texts, size_t n,
                   float *out)
{
    size_t small[64] = { 0 }, *lens = n <= 64 ? small : malloc(n * sizeof *lens);
    if (!lens)
        return mni_seterr(db, MN_ENOMEM, "out of memory embedding %zu texts", n);
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(texts[i]);
    int rc = mni_embed_cached(db, scope, texts, lens, n, out);
    if (lens != small)
        free(lens);
    return rc;
}

int mn_embed_many(mn_db *db, const char *const *texts, size_t n, float *out, int dim)
{
    if (!db)
        return MN_EINVAL;
    if ((!texts && n) || !out)
        return mni_seterr(db, MN_EINVAL, "mn_embed: %s is NULL", out ? "texts" : "out");
    if (dim != db->dim)
        return mni_seterr(db, MN_EINVAL, "mn_embed: dim is %d but the database embeds into %d "
                         "dimensions (mn_embed_dim)", dim, db->dim);
    for (size_t i = 0; i < n; i++) {
        if (!texts[i])
            return mni_seterr(db, MN_EINVAL, "mn_embed: text %zu is NULL", i);
        if (!mni_utf8_valid(texts[i], strlen(texts[i])))
            return mni_seterr(db, MN_EINVAL, "mn_embed: text %zu is not valid UTF-8", i);
    }
    return n ? mni_embed_texts(db, NULL, texts, n, out) : MN_OK; /* for no tenant */
}

int mn_embed(mn_db *db, const char *text, float *out, int dim)
{
    return mn_embed_many(db, &text, 1, out, dim);
}

int mn_embed_stats_get(mn_db *db, mn_embed_stats *out)
{
    if (!db)
        return MN_EINVAL;
    if (!out)
        return mni_seterr(db, MN_EINVAL, "mn_embed_stats_get: out is NULL");
    struct mni_embedder_stats es = {0};
    if (db->embed_ops->stats)
        db->embed_ops->stats(db->embedder, &es);
    *out = (mn_embed_stats){
        .embedder = db->embed_ops->name,
        .model = db->embed_ops->cache_key(db->embedder),
        .dim = db->dim,
        .cached = db->embed_cached,
        .cache_hits = __atomic_load_n(&db->embed_hits, __ATOMIC_RELAXED),
        .cache_misses = __atomic_load_n(&db->embed_misses, __ATOMIC_RELAXED),
        .texts = es.texts,
        .requests = es.requests,
        .retries = es.retries,
        .max_inflight = es.max_inflight,
        .max_batch = es.max_batch,
    };
    return MN_OK;
}
