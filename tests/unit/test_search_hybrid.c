/*
 * Keyword and hybrid search: a rare word the embedder does not know (an order number) ranks
 * its memory first in hybrid mode; the keyword index follows every write in its transaction
 * (add, a batch add row by row, update, delete) and indexes the rows a database had before it; an encrypted database's
 * index holds blind words, never a word of the text; each hit explains its score; bad options
 * are refused with a message naming the fix. Every case runs on SQLite and, with MN_PG_URL,
 * on PostgreSQL.
 */
#include "support/harness.h"
#include "support/raw_sql.h"
#include "api/handle.h"
#include "store/store.h"
#include "store/keywords.h"

#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM 64

/* An embedder that knows words of letters only: a word with a digit in it (an order number,
 * a code) adds nothing to the vector, as a real model's vocabulary would blur it. */
static int vocab_embed(void *ctx, const char *const *texts, size_t n, float *out, char *errbuf,
                       size_t errlen)
{
    (void)ctx, (void)errbuf, (void)errlen;
    for (size_t i = 0; i < n; i++) {
        float *v = out + i * DIM;
        memset(v, 0, DIM * sizeof *v);
        for (const char *p = texts[i]; *p;) {
            size_t len = 0, digits = 0;
            uint32_t h = 2166136261u;
            for (; isalnum((unsigned char)p[len]); len++) {
                digits += isdigit((unsigned char)p[len]) != 0;
                h = (h ^ (uint32_t)tolower((unsigned char)p[len])) * 16777619u;
            }
            if (len && !digits)
                v[h % DIM] += 1.0f;
            p += len ? len : 1;
        }
    }
    return 0;
}

static const mn_embedder vocab_embedder = { .version = MN_EMBEDDER_VERSION, .name = "vocab",
                                            .model = "vocab-64", .dim = DIM,
                                            .embed = vocab_embed };

static const mn_actor sys = TH_ACTOR(.tenant = "acme");

static mn_db *open_url(const char *url, const char *key, unsigned flags)
{
    mn_config cfg = TH_CONFIG(.embedder_plugin = &vocab_embedder, .flags = flags,
                              .master_key_file = key);
    return th_open(url, &cfg);
}

/* A new database of store i (NULL: no server here) with tenant acme and identity bot. */
static mn_db *fresh(int i, const char **url)
{
    *url = th_store_url(i);
    if (!*url)
        return NULL;
    mn_db *db = open_url(*url, NULL, 0);
    th_tenant(db, "acme");
    th_identity(db, "acme", "bot");
    return db;
}

static const char *add(mn_db *db, const char *text)
{
    return th_add(db, &sys, "bot", text);
}

static mn_memories *search(mn_db *db, const char *query, int mode, int k)
{
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = query, .k = k,
                            .mode = mode, .flags = MN_SEARCH_EXPLAIN};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &sys, &so, &l));
    return l;
}

/* Whether a keyword search for word finds the memory id. */
static int found_by_word(mn_db *db, const char *word, const char *id)
{
    mn_memories *l = search(db, word, MN_SEARCH_KEYWORD, 100);
    int found = 0;
    for (size_t i = 0; i < l->count; i++)
        found |= strcmp(l->items[i]->id, id) == 0;
    mn_memories_free(l);
    return found;
}

