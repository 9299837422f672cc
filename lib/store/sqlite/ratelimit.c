/* Rate-limit overrides in the SQLite backend: a tenant's own limits per endpoint (table
 * ratelimit_limits, migration 004). Single statements: each is its own transaction. */
#include "store/sqlite/sqlite.h"
#include "store/notfound.h"
#include "store/rows.h"
#include "store/types.h"
#include "core/error.h"

#include <stdlib.h>

static const struct sq_reader limit_reader = { sizeof(mn_limit), sq_read_mapped, mni_limit_clear,
                                               (void *)&mni_map_limit };

int sq_ratelimit_limit_put(struct mni_store *st, const char *tenant_id, const char *endpoint,
                           int64_t max_calls, int64_t window_ms, int64_t now)
{
    const char *texts[] = {tenant_id, endpoint};
    const int64_t nums[] = {max_calls, window_ms, now};
    return sq_write_one((struct sq_store *)st, SQ_RATELIMIT_PUT, texts, 2, nums, 3, NULL,
                        "setting a rate limit");
}

int sq_ratelimit_limit_delete(struct mni_store *st, const char *tenant_id, const char *endpoint)
{
    const char *texts[] = {tenant_id, endpoint};
    int changed = 0;
    int rc = sq_write_one((struct sq_store *)st, SQ_RATELIMIT_DELETE, texts, 2, NULL, 0,
                          &changed, "removing a rate limit");
    if (rc == MN_OK && !changed)
        rc = mni_store_no_limit(st->db, endpoint);
    return rc;
}

int sq_ratelimit_limit_list(struct mni_store *st, const char *tenant_id,
                            mn_limits **out)
{
    struct sq_store *s = (struct sq_store *)st;
    mn_limits *l = calloc(1, sizeof *l);
    if (!l)
        return mni_seterr(st->db, MN_ENOMEM, "out of memory");
    void *items = NULL;
    int rc = sq_query(s, SQ_RATELIMIT_LIST, &tenant_id, 1, &limit_reader, 0, &items, &l->count,
                      "reading rate limits");
    l->items = items;
    if (rc != MN_OK) {
        mn_limits_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}
