/*
 * Concurrency: one handle shared by threads (writers with add and add_many while readers search
 * and list), concurrent updates of one memory, racing creates of one name, per-thread error
 * messages, and two processes writing one file through their own handles.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manushya.h"
#include "support/harness.h"

#define WRITERS 4
#define READERS 4
#define ROUNDS 25
#define BATCH 4
#define PER_WRITER (ROUNDS * (1 + BATCH))

struct shared {
    mn_db *db;
    atomic_int writers_left;
    atomic_int start;
};

struct writer {
    struct shared *sh;
    int n;
    char *ids[PER_WRITER];
    size_t nids;
    int failures;
    char first_error[600];
};

struct reader {
    struct shared *sh;
    int n;
    long searches, lists;
    int failures;
    char first_error[600];
};

static void note_fail(int *failures, char *first, size_t len, const char *what, int rc, mn_db *db)
{
    if ((*failures)++ == 0)
        snprintf(first, len, "%s: rc %d (%s): %s", what, rc, mn_strerror(rc), mn_errmsg(db));
}

static void *writer_main(void *p)
{
    struct writer *w = p;
    mn_db *db = w->sh->db;
    char owner[16];
    snprintf(owner, sizeof owner, "w%d", w->n);
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = owner);
    while (!atomic_load(&w->sh->start))
        ;
    for (int r = 0; r < ROUNDS; r++) {
        char text[128];
        snprintf(text, sizeof text, "writer %d round %d single memory about topic %d", w->n, r,
                 r % 5);
        mn_memory_input in = TH_IN(.text = text, .metadata = "{\"kind\":\"single\"}");
        mn_memory *m = NULL;
        int rc = mn_memory_add(db, &a, &in, &m);
        if (rc != MN_OK) {
            note_fail(&w->failures, w->first_error, sizeof w->first_error, "add", rc, db);
        } else {
            w->ids[w->nids++] = strdup(m->id);
            mn_memory_free(m);
        }
        char texts[BATCH][128];
        mn_memory_input batch[BATCH];
        for (int b = 0; b < BATCH; b++) {
            snprintf(texts[b], sizeof texts[b], "writer %d round %d batch item %d topic %d", w->n,
                     r, b, (r + b) % 5);
            batch[b] = (mn_memory_input)TH_IN(.text = texts[b], .type = "batch");
        }
        char **ids = NULL;
        rc = mn_memory_add_many(db, &a, batch, BATCH, &ids, NULL);
        if (rc != MN_OK) {
            note_fail(&w->failures, w->first_error, sizeof w->first_error, "add_many", rc, db);
        } else {
            for (int b = 0; b < BATCH; b++)
                w->ids[w->nids++] = strdup(ids[b]);
            mn_strings_free(ids, BATCH);
        }
    }
    atomic_fetch_sub(&w->sh->writers_left, 1);
    return NULL;
}

static void *reader_main(void *p)
{
    struct reader *r = p;
    mn_db *db = r->sh->db;
    mn_actor sys = TH_ACTOR(.tenant = "acme", .identity = NULL);
    while (!atomic_load(&r->sh->start))
        ;
    unsigned i = 0;
    /* At least a few rounds, then until the writers are done. */
    while (atomic_load(&r->sh->writers_left) > 0 || i < 5) {
        i++;
        char q[64];
        snprintf(q, sizeof q, "writer %u round %u topic %u", i % WRITERS, i % ROUNDS, i % 5);
        mn_filter so_filter = MN_FILTER_INIT;
        mn_search_options so = {
            .version = MN_SEARCH_OPTIONS_VERSION, .query = q, .k = 20, .filter = &so_filter};
        if (i % 3 == 0)
            so_filter.type = "batch";
        mn_memories *l = NULL;
        int rc = mn_memory_search(db, &sys, &so, &l);
        if (rc != MN_OK) {
            note_fail(&r->failures, r->first_error, sizeof r->first_error, "search", rc, db);
        } else {
            for (size_t k = 1; k < l->count; k++)
                if (l->items[k]->fused_score > l->items[k - 1]->fused_score + 1e-9 ||
                    (so_filter.type && strcmp(l->items[k]->type, "batch") != 0))
                    note_fail(&r->failures, r->first_error, sizeof r->first_error, "search order", 0,
                         db);
            r->searches++;
            mn_memories_free(l);
        }
        mn_filter lo_filter = MN_FILTER_INIT;
        mn_list_options lo = {
            .version = MN_LIST_OPTIONS_VERSION, .limit = 50, .filter = &lo_filter};
        if (i % 2)
            lo_filter.metadata = "{\"kind\":\"single\"}";
        l = NULL;
        rc = mn_memory_list(db, &sys, &lo, &l);
        if (rc != MN_OK) {
            note_fail(&r->failures, r->first_error, sizeof r->first_error, "list", rc, db);
            continue;
        }
        for (size_t k = 1; k < l->count; k++)
            if (strcmp(l->items[k]->id, l->items[k - 1]->id) >= 0)
                note_fail(&r->failures, r->first_error, sizeof r->first_error, "list order", 0, db);
        if (l->next_cursor) {
            lo.cursor = l->next_cursor;
            mn_memories *l2 = NULL;
            rc = mn_memory_list(db, &sys, &lo, &l2);
            if (rc != MN_OK)
                note_fail(&r->failures, r->first_error, sizeof r->first_error, "list page 2", rc, db);
            else if (l2->count > 0 && l->count > 0 &&
                     strcmp(l2->items[0]->id, l->items[l->count - 1]->id) >= 0)
                note_fail(&r->failures, r->first_error, sizeof r->first_error, "page 2 order", 0, db);
            mn_memories_free(l2);
        }
        mn_memories_free(l);
        r->lists++;
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Every memory of the tenant: ids and seqs, sorted; asserts both unique. */
static size_t check_all_unique(mn_db *db, const mn_actor *a)
{
    size_t cap = 4096, n = 0;
    char **ids = malloc(cap * sizeof *ids);
    int64_t *seqs = malloc(cap * sizeof *seqs);
    ck_assert(ids && seqs);
    mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION,
                          .limit = 1000,
                          .filter =
                              &(mn_filter){.version = MN_FILTER_VERSION, .flags = MN_WITH_DELETED}};
    char *cursor = NULL;
    for (;;) {
        lo.cursor = cursor;
        mn_memories *l = NULL;
        TH_OK(db, mn_memory_list(db, a, &lo, &l));
        for (size_t i = 0; i < l->count; i++) {
            ck_assert_uint_lt(n, cap);
            ids[n] = strdup(l->items[i]->id);
            seqs[n++] = l->items[i]->seq;
        }
        free(cursor);
        cursor = l->next_cursor ? strdup(l->next_cursor) : NULL;
        mn_memories_free(l);
        if (!cursor)
            break;
    }
    qsort(ids, n, sizeof *ids, cmp_str);
    qsort(seqs, n, sizeof *seqs, cmp_i64);
    for (size_t i = 1; i < n; i++) {
        ck_assert_msg(strcmp(ids[i], ids[i - 1]) != 0, "duplicate id %s", ids[i]);
        ck_assert_msg(seqs[i] != seqs[i - 1], "duplicate seq %lld", (long long)seqs[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    free(seqs);
    return n;
}

/* Loop index: the connection pool size (4, the default, and 1: every call waits its turn). */
START_TEST(one_handle_many_threads)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION, .pool_size = _i};
    mn_db *db = th_open(th_sqlite_url(), &cfg);
    th_tenant(db, "acme");
    const char *wid[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        wid[i] = th_identity(db, "acme", th_fmt("w%d", i));
    /* Something to read from the start. */
    th_identity(db, "acme", "seeder");
    mn_actor seeder = TH_ACTOR(.tenant = "acme", .identity = "seeder");
    th_add(db, &seeder, NULL, "seed memory");

    struct shared sh = {.db = db};
    atomic_init(&sh.writers_left, WRITERS);
    atomic_init(&sh.start, 0);
    static struct writer ws[WRITERS];
    static struct reader rs[READERS];
    pthread_t wt[WRITERS], rt[READERS];
    for (int i = 0; i < WRITERS; i++) {
        ws[i] = (struct writer){.sh = &sh, .n = i};
        ck_assert_int_eq(pthread_create(&wt[i], NULL, writer_main, &ws[i]), 0);
    }
    for (int i = 0; i < READERS; i++) {
        rs[i] = (struct reader){.sh = &sh, .n = i};
        ck_assert_int_eq(pthread_create(&rt[i], NULL, reader_main, &rs[i]), 0);
    }
    atomic_store(&sh.start, 1);
    for (int i = 0; i < WRITERS; i++)
        ck_assert_int_eq(pthread_join(wt[i], NULL), 0);
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_join(rt[i], NULL), 0);

    for (int i = 0; i < WRITERS; i++) {
        ck_assert_msg(ws[i].failures == 0, "writer %d: %d failures, first: %s", i,
                      ws[i].failures, ws[i].first_error);
        ck_assert_uint_eq(ws[i].nids, PER_WRITER);
    }
    for (int i = 0; i < READERS; i++) {
        ck_assert_msg(rs[i].failures == 0, "reader %d: %d failures, first: %s", i,
                      rs[i].failures, rs[i].first_error);
        ck_assert_int_gt(rs[i].searches, 0);
        ck_assert_int_gt(rs[i].lists, 0);
    }

    mn_actor sys = TH_ACTOR(.tenant = "acme", .identity = NULL);
    size_t total = 1 + WRITERS * PER_WRITER;
    ck_assert_uint_eq(th_count_memories(db, &sys, 0), total);
    ck_assert_uint_eq(check_all_unique(db, &sys), total);
    for (int i = 0; i < WRITERS; i++) {
        mn_actor own = TH_ACTOR(.tenant = "acme", .identity = th_fmt("w%d", i));
        mn_filter f = {.version = MN_FILTER_VERSION, .identity = own.identity};
        size_t n;
        th_list_ids(db, &sys, &f, 1000, &n);
        ck_assert_uint_eq(n, PER_WRITER);
        for (size_t k = 0; k < ws[i].nids; k++) {
            mn_memory *m = th_get(db, &sys, ws[i].ids[k], 0);
            ck_assert_str_eq(m->identity_id, wid[i]);
            ck_assert_int_eq(m->version, 1);
            mn_memory_free(m);
            free(ws[i].ids[k]);
        }
    }
    /* Every memory is searchable: each writer's last batch item comes first for its text, by
     * vector (its own text scores 1). Hybrid would fuse in the keyword rank, in which another
     * writer's text with the same words ("writer 1 ... topic 1") may come first: a fused tie. */
    for (int i = 0; i < WRITERS; i++) {
        char q[128];
        snprintf(q, sizeof q, "writer %d round %d batch item %d topic %d", i, ROUNDS - 1, 2,
                 (ROUNDS - 1 + 2) % 5);
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = q, .k = 1,
                                .mode = MN_SEARCH_VECTOR};
        mn_memories *l = NULL;
        TH_OK(db, mn_memory_search(db, &sys, &so, &l));
        ck_assert_uint_eq(l->count, 1);
        ck_assert_str_eq(l->items[0]->text, q);
        mn_memories_free(l);
    }
    mn_close(db);
}
END_TEST

