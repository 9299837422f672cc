/* Keyword search of the SQLite backend: the FTS5 index memory_fts (sql/sqlite/012_keywords.sql),
 * which triggers keep in step with the memories, asked for the rarest of the words (their
 * counts up to the ranking's bound); its ranking of a bounded number of candidates, best BM25
 * first, is checked against the tenant's selected rows. Maintenance merges its segments
 * (sq_memory_keyword_merge). */
#include "store/sqlite/sqlite.h"
#include "core/error.h"
#include "store/keywords.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs statement id (?2 the words, ?7 a limit) and calls row for each row it returns. */
static int run(struct sq_store *s, int id, const char *tenant_id, const struct mni_store_query *q,
               const char *words, size_t limit, void (*row)(sqlite3_stmt *st, void *ctx),
               void *ctx)
{
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, c, id);
    if (!stmt)
        rc = MN_EBACKEND;
    if (stmt) {
        sq_bind_query(stmt, tenant_id, q);
        sq_bind_text(stmt, 2, words);
        sqlite3_bind_int64(stmt, 7, (sqlite3_int64)limit);
    }
    while (stmt) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = sq_fail(s, c->db, step, "searching memories by keyword");
            break;
        }
        row(stmt, ctx);
    }
    if (stmt)
        sqlite3_reset(stmt);
    sq_conn_put(s, c);
    return rc;
}

/* How many rows of the whole index hold each of the n words, each counted up to bound, into
 * docs (SQ_MEMORY_WORD_DOCS: a MATCH of the word that stops at the bound, cheaper than the
 * index's term records, which FTS5 walks whole: mni_keywords_bound needs no count past its
 * bound), and into est the same counts for the ranking's idf (sqlite/rank.c), where a count
 * past the bound is an estimate: the word's share of the keys the bounded count walked (from
 * the lowest key up to the one where it stopped) times all the keys. Keys are given in write
 * order, so the rows of those keys are a sample of the index as old as its first writes; an
 * idf is the log of the count, so an estimate off by a factor f moves the word's idf by
 * log f: past the bound (1,001 of 100,000 rows) an idf of at most 4.6 (FTS5's formula),
 * against about 7 for a word held by a hundred, which the ranking lets count most. */
static int word_docs(struct sq_store *s, struct sq_conn *c, const char *const *words, size_t n,
                     size_t bound, size_t *docs, double *est)
{
    memset(docs, 0, n * sizeof *docs);
    memset(est, 0, n * sizeof *est);
    char *json = mni_keywords_json(words, n);
    sqlite3_stmt *stmt = json ? sq_stmt(s, c, SQ_MEMORY_WORD_DOCS) : NULL;
    int rc = !json ? mni_seterr(s->base.db, MN_ENOMEM, "out of memory searching by keyword")
             : !stmt ? MN_EBACKEND : MN_OK;
    if (stmt) {
        sq_bind_text(stmt, 1, json);
        sqlite3_bind_int64(stmt, 2, (sqlite3_int64)bound);
    }
    for (int step; stmt && (step = sqlite3_step(stmt)) != SQLITE_DONE;) {
        if (step != SQLITE_ROW) {
            rc = sq_fail(s, c->db, step, "searching memories by keyword");
            break;
        }
        sqlite3_int64 i = sqlite3_column_int64(stmt, 0), d = sqlite3_column_int64(stmt, 1);
        sqlite3_int64 low = sqlite3_column_int64(stmt, 2), high = sqlite3_column_int64(stmt, 3);
        if (i < 0 || (size_t)i >= n || d == 0)
            continue;
        docs[i] = d > 0 ? (size_t)d : bound;
        sqlite3_int64 reached = -d; /* past the bound: the key the count stopped at */
        est[i] = d > 0 || reached < low
                     ? (double)docs[i]
                     : (double)bound * (double)(high - low + 1) / (double)(reached - low + 1);
    }
    if (stmt)
        sqlite3_reset(stmt);
    free(json);
    return rc;
}

/* An FTS5 query of the words and, for each of its phrases in FTS5's order (the order they are
 * written in), how many rows hold it: the idf of the ranking's scores (sqlite/rank.c). Each
 * word is at most twice in a query. */
struct phrases {
    char *query;
    size_t n;
    double docs[2 * MNI_QUERY_WORDS_MAX];
};

/* Calls fn for the want best matches of match (an FTS5 query) among the memories q selects,
 * and with ties every one tied with the last of them, best first: the index ranks its cap
 * newest matches (-1: all), and the candidates are checked against their rows in that order
 * until want pass (with ties, up to the first that scores lower), so that only the rows of
 * candidates up to there are read (sqlite/sql.c). Both statements run on connection c: the
 * ranking's read transaction, open until its reset, is the checks' too. */
