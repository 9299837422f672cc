/* Exact search: scores every selected vector of the tenant. The baseline that an approximate
 * index must beat, and the fallback for small filtered sets. */
#ifndef MN_INDEX_EXACT_H
#define MN_INDEX_EXACT_H

#include "index/topk.h"
#include "store/store.h"

/* Fills top (initialised with its k) with the best matches of the unit vector query among the
 * memories q selects. */
int mn_exact_search(mn_db *db, const char *tenant_id, const struct mn_store_query *q,
                    const float *query, struct mn_topk *top);

#endif
