/*
 * The store conformance suite (see conformance.h). Every test opens a new database from the
 * backend's URL factory and uses the public API only, so it holds for any backend.
 *
 * The tests are registered as Check loop tests over one iteration whose index (_i) is the
 * backend's slot plus MAX_BACKENDS times a search mode: that is how a test function, which
 * takes no arguments, finds its backend, and the mode its handles search in by default
 * (mn_config.search_mode). Every test that searches runs once in each mode, so that filters,
 * policies, expiry, deletes and tenants are known to apply alike in every one.
 */
#include "support/conformance.h"
#include "support/harness.h"
#include "api/handle.h"
#include "store/store.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BACKENDS 8
static struct {
    const char *name;
    const char *(*make_url)(void);
} backends[MAX_BACKENDS];
static int nbackends;

static const char *fresh_url(int i)
{
    ck_assert_int_lt(i % MAX_BACKENDS, nbackends);
    const char *u = backends[i % MAX_BACKENDS].make_url();
    ck_assert_ptr_nonnull(u);
    return th_fmt("%s", u);
}

/* The search mode of the test's run (MN_SEARCH_AUTO: the library's default). */
static int search_mode(int i)
{
    return i / MAX_BACKENDS;
}

/* A handle on url that searches in the run's mode by default. */
static mn_db *open_url(int i, const char *url)
{
    mn_config cfg = MN_CONFIG_INIT;
    cfg.search_mode = search_mode(i);
    return th_open(url, &cfg);
}

static mn_db *open_fresh(int i)
{
    return open_url(i, fresh_url(i));
}

/* A database with tenant "acme" holding identities alice and bob. */
struct world {
    mn_db *db;
    int mode;       /* what its searches run in: MN_SEARCH_VECTOR, _KEYWORD or _HYBRID */
    const char *tid, *alice, *bob;
    mn_actor sys, as_alice, as_bob;
};

/* A world on url opened with cfg (NULL: the defaults), searching in the run's mode. */
static void world_open_at(struct world *w, int i, const char *url, const mn_config *cfg)
{
    mn_config c = cfg ? *cfg : (mn_config)MN_CONFIG_INIT;
    c.search_mode = search_mode(i);
    w->db = th_open(url, &c);
    w->mode = c.search_mode ? c.search_mode : MN_SEARCH_HYBRID;
    w->tid = th_tenant(w->db, "acme");
    w->alice = th_identity(w->db, "acme", "alice");
    w->bob = th_identity(w->db, "acme", "bob");
    w->sys = (mn_actor)TH_ACTOR(.tenant = "acme", .identity = NULL);
    w->as_alice = (mn_actor)TH_ACTOR(.tenant = "acme", .identity = "alice");
    w->as_bob = (mn_actor)TH_ACTOR(.tenant = "acme", .identity = "bob");
}

static void world_open(struct world *w, int i)
{
    world_open_at(w, i, fresh_url(i), NULL);
}

static void world_close(struct world *w)
{
    mn_close(w->db);
    w->db = NULL;
}

static const char *UNKNOWN_ID = "01890a5d-ac96-774b-bcce-b302099a8057";

/* Asserts that the ids the list (all pages, given filter) returns are exactly want[0..n-1]. */
static void expect_list(struct world *w, const mn_actor *a, const mn_filter *f, const char **want,
                        size_t n, const char *what)
{
    size_t got_n;
    const char **got = th_list_ids(w->db, a, f, 0, &got_n);
    ck_assert_msg(got_n == n, "%s: list returned %zu memories, want %zu", what, got_n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(th_ids_contain(got, got_n, want[i]), "%s: list misses %s", what, want[i]);
}

/* query and the longest word of each memory of a's tenant, deleted and expired ones too: a
 * keyword search for it finds every memory the filters let through. */
static const char *with_every_memory(struct world *w, const mn_actor *a, const char *query)
{
    mn_actor sys = TH_ACTOR(.tenant = a->tenant, .identity = NULL);
    mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION, .limit = 1000,
                          .filter = &(mn_filter){.version = MN_FILTER_VERSION,
                                                 .flags = MN_WITH_DELETED | MN_WITH_EXPIRED}};
    mn_memories *l = NULL;
    TH_OK(w->db, mn_memory_list(w->db, &sys, &lo, &l));
    const char *q = query;
    for (size_t i = 0; i < l->count; i++) {
        const char *t = l->items[i]->text, *best = t;
        size_t best_len = 0;
        for (const char *p = t; *p;) {
            size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
            if (len > best_len) {
                best = p;
                best_len = len;
            }
            p += len ? len : 1;
        }
        q = th_fmt("%s %.*s", q, (int)best_len, best);
    }
    mn_memories_free(l);
    return q;
}

/* Same for search with a large k and no relevance floor, which keeps every hit; a keyword
 * search is given a word of every memory of the tenant, so that only the filters keep memories
 * out. */
static void expect_search(struct world *w, const mn_actor *a, const char *query,
                          const mn_filter *f, const char **want, size_t n, const char *what)
{
    if (w->mode == MN_SEARCH_KEYWORD)
        query = with_every_memory(w, a, query);
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = query, .k = 1000,
                            .min_similarity = MN_SEARCH_OFF};
    if (f)
        so.filter = f;
    mn_memories *l = NULL;
    TH_OK(w->db, mn_memory_search(w->db, a, &so, &l));
    ck_assert_msg(l->count == n, "%s: search returned %zu memories, want %zu", what, l->count, n);
    for (size_t i = 0; i < l->count; i++) {
        int found = 0;
        for (size_t j = 0; j < n; j++)
            found |= strcmp(l->items[i]->id, want[j]) == 0;
        ck_assert_msg(found, "%s: search returned unexpected %s (%s)", what, l->items[i]->id,
                      l->items[i]->text);
    }
    ck_assert_ptr_null(l->next_cursor);
    mn_memories_free(l);
}

/* ==== tenants ================================================================================ */

START_TEST(tenant_create_get_list)
{
    mn_db *db = open_fresh(_i);
    int64_t t0 = th_now_ms();
    mn_tenant *t = NULL;
    TH_OK(db, mn_tenant_create(db, "acme", &t));
    int64_t t1 = th_now_ms();
    ck_assert_ptr_nonnull(t);
    ck_assert_msg(th_is_uuid7(t->id), "tenant id %s is not a lowercase UUIDv7", t->id);
    ck_assert_str_eq(t->name, "acme");
    ck_assert_msg(t->created_at >= t0 - 1000 && t->created_at <= t1 + 1000,
                  "created_at %lld not in [%lld, %lld]", (long long)t->created_at,
                  (long long)t0, (long long)t1);

    mn_tenant *g = NULL;
    TH_OK(db, mn_tenant_get(db, "acme", &g));
    ck_assert_str_eq(g->id, t->id);
    ck_assert_str_eq(g->name, "acme");
    ck_assert_int_eq(g->created_at, t->created_at);
    mn_tenant_free(g);
    g = NULL;
    TH_OK(db, mn_tenant_get(db, t->id, &g));
    ck_assert_str_eq(g->name, "acme");
    mn_tenant_free(g);

    const char *globex = th_tenant(db, "globex");
    /* The full range of allowed names. */
    char longest[129];
    memset(longest, 'x', 128);
    longest[128] = '\0';
    th_tenant(db, longest);
    th_tenant(db, "A-b_c.9");
    th_tenant(db, "7");

    mn_tenants *l = NULL;
    TH_OK(db, mn_tenant_list(db, &l));
    ck_assert_uint_eq(l->count, 5);
    int seen_acme = 0, seen_globex = 0;
    for (size_t i = 0; i < l->count; i++) {
        ck_assert(th_is_uuid7(l->items[i]->id));
        if (strcmp(l->items[i]->name, "acme") == 0) {
            seen_acme++;
            ck_assert_str_eq(l->items[i]->id, t->id);
        }
        if (strcmp(l->items[i]->name, "globex") == 0) {
            seen_globex++;
            ck_assert_str_eq(l->items[i]->id, globex);
        }
    }
    ck_assert_int_eq(seen_acme, 1);
    ck_assert_int_eq(seen_globex, 1);
    mn_tenants_free(l);

    g = NULL;
    TH_RC(db, mn_tenant_get(db, "nope", &g), MN_ENOTFOUND);
    ck_assert_msg(th_has_word(mn_errmsg(db), "nope|tenant"), "message: %s", mn_errmsg(db));
    TH_RC(db, mn_tenant_get(db, UNKNOWN_ID, &g), MN_ENOTFOUND);
    mn_tenant_free(t);
    mn_close(db);
}
END_TEST

START_TEST(tenant_duplicate)
{
    mn_db *db = open_fresh(_i);
    const char *id = th_tenant(db, "acme");
    mn_tenant *t = NULL;
    TH_RC(db, mn_tenant_create(db, "acme", &t), MN_EEXISTS);
    ck_assert_msg(th_has_word(mn_errmsg(db), "acme"), "message: %s", mn_errmsg(db));
    ck_assert_int_eq(mn_errcode(db), MN_EEXISTS);
    ck_assert_ptr_null(t);
    ck_assert_uint_eq(th_count_tenants(db), 1);
    TH_OK(db, mn_tenant_get(db, "acme", &t));
    ck_assert_str_eq(t->id, id);
    mn_tenant_free(t);
    /* Names are case-sensitive bytes: another spelling is another tenant. */
    th_tenant(db, "ACME");
    ck_assert_uint_eq(th_count_tenants(db), 2);
    mn_close(db);
}
END_TEST

START_TEST(tenant_bad_names)
{
    mn_db *db = open_fresh(_i);
    char toolong[130];
    memset(toolong, 'x', 129);
    toolong[129] = '\0';
    const char *bad[] = {"", toolong, "a b", "a/b", "caf\xc3\xa9", "a\nb", "x;DROP TABLE",
                         "\xff", "a\"b", "tab\t"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mn_tenant *t = NULL;
        int rc = mn_tenant_create(db, bad[i], &t);
        ck_assert_msg(rc == MN_EINVAL, "name #%zu \"%s\": rc %d (%s)", i, bad[i], rc,
                      mn_strerror(rc));
        ck_assert_msg(th_has_word(mn_errmsg(db), "name"), "name #%zu: message: %s", i,
                      mn_errmsg(db));
        ck_assert_ptr_null(t);
    }
    mn_tenant *t = NULL;
    TH_RC(db, mn_tenant_create(db, NULL, &t), MN_EINVAL);
    ck_assert_uint_eq(th_count_tenants(db), 0);
    mn_close(db);
}
END_TEST

/* ==== identities ============================================================================= */

START_TEST(identity_create_get_list)
{
    mn_db *db = open_fresh(_i);
    const char *tid = th_tenant(db, "acme");
    mn_actor sys = TH_ACTOR(.tenant = "acme", .identity = NULL);
    mn_identity *a = NULL, *b = NULL, *g = NULL;
    int64_t t0 = th_now_ms();
    TH_OK(db, mn_identity_create(db, &sys, "alice", NULL, NULL, &a));
    ck_assert(th_is_uuid7(a->id));
    ck_assert_str_eq(a->tenant_id, tid);
    ck_assert_str_eq(a->external_id, "alice");
    ck_assert_str_eq(a->role, "agent");
    ck_assert_msg(th_json_eq(a->claims, "{}"), "claims %s", a->claims);
    ck_assert_int_eq(a->active, 1);
    ck_assert(a->created_at >= t0 - 1000 && a->created_at <= th_now_ms() + 1000);
    ck_assert_int_ge(a->updated_at, a->created_at);

    /* The actor's tenant may be named by id as well. */
    mn_actor sys_by_id = TH_ACTOR(.tenant = tid, .identity = NULL);
    TH_OK(db, mn_identity_create(db, &sys_by_id, "bob", "admin",
                                 " { \"team\" : \"ops\", \"level\" : 3, \"tags\": [\"x\"] } ", &b));
    ck_assert_str_eq(b->role, "admin");
    ck_assert_msg(th_json_eq(b->claims, "{\"team\":\"ops\",\"level\":3,\"tags\":[\"x\"]}"),
                  "claims %s", b->claims);
    ck_assert_str_ne(a->id, b->id);

    TH_OK(db, mn_identity_get(db, &sys, "alice", &g));
    ck_assert_str_eq(g->id, a->id);
    ck_assert_str_eq(g->role, "agent");
    mn_identity_free(g);
    g = NULL;
    TH_OK(db, mn_identity_get(db, &sys, b->id, &g));
    ck_assert_str_eq(g->external_id, "bob");
    ck_assert_msg(th_json_eq(g->claims, b->claims), "claims %s", g->claims);
    mn_identity_free(g);
    g = NULL;
    /* An identity acting for itself can read itself. */
    mn_actor as_alice = TH_ACTOR(.tenant = "acme", .identity = "alice");
    TH_OK(db, mn_identity_get(db, &as_alice, a->id, &g));
    ck_assert_str_eq(g->external_id, "alice");
    mn_identity_free(g);
    g = NULL;

    mn_identities *l = NULL;
    TH_OK(db, mn_identity_list(db, &sys, &l));
    ck_assert_uint_eq(l->count, 2);
    int seen = 0;
    for (size_t i = 0; i < l->count; i++) {
        seen |= strcmp(l->items[i]->id, a->id) == 0 ? 1 : 0;
        seen |= strcmp(l->items[i]->id, b->id) == 0 ? 2 : 0;
        ck_assert_str_eq(l->items[i]->tenant_id, tid);
    }
    ck_assert_int_eq(seen, 3);
    mn_identities_free(l);

    TH_RC(db, mn_identity_get(db, &sys, "carol", &g), MN_ENOTFOUND);
    ck_assert_msg(th_has_word(mn_errmsg(db), "carol|identity"), "message: %s", mn_errmsg(db));
    TH_RC(db, mn_identity_get(db, &sys, UNKNOWN_ID, &g), MN_ENOTFOUND);
    ck_assert_ptr_null(g);
    mn_identity_free(a);
    mn_identity_free(b);
    mn_close(db);
}
END_TEST

START_TEST(identity_duplicate_external_id)
{
    mn_db *db = open_fresh(_i);
    th_tenant(db, "acme");
    th_tenant(db, "globex");
    const char *a1 = th_identity(db, "acme", "alice");
    mn_actor sys = TH_ACTOR(.tenant = "acme", .identity = NULL);
    mn_identity *i = NULL;
    TH_RC(db, mn_identity_create(db, &sys, "alice", "agent", NULL, &i), MN_EEXISTS);
    ck_assert_msg(th_has_word(mn_errmsg(db), "alice"), "message: %s", mn_errmsg(db));
    ck_assert_ptr_null(i);
    ck_assert_uint_eq(th_count_identities(db, &sys), 1);
    /* The same external_id in another tenant is another identity. */
    const char *a2 = th_identity(db, "globex", "alice");
    ck_assert_str_ne(a1, a2);
    mn_actor gsys = TH_ACTOR(.tenant = "globex", .identity = NULL);
    ck_assert_uint_eq(th_count_identities(db, &gsys), 1);
    ck_assert_uint_eq(th_count_identities(db, &sys), 1);
    TH_OK(db, mn_identity_get(db, &gsys, "alice", &i));
    ck_assert_str_eq(i->id, a2);
    mn_identity_free(i);
    mn_close(db);
}
END_TEST

START_TEST(identity_deactivate)
{
    struct world w;
    world_open(&w, _i);
    mn_identity *before = NULL, *after = NULL;
    const char *mine = th_add(w.db, &w.as_alice, NULL, "alice's memory before she left");
    TH_OK(w.db, mn_identity_get(w.db, &w.sys, "alice", &before));
    TH_OK(w.db, mn_identity_deactivate(w.db, &w.sys, "alice"));
    /* A deactivated identity may no longer act ... */
    th_state s0, s1;
    th_state_get(w.db, &s0);
    mn_memory_input in = TH_IN(.text = "written after deactivation");
    mn_memory *m = NULL;
    TH_RC(w.db, mn_memory_add(w.db, &w.as_alice, &in, &m), MN_EDENIED);
    ck_assert_msg(th_has_word(mn_errmsg(w.db), "alice") &&
                      th_has_word(mn_errmsg(w.db), "deactivat|inactive"),
                  "message: %s", mn_errmsg(w.db));
    TH_RC(w.db, mn_memory_get(w.db, &w.as_alice, mine, 0, &m), MN_EDENIED);
    mn_memories *l = NULL;
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "memory"};
    TH_RC(w.db, mn_memory_search(w.db, &w.as_alice, &so, &l), MN_EDENIED);
    TH_RC(w.db, mn_memory_list(w.db, &w.as_alice, NULL, &l), MN_EDENIED);
    TH_RC(w.db, mn_memory_delete(w.db, &w.as_alice, mine, MN_DELETE_HARD), MN_EDENIED);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(l);
    th_state_get(w.db, &s1);
    th_assert_state_eq(&s0, &s1, "a deactivated identity's calls");
    /* ... but what it owns stays, and the tenant can still file memories for it. */
    mn_memory_free(th_get(w.db, &w.sys, mine, 0));
    th_add(w.db, &w.sys, "alice", "filed for alice by the tenant");
    TH_OK(w.db, mn_identity_get(w.db, &w.sys, w.alice, &after));
    ck_assert_int_eq(after->active, 0);
    ck_assert_int_eq(after->created_at, before->created_at);
    ck_assert_int_ge(after->updated_at, before->updated_at);
    mn_identity_free(before);
    mn_identity_free(after);
    after = NULL;
    /* bob is untouched; deactivating by id works too. */
    TH_OK(w.db, mn_identity_get(w.db, &w.sys, "bob", &after));
    ck_assert_int_eq(after->active, 1);
    mn_identity_free(after);
    TH_OK(w.db, mn_identity_deactivate(w.db, &w.sys, w.bob));
    TH_RC(w.db, mn_identity_deactivate(w.db, &w.sys, "carol"), MN_ENOTFOUND);
    TH_RC(w.db, mn_identity_deactivate(w.db, &w.sys, UNKNOWN_ID), MN_ENOTFOUND);
    ck_assert_uint_eq(th_count_identities(w.db, &w.sys), 2);
    world_close(&w);
}
END_TEST

START_TEST(identity_delete_cascades)
{
    struct world w;
    world_open(&w, _i);
    const char *a1 = th_add(w.db, &w.as_alice, NULL, "alice memory one about sailing");
    const char *a2 = th_add(w.db, &w.as_alice, NULL, "alice memory two about cooking");
    const char *a3 = th_add(w.db, &w.sys, "alice", "alice memory three about chess");
    const char *b1 = th_add(w.db, &w.as_bob, NULL, "bob memory one about sailing");
    const char *b2 = th_add(w.db, &w.sys, w.bob, "bob memory two about chess");
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "alice memory one about sailing boats"};
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, a1, &ch, NULL));
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, a2, MN_DELETE_SOFT));
    ch.text = "bob memory one about sailing boats";
    ch.set |= MN_MEMORY_SET_TEXT;
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, b1, &ch, NULL));

    TH_OK(w.db, mn_identity_delete(w.db, &w.sys, "alice"));
    mn_identity *i = NULL;
    TH_RC(w.db, mn_identity_get(w.db, &w.sys, "alice", &i), MN_ENOTFOUND);
    TH_RC(w.db, mn_identity_get(w.db, &w.sys, w.alice, &i), MN_ENOTFOUND);
    ck_assert_uint_eq(th_count_identities(w.db, &w.sys), 1);
    const char *gone[] = {a1, a2, a3};
    for (size_t k = 0; k < 3; k++) {
        mn_memory *m = NULL;
        mn_history *h = NULL;
        TH_RC(w.db, mn_memory_get(w.db, &w.sys, gone[k], MN_WITH_DELETED | MN_WITH_EXPIRED, &m),
              MN_ENOTFOUND);
        TH_RC(w.db, mn_memory_history(w.db, &w.sys, gone[k], &h), MN_ENOTFOUND);
        TH_RC(w.db, mn_memory_restore(w.db, &w.sys, gone[k]), MN_ENOTFOUND);
    }
    /* bob's memories and history stay. */
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, MN_WITH_DELETED | MN_WITH_EXPIRED), 2);
    mn_memory_free(th_get(w.db, &w.sys, b2, 0));
    mn_history *h = NULL;
    TH_OK(w.db, mn_memory_history(w.db, &w.sys, b1, &h));
    ck_assert_uint_eq(h->count, 1);
    mn_history_free(h);
    /* Search no longer finds alice's memories. */
    const char *want[] = {b1, b2};
    expect_search(&w, &w.sys, "alice memory sailing chess",
                  &(mn_filter){.version = MN_FILTER_VERSION, .flags = MN_WITH_DELETED}, want, 2,
                  "after identity delete");
    /* The deleted identity can no longer act, and can be deleted only once. */
    TH_RC(w.db, mn_identity_delete(w.db, &w.sys, "alice"), MN_ENOTFOUND);
    mn_memory_input in = TH_IN(.text = "x");
    TH_RC(w.db, mn_memory_add(w.db, &w.as_alice, &in, NULL), MN_ENOTFOUND);
    /* Its external_id is free again. */
    const char *again = th_identity(w.db, "acme", "alice");
    ck_assert_str_ne(again, w.alice);
    mn_filter own = {.version = MN_FILTER_VERSION, .identity = "alice", .flags = MN_WITH_DELETED};
    expect_list(&w, &w.sys, &own, NULL, 0, "new alice owns nothing");
    world_close(&w);
}
END_TEST

/* ==== memories: add, get ===================================================================== */

START_TEST(memory_add_defaults)
{
    struct world w;
    world_open(&w, _i);
    const char *text = "Daniel prefers an aisle seat on flights longer than two hours.";
    mn_memory_input in = TH_IN(.text = text);
    mn_memory *m = NULL;
    int64_t t0 = th_now_ms();
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &in, &m));
    int64_t t1 = th_now_ms();
    ck_assert_msg(th_is_uuid7(m->id), "memory id %s", m->id);
    ck_assert_str_eq(m->tenant_id, w.tid);
    ck_assert_str_eq(m->identity_id, w.alice);
    ck_assert_str_eq(m->text, text);
    ck_assert_str_eq(m->type, "fact");
    ck_assert_msg(th_json_eq(m->metadata, "{}"), "metadata %s", m->metadata);
    ck_assert_double_eq_tol(m->importance, 0.5, 1e-12);
    ck_assert_int_eq(m->version, 1);
    ck_assert_msg(m->created_at >= t0 - 1000 && m->created_at <= t1 + 1000, "created_at");
    ck_assert_int_eq(m->updated_at, m->created_at);
    ck_assert_int_eq(m->expires_at, 0);
    ck_assert_int_eq(m->deleted, 0);
    ck_assert_int_gt(m->seq, 0);
    ck_assert_ptr_null(m->embedding);

    mn_memory *g = th_get(w.db, &w.as_alice, m->id, 0);
    ck_assert_str_eq(g->id, m->id);
    ck_assert_str_eq(g->tenant_id, w.tid);
    ck_assert_str_eq(g->identity_id, w.alice);
    ck_assert_str_eq(g->text, text);
    ck_assert_str_eq(g->type, "fact");
    ck_assert(th_json_eq(g->metadata, "{}"));
    ck_assert_double_eq_tol(g->importance, 0.5, 1e-12);
    ck_assert_int_eq(g->version, 1);
    ck_assert_int_eq(g->created_at, m->created_at);
    ck_assert_int_eq(g->updated_at, m->updated_at);
    ck_assert_int_eq(g->expires_at, 0);
    ck_assert_int_eq(g->deleted, 0);
    ck_assert_int_eq(g->seq, m->seq);
    ck_assert_ptr_null(g->embedding);
    mn_memory_free(g);

    /* With MN_WITH_EMBEDDING: the text's embedding, unit length. */
    g = th_get(w.db, &w.as_alice, m->id, MN_WITH_EMBEDDING);
    ck_assert_ptr_nonnull(g->embedding);
    ck_assert_int_eq(g->dim, mn_embed_dim(w.db));
    ck_assert_int_eq(g->dim, 384);
    ck_assert_double_eq_tol(th_norm(g->embedding, g->dim), 1.0, 1e-5);
    const float *e = th_embed(w.db, text);
    ck_assert_double_eq_tol(th_dot(g->embedding, e, g->dim), 1.0, 1e-5);
    mn_memory_free(g);

    /* The system actor names the owner by external_id or id; out may be NULL. */
    mn_memory_input for_bob = TH_IN(.identity = "bob", .text = "bob's note");
    mn_memory *mb = NULL;
    TH_OK(w.db, mn_memory_add(w.db, &w.sys, &for_bob, &mb));
    ck_assert_str_eq(mb->identity_id, w.bob);
    for_bob.identity = w.bob;
    for_bob.text = "bob's other note";
    TH_OK(w.db, mn_memory_add(w.db, &w.sys, &for_bob, NULL));
    /* An identity may file a memory for another identity of its tenant. */
    mn_memory_input alice_for_bob = TH_IN(.identity = "bob", .text = "from alice to bob");
    mn_memory *ab = NULL;
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &alice_for_bob, &ab));
    ck_assert_str_eq(ab->identity_id, w.bob);
    mn_memory_free(ab);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 4);
    mn_memory_free(mb);
    mn_memory_free(m);
    world_close(&w);
}
END_TEST

