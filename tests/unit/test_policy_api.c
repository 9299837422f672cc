/*
 * Policies through the public API, on a real SQLite file: the default policies of a
 * new tenant, enforcement on every memory, identity and policy call, every condition type that a
 * call can reach (resource_conditions, ip_restrictions with mn_actor.context, identity_claims,
 * time_restrictions by date, "when"), the decision cache and its invalidation (also by a second
 * handle on the same file, as another process would), policy management rights, bad policy
 * input, mn_policy_test and mn_jsonlogic_apply.
 *
 * A denied call is checked three ways, as in test_bad_input.c: the code (MN_EDENIED), the
 * message (mn_errmsg names the deciding policy or says that none allowed it), and that nothing
 * changed: the store fingerprint (tenants, identities, memories with deleted and expired ones,
 * history) and a fingerprint of every tenant's policies are the same before and after.
 *
 * Actions the calls ask for (lib/api): memory add = create, get = read, list = list then read
 * per memory, search = search then read per memory, update and restore = update, delete and
 * delete_many = delete, purge_expired = delete without a memory, history = read; identity
 * create/get/list/deactivate/delete = create/read/list/update/delete; policy calls =
 * create/read/list/update/delete on "policy". The system actor (identity NULL) is never asked.
 */
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manushya.h"
#include "support/harness.h"

static const char *UNKNOWN_ID = "01890a5d-ac96-774b-bcce-b302099a8057";

/* ==== fingerprints and assertions ============================================================= */

static uint64_t fnv(uint64_t h, const char *s)
{
    if (!s)
        s = "\x01(null)";
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

static uint64_t fnv_i64(uint64_t h, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return fnv(h, buf);
}

/* Every policy of every tenant (read as each tenant's system actor). */
static uint64_t policies_fp(mn_db *db, size_t *count)
{
    uint64_t h = 1469598103934665603ull;
    size_t n = 0;
    mn_tenants *tl = NULL;
    TH_OK(db, mn_tenant_list(db, &tl));
    for (size_t t = 0; t < tl->count; t++) {
        mn_actor sys = TH_ACTOR(.tenant = tl->items[t]->id);
        mn_policies *pl = NULL;
        TH_OK(db, mn_policy_list(db, &sys, &pl));
        n += pl->count;
        for (size_t i = 0; i < pl->count; i++) {
            const mn_policy *p = pl->items[i];
            h = fnv(h, p->id);
            h = fnv(h, p->tenant_id);
            h = fnv(h, p->role);
            h = fnv(h, p->rule);
            h = fnv(h, p->description);
            h = fnv_i64(h, p->priority);
            h = fnv_i64(h, p->active);
            h = fnv_i64(h, p->updated_at);
        }
        mn_policies_free(pl);
    }
    mn_tenants_free(tl);
    if (count)
        *count = n;
    return h;
}

/* call returns want (not MN_OK), mn_errcode agrees, the message names one of words, and neither
 * the store nor any policy changed. */
#define FAILS(db, call, want, words)                                                           \
    do {                                                                                       \
        th_state b_, a_;                                                                       \
        th_state_get((db), &b_);                                                               \
        uint64_t pb_ = policies_fp((db), NULL);                                                \
        int rc_ = (call);                                                                      \
        ck_assert_msg(rc_ == (want), "%s: rc %d (%s), want %s: %s", #call, rc_,                \
                      mn_strerror(rc_), mn_strerror(want), mn_errmsg(db));                     \
        ck_assert_msg(mn_errcode(db) == rc_, "%s: mn_errcode %d, rc %d", #call,                \
                      mn_errcode(db), rc_);                                                    \
        ck_assert_msg(th_has_word(mn_errmsg(db), (words)),                                     \
                      "%s: message \"%s\" names none of %s", #call, mn_errmsg(db), (words));   \
        th_state_get((db), &a_);                                                               \
        th_assert_state_eq(&b_, &a_, #call);                                                   \
        ck_assert_msg(policies_fp((db), NULL) == pb_, "%s: the policies changed", #call);      \
    } while (0)
#define DENIED(db, call, words) FAILS(db, call, MN_EDENIED, words)
#define INVALID(db, call, words) FAILS(db, call, MN_EINVAL, words)

/* The words of a denial: no allow applied, a deny applied, or (for a call on no resource in
 * particular) the allow applies only to some resources. */
#define NOT_ALLOWED "no policy allows|denied by policy|only covers some"

/* ==== a tenant with agents, an admin and memories ============================================= */

struct world {
    mn_db *db;
    const char *path;
    const char *tenant;                  /* acme's id */
    const char *alice, *bob, *root;      /* identity ids: agents alice and bob, admin root */
    mn_actor sys, as_alice, as_bob, as_root;
    const char *a1, *a2;                 /* alice's */
    const char *b1, *b2, *b3;            /* bob's: b1 updated (has history), b3 soft-deleted */
    const char *g1;                      /* globex's, owned by carl */
};

/* An identity with this role (NULL: the default, "agent"). th_identity is not used: it makes
 * admins, so that the older suites keep working under the default policies. */
static const char *make_identity(mn_db *db, const char *tenant, const char *external_id,
                                 const char *role, const char *claims)
{
    mn_actor sys = TH_ACTOR(.tenant = tenant);
    mn_identity *i = NULL;
    TH_OK(db, mn_identity_create(db, &sys, external_id, role, claims, &i));
    const char *id = th_fmt("%s", i->id);
    mn_identity_free(i);
    return id;
}

static const char *add_typed(mn_db *db, const mn_actor *a, const char *owner, const char *text,
                             const char *type, const char *metadata)
{
    mn_memory_input in = TH_IN(.identity = owner, .text = text, .type = type, .metadata = metadata);
    return th_add_in(db, a, &in);
}

static void world_open(struct world *w)
{
    memset(w, 0, sizeof *w);
    w->path = th_tmppath("policy.db");
    w->db = th_open(w->path, NULL);
    mn_db *db = w->db;
    w->tenant = th_tenant(db, "acme");
    th_tenant(db, "globex");
    w->alice = make_identity(db, "acme", "alice", NULL, NULL);
    w->bob = make_identity(db, "acme", "bob", NULL, NULL);
    w->root = make_identity(db, "acme", "root", "admin", NULL);
    make_identity(db, "globex", "carl", NULL, NULL);
    w->sys = (mn_actor)TH_ACTOR(.tenant = "acme");
    w->as_alice = (mn_actor)TH_ACTOR(.tenant = "acme", .identity = "alice");
    w->as_bob = (mn_actor)TH_ACTOR(.tenant = "acme", .identity = "bob");
    w->as_root = (mn_actor)TH_ACTOR(.tenant = "acme", .identity = "root");
    w->a1 = add_typed(db, &w->as_alice, NULL, "alice likes green tea", "fact",
                      "{\"project\":\"apollo\"}");
    w->a2 = add_typed(db, &w->as_alice, NULL, "alice zebra notes", "note", NULL);
    w->b1 = add_typed(db, &w->as_bob, NULL, "zebra migration patterns on the savanna", "fact",
                      "{\"project\":\"apollo\"}");
    w->b2 = add_typed(db, &w->as_bob, NULL, "bob secret zebra plan", "secret", NULL);
    w->b3 = add_typed(db, &w->as_bob, NULL, "bob deleted zebra migration memory", "fact", NULL);
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "zebra migration patterns on the savanna, updated"};
    TH_OK(db, mn_memory_update(db, &w->sys, w->b1, &ch, NULL));
    TH_OK(db, mn_memory_delete(db, &w->sys, w->b3, MN_DELETE_SOFT));
    mn_actor carl = TH_ACTOR(.tenant = "globex", .identity = "carl");
    w->g1 = th_add(db, &carl, NULL, "globex zebra migration memory");
}

/* Adds a policy as the actor; returns its id. */
static const char *policy_add(mn_db *db, const mn_actor *a, const char *role, const char *rule,
                              int priority)
{
    mn_policy_input in = {
        .version = MN_POLICY_INPUT_VERSION, .role = role, .rule = rule, .priority = priority};
    mn_policy *p = NULL;
    TH_OK(db, mn_policy_add(db, a, &in, &p));
    ck_assert_ptr_nonnull(p);
    ck_assert(th_is_uuid7(p->id));
    ck_assert_str_eq(p->role, role);
    ck_assert(th_json_eq(p->rule, rule));
    ck_assert_int_eq(p->priority, priority);
    ck_assert_int_eq(p->active, 1);
    const char *id = th_fmt("%s", p->id);
    mn_policy_free(p);
    return id;
}

static void policy_set_active(mn_db *db, const mn_actor *a, const char *id, int active)
{
    mn_policy_changes ch = {
        .version = MN_POLICY_CHANGES_VERSION, .set = MN_POLICY_SET_ACTIVE, .active = active};
    mn_policy *p = NULL;
    TH_OK(db, mn_policy_update(db, a, id, &ch, &p));
    ck_assert_int_eq(p->active, active);
    mn_policy_free(p);
}

/* The verdict of mn_policy_test: allowed or not; *policy_id and *reason (kept) when asked. */
static int verdict(mn_db *db, const mn_actor *a, const char *action, const char *resource,
                   const char *data, const char **policy_id, const char **reason)
{
    mn_decision *d = NULL;
    TH_OK(db, mn_policy_test(db, a, action, resource, data, &d));
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(d->reason);
    ck_assert(d->allowed == 0 || d->allowed == 1);
    int allowed = d->allowed;
    if (policy_id)
        *policy_id = d->policy_id ? th_fmt("%s", d->policy_id) : NULL;
    if (reason)
        *reason = th_fmt("%s", d->reason);
    mn_decision_free(d);
    return allowed;
}

/* The JSON a policy sees of a memory (the fields mn_policy_test may pass). */
static const char *memory_data(const char *owner, const char *type, const char *metadata)
{
    return th_fmt("{\"identity_id\":\"%s\",\"type\":\"%s\",\"metadata\":%s}", owner, type,
                  metadata ? metadata : "{}");
}

/* mn_memory_get's code, the memory freed. */
static int get_rc(mn_db *db, const mn_actor *a, const char *id)
{
    mn_memory *m = NULL;
    int rc = mn_memory_get(db, a, id, MN_WITH_DELETED, &m);
    ck_assert(rc == MN_OK ? m != NULL : m == NULL);
    mn_memory_free(m);
    return rc;
}

/* filter (NULL: none) over every memory the actor may read, not only its own: what a policy
 * lets it read is the question in this file. Kept until the test ends. */
static const mn_filter *readable(const mn_filter *filter)
{
    mn_filter *f = th_keep(malloc(sizeof *f));
    *f = filter ? *filter : (mn_filter)MN_FILTER_INIT;
    f->flags |= MN_ALL_READABLE;
    return f;
}

/* Ids of a search (kept), best first, over every memory a may read. */
static const char **search_ids(mn_db *db, const mn_actor *a, const char *query, int k,
                               const mn_filter *filter, size_t *n)
{
    /* No relevance floor: what a policy hides is the question, not what is relevant. */
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = query, .k = k,
                            .min_similarity = MN_SEARCH_OFF, .filter = readable(filter)};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, a, &so, &l));
    ck_assert_ptr_nonnull(l);
    const char **ids = th_keep(calloc(l->count + 1, sizeof *ids));
    for (size_t i = 0; i < l->count; i++)
        ids[i] = th_fmt("%s", l->items[i]->id);
    *n = l->count;
    mn_memories_free(l);
    return ids;
}

static const char **list_ids(mn_db *db, const mn_actor *a, const mn_filter *f, int limit,
                             size_t *n)
{
    return th_list_ids(db, a, readable(f), limit, n);
}

/* Asserts that none of the n ids is in the list. */
static void assert_none_of(const char **got, size_t n, const char *const *ids, size_t m,
                           const char *what)
{
    for (size_t i = 0; i < m; i++)
        ck_assert_msg(!th_ids_contain(got, n, ids[i]), "%s returned forbidden memory %s", what,
                      ids[i]);
}

/* Sets a memory's expiry in the past, behind the library's back (there is no API to age it). */
static void expire_now(const char *path, const char *id)
{
    sqlite3 *s = NULL;
    ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    char *sql = sqlite3_mprintf("UPDATE memories SET expires_at = 1 WHERE id = %Q", id);
    char *err = NULL;
    int rc = sqlite3_exec(s, sql, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "ageing %s: %s", id, err ? err : "?");
    ck_assert_int_eq(sqlite3_changes(s), 1);
    sqlite3_free(sql);
    sqlite3_close(s);
}

/* ==== default policies ======================================================================== */

START_TEST(new_tenant_has_default_policies)
{
    mn_db *db = th_open_fresh();
    const char *t1 = th_tenant(db, "acme"), *t2 = th_tenant(db, "globex");
    mn_actor sys = TH_ACTOR(.tenant = "acme"), sys2 = TH_ACTOR(.tenant = "globex");
    mn_policies *l = NULL, *l2 = NULL;
    TH_OK(db, mn_policy_list(db, &sys, &l));
    TH_OK(db, mn_policy_list(db, &sys2, &l2));
    /* Documented in lib/policy/policy.h: admin allows everything (100); agent may manage its
     * own memories and read its own identity (50 each). */
    ck_assert_uint_eq(l->count, 3);
    ck_assert_uint_eq(l2->count, 3);
    int admins = 0, agents = 0;
    for (size_t i = 0; i < l->count; i++) {
        const mn_policy *p = l->items[i];
        ck_assert(th_is_uuid7(p->id));
        ck_assert_str_eq(p->tenant_id, t1);
        ck_assert_int_eq(p->active, 1);
        ck_assert_ptr_nonnull(p->description);
        ck_assert_ptr_nonnull(p->rule);
        ck_assert(p->created_at > 0 && p->updated_at >= p->created_at);
        if (i > 0)
            ck_assert_msg(l->items[i - 1]->priority >= p->priority, "not highest priority first");
        if (strcmp(p->role, "admin") == 0) {
            admins++;
            ck_assert_int_eq(p->priority, 100);
            ck_assert(th_json_eq(p->rule, "{\"effect\":\"allow\",\"actions\":\"*\","
                                          "\"resource\":\"*\"}"));
        } else {
            ck_assert_str_eq(p->role, "agent");
            agents++;
            ck_assert_int_eq(p->priority, 50);
            ck_assert_str_eq(th_json_str(p->rule, "effect"), "allow");
            ck_assert_ptr_nonnull(th_json_obj(p->rule, "when"));
        }
        /* Each tenant has its own copies. */
        for (size_t k = 0; k < l2->count; k++) {
            ck_assert_str_ne(l2->items[k]->id, p->id);
            ck_assert_str_eq(l2->items[k]->tenant_id, t2);
        }
    }
    ck_assert_int_eq(admins, 1);
    ck_assert_int_eq(agents, 2);
    ck_assert_str_eq(l->items[0]->role, "admin");

    /* Each can be read one by one, and is as listed. */
    for (size_t i = 0; i < l->count; i++) {
        mn_policy *p = NULL;
        TH_OK(db, mn_policy_get(db, &sys, l->items[i]->id, &p));
        ck_assert_str_eq(p->rule, l->items[i]->rule);
        mn_policy_free(p);
        /* Tenants never see each other's policies. */
        TH_RC(db, mn_policy_get(db, &sys2, l->items[i]->id, &p), MN_ENOTFOUND);
        ck_assert_ptr_null(p);
    }
    mn_policies_free(l);
    mn_policies_free(l2);
    mn_close(db);
}
END_TEST

