/*
 * Encryption at rest: what an encrypted database stores is sealed (read past the library, the
 * columns hold "mn1." values and no plain text; on SQLite no plain text is in any file), while
 * every call sees the plain values (get, list, metadata filters, search, history, embedding
 * jobs); a value moved to another row does not open; a missing, wrong or unprotected master
 * key is MN_EKEY at open; rotating the master key re-wraps the data keys; re-keying a tenant
 * goes in batches, survives a handle closed half-way, and leaves one key; erasing a tenant
 * destroys its keys. Every case runs on SQLite and, with MN_PG_URL, on PostgreSQL.
 */
#include "support/harness.h"
#include "support/raw_sql.h"

#include "crypto/seal.h"

#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DIM TH_HASH_DIM
#define SECRET "plain-zq"      /* in every stored text and metadata value */

/* A new master key file in the test's directory. */
static const char *new_key(const char *name)
{
    const char *path = th_tmppath(name);
    ck_assert_int_eq(mn_master_key_create(path), MN_OK);
    return path;
}

static mn_db *open_with(const char *url, const char *key, unsigned flags, int *rc)
{
    mn_config cfg = TH_CONFIG(.flags = flags, .embedder_plugin = &th_hash_embedder,
                              .master_key_file = key);
    mn_db *db = NULL;
    *rc = mn_open(&db, url, &cfg);
    return db;
}

static mn_db *open_key(const char *url, const char *key, unsigned flags)
{
    int rc;
    mn_db *db = open_with(url, key, flags, &rc);
    ck_assert_msg(rc == MN_OK, "mn_open: %s", mn_errmsg(db));
    return db;
}

static const mn_actor sys = TH_ACTOR(.tenant = "acme");

/* A new encrypted database of store i (NULL: no server here) and its key in *key, with
 * tenant acme, identity bot and memories holding SECRET (one updated: a history entry). */
static mn_db *fresh(int i, const char **url, const char **key)
{
    *url = th_store_url(i);
    if (!*url)
        return NULL;
    *key = new_key(th_fmt("master-%d.key", i));
    mn_db *db = open_key(*url, *key, MN_OPEN_ENCRYPT);
    ck_assert_int_eq(mn_db_encrypted(db), 1);
    th_tenant(db, "acme");
    th_identity(db, "acme", "bot");
    for (int k = 0; k < 4; k++) {
        mn_memory_input in = TH_IN(.identity = "bot", .text = th_fmt("%s text %d", SECRET, k),
                                   .metadata = th_fmt("{\"tag\":\"%s-%d\"}", SECRET, k % 2));
        th_add_in(db, &sys, &in);
    }
    return db;
}

static const char *tenant_id(mn_db *db)
{
    mn_tenant *t = NULL;
    TH_OK(db, mn_tenant_get(db, "acme", &t));
    const char *id = th_fmt("%s", t->id);
    mn_tenant_free(t);
    return id;
}

/* The id of acme's memory whose text ends with " text k". */
static const char *id_of(mn_db *db, int k)
{
    mn_memories *l = NULL;
    mn_list_options lo = MN_LIST_OPTIONS_INIT;
    lo.limit = 100;
    TH_OK(db, mn_memory_list(db, &sys, &lo, &l));
    const char *id = NULL;
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->items[i]->text, th_fmt("%s text %d", SECRET, k)) == 0)
            id = th_fmt("%s", l->items[i]->id);
    mn_memories_free(l);
    ck_assert_msg(id, "no memory with text %d", k);
    return id;
}

/* Every value stored in the sealed columns, read past the library, is sealed and holds no
 * plain text. */
static void assert_all_sealed(const char *url)
{
    static const char *const checks[] = {
        "SELECT count(*) FROM memories WHERE text NOT LIKE 'mn1.%' OR metadata NOT LIKE 'mn1.%'",
        "SELECT count(*) FROM memory_history WHERE before NOT LIKE 'mn1.%' OR "
        "after NOT LIKE 'mn1.%'",
        "SELECT count(*) FROM memories WHERE text LIKE '%plain-zq%' OR metadata LIKE "
        "'%plain-zq%'",
    };
    for (size_t i = 0; i < sizeof checks / sizeof *checks; i++)
        ck_assert_msg(strcmp(th_raw_query(url, checks[i], NULL, NULL), "0") == 0, "%s",
                      checks[i]);
    ck_assert_msg(atol(th_raw_query(url, "SELECT count(*) FROM memories", NULL, NULL)) > 0,
                  "nothing stored: the check would prove nothing");
}

