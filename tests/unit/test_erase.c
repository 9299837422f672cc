/*
 * Erasure: mn_tenant_delete erases every row of the tenant in every table, and nothing of
 * another tenant; the vector index forgets it and its files are removed; mn_identity_delete
 * erases the identity's memories, history, keys and jobs and the index forgets them; bad
 * input changes nothing; and on SQLite no erased text is left in any file of the database's
 * directory (secure_delete, the WAL emptied).
 *
 * The row counts are read past the library, straight from the tables (sqlite3 and libpq), so
 * that a row the public API no longer shows still counts. Every case runs on SQLite and, when
 * MN_PG_URL is set (tests/run.sh starts tests/servers/postgres.sh), on PostgreSQL, where
 * "erased" means the rows are gone: the bytes of dead rows stay in the heap until VACUUM,
 * which no client can read, and is the operator's.
 */
#include "support/harness.h"
#include "support/raw_sql.h"

#include "api/handle.h"
#include "index/vindex.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIM TH_HASH_DIM

/* ---- counting rows past the library -------------------------------------------------------- */

/* Where a table keeps its tenant. */
static const struct table {
    const char *name, *column;
} tables[] = {
    { "tenants", "id" }, { "identities", "tenant_id" }, { "memories", "tenant_id" },
    { "memory_history", "tenant_id" }, { "memory_tombstones", "tenant_id" },
    { "policies", "tenant_id" }, { "ratelimit_limits", "tenant_id" },
    { "embed_jobs", "tenant_id" }, { "apikeys", "tenant_id" }, { "embed_cache", "scope" },
};
#define NTABLES (sizeof tables / sizeof tables[0])

static long count_one(const char *table, const char *column, const char *value);
/* The tenant's rows of each table; counts[NTABLES] is meta's. */
static void count_rows(const char *tenant_id, long counts[NTABLES + 1])
{
    for (size_t t = 0; t < NTABLES; t++)
        counts[t] = count_one(tables[t].name, tables[t].column, tenant_id);
    counts[NTABLES] = count_one("meta", NULL, tenant_id);
}

/* ---- a database with two tenants full of data ----------------------------------------------- */

/* Asynchronous, with no worker: jobs wait for mn_job_run, so that some stay. */
static mn_db *open_db(const char *url)
{
    mn_config cfg = TH_CONFIG(.embedder_plugin = &th_hash_embedder, .embed_async = 1);
    return th_open(url, &cfg);
}

static struct world {
    int store;
    const char *url;
    mn_db *db;
} w;

/* Rows of table whose column is value (table meta: whose key ends with value), read past the
 * library. */
static long count_one(const char *table, const char *column, const char *value)
{
    const char *q = column ? th_fmt("SELECT count(*) FROM %s WHERE %s = $1", table, column)
                           : "SELECT count(*) FROM meta WHERE key LIKE '%' || CAST($1 AS text)";
    return atol(th_raw_query(w.url, q, value, NULL));
}

/* Opens a new database of store i with tenants "ta-zq" and "tb-zq" (NULL when the store has
 * no server here). Every string stored for a tenant holds its tag ("ta-zq"), so that a search
 * of the raw bytes for the tag finds anything left of it. */
static mn_db *fresh(int i)
{
    const char *url = th_store_url(i);
    if (!url)
        return NULL;
    w = (struct world){ i, url, open_db(url) };
    return w.db;
}

static const mn_actor *sys_of(const char *tag)
{
    mn_actor *a = th_keep(calloc(1, sizeof *a));
    *a = (mn_actor)TH_ACTOR(.tenant = th_fmt("%s-zq", tag));
    return a;
}

/* The tenant tag-zq with, of each kind of row, one or more: the identities own-TAG-zq (its
 * memories, to be embedded through the cache) and keep-TAG-zq (memories with vectors, one
 * hard-deleted: a tombstone), an API key of own, a policy and a limit. finish() adds the
 * rest. */
