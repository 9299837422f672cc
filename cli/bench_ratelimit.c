/*
 * bench_ratelimit.c — manushya bench ratelimit: decisions per second of mn_ratelimit_hit, the
 * public call a host makes for its own endpoints, on a fresh temporary database: tenant
 * "bench" with its own limit of --limit calls per --window-ms for every endpoint ("*"), agent
 * "bench-agent" asking for --n calls at a time on K endpoints round robin from N threads for
 * S seconds. In-process calls take a fraction of a microsecond, about as long as reading the
 * clock, so their latency is timed per group of 16 calls (the mean of the group is one
 * sample); Redis calls one by one, and the bench then reads the bytes its keys take there
 * (MEMORY USAGE). Prints the figures with the parameters; asserts nothing.
 */
#include "cli.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_SAMPLES 2000000

struct worker {
    mn_db *db;
    int keys, group, id, n;
    double seconds;
    uint64_t calls, allowed, errors;
    double *lat_us;      /* samples */
    size_t nlat;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    const mn_actor a = {.version = MN_ACTOR_VERSION, .tenant = "bench", .identity = "bench-agent"};
    char (*names)[24] = malloc((size_t)w->keys * sizeof *names);
    if (!names)
        return NULL;
    for (int k = 0; k < w->keys; k++)
        snprintf(names[k], sizeof names[k], "bench:e%d", k);
    double end = now_s() + w->seconds;
    int k = w->id % w->keys;
    for (;;) {
        double t0 = now_s();
        if (t0 >= end)
            break;
        for (int g = 0; g < w->group; g++) {
            int rc = mn_ratelimit_hit(w->db, &a, names[k], w->n, NULL);
            w->allowed += rc == MN_OK;
            w->errors += rc != MN_OK && rc != MN_ELIMITED;
            if (++k == w->keys)
                k = 0;
        }
        w->calls += (uint64_t)w->group;
        if (w->nlat < MAX_SAMPLES)
            w->lat_us[w->nlat++] = (now_s() - t0) * 1e6 / w->group;
    }
    free(names);
    return NULL;
}

/* A fresh database in a temporary directory with the bench's tenant, agent and limit. */
static int setup(cli_ctx *c, mn_config *cfg, char *dir, mn_db **db, int limit, int window_ms)
{
    char path[CLI_TEMP_DIR_MAX + 16];
    snprintf(path, sizeof path, "%s/bench.db", dir);
    int rc = mn_open(db, path, cfg);
    const mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "bench"};
    if (rc == MN_OK)
        rc = mn_tenant_create(*db, "bench", NULL);
    if (rc == MN_OK)
        rc = mn_identity_create(*db, &sys, "bench-agent", "agent", NULL, NULL);
    if (rc == MN_OK)
        rc = mn_limit_set(*db, &sys, "*", limit, window_ms);
    return rc == MN_OK ? CLI_EXIT_OK : cli_fail(c, rc, "bench ratelimit: setup");
}

