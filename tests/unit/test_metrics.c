/*
 * Metrics and health: the per-thread counters sum exactly whatever the threads, the histograms'
 * buckets and the rendering (Prometheus text and JSON from one table), the public calls counted
 * by operation and result code, policy and rate-limit decisions, search paths, pools, caches,
 * embedding jobs and errors; metrics switched off; mn_health's checks and statuses.
 */
#include "support/harness.h"
#include "core/metrics.h"

#include <cJSON.h>
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mn_actor sys = TH_ACTOR(.tenant = "t");
static const mn_actor agent = TH_ACTOR(.tenant = "t", .identity = "a1");

static const char *metrics_of(mn_db *db, int format)
{
    char *text = NULL;
    TH_OK(db, mn_metrics_write(db, format, &text));
    return th_keep(text);
}

/* JSON text parsed; the trees are freed at the end of the test (drop_parsed). */
static cJSON *trees[8];
static size_t ntrees;

static cJSON *parsed(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    ck_assert_msg(j && ntrees < sizeof trees / sizeof trees[0], "bad JSON: %s", text);
    return trees[ntrees++] = j;
}

static void drop_parsed(void)
{
    while (ntrees)
        cJSON_Delete(trees[--ntrees]);
}

/* The value of the sample line that starts with series (name and labels) followed by ' '. */
static double sample(const char *text, const char *series)
{
    return th_metric_sample(text, series);
}

/* ---- core ----------------------------------------------------------------------------------- */

#define NTHREADS 8
#define PER_THREAD 20000

static void *count_many(void *arg)
{
    struct mni_metrics *m = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        mni_metrics_inc(m, MNI_S_MEMORIES_CREATED);
        mni_metrics_observe(m, MNI_S_POLICY_SECONDS, (uint64_t)i * 1000);
        mni_metrics_add(m, MNI_S_POOL_IN_USE + MNI_POOL_SQLITE, i % 2 ? -1 : 1);
    }
    return NULL;
}

START_TEST(test_shards_sum_exactly)
{
    struct mni_metrics *m = mni_metrics_create();
    ck_assert_ptr_nonnull(m);
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, count_many, m), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    uint64_t *v = th_keep(malloc(sizeof *v * MNI_SLOTS));
    mni_metrics_sum(m, v);
    ck_assert_uint_eq(v[MNI_S_MEMORIES_CREATED], NTHREADS * PER_THREAD);
    ck_assert_int_eq((int64_t)v[MNI_S_POOL_IN_USE + MNI_POOL_SQLITE], 0);
    uint64_t count = 0;
    for (unsigned b = 0; b <= MNI_HIST_BUCKETS; b++)
        count += v[MNI_S_POLICY_SECONDS + b];
    ck_assert_uint_eq(count, NTHREADS * PER_THREAD);
    /* sum of i * 1000 ns over i < PER_THREAD, per thread */
    uint64_t sum = (uint64_t)NTHREADS * 1000 * ((uint64_t)PER_THREAD * (PER_THREAD - 1) / 2);
    ck_assert_uint_eq(v[MNI_S_POLICY_SECONDS + MNI_HIST_BUCKETS + 1], sum);
    /* NULL metrics: every write is a no-op */
    mni_metrics_inc(NULL, MNI_S_MEMORIES_CREATED);
    mni_metrics_observe(NULL, MNI_S_POLICY_SECONDS, 5);
    mni_metrics_free(m);
}
END_TEST