static const char *populate(mn_db *db, const char *tag)
{
    const char *tid = th_tenant(db, th_fmt("%s-zq", tag));
    const mn_actor *sys = sys_of(tag);
    const char *own = th_fmt("own-%s-zq", tag), *keep = th_fmt("keep-%s-zq", tag);
    TH_OK(db, mn_identity_create(db, sys, own, "agent", th_fmt("{\"c\":\"claim-%s-zq\"}", tag),
                                 NULL));
    TH_OK(db, mn_identity_create(db, sys, keep, "agent", NULL, NULL));
    for (int i = 0; i < 3; i++) {
        mn_memory_input in = TH_IN(.identity = own, .text = th_fmt("text-%s-zq-%d", tag, i),
                                   .metadata = th_fmt("{\"m\":\"meta-%s-zq\"}", tag));
        th_add_in(db, sys, &in);
    }
    float vec[DIM];
    for (int i = 0; i < 3; i++) {
        th_hash_embed(th_fmt("keep-%s-zq-%d", tag, i), vec);
        mn_memory_input in = TH_IN(.identity = keep, .text = th_fmt("kept-%s-zq-%d", tag, i),
                                   .embedding = vec, .dim = DIM);
        const char *id = th_add_in(db, sys, &in);
        if (i == 0)
            TH_OK(db, mn_memory_delete(db, sys, id, MN_DELETE_HARD));
    }
    mn_apikey_input key = MN_APIKEY_INPUT_INIT;
    key.identity = own;
    char *secret = NULL;
    TH_OK(db, mn_apikey_create(db, sys, &key, &secret, NULL));
    mn_free(secret);
    mn_policy_input pol = MN_POLICY_INPUT_INIT;
    pol.role = "auditor";
    pol.rule = "{\"effect\":\"allow\",\"actions\":[\"read\"],\"resource\":\"memory\"}";
    pol.description = th_fmt("policy-%s-zq", tag);
    TH_OK(db, mn_policy_add(db, sys, &pol, NULL));
    TH_OK(db, mn_limit_set(db, sys, th_fmt("app:%s-zq", tag), 5, 60000));
    return tid;
}

/* Embeds the waiting memories of every tenant (their vectors go through each one's cache),
 * then gives own-TAG-zq of each tag in tags a history entry and a memory whose job waits:
 * jobs are claimed from every tenant, so this comes after all of them are populated. */
static void finish(mn_db *db, const char *const *tags, size_t n)
{
    size_t done = 0, failed = 0;
    TH_OK(db, mn_job_run(db, 1000, &done, &failed));
    ck_assert_uint_eq(failed, 0);
    for (size_t t = 0; t < n; t++) {
        const mn_actor *sys = sys_of(tags[t]);
        const mn_filter f = { .version = MN_FILTER_VERSION, .identity = th_fmt("own-%s-zq",
                                                                             tags[t]) };
        size_t nids = 0;
        const char **ids = th_list_ids(db, sys, &f, 10, &nids);
        ck_assert_uint_eq(nids, 3);
        mn_memory_changes ch = MN_MEMORY_CHANGES_INIT;
        ch.set = MN_MEMORY_SET_METADATA;
        ch.metadata = th_fmt("{\"m\":\"changed-%s-zq\"}", tags[t]);
        TH_OK(db, mn_memory_update(db, sys, ids[0], &ch, NULL));
        /* Long enough for overflow pages: the whole text must go, not only its first page. */
        size_t len = 6 * 4000;
        char *lng = th_keep(malloc(len + 1));
        for (size_t i = 0; i < len; i += 6)
            memcpy(lng + i, tags[t], 2), memcpy(lng + i + 2, "-zq ", 4);
        lng[len] = 0;
        mn_memory_input pending = TH_IN(.identity = f.identity, .text = lng);
        th_add_in(db, sys, &pending);
    }
}

static void assert_counts_eq(const long *a, const long *b, const char *what)
{
    for (size_t t = 0; t <= NTABLES; t++)
        ck_assert_msg(a[t] == b[t], "%s: %s: %ld rows, want %ld", what,
                      t < NTABLES ? tables[t].name : "meta", a[t], b[t]);
}

/* ---- tenants -------------------------------------------------------------------------------- */