START_TEST(memory_add_system_actor_needs_owner)
{
    struct world w;
    world_open(&w, _i);
    mn_memory_input in = TH_IN(.text = "no owner");
    mn_memory *m = NULL;
    TH_RC(w.db, mn_memory_add(w.db, &w.sys, &in, &m), MN_EINVAL);
    ck_assert_msg(th_has_word(mn_errmsg(w.db), "identity|owner"), "message: %s",
                  mn_errmsg(w.db));
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, MN_WITH_DELETED), 0);
    world_close(&w);
}
END_TEST

START_TEST(memory_add_all_fields)
{
    struct world w;
    world_open(&w, _i);
    mn_memory_input in = {
        .version = MN_MEMORY_INPUT_VERSION,
        .text = "Trip to Tokyo in October",
        .type = "event",
        .metadata = " { \"topic\" : \"travel\", \"tags\": [\"japan\", \"food\"], \"n\": 2.5 } ",
        .importance = 0.9,
        .ttl_days = 7};
    mn_memory *m = NULL;
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &in, &m));
    ck_assert_str_eq(m->type, "event");
    ck_assert_msg(th_json_eq(m->metadata, "{\"topic\":\"travel\",\"tags\":[\"japan\",\"food\"],"
                                          "\"n\":2.5}"),
                  "metadata %s", m->metadata);
    ck_assert_double_eq_tol(m->importance, 0.9, 1e-12);
    ck_assert_msg(llabs(m->expires_at - (m->created_at + 7 * INT64_C(86400000))) <= 1000,
                  "expires_at %lld, created_at %lld", (long long)m->expires_at,
                  (long long)m->created_at);
    mn_memory *g = th_get(w.db, &w.as_alice, m->id, 0);
    ck_assert_str_eq(g->type, "event");
    ck_assert(th_json_eq(g->metadata, m->metadata));
    ck_assert_double_eq_tol(g->importance, 0.9, 1e-12);
    ck_assert_int_eq(g->expires_at, m->expires_at);
    mn_memory_free(g);
    mn_memory_free(m);

    /* Importance bounds are inclusive; a 64-byte type is allowed; UTF-8 text round-trips. */
    char type64[65];
    memset(type64, 't', 64);
    type64[64] = '\0';
    const char *utf8 = "Café crème brûlée à Paris, 東京で寿司 😀";
    mn_memory_input lo = {
        .version = MN_MEMORY_INPUT_VERSION, .text = utf8, .importance = 0.0, .type = type64};
    mn_memory_input hi = {.version = MN_MEMORY_INPUT_VERSION, .text = "hi", .importance = 1.0};
    const char *lo_id = th_add_in(w.db, &w.as_alice, &lo);
    const char *hi_id = th_add_in(w.db, &w.as_alice, &hi);
    g = th_get(w.db, &w.as_alice, lo_id, 0);
    ck_assert_double_eq(g->importance, 0.0);
    ck_assert_str_eq(g->type, type64);
    ck_assert_str_eq(g->text, utf8);
    mn_memory_free(g);
    g = th_get(w.db, &w.as_alice, hi_id, 0);
    ck_assert_double_eq(g->importance, 1.0);
    mn_memory_free(g);
    world_close(&w);
}
END_TEST

START_TEST(memory_add_many)
{
    struct world w;
    world_open(&w, _i);
    mn_memory_input in[3] = {
        TH_IN(.text = "first of many", .type = "note"),
        TH_IN(.identity = "bob", .text = "second of many", .metadata = "{\"k\":1}"),
        {.version = MN_MEMORY_INPUT_VERSION, .text = "third of many", .importance = 0.25},
    };
    char **ids = NULL;
    size_t failed = 12345;
    TH_OK(w.db, mn_memory_add_many(w.db, &w.as_alice, in, 3, &ids, &failed));
    ck_assert_ptr_nonnull(ids);
    for (size_t i = 0; i < 3; i++) {
        ck_assert(th_is_uuid7(ids[i]));
        mn_memory *m = th_get(w.db, &w.as_alice, ids[i], 0);
        ck_assert_str_eq(m->text, in[i].text);
        ck_assert_str_eq(m->identity_id, i == 1 ? w.bob : w.alice);
        ck_assert_int_eq(m->version, 1);
        mn_memory_free(m);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(ids[i], ids[j]);
    }
    mn_memory *m = th_get(w.db, &w.as_alice, ids[0], 0);
    ck_assert_str_eq(m->type, "note");
    mn_memory_free(m);
    m = th_get(w.db, &w.as_alice, ids[2], 0);
    ck_assert_double_eq_tol(m->importance, 0.25, 1e-12);
    mn_memory_free(m);
    /* ids and failed_index may be NULL. The same batch again adds nothing (deduplication):
     * each input repeats a memory of the first. */
    TH_OK(w.db, mn_memory_add_many(w.db, &w.as_alice, in, 3, NULL, NULL));
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 3);
    char **again = NULL;
    TH_OK(w.db, mn_memory_add_many(w.db, &w.as_alice, in, 3, &again, NULL));
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(again[i], ids[i]);
    mn_strings_free(again, 3);
    mn_strings_free(ids, 3);
    /* Searchable at once. */
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION, .query = "second of many", .k = 1};
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->text, "second of many");
    mn_memories_free(l);
    world_close(&w);
}
END_TEST

START_TEST(memory_add_many_all_or_none)
{
    struct world w;
    world_open(&w, _i);
    th_add(w.db, &w.as_alice, NULL, "already there");
    th_state before, after;
    th_state_get(w.db, &before);

    mn_memory_input in[5];
    for (int i = 0; i < 5; i++)
        in[i] = (mn_memory_input)TH_IN(.text = th_fmt("batch item %d", i));

    struct {
        int index;
        mn_memory_input bad;
        int rc;
    } cases[] = {
#define IN(...) TH_IN(__VA_ARGS__)
        {3, IN(.text = ""), MN_EINVAL},
        {0, IN(.text = "x", .metadata = "[1]"), MN_EINVAL},
        {4, IN(.text = "x", .identity = "nobody"), MN_ENOTFOUND},
        {2, {.version = MN_MEMORY_INPUT_VERSION, .text = "x", .importance = 2.0}, -1},
        {1, IN(.text = NULL), MN_EINVAL},
#undef IN
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        mn_memory_input batch[5];
        memcpy(batch, in, sizeof batch);
        batch[cases[c].index] = cases[c].bad;
        char **ids = NULL;
        size_t failed = 999;
        int rc = mn_memory_add_many(w.db, &w.as_alice, batch, 5, &ids, &failed);
        if (cases[c].rc == -1)
            ck_assert_msg(rc == MN_EINVAL || rc == MN_ERANGE, "case %zu: rc %d", c, rc);
        else
            ck_assert_msg(rc == cases[c].rc, "case %zu: rc %d (%s) want %d: %s", c, rc,
                          mn_strerror(rc), cases[c].rc, mn_errmsg(w.db));
        ck_assert_msg(failed == (size_t)cases[c].index, "case %zu: failed_index %zu want %d", c,
                      failed, cases[c].index);
        ck_assert_ptr_null(ids);
        th_state_get(w.db, &after);
        th_assert_state_eq(&before, &after, "a failed add_many");
    }
    world_close(&w);
}
END_TEST

/* ==== memories: deduplication and upsert ==================================================== */

static mn_memory *put(struct world *w, const mn_actor *a, mn_memory_input in, int want_outcome)
{
    int outcome = -1;
    mn_memory *m = NULL;
    TH_OK(w->db, mn_memory_put(w->db, a, &in, &outcome, &m));
    ck_assert_msg(outcome == want_outcome, "put \"%s\": outcome %d, want %d", in.text, outcome,
                  want_outcome);
    return m;
}

/* Asserts that the tenant's newest audit entry is action on memory id. */
static void expect_last_audit(struct world *w, const char *action, const char *id)
{
    mn_audit_filter f = {.version = MN_AUDIT_FILTER_VERSION, .limit = 1000};
    mn_audit_entries *l = NULL;
    TH_OK(w->db, mn_audit_list(w->db, &w->sys, &f, &l));
    ck_assert_uint_gt(l->count, 0);
    const mn_audit_entry *e = l->items[l->count - 1];
    ck_assert_str_eq(e->action, action);
    ck_assert_ptr_nonnull(strstr(e->resources, id));
    mn_audit_entries_free(l);
}

START_TEST(memory_dedup_exact)
{
    struct world w;
    world_open(&w, _i);
    mn_memory *m = put(&w, &w.as_alice, (mn_memory_input)TH_IN(.text = "Alice likes green tea.",
                       .metadata = "{\"a\":1,\"n\":1.50}"), MN_PUT_CREATED);
    /* Case, surrounding and inner white space (a no-break space too) do not count. */
    mn_memory *same = put(&w, &w.as_alice, (mn_memory_input)TH_IN(
                          .text = "  alice LIKES\t green\xc2\xa0tea.\n"), MN_PUT_UNCHANGED);
    ck_assert_str_eq(same->id, m->id);
    ck_assert_int_eq(same->version, 1);
    ck_assert_str_eq(same->text, "Alice likes green tea.");
    mn_memory_free(same);
    /* New metadata keys merge in, a key both have takes the new value; numbers as written. */
    mn_memory_input more = TH_IN(.text = "alice likes green tea.",
                                 .metadata = "{\"b\":2,\"a\":3}");
    more.importance = 0.9;
    same = put(&w, &w.as_alice, more, MN_PUT_UPDATED);
    ck_assert_str_eq(same->id, m->id);
    ck_assert_int_eq(same->version, 2);
    ck_assert_str_eq(same->metadata, "{\"a\":3,\"n\":1.50,\"b\":2}");
    ck_assert_double_eq_tol(same->importance, 0.5, 1e-12); /* the memory's own stays */
    mn_memory_free(same);
    mn_history *h = NULL;
    TH_OK(w.db, mn_memory_history(w.db, &w.as_alice, m->id, &h));
    ck_assert_uint_eq(h->count, 1);
    mn_history_free(h);
    expect_last_audit(&w, "memory:update", m->id);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 1);
    /* Another type, another owner, or a deleted twin: a new memory. */
    mn_memory *other = put(&w, &w.as_alice, (mn_memory_input)TH_IN(
                           .text = "Alice likes green tea.", .type = "preference"),
                           MN_PUT_CREATED);
    ck_assert_str_ne(other->id, m->id);
    mn_memory_free(other);
    other = put(&w, &w.as_bob, (mn_memory_input)TH_IN(.text = "Alice likes green tea."),
                MN_PUT_CREATED);
    mn_memory_free(other);
    TH_OK(w.db, mn_memory_delete(w.db, &w.as_alice, m->id, MN_DELETE_SOFT));
    other = put(&w, &w.as_alice, (mn_memory_input)TH_IN(.text = "Alice likes green tea."),
                MN_PUT_CREATED);
    ck_assert_str_ne(other->id, m->id);
    /* mn_memory_add returns the memory it found. */
    mn_memory_input again = TH_IN(.text = "ALICE likes green tea.");
    mn_memory *found = NULL;
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &again, &found));
    ck_assert_str_eq(found->id, other->id);
    mn_memory_free(found);
    mn_memory_free(other);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 3);
    mn_memory_free(m);
    world_close(&w);
}
END_TEST

START_TEST(memory_upsert_key)
{
    struct world w;
    world_open(&w, _i);
    mn_memory *m = put(&w, &w.as_alice, (mn_memory_input)TH_IN(.text = "Order 1234 is pending",
                       .external_key = "order-1234", .metadata = "{\"s\":1}"), MN_PUT_CREATED);
    ck_assert_str_eq(m->external_key, "order-1234");
    mn_memory *u = put(&w, &w.as_alice, (mn_memory_input)TH_IN(.text = "Order 1234 has shipped",
                       .external_key = "order-1234", .metadata = "{\"t\":2}"), MN_PUT_UPDATED);
    ck_assert_str_eq(u->id, m->id);
    ck_assert_int_eq(u->version, 2);
    ck_assert_str_eq(u->text, "Order 1234 has shipped");
    ck_assert_str_eq(u->metadata, "{\"t\":2}"); /* replaced: the key's input is the memory */
    ck_assert_str_eq(u->external_key, "order-1234");
    mn_memory_free(u);
    mn_memory *g = th_get(w.db, &w.as_alice, m->id, MN_WITH_EMBEDDING);
    const float *e = th_embed(w.db, "Order 1234 has shipped");
    ck_assert_double_eq_tol(th_dot(g->embedding, e, g->dim), 1.0, 1e-5);
    ck_assert_str_eq(g->external_key, "order-1234");
    mn_memory_free(g);
    mn_history *h = NULL;
    TH_OK(w.db, mn_memory_history(w.db, &w.as_alice, m->id, &h));
    ck_assert_uint_eq(h->count, 1);
    ck_assert_ptr_nonnull(strstr(h->items[0]->before, "pending"));
    ck_assert_ptr_nonnull(strstr(h->items[0]->after, "shipped"));
    mn_history_free(h);
    expect_last_audit(&w, "memory:update", m->id);
    /* The same again changes nothing; the key is the owner's: bob's is another memory. */
    u = put(&w, &w.as_alice, (mn_memory_input)TH_IN(.text = "Order 1234 has shipped",
            .external_key = "order-1234", .metadata = "{\"t\":2}"), MN_PUT_UNCHANGED);
    ck_assert_int_eq(u->version, 2);
    mn_memory_free(u);
    u = put(&w, &w.as_bob, (mn_memory_input)TH_IN(.text = "Order 1234 has shipped",
            .external_key = "order-1234"), MN_PUT_CREATED);
    ck_assert_str_ne(u->id, m->id);
    mn_memory_free(u);
    /* A key held by a deleted memory: a clear error, nothing changed. */
    TH_OK(w.db, mn_memory_delete(w.db, &w.as_alice, m->id, MN_DELETE_SOFT));
    th_state before, after;
    th_state_get(w.db, &before);
    mn_memory_input held = TH_IN(.text = "Order 1234 was returned", .external_key = "order-1234");
    ck_assert_int_eq(mn_memory_add(w.db, &w.as_alice, &held, NULL), MN_EEXISTS);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(w.db), "mn_memory_restore"));
    th_state_get(w.db, &after);
    th_assert_state_eq(&before, &after, "an add with a deleted memory's key");
    /* A bad key is refused. */
    mn_memory_input bad = TH_IN(.text = "x", .external_key = "");
    ck_assert_int_eq(mn_memory_add(w.db, &w.as_alice, &bad, NULL), MN_EINVAL);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(w.db), "external_key"));
    mn_memory_free(m);
    world_close(&w);
}
END_TEST

START_TEST(memory_upsert_id)
{
    struct world w;
    world_open(&w, _i);
    const char *id = "01890a5d-ac96-774b-bcce-b302099a8099";
    mn_memory *m = put(&w, &w.as_alice, (mn_memory_input)TH_IN(.text = "kept id", .id = id),
                       MN_PUT_CREATED);
    ck_assert_str_eq(m->id, id);
    mn_memory_free(m);
    /* The same id again (any case) is that memory: an update, a key added to it. */
    m = put(&w, &w.as_alice, (mn_memory_input)TH_IN(.text = "kept id, new text",
            .id = "01890A5D-AC96-774B-BCCE-B302099A8099", .external_key = "kid"),
            MN_PUT_UPDATED);
    ck_assert_str_eq(m->id, id);
    ck_assert_int_eq(m->version, 2);
    ck_assert_str_eq(m->external_key, "kid");
    mn_memory_free(m);
    /* Another owner's id is refused; so is what is not an id. */
    mn_memory_input theirs = TH_IN(.text = "bob's", .id = id);
    ck_assert_int_eq(mn_memory_add(w.db, &w.as_bob, &theirs, NULL), MN_EEXISTS);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(w.db), "another owner"));
    mn_memory_input bad = TH_IN(.text = "x", .id = "not-an-id");
    ck_assert_int_eq(mn_memory_add(w.db, &w.as_alice, &bad, NULL), MN_EINVAL);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 1);
    world_close(&w);
}
END_TEST

START_TEST(memory_dedup_batch)
{
    struct world w;
    world_open(&w, _i);
    const char *old = th_add(w.db, &w.as_alice, NULL, "Lives in Lisbon");
    mn_memory_input in[5] = {
        TH_IN(.text = "Tracking 77 created", .external_key = "t77"),
        TH_IN(.text = "Works at a bakery", .metadata = "{\"x\":1}"),
        TH_IN(.text = "Tracking 77 delivered", .external_key = "t77"),
        TH_IN(.text = "works at a  bakery", .metadata = "{\"y\":2}"),
        TH_IN(.text = "lives in lisbon"),
    };
    char **ids = NULL;
    int outcomes[5];
    TH_OK(w.db, mn_memory_put_many(w.db, &w.as_alice, in, 5, &ids, outcomes, NULL));
    ck_assert_str_eq(ids[0], ids[2]);
    ck_assert_str_eq(ids[1], ids[3]);
    ck_assert_str_eq(ids[4], old);
    ck_assert_int_eq(outcomes[0], MN_PUT_CREATED);
    ck_assert_int_eq(outcomes[2], MN_PUT_CREATED);
    ck_assert_int_eq(outcomes[1], MN_PUT_CREATED);
    ck_assert_int_eq(outcomes[4], MN_PUT_UNCHANGED);
    mn_memory *k = th_get(w.db, &w.as_alice, ids[0], 0);
    ck_assert_str_eq(k->text, "Tracking 77 delivered"); /* a key's last input wins */
    ck_assert_int_eq(k->version, 1);
    mn_memory_free(k);
    mn_memory *b = th_get(w.db, &w.as_alice, ids[1], 0);
    ck_assert_str_eq(b->metadata, "{\"x\":1,\"y\":2}");
    mn_memory_free(b);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 3);
    mn_strings_free(ids, 5);
    /* An id twice: one memory, the last input's values; an input without an id never folds
     * into one with it, whatever its text. */
    const char *nid = "01890a5d-ac96-774b-bcce-b302099a8100";
    mn_memory_input again[3] = {
        TH_IN(.text = "first of an id", .id = nid),
        TH_IN(.text = "second of an id", .id = nid),
        TH_IN(.text = "second of an id"),
    };
    TH_OK(w.db, mn_memory_put_many(w.db, &w.as_alice, again, 3, &ids, outcomes, NULL));
    ck_assert_str_eq(ids[0], nid);
    ck_assert_str_eq(ids[1], nid);
    ck_assert_str_ne(ids[2], nid);
    ck_assert_int_eq(outcomes[2], MN_PUT_CREATED);
    mn_memory *n = th_get(w.db, &w.as_alice, nid, 0);
    ck_assert_str_eq(n->text, "second of an id");
    mn_memory_free(n);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 5);
    mn_strings_free(ids, 3);
    world_close(&w);
}
END_TEST

START_TEST(memory_dedup_config)
{
    mn_config cfg = MN_CONFIG_INIT;
    cfg.dedup = MN_DEDUP_OFF;
    struct world w = {0};
    w.db = th_open(fresh_url(_i), &cfg);
    th_tenant(w.db, "acme");
    th_identity(w.db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    const char *one = th_add(w.db, &a, NULL, "twice told");
    const char *two = th_add(w.db, &a, NULL, "twice told");
    ck_assert_str_ne(one, two);
    /* A key still upserts. */
    mn_memory_input k = TH_IN(.text = "keyed", .external_key = "k");
    mn_memory *m1 = put(&w, &a, k, MN_PUT_CREATED), *m2 = put(&w, &a, k, MN_PUT_UNCHANGED);
    ck_assert_str_eq(m1->id, m2->id);
    mn_memory_free(m1);
    mn_memory_free(m2);
    mn_close(w.db);

    /* MN_DEDUP_NEAR: a vector this close to a memory's of the same owner and type is it. */
    cfg.dedup = MN_DEDUP_NEAR;
    cfg.dedup_threshold = 0.9;
    w.db = th_open(fresh_url(_i), &cfg);
    th_tenant(w.db, "acme");
    th_identity(w.db, "acme", "alice");
    int dim = mn_embed_dim(w.db);
    float *v = calloc((size_t)dim, sizeof *v), *near = calloc((size_t)dim, sizeof *near),
          *far = calloc((size_t)dim, sizeof *far);
    v[0] = 1;
    near[0] = 0.96f, near[1] = 0.28f; /* cosine 0.96 */
    far[0] = 0.8f, far[1] = 0.6f;     /* cosine 0.8 */
    m1 = put(&w, &a, (mn_memory_input)TH_IN(.text = "first wording", .embedding = v, .dim = dim),
             MN_PUT_CREATED);
    m2 = put(&w, &a, (mn_memory_input)TH_IN(.text = "second wording", .embedding = near,
             .dim = dim), MN_PUT_UNCHANGED);
    ck_assert_str_eq(m2->id, m1->id);
    ck_assert_str_eq(m2->text, "first wording");
    mn_memory_free(m2);
    m2 = put(&w, &a, (mn_memory_input)TH_IN(.text = "third wording", .embedding = far,
             .dim = dim), MN_PUT_CREATED);
    ck_assert_str_ne(m2->id, m1->id);
    mn_memory_free(m1);
    mn_memory_free(m2);
    free(v);
    free(near);
    free(far);
    mn_close(w.db);

    /* Bad settings are refused at open. */
    mn_db *db = NULL;
    cfg.dedup = 7;
    ck_assert_int_eq(mn_open(&db, fresh_url(_i), &cfg), MN_EINVAL);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(db), "dedup"));
    mn_close(db);
    cfg.dedup = MN_DEDUP_NEAR;
    cfg.dedup_threshold = 1.5;
    ck_assert_int_eq(mn_open(&db, fresh_url(_i), &cfg), MN_EINVAL);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(db), "dedup_threshold"));
    mn_close(db);
}
END_TEST

/* Threads of two handles add the same new key (or, key NULL, the same text) at once. */
struct racer {
    mn_db *db;
    const char *text, *key;
    int rc, outcome;
};

static void *race_put(void *arg)
{
    struct racer *r = arg;
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    mn_memory_input in = TH_IN(.text = r->text, .external_key = r->key);
    r->rc = mn_memory_put(r->db, &a, &in, &r->outcome, NULL);
    return NULL;
}