START_TEST(rare_token_first_in_hybrid)
{
    const char *url;
    mn_db *db = fresh(_i, &url);
    if (!db)
        return;
    /* Many memories about orders, several closer to the query's known words than the one
     * that names the order. */
    for (int k = 0; k < 12; k++)
        add(db, th_fmt("customer order status question order shipping %d", k * 7919 % 100000));
    const char *target = add(db, "the parcel for ORD-99812 left the warehouse");
    for (int k = 0; k < 12; k++)
        add(db, th_fmt("order shipped to the customer, order ORD-%d", 10000 + k));
    const char *query = "customer order ORD-99812 shipping status";

    mn_memories *v = search(db, query, MN_SEARCH_VECTOR, 10);
    int vector_rank = 0;
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->items[i]->id, target) == 0)
            vector_rank = (int)i + 1;
    ck_assert_msg(vector_rank != 1, "the embedder should not know ORD-99812");
    mn_memories_free(v);

    mn_memories *h = search(db, query, MN_SEARCH_HYBRID, 10);
    ck_assert_uint_eq(h->count, 10);
    ck_assert_msg(strcmp(h->items[0]->id, target) == 0, "first is \"%s\"", h->items[0]->text);
    /* Its explanation: found by its words first; the fused score is the sum of the rankings'
     * reciprocal ranks (k = 60, weights 1) and, as it holds a rare word, the weights' sum. */
    const mn_memory *m = h->items[0];
    ck_assert_int_eq(m->keyword_rank, 1);
    ck_assert(m->keyword_score > 0);
    double want = 2.0 + 1.0 / (60 + m->keyword_rank) +
                  (m->vector_rank ? 1.0 / (60 + m->vector_rank) : 0.0);
    ck_assert_double_eq_tol(m->fused_score, want, 1e-9);
    for (size_t i = 1; i < h->count; i++)
        ck_assert(h->items[i]->fused_score <= h->items[i - 1]->fused_score);
    mn_memories_free(h);

    /* The default mode is hybrid. */
    h = search(db, query, MN_SEARCH_AUTO, 1);
    ck_assert_str_eq(h->items[0]->id, target);
    mn_memories_free(h);
    /* Keyword mode alone finds it first too, and similarity still is the cosine. */
    h = search(db, "ORD-99812", MN_SEARCH_KEYWORD, 10);
    ck_assert_str_eq(h->items[0]->id, target);
    ck_assert_int_eq(h->items[0]->vector_rank, 0);
    ck_assert(isfinite(h->items[0]->similarity));
    mn_memories_free(h);
    mn_close(db);
}
END_TEST

START_TEST(index_follows_writes)
{
    const char *url;
    mn_db *db = fresh(_i, &url);
    if (!db)
        return;
    const char *id = add(db, "the lighthouse keeper fed the albatross");
    ck_assert(found_by_word(db, "albatross", id));
    ck_assert(found_by_word(db, "ALBATROSS!", id)); /* case and punctuation do not matter */
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT,
                            .text = "the lighthouse keeper fed the pelican"};
    TH_OK(db, mn_memory_update(db, &sys, id, &ch, NULL));
    ck_assert(!found_by_word(db, "albatross", id));
    ck_assert(found_by_word(db, "pelican", id));
    TH_OK(db, mn_memory_delete(db, &sys, id, MN_DELETE_SOFT));
    ck_assert(!found_by_word(db, "pelican", id));
    TH_OK(db, mn_memory_restore(db, &sys, id));
    ck_assert(found_by_word(db, "pelican", id));
    TH_OK(db, mn_memory_delete(db, &sys, id, MN_DELETE_HARD));
    ck_assert(!found_by_word(db, "pelican", id));
    /* Another tenant's memory with the same word is never found. */
    th_tenant(db, "globex");
    th_identity(db, "globex", "bot");
    mn_actor g = TH_ACTOR(.tenant = "globex");
    th_add(db, &g, "bot", "globex keeps a pelican too");
    mn_memories *l = search(db, "pelican", MN_SEARCH_KEYWORD, 100);
    ck_assert_uint_eq(l->count, 0);
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

/* The best keyword matches are another tenant's and deleted ones: the results are the
 * tenant's visible matches all the same, as many as asked for, best first, and a smaller k
 * gives the first of them. */
START_TEST(hidden_best_matches_leave_no_gap)
{
    const char *url;
    mn_db *db = fresh(_i, &url);
    if (!db)
        return;
    th_tenant(db, "globex");
    th_identity(db, "globex", "bot");
    mn_actor g = TH_ACTOR(.tenant = "globex");
    for (int k = 0; k < 8; k++)
        th_add(db, &g, "bot", th_fmt("heron heron %d", k));
    for (int k = 0; k < 8; k++)
        TH_OK(db, mn_memory_delete(db, &sys, add(db, th_fmt("heron heron deleted %d", k)),
                                   MN_DELETE_SOFT));
    for (int k = 0; k < 5; k++)
        add(db, th_fmt("a grey heron stood in the reeds by the river, day %d", k));
    mn_memories *all = search(db, "heron", MN_SEARCH_KEYWORD, 5);
    ck_assert_uint_eq(all->count, 5);
    for (size_t i = 0; i < all->count; i++) {
        ck_assert_msg(strstr(all->items[i]->text, "grey heron"), "found \"%s\"",
                      all->items[i]->text);
        ck_assert_int_gt(all->items[i]->keyword_rank, 0);
        ck_assert(i == 0 || all->items[i]->keyword_score <= all->items[i - 1]->keyword_score);
    }
    mn_memories *first = search(db, "heron", MN_SEARCH_KEYWORD, 3);
    ck_assert_uint_eq(first->count, 3);
    for (size_t i = 0; i < first->count; i++)
        ck_assert_str_eq(first->items[i]->id, all->items[i]->id);
    mn_memories_free(first);
    mn_memories_free(all);
    mn_close(db);
}
END_TEST

