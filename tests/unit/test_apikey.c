/*
 * API keys through the public API: a key is made once (mk_<16 hex>_<64 hex>), lists never show
 * it, verification and acting by key work, scopes only narrow what the identity's policies
 * allow, a wrong, unknown, revoked or expired key is refused with one message, a revoke applies
 * at once through the handle, the last use is recorded at most once a minute, the store holds
 * only hashes, and bad input fails cleanly, changing nothing.
 *
 * Every case runs on SQLite and, when tests/run.sh gives MN_PG_URL, on PostgreSQL (a loop test
 * over stores; without the server that iteration says so and passes).
 */
#include "support/harness.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


/* A tenant "t" with an admin "boss" and two agents "a1", "a2" on a new database of store i;
 * NULL (the case is skipped) when that store has no server here. */
static mn_db *fresh(int i)
{
    const char *url = th_store_url(i);
    if (!url)
        return NULL;
    mn_db *db = th_open(url, NULL);
    th_tenant(db, "t");
    th_identity(db, "t", "boss");
    const mn_actor sys = TH_ACTOR(.tenant = "t");
    TH_OK(db, mn_identity_create(db, &sys, "a1", "agent", NULL, NULL));
    TH_OK(db, mn_identity_create(db, &sys, "a2", "agent", NULL, NULL));
    return db;
}

static const mn_actor sys = TH_ACTOR(.tenant = "t");

/* A new key for identity with scopes (NULL: none) and expiry; the key is kept. */
static const char *key_for(mn_db *db, const char *identity, const char *scopes, int64_t expires,
                           mn_apikey **out)
{
    mn_apikey_input in = MN_APIKEY_INPUT_INIT;
    in.identity = identity;
    in.scopes = scopes;
    in.expires_at = expires;
    char *key = NULL;
    TH_OK(db, mn_apikey_create(db, &sys, &in, &key, out));
    return th_keep(key);
}

static int is_hex(const char *s, size_t n)
{
    return strspn(s, "0123456789abcdef") >= n;
}

static size_t nkeys(mn_db *db)
{
    mn_apikeys *l = NULL;
    TH_OK(db, mn_apikey_list(db, &sys, NULL, &l));
    size_t n = l->count;
    mn_apikeys_free(l);
    return n;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

START_TEST(test_create_list_verify)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    mn_apikey *k = NULL;
    const char *key = key_for(db, "a1", NULL, 0, &k);
    ck_assert_uint_eq(strlen(key), 84);
    ck_assert(strncmp(key, "mk_", 3) == 0 && is_hex(key + 3, 16) && key[19] == '_' &&
              is_hex(key + 20, 64));
    ck_assert_str_eq(k->id, th_fmt("%.16s", key + 3));
    ck_assert_ptr_null(k->scopes);
    ck_assert_int_eq(k->last_used_at, 0);

    /* Two keys never share id or secret (256 random bits each). */
    const char *other = key_for(db, "a1", NULL, 0, NULL);
    ck_assert(strncmp(key + 3, other + 3, 16) != 0 && strcmp(key + 20, other + 20) != 0);

    /* The list shows ids, never a secret. */
    mn_apikeys *l = NULL;
    TH_OK(db, mn_apikey_list(db, &sys, "a1", &l));
    ck_assert_uint_eq(l->count, 2);
    for (size_t i = 0; i < l->count; i++) {
        const mn_apikey *x = l->items[i];
        ck_assert(strstr(key + 20, x->id) == NULL);
        ck_assert(!x->scopes || !strstr(x->scopes, key + 20));
    }
    mn_apikeys_free(l);
    TH_OK(db, mn_apikey_list(db, &sys, "a2", &l));
    ck_assert_uint_eq(l->count, 0);
    mn_apikeys_free(l);

    mn_apikey *v = NULL;
    TH_OK(db, mn_apikey_verify(db, key, &v));
    ck_assert_str_eq(v->id, k->id);
    ck_assert_str_eq(v->identity_id, k->identity_id);
    ck_assert_str_eq(v->tenant_id, k->tenant_id);
    mn_apikey_free(v);
    TH_OK(db, mn_apikey_verify(db, key, NULL)); /* cached */
    mn_apikey_free(k);
    mn_close(db);
}
END_TEST

