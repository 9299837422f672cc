/*
 * The audit log: every change writes one entry in its own transaction (a change that fails
 * writes none), a bulk call one entry naming all its ids, a denial is recorded, a call made by
 * API key names the key; mn_audit_verify walks the chain (MN_OK with the entries checked) and
 * who may call it. Then the SQLite file is tampered with past the library (a field edited, a
 * middle entry deleted, two entries' seq swapped) and verify names the first bad seq each time.
 * mn_audit_list with each filter and by pages; mn_audit_prune, then verify from the checkpoint
 * (and tampering after a prune still shows); the retention setting; who may list and prune.
 *
 * Entries are read past the library, straight from audit_log (sqlite3 and libpq). The cases
 * that need no tampering run on SQLite and, when MN_PG_URL is set (tests/run.sh starts
 * tests/servers/postgres.sh), on PostgreSQL.
 */
#include "support/harness.h"

#include <check.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- reading the log past the library ----------------------------------------------------- */

struct entry {
    long seq;
    const char *identity_id, *apikey_id, *action, *resources, *outcome, *policy_id;
};

#define ENTRY_SQL(p)                                                                         \
    "SELECT seq, identity_id, apikey_id, action, resources, outcome, policy_id FROM audit_log " \
    "WHERE tenant_id = " p " ORDER BY seq"

static const char *kept(const char *s)
{
    return s ? th_fmt("%s", s) : NULL;
}

static size_t entries_sqlite(const char *url, const char *tenant_id, struct entry *out,
                             size_t max)
{
    sqlite3 *raw;
    ck_assert_int_eq(sqlite3_open(url + strlen("sqlite:"), &raw), SQLITE_OK);
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_prepare_v2(raw, ENTRY_SQL("?1"), -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, tenant_id, -1, SQLITE_STATIC);
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        ck_assert_uint_lt(n, max);
        const char *col[7];
        for (int i = 1; i < 7; i++)
            col[i] = kept((const char *)sqlite3_column_text(st, i));
        out[n++] = (struct entry){ (long)sqlite3_column_int64(st, 0), col[1], col[2], col[3],
                                   col[4], col[5], col[6] };
    }
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return n;
}

