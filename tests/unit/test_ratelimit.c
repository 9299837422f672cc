/*
 * Rate limiting with the in-process counters: the sliding window's bounds against an exact log
 * of the same calls, exactness across threads, window roll-over, role multipliers, the
 * tenant's own limits (also seen by another handle on the same file), the library's own calls
 * limited for identities (not for the system actor), calls of any size at a fixed cost, the
 * memory bound with fail-open and fail-closed, and bad input. Windows are short (a few hundred
 * ms) so that the roll-over tests wait little; what they assert is counts, never speed.
 */
#include "support/harness.h"
#include "ratelimit/window.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- the window itself, on times of the test's choosing ---- */

enum { W_US = 60000, G_US = W_US / MNI_RL_SUBWINDOWS, W_LIMIT = 20 };

struct logged_call {
    int64_t t, n;
};

/* Calls of the log made after `after` (µs) and up to `upto`. */
static int64_t logged_in(const struct logged_call *log, size_t nlog, int64_t after, int64_t upto)
{
    int64_t sum = 0;
    for (size_t i = nlog; i-- > 0 && log[i].t > after - 2 * W_US;)
        sum += log[i].t > after && log[i].t <= upto ? log[i].n : 0;
    return sum;
}

/* What the window counts at t (of the calls logged up to now): those of every sub-window from
 * the one holding t - W on, as window.h says. */
static int64_t counted_at(const struct logged_call *log, size_t nlog, int64_t t)
{
    int64_t lo = t - W_US >= 0 ? (t - W_US) / G_US : -1;
    return logged_in(log, nlog, lo * G_US - 1, INT64_MAX);
}

/* A long random run of calls, peeks and idle spells against a log of what was admitted: the
 * window never admits more than the limit in any window, refuses only what an exact log would
 * refuse within one sub-window, counts what it says it counts, and its retry-after and reset
 * times are when places free up. */
START_TEST(window_bounds_against_a_log)
{
    static struct logged_call log[40000];
    size_t nlog = 0;
    struct mni_rl_window w = {0};
    uint32_t seed = 12345;
    int64_t t = 7, admitted = 0, refused_early = 0;
    for (int step = 0; step < 40000; step++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 8;
        t += r % 50 == 0 ? W_US * (int64_t)(r % 3) : (int64_t)(r % 2500);
        int64_t n = r % 97 == 0 ? W_LIMIT + 1 : 1 + (int64_t)(r / 7 % 4);
        int peek = r / 5 % 6 == 0;
        struct mni_count_res res;
        mni_rl_window_decide(&w, t, W_US, W_LIMIT, n, peek, &res);
        if (res.allowed && !peek) {
            log[nlog++] = (struct logged_call){t, n};
            admitted += n;
        }
        ck_assert_int_eq(res.count, counted_at(log, nlog, t));
        /* never more than the limit in the exact window ending now */
        ck_assert_int_le(logged_in(log, nlog, t - W_US, t), W_LIMIT);
        if (n > W_LIMIT) {
            ck_assert(!res.allowed && res.retry_after_us == -1);
        } else if (!res.allowed) {
            /* an exact log would refuse too, counting one sub-window more than the window */
            ck_assert_int_gt(logged_in(log, nlog, t - W_US - G_US, t) + n, W_LIMIT);
            refused_early += logged_in(log, nlog, t - W_US, t) + n <= W_LIMIT;
            /* n fit exactly at the retry time, not a microsecond before */
            int64_t at = t + res.retry_after_us;
            ck_assert_int_le(counted_at(log, nlog, at) + n, W_LIMIT);
            ck_assert_int_gt(counted_at(log, nlog, at - 1) + n, W_LIMIT);
        }
        if (res.count) {
            int64_t at = t + res.reset_in_us;
            ck_assert_int_lt(counted_at(log, nlog, at), res.count);
            ck_assert_int_eq(counted_at(log, nlog, at - 1), res.count);
        } else {
            ck_assert_int_eq(res.reset_in_us, 0);
        }
    }
    /* the run did exercise both sides */
    ck_assert_int_gt(admitted, 1000);
    ck_assert_int_gt(refused_early, 0);
}
END_TEST

