/*
 * Bring your own embedder: a plug-in (mn_embedder) in this program, counting its calls, serves
 * add, add_many, update, search, mn_embed, the embedding jobs (worker threads included) and the
 * embedding cache; its failures and bad vectors are MN_EBACKEND naming it and change nothing.
 * The "external" embedder embeds nothing and refuses every call that would need it. A database
 * records the embedder and model of its vectors and refuses handles that would mix others in.
 * All on real SQLite files.
 */
#include "support/harness.h"

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIM 16

/* ---- the plug-in ---------------------------------------------------------------------------- */

enum fault { FAULT_NONE, FAULT_FAIL, FAULT_NAN, FAULT_ZERO };

struct counter {
    int fault;
    int calls, texts, destroyed; /* atomics */
    int off_main;                /* calls made by a thread other than the test's */
    pthread_t main;
    char last[256];              /* the last text embedded (single-threaded cases) */
};

/* Each word adds 1 to the bucket its bytes hash to: texts sharing words are near. */
static void words_vector(const char *text, float *out)
{
    memset(out, 0, DIM * sizeof *out);
    unsigned h = 2166136261u;
    int in_word = 0;
    for (const char *p = text;; p++) {
        int word_char = *p && *p != ' ';
        if (word_char) {
            h = (h ^ (unsigned char)*p) * 16777619u;
            in_word = 1;
        } else if (in_word) {
            out[h % DIM] += 1.0f;
            h = 2166136261u;
            in_word = 0;
        }
        if (!*p)
            break;
    }
}

static int plugin_embed(void *ctx, const char *const *texts, size_t n, float *out, char *errbuf,
                        size_t errlen)
{
    struct counter *c = ctx;
    __atomic_fetch_add(&c->calls, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&c->texts, (int)n, __ATOMIC_SEQ_CST);
    if (!pthread_equal(pthread_self(), c->main))
        __atomic_store_n(&c->off_main, 1, __ATOMIC_SEQ_CST);
    if (c->fault == FAULT_FAIL) {
        snprintf(errbuf, errlen, "model file is missing");
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        words_vector(texts[i], out + i * DIM);
        snprintf(c->last, sizeof c->last, "%s", texts[i]);
        if (c->fault == FAULT_NAN)
            out[i * DIM + 3] = NAN;
        if (c->fault == FAULT_ZERO)
            memset(out + i * DIM, 0, DIM * sizeof *out);
    }
    return 0;
}

static void plugin_destroy(void *ctx)
{
    struct counter *c = ctx;
    c->destroyed++;
}

static mn_embedder plugin(struct counter *c, const char *model)
{
    memset(c, 0, sizeof *c);
    c->main = pthread_self();
    mn_embedder e;
    ck_assert_int_eq(mn_embedder_init(&e, MN_EMBEDDER_VERSION), MN_OK);
    e.name = "words";
    e.model = model;
    e.dim = DIM;
    e.ctx = c;
    e.embed = plugin_embed;
    e.destroy = plugin_destroy;
    return e;
}

static mn_db *open_plugin(const char *url, const mn_embedder *e)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION};
    cfg.embedder_plugin = e;
    return th_open(url, &cfg);
}

/* The unit vector the plug-in makes for text. */
static void expected(const char *text, float *out)
{
    words_vector(text, out);
    double n = th_norm(out, DIM);
    for (int i = 0; i < DIM; i++)
        out[i] = (float)(out[i] / n);
}

static void assert_vector_of(mn_db *db, const mn_actor *a, const char *id, const char *text)
{
    float want[DIM];
    expected(text, want);
    mn_memory *m = th_get(db, a, id, MN_WITH_EMBEDDING);
    ck_assert_int_eq(m->dim, DIM);
    ck_assert_msg(th_dot(m->embedding, want, DIM) > 0.9999, "the vector of %s is not the "
                  "plug-in's for \"%s\"", id, text);
    mn_memory_free(m);
}

static const char *sqlite_setting(const char *url, const char *sql)
{
    sqlite3 *raw;
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_open(url + strlen("sqlite:"), &raw), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(raw, sql, -1, &st, NULL), SQLITE_OK);
    const char *v = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = th_fmt("%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return v;
}

/* A tenant "acme" with an identity "agent" to act as. */
static mn_actor acme(mn_db *db)
{
    th_tenant(db, "acme");
    th_identity(db, "acme", "agent");
    return (mn_actor){.version = MN_ACTOR_VERSION, .tenant = "acme", .identity = "agent"};
}

/* ---- the plug-in serves every call ---------------------------------------------------------- */

