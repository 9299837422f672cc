/* Reading result rows into the public structs: one reader per struct type, one loop for all. */
#include "store/sqlite/sqlite.h"
#include "core/error.h"
#include "store/types.h"

#include <stdlib.h>
#include <string.h>

static void clear_items(const struct sq_reader *r, char *items, size_t n)
{
    if (r->clear)
        for (size_t i = 0; i < n; i++)
            r->clear(items + i * r->size);
    free(items);
}

int sq_collect(struct sq_store *s, struct sq_conn *c, sqlite3_stmt *q, const struct sq_reader *r,
               size_t limit, void **items, size_t *count, int *more, const char *doing)
{
    char *arr = NULL, *scratch = calloc(1, r->size);
    size_t n = 0, cap = 0;
    int rc = scratch ? MN_OK : MN_ENOMEM;
    if (more)
        *more = 0;
    while (rc == MN_OK) {
        int step = sqlite3_step(q);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = sq_fail(s, c->db, step, doing);
            break;
        }
        memset(scratch, 0, r->size);
        int kept = r->read(q, scratch, r->ctx);
        if (kept < 0) {
            rc = kept == -MN_ENOMEM ? MN_ENOMEM : -kept;
            if (r->clear)
                r->clear(scratch);
            break;
        }
        if (!kept)
            continue;
        if (limit && n == limit) {
            /* One row past the page: there is more to come. */
            if (r->clear)
                r->clear(scratch);
            if (more)
                *more = 1;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char *grown = realloc(arr, cap * r->size);
            if (!grown) {
                if (r->clear)
                    r->clear(scratch);
                rc = MN_ENOMEM;
                break;
            }
            arr = grown;
        }
        memcpy(arr + n++ * r->size, scratch, r->size);
    }
    sqlite3_reset(q);
    free(scratch);
    if (rc == MN_ENOMEM)
        mni_seterr(s->base.db, rc, "%s: out of memory", doing);
    if (rc != MN_OK) {
        clear_items(r, arr, n);
        return rc;
    }
    *items = arr;
    *count = n;
    return MN_OK;
}

int sq_fetch_one(struct sq_store *s, struct sq_conn *c, sqlite3_stmt *q, const struct sq_reader *r,
                 void **out, const char *doing)
{
    void *items = NULL;
    size_t n = 0;
    int rc = sq_collect(s, c, q, r, 1, &items, &n, NULL, doing);
    if (rc != MN_OK)
        return rc;
    *out = items; /* an array of one is the object itself */
    return n ? MN_OK : MN_ENOTFOUND;
}

/* ---- readers of the public structs ---------------------------------------------------------- */

static int read_tenant(sqlite3_stmt *st, void *item, void *ctx)
{
    (void)ctx;
    mn_tenant *t = item;
    t->id = sq_text(st, 0);
    t->name = sq_text(st, 1);
    t->created_at = sqlite3_column_int64(st, 2);
    return t->id && t->name ? 1 : -MN_ENOMEM;
}

const struct sq_reader sq_tenant_reader = { sizeof(mn_tenant), read_tenant, mni_tenant_clear, NULL };

/* ctx, when set, points to the column where the identity's columns start (a join). */
static int read_identity(sqlite3_stmt *st, void *item, void *ctx)
{
    int at = ctx ? *(const int *)ctx : 0;
    mn_identity *i = item;
    i->id = sq_text(st, at);
    i->tenant_id = sq_text(st, at + 1);
    i->external_id = sq_text(st, at + 2);
    i->role = sq_text(st, at + 3);
    i->claims = sq_text(st, at + 4);
    i->active = sqlite3_column_int(st, at + 5);
    i->created_at = sqlite3_column_int64(st, at + 6);
    i->updated_at = sqlite3_column_int64(st, at + 7);
    return i->id && i->tenant_id && i->external_id && i->role && i->claims ? 1 : -MN_ENOMEM;
}

const struct sq_reader sq_identity_reader = { sizeof(mn_identity), read_identity, mni_identity_clear,
                                              NULL };

