/*
 * The read-through cache in Redis (tests/servers/redis.sh starts a real redis-server:
 * MN_REDIS_URL): two handles on one database sharing one server never read a stale actor
 * whatever the order of their writes and reads, mn_cache_clear reaches the other handle, and
 * a server that cannot be reached is a miss, counted and logged once, never an error, and a
 * write made while it was down is not read from it once it is back; an encrypted database's
 * memories never go there.
 */
#include "support/harness.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const mn_actor SYS = TH_ACTOR(.tenant = "acme");
static const mn_actor BOT = TH_ACTOR(.tenant = "acme", .identity = "bot");

static mn_config redis_cfg(const char *url)
{
    mn_config c = TH_CONFIG(.redis_url = url, .cache = MN_CACHE_REDIS,
                            .ratelimit = MN_RATELIMIT_MEMORY, .redis_timeout_ms = 500,
                            .redis_connect_timeout_ms = 500);
    return c;
}

static const char *redis_url(void)
{
    const char *u = getenv("MN_REDIS_URL");
    ck_assert_msg(u && *u, "MN_REDIS_URL is not set: run through make check (tests/run.sh "
                  "starts tests/servers/redis.sh)");
    return u;
}

/* mn_policy_test's code for the actor: it resolves the actor (through the cache) first. */
static int probe(mn_db *db, const mn_actor *a, int *allowed)
{
    mn_decision *d = NULL;
    int rc = mn_policy_test(db, a, "read", "memory", NULL, &d);
    if (allowed)
        *allowed = d ? d->allowed : -1;
    mn_decision_free(d);
    return rc;
}

static uint64_t hits(mn_db *db)
{
    mn_cache_stats s = MN_CACHE_STATS_INIT;
    TH_OK(db, mn_cache_stats_get(db, &s));
    ck_assert_int_eq(s.backend, MN_CACHE_REDIS);
    ck_assert_uint_eq(s.failures, 0);
    return s.hits;
}

/* The text of the best match for query that the system actor finds (the same query twice: the
 * second is served by the cache when nothing changed between). */
static const char *first_found(mn_db *db, const char *query)
{
    const char *text = NULL;
    for (int i = 0; i < 2; i++) {
        mn_search_options so = MN_SEARCH_OPTIONS_INIT;
        so.query = query;
        so.k = 1;
        so.min_similarity = MN_SEARCH_OFF; /* the one memory, however unlike the query */
        mn_memories *l = NULL;
        TH_OK(db, mn_memory_search(db, &SYS, &so, &l));
        ck_assert_uint_eq(l->count, 1);
        ck_assert(!text || strcmp(text, l->items[0]->text) == 0);
        text = th_fmt("%s", l->items[0]->text);
        mn_memories_free(l);
    }
    return text;
}