START_TEST(test_plugin_serves_every_call)
{
    struct counter c;
    mn_embedder e = plugin(&c, "words-v1");
    const char *url = th_sqlite_url();
    mn_db *db = open_plugin(url, &e);
    ck_assert_int_eq(mn_embed_dim(db), DIM);
    mn_actor a = acme(db);

    const char *id = th_add(db, &a, NULL, "the cat sat on the mat");
    ck_assert_int_eq(c.calls, 1);
    ck_assert_str_eq(c.last, "the cat sat on the mat");
    assert_vector_of(db, &a, id, "the cat sat on the mat");

    /* add_many: the texts go in one call */
    mn_memory_input in[3] = {{.version = MN_MEMORY_INPUT_VERSION,
                              .importance = MN_IMPORTANCE_DEFAULT,
                              .text = "dogs bark loudly"}, {.version = MN_MEMORY_INPUT_VERSION,
                              .importance = MN_IMPORTANCE_DEFAULT, .text = "birds sing"},
                             {.version = MN_MEMORY_INPUT_VERSION,
                              .importance = MN_IMPORTANCE_DEFAULT, .text = "fish swim"}};
    char **ids = NULL;
    TH_OK(db, mn_memory_add_many(db, &a, in, 3, &ids, NULL));
    ck_assert_int_eq(c.calls, 2);
    ck_assert_int_eq(c.texts, 4);
    assert_vector_of(db, &a, ids[1], "birds sing");

    /* a text update without a vector is embedded by the plug-in */
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT,
                            .text = "the dog sat on the rug"};
    TH_OK(db, mn_memory_update(db, &a, id, &ch, NULL));
    ck_assert_int_eq(c.calls, 3);
    assert_vector_of(db, &a, id, "the dog sat on the rug");

    /* search by query text: the plug-in embeds the query, and ranks by its vectors */
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "sing birds", .k = 2}; /* the same words, not cached */
    mn_memories *hits = NULL;
    TH_OK(db, mn_memory_search(db, &a, &so, &hits));
    ck_assert_int_eq(c.calls, 4);
    ck_assert_uint_ge(hits->count, 1);
    ck_assert_str_eq(hits->items[0]->id, ids[1]);
    ck_assert_msg(hits->items[0]->similarity > 0.999, "%f", hits->items[0]->similarity);
    mn_memories_free(hits);
    mn_strings_free(ids, 3);

    /* mn_embed too */
    float v[DIM], want[DIM];
    TH_OK(db, mn_embed(db, "fish swim", v, DIM));
    expected("fish swim", want);
    ck_assert(th_dot(v, want, DIM) > 0.9999);

    mn_embed_stats st = MN_EMBED_STATS_INIT;
    TH_OK(db, mn_embed_stats_get(db, &st));
    ck_assert_str_eq(st.embedder, "words");
    ck_assert_str_eq(st.model, "words-v1");
    ck_assert_int_eq(st.dim, DIM);
    ck_assert_int_eq(st.cached, 1);
    ck_assert_uint_eq(st.texts, (uint64_t)c.texts);
    ck_assert_uint_eq(st.requests, (uint64_t)c.calls);
    ck_assert_uint_eq(st.max_batch, 3);

    /* mn_close, and only it, hands ctx back through destroy */
    ck_assert_int_eq(c.destroyed, 0);
    mn_close(db);
    ck_assert_int_eq(c.destroyed, 1);
    /* the database records where its vectors come from */
    ck_assert_str_eq(sqlite_setting(url, "SELECT value FROM meta WHERE key = 'embedder'"),
                     "words");
    ck_assert_str_eq(sqlite_setting(url, "SELECT value FROM meta WHERE key = 'embed_model'"),
                     "words-v1");
}
END_TEST

START_TEST(test_plugin_cache_by_model)
{
    struct counter c;
    mn_embedder e = plugin(&c, "words-v1");
    const char *url = th_sqlite_url();
    mn_db *db = open_plugin(url, &e);
    mn_actor a = acme(db);
    th_add(db, &a, NULL, "remember the milk");
    ck_assert_int_eq(c.calls, 1);
    /* the same text again, in an add (of another type: not the same memory) and in a search:
     * from the cache, the plug-in not asked */
    mn_memory_input note = TH_IN(.text = "remember the milk", .type = "note");
    th_add_in(db, &a, &note);
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "remember the milk",
                            .k = 5};
    mn_memories *hits = NULL;
    TH_OK(db, mn_memory_search(db, &a, &so, &hits));
    ck_assert_uint_eq(hits->count, 2);
    mn_memories_free(hits);
    ck_assert_int_eq(c.calls, 1);
    mn_embed_stats st = MN_EMBED_STATS_INIT;
    TH_OK(db, mn_embed_stats_get(db, &st));
    ck_assert_uint_eq(st.cache_hits, 2);
    ck_assert_uint_eq(st.cache_misses, 1);
    mn_close(db);
    /* kept under the plug-in's model, and still there for the next handle */
    ck_assert_str_eq(sqlite_setting(url, "SELECT group_concat(DISTINCT model) FROM embed_cache"),
                     "words-v1");
    db = open_plugin(url, &e);
    th_add(db, &a, NULL, "remember the milk");
    ck_assert_int_eq(c.calls, 1);
    mn_close(db);
}
END_TEST

