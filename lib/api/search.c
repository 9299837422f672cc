/* Search: the tenant's memories nearest to a text or a vector. Candidates come as (key, score)
 * pairs from the handle's vector index (index/vindex.h) or, without one or when it cannot answer
 * yet, from an exact scan (index/exact.c); then one read of the winning rows, which the store
 * checks again (deleted, expired) and this file too (identity, type, metadata: the index's
 * attributes may lag the store and hold no metadata). */
#include "api/abi_structs.h"
#include "api/metrics.h"
#include "api/access.h"
#include "api/actor.h"
#include "api/memory.h"
#include "api/embed.h"
#include "api/filter.h"
#include "api/validate.h"
#include "core/error.h"
#include "store/types.h"
#include "api/handle.h"
#include "core/json.h"
#include "api/embed_cache.h"
#include "index/exact.h"
#include "index/hnsw.h"
#include "index/vindex.h"
#include "api/limiter.h"
#include "api/cache.h"
#include "cache/codec.h"
#include "api/search_rank.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MNI_K_DEFAULT 10
#define MNI_K_MAX 1000
/* With a metadata filter the index proposes candidates that the rows then confirm; past this
 * many candidates an exact scan, which tests metadata as it reads, is cheaper. */
#define MNI_META_INDEX_MAX 4096

/* The unit query vector for opt, in vec (db->dim floats); scope: the tenant, for the cache.
 * *nothing is set when the query text has no words to search for (its vector is all zeros,
 * which the embedder refuses): the search then finds nothing. */
static int query_vector(mn_db *db, const char *scope, const mn_search_options *opt, float *vec,
                        int *nothing)
{
    *nothing = 0;
    if (opt->vector)
        return mni_check_vector(db, "the query vector", opt->vector, opt->dim, vec);
    int rc = mni_check_text(db, "the query", opt->query, db->cfg.max_text_bytes);
    if (rc != MN_OK)
        return rc;
    /* The embedder refuses a vector with no direction (api/embed_cache.h): stored, it would match
     * nothing. A query without words is no failure but a search for nothing, so that refusal is
     * forgotten here and the search finds nothing. */
    size_t zero = (size_t)-1;
    mni_errmark mark = mni_err_mark();
    rc = mni_embed_texts(db, scope, &opt->query, 1, vec, &zero);
    if (rc == MN_EINVAL && zero == 0) {
        mni_err_forget(mark);
        *nothing = 1;
        return MN_OK;
    }
    return rc;
}

static int check_options(mn_db *db, const mn_search_options *opt)
{
    if (!opt->query == !opt->vector)
        return mni_seterr(db, MN_EINVAL, "the search has %s; give a query text or a vector",
                          opt->query ? "both a query text and a vector" : "neither a query "
                          "text nor a vector");
    if (!opt->vector) {
        int rc = mni_embed_check(db, "a search by query text");
        if (rc != MN_OK)
            return rc;
    }
    if (opt->k < 0 || opt->k > MNI_K_MAX)
        return mni_seterr(db, MN_EINVAL, "k is %d; give 1..%d (0 = %d)", opt->k, MNI_K_MAX,
                         MNI_K_DEFAULT);
    if (!(opt->min_similarity >= -1.0 && opt->min_similarity <= 1.0))
        return mni_seterr(db, MN_EINVAL, "min_similarity is %g; give a number from -1 to 1",
                         opt->min_similarity);
    if (opt->ef < 0 || opt->ef > MNI_HNSW_MAX_EF)
        return mni_seterr(db, MN_EINVAL, "ef is %d; give 1..%d (0 = the handle's "
                         "hnsw_ef_search)", opt->ef, MNI_HNSW_MAX_EF);
    return MN_OK;
}

/* Reads the rows of the hits and sets their similarity (and score, their relevance, which
 * ranking adjusts), dropping those below the floor (opt->min_similarity, settled). */
