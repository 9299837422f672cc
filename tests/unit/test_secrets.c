/*
 * Secrets never shown. Hostile database URLs (PostgreSQL on a loopback port that refuses, so
 * libpq's own messages are met), hostile Redis URLs, an embeddings server on loopback
 * (tests/support/embed_server.py) that echoes the Authorization header or a URL with a key in
 * it: no secret may appear in mn_errmsg, in mn_db_url, or in what log_fn receives. Then the
 * redaction itself on text no handle knows (the rules for any URL and Bearer token).
 */
#include "support/embed_server.h"
#include "support/harness.h"

#include "core/error.h"
#include "core/secrets.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every secret below holds one of these, and no message holds them otherwise. Q7TAIL is the
 * end of a password whose start a broken parse would leave out. */
static const char *const marks[] = {"S3CRET", "Q7TAIL"};

static void assert_clean(const char *what, const char *input, const char *text)
{
    for (size_t i = 0; i < sizeof marks / sizeof *marks; i++)
        ck_assert_msg(!text || !strstr(text, marks[i]), "%s shows a secret of %s: %s", what,
                      input, text);
}

/* What log_fn received, all lines. */
static char logged[16384];
static void capture(void *ctx, const char *msg)
{
    (void)ctx;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof logged - n, "%s\n", msg);
}

/* ---- database URLs: mn_open fails, and says why without the secret ------------------------ */

static const struct {
    const char *url;
    const char *says; /* what the message must still say */
} hostile_db_urls[] = {
    /* libpq repeats a URI it cannot parse, or the token it could not decode */
    {"postgres://app:S3CRET@[::1/db", "IPv6"},
    {"postgres://app:S3CRET%ZZ@127.0.0.1:1/db", "percent-encoded"},
    /* a password with '#', '?' or '@' in it, unescaped */
    {"postgres://app:S3CRET#Q7TAIL@127.0.0.1:1/db", "cannot connect"},
    {"postgres://app:S3CRET?Q7TAIL@127.0.0.1:1/db", "cannot connect"},
    {"postgres://app:S3CRET@Q7TAIL@127.0.0.1:1/db", "%40"},
    /* secrets as parameters: %-encoded names, libpq's sslpassword, a replica's URL */
    {"postgres://app@127.0.0.1:1/db?pass%77ord=S3CRET", "cannot connect"},
    {"postgres://app@127.0.0.1:1/db?password=S3CRET&connect_timeout=x", "connect_timeout"},
    {"postgres://app@127.0.0.1:1/db?sslpassword=S3CRET&sslmode=bogus", "sslmode"},
    {"postgres://app@127.0.0.1:1/db?read_url=postgres%3A%2F%2Fapp%3AS3CRET%40127.0.0.1%3A1%2Fdb",
     "cannot connect"},
    {"postgres://app@127.0.0.1:1/db?read_url=postgres://app:S3CRET@Q7TAIL@h/db", "%40"},
    {"postgres://app:S3CRET@127.0.0.1:1/db?vector=bogus", "vector"},
    /* a scheme no backend has */
    {"mysql://app:S3CRET@127.0.0.1:1/db", "mysql"},
};

START_TEST(database_urls)
{
    const char *url = hostile_db_urls[_i].url;
    logged[0] = '\0';
    mn_config cfg = {.version = MN_CONFIG_VERSION, .log_fn = capture};
    mn_db *db = NULL;
    int rc = mn_open(&db, url, &cfg);
    ck_assert_msg(rc != MN_OK, "%s opened", url);
    ck_assert_msg(strstr(mn_errmsg(db), hostile_db_urls[_i].says), "%s: %s", url,
                  mn_errmsg(db));
    assert_clean("mn_errmsg", url, mn_errmsg(db));
    assert_clean("mn_db_url", url, mn_db_url(db));
    ck_assert_msg(strstr(mn_db_url(db), "***"), "%s shown as %s", url, mn_db_url(db));
    assert_clean("log_fn", url, logged);
    mn_close(db);
}
END_TEST