/* A thread whose clock reading is older than one already used records its calls in the newest
 * sub-window, so they count for as long as the calls before them. */
START_TEST(window_clock_never_goes_back)
{
    struct mni_rl_window w = {0};
    struct mni_count_res res;
    int64_t late = 10 * G_US + 500, early = 9 * G_US + 100;
    mni_rl_window_decide(&w, late, W_US, W_LIMIT, 1, 0, &res);
    mni_rl_window_decide(&w, early, W_US, W_LIMIT, 1, 0, &res);
    ck_assert_int_eq(res.count, 2);
    ck_assert_int_eq(res.reset_in_us, 11 * G_US + W_US - early);
    ck_assert_int_eq(mni_rl_window_count(&w, 11 * G_US + W_US - 1, W_US), 2);
    ck_assert_int_eq(mni_rl_window_count(&w, 11 * G_US + W_US, W_US), 0);
}
END_TEST

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
    ck_assert_int_le(r.retry_after_ms, 300 + 5); /* the window and at most a sub-window (1/60) */
    ck_assert_int_ge(r.reset_at, th_now_ms());
    ck_assert_msg(strstr(mn_errmsg(db), "retry after"), "message: %s", mn_errmsg(db));
    /* the wait as a number too, for the refused call's handle only */
    ck_assert_int_eq(mn_retry_after_ms(db), r.retry_after_ms);
    ck_assert_int_eq(mn_retry_after_ms(NULL), 0);
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
    ck_assert_int_eq(mn_retry_after_ms(db), -1); /* more than the limit: waiting cannot help */
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
    int64_t wait = mn_retry_after_ms(db);
    /* the window and at most a sub-window (1/60) */
    ck_assert_msg(wait > 0 && wait <= 600000 + 10000, "retry after %lld ms", (long long)wait);
    ck_assert_msg(strstr(mn_errmsg(db), th_fmt("retry after %lld ms", (long long)wait)),
                  "message: %s", mn_errmsg(db));
    TH_OK(db, mn_memory_search(db, &SYS, &so, &hits));
    mn_memories_free(hits);
    /* a success leaves the refusal reported, wait included */
    ck_assert_int_eq(mn_errcode(db), MN_ELIMITED);
    ck_assert_int_eq(mn_retry_after_ms(db), wait);
    /* another failure is not a refusal: no wait */
    TH_RC(db, mn_memory_add(db, &BOSS, &bad, NULL), MN_EINVAL);
    ck_assert_int_eq(mn_retry_after_ms(db), 0);

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

/* n calls of mn_policy_test by a (endpoint policy:test, built-in limit 500 an hour): how
 * many were admitted before the first refusal (n when none was). */
static int policy_tests_admitted(mn_db *db, const mn_actor *a, int n)
{
    for (int i = 0; i < n; i++) {
        mn_decision *d = NULL;
        int rc = mn_policy_test(db, a, "read", "memory", NULL, &d);
        mn_decision_free(d);
        if (rc == MN_ELIMITED)
            return i;
        TH_OK(db, rc);
    }
    return n;
}

/* By default the built-in limits hold calls made by API key, not the host's own calls as an
 * identity: an agent's ingest past the guide's 1000 memories an hour goes through, while a
 * key's 501st policy test is refused; the host's own checks (mn_ratelimit_peek) still see the
 * built-in limit. MN_RATELIMIT_DEFAULTS_GUIDE holds the identity too (1.3), _NONE neither. */
