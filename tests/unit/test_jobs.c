/*
 * Asynchronous embedding against a real embeddings server on loopback
 * (tests/support/embed_server.py): an add returns before the server answers and the memory is
 * pending, then done and searchable; failures retry with backoff, then stay failed with their
 * error until retried; a job never overwrites a memory that changed since it was claimed; a
 * memory and its job commit together or not at all; the embedding cache is per tenant.
 *
 * Every case runs on each store that keeps jobs (a loop test over `stores`): SQLite, and
 * PostgreSQL on the test server (tests/servers/postgres.sh, MN_PG_URL; vector=local, a fresh
 * schema per database).
 */
#include "support/embed_server.h"
#include "support/harness.h"

#include "api/handle.h"
#include "store/store.h"

#include <check.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DIM 8

static struct es_server srv;

/* ---- the stores every case runs on -------------------------------------------------------- */

/* Makes the database at url refuse every insert or update of an embedding job. */
static const char refuse_sqlite[] =
    "CREATE TRIGGER no_jobs BEFORE INSERT ON embed_jobs "
    "BEGIN SELECT RAISE(ABORT, 'no jobs today'); END; "
    "CREATE TRIGGER no_job_updates BEFORE UPDATE ON embed_jobs "
    "BEGIN SELECT RAISE(ABORT, 'no jobs today'); END;";
static const char refuse_pg[] =
    "CREATE FUNCTION no_jobs() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'no jobs today'; END $$; "
    "CREATE TRIGGER no_jobs BEFORE INSERT OR UPDATE ON embed_jobs "
    "FOR EACH ROW EXECUTE FUNCTION no_jobs()";

