/* Keyword search of the PostgreSQL backend: the memories' generated tsvector column fts
 * (sql/postgres/013_keywords.sql), which the server computes in the writing statement and
 * a GIN index per partition serves, asked for any of the words; best ts_rank first. */
#include "store/postgres/pg.h"
#include "core/error.h"
#include "store/keywords.h"

#include <stdlib.h>

int pgs_memory_keyword_search(struct mni_store *st, const char *tenant_id,
                              const struct mni_store_query *q, const char *const *words,
                              size_t n, size_t want, mni_hit_fn fn, void *ctx)
{
    struct pgs_store *s = (struct pgs_store *)st;
    if (n == 0)
        return MN_OK;
    char *tsquery = mni_keywords_join(words, n, "", " | ");
    if (!tsquery)
        return mni_seterr(st->db, MN_ENOMEM, "out of memory searching by keyword");
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, tsquery);
    pgs_arg_int(&a, q->flags);
    pgs_arg_int(&a, q->now);
    pgs_arg_text(&a, q->type);
    pgs_arg_text(&a, q->identity_id);
    pgs_arg_int(&a, (int64_t)want);
    PGresult *res = NULL;
    int rc = pgs_run_on(s, pgs_reads(s), PGS_MEMORY_KEYWORD, &a, &res,
                        "searching memories by keyword");
    for (int i = 0; rc == MN_OK && i < PQntuples(res); i++)
        fn(ctx, pgs_int(res, i, 0), (float)pgs_double(res, i, 1));
    PQclear(res);
    free(tsquery);
    return rc;
}
