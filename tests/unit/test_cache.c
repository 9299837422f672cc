/*
 * The read-through cache in process (lib/cache/memory.c and its use by api/): the byte budget
 * and LRU eviction, expiry, generations, actors read through it and invalidated by every
 * write that changes them (also through another handle of the process), its settings checked,
 * stats and clear. The Redis backend: test_cache_redis.c.
 */
#include "support/harness.h"
#include "api/cache.h"
#include "api/search_rank.h"
#include "cache/cache.h"
#include "cache/codec.h"
#include "core/clock.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The in-process cache, asked for (MN_CACHE_AUTO keeps a SQLite handle uncached). */
static const mn_config memory_cache = TH_CONFIG(.cache = MN_CACHE_MEMORY);

static const mn_actor SYS = TH_ACTOR(.tenant = "acme");
static const mn_actor BOT = TH_ACTOR(.tenant = "acme", .identity = "bot");

static int has(struct mni_cache *c, const char *key, const char *want)
{
    void *v;
    size_t n;
    if (!c->ops->get(c, key, strlen(key), &v, &n))
        return 0;
    int same = n == strlen(want) && memcmp(v, want, n) == 0;
    free(v);
    ck_assert_msg(same, "entry %s holds another value", key);
    return 1;
}

static void put(struct mni_cache *c, const char *key, const char *val, int64_t ttl_ms)
{
    c->ops->put(c, key, strlen(key), val, strlen(val), ttl_ms);
}

START_TEST(lru_keeps_to_its_budget)
{
    /* 16 stripes of 4 KiB: each entry ~ 300 bytes, so a stripe holds about a dozen. */
    struct mni_cache *c = mni_cache_memory_create(NULL, 64 << 10, 60000);
    ck_assert_ptr_nonnull(c);
    char key[32], val[200];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        put(c, key, val, 60000);
    }
    uint64_t entries, bytes;
    c->ops->size(c, &entries, &bytes);
    ck_assert_uint_le(bytes, 64 << 10);
    ck_assert_uint_gt(entries, 100);
    ck_assert_uint_eq(atomic_load(&c->evictions), 2000 - entries);
    ck_assert(has(c, "k1999", val)); /* the newest stay */
    ck_assert(!has(c, "k0", val));   /* the oldest went */

    /* A hit makes an entry the most recent: it outlives those put after it. */
    struct mni_cache *d = mni_cache_memory_create(NULL, 16 * 1024, 60000);
    for (int i = 0; i < 4000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        put(d, key, val, 60000);
        ck_assert(has(d, "k0", val));
    }
    /* Too big for a stripe: not kept, and nothing else dropped for it. */
    char *big = malloc(8192);
    memset(big, 'b', 8191);
    big[8191] = '\0';
    uint64_t before = atomic_load(&d->evictions);
    put(d, "big", big, 60000);
    ck_assert(!has(d, "big", big));
    ck_assert_uint_eq(atomic_load(&d->evictions), before);
    free(big);

    /* A put replaces; clear empties. */
    put(d, "k0", "new", 60000);
    ck_assert(has(d, "k0", "new"));
    char err[64];
    ck_assert_int_eq(d->ops->clear(d, err, sizeof err), MN_OK);
    d->ops->size(d, &entries, &bytes);
    ck_assert_uint_eq(entries, 0);
    ck_assert_uint_eq(bytes, 0);
    ck_assert(!has(d, "k0", "new"));
    c->ops->destroy(c);
    d->ops->destroy(d);
}
END_TEST

START_TEST(entries_expire)
{
    struct mni_cache *c = mni_cache_memory_create(NULL, 1 << 20, 60000);
    put(c, "short", "x", 1);
    put(c, "long", "y", 60000);
    struct timespec ts = {0, 30 * 1000000};
    nanosleep(&ts, NULL); /* past the coarse clock's tick */
    ck_assert(!has(c, "short", "x"));
    ck_assert(has(c, "long", "y"));
    c->ops->destroy(c);
    /* max_age bounds every TTL. */
    c = mni_cache_memory_create(NULL, 1 << 20, 1);
    put(c, "long", "y", 60000);
    nanosleep(&ts, NULL);
    ck_assert(!has(c, "long", "y"));
    c->ops->destroy(c);
}
END_TEST

START_TEST(generations_move_on_and_are_shared)
{
    struct mni_cache *a = mni_cache_memory_create(NULL, 1 << 20, 60000);
    struct mni_cache *b = mni_cache_memory_create(NULL, 1 << 20, 60000);
    uint64_t g = a->ops->gen(a, "scope-x");
    ck_assert_uint_ne(g, 0);
    ck_assert_uint_eq(b->ops->gen(b, "scope-x"), g);
    ck_assert_int_eq(b->ops->bump(b, "scope-x"), 0);
    ck_assert_uint_ne(a->ops->gen(a, "scope-x"), g);
    a->ops->destroy(a);
    b->ops->destroy(b);
}
END_TEST

