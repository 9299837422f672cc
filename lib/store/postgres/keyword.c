/* Keyword search of the PostgreSQL backend: the memories' generated tsvector column fts
 * (sql/postgres/015_keywords.sql), which the server computes in the writing statement and
 * a GIN index per partition serves, asked for the rarest of the words; best ts_rank first of
 * a bounded number of candidates. */
#include "store/postgres/pg.h"
#include "core/error.h"
#include "store/keywords.h"

#include <stdlib.h>
#include <string.h>

/* Runs statement id (a keyword query: $2 the words, $7 the limit; with rank, a ranking:
 * $17 the candidates' bound, 0 for none, $18 rank, the words that score): *res. words or
 * rank NULL: out of memory making them. */
static int run(struct pgs_store *s, int id, const char *tenant_id,
               const struct mni_store_query *q, char *words, size_t limit, int ranking,
               size_t cap, char *rank, PGresult **res)
{
    if (!words || (ranking && !rank)) {
        free(words);
        free(rank);
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory searching by keyword");
    }
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, words);
    pgs_arg_int(&a, q->flags);
    pgs_arg_int(&a, q->now);
    pgs_arg_text(&a, q->type);
    pgs_arg_text(&a, q->identity_id);
    pgs_arg_int(&a, (int64_t)limit);
    pgs_bind_filters(&a, q);
    if (ranking && cap)
        pgs_arg_int(&a, (int64_t)cap);
    else if (ranking)
        pgs_arg_text(&a, NULL);
    if (ranking)
        pgs_arg_text(&a, rank);
    int rc = pgs_run_on(s, pgs_reads(s), id, &a, res, "searching memories by keyword");
    free(words);
    free(rank);
    return rc;
}

/* A search for any of the words looks for the rarest of them (counted in the memories q
 * selects, each count stopping past the bound) and ranks a bounded number of candidates by
 * every word (store/keywords.h); one for all of them ranks every memory holding them all, which the
 * rarest bounds. */
int pgs_memory_keyword_search(struct mni_store *st, const char *tenant_id,
                              const struct mni_store_query *q, const char *const *words,
                              size_t n, unsigned flags, size_t want, mni_hit_fn fn, void *ctx)
{
    if (n == 0)
        return MN_OK;
    int all = (flags & MNI_KEYWORDS_ALL) != 0;
    const char *looked[MNI_QUERY_WORDS_MAX];
    size_t docs[MNI_QUERY_WORDS_MAX], cap = 0;
    n = n < MNI_QUERY_WORDS_MAX ? n : MNI_QUERY_WORDS_MAX;
    memcpy(looked, words, n * sizeof *looked);
    int rc = all ? MN_OK : pgs_memory_keyword_counts(st, tenant_id, q, words, n,
                                                     mni_keywords_cap(want) + 1, docs);
    size_t kept = n;
    if (rc == MN_OK && !all)
        kept = mni_keywords_bound(looked, docs, n, want, &cap);
    PGresult *res = NULL;
    int id = flags & MNI_KEYWORDS_TIES ? PGS_MEMORY_KEYWORD_TIES : PGS_MEMORY_KEYWORD;
    const char *sep = all ? " & " : " | ";
    if (rc == MN_OK)
        rc = run((struct pgs_store *)st, id, tenant_id, q, mni_keywords_join(looked, kept, "", sep),
                 want, 1, cap, mni_keywords_join(looked, n, "", sep), &res);
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
                 mni_keywords_json(words, n), cap, 0, 0, NULL, &res);
    for (int i = 0; rc == MN_OK && i < PQntuples(res); i++) {
        int64_t w = pgs_int(res, i, 0);
        if (w >= 0 && (size_t)w < n)
            counts[w] = (size_t)pgs_int(res, i, 1);
    }
    PQclear(res);
    return rc;
}
