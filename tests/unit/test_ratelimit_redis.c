/*
 * Rate limiting with the counters in Redis (tests/servers/redis.sh starts a real redis-server:
 * MN_REDIS_URL, MN_REDIS_DIR): exactness across processes on one key, window roll-over, the
 * script reloaded after SCRIPT FLUSH, and the server stopped mid-run then restarted: fail-open
 * and fail-closed honoured, and recovery without reopening the handle.
 */
#include "support/harness.h"

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

/* A fresh database with tenant acme, agent bot and acme's limit for app:ping. */
static const char *world(int64_t limit, int64_t window_ms)
{
    const char *url = th_sqlite_url();
    mn_db *db = th_open(url, NULL);
    th_tenant(db, "acme");
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

static void server(const char *cmd)
{
    const char *top = getenv("MN_TOP"), *dir = getenv("MN_REDIS_DIR");
    ck_assert_msg(top && dir, "MN_TOP and MN_REDIS_DIR must be set (tests/run.sh sets them)");
    char line[2048];
    snprintf(line, sizeof line, "sh '%s/tests/servers/redis.sh' %s '%s' >/dev/null", top, cmd,
             dir);
    ck_assert_int_eq(system(line), 0);
}

START_TEST(exact_across_processes)
{
    enum { PROCS = 4, CALLS = 120, LIMIT = 157 };
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
    ck_assert_int_le(r.retry_after_ms, 401);
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
    redisContext *c = redisConnect("127.0.0.1", atoi(strrchr(redis_url(), ':') + 1));
    ck_assert(c && !c->err);
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

static int logged;
static void count_log(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
    logged++;
}

START_TEST(server_stopped_then_restarted)
{
    const char *url = world(100, 600000);
    mn_config cfg = redis_cfg();
    cfg.log_fn = count_log;
    mn_db *open = th_open(url, &cfg);
    cfg.ratelimit_fail_closed = 1;
    mn_db *closed = th_open(url, &cfg);
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    TH_OK(open, mn_ratelimit_hit(open, &BOT, "app:ping", 1, &r));
    TH_OK(closed, mn_ratelimit_hit(closed, &BOT, "app:ping", 1, &r));
    ck_assert_int_eq(r.remaining, 98);

    server("pause");
    for (int i = 0; i < 3; i++) {
        TH_OK(open, mn_ratelimit_hit(open, &BOT, "app:ping", 1, &r));
        ck_assert_int_eq(r.allowed, 1);
        ck_assert_int_eq(r.checked, 0);
        TH_RC(closed, mn_ratelimit_hit(closed, &BOT, "app:ping", 1, &r), MN_EBACKEND);
        ck_assert_int_eq(r.allowed, 0);
        ck_assert_msg(strstr(mn_errmsg(closed), "Redis"), "%s", mn_errmsg(closed));
    }
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

    server("start");
    TH_OK(open, mn_ratelimit_hit(open, &BOT, "app:ping", 1, &r));
    ck_assert_int_eq(r.checked, 1);
    TH_OK(closed, mn_ratelimit_hit(closed, &BOT, "app:ping", 1, &r));
    ck_assert_int_eq(r.checked, 1);
    TH_OK(closed, mn_memory_add(closed, &BOT, &in, NULL));
    mn_close(open);
    mn_close(closed);
}
END_TEST

static Suite *redis_suite(void)
{
    Suite *s = suite_create("ratelimit_redis");
    TCase *tc = tcase_create("redis");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, exact_across_processes);
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
