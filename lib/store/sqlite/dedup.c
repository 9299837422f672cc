/* What a batch of adds repeats, in the SQLite backend: the key holder or content twin of each
 * input, all in one read. Outside a write, a statement on its own is a read transaction of
 * its own, and taking and dropping its locks (the WAL's read mark, the file's shared lock)
 * cost more than the B-tree search: a batch of 1000 took 1000 of them. One statement for the
 * whole batch (a JSON array of the inputs, as on PostgreSQL) cost more again here: SQLite
 * parsed the input's JSON at every use of one of its fields. */
#include "store/sqlite/sqlite.h"
#include "core/error.h"

/* Want w's id and key into *id (malloc'd, NULL for none) and *key: by its key
 * (SQ_MEMORY_FIND), else by its content (SQ_MEMORY_FIND_CONTENT), else there is nothing to
 * look for. */
static int find_one(struct sq_store *s, struct sq_conn *c, const char *tenant_id,
                    const struct mni_find *w, int64_t now, char **id, int64_t *key,
                    const char *doing)
{
    if (!w->key && !w->type)
        return MN_OK;
    sqlite3_stmt *q = sq_stmt(s, c, w->key ? SQ_MEMORY_FIND : SQ_MEMORY_FIND_CONTENT);
    if (!q)
        return MN_EBACKEND;
    sq_bind_text(q, 1, tenant_id);
    sq_bind_text(q, 2, w->identity_id);
    sq_bind_text(q, 3, w->key);
    sq_bind_text(q, 4, w->type);
    sq_bind_text(q, 5, w->type ? w->hash : NULL);
    sqlite3_bind_int64(q, 6, now);
    int step = sqlite3_step(q), rc = MN_OK;
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sq_fail(s, c->db, step, doing);
    } else if (step == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        /* (SQ_MEMORY_FIND_CONTENT, an aggregate, has a row with a NULL id when none matched.) */
        *key = sqlite3_column_int64(q, 1);
        rc = (*id = sq_text(q, 0)) ? MN_OK : MN_ENOMEM;
    }
    sqlite3_reset(q);
    return rc;
}

int sq_find_ids(struct mni_store *st, struct mni_tx *tx, const char *tenant_id,
                const struct mni_find *wants, size_t n, int64_t now, char **ids,
                int64_t *keys, int64_t *seen_seq, const char *doing)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c = (struct sq_conn *)tx;
    int rc = tx ? MN_OK : sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *begin = tx ? NULL : sq_stmt(s, c, SQ_BEGIN_READ);
    if (!tx)
        rc = begin ? sq_exec(s, c, begin, doing) : MN_EBACKEND;
    /* The change number this read sees: the add's write, finding it unchanged, need not
     * look again (mni_op_memory_claims). */
    if (rc == MN_OK && seen_seq)
        rc = sq_seq_read(s, c, seen_seq);
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = find_one(s, c, tenant_id, &wants[i], now, &ids[i], &keys[i], doing);
    if (!tx) {
        rc = sq_end(s, c, rc);
        sq_conn_put(s, c);
    }
    return rc;
}
