/* Reciprocal rank fusion of a search's vector and keyword rankings (search_fuse.h). */
#include "api/search_fuse.h"
#include "manushya.h"

#include <limits.h>
#include <stdlib.h>

static int by_key(const void *pa, const void *pb)
{
    const struct mni_scored *a = pa, *b = pb;
    return (a->key > b->key) - (a->key < b->key);
}

/* rank as an order: 0 (not found) after every place. */
static unsigned place(int rank)
{
    return rank ? (unsigned)rank : UINT_MAX;
}

static int by_fused(const void *pa, const void *pb)
{
    const struct mni_scored *a = pa, *b = pb;
    if (a->fused != b->fused)
        return a->fused > b->fused ? -1 : 1;
    if (a->vector_rank != b->vector_rank)
        return place(a->vector_rank) < place(b->vector_rank) ? -1 : 1;
    if (a->keyword_rank != b->keyword_rank)
        return place(a->keyword_rank) < place(b->keyword_rank) ? -1 : 1;
    return (a->key > b->key) - (a->key < b->key);
}

int mni_key_cmp(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

/* The rank of a ranking's i-th hit (best first): i + 1, or the rank of the one before
 * (prev) when their scores are equal. */
static int tied_rank(const struct mni_topk *t, size_t i, int prev)
{
    return i && t->heap[i].score == t->heap[i - 1].score ? prev : (int)i + 1;
}

int mni_search_fuse(const struct mni_topk *vec, const struct mni_topk *kw, const int64_t *rare,
                    size_t nrare, const struct mni_fusion *f, struct mni_scored_list *out)
{
    size_t cap = vec->n + kw->n;
    out->n = 0;
    out->items = malloc((cap ? cap : 1) * sizeof *out->items);
    if (!out->items)
        return -1;
    int hybrid = f->mode == MN_SEARCH_HYBRID;
    double k = f->rrf_k;
    /* One entry per hit of either ranking; sorted by key, a memory both found is two
     * neighbours, merged into one. Equal scores share a rank (the first of their places), so
     * that the order in which a store returns ties, which may change with how many it is asked
     * for, changes no fused score. */
    int rank = 0;
    for (size_t i = 0; i < vec->n; i++) {
        rank = tied_rank(vec, i, rank);
        out->items[out->n++] = (struct mni_scored){
            .key = vec->heap[i].key, .vector_score = vec->heap[i].score, .vector_rank = rank,
            .fused = hybrid ? f->vector_weight / (k + rank) : vec->heap[i].score };
    }
    for (size_t i = 0; i < kw->n; i++) {
        rank = tied_rank(kw, i, rank);
        out->items[out->n++] = (struct mni_scored){
            .key = kw->heap[i].key, .keyword_score = kw->heap[i].score, .keyword_rank = rank,
            .fused = hybrid ? f->keyword_weight / (k + rank) : kw->heap[i].score };
    }
    qsort(out->items, out->n, sizeof *out->items, by_key);
    size_t n = 0;
    for (size_t i = 0; i < out->n; i++) {
        struct mni_scored *e = &out->items[i];
        if (n && out->items[n - 1].key == e->key) {
            struct mni_scored *into = &out->items[n - 1];
            if (e->vector_rank) {
                into->vector_score = e->vector_score;
                into->vector_rank = e->vector_rank;
            } else {
                into->keyword_score = e->keyword_score;
                into->keyword_rank = e->keyword_rank;
            }
            into->fused += e->fused;
        } else {
            out->items[n++] = *e;
        }
    }
    out->n = n;
    for (size_t i = 0; hybrid && i < n; i++)
        if (nrare && bsearch(&out->items[i].key, rare, nrare, sizeof *rare, mni_key_cmp))
            out->items[i].fused += f->vector_weight + f->keyword_weight;
    qsort(out->items, out->n, sizeof *out->items, by_fused);
    return 0;
}

void mni_scored_list_free(struct mni_scored_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = 0;
}