START_TEST(test_buckets_and_rendering)
{
    ck_assert_uint_eq(mni_metrics_bucket(0), 0);
    ck_assert_uint_eq(mni_metrics_bucket(50000), 0);   /* le="5e-05" includes its bound */
    ck_assert_uint_eq(mni_metrics_bucket(50001), 1);
    ck_assert_uint_eq(mni_metrics_bucket(10000000000u), MNI_HIST_BUCKETS - 1);
    ck_assert_uint_eq(mni_metrics_bucket(10000000001u), MNI_HIST_BUCKETS); /* +Inf */

    uint64_t *v = th_keep(calloc(MNI_SLOTS, sizeof *v));
    v[MNI_S_CALLS + MNI_OP_memory_get * MNI_CODES_N + MN_ENOTFOUND] = 2;
    unsigned h = MNI_S_CALL_SECONDS + MNI_OP_memory_get * MNI_WIDTH_HISTOGRAM;
    v[h + 0] = 1;                       /* <= 50 us */
    v[h + 4] = 1;                       /* <= 1 ms */
    v[h + MNI_HIST_BUCKETS + 1] = 1500000; /* 1.5 ms in all */
    v[MNI_S_EMBED_JOBS_OLDEST] = 2500;  /* ms: shown in seconds */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(mni_metrics_render(v, MNI_METRICS_FORMAT_PROMETHEUS, f), 0);
    fclose(f);
    th_keep(text);
    /* The ok series of an op called stays; codes never seen and ops never called are left out. */
    ck_assert(sample(text, "manushya_calls_total{op=\"memory_get\",code=\"not_found\"}") == 2);
    ck_assert(sample(text, "manushya_calls_total{op=\"memory_get\",code=\"ok\"}") == 0);
    ck_assert(sample(text, "manushya_calls_total{op=\"memory_get\",code=\"denied\"}") == -1);
    ck_assert(sample(text, "manushya_calls_total{op=\"memory_add\",code=\"ok\"}") == -1);
    /* Cumulative buckets, sum in seconds, count */
    ck_assert(sample(text, "manushya_call_duration_seconds_bucket{op=\"memory_get\",le=\"5e-05\"}")
              == 1);
    ck_assert(sample(text, "manushya_call_duration_seconds_bucket{op=\"memory_get\",le=\"0.0005\"}")
              == 1);
    ck_assert(sample(text, "manushya_call_duration_seconds_bucket{op=\"memory_get\",le=\"0.001\"}")
              == 2);
    ck_assert(sample(text, "manushya_call_duration_seconds_bucket{op=\"memory_get\",le=\"+Inf\"}")
              == 2);
    ck_assert(sample(text, "manushya_call_duration_seconds_sum{op=\"memory_get\"}") == 0.0015);
    ck_assert(sample(text, "manushya_call_duration_seconds_count{op=\"memory_get\"}") == 2);
    ck_assert(sample(text, "manushya_embed_jobs_oldest_age_seconds") == 2.5);
    ck_assert(strstr(text, "# TYPE manushya_call_duration_seconds histogram\n"));
    ck_assert(strstr(text, "# TYPE manushya_pool_in_use gauge\n"));

    /* The same table as JSON */
    f = open_memstream(&text, &len);
    ck_assert_int_eq(mni_metrics_render(v, MNI_METRICS_FORMAT_JSON, f), 0);
    fclose(f);
    cJSON *j = parsed(th_keep(text));
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "metrics")), MNI_F__COUNT);
    drop_parsed();
}
END_TEST

/* ---- through the API ------------------------------------------------------------------------ */

static mn_db *world(const mn_config *cfg)
{
    mn_db *db = th_open(th_sqlite_url(), cfg);
    th_tenant(db, "t");
    th_identity(db, "t", "a1");
    return db;
}