static void sqlite_refuse_jobs(const char *url)
{
    sqlite3 *raw;
    ck_assert_int_eq(sqlite3_open(url + strlen("sqlite:"), &raw), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(raw, refuse_sqlite, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
}

static const char *pg_server(void)
{
    const char *u = getenv("MN_PG_URL");
    ck_assert_msg(u && *u, "MN_PG_URL is not set: run through `make check` (tests/run.sh "
                  "starts tests/servers/postgres.sh)");
    return u;
}

/* A new database: a schema no other test (or process) uses. */
static const char *pg_url(void)
{
    static unsigned n;
    return th_fmt("%s?schema=j%ld_%u_%lld&vector=local", pg_server(), (long)getpid(), n++,
                  (long long)th_now_ms() % 100000000);
}

static void pg_refuse_jobs(const char *url)
{
    const char *schema = strstr(url, "schema=") + strlen("schema=");
    PGconn *c = PQconnectdb(pg_server());
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    const char *p[] = { th_fmt("%.*s", (int)strcspn(schema, "&"), schema) };
    PGresult *r = PQexecParams(c, "SELECT set_config('search_path', $1, false)", 1, NULL, p,
                               NULL, NULL, 0);
    PQclear(r);
    r = PQexec(c, refuse_pg);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

static const struct store {
    const char *name;
    const char *(*url)(void);       /* a new, empty database */
    void (*refuse_jobs)(const char *url);
} stores[] = {
    { "sqlite", th_sqlite_url, sqlite_refuse_jobs },
    { "postgres", pg_url, pg_refuse_jobs },
};
#define NSTORES ((int)(sizeof stores / sizeof stores[0]))

/* A new database on the store of this iteration of the loop test (_i). */
#define NEW_URL() (stores[_i].url())

static void setup(void)
{
    es_start(&srv, DIM);
}

static void teardown(void)
{
    es_stop(&srv);
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A handle on the test server, embedding asynchronously with `workers` threads; one attempt
 * is one HTTP request (no retries inside it), and retries of jobs come quickly. */
static mn_db *open_async(const char *url, int workers, int max_attempts)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION,
                     .embedder = "openai",
                     .embed_url = srv.url,
                     .embed_model = "test-model",
                     .embed_dim = DIM,
                     .embed_async = 1,
                     .embed_workers = workers,
                     .embed_retries = -1,
                     .embed_retry_ms = 50,
                     .embed_poll_ms = 20,
                     .embed_max_attempts = max_attempts};
    return th_open(url, &cfg);
}

static int status_of(mn_db *db, const mn_actor *a, const char *id)
{
    mn_memory *m = th_get(db, a, id, 0);
    int st = m->embed_status;
    mn_memory_free(m);
    return st;
}

/* Waits (at most 30 s) until the memory's embedding status is want. */
static void wait_status(mn_db *db, const mn_actor *a, const char *id, int want)
{
    double until = th_seconds() + 30;
    while (status_of(db, a, id) != want && th_seconds() < until)
        nap_ms(20);
    ck_assert_int_eq(status_of(db, a, id), want);
}

/* Whether id is among the vector results at all: with a few memories, k = 100 and no
 * minimum, every memory that has a vector is a hit, whatever the query vector. */
static int search_finds(mn_db *db, const mn_actor *a, const char *id)
{
    static const float any[DIM] = {1};
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION, .vector = any, .dim = DIM, .k = 100};
    mn_memories *hits = NULL;
    TH_OK(db, mn_memory_search(db, a, &so, &hits));
    int found = 0;
    for (size_t i = 0; i < hits->count; i++)
        found |= strcmp(hits->items[i]->id, id) == 0;
    mn_memories_free(hits);
    return found;
}

static int64_t store_seq(mn_db *db)
{
    int64_t seq = 0;
    TH_OK(db, db->store->ops->seq_get(db->store, &seq));
    return seq;
}

START_TEST(test_add_returns_before_the_server)
{
    mn_db *db = open_async(NEW_URL(), 1, 3);
    th_tenant(db, "t");
    mn_actor a = TH_ACTOR(.tenant = "t", .identity = NULL);
    mn_memory_input in = TH_IN(.identity = th_identity(db, "t", "agent"), .text = "the cat sat");
    es_mode(&srv, "slow", -1, 2.0, 0);
    double t0 = th_seconds();
    mn_memory *m = NULL;
    TH_OK(db, mn_memory_add(db, &a, &in, &m));
    /* The server takes 2 s to answer anything: the add did not wait for it. */
    ck_assert_msg(th_seconds() - t0 < 1.5, "the add waited %.2f s", th_seconds() - t0);
    ck_assert_int_eq(m->embed_status, MN_EMBED_PENDING);
    ck_assert_ptr_null(m->embed_error);
    char *id = strdup(m->id);
    mn_memory_free(m);
    /* Pending: listed with its status, in no search result. */
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_list(db, &a, NULL, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_int_eq(l->items[0]->embed_status, MN_EMBED_PENDING);
    mn_memories_free(l);
    mn_jobs *jobs = NULL;
    TH_OK(db, mn_job_list(db, &a, -1, 0, &jobs));
    ck_assert_uint_eq(jobs->count, 1);
    ck_assert_str_eq(jobs->items[0]->memory_id, id);
    ck_assert_int_eq(jobs->items[0]->status, MN_EMBED_PENDING);
    mn_jobs_free(jobs);
    /* The server stays slow until here: the worker's request may reach it only now (its
     * claim is a round trip to the store), and must not be answered at once. */
    ck_assert(!search_finds(db, &a, id));
    es_mode(&srv, "ok", 0, 0, 0);
    /* Then the worker stores it, and search finds it. */
    wait_status(db, &a, id, MN_EMBED_DONE);
    ck_assert(search_finds(db, &a, id));
    ck_assert_int_eq(es_text_count(&srv, "the cat sat"), 1); /* embedded once, by the job */
    mn_memory *got = th_get(db, &a, id, MN_WITH_EMBEDDING);
    ck_assert_ptr_nonnull(got->embedding);
    ck_assert_mem_eq(got->embedding, th_embed(db, "the cat sat"), DIM * sizeof(float));
    mn_memory_free(got);
    TH_OK(db, mn_job_list(db, &a, -1, 0, &jobs));
    ck_assert_uint_eq(jobs->count, 0);
    mn_jobs_free(jobs);
    free(id);
    mn_close(db);
}
END_TEST

START_TEST(test_failures_retry_then_stay_failed)
{
    mn_db *db = open_async(NEW_URL(), 1, 3);
    th_tenant(db, "t");
    mn_actor a = TH_ACTOR(.tenant = "t", .identity = NULL);
    es_mode(&srv, "500", -1, 0, 0);
    mn_memory_input in = TH_IN(.identity = th_identity(db, "t", "agent"), .text = "doomed text");
    const char *id = th_add_in(db, &a, &in);
    wait_status(db, &a, id, MN_EMBED_FAILED);
    /* Three attempts, one request each (embed_retries -1), then it stays failed. */
    nap_ms(300);
    ck_assert_int_eq(es_stat(&srv, "requests"), 3);
    mn_memory *m = th_get(db, &a, id, 0);
    ck_assert_int_eq(m->embed_status, MN_EMBED_FAILED);
    ck_assert_msg(m->embed_error && strstr(m->embed_error, "HTTP 500"), "%s", m->embed_error);
    mn_memory_free(m);
    mn_jobs *jobs = NULL;
    TH_OK(db, mn_job_list(db, &a, MN_EMBED_FAILED, 0, &jobs));
    ck_assert_uint_eq(jobs->count, 1);
    ck_assert_int_eq(jobs->items[0]->attempts, 3);
    ck_assert_int_eq(jobs->items[0]->next_at, 0);
    ck_assert_msg(strstr(jobs->items[0]->error, "the model crashed"), "%s", jobs->items[0]->error);
    mn_jobs_free(jobs);
    ck_assert(!search_finds(db, &a, id));
    /* Retried once the server is well: done and searchable. */
    es_mode(&srv, "ok", 0, 0, 0);
    size_t n = 0;
    TH_OK(db, mn_job_retry(db, &a, NULL, &n));
    ck_assert_uint_eq(n, 1);
    wait_status(db, &a, id, MN_EMBED_DONE);
    ck_assert(search_finds(db, &a, id));
    ck_assert_int_eq(es_stat(&srv, "requests"), 4);
    /* Nothing left to retry; an id without a job is not found; bad arguments change nothing. */
    TH_OK(db, mn_job_retry(db, &a, NULL, &n));
    ck_assert_uint_eq(n, 0);
    TH_RC(db, mn_job_retry(db, &a, id, &n), MN_ENOTFOUND);
    TH_RC(db, mn_job_retry(db, &a, "not-an-id", &n), MN_EINVAL);
    TH_RC(db, mn_job_list(db, &a, 7, 0, &jobs), MN_EINVAL);
    TH_RC(db, mn_job_list(db, &a, -1, -1, &jobs), MN_EINVAL);
    mn_close(db);
}
END_TEST

/* Retries back off: a second failure waits longer than the first. */
START_TEST(test_backoff)
{
    mn_db *db = open_async(NEW_URL(), 0, 5);
    th_tenant(db, "t");
    mn_actor a = TH_ACTOR(.tenant = "t", .identity = NULL);
    es_mode(&srv, "500", -1, 0, 0);
    mn_memory_input in = TH_IN(.identity = th_identity(db, "t", "agent"), .text = "backoff");
    th_add_in(db, &a, &in);
    size_t done, failed;
    mn_jobs *jobs = NULL;
    int64_t gaps[2];
    for (int i = 0; i < 2; i++) {
        TH_OK(db, mn_job_run(db, 0, &done, &failed));
        ck_assert_uint_eq(failed, 1);
        /* The failure is the job's (in its error), not the run's, which succeeded. */
        ck_assert_int_eq(mn_errcode(db), MN_OK);
        TH_OK(db, mn_job_list(db, &a, -1, 0, &jobs));
        gaps[i] = jobs->items[0]->next_at - jobs->items[0]->updated_at;
        ck_assert_int_eq(jobs->items[0]->status, MN_EMBED_PENDING);
        mn_jobs_free(jobs);
        /* Not due yet: a run finds nothing. */
        TH_OK(db, mn_job_run(db, 0, &done, &failed));
        ck_assert_uint_eq(done + failed, 0);
        nap_ms((int)gaps[i] + 20);
    }
    /* embed_retry_ms 50, doubled, each wait drawn between half of it and all of it */
    ck_assert(gaps[0] >= 25 && gaps[0] <= 50);
    ck_assert(gaps[1] >= 50 && gaps[1] <= 100);
    mn_close(db);
}
END_TEST

/* Jobs that fail together come back spread out, not all in the same millisecond. */
START_TEST(test_backoff_spreads)
{
    mn_db *db = open_async(NEW_URL(), 0, 5);
    th_tenant(db, "t");
    mn_actor a = TH_ACTOR(.tenant = "t", .identity = NULL);
    es_mode(&srv, "500", -1, 0, 0);
    const char *owner = th_identity(db, "t", "agent");
    enum { N = 20 };
    for (int i = 0; i < N; i++) {
        mn_memory_input in = TH_IN(.identity = owner, .text = th_fmt("spread %d", i));
        th_add_in(db, &a, &in);
    }
    size_t done, failed;
    TH_OK(db, mn_job_run(db, 0, &done, &failed));
    ck_assert_uint_eq(failed, N);
    mn_jobs *jobs = NULL;
    TH_OK(db, mn_job_list(db, &a, -1, 0, &jobs));
    ck_assert_uint_eq(jobs->count, N);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < jobs->count; i++) {
        int64_t gap = jobs->items[i]->next_at - jobs->items[i]->updated_at;
        ck_assert(gap >= 25 && gap <= 50);
        lo = gap < lo ? gap : lo;
        hi = gap > hi ? gap : hi;
    }
    ck_assert_int_gt(hi, lo); /* 20 draws from 26 values: all equal by chance is 26^-19 */
    mn_jobs_free(jobs);
    mn_close(db);
}
END_TEST

/* A claimed job whose memory changed before the vector came back stores nothing stale. */
START_TEST(test_changed_memory_not_overwritten)
{
    mn_db *db = open_async(NEW_URL(), 0, 3);
    th_tenant(db, "t");
    mn_actor a = TH_ACTOR(.tenant = "t", .identity = NULL);
    const char *owner = th_identity(db, "t", "agent");
    mn_memory_input in = TH_IN(.identity = owner, .text = "old text");
    const char *id = th_add_in(db, &a, &in);
    const struct mni_store_ops *ops = db->store->ops;
    float stale[DIM] = {1};
    struct mni_embed_task *t = NULL;
    size_t n = 0, stored = 0;

    /* A new text after the claim: the old claim stores nothing, the new job does. */
    TH_OK(db, ops->embed_jobs_claim(db->store, "claim-1", th_now_ms(), 60000, 10, &t, &n));
    ck_assert_uint_eq(n, 1);
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = "new text"};
    TH_OK(db, mn_memory_update(db, &a, id, &ch, NULL));
    TH_OK(db, ops->embed_jobs_done(db->store, "claim-1", t, n, stale, th_now_ms(), &stored));
    ck_assert_uint_eq(stored, 0);
    mni_embed_tasks_free(t, n);
    ck_assert_int_eq(status_of(db, &a, id), MN_EMBED_PENDING);

    /* A change that keeps the text: the job goes back to the queue, not counted. */
    TH_OK(db, ops->embed_jobs_claim(db->store, "claim-2", th_now_ms(), 60000, 10, &t, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(t[0].text, "new text");
    mn_memory_changes meta = {.version = MN_MEMORY_CHANGES_VERSION,
                              .set = MN_MEMORY_SET_METADATA,
                              .metadata = "{\"k\": 1}"};
    TH_OK(db, mn_memory_update(db, &a, id, &meta, NULL));
    TH_OK(db, ops->embed_jobs_done(db->store, "claim-2", t, n, stale, th_now_ms(), &stored));
    ck_assert_uint_eq(stored, 0);
    mni_embed_tasks_free(t, n);
    size_t done, failed;
    TH_OK(db, mn_job_run(db, 0, &done, &failed));
    ck_assert_uint_eq(done, 1);
    mn_memory *m = th_get(db, &a, id, MN_WITH_EMBEDDING);
    ck_assert_int_eq(m->embed_status, MN_EMBED_DONE);
    ck_assert_mem_eq(m->embedding, th_embed(db, "new text"), DIM * sizeof(float));
    mn_memory_free(m);
    ck_assert_int_eq(es_text_count(&srv, "old text"), 0);

    /* A lease that ran out: another worker's claim wins, the first one's is ignored. */
    in.text = "leased";
    id = th_add_in(db, &a, &in);
    TH_OK(db, ops->embed_jobs_claim(db->store, "slow", th_now_ms(), 1, 10, &t, &n));
    ck_assert_uint_eq(n, 1);
    nap_ms(5);
    TH_OK(db, mn_job_run(db, 0, &done, &failed));
    ck_assert_uint_eq(done, 1);
    int64_t seq = store_seq(db);
    TH_OK(db, ops->embed_jobs_done(db->store, "slow", t, n, stale, th_now_ms(), &stored));
    ck_assert_uint_eq(stored, 0);
    mni_embed_tasks_free(t, n);
    m = th_get(db, &a, id, MN_WITH_EMBEDDING);
    ck_assert_mem_eq(m->embedding, th_embed(db, "leased"), DIM * sizeof(float));
    ck_assert_int_eq(m->seq, seq);
    mn_memory_free(m);

    /* A hard delete drops the job with the memory. */
    in.text = "gone soon";
    id = th_add_in(db, &a, &in);
    TH_OK(db, mn_memory_delete(db, &a, id, MN_DELETE_HARD));
    TH_OK(db, mn_job_run(db, 0, &done, &failed));
    ck_assert_uint_eq(done + failed, 0);
    ck_assert_int_eq(es_text_count(&srv, "gone soon"), 0);
    mn_close(db);
}
END_TEST

/* A memory never commits without its job: a trigger that refuses jobs refuses the add. */
START_TEST(test_memory_and_job_atomic)
{
    const char *url = NEW_URL();
    mn_db *db = open_async(url, 0, 3);
    th_tenant(db, "t");
    mn_actor a = TH_ACTOR(.tenant = "t", .identity = NULL);
    const char *owner = th_identity(db, "t", "agent");
    mn_memory_input ok = TH_IN(.identity = owner, .text = "kept");
    const char *kept = th_add_in(db, &a, &ok);
    stores[_i].refuse_jobs(url);
    th_state before, after;
    th_state_get(db, &before);
    mn_memory_input in[3] = {MN_MEMORY_INPUT_INIT, MN_MEMORY_INPUT_INIT, MN_MEMORY_INPUT_INIT};
    const char *texts[3] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        in[i].identity = owner;
        in[i].text = texts[i];
    }
    TH_RC(db, mn_memory_add(db, &a, &in[0], NULL), MN_EBACKEND);
    ck_assert_msg(strstr(mn_errmsg(db), "no jobs today"), "%s", mn_errmsg(db));
    TH_RC(db, mn_memory_add_many(db, &a, in, 3, NULL, NULL), MN_EBACKEND);
    /* An update whose new text cannot get its job keeps the old text. */
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = "changed"};
    TH_RC(db, mn_memory_update(db, &a, kept, &ch, NULL), MN_EBACKEND);
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "an add whose job could not be queued");
    mn_close(db);
}
END_TEST

