/* Search: the tenant's memories nearest to a text or a vector, by meaning, by words or both
 * (mn_search_options.mode). The vector ranking comes as (key, similarity) pairs from the
 * handle's vector index (index/vindex.h) or, without one or when it cannot answer yet, from an
 * exact scan (index/exact.c); the keyword ranking from the store's keyword index
 * (store/keywords.h); the two are fused (api/search_fuse.h); then one read of the winning
 * rows, which the store checks again (deleted, expired) and this file too (identity, type,
 * metadata: the index's attributes may lag the store, and neither ranking tests metadata). */
#include "api/abi_structs.h"
#include "api/search.h"
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
#include "api/search_fuse.h"
#include "index/distance.h"
#include "store/keywords.h"
#include "api/search_rank.h"
#include "api/search_words.h"
#include "api/cache.h"
#include "cache/codec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MNI_K_DEFAULT 10
#define MNI_K_MAX 1000
/* Hybrid search fuses rankings at least this deep, whatever k: the memory both rank second
 * must not lose to one that a single ranking puts first. */
#define MNI_FUSE_DEPTH 20
/* With a metadata filter the index proposes candidates that the rows then confirm; past this
 * many candidates an exact scan, which tests metadata as it reads, is cheaper. */
#define MNI_META_INDEX_MAX 4096

/* Checks the options and settles their defaults in place: the mode (MN_SEARCH_AUTO becomes
 * the handle's, or vector for a search by vector), the weights and rrf_k. */
static int check_options(mn_db *db, mn_search_options *opt)
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
    if (opt->mode < MN_SEARCH_AUTO || opt->mode > MN_SEARCH_HYBRID)
        return mni_seterr(db, MN_EINVAL, "mode is %d; give MN_SEARCH_VECTOR (1), "
                         "MN_SEARCH_KEYWORD (2), MN_SEARCH_HYBRID (3) or MN_SEARCH_AUTO (0, the "
                         "handle's search_mode)", opt->mode);
    if (opt->vector && opt->mode != MN_SEARCH_AUTO && opt->mode != MN_SEARCH_VECTOR)
        return mni_seterr(db, MN_EINVAL, "%s search looks for the words of a query text, and "
                         "this search has a vector instead; give query, or mode "
                         "MN_SEARCH_VECTOR", opt->mode == MN_SEARCH_KEYWORD ? "a keyword"
                                                                         : "a hybrid");
    if (opt->mode == MN_SEARCH_AUTO)
        opt->mode = opt->vector ? MN_SEARCH_VECTOR : db->cfg.search_mode;
    double *weights[2] = { &opt->vector_weight, &opt->keyword_weight };
    for (int i = 0; i < 2; i++) {
        if (!(*weights[i] >= 0 && *weights[i] <= 1e6))
            return mni_seterr(db, MN_EINVAL, "%s_weight is %g; give a weight from 0 to 1e6 "
                             "(0 = 1.0)", i ? "keyword" : "vector", *weights[i]);
        if (*weights[i] == 0)
            *weights[i] = 1.0;
    }
    if (opt->rrf_k < 0 || opt->rrf_k > MNI_RRF_K_MAX)
        return mni_seterr(db, MN_EINVAL, "rrf_k is %d; give 1..%d (0 = %d)", opt->rrf_k,
                         MNI_RRF_K_MAX, MNI_RRF_K_DEFAULT);
    if (!opt->rrf_k)
        opt->rrf_k = MNI_RRF_K_DEFAULT;
    if (opt->flags & ~MN_SEARCH_EXPLAIN)
        return mni_seterr(db, MN_EINVAL, "the search options' flags have unknown bits 0x%x; "
                         "use MN_SEARCH_EXPLAIN", opt->flags & ~MN_SEARCH_EXPLAIN);
    return MN_OK;
}

/* Reads the rows of the candidates, best first, and fills in what each ranking said of them,
 * and score, their relevance, which ranking adjusts (api/search_rank.h). A hit the vector
 * ranking did not find gets its similarity from its own vector, read for that and dropped
 * again unless the caller asked for it. The floor (min_similarity, settled: MN_SEARCH_OFF is
 * none) is of the vector similarity: a hit below it goes unless the keyword ranking found it,
 * a keyword match being relevant by itself. */