START_TEST(test_act_by_key_scopes_and_policies)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    const char *full = key_for(db, "a1", NULL, 0, NULL);
    const mn_actor by_key = TH_ACTOR(.api_key = full);
    const char *mine = th_add(db, &by_key, NULL, "a note of a1's");
    mn_memory *m = th_get(db, &by_key, mine, 0);
    mn_memory_free(m);

    /* Policies still apply: an agent's key reads no other agent's memory. */
    const mn_actor a2 = TH_ACTOR(.tenant = "t", .identity = "a2");
    const char *theirs = th_add(db, &a2, NULL, "a note of a2's");
    TH_RC(db, mn_memory_get(db, &by_key, theirs, 0, &m), MN_EDENIED);

    /* Scopes narrow: read only. */
    const char *ro = key_for(db, "a1", "[\"memory:read\"]", 0, NULL);
    const mn_actor reader = TH_ACTOR(.api_key = ro);
    m = th_get(db, &reader, mine, 0);
    mn_memory_free(m);
    mn_memory_input in = MN_MEMORY_INPUT_INIT;
    in.text = "not allowed";
    TH_RC(db, mn_memory_add(db, &reader, &in, NULL), MN_EDENIED);
    ck_assert(strstr(mn_errmsg(db), "memory:create"));
    mn_memories *l = NULL;
    TH_RC(db, mn_memory_list(db, &reader, NULL, &l), MN_EDENIED);
    ck_assert(strstr(mn_errmsg(db), "memory:list"));
    /* The dry run says the same. */
    mn_decision *d = NULL;
    TH_OK(db, mn_policy_test(db, &reader, "create", "memory", NULL, &d));
    ck_assert_int_eq(d->allowed, 0);
    mn_decision_free(d);

    /* A key and a tenant or identity at once is a mistake. */
    const mn_actor both = TH_ACTOR(.tenant = "t", .api_key = full);
    TH_RC(db, mn_memory_get(db, &both, mine, 0, &m), MN_EINVAL);
    ck_assert(strstr(mn_errmsg(db), "one or the other"));
    mn_close(db);
}
END_TEST

START_TEST(test_who_may_manage_keys)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    const mn_actor agent = TH_ACTOR(.tenant = "t", .identity = "a1");
    const mn_actor boss = TH_ACTOR(.tenant = "t", .identity = "boss");
    mn_apikey_input in = MN_APIKEY_INPUT_INIT;
    in.identity = "a1";
    char *key = NULL;
    TH_RC(db, mn_apikey_create(db, &agent, &in, &key, NULL), MN_EDENIED);
    ck_assert_ptr_null(key);
    TH_OK(db, mn_apikey_create(db, &boss, &in, &key, NULL));
    mn_free(key);
    mn_apikeys *l = NULL;
    TH_RC(db, mn_apikey_list(db, &agent, NULL, &l), MN_EDENIED);
    TH_OK(db, mn_apikey_list(db, &boss, NULL, &l));
    ck_assert_uint_eq(l->count, 1);
    TH_RC(db, mn_apikey_revoke(db, &agent, l->items[0]->id), MN_EDENIED);
    TH_OK(db, mn_apikey_revoke(db, &boss, l->items[0]->id));
    mn_apikeys_free(l);
    /* A key scoped to apikey:read lists but makes none, whatever its identity may do. */
    const char *lister = key_for(db, "boss", "[\"apikey:read\"]", 0, NULL);
    const mn_actor by_lister = TH_ACTOR(.api_key = lister);
    TH_OK(db, mn_apikey_list(db, &by_lister, NULL, &l));
    mn_apikeys_free(l);
    TH_RC(db, mn_apikey_create(db, &by_lister, &in, &key, NULL), MN_EDENIED);
    ck_assert(strstr(mn_errmsg(db), "apikey:create"));
    mn_close(db);
}
END_TEST

