/*
 * Scheduled maintenance (mn_maintenance_run, mn_config.maintenance): each task does its job
 * (expired memories purged, an unused embedding cache entry pruned, the index saved, audit
 * entries past the retention removed while the chain still verifies, the keyword index merged
 * into one segment); a task not due is
 * skipped, MN_MAINT_FORCE runs it; a task whose lease another process holds is skipped by
 * every other; the handle's own thread runs the due tasks within a poll and stops at close;
 * bad input changes nothing. Every case runs on SQLite and, with MN_PG_URL, on PostgreSQL.
 */
#include "support/harness.h"
#include "support/raw_sql.h"

#include "api/handle.h"
#include "store/audit.h"
#include "index/vindex.h"
#include "store/driver.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NTASKS MN_MAINT_NTASKS

static const mn_actor sys = TH_ACTOR(.tenant = "acme");

static mn_db *open_cfg(const char *url, mn_config cfg)
{
    cfg.embedder_plugin = &th_hash_embedder;
    return th_open(url, &cfg);
}

/* A new database of store i (NULL: no server here) with tenant acme. */
static mn_db *fresh(int i, const char **url, mn_config cfg)
{
    *url = th_store_url(i);
    if (!*url)
        return NULL;
    mn_db *db = open_cfg(*url, cfg);
    th_tenant(db, "acme");
    th_identity(db, "acme", "bot");
    return db;
}

/* A memory of acme that expired (its expiry moved to the past, past the library). */
static const char *add_expired(mn_db *db, const char *url, const char *text)
{
    const char *id = th_add(db, &sys, "bot", text);
    ck_assert_int_eq(th_raw_exec(url, "UPDATE memories SET expires_at = 1 WHERE id = $1", id,
                                 NULL), 1);
    return id;
}

static long count(const char *url, const char *sql)
{
    const char *v = th_raw_query(url, sql, NULL, NULL);
    return v ? atol(v) : -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

static void assert_status(const mn_maintenance_report *r, int task, int status)
{
    ck_assert_msg(r->tasks[task].status == status, "task %s: status %d, not %d",
                  mn_maintenance_task_name(1u << task), r->tasks[task].status, status);
}

/* Entries made days ago: appended through the store as the API would have then. */
static void add_old_audit(mn_db *db, const char *tenant, int n, int days)
{
    mn_tenant *t = NULL;
    TH_OK(db, mn_tenant_get(db, tenant, &t));
    for (int i = 0; i < n; i++) {
        struct mni_audit au = { .tenant_id = t->id, .at = th_now_ms() - days * 86400000LL,
                                .action = "memory:create", .resources = "[]",
                                .outcome = "ok" };
        TH_OK(db, db->store->ops->audit_record(db->store, &au));
    }
    mn_tenant_free(t);
}

START_TEST(test_each_task_does_its_job)
{
    const char *url;
    mn_db *db = fresh(_i, &url, (mn_config)TH_CONFIG(.audit_retention_days = 1));
    if (!db)
        return;
    const char *expired = add_expired(db, url, "expired note");
    const char *kept = th_add(db, &sys, "bot", "kept note");
    /* An entry no memory uses any more: the text it was made for was replaced. */
    const char *changed = th_add(db, &sys, "bot", "first words");
    mn_memory_input in = TH_IN(.text = "second words");
    mn_memory_changes ch = th_changes_of(&in);
    TH_OK(db, mn_memory_update(db, &sys, changed, &ch, NULL));
    /* A tenant whose log began ten days ago: three entries past a retention of one day. */
    th_tenant(db, "old");
    const mn_actor old = TH_ACTOR(.tenant = "old");
    add_old_audit(db, "old", 3, 10);
    th_identity(db, "old", "bot");
    th_add(db, &old, "bot", "today's memory");
    int64_t checked = 0;
    TH_OK(db, mn_audit_verify(db, &old, &checked));
    ck_assert_int_ge(checked, 4);
    long cached = count(url, "SELECT count(*) FROM embed_cache");
    ck_assert_int_ge(cached, 4);
    th_raw_exec(url, "UPDATE embed_cache SET created_at = 1", NULL, NULL);
    /* A tenant keeping its log longer than the handle's retention: its minimum stands. */
    TH_OK(db, mn_audit_retention_set(db, &sys, 30 * 86400000LL));

    mn_maintenance_report r = MN_MAINTENANCE_REPORT_INIT;
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_ALL, &r));
    for (int t = 0; t < NTASKS; t++) {
        assert_status(&r, t, MN_MAINT_RAN);
        ck_assert_int_eq(r.tasks[t].rc, MN_OK);
        ck_assert_int_ge(r.tasks[t].elapsed_ns, 0);
    }
    ck_assert_int_eq(r.tasks[0].items, 1);                 /* the expired memory */
    /* "first words", and the expired memory's text: purged just before */
    ck_assert_int_eq(r.tasks[1].items, 2);
    ck_assert_int_eq(r.tasks[4].items, 3);                 /* the old entries */
    ck_assert_int_gt(r.tasks[0].elapsed_ns, 0);
    mn_memory *m = NULL;
    TH_RC(db, mn_memory_get(db, &sys, expired, MN_WITH_EXPIRED, &m), MN_ENOTFOUND);
    mn_memory_free(th_get(db, &sys, kept, 0));
    ck_assert_int_eq(count(url, "SELECT count(*) FROM embed_cache"), cached - 2);
    TH_OK(db, mn_audit_verify(db, &old, &checked));
    ck_assert_int_ge(checked, 1);
    mn_audit_entries *l = NULL;
    TH_OK(db, mn_audit_list(db, &old, NULL, &l));
    for (size_t i = 0; i < l->count; i++)
        ck_assert_int_gt(l->items[i]->at, th_now_ms() - 86400000LL);
    mn_audit_entries_free(l);
    /* Each run is recorded for operators. */
    ck_assert_int_eq(count(url, "SELECT count(*) FROM maintenance WHERE lease_until = 0 AND "
                                "last_error IS NULL AND last_ok_at > 0"), NTASKS);
    ck_assert_int_eq(count(url, "SELECT last_items FROM maintenance WHERE task = 'audit'"), 3);
    mn_close(db);
}
END_TEST