/* The embedding cache is per tenant: one tenant cannot learn by timing what another embedded;
 * within a tenant a text is embedded once. Calls for no tenant (mn_embed) have their own. */
START_TEST(test_cache_scope_per_tenant)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION,
                     .embedder = "openai",
                     .embed_url = srv.url,
                     .embed_model = "test-model",
                     .embed_dim = DIM};
    mn_db *db = th_open(NEW_URL(), &cfg);
    th_tenant(db, "a");
    th_tenant(db, "b");
    mn_actor ta = TH_ACTOR(.tenant = "a"), tb = TH_ACTOR(.tenant = "b");
    mn_memory_input ia = TH_IN(.identity = th_identity(db, "a", "x"), .text = "the secret plan");
    mn_memory_input ib = TH_IN(.identity = th_identity(db, "b", "x"), .text = "the secret plan");
    th_add_in(db, &ta, &ia);
    ck_assert_int_eq(es_stat(&srv, "requests"), 1);
    th_add_in(db, &tb, &ib);
    ck_assert_int_eq(es_stat(&srv, "requests"), 2); /* not tenant a's cached vector */
    th_add_in(db, &tb, &ib);
    ck_assert_int_eq(es_stat(&srv, "requests"), 2); /* b's own */
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION, .query = "the secret plan", .k = 1};
    mn_memories *hits = NULL;
    TH_OK(db, mn_memory_search(db, &ta, &so, &hits));
    mn_memories_free(hits);
    ck_assert_int_eq(es_stat(&srv, "requests"), 2); /* a's query: a's cache */
    float v[DIM];
    TH_OK(db, mn_embed(db, "the secret plan", v, DIM));
    ck_assert_int_eq(es_stat(&srv, "requests"), 3); /* no tenant: the store-wide scope */
    mn_close(db);
}
END_TEST

