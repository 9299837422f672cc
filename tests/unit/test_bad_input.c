/*
 * Every kind of bad input, through the public API. Each case checks three things:
 *   1. the return code;
 *   2. that mn_errmsg() names the problem (a key word, case-insensitive) and mn_errcode() agrees;
 *   3. that nothing was written: a fingerprint of the whole store (tenants, identities, memories
 *      including deleted and expired, history) is the same before and after; for a file that
 *      mn_open refuses, the file's bytes are the same.
 * A value outside its allowed range (text too long, importance, ttl, k, limit, a vector of the
 * wrong dimension) is MN_EINVAL in this library, though the header also defines MN_ERANGE:
 * RANGE_RC names that choice in one place.
 */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "manushya.h"
#include "support/harness.h"

#define BAD2(db, call, rc1, rc2, words)                                                        \
    do {                                                                                       \
        th_state b_, a_;                                                                       \
        th_state_get((db), &b_);                                                               \
        int rc_ = (call);                                                                      \
        ck_assert_msg(rc_ == (rc1) || rc_ == (rc2), "%s: rc %d (%s), want %s: %s", #call, rc_,  \
                      mn_strerror(rc_), mn_strerror(rc1), mn_errmsg(db));                      \
        ck_assert_msg(mn_errcode(db) == rc_, "%s: mn_errcode %d, rc %d", #call,                \
                      mn_errcode(db), rc_);                                                    \
        ck_assert_msg(th_has_word(mn_errmsg(db), (words)), "%s: message \"%s\" names none of %s", \
                      #call, mn_errmsg(db), (words));                                          \
        th_state_get((db), &a_);                                                               \
        th_assert_state_eq(&b_, &a_, #call);                                                   \
    } while (0)
#define BAD(db, call, rc, words) BAD2(db, call, rc, rc, words)
#define RANGE_RC MN_EINVAL
#define BAD_RANGE(db, call, words) BAD(db, call, RANGE_RC, words)

static const char *UNKNOWN_ID = "01890a5d-ac96-774b-bcce-b302099a8057";

/* A store with something in it: tenants acme and globex, identities, memories (one updated,
 * one soft-deleted), so that "nothing changed" means something. */
struct world {
    mn_db *db;
    const char *path;
    const char *alice, *m1, *m2, *m3;
    mn_actor sys, as_alice;
    int dim;
};

static void world_open_cfg(struct world *w, const mn_config *cfg)
{
    w->path = th_tmppath("bad.db");
    w->db = th_open(w->path, cfg);
    w->dim = mn_embed_dim(w->db);
    th_tenant(w->db, "acme");
    th_tenant(w->db, "globex");
    w->alice = th_identity(w->db, "acme", "alice");
    th_identity(w->db, "acme", "bob");
    th_identity(w->db, "globex", "carl");
    w->sys = (mn_actor)TH_ACTOR(.tenant = "acme", .identity = NULL);
    w->as_alice = (mn_actor)TH_ACTOR(.tenant = "acme", .identity = "alice");
    w->m1 = th_add(w->db, &w->as_alice, NULL, "the first memory");
    w->m2 = th_add(w->db, &w->as_alice, NULL, "the second memory");
    w->m3 = th_add(w->db, &w->sys, "bob", "bob's memory, soon deleted");
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "the first memory, updated"};
    TH_OK(w->db, mn_memory_update(w->db, &w->sys, w->m1, &ch, NULL));
    TH_OK(w->db, mn_memory_delete(w->db, &w->sys, w->m3, MN_DELETE_SOFT));
    mn_actor carl = TH_ACTOR(.tenant = "globex", .identity = "carl");
    th_add(w->db, &carl, NULL, "globex memory");
}

static void world_open(struct world *w)
{
    world_open_cfg(w, NULL);
}

static float *vec(int dim, float fill)
{
    float *v = th_keep(malloc(sizeof(float) * (size_t)(dim > 0 ? dim : 1)));
    ck_assert_ptr_nonnull(v);
    for (int i = 0; i < dim; i++)
        v[i] = fill + (float)(i % 7) * 0.01f;
    return v;
}

/* ==== actors ================================================================================= */

START_TEST(bad_actor)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    mn_memory_input in = TH_IN(.text = "x");
    mn_memory *m = NULL;
    mn_memories *l = NULL;
    mn_history *h = NULL;
    mn_identity *i = NULL;
    mn_identities *il = NULL;
    mn_list_options lo = MN_LIST_OPTIONS_INIT;
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "x"};

    BAD(db, mn_memory_add(db, NULL, &in, &m), MN_EINVAL, "actor");
    BAD(db, mn_memory_get(db, NULL, w.m2, 0, &m), MN_EINVAL, "actor");
    BAD(db, mn_memory_list(db, NULL, &lo, &l), MN_EINVAL, "actor");
    BAD(db, mn_memory_search(db, NULL, &so, &l), MN_EINVAL, "actor");
    BAD(db, mn_identity_create(db, NULL, "dave", NULL, NULL, &i), MN_EINVAL, "actor");
    BAD(db, mn_identity_list(db, NULL, &il), MN_EINVAL, "actor");
    BAD(db, mn_memory_purge_expired(db, NULL, NULL), MN_EINVAL, "actor");

    mn_actor no_tenant = TH_ACTOR(.tenant = NULL, .identity = "alice");
    BAD(db, mn_memory_add(db, &no_tenant, &in, &m), MN_EINVAL, "tenant");
    BAD(db, mn_memory_get(db, &no_tenant, w.m2, 0, &m), MN_EINVAL, "tenant");
    BAD(db, mn_identity_list(db, &no_tenant, &il), MN_EINVAL, "tenant");
    mn_actor empty_tenant = TH_ACTOR(.tenant = "", .identity = NULL);
    BAD(db, mn_memory_add(db, &empty_tenant, &in, &m), MN_EINVAL, "tenant");
    /* Only NULL is the system actor: "" is a name gone missing, refused for every call, even
     * those the system actor alone may make (an agent could otherwise make itself an admin). */
    mn_actor empty_identity = {.version = MN_ACTOR_VERSION, .tenant = "acme", .identity = ""};
    BAD(db, mn_identity_create(db, &empty_identity, "dave", "admin", NULL, &i), MN_EINVAL,
        "empty");
    BAD(db, mn_memory_add(db, &empty_identity, &in, &m), MN_EINVAL, "empty");
    BAD(db, mn_memory_list(db, &empty_identity, &lo, &l), MN_EINVAL, "empty");
    BAD(db, mn_memory_delete(db, &empty_identity, w.m2, MN_DELETE_HARD), MN_EINVAL, "empty");
    BAD(db, mn_identity_delete(db, &empty_identity, "alice"), MN_EINVAL, "empty");

    const mn_actor unknown[] = {TH_ACTOR(.tenant = "nope"),
                                TH_ACTOR(.tenant = "nope", .identity = "alice"),
                                TH_ACTOR(.tenant = UNKNOWN_ID)};
    for (size_t k = 0; k < 3; k++) {
        const mn_actor *a = &unknown[k];
        BAD(db, mn_memory_add(db, a, &in, &m), MN_ENOTFOUND, "tenant");
        BAD(db, mn_memory_get(db, a, w.m2, 0, &m), MN_ENOTFOUND, "tenant");
        BAD(db, mn_memory_list(db, a, &lo, &l), MN_ENOTFOUND, "tenant");
        BAD(db, mn_memory_search(db, a, &so, &l), MN_ENOTFOUND, "tenant");
        BAD(db, mn_memory_history(db, a, w.m1, &h), MN_ENOTFOUND, "tenant");
        BAD(db, mn_memory_delete(db, a, w.m2, MN_DELETE_HARD), MN_ENOTFOUND, "tenant");
        BAD(db, mn_identity_create(db, a, "dave", NULL, NULL, &i), MN_ENOTFOUND, "tenant");
        BAD(db, mn_identity_list(db, a, &il), MN_ENOTFOUND, "tenant");
        BAD(db, mn_memory_purge_expired(db, a, NULL), MN_ENOTFOUND, "tenant");
    }
    mn_actor nope = TH_ACTOR(.tenant = "nope", .identity = NULL);
    BAD(db, mn_memory_add(db, &nope, &in, &m), MN_ENOTFOUND, "nope");

    /* Unknown identity in the actor, by external_id or id; also one of another tenant. */
    const mn_actor unknown_id[] = {TH_ACTOR(.tenant = "acme", .identity = "zelda"),
                                   TH_ACTOR(.tenant = "acme", .identity = UNKNOWN_ID),
                                   TH_ACTOR(.tenant = "globex", .identity = "alice")};
    for (size_t k = 0; k < 3; k++) {
        const mn_actor *a = &unknown_id[k];
        BAD(db, mn_memory_add(db, a, &in, &m), MN_ENOTFOUND, "identity");
        BAD(db, mn_memory_get(db, a, w.m2, 0, &m), MN_ENOTFOUND, "identity");
        BAD(db, mn_memory_list(db, a, &lo, &l), MN_ENOTFOUND, "identity");
        BAD(db, mn_memory_search(db, a, &so, &l), MN_ENOTFOUND, "identity");
        mn_memory_changes ch = th_changes_of(&in);
        BAD(db, mn_memory_update(db, a, w.m2, &ch, &m), MN_ENOTFOUND, "identity");
        BAD(db, mn_memory_delete(db, a, w.m2, MN_DELETE_SOFT), MN_ENOTFOUND, "identity");
    }
    mn_actor zelda = TH_ACTOR(.tenant = "acme", .identity = "zelda");
    BAD(db, mn_memory_add(db, &zelda, &in, &m), MN_ENOTFOUND, "zelda");
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(l);
    mn_close(db);
}
END_TEST