/* ---- concurrent updates of one memory --------------------------------------------------------- */
#define UPDATERS 4
#define UPDATES 25

struct updater {
    mn_db *db;
    const char *id;
    int n;
    int failures;
    char first_error[600];
};

static void *updater_main(void *p)
{
    struct updater *u = p;
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = NULL);
    for (int i = 0; i < UPDATES; i++) {
        char text[64];
        snprintf(text, sizeof text, "updated by %d, round %d", u->n, i);
        mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                                .set = MN_MEMORY_SET_TEXT | MN_MEMORY_SET_IMPORTANCE,
                                .text = text,
                                .importance = u->n / 10.0};
        int rc = mn_memory_update(u->db, &a, u->id, &ch, NULL);
        if (rc != MN_OK)
            note_fail(&u->failures, u->first_error, sizeof u->first_error, "update", rc, u->db);
    }
    return NULL;
}

START_TEST(concurrent_updates_of_one_memory)
{
    mn_db *db = th_open_fresh();
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    const char *id = th_add(db, &a, NULL, "contended memory");
    pthread_t t[UPDATERS];
    struct updater us[UPDATERS];
    for (int i = 0; i < UPDATERS; i++) {
        us[i] = (struct updater){.db = db, .id = id, .n = i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, updater_main, &us[i]), 0);
    }
    for (int i = 0; i < UPDATERS; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_msg(us[i].failures == 0, "updater %d: %d failures, first: %s", i,
                      us[i].failures, us[i].first_error);
    }
    mn_memory *m = th_get(db, &a, id, MN_WITH_EMBEDDING);
    ck_assert_int_eq(m->version, 1 + UPDATERS * UPDATES);
    /* The embedding belongs to the final text. */
    ck_assert_double_eq_tol(th_dot(m->embedding, th_embed(db, m->text), m->dim), 1.0, 1e-5);
    mn_memory_free(m);
    mn_history *h = NULL;
    TH_OK(db, mn_memory_history(db, &a, id, &h));
    ck_assert_uint_eq(h->count, UPDATERS * UPDATES);
    for (size_t i = 0; i < h->count; i++) {
        ck_assert_int_eq(h->items[i]->version, (int64_t)i + 2);
        /* Each change starts from the one before it: no lost update. */
        const char *before = th_json_str(h->items[i]->before, "text");
        const char *prev = i > 0 ? th_json_str(h->items[i - 1]->after, "text") : "contended memory";
        ck_assert_msg(before && prev && strcmp(before, prev) == 0,
                      "history %zu: before %s, previous after %s", i, h->items[i]->before,
                      i > 0 ? h->items[i - 1]->after : "(the add)");
    }
    mn_history_free(h);
    mn_close(db);
}
END_TEST

