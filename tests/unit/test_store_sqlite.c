/* The SQLite backend: the conformance suite over the three URL forms, plus what only an
 * embedded file can show (URL forms, WAL, open flags, expiry by editing the file directly). */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manushya.h"
#include "support/conformance.h"
#include "support/harness.h"
#include "api/handle.h"
#include "store/driver.h"
#include "store/store.h"
#include "store/sqlite/sqlite.h"

/* A fresh database each call, cycling through "sqlite:PATH", "sqlite://PATH" and a bare PATH. */
static const char *make_url(void)
{
    static unsigned n;
    const char *path = th_tmppath("conformance.db");
    switch (n++ % 3) {
    case 0: return th_fmt("sqlite:%s", path);
    case 1: return th_fmt("sqlite://%s", path);
    default: return path;
    }
}

/* ---- direct SQL on the file ------------------------------------------------------------------ */
static sqlite3 *sq_open(const char *path)
{
    sqlite3 *s = NULL;
    int rc = sqlite3_open_v2(path, &s, SQLITE_OPEN_READWRITE, NULL);
    ck_assert_msg(rc == SQLITE_OK, "sqlite3_open(%s): %s", path, sqlite3_errstr(rc));
    sqlite3_busy_timeout(s, 5000);
    return s;
}

static void sql_run(const char *path, const char *sql)
{
    sqlite3 *s = sq_open(path);
    char *err = NULL;
    int rc = sqlite3_exec(s, sql, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    sqlite3_close(s);
}

static int64_t sq_int(const char *path, const char *sql)
{
    sqlite3 *s = sq_open(path);
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(s, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(s));
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(s);
    return v;
}

static const char *sq_text1(const char *path, const char *sql)
{
    sqlite3 *s = sq_open(path);
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(s, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(s));
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    const char *v = th_fmt("%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(s);
    return v;
}

/* ---- tests ------------------------------------------------------------------------------------ */

START_TEST(url_forms_name_one_file)
{
    const char *path = th_tmppath("forms.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    mn_close(db);
    ck_assert(th_file_exists(path));
    const char *urls[] = {th_fmt("sqlite:%s", path), th_fmt("sqlite://%s", path), path};
    for (size_t i = 0; i < 3; i++) {
        db = th_open(urls[i], NULL);
        ck_assert_msg(th_count_tenants(db) == 1, "%s does not name the same file", urls[i]);
        mn_close(db);
    }
    /* A relative path works too (relative to the working directory). */
    const char *dir = th_tmpdir();
    char cwd[4096];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    db = th_open("sqlite:rel.db", NULL);
    th_tenant(db, "rel");
    mn_close(db);
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert(th_file_exists(th_fmt("%s/rel.db", dir)));
}
END_TEST

START_TEST(file_is_wal_with_schema_version)
{
    const char *path = th_tmppath("wal.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    mn_close(db);
    ck_assert_str_eq(sq_text1(path, "PRAGMA journal_mode"), "wal");
    ck_assert_int_ge(sq_int(path, "PRAGMA user_version"), 1);
    ck_assert_int_eq(sq_int(path, "SELECT count(*) FROM tenants"), 1);
    /* Reopening does not migrate again nor lose anything. */
    int64_t uv = sq_int(path, "PRAGMA user_version");
    db = th_open(path, NULL);
    mn_close(db);
    ck_assert_int_eq(sq_int(path, "PRAGMA user_version"), uv);
    ck_assert_int_eq(sq_int(path, "SELECT count(*) FROM tenants"), 1);
}
END_TEST

START_TEST(open_nocreate)
{
    const char *path = th_tmppath("missing.db");
    mn_config cfg = {.version = MN_CONFIG_VERSION, .flags = MN_OPEN_NOCREATE};
    mn_db *db = NULL;
    int rc = mn_open(&db, path, &cfg);
    ck_assert_msg(rc == MN_ENOTFOUND, "rc %d (%s): %s", rc, mn_strerror(rc), mn_errmsg(db));
    ck_assert_msg(strstr(mn_errmsg(db), "missing.db"), "message: %s", mn_errmsg(db));
    mn_close(db);
    ck_assert(!th_file_exists(path));
    db = th_open(path, NULL);
    mn_close(db);
    db = th_open(path, &cfg);
    mn_close(db);
}
END_TEST

START_TEST(open_readonly)
{
    const char *path = th_tmppath("ro.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    const char *id = th_add(db, &a, NULL, "read only memory about lighthouses");
    mn_close(db);
    uint64_t h0 = th_file_hash(path);

    mn_config cfg = {.version = MN_CONFIG_VERSION, .flags = MN_OPEN_READONLY};
    db = th_open(path, &cfg);
    th_state before, after;
    th_state_get(db, &before);
    mn_memory_free(th_get(db, &a, id, 0));
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "lighthouses", .k = 3};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &a, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    mn_memories_free(l);
    mn_memory_input in = TH_IN(.text = "must not be written");
    int rc = mn_memory_add(db, &a, &in, NULL);
    ck_assert_msg(rc != MN_OK, "add on a read-only handle succeeded");
    ck_assert_msg(th_has_word(mn_errmsg(db), "read-only|readonly|read only"), "message: %s",
                  mn_errmsg(db));
    mn_tenant *t = NULL;
    ck_assert_int_ne(mn_tenant_create(db, "other", &t), MN_OK);
    ck_assert_int_ne(mn_memory_delete(db, &a, id, MN_DELETE_HARD), MN_OK);
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "writes on a read-only handle");
    mn_close(db);
    ck_assert_msg(th_file_hash(path) == h0, "a read-only open changed the file");

    /* Read-only on a missing file: not created. */
    const char *missing = th_tmppath("ro-missing.db");
    db = NULL;
    rc = mn_open(&db, missing, &cfg);
    ck_assert_int_ne(rc, MN_OK);
    mn_close(db);
    ck_assert(!th_file_exists(missing));
}
END_TEST

/* Expiry without waiting days: move expires_at into the past in the file itself. */
START_TEST(expiry_by_editing_the_file)
{
    const char *path = th_tmppath("ttl.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    th_tenant(db, "globex");
    th_identity(db, "acme", "alice");
    th_identity(db, "globex", "bob");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice"),
             sys = TH_ACTOR(.tenant = "acme", .identity = NULL),
             b = TH_ACTOR(.tenant = "globex", .identity = "bob");
    mn_memory_input e1 = TH_IN(.text = "expiring memory about the summer festival", .ttl_days = 1);
    mn_memory_input e2 =
        TH_IN(.text = "second expiring memory about the winter market", .ttl_days = 2);
    mn_memory_input keep =
        TH_IN(.text = "a memory that stays about the spring fair", .ttl_days = 30);
    mn_memory_input other =
        TH_IN(.text = "globex expiring memory about the autumn fair", .ttl_days = 1);
    const char *x1 = th_add_in(db, &a, &e1);
    const char *x2 = th_add_in(db, &a, &e2);
    const char *k1 = th_add_in(db, &a, &keep);
    const char *k2 = th_add(db, &a, NULL, "no ttl at all, about the fair");
    const char *o1 = th_add_in(db, &b, &other);
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "expiring memory about the summer festival, updated"};
    TH_OK(db, mn_memory_update(db, &a, x1, &ch, NULL));

    /* Expire x1, x2 and globex's o1 while the handle is open (another connection). */
    int64_t past = th_now_ms() - 1000;
    sql_run(path, th_fmt("UPDATE memories SET expires_at = %lld WHERE id IN ('%s', '%s', '%s')",
                        (long long)past, x1, x2, o1));

    mn_memory *m = NULL;
    TH_RC(db, mn_memory_get(db, &a, x1, 0, &m), MN_ENOTFOUND);
    TH_RC(db, mn_memory_get(db, &a, x1, MN_WITH_DELETED, &m), MN_ENOTFOUND);
    m = th_get(db, &a, x1, MN_WITH_EXPIRED);
    ck_assert_int_eq(m->expires_at, past);
    mn_memory_free(m);
    size_t n;
    const char **ids = th_list_ids(db, &sys, NULL, 0, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert(th_ids_contain(ids, n, k1) && th_ids_contain(ids, n, k2));
    ck_assert_uint_eq(th_count_memories(db, &sys, MN_WITH_EXPIRED), 4);

    mn_filter so_filter = MN_FILTER_INIT;
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION,
                            .query = "expiring memory summer festival winter market",
                            .k = 100,
                            .min_similarity = MN_SEARCH_OFF,
                            .filter = &so_filter};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &sys, &so, &l));
    ck_assert_uint_eq(l->count, 2);
    for (size_t i = 0; i < l->count; i++)
        ck_assert(strcmp(l->items[i]->id, x1) != 0 && strcmp(l->items[i]->id, x2) != 0);
    mn_memories_free(l);
    so_filter.flags = MN_WITH_EXPIRED;
    TH_OK(db, mn_memory_search(db, &sys, &so, &l));
    ck_assert_uint_eq(l->count, 4);
    mn_memories_free(l);

    /* An expired memory can be neither changed nor deleted nor restored: it is gone for all
     * but MN_WITH_EXPIRED reads. */
    mn_memory_changes ch2 = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = "too late"};
    TH_RC(db, mn_memory_update(db, &a, x2, &ch2, NULL), MN_ENOTFOUND);
    mn_history *h = NULL;
    TH_OK(db, mn_memory_history(db, &a, x1, &h));
    ck_assert_uint_eq(h->count, 1);
    mn_history_free(h);
    h = NULL;

    /* Purging acme removes exactly its two expired memories and their history. */
    size_t purged = 0;
    TH_OK(db, mn_memory_purge_expired(db, &sys, &purged));
    ck_assert_uint_eq(purged, 2);
    TH_RC(db, mn_memory_get(db, &a, x1, MN_WITH_EXPIRED | MN_WITH_DELETED, &m), MN_ENOTFOUND);
    TH_RC(db, mn_memory_get(db, &a, x2, MN_WITH_EXPIRED | MN_WITH_DELETED, &m), MN_ENOTFOUND);
    TH_RC(db, mn_memory_history(db, &a, x1, &h), MN_ENOTFOUND);
    ck_assert_int_eq(sq_int(path, th_fmt("SELECT count(*) FROM memory_history WHERE memory_id = "
                                         "'%s'", x1)),
                     0);
    ck_assert_uint_eq(th_count_memories(db, &sys, MN_WITH_EXPIRED | MN_WITH_DELETED), 2);
    TH_OK(db, mn_memory_purge_expired(db, &sys, &purged));
    ck_assert_uint_eq(purged, 0);
    /* globex's expired memory is globex's to purge. */
    m = th_get(db, &b, o1, MN_WITH_EXPIRED);
    mn_memory_free(m);
    TH_OK(db, mn_memory_purge_expired(db, &b, &purged));
    ck_assert_uint_eq(purged, 1);
    ck_assert_int_eq(sq_int(path, "SELECT count(*) FROM memories"), 2);
    mn_close(db);

    /* Expired while closed: the same after reopening. */
    sql_run(path, th_fmt("UPDATE memories SET expires_at = %lld WHERE id = '%s'",
                        (long long)(th_now_ms() - 5), k1));
    db = th_open(path, NULL);
    TH_RC(db, mn_memory_get(db, &a, k1, 0, &m), MN_ENOTFOUND);
    ids = th_list_ids(db, &sys, NULL, 0, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ids[0], k2);
    TH_OK(db, mn_memory_purge_expired(db, &sys, NULL));
    ck_assert_int_eq(sq_int(path, "SELECT count(*) FROM memories"), 1);
    mn_close(db);
}
END_TEST

