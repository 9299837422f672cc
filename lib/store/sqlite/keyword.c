/* Keyword search of the SQLite backend: the FTS5 index memory_fts (sql/sqlite/011_keywords.sql),
 * which triggers keep in step with the memories, asked for any of the words and joined to
 * the tenant's selected rows; best BM25 first. */
#include "store/sqlite/sqlite.h"
#include "core/error.h"
#include "store/keywords.h"

#include <stdlib.h>

int sq_memory_keyword_search(struct mni_store *st, const char *tenant_id,
                             const struct mni_store_query *q, const char *const *words, size_t n,
                             size_t want, mni_hit_fn fn, void *ctx)
{
    struct sq_store *s = (struct sq_store *)st;
    if (n == 0)
        return MN_OK;
    char *match = mni_keywords_join(words, n, "\"", " OR ");
    if (!match)
        return mni_seterr(st->db, MN_ENOMEM, "out of memory searching by keyword");
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK) {
        free(match);
        return rc;
    }
    sqlite3_stmt *stmt = sq_stmt(s, c, SQ_MEMORY_KEYWORD);
    if (!stmt)
        rc = MN_EBACKEND;
    if (stmt) {
        sq_bind_query(stmt, tenant_id, q);
        sq_bind_text(stmt, 2, match);
        sqlite3_bind_int64(stmt, 7, (sqlite3_int64)want);
    }
    while (stmt) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = sq_fail(s, c->db, step, "searching memories by keyword");
            break;
        }
        fn(ctx, sqlite3_column_int64(stmt, 0), (float)sqlite3_column_double(stmt, 1));
    }
    if (stmt)
        sqlite3_reset(stmt);
    sq_conn_put(s, c);
    free(match);
    return rc;
}