/* Whether a keyword search for word finds the memory id. */
static int found_by_word(mn_db *db, const char *word, const char *id)
{
    mn_search_options so = { .version = MN_SEARCH_OPTIONS_VERSION, .query = word, .k = 50,
                             .mode = MN_SEARCH_KEYWORD };
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &sys, &so, &l));
    int found = 0;
    for (size_t i = 0; i < l->count; i++)
        found |= strcmp(l->items[i]->id, id) == 0;
    mn_memories_free(l);
    return found;
}

/* The keyword index written a write at a time (a segment each) is merged into one segment,
 * after which a run has nothing to do; every memory is found by its word as before, a
 * deleted one still not. PostgreSQL's index needs no merging: the task runs and does
 * nothing. */
START_TEST(test_keywords_merges_the_index)
{
    const char *url;
    mn_db *db = fresh(_i, &url, (mn_config)TH_CONFIG(0));
    if (!db)
        return;
    int sqlite = strncmp(url, "sqlite:", 7) == 0;
    static const char *const words[] = { "albatross", "pelican", "cormorant", "gannet" };
    const char *ids[4];
    for (int k = 0; k < 4; k++)
        ids[k] = th_add(db, &sys, "bot", th_fmt("a note about the %s", words[k]));
    const char *gone = th_add(db, &sys, "bot", "a note about the puffin");
    TH_OK(db, mn_memory_delete(db, &sys, gone, MN_DELETE_HARD));
    const char *segments = "SELECT count(DISTINCT segid) FROM memory_fts_idx";
    if (sqlite)
        ck_assert_int_gt(count(url, segments), 1);
    mn_maintenance_report r = MN_MAINTENANCE_REPORT_INIT;
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_KEYWORDS, &r));
    assert_status(&r, 5, MN_MAINT_RAN);
    ck_assert_int_eq(r.tasks[5].rc, MN_OK);
    ck_assert_int_eq(r.tasks[5].items, sqlite ? 1 : 0);
    if (sqlite)
        ck_assert_int_eq(count(url, segments), 1);
    for (int k = 0; k < 4; k++)
        ck_assert(found_by_word(db, words[k], ids[k]));
    ck_assert(!found_by_word(db, "puffin", gone));
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_KEYWORDS | MN_MAINT_FORCE, &r));
    assert_status(&r, 5, MN_MAINT_RAN);
    ck_assert_int_eq(r.tasks[5].items, 0); /* one segment: nothing to merge */
    ck_assert_int_eq(count(url, "SELECT last_items FROM maintenance WHERE task = 'keywords'"),
                     0);
    mn_close(db);
}
END_TEST

