/*
 * Versioned structs (manushya.h, "Structs that grow"): a struct of version 0 or of a version
 * newer than the library's is MN_EINVAL with a message naming it, and changes nothing, for one
 * struct of each kind (the config at mn_open, an actor, options, an input, changes, a result
 * the caller allocates); the library touches no byte past the caller's version (structs are
 * allocated at exactly their size, so that the sanitizer build catches a read past them, and
 * results are written into buffers with canaries after them); an array is walked with the
 * stride of the caller's version; every mn_*_init sets its version and clears the rest.
 */
#include "support/harness.h"
#include "core/abi.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define CANARY 0xA5

static const mn_actor SYS = {.version = MN_ACTOR_VERSION, .tenant = "acme"};

static mn_db *world(void)
{
    mn_db *db = th_open_fresh();
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    return db;
}

/* A heap copy of the n bytes at p, exactly n long: reading past it is a sanitizer error. */
static void *exact(const void *p, size_t n)
{
    void *q = th_keep(malloc(n));
    memcpy(q, p, n);
    return q;
}

/* A buffer for a result struct, every byte CANARY, and whether the bytes after the first
 * size are still CANARY. */
static _Alignas(max_align_t) unsigned char result_buf[512];

static void *canaried(void)
{
    memset(result_buf, CANARY, sizeof result_buf);
    return result_buf;
}

static int canaries_after(size_t size)
{
    for (size_t i = size; i < sizeof result_buf; i++)
        if (result_buf[i] != CANARY)
            return 0;
    return 1;
}

/* Asserts that rc is MN_EINVAL and msg names the struct and says what is wrong. */
static void refused(int rc, const char *msg, const char *name, const char *why)
{
    ck_assert_msg(rc == MN_EINVAL, "%s: rc %d (%s): %s", name, rc, mn_strerror(rc), msg);
    ck_assert_msg(strstr(msg, name) && strstr(msg, why), "%s: message \"%s\"", name, msg);
}

START_TEST(version_zero_is_refused)
{
    int rc;
    /* The config at mn_open: the handle still explains. */
    mn_config cfg = MN_CONFIG_INIT;
    cfg.version = 0;
    mn_db *bad = NULL;
    rc = mn_open(&bad, th_sqlite_url(), &cfg);
    refused(rc, mn_errmsg(bad), "mn_config.version is 0", "initialise");
    mn_close(bad);

    mn_db *db = world();
    th_state before, after;
    th_state_get(db, &before);
    mn_memory *m = NULL;
    mn_memories *l = NULL;

    /* An actor. */
    mn_actor a = SYS;
    a.version = 0;
    mn_memory_input in = MN_MEMORY_INPUT_INIT;
    in.text = "never stored";
    rc = mn_memory_add(db, &a, &in, &m);
    refused(rc, mn_errmsg(db), "mn_actor.version is 0", "_INIT");
    ck_assert_ptr_null(m);

    /* Options, and the filter they point to. */
    mn_list_options lo = MN_LIST_OPTIONS_INIT;
    lo.version = 0;
    rc = mn_memory_list(db, &SYS, &lo, &l);
    refused(rc, mn_errmsg(db), "mn_list_options.version is 0", "_init()");
    mn_filter f = MN_FILTER_INIT;
    f.version = 0;
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = "anything";
    so.filter = &f;
    rc = mn_memory_search(db, &SYS, &so, &l);
    refused(rc, mn_errmsg(db), "mn_filter.version is 0", "initialise");
    ck_assert_ptr_null(l);

    /* An input, also inside a batch (where the message names the input). */
    in.version = 0;
    rc = mn_memory_add(db, &SYS, &in, &m);
    refused(rc, mn_errmsg(db), "mn_memory_input.version is 0", "initialise");
    mn_memory_input batch[2] = {MN_MEMORY_INPUT_INIT, MN_MEMORY_INPUT_INIT};
    batch[0].text = batch[1].text = "batch";
    batch[1].version = 0;
    size_t failed = 0;
    rc = mn_memory_add_many(db, &SYS, batch, 2, NULL, &failed);
    refused(rc, mn_errmsg(db), "memory 1: mn_memory_input[1].version is 0",
            "all of one version");
    ck_assert_uint_eq(failed, 1);

    /* Changes. */
    const char *id = th_add(db, &SYS, "alice", "kept as it is");
    th_state_get(db, &before);
    mn_memory_changes ch = MN_MEMORY_CHANGES_INIT;
    ch.set = MN_MEMORY_SET_TEXT;
    ch.text = "changed";
    ch.version = 0;
    rc = mn_memory_update(db, &SYS, id, &ch, &m);
    refused(rc, mn_errmsg(db), "mn_memory_changes.version is 0", "initialise");
    mn_policy_changes pc = MN_POLICY_CHANGES_INIT;
    pc.set = MN_POLICY_SET_PRIORITY;
    pc.version = 0;
    rc = mn_policy_update(db, &SYS, id, &pc, NULL);
    refused(rc, mn_errmsg(db), "mn_policy_changes.version is 0", "initialise");
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "refused structs change nothing");

    /* A result the caller allocates. */
    mn_ratelimit_stats st = MN_RATELIMIT_STATS_INIT;
    st.version = 0;
    rc = mn_ratelimit_stats_get(db, &st);
    refused(rc, mn_errmsg(db), "mn_ratelimit_stats.version is 0", "initialise");
    mn_embed_stats es = MN_EMBED_STATS_INIT;
    es.version = 0;
    rc = mn_embed_stats_get(db, &es);
    refused(rc, mn_errmsg(db), "mn_embed_stats.version is 0", "initialise");
    mn_maintenance_report mr = MN_MAINTENANCE_REPORT_INIT;
    mr.version = 0;
    rc = mn_maintenance_run(db, MN_MAINT_ALL, &mr);
    refused(rc, mn_errmsg(db), "mn_maintenance_report.version is 0", "initialise");
    mn_close(db);

    /* A standalone index's params: reported without a handle. */
    mn_ann_params p = MN_ANN_PARAMS_INIT;
    p.version = 0;
    mn_ann *ann = NULL;
    rc = mn_ann_create(8, &p, &ann);
    refused(rc, mn_errmsg(NULL), "mn_ann_params.version is 0", "initialise");
    ck_assert_ptr_null(ann);
}
END_TEST

