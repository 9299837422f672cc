/* The keyword half of a search (search_words.h). */
#include "api/search_words.h"
#include "api/handle.h"
#include "api/search_fuse.h"
#include "store/keywords.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A word of the query held by at most this many of the memories searched is rare: in hybrid
 * mode the memories holding every rare word of the query come first (search_fuse.h). Every,
 * not any: a word merely uncommon in a small store, which an unrelated memory happens to
 * hold, then lifts nothing unless the memory also holds the query's other rare words. */
#define MNI_RARE_WORD_MAX 3

/* The memories q selects that hold every rare word of the query, best first in h->rare (empty
 * when the query has no rare word), and their keys sorted in h->rare_keys (malloc'd). One
 * statement counts the memories holding each word (each count stopping past
 * MNI_RARE_WORD_MAX), one keyword search finds those holding them all. */
static int rare_matches(struct mni_words_half *h)
{
    mn_db *db = h->db;
    struct mni_store *st = db->store;
    const char *tenant_id = h->who->tenant->id;
    const char *rare[MNI_QUERY_WORDS_MAX];
    size_t counts[MNI_QUERY_WORDS_MAX], nrare = 0;
    int rc = h->nwords ? st->ops->memory_keyword_counts(st, tenant_id, h->q, h->words, h->nwords,
                                                        MNI_RARE_WORD_MAX + 1, counts)
                       : MN_OK;
    for (size_t i = 0; rc == MN_OK && i < h->nwords; i++)
        if (counts[i] >= 1 && counts[i] <= MNI_RARE_WORD_MAX)
            rare[nrare++] = h->words[i];
    if (rc == MN_OK && mni_topk_init(&h->rare, MNI_RARE_WORD_MAX) != 0)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory searching");
    if (rc == MN_OK && nrare)
        rc = st->ops->memory_keyword_search(st, tenant_id, h->q, rare, nrare, MNI_KEYWORDS_ALL,
                                            h->rare.k, mni_topk_hit, &h->rare);
    size_t n = h->rare.n;
    if (rc == MN_OK && !(h->rare_keys = malloc((n ? n : 1) * sizeof *h->rare_keys)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory searching");
    if (rc != MN_OK)
        return rc;
    mni_topk_sort(&h->rare);
    for (size_t i = 0; i < n; i++)
        h->rare_keys[i] = h->rare.heap[i].key;
    qsort(h->rare_keys, n, sizeof *h->rare_keys, mni_key_cmp);
    return MN_OK;
}

/* Puts the memories holding a rare word (h->rare, best first) at the head of the ranking, each
 * with its score in the ranking when the ranking has it: a match on a rare word outranks any
 * number of matches on common ones. */
static int rare_first(struct mni_words_half *h)
{
    struct mni_topk *kw = &h->top;
    const struct mni_topk *rare = &h->rare;
    if (rare->n == 0)
        return MN_OK;
    struct mni_hit *heap = malloc((kw->n + rare->n) * sizeof *heap);
    if (!heap)
        return mni_seterr(h->db, MN_ENOMEM, "out of memory searching");
    size_t n = 0;
    for (size_t i = 0; i < rare->n; i++) {
        heap[n] = rare->heap[i];
        for (size_t j = 0; j < kw->n; j++)
            if (kw->heap[j].key == heap[n].key)
                heap[n].score = kw->heap[j].score;
        n++;
    }
    for (size_t j = 0; j < kw->n; j++) {
        int seen = 0;
        for (size_t i = 0; i < rare->n; i++)
            seen |= rare->heap[i].key == kw->heap[j].key;
        if (!seen)
            heap[n++] = kw->heap[j];
    }
    free(kw->heap);
    kw->heap = heap;
    kw->n = kw->k = n;
    return MN_OK;
}

/* A top-k that grows to take every hit the store gives: the keyword ranking comes with the
 * ties of its last place (store.h). */
struct every_hit {
    struct mni_topk *top;
    int nomem;
};

static void push_every_hit(void *ctx, int64_t key, float score)
{
    struct every_hit *e = ctx;
    struct mni_topk *top = e->top;
    if (top->n == top->k) {
        struct mni_hit *heap = e->nomem ? NULL : realloc(top->heap, 2 * top->k * sizeof *heap);
        e->nomem = !heap;
        if (!heap)
            return;
        top->heap = heap;
        top->k *= 2;
    }
    mni_topk_push(top, key, score);
}

/* The ranking of a round. */
static int run(struct mni_words_half *h)
{
    mn_db *db = h->db;
    struct every_hit e = { &h->top, 0 };
    int rc = db->store->ops->memory_keyword_search(db->store, h->who->tenant->id, h->q, h->words,
                                                   h->nwords, h->ties ? MNI_KEYWORDS_TIES : 0,
                                                   h->depth, push_every_hit, &e);
    if (rc == MN_OK && e.nomem)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory searching");
    if (rc == MN_OK)
        mni_topk_sort(&h->top);
    h->ranked = h->top.n;
    return rc;
}

static void *run_beside(void *arg)
{
    struct mni_words_half *h = arg;
    h->rc = run(h);
    if (h->rc != MN_OK)
        snprintf(h->msg, sizeof h->msg, "%s", mn_errmsg(h->db));
    return NULL;
}

int mni_words_start(struct mni_words_half *h, size_t depth, int ties, int beside)
{
    mni_topk_free(&h->top);
    if (mni_topk_init(&h->top, depth) != 0)
        return h->rc = mni_seterr(h->db, MN_ENOMEM, "out of memory searching");
    h->depth = depth;
    h->ties = ties;
    h->threaded = beside && pthread_create(&h->thread, NULL, run_beside, h) == 0;
    if (!h->threaded)
        h->rc = run(h);
    return h->threaded ? MN_OK : h->rc;
}

int mni_words_rare(struct mni_words_half *h)
{
    int rc = h->hybrid && !h->rare_done ? rare_matches(h) : MN_OK;
    h->rare_done = rc == MN_OK;
    return rc;
}

int mni_words_finish(struct mni_words_half *h, int report)
{
    if (h->threaded) {
        pthread_join(h->thread, NULL);
        h->threaded = 0;
        if (h->rc != MN_OK && report)
            mni_seterr(h->db, h->rc, "%s", h->msg);
    }
    return h->rc == MN_OK && report ? rare_first(h) : h->rc;
}

void mni_words_free(struct mni_words_half *h)
{
    mni_words_finish(h, 0);
    mni_topk_free(&h->top);
    mni_topk_free(&h->rare);
    free(h->rare_keys);
    h->rare_keys = NULL;
}