static size_t entries_pg(const char *url, const char *tenant_id, struct entry *out, size_t max)
{
    const char *schema = strstr(url, "schema=") + strlen("schema=");
    PGconn *c = PQconnectdb(getenv("MN_PG_URL"));
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    const char *sp[] = { th_fmt("%.*s", (int)strcspn(schema, "&"), schema) };
    PQclear(PQexecParams(c, "SELECT set_config('search_path', $1, false)", 1, NULL, sp, NULL,
                         NULL, 0));
    const char *p[] = { tenant_id };
    PGresult *r = PQexecParams(c, ENTRY_SQL("$1"), 1, NULL, p, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    size_t n = (size_t)PQntuples(r);
    ck_assert_uint_le(n, max);
    for (size_t i = 0; i < n; i++) {
        const char *col[7];
        for (int k = 1; k < 7; k++)
            col[k] = PQgetisnull(r, (int)i, k) ? NULL : kept(PQgetvalue(r, (int)i, k));
        out[i] = (struct entry){ atol(PQgetvalue(r, (int)i, 0)), col[1], col[2], col[3],
                                 col[4], col[5], col[6] };
    }
    PQclear(r);
    PQfinish(c);
    return n;
}

static struct world {
    int store;
    const char *url;
    mn_db *db;
    const char *tid;
} w;

#define MAX_ENTRIES 64

/* The tenant's entries, by seq (a kept array); *n how many. */
static const struct entry *entries(size_t *n)
{
    struct entry *e = th_keep(calloc(MAX_ENTRIES, sizeof *e));
    *n = (w.store == 0 ? entries_sqlite : entries_pg)(w.url, w.tid, e, MAX_ENTRIES);
    for (size_t i = 0; i < *n; i++)
        ck_assert_int_eq(e[i].seq, (long)i + 1);
    return e;
}

static const mn_actor sys = TH_ACTOR(.tenant = "acme");

/* A new database of store i with the tenant "acme" (NULL when the store has no server). */
static mn_db *fresh(int i)
{
    const char *url = th_store_url(i);
    if (!url)
        return NULL;
    mn_db *db = th_open(url, NULL);
    w = (struct world){ i, url, db, th_tenant(db, "acme") };
    return db;
}

static void assert_intact(mn_db *db, const mn_actor *actor, int64_t want)
{
    int64_t checked = -1;
    TH_OK(db, mn_audit_verify(db, actor, &checked));
    ck_assert_int_eq(checked, want);
}

/* ---- what is written ------------------------------------------------------------------------ */

/* The id of the tenant's (default) policy for role. */
static const char *policy_of(mn_db *db, const char *role)
{
    mn_policies *l = NULL;
    TH_OK(db, mn_policy_list(db, &sys, &l));
    const char *id = NULL;
    for (size_t i = 0; i < l->count && !id; i++)
        if (strcmp(l->items[i]->role, role) == 0)
            id = th_fmt("%s", l->items[i]->id);
    mn_policies_free(l);
    ck_assert_ptr_nonnull(id);
    return id;
}

START_TEST(test_one_entry_per_change)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    size_t n;
    entries(&n);
    ck_assert_uint_eq(n, 0); /* making a tenant (and its default policies) is the host's */
    assert_intact(db, &sys, 0);

    mn_identity *bob = NULL;
    TH_OK(db, mn_identity_create(db, &sys, "bob", "agent", NULL, &bob));
    const char *bob_id = th_fmt("%s", bob->id);
    mn_identity_free(bob);
    const char *m1 = th_add(db, &sys, "bob", "first");
    mn_memory_changes ch = MN_MEMORY_CHANGES_INIT;
    ch.set = MN_MEMORY_SET_METADATA;
    ch.metadata = "{\"k\":1}";
    TH_OK(db, mn_memory_update(db, &sys, m1, &ch, NULL));
    const struct entry *e = entries(&n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(e[0].action, "identity:create");
    ck_assert(th_json_eq(e[0].resources, th_fmt("[\"%s\"]", bob_id)));
    ck_assert_str_eq(e[1].action, "memory:create");
    ck_assert(th_json_eq(e[1].resources, th_fmt("[\"%s\"]", m1)));
    ck_assert_str_eq(e[2].action, "memory:update");
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(e[i].outcome, "ok");
        ck_assert_ptr_null(e[i].identity_id); /* the system actor */
        ck_assert_ptr_null(e[i].apikey_id);
        ck_assert_ptr_null(e[i].policy_id);   /* trusted: no policy decides for it */
    }

    /* Changes that fail inside their transaction write nothing: a taken external id, and a
     * delete of many whose second id is missing (the first is deleted, then rolled back). */
    TH_RC(db, mn_identity_create(db, &sys, "bob", "agent", NULL, NULL), MN_EEXISTS);
    const char *missing = "01900000-0000-7000-8000-000000000000";
    TH_RC(db, mn_memory_delete_many(db, &sys, (const char *[]){ m1, missing }, 2,
                                    MN_DELETE_HARD),
          MN_ENOTFOUND);
    entries(&n);
    ck_assert_uint_eq(n, 3);
    mn_memory_free(th_get(db, &sys, m1, 0)); /* still there */

    /* A bulk call: one entry naming every id, in order. */
    mn_memory_input in[3] = { TH_IN(.identity = "bob", .text = "a"),
                              TH_IN(.identity = "bob", .text = "b"),
                              TH_IN(.identity = "bob", .text = "c") };
    char **ids = NULL;
    TH_OK(db, mn_memory_add_many(db, &sys, in, 3, &ids, NULL));
    const char *want = th_fmt("[\"%s\",\"%s\",\"%s\"]", ids[0], ids[1], ids[2]);
    TH_OK(db, mn_memory_delete_many(db, &sys, (const char *const *)ids, 3, MN_DELETE_SOFT));
    mn_strings_free(ids, 3);
    e = entries(&n);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq(e[3].action, "memory:create");
    ck_assert(th_json_eq(e[3].resources, want));
    ck_assert_str_eq(e[4].action, "memory:delete");
    ck_assert(th_json_eq(e[4].resources, want));
    assert_intact(db, &sys, 5);
    mn_close(db);
}
END_TEST