START_TEST(newer_version_is_refused)
{
    int rc;
    mn_config cfg = MN_CONFIG_INIT;
    cfg.version = MN_CONFIG_VERSION + 1;
    mn_db *bad = NULL;
    rc = mn_open(&bad, th_sqlite_url(), &cfg);
    refused(rc, mn_errmsg(bad), th_fmt("mn_config.version is %d", MN_CONFIG_VERSION + 1),
            "newer than this library knows");
    mn_close(bad);

    mn_db *db = world();
    mn_actor a = SYS;
    a.version = MN_ACTOR_VERSION + 1;
    mn_memories *l = NULL;
    rc = mn_memory_list(db, &a, NULL, &l);
    refused(rc, mn_errmsg(db), th_fmt("mn_actor.version is %d", MN_ACTOR_VERSION + 1), "newer");
    mn_memory_input in = MN_MEMORY_INPUT_INIT;
    in.text = "x";
    in.version = 99;
    rc = mn_memory_add(db, &SYS, &in, NULL);
    refused(rc, mn_errmsg(db), "mn_memory_input.version is 99", "install that library version");
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    r.version = MN_RATELIMIT_RESULT_VERSION + 1;
    rc = mn_ratelimit_peek(db, &SYS, "memory:create", 1, &r);
    refused(rc, mn_errmsg(db), "mn_ratelimit_result.version is 2", "newer");
    ck_assert_uint_eq(th_count_memories(db, &SYS, 0), 0);
    mn_close(db);
}
END_TEST

/* Every struct read at exactly its size (the sanitizer build watches the byte after it), and
 * every result written into a buffer whose bytes past the struct stay as they were. */
