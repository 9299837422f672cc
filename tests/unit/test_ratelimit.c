/*
 * Rate limiting with the in-process counters: exactness across threads, window roll-over, role
 * multipliers, the tenant's own limits (also seen by another handle on the same file), the
 * library's own calls limited for identities (not for the system actor), the memory bound with
 * fail-open and fail-closed, and bad input. Windows are short (a few hundred ms) so that the
 * roll-over tests wait little; what they assert is counts, never speed.
 */
#include "support/harness.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const mn_actor SYS = TH_ACTOR(.tenant = "acme");
static const mn_actor BOT = TH_ACTOR(.tenant = "acme", .identity = "bot");       /* agent: x1 */
static const mn_actor BOSS = TH_ACTOR(.tenant = "acme", .identity = "boss");     /* admin: x2 */
static const mn_actor DAEMON = TH_ACTOR(.tenant = "acme", .identity = "daemon"); /* system: x5 */

/* cfg (may be NULL) with the in-process limiter on, as every test here wants. */
static const mn_config *in_process(const mn_config *cfg)
{
    static _Thread_local mn_config c;
    c = cfg ? *cfg : (mn_config)MN_CONFIG_INIT;
    if (!c.ratelimit)
        c.ratelimit = MN_RATELIMIT_MEMORY;
    return &c;
}

/* A fresh database (cfg may be NULL) with tenant acme and identities of each role. */
static mn_db *world(const char *url, const mn_config *cfg)
{
    mn_db *db = th_open(url ? url : th_sqlite_url(), in_process(cfg));
    th_tenant(db, "acme");
    TH_OK(db, mn_identity_create(db, &SYS, "bot", "agent", NULL, NULL));
    TH_OK(db, mn_identity_create(db, &SYS, "boss", "admin", NULL, NULL));
    TH_OK(db, mn_identity_create(db, &SYS, "daemon", "system", NULL, NULL));
    return db;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Hits until refused; returns how many were admitted. */
static int64_t admitted_until_refused(mn_db *db, const mn_actor *a, const char *endpoint)
{
    int64_t n = 0;
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    while (mn_ratelimit_hit(db, a, endpoint, 1, &r) == MN_OK)
        n++;
    ck_assert_int_eq(mn_errcode(db), MN_ELIMITED);
    return n;
}

struct hammer {
    mn_db *db;
    int calls;
    int ok, limited, other;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < h->calls; i++) {
        int rc = mn_ratelimit_hit(h->db, &BOT, "app:ping", 1, NULL);
        if (rc == MN_OK)
            h->ok++;
        else if (rc == MN_ELIMITED)
            h->limited++;
        else
            h->other++;
    }
    return NULL;
}

START_TEST(exact_across_threads)
{
    mn_db *db = world(NULL, NULL);
    TH_OK(db, mn_limit_set(db, &SYS, "app:ping", 777, 600000));
    enum { THREADS = 8, CALLS = 400 };
    pthread_t t[THREADS];
    struct hammer h[THREADS];
    for (int i = 0; i < THREADS; i++) {
        h[i] = (struct hammer){.db = db, .calls = CALLS};
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
    }
    int ok = 0, limited = 0, other = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        ok += h[i].ok;
        limited += h[i].limited;
        other += h[i].other;
    }
    ck_assert_int_eq(ok, 777);
    ck_assert_int_eq(limited, THREADS * CALLS - 777);
    ck_assert_int_eq(other, 0);
    mn_ratelimit_stats st = MN_RATELIMIT_STATS_INIT;
    TH_OK(db, mn_ratelimit_stats_get(db, &st));
    ck_assert_uint_eq(st.allowed, 777);
    ck_assert_uint_eq(st.denied, THREADS * CALLS - 777);
    mn_close(db);
}
END_TEST

