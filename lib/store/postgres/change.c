/* Memories in the PostgreSQL backend: changes to existing rows, each in one transaction that
 * also advances the change sequence. */
#include "store/postgres/pg.h"
#include "store/notfound.h"
#include "core/error.h"

#include <stdlib.h>

/* Runs a statement bound (tenant, id[, now, seq]) and checks that it changed a row. */
static int change_row(struct pgs_store *s, struct pgs_conn *c, enum pgs_stmt_id id,
                      const char *tenant_id, const char *memory_id, int64_t now, int64_t seq,
                      const char *doing)
{
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, memory_id);
    if (id == PGS_MEMORY_SOFT_DELETE || id == PGS_MEMORY_RESTORE) {
        pgs_arg_int(&a, now);
        pgs_arg_int(&a, seq);
    }
    PGresult *res = NULL;
    int rc = pgs_run(s, c, id, &a, &res, doing);
    if (rc == MN_OK && id != PGS_HISTORY_DELETE && pgs_changes(res) == 0)
        rc = mni_store_no_memory(s->base.db, doing, memory_id,
                                id == PGS_MEMORY_SOFT_DELETE ? MNI_WANT_LIVE
                                : id == PGS_MEMORY_RESTORE ? MNI_WANT_DELETED : MNI_WANT_ANY);
    PQclear(res);
    return rc;
}

/* Hard delete: the row and its history go together; the trigger leaves the tombstone. */
static int delete_one(struct pgs_store *s, struct pgs_conn *c, const char *tenant_id,
                      const char *id, int mode, int64_t now, int64_t seq)
{
    if (mode == MN_DELETE_SOFT)
        return change_row(s, c, PGS_MEMORY_SOFT_DELETE, tenant_id, id, now, seq,
                          "deleting a memory");
    int rc = change_row(s, c, PGS_MEMORY_HARD_DELETE, tenant_id, id, now, seq,
                        "deleting a memory");
    return rc == MN_OK ? change_row(s, c, PGS_HISTORY_DELETE, tenant_id, id, now, seq,
                                    "deleting a memory's history")
                       : rc;
}

int pgs_memory_update(struct mni_store *st, const char *tenant_id,
                      const struct mni_memory_row *row, int64_t expected_version,
                      const char *changed_by, const char *before, const char *after)
{
    struct pgs_store *s = (struct pgs_store *)st;
    char *vecbuf = malloc(pgs_vec_bytes(s->base.dim));
    if (!vecbuf)
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory updating a memory");
    struct pgs_conn *c;
    int64_t seq;
    int rc = pgs_write_begin(s, &c, 1, &seq);
    if (rc != MN_OK) {
        free(vecbuf);
        return rc;
    }
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, row->id);
    pgs_arg_text(&a, row->text);
    pgs_arg_text(&a, row->type);
    pgs_arg_text(&a, row->metadata);
    pgs_arg_double(&a, row->importance);
    pgs_arg_int(&a, row->version);
    pgs_arg_int(&a, row->updated_at);
    pgs_arg_int(&a, seq);
    pgs_arg_vec(s, &a, row->embedding, s->base.dim, vecbuf);
    pgs_arg_int(&a, expected_version);
    PGresult *res = NULL;
    rc = pgs_run(s, c, PGS_MEMORY_UPDATE, &a, &res, "updating a memory");
    /* No row: another writer changed (or deleted) it since the caller read it. */
    if (rc == MN_OK && pgs_changes(res) == 0)
        rc = MNI_EBUSY_VERSION;
    PQclear(res);
    free(vecbuf);
    if (rc == MN_OK) {
        struct pgs_args h = {0};
        pgs_arg_text(&h, tenant_id);
        pgs_arg_text(&h, row->id);
        pgs_arg_int(&h, row->version);
        pgs_arg_int(&h, row->updated_at);
        pgs_arg_text(&h, changed_by);
        pgs_arg_text(&h, before);
        pgs_arg_text(&h, after);
        rc = pgs_run(s, c, PGS_HISTORY_INSERT, &h, NULL, "recording a memory's history");
    }
    /* Asynchronous embedding: a new text queues its job, a given vector ends one. */
    if (rc == MN_OK && row->embed_job)
        rc = pgs_jobs_enqueue(s, c, tenant_id, row, 1, seq);
    else if (rc == MN_OK && row->embedding)
        rc = pgs_job_drop(s, c, tenant_id, row->id);
    rc = pgs_write_end(s, c, rc);
    if (rc == MN_OK)
        mni_store_changed(&s->base, tenant_id);
    return rc;
}

int pgs_memory_delete(struct mni_store *st, const char *tenant_id, const char *const *ids,
                      size_t n, int mode, int64_t now)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_conn *c;
    int64_t last = 0;
    int rc = pgs_write_begin(s, &c, (int64_t)n, &last);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = delete_one(s, c, tenant_id, ids[i], mode, now, last - (int64_t)n + 1 + (int64_t)i);
    rc = pgs_write_end(s, c, rc);
    if (rc == MN_OK)
        mni_store_changed(&s->base, tenant_id);
    return rc;
}

int pgs_memory_restore(struct mni_store *st, const char *tenant_id, const char *id, int64_t now)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_conn *c;
    int64_t seq;
    int rc = pgs_write_begin(s, &c, 1, &seq);
    if (rc == MN_OK)
        rc = pgs_write_end(s, c, change_row(s, c, PGS_MEMORY_RESTORE, tenant_id, id, now, seq,
                                            "restoring a memory"));
    if (rc == MN_OK)
        mni_store_changed(&s->base, tenant_id);
    return rc;
}

int pgs_memory_purge_expired(struct mni_store *st, const char *tenant_id, int64_t now,
                             size_t *purged)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_conn *c;
    int64_t last = 0;
    int rc = pgs_write_begin(s, &c, 0, &last);
    if (rc != MN_OK)
        return rc;
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_int(&a, now);
    PGresult *res = NULL;
    rc = pgs_run(s, c, PGS_MEMORY_EXPIRED, &a, &res, "finding expired memories");
    int n = rc == MN_OK ? PQntuples(res) : 0;
    if (rc == MN_OK && n)
        rc = pgs_bump_seq(s, c, n, &last);
    for (int i = 0; rc == MN_OK && i < n; i++)
        rc = delete_one(s, c, tenant_id, PQgetvalue(res, i, 0), MN_DELETE_HARD, now,
                        last - n + 1 + i);
    PQclear(res);
    rc = pgs_write_end(s, c, rc);
    if (rc == MN_OK && n)
        mni_store_changed(&s->base, tenant_id);
    if (rc == MN_OK && purged)
        *purged = (size_t)n;
    return rc;
}
