/*
 * The openai embedder against a real HTTP server on loopback (tests/support/embed_server.py):
 * batching and concurrency, every fault mode (429 + Retry-After, 500, 400, truncated body, wrong
 * dimension, out-of-order indices, wrong count, non-finite values, values so small their squares
 * underflow, a hang past the timeout, a server that is down), the retries each causes (counted
 * by the server), and the messages.
 * Then the same embedder behind a handle: dimension checks at open, the embedding cache (hits
 * skip the server), and failed embeddings that store nothing.
 */
#include "support/embed_server.h"
#include "support/harness.h"

#include "embed/embedder.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIM 8

static struct es_server srv;

static void setup(void)
{
    es_start(&srv, DIM);
}

static void teardown(void)
{
    es_stop(&srv);
}

/* An instance for the test server with quick retries (10 ms base backoff). */
static mni_embedder *make(struct mni_embedder_config cfg)
{
    if (!cfg.url)
        cfg.url = srv.url;
    if (!cfg.dim)
        cfg.dim = DIM;
    if (!cfg.backoff_ms)
        cfg.backoff_ms = 10;
    cfg.model = cfg.model ? cfg.model : "test-model";
    mni_embedder *e = NULL;
    char err[512] = "";
    int rc = mni_embedder_openai.create(&cfg, &e, err, sizeof err);
    ck_assert_msg(rc == MN_OK, "create: %d %s", rc, err);
    return e;
}

/* Embeds n texts "text N"; returns the rc, vectors in out, message in err. */
static int embed_n(mni_embedder *e, size_t n, float *out, char *err, size_t errlen)
{
    const char **texts = malloc(n * sizeof *texts);
    size_t *lens = malloc(n * sizeof *lens);
    char (*buf)[32] = malloc(n * sizeof *buf);
    for (size_t i = 0; i < n; i++) {
        snprintf(buf[i], sizeof buf[i], "text %zu", i);
        texts[i] = buf[i];
        lens[i] = strlen(buf[i]);
    }
    int rc = mni_embedder_openai.embed(e, texts, lens, n, out, err, errlen);
    free(texts);
    free(lens);
    free(buf);
    return rc;
}

static void assert_unit(const float *v)
{
    double s = 0;
    for (int i = 0; i < DIM; i++)
        s += (double)v[i] * v[i];
    ck_assert_msg(fabs(s - 1) < 1e-5, "norm^2 %g", s);
}

