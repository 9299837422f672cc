#include "index/exact.h"
#include "index/distance.h"

struct scan_ctx {
    const float *query;
    int dim;
    struct mni_topk *top;
};

static void score(void *ctx, int64_t key, const void *vec)
{
    struct scan_ctx *s = ctx;
    mni_topk_push(s->top, key, mni_ip(s->query, vec, s->dim));
}

int mni_exact_search(struct mni_store *store, const char *tenant_id,
                     const struct mni_store_query *q,
                    const float *query, struct mni_topk *top)
{
    struct scan_ctx ctx = { query, store->dim, top };
    return store->ops->memory_scan(store, tenant_id, q, score, &ctx);
}