/* ==== ids ==================================================================================== */

START_TEST(bad_memory_ids)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    const mn_actor *a = &w.sys;
    mn_memory *m = NULL;
    mn_history *h = NULL;
    mn_memory_changes ch = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = "changed"};
    const char *invalid[] = {"not-a-uuid", "01890a5d-ac96-774b-bcce-b302099a805",
                             "'; DROP TABLE memories; --", "01890a5d-ac96-774b-bcce-b302099a8057x",
                             "01890a5dXac96-774b-bcce-b302099a8057", " "};
    for (size_t k = 0; k < sizeof invalid / sizeof *invalid; k++) {
        const char *id = invalid[k];
        BAD(db, mn_memory_get(db, a, id, 0, &m), MN_EINVAL, "uuid|memory id|not a valid id");
        BAD(db, mn_memory_update(db, a, id, &ch, &m), MN_EINVAL, "uuid|memory id|not a valid id");
        BAD(db, mn_memory_delete(db, a, id, MN_DELETE_SOFT), MN_EINVAL,
            "uuid|memory id|not a valid id");
        BAD(db, mn_memory_delete(db, a, id, MN_DELETE_HARD), MN_EINVAL,
            "uuid|memory id|not a valid id");
        BAD(db, mn_memory_restore(db, a, id), MN_EINVAL, "uuid|memory id|not a valid id");
        BAD(db, mn_memory_history(db, a, id, &h), MN_EINVAL, "uuid|memory id|not a valid id");
    }
    BAD(db, mn_memory_get(db, a, "not-a-uuid", 0, &m), MN_EINVAL, "not-a-uuid");
    BAD(db, mn_memory_get(db, a, "", 0, &m), MN_EINVAL, "id");
    BAD(db, mn_memory_get(db, a, NULL, 0, &m), MN_EINVAL, "id");
    BAD(db, mn_memory_update(db, a, NULL, &ch, &m), MN_EINVAL, "id");
    BAD(db, mn_memory_delete(db, a, NULL, MN_DELETE_SOFT), MN_EINVAL, "id");
    BAD(db, mn_memory_restore(db, a, NULL), MN_EINVAL, "id");
    BAD(db, mn_memory_history(db, a, NULL, &h), MN_EINVAL, "id");

    /* Well-formed but unknown: not found, naming the memory. */
    BAD(db, mn_memory_get(db, a, UNKNOWN_ID, MN_WITH_DELETED | MN_WITH_EXPIRED, &m),
        MN_ENOTFOUND, "memory|01890a5d");
    BAD(db, mn_memory_update(db, a, UNKNOWN_ID, &ch, &m), MN_ENOTFOUND, "memory|01890a5d");
    BAD(db, mn_memory_delete(db, a, UNKNOWN_ID, MN_DELETE_SOFT), MN_ENOTFOUND, "memory|01890a5d");
    BAD(db, mn_memory_delete(db, a, UNKNOWN_ID, MN_DELETE_HARD), MN_ENOTFOUND, "memory|01890a5d");
    BAD(db, mn_memory_restore(db, a, UNKNOWN_ID), MN_ENOTFOUND, "memory|01890a5d");
    BAD(db, mn_memory_history(db, a, UNKNOWN_ID, &h), MN_ENOTFOUND, "memory|01890a5d");
    /* A tenant id or identity id is not a memory id. */
    BAD(db, mn_memory_get(db, a, w.alice, 0, &m), MN_ENOTFOUND, "memory");
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(h);

    /* Uppercase is a valid spelling of a UUID (RFC 9562 compares them case-insensitively): it
     * must name the same memory, or be refused as invalid; never "not found". */
    char upper[37];
    strcpy(upper, w.m2);
    for (char *p = upper; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    int rc = mn_memory_get(db, a, upper, 0, &m);
    ck_assert_msg(rc == MN_OK, "get by the uppercase id: rc %d (%s): %s", rc, mn_strerror(rc),
                  mn_errmsg(db));
    ck_assert_str_eq(m->id, w.m2);
    mn_memory_free(m);
    /* ... for every call that takes an id; and A and a are one id, given twice. */
    mn_memory_changes up = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_TEXT,
                            .text = "changed through the uppercase id"};
    TH_OK(db, mn_memory_update(db, a, upper, &up, NULL));
    TH_OK(db, mn_memory_history(db, a, upper, &h));
    ck_assert_uint_eq(h->count, 1);
    mn_history_free(h);
    h = NULL;
    const char *same_twice[] = {w.m2, upper};
    BAD(db, mn_memory_delete_many(db, a, same_twice, 2, MN_DELETE_SOFT), MN_EINVAL,
        "more than once|duplicate|twice");
    TH_OK(db, mn_memory_delete(db, a, upper, MN_DELETE_SOFT));
    TH_OK(db, mn_memory_restore(db, a, upper));
    TH_OK(db, mn_memory_delete(db, a, upper, MN_DELETE_HARD));
    TH_RC(db, mn_memory_get(db, a, w.m2, MN_WITH_DELETED, &m), MN_ENOTFOUND);
    mn_close(db);
}
END_TEST