/* ---- racing creates --------------------------------------------------------------------------- */
struct racer {
    mn_db *db;
    int rc;
    pthread_barrier_t *bar;
};

static void *racer_main(void *p)
{
    struct racer *r = p;
    pthread_barrier_wait(r->bar);
    mn_tenant *t = NULL;
    r->rc = mn_tenant_create(r->db, "contested", &t);
    mn_tenant_free(t);
    return NULL;
}

START_TEST(racing_creates_one_wins)
{
    for (int round = 0; round < 10; round++) {
        mn_db *fresh = th_open_fresh();
        pthread_barrier_t bar;
        pthread_barrier_init(&bar, NULL, 4);
        pthread_t t[4];
        struct racer rs[4];
        for (int i = 0; i < 4; i++) {
            rs[i] = (struct racer){.db = fresh, .bar = &bar};
            ck_assert_int_eq(pthread_create(&t[i], NULL, racer_main, &rs[i]), 0);
        }
        int ok = 0, exists = 0;
        for (int i = 0; i < 4; i++) {
            pthread_join(t[i], NULL);
            ok += rs[i].rc == MN_OK;
            exists += rs[i].rc == MN_EEXISTS;
        }
        pthread_barrier_destroy(&bar);
        ck_assert_msg(ok == 1 && exists == 3, "round %d: %d created, %d already existed", round,
                      ok, exists);
        ck_assert_uint_eq(th_count_tenants(fresh), 1);
        mn_close(fresh);
    }
}
END_TEST