START_TEST(test_tenant_delete_erases_only_its_rows)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    const char *ta = populate(db, "ta"), *tb = populate(db, "tb");
    finish(db, (const char *[]){ "ta", "tb" }, 2);
    long a[NTABLES + 1], b[NTABLES + 1], after[NTABLES + 1];
    count_rows(ta, a);
    count_rows(tb, b);
    for (size_t t = 0; t < NTABLES; t++)
        ck_assert_msg(a[t] > 0, "populate left %s empty: the test would prove nothing",
                      tables[t].name);
    TH_OK(db, mn_tenant_delete(db, "ta-zq"));
    count_rows(ta, after);
    assert_counts_eq(after, (long[NTABLES + 1]){ 0 }, "the erased tenant");
    count_rows(tb, after);
    assert_counts_eq(after, b, "the other tenant");

    /* Gone for every later call, as any unknown tenant. */
    mn_tenant *t = NULL;
    TH_RC(db, mn_tenant_get(db, ta, &t), MN_ENOTFOUND);
    TH_RC(db, mn_tenant_delete(db, "ta-zq"), MN_ENOTFOUND);
    mn_memories *l = NULL;
    mn_list_options lo = MN_LIST_OPTIONS_INIT;
    TH_RC(db, mn_memory_list(db, sys_of("ta"), &lo, &l), MN_ENOTFOUND);
    ck_assert_uint_eq(th_count_memories(db, sys_of("tb"), 0), 6);
    /* The name made again is a new tenant, and one goes by its id too. */
    TH_OK(db, mn_tenant_delete(db, th_tenant(db, "ta-zq")));
    mn_close(db);
}
END_TEST

/* A SQLite database whose tenant "ta" has enough keys for its index part to be saved, the
 * index caught up; the tenant's id in *ta. */
static mn_db *indexed_tenant(const char **ta)
{
    mn_db *db = fresh(0);
    *ta = populate(db, "ta");
    finish(db, (const char *[]){ "ta" }, 1);
    const mn_actor *sys = sys_of("ta");
    enum { N = MNI_VINDEX_SAVE_MIN + 10 };
    mn_memory_input *in = th_keep(calloc(N, sizeof *in));
    float *vecs = th_keep(malloc(N * DIM * sizeof *vecs));
    for (int i = 0; i < N; i++) {
        th_hash_embed(th_fmt("bulk-%d", i), vecs + i * DIM);
        in[i] = (mn_memory_input)TH_IN(.identity = "keep-ta-zq",
                                       .text = th_fmt("bulk-ta-zq %d", i),
                                       .embedding = vecs + i * DIM, .dim = DIM);
    }
    char **ids = NULL;
    TH_OK(db, mn_memory_add_many(db, sys, in, N, &ids, NULL));
    mn_strings_free(ids, N);
    ck_assert_int_eq(mni_vindex_sync(db->index, *ta, 30000), MN_OK);
    return db;
}

/* The index part of a tenant with files (enough keys to be saved) goes with it, in memory and
 * on disk, and no save brings the files back. */
START_TEST(test_tenant_delete_index_and_files)
{
    const char *ta;
    mn_db *db = indexed_tenant(&ta);
    ck_assert_int_eq(mni_vindex_save(db->index), MN_OK);
    const char *path = w.url + strlen("sqlite:");
    const char *graph = th_fmt("%s.index/%s.hnsw", path, ta);
    const char *attr = th_fmt("%s.index/%s.attr", path, ta);
    ck_assert(th_file_exists(graph) && th_file_exists(attr));

    TH_OK(db, mn_tenant_delete(db, "ta-zq"));
    ck_assert(!th_file_exists(graph) && !th_file_exists(attr));
    struct mni_vindex_stats st;
    mni_vindex_stats(db->index, ta, &st);
    ck_assert_uint_eq(st.count, 0);
    ck_assert_int_eq(mni_vindex_save(db->index), MN_OK);
    mn_close(db);
    ck_assert(!th_file_exists(graph) && !th_file_exists(attr));
}
END_TEST