/* Runs sql on the SQLite file at path, behind the library's back. */
static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *s = NULL;
    ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    char *err = NULL;
    int rc = sqlite3_exec(s, sql, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "?");
    sqlite3_free(err);
    sqlite3_close(s);
}

static size_t policy_count(mn_db *db, const char *tenant)
{
    mn_actor sys = TH_ACTOR(.tenant = tenant);
    mn_policies *l = NULL;
    TH_OK(db, mn_policy_list(db, &sys, &l));
    size_t n = l->count;
    mn_policies_free(l);
    return n;
}

/* A tenant of a database made before the default policies (one that never had a policy) gets
 * them at the next read-write open; the open records that it looked (meta default_policies),
 * and the opens after it do not look again: every tenant since is made with its defaults. */
START_TEST(older_tenants_get_default_policies_once)
{
    const char *path = th_tmppath("older.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    mn_close(db);
    const char *unruled = "DELETE FROM policies; UPDATE tenants SET policy_gen = 0;";
    char *sql = sqlite3_mprintf("%s DELETE FROM meta WHERE key = 'default_policies';", unruled);
    exec_sql(path, sql);
    sqlite3_free(sql);
    db = th_open(path, NULL);
    ck_assert_uint_eq(policy_count(db, "acme"), 3);
    mn_close(db);
    exec_sql(path, unruled); /* the record stays: this open does not look */
    db = th_open(path, NULL);
    ck_assert_uint_eq(policy_count(db, "acme"), 0);
    mn_close(db);
}
END_TEST

/* ==== agents and their own memories =========================================================== */

START_TEST(agent_manages_own_memories)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;

    mn_memory *m = NULL;
    mn_memory_input in = TH_IN(.text = "alice remembers the blue door", .type = "fact");
    TH_OK(db, mn_memory_add(db, a, &in, &m));
    ck_assert_str_eq(m->identity_id, w.alice);
    const char *mine = th_fmt("%s", m->id);
    mn_memory_free(m);
    /* Naming herself as the owner is the same. */
    mn_memory_input in2 = TH_IN(.identity = "alice", .text = "alice again");
    const char *mine2 = th_add_in(db, a, &in2);
    mn_memory_input many[2] = {TH_IN(.text = "batch one"),
                               TH_IN(.text = "batch two", .identity = w.alice)};
    char **ids = NULL;
    size_t failed = 7;
    TH_OK(db, mn_memory_add_many(db, a, many, 2, &ids, &failed));
    ck_assert_uint_eq(failed, (size_t)-1);
    mn_strings_free(ids, 2);

    m = th_get(db, a, mine, 0);
    ck_assert_str_eq(m->text, "alice remembers the blue door");
    mn_memory_free(m);

    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT | MN_MEMORY_SET_METADATA,
                            .text = "alice remembers the red door",
                            .metadata = "{\"k\":1}"};
    TH_OK(db, mn_memory_update(db, a, mine, &ch, &m));
    ck_assert_int_eq(m->version, 2);
    mn_memory_free(m);
    mn_history *h = NULL;
    TH_OK(db, mn_memory_history(db, a, mine, &h));
    ck_assert_uint_eq(h->count, 1);
    ck_assert_str_eq(h->items[0]->changed_by, w.alice);
    mn_history_free(h);

    size_t n;
    const char **got = list_ids(db, a, NULL, 0, &n);
    ck_assert(th_ids_contain(got, n, mine) && th_ids_contain(got, n, mine2));
    ck_assert(th_ids_contain(got, n, w.a1) && th_ids_contain(got, n, w.a2));
    ck_assert_uint_eq(n, 6);

    got = search_ids(db, a, "red door", 10, NULL, &n);
    ck_assert_uint_ge(n, 1);
    ck_assert_str_eq(got[0], mine);

    TH_OK(db, mn_memory_delete(db, a, mine, MN_DELETE_SOFT));
    TH_RC(db, get_rc(db, a, mine), MN_OK); /* WITH_DELETED */
    TH_OK(db, mn_memory_restore(db, a, mine));
    const char *pair[] = {mine, mine2};
    TH_OK(db, mn_memory_delete_many(db, a, pair, 2, MN_DELETE_SOFT));
    TH_OK(db, mn_memory_restore(db, a, mine2));
    TH_OK(db, mn_memory_delete(db, a, mine, MN_DELETE_HARD));
    TH_RC(db, get_rc(db, a, mine), MN_ENOTFOUND);
    mn_close(db);
}
END_TEST

/* Everything an agent may try on another agent's memory is refused, and changes nothing. */
START_TEST(agent_cannot_touch_others_memories)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;
    mn_memory *m = NULL;
    mn_history *h = NULL;
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = "alice was here"};
    const char *bobs[] = {w.b1, w.b2, w.b3};

    for (size_t i = 0; i < 3; i++) {
        const char *id = bobs[i];
        DENIED(db, mn_memory_get(db, a, id, MN_WITH_DELETED | MN_WITH_EXPIRED, &m),
               NOT_ALLOWED);
        ck_assert_ptr_null(m);
        ck_assert(th_has_word(mn_errmsg(db), "alice"));
        DENIED(db, mn_memory_history(db, a, id, &h), NOT_ALLOWED);
        DENIED(db, mn_memory_delete(db, a, id, MN_DELETE_SOFT), NOT_ALLOWED);
        DENIED(db, mn_memory_delete(db, a, id, MN_DELETE_HARD), NOT_ALLOWED);
        if (id != w.b3)
            DENIED(db, mn_memory_update(db, a, id, &ch, &m), NOT_ALLOWED);
    }
    ck_assert_ptr_null(m);
    DENIED(db, mn_memory_restore(db, a, w.b3), NOT_ALLOWED);
    /* The message says which decision: the default agent policy's "when" did not hold. */
    DENIED(db, mn_memory_get(db, a, w.b1, 0, &m), "when");
    /* Another tenant's memory does not exist for alice at all. */
    FAILS(db, mn_memory_get(db, a, w.g1, 0, &m), MN_ENOTFOUND, "memory");
    /* Nor may she write a memory for bob. */
    mn_memory_input for_bob = TH_IN(.identity = "bob", .text = "alice writes for bob");
    DENIED(db, mn_memory_add(db, a, &for_bob, &m), NOT_ALLOWED);
    ck_assert_ptr_null(m);

    /* delete_many with one forbidden id deletes nothing, in either mode. */
    const char *mixed[] = {w.a1, w.b1, w.a2};
    DENIED(db, mn_memory_delete_many(db, a, mixed, 3, MN_DELETE_SOFT), NOT_ALLOWED);
    DENIED(db, mn_memory_delete_many(db, a, mixed, 3, MN_DELETE_HARD), NOT_ALLOWED);
    const char *last[] = {w.a1, w.a2, w.b2};
    DENIED(db, mn_memory_delete_many(db, a, last, 3, MN_DELETE_HARD), NOT_ALLOWED);
    TH_RC(db, get_rc(db, a, w.a1), MN_OK);
    TH_RC(db, get_rc(db, a, w.a2), MN_OK);

    /* add_many with one memory for bob writes nothing and names the input. */
    mn_memory_input batch[3] = {TH_IN(.text = "mine 1"), TH_IN(.text = "mine 2"),
                                TH_IN(.text = "for bob", .identity = "bob")};
    char **ids = (char **)1;
    size_t failed = 99;
    DENIED(db, mn_memory_add_many(db, a, batch, 3, &ids, &failed), NOT_ALLOWED);
    ck_assert_uint_eq(failed, 2);
    ck_assert_ptr_null(ids);
    ck_assert(th_has_word(mn_errmsg(db), "memory 2"));

    /* Bob may still do all of it himself. */
    m = th_get(db, &w.as_bob, w.b1, 0);
    mn_memory_free(m);
    TH_OK(db, mn_memory_restore(db, &w.as_bob, w.b3));
    mn_close(db);
}
END_TEST

START_TEST(list_and_search_hide_others_memories)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;
    const char *bobs[] = {w.b1, w.b2, w.b3, w.g1};
    /* More of bob's, so that hidden memories outnumber a page and k. */
    for (int i = 0; i < 30; i++)
        th_add(db, &w.as_bob, NULL, th_fmt("zebra migration patterns savanna %d", i));

    size_t n;
    const char **got;
    const int limits[] = {0, 1, 2, 1000};
    for (size_t i = 0; i < 4; i++) {
        got = list_ids(db, a, NULL, limits[i], &n);
        ck_assert_uint_eq(n, 2);
        ck_assert(th_ids_contain(got, n, w.a1) && th_ids_contain(got, n, w.a2));
        mn_filter f = {.version = MN_FILTER_VERSION, .flags = MN_WITH_DELETED | MN_WITH_EXPIRED};
        got = list_ids(db, a, &f, limits[i], &n);
        ck_assert_uint_eq(n, 2);
        f = (mn_filter){.version = MN_FILTER_VERSION, .identity = "bob"};
        got = list_ids(db, a, &f, limits[i], &n);
        ck_assert_uint_eq(n, 0);
        f = (mn_filter){.version = MN_FILTER_VERSION, .identity = w.bob, .flags = MN_WITH_DELETED};
        got = list_ids(db, a, &f, limits[i], &n);
        ck_assert_uint_eq(n, 0);
        f = (mn_filter){.version = MN_FILTER_VERSION, .type = "secret"};
        got = list_ids(db, a, &f, limits[i], &n);
        ck_assert_uint_eq(n, 0);
        f = (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"project\":\"apollo\"}"};
        got = list_ids(db, a, &f, limits[i], &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(got[0], w.a1);
    }

    /* Search: bob's memories match the query best, yet never show, and never cost a place. */
    const char *q = "zebra migration patterns savanna";
    const int ks[] = {0, 1, 2, 5, 1000};
    for (size_t i = 0; i < 5; i++) {
        got = search_ids(db, a, q, ks[i], NULL, &n);
        ck_assert_uint_eq(n, ks[i] == 1 ? 1 : 2);
        assert_none_of(got, n, bobs, 4, "search");
        ck_assert_str_eq(got[0], w.a2); /* "alice zebra notes" is the nearer of hers */
        mn_filter f = {.version = MN_FILTER_VERSION, .flags = MN_WITH_DELETED | MN_WITH_EXPIRED};
        got = search_ids(db, a, q, ks[i], &f, &n);
        ck_assert_uint_eq(n, ks[i] == 1 ? 1 : 2);
        assert_none_of(got, n, bobs, 4, "search with deleted");
        f = (mn_filter){.version = MN_FILTER_VERSION, .identity = "bob", .flags = MN_WITH_DELETED};
        got = search_ids(db, a, q, ks[i], &f, &n);
        ck_assert_uint_eq(n, 0);
        f = (mn_filter){.version = MN_FILTER_VERSION, .type = "fact"};
        got = search_ids(db, a, q, ks[i], &f, &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(got[0], w.a1);
        f = (mn_filter){.version = MN_FILTER_VERSION, .metadata = "{\"project\":\"apollo\"}"};
        got = search_ids(db, a, q, ks[i], &f, &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(got[0], w.a1);
    }
    /* With a minimum similarity that only bob's memories reach: nothing (by vector: the floor
     * keeps a keyword match, such as alice's zebra notes, in the other modes). */
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = q, .k = 3,
                            .min_similarity = 0.9, .mode = MN_SEARCH_VECTOR};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, a, &so, &l));
    ck_assert_uint_eq(l->count, 0);
    mn_memories_free(l);
    /* Bob, for comparison, sees his. */
    got = search_ids(db, &w.as_bob, q, 1000, NULL, &n);
    ck_assert_uint_eq(n, 32);
    ck_assert(!th_ids_contain(got, n, w.a1));
    mn_close(db);
}
END_TEST

/* ==== admin and the system actor ============================================================== */