/* One call that resolves the actor: its code. */
static int probe(mn_db *db, const mn_actor *a)
{
    mn_decision *d = NULL;
    int rc = mn_policy_test(db, a, "read", "memory", NULL, &d);
    mn_decision_free(d);
    return rc;
}

START_TEST(actors_read_through_and_invalidated)
{
    const char *url = th_sqlite_url();
    mn_db *db = th_open(url, &memory_cache);
    th_tenant(db, "acme");
    TH_OK(db, mn_identity_create(db, &SYS, "bot", "agent", NULL, NULL));
    mn_db *other = th_open(url, &memory_cache);

    mn_cache_stats s = MN_CACHE_STATS_INIT;
    TH_OK(db, mn_cache_stats_get(db, &s));
    ck_assert_int_eq(s.backend, MN_CACHE_MEMORY);
    uint64_t h0 = s.hits;
    for (int i = 0; i < 5; i++)
        TH_OK(db, probe(db, &BOT));
    TH_OK(db, mn_cache_stats_get(db, &s));
    ck_assert_uint_ge(s.hits, h0 + 4);
    ck_assert_uint_gt(s.entries, 0);

    /* Deactivated through another handle: refused at once, not after the cached entry ages. */
    TH_OK(other, mn_identity_deactivate(other, &SYS, "bot"));
    TH_RC(db, probe(db, &BOT), MN_EDENIED);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(db), "deactivated"));

    /* A new identity of the name, and the tenant gone then made again: each seen at once. */
    TH_OK(other, mn_identity_delete(other, &SYS, "bot"));
    TH_RC(db, probe(db, &BOT), MN_ENOTFOUND);
    TH_OK(other, mn_identity_create(other, &SYS, "bot", "agent", NULL, NULL));
    TH_OK(db, probe(db, &BOT));
    mn_tenant *t;
    TH_OK(db, mn_tenant_get(db, "acme", &t));
    TH_OK(db, probe(db, &SYS));
    TH_OK(other, mn_tenant_delete(other, "acme"));
    TH_RC(db, probe(db, &SYS), MN_ENOTFOUND);
    th_tenant(other, "acme");
    mn_tenant *t2;
    TH_OK(db, mn_tenant_get(db, "acme", &t2));
    ck_assert_str_ne(t->id, t2->id);
    TH_OK(db, probe(db, &SYS)); /* resolves to the new tenant, not the cached old one */
    mn_tenant_free(t);
    mn_tenant_free(t2);

    /* Clear empties it; the next call reads the store again. */
    TH_OK(db, mn_cache_clear(db));
    TH_OK(db, mn_cache_stats_get(db, &s));
    ck_assert_uint_eq(s.entries, 0);
    mn_close(other);
    mn_close(db);
}
END_TEST

static uint64_t memory_hits(mn_db *db)
{
    mn_cache_stats s = MN_CACHE_STATS_INIT;
    TH_OK(db, mn_cache_stats_get(db, &s));
    return s.hits;
}

/* The text db reads for id, or "" when the memory is not found. */
static void text_is(mn_db *db, const char *id, unsigned flags, const char *want)
{
    mn_memory *m = NULL;
    int rc = mn_memory_get(db, &SYS, id, flags, &m);
    if (!*want) {
        ck_assert_int_eq(rc, MN_ENOTFOUND);
        return;
    }
    ck_assert_msg(rc == MN_OK, "mn_memory_get: %s", mn_errmsg(db));
    ck_assert_str_eq(m->text, want);
    mn_memory_free(m);
}

