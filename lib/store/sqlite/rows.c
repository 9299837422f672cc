/* Reading result rows into the public structs: one reader per struct type, one loop for all. */
#include "store/sqlite/sqlite.h"
#include "core/error.h"
#include "store/list.h"
#include "store/rows.h"

#include <stdlib.h>
#include <string.h>

int sq_each(struct sq_store *s, struct sq_conn *c, sqlite3_stmt *q, sq_row_fn fn, void *ctx,
            const char *doing)
{
    int rc = MN_OK;
    for (;;) {
        int step = sqlite3_step(q);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = sq_fail(s, c->db, step, doing);
            break;
        }
        int v = fn(ctx, q);
        if (v) {
            rc = v < 0 ? -v : MN_OK;
            break;
        }
    }
    sqlite3_reset(q);
    return rc;
}

/* What sq_collect has read so far: kept rows in arr, the current one read in scratch. */
struct collect {
    const struct sq_reader *r;
    size_t limit;
    int *more;
    char *arr, *scratch;
    size_t n, cap;
};

/* Keeps the row read into scratch: 0 goes on, 1 stops (a page is full), -MN_E* fails. */
static int collect_row(void *ctx, sqlite3_stmt *q)
{
    struct collect *k = ctx;
    const struct sq_reader *r = k->r;
    memset(k->scratch, 0, r->size);
    int kept = r->read(q, k->scratch, r->ctx);
    if (kept == 0)
        return 0;
    int v = kept < 0 ? kept : 0;
    if (v == 0 && k->limit && k->n == k->limit) {
        /* One row past the page: there is more to come. */
        if (k->more)
            *k->more = 1;
        v = 1;
    } else if (v == 0 && mni_grow((void **)&k->arr, &k->cap, k->n, r->size) != MN_OK) {
        v = -MN_ENOMEM;
    }
    if (v != 0) {
        if (r->clear)
            r->clear(k->scratch);
        return v;
    }
    memcpy(k->arr + k->n++ * r->size, k->scratch, r->size);
    return 0;
}

int sq_collect(struct sq_store *s, struct sq_conn *c, sqlite3_stmt *q, const struct sq_reader *r,
               size_t limit, void **items, size_t *count, int *more, const char *doing)
{
    struct collect k = { r, limit, more, NULL, calloc(1, r->size), 0, 0 };
    if (more)
        *more = 0;
    int rc;
    if (k.scratch) {
        rc = sq_each(s, c, q, collect_row, &k, doing);
    } else {
        sqlite3_reset(q);
        rc = MN_ENOMEM;
    }
    free(k.scratch);
    return mni_array_done(s->base.db, rc, k.arr, k.n, r->size, r->clear, items, count, doing);
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

static int sq_is_null(const struct mni_row *r, int col)
{
    return sqlite3_column_type((sqlite3_stmt *)r->res, col) == SQLITE_NULL;
}

static char *sq_row_text(const struct mni_row *r, int col)
{
    return sq_text((sqlite3_stmt *)r->res, col);
}

static int64_t sq_integer(const struct mni_row *r, int col)
{
    return sqlite3_column_int64((sqlite3_stmt *)r->res, col);
}

static double sq_real(const struct mni_row *r, int col)
{
    return sqlite3_column_double((sqlite3_stmt *)r->res, col);
}

static const struct mni_row_ops row_ops = { sq_is_null, sq_row_text, sq_integer, sq_real };

struct mni_row sq_row(sqlite3_stmt *st)
{
    return (struct mni_row){ &row_ops, st, 0, 0 };
}

/* Columns as MEMORY_COLUMNS lists them (sqlite/sql.c). The embedding is copied only when asked
 * for: it is the biggest part of a row. */
int sq_memory_read(sqlite3_stmt *st, mn_memory *m, int with_embedding)
{
    struct mni_row r = sq_row(st);
    if (mni_row_memory(&r, m) != MN_OK)
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
    return MN_OK;
}