START_TEST(test_values_sealed_calls_see_plain)
{
    const char *url, *key;
    mn_db *db = fresh(_i, &url, &key);
    if (!db)
        return;
    const char *id = id_of(db, 0);
    mn_memory_changes ch = MN_MEMORY_CHANGES_INIT;
    ch.set = MN_MEMORY_SET_TEXT | MN_MEMORY_SET_METADATA;
    ch.text = SECRET " changed";
    ch.metadata = "{\"tag\":\"" SECRET "-0\",\"more\":1}";
    TH_OK(db, mn_memory_update(db, &sys, id, &ch, NULL));
    assert_all_sealed(url);
    ck_assert_int_eq(atol(th_raw_query(url, "SELECT count(*) FROM memory_history", NULL, NULL)),
                     1);

    /* get, history, a metadata filter (list and search), search by meaning */
    mn_memory *m = th_get(db, &sys, id, 0);
    ck_assert_str_eq(m->text, SECRET " changed");
    ck_assert(th_json_eq(m->metadata, ch.metadata));
    mn_memory_free(m);
    mn_history *h = NULL;
    TH_OK(db, mn_memory_history(db, &sys, id, &h));
    ck_assert_uint_eq(h->count, 1);
    ck_assert(strstr(h->items[0]->before, SECRET " text 0"));
    ck_assert(strstr(h->items[0]->after, SECRET " changed"));
    mn_history_free(h);
    mn_filter f = MN_FILTER_INIT;
    f.metadata = "{\"tag\":\"" SECRET "-1\"}";
    size_t n = 0;
    th_list_ids(db, &sys, &f, 100, &n);
    ck_assert_uint_eq(n, 2);
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = SECRET " text 3";
    so.filter = &f;
    mn_memories *hits = NULL;
    TH_OK(db, mn_memory_search(db, &sys, &so, &hits));
    ck_assert_uint_eq(hits->count, 2);
    ck_assert_str_eq(hits->items[0]->text, SECRET " text 3");
    mn_memories_free(hits);
    mn_close(db);

    /* Reopened: the key opens it again. */
    db = open_key(url, key, 0);
    ck_assert_int_eq(mn_db_encrypted(db), 1);
    ck_assert_uint_eq(th_count_memories(db, &sys, 0), 4);
    mn_close(db);
}
END_TEST

/* The change feed judges a memory by its plain metadata: a policy that hides one tag hides
 * its memories' changes from an identity (the sealed value would match no condition). */
START_TEST(test_feed_policies_see_plain_metadata)
{
    const char *url, *key;
    mn_db *db = fresh(_i, &url, &key);
    if (!db)
        return;
    mn_policy_input pin = {.version = MN_POLICY_INPUT_VERSION, .role = "admin",
                           .rule = "{\"effect\":\"deny\",\"actions\":[\"read\"],\"resource\":"
                                   "\"memory\",\"conditions\":{\"resource_conditions\":{"
                                   "\"metadata_requirements\":{\"tag\":\"" SECRET "-1\"}}}}"};
    TH_OK(db, mn_policy_add(db, &sys, &pin, NULL));
    mn_actor bot = TH_ACTOR(.tenant = "acme", .identity = "bot");
    mn_feed_page *p = NULL;
    TH_OK(db, mn_feed_read(db, &bot, NULL, &p));
    ck_assert_uint_eq(p->count, 2);
    ck_assert_str_eq(p->items[0]->memory_id, id_of(db, 0));
    ck_assert_str_eq(p->items[1]->memory_id, id_of(db, 2));
    mn_feed_page_free(p);
    TH_OK(db, mn_feed_read(db, &sys, NULL, &p));
    ck_assert_uint_eq(p->count, 4);
    mn_feed_page_free(p);
    mn_close(db);
}
END_TEST

