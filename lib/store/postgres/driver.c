/* The PostgreSQL backend's driver (store/driver.h): how the operations written once run here.
 * A primary connection inside a write is the transaction the shared code holds (struct
 * mni_tx); a read outside one goes to the read pool (the replica when there is one). */
#include "store/postgres/pg.h"
#include "core/error.h"

#include <stdlib.h>

static int pgs_read_op(struct mni_store *st, struct mni_tx *tx, enum mni_stmt id,
                       const struct mni_args *a, mni_row_fn fn, void *ctx, const char *doing)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_args p = {0};
    char *buf;
    PGresult *res = NULL;
    int rc = pgs_args_from(s, &p, a, &buf, doing);
    if (rc == MN_OK)
        rc = tx ? pgs_run(s, (struct pgs_conn *)tx, id, &p, &res, doing)
                : pgs_run_on(s, pgs_reads(s), id, &p, &res, doing);
    free(buf);
    for (int i = 0; rc == MN_OK && i < PQntuples(res); i++) {
        struct mni_row r = pgs_row(res, i);
        int v = fn(ctx, &r);
        if (v < 0)
            rc = -v;
        else if (v)
            break;
    }
    PQclear(res);
    return rc;
}

/* Runs id on c; a taken unique key is MN_EEXISTS when taken is set. */
static int run(struct pgs_store *s, struct pgs_conn *c, enum mni_stmt id,
               const struct pgs_args *p, int64_t *changed, const char *taken,
               const char *doing)
{
    if (taken)
        return pgs_insert_unique(s, c, id, p, doing, taken);
    PGresult *res = NULL;
    int rc = pgs_run(s, c, id, p, &res, doing);
    if (rc == MN_OK && changed)
        *changed = pgs_changes(res);
    PQclear(res);
    return rc;
}

static int pgs_exec_op(struct mni_store *st, struct mni_tx *tx, enum mni_stmt id,
                       const struct mni_args *a, int64_t *changed, const char *taken,
                       const char *doing)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_args p = {0};
    char *buf;
    struct pgs_conn *c = (struct pgs_conn *)tx;
    int rc = pgs_args_from(s, &p, a, &buf, doing);
    if (rc == MN_OK && !tx)
        rc = pgs_get(s, &s->primary, &c);
    if (rc == MN_OK)
        rc = run(s, c, id, &p, changed, taken, doing);
    if (c && !tx)
        pgs_put(s, &s->primary, c);
    free(buf);
    return rc;
}

static int pgs_begin_op(struct mni_store *st, int64_t nseq, int64_t *last_seq,
                        struct mni_tx **tx)
{
    struct pgs_conn *c = NULL;
    int rc = pgs_write_begin((struct pgs_store *)st, &c, nseq, last_seq);
    *tx = (struct mni_tx *)c;
    return rc;
}

static int pgs_end_op(struct mni_store *st, struct mni_tx *tx, int rc)
{
    return pgs_write_end((struct pgs_store *)st, (struct pgs_conn *)tx, rc);
}

static int pgs_bump_seq_op(struct mni_store *st, struct mni_tx *tx, int64_t n, int64_t *last)
{
    return pgs_bump_seq((struct pgs_store *)st, (struct pgs_conn *)tx, n, last);
}

/* PostgreSQL finds the memory by the seq it was just written with (pgs_jobs_enqueue). */
static int pgs_job_enqueue_op(struct mni_store *st, struct mni_tx *tx, const char *tenant_id,
                              const struct mni_memory_row *row, int64_t seq)
{
    return pgs_jobs_enqueue((struct pgs_store *)st, (struct pgs_conn *)tx, tenant_id, row, 1,
                            seq);
}

const struct mni_driver pgs_driver = {
    pgs_read_op, pgs_exec_op, pgs_begin_op, pgs_end_op, pgs_bump_seq_op, pgs_job_enqueue_op,
    NULL, /* erased: rows a delete left in the heap are VACUUM's, the operator's */
    1,    /* audit_head_row: concurrent writers queue on the tenant's head row */
    pgs_find_ids,
};