START_TEST(window_rolls_over)
{
    mn_db *db = world(NULL, NULL);
    TH_OK(db, mn_limit_set(db, &SYS, "app:ping", 5, 300));
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    for (int i = 0; i < 5; i++) {
        TH_OK(db, mn_ratelimit_hit(db, &BOT, "app:ping", 1, &r));
        ck_assert_int_eq(r.remaining, 4 - i);
        ck_assert_int_eq(r.limit, 5);
        ck_assert_int_eq(r.window_ms, 300);
        ck_assert_int_eq(r.checked, 1);
    }
    TH_RC(db, mn_ratelimit_hit(db, &BOT, "app:ping", 1, &r), MN_ELIMITED);
    ck_assert_int_eq(r.allowed, 0);
    ck_assert_int_gt(r.retry_after_ms, 0);
    ck_assert_int_le(r.retry_after_ms, 300);
    ck_assert_int_ge(r.reset_at, th_now_ms());
    ck_assert_msg(strstr(mn_errmsg(db), "retry after"), "message: %s", mn_errmsg(db));
    /* peek says the same and counts nothing */
    TH_OK(db, mn_ratelimit_peek(db, &BOT, "app:ping", 1, &r));
    ck_assert_int_eq(r.allowed, 0);
    sleep_ms(r.retry_after_ms + 20);
    TH_OK(db, mn_ratelimit_peek(db, &BOT, "app:ping", 5, &r));
    ck_assert_int_eq(r.allowed, 1);
    ck_assert_int_eq(r.remaining, 5);
    /* a whole new window admits exactly the limit again */
    ck_assert_int_eq(admitted_until_refused(db, &BOT, "app:ping"), 5);
    /* reset forgets the calls */
    TH_OK(db, mn_ratelimit_reset(db, &SYS, "app:ping"));
    TH_OK(db, mn_ratelimit_hit(db, &BOT, "app:ping", 5, &r));
    ck_assert_int_eq(r.remaining, 0);
    mn_close(db);
}
END_TEST

START_TEST(role_multipliers)
{
    mn_db *db = world(NULL, NULL);
    TH_OK(db, mn_limit_set(db, &SYS, "*", 10, 600000));
    ck_assert_int_eq(admitted_until_refused(db, &BOT, "app:a"), 10);
    ck_assert_int_eq(admitted_until_refused(db, &BOSS, "app:b"), 20);
    ck_assert_int_eq(admitted_until_refused(db, &DAEMON, "app:c"), 50);
    ck_assert_int_eq(admitted_until_refused(db, &SYS, "app:d"), 50);
    /* one counter per tenant and endpoint: the admin goes on where the agent stopped */
    ck_assert_int_eq(admitted_until_refused(db, &BOSS, "app:a"), 10);
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    TH_OK(db, mn_ratelimit_peek(db, &BOSS, "app:a", 1, &r));
    ck_assert_int_eq(r.limit, 20);
    mn_close(db);
}
END_TEST

START_TEST(tenant_limits)
{
    const char *url = th_sqlite_url();
    mn_config cfg = {.version = MN_CONFIG_VERSION, .ratelimit_refresh_ms = 50};
    mn_db *db = world(url, &cfg);
    mn_limit *l = NULL;
    TH_OK(db, mn_limit_get(db, &SYS, "memory:create", &l));
    ck_assert_int_eq(l->limit, 1000);
    ck_assert_int_eq(l->window_ms, 3600000);
    ck_assert_int_eq(l->overridden, 0);
    mn_limit_free(l);
    TH_OK(db, mn_limit_get(db, &SYS, "app:unknown", &l));
    ck_assert_int_eq(l->limit, 1000);
    mn_limit_free(l);

    /* a second handle (another process would do the same) caches the old limit */
    mn_db *other = th_open(url, in_process(&cfg));
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    TH_OK(other, mn_ratelimit_peek(other, &BOT, "memory:search", 1, &r));
    ck_assert_int_eq(r.limit, 2000);
    TH_OK(db, mn_limit_set(db, &BOSS, "memory:search", 3, 60000));
    TH_OK(db, mn_ratelimit_peek(db, &BOT, "memory:search", 1, &r)); /* at once here */
    ck_assert_int_eq(r.limit, 3);
    sleep_ms(120);
    TH_OK(other, mn_ratelimit_peek(other, &BOT, "memory:search", 1, &r)); /* within refresh */
    ck_assert_int_eq(r.limit, 3);

    mn_limits *all = NULL;
    TH_OK(db, mn_limit_list(db, &SYS, &all));
    ck_assert_uint_eq(all->count, 6);
    int seen = 0;
    for (size_t i = 0; i < all->count; i++)
        if (strcmp(all->items[i]->endpoint, "memory:search") == 0) {
            ck_assert_int_eq(all->items[i]->limit, 3);
            ck_assert_int_eq(all->items[i]->overridden, 1);
            seen = 1;
        }
    ck_assert(seen);
    mn_limits_free(all);

    /* agents may neither change nor read limits (default policies) */
    TH_RC(db, mn_limit_set(db, &BOT, "memory:search", 1000, 60000), MN_EDENIED);
    TH_RC(db, mn_limit_list(db, &BOT, &all), MN_EDENIED);
    TH_RC(db, mn_ratelimit_reset(db, &BOT, "memory:search"), MN_EDENIED);

    TH_OK(db, mn_limit_delete(db, &SYS, "memory:search"));
    TH_RC(db, mn_limit_delete(db, &SYS, "memory:search"), MN_ENOTFOUND);
    TH_OK(db, mn_ratelimit_peek(db, &BOT, "memory:search", 1, &r));
    ck_assert_int_eq(r.limit, 2000);
    mn_close(other);
    mn_close(db);
}
END_TEST