START_TEST(test_not_due_is_skipped_force_runs)
{
    const char *url;
    mn_db *db = fresh(_i, &url, (mn_config)TH_CONFIG(0));
    if (!db)
        return;
    mn_maintenance_report r = MN_MAINTENANCE_REPORT_INIT;
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_ALL, &r));
    for (int t = 0; t < NTASKS; t++)
        assert_status(&r, t, t == 4 ? MN_MAINT_OFF : MN_MAINT_RAN);
    /* (4: audit_retention_days 0, the audit log kept forever) */
    const char *id = add_expired(db, url, "expired after the first run");
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_PURGE_EXPIRED | MN_MAINT_INDEX, &r));
    assert_status(&r, 0, MN_MAINT_NOT_DUE);
    assert_status(&r, 3, MN_MAINT_NOT_DUE);
    assert_status(&r, 1, MN_MAINT_NOT_ASKED);
    ck_assert_int_eq(r.tasks[0].elapsed_ns, 0);
    mn_memory *m = NULL;
    TH_OK(db, mn_memory_get(db, &sys, id, MN_WITH_EXPIRED, &m));
    mn_memory_free(m);
    /* Forced: it runs now. */
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_PURGE_EXPIRED | MN_MAINT_FORCE, &r));
    assert_status(&r, 0, MN_MAINT_RAN);
    ck_assert_int_eq(r.tasks[0].items, 1);
    /* Due again once its interval passed since it last started (moved back, past the
     * library), without force. */
    th_raw_exec(url, "UPDATE maintenance SET last_run_at = last_run_at - 3600000 WHERE "
                     "task = 'purge'", NULL, NULL);
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_PURGE_EXPIRED, NULL));
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_PURGE_EXPIRED, &r));
    assert_status(&r, 0, MN_MAINT_NOT_DUE);
    mn_close(db);
}
END_TEST

/* The feed task with the handle's index (kept without files: a small partition, or a store
 * without files): a tombstone the index applied goes at the second run, one run after. */
START_TEST(test_feed_prunes_tombstones_the_index_applied)
{
    const char *url;
    mn_db *db = fresh(_i, &url, (mn_config)TH_CONFIG(0));
    if (!db)
        return;
    ck_assert_ptr_nonnull(db->index);
    const char *id = th_add(db, &sys, "bot", "deleted for good");
    th_add(db, &sys, "bot", "kept");
    TH_OK(db, mn_memory_delete(db, &sys, id, MN_DELETE_HARD));
    mn_tenant *t = NULL;
    TH_OK(db, mn_tenant_get(db, "acme", &t));
    ck_assert_int_eq(mni_vindex_sync(db->index, t->id, 10000), MN_OK);
    mn_tenant_free(t);
    const char *tombstones = "SELECT count(*) FROM memory_tombstones";
    ck_assert_int_eq(count(url, tombstones), 1);
    mn_maintenance_report r = MN_MAINTENANCE_REPORT_INIT;
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_FEED | MN_MAINT_FORCE, &r));
    assert_status(&r, 2, MN_MAINT_RAN);
    ck_assert_int_eq(r.tasks[2].items, 0); /* kept one run longer than the index needs it */
    ck_assert_int_eq(count(url, tombstones), 1);
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_FEED | MN_MAINT_FORCE, &r));
    ck_assert_int_eq(r.tasks[2].items, 1);
    ck_assert_int_eq(count(url, tombstones), 0);
    /* Search still right afterwards, and in a new handle that builds its index again. */
    mn_close(db);
    db = open_cfg(url, (mn_config)TH_CONFIG(0));
    ck_assert_uint_eq(th_count_memories(db, &sys, 0), 1);
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = "deleted for good";
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &sys, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_ne(l->items[0]->id, id);
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

/* Two handles on one database, as two workers: while one holds a task's lease, the other
 * skips it, forced or not; once released it runs. */