START_TEST(test_batches_and_inflight)
{
    mni_embedder *e = make((struct mni_embedder_config){0});
    float out[250 * DIM], one[DIM];
    char err[512];
    ck_assert_int_eq(embed_n(e, 250, out, err, sizeof err), MN_OK);
    ck_assert_int_eq(es_stat(&srv, "requests"), 3); /* 100 + 100 + 50 */
    ck_assert_int_eq(es_stat(&srv, "inputs"), 250);
    struct mni_embedder_stats st;
    mni_embedder_openai.stats(e, &st);
    ck_assert_uint_eq(st.max_batch, 100);
    ck_assert_uint_eq(st.requests, 3);
    ck_assert_uint_eq(st.texts, 250);
    ck_assert_uint_le(st.max_inflight, 4);
    /* Each vector is the text's own: the same as embedding it alone. */
    for (size_t i = 0; i < 250; i += 37) {
        char t[32];
        snprintf(t, sizeof t, "text %zu", i);
        const char *tp = t;
        size_t len = strlen(t);
        ck_assert_int_eq(mni_embedder_openai.embed(e, &tp, &len, 1, one, err, sizeof err), MN_OK);
        ck_assert_mem_eq(one, out + i * DIM, sizeof one);
        assert_unit(one);
    }
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_four_in_flight)
{
    /* Eight one-text batches against a slow server: four at a time, never more. */
    mni_embedder *e = make((struct mni_embedder_config){.batch = 1});
    es_mode(&srv, "slow", -1, 0.3, 0);
    float out[8 * DIM];
    char err[512];
    double t0 = th_seconds();
    ck_assert_int_eq(embed_n(e, 8, out, err, sizeof err), MN_OK);
    double took = th_seconds() - t0;
    struct mni_embedder_stats st;
    mni_embedder_openai.stats(e, &st);
    ck_assert_uint_eq(st.max_inflight, 4);
    ck_assert_uint_eq(st.requests, 8);
    /* In flight together: two rounds of 0.3 s, not eight. */
    ck_assert_msg(took < 2.0, "took %.2f s", took);
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_out_of_order)
{
    mni_embedder *e = make((struct mni_embedder_config){0});
    float a[20 * DIM], b[20 * DIM];
    char err[512];
    ck_assert_int_eq(embed_n(e, 20, a, err, sizeof err), MN_OK);
    es_mode(&srv, "out_of_order", 1, 0, 0);
    ck_assert_int_eq(embed_n(e, 20, b, err, sizeof err), MN_OK);
    ck_assert_mem_eq(a, b, sizeof a);
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_429_retry_after)
{
    mni_embedder *e = make((struct mni_embedder_config){0});
    es_mode(&srv, "429", 1, 0, 1);
    float out[3 * DIM];
    char err[512];
    double t0 = th_seconds();
    ck_assert_int_eq(embed_n(e, 3, out, err, sizeof err), MN_OK);
    /* The backoff alone would be ~10 ms: the wait is the server's Retry-After (1 s). */
    ck_assert_msg(th_seconds() - t0 >= 0.95, "retried after %.3f s", th_seconds() - t0);
    ck_assert_int_eq(es_stat(&srv, "requests"), 2);
    struct mni_embedder_stats st;
    mni_embedder_openai.stats(e, &st);
    ck_assert_uint_eq(st.retries, 1);
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_500_recovers)
{
    mni_embedder *e = make((struct mni_embedder_config){0});
    es_mode(&srv, "500", 2, 0, 0);
    float out[3 * DIM];
    char err[512];
    ck_assert_int_eq(embed_n(e, 3, out, err, sizeof err), MN_OK);
    ck_assert_int_eq(es_stat(&srv, "requests"), 3);
    assert_unit(out);
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_500_gives_up)
{
    mni_embedder *e = make((struct mni_embedder_config){0});
    es_mode(&srv, "500", -1, 0, 0);
    float out[3 * DIM];
    char err[512];
    ck_assert_int_eq(embed_n(e, 3, out, err, sizeof err), MN_EBACKEND);
    ck_assert_int_eq(es_stat(&srv, "requests"), 4); /* 1 + 3 retries */
    ck_assert_msg(strstr(err, "HTTP 500") && strstr(err, "the model crashed") &&
                  strstr(err, "gave up after 4 attempts") && strstr(err, "test-model"),
                  "message: %s", err);
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_400_not_retried)
{
    mni_embedder *e = make((struct mni_embedder_config){0});
    es_mode(&srv, "400", -1, 0, 0);
    float out[DIM];
    char err[512];
    ck_assert_int_eq(embed_n(e, 1, out, err, sizeof err), MN_EBACKEND);
    ck_assert_int_eq(es_stat(&srv, "requests"), 1);
    ck_assert_msg(strstr(err, "HTTP 400") && strstr(err, "maximum context length"),
                  "message: %s", err);
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_truncated)
{
    mni_embedder *e = make((struct mni_embedder_config){0});
    float out[4 * DIM];
    char err[512];
    es_mode(&srv, "truncated", 1, 0, 0);
    ck_assert_int_eq(embed_n(e, 4, out, err, sizeof err), MN_OK); /* retried once */
    ck_assert_int_eq(es_stat(&srv, "requests"), 2);
    es_mode(&srv, "truncated", -1, 0, 0);
    ck_assert_int_eq(embed_n(e, 4, out, err, sizeof err), MN_EBACKEND);
    ck_assert_int_eq(es_stat(&srv, "requests"), 6);
    ck_assert_msg(strstr(err, "gave up after 4 attempts"), "message: %s", err);
    mni_embedder_openai.destroy(e);
}
END_TEST