/* Embedding jobs read the text they embed: sealed in the store, plain to the embedder. */
START_TEST(test_async_embedding_opens_texts)
{
    const char *url = th_store_url(_i);
    if (!url)
        return;
    const char *key = new_key(th_fmt("jobs-%d.key", _i));
    mn_config cfg = TH_CONFIG(.flags = MN_OPEN_ENCRYPT, .embedder_plugin = &th_hash_embedder,
                              .master_key_file = key, .embed_async = 1);
    mn_db *db = th_open(url, &cfg);
    th_tenant(db, "acme");
    th_identity(db, "acme", "bot");
    const char *id = th_add(db, &sys, "bot", SECRET " queued");
    size_t done = 0, failed = 0;
    TH_OK(db, mn_job_run(db, 10, &done, &failed));
    ck_assert_uint_eq(done, 1);
    ck_assert_uint_eq(failed, 0);
    mn_memories *hits = NULL;
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = SECRET " queued";
    TH_OK(db, mn_memory_search(db, &sys, &so, &hits));
    ck_assert_uint_ge(hits->count, 1);
    ck_assert_str_eq(hits->items[0]->id, id);
    ck_assert_str_eq(hits->items[0]->text, SECRET " queued");
    mn_memories_free(hits);
    assert_all_sealed(url);
    mn_close(db);
}
END_TEST

/* The cache's content addresses are keyed: the SHA-256 of a text is not among them. */
START_TEST(test_embedding_cache_addresses_keyed)
{
    const char *url, *key;
    mn_db *db = fresh(_i, &url, &key);
    if (!db)
        return;
    long cached = atol(th_raw_query(url, "SELECT count(*) FROM embed_cache", NULL, NULL));
    ck_assert_int_ge(cached, 4);
    /* SHA-256("plain-zq text 0"), hex, as a plain store would address it. */
    unsigned char sha[32];
    char hex[65];
    crypto_hash_sha256(sha, (const unsigned char *)SECRET " text 0", strlen(SECRET " text 0"));
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    const char *q = _i == 0 ? "SELECT count(*) FROM embed_cache WHERE hex(hash) = upper($1)"
                            : "SELECT count(*) FROM embed_cache WHERE encode(hash, 'hex') = $1";
    ck_assert_str_eq(th_raw_query(url, q, hex, NULL), "0");
    mn_close(db);
}
END_TEST

/* A value copied into another row (or another column) does not open: MN_ECORRUPT naming it,
 * never the wrong text. */
START_TEST(test_moved_value_does_not_open)
{
    const char *url, *key;
    mn_db *db = fresh(_i, &url, &key);
    if (!db)
        return;
    const char *a = id_of(db, 0), *b = id_of(db, 1);
    mn_close(db);
    ck_assert_int_eq(th_raw_exec(url, "UPDATE memories SET text = (SELECT text FROM memories "
                                      "WHERE id = $1) WHERE id = $2", a, b), 1);
    db = open_key(url, key, 0);
    mn_memory *m = NULL;
    TH_RC(db, mn_memory_get(db, &sys, b, 0, &m), MN_ECORRUPT);
    ck_assert_msg(strstr(mn_errmsg(db), b) && th_has_word(mn_errmsg(db), "does not open"),
                  "%s", mn_errmsg(db));
    ck_assert_ptr_null(m);
    m = th_get(db, &sys, a, 0);
    ck_assert_str_eq(m->text, SECRET " text 0");
    mn_memory_free(m);
    mn_close(db);

    /* Its metadata put in the text's place: the column is bound too. */
    ck_assert_int_eq(th_raw_exec(url, "UPDATE memories SET text = metadata WHERE id = $1", a,
                                 NULL), 1);
    db = open_key(url, key, 0);
    TH_RC(db, mn_memory_get(db, &sys, a, 0, &m), MN_ECORRUPT);
    mn_close(db);
}
END_TEST

