/* Embedding jobs in the SQLite backend (table embed_jobs, sql/sqlite/006_embed_jobs.sql):
 * queued with their memory, claimed for a lease, acknowledged with the vector. */
#include "store/sqlite/sqlite.h"
#include "store/notfound.h"
#include "store/types.h"
#include "core/error.h"
#include "store/list.h"

#include <stdlib.h>
#include <string.h>

/* Binds (tenant, memory id, now) and runs one of the in-transaction statements. */
static int job_stmt(struct sq_store *s, struct sq_conn *c, enum sq_stmt_id id,
                    const char *tenant_id, const char *memory_id, int64_t now, const char *doing)
{
    sqlite3_stmt *q = sq_stmt(s, c, id);
    if (!q)
        return MN_EBACKEND;
    sq_bind_text(q, 1, tenant_id);
    sq_bind_text(q, 2, memory_id);
    sqlite3_bind_int64(q, 3, now);
    return sq_exec(s, c, q, doing);
}

int sq_job_enqueue(struct sq_store *s, struct sq_conn *c, const char *tenant_id,
                   const char *memory_id, int64_t now)
{
    return job_stmt(s, c, SQ_JOB_ENQUEUE, tenant_id, memory_id, now,
                    "queueing a memory's embedding job");
}

static int read_task(sqlite3_stmt *st, void *item, void *ctx)
{
    (void)ctx;
    struct mni_embed_task *t = item;
    t->key = sqlite3_column_int64(st, 0);
    t->version = sqlite3_column_int64(st, 1);
    t->attempts = sqlite3_column_int(st, 2);
    t->tenant_id = sq_text(st, 3);
    t->memory_id = sq_text(st, 4);
    t->text = sq_text(st, 5);
    return t->tenant_id && t->memory_id && t->text ? 1 : -MN_ENOMEM;
}

int sq_embed_jobs_claim(struct mni_store *st, const char *claim, int64_t now, int64_t lease_ms,
                        size_t limit, struct mni_embed_task **out, size_t *n)
{
    struct sq_store *s = (struct sq_store *)st;
    *out = NULL;
    *n = 0;
    if (s->readonly)
        return mni_seterr(s->base.db, MN_EUNSUPPORTED, "%s is open read-only: embedding jobs "
                         "cannot be claimed", s->path);
    struct sq_conn *c;
    int rc = sq_write_begin(s, 0, &c, 0, NULL);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_JOB_CLAIM);
    rc = q ? MN_OK : MN_EBACKEND;
    if (q) {
        sq_bind_text(q, 1, claim);
        sqlite3_bind_int64(q, 2, now);
        sqlite3_bind_int64(q, 3, now + lease_ms);
        sqlite3_bind_int64(q, 4, (int64_t)limit);
        rc = sq_exec(s, c, q, "claiming embedding jobs");
    }
    if (rc == MN_OK && sqlite3_changes(c->db) > 0) {
        q = sq_stmt(s, c, SQ_JOB_CLAIMED);
        rc = q ? MN_OK : MN_EBACKEND;
        if (q) {
            sq_bind_text(q, 1, claim);
            struct sq_reader r = { sizeof **out, read_task, mni_embed_task_clear, NULL };
            rc = sq_collect(s, c, q, &r, 0, (void **)out, n, NULL,
                            "reading the claimed embedding jobs");
        }
    }
    return mni_embed_tasks_claimed(st, sq_write_end(s, c, rc), out, n);
}