START_TEST(admin_may_do_everything)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_root;
    size_t n;
    const char **got = list_ids(db, a, NULL, 0, &n);
    ck_assert_uint_eq(n, 4); /* a1 a2 b1 b2 */
    ck_assert(th_ids_contain(got, n, w.b2) && th_ids_contain(got, n, w.a1));
    got = search_ids(db, a, "zebra", 1000, NULL, &n);
    ck_assert_uint_eq(n, 4);
    ck_assert(th_ids_contain(got, n, w.b1) && th_ids_contain(got, n, w.a2));
    mn_memory *m = th_get(db, a, w.b1, 0);
    mn_memory_free(m);
    mn_history *h = NULL;
    TH_OK(db, mn_memory_history(db, a, w.b1, &h));
    ck_assert_uint_eq(h->count, 1);
    mn_history_free(h);
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TYPE, .type = "note"};
    TH_OK(db, mn_memory_update(db, a, w.b2, &ch, NULL));
    TH_OK(db, mn_memory_restore(db, a, w.b3));
    mn_memory_input for_bob = TH_IN(.identity = "bob", .text = "root writes for bob");
    const char *x = th_add_in(db, a, &for_bob);
    const char *ids[] = {x, w.a2};
    TH_OK(db, mn_memory_delete_many(db, a, ids, 2, MN_DELETE_HARD));
    TH_OK(db, mn_memory_delete(db, a, w.b1, MN_DELETE_SOFT));
    expire_now(w.path, w.a1);
    size_t purged = 0;
    TH_OK(db, mn_memory_purge_expired(db, a, &purged));
    ck_assert_uint_eq(purged, 1);

    /* Identities. */
    mn_identity *i = NULL;
    TH_OK(db, mn_identity_create(db, a, "dave", "agent", "{\"team\":\"x\"}", &i));
    mn_identity_free(i);
    TH_OK(db, mn_identity_get(db, a, "bob", &i));
    mn_identity_free(i);
    mn_identities *il = NULL;
    TH_OK(db, mn_identity_list(db, a, &il));
    ck_assert_uint_eq(il->count, 4);
    mn_identities_free(il);
    TH_OK(db, mn_identity_deactivate(db, a, "dave"));
    TH_OK(db, mn_identity_delete(db, a, "dave"));

    /* Policies. */
    mn_policies *pl = NULL;
    TH_OK(db, mn_policy_list(db, a, &pl));
    ck_assert_uint_eq(pl->count, 3);
    mn_policies_free(pl);
    const char *p = policy_add(db, a, "agent", "{\"effect\":\"allow\",\"actions\":[\"read\"],"
                                               "\"resource\":\"memory\"}", 5);
    mn_policy *got_p = NULL;
    TH_OK(db, mn_policy_get(db, a, p, &got_p));
    mn_policy_free(got_p);
    policy_set_active(db, a, p, 0);
    TH_OK(db, mn_policy_delete(db, a, p));
    mn_close(db);
}
END_TEST

START_TEST(system_actor_is_never_asked)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *s = &w.sys;
    /* Deny everything to every role, above everything. */
    const char *deny_all = policy_add(db, s, "*", "{\"effect\":\"deny\",\"actions\":\"*\","
                                                  "\"resource\":\"*\"}", 1000);
    /* The identities are all locked out now, the admin included ... */
    mn_memory *m = NULL;
    DENIED(db, mn_memory_get(db, &w.as_root, w.b1, 0, &m), deny_all);
    DENIED(db, mn_memory_get(db, &w.as_alice, w.a1, 0, &m), deny_all);
    mn_policies *pl = NULL;
    DENIED(db, mn_policy_list(db, &w.as_root, &pl), deny_all);
    DENIED(db, mn_policy_delete(db, &w.as_root, deny_all), deny_all);
    ck_assert_ptr_null(pl);

    /* ... but the system actor does everything. */
    const char *x = th_add(db, s, "alice", "system writes for alice");
    m = th_get(db, s, w.b1, 0);
    mn_memory_free(m);
    size_t n;
    list_ids(db, s, NULL, 0, &n);
    ck_assert_uint_eq(n, 5);
    search_ids(db, s, "zebra", 1000, NULL, &n);
    ck_assert_uint_eq(n, 5); /* a1 a2 b1 b2 x: every live memory, however far */
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = "system edit"};
    TH_OK(db, mn_memory_update(db, s, w.a1, &ch, NULL));
    mn_history *h = NULL;
    TH_OK(db, mn_memory_history(db, s, w.a1, &h));
    ck_assert_uint_eq(h->count, 1);
    ck_assert_ptr_null(h->items[0]->changed_by);
    mn_history_free(h);
    TH_OK(db, mn_memory_restore(db, s, w.b3));
    TH_OK(db, mn_memory_delete(db, s, x, MN_DELETE_HARD));
    mn_memory_input many[2] = {TH_IN(.identity = "bob", .text = "one"),
                               TH_IN(.identity = "alice", .text = "two")};
    char **ids = NULL;
    TH_OK(db, mn_memory_add_many(db, s, many, 2, &ids, NULL));
    TH_OK(db, mn_memory_delete_many(db, s, (const char *const *)ids, 2, MN_DELETE_SOFT));
    mn_strings_free(ids, 2);
    TH_OK(db, mn_memory_purge_expired(db, s, NULL));
    mn_identity *i = NULL;
    TH_OK(db, mn_identity_create(db, s, "erin", NULL, NULL, &i));
    mn_identity_free(i);
    mn_identities *il = NULL;
    TH_OK(db, mn_identity_list(db, s, &il));
    mn_identities_free(il);
    TH_OK(db, mn_identity_deactivate(db, s, "erin"));
    TH_OK(db, mn_policy_list(db, s, &pl));
    ck_assert_uint_eq(pl->count, 4);
    mn_policies_free(pl);

    /* mn_policy_test agrees: trusted, no deciding policy. */
    const char *pid = "x", *why = NULL;
    ck_assert(verdict(db, s, "delete", "memory", NULL, &pid, &why));
    ck_assert_ptr_null(pid);
    ck_assert(th_has_word(why, "system|trusted"));
    ck_assert(verdict(db, s, "anything", "whatever", "{\"a\":1}", &pid, &why));

    /* And it can lift the lock. */
    TH_OK(db, mn_policy_delete(db, s, deny_all));
    m = th_get(db, &w.as_root, w.b1, 0);
    mn_memory_free(m);
    mn_close(db);
}
END_TEST

/* ==== deny policies on create ================================================================= */

START_TEST(deny_create_at_any_priority)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;
    const char *rule = "{\"effect\":\"deny\",\"actions\":[\"create\"],\"resource\":\"memory\"}";
    mn_memory_input in = TH_IN(.text = "alice may not write this");
    mn_memory *m = NULL;
    const int prios[] = {10, 50, 500, -3};
    for (size_t i = 0; i < 4; i++) {
        const char *deny = policy_add(db, &w.sys, "agent", rule, prios[i]);
        DENIED(db, mn_memory_add(db, a, &in, &m), deny);
        ck_assert_ptr_null(m);
        ck_assert(th_has_word(mn_errmsg(db), "denied by policy"));
        ck_assert(th_has_word(mn_errmsg(db), "create"));
        mn_memory_input batch[2] = {TH_IN(.text = "x"), TH_IN(.text = "y")};
        char **ids = NULL;
        size_t failed = 99;
        DENIED(db, mn_memory_add_many(db, a, batch, 2, &ids, &failed), deny);
        ck_assert_uint_eq(failed, 0);
        ck_assert_ptr_null(ids);
        const char *pid = NULL;
        ck_assert(!verdict(db, a, "create", "memory", memory_data(w.alice, "fact", NULL), &pid,
                           NULL));
        ck_assert_str_eq(pid, deny);
        /* Only create is denied. */
        mn_memory_changes ch = {
            .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = "alice edits"};
        TH_OK(db, mn_memory_update(db, a, w.a1, &ch, NULL));
        /* The admin is another role: untouched. */
        th_add(db, &w.as_root, NULL, "root writes");
        TH_OK(db, mn_policy_delete(db, &w.sys, deny));
        th_add_in(db, a, &in);
    }
    /* A deny for every role ("*") also wins over admin's allow-all at priority 100. */
    const char *deny = policy_add(db, &w.sys, "*", rule, 1);
    DENIED(db, mn_memory_add(db, &w.as_root, &in, &m), deny);
    DENIED(db, mn_memory_add(db, a, &in, &m), deny);
    mn_close(db);
}
END_TEST

START_TEST(add_many_with_one_forbidden_type)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;
    const char *deny = policy_add(db, &w.sys, "agent",
                                  "{\"effect\":\"deny\",\"actions\":[\"create\"],"
                                  "\"resource\":\"memory\",\"conditions\":{"
                                  "\"resource_conditions\":{\"memory_types\":[\"secret\"]}}}",
                                  1);
    mn_memory_input batch[4] = {TH_IN(.text = "a", .type = "fact"), TH_IN(.text = "b"),
                                TH_IN(.text = "c", .type = "secret"),
                                TH_IN(.text = "d", .type = "note")};
    char **ids = NULL;
    size_t failed = 99;
    DENIED(db, mn_memory_add_many(db, a, batch, 4, &ids, &failed), deny);
    ck_assert_uint_eq(failed, 2);
    ck_assert_ptr_null(ids);
    ck_assert(th_has_word(mn_errmsg(db), "memory 2"));
    mn_memory *m = NULL;
    DENIED(db, mn_memory_add(db, a, &batch[2], &m), deny);
    /* Without the secret one, all four (well, three) go in. */
    batch[2].type = "fact";
    TH_OK(db, mn_memory_add_many(db, a, batch, 4, &ids, &failed));
    ck_assert_uint_eq(failed, (size_t)-1);
    mn_strings_free(ids, 4);
    /* Metadata conditions too. */
    const char *deny2 = policy_add(db, &w.sys, "agent",
                                   "{\"effect\":\"deny\",\"actions\":[\"create\"],"
                                   "\"resource\":\"memory\",\"conditions\":{"
                                   "\"resource_conditions\":{\"metadata_requirements\":"
                                   "{\"label\":\"confidential\"}}}}",
                                   1);
    mn_memory_input b2[3] = {TH_IN(.text = "a", .metadata = "{\"label\":\"public\"}"),
                             TH_IN(.text = "b", .metadata = "{\"label\":\"confidential\",\"x\":1}"),
                             TH_IN(.text = "c")};
    DENIED(db, mn_memory_add_many(db, a, b2, 3, &ids, &failed), deny2);
    ck_assert_uint_eq(failed, 1);
    mn_close(db);
}
END_TEST

/* An update may not turn a memory into one the actor may not update (nor leave one it may not). */
START_TEST(update_decided_before_and_after)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;
    const char *deny = policy_add(db, &w.sys, "agent",
                                  "{\"effect\":\"deny\",\"actions\":[\"create\",\"update\"],"
                                  "\"resource\":\"memory\",\"conditions\":{"
                                  "\"resource_conditions\":{\"memory_types\":[\"secret\"]}}}",
                                  0);
    mn_memory_changes to_secret = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TYPE, .type = "secret"};
    DENIED(db, mn_memory_update(db, a, w.a1, &to_secret, NULL), deny);
    mn_memory_changes meta = {.version = MN_MEMORY_CHANGES_VERSION,
                              .set = MN_MEMORY_SET_METADATA,
                              .metadata = "{\"k\":2}"};
    TH_OK(db, mn_memory_update(db, a, w.a1, &meta, NULL));
    const char *s1 = add_typed(db, &w.sys, "alice", "a secret of alice", "secret", NULL);
    mn_memory_changes to_fact = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TYPE, .type = "fact"};
    DENIED(db, mn_memory_update(db, a, s1, &to_fact, NULL), deny);
    DENIED(db, mn_memory_update(db, a, s1, &meta, NULL), deny);
    TH_OK(db, mn_memory_delete(db, a, s1, MN_DELETE_SOFT));
    DENIED(db, mn_memory_restore(db, a, s1), deny);
    /* The admin is not concerned. */
    TH_OK(db, mn_memory_update(db, &w.as_root, w.a1, &to_secret, NULL));
    mn_close(db);
}
END_TEST

/* ==== conditions on the resource ============================================================== */