START_TEST(bad_identity_args)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    mn_identity *i = NULL;
    const mn_actor *a = &w.sys;
    BAD(db, mn_identity_create(db, a, NULL, NULL, NULL, &i), MN_EINVAL, "external_id|external id");
    BAD(db, mn_identity_create(db, a, "", NULL, NULL, &i), MN_EINVAL, "external_id|external id");
    BAD(db, mn_identity_create(db, a, "bad\xff", NULL, NULL, &i), MN_EINVAL,
        "UTF-8|utf8|external_id");
    BAD(db, mn_identity_create(db, a, "dave", NULL, "[1]", &i), MN_EINVAL, "claims");
    BAD(db, mn_identity_create(db, a, "dave", NULL, "{bad", &i), MN_EINVAL, "claims");
    BAD(db, mn_identity_create(db, a, "dave", NULL, "\"s\"", &i), MN_EINVAL, "claims");
    BAD(db, mn_identity_create(db, a, "dave", "", NULL, &i), MN_EINVAL, "role");
    BAD(db, mn_identity_create(db, a, "alice", NULL, NULL, &i), MN_EEXISTS, "alice");
    /* A name shaped like an id could stand for another row's id (an id wins when resolving):
     * named after alice's id, an agent would act as alice. Any spelling of a UUID is refused. */
    char upper_alice[37];
    strcpy(upper_alice, w.alice);
    for (char *p = upper_alice; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    const char *id_shaped[] = {w.alice, upper_alice, UNKNOWN_ID};
    for (size_t k = 0; k < 3; k++) {
        BAD(db, mn_identity_create(db, a, id_shaped[k], "agent", NULL, &i), MN_EINVAL,
            "UUID");
        BAD(db, mn_tenant_create(db, id_shaped[k], NULL), MN_EINVAL, "UUID");
    }
    mn_tenant *acme = NULL;
    TH_OK(db, mn_tenant_get(db, "acme", &acme));
    BAD(db, mn_tenant_create(db, acme->id, NULL), MN_EINVAL, "UUID");
    mn_tenant_free(acme);
    /* Near misses are names like any other. */
    TH_OK(db, mn_identity_create(db, a, "01890a5d-ac96-774b-bcce-b302099a805", NULL, NULL, NULL));
    TH_OK(db, mn_tenant_create(db, "01890a5d-ac96-774b-bcce-b302099a8057x", NULL));
    BAD(db, mn_identity_get(db, a, NULL, &i), MN_EINVAL, "identity|id");
    BAD(db, mn_identity_get(db, a, "alice", NULL), MN_EINVAL, "out|NULL");
    BAD(db, mn_identity_get(db, a, "zelda", &i), MN_ENOTFOUND, "zelda");
    BAD(db, mn_identity_deactivate(db, a, NULL), MN_EINVAL, "identity|id");
    BAD(db, mn_identity_deactivate(db, a, "zelda"), MN_ENOTFOUND, "zelda");
    BAD(db, mn_identity_delete(db, a, NULL), MN_EINVAL, "identity|id");
    BAD(db, mn_identity_delete(db, a, "zelda"), MN_ENOTFOUND, "zelda");
    BAD(db, mn_identity_delete(db, a, UNKNOWN_ID), MN_ENOTFOUND, "identity|01890a5d");
    BAD(db, mn_identity_list(db, a, NULL), MN_EINVAL, "out|NULL");
    ck_assert_ptr_null(i);

    mn_tenant *t = NULL;
    BAD(db, mn_tenant_create(db, "", &t), MN_EINVAL, "name");
    BAD(db, mn_tenant_create(db, NULL, &t), MN_EINVAL, "name");
    BAD(db, mn_tenant_create(db, "acme", &t), MN_EEXISTS, "acme");
    BAD(db, mn_tenant_get(db, NULL, &t), MN_EINVAL, "tenant|name");
    BAD(db, mn_tenant_get(db, "acme", NULL), MN_EINVAL, "out|NULL");
    BAD(db, mn_tenant_get(db, "nope", &t), MN_ENOTFOUND, "nope");
    BAD(db, mn_tenant_list(db, NULL), MN_EINVAL, "out|NULL");
    ck_assert_ptr_null(t);
    /* A NULL handle. */
    TH_RC(NULL, mn_tenant_create(NULL, "x", &t), MN_EINVAL);
    ck_assert_int_eq(mn_tenant_list(NULL, NULL), MN_EINVAL);
    TH_RC(NULL, mn_identity_create(NULL, a, "x", NULL, NULL, &i), MN_EINVAL);
    mn_close(db);
}
END_TEST

/* ==== memory input =========================================================================== */

static void bad_input3(struct world *w, const mn_memory_input *bad, int rc1, int rc2,
                       const char *words, const char *what, int try_update)
{
    mn_db *db = w->db;
    mn_memory *m = NULL;
    th_state b, a;
    th_state_get(db, &b);
    int rc = mn_memory_add(db, &w->as_alice, bad, &m);
    ck_assert_msg(rc == rc1 || rc == rc2, "%s: add rc %d (%s): %s", what, rc, mn_strerror(rc),
                  mn_errmsg(db));
    ck_assert_msg(mn_errcode(db) == rc, "%s: errcode", what);
    ck_assert_msg(th_has_word(mn_errmsg(db), words), "%s: add message \"%s\" names none of %s",
                  what, mn_errmsg(db), words);
    ck_assert_ptr_null(m);
    th_state_get(db, &a);
    th_assert_state_eq(&b, &a, what);

    /* The same input in the middle of a batch. */
    mn_memory_input batch[3] = {TH_IN(.text = "good one"), *bad, TH_IN(.text = "good two")};
    size_t failed = 77;
    char **ids = NULL;
    rc = mn_memory_add_many(db, &w->as_alice, batch, 3, &ids, &failed);
    ck_assert_msg(rc == rc1 || rc == rc2, "%s: add_many rc %d (%s): %s", what, rc,
                  mn_strerror(rc), mn_errmsg(db));
    ck_assert_msg(th_has_word(mn_errmsg(db), words), "%s: add_many message \"%s\"", what,
                  mn_errmsg(db));
    ck_assert_uint_eq(failed, 1);
    ck_assert_ptr_null(ids);
    th_state_get(db, &a);
    th_assert_state_eq(&b, &a, what);

    /* As the changes of an update (text NULL = unchanged, so only when the bad part is not the
     * missing text). */
    mn_memory_changes ch = th_changes_of(bad);
    if (try_update && ch.set && !bad->identity && !bad->ttl_days) {
        rc = mn_memory_update(db, &w->sys, w->m2, &ch, &m);
        {
            ck_assert_msg(rc == rc1 || rc == rc2, "%s: update rc %d (%s): %s", what, rc,
                          mn_strerror(rc), mn_errmsg(db));
            ck_assert_msg(th_has_word(mn_errmsg(db), words), "%s: update message \"%s\"", what,
                          mn_errmsg(db));
            ck_assert_ptr_null(m);
            th_state_get(db, &a);
            th_assert_state_eq(&b, &a, what);
        }
    }
}

static void bad_add_and_update(struct world *w, const mn_memory_input *bad, int rc1, int rc2,
                               const char *words, const char *what)
{
    bad_input3(w, bad, rc1, rc2, words, what, 1);
}

START_TEST(bad_text)
{
    struct world w;
    world_open(&w);
    mn_memory_input in = TH_IN(.text = NULL);
    bad_add_and_update(&w, &in, MN_EINVAL, MN_EINVAL, "text", "NULL text");
    in.text = "";
    bad_add_and_update(&w, &in, MN_EINVAL, MN_EINVAL, "text|empty", "empty text");
    /* Over the default limit of 65536 bytes; exactly the limit is fine. */
    char *big = th_keep(malloc(65538));
    memset(big, 'a', 65537);
    big[65537] = '\0';
    in.text = big;
    bad_add_and_update(&w, &in, RANGE_RC, RANGE_RC, "65536|max_text_bytes|too long|large",
                       "text over 65536");
    big[65536] = '\0';
    th_add(w.db, &w.as_alice, NULL, big);
    /* Invalid UTF-8 of every kind. */
    const char *invalid[] = {
        "abc\xff",                 /* never valid */
        "\x80 stray continuation", /* continuation without a lead */
        "cut \xe6\x97",            /* truncated 3-byte sequence */
        "cut at end \xc3",         /* truncated 2-byte sequence */
        "overlong \xc0\xaf",       /* overlong '/' */
        "overlong \xe0\x80\xaf",   /* overlong 3-byte */
        "surrogate \xed\xa0\x80",  /* UTF-16 surrogate */
        "too big \xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf8\x88\x80\x80\x80",    /* 5-byte form */
    };
    for (size_t k = 0; k < sizeof invalid / sizeof *invalid; k++) {
        in.text = invalid[k];
        bad_add_and_update(&w, &in, MN_EINVAL, MN_EINVAL, "UTF-8|utf8",
                           th_fmt("invalid UTF-8 #%zu", k));
    }
    /* Valid multi-byte text, including 4-byte characters, is accepted. */
    th_add(w.db, &w.as_alice, NULL, "ok: caf\xc3\xa9 \xe6\x9d\xb1 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
    mn_close(w.db);
}
END_TEST

START_TEST(bad_text_small_limit)
{
    struct world w;
    mn_config cfg = {.version = MN_CONFIG_VERSION, .max_text_bytes = 32};
    world_open_cfg(&w, &cfg);
    mn_memory_input in = TH_IN(.text = "0123456789abcdef0123456789abcdefX"); /* 33 bytes */
    bad_add_and_update(&w, &in, RANGE_RC, RANGE_RC, "32|max_text_bytes|too long|large",
                       "text over 32");
    th_add(w.db, &w.as_alice, NULL, "0123456789abcdef0123456789abcdef");
    /* The limit is in bytes: 16 two-byte characters fit, 17 do not. */
    th_add(w.db, &w.as_alice, NULL,
           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    in.text = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    bad_add_and_update(&w, &in, RANGE_RC, RANGE_RC, "32|max_text_bytes|too long|large",
                       "34 bytes of text");
    mn_close(w.db);
}
END_TEST

START_TEST(bad_metadata)
{
    struct world w;
    world_open(&w);
    const char *bad[] = {"[1,2]", "1", "\"a string\"", "null", "true", "{bad", "", "{\"a\":1,}",
                         "{} trailing", "{\"a\":\"\xff\"}"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        mn_memory_input in = TH_IN(.text = "with metadata", .metadata = bad[k]);
        bad_add_and_update(&w, &in, MN_EINVAL, MN_EINVAL, "metadata",
                           th_fmt("metadata #%zu %s", k, bad[k]));
        /* ... and as a filter. */
        mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION,
                              .filter =
                                  &(mn_filter){.version = MN_FILTER_VERSION, .metadata = bad[k]}};
        mn_memories *l = NULL;
        BAD(w.db, mn_memory_list(w.db, &w.sys, &lo, &l), MN_EINVAL, "metadata");
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION,
                                .query = "x",
                                .filter =
                                    &(mn_filter){.version = MN_FILTER_VERSION, .metadata = bad[k]}};
        BAD(w.db, mn_memory_search(w.db, &w.sys, &so, &l), MN_EINVAL, "metadata");
        ck_assert_ptr_null(l);
    }
    mn_close(w.db);
}
END_TEST