/* ---- per-thread errors ------------------------------------------------------------------------ */
struct errthread {
    mn_db *db;
    int n;
    int bad;
};

static void *err_main(void *p)
{
    struct errthread *e = p;
    char name[32];
    for (int i = 0; i < 300; i++) {
        /* Each thread fails with its own name, then checks its message is its own. */
        snprintf(name, sizeof name, "missing-%d-%d", e->n, i);
        mn_tenant *t = NULL;
        int rc = mn_tenant_get(e->db, name, &t);
        if (rc != MN_ENOTFOUND || mn_errcode(e->db) != MN_ENOTFOUND ||
            !strstr(mn_errmsg(e->db), name))
            e->bad++;
        /* A success in between leaves it as it was. */
        mn_tenants *l = NULL;
        if (mn_tenant_list(e->db, &l) != MN_OK || !strstr(mn_errmsg(e->db), name))
            e->bad++;
        mn_tenants_free(l);
    }
    return NULL;
}

START_TEST(errors_are_per_thread)
{
    mn_db *db = th_open_fresh();
    th_tenant(db, "acme");
    ck_assert_int_eq(mn_errcode(db), MN_OK);
    pthread_t t[4];
    struct errthread es[4];
    for (int i = 0; i < 4; i++) {
        es[i] = (struct errthread){.db = db, .n = i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, err_main, &es[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(es[i].bad == 0, "thread %d saw %d wrong messages", i, es[i].bad);
    }
    /* The main thread made no failing call. */
    ck_assert_int_eq(mn_errcode(db), MN_OK);
    mn_close(db);
}
END_TEST

/* ---- two processes ---------------------------------------------------------------------------- */
#define PROCS 2
#define PROC_ROUNDS 30
#define PROC_BATCH 4
#define PER_PROC (PROC_ROUNDS * (1 + PROC_BATCH))

/* Runs in a child: no Check assertions here, only an exit status. */
static int child_main(const char *path, int n)
{
    mn_db *db = NULL;
    if (mn_open(&db, path, NULL) != MN_OK) {
        fprintf(stderr, "child %d: open: %s\n", n, mn_errmsg(db));
        mn_close(db);
        return 10;
    }
    char owner[16];
    snprintf(owner, sizeof owner, "p%d", n);
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = owner);
    int failures = 0;
    for (int r = 0; r < PROC_ROUNDS; r++) {
        char text[96];
        snprintf(text, sizeof text, "process %d round %d single", n, r);
        mn_memory_input in = TH_IN(.text = text);
        int rc = mn_memory_add(db, &a, &in, NULL);
        if (rc != MN_OK && failures++ == 0)
            fprintf(stderr, "child %d: add: %s: %s\n", n, mn_strerror(rc), mn_errmsg(db));
        char texts[PROC_BATCH][96];
        mn_memory_input batch[PROC_BATCH];
        for (int b = 0; b < PROC_BATCH; b++) {
            snprintf(texts[b], sizeof texts[b], "process %d round %d batch %d", n, r, b);
            batch[b] = (mn_memory_input)TH_IN(.text = texts[b]);
        }
        rc = mn_memory_add_many(db, &a, batch, PROC_BATCH, NULL, NULL);
        if (rc != MN_OK && failures++ == 0)
            fprintf(stderr, "child %d: add_many: %s: %s\n", n, mn_strerror(rc), mn_errmsg(db));
        /* and read what the other process wrote */
        mn_search_options so = {
            .version = MN_SEARCH_OPTIONS_VERSION, .query = "process round batch", .k = 5};
        mn_memories *l = NULL;
        rc = mn_memory_search(db, &a, &so, &l);
        if (rc != MN_OK && failures++ == 0)
            fprintf(stderr, "child %d: search: %s: %s\n", n, mn_strerror(rc), mn_errmsg(db));
        mn_memories_free(l);
    }
    mn_close(db);
    return failures ? 1 : 0;
}

START_TEST(two_processes_one_file)
{
    const char *path = th_tmppath("shared.db");
    mn_db *db = th_open(path, NULL);
    th_tenant(db, "acme");
    for (int i = 0; i < PROCS; i++)
        th_identity(db, "acme", th_fmt("p%d", i));
    mn_close(db);

    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            int rc = child_main(path, i);
            _exit(rc);
        }
    }
    for (int i = 0; i < PROCS; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "child %d: status %d (see its stderr)", i, status);
    }
    db = th_open(path, NULL);
    mn_actor sys = TH_ACTOR(.tenant = "acme", .identity = NULL);
    ck_assert_uint_eq(th_count_memories(db, &sys, 0), PROCS * PER_PROC);
    ck_assert_uint_eq(check_all_unique(db, &sys), PROCS * PER_PROC);
    for (int i = 0; i < PROCS; i++) {
        mn_filter f = {.version = MN_FILTER_VERSION, .identity = th_fmt("p%d", i)};
        size_t n;
        th_list_ids(db, &sys, &f, 1000, &n);
        ck_assert_uint_eq(n, PER_PROC);
    }
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION, .query = "process 1 round 29 batch 3", .k = 1};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &sys, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->text, "process 1 round 29 batch 3");
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