START_TEST(test_master_key_problems_at_open)
{
    const char *url, *key;
    mn_db *db = fresh(_i, &url, &key);
    if (!db)
        return;
    mn_close(db);
    unsetenv("MANUSHYA_MASTER_KEY_FILE");
    int rc;
    /* none given */
    db = open_with(url, NULL, 0, &rc);
    ck_assert_int_eq(rc, MN_EKEY);
    ck_assert_msg(strstr(mn_errmsg(db), "MANUSHYA_MASTER_KEY_FILE"), "%s", mn_errmsg(db));
    mn_close(db);
    /* another key */
    db = open_with(url, new_key(th_fmt("other-%d.key", _i)), 0, &rc);
    ck_assert_int_eq(rc, MN_EKEY);
    ck_assert_msg(th_has_word(mn_errmsg(db), "does not open"), "%s", mn_errmsg(db));
    mn_close(db);
    /* missing file, a file that is no key, one anybody can read */
    db = open_with(url, th_tmppath("nowhere.key"), 0, &rc);
    ck_assert_int_eq(rc, MN_EKEY);
    mn_close(db);
    const char *junk = th_tmppath(th_fmt("junk-%d.key", _i));
    th_write_file(junk, "not a key\n", 10);
    chmod(junk, 0600);
    db = open_with(url, junk, 0, &rc);
    ck_assert_int_eq(rc, MN_EKEY);
    ck_assert_msg(th_has_word(mn_errmsg(db), "64 hex"), "%s", mn_errmsg(db));
    mn_close(db);
    chmod(key, 0644);
    db = open_with(url, key, 0, &rc);
    ck_assert_int_eq(rc, MN_EKEY);
    ck_assert_msg(th_has_word(mn_errmsg(db), "chmod 600"), "%s", mn_errmsg(db));
    mn_close(db);
    chmod(key, 0600);
    /* the environment names it */
    setenv("MANUSHYA_MASTER_KEY_FILE", key, 1);
    db = open_with(url, NULL, 0, &rc);
    ck_assert_int_eq(rc, MN_OK);
    mn_close(db);
    unsetenv("MANUSHYA_MASTER_KEY_FILE");
    /* a key file is never overwritten */
    ck_assert_int_eq(mn_master_key_create(key), MN_EEXISTS);
    ck_assert_int_eq(mn_errcode(NULL), MN_EEXISTS);
}
END_TEST

/* Encryption is chosen at creation: a plain database with tenants refuses it, one without
 * stays plain unless asked. */
START_TEST(test_encryption_chosen_at_creation)
{
    const char *url = th_store_url(_i);
    if (!url)
        return;
    const char *key = new_key(th_fmt("late-%d.key", _i));
    mn_db *db = open_key(url, NULL, 0);
    ck_assert_int_eq(mn_db_encrypted(db), 0);
    th_tenant(db, "acme");
    th_identity(db, "acme", "bot");
    th_add(db, &sys, "bot", SECRET " in the clear");
    mn_close(db);
    int rc;
    db = open_with(url, key, MN_OPEN_ENCRYPT, &rc);
    ck_assert_int_eq(rc, MN_EINVAL);
    ck_assert_msg(th_has_word(mn_errmsg(db), "created"), "%s", mn_errmsg(db));
    mn_close(db);
    db = open_key(url, NULL, 0);
    ck_assert_int_eq(mn_db_encrypted(db), 0);
    ck_assert_uint_eq(th_count_memories(db, &sys, 0), 1);
    mn_close(db);
    ck_assert_ptr_null(th_raw_query(url, "SELECT value FROM meta WHERE key = 'encryption'",
                                    NULL, NULL));
}
END_TEST

START_TEST(test_rotate_master)
{
    const char *url, *key;
    mn_db *db = fresh(_i, &url, &key);
    if (!db)
        return;
    const char *wrapped = th_raw_query(url, "SELECT wrapped FROM data_keys WHERE tenant_id <> ''",
                                       NULL, NULL);
    const char *text = th_raw_query(url, "SELECT min(text) FROM memories", NULL, NULL);
    const char *fresh_key = new_key(th_fmt("rotated-%d.key", _i));
    TH_OK(db, mn_master_key_rotate(db, fresh_key));
    /* this handle goes on with the new key: a new tenant's key is wrapped by it */
    th_tenant(db, "globex");
    th_identity(db, "globex", "bot");
    th_add(db, &(mn_actor)TH_ACTOR(.tenant = "globex"), "bot", SECRET " after rotation");
    mn_close(db);
    ck_assert_str_ne(th_raw_query(url, "SELECT wrapped FROM data_keys WHERE tenant_id <> '' "
                                       "ORDER BY created_at LIMIT 1", NULL, NULL), wrapped);
    ck_assert_str_eq(th_raw_query(url, "SELECT min(text) FROM memories WHERE text = $1", text,
                                  NULL), text); /* no value sealed again */
    int rc;
    db = open_with(url, key, 0, &rc);
    ck_assert_int_eq(rc, MN_EKEY);
    mn_close(db);
    db = open_key(url, fresh_key, 0);
    ck_assert_uint_eq(th_count_memories(db, &sys, 0), 4);
    ck_assert_uint_eq(th_count_memories(db, &(mn_actor)TH_ACTOR(.tenant = "globex"), 0), 1);
    TH_RC(db, mn_master_key_rotate(db, th_tmppath("nowhere.key")), MN_EKEY);
    mn_close(db);
    /* a plain database has no master key to rotate */
    db = open_key(th_store_url(_i), NULL, 0);
    TH_RC(db, mn_master_key_rotate(db, fresh_key), MN_EINVAL);
    mn_close(db);
}
END_TEST