/* JSON that a reader would not see as written (a value cJSON would change, a key given twice)
 * is refused wherever JSON comes in, naming the key, and nothing changes. */
START_TEST(bad_json_not_kept)
{
    struct world w;
    world_open(&w);
    struct {
        const char *json, *key;
    } cases[] = {
        {"{\"id\":9007199254740993}", "\"id\""},
        {"{\"ids\":[18446744073709551615]}", "\"ids[0]\""},
        {"{\"x\":{\"y\":1e999}}", "\"x.y\""},
        {"{\"tiny\":-2e-400}", "\"tiny\""},
        {"{\"note\":\"cut\\u0000here\"}", "\"note\""},
        {"{\"k\\u0000ey\":1}", "k\\u0000"},
        {"{\"dup\":1,\"dup\":2}", "\"dup\""},
    };
    mn_identity *ident = NULL;
    mn_policy *pol = NULL;
    mn_decision *d = NULL;
    mn_memories *l = NULL;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const char *json = cases[k].json, *key = cases[k].key;
        mn_memory_input in = TH_IN(.text = "with metadata", .metadata = json);
        bad_add_and_update(&w, &in, MN_EINVAL, MN_EINVAL, key, th_fmt("metadata %s", json));
        mn_filter f = {.version = MN_FILTER_VERSION, .metadata = json};
        mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION, .filter = &f};
        BAD(w.db, mn_memory_list(w.db, &w.sys, &lo, &l), MN_EINVAL, key);
        BAD(w.db, mn_identity_create(w.db, &w.sys, "dave", NULL, json, &ident), MN_EINVAL, key);
        mn_actor with_context = {.version = MN_ACTOR_VERSION, .tenant = "acme", .identity = "alice",
                                 .context = json};
        BAD(w.db, mn_memory_list(w.db, &with_context, &(mn_list_options){
                                                                         .version = MN_LIST_OPTIONS_VERSION}, &l),
            MN_EINVAL, key);
        BAD(w.db, mn_policy_test(w.db, &w.sys, "read", "memory", json, &d), MN_EINVAL, key);
        ck_assert_ptr_null(d);
    }
    /* A rule is read the same way. */
    mn_policy_input pi = {.version = MN_POLICY_INPUT_VERSION, .role = "agent", .rule = "{\"effect\":\"allow\",\"actions\":[\"read\"],"
                          "\"resource\":\"memory\",\"when\":{\"==\":[{\"var\":\"context.n\"},"
                          "9007199254740993]}}"};
    BAD(w.db, mn_policy_add(w.db, &w.sys, &pi, &pol), MN_EINVAL, "\"when.==[1]\"");
    mn_close(w.db);
}
END_TEST

START_TEST(bad_type_importance_ttl)
{
    struct world w;
    world_open(&w);
    char type65[66];
    memset(type65, 't', 65);
    type65[65] = '\0';
    mn_memory_input in = TH_IN(.text = "typed", .type = "");
    bad_add_and_update(&w, &in, MN_EINVAL, MN_EINVAL, "type", "empty type");
    in.type = type65;
    bad_add_and_update(&w, &in, RANGE_RC, RANGE_RC, "type", "65-byte type");
    in.type = "bad\xff";
    bad_add_and_update(&w, &in, MN_EINVAL, MN_EINVAL, "type|UTF-8", "invalid UTF-8 type");

    const double bad_imp[] = {-0.1, 1.0000001, -1e-300, 2.0, NAN, INFINITY, -INFINITY};
    for (size_t k = 0; k < sizeof bad_imp / sizeof *bad_imp; k++) {
        in = (mn_memory_input){
            .version = MN_MEMORY_INPUT_VERSION, .text = "important", .importance = bad_imp[k]};
        bad_add_and_update(&w, &in, RANGE_RC, RANGE_RC, "importance",
                           th_fmt("importance %g", bad_imp[k]));
    }
    /* MN_IMPORTANCE_DEFAULT is the default importance */
    in = (mn_memory_input){.version = MN_MEMORY_INPUT_VERSION,
                           .text = "not important",
                           .importance = MN_IMPORTANCE_DEFAULT};
    mn_memory *m = NULL;
    TH_OK(w.db, mn_memory_add(w.db, &w.as_alice, &in, &m));
    ck_assert_double_eq_tol(m->importance, 0.5, 1e-12);
    mn_memory_free(m);

    const int bad_ttl[] = {-1, -365, INT_MIN};
    for (size_t k = 0; k < 3; k++) {
        in = (mn_memory_input)TH_IN(.text = "ttl", .ttl_days = bad_ttl[k]);
        bad_input3(&w, &in, RANGE_RC, RANGE_RC, "ttl", th_fmt("ttl %d", bad_ttl[k]), 0);
    }
    /* The largest ttl does not overflow. */
    in = (mn_memory_input)TH_IN(.text = "long ttl", .ttl_days = INT_MAX);
    int rc = mn_memory_add(w.db, &w.as_alice, &in, &m);
    if (rc == MN_OK) {
        ck_assert_int_gt(m->expires_at, m->created_at);
        mn_memory_free(m);
    } else {
        ck_assert_msg(rc == MN_EINVAL || rc == MN_ERANGE, "INT_MAX ttl: rc %d", rc);
    }
    mn_close(w.db);
}
END_TEST

START_TEST(bad_owner)
{
    struct world w;
    world_open(&w);
    mn_memory_input in = TH_IN(.text = "owned", .identity = "zelda");
    bad_input3(&w, &in, MN_ENOTFOUND, MN_ENOTFOUND, "zelda|identity", "unknown owner", 0);
    in.identity = UNKNOWN_ID;
    bad_input3(&w, &in, MN_ENOTFOUND, MN_ENOTFOUND, "identity|01890a5d", "unknown owner id", 0);
    in.identity = "carl"; /* globex's */
    bad_input3(&w, &in, MN_ENOTFOUND, MN_ENOTFOUND, "carl|identity", "owner of another tenant",
               0);
    /* The system actor must name an owner. */
    mn_memory_input none = TH_IN(.text = "no owner");
    mn_memory *m = NULL;
    BAD(w.db, mn_memory_add(w.db, &w.sys, &none, &m), MN_EINVAL, "identity|owner");
    mn_memory_input batch[2] = {TH_IN(.text = "a", .identity = "alice"), TH_IN(.text = "b")};
    size_t failed = 9;
    BAD(w.db, mn_memory_add_many(w.db, &w.sys, batch, 2, NULL, &failed), MN_EINVAL,
        "identity|owner");
    ck_assert_uint_eq(failed, 1);
    mn_close(w.db);
}
END_TEST

