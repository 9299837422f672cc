/* Server-side vector search of the PostgreSQL backend, for databases that keep their vectors
 * in pgvector columns (vector=pgvector): the partition's HNSW index (m=16, ef_construction=64,
 * cosine; on the column cast to halfvec beyond 2000 dimensions, sql/postgres/013_wide_vectors.sql)
 * answers ORDER BY mn_search_key(embedding) <=> mn_search_key($2), and each hit's similarity is
 * the full-precision one (the caller ranks by it). Per query, in one transaction:
 * hnsw.ef_search (at least the number of results wanted, which pgvector otherwise caps at
 * ef_search), and for a filtered query on pgvector >= 0.8 hnsw.iterative_scan, so that the
 * index keeps scanning until enough rows pass the filter instead of returning too few. */
#include "store/postgres/pg.h"
#include "core/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PGVECTOR_MAX_EF 1000 /* hnsw.ef_search's upper bound */

static int set_local(struct pgs_store *s, struct pgs_conn *c, const char *name,
                     const char *value)
{
    struct pgs_args a = {0};
    pgs_arg_text(&a, name);
    pgs_arg_text(&a, value);
    return pgs_run(s, c, PGS_SET_LOCAL, &a, NULL, "setting up a vector search");
}

int pgs_memory_search(struct mni_store *st, const char *tenant_id, const struct mni_store_query *q,
                      const float *vec, size_t want, int ef, mni_hit_fn fn, void *ctx)
{
    struct pgs_store *s = (struct pgs_store *)st;
    mn_db *db = s->base.db;
    if (!ef)
        ef = s->opt.ef_search;
    if ((size_t)ef < want)
        ef = want > PGVECTOR_MAX_EF ? PGVECTOR_MAX_EF : (int)want;
    if (ef > PGVECTOR_MAX_EF)
        ef = PGVECTOR_MAX_EF;
    char efs[16];
    snprintf(efs, sizeof efs, "%d", ef);
    char *vecbuf = malloc(pgs_vec_bytes(s->base.dim));
    if (!vecbuf)
        return mni_seterr(db, MN_ENOMEM, "out of memory searching");
    struct pgs_pool *pool = pgs_reads(s);
    struct pgs_conn *c;
    int rc = pgs_get(s, pool, &c);
    if (rc != MN_OK) {
        free(vecbuf);
        return rc;
    }
    PGresult *res = NULL;
    rc = pgs_exec_text(s, c, "BEGIN", "starting a vector search");
    if (rc == MN_OK)
        rc = set_local(s, c, "hnsw.ef_search", efs);
    if (rc == MN_OK && s->iterative_scan && (q->type || q->identity_id || q->flags != 0 ||
                                             q->metadata || mni_query_has_more(q)))
        rc = set_local(s, c, "hnsw.iterative_scan", "relaxed_order");
    if (rc == MN_OK) {
        struct pgs_args a = {0};
        pgs_arg_text(&a, tenant_id);
        pgs_arg_vec(s, &a, vec, s->base.dim, vecbuf);
        pgs_arg_int(&a, q->flags);
        pgs_arg_int(&a, q->now);
        pgs_arg_text(&a, q->type);
        pgs_arg_text(&a, q->identity_id);
        pgs_arg_int(&a, (int64_t)want);
        pgs_bind_filters(&a, q);
        rc = pgs_run(s, c, PGS_MEMORY_SEARCH, &a, &res, "searching memories");
    }
    /* Read-only: ending it either way keeps nothing; a failure to end it closes the
     * connection (pgs_put). */
    if (PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    pgs_put(s, pool, c);
    free(vecbuf);
    /* A zero vector (a text without words) has no cosine distance (NaN): similarity 0, as
     * libmanushya's own search gives it. */
    for (int i = 0; rc == MN_OK && i < PQntuples(res); i++) {
        double sim = pgs_double(res, i, 1);
        fn(ctx, pgs_int(res, i, 0), isnan(sim) ? 0.0f : (float)sim);
    }
    PQclear(res);
    return rc;
}