START_TEST(test_refusals_look_alike)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    const char *good = key_for(db, "a1", NULL, 0, NULL);
    const char *soon = key_for(db, "a1", NULL, th_now_ms() + 1500, NULL);
    const char *gone = key_for(db, "a1", NULL, 0, NULL);
    const char *idle = key_for(db, "a2", NULL, 0, NULL);
    TH_OK(db, mn_apikey_verify(db, soon, NULL));
    TH_OK(db, mn_apikey_verify(db, idle, NULL));
    TH_OK(db, mn_identity_deactivate(db, &sys, "a2"));
    TH_OK(db, mn_apikey_verify(db, gone, NULL));
    TH_OK(db, mn_apikey_revoke(db, &sys, th_fmt("%.16s", gone + 3)));
    char *wrong = th_keep(strdup(good));
    wrong[83] = wrong[83] == '0' ? '1' : '0';
    const char *unknown = th_fmt("mk_0000000000000000_%s", good + 20);
    nap_ms(1600);
    const char *bad[] = { wrong, unknown, gone, soon, idle };
    char first[512] = "";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TH_RC(db, mn_apikey_verify(db, bad[i], NULL), MN_EDENIED);
        if (!i)
            snprintf(first, sizeof first, "%s", mn_errmsg(db));
        ck_assert_str_eq(mn_errmsg(db), first);
        ck_assert(!strstr(mn_errmsg(db), bad[i] + 20));
        /* Acting by it: the same. */
        const mn_actor by = TH_ACTOR(.api_key = bad[i]);
        mn_identities *l = NULL;
        TH_RC(db, mn_identity_list(db, &by, &l), MN_EDENIED);
        ck_assert_str_eq(mn_errmsg(db), first);
    }
    TH_OK(db, mn_apikey_verify(db, good, NULL));
    mn_close(db);
}
END_TEST

START_TEST(test_revoke)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    const char *key = key_for(db, "a1", NULL, 0, NULL);
    const char *id = th_fmt("%.16s", key + 3);
    TH_OK(db, mn_apikey_verify(db, key, NULL)); /* cached now */
    TH_OK(db, mn_apikey_revoke(db, &sys, id));
    TH_RC(db, mn_apikey_verify(db, key, NULL), MN_EDENIED); /* at once, cache or not */
    TH_RC(db, mn_apikey_revoke(db, &sys, id), MN_ENOTFOUND);
    /* Another tenant's key is none of this one's. */
    const char *k2 = key_for(db, "a2", NULL, 0, NULL);
    th_tenant(db, "u");
    const mn_actor u = TH_ACTOR(.tenant = "u");
    TH_RC(db, mn_apikey_revoke(db, &u, th_fmt("%.16s", k2 + 3)), MN_ENOTFOUND);
    TH_OK(db, mn_apikey_verify(db, k2, NULL));
    /* Deleting the identity revokes its keys. */
    TH_OK(db, mn_identity_delete(db, &sys, "a2"));
    ck_assert_uint_eq(nkeys(db), 0);
    mn_close(db);
}
END_TEST

static int64_t last_used(mn_db *db)
{
    mn_apikeys *l = NULL;
    TH_OK(db, mn_apikey_list(db, &sys, NULL, &l));
    ck_assert_uint_eq(l->count, 1);
    int64_t t = l->items[0]->last_used_at;
    mn_apikeys_free(l);
    return t;
}

START_TEST(test_last_used_throttled)
{
    const char *url = th_store_url(_i);
    if (!url)
        return;
    mn_db *db = th_open(url, NULL), *other = th_open(url, NULL);
    th_tenant(db, "t");
    TH_OK(db, mn_identity_create(db, &sys, "a1", "agent", NULL, NULL));
    const char *key = key_for(db, "a1", NULL, 0, NULL);
    ck_assert_int_eq(last_used(db), 0);
    int64_t before = th_now_ms();
    TH_OK(db, mn_apikey_verify(db, key, NULL));
    int64_t first = last_used(db);
    ck_assert(first >= before && first <= th_now_ms());
    nap_ms(20);
    /* Again, through this handle and another (its own cache), past the cache's refresh: the
     * use within the minute is not written again. */
    for (int i = 0; i < 3; i++) {
        TH_OK(db, mn_apikey_verify(db, key, NULL));
        TH_OK(other, mn_apikey_verify(other, key, NULL));
    }
    nap_ms(1100);
    TH_OK(other, mn_apikey_verify(other, key, NULL));
    ck_assert_int_eq(last_used(db), first);
    mn_close(other);
    mn_close(db);
}
END_TEST

