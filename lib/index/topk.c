#include "index/topk.h"

#include <stdlib.h>

int mni_topk_init(struct mni_topk *t, size_t k)
{
    t->k = k;
    t->n = 0;
    t->heap = malloc((k ? k : 1) * sizeof *t->heap);
    return t->heap ? 0 : -1;
}

/* Ties go to the smaller key, so results do not depend on scan order. */
static int worse(const struct mni_hit *a, const struct mni_hit *b)
{
    return a->score < b->score || (a->score == b->score && a->key > b->key);
}

static void sift_down(struct mni_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(&h[l], &h[m]))
            m = l;
        if (r < n && worse(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct mni_hit tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

void mni_topk_push(struct mni_topk *t, int64_t key, float score)
{
    struct mni_hit hit = { key, score };
    if (t->n < t->k) {
        size_t i = t->n++;
        while (i > 0 && worse(&hit, &t->heap[(i - 1) / 2])) {
            t->heap[i] = t->heap[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        t->heap[i] = hit;
    } else if (t->k && worse(&t->heap[0], &hit)) {
        t->heap[0] = hit;
        sift_down(t->heap, t->n, 0);
    }
}

void mni_topk_hit(void *ctx, int64_t key, float score)
{
    mni_topk_push(ctx, key, score);
}

void mni_topk_sort(struct mni_topk *t)
{
    /* Heap sort: repeatedly move the worst to the end, leaving the best first. */
    for (size_t n = t->n; n > 1; n--) {
        struct mni_hit tmp = t->heap[0];
        t->heap[0] = t->heap[n - 1];
        t->heap[n - 1] = tmp;
        sift_down(t->heap, n - 1, 0);
    }
}

void mni_topk_free(struct mni_topk *t)
{
    free(t->heap);
    t->heap = NULL;
    t->n = t->k = 0;
}