/* Settings come back as the text written, also text that looks like a number (an index
 * token "3226e28582699434" once came back as "Inf", and the saved index was rebuilt). */
START_TEST(settings_keep_their_text)
{
    const char *path = th_tmppath("meta.db");
    mn_db *db = th_open(path, NULL);
    const char *values[] = {"3226e28582699434", "1234567890123456789012", "0012", "1e5",
                            " 7", "-0", "x"};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        const char *key = th_fmt("test:%zu", i);
        ck_assert_int_eq(db->store->ops->meta_put(db->store, key, values[i]), MN_OK);
    }
    mn_close(db);
    db = th_open(path, NULL);
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        char *v = NULL;
        ck_assert_int_eq(db->store->ops->meta_get(db->store, th_fmt("test:%zu", i), &v), MN_OK);
        ck_assert_str_eq(v, values[i]);
        free(v);
    }
    mn_close(db);
    ck_assert_str_eq(sq_text1(path, "SELECT typeof(value) FROM meta WHERE key = 'test:0'"),
                     "text");
    ck_assert_str_eq(sq_text1(path, "SELECT typeof(value) FROM meta WHERE key = 'seq'"),
                     "integer");
}
END_TEST

/* What the store writes is what the API reads: spot-check the row. */
START_TEST(rows_carry_tenant_and_unit_vectors)
{
    const char *path = th_tmppath("rows.db");
    mn_db *db = th_open(path, NULL);
    const char *tid = th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    const char *id = th_add(db, &a, NULL, "row check");
    mn_close(db);
    ck_assert_str_eq(sq_text1(path, th_fmt("SELECT tenant_id FROM memories WHERE id = '%s'", id)),
                     tid);
    ck_assert_int_eq(
        sq_int(path, th_fmt("SELECT length(embedding) FROM memories WHERE id = '%s'", id)),
        384 * 4);
    ck_assert_int_eq(sq_int(path, "SELECT count(*) FROM identities WHERE tenant_id IS NULL"), 0);
}
END_TEST