/* Many memories, several workers, the local embedder: every job done once, all searchable
 * through the index that follows seq. */
START_TEST(test_local_workers_many)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION,
                     .embed_async = 1,
                     .embed_workers = 3,
                     .embed_batch = 16,
                     .embed_poll_ms = 10};
    mn_db *db = th_open(NEW_URL(), &cfg);
    th_tenant(db, "t");
    mn_actor a = TH_ACTOR(.tenant = "t");
    const char *owner = th_identity(db, "t", "agent");
    enum { N = 300 };
    mn_memory_input in[N];
    char texts[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(texts[i], sizeof texts[i], "memory number %d", i);
        in[i] = (mn_memory_input)TH_IN(.identity = owner, .text = texts[i]);
    }
    char **ids = NULL;
    int64_t seq0 = store_seq(db);
    TH_OK(db, mn_memory_add_many(db, &a, in, N, &ids, NULL));
    double until = th_seconds() + 30;
    mn_jobs *jobs = NULL;
    for (;;) {
        TH_OK(db, mn_job_list(db, &a, -1, 0, &jobs));
        size_t left = jobs->count;
        mn_jobs_free(jobs);
        if (!left || th_seconds() > until)
            break;
        nap_ms(20);
    }
    /* N inserts, then N vectors each stored once: one seq each, no claim lost or repeated. */
    ck_assert_int_eq(store_seq(db) - seq0, 2 * N);
    for (int i = 0; i < N; i += 37) {
        ck_assert_int_eq(status_of(db, &a, ids[i]), MN_EMBED_DONE);
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = texts[i], .k = 1};
        mn_memories *hits = NULL;
        TH_OK(db, mn_memory_search(db, &a, &so, &hits));
        ck_assert_uint_eq(hits->count, 1);
        ck_assert_str_eq(hits->items[0]->id, ids[i]);
        mn_memories_free(hits);
    }
    mn_strings_free(ids, N);
    mn_close(db);
}
END_TEST