START_TEST(resource_conditions_filter_results)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *s = &w.sys;
    /* Role "typed" reads facts and notes, of anyone; role "proj" reads apollo's memories. */
    policy_add(db, s, "typed", "{\"effect\":\"allow\",\"actions\":[\"read\",\"list\",\"search\"],"
                               "\"resource\":\"memory\",\"conditions\":{\"resource_conditions\":"
                               "{\"memory_types\":[\"fact\",\"note\"]}}}", 10);
    policy_add(db, s, "proj", "{\"effect\":\"allow\",\"actions\":[\"read\",\"list\",\"search\"],"
                              "\"resource\":\"memory\",\"conditions\":{\"resource_conditions\":"
                              "{\"metadata_requirements\":{\"project\":\"apollo\"}}}}", 10);
    make_identity(db, "acme", "tina", "typed", NULL);
    make_identity(db, "acme", "pete", "proj", NULL);
    mn_actor tina = TH_ACTOR(.tenant = "acme", .identity = "tina");
    mn_actor pete = TH_ACTOR(.tenant = "acme", .identity = "pete");
    const char *s2 = add_typed(db, s, "alice", "alice secret zebra diary", "secret",
                               "{\"project\":\"apollo\"}");
    const char *z = add_typed(db, s, "bob", "zeus zebra", "fact", "{\"project\":\"zeus\"}");
    const char *nested = add_typed(db, s, "bob", "apollo zebra nested", "log",
                                   "{\"project\":\"apollo\",\"extra\":{\"a\":[1,2]}}");

    /* tina: a1 (fact) a2 (note) b1 (fact) z (fact); not b2, s2 (secret), nested (log). */
    const char *tina_no[] = {w.b2, s2, nested, w.b3};
    size_t n;
    const char **got = list_ids(db, &tina, NULL, 1, &n);
    ck_assert_uint_eq(n, 4);
    assert_none_of(got, n, tina_no, 4, "tina's list");
    mn_filter f = {.version = MN_FILTER_VERSION, .flags = MN_WITH_DELETED};
    got = list_ids(db, &tina, &f, 0, &n);
    ck_assert_uint_eq(n, 5); /* b3 is a fact */
    f = (mn_filter){.version = MN_FILTER_VERSION, .type = "secret"};
    got = list_ids(db, &tina, &f, 0, &n);
    ck_assert_uint_eq(n, 0);
    for (int k = 1; k <= 1000; k *= 10) {
        got = search_ids(db, &tina, "secret zebra diary plan", k, NULL, &n);
        ck_assert_uint_eq(n, k < 4 ? (size_t)k : 4);
        assert_none_of(got, n, tina_no, 3, "tina's search");
    }
    mn_memory *m = NULL;
    DENIED(db, mn_memory_get(db, &tina, w.b2, 0, &m), "memory_types|no policy allows");
    DENIED(db, mn_memory_get(db, &tina, s2, 0, &m), "secret");
    mn_memory_free(th_get(db, &tina, w.b1, 0));
    /* Reading is all tina may do. */
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = "tina edits"};
    DENIED(db, mn_memory_update(db, &tina, w.b1, &ch, NULL), NOT_ALLOWED);
    mn_memory_input in = TH_IN(.text = "tina writes", .identity = "alice");
    DENIED(db, mn_memory_add(db, &tina, &in, NULL), NOT_ALLOWED);

    /* pete: a1, b1, s2, nested (apollo); not a2, b2, z. */
    const char *pete_no[] = {w.a2, w.b2, z, w.b3};
    got = list_ids(db, &pete, NULL, 2, &n);
    ck_assert_uint_eq(n, 4);
    assert_none_of(got, n, pete_no, 4, "pete's list");
    ck_assert(th_ids_contain(got, n, nested) && th_ids_contain(got, n, s2));
    got = search_ids(db, &pete, "zeus zebra", 1000, NULL, &n);
    ck_assert_uint_eq(n, 4);
    assert_none_of(got, n, pete_no, 4, "pete's search");
    got = search_ids(db, &pete, "zeus zebra", 1, NULL, &n);
    ck_assert_uint_eq(n, 1);
    assert_none_of(got, n, pete_no, 4, "pete's search");
    DENIED(db, mn_memory_get(db, &pete, z, 0, &m), "metadata");
    mn_memory_free(th_get(db, &pete, nested, 0));

    /* A memory's metadata changes; so does what pete sees. */
    ch = (mn_memory_changes){.version = MN_MEMORY_CHANGES_VERSION,
                             .set = MN_MEMORY_SET_METADATA,
                             .metadata = "{\"project\":\"zeus\"}"};
    TH_OK(db, mn_memory_update(db, s, w.a1, &ch, NULL));
    DENIED(db, mn_memory_get(db, &pete, w.a1, 0, &m), "metadata");
    got = list_ids(db, &pete, NULL, 0, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert(!th_ids_contain(got, n, w.a1));
    /* Decisions on a stored memory are cached by its id and version: a change of type (tina
     * read b1 a moment ago, a cached allow) is a new version, decided afresh. */
    mn_memory_free(th_get(db, &tina, w.b1, 0));
    ch = (mn_memory_changes){
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TYPE, .type = "secret"};
    TH_OK(db, mn_memory_update(db, s, w.b1, &ch, NULL));
    DENIED(db, mn_memory_get(db, &tina, w.b1, 0, &m), "memory_types|no policy allows");
    got = list_ids(db, &tina, NULL, 0, &n);
    ck_assert(!th_ids_contain(got, n, w.b1));
    mn_close(db);
}
END_TEST

/* A deny with a resource condition, next to an allow: the agent loses sight of its own secrets. */
START_TEST(deny_with_resource_condition_hides_own)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const char *deny = policy_add(db, &w.sys, "agent",
                                  "{\"effect\":\"deny\",\"actions\":[\"read\"],"
                                  "\"resource\":\"memory\",\"conditions\":{"
                                  "\"resource_conditions\":{\"memory_types\":[\"secret\"]}}}",
                                  0);
    mn_actor *b = &w.as_bob;
    size_t n;
    const char **got = list_ids(db, b, NULL, 0, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(got[0], w.b1);
    got = search_ids(db, b, "bob secret zebra plan", 1000, NULL, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(got[0], w.b1);
    mn_memory *m = NULL;
    DENIED(db, mn_memory_get(db, b, w.b2, 0, &m), deny);
    mn_history *h = NULL;
    DENIED(db, mn_memory_history(db, b, w.b2, &h), deny);
    /* Updating and deleting it are other actions: still his. */
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_IMPORTANCE, .importance = 0.9};
    TH_OK(db, mn_memory_update(db, b, w.b2, &ch, NULL));
    const char *pid = NULL;
    ck_assert(!verdict(db, b, "read", "memory", memory_data(w.bob, "secret", NULL), &pid, NULL));
    ck_assert_str_eq(pid, deny);
    ck_assert(verdict(db, b, "read", "memory", memory_data(w.bob, "fact", NULL), &pid, NULL));
    ck_assert_str_ne(pid, deny);
    mn_close(db);
}
END_TEST

/* A list page is filled past the memories a policy hides, but one call reads at most
 * MN_LIST_READ_MAX hidden ones: then the page is short (here empty) and its cursor goes on. */
START_TEST(list_reads_a_bounded_number_of_hidden_rows)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    policy_add(db, &w.sys, "agent",
               "{\"effect\":\"deny\",\"actions\":[\"read\"],\"resource\":\"memory\","
               "\"conditions\":{\"resource_conditions\":{\"memory_types\":[\"secret\"]}}}",
               0);
    enum { HIDDEN = MN_LIST_READ_MAX + 500, BATCH = 1000 };
    mn_memory_input *in = th_keep(calloc(BATCH, sizeof *in));
    for (int done = 0; done < HIDDEN; done += BATCH) {
        int n = HIDDEN - done < BATCH ? HIDDEN - done : BATCH;
        for (int i = 0; i < n; i++)
            in[i] = (mn_memory_input)TH_IN(.identity = w.bob, .type = "secret",
                                           .text = th_fmt("hidden note %d", done + i));
        TH_OK(db, mn_memory_add_many(db, &w.sys, in, (size_t)n, NULL, NULL));
    }
    /* Bob's only readable live memory, b1, is older than every hidden one. */
    mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION, .limit = 1};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_list(db, &w.as_bob, &lo, &l));
    ck_assert_uint_eq(l->count, 0);
    ck_assert_ptr_nonnull(l->next_cursor);
    lo.cursor = th_fmt("%s", l->next_cursor);
    mn_memories_free(l);
    TH_OK(db, mn_memory_list(db, &w.as_bob, &lo, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, w.b1);
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

/* ==== ip restrictions and the actor's context ================================================= */

START_TEST(ip_restrictions_ipv4_ipv6)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const char *pol = policy_add(
        db, &w.sys, "net",
        "{\"effect\":\"allow\",\"actions\":[\"create\",\"read\",\"list\",\"search\"],"
        "\"resource\":\"memory\",\"conditions\":{\"ip_restrictions\":{"
        "\"allowed_ips\":[\"192.0.2.7\",\"2001:db8:ffff::1\"],"
        "\"allowed_ranges\":[\"10.0.0.0/8\",\"2001:db8::/32\",\"172.16.0.0/12\"]}}}",
        10);
    make_identity(db, "acme", "nina", "net", NULL);
    struct {
        const char *ctx;
        int ok;
    } cases[] = {
        {"{\"ip\":\"10.1.2.3\"}", 1},
        {"{\"ip\":\"10.255.255.255\"}", 1},
        {"{\"ip\":\"11.0.0.1\"}", 0},
        {"{\"ip\":\"9.255.255.255\"}", 0},
        {"{\"ip\":\"172.31.0.1\"}", 1},
        {"{\"ip\":\"172.32.0.1\"}", 0},
        {"{\"ip\":\"192.0.2.7\"}", 1},
        {"{\"ip\":\"192.0.2.8\"}", 0},
        {"{\"ip\":\"2001:db8::5\"}", 1},
        {"{\"ip\":\"2001:DB8:1234::abcd\"}", 1},
        {"{\"ip\":\"2001:db9::1\"}", 0},
        {"{\"ip\":\"2001:db8:ffff::1\"}", 1},
        {"{\"ip\":\"::1\"}", 0},
        {"{\"ip\":\"::ffff:10.1.2.3\"}", 1},
        {"{\"ip\":\"::ffff:11.1.2.3\"}", 0},
        {"{\"ip\":\"not-an-ip\"}", 0},
        {"{\"ip\":\"10.1.2.3/8\"}", 0},
        {"{\"ip\":42}", 0},
        {"{\"ip\":null}", 0},
        {"{\"addr\":\"10.1.2.3\"}", 0},
        {"{}", 0},
        {NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "nina", .context = cases[i].ctx);
        const char *c = cases[i].ctx ? cases[i].ctx : "NULL";
        mn_memory_input in = TH_IN(.text = th_fmt("nina from %s", c));
        mn_memory *m = NULL;
        mn_memories *l = NULL;
        mn_list_options lo = MN_LIST_OPTIONS_INIT;
        const char *pid = NULL, *why = NULL;
        int ok = verdict(db, &a, "read", "memory", memory_data(w.bob, "fact", NULL), &pid, &why);
        ck_assert_msg(ok == cases[i].ok, "context %s: verdict %d (%s)", c, ok, why);
        if (cases[i].ok) {
            ck_assert_str_eq(pid, pol);
            TH_OK(db, mn_memory_add(db, &a, &in, &m));
            mn_memory_free(m);
            TH_OK(db, mn_memory_list(db, &a, &lo, &l));
            ck_assert_uint_ge(l->count, 1);
            mn_memories_free(l);
            mn_memory_free(th_get(db, &a, w.b2, 0));
        } else {
            ck_assert_ptr_null(pid);
            /* The reason names the policy that did not apply and the ip problem. */
            ck_assert_msg(th_has_word(why, pol), "context %s: reason %s", c, why);
            ck_assert_msg(th_has_word(why, "ip"), "context %s: reason %s", c, why);
            DENIED(db, mn_memory_add(db, &a, &in, &m), "ip");
            DENIED(db, mn_memory_list(db, &a, &lo, &l), "ip");
            DENIED(db, mn_memory_get(db, &a, w.b2, 0, &m), "ip");
        }
    }
    /* The reasons tell the cases apart. */
    const char *why = NULL;
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "nina", .context = "{\"ip\":\"bogus\"}");
    verdict(db, &a, "read", "memory", NULL, NULL, &why);
    ck_assert_msg(th_has_word(why, "not an ip"), "%s", why);
    a.context = "{}";
    verdict(db, &a, "read", "memory", NULL, NULL, &why);
    ck_assert_msg(th_has_word(why, "no context.ip"), "%s", why);
    /* Other context members do not matter. */
    a.context = "{\"ip\":\"10.0.0.1\",\"user_agent\":\"x\",\"n\":[1,{}]}";
    ck_assert(verdict(db, &a, "read", "memory", NULL, NULL, NULL));
    mn_close(db);
}
END_TEST

/* A context.ip that is there but not an address fails closed: a deny on an ip range applies
 * to it, whatever the range, on every call (and no allow on one does). */
START_TEST(malformed_ip_meets_denies)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const char *deny = policy_add(
        db, &w.sys, "agent",
        "{\"effect\":\"deny\",\"actions\":[\"read\",\"list\",\"search\"],\"resource\":"
        "\"memory\",\"conditions\":{\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.0/8\"]}}}",
        90);
    mn_actor a = {.version = MN_ACTOR_VERSION, .tenant = "acme", .identity = "alice",
                  .context = "{\"ip\":\"192.0.2.1\"}"};
    mn_memory_free(th_get(db, &a, w.a1, 0));
    a.context = NULL; /* no ip: a deny on ips does not apply */
    mn_memory_free(th_get(db, &a, w.a1, 0));
    const char *bad[] = {"\"10.1.2.3:8080\"", "\" 10.1.2.3\"", "\"[::ffff:10.1.2.3]\"",
                         "\"10.1.2.3/32\"", "167838211", "null", "\"\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        a.context = th_fmt("{\"ip\":%s}", bad[i]);
        mn_memory *m = NULL;
        mn_memories *l = NULL;
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "zebra"};
        DENIED(db, mn_memory_get(db, &a, w.a1, 0, &m), deny);
        ck_assert_msg(th_has_word(mn_errmsg(db), "not an IP address"), "%s", mn_errmsg(db));
        DENIED(db, mn_memory_list(db, &a, NULL, &l), deny);
        DENIED(db, mn_memory_search(db, &a, &so, &l), deny);
    }
    mn_close(db);
}
END_TEST

START_TEST(malformed_context_is_einval)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const char *bad[] = {"not json", "[1,2]", "\"10.0.0.1\"", "{\"ip\":", "42", "null", "",
                         "{\"ip\":\"10.0.0.1\"} trailing", "{\"a\":\"\xff\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *ids[] = {NULL, "alice", "root"};
        for (size_t k = 0; k < 3; k++) {
            mn_actor a = TH_ACTOR(.tenant = "acme", .identity = ids[k], .context = bad[i]);
            mn_memory *m = NULL;
            mn_memories *l = NULL;
            mn_decision *d = NULL;
            mn_memory_input in = TH_IN(.text = "ctx", .identity = "alice");
            mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "zebra"};
            INVALID(db, mn_memory_add(db, &a, &in, &m), "context");
            INVALID(db, mn_memory_get(db, &a, w.a1, 0, &m), "context");
            INVALID(db, mn_memory_list(db, &a, NULL, &l), "context");
            INVALID(db, mn_memory_search(db, &a, &so, &l), "context");
            INVALID(db, mn_memory_delete(db, &a, w.a1, MN_DELETE_HARD), "context");
            INVALID(db, mn_policy_test(db, &a, "read", "memory", NULL, &d), "context");
            ck_assert_ptr_null(m);
            ck_assert_ptr_null(l);
            ck_assert_ptr_null(d);
        }
    }
    /* A well-formed empty object is fine. */
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice", .context = "{}");
    mn_memory_free(th_get(db, &a, w.a1, 0));
    mn_close(db);
}
END_TEST

/* ==== claims, "when", time ==================================================================== */