/* A database made before the keyword index: its memories are indexed by the migration. */
START_TEST(migration_indexes_existing_rows)
{
    const char *url;
    mn_db *db = fresh(_i, &url);
    if (!db)
        return;
    const char *id = add(db, "an old memory about the zeppelin");
    mn_close(db);
    int sqlite = _i == 0;
    /* The migrations after it go too: the store's digest, the keyword counts' (SQLite), the
     * webhooks', the public feed's (its tombstone trigger reads the session), then the
     * sessions. */
    static const char *const undo_digest[] = {
        "DROP TRIGGER memories_digest_delete", "DROP TRIGGER memories_digest_update",
        "DROP TABLE memory_digest", "ALTER TABLE memories DROP COLUMN digest" };
    static const char *const undo_digest_pg[] = {
        "DROP TRIGGER memories_digest_insert ON memories",
        "DROP TRIGGER memories_digest_delete ON memories",
        "DROP TRIGGER memories_digest_update ON memories", "DROP FUNCTION mn_digest()",
        "DROP TABLE memory_digest", "DROP FUNCTION mn_digest_term(bigint, bigint)" };
    size_t nundo = sqlite ? sizeof undo_digest / sizeof *undo_digest
                          : sizeof undo_digest_pg / sizeof *undo_digest_pg;
    for (size_t i = 0; i < nundo; i++)
        th_raw_exec(url, sqlite ? undo_digest[i] : undo_digest_pg[i], NULL, NULL);
    th_raw_exec(url, "DROP TABLE webhook_deliveries", NULL, NULL);
    th_raw_exec(url, "DROP TABLE webhooks", NULL, NULL);
    if (sqlite) {
        th_raw_exec(url, "DROP TRIGGER memories_tombstone", NULL, NULL);
        th_raw_exec(url, "DROP TABLE memory_tombstones", NULL, NULL);
        th_raw_exec(url, "CREATE TABLE memory_tombstones (tenant_id TEXT NOT NULL, "
                    "key INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tenant_id, key)) "
                    "WITHOUT ROWID", NULL, NULL);
        th_raw_exec(url, "CREATE INDEX memory_tombstones_by_seq ON memory_tombstones "
                    "(tenant_id, seq)", NULL, NULL);
        th_raw_exec(url, "CREATE TRIGGER memories_tombstone AFTER DELETE ON memories BEGIN "
                    "INSERT OR REPLACE INTO memory_tombstones (tenant_id, key, seq) VALUES "
                    "(old.tenant_id, old.key, (SELECT value FROM meta WHERE key = 'seq')); END",
                    NULL, NULL);
    } else {
        th_raw_exec(url, "ALTER TABLE memory_tombstones DROP COLUMN memory_id, "
                    "DROP COLUMN identity_id, DROP COLUMN type, DROP COLUMN session, "
                    "DROP COLUMN version", NULL, NULL);
    }
    th_raw_exec(url, "ALTER TABLE memories DROP COLUMN restored", NULL, NULL);
    th_raw_exec(url, "DROP INDEX memories_by_session", NULL, NULL);
    th_raw_exec(url, "ALTER TABLE memories DROP COLUMN session", NULL, NULL);
    /* (021_keyword_docs_drop.sql dropped 018_keyword_docs.sql's table.) */
    /* (017_keyword_batch.sql dropped the insert trigger: the writer indexes new rows.) */
    th_raw_exec(url, sqlite ? "DROP TRIGGER memory_fts_delete" : "SELECT 1", NULL, NULL);
    th_raw_exec(url, sqlite ? "DROP TRIGGER memory_fts_update" : "SELECT 1", NULL, NULL);
    th_raw_exec(url, sqlite ? "DROP TABLE memory_fts" : "ALTER TABLE memories DROP COLUMN fts",
                NULL, NULL);
    th_raw_exec(url, sqlite ? "DROP VIEW memory_words" : "SELECT 1", NULL, NULL);
    th_raw_exec(url, "ALTER TABLE memories DROP COLUMN words", NULL, NULL);
    th_raw_exec(url, sqlite ? "PRAGMA user_version = 11"
                            : "DELETE FROM schema_migrations WHERE version >= 15", NULL, NULL);
    db = open_url(url, NULL, MN_OPEN_MIGRATE);
    ck_assert(found_by_word(db, "zeppelin", id));
    /* And what the migrated database adds next. */
    const char *later = add(db, "a newer memory about the dirigible");
    ck_assert(found_by_word(db, "dirigible", later));
    mn_close(db);
}
END_TEST