/* A text the embedder makes an all-zero vector of fails its own job, with the error naming
 * the embedder; the other jobs of its batch are done. Through the HTTP embedder (a server
 * answering zeros for the first text of a request) and the local one (text without words). */
START_TEST(test_zero_vector_fails_its_job_alone)
{
    mn_db *db = open_async(NEW_URL(), 0, 1);
    th_tenant(db, "t");
    mn_actor a = {.version = MN_ACTOR_VERSION, .tenant = "t"};
    const char *owner = th_identity(db, "t", "agent");
    mn_memory_input in[] = {{.version = MN_MEMORY_INPUT_VERSION,
                             .importance = MN_IMPORTANCE_DEFAULT, .identity = owner,
                             .text = "first text"},
                            {.version = MN_MEMORY_INPUT_VERSION,
                             .importance = MN_IMPORTANCE_DEFAULT, .identity = owner,
                             .text = "second text"},
                            {.version = MN_MEMORY_INPUT_VERSION,
                             .importance = MN_IMPORTANCE_DEFAULT, .identity = owner,
                             .text = "third text"}};
    char **ids = NULL;
    TH_OK(db, mn_memory_add_many(db, &a, in, 3, &ids, NULL));
    es_mode(&srv, "zero", 1, 0, 0);
    size_t done = 0, failed = 0;
    TH_OK(db, mn_job_run(db, 0, &done, &failed));
    ck_assert_uint_eq(done, 2);
    ck_assert_uint_eq(failed, 1);
    mn_jobs *jobs = NULL;
    TH_OK(db, mn_job_list(db, &a, -1, 0, &jobs));
    ck_assert_uint_eq(jobs->count, 1);
    ck_assert_int_eq(jobs->items[0]->status, MN_EMBED_FAILED);
    ck_assert_msg(strstr(jobs->items[0]->error, "openai embedder (model test-model)") &&
                  strstr(jobs->items[0]->error, "all-zero"), "%s", jobs->items[0]->error);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(status_of(db, &a, ids[i]), strcmp(ids[i], jobs->items[0]->memory_id)
                                                        ? MN_EMBED_DONE : MN_EMBED_FAILED);
    mn_jobs_free(jobs);
    mn_strings_free(ids, 3);
    mn_close(db);

    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_async = 1, .embed_max_attempts = 1};
    db = th_open(NEW_URL(), &cfg);
    th_tenant(db, "t");
    owner = th_identity(db, "t", "agent");
    const char *words = th_add_in(db, &a, &(mn_memory_input){.version = MN_MEMORY_INPUT_VERSION, .importance = MN_IMPORTANCE_DEFAULT, .identity = owner,
                                                             .text = "words here"});
    const char *none = th_add_in(db, &a, &(mn_memory_input){.version = MN_MEMORY_INPUT_VERSION,
                                                            .importance = MN_IMPORTANCE_DEFAULT,
                                                            .identity = owner, .text = "?!"});
    TH_OK(db, mn_job_run(db, 0, &done, &failed));
    ck_assert_uint_eq(done, 1);
    ck_assert_uint_eq(failed, 1);
    ck_assert_int_eq(status_of(db, &a, words), MN_EMBED_DONE);
    mn_memory *m = th_get(db, &a, none, 0);
    ck_assert_int_eq(m->embed_status, MN_EMBED_FAILED);
    ck_assert_msg(m->embed_error && strstr(m->embed_error, "local embedder (model local)"),
                  "%s", m->embed_error);
    mn_memory_free(m);
    mn_close(db);
}
END_TEST