/* ==== vectors ================================================================================ */

START_TEST(bad_vectors)
{
    struct world w;
    world_open(&w);
    int dim = w.dim;
    struct vcase {
        const float *v;
        int dim;
        int rc1, rc2;
        const char *words;
        const char *what;
    } cases[8];
    size_t n = 0;
    cases[n++] = (struct vcase){vec(dim - 1, 0.5f), dim - 1, RANGE_RC, RANGE_RC,
                                    "384|dimension", "dim 383"};
    cases[n++] = (struct vcase){vec(dim + 1, 0.5f), dim + 1, RANGE_RC, RANGE_RC,
                                    "384|dimension", "dim 385"};
    cases[n++] = (struct vcase){vec(dim, 0.5f), 0, RANGE_RC, RANGE_RC, "384|dimension|dim",
                                    "dim 0"};
    cases[n++] = (struct vcase){vec(dim, 0.5f), -5, RANGE_RC, RANGE_RC,
                                    "384|dimension|dim", "dim -5"};
    float *nan_v = vec(dim, 0.5f);
    nan_v[100] = NAN;
    cases[n++] = (struct vcase){nan_v, dim, MN_EINVAL, MN_EINVAL, "NaN|finite|infinit",
                                    "NaN"};
    float *inf_v = vec(dim, 0.5f);
    inf_v[0] = INFINITY;
    cases[n++] = (struct vcase){inf_v, dim, MN_EINVAL, MN_EINVAL, "finite|infinit|inf",
                                    "+inf"};
    float *ninf_v = vec(dim, 0.5f);
    ninf_v[dim - 1] = -INFINITY;
    cases[n++] = (struct vcase){ninf_v, dim, MN_EINVAL, MN_EINVAL, "finite|infinit|inf",
                                    "-inf"};
    float *zero = th_keep(calloc((size_t)dim, sizeof(float)));
    cases[n++] = (struct vcase){zero, dim, MN_EINVAL, MN_EINVAL, "zero", "all zero"};

    for (size_t k = 0; k < n; k++) {
        mn_memory_input in =
            TH_IN(.text = "vector input", .embedding = cases[k].v, .dim = cases[k].dim);
        bad_add_and_update(&w, &in, cases[k].rc1, cases[k].rc2, cases[k].words, cases[k].what);
        mn_search_options so = {
            .version = MN_SEARCH_OPTIONS_VERSION, .vector = cases[k].v, .dim = cases[k].dim};
        mn_memories *l = NULL;
        BAD2(w.db, mn_memory_search(w.db, &w.sys, &so, &l), cases[k].rc1, cases[k].rc2,
             cases[k].words);
        ck_assert_ptr_null(l);
    }
    mn_close(w.db);
}
END_TEST

/* Vectors that are valid but numerically awkward: accepted and stored as finite unit vectors,
 * or refused as invalid; never stored as NaN. */
START_TEST(vector_extremes)
{
    struct world w;
    world_open(&w);
    int dim = w.dim;
    float tiny_v[4096], huge_v[4096], sub_v[4096];
    for (int i = 0; i < dim; i++) {
        tiny_v[i] = 1e-30f;
        huge_v[i] = (i % 2 ? -1e30f : 1e30f);
        sub_v[i] = i == 3 ? 1e-44f : 0.0f; /* one subnormal */
    }
    const float *vs[] = {tiny_v, huge_v, sub_v};
    for (size_t k = 0; k < 3; k++) {
        mn_memory_input in = TH_IN(.text = "extreme", .embedding = vs[k], .dim = dim);
        mn_memory *m = NULL;
        th_state b, a;
        th_state_get(w.db, &b);
        int rc = mn_memory_add(w.db, &w.as_alice, &in, &m);
        if (rc == MN_OK) {
            mn_memory *g = th_get(w.db, &w.sys, m->id, MN_WITH_EMBEDDING);
            for (int i = 0; i < dim; i++)
                ck_assert_msg(isfinite(g->embedding[i]), "vector %zu: component %d is %f", k, i,
                              g->embedding[i]);
            ck_assert_msg(fabs(th_norm(g->embedding, dim) - 1.0) < 1e-4, "vector %zu: norm %f", k,
                          th_norm(g->embedding, dim));
            mn_memory_free(g);
            mn_memory_free(m);
        } else {
            ck_assert_msg(rc == MN_EINVAL || rc == MN_ERANGE, "vector %zu: rc %d", k, rc);
            th_state_get(w.db, &a);
            th_assert_state_eq(&b, &a, "refused extreme vector");
        }
        mn_search_options so = {
            .version = MN_SEARCH_OPTIONS_VERSION, .vector = vs[k], .dim = dim, .k = 5};
        mn_memories *l = NULL;
        rc = mn_memory_search(w.db, &w.sys, &so, &l);
        if (rc == MN_OK) {
            for (size_t i = 0; i < l->count; i++)
                ck_assert_msg(isfinite(l->items[i]->similarity) &&
                                  fabs(l->items[i]->similarity) <= 1.0 + 1e-5,
                              "vector %zu: similarity %f", k, l->items[i]->similarity);
            mn_memories_free(l);
        } else {
            ck_assert_msg(rc == MN_EINVAL || rc == MN_ERANGE, "search vector %zu: rc %d", k, rc);
        }
    }
    mn_close(w.db);
}
END_TEST

/* ==== list, search, delete options =========================================================== */

START_TEST(bad_list_options)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    mn_memories *l = NULL;
    mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION, .limit = -1};
    BAD_RANGE(db, mn_memory_list(db, &w.sys, &lo, &l), "limit");
    lo.limit = 1001;
    BAD_RANGE(db, mn_memory_list(db, &w.sys, &lo, &l), "limit");
    lo.limit = INT_MAX;
    BAD_RANGE(db, mn_memory_list(db, &w.sys, &lo, &l), "limit");
    lo = (mn_list_options){.version = MN_LIST_OPTIONS_VERSION, .cursor = "garbage"};
    BAD(db, mn_memory_list(db, &w.sys, &lo, &l), MN_EINVAL, "cursor");
    lo.cursor = "";
    BAD(db, mn_memory_list(db, &w.sys, &lo, &l), MN_EINVAL, "cursor");
    lo.cursor = "~";
    BAD(db, mn_memory_list(db, &w.sys, &lo, &l), MN_EINVAL, "cursor");
    lo = (mn_list_options){.version = MN_LIST_OPTIONS_VERSION,
                           .filter =
                               &(mn_filter){.version = MN_FILTER_VERSION, .identity = "zelda"}};
    BAD(db, mn_memory_list(db, &w.sys, &lo, &l), MN_ENOTFOUND, "zelda|identity");
    lo = (mn_list_options){.version = MN_LIST_OPTIONS_VERSION,
                           .filter = &(mn_filter){.version = MN_FILTER_VERSION,
                                                  .identity = "carl"}}; /* another tenant's */
    BAD(db, mn_memory_list(db, &w.sys, &lo, &l), MN_ENOTFOUND, "carl|identity");
    lo = (mn_list_options)MN_LIST_OPTIONS_INIT;
    BAD(db, mn_memory_list(db, &w.sys, &lo, NULL), MN_EINVAL, "out|NULL");
    ck_assert_ptr_null(l);
    /* limit 1000 is the largest allowed */
    lo.limit = 1000;
    TH_OK(db, mn_memory_list(db, &w.sys, &lo, &l));
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

START_TEST(bad_search_options)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    mn_memories *l = NULL;
    BAD(db, mn_memory_search(db, &w.sys, NULL, &l), MN_EINVAL, "option|query");
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    BAD(db, mn_memory_search(db, &w.sys, &so, &l), MN_EINVAL, "query|vector");
    so.query = "";
    BAD(db, mn_memory_search(db, &w.sys, &so, &l), MN_EINVAL, "query|empty");
    so = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION, .query = "x", .k = -1};
    BAD_RANGE(db, mn_memory_search(db, &w.sys, &so, &l), "1000|k ");
    so.k = 1001;
    BAD_RANGE(db, mn_memory_search(db, &w.sys, &so, &l), "1000|k ");
    so = (mn_search_options){
        .version = MN_SEARCH_OPTIONS_VERSION, .query = "x", .min_similarity = NAN};
    BAD_RANGE(db, mn_memory_search(db, &w.sys, &so, &l), "min_similarity|similarity");
    so = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION,
                             .query = "x",
                             .filter =
                                 &(mn_filter){.version = MN_FILTER_VERSION, .identity = "zelda"}};
    BAD(db, mn_memory_search(db, &w.sys, &so, &l), MN_ENOTFOUND, "zelda|identity");
    so = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION, .query = "x"};
    BAD(db, mn_memory_search(db, &w.sys, &so, NULL), MN_EINVAL, "out|NULL");
    ck_assert_ptr_null(l);
    /* k 1000 is the largest allowed */
    so.k = 1000;
    TH_OK(db, mn_memory_search(db, &w.sys, &so, &l));
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

