/* Running statements in the PostgreSQL backend: parameters, prepared statements, errors and
 * transactions. Every statement is prepared once per connection and run with bound
 * parameters; results come back in binary format (read by postgres/rows.c). */
#include "store/postgres/pg.h"
#include "core/error.h"

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pgs_arg_text(struct pgs_args *a, const char *v)
{
    a->v[a->n] = v;
    a->len[a->n] = 0;
    a->fmt[a->n] = 0;
    a->n++;
}

void pgs_arg_int(struct pgs_args *a, int64_t v)
{
    snprintf(a->num[a->n], sizeof a->num[a->n], "%lld", (long long)v);
    pgs_arg_text(a, a->num[a->n]);
}

void pgs_arg_double(struct pgs_args *a, double v)
{
    snprintf(a->num[a->n], sizeof a->num[a->n], "%.17g", v);
    pgs_arg_text(a, a->num[a->n]);
}

void pgs_arg_bytes(struct pgs_args *a, const void *data, size_t len)
{
    a->v[a->n] = data;
    a->len[a->n] = (int)len;
    a->fmt[a->n] = 1;
    a->n++;
}

int pgs_args_from(struct pgs_store *s, struct pgs_args *p, const struct mni_args *a,
                  char **buf, const char *doing)
{
    *buf = NULL;
    for (int i = 0; a && i < a->n; i++) {
        const struct mni_arg *v = &a->v[i];
        switch (v->type) {
        case MNI_ARG_TEXT:
            pgs_arg_text(p, v->p);
            break;
        case MNI_ARG_INT:
            pgs_arg_int(p, v->i);
            break;
        case MNI_ARG_REAL:
            pgs_arg_double(p, v->d);
            break;
        case MNI_ARG_BLOB:
            pgs_arg_bytes(p, v->p, v->len);
            break;
        case MNI_ARG_VEC:
            if (v->p && !(*buf = malloc(pgs_vec_bytes(s->base.dim))))
                return mni_seterr(s->base.db, MN_ENOMEM, "%s: out of memory", doing);
            pgs_arg_vec(s, p, v->p, s->base.dim, *buf);
            break;
        }
    }
    return MN_OK;
}

char *pgs_int_array(const int64_t *v, size_t n)
{
    /* 20 characters and a comma for each, the braces and the NUL. */
    char *arr = malloc(n * 21 + 3);
    if (!arr)
        return NULL;
    size_t at = 0;
    arr[at++] = '{';
    for (size_t i = 0; i < n; i++)
        at += (size_t)sprintf(arr + at, i ? ",%lld" : "%lld", (long long)v[i]);
    arr[at++] = '}';
    arr[at] = 0;
    return arr;
}

size_t pgs_vec_bytes(int dim)
{
    return 4 + (size_t)dim * sizeof(float);
}

/* bytea: the floats as they are in memory (what the SQLite backend stores too); pgvector's
 * binary input: int16 dim, int16 unused, then big-endian float4s. */
void pgs_arg_vec(struct pgs_store *s, struct pgs_args *a, const float *vec, int dim, char *buf)
{
    if (!vec) {
        pgs_arg_text(a, NULL);
        return;
    }
    size_t n = (size_t)dim * sizeof(float);
    if (s->vector == PGS_VEC_LOCAL) {
        memcpy(buf, vec, n);
        pgs_arg_bytes(a, buf, n);
        return;
    }
    uint16_t d = htobe16((uint16_t)dim), zero = 0;
    memcpy(buf, &d, 2);
    memcpy(buf + 2, &zero, 2);
    for (int i = 0; i < dim; i++) {
        uint32_t u;
        memcpy(&u, &vec[i], 4);
        u = htobe32(u);
        memcpy(buf + 4 + 4 * (size_t)i, &u, 4);
    }
    pgs_arg_bytes(a, buf, n + 4);
}