/* Answers that fail the checks: one request, no retry, a message naming what was wrong. */
static void check_bad_answer(const char *mode, const char *words)
{
    mni_embedder *e = make((struct mni_embedder_config){0});
    es_mode(&srv, mode, -1, 0, 0);
    float out[2 * DIM];
    char err[512];
    ck_assert_int_eq(embed_n(e, 2, out, err, sizeof err), MN_EBACKEND);
    ck_assert_int_eq(es_stat(&srv, "requests"), 1);
    ck_assert_msg(th_has_word(err, words), "%s: message: %s", mode, err);
    mni_embedder_openai.destroy(e);
}

START_TEST(test_wrong_dim)
{
    check_bad_answer("wrong_dim", "7 dimensions");
}
END_TEST

START_TEST(test_bad_count)
{
    check_bad_answer("bad_count", "1 embeddings for 2 inputs");
}
END_TEST

START_TEST(test_nonfinite)
{
    check_bad_answer("nonfinite", "not a finite number");
}
END_TEST

/* Values so small that float32 squares underflow still make unit vectors, not inf or NaN. */
START_TEST(test_tiny_values)
{
    mni_embedder *e = make((struct mni_embedder_config){0});
    es_mode(&srv, "tiny", -1, 0, 0);
    float out[3 * DIM];
    char err[512] = "";
    ck_assert_msg(embed_n(e, 3, out, err, sizeof err) == MN_OK, "%s", err);
    for (int i = 0; i < 3; i++)
        assert_unit(out + i * DIM);
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_hang_timeout)
{
    mni_embedder *e = make((struct mni_embedder_config){.timeout_ms = 300, .retries = 1});
    es_mode(&srv, "hang", -1, 3, 0);
    float out[DIM];
    char err[512];
    double t0 = th_seconds();
    ck_assert_int_eq(embed_n(e, 1, out, err, sizeof err), MN_EBACKEND);
    ck_assert_msg(th_seconds() - t0 < 2.5, "gave up after %.2f s", th_seconds() - t0);
    ck_assert_int_eq(es_stat(&srv, "requests"), 2);
    ck_assert_msg(strstr(err, "no complete answer within 300 ms") &&
                  strstr(err, "gave up after 2 attempts"), "message: %s", err);
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_server_down)
{
    int port = srv.port;
    es_stop(&srv);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", port);
    mni_embedder *e = make((struct mni_embedder_config){.url = url});
    float out[DIM];
    char err[512];
    ck_assert_int_eq(embed_n(e, 1, out, err, sizeof err), MN_EBACKEND);
    ck_assert_msg(th_has_word(err, "connect") && strstr(err, url), "message: %s", err);
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_config_errors)
{
    mni_embedder *e = (mni_embedder *)&e;
    char err[512];
    struct mni_embedder_config bad_url = {.url = "ftp://127.0.0.1/v1"};
    ck_assert_int_eq(mni_embedder_openai.create(&bad_url, &e, err, sizeof err), MN_EINVAL);
    ck_assert_ptr_null(e);
    ck_assert_msg(strstr(err, "http://"), "message: %s", err);
    struct mni_embedder_config bad_dim = {.url = srv.url, .dim = -4};
    ck_assert_int_eq(mni_embedder_openai.create(&bad_dim, &e, err, sizeof err), MN_ERANGE);
    /* A key that would break the header is refused, and never shown. */
    struct mni_embedder_config bad_key = {.url = srv.url, .api_key = "sk-SECRET\r\nX-Evil: 1"};
    ck_assert_int_eq(mni_embedder_openai.create(&bad_key, &e, err, sizeof err), MN_EINVAL);
    ck_assert_msg(!strstr(err, "SECRET"), "message shows the key: %s", err);
    /* A URL with a password is not shown in messages either. */
    char url[96];
    snprintf(url, sizeof url, "http://user:hunter2@127.0.0.1:%d/v1", srv.port);
    e = make((struct mni_embedder_config){.url = url, .api_key = "sk-SECRET"});
    es_mode(&srv, "400", -1, 0, 0);
    float out[DIM];
    ck_assert_int_eq(embed_n(e, 1, out, err, sizeof err), MN_EBACKEND);
    ck_assert_msg(!strstr(err, "hunter2") && !strstr(err, "SECRET"), "message: %s", err);
    mni_embedder_openai.destroy(e);
}
END_TEST