/* Deleting leaves nothing behind in any table: the API cannot show orphaned history (history of
 * an unknown memory is MN_ENOTFOUND), so look at the file. */
START_TEST(deletes_leave_no_rows)
{
    const char *path = th_tmppath("rows-gone.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    th_identity(db, "acme", "bob");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice"),
             b = TH_ACTOR(.tenant = "acme", .identity = "bob");
    const char *hard = th_add(db, &a, NULL, "hard deleted");
    const char *soft_then_hard = th_add(db, &a, NULL, "soft then hard");
    const char *many1 = th_add(db, &a, NULL, "deleted in a batch");
    const char *bobs = th_add(db, &b, NULL, "bob's, gone with bob");
    const char *keep = th_add(db, &a, NULL, "kept");
    const char *all[] = {hard, soft_then_hard, many1, bobs, keep};
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = "changed once"};
    for (size_t i = 0; i < 5; i++)
        TH_OK(db, mn_memory_update(db, i == 3 ? &b : &a, all[i], &ch, NULL));
    ck_assert_int_eq(sq_int(path, "SELECT count(*) FROM memory_history"), 5);

    TH_OK(db, mn_memory_delete(db, &a, hard, MN_DELETE_HARD));
    TH_OK(db, mn_memory_delete(db, &a, soft_then_hard, MN_DELETE_SOFT));
    TH_OK(db, mn_memory_delete(db, &a, soft_then_hard, MN_DELETE_HARD));
    TH_OK(db, mn_memory_delete_many(db, &a, &many1, 1, MN_DELETE_HARD));
    mn_actor sys = TH_ACTOR(.tenant = "acme", .identity = NULL);
    TH_OK(db, mn_identity_delete(db, &sys, "bob"));
    mn_close(db);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(sq_int(path, th_fmt("SELECT count(*) FROM memories WHERE id = '%s'",
                                             all[i])), 0);
        ck_assert_msg(sq_int(path, th_fmt("SELECT count(*) FROM memory_history WHERE "
                                          "memory_id = '%s'", all[i])) == 0,
                      "history of deleted memory %zu is still in the file", i);
    }
    ck_assert_int_eq(sq_int(path, "SELECT count(*) FROM memory_history"), 1);
    ck_assert_int_eq(sq_int(path, "SELECT count(*) FROM memories"), 1);
    ck_assert_int_eq(sq_int(path, "SELECT count(*) FROM identities"), 1);
}
END_TEST