START_TEST(test_calls_counted)
{
    /* the guide's limits, so that the agent's own search is rate limited and counted */
    mn_config cfg = TH_CONFIG(.ratelimit_defaults = MN_RATELIMIT_DEFAULTS_GUIDE);
    mn_db *db = world(&cfg);
    const char *id = th_add(db, &sys, "a1", "the cat sat on the mat");
    th_add(db, &sys, "a1", "dogs chase cats");
    mn_memory *m = NULL;
    TH_OK(db, mn_memory_get(db, &agent, id, 0, &m));
    mn_memory_free(m);
    TH_RC(db, mn_memory_get(db, &sys, "01890000-0000-7000-8000-000000000000", 0, &m),
          MN_ENOTFOUND);
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = "cat";
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &agent, &so, &l));
    mn_memories_free(l);
    /* mn_memory_delete goes through mn_memory_delete_many: counted once */
    TH_OK(db, mn_memory_delete(db, &sys, id, MN_DELETE_SOFT));

    const char *t = metrics_of(db, MN_METRICS_PROMETHEUS);
    ck_assert(sample(t, "manushya_calls_total{op=\"memory_add\",code=\"ok\"}") == 2);
    ck_assert(sample(t, "manushya_calls_total{op=\"memory_get\",code=\"ok\"}") == 1);
    ck_assert(sample(t, "manushya_calls_total{op=\"memory_get\",code=\"not_found\"}") == 1);
    ck_assert(sample(t, "manushya_calls_total{op=\"memory_search\",code=\"ok\"}") == 1);
    ck_assert(sample(t, "manushya_calls_total{op=\"memory_delete\",code=\"ok\"}") == 1);
    ck_assert(sample(t, "manushya_call_duration_seconds_count{op=\"memory_get\"}") == 2);
    ck_assert(sample(t, "manushya_memories_created_total") == 2);
    /* the agent's get and its search's results were decided by policy */
    ck_assert(sample(t, "manushya_policy_decisions_total{result=\"allowed\"}") >= 2);
    /* one decision in MNI_METRICS_SAMPLE of each thread is timed */
    double decided = sample(t, "manushya_policy_decisions_total{result=\"allowed\"}");
    double timed = sample(t, "manushya_policy_decision_duration_seconds_count");
    ck_assert_msg(timed >= decided / MNI_METRICS_SAMPLE - 1 &&
                  timed <= decided / MNI_METRICS_SAMPLE + 1, "%g timed of %g", timed, decided);
    ck_assert(sample(t, "manushya_cache_misses_total{cache=\"decision\"}") >= 1);
    /* the search was counted by its path; the agent's search went through the rate limiter */
    ck_assert(sample(t, "manushya_searches_total{path=\"index\"}") +
              sample(t, "manushya_searches_total{path=\"exact\"}") == 1);
    ck_assert(sample(t, "manushya_ratelimit_decisions_total{result=\"allowed\"}") == 1);
    /* in-process decisions and the local embedder's calls (two adds, one query) are timed one
     * in MNI_METRICS_SAMPLE */
    double rl = sample(t, "manushya_ratelimit_decision_duration_seconds_count");
    double em = sample(t, "manushya_embed_duration_seconds_count");
    ck_assert_msg(rl >= 0 && rl <= 1 && em >= 0 && em <= 3, "%g %g", rl, em);
    ck_assert(sample(t, "manushya_pool_connections{pool=\"sqlite\"}") == 4);
    /* in use now: none of the calls', perhaps the index catching up in the background */
    double in_use = sample(t, "manushya_pool_in_use{pool=\"sqlite\"}");
    ck_assert_msg(in_use >= 0 && in_use <= 1, "%g", in_use);
    ck_assert(sample(t, "manushya_tenants") == 1);
    ck_assert(sample(t, "manushya_embed_jobs{status=\"pending\"}") == 0);

    /* JSON: the same families */
    cJSON *j = parsed(metrics_of(db, MN_METRICS_JSON));
    ck_assert_ptr_nonnull(j);
    const cJSON *fam;
    int found = 0;
    cJSON_ArrayForEach(fam, cJSON_GetObjectItem(j, "metrics"))
        if (strcmp(cJSON_GetObjectItem(fam, "name")->valuestring, "manushya_calls_total") == 0)
            found = cJSON_GetArraySize(cJSON_GetObjectItem(fam, "series"));
    ck_assert_int_ge(found, 5);
    mn_close(db);
    drop_parsed();
}
END_TEST

struct getter {
    mn_db *db;
    const char *id;
};

static void *get_many(void *arg)
{
    struct getter *g = arg;
    for (int i = 0; i < 500; i++) {
        mn_memory *m = NULL;
        if (mn_memory_get(g->db, &sys, g->id, 0, &m) != MN_OK)
            return (void *)1;
        mn_memory_free(m);
    }
    return NULL;
}

START_TEST(test_threads_count_exactly)
{
    mn_db *db = world(NULL);
    struct getter g = { db, th_add(db, &sys, "a1", "one memory") };
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, get_many, &g), 0);
    for (int i = 0; i < 6; i++) {
        void *r;
        pthread_join(t[i], &r);
        ck_assert_ptr_null(r);
    }
    const char *text = metrics_of(db, MN_METRICS_PROMETHEUS);
    ck_assert(sample(text, "manushya_calls_total{op=\"memory_get\",code=\"ok\"}") == 3000);
    double in_use = sample(text, "manushya_pool_in_use{pool=\"sqlite\"}");
    ck_assert_msg(in_use >= 0 && in_use <= 1, "%g", in_use);
    mn_close(db);
}
END_TEST