START_TEST(only_the_callers_bytes)
{
    mn_config c = MN_CONFIG_INIT;
    c.ratelimit = MN_RATELIMIT_MEMORY;
    mn_db *db = th_open(th_sqlite_url(), exact(&c, sizeof c));
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    const mn_actor *sys = exact(&SYS, sizeof SYS);
    mn_memory_input in = MN_MEMORY_INPUT_INIT;
    in.text = "tea at four";
    in.identity = "alice";
    mn_memory *m = NULL;
    TH_OK(db, mn_memory_add(db, sys, exact(&in, sizeof in), &m));
    ck_assert_double_eq(m->importance, 0.5);
    mn_memory_changes ch = MN_MEMORY_CHANGES_INIT;
    ch.set = MN_MEMORY_SET_IMPORTANCE;
    ch.importance = 0.75;
    TH_OK(db, mn_memory_update(db, sys, m->id, exact(&ch, sizeof ch), NULL));
    mn_memory_free(m);
    mn_filter f = MN_FILTER_INIT;
    f.type = "fact";
    mn_list_options lo = MN_LIST_OPTIONS_INIT;
    lo.filter = exact(&f, sizeof f);
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_list(db, sys, exact(&lo, sizeof lo), &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_double_eq(l->items[0]->importance, 0.75);
    mn_memories_free(l);
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = "tea";
    so.filter = lo.filter;
    TH_OK(db, mn_memory_search(db, sys, exact(&so, sizeof so), &l));
    ck_assert_uint_eq(l->count, 1);
    mn_memories_free(l);
    mn_policy_input pi = MN_POLICY_INPUT_INIT;
    pi.role = "agent";
    pi.rule = "{\"effect\":\"allow\",\"actions\":[\"read\"],\"resource\":\"memory\"}";
    mn_policy *p = NULL;
    TH_OK(db, mn_policy_add(db, sys, exact(&pi, sizeof pi), &p));
    mn_policy_changes pc = MN_POLICY_CHANGES_INIT;
    pc.set = MN_POLICY_SET_PRIORITY;
    pc.priority = 7;
    mn_policy *q = NULL;
    TH_OK(db, mn_policy_update(db, sys, p->id, exact(&pc, sizeof pc), &q));
    ck_assert_int_eq(q->priority, 7);
    mn_policy_free(p);
    mn_policy_free(q);

    /* Results: the bytes after the struct keep their canaries. */
    mn_ratelimit_result *r = canaried();
    mn_ratelimit_result_init(r, MN_RATELIMIT_RESULT_VERSION);
    TH_OK(db, mn_ratelimit_hit(db, sys, "memory:create", 1, r));
    ck_assert(r->allowed == 1 && canaries_after(sizeof *r));
    mn_ratelimit_stats *st = canaried();
    mn_ratelimit_stats_init(st, MN_RATELIMIT_STATS_VERSION);
    TH_OK(db, mn_ratelimit_stats_get(db, st));
    ck_assert(st->allowed == 1 && canaries_after(sizeof *st));
    mn_embed_stats *es = canaried();
    mn_embed_stats_init(es, MN_EMBED_STATS_VERSION);
    TH_OK(db, mn_embed_stats_get(db, es));
    ck_assert(es->dim == 384 && canaries_after(sizeof *es));
    mn_maintenance_report *mr = canaried();
    mn_maintenance_report_init(mr, MN_MAINTENANCE_REPORT_VERSION);
    TH_OK(db, mn_maintenance_run(db, MN_MAINT_PURGE_EXPIRED, mr));
    ck_assert(mr->tasks[0].status == MN_MAINT_RAN && canaries_after(sizeof *mr));
    mn_close(db);

    mn_ann_params ap = MN_ANN_PARAMS_INIT;
    ap.m = 8;
    mn_ann *ann = NULL;
    ck_assert_int_eq(mn_ann_create(8, exact(&ap, sizeof ap), &ann), MN_OK);
    mn_ann_free(ann);
}
END_TEST

/* The growth itself, on a struct with two versions: version 1 is 8 bytes, version 2 adds b. */
struct grown {
    unsigned version;
    int a;
    long long b;
};
static const size_t grown_sizes[] = {8, sizeof(struct grown)};
static const struct mni_abi_struct grown_abi = {"grown", 2, grown_sizes};

START_TEST(older_versions_read_and_written_in_their_size)
{
    /* A version-1 caller's struct, exactly 8 bytes: b reads as 0, the default. */
    struct {
        unsigned version;
        int a;
    } v1 = {1, 42};
    struct grown g;
    memset(&g, 0xFF, sizeof g);
    ck_assert_int_eq(mni_abi_read(NULL, &grown_abi, exact(&v1, sizeof v1), 0, &g, sizeof g), MN_OK);
    ck_assert(g.version == 1 && g.a == 42 && g.b == 0);

    /* Written back: 8 bytes, the version kept, nothing after them touched. */
    unsigned char buf[8 + 16];
    memset(buf, CANARY, sizeof buf);
    memcpy(buf, &v1, sizeof v1);
    struct grown full = {2, 7, 123456789};
    ck_assert_int_eq(mni_abi_write(NULL, &grown_abi, buf, &full), MN_OK);
    memcpy(&v1, buf, sizeof v1);
    ck_assert(v1.version == 1 && v1.a == 7);
    for (size_t i = 8; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], CANARY);

    /* An array of version-1 structs is walked 8 bytes at a time. */
    struct {
        unsigned version;
        int a;
    } arr[3] = {{1, 10}, {1, 11}, {1, 12}};
    struct grown out[3];
    size_t bad = 99;
    ck_assert_int_eq(
        mni_abi_read_array(NULL, &grown_abi, exact(arr, sizeof arr), 3, out, sizeof *out, &bad),
        MN_OK);
    for (int i = 0; i < 3; i++)
        ck_assert(out[i].version == 1 && out[i].a == 10 + i && out[i].b == 0);
    arr[2].version = 2;
    ck_assert_int_eq(mni_abi_read_array(NULL, &grown_abi, arr, 3, out, sizeof *out, &bad),
                     MN_EINVAL);
    ck_assert_uint_eq(bad, 2);
    ck_assert(strstr(mn_errmsg(NULL), "grown[2].version is 2 but [0]'s is 1"));

    /* An init of an older version clears only that version's bytes. */
    memset(buf, CANARY, sizeof buf);
    ck_assert_int_eq(mni_abi_init(&grown_abi, buf, 1), MN_OK);
    memcpy(&v1, buf, sizeof v1);
    ck_assert(v1.version == 1 && v1.a == 0);
    for (size_t i = 8; i < sizeof buf; i++)
        ck_assert_int_eq(buf[i], CANARY);
}
END_TEST

