/* Keyword search of the PostgreSQL backend: the memories' generated tsvector column fts
 * (sql/postgres/015_keywords.sql), which the server computes in the writing statement and
 * a GIN index per partition serves, asked for any of the words; best ts_rank first. */
#include "store/postgres/pg.h"
#include "core/error.h"
#include "store/keywords.h"

#include <stdlib.h>
#include <string.h>

/* Runs statement id (a keyword query: $2 the words, $7 the limit): *res. words NULL: out of
 * memory making them. */
static int run(struct pgs_store *s, int id, const char *tenant_id,
               const struct mni_store_query *q, char *words, size_t limit, PGresult **res)
{
    if (!words)
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory searching by keyword");
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, words);
    pgs_arg_int(&a, q->flags);
    pgs_arg_int(&a, q->now);
    pgs_arg_text(&a, q->type);
    pgs_arg_text(&a, q->identity_id);
    pgs_arg_int(&a, (int64_t)limit);
    pgs_bind_filters(&a, q);
    int rc = pgs_run_on(s, pgs_reads(s), id, &a, res, "searching memories by keyword");
    free(words);
    return rc;
}

int pgs_memory_keyword_search(struct mni_store *st, const char *tenant_id,
                              const struct mni_store_query *q, const char *const *words,
                              size_t n, unsigned flags, size_t want, mni_hit_fn fn, void *ctx)
{
    if (n == 0)
        return MN_OK;
    PGresult *res = NULL;
    int id = flags & MNI_KEYWORDS_TIES ? PGS_MEMORY_KEYWORD_TIES : PGS_MEMORY_KEYWORD;
    int rc = run((struct pgs_store *)st, id, tenant_id, q,
                 mni_keywords_join(words, n, "", flags & MNI_KEYWORDS_ALL ? " & " : " | "), want,
                 &res);
    for (int i = 0; rc == MN_OK && i < PQntuples(res); i++)
        fn(ctx, pgs_int(res, i, 0), (float)pgs_double(res, i, 1));
    PQclear(res);
    return rc;
}

int pgs_memory_keyword_counts(struct mni_store *st, const char *tenant_id,
                              const struct mni_store_query *q, const char *const *words,
                              size_t n, size_t cap, size_t *counts)
{
    memset(counts, 0, n * sizeof *counts);
    PGresult *res = NULL;
    int rc = run((struct pgs_store *)st, PGS_MEMORY_WORD_COUNTS, tenant_id, q,
                 mni_keywords_json(words, n), cap, &res);
    for (int i = 0; rc == MN_OK && i < PQntuples(res); i++) {
        int64_t w = pgs_int(res, i, 0);
        if (w >= 0 && (size_t)w < n)
            counts[w] = (size_t)pgs_int(res, i, 1);
    }
    PQclear(res);
    return rc;
}
