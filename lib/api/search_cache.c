/*
 * Search results read through the cache: the rows a search returned, with their similarities,
 * kept for 30 minutes (the guide's TTL for searches) under the tenant's generation, which every
 * committed change to the tenant's memories moves on (api/handle.c): a write anywhere in the
 * tenant is a miss for every search after it, in every process sharing the cache.
 *
 * A key holds all a result depends on besides the data: the store query (identity, type,
 * metadata filter, flags), the mode and its fusion (weights, rrf_k), k, the candidates asked
 * of the index (ef), the floor in force, the importance weight, the cursor, and a BLAKE2b hash
 * of the query vector and text (the vector, as two handles with other embedders would make
 * other vectors of one text; the text for the keyword ranking's words; a hash, so that no query
 * text goes to Redis, and one a collision of which no one can make). A search ranked by recency is not kept: its scores move with
 * the clock.
 *
 * Only searches whose every result the actor may read without a decision per memory are kept
 * (mni_access_begin's per_memory 0: the system actor, or policies that look at no memory):
 * the call's own decision is made before the cache is asked, and the results then depend on
 * no one's rights. Time: an entry lives no longer than the first expiry among its memories
 * (unless expired ones were asked for), and a hit holding a memory expired since is a miss,
 * as the store would no longer return it.
 */
#include "api/cache.h"
#include "api/handle.h"
#include "api/search_rank.h"
#include "cache/cache.h"
#include "cache/codec.h"
#include "core/json.h"
#include "core/metrics.h"
#include "store/store.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_TTL_MS (30 * 60 * 1000)
#define SEARCH_FORMAT 1

static int64_t bits_of(double d)
{
    int64_t i;
    memcpy(&i, &d, sizeof i);
    return i;
}

static double double_of(int64_t i)
{
    double d;
    memcpy(&d, &i, sizeof d);
    return d;
}

int mni_search_cache_key(mn_db *db, const char *tenant_id, const struct mni_store_query *q,
                         const float *vec, const mn_search_options *opt,
                         const struct mni_rank *rank, struct mni_wbuf *key)
{
    memset(key, 0, sizeof *key);
    struct mni_cache *c = db->cache;
    uint64_t gen = mni_cache_rows_ok(db, q->flags) && !rank->half_life_ms
                   ? c->ops->gen(c, tenant_id) : 0;
    if (!gen)
        return 0;
    unsigned char digest[32];
    char hex[2 * sizeof digest + 1];
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, sizeof digest);
    crypto_generichash_update(&h, (const unsigned char *)vec, (size_t)db->dim * sizeof *vec);
    if (opt->query)
        crypto_generichash_update(&h, (const unsigned char *)opt->query, strlen(opt->query) + 1);
    crypto_generichash_final(&h, digest, sizeof digest);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    char *meta = q->metadata ? cJSON_PrintUnformatted(q->metadata) : NULL;
    mni_wbuf_format(key, 's');
    mni_wbuf_i64(key, (int64_t)gen);
    mni_wbuf_str(key, tenant_id);
    mni_wbuf_str(key, q->identity_id);
    mni_wbuf_str(key, q->type);
    mni_wbuf_str(key, meta);
    mni_wbuf_i64(key, q->flags);
    mni_wbuf_str(key, q->sessions_json);
    mni_wbuf_str(key, q->types_json);
    mni_wbuf_str(key, q->identities_json);
    const int64_t ranges[] = {q->created_after, q->created_before, q->updated_after,
                              q->updated_before, q->importance_bounded,
                              bits_of(q->importance_min), bits_of(q->importance_max)};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        mni_wbuf_i64(key, ranges[i]);
    mni_wbuf_i64(key, opt->k);
    mni_wbuf_i64(key, opt->ef ? opt->ef : db->cfg.hnsw_ef_search);
    mni_wbuf_i64(key, bits_of(opt->min_similarity));
    mni_wbuf_i64(key, bits_of(rank->importance_weight));
    mni_wbuf_i64(key, opt->mode);
    mni_wbuf_i64(key, bits_of(opt->vector_weight));
    mni_wbuf_i64(key, bits_of(opt->keyword_weight));
    mni_wbuf_i64(key, opt->rrf_k);
    mni_wbuf_str(key, opt->cursor);
    mni_wbuf_str(key, hex);
    int ok = !key->oom && (!q->metadata || meta);
    cJSON_free(meta);
    if (!ok)
        mni_wbuf_free(key);
    return ok;
}

