/*
 * Rate limiting with the counters in Redis (tests/servers/redis.sh starts a real redis-server:
 * MN_REDIS_URL): the script and the in-process counters answering alike on one
 * sequence of calls, exactness across processes on one key, calls of any size at a fixed cost
 * in time and in the key's bytes, window roll-over, the script reloaded after SCRIPT FLUSH,
 * and a server of the test's own stopped mid-run then restarted: fail-open and fail-closed
 * honoured, and recovery without reopening the handle.
 */
#include "support/harness.h"
#include "ratelimit/counter.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const mn_actor SYS = TH_ACTOR(.tenant = "acme");
static const mn_actor BOT = TH_ACTOR(.tenant = "acme", .identity = "bot");

static const char *redis_url(void)
{
    const char *u = getenv("MN_REDIS_URL");
    ck_assert_msg(u && *u, "MN_REDIS_URL is not set: run through make check (tests/run.sh "
                  "starts tests/servers/redis.sh)");
    return u;
}

static mn_config redis_cfg(void)
{
    mn_config c = {.version = MN_CONFIG_VERSION,
                   .redis_url = redis_url(),
                   .redis_timeout_ms = 1000,
                   .redis_connect_timeout_ms = 1000};
    return c;
}

static const char *acme_id;

/* A fresh database with tenant acme (its id in acme_id), agent bot and acme's limit for
 * app:ping. */