START_TEST(test_held_elsewhere_is_skipped)
{
    const char *url;
    mn_db *a = fresh(_i, &url, (mn_config)TH_CONFIG(0));
    if (!a)
        return;
    mn_db *b = open_cfg(url, (mn_config)TH_CONFIG(0));
    int64_t now = th_now_ms();
    int taken = 0, busy = 0;
    TH_OK(a, mni_op_maint_take(a->store, "purge", "worker-a", now, now + 60000, 1, 3600000,
                               &taken, &busy));
    ck_assert_int_eq(taken, 1);
    /* The same lease cannot be taken twice, whatever force says. */
    TH_OK(b, mni_op_maint_take(b->store, "purge", "worker-b", now, now + 60000, 1, 0, &taken,
                               &busy));
    ck_assert_int_eq(taken, 0);
    ck_assert_int_eq(busy, 1);
    mn_maintenance_report r = MN_MAINTENANCE_REPORT_INIT;
    TH_OK(b, mn_maintenance_run(b, MN_MAINT_PURGE_EXPIRED | MN_MAINT_FORCE, &r));
    assert_status(&r, 0, MN_MAINT_BUSY);
    TH_OK(b, mn_maintenance_run(b, MN_MAINT_PURGE_EXPIRED, &r));
    assert_status(&r, 0, MN_MAINT_BUSY);
    /* a finishes: b, forced, runs it; not forced it is not due (a just ran it). */
    TH_OK(a, mni_op_maint_done(a->store, "purge", "worker-a", th_now_ms(), 0, 1, NULL));
    TH_OK(b, mn_maintenance_run(b, MN_MAINT_PURGE_EXPIRED, &r));
    assert_status(&r, 0, MN_MAINT_NOT_DUE);
    TH_OK(b, mn_maintenance_run(b, MN_MAINT_PURGE_EXPIRED | MN_MAINT_FORCE, &r));
    assert_status(&r, 0, MN_MAINT_RAN);
    /* A lease that ran out (its holder died) is taken over. */
    TH_OK(a, mni_op_maint_take(a->store, "cache", "dead", now - 120000, now - 60000, 1, 0,
                               &taken, &busy));
    ck_assert_int_eq(taken, 1);
    TH_OK(b, mn_maintenance_run(b, MN_MAINT_EMBED_CACHE | MN_MAINT_FORCE, &r));
    assert_status(&r, 1, MN_MAINT_RAN);
    mn_close(b);
    mn_close(a);
}
END_TEST

/* Workers racing for one due task: each its own handle, all asking at once, many rounds:
 * every round exactly one ran it, the others skipped it as busy or not due. */
#define RACERS 4
#define ROUNDS 10

struct racer {
    mn_db *db;
    pthread_barrier_t *go;
    int ran[ROUNDS];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_wait(r->go);
        mn_maintenance_report rep = MN_MAINTENANCE_REPORT_INIT;
        int rc = mn_maintenance_run(r->db, MN_MAINT_PURGE_EXPIRED, &rep);
        r->ran[round] = rc == MN_OK ? rep.tasks[0].status : -rc;
        pthread_barrier_wait(r->go); /* the round is over: the main thread makes it due */
        pthread_barrier_wait(r->go);
    }
    return NULL;
}

START_TEST(test_one_of_many_runs)
{
    const char *url;
    mn_db *first = fresh(_i, &url, (mn_config)TH_CONFIG(0));
    if (!first)
        return;
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS + 1);
    struct racer r[RACERS];
    pthread_t t[RACERS];
    for (int i = 0; i < RACERS; i++) {
        r[i] = (struct racer){ .db = i ? open_cfg(url, (mn_config)TH_CONFIG(0)) : first,
                               .go = &go };
        ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_wait(&go);
        pthread_barrier_wait(&go);
        th_raw_exec(url, "UPDATE maintenance SET last_run_at = 0", NULL, NULL);
        pthread_barrier_wait(&go);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&go);
    for (int round = 0; round < ROUNDS; round++) {
        int ran = 0;
        for (int i = 0; i < RACERS; i++) {
            int st = r[i].ran[round];
            ck_assert_msg(st == MN_MAINT_RAN || st == MN_MAINT_BUSY || st == MN_MAINT_NOT_DUE,
                          "round %d, worker %d: %d", round, i, st);
            ran += st == MN_MAINT_RAN;
        }
        ck_assert_msg(ran == 1, "round %d: %d workers ran the task", round, ran);
    }
    for (int i = 0; i < RACERS; i++)
        mn_close(r[i].db);
}
END_TEST

/* mn_config.maintenance: the handle's thread runs due tasks within a poll, and mn_close stops
 * it at once however long its poll. */
START_TEST(test_handle_thread_runs_and_stops)
{
    const char *url;
    mn_db *db = fresh(_i, &url, (mn_config)TH_CONFIG(0));
    if (!db)
        return;
    const char *id = add_expired(db, url, "for the thread to purge");
    mn_close(db);
    db = open_cfg(url, (mn_config)TH_CONFIG(.maintenance = 1, .maintenance_poll_ms = 20));
    /* Its run is recorded once it ended: wait for that (a few polls). */
    const char *done = "SELECT count(*) FROM maintenance WHERE task = 'purge' AND last_ok_at > 0";
    for (int i = 0; i < 500 && count(url, done) != 1; i++)
        sleep_ms(10);
    ck_assert_int_eq(count(url, done), 1);
    mn_memory *m = NULL;
    TH_RC(db, mn_memory_get(db, &sys, id, MN_WITH_EXPIRED, &m), MN_ENOTFOUND);
    double t0 = th_seconds();
    mn_close(db);
    ck_assert_double_lt(th_seconds() - t0, 2.0);
    /* A day's poll: close does not wait for it. */
    db = open_cfg(url, (mn_config)TH_CONFIG(.maintenance = 1,
                                            .maintenance_poll_ms = 86400000));
    sleep_ms(50);
    t0 = th_seconds();
    mn_close(db);
    ck_assert_double_lt(th_seconds() - t0, 2.0);
}
END_TEST

