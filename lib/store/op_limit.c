/* Rate-limit overrides, written once over the driver (driver.h): a tenant's own limits per
 * endpoint (table ratelimit_limits, migration 004). Single statements: each is its own
 * transaction. */
#include "store/driver.h"
#include "store/notfound.h"
#include "store/types.h"
#include "core/error.h"

#include <stdlib.h>

int mni_op_ratelimit_limit_put(struct mni_store *s, const char *tenant_id,
                               const char *endpoint, int64_t max_calls, int64_t window_ms,
                               int64_t now,
                               const struct mni_audit *au)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, endpoint);
    mni_arg_int(&a, max_calls);
    mni_arg_int(&a, window_ms);
    mni_arg_int(&a, now);
    return mni_op_audited_exec(s, MNI_RATELIMIT_PUT, &a, NULL, NULL, "setting a rate limit",
                               au);
}

int mni_op_ratelimit_limit_delete(struct mni_store *s, const char *tenant_id,
                                  const char *endpoint,
                                  const struct mni_audit *au)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, endpoint);
    int64_t changed = 0;
    int rc = mni_op_audited_exec(s, MNI_RATELIMIT_DELETE, &a, &changed, NULL,
                                 "removing a rate limit", au);
    if (rc == MN_OK && !changed)
        rc = mni_store_no_limit(s->db, endpoint);
    return rc;
}

int mni_op_ratelimit_limit_list(struct mni_store *s, const char *tenant_id, mn_limits **out)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mn_limits *l = calloc(1, sizeof *l);
    if (!l)
        return mni_seterr(s->db, MN_ENOMEM, "out of memory reading rate limits");
    int rc = mni_query_list(s, MNI_RATELIMIT_LIST, &a, &mni_map_limit, sizeof(mn_limit),
                            mni_limit_clear, (void ***)&l->items, &l->count,
                            "reading rate limits");
    if (rc != MN_OK) {
        mn_limits_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}