/* The real growth of 1.1: a 1.0 program's mn_actor is version 1, without api_key; the library
 * reads its 32 bytes and no more (exact: ASan sees a read past them), and acts for it. */
START_TEST(actor_of_1_0_without_api_key)
{
    mn_db *db = world();
    struct {
        unsigned version;
        const char *tenant, *identity, *context;
    } v1 = {1, "acme", NULL, NULL};
    ck_assert_uint_eq(sizeof v1, offsetof(mn_actor, api_key));
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_list(db, exact(&v1, sizeof v1), NULL, &l));
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

/* The growth of 1.2: a 1.1 program's mn_config is version 1, without master_key_file and
 * metrics; the library reads its bytes and no more, and keeps metrics (the default). */
START_TEST(config_of_1_1_without_metrics)
{
    mn_config cur = MN_CONFIG_INIT;
    size_t v1_size = offsetof(mn_config, master_key_file);
    mn_config *v1 = exact(&cur, v1_size);
    v1->version = 1;
    mn_db *db = NULL;
    TH_OK(db, mn_open(&db, th_sqlite_url(), v1));
    char *text = NULL;
    TH_OK(db, mn_metrics_write(db, MN_METRICS_PROMETHEUS, &text));
    ck_assert(strstr(text, "manushya_calls_total"));
    mn_free(text);
    mn_close(db);
}
END_TEST

/* The growth of ranking: a version 1 mn_search_options (no ranking, no cursor) is read in its
 * own size, the rest taken as defaults; a version 2 mn_config's handle has no ranking. Both
 * searches are the same, and a garbage byte past the old size changes nothing. */
