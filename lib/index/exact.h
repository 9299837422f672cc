/* Exact search: scores every selected vector of the tenant. The baseline that an approximate
 * index must beat, and the fallback for small filtered sets. */
#ifndef MNI_INDEX_EXACT_H
#define MNI_INDEX_EXACT_H

#include "index/topk.h"
#include "store/store.h"

/* Fills top (initialised with its k) with the best matches of the unit vector query among the
 * memories q selects. */
int mni_exact_search(struct mni_store *store, const char *tenant_id,
                     const struct mni_store_query *q,
                    const float *query, struct mni_topk *top);

#endif