/* ---- the change hook -------------------------------------------------------------------------- */

/* The store reports each committed change of a tenant's memories through the hook it was
 * given at open (the handle's index follows through it): no call up into the handle. */
struct seen {
    int calls;
    char tenant[64];
};

static void on_change(void *ctx, const char *tenant_id)
{
    struct seen *s = ctx;
    s->calls++;
    snprintf(s->tenant, sizeof s->tenant, "%s", tenant_id);
}

START_TEST(changes_reach_the_hook_given_at_open)
{
    mn_config cfg = { .embedder = "local", .pool_size = 2, .busy_timeout_ms = 1000 };
    struct seen seen = {0};
    struct mni_store *st = NULL;
    int dim = 4;
    ck_assert_int_eq(mni_store_open(&mni_store_sqlite, NULL, th_tmppath("hook.db"), &cfg, &dim,
                                    on_change, &seen, &st), MN_OK);
    ck_assert_int_eq(st->dim, 4);
    const char *tid = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    const char *iid = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c";
    const char *mid = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d";
    mn_tenant t = { .id = (char *)tid, .name = "hooked", .created_at = 1 };
    ck_assert_int_eq(st->ops->tenant_insert(st, &t, NULL, 0), MN_OK);
    mn_identity i = { .id = (char *)iid, .tenant_id = (char *)tid, .external_id = "u",
                      .role = "user", .claims = "{}", .active = 1, .created_at = 1,
                      .updated_at = 1 };
    ck_assert_int_eq(st->ops->identity_insert(st, &i, NULL), MN_OK);
    ck_assert_int_eq(seen.calls, 0); /* no memory changed yet */
    const float vec[4] = { 1, 0, 0, 0 };
    struct mni_memory_row row = { .id = mid, .identity_id = iid, .text = "x", .type = "fact",
                                  .metadata = "{}", .version = 1, .created_at = 1,
                                  .updated_at = 1, .embedding = vec };
    struct mni_memory_writes w = { .rows = &row, .n = 1, .now = 1 };
    ck_assert_int_eq(st->ops->memory_insert(st, tid, &w), MN_OK);
    ck_assert_int_eq(seen.calls, 1);
    ck_assert_str_eq(seen.tenant, tid);
    ck_assert_int_eq(st->ops->memory_delete(st, tid, &mid, 1, MN_DELETE_HARD, 2, NULL), MN_OK);
    ck_assert_int_eq(seen.calls, 2);
    st->ops->close(st);
}
END_TEST