START_TEST(bad_delete_args)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    BAD(db, mn_memory_delete(db, &w.sys, w.m2, 2), MN_EINVAL, "mode");
    BAD(db, mn_memory_delete(db, &w.sys, w.m2, -1), MN_EINVAL, "mode");
    const char *ids[] = {w.m1, w.m2};
    BAD(db, mn_memory_delete_many(db, &w.sys, ids, 2, 7), MN_EINVAL, "mode");
    BAD(db, mn_memory_delete_many(db, &w.sys, NULL, 2, MN_DELETE_SOFT), MN_EINVAL, "id");
    const char *with_null[] = {w.m1, NULL};
    BAD(db, mn_memory_delete_many(db, &w.sys, with_null, 2, MN_DELETE_SOFT), MN_EINVAL, "id");
    const char *with_bad[] = {w.m1, w.m2, "nope"};
    BAD(db, mn_memory_delete_many(db, &w.sys, with_bad, 3, MN_DELETE_HARD), MN_EINVAL,
        "nope|uuid");
    const char *with_unknown[] = {w.m1, UNKNOWN_ID, w.m2};
    BAD(db, mn_memory_delete_many(db, &w.sys, with_unknown, 3, MN_DELETE_HARD), MN_ENOTFOUND,
        "01890a5d");
    /* m3 is already soft-deleted */
    const char *with_deleted[] = {w.m1, w.m3};
    BAD(db, mn_memory_delete_many(db, &w.sys, with_deleted, 2, MN_DELETE_SOFT), MN_ENOTFOUND,
        "memory|deleted");
    const char *dup[] = {w.m1, w.m2, w.m1};
    BAD(db, mn_memory_delete_many(db, &w.sys, dup, 3, MN_DELETE_HARD), MN_EINVAL,
        "more than once|duplicate|twice");
    BAD(db, mn_memory_restore(db, &w.sys, w.m2), MN_ENOTFOUND, "memory|deleted");
    mn_memory_changes in = {
        .version = MN_MEMORY_CHANGES_VERSION, .set = MN_MEMORY_SET_TEXT, .text = "x"};
    BAD(db, mn_memory_update(db, &w.sys, w.m3, &in, NULL), MN_ENOTFOUND, "memory|deleted");
    BAD(db, mn_memory_update(db, &w.sys, w.m2, NULL, NULL), MN_EINVAL, "change|input");
    /* The set mask: empty, an unknown bit (no owner or ttl to change), a named field NULL. */
    in.set = 0;
    BAD(db, mn_memory_update(db, &w.sys, w.m2, &in, NULL), MN_EINVAL, "changes nothing");
    in.set = MN_MEMORY_SET_TEXT | 0x100;
    BAD(db, mn_memory_update(db, &w.sys, w.m2, &in, NULL), MN_EINVAL, "unknown bits 0x100");
    in.set = MN_MEMORY_SET_TEXT | MN_MEMORY_SET_TYPE;
    BAD(db, mn_memory_update(db, &w.sys, w.m2, &in, NULL), MN_EINVAL, "type is NULL");
    /* A field the mask does not name is not read: an impossible importance is ignored. */
    in.set = MN_MEMORY_SET_TEXT;
    in.importance = 42;
    mn_memory *m = NULL;
    TH_OK(db, mn_memory_update(db, &w.sys, w.m2, &in, &m));
    ck_assert(strcmp(m->text, "x") == 0 && m->importance != 42);
    mn_memory_free(m);
    mn_close(db);
}
END_TEST

START_TEST(bad_flags)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    mn_memory *m = NULL;
    mn_memories *l = NULL;
    BAD(db, mn_memory_get(db, &w.sys, w.m2, 0x80, &m), MN_EINVAL, "flag");
    mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION,
                          .filter = &(mn_filter){.version = MN_FILTER_VERSION, .flags = 0x100}};
    BAD(db, mn_memory_list(db, &w.sys, &lo, &l), MN_EINVAL, "flag");
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION,
                            .query = "x",
                            .filter = &(mn_filter){.version = MN_FILTER_VERSION, .flags = 0x100}};
    BAD(db, mn_memory_search(db, &w.sys, &so, &l), MN_EINVAL, "flag");
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(l);
    mn_close(db);
}
END_TEST

/* A large batch whose last input is bad writes nothing. */
START_TEST(bad_large_batch)
{
    struct world w;
    /* A test of batch validation: 3000 memories for alice are more than memory:create's
     * hourly limit, which test_ratelimit covers; limits are off here. */
    world_open_cfg(&w, &(mn_config){.version = MN_CONFIG_VERSION, .ratelimit = MN_RATELIMIT_OFF});
    enum { N = 3000 };
    mn_memory_input *in = th_keep(calloc(N, sizeof *in));
    for (int i = 0; i < N; i++) {
        mn_memory_input_init(&in[i], MN_MEMORY_INPUT_VERSION);
        in[i].text = th_fmt("batch memory %d", i);
    }
    in[N - 1].metadata = "not json";
    size_t failed = 0;
    char **ids = NULL;
    BAD(w.db, mn_memory_add_many(w.db, &w.as_alice, in, N, &ids, &failed), MN_EINVAL,
        "metadata");
    ck_assert_uint_eq(failed, N - 1);
    ck_assert_ptr_null(ids);
    ck_assert(th_has_word(mn_errmsg(w.db), "2999"));
    /* And once fixed, all of it goes in. */
    in[N - 1].metadata = NULL;
    TH_OK(w.db, mn_memory_add_many(w.db, &w.as_alice, in, N, &ids, &failed));
    mn_strings_free(ids, N);
    mn_actor sys = TH_ACTOR(.tenant = "acme", .identity = NULL);
    ck_assert_uint_eq(th_count_memories(w.db, &sys, 0), N + 2);
    /* n = 0 is an empty batch. */
    TH_OK(w.db, mn_memory_add_many(w.db, &w.as_alice, in, 0, &ids, NULL));
    ck_assert_ptr_null(ids);
    mn_close(w.db);
}
END_TEST

START_TEST(bad_null_args)
{
    struct world w;
    world_open(&w);
    mn_db *db = w.db;
    mn_memory *m = NULL;
    mn_history *h = NULL;
    BAD(db, mn_memory_add(db, &w.as_alice, NULL, &m), MN_EINVAL, "input");
    BAD(db, mn_memory_add_many(db, &w.as_alice, NULL, 2, NULL, NULL), MN_EINVAL, "input");
    BAD(db, mn_memory_get(db, &w.sys, w.m2, 0, NULL), MN_EINVAL, "out|NULL");
    BAD(db, mn_memory_history(db, &w.sys, w.m1, NULL), MN_EINVAL, "out|NULL");
    float v[384];
    BAD(db, mn_embed(db, NULL, v, 384), MN_EINVAL, "text");
    BAD(db, mn_embed(db, "x", NULL, 384), MN_EINVAL, "out|NULL");
    BAD(db, mn_embed(db, "x", v, 0), MN_EINVAL, "384|dim");
    BAD(db, mn_embed(db, "x", v, -1), MN_EINVAL, "384|dim");
    /* A NULL handle: refused, not a crash. */
    mn_memory_input in = TH_IN(.text = "x");
    mn_list_options lo = MN_LIST_OPTIONS_INIT;
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "x"};
    mn_memories *l = NULL;
    TH_RC(NULL, mn_memory_add(NULL, &w.as_alice, &in, &m), MN_EINVAL);
    TH_RC(NULL, mn_memory_get(NULL, &w.sys, w.m2, 0, &m), MN_EINVAL);
    ck_assert_int_eq(mn_memory_list(NULL, &w.sys, &lo, &l), MN_EINVAL);
    TH_RC(NULL, mn_memory_search(NULL, &w.sys, &so, &l), MN_EINVAL);
    mn_memory_changes ch = th_changes_of(&in);
    TH_RC(NULL, mn_memory_update(NULL, &w.sys, w.m2, &ch, &m), MN_EINVAL);
    TH_RC(NULL, mn_memory_delete(NULL, &w.sys, w.m2, MN_DELETE_SOFT), MN_EINVAL);
    TH_RC(NULL, mn_memory_history(NULL, &w.sys, w.m2, &h), MN_EINVAL);
    TH_RC(NULL, mn_embed(NULL, "x", v, 384), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(NULL), "mn_embed: the handle is NULL"), "%s", mn_errmsg(NULL));
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(l);
    ck_assert_ptr_null(h);
    mn_close(db);
}
END_TEST