START_TEST(test_empty_text)
{
    mni_embedder *e = make((struct mni_embedder_config){0});
    const char *texts[] = {"", "hello"};
    size_t lens[] = {0, 5};
    float out[2 * DIM];
    char err[512];
    ck_assert_int_eq(mni_embedder_openai.embed(e, texts, lens, 2, out, err, sizeof err), MN_OK);
    for (int i = 0; i < DIM; i++)
        ck_assert(out[i] == 0);
    assert_unit(out + DIM);
    ck_assert_int_eq(es_stat(&srv, "inputs"), 1);
    mni_embedder_openai.destroy(e);
}
END_TEST

/* ---- behind a handle ---------------------------------------------------------------------- */
static mn_db *open_openai(const char *url, int dim, int cache)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION,
                     .embedder = "openai",
                     .embed_url = srv.url,
                     .embed_model = "test-model",
                     .embed_dim = dim,
                     .embed_cache = cache};
    return th_open(url, &cfg);
}

/* The cache of a database of dim dimensions: a hit is the vector the server gave, and skips
 * it; a new handle finds the cache; turned off, every text goes to the server. */
static void handle_cache(int dim)
{
    const char *url = th_sqlite_url();
    mn_db *db = open_openai(url, dim, MN_EMBED_CACHE_AUTO);
    ck_assert_int_eq(mn_embed_dim(db), dim);
    size_t size = (size_t)dim * sizeof(float);
    float *a = th_keep(malloc(size)), *b = th_keep(malloc(size));
    TH_OK(db, mn_embed(db, "the cat sat", a, dim));
    TH_OK(db, mn_embed(db, "the cat sat", b, dim));
    ck_assert_mem_eq(a, b, size);
    ck_assert_int_eq(es_stat(&srv, "requests"), 1); /* the second came from the cache */
    mn_embed_stats st = MN_EMBED_STATS_INIT;
    TH_OK(db, mn_embed_stats_get(db, &st));
    ck_assert_str_eq(st.embedder, "openai");
    ck_assert_str_eq(st.model, "test-model");
    ck_assert_int_eq(st.cached, 1);
    ck_assert_uint_eq(st.cache_hits, 1);
    ck_assert_uint_eq(st.cache_misses, 1);
    mn_close(db);
    /* The cache is in the store: a new handle finds it. */
    db = open_openai(url, dim, MN_EMBED_CACHE_AUTO);
    ck_assert_int_eq(mn_embed_dim(db), dim);
    TH_OK(db, mn_embed(db, "the cat sat", b, dim));
    ck_assert_mem_eq(a, b, size);
    ck_assert_int_eq(es_stat(&srv, "requests"), 1);
    mn_close(db);
    /* Turned off, every text goes to the server. */
    db = open_openai(url, dim, MN_EMBED_CACHE_OFF);
    TH_OK(db, mn_embed(db, "the cat sat", b, dim));
    ck_assert_int_eq(es_stat(&srv, "requests"), 2);
    mn_close(db);
}

START_TEST(test_handle_cache)
{
    handle_cache(DIM);
}
END_TEST

/* At text-embedding-3-large's 3072 dimensions (asked of the server as "dimensions"). */
START_TEST(test_handle_cache_wide)
{
    handle_cache(3072);
}
END_TEST

/* A text repeated within one call is sent once, and every copy gets its vector. */
START_TEST(test_handle_cache_repeats)
{
    mn_db *db = open_openai(th_sqlite_url(), DIM, MN_EMBED_CACHE_AUTO);
    const char *texts[] = {"x marks", "y marks", "x marks", "x marks", "y marks", "z marks"};
    enum { N = sizeof texts / sizeof *texts };
    float v[N][DIM], one[DIM];
    TH_OK(db, mn_embed(db, "z marks", one, DIM)); /* z comes from the cache */
    TH_OK(db, mn_embed_many(db, texts, N, &v[0][0], DIM));
    ck_assert_int_eq(es_stat(&srv, "requests"), 2);
    ck_assert_int_eq(es_stat(&srv, "inputs"), 3); /* z, then x and y once each */
    ck_assert_mem_eq(v[0], v[2], sizeof v[0]);
    ck_assert_mem_eq(v[0], v[3], sizeof v[0]);
    ck_assert_mem_eq(v[1], v[4], sizeof v[1]);
    ck_assert_mem_eq(v[5], one, sizeof one);
    ck_assert(memcmp(v[0], v[1], sizeof v[0]) != 0);
    mn_embed_stats st = MN_EMBED_STATS_INIT;
    TH_OK(db, mn_embed_stats_get(db, &st));
    ck_assert_uint_eq(st.cache_misses, 3); /* z, x, y: what was embedded */
    ck_assert_uint_eq(st.cache_hits, 4);   /* z from the cache, x twice and y once repeated */
    /* The cache holds each once: a new call sends nothing. */
    TH_OK(db, mn_embed_many(db, texts, N, &v[0][0], DIM));
    ck_assert_int_eq(es_stat(&srv, "requests"), 2);
    mn_close(db);
}
END_TEST