static int fetch_hits(mn_db *db, const char *tenant_id, const struct mni_topk *top,
                      const mn_search_options *opt, const struct mni_store_query *q,
                      mn_memories **out)
{
    size_t n = 0, cap = top->n ? top->n : 1;
    int64_t *keys = malloc(cap * sizeof *keys);
    float *scores = malloc(cap * sizeof *scores);
    size_t *which = malloc(cap * sizeof *which);
    int rc = keys && scores && which ? MN_OK
             : mni_seterr(db, MN_ENOMEM, "out of memory reading search results");
    /* No floor keeps everything, similarities a rounding below -1 included. */
    for (size_t i = 0; rc == MN_OK && i < top->n; i++)
        if (opt->min_similarity <= MN_SEARCH_OFF || top->heap[i].score >= opt->min_similarity) {
            keys[n] = top->heap[i].key;
            scores[n++] = top->heap[i].score;
        }
    if (rc == MN_OK)
        rc = db->store->ops->memory_get_keys(db->store, tenant_id, keys, n, q->flags, q->now, out,
                                             which);
    for (size_t i = 0; rc == MN_OK && i < (*out)->count; i++)
        (*out)->items[i]->similarity = (*out)->items[i]->score = scores[which[i]];
    free(keys);
    free(scores);
    free(which);
    return rc;
}

/* Drops, in place, the rows the index proposed that q does not select after all: the index's
 * attributes may lag the store, and it knows no metadata. */
static void keep_selected(const struct mni_store_query *q, mn_memories *l)
{
    size_t kept = 0;
    for (size_t i = 0; i < l->count; i++) {
        mn_memory *m = l->items[i];
        int ok = (!q->identity_id || strcmp(m->identity_id, q->identity_id) == 0) &&
                 (!q->type || strcmp(m->type, q->type) == 0);
        if (ok && q->metadata) {
            cJSON *meta = cJSON_Parse(m->metadata);
            ok = meta && mni_json_contains(meta, q->metadata);
            cJSON_Delete(meta);
        }
        if (ok)
            l->items[kept++] = m;
        else
            mn_memory_free(m);
    }
    l->count = kept;
}

static void push_hit(void *ctx, int64_t key, float similarity)
{
    mni_topk_push(ctx, key, similarity);
}

/* The k best memories who may read, ranked (api/search_rank.h). Candidates that do not make it
 * (policies may hide memories one by one; rows changed since the index saw them; a metadata
 * filter the index cannot test) are dropped after the read and the search is widened (4x at a
 * time) until the page is full and final or every candidate has been seen: a hidden memory
 * never shows, and never costs a place. */
static int best_readable(mn_db *db, const struct mni_who *who, const struct mni_store_query *q,
                         const float *vec, const mn_search_options *opt,
                         const struct mni_rank *rank, int per_memory, mn_memories **out)
{
    int use_index = db->index != NULL;
    /* A store that searches itself (postgres with pgvector) serves instead of the index. */
    int use_store = db->store->ops->memory_search != NULL;
    size_t first = mni_rank_want(rank);
    for (size_t want = q->metadata && use_index ? first * 4 : first;; want *= 4) {
        struct mni_topk top = {0};
        int served = 0;
        int rc = mni_topk_init(&top, want) == 0 ? MN_OK
                 : mni_seterr(db, MN_ENOMEM, "out of memory searching");
        if (rc == MN_OK && use_store) {
            rc = db->store->ops->memory_search(db->store, who->tenant->id, q, vec, want,
                                               opt->ef, push_hit, &top);
            served = rc == MN_OK;
        } else if (rc == MN_OK && use_index) {
            rc = mni_vindex_search(db->index, who->tenant->id, q, vec, want, opt->ef, &top,
                                  &served);
            if (rc != MN_OK)
                rc = mni_seterr(db, rc, "out of memory searching");
        }
        if (rc == MN_OK && !served)
            rc = mni_exact_search(db->store, who->tenant->id, q, vec, &top);
        if (rc == MN_OK)
            mni_metrics_inc(db->metrics, MNI_S_SEARCHES + (!served ? MNI_PATH_EXACT
                                                          : use_store ? MNI_PATH_SERVER
                                                                      : MNI_PATH_INDEX));
        if (rc == MN_OK) {
            mni_topk_sort(&top);
            rc = fetch_hits(db, who->tenant->id, &top, opt, q, out);
        }
        /* Done widening when the search ran out of candidates or of ones above the minimum. */
        int exhausted = top.n < want || (opt->min_similarity > MN_SEARCH_OFF && top.n &&
                                         top.heap[top.n - 1].score < opt->min_similarity);
        double least = top.n ? top.heap[top.n - 1].score : 0;
        mni_topk_free(&top);
        if (rc != MN_OK)
            return rc;
        if (served)
            keep_selected(q, *out);
        if (per_memory)
            mni_access_filter_list(db, who, *out);
        int done = 0;
        rc = mni_rank_page(db, rank, *out, least, want, exhausted, &done);
        if (rc == MN_OK && done)
            return MN_OK;
        mn_memories_free(*out);
        *out = NULL;
        if (rc != MN_OK)
            return rc;
        if (served && q->metadata && want * 4 > MNI_META_INDEX_MAX)
            use_index = use_store = 0;
    }
}