/* Three rounds of N threads of two handles putting at once: with a key, each its own text
 * under the one key (the first round adds it once, every other put updates it); without, all
 * the same text, new each round (each round adds it once). */
static void race_rounds(int _i, int keyed)
{
    const char *url = fresh_url(_i);
    mn_db *dbs[2] = {th_open(url, NULL), NULL};
    th_tenant(dbs[0], "acme");
    th_identity(dbs[0], "acme", "alice");
    dbs[1] = th_open(url, NULL);
    enum { N = 8 };
    for (int round = 0; round < 3; round++) {
        pthread_t t[N];
        struct racer r[N];
        const char *text = th_fmt("contested text of round %d", round);
        for (int i = 0; i < N; i++) {
            r[i] = keyed ? (struct racer){dbs[i % 2], th_fmt("round %d text %d", round, i),
                                          "contested", -1, -1}
                         : (struct racer){dbs[i % 2], text, NULL, -1, -1};
            ck_assert_int_eq(pthread_create(&t[i], NULL, race_put, &r[i]), 0);
        }
        int created = 0;
        for (int i = 0; i < N; i++) {
            pthread_join(t[i], NULL);
            ck_assert_msg(r[i].rc == MN_OK, "racer %d: %s", i, mn_strerror(r[i].rc));
            created += r[i].outcome == MN_PUT_CREATED;
        }
        ck_assert_int_eq(created, keyed ? round == 0 : 1);
        mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
        ck_assert_uint_eq(th_count_memories(dbs[0], &a, 0), keyed ? 1 : (size_t)round + 1);
    }
    mn_close(dbs[0]);
    mn_close(dbs[1]);
}

START_TEST(memory_upsert_race)
{
    race_rounds(_i, 1);
}
END_TEST

/* The same for a text without a key, which no unique index guards: the add's write must see
 * the duplicate another thread or handle added since its lookup (exact deduplication). */
START_TEST(memory_dedup_race)
{
    race_rounds(_i, 0);
}
END_TEST

/* ==== memories: list ========================================================================= */

START_TEST(memory_list_newest_first)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[10];
    for (int i = 0; i < 10; i++)
        ids[i] = th_add(w.db, &w.as_alice, NULL, th_fmt("memory number %d", i));
    mn_list_options opt = MN_LIST_OPTIONS_INIT;
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_list(w.db, &w.sys, &opt, &l));
    ck_assert_uint_eq(l->count, 10);
    for (size_t i = 0; i < 10; i++) {
        ck_assert_str_eq(l->items[i]->id, ids[9 - i]);
        ck_assert_str_eq(l->items[i]->text, th_fmt("memory number %zu", 9 - i));
        ck_assert_ptr_null(l->items[i]->embedding);
        if (i > 0)
            ck_assert_int_lt(strcmp(l->items[i]->id, l->items[i - 1]->id), 0);
    }
    ck_assert_ptr_null(l->next_cursor);
    mn_memories_free(l);
    /* NULL options are the defaults. */
    TH_OK(w.db, mn_memory_list(w.db, &w.sys, NULL, &l));
    ck_assert_uint_eq(l->count, 10);
    ck_assert_str_eq(l->items[0]->id, ids[9]);
    mn_memories_free(l);
    /* MN_WITH_EMBEDDING fills the vectors. */
    mn_filter with_embedding = {.version = MN_FILTER_VERSION, .flags = MN_WITH_EMBEDDING};
    opt.filter = &with_embedding;
    opt.limit = 3;
    TH_OK(w.db, mn_memory_list(w.db, &w.sys, &opt, &l));
    ck_assert_uint_eq(l->count, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_ptr_nonnull(l->items[i]->embedding);
        ck_assert_int_eq(l->items[i]->dim, 384);
        ck_assert_double_eq_tol(th_norm(l->items[i]->embedding, 384), 1.0, 1e-5);
    }
    ck_assert_ptr_nonnull(l->next_cursor);
    mn_memories_free(l);
    /* An empty tenant lists nothing. */
    th_tenant(w.db, "empty");
    mn_actor e = TH_ACTOR(.tenant = "empty", .identity = NULL);
    opt = (mn_list_options)MN_LIST_OPTIONS_INIT;
    TH_OK(w.db, mn_memory_list(w.db, &e, &opt, &l));
    ck_assert_uint_eq(l->count, 0);
    ck_assert_ptr_null(l->next_cursor);
    mn_memories_free(l);
    world_close(&w);
}
END_TEST

#define NPAGE 125

static int id_index(const char **ids, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return (int)i;
    return -1;
}

START_TEST(memory_list_pagination)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[NPAGE];
    /* 100 in one batch, 25 one by one. */
    mn_memory_input in[100];
    for (int i = 0; i < 100; i++)
        in[i] = (mn_memory_input)TH_IN(.text = th_fmt("paged memory %d", i));
    char **got = NULL;
    TH_OK(w.db, mn_memory_add_many(w.db, &w.as_alice, in, 100, &got, NULL));
    for (int i = 0; i < 100; i++)
        ids[i] = th_fmt("%s", got[i]);
    mn_strings_free(got, 100);
    for (int i = 100; i < NPAGE; i++)
        ids[i] = th_add(w.db, &w.as_alice, NULL, th_fmt("paged memory %d", i));

    int seen[NPAGE] = {0};
    mn_list_options opt = {.version = MN_LIST_OPTIONS_VERSION, .limit = 50};
    char *cursor = NULL;
    size_t pages = 0, total = 0;
    const char *prev = NULL;
    for (;;) {
        opt.cursor = cursor;
        mn_memories *l = NULL;
        TH_OK(w.db, mn_memory_list(w.db, &w.sys, &opt, &l));
        pages++;
        ck_assert_msg(pages <= 3, "more than 3 pages for 125 memories at 50 a page");
        ck_assert_uint_eq(l->count, pages < 3 ? 50 : 25);
        for (size_t i = 0; i < l->count; i++) {
            int k = id_index(ids, NPAGE, l->items[i]->id);
            ck_assert_msg(k >= 0, "unknown id %s", l->items[i]->id);
            seen[k]++;
            if (prev)
                ck_assert_msg(strcmp(l->items[i]->id, prev) < 0, "not newest first");
            prev = th_fmt("%s", l->items[i]->id);
        }
        total += l->count;
        free(cursor);
        cursor = l->next_cursor ? strdup(l->next_cursor) : NULL;
        mn_memories_free(l);
        if (!cursor)
            break;
    }
    ck_assert_uint_eq(pages, 3);
    ck_assert_uint_eq(total, NPAGE);
    for (int i = 0; i < NPAGE; i++)
        ck_assert_msg(seen[i] == 1, "memory %d seen %d times", i, seen[i]);

    /* Default limit 50; limit 1000 takes all. */
    mn_memories *l = NULL;
    opt = (mn_list_options)MN_LIST_OPTIONS_INIT;
    TH_OK(w.db, mn_memory_list(w.db, &w.sys, &opt, &l));
    ck_assert_uint_eq(l->count, 50);
    ck_assert_ptr_nonnull(l->next_cursor);
    mn_memories_free(l);
    opt.limit = 1000;
    TH_OK(w.db, mn_memory_list(w.db, &w.sys, &opt, &l));
    ck_assert_uint_eq(l->count, NPAGE);
    ck_assert_ptr_null(l->next_cursor);
    mn_memories_free(l);
    world_close(&w);
}
END_TEST

/* The cursor is a position, not a row: writes between pages neither repeat nor skip rows that
 * existed before, even when the row the cursor came from is deleted. */
START_TEST(memory_list_cursor_stable)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[30];
    for (int i = 0; i < 30; i++)
        ids[i] = th_add(w.db, &w.as_alice, NULL, th_fmt("stable %d", i));
    mn_list_options opt = {.version = MN_LIST_OPTIONS_VERSION, .limit = 10};
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_list(w.db, &w.sys, &opt, &l));
    ck_assert_uint_eq(l->count, 10);
    ck_assert_str_eq(l->items[9]->id, ids[20]);
    char *cursor = strdup(l->next_cursor);
    mn_memories_free(l);

    /* New memories (newer than the cursor), and the cursor's own row and a later one deleted. */
    for (int i = 0; i < 5; i++)
        th_add(w.db, &w.as_alice, NULL, th_fmt("late %d", i));
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, ids[20], MN_DELETE_HARD));
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, ids[5], MN_DELETE_SOFT));

    int seen[30] = {0};
    for (;;) {
        opt.cursor = cursor;
        TH_OK(w.db, mn_memory_list(w.db, &w.sys, &opt, &l));
        for (size_t i = 0; i < l->count; i++) {
            int k = id_index(ids, 30, l->items[i]->id);
            ck_assert_msg(k >= 0 && k < 20, "page after cursor returned %s (%s)", l->items[i]->id,
                          l->items[i]->text);
            seen[k]++;
        }
        free(cursor);
        cursor = l->next_cursor ? strdup(l->next_cursor) : NULL;
        mn_memories_free(l);
        if (!cursor)
            break;
    }
    for (int i = 0; i < 20; i++)
        ck_assert_msg(seen[i] == (i == 5 ? 0 : 1), "memory %d seen %d times", i, seen[i]);
    world_close(&w);
}
END_TEST

struct filter_world {
    struct world w;
    const char *m1, *m2, *m3, *m4;
};

static void filter_world_open(struct filter_world *f, int i)
{
    world_open(&f->w, i);
    mn_memory_input m1 = {.version = MN_MEMORY_INPUT_VERSION,
                          .importance = MN_IMPORTANCE_DEFAULT,
                          .text = "Flight to Tokyo, then ramen and sushi tasting",
                          .metadata = "{\"topic\":\"travel\",\"tags\":[\"japan\",\"food\"],"
                                      "\"trip\":{\"city\":\"Tokyo\",\"days\":5}}"};
    mn_memory_input m2 = TH_IN(.text = "Prefers oat milk in a flat white", .type = "preference",
                               .metadata = "{\"topic\":\"food\",\"tags\":[\"food\"]}");
    mn_memory_input m3 = TH_IN(.identity = "bob", .text = "Bob's travel budget is tight this year");
    mn_memory_input m4 = {.version = MN_MEMORY_INPUT_VERSION,
                          .importance = MN_IMPORTANCE_DEFAULT,
                          .text = "Weekend in Paris at the end of May",
                          .type = "event",
                          .metadata = "{\"topic\":\"travel\",\"tags\":[\"paris\"],"
                                      "\"trip\":{\"city\":\"Paris\",\"days\":3}}"};
    f->m1 = th_add_in(f->w.db, &f->w.as_alice, &m1);
    f->m2 = th_add_in(f->w.db, &f->w.as_alice, &m2);
    f->m3 = th_add_in(f->w.db, &f->w.as_alice, &m3);
    f->m4 = th_add_in(f->w.db, &f->w.as_alice, &m4);
}

/* Runs one filter through list, search and count and checks each answers exactly want. */
static void check_filter(struct filter_world *f, mn_filter flt, const char **want, size_t n,
                         const char *what)
{
    expect_list(&f->w, &f->w.sys, &flt, want, n, what);
    expect_search(&f->w, &f->w.sys, "travel food Tokyo Paris", &flt, want, n, what);
    size_t count = 99;
    TH_OK(f->w.db, mn_memory_count(f->w.db, &f->w.sys, &flt, &count));
    ck_assert_msg(count == n, "%s: count %zu, want %zu", what, count, n);
}

#define WANT(...) ((const char *[]){__VA_ARGS__}), (sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

START_TEST(memory_filters)
{
    struct filter_world f;
    filter_world_open(&f, _i);
    const char *none[1] = {NULL};
    check_filter(&f, (mn_filter)MN_FILTER_INIT, WANT(f.m1, f.m2, f.m3, f.m4), "no filter");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .identity = "alice"},
                 WANT(f.m1, f.m2, f.m4), "identity alice");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .identity = f.w.alice},
                 WANT(f.m1, f.m2, f.m4), "identity id");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .identity = "bob"}, WANT(f.m3),
                 "identity bob");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .type = "fact"}, WANT(f.m1, f.m3),
                 "type fact");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .type = "event"}, WANT(f.m4),
                 "type event");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .type = "nope"}, none, 0,
                 "type nope");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{}"},
                 WANT(f.m1, f.m2, f.m3, f.m4), "meta {}");
    check_filter(&f,
                 (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"topic\":\"travel\"}"},
                 WANT(f.m1, f.m4), "meta topic");
    check_filter(
        &f, (mn_filter){.version = MN_FILTER_VERSION, .metadata = " { \"topic\" : \"travel\" } "},
        WANT(f.m1, f.m4), "meta topic, spaced");
    check_filter(
        &f,
        (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"trip\":{\"city\":\"Tokyo\"}}"},
        WANT(f.m1), "meta nested");
    check_filter(&f,
                 (mn_filter){.version = MN_FILTER_VERSION,
                             .metadata = "{\"topic\":\"travel\",\"trip\":{\"days\":3}}"},
                 WANT(f.m4), "meta two keys, nested number");
    check_filter(&f,
                 (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"trip\":{\"days\":3.0}}"},
                 WANT(f.m4), "meta number 3.0 == 3");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"tags\":[\"food\"]}"},
                 WANT(f.m1, f.m2), "meta array element");
    check_filter(
        &f,
        (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"tags\":[\"food\",\"japan\"]}"},
        WANT(f.m1), "meta array subset, any order");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"tags\":[]}"},
                 WANT(f.m1, f.m2, f.m4), "meta empty array");
    check_filter(
        &f,
        (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"tags\":[\"food\",\"paris\"]}"},
        none, 0, "meta array not a subset");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"tags\":\"food\"}"},
                 none, 0, "meta scalar is not an array");
    check_filter(&f,
                 (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"topic\":\"Travel\"}"},
                 none, 0, "meta case-sensitive");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"missing\":null}"},
                 none, 0, "meta missing key");
    check_filter(&f,
                 (mn_filter){.version = MN_FILTER_VERSION,
                             .identity = "alice",
                             .type = "fact",
                             .metadata = "{\"topic\":\"travel\"}"},
                 WANT(f.m1), "identity + type + metadata");
    check_filter(&f, (mn_filter){.version = MN_FILTER_VERSION, .identity = "bob", .type = "event"},
                 none, 0, "identity + type, no match");
    world_close(&f.w);
}
END_TEST

/* Filters apply before the page is cut: every page but the last is full. */
START_TEST(memory_filter_pagination)
{
    struct world w;
    world_open(&w, _i);
    const char *tagged[20];
    size_t nt = 0;
    for (int i = 0; i < 60; i++) {
        mn_memory_input in = TH_IN(.text = th_fmt("filtered %d", i));
        if (i % 3 == 0) {
            in.metadata = "{\"g\":\"x\"}";
            in.type = "tagged";
        }
        const char *id = th_add_in(w.db, &w.as_alice, &in);
        if (i % 3 == 0)
            tagged[nt++] = id;
    }
    ck_assert_uint_eq(nt, 20);
    mn_filter filters[] = {{.version = MN_FILTER_VERSION, .metadata = "{\"g\":\"x\"}"},
                           {.version = MN_FILTER_VERSION, .type = "tagged"}};
    for (size_t fi = 0; fi < 2; fi++) {
        mn_list_options opt = {
            .version = MN_LIST_OPTIONS_VERSION, .limit = 7, .filter = &filters[fi]};
        char *cursor = NULL;
        int seen[20] = {0};
        size_t pages = 0;
        for (;;) {
            opt.cursor = cursor;
            mn_memories *l = NULL;
            TH_OK(w.db, mn_memory_list(w.db, &w.sys, &opt, &l));
            pages++;
            ck_assert_msg(l->count == (pages < 3 ? 7u : 6u), "filter %zu page %zu has %zu", fi,
                          pages, l->count);
            for (size_t i = 0; i < l->count; i++) {
                int k = id_index(tagged, 20, l->items[i]->id);
                ck_assert_msg(k >= 0, "filter %zu returned %s", fi, l->items[i]->text);
                seen[k]++;
            }
            free(cursor);
            cursor = l->next_cursor ? strdup(l->next_cursor) : NULL;
            mn_memories_free(l);
            if (!cursor)
                break;
            ck_assert_msg(pages < 3, "filter %zu: a cursor after the last page", fi);
        }
        for (int i = 0; i < 20; i++)
            ck_assert_int_eq(seen[i], 1);
    }
    world_close(&w);
}
END_TEST

/* JSON comes back as the caller wrote it, less the whitespace between tokens: integers a
 * double would print otherwise (2^63, a 64-bit id's 2^53), 1.0, 1E2, escapes; through metadata
 * (add, update, history), claims and a rule, and a filter finds the memory by such a value. */
START_TEST(memory_json_kept_as_written)
{
    struct world w;
    world_open(&w, _i);
    const char *meta = "{ \"id\": 9007199254740992, \"big\": 9223372036854775808, \"f\": 1.0,"
                       " \"e\": 1E2, \"s\": \"caf\\u00e9 \\/\", \"z\": [ -0, 0.10 ] }";
    const char *kept = "{\"id\":9007199254740992,\"big\":9223372036854775808,\"f\":1.0,"
                       "\"e\":1E2,\"s\":\"caf\\u00e9 \\/\",\"z\":[-0,0.10]}";
    mn_memory_input in = TH_IN(.text = "kept json", .metadata = meta);
    const char *id = th_add_in(w.db, &w.as_alice, &in);
    mn_memory *m = th_get(w.db, &w.sys, id, 0);
    ck_assert_str_eq(m->metadata, kept);
    mn_memory_free(m);
    mn_filter f = {.version = MN_FILTER_VERSION, .metadata = "{\"big\":9223372036854775808}"};
    size_t n = 0;
    const char **ids = th_list_ids(w.db, &w.sys, &f, 0, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ids[0], id);
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_METADATA,
                            .metadata = "{\"big\": -9223372036854775808}"};
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, id, &ch, NULL));
    mn_history *h = NULL;
    TH_OK(w.db, mn_memory_history(w.db, &w.sys, id, &h));
    ck_assert_uint_eq(h->count, 1);
    ck_assert_msg(strstr(h->items[0]->before, kept), "%s", h->items[0]->before);
    ck_assert_msg(strstr(h->items[0]->after, "{\"big\":-9223372036854775808}"), "%s",
                  h->items[0]->after);
    mn_history_free(h);
    mn_identity *i = NULL;
    TH_OK(w.db, mn_identity_create(w.db, &w.sys, "carol", NULL, meta, &i));
    ck_assert_str_eq(i->claims, kept);
    mn_identity_free(i);
    i = NULL;
    TH_OK(w.db, mn_identity_get(w.db, &w.sys, "carol", &i));
    ck_assert_str_eq(i->claims, kept);
    mn_identity_free(i);
    const char *rule = "{\"effect\":\"allow\",\"actions\":[\"read\"],\"resource\":\"memory\","
                       "\"when\":{\"==\":[{\"var\":\"context.n\"},9007199254740992.0]}}";
    mn_policy *p = NULL;
    TH_OK(w.db, mn_policy_add(w.db, &w.sys, &(mn_policy_input){.version = MN_POLICY_INPUT_VERSION,
                                                               .role = "agent", .rule = rule},
                              &p));
    mn_policy *got = NULL;
    TH_OK(w.db, mn_policy_get(w.db, &w.sys, p->id, &got));
    ck_assert_str_eq(got->rule, rule);
    mn_policy_free(got);
    mn_policy_free(p);
    world_close(&w);
}
END_TEST

/* ==== memories: update ======================================================================= */

START_TEST(memory_update)
{
    struct world w;
    world_open(&w, _i);
    const char *t1 = "Daniel likes window seats";
    const char *t2 = "Daniel likes aisle seats on long flights";
    mn_memory_input in = {.version = MN_MEMORY_INPUT_VERSION,
                          .text = t1,
                          .metadata = "{\"a\":1}",
                          .importance = 0.4,
                          .ttl_days = 30};
    mn_memory *m0 = NULL;
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &in, &m0));
    const char *id = th_fmt("%s", m0->id);

    /* 1. text, by alice herself */
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = t2};
    mn_memory *m1 = NULL;
    TH_OK(w.db, mn_memory_update(w.db, &w.as_alice, id, &ch, &m1));
    ck_assert_str_eq(m1->id, id);
    ck_assert_int_eq(m1->version, 2);
    ck_assert_str_eq(m1->text, t2);
    ck_assert_str_eq(m1->type, "fact");
    ck_assert(th_json_eq(m1->metadata, "{\"a\":1}"));
    ck_assert_double_eq_tol(m1->importance, 0.4, 1e-12);
    ck_assert_int_eq(m1->created_at, m0->created_at);
    ck_assert_int_ge(m1->updated_at, m0->updated_at);
    ck_assert_int_eq(m1->expires_at, m0->expires_at);
    ck_assert_str_eq(m1->identity_id, w.alice);
    ck_assert_int_gt(m1->seq, m0->seq);
    mn_memory *g = th_get(w.db, &w.sys, id, MN_WITH_EMBEDDING);
    ck_assert_str_eq(g->text, t2);
    ck_assert_int_eq(g->version, 2);
    ck_assert_int_eq(g->seq, m1->seq);
    ck_assert_double_eq_tol(th_dot(g->embedding, th_embed(w.db, t2), g->dim), 1.0, 1e-5);
    float *emb2 = th_keep(malloc(sizeof(float) * (size_t)g->dim));
    memcpy(emb2, g->embedding, sizeof(float) * (size_t)g->dim);
    mn_memory_free(g);

    mn_history *h = NULL;
    TH_OK(w.db, mn_memory_history(w.db, &w.sys, id, &h));
    ck_assert_uint_eq(h->count, 1);
    ck_assert_int_eq(h->items[0]->version, 2);
    ck_assert_ptr_nonnull(h->items[0]->changed_by);
    ck_assert_str_eq(h->items[0]->changed_by, w.alice);
    ck_assert_int_ge(h->items[0]->changed_at, m0->created_at);
    ck_assert_msg(th_json_str(h->items[0]->before, "text") &&
                      strcmp(th_json_str(h->items[0]->before, "text"), t1) == 0,
                  "before %s", h->items[0]->before);
    ck_assert_str_eq(th_json_str(h->items[0]->after, "text"), t2);
    ck_assert_str_eq(th_json_str(h->items[0]->before, "type"), "fact");
    ck_assert_double_eq_tol(th_json_num(h->items[0]->before, "importance"), 0.4, 1e-9);
    ck_assert_msg(th_json_eq(th_json_obj(h->items[0]->before, "metadata"), "{\"a\":1}"),
                  "before %s", h->items[0]->before);
    mn_history_free(h);

    /* 2. metadata only, by the system actor: replaced, text and embedding unchanged */
    ch = (mn_memory_changes){.version = MN_MEMORY_CHANGES_VERSION,
                             .set = MN_MEMORY_SET_METADATA,
                             .metadata = "{\"b\":2}"};
    mn_memory *m2 = NULL;
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, id, &ch, &m2));
    ck_assert_int_eq(m2->version, 3);
    ck_assert_str_eq(m2->text, t2);
    ck_assert_msg(th_json_eq(m2->metadata, "{\"b\":2}"), "metadata %s", m2->metadata);
    ck_assert_int_gt(m2->seq, m1->seq);
    g = th_get(w.db, &w.sys, id, MN_WITH_EMBEDDING);
    ck_assert_mem_eq(g->embedding, emb2, sizeof(float) * (size_t)g->dim);
    mn_memory_free(g);
    TH_OK(w.db, mn_memory_history(w.db, &w.sys, id, &h));
    ck_assert_uint_eq(h->count, 2);
    ck_assert_int_eq(h->items[0]->version, 2);
    ck_assert_int_eq(h->items[1]->version, 3);
    ck_assert_ptr_null(h->items[1]->changed_by);
    ck_assert(th_json_eq(th_json_obj(h->items[1]->before, "metadata"), "{\"a\":1}"));
    ck_assert(th_json_eq(th_json_obj(h->items[1]->after, "metadata"), "{\"b\":2}"));
    ck_assert_str_eq(th_json_str(h->items[1]->before, "text"), t2);
    ck_assert_str_eq(th_json_str(h->items[1]->after, "text"), t2);
    mn_history_free(h);

    /* 3. importance only; 4. type only; out may be NULL */
    ch = (mn_memory_changes){
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_IMPORTANCE, .importance = 0.95};
    mn_memory *m3 = NULL;
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, id, &ch, &m3));
    ck_assert_int_eq(m3->version, 4);
    ck_assert_double_eq_tol(m3->importance, 0.95, 1e-12);
    ck_assert_int_gt(m3->seq, m2->seq);
    ch = (mn_memory_changes){
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TYPE, .type = "preference"};
    TH_OK(w.db, mn_memory_update(w.db, &w.as_bob, id, &ch, NULL));
    g = th_get(w.db, &w.sys, id, 0);
    ck_assert_int_eq(g->version, 5);
    ck_assert_str_eq(g->type, "preference");
    ck_assert_double_eq_tol(g->importance, 0.95, 1e-12);
    ck_assert(th_json_eq(g->metadata, "{\"b\":2}"));
    ck_assert_str_eq(g->text, t2);
    ck_assert_int_gt(g->seq, m3->seq);
    ck_assert_int_eq(g->expires_at, m0->expires_at);
    mn_memory_free(g);
    TH_OK(w.db, mn_memory_history(w.db, &w.sys, id, &h));
    ck_assert_uint_eq(h->count, 4);
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(h->items[i]->version, (int64_t)i + 2);
    ck_assert_str_eq(h->items[3]->changed_by, w.bob);
    ck_assert_str_eq(th_json_str(h->items[3]->before, "type"), "fact");
    ck_assert_str_eq(th_json_str(h->items[3]->after, "type"), "preference");
    ck_assert_double_eq_tol(th_json_num(h->items[2]->before, "importance"), 0.4, 1e-9);
    ck_assert_double_eq_tol(th_json_num(h->items[2]->after, "importance"), 0.95, 1e-9);
    mn_history_free(h);

    /* A fresh memory has no history. */
    const char *other = th_add(w.db, &w.as_alice, NULL, "untouched");
    TH_OK(w.db, mn_memory_history(w.db, &w.sys, other, &h));
    ck_assert_uint_eq(h->count, 0);
    mn_history_free(h);

    /* Search follows the new text. */
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = t2, .k = 1};
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, id);
    ck_assert_double_ge(l->items[0]->similarity, 0.999);
    mn_memories_free(l);

    mn_memory_free(m0);
    mn_memory_free(m1);
    mn_memory_free(m2);
    mn_memory_free(m3);
    world_close(&w);
}
END_TEST

