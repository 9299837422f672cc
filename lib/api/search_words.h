/* The keyword half of a search (api/search.c): the keyword ranking and, in hybrid mode, the
 * memories holding the query's rare words, which fusion puts first (api/search_fuse.h). A
 * hybrid search runs it on a thread of its own while the calling thread runs the vector half:
 * the two read different structures (the keyword index; the vector index), so the search
 * takes as long as the slower half instead of both. */
#ifndef MNI_API_SEARCH_WORDS_H
#define MNI_API_SEARCH_WORDS_H

#include "api/actor.h"
#include "core/error.h"
#include "index/topk.h"
#include "store/store.h"

#include <pthread.h>

/* One search's keyword half. The caller sets the first six fields (zero the rest), then per
 * round of the search (each reads deeper) calls mni_words_start, mni_words_rare and
 * mni_words_finish, and at the end mni_words_free. */
struct mni_words_half {
    mn_db *db;
    const struct mni_who *who;
    const struct mni_store_query *q;
    const char *const *words; /* the query's words (mni_keywords_query) */
    size_t nwords;
    int hybrid; /* 1: also the rare-word matches (found in the first round, kept) */

    /* After mni_words_finish: the ranking, best first, the rare-word matches at its head, and
     * how many hits the ranking itself gave (fewer than the depth: it ran out of matches). */
    struct mni_topk top;
    size_t ranked;
    /* The memories holding every rare word of the query, best first (empty: none), and their
     * keys sorted (mni_key_cmp), as mni_search_fuse takes them. */
    struct mni_topk rare;
    int64_t *rare_keys;

    /* Private. */
    size_t depth;
    int ties, rare_done, threaded, rc;
    pthread_t thread;
    char msg[MNI_ERRMSG_MAX]; /* the thread's failure, recorded again in the caller's */
};

/* Starts a round: the depth best matches, best first, and with ties (store/keywords.h) every
 * one tied with the last of them. beside: on a thread of its own when one can be made (the
 * caller then runs the vector half), else in the calling thread. MN_OK or the failure of the
 * ranking run in the calling thread. */
int mni_words_start(struct mni_words_half *h, size_t depth, int ties, int beside);

/* In hybrid mode, the rare-word matches, in the calling thread (beside the ranking's, after
 * the vector half: their sum is about the ranking's time), once per search; else nothing. */
int mni_words_rare(struct mni_words_half *h);

/* Ends the round that mni_words_start began (waiting for its thread) and, when report is set
 * (the caller has not failed: its own failure then stands), returns its result, a failure on
 * the thread recorded again on the calling thread, with the rare-word matches put at the head
 * of the ranking. */
int mni_words_finish(struct mni_words_half *h, int report);

void mni_words_free(struct mni_words_half *h);

#endif
