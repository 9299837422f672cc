/*
 * The candidates of one search, scored: what the vector and the keyword rankings said of each
 * memory, and the score that orders them (mn_memory's explanation fields). Fusion makes the
 * list from the two rankings; ranking adjustments and paging work on it afterwards.
 */
#ifndef MNI_API_SEARCH_FUSE_H
#define MNI_API_SEARCH_FUSE_H

#include "index/topk.h"

#include <stddef.h>
#include <stdint.h>

#define MNI_RRF_K_DEFAULT 60
#define MNI_RRF_K_MAX 10000

struct mni_scored {
    int64_t key;
    double vector_score;  /* cosine similarity, when vector_rank > 0 */
    int vector_rank;      /* 1-based; 0: not in the vector ranking */
    double keyword_score; /* BM25 / ts_rank, higher better, when keyword_rank > 0 */
    int keyword_rank;
    double fused;         /* the order: best first */
};

struct mni_scored_list {
    struct mni_scored *items;
    size_t n;
};

/* How two rankings become one: mode MN_SEARCH_VECTOR or MN_SEARCH_KEYWORD keeps that ranking's
 * order (fused is its score), MN_SEARCH_HYBRID sums weight / (rrf_k + rank) over the rankings
 * that found the memory (reciprocal rank fusion: it needs no common scale of the scores). */
struct mni_fusion {
    int mode;
    double vector_weight, keyword_weight;
    int rrf_k;
};

/* Fuses vec and kw (each sorted best first by mni_topk_sort; either may be empty) into *out,
 * best fused score first, ties broken by the vector rank (the nearer meaning), then the
 * keyword rank, then the key. rare (sorted by
 * mni_key_cmp, nrare keys) are the memories that hold every rare word of the query (held by
 * few memories: api/search.c): in hybrid mode each of them
 * found by a ranking gains vector_weight + keyword_weight, more than any sum of reciprocal
 * ranks, so that they come first (an order number, a name, a code that the embedder may not
 * know). -1 when out of memory. */
int mni_search_fuse(const struct mni_topk *vec, const struct mni_topk *kw, const int64_t *rare,
                    size_t nrare, const struct mni_fusion *f, struct mni_scored_list *out);
void mni_scored_list_free(struct mni_scored_list *l);
/* qsort/bsearch order of int64_t keys. */
int mni_key_cmp(const void *a, const void *b);

#endif