static int fetch_hits(mn_db *db, const char *tenant_id, const struct mni_scored_list *cands,
                      const float *vec, double min_similarity, const struct mni_store_query *q,
                      mn_memories **out)
{
    size_t n = cands->n;
    int64_t *keys = malloc((n ? n : 1) * sizeof *keys);
    size_t *which = malloc((n ? n : 1) * sizeof *which);
    int rc = keys && which ? MN_OK
             : mni_seterr(db, MN_ENOMEM, "out of memory reading search results");
    int need_vectors = 0;
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        keys[i] = cands->items[i].key;
        need_vectors |= !cands->items[i].vector_rank;
    }
    unsigned flags = q->flags | (need_vectors ? MN_WITH_EMBEDDING : 0);
    if (rc == MN_OK)
        rc = db->store->ops->memory_get_keys(db->store, tenant_id, keys, n, flags, q->now, out,
                                             which);
    for (size_t i = 0; rc == MN_OK && i < (*out)->count; i++) {
        mn_memory *m = (*out)->items[i];
        const struct mni_scored *c = &cands->items[which[i]];
        m->vector_score = c->vector_score;
        m->vector_rank = c->vector_rank;
        m->keyword_score = c->keyword_score;
        m->keyword_rank = c->keyword_rank;
        m->fused_score = m->score = c->fused;
        m->similarity = c->vector_rank || !m->embedding ? c->vector_score
                        : mni_ip(vec, m->embedding, db->dim);
        if (!(q->flags & MN_WITH_EMBEDDING)) {
            free(m->embedding);
            m->embedding = NULL;
            m->dim = 0;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; rc == MN_OK && i < (*out)->count; i++) {
        mn_memory *m = (*out)->items[i];
        if (min_similarity <= MN_SEARCH_OFF || m->keyword_rank || m->similarity >= min_similarity)
            (*out)->items[kept++] = m;
        else
            mn_memory_free(m);
    }
    if (rc == MN_OK)
        (*out)->count = kept;
    free(keys);
    free(which);
    return rc;
}

/* Drops, in place, the rows the rankings proposed that q does not select after all: the
 * index's attributes may lag the store, and neither ranking knows metadata. */
static void keep_selected(const struct mni_store_query *q, mn_memories *l)
{
    size_t kept = 0;
    for (size_t i = 0; i < l->count; i++) {
        mn_memory *m = l->items[i];
        if (mni_query_selects(q, m))
            l->items[kept++] = m;
        else
            mn_memory_free(m);
    }
    l->count = kept;
}

/* Where the vector ranking comes from; a metadata filter may move it to the exact scan. */
struct vector_source {
    int use_index, use_store;
};

/* The vector ranking: the want nearest, best first, those below min_similarity dropped;
 * *floored when some were. */
static int vector_ranking(mn_db *db, const struct mni_who *who, const struct mni_store_query *q,
                          const float *vec, const mn_search_options *opt, size_t want,
                          const struct vector_source *src, struct mni_topk *top, int *floored)
{
    int served = 0, rc = MN_OK;
    if (src->use_store) {
        rc = db->store->ops->memory_search(db->store, who->tenant->id, q, vec, want, opt->ef,
                                           mni_topk_hit, top);
        served = rc == MN_OK;
    } else if (src->use_index) {
        rc = mni_vindex_search(db->index, who->tenant->id, q, vec, want, opt->ef, top, &served);
        if (rc != MN_OK)
            rc = mni_seterr(db, rc, "out of memory searching");
    }
    if (rc == MN_OK && !served)
        rc = mni_exact_search(db->store, who->tenant->id, q, vec, top);
    if (rc != MN_OK)
        return rc;
    mni_metrics_inc(db->metrics, MNI_S_SEARCHES + (!served ? MNI_PATH_EXACT
                                                  : src->use_store ? MNI_PATH_SERVER
                                                                   : MNI_PATH_INDEX));
    mni_topk_sort(top);
    /* No floor keeps everything, similarities a rounding below -1 included. */
    size_t kept = top->n;
    while (opt->min_similarity > MN_SEARCH_OFF && kept &&
           top->heap[kept - 1].score < opt->min_similarity)
        kept--;
    *floored = kept < top->n;
    top->n = kept;
    return MN_OK;
}

/* Cuts the candidates (best first) to those whose rows are read: the want best, and every
 * one tied with the last of them, so that a tie at the cut is settled in this read, not by
 * widening the search, which reads everything again (a common word ties many memories at one
 * BM25 score). Returns the best relevance a memory whose row is not read may have: that of
 * the first candidate cut off; when none was, that of the last one kept, or just below it
 * when complete says that the rankings gave every memory scoring as much (the keyword
 * ranking alone: store.h). *exhausted is cleared when any was cut off. */
static double read_cut(struct mni_scored_list *cands, size_t want, int complete, int *exhausted)
{
    size_t cut = want < cands->n ? want : cands->n;
    while (cut && cut < cands->n && cands->items[cut].fused == cands->items[cut - 1].fused)
        cut++;
    if (cut < cands->n) {
        double unread = cands->items[cut].fused;
        cands->n = cut;
        *exhausted = 0;
        return unread;
    }
    double last = cut ? cands->items[cut - 1].fused : 0;
    return complete ? nextafter(last, -HUGE_VAL) : last;
}