START_TEST(library_calls_are_limited)
{
    mn_db *db = world(NULL, NULL);
    TH_OK(db, mn_limit_set(db, &SYS, "memory:create", 3, 600000));
    TH_OK(db, mn_limit_set(db, &SYS, "memory:search", 2, 600000));
    TH_OK(db, mn_limit_set(db, &SYS, "identity:create", 1, 600000));
    TH_OK(db, mn_limit_set(db, &SYS, "policy:test", 1, 600000));
    mn_memory_input two[2] = {TH_IN(.text = "one"), TH_IN(.text = "two")};
    TH_OK(db, mn_memory_add_many(db, &BOT, two, 2, NULL, NULL));
    th_state before, after;
    th_state_get(db, &before);
    /* a batch counts all its memories: 2 do not fit in the 1 left, and nothing is added */
    TH_RC(db, mn_memory_add_many(db, &BOT, two, 2, NULL, NULL), MN_ELIMITED);
    ck_assert_msg(strstr(mn_errmsg(db), "memory:create") && strstr(mn_errmsg(db), "retry after"),
                  "message: %s", mn_errmsg(db));
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "a refused batch");
    mn_memory_input big[4] = {TH_IN(.text = "a"), TH_IN(.text = "b"), TH_IN(.text = "c"),
                              TH_IN(.text = "d")};
    TH_RC(db, mn_memory_add_many(db, &BOT, big, 4, NULL, NULL), MN_ELIMITED);
    ck_assert_msg(strstr(mn_errmsg(db), "split"), "message: %s", mn_errmsg(db));
    TH_OK(db, mn_memory_add(db, &BOT, &two[0], NULL));
    TH_RC(db, mn_memory_add(db, &BOT, &two[0], NULL), MN_ELIMITED);
    /* bad input is refused before it costs a place */
    mn_memory_input bad = TH_IN(.text = NULL);
    TH_RC(db, mn_memory_add(db, &BOSS, &bad, NULL), MN_EINVAL);
    /* the system actor (the host program) is not limited */
    for (int i = 0; i < 10; i++)
        th_add(db, &SYS, "bot", "from the host");

    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "one"};
    mn_memories *hits = NULL;
    for (int i = 0; i < 2; i++) {
        TH_OK(db, mn_memory_search(db, &BOT, &so, &hits));
        mn_memories_free(hits);
    }
    TH_RC(db, mn_memory_search(db, &BOT, &so, &hits), MN_ELIMITED);
    TH_OK(db, mn_memory_search(db, &SYS, &so, &hits));
    mn_memories_free(hits);

    TH_OK(db, mn_identity_create(db, &BOSS, "helper1", "agent", NULL, NULL));
    TH_OK(db, mn_identity_create(db, &BOSS, "helper2", "agent", NULL, NULL)); /* admin: x2 */
    TH_RC(db, mn_identity_create(db, &BOSS, "helper3", "agent", NULL, NULL), MN_ELIMITED);

    mn_decision *d = NULL;
    TH_OK(db, mn_policy_test(db, &BOT, "read", "memory", NULL, &d));
    mn_decision_free(d);
    TH_RC(db, mn_policy_test(db, &BOT, "read", "memory", NULL, &d), MN_ELIMITED);
    ck_assert_ptr_null(d);
    mn_close(db);
}
END_TEST

