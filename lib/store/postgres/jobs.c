/* Embedding jobs in the PostgreSQL backend (table embed_jobs, sql/postgres/006_embed_jobs.sql):
 * queued with their memory, claimed for a lease with FOR UPDATE SKIP LOCKED (so
 * workers in any number of processes take disjoint jobs), acknowledged with the vector. The
 * same contract as sqlite/jobs.c; the statements are in postgres/sql.c. */
#include "store/postgres/pg.h"
#include "store/notfound.h"
#include "store/types.h"
#include "core/error.h"
#include "store/list.h"

#include <stdlib.h>
#include <string.h>

int pgs_jobs_enqueue(struct pgs_store *s, struct pgs_conn *c, const char *tenant_id,
                     const struct mni_memory_row *rows, size_t n, int64_t first_seq)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += rows[i].embed_job != 0;
    if (k == 0)
        return MN_OK;
    /* The rows are found by the seqs this transaction gave them: one statement for a batch. */
    int64_t *seqs = malloc(k * sizeof *seqs);
    k = 0;
    for (size_t i = 0; seqs && i < n; i++)
        if (rows[i].embed_job)
            seqs[k++] = first_seq + (int64_t)i;
    char *arr = seqs ? pgs_int_array(seqs, k) : NULL;
    free(seqs);
    if (!arr)
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory queueing embedding jobs");
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, arr);
    PGresult *res = NULL;
    int rc = pgs_run(s, c, PGS_JOB_ENQUEUE, &a, &res, "queueing memories' embedding jobs");
    if (rc == MN_OK && pgs_changes(res) != (int64_t)k)
        rc = mni_seterr(s->base.db, MN_ECORRUPT, "queueing embedding jobs: %zu memories were "
                       "written but %lld jobs queued; the database is damaged", k,
                       (long long)pgs_changes(res));
    PQclear(res);
    free(arr);
    return rc;
}

static int read_task(struct pgs_store *s, const PGresult *r, int row, void *item, void *ctx)
{
    (void)s, (void)ctx;
    struct mni_embed_task *t = item;
    int oom = 0;
    t->key = pgs_int(r, row, 0);
    t->version = pgs_int(r, row, 1);
    t->attempts = (int)pgs_int(r, row, 2);
    t->tenant_id = pgs_text(r, row, 3, &oom);
    t->memory_id = pgs_text(r, row, 4, &oom);
    t->text = pgs_text(r, row, 5, &oom);
    return oom || !t->tenant_id || !t->memory_id || !t->text ? -MN_ENOMEM : 1;
}

/* A write with no seq: claims, failures and retries change no memory, so the index has
 * nothing to follow (and they do not queue behind the writers holding the sequence). */
static int begin_plain(struct pgs_store *s, struct pgs_conn **c, const char *doing)
{
    if (s->base.flags & MN_OPEN_READONLY)
        return mni_seterr(s->base.db, MN_EUNSUPPORTED, "%s: the handle is open read-only",
                         doing);
    return pgs_write_begin(s, c, 0, NULL);
}

int pgs_embed_jobs_claim(struct mni_store *st, const char *claim, int64_t now, int64_t lease_ms,
                         size_t limit, struct mni_embed_task **out, size_t *n)
{
    struct pgs_store *s = (struct pgs_store *)st;
    *out = NULL;
    *n = 0;
    struct pgs_conn *c;
    int rc = begin_plain(s, &c, "claiming embedding jobs");
    if (rc != MN_OK)
        return rc;
    struct pgs_args a = {0};
    pgs_arg_text(&a, claim);
    pgs_arg_int(&a, now);
    pgs_arg_int(&a, now + lease_ms);
    pgs_arg_int(&a, (int64_t)limit);
    PGresult *res = NULL;
    rc = pgs_run(s, c, PGS_JOB_CLAIM, &a, &res, "claiming embedding jobs");
    struct pgs_reader r = { sizeof **out, read_task, mni_embed_task_clear, NULL };
    if (rc == MN_OK)
        rc = pgs_collect(s, res, &r, 0, (void **)out, n, NULL, "claiming embedding jobs");
    PQclear(res);
    return mni_embed_tasks_claimed(st, pgs_write_end(s, c, rc), out, n);
}