/* A caller-supplied embedding is normalised, on add and on update. */
START_TEST(memory_caller_embedding)
{
    struct world w;
    world_open(&w, _i);
    int dim = mn_embed_dim(w.db);
    float *v = th_keep(malloc(sizeof(float) * (size_t)dim));
    for (int i = 0; i < dim; i++)
        v[i] = 3.0f * (float)(sin(i * 0.7) + 0.1);
    double nv = th_norm(v, dim);
    th_add(w.db, &w.as_alice, NULL, "some text about gardening and tomatoes");
    th_add(w.db, &w.as_alice, NULL, "another text about the stock market");
    mn_memory_input in = TH_IN(.text = "unrelated words entirely", .embedding = v, .dim = dim);
    const char *id = th_add_in(w.db, &w.as_alice, &in);
    mn_memory *g = th_get(w.db, &w.sys, id, MN_WITH_EMBEDDING);
    ck_assert_int_eq(g->dim, dim);
    ck_assert_double_eq_tol(th_norm(g->embedding, dim), 1.0, 1e-5);
    for (int i = 0; i < dim; i++)
        ck_assert_double_eq_tol(g->embedding[i], v[i] / nv, 1e-5);
    mn_memory_free(g);

    /* Searching by the unnormalised vector finds it with similarity 1. */
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .vector = v, .dim = dim, .k = 3};
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_ge(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, id);
    ck_assert_msg(l->items[0]->similarity > 0.999 && l->items[0]->similarity <= 1.0 + 1e-5,
                  "similarity %f", l->items[0]->similarity);
    mn_memories_free(l);

    /* Updating with another vector (text unchanged) replaces the embedding. */
    float *u = th_keep(malloc(sizeof(float) * (size_t)dim));
    for (int i = 0; i < dim; i++)
        u[i] = (i % 2 ? -0.5f : 0.25f);
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_EMBEDDING,
                            .embedding = u,
                            .dim = dim};
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, id, &ch, NULL));
    g = th_get(w.db, &w.sys, id, MN_WITH_EMBEDDING);
    ck_assert_str_eq(g->text, "unrelated words entirely");
    ck_assert_int_eq(g->version, 2);
    double nu = th_norm(u, dim);
    for (int i = 0; i < dim; i++)
        ck_assert_double_eq_tol(g->embedding[i], u[i] / nu, 1e-5);
    mn_memory_free(g);
    world_close(&w);
}
END_TEST

/* ==== memories: delete, restore ============================================================== */

START_TEST(memory_soft_delete_restore)
{
    struct world w;
    world_open(&w, _i);
    const char *t1 = "The dog Biscuit is allergic to chicken";
    const char *m1 = th_add(w.db, &w.as_alice, NULL, t1);
    const char *m2 = th_add(w.db, &w.as_alice, NULL, "Quarterly taxes are due in April");
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "The beagle Biscuit is allergic to chicken"};
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, m1, &ch, NULL));
    t1 = ch.text;
    mn_memory *before = th_get(w.db, &w.sys, m1, 0);

    TH_OK(w.db, mn_memory_delete(w.db, &w.as_alice, m1, MN_DELETE_SOFT));
    mn_memory *m = NULL;
    TH_RC(w.db, mn_memory_get(w.db, &w.sys, m1, 0, &m), MN_ENOTFOUND);
    ck_assert_ptr_null(m);
    mn_memory *d = th_get(w.db, &w.sys, m1, MN_WITH_DELETED);
    ck_assert_int_eq(d->deleted, 1);
    ck_assert_int_gt(d->seq, before->seq);
    ck_assert_str_eq(d->text, t1);
    const char *only2[] = {m2};
    const char *both[] = {m1, m2};
    expect_list(&w, &w.sys, NULL, only2, 1, "list after soft delete");
    expect_list(&w, &w.sys, &(mn_filter){.version = MN_FILTER_VERSION, .flags = MN_WITH_DELETED},
                both, 2, "list with deleted");
    expect_search(&w, &w.sys, t1, NULL, only2, 1, "search after soft delete");
    expect_search(&w, &w.sys, t1,
                  &(mn_filter){.version = MN_FILTER_VERSION, .flags = MN_WITH_DELETED}, both, 2,
                  "search with deleted");
    /* Deleted once is deleted: again, or an update, is not found. */
    TH_RC(w.db, mn_memory_delete(w.db, &w.sys, m1, MN_DELETE_SOFT), MN_ENOTFOUND);
    TH_RC(w.db, mn_memory_update(w.db, &w.sys, m1, &ch, NULL), MN_ENOTFOUND);
    mn_history *h = NULL;
    TH_OK(w.db, mn_memory_history(w.db, &w.sys, m1, &h));
    ck_assert_uint_eq(h->count, 1);
    mn_history_free(h);

    TH_OK(w.db, mn_memory_restore(w.db, &w.as_alice, m1));
    mn_memory *r = th_get(w.db, &w.sys, m1, 0);
    ck_assert_int_eq(r->deleted, 0);
    ck_assert_int_gt(r->seq, d->seq);
    ck_assert_str_eq(r->text, t1);
    ck_assert_int_eq(r->version, before->version);
    expect_list(&w, &w.sys, NULL, both, 2, "list after restore");
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = t1, .k = 1};
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, m1);
    mn_memories_free(l);
    TH_OK(w.db, mn_memory_history(w.db, &w.sys, m1, &h));
    ck_assert_uint_eq(h->count, 1);
    mn_history_free(h);
    /* Restoring what is not deleted, or unknown, is not found. */
    TH_RC(w.db, mn_memory_restore(w.db, &w.sys, UNKNOWN_ID), MN_ENOTFOUND);
    mn_memory_free(before);
    mn_memory_free(d);
    mn_memory_free(r);
    world_close(&w);
}
END_TEST

START_TEST(memory_hard_delete)
{
    struct world w;
    world_open(&w, _i);
    const char *t1 = "Sofia has a piano recital on Saturday";
    const char *m1 = th_add(w.db, &w.as_alice, NULL, t1);
    const char *m2 = th_add(w.db, &w.as_alice, NULL, "The car needs new tires");
    const char *m3 = th_add(w.db, &w.as_alice, NULL, "Sofia's violin lesson moved to Friday");
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "Sofia has a piano recital on Saturday at 3pm"};
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, m1, &ch, NULL));

    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, m1, MN_DELETE_HARD));
    unsigned all = MN_WITH_DELETED | MN_WITH_EXPIRED;
    mn_memory *m = NULL;
    mn_history *h = NULL;
    TH_RC(w.db, mn_memory_get(w.db, &w.sys, m1, all, &m), MN_ENOTFOUND);
    TH_RC(w.db, mn_memory_history(w.db, &w.sys, m1, &h), MN_ENOTFOUND);
    TH_RC(w.db, mn_memory_restore(w.db, &w.sys, m1), MN_ENOTFOUND);
    TH_RC(w.db, mn_memory_delete(w.db, &w.sys, m1, MN_DELETE_HARD), MN_ENOTFOUND);
    TH_RC(w.db, mn_memory_delete(w.db, &w.sys, m1, MN_DELETE_SOFT), MN_ENOTFOUND);
    TH_RC(w.db, mn_memory_update(w.db, &w.sys, m1, &ch, NULL), MN_ENOTFOUND);
    const char *rest[] = {m2, m3};
    expect_list(&w, &w.sys, &(mn_filter){.version = MN_FILTER_VERSION, .flags = all}, rest, 2,
                "list after hard delete");
    expect_search(&w, &w.sys, ch.text, &(mn_filter){.version = MN_FILTER_VERSION, .flags = all},
                  rest, 2, "search after hard delete");

    /* A soft-deleted memory can still be purged for good. */
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, m3, MN_DELETE_SOFT));
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, m3, MN_DELETE_HARD));
    TH_RC(w.db, mn_memory_get(w.db, &w.sys, m3, all, &m), MN_ENOTFOUND);
    TH_RC(w.db, mn_memory_restore(w.db, &w.sys, m3), MN_ENOTFOUND);
    expect_list(&w, &w.sys, &(mn_filter){.version = MN_FILTER_VERSION, .flags = all}, rest, 1,
                "list after purge");
    world_close(&w);
}
END_TEST

START_TEST(memory_delete_many)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[6];
    for (int i = 0; i < 6; i++)
        ids[i] = th_add(w.db, &w.as_alice, NULL, th_fmt("deletable memory %d", i));
    th_state before, after;
    th_state_get(w.db, &before);

    const char *with_unknown[] = {ids[0], ids[1], UNKNOWN_ID};
    TH_RC(w.db, mn_memory_delete_many(w.db, &w.sys, with_unknown, 3, MN_DELETE_SOFT),
          MN_ENOTFOUND);
    ck_assert_msg(th_has_word(mn_errmsg(w.db), UNKNOWN_ID), "message: %s", mn_errmsg(w.db));
    th_state_get(w.db, &after);
    th_assert_state_eq(&before, &after, "delete_many with an unknown id");
    TH_RC(w.db, mn_memory_delete_many(w.db, &w.sys, with_unknown, 3, MN_DELETE_HARD),
          MN_ENOTFOUND);
    th_state_get(w.db, &after);
    th_assert_state_eq(&before, &after, "hard delete_many with an unknown id");

    const char *with_bad[] = {ids[0], "not-a-uuid", ids[1]};
    TH_RC(w.db, mn_memory_delete_many(w.db, &w.sys, with_bad, 3, MN_DELETE_HARD), MN_EINVAL);
    ck_assert_msg(th_has_word(mn_errmsg(w.db), "not-a-uuid|id"), "message: %s", mn_errmsg(w.db));
    th_state_get(w.db, &after);
    th_assert_state_eq(&before, &after, "delete_many with an invalid id");

    const char *two[] = {ids[0], ids[1]};
    TH_OK(w.db, mn_memory_delete_many(w.db, &w.sys, two, 2, MN_DELETE_SOFT));
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 4);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, MN_WITH_DELETED), 6);

    /* One already soft-deleted: nothing happens. */
    th_state_get(w.db, &before);
    const char *again[] = {ids[2], ids[1]};
    TH_RC(w.db, mn_memory_delete_many(w.db, &w.sys, again, 2, MN_DELETE_SOFT), MN_ENOTFOUND);
    th_state_get(w.db, &after);
    th_assert_state_eq(&before, &after, "delete_many with an already deleted id");

    const char *hard[] = {ids[3], ids[4], ids[0]};
    TH_OK(w.db, mn_memory_delete_many(w.db, &w.sys, hard, 3, MN_DELETE_HARD));
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, MN_WITH_DELETED), 3);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 2);
    TH_OK(w.db, mn_memory_delete_many(w.db, &w.sys, NULL, 0, MN_DELETE_SOFT));
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, MN_WITH_DELETED), 3);
    world_close(&w);
}
END_TEST

/* ==== memories: ttl ========================================================================== */

START_TEST(memory_ttl_not_expired)
{
    struct world w;
    world_open(&w, _i);
    mn_memory_input a = TH_IN(.text = "expires tomorrow", .ttl_days = 1);
    mn_memory_input b = TH_IN(.text = "never expires");
    mn_memory_input c = TH_IN(.text = "expires in ten years", .ttl_days = 3650);
    mn_memory *ma = NULL;
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &a, &ma));
    const char *mb = th_add_in(w.db, &w.as_alice, &b);
    const char *mc = th_add_in(w.db, &w.as_alice, &c);
    ck_assert_msg(llabs(ma->expires_at - (ma->created_at + INT64_C(86400000))) <= 1000,
                  "expires_at %lld created_at %lld", (long long)ma->expires_at,
                  (long long)ma->created_at);
    mn_memory *g = th_get(w.db, &w.sys, mc, 0);
    ck_assert_msg(llabs(g->expires_at - (g->created_at + 3650 * INT64_C(86400000))) <= 1000,
                  "10y expires_at");
    mn_memory_free(g);
    g = th_get(w.db, &w.sys, mb, 0);
    ck_assert_int_eq(g->expires_at, 0);
    mn_memory_free(g);

    size_t purged = 99;
    TH_OK(w.db, mn_memory_purge_expired(w.db, &w.sys, &purged));
    ck_assert_uint_eq(purged, 0);
    TH_OK(w.db, mn_memory_purge_expired(w.db, &w.as_alice, NULL));
    const char *all3[] = {ma->id, mb, mc};
    /* Not expired: visible with and without MN_WITH_EXPIRED. */
    expect_list(&w, &w.sys, NULL, all3, 3, "list, not expired");
    expect_list(&w, &w.sys, &(mn_filter){.version = MN_FILTER_VERSION, .flags = MN_WITH_EXPIRED},
                all3, 3, "list with expired");
    expect_search(&w, &w.sys, "expires", NULL, all3, 3, "search, not expired");
    mn_memory_free(th_get(w.db, &w.sys, ma->id, 0));
    mn_memory_free(th_get(w.db, &w.sys, ma->id, MN_WITH_EXPIRED));
    /* A soft-deleted memory with a ttl is not purged early either. */
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, mc, MN_DELETE_SOFT));
    TH_OK(w.db, mn_memory_purge_expired(w.db, &w.sys, &purged));
    ck_assert_uint_eq(purged, 0);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, MN_WITH_DELETED | MN_WITH_EXPIRED), 3);
    mn_memory_free(ma);
    world_close(&w);
}
END_TEST


/* ==== conversations, any-of, ranges (filter version 2) ====================================== */

/* Four memories of the filter world in sessions, then each new condition through list, search
 * (every mode) and count on the same rows. */
START_TEST(memory_filter_lists_ranges)
{
    struct filter_world fw;
    struct filter_world *f = &fw;
    filter_world_open(f, _i);
    struct world *w = &f->w;
    const char *none[1] = {NULL};
    /* Sessions: m5 (alice, "s1"), m6 (alice, "s2"), m7 (bob, "s1"); importance 0, 1, 0.2. */
    /* Times apart by more than the library's clock's granularity. */
    usleep(20000);
    int64_t t0 = th_now_ms();
    usleep(20000);
    mn_memory_input in5 = TH_IN(.text = "Asked about travel insurance for Tokyo", .session = "s1");
    mn_memory_input in6 = TH_IN(.text = "Wants food tips for Paris", .session = "s2",
                                .type = "preference");
    mn_memory_input in7 = TH_IN(.identity = "bob", .text = "Bob travel food notes",
                                .session = "s1");
    in5.importance = 0;
    in6.importance = 1;
    in7.importance = 0.2;
    const char *m5 = th_add_in(w->db, &w->as_alice, &in5);
    const char *m6 = th_add_in(w->db, &w->as_alice, &in6);
    usleep(20000);
    int64_t t1 = th_now_ms();
    usleep(20000);
    const char *m7 = th_add_in(w->db, &w->as_alice, &in7);
    mn_memory *g = th_get(w->db, &w->sys, m5, 0);
    ck_assert_str_eq(g->session, "s1");
    mn_memory_free(g);
    g = th_get(w->db, &w->sys, f->m1, 0);
    ck_assert_ptr_null(g->session);
    mn_memory_free(g);

    const char *s1[] = {"s1"}, *both[] = {"s1", "s2"};
    const char *types[] = {"event", "preference"};
    const char *owners[] = {"bob", w->alice};
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .session = "s1"}, WANT(m5, m7),
                 "session s1");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .session = "s1",
                                .identity = "alice"}, WANT(m5), "session s1 of alice");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .sessions = s1, .n_sessions = 1},
                 WANT(m5, m7), "sessions [s1]");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .sessions = both, .n_sessions = 2},
                 WANT(m5, m6, m7), "sessions [s1, s2]");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .session = "nope"}, none, 0,
                 "session nope");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .types = types, .n_types = 2},
                 WANT(f->m2, f->m4, m6), "types [event, preference]");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .identities = owners,
                                .n_identities = 1}, WANT(f->m3, m7), "identities [bob]");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .identities = owners,
                                .n_identities = 2},
                 WANT(f->m1, f->m2, f->m3, f->m4, m5, m6, m7), "identities [bob, alice id]");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .created_after = t0},
                 WANT(m5, m6, m7), "created after t0");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .created_before = t0},
                 WANT(f->m1, f->m2, f->m3, f->m4), "created before t0");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .created_after = t0,
                                .created_before = t1}, WANT(m5, m6), "created in [t0, t1)");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .updated_after = t1}, WANT(m7),
                 "updated after t1");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .importance_min = 0.9},
                 WANT(m6), "importance >= 0.9");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .importance_max = 0.3},
                 WANT(m5, m7), "importance <= 0.3");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION,
                                .importance_max = MN_IMPORTANCE_ZERO}, WANT(m5),
                 "importance exactly 0");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .importance_min = 0.1,
                                .importance_max = 0.6},
                 WANT(f->m1, f->m2, f->m3, f->m4, m7), "importance in [0.1, 0.6]");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION,
                                .metadata = "{\"topic\":{\"$in\":[\"food\",\"nope\"]}}"},
                 WANT(f->m2), "meta topic $in [food, nope]");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION,
                                .metadata = "{\"trip\":{\"city\":{\"$in\":[\"Paris\","
                                            "\"Tokyo\"]}}}"},
                 WANT(f->m1, f->m4), "meta nested $in");
    check_filter(f, (mn_filter){.version = MN_FILTER_VERSION, .sessions = both, .n_sessions = 2,
                                .types = types, .n_types = 2, .importance_min = 0.5},
                 WANT(m6), "sessions + types + importance");
    world_close(w);
}
END_TEST

/* Bad filters and inputs are MN_EINVAL naming what is wrong, and change nothing. */
START_TEST(memory_filter_bad_input)
{
    struct world w;
    world_open(&w, _i);
    th_add(w.db, &w.as_alice, NULL, "a memory");
    const char *two[] = {"fact", "event"};
    char long_session[MN_SESSION_MAX + 2];
    memset(long_session, 's', sizeof long_session - 1);
    long_session[sizeof long_session - 1] = 0;
    struct {
        mn_filter f;
        const char *says;
    } bad[] = {
        {{.version = MN_FILTER_VERSION, .type = "fact", .types = two, .n_types = 2},
         "both type and types"},
        {{.version = MN_FILTER_VERSION, .session = "a", .sessions = two, .n_sessions = 1},
         "both session and sessions"},
        {{.version = MN_FILTER_VERSION, .identity = "alice", .identities = two,
          .n_identities = 1}, "both identity and identities"},
        {{.version = MN_FILTER_VERSION, .n_types = 2}, "n_types is 2 but types is NULL"},
        {{.version = MN_FILTER_VERSION, .session = long_session}, "session"},
        {{.version = MN_FILTER_VERSION, .created_after = 5, .created_before = 5},
         "created_after"},
        {{.version = MN_FILTER_VERSION, .updated_before = -1}, "negative"},
        {{.version = MN_FILTER_VERSION, .importance_min = 1.5}, "importance_min"},
        {{.version = MN_FILTER_VERSION, .importance_min = 0.8, .importance_max = 0.2},
         "above its importance_max"},
        {{.version = MN_FILTER_VERSION, .metadata = "{\"a\":{\"$in\":[]}}"}, "$in"},
        {{.version = MN_FILTER_VERSION, .metadata = "{\"a\":{\"$in\":[1],\"b\":2}}"}, "$in"},
    };
    th_state before, after;
    th_state_get(w.db, &before);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t n = 0;
        TH_RC(w.db, mn_memory_count(w.db, &w.sys, &bad[i].f, &n), MN_EINVAL);
        ck_assert_msg(strstr(mn_errmsg(w.db), bad[i].says), "filter %zu: \"%s\" does not say %s",
                      i, mn_errmsg(w.db), bad[i].says);
        TH_RC(w.db, mn_memory_delete_where(w.db, &w.sys, &bad[i].f, MN_DELETE_HARD, &n),
              MN_EINVAL);
        mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION, .filter = &bad[i].f};
        mn_memories *l = NULL;
        TH_RC(w.db, mn_memory_list(w.db, &w.sys, &lo, &l), MN_EINVAL);
    }
    mn_memory_input in[] = {
        TH_IN(.text = "x", .session = long_session),
        TH_IN(.text = "x", .session = ""),
        TH_IN(.text = "x", .ttl_days = 1, .ttl_ms = 1000),
        TH_IN(.text = "x", .ttl_ms = 1000, .expires_at = th_now_ms() + 100000),
        TH_IN(.text = "x", .expires_at = th_now_ms() - 1000),
        TH_IN(.text = "x", .ttl_ms = -1),
    };
    const char *says[] = {"session", "session", "more than one of ttl_days, ttl_ms and expires_at",
                          "more than one", "not in the future", "ttl_ms"};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        TH_RC(w.db, mn_memory_add(w.db, &w.as_alice, &in[i], NULL), MN_EINVAL);
        ck_assert_msg(strstr(mn_errmsg(w.db), says[i]), "input %zu: \"%s\" does not say %s", i,
                      mn_errmsg(w.db), says[i]);
    }
    /* No condition: refused unless meant. */
    size_t n = 99;
    TH_RC(w.db, mn_memory_delete_where(w.db, &w.sys, NULL, MN_DELETE_SOFT, &n), MN_EINVAL);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(w.db), "MN_DELETE_ALL_MATCHING"));
    TH_RC(w.db, mn_memory_trim(w.db, &w.sys, &(mn_filter)MN_FILTER_INIT, 0, MN_DELETE_SOFT, &n),
          MN_EINVAL);
    TH_RC(w.db, mn_memory_delete_where(w.db, &w.sys, &(mn_filter){.version = MN_FILTER_VERSION,
                                                                 .session = "x"}, 7, &n),
          MN_EINVAL);
    th_state_get(w.db, &after);
    th_assert_state_eq(&before, &after, "after the refused calls");
    TH_OK(w.db, mn_memory_delete_where(w.db, &w.sys, NULL,
                                       MN_DELETE_SOFT | MN_DELETE_ALL_MATCHING, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 0);
    world_close(&w);
}
END_TEST