START_TEST(search_options_of_version_1)
{
    mn_config cur = MN_CONFIG_INIT;
    mn_config *cfg2 = exact(&cur, offsetof(mn_config, search_recency_half_life_ms));
    cfg2->version = 2;
    mn_db *db = NULL;
    TH_OK(db, mn_open(&db, th_sqlite_url(), cfg2));
    th_tenant(db, "acme");
    mn_actor sys = TH_ACTOR(.tenant = "acme");
    th_add(db, &sys, th_identity(db, "acme", "alice"), "green tea in the morning");
    size_t v1_size = offsetof(mn_search_options, recency_half_life_ms);
    unsigned char *raw = th_keep(malloc(v1_size + sizeof(mn_search_options)));
    memset(raw, 0xFF, v1_size + sizeof(mn_search_options));
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = "green tea";
    so.version = 1;
    memcpy(raw, &so, v1_size);
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &sys, (const mn_search_options *)raw, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_double_eq(l->items[0]->score, l->items[0]->fused_score); /* no adjustment */
    ck_assert(l->items[0]->recency_factor == 1 && l->items[0]->importance_factor == 1);
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

START_TEST(init_functions)
{
    mn_memory_input in;
    memset(&in, 0xFF, sizeof in);
    ck_assert_int_eq(mn_memory_input_init(&in, MN_MEMORY_INPUT_VERSION), MN_OK);
    ck_assert_uint_eq(in.version, MN_MEMORY_INPUT_VERSION);
    ck_assert(in.text == NULL && in.ttl_days == 0 && in.importance == MN_IMPORTANCE_DEFAULT);
    mn_memory_input by_macro = MN_MEMORY_INPUT_INIT;
    ck_assert(by_macro.version == in.version && by_macro.importance == in.importance &&
              by_macro.text == NULL);
    mn_config c;
    memset(&c, 0xFF, sizeof c);
    ck_assert_int_eq(mn_config_init(&c, MN_CONFIG_VERSION), MN_OK);
    ck_assert(c.version == MN_CONFIG_VERSION && c.flags == 0 && c.embedder == NULL);
    ck_assert_int_eq(mn_config_init(&c, 0), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(NULL), "mn_config_init: version 0 is unknown"), "%s",
                  mn_errmsg(NULL));
    ck_assert_int_eq(mn_errcode(NULL), MN_EINVAL);
    ck_assert_int_eq(mn_actor_init(NULL, MN_ACTOR_VERSION), MN_EINVAL);
    mn_search_options so;
    ck_assert_int_eq(mn_search_options_init(&so, MN_SEARCH_OPTIONS_VERSION + 1), MN_EINVAL);
    /* One of each other kind, so that each init is known to exist and to work. */
    mn_actor a;
    mn_filter f;
    mn_list_options lo;
    mn_memory_changes mc;
    mn_policy_input pi;
    mn_policy_changes pc;
    mn_ann_params ap;
    mn_embed_stats es;
    mn_ratelimit_result rr;
    mn_ratelimit_stats rs;
    ck_assert(mn_actor_init(&a, MN_ACTOR_VERSION) == MN_OK && a.version == MN_ACTOR_VERSION);
    ck_assert(mn_filter_init(&f, MN_FILTER_VERSION) == MN_OK && f.flags == 0);
    ck_assert(mn_list_options_init(&lo, 1) == MN_OK && lo.filter == NULL);
    ck_assert(mn_search_options_init(&so, 1) == MN_OK && so.k == 0);
    ck_assert(mn_memory_changes_init(&mc, 1) == MN_OK && mc.set == 0);
    ck_assert(mn_policy_input_init(&pi, 1) == MN_OK && pi.inactive == 0);
    ck_assert(mn_policy_changes_init(&pc, 1) == MN_OK && pc.set == 0);
    ck_assert(mn_ann_params_init(&ap, 1) == MN_OK && ap.m == 0);
    ck_assert(mn_embed_stats_init(&es, 1) == MN_OK && es.texts == 0);
    ck_assert(mn_ratelimit_result_init(&rr, 1) == MN_OK && rr.allowed == 0);
    ck_assert(mn_ratelimit_stats_init(&rs, 1) == MN_OK && rs.denied == 0);
}
END_TEST

static Suite *abi_suite(void)
{
    Suite *s = suite_create("abi");
    TCase *tc = tcase_create("structs");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, version_zero_is_refused);
    tcase_add_test(tc, newer_version_is_refused);
    tcase_add_test(tc, only_the_callers_bytes);
    tcase_add_test(tc, older_versions_read_and_written_in_their_size);
    tcase_add_test(tc, actor_of_1_0_without_api_key);
    tcase_add_test(tc, config_of_1_1_without_metrics);
    tcase_add_test(tc, search_options_of_version_1);
    tcase_add_test(tc, init_functions);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(abi_suite());
}