START_TEST(test_plugin_jobs)
{
    struct counter c;
    mn_embedder e = plugin(&c, "words-v1");
    mn_config cfg = {.version = MN_CONFIG_VERSION};
    cfg.embedder_plugin = &e;
    cfg.embed_async = 1;
    mn_db *db = th_open(th_sqlite_url(), &cfg);
    mn_actor a = acme(db);
    const char *id = th_add(db, &a, NULL, "a job for the plug-in");
    ck_assert_int_eq(c.calls, 0);
    size_t done = 0, failed = 0;
    TH_OK(db, mn_job_run(db, 0, &done, &failed));
    ck_assert_uint_eq(done, 1);
    ck_assert_int_eq(c.calls, 1);
    assert_vector_of(db, &a, id, "a job for the plug-in");
    mn_close(db);

    /* the worker threads call it too, from threads of their own */
    cfg.embed_workers = 2;
    cfg.embed_poll_ms = 10;
    db = th_open(th_sqlite_url(), &cfg);
    acme(db);
    const char *ids[8];
    for (int i = 0; i < 8; i++)
        ids[i] = th_add(db, &a, NULL, th_fmt("worker text %d", i));
    for (int waited = 0; waited < 10000; waited += 10) {
        mn_jobs *jobs = NULL;
        TH_OK(db, mn_job_list(db, &a, -1, 0, &jobs));
        size_t left = jobs->count;
        mn_jobs_free(jobs);
        if (!left)
            break;
        usleep(10000);
    }
    for (int i = 0; i < 8; i++)
        assert_vector_of(db, &a, ids[i], th_fmt("worker text %d", i));
    ck_assert_int_eq(c.off_main, 1);
    mn_close(db);
}
END_TEST

/* ---- the plug-in's failures ------------------------------------------------------------------ */

START_TEST(test_plugin_failures)
{
    struct counter c;
    mn_embedder e = plugin(&c, "words-v1");
    mn_db *db = open_plugin(th_sqlite_url(), &e);
    mn_actor a = acme(db);
    const char *id = th_add(db, &a, NULL, "kept as it is");
    th_state before, after;
    th_state_get(db, &before);
    /* An all-zero vector is refused as from every embedder: MN_EINVAL naming it; a query of
     * one finds nothing. */
    static const struct { int fault; int rc; const char *names, *says; } cases[] = {
        {FAULT_FAIL, MN_EBACKEND, "plug-in \"words\"", "model file is missing"},
        {FAULT_NAN, MN_EBACKEND, "plug-in \"words\"", "non-finite"},
        {FAULT_ZERO, MN_EINVAL, "words embedder (model words-v1)", "all-zero"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c.fault = cases[i].fault;
        mn_memory_input in = TH_IN(.text = th_fmt("new text %zu", i));
        TH_RC(db, mn_memory_add(db, &a, &in, NULL), cases[i].rc);
        ck_assert_msg(strstr(mn_errmsg(db), cases[i].names) &&
                      strstr(mn_errmsg(db), cases[i].says), "%s", mn_errmsg(db));
        mn_memory_changes ch = th_changes_of(&in);
        TH_RC(db, mn_memory_update(db, &a, id, &ch, NULL), cases[i].rc);
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = in.text, .k = 1};
        mn_memories *hits = NULL;
        if (cases[i].rc == MN_EINVAL) {
            TH_OK(db, mn_memory_search(db, &a, &so, &hits));
            ck_assert_uint_eq(hits->count, 0);
            mn_memories_free(hits);
        } else {
            TH_RC(db, mn_memory_search(db, &a, &so, &hits), cases[i].rc);
            ck_assert_ptr_null(hits);
        }
    }
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "failed plug-in calls");
    assert_vector_of(db, &a, id, "kept as it is");
    mn_close(db);
}
END_TEST