/* A batch add indexes every row it writes, each under its own words and only once: rows
 * from one batch, a batch that also updates a stored memory by its key (the new text found,
 * the old one not), in a plain and in an encrypted database (where the index holds blind
 * words). */
/* Row k's own word, of letters only (the vocab embedder ignores words with digits). */
static const char *row_word(int k)
{
    return th_fmt("word%c%c", 'a' + k / 26, 'a' + k % 26);
}

static void batch_rows_found_one_by_one(int i, int encrypted)
{
    const char *url = th_store_url(i);
    if (!url)
        return;
    const char *key = NULL;
    if (encrypted) {
        key = th_tmppath(th_fmt("hybrid-batch-%d.key", i));
        ck_assert_int_eq(mn_master_key_create(key), MN_OK);
    }
    mn_db *db = open_url(url, key, encrypted ? MN_OPEN_ENCRYPT : 0);
    th_tenant(db, "acme");
    th_identity(db, "acme", "bot");
    const char *kept = add(db, "a stored note about the quokka");
    mn_memory_input in[40];
    char texts[40][64];
    for (int k = 0; k < 40; k++) {
        in[k] = (mn_memory_input)MN_MEMORY_INPUT_INIT;
        in[k].identity = "bot";
        snprintf(texts[k], sizeof texts[k], "batch row %s of the ingest", row_word(k));
        in[k].text = texts[k];
    }
    in[7].external_key = "pinned";
    char **ids = NULL;
    TH_OK(db, mn_memory_add_many(db, &sys, in, 40, &ids, NULL));
    for (int k = 0; k < 40; k++) {
        mn_memories *l = search(db, row_word(k), MN_SEARCH_KEYWORD, 100);
        ck_assert_msg(l->count == 1, "row %d: %zu hits", k, l->count);
        ck_assert_str_eq(l->items[0]->id, ids[k]);
        mn_memories_free(l);
    }
    /* 40 hits for a word of every row: each row indexed once. */
    mn_memories *all = search(db, "ingest", MN_SEARCH_KEYWORD, 100);
    ck_assert_uint_eq(all->count, 40);
    mn_memories_free(all);
    ck_assert(found_by_word(db, "quokka", kept));

    /* The next batch: one row updates the pinned memory (its key), one is new. */
    mn_memory_input next[2] = {MN_MEMORY_INPUT_INIT, MN_MEMORY_INPUT_INIT};
    next[0].identity = next[1].identity = "bot";
    next[0].external_key = "pinned";
    next[0].text = "the pinned row now speaks of a wombat";
    next[1].text = "a second batch about the numbat";
    char **ids2 = NULL;
    TH_OK(db, mn_memory_add_many(db, &sys, next, 2, &ids2, NULL));
    ck_assert_str_eq(ids2[0], ids[7]);
    ck_assert(found_by_word(db, "wombat", ids[7]));
    ck_assert(found_by_word(db, "numbat", ids2[1]));
    ck_assert(!found_by_word(db, row_word(7), ids[7]));
    mn_strings_free(ids, 40);
    mn_strings_free(ids2, 2);
    mn_close(db);
}

START_TEST(batch_add_indexes_each_row)
{
    batch_rows_found_one_by_one(_i, 0);
}
END_TEST

START_TEST(encrypted_batch_add_indexes_each_row)
{
    batch_rows_found_one_by_one(_i, 1);
}
END_TEST

