/* Rate-limit overrides in the PostgreSQL backend: a tenant's own limits per endpoint (table
 * ratelimit_limits, sql/postgres/004_ratelimit.sql). Single statements: each is its own
 * transaction. */
#include "store/postgres/pg.h"
#include "store/notfound.h"
#include "store/rows.h"
#include "store/types.h"
#include "core/error.h"

#include <stdlib.h>

static const struct pgs_reader limit_reader = { sizeof(mn_limit), pgs_read_mapped, mni_limit_clear,
                                                (void *)&mni_map_limit };

/* Runs a statement that changes rows; *changed receives how many it changed. */
static int change(struct pgs_store *s, enum pgs_stmt_id id, const struct pgs_args *a,
                  int64_t *changed, const char *doing)
{
    PGresult *res = NULL;
    int rc = pgs_run_on(s, &s->primary, id, a, &res, doing);
    *changed = rc == MN_OK ? pgs_changes(res) : 0;
    PQclear(res);
    return rc;
}

int pgs_ratelimit_limit_put(struct mni_store *st, const char *tenant_id, const char *endpoint,
                            int64_t max_calls, int64_t window_ms, int64_t now)
{
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, endpoint);
    pgs_arg_int(&a, max_calls);
    pgs_arg_int(&a, window_ms);
    pgs_arg_int(&a, now);
    int64_t changed;
    return change((struct pgs_store *)st, PGS_RATELIMIT_PUT, &a, &changed,
                  "setting a rate limit");
}

int pgs_ratelimit_limit_delete(struct mni_store *st, const char *tenant_id,
                               const char *endpoint)
{
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, endpoint);
    int64_t changed = 0;
    int rc = change((struct pgs_store *)st, PGS_RATELIMIT_DELETE, &a, &changed,
                    "removing a rate limit");
    if (rc == MN_OK && !changed)
        rc = mni_store_no_limit(st->db, endpoint);
    return rc;
}

int pgs_ratelimit_limit_list(struct mni_store *st, const char *tenant_id,
                             mn_limits **out)
{
    struct pgs_store *s = (struct pgs_store *)st;
    mn_limits *l = calloc(1, sizeof *l);
    if (!l)
        return mni_seterr(st->db, MN_ENOMEM, "out of memory reading rate limits");
    void *items = NULL;
    int rc = pgs_query(s, PGS_RATELIMIT_LIST, &tenant_id, 1, &limit_reader, &items, &l->count,
                       "reading rate limits");
    l->items = items;
    if (rc != MN_OK) {
        mn_limits_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}