START_TEST(test_handle_memories)
{
    mn_db *db = open_openai(th_sqlite_url(), DIM, MN_EMBED_CACHE_AUTO);
    th_tenant(db, "t");
    th_identity(db, "t", "agent");
    mn_actor actor = TH_ACTOR(.tenant = "t", .identity = "agent");
    const char *id = th_add(db, &actor, NULL, "the cat sat on the mat");
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION, .query = "the cat sat on the mat", .k = 1};
    mn_memories *hits = NULL;
    TH_OK(db, mn_memory_search(db, &actor, &so, &hits));
    ck_assert_uint_eq(hits->count, 1);
    ck_assert_str_eq(hits->items[0]->id, id);
    ck_assert_msg(hits->items[0]->similarity > 0.999, "%g", hits->items[0]->similarity);
    mn_memories_free(hits);
    ck_assert_int_eq(es_stat(&srv, "requests"), 1); /* the query hit the cache */
    /* A failing server: the add fails with the server's message and stores nothing. */
    th_state before, after;
    th_state_get(db, &before);
    es_mode(&srv, "400", -1, 0, 0);
    mn_memory_input in = TH_IN(.text = "a new text");
    TH_RC(db, mn_memory_add(db, &actor, &in, NULL), MN_EBACKEND);
    ck_assert_msg(strstr(mn_errmsg(db), "HTTP 400"), "%s", mn_errmsg(db));
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "a failed embedding");
    mn_close(db);
}
END_TEST

/* A batch search sends its query texts to the server in one request, and answers each search
 * as mn_memory_search does. */
START_TEST(test_handle_search_many_one_request)
{
    mn_db *db = open_openai(th_sqlite_url(), DIM, MN_EMBED_CACHE_OFF);
    th_tenant(db, "t");
    th_identity(db, "t", "agent");
    mn_actor actor = TH_ACTOR(.tenant = "t", .identity = "agent");
    const char *texts[] = {"the cat sat on the mat", "a dog in the fog", "rain on the plain",
                           "a mouse in the house"};
    const char *ids[4];
    for (int i = 0; i < 4; i++)
        ids[i] = th_add(db, &actor, NULL, texts[i]);
    mn_search_options so[4];
    for (int i = 0; i < 4; i++)
        so[i] = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION, .query = texts[i],
                                    .k = 1, .mode = MN_SEARCH_VECTOR};
    long before = es_stat(&srv, "requests");
    mn_memories **hits = NULL;
    TH_OK(db, mn_memory_search_many(db, &actor, so, 4, &hits));
    ck_assert_int_eq(es_stat(&srv, "requests") - before, 1);
    for (int i = 0; i < 4; i++) {
        ck_assert_uint_eq(hits[i]->count, 1);
        ck_assert_str_eq(hits[i]->items[0]->id, ids[i]);
    }
    mn_memories_free_many(hits, 4);
    mn_close(db);
}
END_TEST

/* A server answering an all-zero vector: refused, naming the embedder and the model, and not
 * cached (the next call asks the server again); the add stores nothing. A query it answers
 * zeros for finds nothing. */