/* Two processes creating the same new file at the same moment: one creates it, the other finds
 * it made, and both write. */
static int creator_main(const char *path, int n, int go_fd)
{
    char c;
    if (read(go_fd, &c, 1) != 1)
        return 20;
    mn_db *db = NULL;
    if (mn_open(&db, path, NULL) != MN_OK) {
        fprintf(stderr, "creator %d: open: %s\n", n, mn_errmsg(db));
        mn_close(db);
        return 21;
    }
    char name[16];
    snprintf(name, sizeof name, "t%d", n);
    mn_tenant *t = NULL;
    mn_identity *i = NULL;
    int rc = mn_tenant_create(db, name, &t);
    mn_actor sys = TH_ACTOR(.tenant = name, .identity = NULL);
    if (rc == MN_OK)
        rc = mn_identity_create(db, &sys, "agent", NULL, NULL, &i);
    mn_actor a = TH_ACTOR(.tenant = name, .identity = "agent");
    for (int k = 0; rc == MN_OK && k < 20; k++) {
        char text[64];
        snprintf(text, sizeof text, "creator %d memory %d", n, k);
        mn_memory_input in = TH_IN(.text = text);
        rc = mn_memory_add(db, &a, &in, NULL);
    }
    if (rc != MN_OK)
        fprintf(stderr, "creator %d: %s: %s\n", n, mn_strerror(rc), mn_errmsg(db));
    mn_tenant_free(t);
    mn_identity_free(i);
    mn_close(db);
    return rc == MN_OK ? 0 : 22;
}