/* A tenant erased through another handle (or process) is still in this handle's index: its
 * saves, and its close, must not write the erased vectors back to disk. */
START_TEST(test_other_handle_saves_no_erased_index)
{
    const char *ta;
    mn_db *db = indexed_tenant(&ta);
    const char *path = w.url + strlen("sqlite:");
    const char *graph = th_fmt("%s.index/%s.hnsw", path, ta);
    const char *attr = th_fmt("%s.index/%s.attr", path, ta);

    mn_config ext = MN_CONFIG_INIT;
    ext.embedder = "external"; /* opens any database: this one's vectors are the plug-in's */
    mn_db *other = th_open(w.url, &ext);
    TH_OK(other, mn_tenant_delete(other, "ta-zq"));
    mn_close(other);
    ck_assert_int_eq(mni_vindex_save(db->index), MN_OK);
    ck_assert(!th_file_exists(graph) && !th_file_exists(attr));
    ck_assert_int_eq(mn_errcode(db), MN_OK); /* the save's question left no failure behind */
    mn_close(db);
    ck_assert(!th_file_exists(graph) && !th_file_exists(attr));
}
END_TEST

/* ---- identities ----------------------------------------------------------------------------- */

START_TEST(test_identity_delete_erases_its_rows)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    const char *ta = populate(db, "ta"), *tb = populate(db, "tb");
    finish(db, (const char *[]){ "ta", "tb" }, 2);
    const mn_actor *sys = sys_of("ta");
    mn_identity *own = NULL;
    TH_OK(db, mn_identity_get(db, sys, "own-ta-zq", &own));
    const char *own_id = th_fmt("%s", own->id);
    mn_identity_free(own);
    long b[NTABLES + 1], after[NTABLES + 1];
    ck_assert_int_eq(count_one("memories", "identity_id", own_id), 4);
    ck_assert_int_eq(count_one("apikeys", "identity_id", own_id), 1);
    count_rows(tb, b);
    ck_assert_int_eq(mni_vindex_sync(db->index, ta, 30000), MN_OK);

    TH_OK(db, mn_identity_delete(db, sys, "own-ta-zq"));
    ck_assert_int_eq(count_one("memories", "identity_id", own_id), 0);
    ck_assert_int_eq(count_one("apikeys", "identity_id", own_id), 0);
    count_rows(ta, after);
    ck_assert_int_eq(after[3], 0);  /* history: only own's memory had any */
    ck_assert_int_eq(after[7], 0);  /* jobs: only own's memory had one pending */
    ck_assert_int_eq(after[1], 1);  /* identities: keep-ta-zq stays */
    ck_assert_int_eq(after[2], 2);
    count_rows(tb, after);
    assert_counts_eq(after, b, "the other tenant");

    /* The index forgot own's vectors: rebuilt from the store, it holds keep's two. */
    ck_assert_int_eq(mni_vindex_sync(db->index, ta, 30000), MN_OK);
    struct mni_vindex_stats st;
    mni_vindex_stats(db->index, ta, &st);
    ck_assert_uint_eq(st.count, 2);
    float vec[DIM];
    th_hash_embed("text-ta-zq-1", vec);
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.vector = vec;
    so.dim = DIM;
    mn_memories *hits = NULL;
    TH_OK(db, mn_memory_search(db, sys, &so, &hits));
    ck_assert_uint_eq(hits->count, 2);
    for (size_t i = 0; i < hits->count; i++)
        ck_assert_str_ne(hits->items[i]->identity_id, own_id);
    mn_memories_free(hits);
    mn_close(db);
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------------ */