START_TEST(test_handle_zero_vector)
{
    mn_db *db = open_openai(th_sqlite_url(), DIM, MN_EMBED_CACHE_AUTO);
    th_tenant(db, "t");
    th_identity(db, "t", "agent");
    mn_actor actor = {.version = MN_ACTOR_VERSION, .tenant = "t", .identity = "agent"};
    th_state before, after;
    th_state_get(db, &before);
    es_mode(&srv, "zero", 1, 0, 0);
    mn_memory_input in = TH_IN(.text = "a text the server gets wrong");
    TH_RC(db, mn_memory_add(db, &actor, &in, NULL), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "openai embedder (model test-model)") &&
                  strstr(mn_errmsg(db), "all-zero") &&
                  strstr(mn_errmsg(db), "a text the server gets wrong"), "%s", mn_errmsg(db));
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "an all-zero vector");
    th_add(db, &actor, NULL, "a text the server gets wrong");
    ck_assert_int_eq(es_stat(&srv, "requests"), 2);
    /* A query embedded to zeros has nothing to search for: no failure, no hits. */
    es_mode(&srv, "zero", 1, 0, 0);
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "another query", .k = 1};
    mn_memories *hits = NULL;
    TH_OK(db, mn_memory_search(db, &actor, &so, &hits));
    ck_assert_ptr_nonnull(hits);
    ck_assert_uint_eq(hits->count, 0);
    mn_memories_free(hits);
    mn_close(db);
}
END_TEST

START_TEST(test_handle_dims)
{
    /* text-embedding-3-small's 1536 by default. */
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embedder = "openai", .embed_url = srv.url};
    mn_db *db = th_open(th_sqlite_url(), &cfg);
    ck_assert_int_eq(mn_embed_dim(db), 1536);
    mn_close(db);
    /* A database of another dimension is a clear error, not an adaptation. */
    const char *url = th_sqlite_url();
    mn_close(open_openai(url, DIM, MN_EMBED_CACHE_AUTO));
    cfg.embed_dim = 16;
    db = NULL;
    TH_RC(db, mn_open(&db, url, &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "8-dimensional") && strstr(mn_errmsg(db), "16"),
                  "%s", mn_errmsg(db));
    mn_close(db);
    /* Nor with another model of the same embedder: its vectors would not compare. */
    cfg.embed_dim = DIM;
    cfg.embed_model = "another-model";
    TH_RC(db, mn_open(&db, url, &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "\"test-model\"") &&
                  strstr(mn_errmsg(db), "\"another-model\""), "%s", mn_errmsg(db));
    mn_close(db);
    cfg.embed_model = NULL;
    /* A database made with the local embedder is not opened with another. */
    url = th_sqlite_url();
    mn_close(th_open(url, NULL));
    cfg.embed_dim = 0;
    TH_RC(db, mn_open(&db, url, &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "local"), "%s", mn_errmsg(db));
    mn_close(db);
    /* An unknown embedder names the ones there are. */
    cfg.embedder = "word2vec";
    TH_RC(db, mn_open(&db, th_sqlite_url(), &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "openai"), "%s", mn_errmsg(db));
    mn_close(db);
}
END_TEST

static Suite *embed_http_suite(void)
{
    Suite *s = suite_create("embed_http");
    TCase *tc = tcase_create("openai");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_batches_and_inflight);
    tcase_add_test(tc, test_four_in_flight);
    tcase_add_test(tc, test_out_of_order);
    tcase_add_test(tc, test_429_retry_after);
    tcase_add_test(tc, test_500_recovers);
    tcase_add_test(tc, test_500_gives_up);
    tcase_add_test(tc, test_400_not_retried);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_wrong_dim);
    tcase_add_test(tc, test_bad_count);
    tcase_add_test(tc, test_nonfinite);
    tcase_add_test(tc, test_tiny_values);
    tcase_add_test(tc, test_hang_timeout);
    tcase_add_test(tc, test_server_down);
    tcase_add_test(tc, test_config_errors);
    tcase_add_test(tc, test_empty_text);
    tcase_add_test(tc, test_handle_cache);
    tcase_add_test(tc, test_handle_cache_wide);
    tcase_add_test(tc, test_handle_cache_repeats);
    tcase_add_test(tc, test_handle_memories);
    tcase_add_test(tc, test_handle_search_many_one_request);
    tcase_add_test(tc, test_handle_zero_vector);
    tcase_add_test(tc, test_handle_dims);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(embed_http_suite());
}