START_TEST(identity_claims_condition)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const char *pol = policy_add(db, &w.sys, "support",
                                 "{\"effect\":\"allow\",\"actions\":[\"read\",\"list\"],"
                                 "\"resource\":\"memory\",\"conditions\":{\"custom_conditions\":"
                                 "{\"identity_claims\":{\"department\":\"support\","
                                 "\"levels\":[2]}}}}",
                                 10);
    make_identity(db, "acme", "s1", "support", "{\"department\":\"support\",\"levels\":[1,2,3]}");
    make_identity(db, "acme", "s2", "support", "{\"department\":\"sales\",\"levels\":[2]}");
    make_identity(db, "acme", "s3", "support", NULL);
    make_identity(db, "acme", "s4", "support", "{\"department\":\"support\",\"levels\":[1]}");
    mn_actor s1 = TH_ACTOR(.tenant = "acme", .identity = "s1");
    size_t n;
    list_ids(db, &s1, NULL, 0, &n);
    ck_assert_uint_eq(n, 4);
    mn_memory_free(th_get(db, &s1, w.b2, 0));
    const char *pid = NULL, *why = NULL;
    ck_assert(verdict(db, &s1, "read", "memory", NULL, &pid, &why));
    ck_assert_str_eq(pid, pol);
    const char *others[] = {"s2", "s3", "s4"};
    for (size_t i = 0; i < 3; i++) {
        mn_actor a = TH_ACTOR(.tenant = "acme", .identity = others[i]);
        mn_memory *m = NULL;
        mn_memories *l = NULL;
        DENIED(db, mn_memory_get(db, &a, w.b2, 0, &m), "claims");
        DENIED(db, mn_memory_list(db, &a, NULL, &l), "claims");
        ck_assert(!verdict(db, &a, "read", "memory", NULL, &pid, &why));
        ck_assert(th_has_word(why, pol));
    }
    mn_close(db);
}
END_TEST

START_TEST(when_rules)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    /* Role "scribe" may create memories of low importance, and read those tagged with its own
     * team claim when the context says it is on shift. */
    const char *create = policy_add(
        db, &w.sys, "scribe",
        "{\"effect\":\"allow\",\"actions\":[\"create\"],\"resource\":\"memory\","
        "\"when\":{\"and\":[{\"===\":[{\"var\":\"resource.identity_id\"},{\"var\":\"actor.id\"}]},"
        "{\"<\":[{\"var\":\"resource.importance\"},0.8]}]}}",
        10);
    const char *read = policy_add(
        db, &w.sys, "scribe",
        "{\"effect\":\"allow\",\"actions\":[\"read\",\"search\"],\"resource\":\"memory\","
        "\"when\":{\"and\":[{\"==\":[{\"var\":\"context.shift\"},\"on\"]},"
        "{\"==\":[{\"var\":\"resource.metadata.team\"},{\"var\":\"actor.claims.team\"}]},"
        "{\"in\":[{\"var\":\"action\"},[\"read\",\"search\"]]},"
        "{\"==\":[{\"var\":\"resource.kind\"},\"memory\"]}]}}",
        10);
    const char *sid = make_identity(db, "acme", "sam", "scribe", "{\"team\":\"red\"}");
    mn_actor on = TH_ACTOR(.tenant = "acme", .identity = "sam", .context = "{\"shift\":\"on\"}");
    mn_actor off = TH_ACTOR(.tenant = "acme", .identity = "sam", .context = "{\"shift\":\"off\"}");
    mn_memory_input low = {.version = MN_MEMORY_INPUT_VERSION,
                           .text = "sam low",
                           .importance = 0.5,
                           .metadata = "{\"team\":\"red\"}"};
    mn_memory_input high = {
        .version = MN_MEMORY_INPUT_VERSION, .text = "sam high", .importance = 0.9};
    mn_memory_input dflt = TH_IN(.text = "sam default importance");
    mn_memory_input other = TH_IN(.text = "sam for bob", .identity = "bob");
    const char *mine = th_add_in(db, &on, &low);
    th_add_in(db, &off, &dflt);
    mn_memory *m = NULL;
    DENIED(db, mn_memory_add(db, &on, &high, &m), create);
    ck_assert(th_has_word(mn_errmsg(db), "when"));
    DENIED(db, mn_memory_add(db, &on, &other, &m), create);
    const char *blue = add_typed(db, &w.sys, "bob", "blue team memory", "fact",
                                 "{\"team\":\"blue\"}");
    const char *red = add_typed(db, &w.sys, "bob", "red team memory", "fact",
                                "{\"team\":\"red\",\"x\":1}");
    mn_memory_free(th_get(db, &on, red, 0));
    mn_memory_free(th_get(db, &on, mine, 0));
    DENIED(db, mn_memory_get(db, &on, blue, 0, &m), read);
    DENIED(db, mn_memory_get(db, &off, red, 0, &m), read);
    size_t n;
    const char **got = search_ids(db, &on, "team memory", 1000, NULL, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert(th_ids_contain(got, n, red) && th_ids_contain(got, n, mine));
    got = search_ids(db, &off, "team memory", 1000, NULL, &n);
    ck_assert_uint_eq(n, 0);
    /* List is not in its actions. */
    mn_memories *l = NULL;
    DENIED(db, mn_memory_list(db, &on, NULL, &l), "no policy allows");
    /* Decisions see actor.id. */
    const char *pid = NULL;
    ck_assert(verdict(db, &on, "create", "memory",
                      th_fmt("{\"identity_id\":\"%s\",\"importance\":0.1}", sid), &pid, NULL));
    ck_assert_str_eq(pid, create);
    mn_close(db);
}
END_TEST

/* A rule stored before "when" had to be one operation, or written behind the library's back,
 * no longer compiles: it must not become what json-logic-js made of it (here an allow of
 * everything, {"==":..,"!":..} being a literal, truthy object), nor be left out (it could be a
 * deny). Every identity's call fails, saying why, until the system actor deals with it. */
START_TEST(stored_rule_that_no_longer_compiles)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const char *id = policy_add(db, &w.sys, "agent",
                                "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\","
                                "\"when\":{\"==\":[{\"var\":\"actor.role\"},\"none\"]}}", 10);
    mn_close(db);
    sqlite3 *s = NULL;
    ck_assert_int_eq(sqlite3_open(w.path, &s), SQLITE_OK);
    char *sql = sqlite3_mprintf("UPDATE policies SET rule = '{\"effect\":\"allow\",\"actions\":"
                                "\"*\",\"resource\":\"*\",\"when\":{\"==\":[1,2],\"!\":true}}' "
                                "WHERE id = %Q", id);
    ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_changes(s), 1);
    sqlite3_free(sql);
    sqlite3_close(s);

    db = th_open(w.path, NULL);
    mn_memory *m = NULL;
    mn_memories *l = NULL;
    mn_decision *d = NULL;
    mn_memory_input in = TH_IN(.text = "bob's new memory");
    FAILS(db, mn_memory_get(db, &w.as_bob, w.a1, 0, &m), MN_EINVAL, "do not compile");
    ck_assert_msg(th_has_word(mn_errmsg(db), id) && th_has_word(mn_errmsg(db), "when"), "%s",
                  mn_errmsg(db));
    FAILS(db, mn_memory_get(db, &w.as_bob, w.b2, 0, &m), MN_EINVAL, "do not compile");
    FAILS(db, mn_memory_list(db, &w.as_bob, NULL, &l), MN_EINVAL, "do not compile");
    FAILS(db, mn_memory_add(db, &w.as_bob, &in, &m), MN_EINVAL, "do not compile");
    FAILS(db, mn_policy_test(db, &w.as_root, "read", "memory", NULL, &d), MN_EINVAL,
          "do not compile");
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(l);
    /* The system actor is not decided: it may still see and deactivate the policy. */
    policy_set_active(db, &w.sys, id, 0);
    DENIED(db, mn_memory_get(db, &w.as_bob, w.a1, 0, &m), "no policy allows");
    mn_memory_free(th_get(db, &w.as_bob, w.b2, 0));
    mn_close(db);
}
END_TEST

/* Whether an identity exists is not for a filter to tell an identity: a list or search for the
 * memories of one that does not exist gives what one for an identity it may not see gives. */
START_TEST(filter_does_not_reveal_identities)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    char upper[37];
    snprintf(upper, sizeof upper, "%s", w.alice);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    const char *owners[] = {"alice", w.alice, "nosuch", UNKNOWN_ID, upper, "carl"};
    for (size_t i = 0; i < sizeof owners / sizeof *owners; i++) {
        mn_filter f = {.version = MN_FILTER_VERSION, .identity = owners[i]};
        size_t n = 99;
        list_ids(db, &w.as_bob, &f, 0, &n);
        ck_assert_msg(n == 0, "bob listing %s: %zu memories", owners[i], n);
        search_ids(db, &w.as_bob, "zebra", 10, &f, &n);
        ck_assert_msg(n == 0, "bob searching %s: %zu memories", owners[i], n);
    }
    /* An admin sees alice's, and nothing for the others. */
    mn_filter f = {.version = MN_FILTER_VERSION, .identity = "alice"};
    size_t n;
    list_ids(db, &w.as_root, &f, 0, &n);
    ck_assert_uint_eq(n, 2);
    f.identity = "nosuch";
    list_ids(db, &w.as_root, &f, 0, &n);
    ck_assert_uint_eq(n, 0);
    /* The system actor, who may know every identity, is told. */
    mn_memories *l = NULL;
    mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION, .filter = &f};
    FAILS(db, mn_memory_list(db, &w.sys, &lo, &l), MN_ENOTFOUND, "nosuch");
    mn_close(db);
}
END_TEST

START_TEST(time_restrictions_by_date)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    /* Dates far from today make these independent of the clock. */
    const char *past = policy_add(
        db, &w.sys, "temp",
        "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"memory\",\"conditions\":{"
        "\"time_restrictions\":{\"date_range\":{\"start\":\"2000-01-01\","
        "\"end\":\"2000-01-02\"}}}}",
        20);
    make_identity(db, "acme", "tim", "temp", NULL);
    mn_actor tim = TH_ACTOR(.tenant = "acme", .identity = "tim");
    mn_memory *m = NULL;
    DENIED(db, mn_memory_get(db, &tim, w.a1, 0, &m), "date_range");
    const char *why = NULL;
    ck_assert(!verdict(db, &tim, "read", "memory", NULL, NULL, &why));
    ck_assert(th_has_word(why, past));
    const char *always = policy_add(
        db, &w.sys, "temp",
        "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"memory\",\"conditions\":{"
        "\"time_restrictions\":{\"date_range\":{\"start\":\"2000-01-01\",\"end\":\"2999-12-31\"},"
        "\"days_of_week\":[\"Mon\",\"tuesday\",\"WEDNESDAY\",\"thu\",\"fri\",\"sat\",\"sun\"]}}}",
        10);
    const char *pid = NULL;
    ck_assert(verdict(db, &tim, "read", "memory", NULL, &pid, NULL));
    ck_assert_str_eq(pid, always);
    mn_memory_free(th_get(db, &tim, w.a1, 0));
    /* A deny in a window that is over does not apply either. */
    const char *old_deny = policy_add(
        db, &w.sys, "temp",
        "{\"effect\":\"deny\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
        "\"time_restrictions\":{\"date_range\":{\"start\":\"2001-01-01\","
        "\"end\":\"2001-12-31\"}}}}",
        99);
    (void)old_deny;
    mn_memory_free(th_get(db, &tim, w.a1, 0));
    mn_close(db);
}
END_TEST

/* ==== the decision cache ====================================================================== */

START_TEST(cache_follows_policy_changes)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    make_identity(db, "acme", "cora", "cached", NULL);
    mn_actor cora = TH_ACTOR(.tenant = "acme", .identity = "cora");
    mn_memory *m = NULL;
    mn_memories *l = NULL;
    /* Twice, so that the second comes from the cache. */
    for (int i = 0; i < 2; i++) {
        ck_assert(!verdict(db, &cora, "read", "memory", NULL, NULL, NULL));
        DENIED(db, mn_memory_get(db, &cora, w.a1, 0, &m), "no policy allows");
        DENIED(db, mn_memory_list(db, &cora, NULL, &l), "no policy allows");
    }
    const char *allow = policy_add(db, &w.sys, "cached", "{\"effect\":\"allow\",\"actions\":"
                                                         "[\"read\",\"list\"],\"resource\":"
                                                         "\"memory\"}", 1);
    mn_memory_free(th_get(db, &cora, w.a1, 0));
    mn_list_options all = {.version = MN_LIST_OPTIONS_VERSION, .filter = readable(NULL)};
    TH_OK(db, mn_memory_list(db, &cora, &all, &l));
    ck_assert_uint_eq(l->count, 4);
    mn_memories_free(l);
    const char *pid = NULL;
    ck_assert(verdict(db, &cora, "read", "memory", NULL, &pid, NULL));
    ck_assert_str_eq(pid, allow);

    policy_set_active(db, &w.sys, allow, 0);
    DENIED(db, mn_memory_get(db, &cora, w.a1, 0, &m), "no policy allows");
    DENIED(db, mn_memory_list(db, &cora, NULL, &l), "no policy allows");
    policy_set_active(db, &w.sys, allow, 1);
    mn_memory_free(th_get(db, &cora, w.a1, 0));

    /* A change of rule, role or priority is a change too. */
    mn_policy_changes ch = {.version = MN_POLICY_CHANGES_VERSION,
                            .set = MN_POLICY_SET_RULE,
                            .rule = "{\"effect\":\"deny\",\"actions\":[\"read\",\"list\"],"
                                    "\"resource\":\"memory\"}"};
    TH_OK(db, mn_policy_update(db, &w.sys, allow, &ch, NULL));
    DENIED(db, mn_memory_get(db, &cora, w.a1, 0, &m), allow);
    ch = (mn_policy_changes){.version = MN_POLICY_CHANGES_VERSION,
                             .set = MN_POLICY_SET_RULE,
                             .rule = "{\"effect\":\"allow\",\"actions\":[\"read\",\"list\"],"
                                     "\"resource\":\"memory\"}"};
    TH_OK(db, mn_policy_update(db, &w.sys, allow, &ch, NULL));
    mn_memory_free(th_get(db, &cora, w.a1, 0));
    ch = (mn_policy_changes){
        .version = MN_POLICY_CHANGES_VERSION, .set = MN_POLICY_SET_ROLE, .role = "someone-else"};
    TH_OK(db, mn_policy_update(db, &w.sys, allow, &ch, NULL));
    DENIED(db, mn_memory_get(db, &cora, w.a1, 0, &m), "no policy allows");
    ch = (mn_policy_changes){
        .version = MN_POLICY_CHANGES_VERSION, .set = MN_POLICY_SET_ROLE, .role = "cached"};
    TH_OK(db, mn_policy_update(db, &w.sys, allow, &ch, NULL));
    mn_memory_free(th_get(db, &cora, w.a1, 0));
    const char *deny = policy_add(db, &w.sys, "cached", "{\"effect\":\"deny\",\"actions\":"
                                                        "[\"read\"],\"resource\":\"memory\"}",
                                  -100);
    DENIED(db, mn_memory_get(db, &cora, w.a1, 0, &m), deny);
    TH_OK(db, mn_policy_delete(db, &w.sys, deny));
    mn_memory_free(th_get(db, &cora, w.a1, 0));

    TH_OK(db, mn_policy_delete(db, &w.sys, allow));
    DENIED(db, mn_memory_get(db, &cora, w.a1, 0, &m), "no policy allows");
    ck_assert(!verdict(db, &cora, "read", "memory", NULL, NULL, NULL));
    TH_RC(db, mn_policy_get(db, &w.sys, allow, &(mn_policy *){NULL}), MN_ENOTFOUND);

    /* The default agent policy, removed and put back. */
    mn_policies *pl = NULL;
    TH_OK(db, mn_policy_list(db, &w.sys, &pl));
    mn_memory_free(th_get(db, &w.as_alice, w.a1, 0));
    for (size_t i = 0; i < pl->count; i++)
        if (strcmp(pl->items[i]->role, "agent") == 0)
            policy_set_active(db, &w.sys, pl->items[i]->id, 0);
    DENIED(db, mn_memory_get(db, &w.as_alice, w.a1, 0, &m), "no policy allows");
    for (size_t i = 0; i < pl->count; i++)
        if (strcmp(pl->items[i]->role, "agent") == 0)
            policy_set_active(db, &w.sys, pl->items[i]->id, 1);
    mn_memory_free(th_get(db, &w.as_alice, w.a1, 0));
    mn_policies_free(pl);
    mn_close(db);
}
END_TEST