/* best_readable, read through the cache when every result is the actor's to read without a
 * decision per memory (api/search_cache.c). */
static int cached_best_readable(mn_db *db, const struct mni_who *who,
                                const struct mni_store_query *q, const float *vec,
                                const mn_search_options *opt, const struct mni_rank *rank,
                                int per_memory, mn_memories **out)
{
    struct mni_wbuf key = {0};
    int keyed = !per_memory &&
                mni_search_cache_key(db, who->tenant->id, q, vec, opt, rank, &key);
    if (keyed && mni_search_cache_get(db, &key, q, out)) {
        mni_wbuf_free(&key);
        return MN_OK;
    }
    int rc = best_readable(db, who, q, vec, opt, rank, per_memory, out);
    if (rc == MN_OK && keyed)
        mni_search_cache_put(db, &key, q, *out);
    mni_wbuf_free(&key);
    return rc;
}

static int memory_search(mn_db *db, const mn_actor *actor, const mn_search_options *options,
                         mn_memories **out)
{
    if (!db)
        return mni_err_no_db("mn_memory_search");
    mn_search_options copy;
    const mn_search_options *opt = &copy;
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = mni_abi_read(db, &mni_abi_search_options, options, 0, &copy, sizeof copy);
    if (rc == MN_OK)
        rc = check_options(db, opt);
    struct mni_rank rank;
    if (rc == MN_OK)
        rc = mni_rank_begin(db, opt, (size_t)(opt->k ? opt->k : MNI_K_DEFAULT), &rank);
    /* From here on the floor is the one in force (MN_SEARCH_OFF: none). */
    copy.min_similarity = rc == MN_OK ? mni_rank_floor(db, opt, MNI_RANK_VECTOR) : 0;
    float *vec = rc == MN_OK ? malloc((size_t)db->dim * sizeof *vec) : NULL;
    if (rc == MN_OK && !vec)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory searching");
    struct mni_who who = {0};
    struct mni_query_owned q = {0};
    int per_memory = 0;
    if (rc == MN_OK)
        rc = mni_query_begin(db, actor, "search", opt->filter, &who, &q, &per_memory);
    if (rc == MN_OK)
        rc = mni_ratelimit_enforce(db, &who, "memory:search", 1);
    /* Embedded once the tenant is known: its embedding cache is its own. */
    int nothing = 0;
    if (rc == MN_OK)
        rc = query_vector(db, who.tenant->id, opt, vec, &nothing);
    if (rc == MN_OK && nothing && !(*out = calloc(1, sizeof **out)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory searching");
    else if (rc == MN_OK && !nothing)
        rc = cached_best_readable(db, &who, &q.q, vec, opt, &rank, per_memory, out);
    mni_query_release(&q);
    mni_who_release(&who);
    free(vec);
    return rc;
}

int mn_memory_search(mn_db *db, const mn_actor *actor, const mn_search_options *options,
                     mn_memories **out)
{
    MNI_TIMED(db, memory_search, memory_search(db, actor, options, out));
}

int mni_search_nearest(mn_db *db, struct mni_who *who, const struct mni_store_query *q,
                       const float *vec, double min_similarity, mn_memory **out)
{
    mn_search_options opt = { .version = MN_SEARCH_OPTIONS_VERSION, .k = 1,
                              .min_similarity = min_similarity };
    const struct mni_rank by_similarity = {.k = 1}; /* no recency, no importance */
    mn_memories *l = NULL;
    *out = NULL;
    int rc = best_readable(db, who, q, vec, &opt, &by_similarity, 0, &l);
    if (rc == MN_OK && l->count) {
        *out = l->items[0];
        l->count = 0;
    }
    mn_memories_free(l);
    return rc;
}