/* Delete by filter: exactly the matches go, all or none, and a policy denying one keeps all. */
START_TEST(memory_delete_where)
{
    struct world w;
    world_open(&w, _i);
    const char *keep[4], *gone[3];
    for (int i = 0; i < 3; i++) {
        mn_memory_input in = TH_IN(.text = th_fmt("chat line %d", i), .session = "chat");
        gone[i] = th_add_in(w.db, &w.as_alice, &in);
        in = (mn_memory_input)TH_IN(.text = th_fmt("other line %d", i), .session = "other");
        keep[i] = th_add_in(w.db, &w.as_alice, &in);
    }
    keep[3] = th_add(w.db, &w.as_alice, "bob", "bob's chat line");
    mn_filter chat = {.version = MN_FILTER_VERSION, .session = "chat"};
    mn_filter alice_chat = {.version = MN_FILTER_VERSION, .session = "chat",
                            .identity = "alice"};
    /* Bob may not delete alice's memories (a deny on delete of type "fact" for admin would
     * stop every one): a policy denying the delete of one of them keeps all. */
    mn_policy_input pin = {.version = MN_POLICY_INPUT_VERSION, .role = "admin", .priority = 100,
                           .rule = "{\"effect\":\"deny\",\"actions\":[\"delete\"],\"resource\":"
                                   "\"memory\",\"conditions\":{\"resource_conditions\":{"
                                   "\"memory_types\":[\"pinned\"]}}}"};
    TH_OK(w.db, mn_policy_add(w.db, &w.sys, &pin, NULL));
    mn_memory_input pinned = TH_IN(.text = "pinned chat line", .session = "chat",
                                   .type = "pinned");
    const char *p = th_add_in(w.db, &w.as_alice, &pinned);
    th_state before, after;
    th_state_get(w.db, &before);
    size_t n = 99;
    TH_RC(w.db, mn_memory_delete_where(w.db, &w.as_alice, &alice_chat, MN_DELETE_SOFT, &n),
          MN_EDENIED);
    ck_assert_uint_eq(n, 0);
    th_state_get(w.db, &after);
    th_assert_state_eq(&before, &after, "after the refused calls");
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, p, MN_DELETE_HARD));

    mn_memory_input bobs = TH_IN(.identity = "bob", .text = "bob in chat", .session = "chat");
    const char *b = th_add_in(w.db, &w.sys, &bobs);
    TH_OK(w.db, mn_memory_delete_where(w.db, &w.as_alice, &alice_chat, MN_DELETE_SOFT, &n));
    ck_assert_uint_eq(n, 3);
    expect_list(&w, &w.sys, &chat, &b, 1, "chat after alice's delete");
    for (int i = 0; i < 3; i++) {
        mn_memory *m = th_get(w.db, &w.sys, gone[i], MN_WITH_DELETED);
        ck_assert_int_eq(m->deleted, 1);
        mn_memory_free(m);
    }
    expect_list(&w, &w.sys, NULL, (const char *[]){keep[0], keep[1], keep[2], keep[3], b}, 5,
                "the rest stays");
    /* Hard, counted, and nothing matching is no failure. */
    TH_OK(w.db, mn_memory_delete_where(w.db, &w.sys, &chat, MN_DELETE_HARD, &n));
    ck_assert_uint_eq(n, 1);
    TH_OK(w.db, mn_memory_delete_where(w.db, &w.sys, &chat, MN_DELETE_HARD, &n));
    ck_assert_uint_eq(n, 0);
    world_close(&w);
}
END_TEST

/* Count answers as many as a list shows, page after page: by one count in the store when no
 * policy looks at the memories, by reading each match when one does (a policy that hides some
 * of them by their type), with every kind of condition. */
START_TEST(memory_count_as_list)
{
    struct world w;
    world_open(&w, _i);
    const char *types[] = {"fact", "secret"}, *sessions[] = {"a", "b"};
    int64_t t0 = 0;
    for (int i = 0; i < 12; i++) {
        if (i == 6) {
            usleep(20000);
            t0 = th_now_ms();
            usleep(20000);
        }
        mn_memory_input in = TH_IN(.text = th_fmt("line %d", i), .type = types[i % 3 == 0],
                                   .session = sessions[i % 2]);
        in.importance = i / 12.0;
        th_add_in(w.db, &w.as_alice, &in);
    }
    const char *gone = th_add(w.db, &w.as_alice, "alice", "deleted line");
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, gone, MN_DELETE_SOFT));
    th_add(w.db, &w.as_alice, "bob", "bob's line");
    mn_filter filters[] = {
        {.version = MN_FILTER_VERSION},
        {.version = MN_FILTER_VERSION, .session = "a"},
        {.version = MN_FILTER_VERSION, .types = types, .n_types = 2, .sessions = sessions,
         .n_sessions = 1},
        {.version = MN_FILTER_VERSION, .created_after = t0, .importance_min = 0.6},
        {.version = MN_FILTER_VERSION, .identity = "alice", .flags = MN_WITH_DELETED},
        {.version = MN_FILTER_VERSION, .metadata = "{}"},
    };
    const size_t want_sys[] = {13, 6, 6, 4, 13, 13};
    const mn_actor *actors[] = {&w.sys, &w.as_alice};
    for (int policy = 0; policy < 2; policy++) {
        for (size_t a = 0; a < 2; a++)
            for (size_t f = 0; f < sizeof filters / sizeof *filters; f++) {
                size_t listed, count = 999;
                th_list_ids(w.db, actors[a], &filters[f], 0, &listed);
                TH_OK(w.db, mn_memory_count(w.db, actors[a], &filters[f], &count));
                ck_assert_msg(count == listed, "policy %d, actor %zu, filter %zu: count %zu, "
                              "list %zu", policy, a, f, count, listed);
                if (a == 0)
                    ck_assert_uint_eq(count, want_sys[f]);
            }
        if (policy)
            break;
        /* A policy that looks at each memory: alice no longer reads the secrets. */
        mn_policy_input pin = {.version = MN_POLICY_INPUT_VERSION, .role = "admin",
                               .priority = 100,
                               .rule = "{\"effect\":\"deny\",\"actions\":[\"read\"],"
                                       "\"resource\":\"memory\",\"conditions\":{"
                                       "\"resource_conditions\":{\"memory_types\":"
                                       "[\"secret\"]}}}"};
        TH_OK(w.db, mn_policy_add(w.db, &w.sys, &pin, NULL));
    }
    size_t count = 0;
    TH_OK(w.db, mn_memory_count(w.db, &w.as_alice, NULL, &count));
    ck_assert_uint_eq(count, 8); /* her 12, less the 4 secrets */
    world_close(&w);
}
END_TEST

/* Keep the last N of a conversation: the newest by created_at stay, the rest go. */
START_TEST(memory_trim)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[6];
    for (int i = 0; i < 6; i++) {
        mn_memory_input in = TH_IN(.text = th_fmt("turn %d of the talk", i), .session = "talk");
        ids[i] = th_add_in(w.db, &w.as_alice, &in);
        usleep(2000);
    }
    const char *other = th_add(w.db, &w.as_alice, NULL, "not in the talk");
    mn_filter talk = {.version = MN_FILTER_VERSION, .session = "talk"};
    size_t n = 99;
    TH_OK(w.db, mn_memory_trim(w.db, &w.as_alice, &talk, 10, MN_DELETE_HARD, &n));
    ck_assert_uint_eq(n, 0);
    TH_OK(w.db, mn_memory_trim(w.db, &w.as_alice, &talk, 2, MN_DELETE_HARD, &n));
    ck_assert_uint_eq(n, 4);
    expect_list(&w, &w.sys, &talk, &ids[4], 2, "the last two");
    expect_search(&w, &w.sys, "turn talk", &talk, &ids[4], 2, "search the last two");
    size_t count = 0;
    TH_OK(w.db, mn_memory_count(w.db, &w.sys, NULL, &count));
    ck_assert_uint_eq(count, 3);
    TH_OK(w.db, mn_memory_trim(w.db, &w.as_alice, &talk, 0, MN_DELETE_SOFT, &n));
    ck_assert_uint_eq(n, 2);
    expect_list(&w, &w.sys, NULL, &other, 1, "only the other stays");
    world_close(&w);
}
END_TEST

/* ttl_ms and expires_at: the expiry is the add's time plus ttl_ms, or expires_at; the memory
 * is there until then, and gone from list, search and count after (and purged). */
START_TEST(memory_ttl_ms_expires_at)
{
    struct world w;
    world_open(&w, _i);
    mn_memory_input a = TH_IN(.text = "short lived note", .ttl_ms = 300);
    mn_memory_input b = TH_IN(.text = "note with an end");
    mn_memory_input c = TH_IN(.text = "long lived note", .ttl_ms = 3600000);
    mn_memory *ma = NULL;
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &a, &ma));
    ck_assert_int_eq(ma->expires_at, ma->created_at + 300);
    int64_t now = th_now_ms();
    b.expires_at = now + 400;
    const char *mb = th_add_in(w.db, &w.as_alice, &b);
    const char *mc = th_add_in(w.db, &w.as_alice, &c);
    mn_memory *g = th_get(w.db, &w.sys, mb, MN_WITH_EXPIRED); /* the add may have been slow */
    ck_assert_int_eq(g->expires_at, now + 400);
    mn_memory_free(g);
    /* Listed until then: only where the adds took less than the ttl (a loaded machine may
     * be slower), so that the test asserts what it can know. */
    const char *all3[] = {ma->id, mb, mc};
    if (th_now_ms() < ma->expires_at - 100)
        expect_list(&w, &w.sys, NULL, all3, 3, "before expiry");
    while (th_now_ms() < now + 450)
        usleep(20000);
    expect_list(&w, &w.sys, NULL, &mc, 1, "after expiry");
    expect_search(&w, &w.sys, "note", NULL, &mc, 1, "search after expiry");
    size_t n = 0, purged = 0;
    TH_OK(w.db, mn_memory_count(w.db, &w.sys, NULL, &n));
    ck_assert_uint_eq(n, 1);
    TH_OK(w.db, mn_memory_purge_expired(w.db, &w.sys, &purged));
    ck_assert_uint_eq(purged, 2);
    mn_memory_free(ma);
    world_close(&w);
}
END_TEST

/* ==== seq ==================================================================================== */

/* The digest each store keeps of a tenant's (key, seq) pairs, in its writing statements (store
 * memory_digest: the vector index checks its saved files with it) is that of its rows after
 * every kind of write. The one test that reads the store itself (api/handle.h). */
struct digest_sum {
    int64_t n, sum;
};

static void digest_add(void *ctx, int64_t key, int64_t seq)
{
    struct digest_sum *d = ctx;
    d->n++;
    d->sum = (d->sum + mni_digest_term(key, seq)) % MNI_DIGEST_P;
}

static void expect_digest(struct world *w, const char *what)
{
    struct mni_store *s = w->db->store;
    int64_t n = -1, sum = -1;
    struct digest_sum d = {0, 0};
    ck_assert_int_eq(s->ops->memory_digest(s, w->tid, &n, &sum), MN_OK);
    ck_assert_int_eq(s->ops->memory_seqs(s, w->tid, INT64_MAX, digest_add, &d), MN_OK);
    ck_assert_msg(n == d.n && sum == d.sum, "%s: digest %lld/%lld, rows %lld/%lld", what,
                  (long long)n, (long long)sum, (long long)d.n, (long long)d.sum);
}

START_TEST(memory_digest_current)
{
    struct world w;
    world_open(&w, _i);
    expect_digest(&w, "empty");
    mn_memory *m = NULL;
    mn_memory_input in = TH_IN(.text = "digest one");
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &in, &m));
    const char *one = th_fmt("%s", m->id);
    mn_memory_free(m);
    expect_digest(&w, "one add");
    mn_memory_input batch[3] = {TH_IN(.text = "d0"), TH_IN(.text = "d1"), TH_IN(.text = "d2")};
    char **ids = NULL;
    TH_OK(w.db, mn_memory_add_many(w.db, &w.as_bob, batch, 3, &ids, NULL));
    expect_digest(&w, "a batch");
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT,
                            .text = "digest one, changed"};
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, one, &ch, NULL));
    expect_digest(&w, "an update");
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, one, MN_DELETE_SOFT));
    expect_digest(&w, "a soft delete");
    TH_OK(w.db, mn_memory_restore(w.db, &w.sys, one));
    expect_digest(&w, "a restore");
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, ids[0], MN_DELETE_HARD));
    expect_digest(&w, "a hard delete");
    TH_OK(w.db, mn_identity_delete(w.db, &w.sys, "bob"));
    expect_digest(&w, "an identity's cascade");
    mn_strings_free(ids, 3);
    world_close(&w);
}
END_TEST

START_TEST(memory_seq_increases)
{
    struct world w;
    world_open(&w, _i);
    int64_t last = 0;
    mn_memory *m = NULL;
    mn_memory_input in = TH_IN(.text = "seq one");
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &in, &m));
    ck_assert_int_gt(m->seq, last);
    last = m->seq;
    const char *m1 = th_fmt("%s", m->id);
    mn_memory_free(m);
    in.text = "seq two";
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &in, &m));
    ck_assert_int_gt(m->seq, last);
    last = m->seq;
    const char *m2 = th_fmt("%s", m->id);
    mn_memory_free(m);

    mn_memory_input batch[4] = {TH_IN(.text = "b0"), TH_IN(.text = "b1"), TH_IN(.text = "b2"),
                                TH_IN(.text = "b3")};
    char **ids = NULL;
    TH_OK(w.db, mn_memory_add_many(w.db, &w.as_alice, batch, 4, &ids, NULL));
    int64_t bseq[4];
    for (int i = 0; i < 4; i++) {
        m = th_get(w.db, &w.sys, ids[i], 0);
        bseq[i] = m->seq;
        ck_assert_int_gt(bseq[i], last);
        for (int j = 0; j < i; j++)
            ck_assert_int_ne(bseq[i], bseq[j]);
        mn_memory_free(m);
    }
    for (int i = 0; i < 4; i++)
        last = bseq[i] > last ? bseq[i] : last;

    /* update, soft delete, restore: each a new, higher seq */
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "seq one, changed"};
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, m1, &ch, &m));
    ck_assert_int_gt(m->seq, last);
    last = m->seq;
    mn_memory_free(m);
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, m2, MN_DELETE_SOFT));
    m = th_get(w.db, &w.sys, m2, MN_WITH_DELETED);
    ck_assert_int_gt(m->seq, last);
    last = m->seq;
    mn_memory_free(m);
    TH_OK(w.db, mn_memory_restore(w.db, &w.sys, m2));
    m = th_get(w.db, &w.sys, m2, 0);
    ck_assert_int_gt(m->seq, last);
    last = m->seq;
    mn_memory_free(m);
    /* A failed update does not move anything. */
    ch.text = "";
    ch.set |= MN_MEMORY_SET_TEXT;
    TH_RC(w.db, mn_memory_update(w.db, &w.sys, m2, &ch, NULL), MN_EINVAL);
    m = th_get(w.db, &w.sys, m2, 0);
    ck_assert_int_eq(m->seq, last);
    mn_memory_free(m);
    /* seq is store-wide: another tenant's change is higher still. */
    th_tenant(w.db, "other");
    th_identity(w.db, "other", "x");
    mn_actor ox = TH_ACTOR(.tenant = "other", .identity = "x");
    in.text = "other tenant";
    TH_OK(w.db, mn_memory_add(w.db, &ox, &in, &m));
    ck_assert_int_gt(m->seq, last);
    mn_memory_free(m);
    mn_strings_free(ids, 4);
    world_close(&w);
}
END_TEST

/* ==== search ================================================================================= */

static const char *const corpus[] = {
    "Daniel prefers an aisle seat on flights longer than two hours",
    "Hannah works night shifts at the children's hospital on weekends",
    "Biscuit the beagle is allergic to chicken-based dog food",
    "The Airflow to Dagster migration is due at the end of Q3",
    "Prefers oat milk in his flat white; lactose intolerant",
    "Sofia has a piano recital on Saturday at 3pm",
    "The quarterly tax filing deadline is April 15th",
    "Remind Daniel to renew his passport before the Japan trip in October",
    "Kitchen renovation budget is twelve thousand euros, tiles not included",
    "Hannah's favourite restaurant is the small Thai place on Elm Street",
    "The garage door code was changed last Tuesday",
    "Book club meets on the first Thursday of every month",
    "Grandma's birthday is on the 3rd of March; she loves orchids",
    "The company offsite is in Lisbon this year",
    "Running shoes should be replaced every 500 miles",
};
#define NCORPUS (sizeof corpus / sizeof *corpus)

static void add_corpus(struct world *w, const char **ids)
{
    for (size_t i = 0; i < NCORPUS; i++)
        ids[i] = th_add(w->db, i % 2 ? &w->as_alice : &w->as_bob, NULL, corpus[i]);
}

/* Checks the shape of search results: similarity in [-1,1] and equal to the cosine of the
 * query vector and the memory's stored vector (in every mode), best first by fused score, which
 * in vector mode is the similarity. */
static void check_results(struct world *w, const mn_memories *l, const float *q)
{
    int dim = mn_embed_dim(w->db);
    for (size_t i = 0; i < l->count; i++) {
        double s = l->items[i]->similarity;
        ck_assert_msg(isfinite(s) && s >= -1.0 - 1e-6 && s <= 1.0 + 1e-6, "similarity %f", s);
        double fused = l->items[i]->fused_score;
        if (i > 0)
            ck_assert_msg(fused <= l->items[i - 1]->fused_score + 1e-9, "not sorted: %f after %f",
                          fused, l->items[i - 1]->fused_score);
        if (w->mode == MN_SEARCH_VECTOR || l->items[i]->keyword_rank == 0)
            ck_assert_msg(l->items[i]->vector_rank > 0 && fabs(l->items[i]->vector_score - s) < 1e-6,
                          "a hit the keywords did not find: vector rank %d, score %f, "
                          "similarity %f", l->items[i]->vector_rank, l->items[i]->vector_score, s);
        if (w->mode == MN_SEARCH_VECTOR)
            ck_assert_double_eq_tol(fused, s, 1e-6);
        ck_assert_ptr_nonnull(l->items[i]->text);
        ck_assert_ptr_nonnull(l->items[i]->id);
        ck_assert_str_eq(l->items[i]->tenant_id, w->tid);
        if (q) {
            mn_memory *g = th_get(w->db, &w->sys, l->items[i]->id, MN_WITH_EMBEDDING);
            double want = th_dot(g->embedding, q, dim) / th_norm(q, dim);
            ck_assert_msg(fabs(want - s) < 1e-4, "%s: similarity %f, cosine %f",
                          l->items[i]->text, s, want);
            mn_memory_free(g);
        }
    }
}

START_TEST(search_text)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[NCORPUS];
    add_corpus(&w, ids);
    struct {
        const char *q;
        size_t want;
    } qs[] = {
        {"what seat does Daniel prefer on flights", 0},
        {"dog food allergy beagle", 2},
        {"when is the tax filing deadline", 6},
        {"Daniel passport Japan trip", 7},
        {"piano recital Saturday", 5},
        {"oat milk flat white", 4},
    };
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        /* The corpus is alice's and bob's: alice searches every memory she may read. */
        mn_search_options so = {
            .version = MN_SEARCH_OPTIONS_VERSION, .query = qs[i].q,
            .min_similarity = MN_SEARCH_OFF,
            .filter = &(mn_filter){.version = MN_FILTER_VERSION, .flags = MN_ALL_READABLE}};
        mn_memories *l = NULL;
        TH_OK(w.db, mn_memory_search(w.db, &w.as_alice, &so, &l));
        /* default k; a keyword search finds only the memories that share a word */
        if (w.mode == MN_SEARCH_KEYWORD)
            ck_assert(l->count >= 1 && l->count <= 10);
        else
            ck_assert_uint_eq(l->count, 10);
        ck_assert_msg(strcmp(l->items[0]->id, ids[qs[i].want]) == 0,
                      "query \"%s\": first is \"%s\", want \"%s\"", qs[i].q, l->items[0]->text,
                      corpus[qs[i].want]);
        ck_assert_ptr_null(l->items[0]->embedding);
        if (l->count == 10)
            ck_assert_ptr_nonnull(l->next_cursor); /* more follow the 10 */
        check_results(&w, l, th_embed(w.db, qs[i].q));
        mn_memories_free(l);
    }
    /* The exact text scores 1. */
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION,
        .query = corpus[9],
        .k = 1,
        .filter = &(mn_filter){.version = MN_FILTER_VERSION, .flags = MN_WITH_EMBEDDING}};
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, ids[9]);
    ck_assert_double_eq_tol(l->items[0]->similarity, 1.0, 1e-5);
    ck_assert_ptr_nonnull(l->items[0]->embedding);
    ck_assert_int_eq(l->items[0]->dim, 384);
    mn_memories_free(l);
    world_close(&w);
}
END_TEST

START_TEST(search_vector)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[NCORPUS];
    add_corpus(&w, ids);
    int dim = mn_embed_dim(w.db);
    const float *v = th_embed(w.db, corpus[11]);
    /* A query text and a vector at once: which one? MN_EINVAL, naming both. */
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = corpus[3],
                            .vector = v, .dim = dim, .k = 5, .min_similarity = MN_SEARCH_OFF};
    mn_memories *l = NULL;
    TH_RC(w.db, mn_memory_search(w.db, &w.sys, &so, &l), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(w.db), "both a query text and a vector"), "%s",
                  mn_errmsg(w.db));
    so.query = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, 5);
    ck_assert_str_eq(l->items[0]->id, ids[11]);
    ck_assert_double_eq_tol(l->items[0]->similarity, 1.0, 1e-5);
    check_results(&w, l, v);
    mn_memories_free(l);
    /* A scaled vector gives the same ranking and similarities. */
    float *scaled = th_keep(malloc(sizeof(float) * (size_t)dim));
    for (int i = 0; i < dim; i++)
        scaled[i] = v[i] * 17.5f;
    so = (mn_search_options){
        .version = MN_SEARCH_OPTIONS_VERSION, .vector = scaled, .dim = dim, .k = 5};
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_str_eq(l->items[0]->id, ids[11]);
    ck_assert_double_eq_tol(l->items[0]->similarity, 1.0, 1e-5);
    check_results(&w, l, v);
    mn_memories_free(l);
    /* The negated vector: similarity -1 is allowed and sorts last. */
    for (int i = 0; i < dim; i++)
        scaled[i] = -v[i];
    so = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION, .vector = scaled,
                             .dim = dim, .k = 1000, .min_similarity = MN_SEARCH_OFF};
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, NCORPUS);
    ck_assert_str_eq(l->items[NCORPUS - 1]->id, ids[11]);
    ck_assert_double_eq_tol(l->items[NCORPUS - 1]->similarity, -1.0, 1e-5);
    check_results(&w, l, scaled);
    mn_memories_free(l);
    world_close(&w);
}
END_TEST

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

