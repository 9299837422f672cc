/* The SQLite backend's driver (store/driver.h): how the operations written once run here. A
 * connection inside a write is the transaction the shared code holds (struct mni_tx). */
#include "store/sqlite/sqlite.h"
#include "core/error.h"

/* A row of a driver read, handed over as the shared mappers read it. */
struct each {
    mni_row_fn fn;
    void *ctx;
};

static int each_row(void *ctx, sqlite3_stmt *q)
{
    struct each *e = ctx;
    struct mni_row r = sq_row(q);
    return e->fn(e->ctx, &r);
}

static int sq_read(struct mni_store *st, struct mni_tx *tx, enum mni_stmt id,
                   const struct mni_args *a, mni_row_fn fn, void *ctx, const char *doing)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c = (struct sq_conn *)tx;
    int rc = c ? MN_OK : sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, id);
    struct each e = { fn, ctx };
    if (q) {
        sq_bind_args(s, q, a);
        rc = sq_each(s, c, q, each_row, &e, doing);
    }
    if (!tx)
        sq_conn_put(s, c);
    return q ? rc : MN_EBACKEND;
}

static int sq_exec_op(struct mni_store *st, struct mni_tx *tx, enum mni_stmt id,
                      const struct mni_args *a, int64_t *changed, const char *taken,
                      const char *doing)
{
    return sq_run((struct sq_store *)st, (struct sq_conn *)tx, id, a, changed, taken, doing);
}

static int sq_begin_op(struct mni_store *st, int64_t nseq, int64_t *last_seq,
                       struct mni_tx **tx)
{
    struct sq_conn *c = NULL;
    int rc = sq_write_begin((struct sq_store *)st, 0, &c, nseq, last_seq);
    *tx = (struct mni_tx *)c;
    return rc;
}

static int sq_end_op(struct mni_store *st, struct mni_tx *tx, int rc)
{
    return sq_write_end((struct sq_store *)st, (struct sq_conn *)tx, rc);
}

static int sq_bump_seq_op(struct mni_store *st, struct mni_tx *tx, int64_t n, int64_t *last)
{
    return sq_bump_seq((struct sq_store *)st, (struct sq_conn *)tx, n, last);
}

/* SQLite finds the memory by its id: the seq it was written with is not needed. */
static int sq_job_enqueue_op(struct mni_store *st, struct mni_tx *tx, const char *tenant_id,
                             const struct mni_memory_row *row, int64_t seq)
{
    (void)seq;
    return sq_job_enqueue((struct sq_store *)st, (struct sq_conn *)tx, tenant_id, row->id,
                          row->updated_at);
}

/* secure_delete (sqlite/conn.c) zeroes what a delete frees, but a page as it was before
 * stays in the WAL as an older frame until the WAL is written over: a TRUNCATE checkpoint
 * copies the zeroed pages into the database and empties the WAL. It waits for the write lock
 * up to the busy timeout and cannot finish while another connection reads an older snapshot
 * (another process): those frames then go when the WAL is next reset. */
static void sq_erased_op(struct mni_store *st)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c = NULL;
    if (sq_conn_get(s, &c) != MN_OK)
        return;
    sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sq_conn_put(s, c);
}

const struct mni_driver sq_driver = {
    sq_read, sq_exec_op, sq_begin_op, sq_end_op, sq_bump_seq_op, sq_job_enqueue_op,
    sq_erased_op,
    0, /* audit_head_row: the write lock serialises appenders; the head is the last entry */
    sq_find_ids,
};
