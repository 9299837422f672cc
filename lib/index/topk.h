/* The k best (key, score) pairs seen so far: a min-heap on score, so the worst kept is at the
 * top and each candidate costs one comparison unless it gets in. */
#ifndef MNI_INDEX_TOPK_H
#define MNI_INDEX_TOPK_H

#include <stddef.h>
#include <stdint.h>

struct mni_hit {
    int64_t key;
    float score;
};

struct mni_topk {
    size_t k, n;
    struct mni_hit *heap;
};

/* 0 on success, -1 when out of memory. */
int mni_topk_init(struct mni_topk *t, size_t k);
void mni_topk_push(struct mni_topk *t, int64_t key, float score);
/* mni_topk_push for a callback that takes hits as (ctx, key, score): ctx is the mni_topk. */
void mni_topk_hit(void *ctx, int64_t key, float score);
/* Sorts the kept hits best first, in place (t->heap[0 .. t->n-1]); the heap is spent. */
void mni_topk_sort(struct mni_topk *t);
void mni_topk_free(struct mni_topk *t);

#endif