/* Another handle on the same file (as another process): its policy changes are seen at once. */
START_TEST(cache_sees_changes_by_another_handle)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    mn_db *other = th_open(w.path, NULL);
    mn_memory *m = NULL;
    /* alice may not read bob's memory; the denial is cached in db. */
    for (int i = 0; i < 3; i++)
        DENIED(db, mn_memory_get(db, &w.as_alice, w.b1, 0, &m), "no policy allows");
    const char *allow = policy_add(other, &w.sys, "agent", "{\"effect\":\"allow\",\"actions\":"
                                                          "[\"read\"],\"resource\":\"memory\"}",
                                   1);
    mn_memory_free(th_get(db, &w.as_alice, w.b1, 0));
    mn_memory_free(th_get(db, &w.as_alice, w.b1, 0));
    policy_set_active(other, &w.as_root, allow, 0);
    DENIED(db, mn_memory_get(db, &w.as_alice, w.b1, 0, &m), "no policy allows");
    policy_set_active(other, &w.sys, allow, 1);
    mn_memory_free(th_get(db, &w.as_alice, w.b1, 0));
    TH_OK(other, mn_policy_delete(other, &w.sys, allow));
    DENIED(db, mn_memory_get(db, &w.as_alice, w.b1, 0, &m), "no policy allows");

    /* And the other way round, with a deny, for list and search. */
    size_t n;
    list_ids(other, &w.as_alice, NULL, 0, &n);
    ck_assert_uint_eq(n, 2);
    const char *deny = policy_add(db, &w.as_root, "agent", "{\"effect\":\"deny\",\"actions\":"
                                                           "[\"list\",\"search\"],\"resource\":"
                                                           "\"memory\"}", 0);
    mn_memories *l = NULL;
    DENIED(other, mn_memory_list(other, &w.as_alice, NULL, &l), deny);
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "zebra"};
    DENIED(other, mn_memory_search(other, &w.as_alice, &so, &l), deny);
    TH_OK(db, mn_policy_delete(db, &w.as_root, deny));
    list_ids(other, &w.as_alice, NULL, 0, &n);
    ck_assert_uint_eq(n, 2);

    /* A third handle opened later sees the same. */
    mn_db *third = th_open(w.path, NULL);
    DENIED(third, mn_memory_get(third, &w.as_alice, w.b1, 0, &m), "no policy allows");
    mn_close(third);
    mn_close(other);
    mn_close(db);
}
END_TEST

/* ==== identities ============================================================================== */

START_TEST(deactivated_identity_is_denied)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    /* Cache alice's permissions first. */
    mn_memory_free(th_get(db, &w.as_alice, w.a1, 0));
    ck_assert(verdict(db, &w.as_alice, "read", "memory", memory_data(w.alice, "fact", NULL),
                      NULL, NULL));
    TH_OK(db, mn_identity_deactivate(db, &w.sys, "alice"));
    const mn_actor *a = &w.as_alice;
    mn_actor by_id = TH_ACTOR(.tenant = w.tenant, .identity = w.alice);
    mn_memory *m = NULL;
    mn_memories *l = NULL;
    mn_history *h = NULL;
    mn_decision *d = NULL;
    mn_memory_input in = TH_IN(.text = "x");
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "tea"};
    DENIED(db, mn_memory_get(db, a, w.a1, 0, &m), "deactivated");
    DENIED(db, mn_memory_get(db, &by_id, w.a1, 0, &m), "deactivated");
    DENIED(db, mn_memory_add(db, a, &in, &m), "deactivated");
    DENIED(db, mn_memory_list(db, a, NULL, &l), "deactivated");
    DENIED(db, mn_memory_search(db, a, &so, &l), "deactivated");
    mn_memory_changes ch = th_changes_of(&in);
    DENIED(db, mn_memory_update(db, a, w.a1, &ch, &m), "deactivated");
    DENIED(db, mn_memory_delete(db, a, w.a1, MN_DELETE_HARD), "deactivated");
    DENIED(db, mn_memory_history(db, a, w.a1, &h), "deactivated");
    DENIED(db, mn_policy_test(db, a, "read", "memory", NULL, &d), "deactivated");
    ck_assert_ptr_null(d);
    /* An admin too. */
    TH_OK(db, mn_identity_deactivate(db, &w.as_root, "root"));
    DENIED(db, mn_memory_get(db, &w.as_root, w.a1, 0, &m), "deactivated");
    mn_policy_input pi = {.version = MN_POLICY_INPUT_VERSION,
                          .role = "agent",
                          .rule = "{\"effect\":\"allow\",\"actions\":\"*\","
                                  "\"resource\":\"*\"}"};
    DENIED(db, mn_policy_add(db, &w.as_root, &pi, NULL), "deactivated");
    /* Their memories stay, for the system actor. */
    mn_memory_free(th_get(db, &w.sys, w.a1, 0));
    mn_close(db);
}
END_TEST

START_TEST(identity_calls_are_decided)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;
    mn_identity *i = NULL;
    mn_identities *il = NULL;
    /* The default lets an agent read its own identity, and nothing else. */
    TH_OK(db, mn_identity_get(db, a, "alice", &i));
    ck_assert_str_eq(i->id, w.alice);
    mn_identity_free(i);
    TH_OK(db, mn_identity_get(db, a, w.alice, &i));
    mn_identity_free(i);
    DENIED(db, mn_identity_get(db, a, "bob", &i), NOT_ALLOWED);
    ck_assert_ptr_null(i);
    DENIED(db, mn_identity_get(db, a, "root", &i), NOT_ALLOWED);
    DENIED(db, mn_identity_create(db, a, "mallory", "admin", NULL, &i), NOT_ALLOWED);
    DENIED(db, mn_identity_create(db, a, "mallory", NULL, NULL, &i), NOT_ALLOWED);
    DENIED(db, mn_identity_list(db, a, &il), NOT_ALLOWED);
    ck_assert_ptr_null(il);
    DENIED(db, mn_identity_deactivate(db, a, "bob"), NOT_ALLOWED);
    DENIED(db, mn_identity_deactivate(db, a, "alice"), NOT_ALLOWED);
    DENIED(db, mn_identity_delete(db, a, "bob"), NOT_ALLOWED);
    DENIED(db, mn_identity_delete(db, a, "alice"), NOT_ALLOWED);
    /* A policy can grant identity rights to agents, conditionally. */
    policy_add(db, &w.sys, "agent", "{\"effect\":\"allow\",\"actions\":[\"create\"],"
                                    "\"resource\":\"identity\",\"when\":{\"==\":["
                                    "{\"var\":\"resource.role\"},\"agent\"]}}", 1);
    DENIED(db, mn_identity_create(db, a, "mallory", "admin", NULL, &i), NOT_ALLOWED);
    TH_OK(db, mn_identity_create(db, a, "helper", NULL, NULL, &i));
    ck_assert_str_eq(i->role, "agent");
    mn_identity_free(i);
    /* Admins do everything (admin_may_do_everything); the system actor too. */
    mn_close(db);
}
END_TEST

/* ==== managing policies ======================================================================= */

START_TEST(policy_management_rights)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;
    mn_policies *pl = NULL;
    TH_OK(db, mn_policy_list(db, &w.sys, &pl));
    const char *some = th_fmt("%s", pl->items[1]->id);
    mn_policies_free(pl);
    pl = NULL;
    mn_policy_input grant = {.version = MN_POLICY_INPUT_VERSION,
                             .role = "agent",
                             .rule = "{\"effect\":\"allow\",\"actions\":\"*\","
                                     "\"resource\":\"*\"}",
                             .priority = 1000};
    mn_policy *p = NULL;
    DENIED(db, mn_policy_add(db, a, &grant, &p), NOT_ALLOWED);
    ck_assert_ptr_null(p);
    mn_policy_changes off = {
        .version = MN_POLICY_CHANGES_VERSION, .set = MN_POLICY_SET_ACTIVE, .active = 0};
    DENIED(db, mn_policy_update(db, a, some, &off, &p), NOT_ALLOWED);
    DENIED(db, mn_policy_delete(db, a, some), NOT_ALLOWED);
    DENIED(db, mn_policy_list(db, a, &pl), NOT_ALLOWED);
    ck_assert_ptr_null(pl);
    DENIED(db, mn_policy_get(db, a, some, &p), NOT_ALLOWED);
    ck_assert_ptr_null(p);
    ck_assert(th_has_word(mn_errmsg(db), "policy"));

    /* The admin can; a policy can grant agents read access to policies. */
    const char *g = policy_add(db, &w.as_root, "agent", "{\"effect\":\"allow\",\"actions\":"
                                                        "[\"read\",\"list\"],\"resource\":"
                                                        "\"policy\"}", 0);
    TH_OK(db, mn_policy_list(db, a, &pl));
    ck_assert_uint_eq(pl->count, 4);
    mn_policies_free(pl);
    TH_OK(db, mn_policy_get(db, a, g, &p));
    mn_policy_free(p);
    DENIED(db, mn_policy_update(db, a, g, &off, NULL), NOT_ALLOWED);
    DENIED(db, mn_policy_delete(db, a, g), NOT_ALLOWED);
    mn_policy_changes ch = {.version = MN_POLICY_CHANGES_VERSION,
                            .set = MN_POLICY_SET_DESCRIPTION | MN_POLICY_SET_PRIORITY,
                            .description = "granted by root",
                            .priority = 7};
    TH_OK(db, mn_policy_update(db, &w.as_root, g, &ch, &p));
    ck_assert_str_eq(p->description, "granted by root");
    ck_assert_int_eq(p->priority, 7);
    ck_assert_int_eq(p->active, 1);
    ck_assert_str_eq(p->role, "agent");
    ck_assert(p->updated_at >= p->created_at);
    mn_policy_free(p);
    TH_OK(db, mn_policy_delete(db, &w.as_root, g));
    TH_RC(db, mn_policy_delete(db, &w.as_root, g), MN_ENOTFOUND);
    DENIED(db, mn_policy_list(db, a, &pl), NOT_ALLOWED);
    /* Another tenant's admin is not this tenant's. */
    make_identity(db, "globex", "groot", "admin", NULL);
    mn_actor groot = TH_ACTOR(.tenant = "globex", .identity = "groot");
    FAILS(db, mn_policy_delete(db, &groot, some), MN_ENOTFOUND, "policy");
    mn_close(db);
}
END_TEST

