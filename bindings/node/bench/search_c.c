/*
 * search_c.c — the C side of bench/search.js: times CALLS calls of mn_memory_search on an
 * existing database, as the tenant's system actor, after a warm-up, and prints
 * "p50_ns p99_ns" on stdout. search.js builds it against the library it loads itself, so that
 * both figures come from the same library, database and query in the same run.
 *   search_c DB TENANT QUERY K CALLS
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <manushya.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* One timed search; MN_OK or its code (the message is printed). */
static int search_once(mn_db *db, const mn_actor *actor, const mn_search_options *opt,
                       int64_t *ns)
{
    mn_memories *hits = NULL;
    int64_t t0 = now_ns();
    int rc = mn_memory_search(db, actor, opt, &hits);
    *ns = now_ns() - t0;
    if (rc != MN_OK)
        fprintf(stderr, "search_c: mn_memory_search: %s\n", mn_errmsg(db));
    mn_memories_free(hits);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: search_c DB TENANT QUERY K CALLS\n");
        return 2;
    }
    int calls = atoi(argv[5]);
    int64_t *ns = calloc(calls > 0 ? (size_t)calls : 1, sizeof *ns);
    mn_db *db = NULL;
    int rc = mn_open(&db, argv[1], NULL);
    if (rc != MN_OK || !ns || calls < 1) {
        fprintf(stderr, "search_c: %s\n", rc != MN_OK ? mn_errmsg(db) : "CALLS must be >= 1");
        mn_close(db);
        free(ns);
        return 1;
    }
    mn_actor actor = MN_ACTOR_INIT;
    actor.tenant = argv[2];
    mn_search_options opt = MN_SEARCH_OPTIONS_INIT;
    opt.query = argv[3];
    opt.k = atoi(argv[4]);
    int64_t warm;
    for (int i = 0; rc == MN_OK && i < calls / 10 + 1; i++)
        rc = search_once(db, &actor, &opt, &warm);
    for (int i = 0; rc == MN_OK && i < calls; i++)
        rc = search_once(db, &actor, &opt, &ns[i]);
    if (rc == MN_OK) {
        qsort(ns, (size_t)calls, sizeof *ns, cmp_i64);
        printf("%lld %lld\n", (long long)ns[(calls - 1) / 2],
               (long long)ns[(calls * 99 - 1) / 100]);
    }
    mn_close(db);
    free(ns);
    return rc == MN_OK ? 0 : 1;
}