int pgs_fail(struct pgs_store *s, struct pgs_conn *c, const PGresult *res, const char *doing)
{
    mn_db *h = s->base.db;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char why[240];
    /* Only the primary message: the detail may quote row values. */
    snprintf(why, sizeof why, "%s", msg ? msg : c && c->pg ? PQerrorMessage(c->pg) : "no reply");
    why[strcspn(why, "\n")] = 0;
    if (!res || !state || (c && c->pg && PQstatus(c->pg) != CONNECTION_OK) ||
        strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        return mni_seterr(h, MN_EBACKEND, "%s: the connection to PostgreSQL was lost (%s); "
                         "the transaction was rolled back, nothing of this call was kept; retry "
                         "(the pool reconnects)", doing, why);
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return mni_seterr(h, MN_EBACKEND, "%s: PostgreSQL aborted the transaction for a "
                         "concurrent one (%s); nothing was kept; retry", doing, why);
    if (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0 ||
        strcmp(state, "42883") == 0)
        return mni_seterr(h, MN_ECORRUPT, "%s: the database's tables are not those of this "
                         "libmanushya (%s); migrate it (mn_open with MN_OPEN_MIGRATE), or "
                         "check the URL's database and schema", doing, why);
    if (strncmp(state, "53", 2) == 0)
        return mni_seterr(h, MN_EBACKEND, "%s: the PostgreSQL server is out of resources (%s)",
                         doing, why);
    return mni_seterr(h, MN_EBACKEND, "%s: PostgreSQL error %s: %s", doing, state, why);
}

/* Statements are prepared under the name mn_<id>. */
static void pgs_stmt_name(int id, char name[16])
{
    snprintf(name, 16, "mn_%d", (int)id);
}

/* After a statement's results were read: the pipeline's Sync marker (and whatever a failed
 * statement left before it), then out of pipeline mode. A connection that cannot leave it is
 * not idle, so pgs_put closes it. */
static void pipeline_end(struct pgs_conn *c)
{
    int nulls = 0;
    PGresult *r;
    /* Two NULLs in a row: nothing is left (a lost connection ends this way too). */
    while (nulls < 2) {
        r = PQgetResult(c->pg);
        if (!r) {
            nulls++;
            continue;
        }
        nulls = 0;
        int sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
        PQclear(r);
        if (sync)
            break;
    }
    PQexitPipelineMode(c->pg);
}

/* Sends statement id with its parameters (results in binary); *piped says whether the caller,
 * once it has read the statement's results, ends a pipeline (pipeline_end). A statement this
 * connection has not prepared yet is prepared in the same round trip: in pipeline mode
 * (libpq 14) its Parse goes out with the Bind and Execute instead of waiting for the server's
 * answer first. A short-lived process (a one-shot CLI call) prepares every statement it runs,
 * so this halves its round trips. */
static int send_prepared(struct pgs_store *s, struct pgs_conn *c, int id,
                         const struct pgs_args *a, int *piped, const char *doing)
{
    char name[16];
    pgs_stmt_name(id, name);
    *piped = !c->prepared[id];
    if (*piped && (!PQenterPipelineMode(c->pg) ||
                   !PQsendPrepare(c->pg, name, pgs_sql(id), 0, NULL)))
        return pgs_fail(s, c, NULL, doing);
    if (!PQsendQueryPrepared(c->pg, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                             a ? a->fmt : NULL, 1) ||
        (*piped && !PQpipelineSync(c->pg)))
        return pgs_fail(s, c, NULL, doing);
    if (!*piped)
        return MN_OK;
    /* The Parse's answer first: a failed one leaves the statement's results aborted. */
    PGresult *r = PQgetResult(c->pg);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    int rc = ok ? MN_OK : pgs_fail(s, c, r, "preparing a statement");
    PQclear(r);
    if (ok) {
        PQclear(PQgetResult(c->pg)); /* the NULL that ends the Parse's results */
        c->prepared[id] = 1;
    } else {
        pipeline_end(c);
    }
    return rc;
}

/* Prepares (when needed) and runs id; the result, failed or not, is the caller's (NULL when
 * out of memory or the connection is lost, or with *rc set when sending or preparing failed). */
static PGresult *exec_prepared(struct pgs_store *s, struct pgs_conn *c, int id,
                               const struct pgs_args *a, int *rc, const char *doing)
{
    int piped;
    *rc = send_prepared(s, c, id, a, &piped, doing);
    if (*rc != MN_OK)
        return NULL;
    PGresult *r = PQgetResult(c->pg), *more;
    while ((more = PQgetResult(c->pg)))
        PQclear(more);
    if (piped)
        pipeline_end(c);
    return r;
}

int pgs_run(struct pgs_store *s, struct pgs_conn *c, int id,
            const struct pgs_args *a, PGresult **res, const char *doing)
{
    int rc;
    if (res)
        *res = NULL;
    PGresult *r = exec_prepared(s, c, id, a, &rc, doing);
    return rc == MN_OK ? pgs_result(s, c, r, res, doing) : rc;
}

int pgs_result(struct pgs_store *s, struct pgs_conn *c, PGresult *r, PGresult **res,
               const char *doing)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        int rc = pgs_fail(s, c, r, doing);
        PQclear(r);
        return rc;
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return MN_OK;
}

int pgs_insert_unique(struct pgs_store *s, struct pgs_conn *c, int id,
                      const struct pgs_args *a, const char *doing, const char *taken)
{
    int rc;
    PGresult *r = exec_prepared(s, c, id, a, &rc, doing);
    if (rc != MN_OK)
        return rc;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (r && PQresultStatus(r) == PGRES_COMMAND_OK)
        rc = MN_OK;
    else if (state && strcmp(state, "23505") == 0)
        rc = mni_seterr(s->base.db, MN_EEXISTS, "%s", taken);
    else
        rc = pgs_fail(s, c, r, doing);
    PQclear(r);
    return rc;
}

