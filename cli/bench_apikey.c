/*
 * bench_apikey.c — manushya bench apikey: verifications per second of mn_apikey_verify, what a
 * server calls for every request bearing a key, on one thread on a fresh temporary database
 * (tenant "bench", agent "bench-agent" with K keys, used round robin).
 *   warm: the handle's key cache holds every key; the key is still hashed (keyed BLAKE2b) and
 *         compared each time. Timed per group of 16 calls (a call takes about as long as
 *         reading the clock): a sample is the mean of its group.
 *   cold: before each verification (untimed) a throwaway key is revoked through the same
 *         handle, which empties the cache: each one reads its key from the store. Timed one
 *         by one.
 * Prints the figures with the parameters; asserts nothing.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GROUP 16

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n new keys of the bench agent into keys[] (each freed with mn_free). */
static int make_keys(cli_ctx *c, mn_db *db, char **keys, int n)
{
    const mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "bench"};
    mn_apikey_input in = MN_APIKEY_INPUT_INIT;
    in.identity = "bench-agent";
    for (int i = 0; i < n; i++) {
        int rc = mn_apikey_create(db, &sys, &in, &keys[i], NULL);
        if (rc != MN_OK)
            return cli_fail(c, rc, "bench apikey: making key %d", i + 1);
    }
    return CLI_EXIT_OK;
}

struct run {
    double per_s;
    cli_latency lat;      /* microseconds */
    long denied;          /* verifications that failed (there should be none) */
};

static void warm(mn_db *db, char **keys, int nkeys, int n, double *samples, struct run *r)
{
    int k = 0, ns = 0;
    double t0 = now_s();
    for (int done = 0; done < n; done += GROUP) {
        double g0 = now_s();
        for (int i = 0; i < GROUP; i++) {
            r->denied += mn_apikey_verify(db, keys[k], NULL) != MN_OK;
            k = k + 1 == nkeys ? 0 : k + 1;
        }
        samples[ns++] = (now_s() - g0) * 1e6 / GROUP;
    }
    r->per_s = (double)ns * GROUP / (now_s() - t0);
    r->lat = cli_latency_of(samples, (size_t)ns);
}

static int cold(cli_ctx *c, mn_db *db, char **keys, int nkeys, char **throwaway, int n,
                double *samples, struct run *r)
{
    const mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "bench"};
    double total = 0;
    for (int i = 0; i < n; i++) {
        char id[17];
        snprintf(id, sizeof id, "%.16s", throwaway[i] + 3);
        int rc = mn_apikey_revoke(db, &sys, id);
        if (rc != MN_OK)
            return cli_fail(c, rc, "bench apikey: revoking a throwaway key");
        double t0 = now_s();
        r->denied += mn_apikey_verify(db, keys[i % nkeys], NULL) != MN_OK;
        samples[i] = (now_s() - t0) * 1e6;
        total += samples[i];
    }
    r->per_s = n / (total / 1e6);
    r->lat = cli_latency_of(samples, (size_t)n);
    return CLI_EXIT_OK;
}

static void print(const cli_ctx *c, int n, int ncold, int nkeys, const struct run *w,
                  const struct run *k)
{
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "keys", nkeys);
        const struct run *runs[] = {w, k};
        const char *names[] = {"warm", "cold"};
        const int counts[] = {n, ncold};
        for (int i = 0; i < 2; i++) {
            cJSON *r = cJSON_AddObjectToObject(o, names[i]);
            cJSON_AddNumberToObject(r, "n", counts[i]);
            cJSON_AddItemToObject(r, "verifications_per_s", cli_json_number(runs[i]->per_s, 4));
            cJSON_AddItemToObject(r, "p50_us", cli_json_number(runs[i]->lat.p50, 3));
            cJSON_AddItemToObject(r, "p99_us", cli_json_number(runs[i]->lat.p99, 3));
            cJSON_AddNumberToObject(r, "denied", (double)runs[i]->denied);
        }
        cli_json_emit(o);
        return;
    }
    printf("bench apikey: mn_apikey_verify, 1 thread, %d keys round robin, SQLite, "
           "libmanushya %s\n", nkeys, mn_version());
    printf("  warm (cached) n=%d: %.0f verifications/s, p50 %.3f us, p99 %.3f us (per call, "
           "mean of groups of %d), %ld denied\n", n, w->per_s, w->lat.p50, w->lat.p99, GROUP,
           w->denied);
    printf("  cold (cache emptied before each) n=%d: %.0f verifications/s, p50 %.2f us, "
           "p99 %.2f us, %ld denied\n", ncold, k->per_s, k->lat.p50, k->lat.p99, k->denied);
}

int cli_bench_apikey(cli_ctx *c, int argc, char **argv)
{
    int n = 1000000, ncold = 2000, nkeys = 100;
    const cli_opt opts[] = {{"n", CLI_OPT_INT, &n, NULL},
                            {"cold", CLI_OPT_INT, &ncold, NULL},
                            {"keys", CLI_OPT_INT, &nkeys, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (n < GROUP || ncold < 1 || nkeys < 1 || nkeys > 100000 || ncold > 1000000)
        return cli_usage_error(c, "give --n >= %d, --cold 1..1000000, --keys 1..100000", GROUP);
    char dir[CLI_TEMP_DIR_MAX], path[CLI_TEMP_DIR_MAX + 16];
    if ((rc = cli_temp_dir("bench-apikey", dir, sizeof dir)) != CLI_EXIT_OK)
        return rc;
    snprintf(path, sizeof path, "%s/bench.db", dir);
    mn_db *db = NULL;
    const mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "bench"};
    int mrc = mn_open(&db, path, &c->cfg);
    if (mrc == MN_OK)
        mrc = mn_tenant_create(db, "bench", NULL);
    if (mrc == MN_OK)
        mrc = mn_identity_create(db, &sys, "bench-agent", "agent", NULL, NULL);
    rc = mrc == MN_OK ? CLI_EXIT_OK : cli_fail(c, mrc, "bench apikey: setup");
    char **keys = calloc((size_t)nkeys + (size_t)ncold, sizeof *keys);
    double *samples = malloc(((size_t)n / GROUP + (size_t)ncold) * sizeof *samples);
    if (rc == CLI_EXIT_OK && (!keys || !samples))
        rc = cli_error("bench apikey: out of memory");
    if (rc == CLI_EXIT_OK)
        rc = make_keys(c, db, keys, nkeys + ncold);
    struct run w = {0}, k = {0};
    if (rc == CLI_EXIT_OK) {
        warm(db, keys, nkeys, GROUP * 4, samples, &w); /* every key cached, pages warm */
        w = (struct run){0};
        warm(db, keys, nkeys, n, samples, &w);
        rc = cold(c, db, keys, nkeys, keys + nkeys, ncold, samples, &k);
    }
    if (rc == CLI_EXIT_OK)
        print(c, n - n % GROUP, ncold, nkeys, &w, &k);
    for (int i = 0; keys && i < nkeys + ncold; i++)
        mn_free(keys[i]);
    free(keys);
    free(samples);
    mn_close(db);
    cli_temp_dir_remove(dir);
    return rc;
}