/* ==== opening ================================================================================ */

/* mn_open must fail with one of the codes, explain itself, and leave no file at path. */
static void bad_open(const char *url, const mn_config *cfg, int rc1, int rc2, const char *words)
{
    mn_db *db = NULL;
    int rc = mn_open(&db, url, cfg);
    ck_assert_msg(rc == rc1 || rc == rc2, "mn_open(%s): rc %d (%s), want %s: %s",
                  url ? url : "NULL", rc, mn_strerror(rc), mn_strerror(rc1), mn_errmsg(db));
    ck_assert_msg(th_has_word(mn_errmsg(db), words), "mn_open(%s): message \"%s\" names none of %s",
                  url ? url : "NULL", mn_errmsg(db), words);
    ck_assert_int_eq(mn_errcode(db), rc);
    mn_close(db);
}

START_TEST(bad_open_args)
{
    mn_db *db = NULL;
    ck_assert_int_eq(mn_open(NULL, th_tmppath("x.db"), NULL), MN_EINVAL);
    bad_open(NULL, NULL, MN_EINVAL, MN_EINVAL, "url|path");
    bad_open("", NULL, MN_EINVAL, MN_EINVAL, "url|path|empty");
    bad_open("sqlite:", NULL, MN_EINVAL, MN_EINVAL, "url|path|empty");
    bad_open("foo://bar", NULL, MN_EUNSUPPORTED, MN_EUNSUPPORTED, "foo");
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = 3};
    const char *p = th_tmppath("dim.db");
    bad_open(p, &cfg, RANGE_RC, RANGE_RC, "dim");
    ck_assert(!th_file_exists(p));
    cfg.embed_dim = -1;
    bad_open(p, &cfg, RANGE_RC, RANGE_RC, "dim");
    cfg.embed_dim = 1 << 20;
    bad_open(p, &cfg, RANGE_RC, RANGE_RC, "dim");
    ck_assert(!th_file_exists(p));
    cfg = (mn_config){.version = MN_CONFIG_VERSION, .embedder = "nope"};
    bad_open(p, &cfg, MN_EINVAL, MN_EINVAL, "nope");
    ck_assert(!th_file_exists(p));
    (void)db;
}
END_TEST

START_TEST(bad_open_unwritable_path)
{
    /* Tests run as root in CI, where permissions do not stop anyone: use paths that no one can
     * create. */
    const char *missing_dir = th_fmt("%s/no-such-dir/sub/x.db", th_tmpdir());
    bad_open(missing_dir, NULL, MN_EBACKEND, MN_EBACKEND, "no-such-dir|open|writ");
    ck_assert(!th_file_exists(th_fmt("%s/no-such-dir", th_tmpdir())));
    bad_open(th_fmt("sqlite:%s", missing_dir), NULL, MN_EBACKEND, MN_EBACKEND,
             "no-such-dir|open|writ");
    /* A directory is not a database file. */
    const char *dir = th_tmpdir();
    bad_open(dir, NULL, MN_EINVAL, MN_EINVAL, "director");
    /* /proc accepts no new files, even from root. */
    bad_open("/proc/manushya-test.db", NULL, MN_EBACKEND, MN_EBACKEND,
             "manushya-test.db|open|writ");
    ck_assert(!th_file_exists("/proc/manushya-test.db"));
    /* NOCREATE on a missing file: not found, not created. */
    mn_config cfg = {.version = MN_CONFIG_VERSION, .flags = MN_OPEN_NOCREATE};
    const char *p = th_tmppath("nocreate.db");
    bad_open(p, &cfg, MN_ENOTFOUND, MN_ENOTFOUND, "nocreate.db|exist");
    ck_assert(!th_file_exists(p));
}
END_TEST

/* The file must come out of a refused mn_open byte for byte as it went in. */
static void bad_file(const char *path, int rc, const char *words, const char *words2)
{
    uint64_t h0 = th_file_hash(path);
    size_t len0 = 0;
    th_read_file(path, &len0);
    mn_db *db = NULL;
    int got = mn_open(&db, path, NULL);
    ck_assert_msg(got == rc, "mn_open(%s): rc %d (%s), want %s: %s", path, got, mn_strerror(got),
                  mn_strerror(rc), mn_errmsg(db));
    ck_assert_msg(th_has_word(mn_errmsg(db), words), "message \"%s\" names none of %s",
                  mn_errmsg(db), words);
    ck_assert_int_eq(mn_errcode(db), got);
    if (words2)
        ck_assert_msg(th_has_word(mn_errmsg(db), words2), "message \"%s\" names none of %s",
                      mn_errmsg(db), words2);
    mn_close(db);
    size_t len1 = 0;
    th_read_file(path, &len1);
    ck_assert_msg(th_file_hash(path) == h0, "mn_open changed the file it refused (%zu -> %zu "
                  "bytes)", len0, len1);
    /* Read-only does not help. */
    mn_config ro = {.version = MN_CONFIG_VERSION, .flags = MN_OPEN_READONLY};
    db = NULL;
    got = mn_open(&db, path, &ro);
    ck_assert_msg(got == rc, "read-only mn_open(%s): rc %d (%s): %s", path, got,
                  mn_strerror(got), mn_errmsg(db));
    mn_close(db);
    ck_assert(th_file_hash(path) == h0);
}

START_TEST(bad_file_random_bytes)
{
    const char *path = th_tmppath("random.db");
    char buf[8192];
    th_random_bytes(buf, sizeof buf, 42);
    th_write_file(path, buf, sizeof buf);
    bad_file(path, MN_ECORRUPT, "not a manushya|not a SQLite|manushya", "random.db");
    /* A short text file too. */
    const char *txt = th_tmppath("notes.txt");
    th_write_file(txt, "hello, I am a text file\n", 24);
    bad_file(txt, MN_ECORRUPT, "not a manushya|not a SQLite|manushya", NULL);
}
END_TEST