START_TEST(search_k_and_exactness)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[NCORPUS];
    add_corpus(&w, ids);
    const char *q = "Hannah restaurant weekends hospital";
    const float *qv = th_embed(w.db, q);
    int dim = mn_embed_dim(w.db);
    /* Brute force over the stored vectors. */
    double sims[NCORPUS];
    for (size_t i = 0; i < NCORPUS; i++) {
        mn_memory *g = th_get(w.db, &w.sys, ids[i], MN_WITH_EMBEDDING);
        sims[i] = th_dot(g->embedding, qv, dim);
        mn_memory_free(g);
    }
    double sorted[NCORPUS];
    memcpy(sorted, sims, sizeof sims);
    qsort(sorted, NCORPUS, sizeof *sorted, cmp_desc);

    /* Every hit, in the mode's order: a keyword search finds those that share a word. */
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = q, .k = 1000,
                            .min_similarity = MN_SEARCH_OFF};
    mn_memories *every = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &every));
    ck_assert_msg(w.mode == MN_SEARCH_KEYWORD ? every->count >= 2 && every->count < NCORPUS
                                              : every->count == NCORPUS,
                  "%zu hits of %zu", every->count, NCORPUS);
    int ks[] = {1, 3, 10, 14, 15, 100, 1000};
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
        so.k = ks[ki];
        mn_memories *l = NULL;
        TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
        size_t want = (size_t)ks[ki] < every->count ? (size_t)ks[ki] : every->count;
        ck_assert_msg(l->count == want, "k=%d: %zu results", ks[ki], l->count);
        /* The k best, exactly (a small set is searched exactly): by similarity in vector mode,
         * and in every mode the first k of the whole ranking. */
        for (size_t i = 0; i < l->count; i++) {
            ck_assert_msg(w.mode != MN_SEARCH_VECTOR ||
                          fabs(l->items[i]->similarity - sorted[i]) < 1e-4,
                          "k=%d: result %zu similarity %f, brute force %f", ks[ki], i,
                          l->items[i]->similarity, sorted[i]);
            ck_assert_str_eq(l->items[i]->id, every->items[i]->id);
        }
        check_results(&w, l, qv);
        mn_memories_free(l);
    }
    mn_memories_free(every);
    world_close(&w);
}
END_TEST

START_TEST(search_min_similarity)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[NCORPUS];
    add_corpus(&w, ids);
    const char *q = "Daniel flights aisle seat passport";
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = q, .k = 100,
                            .min_similarity = MN_SEARCH_OFF};
    mn_memories *all = NULL, *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &all));
    if (w.mode != MN_SEARCH_KEYWORD)
        ck_assert_uint_eq(all->count, NCORPUS);
    /* The minimum drops what is below it, in every mode, but a keyword match: relevant by
     * itself. */
    double mins[] = {0.05, 0.2, 0.5};
    for (size_t mi = 0; mi < 3; mi++) {
        so.min_similarity = mins[mi];
        TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
        size_t want = 0;
        for (size_t i = 0; i < all->count; i++)
            want += all->items[i]->similarity >= mins[mi] || all->items[i]->keyword_rank;
        ck_assert_msg(l->count == want, "min %f: %zu results, want %zu", mins[mi], l->count,
                      want);
        for (size_t i = 0; i < l->count; i++)
            ck_assert(l->items[i]->similarity >= mins[mi] || l->items[i]->keyword_rank);
        mn_memories_free(l);
    }
    /* Only the exact text reaches 0.999: the one hit of a vector search, the first of each. */
    so = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION,
                             .query = corpus[0],
                             .k = 100,
                             .min_similarity = 0.999};
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    if (w.mode == MN_SEARCH_VECTOR)
        ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, ids[0]);
    for (size_t i = 1; i < l->count; i++)
        ck_assert_int_gt(l->items[i]->keyword_rank, 0);
    mn_memories_free(l);
    mn_memories_free(all);
    world_close(&w);
}
END_TEST

/* The relevance floor by default (the local embedder's, 0.15) keeps unrelated memories out of a
 * vector search; MN_SEARCH_OFF keeps every hit; the handle's search_min_relevance is the
 * default of a call. In hybrid mode the floor drops only what the keywords did not find. */
START_TEST(search_floor_default)
{
    const char *url = fresh_url(_i);
    struct world w;
    world_open_at(&w, _i, url, NULL);
    const char *ids[NCORPUS];
    add_corpus(&w, ids);
    const char *q = "Daniel flights aisle seat passport";
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = q, .k = 100,
                            .min_similarity = MN_SEARCH_OFF, .mode = MN_SEARCH_VECTOR};
    mn_memories *all = NULL, *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &all));
    ck_assert_uint_eq(all->count, NCORPUS);
    so.min_similarity = 0;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    size_t want = 0;
    for (size_t i = 0; i < all->count; i++)
        want += all->items[i]->similarity >= 0.15;
    ck_assert_msg(want > 0 && want < NCORPUS, "%zu of %zu above the floor", want, NCORPUS);
    ck_assert_uint_eq(l->count, want);
    ck_assert_str_eq(l->items[0]->id, ids[0]);
    for (size_t i = 0; i < l->count; i++)
        ck_assert_double_ge(l->items[i]->similarity, 0.15);
    mn_memories_free(l);
    /* A query sharing no word with any memory finds nothing by default. */
    so.query = "volcanic eruption";
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, 0);
    mn_memories_free(l);
    /* The handle's floor: none, then 0.5; a call's own floor wins. */
    mn_config cfg = MN_CONFIG_INIT;
    cfg.search_min_relevance = MN_SEARCH_OFF;
    mn_db *db = th_open(url, &cfg);
    TH_OK(db, mn_memory_search(db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, NCORPUS < 100 ? NCORPUS : 100);
    mn_memories_free(l);
    mn_close(db);
    cfg.search_min_relevance = 0.5;
    db = th_open(url, &cfg);
    so.query = q;
    TH_OK(db, mn_memory_search(db, &w.sys, &so, &l));
    for (size_t i = 0; i < l->count; i++)
        ck_assert_double_ge(l->items[i]->similarity, 0.5);
    mn_memories_free(l);
    /* Hybrid: a hit below the floor stays when the keyword ranking found it. */
    so.mode = MN_SEARCH_HYBRID;
    TH_OK(db, mn_memory_search(db, &w.sys, &so, &l));
    ck_assert_uint_gt(l->count, 0);
    for (size_t i = 0; i < l->count; i++)
        ck_assert(l->items[i]->similarity >= 0.5 || l->items[i]->keyword_rank > 0);
    mn_memories_free(l);
    so.mode = MN_SEARCH_VECTOR;
    so.min_similarity = MN_SEARCH_OFF;
    TH_OK(db, mn_memory_search(db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, NCORPUS);
    mn_memories_free(l);
    mn_close(db);
    /* A floor out of range is refused at mn_open, naming the field. */
    cfg.search_min_relevance = 1.5;
    mn_db *bad = NULL;
    TH_RC(bad, mn_open(&bad, url, &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(bad), "mn_config.search_min_relevance is 1.5"), "%s",
                  mn_errmsg(bad));
    mn_close(bad);
    mn_memories_free(all);
    world_close(&w);
}
END_TEST

/* The unit vector cos(angle) e0 + sin(angle) e1, whose similarity to e0 is cos(angle). */
static const float *unit_at(int dim, double angle)
{
    float *v = th_keep(calloc((size_t)dim, sizeof *v));
    v[0] = (float)cos(angle);
    v[1] = (float)sin(angle);
    return v;
}

static const char *add_vector(struct world *w, const char *text, const float *v, double importance)
{
    mn_memory_input in = TH_IN(.text = text, .embedding = v, .dim = mn_embed_dim(w->db));
    in.importance = importance;
    return th_add_in(w->db, &w->as_alice, &in);
}

/* Ranks a vector search and returns the ids best first (n of them). */
static const char **ranked(mn_db *db, const mn_actor *a, const mn_search_options *so, size_t *n)
{
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, a, so, &l));
    const char **ids = th_keep(calloc(l->count + 1, sizeof *ids));
    for (size_t i = 0; i < l->count; i++) {
        const mn_memory *m = l->items[i];
        ck_assert_double_eq_tol(m->score, m->fused_score * m->recency_factor *
                                              m->importance_factor, 1e-9);
        if (i > 0)
            ck_assert_double_le(m->score, l->items[i - 1]->score);
        ids[i] = th_fmt("%s", m->id);
    }
    *n = l->count;
    mn_memories_free(l);
    return ids;
}

/* Recency and importance reorder by relevance times their factors, per call and as the
 * handle's defaults; MN_SEARCH_OFF turns a handle's default off for one call; bad weights are
 * refused naming the field. */
START_TEST(search_ranking)
{
    const char *url = fresh_url(_i);
    struct world w;
    world_open_at(&w, _i, url, NULL);
    int dim = mn_embed_dim(w.db);
    /* old: the query itself, but old and unimportant; young: a little less similar (0.95),
     * changed again just before each recency search, so that it is always the younger by 1 s
     * or more, 10 half-lives of 100 ms. */
    const char *old = add_vector(&w, "old exact note", unit_at(dim, 0), 0.1);
    usleep(1000 * 1000);
    const char *young = add_vector(&w, "new close note", unit_at(dim, acos(0.95)), 1.0);
    mn_memory_changes touch = {.version = MN_MEMORY_CHANGES_VERSION,
                               .set = MN_MEMORY_SET_IMPORTANCE, .importance = 1.0};
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .vector = unit_at(dim, 0),
                            .dim = dim, .k = 10};
    size_t n;
    const char **ids = ranked(w.db, &w.sys, &so, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(ids[0], old);
    /* Importance: 0.1 against 1.0 at full weight. */
    so.importance_weight = 1;
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_str_eq(l->items[0]->id, young);
    ck_assert_double_eq_tol(l->items[0]->importance_factor, 1.0, 1e-9);
    ck_assert_double_eq_tol(l->items[1]->importance_factor, 0.1, 1e-9);
    ck_assert_double_eq_tol(l->items[0]->recency_factor, 1.0, 1e-9);
    ck_assert_double_eq_tol(l->items[0]->score, 0.95, 1e-4);
    mn_memories_free(l);
    /* Recency: a 100 ms half-life leaves the old note under 1/1000 of its relevance at full
     * weight. */
    so.importance_weight = 0;
    so.recency_half_life_ms = 100;
    so.recency_weight = 1;
    TH_OK(w.db, mn_memory_update(w.db, &w.sys, young, &touch, NULL));
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_str_eq(l->items[0]->id, young);
    ck_assert_double_lt(l->items[1]->recency_factor, 1.0 / 1000);
    ck_assert_double_gt(l->items[0]->recency_factor, l->items[1]->recency_factor);
    ck_assert_double_eq_tol(l->items[0]->importance_factor, 1.0, 1e-9);
    mn_memories_free(l);
    /* Half the weight: at most half of the relevance goes. */
    so.recency_weight = 0.5;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_double_ge(l->items[1]->recency_factor, 0.5);
    mn_memories_free(l);
    /* The handle's defaults rank every call; a call turns one off with MN_SEARCH_OFF. */
    mn_config cfg = MN_CONFIG_INIT;
    cfg.search_importance_weight = 1;
    mn_db *db = th_open(url, &cfg);
    so = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION, .vector = unit_at(dim, 0),
                             .dim = dim, .k = 10};
    ck_assert_str_eq(ranked(db, &w.sys, &so, &n)[0], young);
    so.importance_weight = MN_SEARCH_OFF;
    ck_assert_str_eq(ranked(db, &w.sys, &so, &n)[0], old);
    mn_close(db);
    cfg = (mn_config)MN_CONFIG_INIT;
    cfg.search_recency_half_life_ms = 100; /* weight: 0.5 by default */
    db = th_open(url, &cfg);
    so.importance_weight = 0;
    TH_OK(db, mn_memory_update(db, &w.sys, young, &touch, NULL));
    TH_OK(db, mn_memory_search(db, &w.sys, &so, &l));
    ck_assert_str_eq(l->items[0]->id, young);
    ck_assert_double_ge(l->items[1]->recency_factor, 0.5);
    mn_memories_free(l);
    so.recency_half_life_ms = MN_SEARCH_OFF;
    ck_assert_str_eq(ranked(db, &w.sys, &so, &n)[0], old);
    mn_close(db);
    /* Bad values: refused, naming the field. */
    so = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION, .vector = unit_at(dim, 0),
                             .dim = dim, .importance_weight = 2};
    TH_RC(w.db, mn_memory_search(w.db, &w.sys, &so, &l), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(w.db), "mn_search_options.importance_weight is 2"), "%s",
                  mn_errmsg(w.db));
    so.importance_weight = 0;
    so.recency_half_life_ms = -5;
    TH_RC(w.db, mn_memory_search(w.db, &w.sys, &so, &l), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(w.db), "recency_half_life_ms is -5"), "%s", mn_errmsg(w.db));
    cfg = (mn_config)MN_CONFIG_INIT;
    cfg.search_recency_weight = -0.5;
    mn_db *bad = NULL;
    TH_RC(bad, mn_open(&bad, url, &cfg), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(bad), "mn_config.search_recency_weight is -0.5"), "%s",
                  mn_errmsg(bad));
    mn_close(bad);
    world_close(&w);
}
END_TEST

/* Pages of a search, cursor after cursor, are the one long search cut in pieces: same order,
 * nothing twice, nothing missed, ties broken by id; a ranked search pages the same way. */
static void check_pages(struct world *w, mn_search_options so, int page)
{
    so.k = 1000;
    size_t n_all;
    const char **all = ranked(w->db, &w->sys, &so, &n_all);
    so.k = page;
    size_t seen = 0, pages = 0;
    char *cursor = NULL;
    do {
        so.cursor = cursor;
        mn_memories *l = NULL;
        TH_OK(w->db, mn_memory_search(w->db, &w->sys, &so, &l));
        ck_assert_uint_le(l->count, (size_t)page);
        ck_assert_msg(l->count > 0, "page %zu is empty", pages);
        for (size_t i = 0; i < l->count; i++, seen++) {
            ck_assert_uint_lt(seen, n_all);
            ck_assert_msg(strcmp(l->items[i]->id, all[seen]) == 0, "page %zu, hit %zu: %s, want "
                          "%s", pages, i, l->items[i]->id, all[seen]);
        }
        free(cursor);
        cursor = l->next_cursor ? strdup(l->next_cursor) : NULL;
        ck_assert(!l->next_cursor || l->count == (size_t)page);
        mn_memories_free(l);
        pages++;
    } while (cursor);
    ck_assert_uint_eq(seen, n_all);
}

START_TEST(search_paging)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[NCORPUS];
    add_corpus(&w, ids);
    int dim = mn_embed_dim(w.db);
    /* Three memories with the same vector: equal scores, in id order. */
    const float *same = th_embed(w.db, corpus[4]);
    for (int i = 0; i < 3; i++)
        add_vector(&w, th_fmt("twin %d", i), same, 0.5);
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = corpus[4],
                            .min_similarity = MN_SEARCH_OFF};
    check_pages(&w, so, 1);
    check_pages(&w, so, 4);
    check_pages(&w, so, 18);
    so.importance_weight = 0.7;
    so.recency_half_life_ms = 3600 * 1000;
    check_pages(&w, so, 5);
    so = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION, .vector = same, .dim = dim,
                             .k = 2};
    check_pages(&w, so, 2); /* the default floor */
    size_t n;
    const char **twins = ranked(w.db, &w.sys, &so, &n);
    ck_assert_int_lt(strcmp(twins[0], twins[1]), 0);
    /* A cursor of another search, or none at all: MN_EINVAL, saying what to do. */
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_ptr_nonnull(l->next_cursor);
    const char *cursor = th_fmt("%s", l->next_cursor);
    mn_memories_free(l);
    so.importance_weight = 0.5;
    so.cursor = cursor;
    TH_RC(w.db, mn_memory_search(w.db, &w.sys, &so, &l), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(w.db), "belongs to another search"), "%s", mn_errmsg(w.db));
    so.importance_weight = 0;
    so.cursor = "garbage";
    TH_RC(w.db, mn_memory_search(w.db, &w.sys, &so, &l), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(w.db), "cursor \"garbage\" is not one that a search "
                                          "returned; pass next_cursor"), "%s", mn_errmsg(w.db));
    world_close(&w);
}
END_TEST

/* A policy that keeps the world's identities from reading memories of type "secret". */
static void deny_reading_secrets(struct world *w)
{
    mn_policy_input pin = {.version = MN_POLICY_INPUT_VERSION, .role = "admin",
                           .rule = "{\"effect\":\"deny\",\"actions\":[\"read\"],\"resource\":"
                                   "\"memory\",\"conditions\":{\"resource_conditions\":{"
                                   "\"memory_types\":[\"secret\"]}}}"};
    TH_OK(w->db, mn_policy_add(w->db, &w->sys, &pin, NULL));
}

/* A list page is filled after the policies: memories a policy hides cost no place, and a page
 * is never empty while memories the actor may see follow. */
START_TEST(memory_list_fills_after_policy)
{
    struct world w;
    world_open(&w, _i);
    deny_reading_secrets(&w);
    /* Oldest first: a fact, 30 secrets, a fact, 30 secrets, a fact. */
    const char *facts[3];
    for (int f = 0; f < 3; f++) {
        mn_memory_input in = TH_IN(.text = th_fmt("fact %d", f), .type = "fact");
        facts[f] = th_add_in(w.db, &w.as_bob, &in);
        for (int s = 0; f < 2 && s < 30; s++) {
            in = (mn_memory_input)TH_IN(.text = th_fmt("secret %d %d", f, s), .type = "secret");
            th_add_in(w.db, &w.as_bob, &in);
        }
    }
    int limits[] = {1, 2, 3, 50};
    for (size_t li = 0; li < sizeof limits / sizeof *limits; li++) {
        size_t seen = 0;
        char *cursor = NULL;
        do {
            mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION, .limit = limits[li],
                                  .cursor = cursor};
            mn_memories *l = NULL;
            TH_OK(w.db, mn_memory_list(w.db, &w.as_bob, &lo, &l));
            size_t left = 3 - seen;
            size_t want = left < (size_t)limits[li] ? left : (size_t)limits[li];
            ck_assert_msg(l->count == want, "limit %d: a page of %zu, want %zu", limits[li],
                          l->count, want);
            for (size_t i = 0; i < l->count; i++, seen++)
                ck_assert_str_eq(l->items[i]->id, facts[2 - seen]);
            free(cursor);
            cursor = l->next_cursor ? strdup(l->next_cursor) : NULL;
            mn_memories_free(l);
        } while (cursor);
        ck_assert_uint_eq(seen, 3);
    }
    world_close(&w);
}
END_TEST

/* An identity lists and searches its own memories, unless it asks for every memory it may
 * read (MN_ALL_READABLE) or names an owner; the system actor reads the whole tenant. Its pages
 * and k are filled from its own memories even when others' are newer: limit 1 is its newest
 * memory, pages of 3 over 5 are 3 and 2. */
START_TEST(memory_scoped_to_actor)
{
    struct world w;
    world_open(&w, _i);
    const char *mine[5], *theirs[10], *all[15];
    for (int i = 0; i < 5; i++) {
        mine[i] = all[3 * i] =
            th_add(w.db, &w.as_alice, NULL, th_fmt("alice planted tulips %d", i));
        for (int j = 0; j < 2; j++)
            theirs[2 * i + j] = all[3 * i + 1 + j] =
                th_add(w.db, &w.as_bob, NULL, th_fmt("bob planted roses %d %d", i, j));
    }
    mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION, .limit = 1};
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_list(w.db, &w.as_alice, &lo, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, mine[4]);
    ck_assert_ptr_nonnull(l->next_cursor);
    mn_memories_free(l);

    size_t want_pages[] = {3, 2}, pages = 0, seen = 0;
    char *cursor = NULL;
    lo.limit = 3;
    do {
        lo.cursor = cursor;
        TH_OK(w.db, mn_memory_list(w.db, &w.as_alice, &lo, &l));
        ck_assert_uint_lt(pages, 2);
        ck_assert_msg(l->count == want_pages[pages], "page %zu has %zu memories, want %zu",
                      pages, l->count, want_pages[pages]);
        for (size_t i = 0; i < l->count; i++, seen++)
            ck_assert_str_eq(l->items[i]->id, mine[4 - seen]);
        pages++;
        free(cursor);
        cursor = l->next_cursor ? strdup(l->next_cursor) : NULL;
        mn_memories_free(l);
    } while (cursor);
    ck_assert_uint_eq(pages, 2);

    mn_filter readable = {.version = MN_FILTER_VERSION, .flags = MN_ALL_READABLE};
    mn_filter named = {.version = MN_FILTER_VERSION, .identity = "bob"};
    expect_list(&w, &w.as_alice, NULL, mine, 5, "alice, own");
    expect_list(&w, &w.as_alice, &readable, all, 15, "alice, all readable");
    expect_list(&w, &w.as_alice, &named, theirs, 10, "alice, bob named");
    expect_list(&w, &w.sys, NULL, all, 15, "system actor");
    expect_search(&w, &w.as_alice, "planted tulips roses", NULL, mine, 5, "alice, own");
    expect_search(&w, &w.as_alice, "planted tulips roses", &readable, all, 15,
                  "alice, all readable");
    expect_search(&w, &w.as_alice, "planted tulips roses", &named, theirs, 10,
                  "alice, bob named");
    expect_search(&w, &w.as_bob, "planted tulips roses", NULL, theirs, 10, "bob, own");
    expect_search(&w, &w.sys, "planted tulips roses", NULL, all, 15, "system actor");

    /* k is filled from the actor's own memories, though bob's are as near. */
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "planted", .k = 2,
                            .min_similarity = MN_SEARCH_OFF};
    TH_OK(w.db, mn_memory_search(w.db, &w.as_alice, &so, &l));
    ck_assert_uint_eq(l->count, 2);
    for (size_t i = 0; i < l->count; i++)
        ck_assert_str_eq(l->items[i]->identity_id, w.alice);
    mn_memories_free(l);
    world_close(&w);
}
END_TEST

/* Ids of l, in order, in one string. */
static const char *ids_of(const mn_memories *l)
{
    const char *s = "";
    for (size_t i = 0; i < l->count; i++)
        s = th_fmt("%s %s", s, l->items[i]->id);
    return s;
}

/* A batch search answers each search, in order, as mn_memory_search answers it alone: by text
 * or by vector, with its own filter, k, mode and cursor, a query without words finding
 * nothing; a bad search fails the batch, naming it, and nothing is counted as done. */