/* ---- Redis URLs: errors at open, and the fail-open log line at the first call ---------------- */

static const char *const hostile_redis_urls[] = {
    "redis://:S3CRET@127.0.0.1:1",
    "redis://S3CRET@127.0.0.1:1",              /* a user alone is Redis's password */
    "redis://app:S3CRET@127.0.0.1:1/0",
    "redis://:S3CRET?Q7TAIL@127.0.0.1:1",      /* refused at open: a query */
    "redis://:S3CRET@127.0.0.1:1/S3CRET",      /* refused at open: a bad database */
};

START_TEST(redis_urls)
{
    const char *url = hostile_redis_urls[_i];
    for (int closed = 0; closed <= 1; closed++) {
        logged[0] = '\0';
        mn_config cfg = {.version = MN_CONFIG_VERSION, .redis_url = url, .ratelimit = MN_RATELIMIT_REDIS,
                         .ratelimit_fail_closed = closed, .redis_connect_timeout_ms = 1000,
                         .log_fn = capture};
        mn_db *db = NULL;
        if (mn_open(&db, th_sqlite_url(), &cfg) == MN_OK) {
            th_tenant(db, "acme");
            mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "acme"};
            mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
            TH_RC(db, mn_ratelimit_hit(db, &sys, "app:ping", 1, &r),
                  closed ? MN_EBACKEND : MN_OK);
            ck_assert_int_eq(r.checked, 0);
            if (!closed)
                ck_assert_msg(strstr(logged, "Redis"), "nothing logged for %s: %s", url, logged);
        }
        assert_clean("mn_errmsg", url, mn_errmsg(db));
        assert_clean("log_fn", url, logged);
        mn_close(db);
    }
}
END_TEST

/* ---- the embedder: an API key and a URL's secrets, echoed by the server ------------------- */

#define DIM 8
static struct es_server srv;

static void embed_setup(void)
{
    es_start(&srv, DIM);
}

static void embed_teardown(void)
{
    es_stop(&srv);
}

/* Opens a database with the openai embedder at base (a printf format taking the port), the
 * API key key, and embeds one text while the server answers in mode: the call must fail,
 * saying says, with none of the secrets. */
static void embed_fails(const char *base, const char *key, const char *mode, const char *says)
{
    char url[256];
    snprintf(url, sizeof url, base, srv.port);
    setenv("MANUSHYA_EMBED_API_KEY", key, 1);
    logged[0] = '\0';
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embedder = "openai", .embed_url = url, .embed_dim = DIM,
                     .embed_retries = -1, .log_fn = capture};
    mn_db *db = th_open(th_sqlite_url(), &cfg);
    es_mode(&srv, mode, -1, 0, 0);
    float v[DIM];
    TH_RC(db, mn_embed(db, "hello", v, DIM), MN_EBACKEND);
    ck_assert_msg(strstr(mn_errmsg(db), says), "%s: %s", url, mn_errmsg(db));
    assert_clean("mn_errmsg", url, mn_errmsg(db));
    assert_clean("log_fn", url, logged);
    mn_close(db);
}

START_TEST(embedder_echoes)
{
    /* the key, echoed in the header and alone */
    embed_fails("http://127.0.0.1:%d/v1", "sk-S3CRET", "401_echo", "HTTP 401");
    /* a key with characters a Bearer token has not: only knowing it hides it */
    embed_fails("http://127.0.0.1:%d/v1", "k S3CRET!Q7TAIL", "401_echo", "HTTP 401");
    /* the URL's user:password@ part and a key in its query, echoed back in a 404's path */
    embed_fails("http://app:S3CRET@127.0.0.1:%d/v1", "sk-S3CRET", "401_echo", "HTTP 401");
    embed_fails("http://127.0.0.1:%d/v1?api_key=S3CRET", "", "ok", "HTTP 404");
    embed_fails("http://127.0.0.1:%d/v1?sig=S3CRET&api-version=1", "", "ok", "HTTP 404");
}
END_TEST