START_TEST(test_config_errors)
{
    mn_config bad[] = {TH_CONFIG(.embed_async = 2),     TH_CONFIG(.embed_workers = 65),
                       TH_CONFIG(.embed_workers = -1),   TH_CONFIG(.embed_batch = 10001),
                       TH_CONFIG(.embed_lease_ms = -5), TH_CONFIG(.embed_retries = -2)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mn_db *db = NULL;
        TH_RC(db, mn_open(&db, NEW_URL(), &bad[i]), MN_EINVAL);
        ck_assert_msg(strstr(mn_errmsg(db), "mn_config.embed_"), "%s", mn_errmsg(db));
        mn_close(db);
    }
    /* A read-only handle runs no workers. */
    const char *url = NEW_URL();
    mn_close(th_open(url, NULL));
    mn_config ro = {.version = MN_CONFIG_VERSION, .flags = MN_OPEN_READONLY, .embed_workers = 1};
    mn_db *db = NULL;
    TH_RC(db, mn_open(&db, url, &ro), MN_EINVAL);
    mn_close(db);
}
END_TEST

static Suite *jobs_suite(void)
{
    Suite *s = suite_create("jobs");
    TCase *tc = tcase_create("async");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    /* Each case once per store: _i indexes stores[]. */
    tcase_add_loop_test(tc, test_add_returns_before_the_server, 0, NSTORES);
    tcase_add_loop_test(tc, test_failures_retry_then_stay_failed, 0, NSTORES);
    tcase_add_loop_test(tc, test_backoff, 0, NSTORES);
    tcase_add_loop_test(tc, test_backoff_spreads, 0, NSTORES);
    tcase_add_loop_test(tc, test_changed_memory_not_overwritten, 0, NSTORES);
    tcase_add_loop_test(tc, test_memory_and_job_atomic, 0, NSTORES);
    tcase_add_loop_test(tc, test_cache_scope_per_tenant, 0, NSTORES);
    tcase_add_loop_test(tc, test_local_workers_many, 0, NSTORES);
    tcase_add_loop_test(tc, test_zero_vector_fails_its_job_alone, 0, NSTORES);
    tcase_add_loop_test(tc, test_config_errors, 0, NSTORES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(jobs_suite());
}