START_TEST(test_denial_and_api_key_are_recorded)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    mn_identity *i = NULL;
    TH_OK(db, mn_identity_create(db, &sys, "bob", "agent", NULL, &i));
    const char *bob_id = th_fmt("%s", i->id);
    mn_identity_free(i);
    TH_OK(db, mn_identity_create(db, &sys, "root", "admin", NULL, &i));
    const char *root_id = th_fmt("%s", i->id);
    mn_identity_free(i);

    /* An agent may not add a policy: refused, and the refusal recorded with who asked. */
    const mn_actor bob = TH_ACTOR(.tenant = "acme", .identity = "bob");
    mn_policy_input pol = MN_POLICY_INPUT_INIT;
    pol.role = "agent";
    pol.rule = "{\"effect\":\"allow\",\"actions\":[\"read\"],\"resource\":\"policy\"}";
    TH_RC(db, mn_policy_add(db, &bob, &pol, NULL), MN_EDENIED);
    size_t n;
    const struct entry *e = entries(&n);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(e[2].outcome, "denied");
    ck_assert_str_eq(e[2].action, "policy:create");
    ck_assert_str_eq(e[2].identity_id, bob_id);
    ck_assert_ptr_null(e[2].policy_id); /* no policy allows it, none denies it in particular */
    /* Nor verify the log (no policy of an agent allows "read" on "audit"). */
    TH_RC(db, mn_audit_verify(db, &bob, NULL), MN_EDENIED);
    e = entries(&n);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(e[3].action, "audit:read");
    ck_assert_str_eq(e[3].outcome, "denied");

    /* A call made by API key names the key and its identity. */
    mn_apikey_input kin = MN_APIKEY_INPUT_INIT;
    kin.identity = "root";
    char *key = NULL;
    mn_apikey *k = NULL;
    TH_OK(db, mn_apikey_create(db, &sys, &kin, &key, &k));
    const char *key_id = th_fmt("%s", k->id);
    mn_apikey_free(k);
    const mn_actor by_key = TH_ACTOR(.api_key = key);
    const char *m = th_add(db, &by_key, NULL, "made by a key");
    e = entries(&n);
    ck_assert_uint_eq(n, 6);
    ck_assert_str_eq(e[4].action, "apikey:create");
    ck_assert_str_eq(e[5].action, "memory:create");
    ck_assert(th_json_eq(e[5].resources, th_fmt("[\"%s\"]", m)));
    ck_assert_str_eq(e[5].identity_id, root_id);
    ck_assert_ptr_nonnull(e[5].apikey_id);
    ck_assert_str_eq(e[5].apikey_id, key_id);
    /* The policy that allowed it: the admin's. */
    ck_assert_ptr_nonnull(e[5].policy_id);
    ck_assert_str_eq(e[5].policy_id, policy_of(db, "admin"));
    /* The same decision again, from the handle's decision cache: the same policy named. */
    th_add(db, &by_key, NULL, "again");
    e = entries(&n);
    ck_assert_uint_eq(n, 7);
    ck_assert_ptr_nonnull(e[6].policy_id);
    ck_assert_str_eq(e[6].policy_id, e[5].policy_id);

    /* An admin may verify, by key as well; a key whose scopes leave audit:read out may not. */
    assert_intact(db, &by_key, 7);
    assert_intact(db, &(mn_actor)TH_ACTOR(.tenant = "acme", .identity = "root"), 7);
    kin.scopes = "[\"memory:create\"]";
    char *narrow = NULL;
    TH_OK(db, mn_apikey_create(db, &sys, &kin, &narrow, NULL));
    TH_RC(db, mn_audit_verify(db, &(mn_actor)TH_ACTOR(.api_key = narrow), NULL), MN_EDENIED);
    kin.scopes = "[\"audit:read\"]";
    char *reader = NULL;
    TH_OK(db, mn_apikey_create(db, &sys, &kin, &reader, NULL));
    assert_intact(db, &(mn_actor)TH_ACTOR(.api_key = reader), 9);
    mn_free(key);
    mn_free(narrow);
    mn_free(reader);
    mn_close(db);
}
END_TEST