/* One task of a done batch: stores the vector, then acknowledges, or hands the job back. */
static int store_one(struct sq_store *s, struct sq_conn *c, const char *claim,
                     const struct mni_embed_task *t, const float *vec, int64_t seq, int64_t now,
                     size_t *stored)
{
    sqlite3_stmt *q = sq_stmt(s, c, SQ_JOB_STORE);
    if (!q)
        return MN_EBACKEND;
    sqlite3_bind_int64(q, 1, t->key);
    sqlite3_bind_int64(q, 2, t->version);
    sq_bind_text(q, 3, claim);
    sqlite3_bind_blob(q, 4, vec, s->base.dim * (int)sizeof(float), SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, seq);
    int rc = sq_exec(s, c, q, "storing an embedding");
    if (rc != MN_OK)
        return rc;
    int wrote = sqlite3_changes(c->db) > 0;
    *stored += (size_t)wrote;
    /* Not written: the job is someone else's now (ACK and RELEASE find no row), or the memory
     * changed but kept the job (RELEASE: due again), or it is gone (so is its job). */
    q = sq_stmt(s, c, wrote ? SQ_JOB_ACK : SQ_JOB_RELEASE);
    if (!q)
        return MN_EBACKEND;
    sqlite3_bind_int64(q, 1, t->key);
    sq_bind_text(q, 2, claim);
    if (!wrote)
        sqlite3_bind_int64(q, 3, now);
    return sq_exec(s, c, q, "acknowledging an embedding job");
}

int sq_embed_jobs_done(struct mni_store *st, const char *claim, const struct mni_embed_task *t,
                       size_t n, const float *vecs, int64_t now, size_t *stored)
{
    struct sq_store *s = (struct sq_store *)st;
    *stored = 0;
    if (n == 0)
        return MN_OK;
    struct sq_conn *c;
    int64_t last = 0;
    /* One seq per vector, so the index picks each up (a skipped task leaves a gap). */
    int rc = sq_write_begin(s, 0, &c, (int64_t)n, &last);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = store_one(s, c, claim, &t[i], vecs + i * (size_t)s->base.dim,
                       last - (int64_t)n + 1 + (int64_t)i, now, stored);
    rc = sq_write_end(s, c, rc);
    if (rc != MN_OK) {
        *stored = 0;
        return rc;
    }
    /* The index follows each tenant that got vectors (tasks come sorted by tenant). */
    for (size_t i = 0; *stored && i < n; i++)
        if (i == 0 || strcmp(t[i].tenant_id, t[i - 1].tenant_id) != 0)
            sq_changed(s, t[i].tenant_id);
    return MN_OK;
}

int sq_embed_jobs_fail(struct mni_store *st, const char *claim, const struct mni_embed_task *t,
                       size_t n, const char *error, const int64_t *next_at, int64_t now)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int rc = sq_write_begin(s, 0, &c, 0, NULL);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        sqlite3_stmt *q = sq_stmt(s, c, SQ_JOB_FAIL);
        if (!q) {
            rc = MN_EBACKEND;
            break;
        }
        sqlite3_bind_int64(q, 1, t[i].key);
        sq_bind_text(q, 2, claim);
        sqlite3_bind_int64(q, 3, now);
        sqlite3_bind_int64(q, 4, next_at[i]);
        sq_bind_text(q, 5, error);
        rc = sq_exec(s, c, q, "recording a failed embedding job");
    }
    return sq_write_end(s, c, rc);
}

int sq_embed_jobs_retry(struct mni_store *st, const char *tenant_id, const char *memory_id,
                        int64_t now, size_t *retried)
{
    struct sq_store *s = (struct sq_store *)st;
    *retried = 0;
    struct sq_conn *c;
    int rc = sq_write_begin(s, 0, &c, 0, NULL);
    if (rc != MN_OK)
        return rc;
    rc = job_stmt(s, c, memory_id ? SQ_JOB_RETRY_ONE : SQ_JOB_RETRY_FAILED, tenant_id,
                  memory_id, now, "retrying embedding jobs");
    if (rc == MN_OK)
        *retried = (size_t)sqlite3_changes(c->db);
    if (rc == MN_OK && memory_id && *retried == 0)
        rc = mni_store_no_job(s->base.db, memory_id);
    return sq_write_end(s, c, rc);
}