START_TEST(test_off_and_bad_arguments)
{
    mn_config cfg = TH_CONFIG(.metrics = MN_METRICS_OFF);
    mn_db *db = world(&cfg);
    th_add(db, &sys, "a1", "still works");
    char *text = (char *)"x";
    TH_RC(db, mn_metrics_write(db, MN_METRICS_PROMETHEUS, &text), MN_EUNSUPPORTED);
    ck_assert_ptr_null(text);
    ck_assert(strstr(mn_errmsg(db), "mn_config.metrics"));
    mn_close(db);

    db = world(NULL);
    TH_RC(db, mn_metrics_write(db, 7, &text), MN_EINVAL);
    TH_RC(db, mn_metrics_write(db, MN_METRICS_JSON, NULL), MN_EINVAL);
    ck_assert_int_eq(mn_metrics_write(NULL, MN_METRICS_JSON, &text), MN_EINVAL);
    mn_close(db);

    cfg.metrics = 5;
    mn_db *bad = NULL;
    ck_assert_int_eq(mn_open(&bad, th_sqlite_url(), &cfg), MN_EINVAL);
    ck_assert(strstr(mn_errmsg(bad), "mn_config.metrics is 5"));
    mn_close(bad);
}
END_TEST

/* The store's figures and health on every store (PostgreSQL when tests/run.sh gives one). */
START_TEST(test_each_store)
{
    const char *url = th_store_url(_i);
    if (!url)
        return;
    mn_db *db = th_open(url, NULL);
    th_tenant(db, "t");
    th_tenant(db, "u");
    th_identity(db, "t", "a1");
    th_add(db, &sys, "a1", "a memory on this store");
    const char *t = metrics_of(db, MN_METRICS_PROMETHEUS);
    ck_assert(sample(t, "manushya_tenants") == 2);
    ck_assert(sample(t, "manushya_embed_jobs{status=\"pending\"}") == 0);
    ck_assert(sample(t, "manushya_embed_jobs{status=\"failed\"}") == 0);
    ck_assert(sample(t, "manushya_calls_total{op=\"memory_add\",code=\"ok\"}") == 1);
    const char *pool = _i == 0 ? "manushya_pool_connections{pool=\"sqlite\"}"
                               : "manushya_pool_connections{pool=\"postgres\"}";
    ck_assert_msg(sample(t, pool) > 0, "%s: %g", pool, sample(t, pool));
    char *json = NULL;
    int status = -1;
    TH_OK(db, mn_health(db, 0, &json, &status));
    th_keep(json);
    ck_assert_msg(status == MN_HEALTH_OK, "%s", json);
    /* a server's disk is not ours to check */
    ck_assert(_i == 0 ? strstr(json, "\"disk\"") != NULL : strstr(json, "\"disk\"") == NULL);
    mn_close(db);
}
END_TEST

static void quiet_log(void *ctx, const char *msg)
{
    (void)ctx, (void)msg;
}

/* Rate limiting in Redis (tests/run.sh's server): the Redis pool and decisions counted, health
 * reaching it; an unreachable Redis is fail-open: counted, and health says degraded. */
START_TEST(test_redis)
{
    const char *url = getenv("MN_REDIS_URL");
    if (!th_built_with(MN_FEATURE_REDIS, "Redis metrics and health"))
        return;
    if (!url || !*url) {
        printf("# skip: redis: MN_REDIS_URL is not set\n");
        return;
    }
    mn_config cfg = TH_CONFIG(.redis_url = url, .ratelimit_defaults = MN_RATELIMIT_DEFAULTS_GUIDE);
    mn_db *db = world(&cfg);
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = "anything";
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &agent, &so, &l));
    mn_memories_free(l);
    const char *t = metrics_of(db, MN_METRICS_PROMETHEUS);
    ck_assert(sample(t, "manushya_pool_connections{pool=\"redis\"}") == 50);
    ck_assert(sample(t, "manushya_pool_in_use{pool=\"redis\"}") == 0);
    ck_assert(sample(t, "manushya_ratelimit_decisions_total{result=\"allowed\"}") == 1);
    char *json = NULL;
    int status = -1;
    TH_OK(db, mn_health(db, 0, &json, &status));
    cJSON *root = parsed(th_keep(json));
    ck_assert_msg(status == MN_HEALTH_OK, "%s", json);
    ck_assert(strstr(json, "\"name\":\"redis\",\"status\":\"ok\",\"reason\":\"reachable"));
    mn_close(db);

    /* Nobody listens on port 1. */
    cfg.redis_url = "redis://127.0.0.1:1";
    cfg.redis_connect_timeout_ms = 200;
    cfg.redis_timeout_ms = 200;
    cfg.log_fn = quiet_log; /* the fail-open report */
    db = world(&cfg);
    TH_OK(db, mn_memory_search(db, &agent, &so, &l));
    mn_memories_free(l);
    t = metrics_of(db, MN_METRICS_PROMETHEUS);
    ck_assert(sample(t, "manushya_ratelimit_decisions_total{result=\"fail_open\"}") == 1);
    TH_OK(db, mn_health(db, 0, &json, &status));
    root = parsed(th_keep(json));
    ck_assert_int_eq(status, MN_HEALTH_DEGRADED);
    const cJSON *c;
    int seen = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "checks"))
        if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, "redis") == 0)
            seen = strcmp(cJSON_GetObjectItem(c, "status")->valuestring, "degraded") == 0;
    ck_assert_msg(seen, "%s", json);
    mn_close(db);
    drop_parsed();
}
END_TEST

