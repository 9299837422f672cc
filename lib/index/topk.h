/* The k best (key, score) pairs seen so far: a min-heap on score, so the worst kept is at the
 * top and each candidate costs one comparison unless it gets in. */
#ifndef MN_INDEX_TOPK_H
#define MN_INDEX_TOPK_H

#include <stddef.h>
#include <stdint.h>

struct mn_hit {
    int64_t key;
    float score;
};

struct mn_topk {
    size_t k, n;
    struct mn_hit *heap;
};

/* 0 on success, -1 when out of memory. */
int mn_topk_init(struct mn_topk *t, size_t k);
void mn_topk_push(struct mn_topk *t, int64_t key, float score);
/* Sorts the kept hits best first, in place (t->heap[0 .. t->n-1]); the heap is spent. */
void mn_topk_sort(struct mn_topk *t);
void mn_topk_free(struct mn_topk *t);

#endif