START_TEST(encrypted_index_holds_no_words)
{
    const char *url = th_store_url(_i);
    if (!url)
        return;
    const char *key = th_tmppath(th_fmt("hybrid-%d.key", _i));
    ck_assert_int_eq(mn_master_key_create(key), MN_OK);
    mn_db *db = open_url(url, key, MN_OPEN_ENCRYPT);
    th_tenant(db, "acme");
    th_identity(db, "acme", "bot");
    const char *id = add(db, "the vault code is quetzalcoatl");
    add(db, "nothing to see here");
    ck_assert(found_by_word(db, "Quetzalcoatl", id));
    mn_memories *l = search(db, "quetzalcoatl vault", MN_SEARCH_HYBRID, 1);
    ck_assert_str_eq(l->items[0]->id, id);
    ck_assert_str_eq(l->items[0]->text, "the vault code is quetzalcoatl");
    mn_memories_free(l);
    /* Read past the library: the index's words are 16 letters a..p each, none of the text. */
    const char *words = th_raw_query(url, "SELECT words FROM memories WHERE id = $1", id, NULL);
    ck_assert_ptr_nonnull(words);
    ck_assert_msg(!strstr(words, "quetzalcoatl") && !strstr(words, "vault"), "%s", words);
    ck_assert_uint_eq(strlen(words), 5 * 16 + 4);
    ck_assert_uint_eq(strspn(words, "abcdefghijklmnop "), strlen(words));
    const char *hits = _i == 0
        ? th_raw_query(url, "SELECT count(*) FROM memory_fts WHERE memory_fts MATCH $1",
                       "quetzalcoatl", NULL)
        : th_raw_query(url, "SELECT count(*) FROM memories WHERE fts @@ "
                       "to_tsquery('simple', $1)", "quetzalcoatl", NULL);
    ck_assert_str_eq(hits, "0");
    /* An update re-blinds the new words. */
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT,
                            .text = "the vault code is now xiuhcoatl"};
    TH_OK(db, mn_memory_update(db, &sys, id, &ch, NULL));
    ck_assert(found_by_word(db, "xiuhcoatl", id));
    ck_assert(!found_by_word(db, "quetzalcoatl", id));
    /* A re-key blinds the words under the new data key: they change, and still match. */
    words = th_raw_query(url, "SELECT words FROM memories WHERE id = $1", id, NULL);
    int done = 0;
    for (int steps = 0; !done && steps < 10; steps++)
        TH_OK(db, mn_tenant_rekey(db, "acme", 100, &done));
    ck_assert(done);
    const char *rekeyed = th_raw_query(url, "SELECT words FROM memories WHERE id = $1", id, NULL);
    ck_assert_str_ne(words, rekeyed);
    ck_assert(found_by_word(db, "xiuhcoatl", id));
    mn_close(db);
}
END_TEST

START_TEST(bad_options)
{
    const char *url;
    mn_db *db = fresh(_i, &url);
    if (!db)
        return;
    add(db, "some memory");
    float vec[DIM] = {1};
    struct {
        mn_search_options so;
        const char *msg;
    } bad[] = {
        {{.version = MN_SEARCH_OPTIONS_VERSION, .query = "x", .mode = 7}, "mode is 7; give"},
        {{.version = MN_SEARCH_OPTIONS_VERSION, .vector = vec, .dim = DIM,
          .mode = MN_SEARCH_KEYWORD}, "a keyword search looks for the words of a query text"},
        {{.version = MN_SEARCH_OPTIONS_VERSION, .vector = vec, .dim = DIM,
          .mode = MN_SEARCH_HYBRID}, "give query, or mode MN_SEARCH_VECTOR"},
        {{.version = MN_SEARCH_OPTIONS_VERSION, .query = "x", .vector_weight = -1},
         "vector_weight is -1; give a weight from 0"},
        {{.version = MN_SEARCH_OPTIONS_VERSION, .query = "x", .keyword_weight = NAN},
         "keyword_weight is nan"},
        {{.version = MN_SEARCH_OPTIONS_VERSION, .query = "x", .rrf_k = 10001},
         "rrf_k is 10001; give 1..10000 (0 = 60)"},
        {{.version = MN_SEARCH_OPTIONS_VERSION, .query = "x", .flags = 0x10},
         "flags have unknown bits 0x10"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mn_memories *l = NULL;
        TH_RC(db, mn_memory_search(db, &sys, &bad[i].so, &l), MN_EINVAL);
        ck_assert_msg(strstr(mn_errmsg(db), bad[i].msg), "%zu: %s", i, mn_errmsg(db));
        ck_assert_ptr_null(l);
    }
    /* A search by vector alone is a vector search, whatever the handle's default. */
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .vector = vec, .dim = DIM};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &sys, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_int_eq(l->items[0]->vector_rank, 1);
    mn_memories_free(l);
    mn_close(db);
    /* The handle's default is checked at open. */
    mn_config cfg = TH_CONFIG(.embedder_plugin = &vocab_embedder, .search_mode = 4);
    mn_db *bad_db = NULL;
    ck_assert_int_eq(mn_open(&bad_db, url, &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(bad_db), "mn_config.search_mode is 4"), "%s",
                  mn_errmsg(bad_db));
    mn_close(bad_db);
}
END_TEST

