/* Ranking and paging of search results (api/search_rank.c): the relevance floor per search
 * mode, the recency and importance factors over a page's candidates, and the cursor that
 * carries a search on past its first k results.
 *
 * search.c drives it: mni_rank_begin once per call (it checks the options and the cursor),
 * then, for each widening of the candidate search, the rows read with each one's score holding
 * its relevance go to mni_rank_page, which says whether the page is final. */
#ifndef MNI_API_SEARCH_RANK_H
#define MNI_API_SEARCH_RANK_H

#include <manushya.h>
#include <stddef.h>
#include <stdint.h>

#include "core/uuid.h"

/* The relevance floor of the local embedder's cosine similarity: a query's related memories
 * (sharing a word) measure 0.14 and up, 99.5% of them above 0.15, while 94% of unrelated ones
 * fall below it (manushya(1) and libmanushya(3) say how this was measured). */
#define MNI_LOCAL_FLOOR 0.15
/* Ranking considers at most this many candidates past those of the pages before. */
#define MNI_RANK_POOL_MAX 4096


/* A hit's place in the order of results (search_rank.c). */
struct mni_rank_place {
    double score, similarity;
    const char *id;
};

struct mni_rank {
    size_t k;                  /* the page size */
    int64_t half_life_ms;      /* 0: recency off */
    double recency_weight, importance_weight;
    int64_t now;               /* recency's clock: the first page's, carried by the cursor */
    uint64_t query;            /* the fingerprint of the search, which its cursors carry */
    /* after the first page: results come after this place, best first */
    size_t offset;             /* results of the pages before */
    int paged;
    struct mni_rank_place after; /* its id points into after_id */
    char after_id[MNI_UUID_LEN + 1];
};

/* The floor of a hit's similarity for opt in mode (MN_SEARCH_VECTOR, _KEYWORD, _HYBRID):
 * opt's min_similarity, else the handle's search_min_relevance, else the embedder's
 * (MNI_LOCAL_FLOOR for "local", none for the others). MN_SEARCH_OFF (-1) means none. The floor
 * is of the vector similarity, so it applies to what the vector ranking alone found: none in
 * keyword mode, where every hit is a match of words, relevant by itself. */
double mni_rank_floor(const mn_db *db, const mn_search_options *opt, int mode);

/* Checks opt's ranking fields and cursor and fills r (the handle's defaults where opt has 0)
 * for pages of k results. A cursor that is not one of this search is MN_EINVAL, recorded on
 * db. */
int mni_rank_begin(mn_db *db, const mn_search_options *opt, size_t k, struct mni_rank *r);

/* How many candidates by relevance the first widening asks for. */
size_t mni_rank_want(const struct mni_rank *r);

/* Ranks l in place: each item's score holds its relevance on entry; its factors and final
 * score are set, l is sorted best first (ties by id), and whatever the cursor's pages showed
 * is dropped. least is the best relevance a candidate whose row was not read may have (when
 * every one was read, the lowest relevance among them), want how many were asked for, exhausted whether there are no more. *done is set when l is the page:
 * no candidate not yet seen could enter it. It is then cut to k, and l->next_cursor set when
 * more may follow. MN_ENOMEM only. */
int mni_rank_page(mn_db *db, const struct mni_rank *r, mn_memories *l, double least,
                  size_t want, int exhausted, int *done);

/* Checks the handle's ranking defaults (mn_config.search_*) at mn_open. */
int mni_rank_settle(mn_db *db);

#endif