START_TEST(memories_read_through_and_invalidated)
{
    const char *url = th_sqlite_url();
    mn_db *db = th_open(url, &memory_cache);
    th_tenant(db, "acme");
    mn_db *other = th_open(url, &memory_cache);
    TH_OK(db, mn_identity_create(db, &SYS, "bot", "agent", NULL, NULL));
    const char *mid = th_add(db, &SYS, "bot", "first");
    text_is(db, mid, 0, "first");
    uint64_t h = memory_hits(db);
    mn_memory *a = th_get(db, &SYS, mid, 0), *b = th_get(db, &SYS, mid, 0);
    ck_assert_uint_ge(memory_hits(db), h + 2);
    /* A hit is the row the store gives, field for field. */
    ck_assert_str_eq(a->id, b->id);
    ck_assert_str_eq(a->metadata, b->metadata);
    ck_assert_str_eq(a->type, b->type);
    ck_assert_int_eq(a->version, b->version);
    ck_assert(a->importance == b->importance);
    ck_assert_int_eq(a->seq, b->seq);
    mn_memory_free(a);
    mn_memory_free(b);

    /* Each change through the other handle is read at once. */
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT,
                            .text = "second"};
    TH_OK(other, mn_memory_update(other, &SYS, mid, &ch, NULL));
    text_is(db, mid, 0, "second");
    TH_OK(other, mn_memory_delete(other, &SYS, mid, MN_DELETE_SOFT));
    text_is(db, mid, 0, "");
    text_is(db, mid, MN_WITH_DELETED, "second");
    TH_OK(other, mn_memory_restore(other, &SYS, mid));
    text_is(db, mid, 0, "second");
    TH_OK(other, mn_memory_delete(other, &SYS, mid, MN_DELETE_HARD));
    text_is(db, mid, MN_WITH_DELETED, "");
    mn_close(other);
    mn_close(db);
}
END_TEST

/* The value of the cache's counter (hits or misses) for searches, from the handle's metrics. */
static double search_count(mn_db *db, const char *what)
{
    char *text = NULL, series[96];
    TH_OK(db, mn_metrics_write(db, MN_METRICS_PROMETHEUS, &text));
    snprintf(series, sizeof series, "manushya_cache_%s_total{cache=\"search\"} ", what);
    const char *p = strstr(text, series);
    double v = p ? strtod(p + strlen(series), NULL) : -1;
    free(text);
    return v;
}

static mn_memories *search_for(mn_db *db, const mn_actor *a, const char *query, int k)
{
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = query;
    so.k = k;
    so.min_similarity = MN_SEARCH_OFF; /* every memory, related or not */
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, a, &so, &l));
    return l;
}

/* The ids of l, best first, with their similarities. */
static const char *ranking(const mn_memories *l)
{
    const char *s = "";
    for (size_t i = 0; i < l->count; i++)
        s = th_fmt("%s%s=%.6f ", s, l->items[i]->id, l->items[i]->similarity);
    return s;
}

START_TEST(searches_read_through_and_invalidated)
{
    const char *url = th_sqlite_url();
    mn_db *db = th_open(url, &memory_cache);
    th_tenant(db, "acme");
    mn_db *other = th_open(url, &memory_cache);
    TH_OK(db, mn_identity_create(db, &SYS, "bot", "agent", NULL, NULL));
    th_add(db, &SYS, "bot", "the deploy runs on fridays");
    th_add(db, &SYS, "bot", "coffee with oat milk");
    th_add(db, &SYS, "bot", "the cat is called pixel");

    mn_memories *a = search_for(db, &SYS, "when do we deploy", 2);
    double hits = search_count(db, "hits"), misses = search_count(db, "misses");
    mn_memories *b = search_for(db, &SYS, "when do we deploy", 2);
    ck_assert(search_count(db, "hits") == hits + 1);
    /* A hit is what the search found, row for row, in its order, with its similarities. */
    ck_assert_str_eq(ranking(a), ranking(b));
    ck_assert_uint_eq(b->count, 2);
    ck_assert_str_eq(a->items[0]->text, b->items[0]->text);
    ck_assert_str_eq(a->items[0]->metadata, b->items[0]->metadata);
    ck_assert_int_eq(a->items[0]->version, b->items[0]->version);
    mn_memories_free(b);
    /* Another k, another query: other entries. */
    mn_memories_free(search_for(db, &SYS, "when do we deploy", 3));
    mn_memories_free(search_for(db, &SYS, "what is the cat called", 2));
    ck_assert(search_count(db, "misses") == misses + 2);

    /* A memory written through another handle is found by the next search at once. */
    const char *mid = th_add(other, &SYS, "bot", "when do we deploy");
    b = search_for(db, &SYS, "when do we deploy", 2);
    ck_assert_str_eq(b->items[0]->id, mid);
    mn_memories_free(b);
    /* And gone from it once deleted. */
    TH_OK(other, mn_memory_delete(other, &SYS, mid, MN_DELETE_SOFT));
    b = search_for(db, &SYS, "when do we deploy", 2);
    ck_assert_str_eq(ranking(a), ranking(b));
    mn_memories_free(a);
    mn_memories_free(b);
    mn_close(other);
    mn_close(db);
}
END_TEST

/* An entry lives no longer than its first memory to expire, and a hit holding a memory that has
 * expired since is a miss. */