START_TEST(builtin_limits_by_default)
{
    enum { N = 1001 };
    mn_memory_input *in = th_keep(calloc(N, sizeof *in));
    for (int i = 0; i < N; i++)
        in[i] = (mn_memory_input)TH_IN(.text = th_fmt("ingested note %d", i));
    int defaults[] = {MN_RATELIMIT_DEFAULTS_AUTO, MN_RATELIMIT_DEFAULTS_GUIDE,
                      MN_RATELIMIT_DEFAULTS_NONE};
    for (size_t k = 0; k < sizeof defaults / sizeof *defaults; k++) {
        mn_config cfg = MN_CONFIG_INIT;
        cfg.ratelimit_defaults = defaults[k];
        mn_db *db = world(NULL, &cfg);
        int guide = defaults[k] == MN_RATELIMIT_DEFAULTS_GUIDE;
        TH_RC(db, mn_memory_add_many(db, &BOT, in, N, NULL, NULL), guide ? MN_ELIMITED : MN_OK);
        ck_assert_int_eq(policy_tests_admitted(db, &BOT, 501), guide ? 500 : 501);
        mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
        TH_OK(db, mn_ratelimit_peek(db, &BOT, "memory:create", 1, &r));
        ck_assert_int_eq(r.limit, 1000);

        char *key = NULL;
        mn_apikey_input ki = MN_APIKEY_INPUT_INIT;
        ki.identity = "bot";
        TH_OK(db, mn_apikey_create(db, &SYS, &ki, &key, NULL));
        mn_actor by_key = TH_ACTOR(.tenant = NULL, .identity = NULL, .api_key = key);
        int none = defaults[k] == MN_RATELIMIT_DEFAULTS_NONE;
        ck_assert_int_eq(policy_tests_admitted(db, &by_key, 501), none ? 501 : guide ? 0 : 500);
        mn_free(key);
        mn_close(db);
    }
}
END_TEST

/* Per tenant (the default) an agent's calls use up the tenant's limit for the others; per
 * identity each has its own counter, the system actor's checks keep the tenant's, and a
 * tenant's own limit holds each identity. */
START_TEST(per_identity_counters)
{
    int scopes[] = {MN_RATELIMIT_PER_TENANT, MN_RATELIMIT_PER_IDENTITY};
    for (size_t k = 0; k < 2; k++) {
        mn_config cfg = MN_CONFIG_INIT;
        cfg.ratelimit_scope = scopes[k];
        mn_db *db = world(NULL, &cfg);
        TH_OK(db, mn_identity_create(db, &SYS, "bot2", "agent", NULL, NULL));
        const mn_actor bot2 = TH_ACTOR(.tenant = "acme", .identity = "bot2");
        TH_OK(db, mn_limit_set(db, &SYS, "memory:search", 2, 600000));
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "anything"};
        mn_memories *hits = NULL;
        for (int i = 0; i < 2; i++) {
            TH_OK(db, mn_memory_search(db, &BOT, &so, &hits));
            mn_memories_free(hits);
        }
        TH_RC(db, mn_memory_search(db, &BOT, &so, &hits), MN_ELIMITED);
        ck_assert_msg(strstr(mn_errmsg(db), k ? "for this identity" : "for this tenant"),
                      "message: %s", mn_errmsg(db));
        int rc = mn_memory_search(db, &bot2, &so, &hits);
        ck_assert_int_eq(rc, k ? MN_OK : MN_ELIMITED);
        if (rc == MN_OK)
            mn_memories_free(hits);
        /* the host's check for the system actor: the tenant's counter, untouched per identity */
        mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
        TH_OK(db, mn_ratelimit_peek(db, &SYS, "memory:search", 1, &r));
        ck_assert_int_eq(r.remaining, k ? 10 : 10 - 2);
        mn_close(db);
    }
}
END_TEST

/* A call's size costs neither time nor memory: under a limit of 5e9 (1e9 for the system
 * actor, x5) a call of 4e9 and one of 1e9 are counted exactly, in counters with room for a few
 * keys and fail-closed (so a call that did not fit the bound would fail, not pass unchecked). */