/* Every sealed value of acme is sealed by data key version. */
static void assert_sealed_by(const char *url, uint32_t version)
{
    for (int k = 0; k < 2; k++) {
        const char *col = k == 0 ? "text" : "before";
        const char *tab = k == 0 ? "memories" : "memory_history";
        for (int row = 0;; row++) {
            const char *v = th_raw_query(url, th_fmt("SELECT %s FROM %s ORDER BY key LIMIT 1 "
                                                     "OFFSET %d", col, tab, row), NULL, NULL);
            if (!v)
                break;
            uint32_t got = 0;
            ck_assert(mni_sealed_version(v, &got));
            ck_assert_msg(got == version, "%s row %d sealed by key %u, want %u", tab, row, got,
                          version);
        }
    }
}

/* Re-keying: a batch at a time, a write between batches, the handle closed half-way (as a
 * crash would leave it), then finished by another handle; one key left, every value sealed
 * by it, every call as before. */
/* Deduplication in an encrypted store: the content hash is keyed (it is not the plain BLAKE2b
 * of the normalised text), finds its memory through a re-key, and rows without one (as an
 * older version left them) are hashed when the database is opened. */
START_TEST(test_dedup_hash_keyed)
{
    const char *url, *key;
    mn_db *db = fresh(_i, &url, &key);
    if (!db)
        return;
    const char *id = id_of(db, 1);
    const char *norm = SECRET " text 1"; /* already lowercase, single-spaced */
    unsigned char h[32];
    char hex[65];
    crypto_generichash(h, sizeof h, (const unsigned char *)norm, strlen(norm), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    ck_assert_str_eq(th_raw_query(url, "SELECT count(*) FROM memories WHERE content_hash = $1",
                                  hex, NULL), "0");
    ck_assert_str_eq(th_raw_query(url, "SELECT count(*) FROM memories WHERE content_hash IS "
                                  "NULL", NULL, NULL), "0");
    mn_memory_input again = TH_IN(.identity = "bot", .text = "  PLAIN-ZQ Text 1 ");
    int outcome = -1;
    mn_memory *m = NULL;
    TH_OK(db, mn_memory_put(db, &sys, &again, &outcome, &m));
    ck_assert_int_eq(outcome, MN_PUT_UNCHANGED);
    ck_assert_str_eq(m->id, id);
    mn_memory_free(m);
    int done = 0;
    while (!done)
        TH_OK(db, mn_tenant_rekey(db, "acme", 100, &done));
    TH_OK(db, mn_memory_put(db, &sys, &again, &outcome, &m));
    ck_assert_int_eq(outcome, MN_PUT_UNCHANGED);
    ck_assert_str_eq(m->id, id);
    mn_memory_free(m);
    mn_close(db);
    /* As a database of the previous version, migrated: no hashes, and no record (which the
     * first open made) that every row has one. */
    ck_assert_int_gt(th_raw_exec(url, "UPDATE memories SET content_hash = NULL", NULL, NULL), 0);
    ck_assert_int_eq(th_raw_exec(url, "DELETE FROM meta WHERE key = 'content_hashed'", NULL,
                                 NULL), 1);
    db = open_key(url, key, 0);
    ck_assert_str_eq(th_raw_query(url, "SELECT count(*) FROM memories WHERE content_hash IS "
                                  "NULL", NULL, NULL), "0");
    TH_OK(db, mn_memory_put(db, &sys, &again, &outcome, &m));
    ck_assert_int_eq(outcome, MN_PUT_UNCHANGED);
    ck_assert_str_eq(m->id, id);
    mn_memory_free(m);
    mn_close(db);
}
END_TEST

START_TEST(test_rekey_resumes_and_finishes)
{
    const char *url, *key;
    mn_db *db = fresh(_i, &url, &key);
    if (!db)
        return;
    mn_memory_changes ch = MN_MEMORY_CHANGES_INIT;
    ch.set = MN_MEMORY_SET_TEXT;
    ch.text = SECRET " text 0"; /* the same text: a history entry to re-seal */
    TH_OK(db, mn_memory_update(db, &sys, id_of(db, 0), &ch, NULL));
    assert_sealed_by(url, 1);
    int done = 0;
    TH_OK(db, mn_tenant_rekey(db, "acme", 2, &done)); /* the new key; 2 rows */
    ck_assert_int_eq(done, 0);
    ck_assert_str_eq(th_raw_query(url, "SELECT count(*) FROM data_keys WHERE tenant_id = $1",
                                  tenant_id(db), NULL), "2");
    th_add(db, &sys, "bot", SECRET " written while re-keying");
    mn_close(db);

    db = open_key(url, key, 0);
    ck_assert_uint_eq(th_count_memories(db, &sys, 0), 5); /* both keys open */
    int steps = 0;
    for (; !done && steps < 100; steps++)
        TH_OK(db, mn_tenant_rekey(db, "acme", 2, &done));
    ck_assert_int_eq(done, 1);
    ck_assert_int_ge(steps, 3);
    const char *tid = tenant_id(db);
    ck_assert_str_eq(th_raw_query(url, "SELECT count(*) FROM data_keys WHERE tenant_id = $1",
                                  tid, NULL), "1");
    ck_assert_str_eq(th_raw_query(url, "SELECT version FROM data_keys WHERE tenant_id = $1",
                                  tid, NULL), "2");
    ck_assert_ptr_null(th_raw_query(url, "SELECT value FROM meta WHERE key = $1",
                                    th_fmt("rekey:%s", tid), NULL));
    assert_sealed_by(url, 2);
    mn_audit_filter af = MN_AUDIT_FILTER_INIT;
    af.action = "tenant:rekey";
    mn_audit_entries *au = NULL;
    TH_OK(db, mn_audit_list(db, &sys, &af, &au));
    ck_assert_uint_eq(au->count, 1); /* the finished re-key, recorded once */
    mn_audit_entries_free(au);
    int64_t checked = 0;
    TH_OK(db, mn_audit_verify(db, &sys, &checked));
    mn_memory *m = th_get(db, &sys, id_of(db, 2), 0);
    ck_assert_str_eq(m->text, SECRET " text 2");
    mn_memory_free(m);
    mn_filter f = MN_FILTER_INIT;
    f.metadata = "{\"tag\":\"" SECRET "-0\"}";
    size_t n = 0;
    th_list_ids(db, &sys, &f, 100, &n);
    ck_assert_uint_eq(n, 2);
    /* bad input changes nothing */
    TH_RC(db, mn_tenant_rekey(db, "acme", 0, &done), MN_EINVAL);
    TH_RC(db, mn_tenant_rekey(db, "nobody", 10, &done), MN_ENOTFOUND);
    TH_RC(db, mn_tenant_rekey(db, "acme", 10, NULL), MN_EINVAL);
    mn_close(db);
    db = open_key(th_store_url(_i), NULL, 0);
    TH_RC(db, mn_tenant_rekey(db, "acme", 10, &done), MN_EINVAL);
    mn_close(db);
}
END_TEST

/* Erasing a tenant destroys its data keys: a copy of its rows kept elsewhere opens no more. */
START_TEST(test_tenant_delete_destroys_keys)
{
    const char *url, *key;
    mn_db *db = fresh(_i, &url, &key);
    if (!db)
        return;
    const char *tid = tenant_id(db);
    ck_assert_str_eq(th_raw_query(url, "SELECT count(*) FROM data_keys WHERE tenant_id = $1",
                                  tid, NULL), "1");
    TH_OK(db, mn_tenant_delete(db, "acme"));
    ck_assert_str_eq(th_raw_query(url, "SELECT count(*) FROM data_keys WHERE tenant_id = $1",
                                  tid, NULL), "0");
    mn_close(db);
}
END_TEST

/* On SQLite, no plain text in any file: the database, its WAL, the index. */
START_TEST(test_no_plain_bytes_on_sqlite)
{
    const char *url, *key;
    mn_db *db = fresh(0, &url, &key);
    mn_close(db);
    const char *path = url + strlen("sqlite:");
    const char *files[] = { path, th_fmt("%s-wal", path) };
    for (size_t i = 0; i < 2; i++) {
        size_t len = 0;
        char *bytes = th_read_file(files[i], &len);
        ck_assert_msg(!bytes || !memmem(bytes, len, SECRET, strlen(SECRET)),
                      "plain text in %s", files[i]);
    }
    size_t len = 0;
    char *bytes = th_read_file(path, &len);
    ck_assert_msg(bytes && memmem(bytes, len, "mn1.", 4), "no sealed value found: the check "
                  "would prove nothing");
}
END_TEST

/* The embedding cache keeps what memories use and prunes the rest (once old enough): loops
 * 0..3 are SQLite and PostgreSQL, plain then encrypted (keyed addresses). */
START_TEST(test_cache_prune_keeps_what_memories_use)
{
    const char *url = th_store_url(_i % 2);
    if (!url)
        return;
    int encrypted = _i >= 2;
    const char *key = encrypted ? new_key(th_fmt("prune-%d.key", _i)) : NULL;
    mn_db *db = open_key(url, key, encrypted ? MN_OPEN_ENCRYPT : 0);
    th_tenant(db, "acme");
    th_identity(db, "acme", "bot");
    const char *a = th_add(db, &sys, "bot", "alpha " SECRET);
    th_add(db, &sys, "bot", "beta " SECRET);
    mn_memory_changes ch = MN_MEMORY_CHANGES_INIT;
    ch.set = MN_MEMORY_SET_TEXT;
    ch.text = "gamma " SECRET; /* alpha's entry is used no more */
    TH_OK(db, mn_memory_update(db, &sys, a, &ch, NULL));
    float v[DIM];
    TH_OK(db, mn_embed(db, "for no tenant", v, DIM));
    const char *count = "SELECT count(*) FROM embed_cache";
    ck_assert_str_eq(th_raw_query(url, count, NULL, NULL), "4");
    size_t removed = 99;
    TH_OK(db, mn_embed_cache_prune(db, 3600000, &removed));
    ck_assert_uint_eq(removed, 0); /* all younger than an hour */
    TH_OK(db, mn_embed_cache_prune(db, 0, &removed));
    ck_assert_uint_eq(removed, 2);
    ck_assert_str_eq(th_raw_query(url, count, NULL, NULL), "2");
    mn_embed_stats st = MN_EMBED_STATS_INIT, after = MN_EMBED_STATS_INIT;
    TH_OK(db, mn_embed_stats_get(db, &st));
    TH_OK(db, mn_embed(db, "gamma " SECRET, v, DIM)); /* scope "" : a miss */
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = "beta " SECRET; /* the tenant's: a hit */
    mn_memories *hits = NULL;
    TH_OK(db, mn_memory_search(db, &sys, &so, &hits));
    mn_memories_free(hits);
    TH_OK(db, mn_embed_stats_get(db, &after));
    ck_assert_uint_eq(after.cache_hits - st.cache_hits, 1);
    TH_RC(db, mn_embed_cache_prune(db, -1, &removed), MN_EINVAL);
    mn_close(db);
}
END_TEST

static Suite *crypt_suite(void)
{
    Suite *s = suite_create("crypt");
    TCase *tc = tcase_create("crypt");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_values_sealed_calls_see_plain, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_feed_policies_see_plain_metadata, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_async_embedding_opens_texts, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_embedding_cache_addresses_keyed, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_moved_value_does_not_open, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_master_key_problems_at_open, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_encryption_chosen_at_creation, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_rotate_master, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_rekey_resumes_and_finishes, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_dedup_hash_keyed, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_tenant_delete_destroys_keys, 0, TH_NSTORES);
    tcase_add_test(tc, test_no_plain_bytes_on_sqlite);
    tcase_add_loop_test(tc, test_cache_prune_keeps_what_memories_use, 0, 2 * TH_NSTORES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(crypt_suite());
}