/* ---- embedding failures, jobs and health ------------------------------------------------------ */

static int failing_embed(void *ctx, const char *const *texts, size_t n, float *out,
                         char *errbuf, size_t errlen)
{
    (void)ctx, (void)texts, (void)n, (void)out;
    snprintf(errbuf, errlen, "the model is down");
    return 1;
}

static const char *status_of(const cJSON *root, const char *check)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "checks"))
        if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, check) == 0)
            return cJSON_GetObjectItem(c, "status")->valuestring;
    return NULL;
}

START_TEST(test_health_and_failed_jobs)
{
    mn_db *db = world(NULL);
    char *json = NULL;
    int status = -1;
    TH_OK(db, mn_health(db, MN_HEALTH_PROBE_EMBED, &json, &status));
    ck_assert_int_eq(status, MN_HEALTH_OK);
    cJSON *root = parsed(th_keep(json));
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(cJSON_GetObjectItem(root, "status")->valuestring, "ok");
    const char *names[] = { "store", "schema", "redis", "embedder", "index", "jobs", "disk" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        ck_assert_msg(status_of(root, names[i]), "no check %s in %s", names[i], json);
    ck_assert_str_eq(status_of(root, "embedder"), "ok");
    TH_OK(db, mn_health(db, 0, NULL, NULL));
    TH_RC(db, mn_health(db, 0x80, &json, &status), MN_EINVAL);
    mn_close(db);

    /* A plug-in that always fails, with asynchronous embedding and one attempt: the job
     * fails, and health says degraded; the embedder probe says why. */
    mn_embedder e = MN_EMBEDDER_INIT;
    e.name = "broken";
    e.model = "broken-1";
    e.dim = 8;
    e.embed = failing_embed;
    mn_config cfg = TH_CONFIG(.embedder_plugin = &e, .embed_async = 1, .embed_max_attempts = 1);
    db = world(&cfg);
    th_add(db, &sys, "a1", "waits for its vector");
    size_t done = 9, failed = 9;
    TH_OK(db, mn_job_run(db, 0, &done, &failed));
    ck_assert(done == 0 && failed == 1);
    const char *t = metrics_of(db, MN_METRICS_PROMETHEUS);
    ck_assert(sample(t, "manushya_embed_jobs{status=\"failed\"}") == 1);
    ck_assert(sample(t, "manushya_embed_errors_total") == 1);
    ck_assert(sample(t, "manushya_calls_total{op=\"job_run\",code=\"ok\"}") == 1);
    TH_OK(db, mn_health(db, MN_HEALTH_PROBE_EMBED, &json, &status));
    ck_assert_int_eq(status, MN_HEALTH_DEGRADED);
    root = parsed(th_keep(json));
    ck_assert_str_eq(status_of(root, "jobs"), "degraded");
    ck_assert_str_eq(status_of(root, "embedder"), "degraded"); /* embed_async: jobs wait */
    ck_assert(strstr(json, "the model is down"));
    /* health reports, it does not fail: no failure is left behind */
    ck_assert_msg(mn_errcode(db) == MN_OK, "left behind: %s", mn_errmsg(db));
    mn_close(db);
    drop_parsed();
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_shards_sum_exactly);
    tcase_add_test(tc, test_buckets_and_rendering);
    tcase_add_test(tc, test_calls_counted);
    tcase_add_test(tc, test_threads_count_exactly);
    tcase_add_test(tc, test_off_and_bad_arguments);
    tcase_add_test(tc, test_health_and_failed_jobs);
    tcase_add_loop_test(tc, test_each_store, 0, TH_NSTORES);
    tcase_add_test(tc, test_redis);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(metrics_suite());
}