/* Weights move the fusion: with one ranking weighted next to nothing the other's order wins
 * (no word here is rare: each is held by more than 3 memories). */
START_TEST(weights_and_rrf_k)
{
    const char *url;
    mn_db *db = fresh(_i, &url);
    if (!db)
        return;
    /* Twelve memories, each text its own (an add that repeats a text adds nothing), none of
     * the query's words rare. */
    for (int k = 0; k < 6; k++) {
        add(db, th_fmt("customer order shipping status %s, case %d", k % 2 ? "late" : "early",
                       k));
        add(db, th_fmt("parcel warehouse %s %s, case %d", k % 3 ? "order" : "box",
                       k % 2 ? "late" : "", k));
    }
    for (int heavy = 0; heavy < 2; heavy++) {
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION,
                                .query = "late parcel order", .k = 20, .rrf_k = 1,
                                .mode = MN_SEARCH_HYBRID};
        if (heavy)
            so.keyword_weight = 1e-6;
        else
            so.vector_weight = 1e-6;
        double wv = heavy ? 1.0 : 1e-6, wk = heavy ? 1e-6 : 1.0;
        mn_memories *l = NULL;
        TH_OK(db, mn_memory_search(db, &sys, &so, &l));
        for (size_t i = 0; i < l->count; i++) {
            const mn_memory *m = l->items[i];
            double want = (m->vector_rank ? wv / (1 + m->vector_rank) : 0) +
                          (m->keyword_rank ? wk / (1 + m->keyword_rank) : 0);
            ck_assert_double_eq_tol(m->fused_score, want, 1e-12);
            /* The heavy ranking's order holds among the hits it found. */
            for (size_t j = 0; j < i; j++) {
                int a = heavy ? l->items[j]->vector_rank : l->items[j]->keyword_rank;
                int b = heavy ? m->vector_rank : m->keyword_rank;
                ck_assert(!a || !b || a <= b); /* equal scores share a rank */
            }
        }
        mn_memories_free(l);
    }
    mn_close(db);
}
END_TEST

/* The hits a store's keyword search gives, in order. */
struct hits {
    size_t n;
    int64_t key[16];
    float score[16];
};

/* Keeps the first 16 hits, counts them all. */
static void keep_hit(void *ctx, int64_t key, float score)
{
    struct hits *h = ctx;
    if (h->n < 16) {
        h->key[h->n] = key;
        h->score[h->n] = score;
    }
    h->n++;
}

static struct hits keyword_hits_of(mn_db *db, const char *tid, const char *const *words,
                                   size_t n, size_t want, unsigned flags)
{
    struct hits h = {0};
    struct mni_store_query q = {.now = 1};
    ck_assert_int_eq(db->store->ops->memory_keyword_search(db->store, tid, &q, words, n, flags,
                                                           want, keep_hit, &h), MN_OK);
    return h;
}

static struct hits keyword_hits(mn_db *db, const char *tid, const char *word, size_t want,
                                unsigned flags)
{
    const char *words[] = {word};
    return keyword_hits_of(db, tid, words, 1, want, flags);
}

static const char *tenant_id(mn_db *db)
{
    mn_tenant *t = NULL;
    TH_OK(db, mn_tenant_get(db, "acme", &t));
    const char *tid = th_fmt("%s", t->id);
    mn_tenant_free(t);
    return tid;
}

/* A store's keyword ranking, asked for the best two with their ties, also gives every match
 * tied with the second: a keyword search then knows that whatever it was not given scores
 * lower, and settles a tie at its cut without asking again for four times as many. Without,
 * it gives two, the tie going to the older memory. */