/* EXPLAIN QUERY PLAN of the backend's statement id on the database at path, its steps
 * joined by "; ". */
static const char *plan_of(const char *path, int id)
{
    static char plan[1024];
    plan[0] = 0;
    sqlite3 *s = sq_open(path);
    sqlite3_stmt *q = NULL;
    const char *sql = th_fmt("EXPLAIN QUERY PLAN %s", sq_sql(id));
    ck_assert_int_eq(sqlite3_prepare_v2(s, sql, -1, &q, NULL), SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW)
        snprintf(plan + strlen(plan), sizeof plan - strlen(plan), "%s; ",
                 (const char *)sqlite3_column_text(q, 3));
    sqlite3_finalize(q);
    sqlite3_close(s);
    return plan;
}

/* The lookup every add makes (is this text, or this key, there already?) goes through the
 * indexes: without statistics SQLite had walked all the owner's memories in id order for the
 * ORDER BY, so that an add cost as much as the owner had memories. */
START_TEST(add_lookups_use_their_index)
{
    const char *path = th_tmppath("plans.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "t");
    mn_close(db);
    /* The content index's key is a prefix of the hash and a suffix of the owner's id, two
     * expressions (sql/sqlite/024_content_index_shorter.sql): both are searched by. */
    static const char *const by_content = "USING INDEX memories_by_content (<expr>=? AND "
                                          "<expr>=?)";
    static const char *const want[] = {
        by_content,
        "USING INDEX memories_by_external_key (tenant_id=? AND identity_id=? AND "
        "external_key=?)",
    };
    const char *plan = plan_of(path, SQ_MEMORY_FIND);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        ck_assert_msg(strstr(plan, want[i]), "plan %s", plan);
    ck_assert_msg(!strstr(plan, "SCAN"), "plan %s", plan);
    plan = plan_of(path, SQ_MEMORY_FIND_CONTENT);
    ck_assert_msg(strstr(plan, by_content) && !strstr(plan, "SCAN"), "plan %s", plan);
}
END_TEST

/* A database whose content index is an older one (made by index_sql, at schema version
 * version) opens with the current index (sql/sqlite/024_content_index_shorter.sql), keeps
 * its memories, and an add of a text it holds still finds it. */
static void content_index_upgrade(const char *index_sql, int version)
{
    const char *path = th_tmppath(th_fmt("upgrade%d.db", version));
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    th_identity(db, "acme", "bob");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    mn_actor b = TH_ACTOR(.tenant = "acme", .identity = "bob");
    const char *text = "the lighthouse keeper logs the weather at dawn";
    const char *id = th_add(db, &a, NULL, text);
    th_add(db, &a, NULL, "a second memory, to be kept");
    mn_close(db);
    sql_run(path, th_fmt("DROP INDEX memories_by_content; %s; PRAGMA user_version = %d",
                         index_sql, version));
    db = th_open(path, NULL);
    ck_assert_int_eq(th_count_memories(db, &a, 0), 2);
    mn_memory_input in = TH_IN(.text = text);
    int outcome = -1;
    TH_OK(db, mn_memory_put(db, &a, &in, &outcome, NULL));
    ck_assert_int_ne(outcome, MN_PUT_CREATED);
    ck_assert_int_eq(th_count_memories(db, &a, 0), 2);
    /* Another owner's same text is a memory of its own. */
    TH_OK(db, mn_memory_put(db, &b, &in, &outcome, NULL));
    ck_assert_int_eq(outcome, MN_PUT_CREATED);
    mn_close(db);
    ck_assert_int_eq(sq_int(path, "PRAGMA user_version"), 24);
    ck_assert_str_eq(sq_text1(path, "SELECT sql FROM sqlite_master WHERE name = "
                                    "'memories_by_content'"),
                     "CREATE INDEX memories_by_content ON memories (substr(content_hash, 1, 8),\n"
                     "                                              substr(identity_id, -4))");
    ck_assert_int_eq(sq_int(path, th_fmt("SELECT count(*) FROM memories WHERE id = '%s'", id)),
                     1);
}

/* Written before 022_content_index_narrow.sql: the index as 011_dedup.sql made it. */
START_TEST(content_index_upgrade_keeps_dedup)
{
    content_index_upgrade("CREATE INDEX memories_by_content ON memories (tenant_id, "
                          "identity_id, type, content_hash)", 21);
}
END_TEST

/* Written before 023_content_index_narrower.sql: the index as 022 made it. */
START_TEST(content_index_narrower_upgrade_keeps_dedup)
{
    content_index_upgrade("CREATE INDEX memories_by_content ON memories (identity_id, "
                          "substr(content_hash, 1, 16))", 22);
}
END_TEST

/* Written before 024_content_index_shorter.sql: the index as 023 made it. */
START_TEST(content_index_shorter_upgrade_keeps_dedup)
{
    content_index_upgrade("CREATE INDEX memories_by_content ON memories (substr(content_hash, "
                          "1, 16), substr(identity_id, -8))", 23);
}
END_TEST

/* A conversation is read through the session index, which holds only the memories that have
 * a session (sql/sqlite/020_session_index_partial.sql). */
START_TEST(session_list_uses_its_index)
{
    const char *path = th_tmppath("session_plan.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "t");
    mn_close(db);
    const char *plan = plan_of(path, SQ_MEMORY_LIST_BY_SESSION);
    ck_assert_msg(strstr(plan, "USING INDEX memories_by_session (tenant_id=? AND "
                               "identity_id=? AND session=?"), "plan %s", plan);
}
END_TEST

static Suite *sqlite_suite(void)
{
    Suite *s = suite_create("store_sqlite");
    TCase *tc = tcase_create("sqlite");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, url_forms_name_one_file);
    tcase_add_test(tc, file_is_wal_with_schema_version);
    tcase_add_test(tc, open_nocreate);
    tcase_add_test(tc, open_readonly);
    tcase_add_test(tc, expiry_by_editing_the_file);
    tcase_add_test(tc, settings_keep_their_text);
    tcase_add_test(tc, rows_carry_tenant_and_unit_vectors);
    tcase_add_test(tc, deletes_leave_no_rows);
    tcase_add_test(tc, changes_reach_the_hook_given_at_open);
    tcase_add_test(tc, add_lookups_use_their_index);
    tcase_add_test(tc, content_index_upgrade_keeps_dedup);
    tcase_add_test(tc, content_index_narrower_upgrade_keeps_dedup);
    tcase_add_test(tc, content_index_shorter_upgrade_keeps_dedup);
    tcase_add_test(tc, session_list_uses_its_index);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    mn_global_init();
    th_init();
    SRunner *sr = srunner_create(mni_conformance_suite("sqlite", make_url, 1));
    srunner_add_suite(sr, sqlite_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