/* The database holds no key: not in its file, not in its WAL. */
START_TEST(test_store_keeps_hashes_only)
{
    const char *url = th_sqlite_url();
    mn_db *db = th_open(url, NULL);
    th_tenant(db, "t");
    TH_OK(db, mn_identity_create(db, &sys, "a1", "agent", NULL, NULL));
    const char *key = key_for(db, "a1", NULL, 0, NULL);
    TH_OK(db, mn_apikey_verify(db, key, NULL));
    mn_close(db);
    const char *path = url + strlen("sqlite:");
    const char *files[] = { path, th_fmt("%s-wal", path) };
    for (size_t f = 0; f < 2; f++) {
        size_t len = 0;
        char *bytes = th_read_file(files[f], &len);
        if (!bytes)
            continue;
        ck_assert_msg(!memmem(bytes, len, key + 20, 64), "%s holds the secret", files[f]);
        ck_assert(!memmem(bytes, len, key + 20, 16));
    }
}
END_TEST

START_TEST(test_bad_input_changes_nothing)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    key_for(db, "a1", NULL, 0, NULL);
    mn_apikey_input in = MN_APIKEY_INPUT_INIT;
    in.identity = "a1";
    char *key = NULL;
    TH_RC(db, mn_apikey_create(db, &sys, &in, NULL, NULL), MN_EINVAL);
    TH_RC(db, mn_apikey_create(db, &sys, NULL, &key, NULL), MN_EINVAL);
    const struct { const char *identity, *scopes; int64_t expires; int rc; const char *says; }
    cases[] = {
        { NULL, NULL, 0, MN_EINVAL, "identity" },
        { "a1", "[", 0, MN_EINVAL, "not a JSON array" },
        { "a1", "[]", 0, MN_EINVAL, "empty" },
        { "a1", "[\"memory:fly\"]", 0, MN_EINVAL, "memory:fly" },
        { "a1", "[1]", 0, MN_EINVAL, "not a string" },
        { "a1", NULL, 1000, MN_EINVAL, "future" },
        { "nobody", NULL, 0, MN_ENOTFOUND, "nobody" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        in.identity = cases[i].identity;
        in.scopes = cases[i].scopes;
        in.expires_at = cases[i].expires;
        TH_RC(db, mn_apikey_create(db, &sys, &in, &key, NULL), cases[i].rc);
        ck_assert_msg(strstr(mn_errmsg(db), cases[i].says), "case %zu: %s", i, mn_errmsg(db));
        ck_assert_ptr_null(key);
        ck_assert_uint_eq(nkeys(db), 1);
    }
    const char *malformed[] = { "", "mk_", "mk_0123_abcd", "sk_0000000000000000_"
                                "0000000000000000000000000000000000000000000000000000000000000000",
                                "mk_000000000000000G_"
                                "0000000000000000000000000000000000000000000000000000000000000000" };
    for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++)
        TH_RC(db, mn_apikey_verify(db, malformed[i], NULL), MN_EINVAL);
    TH_RC(db, mn_apikey_verify(db, NULL, NULL), MN_EINVAL);
    TH_RC(db, mn_apikey_revoke(db, &sys, NULL), MN_EINVAL);
    TH_RC(db, mn_apikey_revoke(db, &sys, "0123456789abcdef"), MN_ENOTFOUND);
    mn_apikeys *l = NULL;
    TH_RC(db, mn_apikey_list(db, &sys, "nobody", &l), MN_ENOTFOUND);
    ck_assert_uint_eq(nkeys(db), 1);
    mn_close(db);
}
END_TEST

/* Messages never show a key's secret, whatever brings it there. */
START_TEST(test_secret_never_in_messages)
{
    mn_db *db = th_open_fresh();
    const char *fake = "mk_0123456789abcdef_"
                       "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    /* A tenant name is quoted in its not-found message. */
    mn_tenant *t = NULL;
    TH_RC(db, mn_tenant_get(db, fake, &t), MN_ENOTFOUND);
    ck_assert(!strstr(mn_errmsg(db), fake + 20));
    mn_close(db);
}
END_TEST

static Suite *apikey_suite(void)
{
    Suite *s = suite_create("apikey");
    TCase *tc = tcase_create("keys");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_create_list_verify, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_act_by_key_scopes_and_policies, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_who_may_manage_keys, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_refusals_look_alike, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_revoke, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_last_used_throttled, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_bad_input_changes_nothing, 0, TH_NSTORES);
    tcase_add_test(tc, test_store_keeps_hashes_only);
    tcase_add_test(tc, test_secret_never_in_messages);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(apikey_suite());
}
