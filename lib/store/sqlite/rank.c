/* The keyword ranking's scoring function, manushya_bm25(memory_fts, counts), an FTS5 auxiliary
 * function registered on every connection (sq_rank_register).
 *
 * It is FTS5's own bm25() (k1 1.2, b 0.75, one column: the same term frequencies, the same
 * document lengths, the same average length), except where each phrase's idf comes from. FTS5's
 * bm25() counts the rows holding each phrase itself, on its first call of a query, by walking
 * the phrase's whole doclist: for a common word ("the", "to") a walk of much of the index
 * (half a keyword search's CPU on bench ingest's 100k sentences). The search has counted every word
 * already, up to its bound (sqlite/keyword.c word_docs), and passes those counts, one per
 * phrase of the query in FTS5's order, as counts: a blob of doubles. Below the bound a count is
 * exact and the score is bm25()'s; past it the count is an estimate (word_docs), and so is
 * that word's idf. The score is positive, higher better (bm25() returns it negated). */
#include "store/sqlite/sqlite.h"

#include <math.h>

#define BM25_K1 1.2
#define BM25_B 0.75

/* The most phrases a query of the keyword search has: each word at most twice (keyword.c). */
#define RANK_PHRASES_MAX 64

/* What a query's every row shares, worked out on its first row and kept as the query's
 * auxiliary data: each phrase's idf and the average length (reading the index's totals for
 * every row cost more than scoring it). */
struct query_weights {
    double idf[RANK_PHRASES_MAX], avgdl;
    sqlite3_blob *sizes; /* the index's row lengths (doc_length); NULL until the first */
};

static void query_weights_free(void *p)
{
    struct query_weights *w = p;
    sqlite3_blob_close(w->sizes);
    sqlite3_free(w);
}

/* How many words the row holds: what xColumnSize gives, read from the index's docsize table
 * (one varint per column: memory_fts has one) through a blob handle kept for the query and
 * moved from row to row. xColumnSize runs an SQL statement for each row (4.7 k instructions,
 * a third of a keyword search at 100,000 memories); moving the handle is a seek. Any failure
 * (a row without its length) falls back on xColumnSize. */
static int doc_length(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx,
                      struct query_weights *w, int *length)
{
    sqlite3_int64 rowid = api->xRowid(fts);
    int rc = w->sizes ? sqlite3_blob_reopen(w->sizes, rowid)
                      : sqlite3_blob_open(sqlite3_context_db_handle(ctx), "main",
                                          "memory_fts_docsize", "sz", rowid, 0, &w->sizes);
    unsigned char sz[9];
    int n = rc == SQLITE_OK ? sqlite3_blob_bytes(w->sizes) : 0;
    n = n < (int)sizeof sz ? n : (int)sizeof sz;
    if (n > 0 && sqlite3_blob_read(w->sizes, sz, n, 0) == SQLITE_OK) {
        sqlite3_uint64 v = 0; /* SQLite's varint: 7 bits a byte, high bit set while more follow */
        for (int i = 0; i < n; i++) {
            v = v << 7 | (sz[i] & 0x7f);
            if (!(sz[i] & 0x80)) {
                *length = (int)v;
                return SQLITE_OK;
            }
        }
    }
    if (rc != SQLITE_OK && w->sizes) { /* a handle that failed to move is spent */
        sqlite3_blob_close(w->sizes);
        w->sizes = NULL;
    }
    return api->xColumnSize(fts, -1, length);
}

static int query_weights(const Fts5ExtensionApi *api, Fts5Context *fts, const double *counts,
                         int nphrase, struct query_weights **out)
{
    struct query_weights *w = api->xGetAuxdata(fts, 0);
    if (w) {
        *out = w;
        return SQLITE_OK;
    }
    sqlite3_int64 rows = 0, tokens = 0;
    int rc = api->xRowCount(fts, &rows);
    if (rc == SQLITE_OK)
        rc = api->xColumnTotalSize(fts, -1, &tokens);
    if (rc == SQLITE_OK && !(w = sqlite3_malloc(sizeof *w)))
        rc = SQLITE_NOMEM;
    if (rc == SQLITE_OK)
        w->sizes = NULL;
    if (rc != SQLITE_OK)
        return rc;
    /* As bm25() does: an empty index has an average length of 1, a common word an idf of
     * nearly nothing rather than a negative one. */
    w->avgdl = rows > 0 && tokens > 0 ? (double)tokens / (double)rows : 1;
    for (int i = 0; i < nphrase; i++) {
        double idf = log(((double)rows - counts[i] + 0.5) / (counts[i] + 0.5));
        w->idf[i] = idf > 0 ? idf : 1e-6;
    }
    *out = w;
    return api->xSetAuxdata(fts, w, query_weights_free);
}

static void bm25(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
                 sqlite3_value **val)
{
    int nphrase = api->xPhraseCount(fts);
    const double *counts = nval == 1 ? sqlite3_value_blob(val[0]) : NULL;
    int ncounts = nval == 1 ? sqlite3_value_bytes(val[0]) / (int)sizeof *counts : -1;
    if (nphrase > RANK_PHRASES_MAX || ncounts != nphrase) {
        sqlite3_result_error(ctx, "manushya_bm25: wants one count per phrase of the query", -1);
        return;
    }
    struct query_weights *w = NULL;
    double freq[RANK_PHRASES_MAX] = { 0 };
    int ninst = 0, length = 0, rc = query_weights(api, fts, counts, nphrase, &w);
    if (rc == SQLITE_OK)
        rc = api->xInstCount(fts, &ninst);
    for (int i = 0; rc == SQLITE_OK && i < ninst; i++) {
        int phrase, column, offset;
        rc = api->xInst(fts, i, &phrase, &column, &offset);
        if (rc == SQLITE_OK)
            freq[phrase] += 1;
    }
    if (rc == SQLITE_OK)
        rc = doc_length(api, fts, ctx, w, &length);
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    double norm = BM25_K1 * (1 - BM25_B + BM25_B * length / w->avgdl), score = 0;
    for (int i = 0; i < nphrase; i++)
        score += w->idf[i] * freq[i] * (BM25_K1 + 1) / (freq[i] + norm);
    sqlite3_result_double(ctx, score);
}

int sq_rank_register(sqlite3 *db)
{
    fts5_api *fts5 = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_pointer(st, 1, &fts5, "fts5_api_ptr", NULL);
        sqlite3_step(st);
        rc = sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK && !fts5)
        rc = SQLITE_ERROR; /* an SQLite built without FTS5 */
    if (rc == SQLITE_OK)
        rc = fts5->xCreateFunction(fts5, "manushya_bm25", NULL, bm25, NULL);
    return rc;
}
