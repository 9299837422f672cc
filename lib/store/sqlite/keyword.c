/* Keyword search of the SQLite backend: the FTS5 index memory_fts (sql/sqlite/012_keywords.sql),
 * which triggers keep in step with the memories, asked for any of the words and joined to
 * the tenant's selected rows; best BM25 first. */
#include "store/sqlite/sqlite.h"
#include "core/error.h"
#include "store/keywords.h"

#include <stdlib.h>
#include <string.h>

/* Runs statement id (a keyword query: ?2 the words, ?7 the limit) and calls row for each row
 * it returns. */
static int run(struct sq_store *s, int id, const char *tenant_id, const struct mni_store_query *q,
               const char *words, size_t limit, void (*row)(sqlite3_stmt *st, void *ctx),
               void *ctx)
{
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, c, id);
    if (!stmt)
        rc = MN_EBACKEND;
    if (stmt) {
        sq_bind_query(stmt, tenant_id, q);
        sq_bind_text(stmt, 2, words);
        sqlite3_bind_int64(stmt, 7, (sqlite3_int64)limit);
    }
    while (stmt) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = sq_fail(s, c->db, step, "searching memories by keyword");
            break;
        }
        row(stmt, ctx);
    }
    if (stmt)
        sqlite3_reset(stmt);
    sq_conn_put(s, c);
    return rc;
}

struct hits {
    mni_hit_fn fn;
    void *ctx;
};

static void hit_row(sqlite3_stmt *st, void *ctx)
{
    struct hits *h = ctx;
    h->fn(h->ctx, sqlite3_column_int64(st, 0), (float)sqlite3_column_double(st, 1));
}

int sq_memory_keyword_search(struct mni_store *st, const char *tenant_id,
                             const struct mni_store_query *q, const char *const *words, size_t n,
                             int all, size_t want, mni_hit_fn fn, void *ctx)
{
    if (n == 0)
        return MN_OK;
    struct hits h = { fn, ctx };
    char *match = mni_keywords_join(words, n, "\"", all ? " AND " : " OR ");
    int rc = match ? run((struct sq_store *)st, SQ_MEMORY_KEYWORD, tenant_id, q, match, want,
                         hit_row, &h)
                   : mni_seterr(st->db, MN_ENOMEM, "out of memory searching by keyword");
    free(match);
    return rc;
}

struct counts {
    size_t n, *counts;
};

static void count_row(sqlite3_stmt *st, void *ctx)
{
    struct counts *c = ctx;
    sqlite3_int64 i = sqlite3_column_int64(st, 0);
    if (i >= 0 && (size_t)i < c->n)
        c->counts[i] = (size_t)sqlite3_column_int64(st, 1);
}

int sq_memory_keyword_counts(struct mni_store *st, const char *tenant_id,
                             const struct mni_store_query *q, const char *const *words, size_t n,
                             size_t cap, size_t *counts)
{
    struct counts c = { n, counts };
    memset(counts, 0, n * sizeof *counts);
    char *json = mni_keywords_json(words, n);
    int rc = json ? run((struct sq_store *)st, SQ_MEMORY_WORD_COUNTS, tenant_id, q, json, cap,
                        count_row, &c)
                  : mni_seterr(st->db, MN_ENOMEM, "out of memory searching by keyword");
    free(json);
    return rc;
}