START_TEST(test_bad_arguments)
{
    mn_db *db = th_open_fresh();
    ck_assert_int_eq(mn_audit_verify(NULL, &sys, NULL), MN_EINVAL);
    TH_RC(db, mn_audit_verify(db, NULL, NULL), MN_EINVAL);
    int64_t checked = 99;
    TH_RC(db, mn_audit_verify(db, &(mn_actor)TH_ACTOR(.tenant = "nobody"), &checked), MN_ENOTFOUND);
    ck_assert_int_eq(checked, 0);
    mn_close(db);
}
END_TEST

/* ---- tampering with the SQLite file --------------------------------------------------------- */

/* A SQLite database whose tenant has 6 entries, intact. */
static mn_db *six_entries(void)
{
    mn_db *db = fresh(0);
    TH_OK(db, mn_identity_create(db, &sys, "bob", "agent", NULL, NULL));
    for (int i = 0; i < 5; i++)
        th_add(db, &sys, "bob", th_fmt("memory %d", i));
    assert_intact(db, &sys, 6);
    return db;
}

/* Runs the statements past the library, on the database file. */
static void tamper(const char *sql)
{
    sqlite3 *raw;
    ck_assert_int_eq(sqlite3_open(w.url + strlen("sqlite:"), &raw), SQLITE_OK);
    char *err = NULL;
    ck_assert_msg(sqlite3_exec(raw, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql, err);
    ck_assert_int_gt(sqlite3_changes(raw), 0);
    sqlite3_close(raw);
}

/* verify answers MN_ECORRUPT naming entry bad, with the `intact` entries before it checked. */
static void assert_bad_after(mn_db *db, long bad, int64_t intact)
{
    int64_t checked = -1;
    TH_RC(db, mn_audit_verify(db, &sys, &checked), MN_ECORRUPT);
    const char *msg = mn_errmsg(db);
    ck_assert_msg(strstr(msg, th_fmt("entry %ld ", bad)) != NULL, "want entry %ld in: %s", bad,
                  msg);
    ck_assert_int_eq(checked, intact);
}

/* The same, on a chain never pruned: the entries before bad are intact. */
static void assert_bad_at(mn_db *db, long bad)
{
    assert_bad_after(db, bad, bad - 1);
}

START_TEST(test_edited_entry)
{
    mn_db *db = six_entries();
    tamper("UPDATE audit_log SET resources = '[]' WHERE seq = 3");
    assert_bad_at(db, 3);
    mn_close(db);
}
END_TEST

START_TEST(test_edited_first_entry)
{
    mn_db *db = six_entries();
    tamper("UPDATE audit_log SET at = at + 1 WHERE seq = 1");
    assert_bad_at(db, 1);
    mn_close(db);
}
END_TEST

START_TEST(test_deleted_middle_entry)
{
    mn_db *db = six_entries();
    tamper("DELETE FROM audit_log WHERE seq = 4");
    assert_bad_at(db, 4);
    mn_close(db);
}
END_TEST

START_TEST(test_swapped_entries)
{
    mn_db *db = six_entries();
    tamper("UPDATE audit_log SET seq = -2 WHERE seq = 2; "
           "UPDATE audit_log SET seq = 2 WHERE seq = 5; "
           "UPDATE audit_log SET seq = 5 WHERE seq = -2");
    assert_bad_at(db, 2);
    mn_close(db);
}
END_TEST

/* The last two swapped: the chain's last entry moves as well. */
START_TEST(test_swapped_neighbours)
{
    mn_db *db = six_entries();
    tamper("UPDATE audit_log SET seq = -5 WHERE seq = 5; "
           "UPDATE audit_log SET seq = 5 WHERE seq = 6; "
           "UPDATE audit_log SET seq = 6 WHERE seq = -5");
    assert_bad_at(db, 5);
    mn_close(db);
}
END_TEST

/* ---- listing ---------------------------------------------------------------------------- */

static mn_audit_entries *list(mn_db *db, const mn_actor *a, const mn_audit_filter *f)
{
    mn_audit_entries *l = NULL;
    TH_OK(db, mn_audit_list(db, a, f, &l));
    ck_assert_ptr_nonnull(l);
    return l;
}

/* How many entries f selects. */
static size_t count(mn_db *db, const mn_audit_filter *f)
{
    mn_audit_entries *l = list(db, &sys, f);
    size_t n = l->count;
    mn_audit_entries_free(l);
    return n;
}

START_TEST(test_list_filters)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    mn_identity *i = NULL;
    TH_OK(db, mn_identity_create(db, &sys, "bob", "agent", NULL, &i));
    const char *bob_id = th_fmt("%s", i->id);
    mn_identity_free(i);
    const mn_actor bob = TH_ACTOR(.tenant = "acme", .identity = "bob");
    const char *m1 = th_add(db, &bob, NULL, "first");
    const char *m2 = th_add(db, &sys, "bob", "second");
    TH_OK(db, mn_memory_delete(db, &sys, m1, MN_DELETE_SOFT));
    TH_RC(db, mn_audit_list(db, &bob, NULL, &(mn_audit_entries *){NULL}), MN_EDENIED);

    /* Everything, by seq, as the table holds it. */
    mn_audit_entries *l = list(db, &sys, NULL);
    ck_assert_uint_eq(l->count, 5);
    size_t n;
    const struct entry *e = entries(&n);
    ck_assert_uint_eq(n, 5);
    for (size_t k = 0; k < l->count; k++) {
        ck_assert_int_eq(l->items[k]->seq, (int64_t)k + 1);
        ck_assert_str_eq(l->items[k]->action, e[k].action);
        ck_assert_str_eq(l->items[k]->outcome, e[k].outcome);
        ck_assert_uint_eq(strlen(l->items[k]->hash), 64);
        ck_assert_str_eq(l->items[k]->prev_hash, k ? l->items[k - 1]->hash : "");
        ck_assert(l->items[k]->at > 0);
    }
    ck_assert_str_eq(l->items[4]->action, "audit:read");
    ck_assert_str_eq(l->items[4]->identity_id, bob_id);
    mn_audit_entries_free(l);

    mn_audit_filter f = MN_AUDIT_FILTER_INIT;
    f.action = "memory:";
    ck_assert_uint_eq(count(db, &f), 3);
    f.action = "memory:create";
    ck_assert_uint_eq(count(db, &f), 2);
    f = (mn_audit_filter)MN_AUDIT_FILTER_INIT;
    f.identity = "bob"; /* external id: bob's calls */
    ck_assert_uint_eq(count(db, &f), 2);
    f.identity = bob_id;
    ck_assert_uint_eq(count(db, &f), 2);
    f.identity = "01900000-0000-7000-8000-000000000000"; /* no such identity (or one deleted) */
    ck_assert_uint_eq(count(db, &f), 0);
    f = (mn_audit_filter)MN_AUDIT_FILTER_INIT;
    f.resource = m1;
    ck_assert_uint_eq(count(db, &f), 2); /* created, deleted */
    f.resource = m2;
    ck_assert_uint_eq(count(db, &f), 1);
    f = (mn_audit_filter)MN_AUDIT_FILTER_INIT;
    f.outcome = "denied";
    ck_assert_uint_eq(count(db, &f), 1);
    f.outcome = "ok";
    ck_assert_uint_eq(count(db, &f), 4);
    f = (mn_audit_filter)MN_AUDIT_FILTER_INIT;
    f.until = 1;
    ck_assert_uint_eq(count(db, &f), 0);
    f.until = 0;
    f.since = INT64_MAX / 2;
    ck_assert_uint_eq(count(db, &f), 0);
    f.since = 1;
    ck_assert_uint_eq(count(db, &f), 5);

    /* Pages of two: 1-2, 3-4, 5. */
    f = (mn_audit_filter)MN_AUDIT_FILTER_INIT;
    f.limit = 2;
    int64_t seen = 0;
    for (int page = 0; page < 3; page++) {
        l = list(db, &sys, &f);
        ck_assert_uint_eq(l->count, page < 2 ? 2 : 1);
        for (size_t k = 0; k < l->count; k++)
            ck_assert_int_eq(l->items[k]->seq, ++seen);
        f.after_seq = l->items[l->count - 1]->seq;
        mn_audit_entries_free(l);
    }
    ck_assert_uint_eq(count(db, &f), 0);

    /* Bad filters change nothing and say what is wrong. */
    mn_audit_entries *none = (mn_audit_entries *)&none;
    f = (mn_audit_filter)MN_AUDIT_FILTER_INIT;
    f.limit = 1001;
    TH_RC(db, mn_audit_list(db, &sys, &f, &none), MN_EINVAL);
    ck_assert_ptr_null(none);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(db), "limit"));
    f.limit = 0;
    f.outcome = "maybe";
    TH_RC(db, mn_audit_list(db, &sys, &f, &none), MN_EINVAL);
    mn_audit_filter zero = {0};
    TH_RC(db, mn_audit_list(db, &sys, &zero, &none), MN_EINVAL);
    TH_RC(db, mn_audit_list(db, &sys, NULL, NULL), MN_EINVAL);
    mn_audit_filter g;
    ck_assert_int_eq(mn_audit_filter_init(&g, MN_AUDIT_FILTER_VERSION), MN_OK);
    ck_assert_uint_eq(g.version, MN_AUDIT_FILTER_VERSION);
    entries(&n);
    ck_assert_uint_eq(n, 5); /* the system actor's failures are not denials */
    mn_close(db);
}
END_TEST