START_TEST(test_bad_input_changes_nothing)
{
    const char *url;
    mn_db *db = fresh(_i, &url, (mn_config)TH_CONFIG(0));
    if (!db)
        return;
    const char *id = add_expired(db, url, "stays until a good run");
    mn_maintenance_report r = MN_MAINTENANCE_REPORT_INIT;
    r.tasks[0].status = 99;
    TH_RC(db, mn_maintenance_run(db, 1u << 7, &r), MN_EINVAL);
    ck_assert(th_has_word(mn_errmsg(db), "unknown bits"));
    TH_RC(db, mn_maintenance_run(db, MN_MAINT_ALL | (1u << 20), &r), MN_EINVAL);
    TH_RC(db, mn_maintenance_run(db, 0, &r), MN_EINVAL);
    TH_RC(db, mn_maintenance_run(db, MN_MAINT_FORCE, &r), MN_EINVAL);
    ck_assert_int_eq(r.tasks[0].status, 99); /* the report untouched */
    mn_maintenance_report bad = { 0 };
    TH_RC(db, mn_maintenance_run(db, MN_MAINT_ALL, &bad), MN_EINVAL);
    bad.version = MN_MAINTENANCE_REPORT_VERSION + 1;
    TH_RC(db, mn_maintenance_run(db, MN_MAINT_ALL, &bad), MN_EINVAL);
    ck_assert_int_eq(mn_maintenance_run(NULL, MN_MAINT_ALL, NULL), MN_EINVAL);
    ck_assert_int_eq(count(url, "SELECT count(*) FROM maintenance"), 0);
    mn_memory *m = NULL;
    TH_OK(db, mn_memory_get(db, &sys, id, MN_WITH_EXPIRED, &m));
    mn_memory_free(m);
    mn_close(db);
    /* Bad settings: the open fails, naming the setting. */
    const struct { mn_config cfg; const char *word; } cases[] = {
        { TH_CONFIG(.maintenance = 2), "maintenance" },
        { TH_CONFIG(.maintenance = -1), "maintenance" },
        { TH_CONFIG(.maintenance_poll_ms = -5), "maintenance_poll_ms" },
        { TH_CONFIG(.maintenance_poll_ms = 5), "maintenance_poll_ms" },
        { TH_CONFIG(.audit_retention_days = -1), "audit_retention_days" },
        { TH_CONFIG(.maintenance = 1, .flags = MN_OPEN_READONLY), "read-only" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mn_config cfg = cases[i].cfg;
        cfg.embedder_plugin = &th_hash_embedder;
        db = NULL;
        ck_assert_int_eq(mn_open(&db, url, &cfg), MN_EINVAL);
        ck_assert_msg(strstr(mn_errmsg(db), cases[i].word), "%s", mn_errmsg(db));
        mn_close(db);
    }
    /* A read-only handle runs nothing. */
    db = open_cfg(url, (mn_config)TH_CONFIG(.flags = MN_OPEN_READONLY));
    TH_RC(db, mn_maintenance_run(db, MN_MAINT_ALL, NULL), MN_EINVAL);
    mn_close(db);
    ck_assert_int_eq(count(url, "SELECT count(*) FROM maintenance"), 0);
    /* Names: one per task bit, none for anything else. */
    ck_assert_str_eq(mn_maintenance_task_name(MN_MAINT_AUDIT), "audit");
    ck_assert_str_eq(mn_maintenance_task_name(MN_MAINT_KEYWORDS), "keywords");
    ck_assert_ptr_null(mn_maintenance_task_name(MN_MAINT_ALL));
    ck_assert_ptr_null(mn_maintenance_task_name(0));
}
END_TEST

static Suite *maintenance_suite(void)
{
    Suite *s = suite_create("maintenance");
    TCase *tc = tcase_create("maintenance");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_each_task_does_its_job, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_keywords_merges_the_index, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_not_due_is_skipped_force_runs, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_feed_prunes_tombstones_the_index_applied, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_held_elsewhere_is_skipped, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_one_of_many_runs, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_handle_thread_runs_and_stops, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_bad_input_changes_nothing, 0, TH_NSTORES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(maintenance_suite());
}