static const char *world(int64_t limit, int64_t window_ms)
{
    const char *url = th_sqlite_url();
    mn_db *db = th_open(url, NULL);
    acme_id = th_tenant(db, "acme");
    TH_OK(db, mn_identity_create(db, &SYS, "bot", "agent", NULL, NULL));
    TH_OK(db, mn_limit_set(db, &SYS, "app:ping", limit, window_ms));
    mn_close(db);
    return url;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* A connection of the test's own to the server. */
static redisContext *connect_redis(void)
{
    redisContext *c = redisConnect("127.0.0.1", atoi(strrchr(redis_url(), ':') + 1));
    ck_assert(c && !c->err);
    return c;
}

/* The script run directly at time t (µs), as the library runs it but for the time. */
static void script_at(redisContext *c, const char *key, int64_t window_us, int64_t limit,
                      int64_t n, int peek, int64_t t, struct mni_count_res *out)
{
    redisReply *rep = redisCommand(c, "EVAL %s 1 %s %lld %lld %lld %s %lld",
                                   mni_counter_redis_script, key, (long long)window_us,
                                   (long long)limit, (long long)n, peek ? "1" : "0",
                                   (long long)t);
    ck_assert_msg(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 5, "%s",
                  rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "bad reply");
    out->allowed = (int)rep->element[0]->integer;
    out->count = rep->element[1]->integer;
    out->retry_after_us = rep->element[2]->integer;
    out->reset_in_us = rep->element[3]->integer;
    out->now_ms = rep->element[4]->integer;
    freeReplyObject(rep);
}

/* The two backends are one algorithm: long random sequences of calls, peeks, calls over the
 * limit, idle spells and clock readings that go back, run through the in-process counters and
 * through the Redis script at the same times, get the same answers, field by field. The runs
 * start at different points of a sub-window, as the answers depend on where its edges fall. */
START_TEST(backends_agree)
{
    mn_db *db = th_open(th_sqlite_url(), NULL);
    struct mni_counter *mem;
    mn_config mem_cfg = {.version = MN_CONFIG_VERSION, .ratelimit_max_bytes = 1 << 20};
    TH_OK(db, mni_counter_memory_create(db, &mem_cfg, &mem));
    redisContext *c = connect_redis();
    /* Redis expires the key on its own clock, after the window as the script's time sees it:
     * a window of 10 minutes outlasts the run, however slow, whatever time the test gives. */
    const int64_t window_us = INT64_C(600000000), unit = window_us / 1000000, limit = 50;
    int admitted = 0, refused = 0;
    for (int run = 0; run < 4; run++) {
        const char *key = th_fmt("ratelimit:test:agree:%lld:%d", (long long)th_now_ms(), run);
        int64_t t = th_now_ms() * 1000 + run * 2718281; /* the script's clock is the epoch's */
        uint32_t seed = 777 + (uint32_t)run;
        for (int step = 0; step < 3000; step++) {
            seed = seed * 1103515245u + 12345u;
            uint32_t r = seed >> 8;
            t += r % 40 == 0 ? 2 * window_us
                             : (r % 31 == 0 ? -5000 : (int64_t)(r % 30000)) * unit;
            int64_t n = r % 23 == 0 ? limit + 1 : 1 + (int64_t)(r / 3 % 8);
            int peek = r / 11 % 5 == 0;
            struct mni_count_req rq = {.key = key, .keylen = strlen(key), .hash = 42,
                                      .window_us = window_us, .limit = limit, .n = n,
                                      .peek = peek, .now_us = t};
            struct mni_count_res a, b;
            TH_OK(db, mem->ops->decide(mem, &rq, &a));
            script_at(c, key, window_us, limit, n, peek, t, &b);
            ck_assert_msg(a.allowed == b.allowed && a.count == b.count &&
                          a.retry_after_us == b.retry_after_us &&
                          a.reset_in_us == b.reset_in_us, "run %d step %d (t %lld, n %lld, "
                          "peek %d): memory {%d, %lld, %lld, %lld}, redis {%d, %lld, %lld, "
                          "%lld}", run, step, (long long)t, (long long)n, peek, a.allowed,
                          (long long)a.count, (long long)a.retry_after_us,
                          (long long)a.reset_in_us, b.allowed, (long long)b.count,
                          (long long)b.retry_after_us, (long long)b.reset_in_us);
            admitted += a.allowed && !peek;
            refused += !a.allowed && n <= limit;
        }
        freeReplyObject(redisCommand(c, "DEL %s", key));
    }
    ck_assert_int_gt(admitted, 2000);
    ck_assert_int_gt(refused, 400);
    redisFree(c);
    mem->ops->destroy(mem);
    mn_close(db);
}
END_TEST

/* 8 processes at once never admit more than the limit, nor less. */
START_TEST(exact_across_processes)
{
    enum { PROCS = 8, CALLS = 60, LIMIT = 157 };
    const char *url = world(LIMIT, 600000);
    int fds[PROCS][2];
    pid_t pid[PROCS];
    for (int p = 0; p < PROCS; p++) {
        ck_assert_int_eq(pipe(fds[p]), 0);
        pid[p] = fork();
        ck_assert_int_ge(pid[p], 0);
        if (pid[p] == 0) {
            mn_config cfg = redis_cfg();
            mn_db *db = NULL;
            int counts[3] = {0, 0, 0}; /* admitted, refused, failed */
            if (mn_open(&db, url, &cfg) != MN_OK)
                counts[2] = CALLS;
            for (int i = 0; db && i < CALLS && !counts[2]; i++) {
                mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
                int rc = mn_ratelimit_hit(db, &BOT, "app:ping", 1, &r);
                counts[rc == MN_OK && r.checked ? 0 : rc == MN_ELIMITED ? 1 : 2]++;
            }
            mn_close(db);
            _exit(write(fds[p][1], counts, sizeof counts) == sizeof counts ? 0 : 1);
        }
        close(fds[p][1]);
    }
    int admitted = 0, refused = 0;
    for (int p = 0; p < PROCS; p++) {
        int counts[3], status;
        ck_assert_int_eq(read(fds[p][0], counts, sizeof counts), (ssize_t)sizeof counts);
        close(fds[p][0]);
        ck_assert_int_eq(waitpid(pid[p], &status, 0), pid[p]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ck_assert_int_eq(counts[2], 0);
        admitted += counts[0];
        refused += counts[1];
    }
    ck_assert_int_eq(admitted, LIMIT);
    ck_assert_int_eq(refused, PROCS * CALLS - LIMIT);
}
END_TEST

START_TEST(window_rolls_over)
{
    mn_config cfg = redis_cfg();
    mn_db *db = th_open(world(3, 400), &cfg);
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    for (int i = 0; i < 3; i++) {
        TH_OK(db, mn_ratelimit_hit(db, &BOT, "app:ping", 1, &r));
        ck_assert_int_eq(r.checked, 1);
        ck_assert_int_eq(r.remaining, 2 - i);
    }
    TH_RC(db, mn_ratelimit_hit(db, &BOT, "app:ping", 1, &r), MN_ELIMITED);
    ck_assert_int_gt(r.retry_after_ms, 0);
    ck_assert_int_le(r.retry_after_ms, 400 + 7); /* the window and at most a sub-window */
    TH_RC(db, mn_ratelimit_hit(db, &BOT, "app:ping", 4, &r), MN_ELIMITED);
    ck_assert_int_eq(r.retry_after_ms, -1);
    sleep_ms(420); /* the whole window */
    TH_OK(db, mn_ratelimit_hit(db, &BOT, "app:ping", 3, &r));
    TH_RC(db, mn_ratelimit_hit(db, &BOT, "app:ping", 1, &r), MN_ELIMITED);
    TH_OK(db, mn_ratelimit_reset(db, &SYS, "app:ping"));
    TH_OK(db, mn_ratelimit_peek(db, &BOT, "app:ping", 3, &r));
    ck_assert_int_eq(r.allowed, 1);
    mn_close(db);
}
END_TEST

START_TEST(script_reloaded_after_flush)
{
    mn_config cfg = redis_cfg();
    mn_db *db = th_open(world(5, 600000), &cfg);
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    TH_OK(db, mn_ratelimit_hit(db, &BOT, "app:ping", 2, &r));
    redisContext *c = connect_redis();
    redisReply *rep = redisCommand(c, "SCRIPT FLUSH");
    ck_assert(rep && rep->type == REDIS_REPLY_STATUS);
    freeReplyObject(rep);
    redisFree(c);
    TH_OK(db, mn_ratelimit_hit(db, &BOT, "app:ping", 2, &r));
    ck_assert_int_eq(r.checked, 1);
    ck_assert_int_eq(r.remaining, 1); /* the counts survived; only the script was gone */
    TH_RC(db, mn_ratelimit_hit(db, &BOT, "app:ping", 2, &r), MN_ELIMITED);
    mn_close(db);
}
END_TEST

/* A call's size costs neither time nor memory in Redis: under a limit of 5e9 (1e9 for the
 * system actor, x5) calls of 3e6 and 4e9 are decided in a blink and the key stays the same
 * half kilobyte. (A log of the calls grew by hundreds of MB and kept Redis busy for seconds,
 * failing every other tenant open.) */
START_TEST(any_call_size_at_fixed_cost)
{
    mn_config cfg = redis_cfg();
    mn_db *db = th_open(world(1000000000, 3600000), &cfg);
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    double t0 = th_seconds();
    TH_OK(db, mn_ratelimit_hit(db, &SYS, "app:ping", 3000000, &r));
    ck_assert_int_eq(r.checked, 1);
    TH_OK(db, mn_ratelimit_hit(db, &SYS, "app:ping", INT64_C(4000000000), &r));
    ck_assert_int_eq(r.checked, 1);
    ck_assert_int_eq(r.remaining, INT64_C(997000000));
    ck_assert_msg(th_seconds() - t0 < 1, "two decisions took %.3f s", th_seconds() - t0);
    TH_RC(db, mn_ratelimit_hit(db, &SYS, "app:ping", 997000001, &r), MN_ELIMITED);
    ck_assert_int_eq(r.checked, 1);
    ck_assert_int_gt(r.retry_after_ms, 0);
    redisContext *c = connect_redis();
    redisReply *rep = redisCommand(c, "MEMORY USAGE ratelimit:{%s}:app:ping:3600", acme_id);
    ck_assert(rep && rep->type == REDIS_REPLY_INTEGER);
    ck_assert_int_le(rep->integer, 1024);
    freeReplyObject(rep);
    redisFree(c);
    mn_close(db);
}
END_TEST

/* Per identity, an identity's calls count in a key of its own, named with its id beside the
 * tenant's: another identity's calls do not touch it, nor the tenant's key of the system
 * actor. */
START_TEST(per_identity_keys)
{
    mn_config cfg = redis_cfg();
    cfg.ratelimit_scope = MN_RATELIMIT_PER_IDENTITY;
    mn_db *db = th_open(world(3, 3600000), &cfg);
    mn_identity *bot = NULL;
    TH_OK(db, mn_identity_get(db, &SYS, "bot", &bot));
    TH_OK(db, mn_identity_create(db, &SYS, "bot2", "agent", NULL, NULL));
    const mn_actor bot2 = TH_ACTOR(.tenant = "acme", .identity = "bot2");
    for (int i = 0; i < 3; i++)
        TH_OK(db, mn_ratelimit_hit(db, &BOT, "app:ping", 1, NULL));
    TH_RC(db, mn_ratelimit_hit(db, &BOT, "app:ping", 1, NULL), MN_ELIMITED);
    TH_OK(db, mn_ratelimit_hit(db, &bot2, "app:ping", 1, NULL));
    redisContext *c = connect_redis();
    redisReply *rep = redisCommand(c, "EXISTS ratelimit:{%s}:%s:app:ping:3600", acme_id, bot->id);
    ck_assert(rep && rep->type == REDIS_REPLY_INTEGER);
    ck_assert_int_eq(rep->integer, 1);
    freeReplyObject(rep);
    rep = redisCommand(c, "EXISTS ratelimit:{%s}:app:ping:3600", acme_id);
    ck_assert(rep && rep->type == REDIS_REPLY_INTEGER);
    ck_assert_int_eq(rep->integer, 0);
    freeReplyObject(rep);
    redisFree(c);
    mn_identity_free(bot);
    mn_close(db);
}
END_TEST

/* Counts the rate limiter's reports (the handle's Redis cache reports its own failures). */
static int logged;
static void count_log(void *ctx, const char *msg)
{
    (void)ctx;
    if (strncmp(msg, "rate limiting", 13) == 0)
        logged++;
}

/* On a Redis of its own: stopping the shared one would fail the units using it meanwhile. */
START_TEST(server_stopped_then_restarted)
{
    const char *url = world(100, 600000), *dir = th_tmppath("redis");
    mn_config cfg = redis_cfg();
    cfg.redis_url = th_server("redis", "start", dir);
    ck_assert_ptr_nonnull(cfg.redis_url);
    cfg.log_fn = count_log;
    mn_db *open = th_open(url, &cfg);
    cfg.ratelimit_fail_closed = 1;
    mn_db *closed = th_open(url, &cfg);
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    TH_OK(open, mn_ratelimit_hit(open, &BOT, "app:ping", 1, &r));
    TH_OK(closed, mn_ratelimit_hit(closed, &BOT, "app:ping", 1, &r));
    ck_assert_int_eq(r.remaining, 98);

    th_server("redis", "pause", dir);
    for (int i = 0; i < 3; i++) {
        TH_OK(open, mn_ratelimit_hit(open, &BOT, "app:ping", 1, &r));
        ck_assert_int_eq(r.allowed, 1);
        ck_assert_int_eq(r.checked, 0);
        TH_RC(closed, mn_ratelimit_hit(closed, &BOT, "app:ping", 1, &r), MN_EBACKEND);
        ck_assert_int_eq(r.allowed, 0);
        ck_assert_msg(strstr(mn_errmsg(closed), "Redis"), "%s", mn_errmsg(closed));
    }
    /* more than the limit never fits: refused, not left to the fail mode */
    TH_RC(open, mn_ratelimit_hit(open, &BOT, "app:ping", 101, &r), MN_ELIMITED);
    ck_assert_int_eq(r.allowed, 0);
    ck_assert_int_eq(r.checked, 0);
    ck_assert_int_eq(r.retry_after_ms, -1);
    /* the library's own calls too: fail-closed refuses the add, which changes nothing */
    TH_OK(closed, mn_limit_set(closed, &SYS, "memory:create", 10, 600000));
    mn_memory_input in = TH_IN(.text = "while Redis is down");
    TH_RC(closed, mn_memory_add(closed, &BOT, &in, NULL), MN_EBACKEND);
    ck_assert_uint_eq(th_count_memories(closed, &SYS, 0), 0);
    TH_OK(open, mn_memory_add(open, &BOT, &in, NULL));
    mn_ratelimit_stats st = MN_RATELIMIT_STATS_INIT;
    TH_OK(open, mn_ratelimit_stats_get(open, &st));
    ck_assert_uint_eq(st.fail_open, 4);
    ck_assert_int_eq(logged, 2); /* once per handle and interval, not per call */
    TH_OK(closed, mn_ratelimit_stats_get(closed, &st));
    ck_assert_uint_eq(st.fail_closed, 4);
    /* A call that failed open succeeded: it leaves no failure, and the thread's last failure
     * on the handle stays the one before it. */
    TH_OK(open, mn_ratelimit_hit(open, &BOT, "app:ping", 1, &r));
    ck_assert_int_eq(r.checked, 0);
    ck_assert_int_eq(mn_errcode(open), MN_OK);
    TH_RC(open, mn_ratelimit_hit(open, &BOT, "app:ping", 0, &r), MN_EINVAL);
    TH_OK(open, mn_memory_add(open, &BOT, &in, NULL));
    ck_assert_int_eq(mn_errcode(open), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(open), "n is 0"), "%s", mn_errmsg(open));

    th_server("redis", "start", dir);
    TH_OK(open, mn_ratelimit_hit(open, &BOT, "app:ping", 1, &r));
    ck_assert_int_eq(r.checked, 1);
    TH_OK(closed, mn_ratelimit_hit(closed, &BOT, "app:ping", 1, &r));
    ck_assert_int_eq(r.checked, 1);
    TH_OK(closed, mn_memory_add(closed, &BOT, &in, NULL));
    mn_close(open);
    mn_close(closed);
    th_server("redis", "stop", dir);
}
END_TEST

static Suite *redis_suite(void)
{
    Suite *s = suite_create("ratelimit_redis");
    TCase *tc = tcase_create("redis");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, backends_agree);
    tcase_add_test(tc, exact_across_processes);
    tcase_add_test(tc, any_call_size_at_fixed_cost);
    tcase_add_test(tc, per_identity_keys);
    tcase_add_test(tc, window_rolls_over);
    tcase_add_test(tc, script_reloaded_after_flush);
    tcase_add_test(tc, server_stopped_then_restarted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(redis_suite());
}