/* ---- the log line itself --------------------------------------------------------------------- */

START_TEST(log_lines_hide_known_secrets)
{
    logged[0] = '\0';
    mn_config cfg = {.version = MN_CONFIG_VERSION, .log_fn = capture,
                     .embed_url = "http://h/v1?token=S3CRET%21Q7TAIL"};
    mn_db *db = th_open(th_sqlite_url(), &cfg);
    mni_log(db, "the token was %s and %s", "S3CRET!Q7TAIL", "S3CRET%21Q7TAIL");
    ck_assert_str_eq(logged, "the token was *** and ***\n");
    mn_close(db);
}
END_TEST

/* ---- redaction without a handle: any URL, any Bearer token ----------------------------------- */

static const struct {
    const char *in, *out;
} generic[] = {
    {"HTTP 401: Authorization: Bearer sk-S3CRET.x_y/z=", "HTTP 401: Authorization: Bearer ***"},
    {"bearer\tS3CRET-123; retry", "bearer\t***; retry"},
    {"in URI: \"postgresql://app:S3CRET@[::1/db\"", "in URI: \"postgresql://app:***@[::1/db\""},
    {"at http://u:S3CRET#Q7TAIL@h/v1: refused", "at http://u:***@h/v1: refused"},
    {"redis://S3CRET@h:6379 and http://u@h", "redis://***@h:6379 and http://u@h"},
    {"https://h/v1?api_key=S3CRET&model=m", "https://h/v1?api_key=***&model=m"},
    {"https://h/v1?Pass%57ord=S3CRET", "https://h/v1?Pass%57ord=***"},
    {"x://h/?u=http%3A%2F%2Fa%3AS3CRET%40h&v=1", "x://h/?u=***&v=1"},
    /* nothing secret: nothing changes */
    {"postgresql://app@h:5432/db?sslmode=disable&application_name=mn",
     "postgresql://app@h:5432/db?sslmode=disable&application_name=mn"},
    {"connection to server at \"127.0.0.1\", port 1 failed: Connection refused",
     "connection to server at \"127.0.0.1\", port 1 failed: Connection refused"},
    {"the bearer of bad news", "the bearer of bad news"},
};

START_TEST(generic_rules)
{
    char out[256];
    mni_redact(NULL, generic[_i].in, out, sizeof out);
    ck_assert_str_eq(out, generic[_i].out);
}
END_TEST

START_TEST(cut_after_redaction)
{
    struct mni_secrets s = {0};
    ck_assert_int_eq(mni_secrets_add(&s, "S3CRET", 6), MN_OK);
    char out[8];
    mni_redact(&s, "ab S3CRET", out, sizeof out);
    ck_assert_str_eq(out, "ab ***"); /* never "ab S3CR" */
    mni_redact(&s, "abcd S3CRET", out, sizeof out);
    ck_assert_str_eq(out, "abcd **");
    mni_secrets_free(&s);
}
END_TEST

static Suite *secrets_suite(void)
{
    Suite *s = suite_create("secrets");
    TCase *tc = tcase_create("handle");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, database_urls, 0, sizeof hostile_db_urls / sizeof *hostile_db_urls);
    tcase_add_loop_test(tc, redis_urls, 0,
                        sizeof hostile_redis_urls / sizeof *hostile_redis_urls);
    tcase_add_test(tc, log_lines_hide_known_secrets);
    suite_add_tcase(s, tc);
    tc = tcase_create("embedder");
    tcase_add_checked_fixture(tc, embed_setup, embed_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, embedder_echoes);
    suite_add_tcase(s, tc);
    tc = tcase_create("redact");
    tcase_add_loop_test(tc, generic_rules, 0, sizeof generic / sizeof *generic);
    tcase_add_test(tc, cut_after_redaction);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(secrets_suite());
}