/* The k best memories who may read, ranked (api/search_rank.h). Candidates that do not make it
 * (policies may hide memories one by one; rows changed since the index saw them; a metadata
 * filter the rankings cannot test) are dropped after the read and the search is widened (4x
 * at a time) until the page is full and final or every candidate has been seen: a hidden
 * memory never shows, and never costs a place. */
static int best_readable(mn_db *db, const struct mni_who *who, const struct mni_store_query *q,
                         const float *vec, const mn_search_options *opt,
                         const struct mni_rank *rank, int per_memory, mn_memories **out)
{
    size_t first = mni_rank_want(rank);
    int by_vector = opt->mode != MN_SEARCH_KEYWORD, by_words = opt->mode != MN_SEARCH_VECTOR;
    /* A store that searches itself (postgres with pgvector) serves instead of the index. The
     * index's attributes test every condition but metadata (lists and ranges included). */
    struct vector_source src = { db->index != NULL, db->store->ops->memory_search != NULL };
    char **words = NULL;
    size_t nwords = 0;
    int rc = by_words ? mni_keywords_query(db->store, who->tenant->id, opt->query, &words,
                                           &nwords) : MN_OK;
    struct mni_words_half half = { .db = db, .who = who, .q = q,
                                   .words = (const char *const *)words, .nwords = nwords,
                                   .hybrid = opt->mode == MN_SEARCH_HYBRID };
    struct mni_fusion fusion = { opt->mode, opt->vector_weight, opt->keyword_weight,
                                 opt->rrf_k };
    int indexed = src.use_index || src.use_store;
    /* The keyword ranking alone comes with the ties of its last place, so that the page
     * closes at once below them; fused with the vector ranking it does not: a common word
     * ties dozens of memories, all at one rank there, whose rows would be read for nothing. */
    int keyword_alone = !by_vector;
    for (size_t want = q->metadata && indexed ? first * 4 : first; rc == MN_OK; want *= 4) {
        struct mni_topk vtop = {0};
        struct mni_scored_list cands = {0};
        int floored = 0;
        /* One past the candidates read: the first one not read bounds the rest (read_cut). */
        size_t depth = by_vector && by_words && want < MNI_FUSE_DEPTH ? MNI_FUSE_DEPTH : want + 1;
        if (mni_topk_init(&vtop, by_vector ? depth : 1) != 0)
            rc = mni_seterr(db, MN_ENOMEM, "out of memory searching");
        /* The keyword half first, beside the vector half when there is one (search_words.h). */
        int started = rc == MN_OK && by_words;
        if (started)
            rc = mni_words_start(&half, depth, keyword_alone, by_vector && nwords);
        if (rc == MN_OK && by_vector)
            rc = vector_ranking(db, who, q, vec, opt, depth, &src, &vtop, &floored);
        if (rc == MN_OK && started)
            rc = mni_words_rare(&half);
        if (started) {
            int words_rc = mni_words_finish(&half, rc == MN_OK);
            rc = rc == MN_OK ? words_rc : rc;
        }
        /* Done widening when every ranking ran out of candidates, or the vector ranking out of
         * ones above the minimum: every memory above it is among them. */
        int exhausted = floored || ((!by_vector || vtop.n < depth) &&
                                    (!by_words || half.ranked < depth));
        if (rc == MN_OK && mni_search_fuse(&vtop, &half.top, half.rare_keys, half.rare.n, &fusion,
                                           &cands) != 0)
            rc = mni_seterr(db, MN_ENOMEM, "out of memory searching");
        double unread = read_cut(&cands, want, keyword_alone, &exhausted);
        if (rc == MN_OK)
            rc = fetch_hits(db, who->tenant->id, &cands, vec, opt->min_similarity, q, out);
        mni_topk_free(&vtop);
        mni_scored_list_free(&cands);
        if (rc != MN_OK)
            break;
        keep_selected(q, *out);
        if (per_memory)
            mni_access_filter_list(db, who, *out);
        int done = 0;
        rc = mni_rank_page(db, rank, *out, unread, want, exhausted, &done);
        if (rc == MN_OK && done)
            break;
        mn_memories_free(*out);
        *out = NULL;
        if (indexed && q->metadata && want * 4 > MNI_META_INDEX_MAX)
            src.use_index = src.use_store = indexed = 0;
    }
    mni_words_free(&half);
    mni_keywords_free(words, nwords);
    return rc;
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

int mni_search_prepare(mn_db *db, struct mni_search *s)
{
    mn_search_options *opt = &s->opt;
    int rc = check_options(db, opt);
    if (rc == MN_OK)
        rc = mni_rank_begin(db, opt, (size_t)(opt->k ? opt->k : MNI_K_DEFAULT), &s->rank);
    /* From here on the floor is the one in force (MN_SEARCH_OFF: none). */
    if (rc == MN_OK)
        opt->min_similarity = mni_rank_floor(db, opt, opt->mode);
    return rc;
}

void mni_search_ahead(mn_db *db, const struct mni_who *who, const struct mni_search *s, size_t n)
{
    for (size_t i = 0; db->index && i < n; i++)
        if (s[i].opt.mode != MN_SEARCH_KEYWORD) {
            mni_vindex_prefetch(db->index, who->tenant->id);
            return;
        }
}

int mni_search_vectors(mn_db *db, const char *tenant_id, const struct mni_search *s, size_t n,
                       float *vecs, int *nothing, size_t *failed)
{
    size_t dim = (size_t)db->dim, ntexts = 0;
    const char **texts = malloc((n ? n : 1) * sizeof *texts);
    size_t *at = malloc((n ? n : 1) * sizeof *at);
    int rc = texts && at ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory searching");
    *failed = (size_t)-1;
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        const mn_search_options *opt = &s[i].opt;
        nothing[i] = 0;
        if (opt->vector) {
            rc = mni_check_vector(db, "the query vector", opt->vector, opt->dim, vecs + i * dim);
        } else {
            rc = mni_check_text(db, "the query", opt->query, db->cfg.max_text_bytes);
            texts[ntexts] = opt->query;
            at[ntexts++] = i;
        }
        if (rc != MN_OK)
            *failed = i;
    }
    /* One batch for the embedder. It refuses a vector with no direction (api/embed_cache.h):
     * stored, it would match nothing; a query without words is no failure but a search for
     * nothing, so that refusal is forgotten, the query marked and the rest embedded again. */
    float *out = rc == MN_OK && ntexts ? malloc(ntexts * dim * sizeof *out) : NULL;
    if (rc == MN_OK && ntexts && !out)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory searching");
    while (rc == MN_OK && ntexts) {
        size_t zero = (size_t)-1;
        mni_errmark mark = mni_err_mark();
        rc = mni_embed_texts(db, tenant_id, texts, ntexts, out, &zero);
        if (rc == MN_OK) {
            for (size_t t = 0; t < ntexts; t++)
                memcpy(vecs + at[t] * dim, out + t * dim, dim * sizeof *out);
            break;
        }
        if (rc != MN_EINVAL || zero >= ntexts)
            break;
        mni_err_forget(mark);
        rc = MN_OK;
        nothing[at[zero]] = 1;
        memmove(texts + zero, texts + zero + 1, (ntexts - zero - 1) * sizeof *texts);
        memmove(at + zero, at + zero + 1, (ntexts - zero - 1) * sizeof *at);
        ntexts--;
    }
    free(out);
    free(texts);
    free(at);
    return rc;
}