int cli_bench_ratelimit(cli_ctx *c, int argc, char **argv)
{
    const char *backend = "memory";
    int threads = 1, keys = 1024, limit = 1000, window_ms = 1000, n = 1;
    double seconds = 2;
    const cli_opt opts[] = {{"backend", CLI_OPT_STR, &backend, NULL},
                            {"threads", CLI_OPT_INT, &threads, NULL},
                            {"seconds", CLI_OPT_NUM, &seconds, NULL},
                            {"keys", CLI_OPT_INT, &keys, NULL},
                            {"limit", CLI_OPT_INT, &limit, NULL},
                            {"window-ms", CLI_OPT_INT, &window_ms, NULL},
                            {"n", CLI_OPT_INT, &n, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    int redis = 0;
    if ((rc = cli_bench_backend(c, backend, &redis)) != CLI_CONTINUE)
        return rc;
    if (threads < 1 || threads > MAX_THREADS || keys < 1 || seconds <= 0 || seconds > 3600 ||
        n < 1)
        return cli_usage_error(c, "give --threads 1..%d, --keys >= 1, --seconds 0..3600, "
                               "--n >= 1", MAX_THREADS);
    mn_config cfg = c->cfg;
    cfg.ratelimit = redis ? MN_RATELIMIT_REDIS : MN_RATELIMIT_MEMORY;
    char dir[CLI_TEMP_DIR_MAX];
    if ((rc = cli_temp_dir("bench-rl", dir, sizeof dir)) != CLI_EXIT_OK)
        return rc;
    mn_db *db = NULL;
    rc = setup(c, &cfg, dir, &db, limit, window_ms);
    struct worker w[MAX_THREADS];
    pthread_t t[MAX_THREADS];
    memset(w, 0, sizeof w);
    double elapsed = 0;
    for (int i = 0; rc == CLI_EXIT_OK && i < threads; i++) {
        w[i] = (struct worker){.db = db, .keys = keys, .group = redis ? 1 : 16, .id = i,
                               .n = n, .seconds = seconds};
        if (!(w[i].lat_us = malloc(MAX_SAMPLES * sizeof *w[i].lat_us)))
            rc = cli_error("bench ratelimit: out of memory");
    }
    if (rc == CLI_EXIT_OK) {
        double t0 = now_s();
        for (int i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, work, &w[i]);
        for (int i = 0; i < threads; i++)
            pthread_join(t[i], NULL);
        elapsed = now_s() - t0;
    }
    uint64_t calls = 0, allowed = 0, errors = 0;
    size_t nlat = 0;
    for (int i = 0; i < threads; i++) {
        calls += w[i].calls;
        allowed += w[i].allowed;
        errors += w[i].errors;
        nlat += w[i].nlat;
    }
    double *all = rc == CLI_EXIT_OK ? malloc((nlat ? nlat : 1) * sizeof *all) : NULL;
    size_t m = 0;
    for (int i = 0; all && i < threads; i++) {
        memcpy(all + m, w[i].lat_us, w[i].nlat * sizeof *all);
        m += w[i].nlat;
    }
    cli_latency lat = all && m ? cli_latency_of(all, m) : (cli_latency){ 0 };
    double p50 = lat.p50, p99 = lat.p99;
    mn_ratelimit_stats st = MN_RATELIMIT_STATS_INIT;
    if (db)
        mn_ratelimit_stats_get(db, &st);
    if (rc == CLI_EXIT_OK && c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "backend", backend);
        cJSON_AddNumberToObject(o, "threads", threads);
        cJSON_AddNumberToObject(o, "keys", keys);
        cJSON_AddNumberToObject(o, "limit", limit);
        cJSON_AddNumberToObject(o, "window_ms", window_ms);
        cJSON_AddNumberToObject(o, "n", n);
        cJSON_AddNumberToObject(o, "seconds", elapsed);
        cJSON_AddNumberToObject(o, "decisions", (double)calls);
        cJSON_AddNumberToObject(o, "decisions_per_s", (double)calls / elapsed);
        cJSON_AddNumberToObject(o, "allowed", (double)allowed);
        cJSON_AddNumberToObject(o, "errors", (double)errors);
        cJSON_AddNumberToObject(o, "fail_open", (double)st.fail_open);
        cJSON_AddItemToObject(o, "p50_us", cli_json_number(p50, 3));
        cJSON_AddItemToObject(o, "p99_us", cli_json_number(p99, 3));
        rc = cli_json_emit(o);
    } else if (rc == CLI_EXIT_OK) {
        printf("bench ratelimit: backend %s, %d thread(s), %d endpoints, limit %d per %d ms, "
               "%d call(s) per decision, agent role\n", backend, threads, keys, limit, window_ms,
               n);
        printf("  %llu decisions in %.2f s: %.0f decisions/s (%.1f%% allowed, %llu errors, "
               "%llu unchecked)\n", (unsigned long long)calls, elapsed, (double)calls / elapsed,
               calls ? 100.0 * (double)allowed / (double)calls : 0, (unsigned long long)errors,
               (unsigned long long)st.fail_open);
        printf("  latency p50 %.3f us, p99 %.3f us (%s)\n", p50, p99,
               redis ? "per call" : "per call, mean of groups of 16");
    }
    for (int i = 0; i < threads; i++)
        free(w[i].lat_us);
    free(all);
    mn_close(db);
    cli_temp_dir_remove(dir);
    return rc;
}
