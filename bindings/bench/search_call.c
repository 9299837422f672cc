/*
 * search_call.c — the C side of the language packages' search benchmarks
 * (bindings/python/bench/bench_search.py, bindings/node/bench/search.js): times
 * mn_memory_search on an existing database, one call at a time, with the options the packages
 * use (query text, k, nothing else set), after a tenth more calls to warm up, and prints each
 * call's latency in microseconds, one a line:
 *     search_call URL TENANT IDENTITY K CALLS QUERY...
 * IDENTITY "-" is the tenant's system actor. Queries are used in turn; every result is freed
 * unread. Rate limits are off (an identity may search 2000 times an hour by default). Asserts
 * nothing.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <manushya.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: search_call URL TENANT IDENTITY K CALLS QUERY...\n");
        return 2;
    }
    int k = atoi(argv[4]), calls = atoi(argv[5]), nq = argc - 6;
    if (k < 1 || calls < 1) {
        fprintf(stderr, "search_call: K and CALLS must be positive numbers\n");
        return 2;
    }
    double *us = malloc(sizeof *us * (size_t)calls);
    mn_db *db = NULL;
    mn_config cfg = MN_CONFIG_INIT;
    cfg.ratelimit = MN_RATELIMIT_OFF;
    int rc = us ? mn_open(&db, argv[1], &cfg) : MN_ENOMEM;
    mn_actor actor = MN_ACTOR_INIT;
    actor.tenant = argv[2];
    actor.identity = strcmp(argv[3], "-") == 0 ? NULL : argv[3];
    mn_search_options opt = MN_SEARCH_OPTIONS_INIT;
    opt.k = k;
    for (int i = -calls / 10; rc == MN_OK && i < calls; i++) { /* a tenth more to warm up */
        mn_memories *hits = NULL;
        opt.query = argv[6 + (i + calls) % nq];
        double t0 = now_us();
        rc = mn_memory_search(db, &actor, &opt, &hits);
        mn_memories_free(hits);
        if (i >= 0)
            us[i] = now_us() - t0;
    }
    if (rc != MN_OK) {
        fprintf(stderr, "search_call: %s: %s\n", mn_strerror(rc), mn_errmsg(db));
        mn_close(db);
        free(us);
        return 1;
    }
    for (int i = 0; i < calls; i++)
        printf("%.1f\n", us[i]);
    mn_close(db);
    free(us);
    return 0;
}