START_TEST(bad_policy_input)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const char *good = "{\"effect\":\"allow\",\"actions\":[\"read\"],\"resource\":\"memory\"}";
    struct {
        const char *role, *rule, *words;
    } cases[] = {
        {NULL, good, "role"},
        {"agent", NULL, "rule"},
        {"", good, "role"},
        {"bad\nrole", good, "role"},
        {"agent", "[1,2]", "object"},
        {"agent", "\"allow\"", "object"},
        {"agent", "not json", "json|rule"},
        {"agent", "{\"effect\":\"allow\",", "json|rule"},
        {"agent", "", "json|rule|empty"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"foo\":1}", "foo"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\","
                  "\"conditions\":{\"colour\":[1]}}", "colour"},
        {"agent", "{\"effect\":\"perhaps\",\"actions\":\"*\",\"resource\":\"*\"}", "effect"},
        {"agent", "{\"actions\":\"*\",\"resource\":\"*\"}", "effect"},
        {"agent", "{\"effect\":\"allow\",\"resource\":\"*\"}", "actions"},
        {"agent", "{\"effect\":\"allow\",\"actions\":[],\"resource\":\"*\"}", "actions"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\"}", "resource"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"\"}", "resource"},
        {"agent", "{\"effect\":\"allow\",\"effect\":\"deny\",\"actions\":\"*\",\"resource\":\"*\"}",
         "duplicate"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.0/8\",\"10.0.0.0/33\"]}}}",
         "10.0.0.0/33"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"ip_restrictions\":{\"allowed_ranges\":[\"10.0.0.1/8\"]}}}", "10.0.0.1/8"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"ip_restrictions\":{\"allowed_ranges\":[\"2001:db8::/129\"]}}}",
         "2001:db8::/129"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"ip_restrictions\":{\"allowed_ips\":[\"300.1.1.1\"]}}}", "300.1.1.1"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"ip_restrictions\":{}}}", "ip_restrictions"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"time_restrictions\":{\"time_of_day\":{\"start\":\"25:00\","
                  "\"end\":\"17:00\"}}}}",
         "25:00"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"time_restrictions\":{\"time_of_day\":{\"start\":\"09:00\","
                  "\"end\":\"09:00\"}}}}",
         "time_of_day"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"time_restrictions\":{\"time_of_day\":{\"start\":\"9am\",\"end\":\"17:00\"}}}}",
         "9am"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"time_restrictions\":{\"days_of_week\":[\"funday\"]}}}", "funday"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"time_restrictions\":{\"date_range\":{\"start\":\"2026-13-01\","
                  "\"end\":\"2026-12-31\"}}}}", "2026-13-01"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"time_restrictions\":{\"date_range\":{\"start\":\"2026-12-31\","
                  "\"end\":\"2026-01-01\"}}}}", "date_range"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"resource_conditions\":{\"memory_types\":[]}}}", "memory_types"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"resource_conditions\":{\"metadata_requirements\":[1]}}}",
         "metadata_requirements"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"custom_conditions\":{\"identity_claims\":\"x\"}}}", "identity_claims"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\",\"conditions\":{"
                  "\"roles\":[\"\"]}}", "roles"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\","
                  "\"when\":{\"and\":[true,{\"=~\":[1,2]}]}}", "=~"},
        {"agent", "{\"effect\":\"allow\",\"actions\":\"*\",\"resource\":\"*\","
                  "\"when\":{\"!\":[1,2]}}", "when"},
    };
    const mn_actor *actors[] = {&w.sys, &w.as_root};
    size_t npol;
    policies_fp(db, &npol);
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            mn_policy_input in = {
                .version = MN_POLICY_INPUT_VERSION, .role = cases[i].role, .rule = cases[i].rule};
            mn_policy *p = (mn_policy *)0;
            INVALID(db, mn_policy_add(db, actors[k], &in, &p), cases[i].words);
            ck_assert_ptr_null(p);
        }
        mn_policy_input in = {
            .version = MN_POLICY_INPUT_VERSION, .role = "agent", .rule = good, .inactive = 2};
        INVALID(db, mn_policy_add(db, actors[k], &in, NULL), "inactive");
        in = (mn_policy_input){
            .version = MN_POLICY_INPUT_VERSION, .role = th_fmt("%065d", 0), .rule = good};
        INVALID(db, mn_policy_add(db, actors[k], &in, NULL), "role");
        in = (mn_policy_input){.version = MN_POLICY_INPUT_VERSION,
                               .role = "agent",
                               .rule = good,
                               .description = "a\tb"};
        INVALID(db, mn_policy_add(db, actors[k], &in, NULL), "description");
        in = (mn_policy_input){.version = MN_POLICY_INPUT_VERSION,
                               .role = "agent",
                               .rule = "{\"effect\":\"allow\",\"actions\":"
                                       "[\"\xff\"],\"resource\":\"*\"}"};
        INVALID(db, mn_policy_add(db, actors[k], &in, NULL), "utf-8");
        INVALID(db, mn_policy_add(db, actors[k], NULL, NULL), "input");
    }
    size_t after;
    policies_fp(db, &after);
    ck_assert_uint_eq(after, npol);

    /* Updates: the same checks, and the policy stays as it was. */
    const char *id = policy_add(db, &w.sys, "agent", good, 3);
    for (size_t i = 2; i < sizeof cases / sizeof *cases; i++) {
        if (!cases[i].rule || !cases[i].role)
            continue;
        mn_policy_changes ch = {
            .version = MN_POLICY_CHANGES_VERSION, .set = MN_POLICY_SET_RULE, .rule = cases[i].rule};
        if (strcmp(cases[i].role, "agent") != 0)
            ch = (mn_policy_changes){.version = MN_POLICY_CHANGES_VERSION,
                                     .set = MN_POLICY_SET_ROLE,
                                     .role = cases[i].role};
        INVALID(db, mn_policy_update(db, &w.sys, id, &ch, NULL), cases[i].words);
    }
    mn_policy_changes nothing = MN_POLICY_CHANGES_INIT;
    INVALID(db, mn_policy_update(db, &w.sys, id, &nothing, NULL), "nothing|changes");
    mn_policy_changes ch = {
        .version = MN_POLICY_CHANGES_VERSION, .set = MN_POLICY_SET_ACTIVE, .active = -1};
    INVALID(db, mn_policy_update(db, &w.sys, id, &ch, NULL), "active");
    INVALID(db, mn_policy_update(db, &w.sys, id, NULL, NULL), "changes");
    INVALID(db,
            mn_policy_update(db, &w.sys, "not-an-id",
                             &(mn_policy_changes){.version = MN_POLICY_CHANGES_VERSION,
                                                  .set = MN_POLICY_SET_PRIORITY,
                                                  .priority = 1},
                             NULL),
            "id");
    FAILS(db,
          mn_policy_update(db, &w.sys, UNKNOWN_ID,
                           &(mn_policy_changes){.version = MN_POLICY_CHANGES_VERSION,
                                                .set = MN_POLICY_SET_PRIORITY,
                                                .priority = 1},
                           NULL),
          MN_ENOTFOUND, "policy");
    FAILS(db, mn_policy_delete(db, &w.sys, UNKNOWN_ID), MN_ENOTFOUND, "policy");
    INVALID(db, mn_policy_delete(db, &w.sys, "nope"), "id");
    INVALID(db, mn_policy_delete(db, &w.sys, NULL), "id");
    mn_policy *p = NULL;
    FAILS(db, mn_policy_get(db, &w.sys, UNKNOWN_ID, &p), MN_ENOTFOUND, "policy");
    INVALID(db, mn_policy_get(db, &w.sys, "x", &p), "id");
    INVALID(db, mn_policy_get(db, &w.sys, id, NULL), "out");
    INVALID(db, mn_policy_list(db, &w.sys, NULL), "out");
    mn_actor nobody = TH_ACTOR(.tenant = "nope");
    FAILS(db,
          mn_policy_add(
              db, &nobody,
              &(mn_policy_input){.version = MN_POLICY_INPUT_VERSION, .role = "a", .rule = good},
              NULL),
          MN_ENOTFOUND, "tenant|nope");
    TH_OK(db, mn_policy_get(db, &w.sys, id, &p));
    ck_assert(th_json_eq(p->rule, good));
    ck_assert_int_eq(p->priority, 3);
    ck_assert_str_eq(p->role, "agent");
    mn_policy_free(p);

    /* Good policies round-trip; rule stored as compact JSON; "*" as role. */
    mn_policy_input in = {.version = MN_POLICY_INPUT_VERSION,
                          .role = "*",
                          .rule = "{ \"effect\" : \"deny\", \"actions\" : [\"x\"],"
                                  " \"resource\" : \"thing\" }",
                          .description = "unicode é ok",
                          .inactive = 1};
    TH_OK(db, mn_policy_add(db, &w.sys, &in, &p));
    ck_assert_str_eq(p->role, "*");
    ck_assert_int_eq(p->active, 0);
    ck_assert_int_eq(p->priority, 0);
    ck_assert_str_eq(p->description, "unicode é ok");
    ck_assert(th_json_eq(p->rule, in.rule));
    ck_assert_ptr_null(strchr(p->rule, ' '));
    mn_policy_free(p);
    mn_close(db);
}
END_TEST

/* ==== mn_policy_test ========================================================================== */

START_TEST(policy_test_is_a_dry_run)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;
    mn_policies *pl = NULL;
    TH_OK(db, mn_policy_list(db, &w.sys, &pl));
    const char *admin_pol = NULL, *mem_pol = NULL;
    for (size_t i = 0; i < pl->count; i++) {
        if (strcmp(pl->items[i]->role, "admin") == 0)
            admin_pol = th_fmt("%s", pl->items[i]->id);
        else if (strstr(pl->items[i]->rule, "\"memory\""))
            mem_pol = th_fmt("%s", pl->items[i]->id);
    }
    mn_policies_free(pl);
    ck_assert(admin_pol && mem_pol);

    th_state before, after;
    th_state_get(db, &before);
    uint64_t pols = policies_fp(db, NULL);
    const char *pid = NULL, *why = NULL;
    /* Own memory: allowed by the default agent policy. */
    ck_assert(verdict(db, a, "delete", "memory", memory_data(w.alice, "fact", NULL), &pid, &why));
    ck_assert_str_eq(pid, mem_pol);
    ck_assert(th_has_word(why, "allowed by policy"));
    ck_assert(th_has_word(why, mem_pol));
    /* Someone else's: no policy allows it, and the reason says which did not apply and why. */
    ck_assert(!verdict(db, a, "delete", "memory", memory_data(w.bob, "fact", NULL), &pid, &why));
    ck_assert_ptr_null(pid);
    ck_assert(th_has_word(why, "no policy allows delete on memory"));
    ck_assert(th_has_word(why, "agent"));
    ck_assert(th_has_word(why, mem_pol));
    /* Without data: allowed subject to each memory. */
    ck_assert(verdict(db, a, "read", "memory", NULL, &pid, &why));
    ck_assert_str_eq(pid, mem_pol);
    ck_assert(th_has_word(why, "subject to"));
    /* Actions and resources no policy names. */
    ck_assert(!verdict(db, a, "fly", "memory", NULL, &pid, &why));
    ck_assert(!verdict(db, a, "read", "api_key", "{}", &pid, &why));
    ck_assert(!verdict(db, a, "create", "policy", NULL, &pid, &why));
    /* The admin. */
    ck_assert(verdict(db, &w.as_root, "fly", "kite", "{\"x\":[1]}", &pid, &why));
    ck_assert_str_eq(pid, admin_pol);
    /* A deny names itself. */
    const char *deny = policy_add(db, &w.sys, "admin", "{\"effect\":\"deny\",\"actions\":"
                                                       "[\"fly\"],\"resource\":\"kite\"}", 1);
    th_state_get(db, &before);
    pols = policies_fp(db, NULL);
    ck_assert(!verdict(db, &w.as_root, "fly", "kite", NULL, &pid, &why));
    ck_assert_str_eq(pid, deny);
    ck_assert(th_has_word(why, "denied by policy"));
    ck_assert(th_has_word(why, deny));
    ck_assert(verdict(db, &w.as_root, "land", "kite", NULL, &pid, &why));
    ck_assert_str_eq(pid, admin_pol);
    /* Nothing was done by any of this. */
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "mn_policy_test");
    ck_assert(policies_fp(db, NULL) == pols);

    /* Bad calls. */
    mn_decision *d = (mn_decision *)1;
    INVALID(db, mn_policy_test(db, a, NULL, "memory", NULL, &d), "action");
    ck_assert_ptr_null(d);
    INVALID(db, mn_policy_test(db, a, "", "memory", NULL, &d), "action");
    INVALID(db, mn_policy_test(db, a, "read", NULL, NULL, &d), "resource");
    INVALID(db, mn_policy_test(db, a, "read", "memory", "[1]", &d), "resource_data");
    INVALID(db, mn_policy_test(db, a, "read", "memory", "{bad", &d), "resource_data");
    INVALID(db, mn_policy_test(db, a, "read", "memory", NULL, NULL), "out");
    INVALID(db, mn_policy_test(db, NULL, "read", "memory", NULL, &d), "tenant");
    mn_actor ghost = TH_ACTOR(.tenant = "acme", .identity = "ghost");
    FAILS(db, mn_policy_test(db, &ghost, "read", "memory", NULL, &d), MN_ENOTFOUND,
          "identity|ghost");
    ck_assert_ptr_null(d);
    ck_assert_int_eq(mn_policy_test(NULL, a, "read", "memory", NULL, &d), MN_EINVAL);
    mn_decision_free(NULL);
    mn_close(db);
}
END_TEST

/* ==== mn_jsonlogic_apply ====================================================================== */

static const char *jl(const char *rule, const char *data)
{
    char *out = NULL;
    int rc = mn_jsonlogic_apply(rule, data, &out);
    ck_assert_msg(rc == MN_OK, "%s on %s: rc %d: %s", rule, data ? data : "NULL", rc,
                  mn_errmsg(NULL));
    ck_assert_ptr_nonnull(out);
    const char *r = th_fmt("%s", out);
    mn_free(out);
    return r;
}

static void jl_bad(const char *rule, const char *data, int want, const char *words)
{
    char *out = (char *)1;
    TH_RC(NULL, mn_jsonlogic_apply(rule, data, &out), want);
    const char *err = mn_errmsg(NULL);
    ck_assert_msg(th_has_word(err, words), "%s: message \"%s\" names none of %s",
                  rule ? rule : "NULL", err, words);
    if (rule)
        ck_assert_ptr_null(out);
}