/* ---- retention ------------------------------------------------------------------------------ */

static void nap_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    nanosleep(&ts, NULL);
}

START_TEST(test_prune_keeps_the_chain_verifiable)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    TH_OK(db, mn_identity_create(db, &sys, "bob", "agent", NULL, NULL));
    for (int k = 0; k < 5; k++)
        th_add(db, &sys, "bob", th_fmt("memory %d", k));
    nap_ms(5);

    /* Nothing that old: nothing removed, and nothing recorded. */
    int64_t removed = -1;
    TH_OK(db, mn_audit_prune(db, &sys, 86400000, &removed));
    ck_assert_int_eq(removed, 0);
    size_t n;
    entries(&n);
    ck_assert_uint_eq(n, 6);
    /* An agent may not prune; the refusal is an entry. */
    const mn_actor bob = TH_ACTOR(.tenant = "acme", .identity = "bob");
    TH_RC(db, mn_audit_prune(db, &bob, 0, &removed), MN_EDENIED);
    TH_RC(db, mn_audit_prune(db, &sys, -1, &removed), MN_EINVAL);
    nap_ms(5);

    /* Everything made before now: the seven go, the prune's own entry (8) stays. */
    TH_OK(db, mn_audit_prune(db, &sys, 0, &removed));
    ck_assert_int_eq(removed, 7);
    mn_audit_entries *l = list(db, &sys, NULL);
    ck_assert_uint_eq(l->count, 1);
    ck_assert_int_eq(l->items[0]->seq, 8);
    ck_assert_str_eq(l->items[0]->action, "audit:prune");
    ck_assert(th_json_eq(l->items[0]->resources, "[\"7\"]"));
    mn_audit_entries_free(l);
    assert_intact(db, &sys, 1);
    /* The chain goes on from there. */
    th_add(db, &sys, "bob", "after the prune");
    assert_intact(db, &sys, 2);
    l = list(db, &sys, NULL);
    ck_assert_int_eq(l->items[1]->seq, 9);
    mn_audit_entries_free(l);
    mn_close(db);
}
END_TEST