static int pgs_each(struct pgs_store *s, struct pgs_conn *c, int id,
             const struct pgs_args *a, pgs_row_fn fn, void *ctx, const char *doing)
{
    int piped;
    int rc = send_prepared(s, c, id, a, &piped, doing);
    if (rc != MN_OK)
        return rc;
    PQsetSingleRowMode(c->pg); /* in a pipeline too: the Parse's results were read */
    int stopped = 0;
    PGresult *r;
    /* Every result is read to the end, even after a stop: the connection must be idle again. */
    while ((r = PQgetResult(c->pg))) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE && rc == MN_OK && !stopped) {
            int v = fn(ctx, r);
            if (v < 0)
                rc = -v;
            else if (v)
                stopped = 1;
        } else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && rc == MN_OK) {
            rc = pgs_fail(s, c, r, doing);
        }
        PQclear(r);
    }
    if (piped)
        pipeline_end(c);
    return rc;
}

int pgs_exec_text(struct pgs_store *s, struct pgs_conn *c, const char *sql, const char *doing)
{
    return pgs_result(s, c, PQexec(c->pg, sql), NULL, doing);
}

int64_t pgs_changes(const PGresult *res)
{
    const char *n = PQcmdTuples((PGresult *)res);
    return n && *n ? strtoll(n, NULL, 10) : 0;
}

int pgs_bump_seq(struct pgs_store *s, struct pgs_conn *c, int64_t n, int64_t *last)
{
    struct pgs_args a = {0};
    pgs_arg_int(&a, n);
    PGresult *res;
    /* The row lock this takes is held to the commit: writers that change memories commit in
     * the order of their seq, so an index that read up to seq S never misses a smaller one. */
    int rc = pgs_run(s, c, PGS_BUMP_SEQ, &a, &res, "advancing the change sequence");
    if (rc != MN_OK)
        return rc;
    if (PQntuples(res) != 1)
        rc = mni_seterr(s->base.db, MN_ECORRUPT, "the change sequence row is missing; the "
                       "database is damaged");
    else
        *last = pgs_int(res, 0, 0);
    PQclear(res);
    return rc;
}

int pgs_write_begin(struct pgs_store *s, struct pgs_conn **c, int64_t nseq, int64_t *last_seq)
{
    int rc = pgs_get(s, &s->primary, c);
    if (rc != MN_OK)
        return rc;
    rc = pgs_exec_text(s, *c, "BEGIN", "starting a transaction");
    if (rc == MN_OK && nseq > 0)
        rc = pgs_bump_seq(s, *c, nseq, last_seq);
    if (rc != MN_OK) {
        pgs_write_end(s, *c, rc);
        *c = NULL;
    }
    return rc;
}

int pgs_write_end(struct pgs_store *s, struct pgs_conn *c, int rc)
{
    if (rc == MN_OK) {
        rc = pgs_exec_text(s, c, "COMMIT", "committing");
        /* Lost during the commit itself, the transaction may have been kept or not. */
        if (rc != MN_OK && PQstatus(c->pg) != CONNECTION_OK)
            rc = mni_seterr(s->base.db, MN_EBACKEND, "committing: the connection to PostgreSQL "
                           "was lost during the commit, so whether the change was kept is "
                           "unknown; read it back before retrying (the pool reconnects)");
    } else if (PQstatus(c->pg) == CONNECTION_OK &&
               PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        /* The error already recorded is the one to report; a failed rollback (the connection
         * is then closed by pgs_put) must not replace it. */
        PGresult *r = PQexec(c->pg, "ROLLBACK");
        PQclear(r);
    }
    pgs_put(s, &s->primary, c);
    return rc;
}

int pgs_run_on(struct pgs_store *s, struct pgs_pool *p, int id,
               const struct pgs_args *a, PGresult **res, const char *doing)
{
    struct pgs_conn *c;
    int rc = pgs_get(s, p, &c);
    if (rc != MN_OK)
        return rc;
    rc = pgs_run(s, c, id, a, res, doing);
    pgs_put(s, p, c);
    return rc;
}

int pgs_each_on(struct pgs_store *s, struct pgs_pool *p, int id,
                const struct pgs_args *a, pgs_row_fn fn, void *ctx, const char *doing)
{
    struct pgs_conn *c;
    int rc = pgs_get(s, p, &c);
    if (rc != MN_OK)
        return rc;
    rc = pgs_each(s, c, id, a, fn, ctx, doing);
    pgs_put(s, p, c);
    return rc;
}