/* One task of a done batch: stores the vector, then acknowledges, or hands the job back. */
static int store_one(struct pgs_store *s, struct pgs_conn *c, const char *claim,
                     const struct mni_embed_task *t, const float *vec, int64_t seq, int64_t now,
                     char *vecbuf, size_t *stored)
{
    struct pgs_args a = {0};
    pgs_arg_text(&a, t->tenant_id);
    pgs_arg_int(&a, t->key);
    pgs_arg_int(&a, t->version);
    pgs_arg_text(&a, claim);
    pgs_arg_vec(s, &a, vec, s->base.dim, vecbuf);
    pgs_arg_int(&a, seq);
    PGresult *res = NULL;
    int rc = pgs_run(s, c, PGS_JOB_STORE, &a, &res, "storing an embedding");
    int wrote = rc == MN_OK && pgs_changes(res) > 0;
    PQclear(res);
    if (rc != MN_OK)
        return rc;
    *stored += (size_t)wrote;
    /* Not written: the job is someone else's now (ACK and RELEASE find no row), or the memory
     * changed but kept the job (RELEASE: due again), or it is gone (so is its job). */
    struct pgs_args b = {0};
    pgs_arg_text(&b, t->tenant_id);
    pgs_arg_int(&b, t->key);
    pgs_arg_text(&b, claim);
    if (!wrote)
        pgs_arg_int(&b, now);
    return pgs_run(s, c, wrote ? PGS_JOB_ACK : PGS_JOB_RELEASE, &b, NULL,
                   "acknowledging an embedding job");
}

int pgs_embed_jobs_done(struct mni_store *st, const char *claim, const struct mni_embed_task *t,
                        size_t n, const float *vecs, int64_t now, size_t *stored)
{
    struct pgs_store *s = (struct pgs_store *)st;
    *stored = 0;
    if (n == 0)
        return MN_OK;
    char *vecbuf = malloc(pgs_vec_bytes(s->base.dim));
    if (!vecbuf)
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory storing embeddings");
    struct pgs_conn *c;
    int64_t last = 0;
    /* One seq per vector, so the index picks each up (a skipped task leaves a gap). */
    int rc = pgs_write_begin(s, &c, (int64_t)n, &last);
    if (rc != MN_OK) {
        free(vecbuf);
        return rc;
    }
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = store_one(s, c, claim, &t[i], vecs + i * (size_t)s->base.dim,
                       last - (int64_t)n + 1 + (int64_t)i, now, vecbuf, stored);
    free(vecbuf);
    rc = pgs_write_end(s, c, rc);
    if (rc != MN_OK) {
        *stored = 0;
        return rc;
    }
    /* The index follows each tenant that got vectors (tasks come sorted by tenant). */
    for (size_t i = 0; *stored && i < n; i++)
        if (i == 0 || strcmp(t[i].tenant_id, t[i - 1].tenant_id) != 0)
            mni_store_changed(&s->base, t[i].tenant_id);
    return MN_OK;
}

int pgs_embed_jobs_fail(struct mni_store *st, const char *claim, const struct mni_embed_task *t,
                        size_t n, const char *error, const int64_t *next_at, int64_t now)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_conn *c;
    int rc = begin_plain(s, &c, "recording a failed embedding job");
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        struct pgs_args a = {0};
        pgs_arg_text(&a, t[i].tenant_id);
        pgs_arg_int(&a, t[i].key);
        pgs_arg_text(&a, claim);
        pgs_arg_int(&a, now);
        pgs_arg_int(&a, next_at[i]);
        pgs_arg_text(&a, error);
        rc = pgs_run(s, c, PGS_JOB_FAIL, &a, NULL, "recording a failed embedding job");
    }
    return pgs_write_end(s, c, rc);
}

int pgs_embed_jobs_retry(struct mni_store *st, const char *tenant_id, const char *memory_id,
                         int64_t now, size_t *retried)
{
    struct pgs_store *s = (struct pgs_store *)st;
    *retried = 0;
    struct pgs_conn *c;
    int rc = begin_plain(s, &c, "retrying embedding jobs");
    if (rc != MN_OK)
        return rc;
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    if (memory_id)
        pgs_arg_text(&a, memory_id);
    pgs_arg_int(&a, now);
    PGresult *res = NULL;
    rc = pgs_run(s, c, memory_id ? PGS_JOB_RETRY_ONE : PGS_JOB_RETRY_FAILED, &a, &res,
                 "retrying embedding jobs");
    if (rc == MN_OK)
        *retried = (size_t)pgs_changes(res);
    PQclear(res);
    if (rc == MN_OK && memory_id && *retried == 0)
        rc = mni_store_no_job(s->base.db, memory_id);
    return pgs_write_end(s, c, rc);
}