/* The retention setting: a minimum age that prunes respect, a change recorded like any other. */
START_TEST(test_retention)
{
    mn_db *db = fresh(_i);
    if (!db)
        return;
    TH_OK(db, mn_identity_create(db, &sys, "bob", "agent", NULL, NULL));
    int64_t keep = -1;
    TH_OK(db, mn_audit_retention_get(db, &sys, &keep));
    ck_assert_int_eq(keep, 0); /* none set */
    const int64_t day = 86400000;
    TH_OK(db, mn_audit_retention_set(db, &sys, 30 * day));
    TH_OK(db, mn_audit_retention_get(db, &sys, &keep));
    ck_assert_int_eq(keep, 30 * day);
    size_t n;
    const struct entry *e = entries(&n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(e[1].action, "audit:retention");
    ck_assert(th_json_eq(e[1].resources, th_fmt("[\"%lld\"]", (long long)(30 * day))));

    /* A prune younger than the retention is refused and removes nothing. */
    int64_t removed = -1;
    TH_RC(db, mn_audit_prune(db, &sys, day, &removed), MN_EINVAL);
    ck_assert_int_eq(removed, 0);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(db), "mn_audit_retention_set"));
    TH_OK(db, mn_audit_prune(db, &sys, 30 * day, &removed));
    ck_assert_int_eq(removed, 0);
    entries(&n);
    ck_assert_uint_eq(n, 2);

    /* Bad input changes nothing; an agent may neither set nor read it. */
    TH_RC(db, mn_audit_retention_set(db, &sys, -1), MN_EINVAL);
    TH_RC(db, mn_audit_retention_get(db, &sys, NULL), MN_EINVAL);
    const mn_actor bob = TH_ACTOR(.tenant = "acme", .identity = "bob");
    TH_RC(db, mn_audit_retention_set(db, &bob, 0), MN_EDENIED);
    TH_RC(db, mn_audit_retention_get(db, &bob, &keep), MN_EDENIED);
    TH_OK(db, mn_audit_retention_get(db, &sys, &keep));
    ck_assert_int_eq(keep, 30 * day);
    TH_OK(db, mn_audit_retention_set(db, &sys, 0)); /* no minimum again */
    nap_ms(5);
    TH_OK(db, mn_audit_prune(db, &sys, 0, &removed));
    ck_assert_int_gt(removed, 0);
    assert_intact(db, &sys, 1);
    mn_close(db);
}
END_TEST