START_TEST(keyword_ranking_gives_its_ties)
{
    const char *url;
    mn_db *db = fresh(_i, &url);
    if (!db)
        return;
    const char *tid = tenant_id(db);
    add(db, "kiwi kiwi berry");
    add(db, "kiwi apple");
    add(db, "kiwi pear");
    add(db, "kiwi plum");
    add(db, "kiwi fig grape lime melon");
    struct hits all = keyword_hits(db, tid, "kiwi", 16, 0);
    ck_assert_uint_eq(all.n, 5);
    size_t tied = 0; /* the matches scoring at least as much as the second */
    while (tied < all.n && all.score[tied] >= all.score[1])
        tied++;
    ck_assert_msg(tied > 2, "the second best should tie with the third: scores %g %g %g",
                  all.score[0], all.score[1], all.score[2]);
    struct hits two = keyword_hits(db, tid, "kiwi", 2, MNI_KEYWORDS_TIES);
    ck_assert_uint_eq(two.n, tied);
    for (size_t i = 0; i < two.n; i++)
        ck_assert_float_eq(two.score[i], all.score[i]);
    two = keyword_hits(db, tid, "kiwi", 2, 0);
    ck_assert_uint_eq(two.n, 2);
    ck_assert(two.key[0] == all.key[0] && two.key[1] == all.key[1]);
    mn_close(db);
}
END_TEST

/* The keyword ranking's work is bounded (store/keywords.h): with a word in every memory, more
 * of them than the bound, and a rare one in the oldest, the rare one's memory still comes
 * first in keyword and hybrid mode; and a ranking for the common word alone, every match
 * tied (the same length, the same count), gives no more than the bound of them: it read no
 * more candidates than that, where unbounded it would have given every one. */
START_TEST(keyword_ranking_is_bounded)
{
    const char *url;
    mn_db *db = fresh(_i, &url);
    if (!db)
        return;
    const char *tid = tenant_id(db);
    enum { N = MNI_KEYWORD_CANDIDATES + 100, BATCH = 100 };
    const char *rare = add(db, "common ord4711 parcel");
    for (int b = 0; b < N / BATCH; b++) {
        mn_memory_input in[BATCH];
        for (int i = 0; i < BATCH; i++) {
            mn_memory_input one = TH_IN(.identity = "bot",
                                        .text = th_fmt("common filler%d", b * BATCH + i));
            in[i] = one;
        }
        TH_OK(db, mn_memory_add_many(db, &sys, in, BATCH, NULL, NULL));
    }
    for (int mode = MN_SEARCH_KEYWORD; mode <= MN_SEARCH_HYBRID; mode++) {
        mn_memories *l = search(db, "common ord4711", mode, 3);
        ck_assert_uint_ge(l->count, 1);
        ck_assert_str_eq(l->items[0]->id, rare);
        mn_memories_free(l);
    }
    struct hits tied = keyword_hits(db, tid, "common", 2, MNI_KEYWORDS_TIES);
    ck_assert_uint_gt(tied.n, 2);
    ck_assert_uint_le(tied.n, MNI_KEYWORD_CANDIDATES);
    ck_assert_float_eq(tied.score[2], tied.score[1]);
    /* A common word beside a rare one: the rare one alone finds. */
    const char *both[] = {"common", "ord4711"};
    struct hits h = keyword_hits_of(db, tid, both, 2, 2, 0);
    ck_assert_uint_eq(h.n, 1);
    /* Not the words' order, their rarity, picks them. */
    const char *both_rev[] = {"ord4711", "common"};
    ck_assert_uint_eq(keyword_hits_of(db, tid, both_rev, 2, 2, 0).n, 1);
    mn_close(db);
}
END_TEST

/* FTS5's own bm25 of the memory key for the FTS5 query match (SQLite). */
static double fts5_bm25(const char *url, const char *match, int64_t key)
{
    const char *v = th_raw_query(url, "SELECT -bm25(memory_fts) FROM memory_fts WHERE memory_fts "
                                      "MATCH $1 AND rowid = CAST($2 AS INTEGER)",
                                 match, th_fmt("%lld", (long long)key));
    ck_assert_ptr_nonnull(v);
    return atof(v);
}

/* SQLite's keyword score (sqlite/rank.c) is FTS5's bm25 with each word's count given: the same
 * when every count is below the ranking's bound, and past it, from a count estimated by the
 * keys the bounded count walked, within a percent (the word here spread evenly). */