int mni_search_embedded(mn_db *db, const struct mni_who *who, const struct mni_search *s,
                        const struct mni_store_query *q, int per_memory, const float *vec,
                        mn_memories **out)
{
    if (!vec)
        return (*out = calloc(1, sizeof **out)) ? MN_OK
                                                : mni_seterr(db, MN_ENOMEM, "out of memory "
                                                             "searching");
    return cached_best_readable(db, who, q, vec, &s->opt, &s->rank, per_memory, out);
}

static int memory_search(mn_db *db, const mn_actor *actor, const mn_search_options *options,
                         mn_memories **out)
{
    if (!db)
        return mni_err_no_db("mn_memory_search");
    struct mni_search s;
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = mni_abi_read(db, &mni_abi_search_options, options, 0, &s.opt, sizeof s.opt);
    if (rc == MN_OK)
        rc = mni_search_prepare(db, &s);
    float *vec = rc == MN_OK ? malloc((size_t)db->dim * sizeof *vec) : NULL;
    if (rc == MN_OK && !vec)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory searching");
    struct mni_who who = {0};
    struct mni_query_owned q = {0};
    int per_memory = 0;
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK) {
        mni_search_ahead(db, &who, &s, 1);
        rc = mni_query_settle(db, &who, "search", s.opt.filter, &q, &per_memory);
    }
    if (rc == MN_OK)
        rc = mni_ratelimit_enforce(db, &who, "memory:search", 1);
    /* Embedded once the tenant is known: its embedding cache is its own. */
    int nothing = 0;
    size_t failed;
    if (rc == MN_OK)
        rc = mni_search_vectors(db, who.tenant->id, &s, 1, vec, &nothing, &failed);
    if (rc == MN_OK)
        rc = mni_search_embedded(db, &who, &s, &q.q, per_memory, nothing ? NULL : vec, out);
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
                              .min_similarity = min_similarity, .mode = MN_SEARCH_VECTOR };
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