START_TEST(interleaved_writes_never_stale)
{
    const char *url = th_sqlite_url();
    mn_config c = redis_cfg(redis_url());
    mn_db *a = th_open(url, &c), *b = th_open(url, &c);
    th_tenant(a, "acme");
    TH_OK(a, mn_identity_create(a, &SYS, "bot", "agent", NULL, NULL));
    mn_db *h[2] = {a, b};
    const char *deny = "{\"effect\":\"deny\",\"actions\":[\"read\"],\"resource\":\"memory\"}";
    for (int i = 0; i < 40; i++) {
        mn_db *w = h[i % 2], *r = h[(i + 1) % 2]; /* one writes, the other reads */
        int allowed, before;
        /* Warm both handles' view, then a policy that changes the verdict. */
        TH_OK(r, probe(r, &BOT, &before));
        TH_OK(w, probe(w, &BOT, NULL));
        mn_policy_input in = {.version = MN_POLICY_INPUT_VERSION, .role = "agent",
                              .rule = deny, .priority = 1000};
        mn_policy *p = NULL;
        TH_OK(w, mn_policy_add(w, &SYS, &in, &p));
        TH_OK(r, probe(r, &BOT, &allowed));
        ck_assert_int_eq(allowed, 0);
        TH_OK(r, mn_policy_delete(r, &SYS, p->id));
        TH_OK(w, probe(w, &BOT, &allowed));
        ck_assert_int_eq(allowed, before);
        mn_policy_free(p);
        /* The identity gone, then back: the reader sees each at once. */
        TH_OK(w, mn_identity_delete(w, &SYS, "bot"));
        TH_RC(r, probe(r, &BOT, NULL), MN_ENOTFOUND);
        TH_OK(w, mn_identity_create(w, &SYS, "bot", "agent", NULL, NULL));
        TH_OK(r, probe(r, &BOT, NULL));
        if (i % 10 == 9) {
            TH_OK(w, mn_identity_deactivate(w, &SYS, "bot"));
            TH_RC(r, probe(r, &BOT, NULL), MN_EDENIED);
            TH_OK(r, mn_identity_delete(r, &SYS, "bot"));
            TH_OK(r, mn_identity_create(r, &SYS, "bot", "agent", NULL, NULL));
        }
    }
    /* Memories: each update through one handle is what the other reads next. */
    const char *mid = th_add(a, &SYS, "bot", "v0");
    for (int i = 1; i <= 20; i++) {
        mn_db *w = h[i % 2], *r = h[(i + 1) % 2];
        mn_memory *m = th_get(r, &SYS, mid, 0);
        mn_memory_free(m);
        ck_assert_str_ne(first_found(r, "the memory"), "");
        char text[16];
        snprintf(text, sizeof text, "v%d", i);
        mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                                .set = MN_MEMORY_SET_TEXT, .text = text};
        TH_OK(w, mn_memory_update(w, &SYS, mid, &ch, NULL));
        m = th_get(r, &SYS, mid, 0);
        ck_assert_str_eq(m->text, text);
        mn_memory_free(m);
        /* And what a search finds: the one kept before the update is not served after. */
        ck_assert_str_eq(first_found(r, "the memory"), text);
        ck_assert_str_eq(first_found(w, "the memory"), text);
    }

    /* The cache did serve: repeated reads hit, in each handle. */
    uint64_t ha = hits(a), hb = hits(b);
    for (int i = 0; i < 3; i++) {
        TH_OK(a, probe(a, &BOT, NULL));
        TH_OK(b, probe(b, &BOT, NULL));
    }
    ck_assert_uint_ge(hits(a), ha + 2);
    ck_assert_uint_ge(hits(b), hb + 3); /* b's first read finds what a put */

    /* Cleared through one handle: the other's next read misses. */
    TH_OK(a, mn_cache_clear(a));
    hb = hits(b);
    TH_OK(b, probe(b, &BOT, NULL));
    ck_assert_uint_eq(hits(b), hb);
    mn_close(a);
    mn_close(b);
}
END_TEST

static int logged;

static void count_log(void *ctx, const char *msg)
{
    (void)ctx;
    if (strstr(msg, "cache (redis)"))
        logged++;
}

START_TEST(server_down_is_no_cache)
{
    const char *url = th_sqlite_url();
    mn_db *db = th_open(url, NULL);
    th_tenant(db, "acme");
    TH_OK(db, mn_identity_create(db, &SYS, "bot", "agent", NULL, NULL));
    mn_close(db);
    /* Port 1: nothing listens there; connecting is refused at once. */
    mn_config c = redis_cfg("redis://127.0.0.1:1");
    c.log_fn = count_log;
    logged = 0;
    db = th_open(url, &c);
    for (int i = 0; i < 20; i++)
        TH_OK(db, probe(db, &BOT, NULL));
    TH_OK(db, mn_identity_deactivate(db, &SYS, "bot")); /* its generation not taken: no error */
    TH_RC(db, probe(db, &BOT, NULL), MN_EDENIED);
    mn_cache_stats s = MN_CACHE_STATS_INIT;
    TH_OK(db, mn_cache_stats_get(db, &s));
    ck_assert_uint_eq(s.hits, 0);
    ck_assert_uint_ge(s.failures, 20);
    ck_assert_int_eq(logged, 1); /* once per redis_health_check_s, not per failure */
    TH_RC(db, mn_cache_clear(db), MN_EBACKEND);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(db), "mn_cache_clear"));
    mn_close(db);
}
END_TEST

/* Makes the server refuse writes for ms (CLIENT PAUSE ... WRITE: they wait, and time out
 * in the library), keeping what it holds, as a server that some clients cannot reach would. */