static int ranked(struct sq_store *s, struct sq_conn *c, const char *tenant_id,
                  const struct mni_store_query *q, const struct phrases *match,
                  sqlite3_int64 cap, size_t want, int ties, mni_hit_fn fn, void *ctx)
{
    int rc = MN_OK;
    sqlite3_stmt *ranking = sq_stmt(s, c, SQ_MEMORY_KEYWORD);
    sqlite3_stmt *row = ranking ? sq_stmt(s, c, SQ_MEMORY_KEYWORD_ROW) : NULL;
    if (row) {
        sq_bind_text(ranking, 1, match->query);
        sqlite3_bind_int64(ranking, 2, cap);
        sqlite3_bind_blob(ranking, 3, match->docs, (int)(match->n * sizeof *match->docs),
                          SQLITE_STATIC);
        sq_bind_query(row, tenant_id, q);
    } else {
        rc = MN_EBACKEND;
    }
    float last = 0; /* the score of the want-th kept */
    for (size_t kept = 0; rc == MN_OK;) {
        int step = sqlite3_step(ranking);
        if (step == SQLITE_DONE)
            break;
        float score = step == SQLITE_ROW ? (float)sqlite3_column_double(ranking, 1) : 0;
        if (step == SQLITE_ROW && kept >= want && (!ties || score < last))
            break; /* ranked best first: no later match ties with the want-th */
        if (step == SQLITE_ROW) {
            sqlite3_int64 key = sqlite3_column_int64(ranking, 0);
            sqlite3_bind_int64(row, 2, key);
            step = sqlite3_step(row);
            if (step == SQLITE_ROW) {
                fn(ctx, key, score);
                if (++kept == want)
                    last = score;
            }
        }
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            rc = sq_fail(s, c->db, step, "searching memories by keyword");
        sqlite3_reset(row);
    }
    if (ranking)
        sqlite3_reset(ranking);
    return rc;
}

/* The counts of a query's phrases: est[] (one per word) of the first words, then of the
 * second words again (0: none). */
static void phrase_docs(struct phrases *p, const double *est, size_t first, size_t second)
{
    memcpy(p->docs, est, first * sizeof *est);
    memcpy(p->docs + first, est, second * sizeof *est);
    p->n = first + second;
}

/* The FTS5 query of a ranking bounded to the first kept of the n words (the rarest: store/
 * keywords.h): the memories holding any of those, scored by BM25 over all n, so that of two
 * memories holding a rare word the one also holding the query's commoner words ranks first
 * (a memory's own text as the query then ranks it first). p->query NULL: out of memory. */
static void bounded_match(const char *const *words, const double *est, size_t kept, size_t n,
                          struct phrases *p)
{
    char *find = mni_keywords_join(words, kept, "\"", " OR ");
    phrase_docs(p, est, kept, kept == n ? 0 : n);
    if (!find || kept == n) {
        p->query = find;
        return;
    }
    char *score = mni_keywords_join(words, n, "\"", " OR ");
    p->query = score ? malloc(strlen(find) + strlen(score) + sizeof "() AND ()") : NULL;
    if (p->query)
        sprintf(p->query, "(%s) AND (%s)", find, score);
    free(find);
    free(score);
}

/* The memories holding all the n words. p->query NULL: out of memory. */
static void every_word(const char *const *words, const double *est, size_t n, struct phrases *p)
{
    p->query = mni_keywords_join(words, n, "\"", " AND ");
    phrase_docs(p, est, n, 0);
}

/* The memories holding some of the n words and not all (every, every_word's query).
 * p->query NULL: out of memory. */
static void some_not_all(const char *const *words, const double *est, size_t n,
                         const char *every, struct phrases *p)
{
    char *some = mni_keywords_join(words, n, "\"", " OR ");
    p->query = some ? malloc(strlen(some) + strlen(every) + sizeof "() NOT ()") : NULL;
    if (p->query)
        sprintf(p->query, "(%s) NOT (%s)", some, every);
    phrase_docs(p, est, n, n);
    free(some);
}

/* Passes hits on, counting them. */
struct passed {
    mni_hit_fn fn;
    void *ctx;
    size_t n;
};

static void pass_hit(void *ctx, int64_t key, float score)
{
    struct passed *p = ctx;
    p->n++;
    p->fn(p->ctx, key, score);
}

/* A search for any of the words looks for the rarest of them and reads a bounded number of
 * candidates (store/keywords.h); one for all of them reads every memory holding them all,
 * which the rarest bounds. When every word is common (the rarest alone held by more than the
 * bound), the memories holding all the words are ranked first, a bounded number of them,
 * then, if fewer than want, the newest holding some and not all: a memory's own text as the
 * query finds it whatever its age. */