START_TEST(test_bad_input_changes_nothing)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    const char *ta = populate(db, "ta");
    finish(db, (const char *[]){ "ta" }, 1);
    long before[NTABLES + 1], after[NTABLES + 1];
    count_rows(ta, before);
    th_state st0, st1;
    th_state_get(db, &st0);
    ck_assert_int_eq(mn_tenant_delete(NULL, "ta-zq"), MN_EINVAL);
    TH_RC(db, mn_tenant_delete(db, NULL), MN_EINVAL);
    TH_RC(db, mn_tenant_delete(db, ""), MN_EINVAL);
    TH_RC(db, mn_tenant_delete(db, "no-such-tenant"), MN_ENOTFOUND);
    TH_RC(db, mn_tenant_delete(db, "01900000-0000-7000-8000-000000000000"), MN_ENOTFOUND);
    TH_RC(db, mn_identity_delete(db, sys_of("ta"), NULL), MN_EINVAL);
    TH_RC(db, mn_identity_delete(db, sys_of("ta"), "no-such-identity"), MN_ENOTFOUND);
    TH_RC(db, mn_identity_delete(db, sys_of("nope"), "own-ta-zq"), MN_ENOTFOUND);
    /* An agent may not erase another identity (the default policies). */
    const mn_actor keep = TH_ACTOR(.tenant = "ta-zq", .identity = "keep-ta-zq");
    TH_RC(db, mn_identity_delete(db, &keep, "own-ta-zq"), MN_EDENIED);
    th_state_get(db, &st1);
    th_assert_state_eq(&st0, &st1, "failed deletes");
    count_rows(ta, after);
    assert_counts_eq(after, before, "failed deletes");
    mn_close(db);
}
END_TEST

/* ---- the raw bytes (SQLite) ----------------------------------------------------------------- */

/* Whether needle is in any file of dir or of its subdirectories (PATH.index/). */
static int found_in_dir(const char *dir, const char *needle, const char **where)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        const char *p = th_fmt("%s/%s", dir, e->d_name);
        size_t len = 0;
        char *bytes = th_read_file(p, &len);
        if (bytes && memmem(bytes, len, needle, strlen(needle)))
            found = 1, *where = p;
        else if (!bytes)
            found = found_in_dir(p, needle, where);
    }
    closedir(d);
    return found;
}

/* SQLite keeps text as its UTF-8 bytes, uncompressed, in the database file and in the WAL
 * (page images), so a string stored is found by a plain search of the files' bytes: the other
 * tenant's tag, stored the same ways, proves the search finds what is there. The erased
 * tenant's tag (in its name, identities, claims, texts, metadata before and after an update,
 * a long text's overflow pages, a policy, a limit) must then be nowhere: not in free space
 * (secure_delete zeroes it), not in older frames of the WAL (the erase empties it), not in
 * index files (removed). It is checked with the handle still open, which is when a WAL
 * exists, and again after close. */
START_TEST(test_no_erased_bytes_left_on_sqlite)
{
    mn_db *db = fresh(0);
    populate(db, "ta");
    populate(db, "tb");
    finish(db, (const char *[]){ "ta", "tb" }, 2);
    ck_assert_int_eq(mni_vindex_save(db->index), MN_OK);
    const char *path = w.url + strlen("sqlite:");
    const char *dir = th_fmt("%.*s", (int)(strrchr(path, '/') - path), path);
    const char *where = NULL;
    ck_assert_msg(found_in_dir(dir, "ta-zq", &where), "the check cannot see stored text");
    TH_OK(db, mn_tenant_delete(db, "ta-zq"));
    ck_assert_msg(!found_in_dir(dir, "ta-zq", &where), "erased text left in %s", where);
    ck_assert_msg(found_in_dir(dir, "tb-zq", &where), "the other tenant's text is not found");
    mn_close(db);
    ck_assert_msg(!found_in_dir(dir, "ta-zq", &where), "erased text left in %s", where);
    ck_assert(found_in_dir(dir, "tb-zq", &where));
}
END_TEST

static Suite *erase_suite(void)
{
    Suite *s = suite_create("erase");
    TCase *tc = tcase_create("erase");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_tenant_delete_erases_only_its_rows, 0, TH_NSTORES);
    tcase_add_test(tc, test_tenant_delete_index_and_files);
    tcase_add_test(tc, test_other_handle_saves_no_erased_index);
    tcase_add_loop_test(tc, test_identity_delete_erases_its_rows, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_bad_input_changes_nothing, 0, TH_NSTORES);
    tcase_add_test(tc, test_no_erased_bytes_left_on_sqlite);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(erase_suite());
}