START_TEST(searches_cached_until_a_memory_expires)
{
    mn_db *db = th_open(th_sqlite_url(), &memory_cache);
    const char *tid = th_tenant(db, "acme");
    float *vec = th_keep(calloc((size_t)mn_embed_dim(db), sizeof *vec));
    vec[0] = 1;
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.vector = vec;
    so.dim = mn_embed_dim(db);
    int64_t now = mni_now_ms();
    struct mni_store_query q = {.now = now};
    const struct mni_rank rank = {.k = 10};
    struct mni_wbuf key;
    ck_assert(mni_search_cache_key(db, tid, &q, vec, &so, &rank, &key));
    mn_memory m = {.id = "m1", .tenant_id = (char *)tid, .identity_id = "i", .text = "x",
                   .type = "note", .metadata = "{}", .expires_at = now + 200,
                   .similarity = 0.5};
    mn_memory *items[] = {&m};
    mn_memories l = {.count = 1, .items = items};
    mni_search_cache_put(db, &key, &q, &l);
    mn_memories *got = NULL;
    ck_assert(mni_search_cache_get(db, &key, &q, &got));
    ck_assert_str_eq(got->items[0]->id, "m1");
    ck_assert(got->items[0]->similarity == 0.5);
    mn_memories_free(got);
    q.now = now + 200; /* expired since */
    ck_assert(!mni_search_cache_get(db, &key, &q, &got));
    q.now = now;
    ck_assert(mni_search_cache_get(db, &key, &q, &got));
    mn_memories_free(got);
    /* And dropped by the cache at that instant, whatever the clock of the reader. */
    usleep(300 * 1000);
    ck_assert(!mni_search_cache_get(db, &key, &q, &got));
    /* Expired ones asked for: no limit but the TTL. */
    q.flags = MN_WITH_EXPIRED;
    struct mni_wbuf key2;
    ck_assert(mni_search_cache_key(db, tid, &q, vec, &so, &rank, &key2));
    mni_search_cache_put(db, &key2, &q, &l);
    q.now = now + 1000;
    ck_assert(mni_search_cache_get(db, &key2, &q, &got));
    mn_memories_free(got);
    mni_wbuf_free(&key);
    mni_wbuf_free(&key2);
    mn_close(db);
}
END_TEST

START_TEST(settings_checked)
{
    const char *url = th_sqlite_url();
    mn_db *db = NULL;
    mn_config c = TH_CONFIG(.cache = 7);
    TH_RC(db, mn_open(&db, url, &c), MN_EINVAL);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(db), "mn_config.cache is 7"));
    mn_close(db);
    c = (mn_config)TH_CONFIG(.cache = MN_CACHE_REDIS);
    TH_RC(db, mn_open(&db, url, &c), MN_EINVAL);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(db), "redis_url"));
    mn_close(db);
    c = (mn_config)TH_CONFIG(.cache_local_ms = -1);
    TH_RC(db, mn_open(&db, url, &c), MN_EINVAL);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(db), "cache_local_ms"));
    mn_close(db);
    /* Refused before the database is made: bad settings change nothing. */
    const char *path = strchr(url, ':') + 1;
    ck_assert_int_ne(access(path, F_OK), 0);

    /* MN_CACHE_AUTO on SQLite: none (another process would see this one's entries stale). */
    db = th_open(url, NULL);
    mn_cache_stats auto_s = MN_CACHE_STATS_INIT;
    TH_OK(db, mn_cache_stats_get(db, &auto_s));
    ck_assert_int_eq(auto_s.backend, MN_CACHE_OFF);
    mn_close(db);
    c = (mn_config)TH_CONFIG(.cache = MN_CACHE_OFF);
    db = th_open(url, &c);
    th_tenant(db, "acme");
    TH_OK(db, probe(db, &SYS));
    mn_cache_stats s = MN_CACHE_STATS_INIT;
    TH_OK(db, mn_cache_stats_get(db, &s));
    ck_assert_int_eq(s.backend, MN_CACHE_OFF);
    ck_assert_uint_eq(s.hits + s.misses, 0);
    TH_OK(db, mn_cache_clear(db));
    mn_cache_stats bad = {.version = 99};
    TH_RC(db, mn_cache_stats_get(db, &bad), MN_EINVAL);
    mn_close(db);
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("memory");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, lru_keeps_to_its_budget);
    tcase_add_test(tc, entries_expire);
    tcase_add_test(tc, generations_move_on_and_are_shared);
    tcase_add_test(tc, actors_read_through_and_invalidated);
    tcase_add_test(tc, memories_read_through_and_invalidated);
    tcase_add_test(tc, searches_read_through_and_invalidated);
    tcase_add_test(tc, searches_cached_until_a_memory_expires);
    tcase_add_test(tc, settings_checked);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(cache_suite());
}