START_TEST(any_call_size_at_fixed_cost)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION, .ratelimit_max_bytes = 4096,
                     .ratelimit_fail_closed = 1};
    mn_db *db = world(NULL, &cfg);
    TH_OK(db, mn_limit_set(db, &SYS, "app:bulk", 1000000000, 3600000));
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    double t0 = th_seconds();
    TH_OK(db, mn_ratelimit_hit(db, &SYS, "app:bulk", INT64_C(4000000000), &r));
    ck_assert_int_eq(r.checked, 1);
    ck_assert_int_eq(r.remaining, 1000000000);
    TH_OK(db, mn_ratelimit_hit(db, &SYS, "app:bulk", 1000000000, &r));
    ck_assert_int_eq(r.remaining, 0);
    ck_assert_msg(th_seconds() - t0 < 1, "two decisions took %.3f s", th_seconds() - t0);
    TH_RC(db, mn_ratelimit_hit(db, &SYS, "app:bulk", 1, &r), MN_ELIMITED);
    ck_assert_int_eq(r.checked, 1);
    ck_assert_int_gt(r.retry_after_ms, 3600000 - 60000);
    ck_assert_int_le(r.retry_after_ms, 3600000 + 60000); /* the window and a sub-window */
    /* more than the limit never fits: refused at once, whatever is counted */
    TH_RC(db, mn_ratelimit_peek(db, &SYS, "app:bulk", INT64_C(5000000001), &r), MN_OK);
    ck_assert_int_eq(r.allowed, 0);
    ck_assert_int_eq(r.retry_after_ms, -1);
    TH_RC(db, mn_ratelimit_hit(db, &SYS, "app:other", INT64_C(5000000001), &r), MN_ELIMITED);
    ck_assert_int_eq(r.retry_after_ms, -1);
    ck_assert_msg(strstr(mn_errmsg(db), "split"), "message: %s", mn_errmsg(db));
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
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .ratelimit = MN_RATELIMIT_REDIS}, MN_EINVAL, "redis_url");
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .ratelimit_fail_closed = 2}, MN_EINVAL, "fail");
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .ratelimit_refresh_ms = -1}, MN_EINVAL, "refresh");
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .ratelimit_scope = 2}, MN_EINVAL, "ratelimit_scope");
    open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .ratelimit_defaults = 3}, MN_EINVAL, "ratelimit_defaults");
    if (th_built_with(MN_FEATURE_REDIS, "Redis settings and URLs")) {
        open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .redis_url = "redis://h",
                                .redis_pool_max = -2}, MN_EINVAL,
                   "redis_pool_max");
        open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .redis_url = "redis://h",
                                .redis_timeout_ms = -1}, MN_EINVAL,
                   "redis_timeout_ms");
        open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .redis_url = "rediss://h:6380"}, MN_EUNSUPPORTED, "TLS");
        const char *bad[] = {"http://h", "redis://", "redis://:pw@", "redis://h:0",
                             "redis://h:70000", "redis://h:port", "redis://h/x",
                             "redis://h?db=1", "redis://[::1", "redis://h h", "localhost:6379"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            open_fails(&(mn_config){.version = MN_CONFIG_VERSION, .redis_url = bad[i]}, MN_EINVAL, "Redis URL");
        /* a password never shows in a message */
        mn_db *bad_db = NULL;
        int rc = mn_open(&bad_db, th_sqlite_url(),
                         &(mn_config){.version = MN_CONFIG_VERSION,
                                      .redis_url = "redis://:s3cret@h:99999"});
        ck_assert_int_eq(rc, MN_EINVAL);
        ck_assert_ptr_null(strstr(mn_errmsg(bad_db), "s3cret"));
        mn_close(bad_db);
    }
    /* off: the library limits nothing and hit says so */
    mn_db *db = world(NULL, &(mn_config){.version = MN_CONFIG_VERSION, .ratelimit = MN_RATELIMIT_OFF});
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
    tcase_add_test(tc, window_bounds_against_a_log);
    tcase_add_test(tc, window_clock_never_goes_back);
    tcase_add_test(tc, exact_across_threads);
    tcase_add_test(tc, window_rolls_over);
    tcase_add_test(tc, role_multipliers);
    tcase_add_test(tc, tenant_limits);
    tcase_add_test(tc, library_calls_are_limited);
    tcase_add_test(tc, builtin_limits_by_default);
    tcase_add_test(tc, per_identity_counters);
    tcase_add_test(tc, any_call_size_at_fixed_cost);
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