START_TEST(keyword_score_is_bm25)
{
    const char *url;
    mn_db *db = _i == 0 ? fresh(_i, &url) : NULL; /* PostgreSQL ranks by ts_rank */
    if (!db)
        return;
    const char *tid = tenant_id(db);
    enum { N = 4 * (MNI_KEYWORD_CANDIDATES + 100), BATCH = 100 };
    add(db, "quarter rareword rareword and a few more words");
    for (int b = 0; b < N / BATCH; b++) {
        mn_memory_input in[BATCH];
        for (int i = 0; i < BATCH; i++) {
            int n = b * BATCH + i;
            mn_memory_input one = TH_IN(.identity = "bot",
                                        .text = th_fmt(n % 4 ? "filler%d other words" :
                                                       "quarter filler%d", n));
            in[i] = one;
        }
        TH_OK(db, mn_memory_add_many(db, &sys, in, BATCH, NULL, NULL));
    }
    add(db, "rareword");
    add(db, "rareword five six seven eight nine ten eleven twelve");
    const char *exact[] = {"rareword", "seven"};
    struct hits h = keyword_hits_of(db, tid, exact, 2, 10, 0);
    ck_assert_uint_eq(h.n, 3);
    for (size_t i = 0; i < h.n; i++) {
        double want = fts5_bm25(url, "\"seven\" OR \"rareword\"", h.key[i]);
        ck_assert_double_eq_tol(h.score[i], want, 1e-6 * want);
    }
    const char *estimated[] = {"rareword", "quarter"};
    h = keyword_hits_of(db, tid, estimated, 2, 10, 0);
    ck_assert_uint_eq(h.n, 3);
    for (size_t i = 0; i < h.n; i++) {
        double want = fts5_bm25(url, "(\"rareword\") AND (\"rareword\" OR \"quarter\")",
                                h.key[i]);
        ck_assert_double_eq_tol(h.score[i], want, 1e-2 * want);
    }
    mn_close(db);
}
END_TEST

static double searches_counted(mn_db *db)
{
    char *text = NULL;
    TH_OK(db, mn_metrics_write(db, MN_METRICS_PROMETHEUS, &text));
    double n = 0;
    for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, "manushya_searches_total{", 24) == 0)
            n += strtod(strchr(p, ' ') + 1, NULL);
    mn_free(text);
    return n;
}

/* Two memories tie for the last place of a page (k = 2): both are read with the candidates
 * before them, and the first candidate below the tie shows that nothing else can enter the
 * page, so the search ranks once, not again four times as deep. */
START_TEST(tie_at_the_cut_settled_at_once)
{
    const char *url;
    mn_db *db = fresh(_i, &url);
    if (!db)
        return;
    const char *best = add(db, "alpha");
    const char *tied[2] = {add(db, "alpha beta"), add(db, "alpha gamma")};
    add(db, "alpha delta epsilon");
    add(db, "alpha zeta theta");
    double before = searches_counted(db);
    mn_memories *l = search(db, "alpha", MN_SEARCH_VECTOR, 2);
    ck_assert_double_eq(searches_counted(db) - before, 1);
    ck_assert_uint_eq(l->count, 2);
    ck_assert_str_eq(l->items[0]->id, best);
    /* Of the two at one similarity, the smaller id. */
    ck_assert_str_eq(l->items[1]->id, strcmp(tied[0], tied[1]) < 0 ? tied[0] : tied[1]);
    ck_assert_double_eq_tol(l->items[1]->similarity, sqrt(0.5), 1e-6);
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

int main(void)
{
    mn_global_init();
    th_init();
    Suite *s = suite_create("search_hybrid");
    TCase *tc = tcase_create("hybrid");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, rare_token_first_in_hybrid, 0, TH_NSTORES);
    tcase_add_loop_test(tc, index_follows_writes, 0, TH_NSTORES);
    tcase_add_loop_test(tc, hidden_best_matches_leave_no_gap, 0, TH_NSTORES);
    tcase_add_loop_test(tc, migration_indexes_existing_rows, 0, TH_NSTORES);
    tcase_add_loop_test(tc, encrypted_index_holds_no_words, 0, TH_NSTORES);
    tcase_add_loop_test(tc, batch_add_indexes_each_row, 0, TH_NSTORES);
    tcase_add_loop_test(tc, encrypted_batch_add_indexes_each_row, 0, TH_NSTORES);
    tcase_add_loop_test(tc, bad_options, 0, TH_NSTORES);
    tcase_add_loop_test(tc, weights_and_rrf_k, 0, TH_NSTORES);
    tcase_add_loop_test(tc, keyword_ranking_gives_its_ties, 0, TH_NSTORES);
    tcase_add_loop_test(tc, tie_at_the_cut_settled_at_once, 0, TH_NSTORES);
    tcase_add_loop_test(tc, keyword_ranking_is_bounded, 0, TH_NSTORES);
    tcase_add_loop_test(tc, keyword_score_is_bm25, 0, TH_NSTORES);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