static int read_history(sqlite3_stmt *st, void *item, void *ctx)
{
    (void)ctx;
    mn_history_entry *h = item;
    h->version = sqlite3_column_int64(st, 0);
    h->changed_at = sqlite3_column_int64(st, 1);
    h->changed_by = sq_text(st, 2);
    h->before = sq_text(st, 3);
    h->after = sq_text(st, 4);
    int by_ok = h->changed_by || sqlite3_column_type(st, 2) == SQLITE_NULL;
    return by_ok && h->before && h->after ? 1 : -MN_ENOMEM;
}

const struct sq_reader sq_history_reader = { sizeof(mn_history_entry), read_history, mni_history_entry_clear,
                                             NULL };

static int read_policy(sqlite3_stmt *st, void *item, void *ctx)
{
    (void)ctx;
    mn_policy *p = item;
    p->id = sq_text(st, 0);
    p->tenant_id = sq_text(st, 1);
    p->role = sq_text(st, 2);
    p->rule = sq_text(st, 3);
    p->priority = sqlite3_column_int(st, 4);
    p->active = sqlite3_column_int(st, 5);
    p->description = sq_text(st, 6);
    p->created_at = sqlite3_column_int64(st, 7);
    p->updated_at = sqlite3_column_int64(st, 8);
    return p->id && p->tenant_id && p->role && p->rule && p->description ? 1 : -MN_ENOMEM;
}

const struct sq_reader sq_policy_reader = { sizeof(mn_policy), read_policy, mni_policy_clear,
                                            NULL };

/* Columns as MEMORY_COLUMNS lists them (sqlite/sql.c). The embedding is copied only when asked
 * for: it is the biggest part of a row. */
int sq_memory_read(sqlite3_stmt *st, mn_memory *m, int with_embedding)
{
    m->id = sq_text(st, 1);
    m->tenant_id = sq_text(st, 2);
    m->identity_id = sq_text(st, 3);
    m->text = sq_text(st, 4);
    m->type = sq_text(st, 5);
    m->metadata = sq_text(st, 6);
    m->importance = sqlite3_column_double(st, 7);
    m->version = sqlite3_column_int64(st, 8);
    m->created_at = sqlite3_column_int64(st, 9);
    m->updated_at = sqlite3_column_int64(st, 10);
    m->expires_at = sqlite3_column_int64(st, 11);
    m->deleted = sqlite3_column_int(st, 12);
    m->seq = sqlite3_column_int64(st, 13);
    if (!m->id || !m->tenant_id || !m->identity_id || !m->text || !m->type || !m->metadata)
        return MN_ENOMEM;
    int bytes = sqlite3_column_bytes(st, 14);
    const void *blob = sqlite3_column_blob(st, 14);
    if (with_embedding && blob && bytes > 0) {
        m->embedding = malloc((size_t)bytes);
        if (!m->embedding)
            return MN_ENOMEM;
        memcpy(m->embedding, blob, (size_t)bytes);
        m->dim = bytes / (int)sizeof(float);
    }
    /* Asynchronous embedding (issue 7): the memory's job, when it has one. */
    m->embed_status = sqlite3_column_int(st, 15);
    m->embed_error = sq_text(st, 16);
    if (!m->embed_error && sqlite3_column_type(st, 16) != SQLITE_NULL)
        return MN_ENOMEM;
    return MN_OK;
}

/* ---- whole queries ----------------------------------------------------------------------- */

int sq_query(struct sq_store *s, enum sq_stmt_id id, const char *const *texts, int ntexts,
             const struct sq_reader *r, size_t limit, void **items, size_t *count,
             const char *doing)
{
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, id);
    if (q) {
        for (int i = 0; i < ntexts; i++)
            sq_bind_text(q, i + 1, texts[i]);
        rc = sq_collect(s, c, q, r, limit, items, count, NULL, doing);
    }
    sq_conn_put(s, c);
    return q ? rc : MN_EBACKEND;
}

int sq_query_one(struct sq_store *s, enum sq_stmt_id id, const char *const *texts, int ntexts,
                 const struct sq_reader *r, void **out, const char *doing)
{
    size_t n = 0;
    int rc = sq_query(s, id, texts, ntexts, r, 1, out, &n, doing);
    return rc == MN_OK && n == 0 ? MN_ENOTFOUND : rc;
}
