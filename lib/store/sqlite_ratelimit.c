/* Rate-limit overrides in the SQLite backend: a tenant's own limits per endpoint (table
 * ratelimit_limits, migration 004). Single statements: each is its own transaction. */
#include "store/sqlite.h"
#include "store/notfound.h"
#include "core/error.h"

#include <stdlib.h>

static int read_limit(sqlite3_stmt *st, void *item, void *ctx)
{
    (void)ctx;
    mn_ratelimit_limit *l = item;
    l->endpoint = sq_text(st, 0);
    l->limit = sqlite3_column_int64(st, 1);
    l->window_ms = sqlite3_column_int64(st, 2);
    l->overridden = 1;
    return l->endpoint ? 1 : -MN_ENOMEM;
}

static void clear_limit(void *item)
{
    free(((mn_ratelimit_limit *)item)->endpoint);
}

static const struct sq_reader limit_reader = {sizeof(mn_ratelimit_limit), read_limit,
                                              clear_limit, NULL};

/* Runs a statement that changes rows; *changed receives how many it changed. */
static int change(struct sq_store *s, enum sq_stmt_id id, const char *tenant_id,
                  const char *endpoint, const int64_t *nums, int nnums, int *changed,
                  const char *doing)
{
    if (s->readonly)
        return mn_seterr(s->base.db, MN_EBACKEND, "%s is open read-only", s->path);
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, id);
    if (q) {
        sq_bind_text(q, 1, tenant_id);
        sq_bind_text(q, 2, endpoint);
        for (int i = 0; i < nnums; i++)
            sqlite3_bind_int64(q, 3 + i, nums[i]);
        rc = sq_exec(s, c, q, doing);
        *changed = sqlite3_changes(c->db);
    }
    sq_conn_put(s, c);
    return q ? rc : MN_EBACKEND;
}

int sq_ratelimit_limit_put(struct mn_store *st, const char *tenant_id, const char *endpoint,
                           int64_t max_calls, int64_t window_ms, int64_t now)
{
    const int64_t nums[] = {max_calls, window_ms, now};
    int changed;
    return change((struct sq_store *)st, SQ_RATELIMIT_PUT, tenant_id, endpoint, nums, 3,
                  &changed, "setting a rate limit");
}

int sq_ratelimit_limit_delete(struct mn_store *st, const char *tenant_id, const char *endpoint)
{
    int changed = 0;
    int rc = change((struct sq_store *)st, SQ_RATELIMIT_DELETE, tenant_id, endpoint, NULL, 0,
                    &changed, "removing a rate limit");
    if (rc == MN_OK && !changed)
        rc = mn_store_no_limit(st->db, endpoint);
    return rc;
}

int sq_ratelimit_limit_list(struct mn_store *st, const char *tenant_id,
                            mn_ratelimit_limit_list **out)
{
    struct sq_store *s = (struct sq_store *)st;
    mn_ratelimit_limit_list *l = calloc(1, sizeof *l);
    if (!l)
        return mn_seterr(st->db, MN_ENOMEM, "out of memory");
    void *items = NULL;
    int rc = sq_query(s, SQ_RATELIMIT_LIST, &tenant_id, 1, &limit_reader, 0, &items, &l->count,
                      "reading rate limits");
    l->items = items;
    if (rc != MN_OK) {
        mn_ratelimit_limit_list_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}