START_TEST(test_plugin_refused)
{
    struct counter c;
    mn_embedder e = plugin(&c, "words-v1");
    mn_config cfg = {.version = MN_CONFIG_VERSION};
    mn_db *db = NULL;
    /* the versioned struct */
    mn_embedder z;
    memset(&z, 0xab, sizeof z);
    TH_RC(NULL, mn_embedder_init(&z, 0), MN_EINVAL);
    TH_OK(NULL, mn_embedder_init(&z, MN_EMBEDDER_VERSION));
    ck_assert_uint_eq(z.version, MN_EMBEDDER_VERSION);
    ck_assert_ptr_null(z.embed);
    ck_assert_ptr_null(z.name);

    static const struct { const char *what, *says; } cases[] = {
        {"version 0", "version is 0"},
        {"no embed", "no embed function"},
        {"dim 0", "dim 0"},
        {"no model", "mn_embedder.model"},
        {"both", "both embedder"},
        {"embed_dim", "embed_dim is 8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mn_embedder bad = e;
        cfg = (mn_config){.version = MN_CONFIG_VERSION};
        if (i == 0)
            bad.version = 0;
        if (i == 1)
            bad.embed = NULL;
        if (i == 2)
            bad.dim = 0;
        if (i == 3)
            bad.model = NULL;
        if (i == 4)
            cfg.embedder = "local";
        if (i == 5)
            cfg.embed_dim = 8;
        cfg.embedder_plugin = &bad;
        const char *url = th_sqlite_url();
        TH_RC(db, mn_open(&db, url, &cfg), MN_EINVAL);
        ck_assert_msg(strstr(mn_errmsg(db), cases[i].says), "%s: %s", cases[i].what,
                      mn_errmsg(db));
        mn_close(db);
        ck_assert_msg(!th_file_exists(url + strlen("sqlite:")), "%s: a file was made",
                      cases[i].what);
    }
    /* a failed open leaves ctx the caller's: destroy was never called */
    ck_assert_int_eq(c.destroyed, 0);
}
END_TEST

/* ---- external: the library embeds nothing ------------------------------------------------ */

static mn_db *open_external(const char *url, int dim)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION};
    cfg.embedder = "external";
    cfg.embed_dim = dim;
    return th_open(url, &cfg);
}

START_TEST(test_external_refuses_embedding)
{
    const char *url = th_sqlite_url();
    mn_db *db = open_external(url, DIM);
    ck_assert_int_eq(mn_embed_dim(db), DIM);
    mn_actor a = acme(db);
    float v[DIM], w[DIM];
    words_vector("caller vector", v);
    words_vector("another caller vector", w);
    mn_memory_input in = TH_IN(.text = "with a vector", .embedding = v, .dim = DIM);
    const char *id = th_add_in(db, &a, &in);

    th_state before, after;
    th_state_get(db, &before);
    mn_memory_input bare = TH_IN(.text = "no vector");
    TH_RC(db, mn_memory_add(db, &a, &bare, NULL), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "embeds nothing") && strstr(mn_errmsg(db), "external"),
                  "%s", mn_errmsg(db));
    mn_memory_input two[2] = {in, bare};
    size_t failed_index = 0;
    TH_RC(db, mn_memory_add_many(db, &a, two, 2, NULL, &failed_index), MN_EINVAL);
    ck_assert_uint_eq(failed_index, 1);
    ck_assert_msg(strstr(mn_errmsg(db), "memory 1: a memory without an embedding"), "%s",
                  mn_errmsg(db));
    mn_memory_changes bare_ch = th_changes_of(&bare);
    TH_RC(db, mn_memory_update(db, &a, id, &bare_ch, NULL), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "embeds nothing"), "%s", mn_errmsg(db));
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "with a vector", .k = 1};
    mn_memories *hits = NULL;
    TH_RC(db, mn_memory_search(db, &a, &so, &hits), MN_EINVAL);
    TH_RC(db, mn_embed(db, "text", v, DIM), MN_EINVAL);
    size_t done = 0, failed = 0;
    TH_RC(db, mn_job_run(db, 0, &done, &failed), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "embeds nothing"), "%s", mn_errmsg(db));
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "calls an external handle refused");

    /* a text update that brings its own vector keeps that vector */
    words_vector("caller vector", v);
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT | MN_MEMORY_SET_EMBEDDING,
                            .text = "a new text", .embedding = w, .dim = DIM};
    TH_OK(db, mn_memory_update(db, &a, id, &ch, NULL));
    mn_memory *m = th_get(db, &a, id, MN_WITH_EMBEDDING);
    ck_assert_str_eq(m->text, "a new text");
    ck_assert(th_dot(m->embedding, w, DIM) / th_norm(w, DIM) > 0.9999);
    mn_memory_free(m);
    /* search by vector works */
    so = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION, .vector = w, .dim = DIM, .k = 1};
    TH_OK(db, mn_memory_search(db, &a, &so, &hits));
    ck_assert_uint_eq(hits->count, 1);
    ck_assert_str_eq(hits->items[0]->id, id);
    mn_memories_free(hits);
    mn_embed_stats st = MN_EMBED_STATS_INIT;
    TH_OK(db, mn_embed_stats_get(db, &st));
    ck_assert_str_eq(st.embedder, "external");
    mn_close(db);

    /* asynchronous embedding needs an embedder */
    mn_config cfg = {.version = MN_CONFIG_VERSION};
    cfg.embedder = "external";
    cfg.embed_async = 1;
    TH_RC(db, mn_open(&db, url, &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "embed_async") && strstr(mn_errmsg(db), "embeds nothing"),
                  "%s", mn_errmsg(db));
    mn_close(db);
    cfg.embed_async = 0;
    cfg.embed_workers = 1;
    TH_RC(db, mn_open(&db, url, &cfg), MN_EINVAL);
    mn_close(db);
}
END_TEST

