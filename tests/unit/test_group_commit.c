/*
 * Concurrent writers of one handle: single adds from many threads all land once, each caller
 * gets back its own memory, and an add that fails inside the store (its id is taken) fails
 * alone while the adds around it commit (SQLite, where ids are unique across tenants). On SQLite the handle's writers queue in the library
 * and share COMMITs (group commit, sqlite/writer.c): the store's metrics show writes that
 * shared a commit, and fewer commits than writes.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manushya.h"
#include "support/harness.h"

#define THREADS 16
#define ADDS 40
#define BAD_EVERY 8 /* every 8th add of a thread reuses a taken id */

struct shared {
    mn_db *db;
    const char *taken_id; /* a memory id of another tenant */
    int bad_rc;           /* what a lone add with that id returns */
    int with_bad;         /* the store refuses it (SQLite: ids are unique across tenants) */
    atomic_int start;
};

struct adder {
    struct shared *sh;
    int n;
    char *ids[ADDS];
    int good, bad, wrong;
    char first_wrong[600];
};

static int is_bad(const struct shared *sh, int i)
{
    return sh->with_bad && i % BAD_EVERY == BAD_EVERY - 1;
}

static const char *text_of(char *buf, size_t size, int thread, int i)
{
    snprintf(buf, size, "thread %d add %d: a note about topic %d", thread, i, (thread + i) % 7);
    return buf;
}

static void *adder_main(void *p)
{
    struct adder *ad = p;
    mn_db *db = ad->sh->db;
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "writer");
    while (!atomic_load(&ad->sh->start))
        ;
    for (int i = 0; i < ADDS; i++) {
        char text[128];
        mn_memory_input in = TH_IN(.text = text_of(text, sizeof text, ad->n, i));
        if (is_bad(ad->sh, i))
            in.id = ad->sh->taken_id;
        mn_memory *m = NULL;
        int rc = mn_memory_add(db, &a, &in, &m);
        int want = is_bad(ad->sh, i) ? ad->sh->bad_rc : MN_OK;
        if (rc != want || (rc == MN_OK) != (m != NULL) || (m && strcmp(m->text, text) != 0)) {
            if (ad->wrong++ == 0)
                snprintf(ad->first_wrong, sizeof ad->first_wrong, "add %d: rc %d, wanted %d: %s",
                         i, rc, want, rc == MN_OK ? "(another text)" : mn_errmsg(db));
        } else if (rc == MN_OK) {
            ad->ids[ad->good++] = strdup(m->id);
        } else {
            ad->bad++;
        }
        mn_memory_free(m);
    }
    return NULL;
}

static double metric(mn_db *db, const char *name)
{
    char *text = NULL;
    TH_OK(db, mn_metrics_write(db, MN_METRICS_PROMETHEUS, &text));
    double v = th_metric_sample(text, name);
    free(text);
    return v;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loop index: the store (0 SQLite, 1 PostgreSQL). */
START_TEST(concurrent_adds_land_each_its_own)
{
    const char *url = th_store_url(_i);
    if (!url)
        return;
    mn_db *db = th_open(url, NULL);
    th_tenant(db, "acme");
    th_tenant(db, "other");
    th_identity(db, "acme", "writer");
    th_identity(db, "other", "someone");
    mn_actor other = TH_ACTOR(.tenant = "other", .identity = "someone");
    struct shared sh = {.db = db, .taken_id = th_add(db, &other, NULL, "the other tenant's")};
    atomic_init(&sh.start, 0);

    /* Alone, the add with a taken id fails in the SQLite store (inside its write: the id is
     * unique across tenants there) and changes nothing. PostgreSQL keys memories by tenant:
     * there every add is a good one. */
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "writer");
    mn_actor acme = TH_ACTOR(.tenant = "acme", .identity = NULL);
    sh.with_bad = _i == 0;
    if (sh.with_bad) {
        mn_memory_input lone = TH_IN(.text = "a lone add with a taken id", .id = sh.taken_id);
        mn_memory *m = NULL;
        sh.bad_rc = mn_memory_add(db, &a, &lone, &m);
        ck_assert_int_ne(sh.bad_rc, MN_OK);
        ck_assert_ptr_null(m);
        ck_assert_uint_eq(th_count_memories(db, &acme, 0), 0);
    }
    double commits0 = metric(db, "manushya_store_commits_total");
    double grouped0 = metric(db, "manushya_store_grouped_writes_total");

    static struct adder ads[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        ads[i] = (struct adder){.sh = &sh, .n = i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, adder_main, &ads[i]), 0);
    }
    atomic_store(&sh.start, 1);
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);

    int per_thread_bad = sh.with_bad ? ADDS / BAD_EVERY : 0, good = 0;
    char *all[THREADS * ADDS];
    for (int i = 0; i < THREADS; i++) {
        ck_assert_msg(ads[i].wrong == 0, "thread %d: %d wrong answers, first: %s", i,
                      ads[i].wrong, ads[i].first_wrong);
        ck_assert_int_eq(ads[i].good, ADDS - per_thread_bad);
        ck_assert_int_eq(ads[i].bad, per_thread_bad);
        /* Each id is the memory its caller added, stored as given. */
        for (int k = 0, j = 0; k < ADDS; k++) {
            if (is_bad(&sh, k))
                continue;
            char text[128];
            mn_memory *got = th_get(db, &acme, ads[i].ids[j], 0);
            ck_assert_str_eq(got->text, text_of(text, sizeof text, i, k));
            mn_memory_free(got);
            all[good++] = ads[i].ids[j++];
        }
    }
    /* Nothing lost, nothing twice. */
    ck_assert_uint_eq(th_count_memories(db, &acme, 0), (size_t)good);
    qsort(all, (size_t)good, sizeof *all, cmp_str);
    for (int i = 1; i < good; i++)
        ck_assert_msg(strcmp(all[i - 1], all[i]) != 0, "id %s returned twice", all[i]);
    for (int i = 0; i < good; i++)
        free(all[i]);
    /* The other tenant's memory is as it was. */
    ck_assert_uint_eq(th_count_memories(db, &other, 0), 1);

    if (_i == 0) {
        double commits = metric(db, "manushya_store_commits_total") - commits0;
        double grouped = metric(db, "manushya_store_grouped_writes_total") - grouped0;
        ck_assert_msg(grouped > 0, "no write shared a commit (commits %.0f)", commits);
        ck_assert_msg(commits < THREADS * ADDS, "%.0f commits for %d adds", commits,
                      THREADS * ADDS);
    }
    mn_close(db);
}
END_TEST

static Suite *group_commit_suite(void)
{
    Suite *s = suite_create("group_commit");
    TCase *tc = tcase_create("group_commit");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, concurrent_adds_land_each_its_own, 0, TH_NSTORES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    mn_global_init();
    th_init();
    return th_run(group_commit_suite());
}