START_TEST(two_processes_create_one_file)
{
    /* The race is narrow: enough rounds to meet it. */
    for (int round = 0; round < 20; round++) {
        const char *path = th_tmppath("created.db");
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pids[2];
        for (int i = 0; i < 2; i++) {
            pids[i] = fork();
            ck_assert_int_ge(pids[i], 0);
            if (pids[i] == 0) {
                close(fds[1]);
                _exit(creator_main(path, i, fds[0]));
            }
        }
        close(fds[0]);
        ck_assert_int_eq(write(fds[1], "gg", 2), 2); /* both go at once */
        close(fds[1]);
        for (int i = 0; i < 2; i++) {
            int status = 0;
            ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
            ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                          "round %d creator %d: status %d (see its stderr)", round, i, status);
        }
        mn_db *db = th_open(path, NULL);
        ck_assert_int_eq(mn_embed_dim(db), 384);
        ck_assert_uint_eq(th_count_tenants(db), 2);
        for (int i = 0; i < 2; i++) {
            mn_actor sys = TH_ACTOR(.tenant = th_fmt("t%d", i), .identity = NULL);
            ck_assert_uint_eq(th_count_memories(db, &sys, 0), 20);
        }
        mn_close(db);
    }
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, one_handle_many_threads, 1, 2);
    tcase_add_loop_test(tc, one_handle_many_threads, 4, 5);
    tcase_add_test(tc, concurrent_updates_of_one_memory);
    tcase_add_test(tc, racing_creates_one_wins);
    tcase_add_test(tc, errors_are_per_thread);
    tcase_add_test(tc, two_processes_one_file);
    tcase_add_test(tc, two_processes_create_one_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    mn_global_init();
    th_init();
    return th_run(threads_suite());
}