START_TEST(bad_file_foreign_sqlite)
{
    const char *path = th_tmppath("foreign.db");
    sqlite3 *s = NULL;
    ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(s, "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT);"
                                     "INSERT INTO orders (item) VALUES ('tea'), ('cake');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(s);
    bad_file(path, MN_ECORRUPT, "manushya", "foreign.db");
    /* One that even has a table called memories, but is not ours. */
    const char *p2 = th_tmppath("lookalike.db");
    ck_assert_int_eq(sqlite3_open(p2, &s), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(s, "CREATE TABLE memories (x); CREATE TABLE meta (key, value);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(s);
    bad_file(p2, MN_ECORRUPT, "manushya", NULL);
}
END_TEST

START_TEST(bad_file_newer_schema)
{
    const char *path = th_tmppath("newer.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    mn_close(db);
    sqlite3 *s = NULL;
    ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(s, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    bad_file(path, MN_ECORRUPT, "999", "version");
    /* The message names the version this library supports too (what it writes into a new
     * file), and what to do. */
    const char *fresh = th_tmppath("fresh.db");
    mn_close(th_open(fresh, NULL));
    ck_assert_int_eq(sqlite3_open(fresh, &s), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(s, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int latest = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(s);
    ck_assert_int_ge(latest, 1);
    db = NULL;
    mn_open(&db, path, NULL);
    const char *msg = th_fmt("%s", mn_errmsg(db));
    mn_close(db);
    ck_assert_msg(strstr(msg, th_fmt("%d", latest)), "message names no supported version (%d): %s",
                  latest, msg);
    ck_assert_msg(th_has_word(msg, "newer|upgrade"), "message says nothing to do: %s", msg);
}
END_TEST

static const char *make_full_db(void)
{
    const char *path = th_tmppath("full.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    mn_memory_input in[200];
    for (int i = 0; i < 200; i++)
        in[i] =
            (mn_memory_input)TH_IN(.text = th_fmt("memory %d with some text to fill the pages of "
                                                  "the database file, number %d",
                                                  i, i * 7));
    TH_OK(db, mn_memory_add_many(db, &a, in, 200, NULL, NULL));
    mn_close(db);
    ck_assert_msg(!th_file_exists(th_fmt("%s-wal", path)), "WAL left after close");
    return path;
}

/* Runs every read over the (possibly) corrupt file: each must succeed or say MN_ECORRUPT, and
 * at least one must notice. */
static void probe_corrupt(const char *path, const char *what)
{
    mn_db *db = NULL;
    int rc = mn_open(&db, path, NULL);
    int noticed = 0;
    if (rc != MN_OK) {
        ck_assert_msg(rc == MN_ECORRUPT, "%s: mn_open rc %d (%s): %s", what, rc,
                      mn_strerror(rc), mn_errmsg(db));
        ck_assert_msg(th_has_word(mn_errmsg(db), "corrupt|malformed|not a manushya"),
                      "%s: message %s", what, mn_errmsg(db));
        mn_close(db);
        return;
    }
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    mn_tenants *tl = NULL;
    rc = mn_tenant_list(db, &tl);
    noticed |= rc == MN_ECORRUPT;
    ck_assert_msg(rc == MN_OK || rc == MN_ECORRUPT, "%s: tenant list rc %d", what, rc);
    mn_tenants_free(tl);
    mn_list_options lo = {
        .version = MN_LIST_OPTIONS_VERSION,
        .limit = 1000,
        .filter = &(mn_filter){.version = MN_FILTER_VERSION, .flags = MN_WITH_EMBEDDING}};
    mn_memories *l = NULL;
    rc = mn_memory_list(db, &a, &lo, &l);
    ck_assert_msg(rc == MN_OK || rc == MN_ECORRUPT || rc == MN_ENOTFOUND,
                  "%s: list rc %d (%s): %s", what, rc, mn_strerror(rc), mn_errmsg(db));
    noticed |= rc == MN_ECORRUPT;
    mn_memories_free(l);
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION, .query = "memory text pages", .k = 50};
    l = NULL;
    rc = mn_memory_search(db, &a, &so, &l);
    ck_assert_msg(rc == MN_OK || rc == MN_ECORRUPT || rc == MN_ENOTFOUND,
                  "%s: search rc %d (%s): %s", what, rc, mn_strerror(rc), mn_errmsg(db));
    noticed |= rc == MN_ECORRUPT;
    if (rc == MN_ECORRUPT)
        ck_assert_msg(th_has_word(mn_errmsg(db), "corrupt|malformed"), "%s: message %s", what,
                      mn_errmsg(db));
    mn_memories_free(l);
    mn_memory_input in = TH_IN(.text = "write into a corrupt file");
    rc = mn_memory_add(db, &a, &in, NULL);
    noticed |= rc == MN_ECORRUPT;
    ck_assert_msg(noticed, "%s: nothing noticed the corruption", what);
    mn_close(db);
}

START_TEST(bad_file_corrupt)
{
    /* 1. The schema page destroyed past the 100-byte header. */
    const char *p1 = make_full_db();
    size_t len;
    char *b = th_read_file(p1, &len);
    ck_assert_uint_gt(len, 8192);
    char *copy = th_keep(malloc(len));
    memcpy(copy, b, len);
    th_random_bytes(copy + 100, 4096 - 100, 7);
    th_write_file(p1, copy, len);
    probe_corrupt(p1, "page 1 destroyed");

    /* 2. Every page after the first destroyed. */
    const char *p2 = make_full_db();
    b = th_read_file(p2, &len);
    copy = th_keep(malloc(len));
    memcpy(copy, b, len);
    th_random_bytes(copy + 4096, len - 4096, 11);
    th_write_file(p2, copy, len);
    probe_corrupt(p2, "pages 2.. destroyed");

    /* 3. Truncated to half. */
    const char *p3 = make_full_db();
    b = th_read_file(p3, &len);
    th_write_file(p3, b, len / 2);
    probe_corrupt(p3, "truncated");

    /* 4. A valid header and nothing else. */
    const char *p4 = th_tmppath("header-only.db");
    b = th_read_file(make_full_db(), &len);
    th_write_file(p4, b, 100);
    probe_corrupt(p4, "header only");
}
END_TEST

START_TEST(bad_embed_dim_on_reopen)
{
    const char *path = th_tmppath("dims.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    mn_close(db);
    uint64_t h0 = th_file_hash(path);
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = 768};
    db = NULL;
    int rc = mn_open(&db, path, &cfg);
    ck_assert_msg(rc == MN_EINVAL, "rc %d (%s): %s", rc, mn_strerror(rc), mn_errmsg(db));
    ck_assert_msg(strstr(mn_errmsg(db), "384") && strstr(mn_errmsg(db), "768"), "message: %s",
                  mn_errmsg(db));
    mn_close(db);
    ck_assert(th_file_hash(path) == h0);
}
END_TEST

/* An error is the calling thread's and the handle's: a success does not clear it, another
 * handle does not see it. */
START_TEST(errmsg_semantics)
{
    mn_db *a = th_open_fresh(), *b = th_open_fresh();
    mn_tenant *t = NULL;
    ck_assert_int_eq(mn_tenant_get(a, "nope", &t), MN_ENOTFOUND);
    ck_assert_int_eq(mn_errcode(a), MN_ENOTFOUND);
    ck_assert_int_eq(mn_errcode(b), MN_OK);
    const char *msg = th_fmt("%s", mn_errmsg(a));
    ck_assert(th_has_word(msg, "nope"));
    th_tenant(a, "acme");
    ck_assert_int_eq(mn_errcode(a), MN_ENOTFOUND);
    ck_assert_str_eq(mn_errmsg(a), msg);
    ck_assert_int_eq(mn_tenant_create(a, "bad name", &t), MN_EINVAL);
    ck_assert_int_eq(mn_errcode(a), MN_EINVAL);
    ck_assert_str_ne(mn_errmsg(a), msg);
    mn_close(a);
    mn_close(b);
}
END_TEST

static Suite *bad_input_suite(void)
{
    Suite *s = suite_create("bad_input");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bad_actor);
    tcase_add_test(tc, bad_memory_ids);
    tcase_add_test(tc, bad_identity_args);
    tcase_add_test(tc, bad_text);
    tcase_add_test(tc, bad_text_small_limit);
    tcase_add_test(tc, bad_metadata);
    tcase_add_test(tc, bad_json_not_kept);
    tcase_add_test(tc, bad_type_importance_ttl);
    tcase_add_test(tc, bad_owner);
    tcase_add_test(tc, bad_vectors);
    tcase_add_test(tc, vector_extremes);
    tcase_add_test(tc, bad_list_options);
    tcase_add_test(tc, bad_search_options);
    tcase_add_test(tc, bad_delete_args);
    tcase_add_test(tc, bad_flags);
    tcase_add_test(tc, bad_large_batch);
    tcase_add_test(tc, bad_null_args);
    tcase_add_test(tc, errmsg_semantics);
    suite_add_tcase(s, tc);
    tc = tcase_create("open");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bad_open_args);
    tcase_add_test(tc, bad_open_unwritable_path);
    tcase_add_test(tc, bad_file_random_bytes);
    tcase_add_test(tc, bad_file_foreign_sqlite);
    tcase_add_test(tc, bad_file_newer_schema);
    tcase_add_test(tc, bad_file_corrupt);
    tcase_add_test(tc, bad_embed_dim_on_reopen);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    mn_global_init();
    th_init();
    return th_run(bad_input_suite());
}
