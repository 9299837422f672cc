/*
 * What a build has (mn_features, mn_feature_name) and what it says when asked for a backend it
 * was made without: MN_EUNSUPPORTED naming the build switch that would add it, nothing
 * created, no secret in the message. Run in every variant (make check, and the minimal
 * make check WITH_POSTGRES=0 WITH_REDIS=0 WITH_CURL=0): each case asserts the built backend
 * is taken (it fails for another reason than MN_EUNSUPPORTED) or the unbuilt one is refused.
 */
#include "support/harness.h"

#include <stdio.h>
#include <string.h>

static const struct {
    unsigned bit;
    const char *name;
} known[] = {
    {MN_FEATURE_POSTGRES, "postgres"},
    {MN_FEATURE_REDIS, "redis"},
    {MN_FEATURE_HTTP_EMBED, "http-embed"},
};

START_TEST(feature_bits_and_names)
{
    unsigned all = 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        ck_assert_str_eq(mn_feature_name(known[i].bit), known[i].name);
        all |= known[i].bit;
    }
    ck_assert_uint_eq(mn_features() & ~all, 0); /* no bit without a name */
    ck_assert_ptr_null(mn_feature_name(0));
    ck_assert_ptr_null(mn_feature_name(MN_FEATURE_POSTGRES | MN_FEATURE_REDIS));
    ck_assert_ptr_null(mn_feature_name(1u << 31));
}
END_TEST

/* mn_open(url, cfg): with the feature, anything but MN_EUNSUPPORTED (the backend was found and
 * tried); without it, MN_EUNSUPPORTED with a message naming the switch and the library, and
 * without secret. */
static void open_needs(unsigned feature, const char *url, const mn_config *cfg,
                       const char *option, const char *lib, const char *secret)
{
    mn_db *db = NULL;
    int rc = mn_open(&db, url, cfg);
    const char *msg = mn_errmsg(db);
    if (mn_features() & feature) {
        ck_assert_msg(rc != MN_EUNSUPPORTED, "%s: %s", url, msg);
    } else {
        ck_assert_msg(rc == MN_EUNSUPPORTED, "%s: rc %d: %s", url, rc, msg);
        ck_assert_msg(strstr(msg, th_fmt("needs a build with %s=1", option)) &&
                      strstr(msg, th_fmt("built without %s", lib)), "message: %s", msg);
    }
    ck_assert_msg(!secret || !strstr(msg, secret), "the message shows the secret: %s", msg);
    mn_close(db);
}

START_TEST(postgres_urls)
{
    /* Port 1 refuses at once: a build with the backend fails to connect (MN_EBACKEND). */
    const char *urls[] = {"postgres://bob:hunter2@127.0.0.1:1/db",
                          "postgresql://bob:hunter2@127.0.0.1:1/db"};
    for (size_t i = 0; i < 2; i++)
        open_needs(MN_FEATURE_POSTGRES, urls[i], NULL, "WITH_POSTGRES", "libpq", "hunter2");
    if (!(mn_features() & MN_FEATURE_POSTGRES)) {
        mn_db *db = NULL;
        ck_assert_int_eq(mn_open(&db, urls[0], NULL), MN_EUNSUPPORTED);
        ck_assert_ptr_nonnull(strstr(mn_errmsg(db), "postgres://"));
        mn_close(db);
    }
}
END_TEST

START_TEST(redis_counters)
{
    /* Redis connects lazily: a build with it opens. */
    const char *url = th_sqlite_url();
    open_needs(MN_FEATURE_REDIS, url, &(mn_config){.version = MN_CONFIG_VERSION,
                                                   .redis_url = "redis://:s3cret@127.0.0.1:1"},
               "WITH_REDIS", "hiredis", "s3cret");
    open_needs(MN_FEATURE_REDIS, th_sqlite_url(),
               &(mn_config){.version = MN_CONFIG_VERSION, .ratelimit = MN_RATELIMIT_REDIS,
                            .redis_url = "redis://127.0.0.1:1"},
               "WITH_REDIS", "hiredis", NULL);
    /* Without Redis the in-process limiter is still there. */
    mn_db *db = th_open(th_sqlite_url(), &(mn_config){.version = MN_CONFIG_VERSION,
                                                      .ratelimit = MN_RATELIMIT_MEMORY});
    mn_close(db);
}
END_TEST

START_TEST(http_embedder)
{
    /* With libcurl the openai embedder is found and then wants its URL (MN_EINVAL). */
    open_needs(MN_FEATURE_HTTP_EMBED, th_sqlite_url(),
               &(mn_config){.version = MN_CONFIG_VERSION, .embedder = "openai", .embed_model = "m",
                            .embed_dim = 4},
               "WITH_CURL", "libcurl", NULL);
    /* An unknown name lists the embedders this build has. */
    mn_db *db = NULL;
    ck_assert_int_eq(mn_open(&db, th_sqlite_url(), &(mn_config){.version = MN_CONFIG_VERSION,
                                                                .embedder = "nope"}), MN_EINVAL);
    const char *msg = mn_errmsg(db);
    ck_assert_msg(strstr(msg, "unknown embedder \"nope\"") && strstr(msg, "local"), "%s", msg);
    ck_assert_msg(!strstr(msg, "openai") == !(mn_features() & MN_FEATURE_HTTP_EMBED), "%s", msg);
    mn_close(db);
}
END_TEST

/* A scheme no backend has: refused by its scheme alone, the rest of the URL (which may hold a
 * password) not repeated. */
START_TEST(unknown_scheme)
{
    mn_db *db = NULL;
    ck_assert_int_eq(mn_open(&db, "mysql://bob:hunter2@h/db", NULL), MN_EUNSUPPORTED);
    const char *msg = mn_errmsg(db);
    ck_assert_msg(strstr(msg, "\"mysql\"") && !strstr(msg, "hunter2"), "%s", msg);
    mn_close(db);
}
END_TEST

static Suite *features_suite(void)
{
    Suite *s = suite_create("features");
    TCase *tc = tcase_create("build");
    tcase_add_test(tc, feature_bits_and_names);
    tcase_add_test(tc, postgres_urls);
    tcase_add_test(tc, redis_counters);
    tcase_add_test(tc, http_embedder);
    tcase_add_test(tc, unknown_scheme);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    mn_global_init();
    th_init();
    printf("# features:");
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (mn_features() & known[i].bit)
            printf(" %s", known[i].name);
    printf("\n");
    return th_run(features_suite());
}