static int log_calls;
static void count_log(void *ctx, const char *msg)
{
    (void)ctx;
    ck_assert_msg(strstr(msg, "rate limiting: "), "log: %s", msg);
    log_calls++;
}

START_TEST(memory_bound_fail_modes)
{
    /* room for a handful of keys only */
    mn_config cfg = {
        .version = MN_CONFIG_VERSION, .ratelimit_max_bytes = 1024, .log_fn = count_log};
    mn_db *db = world(NULL, &cfg);
    int unchecked = 0;
    char ep[32];
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    for (int i = 0; i < 50; i++) {
        snprintf(ep, sizeof ep, "app:e%d", i);
        TH_OK(db, mn_ratelimit_hit(db, &BOT, ep, 1, &r));
        ck_assert_int_eq(r.allowed, 1);
        unchecked += !r.checked;
    }
    ck_assert_int_gt(unchecked, 0);
    mn_ratelimit_stats st = MN_RATELIMIT_STATS_INIT;
    TH_OK(db, mn_ratelimit_stats_get(db, &st));
    ck_assert_uint_eq(st.fail_open, (uint64_t)unchecked);
    ck_assert_int_eq(log_calls, 1); /* once per interval, not per call */
    mn_close(db);

    cfg.ratelimit_fail_closed = 1;
    db = world(NULL, &cfg);
    int refused = 0;
    for (int i = 0; i < 50; i++) {
        snprintf(ep, sizeof ep, "app:e%d", i);
        int rc = mn_ratelimit_hit(db, &BOT, ep, 1, &r);
        ck_assert(rc == MN_OK || rc == MN_EBACKEND);
        if (rc == MN_EBACKEND) {
            refused++;
            ck_assert_int_eq(r.allowed, 0);
            ck_assert_msg(strstr(mn_errmsg(db), "ratelimit_max_bytes"), "%s", mn_errmsg(db));
        }
    }
    ck_assert_int_gt(refused, 0);
    mn_close(db);
}
END_TEST

START_TEST(bad_input)
{
    mn_db *db = world(NULL, NULL);
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    const char *bad[] = {"", "memory", "Memory:create", "a:b:c", "x:", ":y", "memory create",
                         "memory:créer", "abcdefghijklmnopqrstuvwxyz0123456:x", "*"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TH_RC(db, mn_ratelimit_hit(db, &BOT, bad[i], 1, &r), MN_EINVAL);
        ck_assert_msg(strstr(mn_errmsg(db), "resource:action"), "%s", mn_errmsg(db));
    }
    TH_RC(db, mn_ratelimit_hit(db, &BOT, NULL, 1, &r), MN_EINVAL);
    TH_RC(db, mn_ratelimit_hit(db, &BOT, "app:x", 0, &r), MN_EINVAL);
    TH_RC(db, mn_ratelimit_hit(db, &BOT, "app:x", -3, &r), MN_EINVAL);
    TH_RC(db, mn_ratelimit_hit(db, NULL, "app:x", 1, &r), MN_EINVAL);
    TH_RC(db, mn_ratelimit_peek(db, &BOT, "app:x", 1, NULL), MN_EINVAL);
    mn_actor nobody = TH_ACTOR(.tenant = "acme", .identity = "nobody");
    TH_RC(db, mn_ratelimit_hit(db, &nobody, "app:x", 1, &r), MN_ENOTFOUND);
    mn_actor elsewhere = TH_ACTOR(.tenant = "nope");
    TH_RC(db, mn_ratelimit_hit(db, &elsewhere, "app:x", 1, &r), MN_ENOTFOUND);
    TH_RC(db, mn_limit_set(db, &SYS, "app:x", 0, 1000), MN_EINVAL);
    TH_RC(db, mn_limit_set(db, &SYS, "app:x", -5, 1000), MN_EINVAL);
    TH_RC(db, mn_limit_set(db, &SYS, "app:x", 5, 0), MN_EINVAL);
    TH_RC(db, mn_limit_set(db, &SYS, "app:x", 5, -1), MN_EINVAL);
    TH_RC(db, mn_limit_set(db, &SYS, "app:x", 5, INT64_C(2678400001)), MN_EINVAL);
    TH_RC(db, mn_limit_set(db, &SYS, "app:x", INT64_C(1000000001), 1000), MN_EINVAL);
    TH_RC(db, mn_limit_set(db, &SYS, "APP", 5, 1000), MN_EINVAL);
    mn_limits *all = NULL;
    TH_OK(db, mn_limit_list(db, &SYS, &all));
    ck_assert_uint_eq(all->count, 6); /* nothing was set */
    mn_limits_free(all);
    /* a deactivated identity may not act, here either */
    TH_OK(db, mn_identity_deactivate(db, &SYS, "bot"));
    mn_close(db);
    db = th_open(th_sqlite_url(), in_process(NULL));
    th_tenant(db, "acme");
    TH_OK(db, mn_identity_create(db, &SYS, "bot", "agent", NULL, NULL));
    TH_OK(db, mn_identity_deactivate(db, &SYS, "bot"));
    TH_RC(db, mn_ratelimit_hit(db, &BOT, "app:x", 1, &r), MN_EDENIED);
    mn_close(db);
}
END_TEST