START_TEST(search_many_as_single)
{
    struct world w;
    world_open(&w, _i);
    const char *ids[NCORPUS];
    add_corpus(&w, ids);
    mn_memories *first = NULL;
    mn_search_options page1 = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "Daniel", .k = 1,
                               .min_similarity = MN_SEARCH_OFF};
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &page1, &first));
    ck_assert_ptr_nonnull(first->next_cursor);
    mn_filter readable = {.version = MN_FILTER_VERSION, .flags = MN_ALL_READABLE};
    mn_filter facts = {.version = MN_FILTER_VERSION, .type = "fact", .identity = "bob"};
    const float *vec = th_embed(w.db, "oat milk flat white");
    mn_search_options so[] = {
        {.version = MN_SEARCH_OPTIONS_VERSION, .query = "dog food allergy beagle", .k = 3,
         .filter = &readable},
        {.version = MN_SEARCH_OPTIONS_VERSION, .vector = vec, .dim = mn_embed_dim(w.db), .k = 2,
         .filter = &readable},
        {.version = MN_SEARCH_OPTIONS_VERSION, .query = "tax filing deadline", .k = 5,
         .mode = MN_SEARCH_KEYWORD, .filter = &facts},
        {.version = MN_SEARCH_OPTIONS_VERSION, .query = "?!", .k = 3},
        {.version = MN_SEARCH_OPTIONS_VERSION, .query = "Daniel", .k = 1,
         .min_similarity = MN_SEARCH_OFF, .cursor = first->next_cursor},
        {.version = MN_SEARCH_OPTIONS_VERSION, .query = "piano recital Saturday", .k = 4},
    };
    size_t n = sizeof so / sizeof *so;
    mn_memories **many = NULL;
    TH_OK(w.db, mn_memory_search_many(w.db, &w.as_alice, so, n, &many));
    for (size_t i = 0; i < n; i++) {
        mn_memories *one = NULL;
        TH_OK(w.db, mn_memory_search(w.db, &w.as_alice, &so[i], &one));
        ck_assert_msg(strcmp(ids_of(many[i]), ids_of(one)) == 0, "search %zu: %s, alone %s", i,
                      ids_of(many[i]), ids_of(one));
        mn_memories_free(one);
    }
    ck_assert_uint_eq(many[3]->count, 0);
    ck_assert_uint_gt(many[0]->count, 0);
    mn_memories_free_many(many, n);
    mn_memories_free(first);

    so[2].k = -1;
    many = (mn_memories **)&w; /* set to NULL on failure */
    TH_RC(w.db, mn_memory_search_many(w.db, &w.as_alice, so, n, &many), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(w.db), "search 2: k is -1"), "%s", mn_errmsg(w.db));
    ck_assert_ptr_null(many);
    TH_RC(w.db, mn_memory_search_many(w.db, &w.as_alice, so, 0, &many), MN_EINVAL);
    so[2].k = 5;
    so[4].version = 1;
    TH_RC(w.db, mn_memory_search_many(w.db, &w.as_alice, so, n, &many), MN_EINVAL);
    world_close(&w);
}
END_TEST

/* Text with no words embeds to an all-zero vector, which has no direction: storing it is
 * refused, naming the embedder, for an add (alone or in a batch, which then names the input)
 * and an update, and nothing changes. A query with no words is no failure: it finds nothing
 * (MN_OK, no items), and search stays finite. */
START_TEST(search_featureless_text)
{
    struct world w;
    world_open(&w, _i);
    const char *a = th_add(w.db, &w.as_alice, NULL, "coffee in the morning");
    th_state before, after;
    th_state_get(w.db, &before);
    mn_memory_input in = MN_MEMORY_INPUT_INIT;
    in.text = "!!! ??? ...";
    TH_RC(w.db, mn_memory_add(w.db, &w.as_alice, &in, NULL), MN_EINVAL);
    ck_assert_msg(th_has_word(mn_errmsg(w.db), "local embedder") &&
                  th_has_word(mn_errmsg(w.db), "all-zero"), "%s", mn_errmsg(w.db));
    mn_memory_input two[] = {MN_MEMORY_INPUT_INIT, MN_MEMORY_INPUT_INIT};
    two[0].text = "tea in the afternoon";
    two[1].text = "...";
    size_t bad = 0;
    TH_RC(w.db, mn_memory_add_many(w.db, &w.as_alice, two, 2, NULL, &bad), MN_EINVAL);
    ck_assert_uint_eq(bad, 1);
    ck_assert_msg(strncmp(mn_errmsg(w.db), "memory 1: ", 10) == 0, "%s", mn_errmsg(w.db));
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT,
                            .text = "?!"};
    TH_RC(w.db, mn_memory_update(w.db, &w.as_alice, a, &ch, NULL), MN_EINVAL);
    ck_assert_msg(th_has_word(mn_errmsg(w.db), "local embedder"), "%s", mn_errmsg(w.db));
    th_state_get(w.db, &after);
    th_assert_state_eq(&before, &after, "texts without words");
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "!!!", .k = 10};
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(l->count, 0);
    mn_memories_free(l);
    l = NULL;
    so.query = "coffee";
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_ge(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, a);
    check_results(&w, l, NULL);
    mn_memories_free(l);
    so.query = "!!! ??? ...";
    l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_ptr_nonnull(l);
    ck_assert_uint_eq(l->count, 0);
    mn_memories_free(l);
    world_close(&w);
}
END_TEST

/* ==== persistence, dimensions, mn_embed ====================================================== */

START_TEST(persistence)
{
    const char *url = fresh_url(_i);
    mn_db *db = open_url(_i, url);
    th_tenant(db, "acme");
    const char *alice = th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    const char *m1 = th_add(db, &a, NULL, "persisted memory about lighthouses");
    const char *m2 = th_add(db, &a, NULL, "second persisted memory about gardens");
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "persisted memory about old lighthouses"};
    TH_OK(db, mn_memory_update(db, &a, m1, &ch, NULL));
    TH_OK(db, mn_memory_delete(db, &a, m2, MN_DELETE_SOFT));
    th_state before, after;
    th_state_get(db, &before);
    mn_close(db);

    db = th_open(url, NULL);
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "close and reopen");
    mn_identity *i = NULL;
    TH_OK(db, mn_identity_get(db, &a, "alice", &i));
    ck_assert_str_eq(i->id, alice);
    mn_identity_free(i);
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION, .query = "old lighthouses", .k = 5};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &a, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, m1);
    mn_memories_free(l);
    /* New writes continue from where the store was. */
    mn_memory *m = NULL;
    mn_memory_input in = TH_IN(.text = "after reopen");
    TH_OK(db, mn_memory_add(db, &a, &in, &m));
    ck_assert_int_gt(strcmp(m->id, m1), 0);
    mn_memory *old = th_get(db, &a, m2, MN_WITH_DELETED);
    ck_assert_int_gt(m->seq, old->seq);
    mn_memory_free(old);
    mn_memory_free(m);
    mn_close(db);
}
END_TEST

START_TEST(embed_dim_fixed_at_creation)
{
    const char *url = fresh_url(_i);
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = 64};
    mn_db *db = th_open(url, &cfg);
    ck_assert_int_eq(mn_embed_dim(db), 64);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    const char *id = th_add(db, &a, NULL, "sixty-four dimensions");
    mn_memory *g = th_get(db, &a, id, MN_WITH_EMBEDDING);
    ck_assert_int_eq(g->dim, 64);
    ck_assert_double_eq_tol(th_norm(g->embedding, 64), 1.0, 1e-5);
    mn_memory_free(g);
    float v[384];
    TH_OK(db, mn_embed(db, "hello", v, 64));
    TH_RC(db, mn_embed(db, "hello", v, 384), MN_EINVAL);
    mn_close(db);

    /* Reopened without a dimension: the database's. */
    db = th_open(url, NULL);
    ck_assert_int_eq(mn_embed_dim(db), 64);
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION, .query = "sixty-four dimensions", .k = 1};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &a, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_double_eq_tol(l->items[0]->similarity, 1.0, 1e-5);
    mn_memories_free(l);
    mn_close(db);

    /* Reopened with the same dimension: fine. With another: refused, naming both. */
    db = th_open(url, &cfg);
    mn_close(db);
    cfg.embed_dim = 128;
    db = NULL;
    int rc = mn_open(&db, url, &cfg);
    ck_assert_msg(rc == MN_EINVAL, "rc %d (%s): %s", rc, mn_strerror(rc), mn_errmsg(db));
    ck_assert_msg(strstr(mn_errmsg(db), "64") && strstr(mn_errmsg(db), "128"), "message: %s",
                  mn_errmsg(db));
    mn_close(db);
    db = th_open(url, NULL);
    ck_assert_uint_eq(th_count_memories(db, &a, 0), 1);
    mn_close(db);
}
END_TEST

/* Vectors of 3072 dimensions (text-embedding-3-large's), wider than pgvector indexes as
 * vector: read back exactly as embedded; found first by their own text through the index (more
 * memories than an exact scan is chosen for, and a small ef: a graph search), with the
 * full-precision similarity; by a caller's vector; filtered by owner; and again after the
 * database is closed and reopened. (test_vindex reads a 3072-dimensional index back from its
 * files.) */
#define WIDE_DIM 3072
#define WIDE_N 300

static void wide_search(struct world *w, const char *const *texts, const char **ids, int at)
{
    const float *qv = th_embed(w->db, texts[at]);
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = texts[at], .k = 5,
                            .ef = 10};
    mn_memories *l = NULL;
    TH_OK(w->db, mn_memory_search(w->db, &w->sys, &so, &l));
    ck_assert_uint_eq(l->count, 5);
    ck_assert_msg(strcmp(l->items[0]->id, ids[at]) == 0, "\"%s\": first is \"%s\"", texts[at],
                  l->items[0]->text);
    ck_assert_double_eq_tol(l->items[0]->similarity, 1.0, 1e-5);
    check_results(w, l, qv);
    mn_memories_free(l);
    so = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION, .vector = qv,
                             .dim = WIDE_DIM, .k = 1};
    TH_OK(w->db, mn_memory_search(w->db, &w->sys, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, ids[at]);
    mn_memories_free(l);
}

START_TEST(wide_vectors)
{
    const char *url = fresh_url(_i);
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = WIDE_DIM};
    struct world w;
    world_open_at(&w, _i, url, &cfg);
    ck_assert_int_eq(mn_embed_dim(w.db), WIDE_DIM);
    static const char *const topics[] = {"lighthouse", "orchard", "violin", "glacier", "harbour"};
    const char *texts[WIDE_N], *ids[WIDE_N];
    mn_memory_input in[WIDE_N];
    for (int i = 0; i < WIDE_N; i++) {
        texts[i] = th_fmt("note %d on the %s, entry %d of %d", i * 7919 % 1000, topics[i % 5],
                          i, i % 13);
        in[i] = (mn_memory_input)TH_IN(.identity = i % 10 ? "alice" : "bob", .text = texts[i]);
    }
    char **got = NULL;
    TH_OK(w.db, mn_memory_add_many(w.db, &w.sys, in, WIDE_N, &got, NULL));
    for (int i = 0; i < WIDE_N; i++)
        ids[i] = th_fmt("%s", got[i]);
    mn_strings_free(got, WIDE_N);

    mn_memory *g = th_get(w.db, &w.sys, ids[42], MN_WITH_EMBEDDING);
    ck_assert_int_eq(g->dim, WIDE_DIM);
    ck_assert_mem_eq(g->embedding, th_embed(w.db, texts[42]), WIDE_DIM * sizeof(float));
    mn_memory_free(g);
    for (int at = 0; at < WIDE_N; at += 37)
        wide_search(&w, texts, ids, at);
    /* Bob's memories only (every tenth). */
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = texts[3], .k = 5,
                            .filter = &(mn_filter){.version = MN_FILTER_VERSION,
                                                   .identity = "bob"}};
    mn_memories *l = NULL;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, 5);
    for (size_t i = 0; i < l->count; i++)
        ck_assert_str_eq(l->items[i]->identity_id, w.bob);
    mn_memories_free(l);
    world_close(&w);

    w.db = open_url(_i, url);
    ck_assert_int_eq(mn_embed_dim(w.db), WIDE_DIM);
    for (int at = 5; at < WIDE_N; at += 59)
        wide_search(&w, texts, ids, at);
    world_close(&w);
}
END_TEST

START_TEST(embed_api)
{
    mn_db *db = open_fresh(_i);
    ck_assert_int_eq(mn_embed_dim(db), 384);
    float a[384], b[384];
    const char *texts[] = {"hello", "I love coffee in the morning", "Café 東京 😀",
                           "a much longer text with many words about many different things"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        TH_OK(db, mn_embed(db, texts[i], a, 384));
        TH_OK(db, mn_embed(db, texts[i], b, 384));
        ck_assert_mem_eq(a, b, sizeof a);
        ck_assert_msg(fabs(th_norm(a, 384) - 1.0) < 1e-5, "norm %f", th_norm(a, 384));
    }
    /* Same text, another handle: same vector. */
    mn_db *db2 = open_fresh(_i);
    TH_OK(db2, mn_embed(db2, texts[1], b, 384));
    TH_OK(db, mn_embed(db, texts[1], a, 384));
    ck_assert_mem_eq(a, b, sizeof a);
    /* Related texts are closer than unrelated ones. */
    TH_OK(db, mn_embed(db, "coffee in the morning is what I love", b, 384));
    double near = th_dot(a, b, 384);
    TH_OK(db, mn_embed(db, "quarterly tax filing deadline", b, 384));
    ck_assert_double_gt(near, th_dot(a, b, 384) + 0.3);
    /* Wrong dimension. */
    TH_RC(db, mn_embed(db, "hello", a, 383), MN_EINVAL);
    ck_assert_msg(th_has_word(mn_errmsg(db), "dim") && strstr(mn_errmsg(db), "384"),
                  "message: %s", mn_errmsg(db));
    TH_RC(db, mn_embed(db, "hello", a, 0), MN_EINVAL);
    mn_close(db2);
    mn_close(db);
}
END_TEST

/* Two handles on one store: what one writes, the other reads and searches at once. */
START_TEST(two_handles_one_store)
{
    const char *url = fresh_url(_i);
    mn_db *a = open_url(_i, url);
    th_tenant(a, "acme");
    th_identity(a, "acme", "alice");
    mn_db *b = open_url(_i, url);
    mn_actor al = TH_ACTOR(.tenant = "acme", .identity = "alice");
    /* Both handles have searched before the writes, so a stale index would show. */
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION, .query = "lighthouse keeper", .k = 5};
    mn_memories *l = NULL;
    TH_OK(a, mn_memory_search(a, &al, &so, &l));
    ck_assert_uint_eq(l->count, 0);
    mn_memories_free(l);
    TH_OK(b, mn_memory_search(b, &al, &so, &l));
    ck_assert_uint_eq(l->count, 0);
    mn_memories_free(l);

    const char *id = th_add(a, &al, NULL, "the lighthouse keeper retires in June");
    th_add(a, &al, NULL, "an unrelated memory about bread");
    TH_OK(b, mn_memory_search(b, &al, &so, &l));
    ck_assert_uint_ge(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, id);
    mn_memories_free(l);
    /* b changes it; a sees the change. */
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "the harbour master retires in July"};
    TH_OK(b, mn_memory_update(b, &al, id, &ch, NULL));
    so.query = "harbour master";
    TH_OK(a, mn_memory_search(a, &al, &so, &l));
    ck_assert_str_eq(l->items[0]->id, id);
    ck_assert_double_eq_tol(l->items[0]->similarity,
                            th_dot(th_embed(a, "harbour master"),
                                   th_embed(a, "the harbour master retires in July"), 384),
                            1e-4);
    mn_memories_free(l);
    mn_memory *m = th_get(a, &al, id, 0);
    ck_assert_int_eq(m->version, 2);
    mn_memory_free(m);
    /* b deletes it; a no longer finds it. */
    TH_OK(b, mn_memory_delete(b, &al, id, MN_DELETE_HARD));
    TH_OK(a, mn_memory_search(a, &al, &so, &l));
    for (size_t i = 0; i < l->count; i++)
        ck_assert_str_ne(l->items[i]->id, id);
    mn_memories_free(l);
    TH_RC(a, mn_memory_get(a, &al, id, MN_WITH_DELETED, &m), MN_ENOTFOUND);
    mn_close(b);
    mn_close(a);
}
END_TEST

/* Names that look like ids never capture what the id names. */
START_TEST(lookalike_names)
{
    mn_db *db = open_fresh(_i);
    const char *acme = th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor al = TH_ACTOR(.tenant = "acme", .identity = "alice");
    const char *secret = th_add(db, &al, NULL, "acme's secret");
    /* A tenant named with acme's id: acme's id still means acme. */
    mn_tenant *t = NULL;
    int rc = mn_tenant_create(db, acme, &t);
    if (rc == MN_OK) {
        ck_assert_str_ne(t->id, acme);
        th_identity(db, t->id, "mallory");
        mn_actor by_id = TH_ACTOR(.tenant = acme, .identity = NULL);
        mn_memory_free(th_get(db, &by_id, secret, 0));
        mn_tenant *g = NULL;
        TH_OK(db, mn_tenant_get(db, acme, &g));
        ck_assert_str_eq(g->name, "acme");
        mn_tenant_free(g);
        mn_actor mal = TH_ACTOR(.tenant = t->id, .identity = "mallory");
        mn_memory *m = NULL;
        TH_RC(db, mn_memory_get(db, &mal, secret, 0, &m), MN_ENOTFOUND);
        mn_tenant_free(t);
    } else {
        ck_assert_msg(rc == MN_EINVAL || rc == MN_EEXISTS, "rc %d", rc);
    }
    /* An identity whose external_id is another identity's id: the id wins. */
    mn_identity *alice = NULL;
    TH_OK(db, mn_identity_get(db, &al, "alice", &alice));
    mn_actor sys = TH_ACTOR(.tenant = "acme", .identity = NULL);
    mn_identity *mallory = NULL;
    rc = mn_identity_create(db, &sys, alice->id, NULL, NULL, &mallory);
    if (rc == MN_OK) {
        mn_identity *g = NULL;
        TH_OK(db, mn_identity_get(db, &sys, alice->id, &g));
        ck_assert_str_eq(g->id, alice->id);
        ck_assert_str_eq(g->external_id, "alice");
        mn_identity_free(g);
        mn_actor as = TH_ACTOR(.tenant = "acme", .identity = alice->id);
        mn_memory *m = NULL;
        mn_memory_input in = TH_IN(.text = "who am I");
        TH_OK(db, mn_memory_add(db, &as, &in, &m));
        ck_assert_str_eq(m->identity_id, alice->id);
        mn_memory_free(m);
        mn_identity_free(mallory);
    } else {
        ck_assert_msg(rc == MN_EINVAL || rc == MN_EEXISTS, "rc %d", rc);
    }
    mn_identity_free(alice);
    mn_close(db);
}
END_TEST

/* ==== tenant isolation ======================================================================= */

START_TEST(tenant_isolation)
{
    mn_db *db = open_fresh(_i);
    th_tenant(db, "acme");
    const char *gid = th_tenant(db, "globex");
    const char *a_alice = th_identity(db, "acme", "alice");
    const char *g_alice = th_identity(db, "globex", "alice");
    mn_actor A = TH_ACTOR(.tenant = "acme", .identity = NULL),
             Aa = TH_ACTOR(.tenant = "acme", .identity = "alice");
    mn_actor B = TH_ACTOR(.tenant = "globex", .identity = NULL),
             Ba = TH_ACTOR(.tenant = "globex", .identity = "alice"),
             Bid = TH_ACTOR(.tenant = gid, .identity = NULL);
    const char *secret = "acme secret launch plan for the rocket skates";
    mn_memory_input ain =
        TH_IN(.text = secret, .type = "plan", .metadata = "{\"k\":\"v\"}", .ttl_days = 1);
    const char *a1 = th_add_in(db, &Aa, &ain);
    const char *a2 = th_add(db, &Aa, NULL, "acme second memory about anvils");
    const char *a3 = th_add(db, &Aa, NULL, "acme soft-deleted memory about anvils");
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "acme secret launch plan for the rocket skates v2"};
    TH_OK(db, mn_memory_update(db, &Aa, a1, &ch, NULL));
    TH_OK(db, mn_memory_delete(db, &A, a3, MN_DELETE_SOFT));
    const char *b1 = th_add(db, &Ba, NULL, "globex memory about the doomsday device");
    ck_assert_str_ne(a_alice, g_alice);

    th_state before, after;
    th_state_get(db, &before);
    const mn_actor *actors[] = {&B, &Ba, &Bid};
    const char *a_ids[] = {a1, a2, a3};
    unsigned all = MN_WITH_DELETED | MN_WITH_EXPIRED | MN_WITH_EMBEDDING;
    for (size_t ai = 0; ai < 3; ai++) {
        const mn_actor *b = actors[ai];
        for (size_t k = 0; k < 3; k++) {
            const char *id = a_ids[k];
            mn_memory *m = NULL;
            mn_history *h = NULL;
            TH_RC(db, mn_memory_get(db, b, id, all, &m), MN_ENOTFOUND);
            ck_assert_ptr_null(m);
            TH_RC(db, mn_memory_update(db, b, id, &ch, &m), MN_ENOTFOUND);
            ck_assert_ptr_null(m);
            TH_RC(db, mn_memory_delete(db, b, id, MN_DELETE_SOFT), MN_ENOTFOUND);
            TH_RC(db, mn_memory_delete(db, b, id, MN_DELETE_HARD), MN_ENOTFOUND);
            TH_RC(db, mn_memory_restore(db, b, id), MN_ENOTFOUND);
            TH_RC(db, mn_memory_history(db, b, id, &h), MN_ENOTFOUND);
            ck_assert_ptr_null(h);
            const char *mixed[] = {b1, id};
            TH_RC(db, mn_memory_delete_many(db, b, mixed, 2, MN_DELETE_HARD), MN_ENOTFOUND);
        }
        /* list and search see only globex's memory, whatever the flags and the query */
        size_t n;
        const char **ids =
            th_list_ids(db, b, &(mn_filter){.version = MN_FILTER_VERSION, .flags = all}, 0, &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(ids[0], b1);
        ids = th_list_ids(
            db, b,
            &(mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"k\":\"v\"}", .flags = all},
            0, &n);
        ck_assert_uint_eq(n, 0);
        ids = th_list_ids(
            db, b, &(mn_filter){.version = MN_FILTER_VERSION, .type = "plan", .flags = all}, 0, &n);
        ck_assert_uint_eq(n, 0);
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION,
                                .query = secret,
                                .k = 1000,
                                .filter = &(mn_filter){.version = MN_FILTER_VERSION, .flags = all}};
        mn_memories *l = NULL;
        TH_OK(db, mn_memory_search(db, b, &so, &l));
        ck_assert_uint_eq(l->count, 1);
        ck_assert_str_eq(l->items[0]->id, b1);
        mn_memories_free(l);
        so =
            (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION,
                                .vector = th_embed(db, ch.text),
                                .dim = 384,
                                .k = 1000,
                                .filter = &(mn_filter){.version = MN_FILTER_VERSION, .flags = all}};
        TH_OK(db, mn_memory_search(db, b, &so, &l));
        ck_assert_uint_eq(l->count, 1);
        ck_assert_str_eq(l->items[0]->id, b1);
        mn_memories_free(l);
        /* A's identity by id is unknown in B. */
        mn_identity *i = NULL;
        TH_RC(db, mn_identity_get(db, b, a_alice, &i), MN_ENOTFOUND);
        TH_RC(db, mn_identity_deactivate(db, b, a_alice), MN_ENOTFOUND);
        TH_RC(db, mn_identity_delete(db, b, a_alice), MN_ENOTFOUND);
        mn_memory_input in = TH_IN(.identity = a_alice, .text = "planted");
        TH_RC(db, mn_memory_add(db, b, &in, NULL), MN_ENOTFOUND);
        mn_memory_input many[2] = {TH_IN(.identity = "alice", .text = "ok"),
                                   TH_IN(.identity = a_alice, .text = "planted")};
        size_t failed = 9;
        TH_RC(db, mn_memory_add_many(db, b, many, 2, NULL, &failed), MN_ENOTFOUND);
        ck_assert_uint_eq(failed, 1);
        mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION,
                              .filter =
                                  &(mn_filter){.version = MN_FILTER_VERSION, .identity = a_alice}};
        l = NULL;
        int rc = mn_memory_list(db, b, &lo, &l);
        ck_assert_msg(rc == MN_ENOTFOUND || (rc == MN_OK && l->count == 0),
                      "filter by another tenant's identity: rc %d", rc);
        mn_memories_free(l);
        size_t purged = 7;
        TH_OK(db, mn_memory_purge_expired(db, b, &purged));
        ck_assert_uint_eq(purged, 0);
        /* B's "alice" is B's. */
        TH_OK(db, mn_identity_get(db, b, "alice", &i));
        ck_assert_str_eq(i->id, g_alice);
        mn_identity_free(i);
        mn_identities *il = NULL;
        TH_OK(db, mn_identity_list(db, b, &il));
        ck_assert_uint_eq(il->count, 1);
        ck_assert_str_eq(il->items[0]->id, g_alice);
        mn_identities_free(il);
    }
    /* An actor of B naming A's identity by id is unknown. */
    mn_actor mixed_actor = TH_ACTOR(.tenant = "globex", .identity = a_alice);
    mn_memory *m = NULL;
    TH_RC(db, mn_memory_get(db, &mixed_actor, b1, 0, &m), MN_ENOTFOUND);
    mn_memory_input in = TH_IN(.text = "x");
    TH_RC(db, mn_memory_add(db, &mixed_actor, &in, NULL), MN_ENOTFOUND);
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "tenant B's attempts on tenant A");

    /* And the other way round: A does not see B. */
    TH_RC(db, mn_memory_get(db, &A, b1, all, &m), MN_ENOTFOUND);
    size_t n;
    th_list_ids(db, &A, &(mn_filter){.version = MN_FILTER_VERSION, .flags = MN_WITH_DELETED}, 0,
                &n);
    ck_assert_uint_eq(n, 3);
    mn_close(db);
}
END_TEST