/* 1 when m would no longer be returned at q->now: it has expired since it was kept. */
static int expired_since(const struct mni_store_query *q, const mn_memory *m)
{
    return !(q->flags & MN_WITH_EXPIRED) && m->expires_at && m->expires_at <= q->now;
}

int mni_search_cache_get(mn_db *db, const struct mni_wbuf *key,
                         const struct mni_store_query *q, mn_memories **out)
{
    void *v;
    size_t n;
    if (!mni_cache_lookup(db, MNI_CACHE_SEARCHES, key->p, key->n, &v, &n))
        return 0;
    struct mni_rbuf r = {v, n, 0};
    int64_t count = mni_rbuf_format(&r, SEARCH_FORMAT) ? mni_rbuf_i64(&r) : -1;
    mn_memories *l = count >= 0 && (uint64_t)count <= r.n ? calloc(1, sizeof *l) : NULL;
    if (l && count)
        l->items = calloc((size_t)count, sizeof *l->items);
    int whole = l && (!count || l->items);
    if (whole)
        l->next_cursor = mni_rbuf_str(&r);
    for (int64_t i = 0; whole && i < count; i++) {
        mn_memory *m = mni_memory_decode(&r);
        if (!m) {
            whole = 0;
            break;
        }
        l->items[l->count++] = m;
        double *scores[] = {&m->similarity, &m->recency_factor, &m->importance_factor,
                            &m->score, &m->vector_score, &m->keyword_score, &m->fused_score};
        for (size_t j = 0; j < sizeof scores / sizeof *scores; j++)
            *scores[j] = double_of(mni_rbuf_i64(&r));
        m->vector_rank = (int)mni_rbuf_i64(&r);
        m->keyword_rank = (int)mni_rbuf_i64(&r);
        whole = !r.bad && !expired_since(q, m);
    }
    free(v);
    if (!whole || r.bad || r.n) {
        mn_memories_free(l);
        return 0;
    }
    *out = l;
    return 1;
}

void mni_search_cache_put(mn_db *db, const struct mni_wbuf *key,
                          const struct mni_store_query *q, const mn_memories *l)
{
    int64_t ttl = SEARCH_TTL_MS;
    struct mni_wbuf w = {0};
    mni_wbuf_format(&w, SEARCH_FORMAT);
    mni_wbuf_i64(&w, (int64_t)l->count);
    mni_wbuf_str(&w, l->next_cursor);
    for (size_t i = 0; i < l->count; i++) {
        const mn_memory *m = l->items[i];
        mni_memory_encode(&w, m);
        const double scores[] = {m->similarity, m->recency_factor, m->importance_factor,
                                 m->score, m->vector_score, m->keyword_score, m->fused_score};
        for (size_t j = 0; j < sizeof scores / sizeof *scores; j++)
            mni_wbuf_i64(&w, bits_of(scores[j]));
        mni_wbuf_i64(&w, m->vector_rank);
        mni_wbuf_i64(&w, m->keyword_rank);
        if (!(q->flags & MN_WITH_EXPIRED) && m->expires_at && m->expires_at - q->now < ttl)
            ttl = m->expires_at - q->now;
    }
    if (!w.oom && ttl > 0)
        db->cache->ops->put(db->cache, key->p, key->n, w.p, w.n, ttl);
    mni_wbuf_free(&w);
}