/* ---- no silent mixing ---------------------------------------------------------------------- */

START_TEST(test_mixing_refused)
{
    struct counter c;
    mn_embedder e = plugin(&c, "words-v1");
    mn_db *db = NULL;
    mn_config cfg = {.version = MN_CONFIG_VERSION};

    /* a local database: not opened by the plug-in, whose vectors live elsewhere: neither when
     * the dimensions differ, nor when they are the same */
    cfg.embedder_plugin = &e;
    const char *local_url = th_sqlite_url();
    mn_close(th_open(local_url, NULL));
    TH_RC(db, mn_open(&db, local_url, &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "384-dimensional") && strstr(mn_errmsg(db), "\"words\""),
                  "%s", mn_errmsg(db));
    mn_close(db);
    local_url = th_sqlite_url();
    mn_config local = {.version = MN_CONFIG_VERSION};
    local.embed_dim = DIM;
    db = th_open(local_url, &local);
    mn_actor a = acme(db);
    const char *id = th_add(db, &a, NULL, "a local vector");
    mn_close(db);
    TH_RC(db, mn_open(&db, local_url, &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "\"local\"") && strstr(mn_errmsg(db), "\"words\""),
                  "%s", mn_errmsg(db));
    mn_close(db);
    ck_assert_int_eq(c.calls, 0);

    /* external opens it, and may not re-embed a text: the caller brings the vector */
    db = open_external(local_url, 0);
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT,
                            .text = "changed"};
    TH_RC(db, mn_memory_update(db, &a, id, &ch, NULL), MN_EINVAL);
    mn_close(db);

    /* a plug-in database: not opened with another model of the same plug-in, nor by local */
    const char *url = th_sqlite_url();
    mn_close(open_plugin(url, &e));
    mn_embedder v2 = e;
    v2.model = "words-v2";
    cfg.embedder_plugin = &v2;
    TH_RC(db, mn_open(&db, url, &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "words-v1") && strstr(mn_errmsg(db), "words-v2"), "%s",
                  mn_errmsg(db));
    mn_close(db);
    TH_RC(db, mn_open(&db, url, NULL), MN_EINVAL);
    mn_close(db);

    /* a database made before the model was recorded: "local" is recorded by its first open */
    sqlite3 *raw;
    ck_assert_int_eq(sqlite3_open(local_url + strlen("sqlite:"), &raw), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(raw, "DELETE FROM meta WHERE key = 'embed_model'", NULL, NULL,
                                  NULL), SQLITE_OK);
    sqlite3_close(raw);
    mn_close(th_open(local_url, NULL));
    ck_assert_str_eq(sqlite_setting(local_url,
                                    "SELECT value FROM meta WHERE key = 'embed_model'"), "local");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("embed_plugin");
    TCase *tc = tcase_create("plugin");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_plugin_serves_every_call);
    tcase_add_test(tc, test_plugin_cache_by_model);
    tcase_add_test(tc, test_plugin_jobs);
    tcase_add_test(tc, test_plugin_failures);
    tcase_add_test(tc, test_plugin_refused);
    tcase_add_test(tc, test_external_refuses_embedding);
    tcase_add_test(tc, test_mixing_refused);
    suite_add_tcase(s, tc);
    return th_run(s);
}