/* ==== the suite ============================================================================== */

/* ---- The change feed (mn_feed_read) ---- */

/* One read of the feed after after_seq: rc checked against want. */
static mn_feed_page *feed_page(struct world *w, const mn_actor *a, int64_t after_seq, int limit,
                               unsigned flags)
{
    mn_feed_query q = {.version = MN_FEED_QUERY_VERSION, .after_seq = after_seq, .limit = limit,
                       .flags = flags};
    mn_feed_page *p = NULL;
    TH_OK(w->db, mn_feed_read(w->db, a, &q, &p));
    ck_assert_ptr_nonnull(p);
    for (size_t i = 1; i < p->count; i++)
        ck_assert_int_ge(p->items[i]->seq, p->items[i - 1]->seq);
    return p;
}

/* Every entry after after_seq, page by page ("id:kind:version" each, in order); *next the
 * last next_seq, *pages the pages read. */
static const char *feed_all(struct world *w, const mn_actor *a, int64_t after_seq, int limit,
                            unsigned flags, int64_t *next, int *pages)
{
    const char *s = "";
    int n = 0, more;
    do {
        mn_feed_page *p = feed_page(w, a, after_seq, limit, flags);
        for (size_t i = 0; i < p->count; i++) {
            const mn_feed_entry *e = p->items[i];
            ck_assert_int_gt(e->seq, after_seq);
            s = th_fmt("%s %s:%s:%lld", s, e->memory_id, mn_feed_kind_name(e->kind),
                       (long long)e->version);
        }
        ck_assert_int_ge(p->next_seq, after_seq);
        after_seq = p->next_seq;
        more = p->more;
        mn_feed_page_free(p);
        n++;
        ck_assert_int_lt(n, 1000);
    } while (more);
    if (next)
        *next = after_seq;
    if (pages)
        *pages = n;
    return s;
}

static int64_t seq_of(struct world *w, const char *id)
{
    mn_memory *m = NULL;
    TH_OK(w->db, mn_memory_get(w->db, &w->sys, id, MN_WITH_DELETED, &m));
    int64_t seq = m->seq;
    mn_memory_free(m);
    return seq;
}

/* Each kind of change, reported once per memory with its latest state (a state feed): owner,
 * type, session and version, purged memories included; the page's next_seq goes on from the
 * last change, and nothing follows it. */
START_TEST(feed_kinds_and_compaction)
{
    struct world w;
    world_open(&w, _i);
    mn_feed_page *p = feed_page(&w, &w.sys, 0, 0, 0);
    ck_assert_uint_eq(p->count, 0);
    ck_assert_int_eq(p->more, 0);
    int64_t start = p->next_seq;
    mn_feed_page_free(p);

    mn_memory_input in = TH_IN(.text = "created and left", .type = "note", .session = "chat-1");
    const char *created = th_add_in(w.db, &w.as_alice, &in);
    const char *updated = th_add(w.db, &w.as_alice, NULL, "updated twice");
    const char *deleted = th_add(w.db, &w.as_alice, NULL, "soft-deleted");
    const char *restored = th_add(w.db, &w.as_alice, NULL, "deleted then restored");
    const char *purged = th_add(w.db, &w.as_alice, NULL, "deleted for good");
    for (int i = 0; i < 2; i++) {
        mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                                .set = MN_MEMORY_SET_TEXT, .text = th_fmt("updated %d", i)};
        TH_OK(w.db, mn_memory_update(w.db, &w.as_alice, updated, &ch, NULL));
    }
    TH_OK(w.db, mn_memory_delete(w.db, &w.as_alice, deleted, MN_DELETE_SOFT));
    TH_OK(w.db, mn_memory_delete(w.db, &w.as_alice, restored, MN_DELETE_SOFT));
    TH_OK(w.db, mn_memory_restore(w.db, &w.as_alice, restored));
    TH_OK(w.db, mn_memory_delete(w.db, &w.as_alice, purged, MN_DELETE_HARD));

    int64_t next;
    const char *got = feed_all(&w, &w.sys, start, 0, 0, &next, NULL);
    const char *want = th_fmt(" %s:created:1 %s:updated:3 %s:deleted:1 %s:restored:1 %s:purged:1",
                              created, updated, deleted, restored, purged);
    ck_assert_str_eq(got, want);
    p = feed_page(&w, &w.sys, start, 0, 0);
    ck_assert_uint_eq(p->count, 5);
    ck_assert_int_eq(p->next_seq, next);
    ck_assert_int_eq(p->more, 0);
    for (size_t i = 0; i < p->count; i++) {
        const mn_feed_entry *e = p->items[i];
        ck_assert_str_eq(e->identity_id, w.alice);
        if (e->kind != MN_FEED_PURGED)
            ck_assert_int_eq(e->seq, seq_of(&w, e->memory_id));
    }
    ck_assert_str_eq(p->items[0]->type, "note");
    ck_assert_str_eq(p->items[0]->session, "chat-1");
    ck_assert_ptr_null(p->items[1]->session);
    ck_assert_str_eq(p->items[4]->type, "fact");
    ck_assert_int_eq(p->items[4]->seq, next);
    mn_feed_page_free(p);
    ck_assert_str_eq(feed_all(&w, &w.sys, next, 0, 0, NULL, NULL), "");

    /* After next: a memory updated again then deleted for good is one purged entry, a
     * restored one updated is updated, a new one updated stays one entry. */
    TH_OK(w.db, mn_memory_delete(w.db, &w.as_alice, updated, MN_DELETE_HARD));
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT,
                            .text = "restored, then changed"};
    TH_OK(w.db, mn_memory_update(w.db, &w.as_alice, restored, &ch, NULL));
    const char *fresh = th_add(w.db, &w.as_alice, NULL, "new after next");
    ch.text = "new, changed";
    TH_OK(w.db, mn_memory_update(w.db, &w.as_alice, fresh, &ch, NULL));
    ck_assert_str_eq(feed_all(&w, &w.sys, next, 0, 0, NULL, NULL),
                     th_fmt(" %s:purged:3 %s:updated:2 %s:updated:2", updated, restored, fresh));
    ck_assert_str_eq(mn_feed_kind_name(MN_FEED_RESTORED), "restored");
    ck_assert_ptr_null(mn_feed_kind_name(0));
    ck_assert_ptr_null(mn_feed_kind_name(6));
    world_close(&w);
}
END_TEST

/* Pages of limit entries in seq order, more set while changes follow; one change that
 * purges many memories at one seq (an identity's deletion) is never split across pages. */
START_TEST(feed_paging)
{
    struct world w;
    world_open(&w, _i);
    const char *want = "";
    for (int i = 0; i < 25; i++) {
        const char *id = th_add(w.db, &w.as_alice, NULL, th_fmt("page memory %d", i));
        want = th_fmt("%s %s:created:1", want, id);
    }
    int pages;
    int64_t next;
    ck_assert_str_eq(feed_all(&w, &w.as_alice, 0, 10, 0, &next, &pages), want);
    ck_assert_int_eq(pages, 3);
    mn_feed_page *p = feed_page(&w, &w.as_alice, 0, 10, 0);
    ck_assert_uint_eq(p->count, 10);
    ck_assert_int_eq(p->more, 1);
    ck_assert_int_eq(p->next_seq, p->items[9]->seq);
    mn_feed_page_free(p);

    for (int i = 0; i < 5; i++)
        th_add(w.db, &w.as_bob, NULL, th_fmt("bob memory %d", i));
    p = feed_page(&w, &w.sys, next, 0, 0);
    int64_t before = p->next_seq;
    ck_assert_uint_eq(p->count, 5);
    mn_feed_page_free(p);
    TH_OK(w.db, mn_identity_delete(w.db, &w.sys, "bob"));
    p = feed_page(&w, &w.sys, before, 2, 0);
    ck_assert_uint_eq(p->count, 5);
    for (size_t i = 0; i < p->count; i++) {
        ck_assert_int_eq(p->items[i]->kind, MN_FEED_PURGED);
        ck_assert_int_eq(p->items[i]->seq, p->items[0]->seq);
        ck_assert_str_eq(p->items[i]->identity_id, w.bob);
    }
    before = p->next_seq;
    mn_feed_page_free(p);
    ck_assert_str_eq(feed_all(&w, &w.sys, before, 2, 0, NULL, NULL), "");
    world_close(&w);
}
END_TEST

/* An identity sees the changes to the memories it may read: its own by default (pages
 * filled from them though others' are newer), every one it may read with MN_ALL_READABLE;
 * pages are filled past the changes a policy hides, purges included. */
START_TEST(feed_policy_filtered)
{
    struct world w;
    world_open(&w, _i);
    deny_reading_secrets(&w);
    const char *facts[2], *secret = NULL;
    for (int f = 0; f < 2; f++) {
        mn_memory_input in = TH_IN(.text = th_fmt("fact %d", f), .type = "fact");
        facts[f] = th_add_in(w.db, &w.as_alice, &in);
        for (int s = 0; s < 30; s++) {
            in = (mn_memory_input)TH_IN(.text = th_fmt("secret %d %d", f, s), .type = "secret");
            secret = th_add_in(w.db, &w.as_alice, &in);
            th_add(w.db, &w.as_bob, NULL, th_fmt("bob's %d %d", f, s));
        }
    }
    TH_OK(w.db, mn_memory_delete(w.db, &w.as_alice, facts[0], MN_DELETE_HARD));
    TH_OK(w.db, mn_memory_delete(w.db, &w.sys, secret, MN_DELETE_HARD));
    /* Limit 1: the purged fact, then the other, each page filled past 30 secrets and bob's. */
    mn_feed_page *p = feed_page(&w, &w.as_alice, 0, 1, 0);
    ck_assert_uint_eq(p->count, 1);
    ck_assert_str_eq(p->items[0]->memory_id, facts[1]);
    ck_assert_int_eq(p->more, 1);
    int64_t next = p->next_seq;
    mn_feed_page_free(p);
    ck_assert_str_eq(feed_all(&w, &w.as_alice, next, 1, 0, NULL, NULL),
                     th_fmt(" %s:purged:1", facts[0]));
    /* Every memory alice may read: bob's too, no secret. */
    const char *all = feed_all(&w, &w.as_alice, 0, 7, MN_ALL_READABLE, NULL, NULL);
    ck_assert_ptr_null(strstr(all, secret));
    ck_assert_ptr_nonnull(strstr(all, facts[1]));
    size_t n = 0;
    for (const char *s = all; (s = strchr(s, ' ')) != NULL; s++)
        n++;
    ck_assert_uint_eq(n, 62);
    /* The system actor sees everything; bob his own. */
    const char *everything = feed_all(&w, &w.sys, 0, 0, 0, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(everything, th_fmt("%s:purged:1", secret)));
    const char *bobs = feed_all(&w, &w.as_bob, 0, 0, 0, NULL, NULL);
    ck_assert_ptr_null(strstr(bobs, facts[1]));
    world_close(&w);
}
END_TEST

/* A tenant's feed holds its changes alone, though the seq is the store's. */
START_TEST(feed_tenant_isolation)
{
    struct world w;
    world_open(&w, _i);
    th_tenant(w.db, "globex");
    th_identity(w.db, "globex", "alice");
    mn_actor g = TH_ACTOR(.tenant = "globex", .identity = "alice");
    const char *a = th_add(w.db, &w.as_alice, NULL, "acme's");
    const char *b = th_add(w.db, &g, NULL, "globex's");
    TH_OK(w.db, mn_memory_delete(w.db, &g, b, MN_DELETE_HARD));
    ck_assert_str_eq(feed_all(&w, &w.sys, 0, 0, MN_ALL_READABLE, NULL, NULL),
                     th_fmt(" %s:created:1", a));
    mn_actor gsys = TH_ACTOR(.tenant = "globex", .identity = NULL);
    ck_assert_str_eq(feed_all(&w, &gsys, 0, 0, 0, NULL, NULL),
                     th_fmt(" %s:purged:1", b));
    world_close(&w);
}
END_TEST

/* Once maintenance pruned the records of purges a consumer had not read, reading on from its
 * seq is MN_ERANGE telling it to resync; from 0, or from a seq at the horizon, it goes on. */
START_TEST(feed_expired_horizon)
{
    struct world w;
    world_open(&w, _i);
    const char *gone = th_add(w.db, &w.as_alice, NULL, "purged before the consumer read on");
    const char *kept = th_add(w.db, &w.as_alice, NULL, "kept");
    mn_feed_page *p = feed_page(&w, &w.as_alice, 0, 0, 0);
    int64_t behind = p->next_seq;
    mn_feed_page_free(p);
    TH_OK(w.db, mn_memory_delete(w.db, &w.as_alice, gone, MN_DELETE_HARD));
    /* Until the prune the purge is there to read. */
    ck_assert_str_eq(feed_all(&w, &w.as_alice, behind, 0, 0, NULL, NULL),
                     th_fmt(" %s:purged:1", gone));
    /* The index applies the delete (searches make it catch up, in the background), and
     * maintenance prunes what it applied a run ago: polled until it has (5 s at most). */
    ck_assert_uint_eq(th_count_memories(w.db, &w.sys, 0), 1);
    mn_feed_query q = {.version = MN_FEED_QUERY_VERSION, .after_seq = behind};
    int rc = MN_OK;
    for (int tries = 0; rc == MN_OK && tries < 500; tries++) {
        mn_search_options so = MN_SEARCH_OPTIONS_INIT;
        so.query = "kept";
        mn_memories *l = NULL;
        TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
        mn_memories_free(l);
        TH_OK(w.db, mn_maintenance_run(w.db, MN_MAINT_FEED | MN_MAINT_FORCE, NULL));
        p = NULL;
        rc = mn_feed_read(w.db, &w.as_alice, &q, &p);
        mn_feed_page_free(p);
        if (rc == MN_OK)
            usleep(10000);
    }
    ck_assert_int_eq(rc, MN_ERANGE);
    p = NULL;
    TH_RC(w.db, mn_feed_read(w.db, &w.as_alice, &q, &p), MN_ERANGE);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(mn_errmsg(w.db), "resync") && strstr(mn_errmsg(w.db), "MN_MAINT_FEED"),
                  "%s", mn_errmsg(w.db));
    int64_t next;
    ck_assert_str_eq(feed_all(&w, &w.as_alice, 0, 0, 0, &next, NULL),
                     th_fmt(" %s:created:1", kept));
    ck_assert_str_eq(feed_all(&w, &w.as_alice, next, 0, 0, NULL, NULL), "");
    world_close(&w);
}
END_TEST

/* Every purge is reported, though the store may hand a purged memory's key to the next one
 * added (SQLite reuses the highest): the later purge does not replace the earlier's record. */
START_TEST(feed_purges_each_memory)
{
    struct world w;
    world_open(&w, _i);
    mn_feed_page *p = feed_page(&w, &w.sys, 0, 0, 0);
    int64_t start = p->next_seq;
    mn_feed_page_free(p);
    const char *want = "";
    for (int i = 0; i < 3; i++) {
        const char *id = th_add(w.db, &w.as_alice, NULL, th_fmt("newest, then purged %d", i));
        TH_OK(w.db, mn_memory_delete(w.db, &w.as_alice, id, MN_DELETE_HARD));
        want = th_fmt("%s %s:purged:1", want, id);
    }
    ck_assert_str_eq(feed_all(&w, &w.sys, start, 0, 0, NULL, NULL), want);
    world_close(&w);
}
END_TEST

/* Bad queries are MN_EINVAL naming what is wrong. */
START_TEST(feed_bad_input)
{
    struct world w;
    world_open(&w, _i);
    th_add(w.db, &w.as_alice, NULL, "one");
    mn_feed_page *p = NULL;
    struct {
        mn_feed_query q;
        const char *says;
    } bad[] = {
        {{.version = MN_FEED_QUERY_VERSION, .limit = -1}, "limit"},
        {{.version = MN_FEED_QUERY_VERSION, .limit = 1001}, "limit"},
        {{.version = MN_FEED_QUERY_VERSION, .flags = MN_WITH_DELETED}, "flags"},
        {{.version = MN_FEED_QUERY_VERSION, .after_seq = -1}, "after_seq"},
        {{.version = MN_FEED_QUERY_VERSION, .after_seq = INT64_MAX}, "past the store"},
        {{.version = 0}, "mn_feed_query"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        TH_RC(w.db, mn_feed_read(w.db, &w.as_alice, &bad[i].q, &p), MN_EINVAL);
        ck_assert_ptr_null(p);
        ck_assert_msg(strstr(mn_errmsg(w.db), bad[i].says), "%zu: %s", i, mn_errmsg(w.db));
    }
    TH_RC(w.db, mn_feed_read(w.db, &w.as_alice, NULL, NULL), MN_EINVAL);
    mn_actor nobody = TH_ACTOR(.tenant = "acme", .identity = "nobody");
    ck_assert_int_ne(mn_feed_read(w.db, &nobody, NULL, &p), MN_OK);
    ck_assert_ptr_null(p);
    /* NULL query: from 0, own memories. */
    TH_OK(w.db, mn_feed_read(w.db, &w.as_alice, NULL, &p));
    ck_assert_uint_eq(p->count, 1);
    mn_feed_page_free(p);
    world_close(&w);
}
END_TEST

Suite *mni_conformance_suite(const char *name, const char *(*make_url)(void), int every_mode)
{
    return mni_conformance_suite_part(name, make_url, every_mode, 0, 1);
}

Suite *mni_conformance_suite_part(const char *name, const char *(*make_url)(void), int every_mode,
                                  int part, int parts)
{
    if (nbackends >= MAX_BACKENDS)
        abort();
    int slot = nbackends++;
    backends[slot].name = name;
    backends[slot].make_url = make_url;

    /* No Check assertion may run outside a test, so no th_* helper here. */
    static char names[MAX_BACKENDS][64];
    snprintf(names[slot], sizeof names[slot], "conformance-%s", name);
    Suite *s = suite_create(names[slot]);
    struct {
        const char *tc;
        const TTest *t;
        int searches; /* besides the "search" case's */
    } tests[] = {
        {"tenants", tenant_create_get_list, 0},
        {"tenants", tenant_duplicate, 0},
        {"tenants", tenant_bad_names, 0},
        {"identities", identity_create_get_list, 0},
        {"identities", identity_duplicate_external_id, 0},
        {"identities", identity_deactivate, 1},
        {"identities", identity_delete_cascades, 1},
        {"memories", memory_add_defaults, 0},
        {"memories", memory_add_system_actor_needs_owner, 0},
        {"memories", memory_add_all_fields, 0},
        {"memories", memory_add_many, 1},
        {"memories", memory_add_many_all_or_none, 0},
        {"dedup", memory_dedup_exact, 0},
        {"dedup", memory_upsert_key, 0},
        {"dedup", memory_upsert_id, 0},
        {"dedup", memory_dedup_batch, 0},
        {"dedup", memory_dedup_config, 0},
        {"dedup", memory_upsert_race, 0},
        {"dedup", memory_dedup_race, 0},
        {"memories", memory_list_newest_first, 0},
        {"memories", memory_list_pagination, 0},
        {"memories", memory_list_cursor_stable, 0},
        {"memories", memory_filters, 0},
        {"memories", memory_json_kept_as_written, 0},
        {"memories", memory_filter_pagination, 0},
        {"memories", memory_update, 1},
        {"memories", memory_caller_embedding, 1},
        {"memories", memory_soft_delete_restore, 1},
        {"memories", memory_hard_delete, 1},
        {"memories", memory_delete_many, 0},
        {"memories", memory_ttl_not_expired, 1},
        {"sessions", memory_filter_lists_ranges, 1},
        {"sessions", memory_filter_bad_input, 0},
        {"sessions", memory_delete_where, 0},
        {"sessions", memory_trim, 1},
        {"sessions", memory_count_as_list, 0},
        {"sessions", memory_ttl_ms_expires_at, 1},
        {"memories", memory_seq_increases, 0},
        {"memories", memory_digest_current, 0},
        {"search", search_text, 0},
        {"search", search_vector, 0},
        {"search", search_k_and_exactness, 0},
        {"search", search_min_similarity, 0},
        {"search", search_featureless_text, 0},
        {"search", search_floor_default, 0},
        {"search", search_ranking, 0},
        {"search", search_paging, 0},
        {"search", search_many_as_single, 0},
        {"memories", memory_list_fills_after_policy, 0},
        {"memories", memory_scoped_to_actor, 1},
        {"store", persistence, 1},
        {"store", embed_dim_fixed_at_creation, 0},
        {"store", wide_vectors, 1},
        {"store", embed_api, 0},
        {"store", two_handles_one_store, 1},
        {"isolation", tenant_isolation, 1},
        {"isolation", lookalike_names, 0},
        {"feed", feed_kinds_and_compaction, 0},
        {"feed", feed_paging, 0},
        {"feed", feed_policy_filtered, 0},
        {"feed", feed_tenant_isolation, 0},
        {"feed", feed_expired_horizon, 0},
        {"feed", feed_bad_input, 0},
        {"feed", feed_purges_each_memory, 0},
    };
    TCase *tc = NULL;
    const char *cur = NULL;
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
        if (i % (size_t)parts != (size_t)part)
            continue;
        if (!cur || strcmp(cur, tests[i].tc) != 0) {
            cur = tests[i].tc;
            tc = tcase_create(cur);
            tcase_set_timeout(tc, 120);
            suite_add_tcase(s, tc);
        }
        /* A test that searches runs in each mode; the others once, in the default. */
        int searches = every_mode && (strcmp(cur, "search") == 0 || tests[i].searches);
        for (int mode = searches ? MN_SEARCH_VECTOR : MN_SEARCH_AUTO;
             mode <= (searches ? MN_SEARCH_HYBRID : MN_SEARCH_AUTO); mode++)
            _tcase_add_test(tc, tests[i].t, 0, 0, slot + MAX_BACKENDS * mode,
                            slot + MAX_BACKENDS * mode + 1);
    }
    return s;
}