/* A SQLite database pruned down to its entries 8 and 9. */
static mn_db *pruned(void)
{
    mn_db *db = six_entries();
    th_add(db, &sys, "bob", "one more");
    nap_ms(5);
    int64_t removed = 0;
    TH_OK(db, mn_audit_prune(db, &sys, 0, &removed));
    ck_assert_int_eq(removed, 7);
    th_add(db, &sys, "bob", "after the prune");
    assert_intact(db, &sys, 2);
    return db;
}

START_TEST(test_tampering_after_a_prune)
{
    mn_db *db = pruned();
    tamper("UPDATE audit_log SET resources = '[]' WHERE seq = 8");
    assert_bad_after(db, 8, 0);
    mn_close(db);

    db = pruned();
    tamper("UPDATE audit_checkpoints SET hash = replace(hash, substr(hash, 1, 1), 'x')");
    assert_bad_after(db, 8, 0);
    mn_close(db);

    /* The checkpoint gone: the chain seems to start at 1, which is missing. */
    db = pruned();
    tamper("DELETE FROM audit_checkpoints");
    assert_bad_after(db, 1, 0);
    mn_close(db);

    db = pruned();
    tamper("DELETE FROM audit_log WHERE seq = 8");
    assert_bad_after(db, 8, 0);
    mn_close(db);
}
END_TEST

/* A chain that does not verify is not pruned: the damage stays to be seen. */
START_TEST(test_no_prune_of_a_broken_chain)
{
    mn_db *db = six_entries();
    tamper("UPDATE audit_log SET resources = '[]' WHERE seq = 2");
    nap_ms(5);
    int64_t removed = -1;
    TH_RC(db, mn_audit_prune(db, &sys, 0, &removed), MN_ECORRUPT);
    ck_assert_int_eq(removed, 0);
    size_t n;
    entries(&n);
    ck_assert_uint_eq(n, 6);
    mn_close(db);
}
END_TEST

static Suite *audit_suite(void)
{
    Suite *s = suite_create("audit");
    TCase *tc = tcase_create("audit");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_one_entry_per_change, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_denial_and_api_key_are_recorded, 0, TH_NSTORES);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_edited_entry);
    tcase_add_test(tc, test_edited_first_entry);
    tcase_add_test(tc, test_deleted_middle_entry);
    tcase_add_test(tc, test_swapped_entries);
    tcase_add_test(tc, test_swapped_neighbours);
    tcase_add_loop_test(tc, test_list_filters, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_prune_keeps_the_chain_verifiable, 0, TH_NSTORES);
    tcase_add_loop_test(tc, test_retention, 0, TH_NSTORES);
    tcase_add_test(tc, test_tampering_after_a_prune);
    tcase_add_test(tc, test_no_prune_of_a_broken_chain);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(audit_suite());
}