int sq_memory_keyword_search(struct mni_store *st, const char *tenant_id,
                             const struct mni_store_query *q, const char *const *words, size_t n,
                             unsigned flags, size_t want, mni_hit_fn fn, void *ctx)
{
    if (n == 0)
        return MN_OK;
    struct sq_store *s = (struct sq_store *)st;
    int all = (flags & MNI_KEYWORDS_ALL) != 0;
    const char *looked[MNI_QUERY_WORDS_MAX];
    size_t docs[MNI_QUERY_WORDS_MAX] = { 0 }, cap = 0;
    double est[MNI_QUERY_WORDS_MAX], looked_est[MNI_QUERY_WORDS_MAX];
    n = n < MNI_QUERY_WORDS_MAX ? n : MNI_QUERY_WORDS_MAX;
    memcpy(looked, words, n * sizeof *looked);
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    /* The counts choose among words (a single word is looked for whatever its count) and
     * weigh them in the ranking. */
    rc = word_docs(s, c, words, n, mni_keywords_cap(want) + 1, docs, est);
    size_t kept = n;
    if (rc == MN_OK && !all)
        kept = mni_keywords_bound(looked, docs, n, want, &cap);
    for (size_t i = 0; i < n; i++) /* est in the order of looked, which bound reorders */
        for (size_t j = 0; j < n; j++)
            if (looked[i] == words[j])
                looked_est[i] = est[j];
    /* The passes, an FTS5 query each, the second run only while fewer than want were found.
     * With only common words the second is scored by the same phrases as the first, once
     * each, so that the two passes' scores compare. */
    int common = !all && n > 1 && docs[0] > cap;
    struct phrases pass[2] = { { NULL, 0, { 0 } }, { NULL, 0, { 0 } } };
    if (rc == MN_OK) {
        if (all || common)
            every_word(looked, looked_est, n, &pass[0]);
        else
            bounded_match(looked, looked_est, kept, n, &pass[0]);
        if (common && pass[0].query)
            some_not_all(looked, looked_est, n, pass[0].query, &pass[1]);
        if (!pass[0].query || (common && !pass[1].query))
            rc = mni_seterr(st->db, MN_ENOMEM, "out of memory searching by keyword");
    }
    struct passed p = { fn, ctx, 0 };
    for (int i = 0; rc == MN_OK && i < 2 && pass[i].query && p.n < want; i++)
        rc = ranked(s, c, tenant_id, q, &pass[i], all ? -1 : (sqlite3_int64)cap, want - p.n,
                    (flags & MNI_KEYWORDS_TIES) != 0, pass_hit, &p);
    free(pass[0].query);
    free(pass[1].query);
    sq_conn_put(s, c);
    return rc;
}

struct counts {
    size_t n, *counts;
};

static void count_row(sqlite3_stmt *st, void *ctx)
{
    struct counts *c = ctx;
    sqlite3_int64 i = sqlite3_column_int64(st, 0);
    if (i >= 0 && (size_t)i < c->n)
        c->counts[i] = (size_t)sqlite3_column_int64(st, 1);
}

int sq_memory_keyword_counts(struct mni_store *st, const char *tenant_id,
                             const struct mni_store_query *q, const char *const *words, size_t n,
                             size_t cap, size_t *counts)
{
    struct counts c = { n, counts };
    memset(counts, 0, n * sizeof *counts);
    char *json = mni_keywords_json(words, n);
    int rc = json ? run((struct sq_store *)st, SQ_MEMORY_WORD_COUNTS, tenant_id, q, json, cap,
                        count_row, &c)
                  : mni_seterr(st->db, MN_ENOMEM, "out of memory searching by keyword");
    free(json);
    return rc;
}

/* FTS5 writes a segment per flush (a write's new rows: 017_keyword_batch.sql) and merges them
 * a level at a time (its automerge), so an index written in many batches keeps several
 * segments (7 at 100,000 memories written 1,000 at a time), every one of which a search
 * reads: merged into one, a ranking takes a quarter to a half less time. A step writes about
 * MERGE_PAGES pages (2 MB at FTS5's default page size) in a write of its own, so that other
 * writers wait for no more than one step; a run stops after MERGE_STEPS (200 MB), so that
 * writes that go on all the while (each a new segment to merge) cannot keep it going: the
 * next run goes on from there. */
#define MERGE_PAGES 500
#define MERGE_STEPS 100

int sq_memory_keyword_merge(struct mni_store *st, int64_t *steps)
{
    struct sq_store *s = (struct sq_store *)st;
    *steps = 0;
    if (s->readonly)
        return MN_OK; /* nothing to merge in a database we may not write */
    for (int merged = 1; merged && *steps < MERGE_STEPS;) {
        struct sq_conn *c;
        int rc = sq_write_begin(s, 0, &c, 0, NULL);
        if (rc != MN_OK)
            return rc;
        sqlite3_stmt *merge = sq_stmt(s, c, SQ_MEMORY_KEYWORD_MERGE);
        rc = merge ? MN_OK : MN_EBACKEND;
        merged = 0;
        if (rc == MN_OK) {
            int before = sqlite3_total_changes(c->db);
            sqlite3_bind_int(merge, 1, -MERGE_PAGES);
            rc = sq_exec(s, c, merge, "merging the keyword index's segments");
            /* FTS5's sign of work done: two changes or more (one segment: none) */
            merged = rc == MN_OK && sqlite3_total_changes(c->db) - before >= 2;
        }
        rc = sq_write_end(s, c, rc);
        if (rc != MN_OK)
            return rc;
        *steps += merged;
    }
    return MN_OK;
}