START_TEST(jsonlogic_apply)
{
    ck_assert_str_eq(jl("{\"+\":[1,2]}", NULL), "3");
    ck_assert_str_eq(jl("{\"var\":\"a.b\"}", "{\"a\":{\"b\":\"x\"}}"), "\"x\"");
    ck_assert_str_eq(jl("{\"var\":[\"missing\",42]}", "{}"), "42");
    ck_assert_str_eq(jl("{\"var\":\"a\"}", NULL), "null");
    ck_assert_str_eq(jl("{\"var\":1}", "[\"p\",\"q\"]"), "\"q\"");
    ck_assert_str_eq(jl("{\"if\":[{\"<\":[{\"var\":\"t\"},0]},\"cold\",\"warm\"]}", "{\"t\":-5}"),
                     "\"cold\"");
    ck_assert_str_eq(jl("{\"in\":[\"Spring\",\"Springfield\"]}", NULL), "true");
    ck_assert_str_eq(jl("{\"==\":[1,\"1\"]}", NULL), "true");
    ck_assert_str_eq(jl("{\"===\":[1,\"1\"]}", NULL), "false");
    ck_assert_str_eq(jl("{\"<\":[1,{\"var\":\"x\"},3]}", "{\"x\":2}"), "true");
    ck_assert_str_eq(jl("{\"map\":[{\"var\":\"xs\"},{\"*\":[{\"var\":\"\"},2]}]}",
                        "{\"xs\":[1,2,3]}"), "[2,4,6]");
    ck_assert_str_eq(jl("{\"reduce\":[[1,2,3,4],{\"+\":[{\"var\":\"current\"},"
                        "{\"var\":\"accumulator\"}]},0]}", NULL), "10");
    ck_assert_str_eq(jl("{\"cat\":[\"a\",1,\"b\"]}", NULL), "\"a1b\"");
    ck_assert_str_eq(jl("{\"missing\":[\"a\",\"b\"]}", "{\"a\":1}"), "[\"b\"]");
    ck_assert_str_eq(jl("{\"merge\":[[1],2,[3,[4]]]}", NULL), "[1,2,3,[4]]");
    ck_assert_str_eq(jl("{\"!!\":[[]]}", NULL), "false");
    ck_assert_str_eq(jl("42", NULL), "42");
    ck_assert_str_eq(jl("{\"a\":1,\"b\":2}", NULL), "{\"a\":1,\"b\":2}");
    ck_assert_str_eq(jl("{\"substr\":[\"jsonlogic\",4]}", NULL), "\"logic\"");
    ck_assert_str_eq(jl("{\"/\":[1,0]}", NULL), "null"); /* Infinity prints as null */
    /* The data a policy "when" sees, by hand. */
    ck_assert_str_eq(jl("{\"and\":[{\"!!\":{\"var\":\"actor.id\"}},{\"===\":[{\"var\":"
                        "\"resource.identity_id\"},{\"var\":\"actor.id\"}]}]}",
                        "{\"actor\":{\"id\":\"u1\"},\"resource\":{\"identity_id\":\"u1\"}}"),
                     "true");

    jl_bad("{\"=~\":[1,2]}", NULL, MN_EINVAL, "=~");
    jl_bad("{\"and\":[true,{\"=~\":[1,2]}]}", NULL, MN_EINVAL, "and[1]");
    jl_bad("{\"!\":[1,2]}", NULL, MN_EINVAL, "argument");
    jl_bad("{\"+\":[1,2]", NULL, MN_EINVAL, "json|parse|rule");
    jl_bad("", NULL, MN_EINVAL, "json|parse|rule|empty");
    jl_bad("{\"var\":\"a\"}", "{bad", MN_EINVAL, "data");
    jl_bad(NULL, NULL, MN_EINVAL, "rule");
    /* Nesting past the limit (64). */
    char deep[1024] = "";
    for (int i = 0; i < 100; i++)
        strcat(deep, "{\"!\":");
    strcat(deep, "true");
    for (int i = 0; i < 100; i++)
        strcat(deep, "}");
    jl_bad(deep, NULL, MN_EINVAL, "deep|nest|depth|level");
    /* A reduce that doubles an array at each step runs out of room. */
    char xs[512] = "{\"xs\":[0";
    for (int i = 1; i < 60; i++)
        strcat(xs, ",0");
    strcat(xs, "]}");
    jl_bad("{\"reduce\":[{\"var\":\"xs\"},{\"merge\":[{\"var\":\"accumulator\"},"
           "{\"var\":\"accumulator\"}]},[1]]}", xs, MN_ERANGE, "limit|memory|steps|bytes");
    /* result NULL */
    TH_RC(NULL, mn_jsonlogic_apply("true", NULL, NULL), MN_EINVAL);
    ck_assert(th_has_word(mn_errmsg(NULL), "result"));
    /* A success leaves the failure before it reported, as errno does. */
    ck_assert_str_eq(jl("true", NULL), "true");
    ck_assert_int_eq(mn_errcode(NULL), MN_EINVAL);
    ck_assert(th_has_word(mn_errmsg(NULL), "result"));
}
END_TEST

/* ==== calls on no resource in particular ========================================================
 * A purge, an identity list and every policy call are decided without the resource's data. An
 * allow with conditions on the resource then holds only "subject to each resource's own
 * conditions" (policy.h), and a deny with such conditions is passed over: neither may turn a
 * conditional rule into a blanket grant. */

/* An agent whose delete right depends on the memory (the default: its own) must not be able to
 * purge other agents' expired memories: the purge is either refused (MN_EDENIED) or limited to
 * the memories it may delete. */
START_TEST(purge_respects_ownership)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    expire_now(w.path, w.b1);
    expire_now(w.path, w.a1);
    size_t purged = 99;
    /* Twice: the second decision comes from the cache, and must be the same. */
    for (int round = 0; round < 2; round++) {
        int rc = mn_memory_purge_expired(db, &w.as_alice, &purged);
        mn_memory *m = NULL;
        int b1 = mn_memory_get(db, &w.sys, w.b1, MN_WITH_EXPIRED, &m);
        mn_memory_free(m);
        ck_assert_msg(b1 == MN_OK, "alice's purge %d (rc %d, purged %zu) hard-deleted bob's "
                      "memory", round, rc, purged);
        ck_assert(rc == MN_OK || rc == MN_EDENIED);
    }
    mn_memory *m = NULL;
    /* The admin may purge them all. */
    TH_OK(db, mn_memory_purge_expired(db, &w.as_root, &purged));
    TH_RC(db, mn_memory_get(db, &w.sys, w.b1, MN_WITH_EXPIRED, &m), MN_ENOTFOUND);
    mn_close(db);
}
END_TEST

/* Policy calls: a grant on agent policies only is no grant on the admin's; a deny on admin
 * policies is not skipped. */
START_TEST(conditional_grant_is_not_blanket)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;
    /* Agents may manage agent policies only. */
    policy_add(db, &w.sys, "agent", "{\"effect\":\"allow\",\"actions\":[\"read\",\"update\","
                                    "\"delete\"],\"resource\":\"policy\",\"when\":{\"==\":["
                                    "{\"var\":\"resource.role\"},\"agent\"]}}", 1);
    mn_policies *pl = NULL;
    TH_OK(db, mn_policy_list(db, &w.sys, &pl));
    const char *admin_pol = NULL;
    for (size_t i = 0; i < pl->count; i++)
        if (strcmp(pl->items[i]->role, "admin") == 0)
            admin_pol = th_fmt("%s", pl->items[i]->id);
    mn_policies_free(pl);
    mn_policy *p = NULL;
    DENIED(db, mn_policy_delete(db, a, admin_pol), NOT_ALLOWED);
    mn_policy_changes ch = {
        .version = MN_POLICY_CHANGES_VERSION, .set = MN_POLICY_SET_ROLE, .role = "agent"};
    DENIED(db, mn_policy_update(db, a, admin_pol, &ch, NULL), NOT_ALLOWED);
    DENIED(db, mn_policy_get(db, a, admin_pol, &p), NOT_ALLOWED);
    mn_policy_free(p);
    /* The same with a deny: agents may manage policies, except the admins'. */
    policy_add(db, &w.sys, "agent", "{\"effect\":\"allow\",\"actions\":[\"delete\"],"
                                    "\"resource\":\"policy\"}", 2);
    const char *keep = policy_add(db, &w.sys, "agent", "{\"effect\":\"deny\",\"actions\":"
                                                       "[\"delete\"],\"resource\":\"policy\","
                                                       "\"when\":{\"==\":[{\"var\":"
                                                       "\"resource.role\"},\"admin\"]}}", 2);
    (void)keep;
    DENIED(db, mn_policy_delete(db, a, admin_pol), NOT_ALLOWED);
    mn_close(db);
}
END_TEST

START_TEST(conditional_identity_list_is_not_blanket)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.as_alice;
    /* Agents may list identities: their own only. */
    policy_add(db, &w.sys, "agent", "{\"effect\":\"allow\",\"actions\":[\"list\"],"
                                    "\"resource\":\"identity\",\"when\":{\"===\":["
                                    "{\"var\":\"resource.id\"},{\"var\":\"actor.id\"}]}}", 1);
    mn_identities *il = NULL;
    int rc = mn_identity_list(db, a, &il);
    ck_assert(rc == MN_OK || rc == MN_EDENIED);
    for (size_t i = 0; rc == MN_OK && i < il->count; i++)
        ck_assert_msg(strcmp(il->items[i]->id, w.alice) == 0,
                      "alice's identity list shows %s", il->items[i]->external_id);
    mn_identities_free(il);
    mn_close(db);
}
END_TEST

/* ==== open issues ===============================================================================
 * What a caller would expect, where the library (as of this suite) does otherwise; see the
 * report that came with this file. */

/* A deny on list or search with a resource condition never takes effect: list and search decide
 * "list"/"search" without data (where such a deny "does not apply") and then only "read" per
 * memory. policy.h says a partial verdict must be decided again resource by resource; the rule
 * is accepted and silently does nothing. Either hide what it covers, or refuse the rule. */
START_TEST(deny_list_search_with_resource_condition)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    mn_actor *b = &w.as_bob;
    mn_policy_input in = {.version = MN_POLICY_INPUT_VERSION,
                          .role = "agent",
                          .rule = "{\"effect\":\"deny\",\"actions\":[\"list\",\"search\"],"
                                  "\"resource\":\"memory\",\"conditions\":{"
                                  "\"resource_conditions\":{\"memory_types\":[\"secret\"]}}}"};
    int rc = mn_policy_add(db, &w.sys, &in, NULL);
    ck_assert_msg(rc == MN_OK || rc == MN_EINVAL, "rc %d: %s", rc, mn_errmsg(db));
    if (rc == MN_EINVAL) { /* refused as a rule that could never apply: fine */
        mn_close(db);
        return;
    }
    size_t n;
    const char **got = list_ids(db, b, NULL, 0, &n);
    ck_assert_msg(!th_ids_contain(got, n, w.b2), "list shows a memory a deny on list covers");
    got = search_ids(db, b, "bob secret zebra plan", 10, NULL, &n);
    ck_assert_msg(!th_ids_contain(got, n, w.b2), "search shows a memory a deny on search covers");
    mn_memory_free(th_get(db, b, w.b2, 0)); /* reading it by id is still allowed */
    mn_close(db);
}
END_TEST

/* An update returns the memory as it now is (out): only to an actor who may read it. Today an
 * identity allowed to update but not to read gets the whole memory, text included. */
START_TEST(update_out_needs_read)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    policy_add(db, &w.sys, "editor", "{\"effect\":\"allow\",\"actions\":[\"update\"],"
                                     "\"resource\":\"memory\"}", 1);
    make_identity(db, "acme", "ed", "editor", NULL);
    mn_actor ed = TH_ACTOR(.tenant = "acme", .identity = "ed");
    mn_memory *m = NULL;
    DENIED(db, mn_memory_get(db, &ed, w.b2, 0, &m), NOT_ALLOWED);
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_IMPORTANCE, .importance = 0.1};
    TH_OK(db, mn_memory_update(db, &ed, w.b2, &ch, NULL));
    int rc = mn_memory_update(db, &ed, w.b2, &ch, &m);
    ck_assert_msg(rc == MN_EDENIED || (rc == MN_OK && m == NULL),
                  "update handed back a memory ed may not read (rc %d, text \"%s\")", rc,
                  m && m->text ? m->text : "");
    mn_memory_free(m);
    mn_close(db);
}
END_TEST

static Suite *policy_api_suite(void)
{
    Suite *s = suite_create("policy_api");
    TCase *tc = tcase_create("enforcement");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, new_tenant_has_default_policies);
    tcase_add_test(tc, older_tenants_get_default_policies_once);
    tcase_add_test(tc, agent_manages_own_memories);
    tcase_add_test(tc, agent_cannot_touch_others_memories);
    tcase_add_test(tc, list_and_search_hide_others_memories);
    tcase_add_test(tc, admin_may_do_everything);
    tcase_add_test(tc, system_actor_is_never_asked);
    tcase_add_test(tc, deny_create_at_any_priority);
    tcase_add_test(tc, add_many_with_one_forbidden_type);
    tcase_add_test(tc, update_decided_before_and_after);
    tcase_add_test(tc, resource_conditions_filter_results);
    tcase_add_test(tc, deny_with_resource_condition_hides_own);
    tcase_add_test(tc, list_reads_a_bounded_number_of_hidden_rows);
    suite_add_tcase(s, tc);
    tc = tcase_create("conditions");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ip_restrictions_ipv4_ipv6);
    tcase_add_test(tc, malformed_ip_meets_denies);
    tcase_add_test(tc, malformed_context_is_einval);
    tcase_add_test(tc, identity_claims_condition);
    tcase_add_test(tc, when_rules);
    tcase_add_test(tc, time_restrictions_by_date);
    suite_add_tcase(s, tc);
    tc = tcase_create("management");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cache_follows_policy_changes);
    tcase_add_test(tc, cache_sees_changes_by_another_handle);
    tcase_add_test(tc, stored_rule_that_no_longer_compiles);
    tcase_add_test(tc, filter_does_not_reveal_identities);
    tcase_add_test(tc, deactivated_identity_is_denied);
    tcase_add_test(tc, identity_calls_are_decided);
    tcase_add_test(tc, policy_management_rights);
    tcase_add_test(tc, bad_policy_input);
    tcase_add_test(tc, policy_test_is_a_dry_run);
    tcase_add_test(tc, jsonlogic_apply);
    suite_add_tcase(s, tc);
    tc = tcase_create("no_resource_data");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, purge_respects_ownership);
    tcase_add_test(tc, conditional_grant_is_not_blanket);
    tcase_add_test(tc, conditional_identity_list_is_not_blanket);
    suite_add_tcase(s, tc);
    tc = tcase_create("open_issues");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, deny_list_search_with_resource_condition);
    tcase_add_test(tc, update_out_needs_read);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    mn_global_init();
    th_init();
    return th_run(policy_api_suite());
}