/* mn_open refuses bad settings, explaining them. */
static void open_fails(const mn_config *cfg, int want, const char *word)
{
    mn_db *db = NULL;
    int rc = mn_open(&db, th_sqlite_url(), cfg);
    ck_assert_msg(rc == want, "rc %d want %d: %s", rc, want, mn_errmsg(db));
    ck_assert_msg(strstr(mn_errmsg(db), word), "message \"%s\" lacks \"%s\"", mn_errmsg(db),
                  word);
    mn_close(db);
}

START_TEST(bad_settings_and_urls)
{
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .ratelimit = 7}, MN_EINVAL, "ratelimit");
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .ratelimit = MN_RATELIMIT_REDIS},
               MN_EINVAL, "redis_url");
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .ratelimit_fail_closed = 2}, MN_EINVAL,
               "fail");
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .ratelimit_refresh_ms = -1}, MN_EINVAL,
               "refresh");
    open_fails(
        &(mn_config){.version = MN_CONFIG_VERSION, .redis_url = "redis://h", .redis_pool_max = -2},
        MN_EINVAL, "redis_pool_max");
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION,
                            .redis_url = "redis://h",
                            .redis_timeout_ms = -1},
               MN_EINVAL, "redis_timeout_ms");
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .redis_url = "rediss://h:6380"},
               MN_EUNSUPPORTED, "TLS");
    const char *bad[] = {"http://h", "redis://", "redis://:pw@", "redis://h:0",
                         "redis://h:70000", "redis://h:port", "redis://h/x", "redis://h?db=1",
                         "redis://[::1", "redis://h h", "localhost:6379"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .redis_url = bad[i]}, MN_EINVAL,
                   "Redis URL");
    /* a password never shows in a message */
    mn_db *db = NULL;
    int rc =
        mn_open(&db, th_sqlite_url(),
                &(mn_config){.version = MN_CONFIG_VERSION, .redis_url = "redis://:s3cret@h:99999"});
    ck_assert_int_eq(rc, MN_EINVAL);
    ck_assert_ptr_null(strstr(mn_errmsg(db), "s3cret"));
    mn_close(db);
    /* off: the library limits nothing and hit says so */
    db = world(NULL, &(mn_config){.version = MN_CONFIG_VERSION, .ratelimit = MN_RATELIMIT_OFF});
    TH_RC(db, mn_ratelimit_hit(db, &BOT, "app:x", 1, NULL), MN_EUNSUPPORTED);
    TH_OK(db, mn_limit_set(db, &SYS, "memory:create", 1, 600000));
    th_add(db, &BOT, NULL, "one");
    th_add(db, &BOT, NULL, "two");
    mn_close(db);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("memory");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, exact_across_threads);
    tcase_add_test(tc, window_rolls_over);
    tcase_add_test(tc, role_multipliers);
    tcase_add_test(tc, tenant_limits);
    tcase_add_test(tc, library_calls_are_limited);
    tcase_add_test(tc, memory_bound_fail_modes);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, bad_settings_and_urls);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(ratelimit_suite());
}