static void pause_writes(int ms)
{
    const char *u = redis_url();
    redisContext *c = redisConnect("127.0.0.1", atoi(strrchr(u, ':') + 1));
    ck_assert(c && !c->err);
    redisReply *r = redisCommand(c, "CLIENT PAUSE %d WRITE", ms);
    ck_assert(r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    redisFree(c);
}

START_TEST(write_during_outage_not_read_after)
{
    const char *url = th_sqlite_url();
    mn_config c = redis_cfg(redis_url());
    c.redis_retries = -1; /* each write waits one timeout (500 ms) into the pause, not two */
    c.log_fn = count_log;
    mn_db *a = th_open(url, &c), *b = th_open(url, &c);
    th_tenant(a, "acme");
    TH_OK(a, mn_identity_create(a, &SYS, "bot", "agent", NULL, NULL));
    int allowed;
    TH_OK(b, probe(b, &BOT, &allowed));
    TH_OK(b, probe(b, &BOT, &allowed)); /* the actor, with its policy generation, in Redis */
    ck_assert_int_eq(allowed, 1);
    pause_writes(2500);
    mn_policy_input in = {.version = MN_POLICY_INPUT_VERSION, .role = "agent", .priority = 1000,
                          .rule = "{\"effect\":\"deny\",\"actions\":[\"read\"],"
                                  "\"resource\":\"memory\"}"};
    TH_OK(a, mn_policy_add(a, &SYS, &in, NULL)); /* its bump times out: owed */
    struct timespec ts = {2, 700 * 1000000}; /* past the pause, and a's pause after failing */
    nanosleep(&ts, NULL);
    /* Nothing of b's changed in Redis: it would read the old policy generation it cached. a's
     * next call moves the epoch on before it reads; then b reads the change. */
    TH_OK(a, probe(a, &BOT, &allowed));
    ck_assert_int_eq(allowed, 0);
    TH_OK(b, probe(b, &BOT, &allowed));
    ck_assert_int_eq(allowed, 0);
    mn_close(a);
    mn_close(b);
}
END_TEST

/* Every value Redis holds, concatenated, through a connection of the test's own. */
static char *all_values(void)
{
    const char *u = redis_url();
    redisContext *c = redisConnect("127.0.0.1", atoi(strrchr(u, ':') + 1));
    ck_assert(c && !c->err);
    redisReply *keys = redisCommand(c, "KEYS mn:*"); /* a test's own server: KEYS is fine */
    ck_assert(keys && keys->type == REDIS_REPLY_ARRAY);
    size_t len = 0;
    char *all = calloc(1, 1);
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *v = redisCommand(c, "GET %b", keys->element[i]->str, keys->element[i]->len);
        if (v && v->type == REDIS_REPLY_STRING) {
            all = realloc(all, len + v->len + 1);
            memcpy(all + len, v->str, v->len);
            len += v->len;
            all[len] = '\0';
        }
        freeReplyObject(v);
    }
    freeReplyObject(keys);
    redisFree(c);
    /* Binary values may hold NULs: make the text searchable as a whole. */
    for (size_t i = 0; i < len; i++)
        if (!all[i])
            all[i] = ' ';
    return all;
}

START_TEST(encrypted_texts_never_in_redis)
{
    const char *url = th_sqlite_url(), *key = th_tmppath("master.key");
    ck_assert_int_eq(mn_master_key_create(key), MN_OK);
    mn_config c = redis_cfg(redis_url());
    c.flags = MN_OPEN_ENCRYPT;
    c.master_key_file = key;
    mn_db *db = th_open(url, &c);
    ck_assert_int_eq(mn_db_encrypted(db), 1);
    th_tenant(db, "acme");
    TH_OK(db, mn_identity_create(db, &SYS, "bot", "agent", NULL, NULL));
    /* A text of this run only: the server keeps other runs' entries. */
    const char *text = th_fmt("secret-zq7-%lld", (long long)th_now_ms());
    const char *id = th_add(db, &SYS, "bot", text);
    for (int i = 0; i < 3; i++) {
        mn_memory *m = th_get(db, &SYS, id, 0);
        ck_assert_str_eq(m->text, text);
        mn_memory_free(m);
    }
    char *all = all_values();
    ck_assert_ptr_nonnull(strstr(all, "bot")); /* the actor is cached there... */
    ck_assert_ptr_null(strstr(all, text));     /* ...the memory is not */
    free(all);
    mn_close(db);
}
END_TEST

static Suite *cache_redis_suite(void)
{
    Suite *s = suite_create("cache_redis");
    TCase *tc = tcase_create("redis");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, interleaved_writes_never_stale);
    tcase_add_test(tc, server_down_is_no_cache);
    tcase_add_test(tc, write_during_outage_not_read_after);
    tcase_add_test(tc, encrypted_texts_never_in_redis);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(cache_redis_suite());
}
