/*
 * bench_cache.c — manushya bench cache: what the read-through cache saves on mn_memory_get
 * (the actor resolved and the memory read, both through the cache), one thread, on a fresh
 * temporary database (tenant "bench", agent "bench-agent" owning M memories, read round robin):
 *   hit:  every memory and the actor in the cache (a warm-up pass first);
 *   miss: the cache emptied (mn_cache_clear, untimed) before each read, which then goes to the
 *         store for the actor and the memory and puts both back.
 * Prints each one's reads/s and p50/p99/mean latency, and the speed-up (miss mean / hit mean).
 * Asserts nothing.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static const mn_actor agent = {.version = MN_ACTOR_VERSION, .tenant = "bench",
                               .identity = "bench-agent"};

static int setup(cli_ctx *c, mn_db *db, char **ids, int m)
{
    const mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "bench"};
    int rc = mn_tenant_create(db, "bench", NULL);
    if (rc == MN_OK)
        rc = mn_identity_create(db, &sys, "bench-agent", "agent", NULL, NULL);
    for (int i = 0; rc == MN_OK && i < m; i++) {
        char text[64];
        snprintf(text, sizeof text, "bench cache memory %d", i);
        mn_memory_input in = MN_MEMORY_INPUT_INIT;
        in.text = text;
        mn_memory *out = NULL;
        rc = mn_memory_add(db, &agent, &in, &out);
        if (rc == MN_OK && !(ids[i] = strdup(out->id)))
            rc = MN_ENOMEM;
        mn_memory_free(out);
    }
    return rc == MN_OK ? CLI_EXIT_OK : cli_fail(c, rc, "bench cache: setup");
}

struct run {
    double per_s;
    cli_latency lat; /* microseconds */
};

/* n reads round robin; clear: empty the cache before each (untimed). */
static int reads(cli_ctx *c, mn_db *db, char **ids, int m, int n, int clear, double *samples,
                 struct run *r)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        int rc = clear ? mn_cache_clear(db) : MN_OK;
        mn_memory *out = NULL;
        double t0 = now_us();
        if (rc == MN_OK)
            rc = mn_memory_get(db, &agent, ids[i % m], 0, &out);
        samples[i] = now_us() - t0;
        mn_memory_free(out);
        if (rc != MN_OK)
            return cli_fail(c, rc, "bench cache: reading a memory");
        total += samples[i];
    }
    r->per_s = n / (total / 1e6);
    r->lat = cli_latency_of(samples, (size_t)n);
    return CLI_EXIT_OK;
}

static void print(const cli_ctx *c, const char *backend, int n, int m, const struct run *hit,
                  const struct run *miss)
{
    double speedup = miss->lat.mean / hit->lat.mean;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "backend", backend);
        cJSON_AddNumberToObject(o, "memories", m);
        cJSON_AddNumberToObject(o, "n", n);
        const struct run *runs[] = {hit, miss};
        const char *names[] = {"hit", "miss"};
        for (int i = 0; i < 2; i++) {
            cJSON *r = cJSON_AddObjectToObject(o, names[i]);
            cJSON_AddItemToObject(r, "reads_per_s", cli_json_number(runs[i]->per_s, 4));
            cJSON_AddItemToObject(r, "p50_us", cli_json_number(runs[i]->lat.p50, 3));
            cJSON_AddItemToObject(r, "p99_us", cli_json_number(runs[i]->lat.p99, 3));
            cJSON_AddItemToObject(r, "mean_us", cli_json_number(runs[i]->lat.mean, 3));
        }
        cJSON_AddItemToObject(o, "speedup", cli_json_number(speedup, 3));
        cli_json_emit(o);
        return;
    }
    printf("bench cache: mn_memory_get through the %s cache, 1 thread, %d memories round robin, "
           "n=%d, SQLite, libmanushya %s\n", backend, m, n, mn_version());
    const struct run *runs[] = {hit, miss};
    const char *names[] = {"hit ", "miss"};
    for (int i = 0; i < 2; i++)
        printf("  %s %.0f reads/s: p50 %.2f us, p99 %.2f us, mean %.2f us\n", names[i],
               runs[i]->per_s, runs[i]->lat.p50, runs[i]->lat.p99, runs[i]->lat.mean);
    printf("  speed-up of a hit: %.2fx (miss mean / hit mean)\n", speedup);
}

int cli_bench_cache(cli_ctx *c, int argc, char **argv)
{
    const char *backend = "memory";
    int n = 20000, m = 1000;
    const cli_opt opts[] = {{"backend", CLI_OPT_STR, &backend, NULL},
                            {"n", CLI_OPT_INT, &n, NULL},
                            {"memories", CLI_OPT_INT, &m, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    int redis = 0;
    if ((rc = cli_bench_backend(c, backend, &redis)) != CLI_CONTINUE)
        return rc;
    if (n < 1 || n > 10000000 || m < 1 || m > 1000000)
        return cli_usage_error(c, "give --n 1..10000000, --memories 1..1000000");
    mn_config cfg = c->cfg;
    cfg.cache = redis ? MN_CACHE_REDIS : MN_CACHE_MEMORY;
    char dir[CLI_TEMP_DIR_MAX] = "";
    mn_db *db = NULL;
    rc = cli_bench_open(c, "bench-cache", &cfg, dir, sizeof dir, &db);
    char **ids = calloc((size_t)m, sizeof *ids);
    double *samples = malloc((size_t)n * sizeof *samples);
    if (rc == CLI_EXIT_OK && (!ids || !samples))
        rc = cli_error("bench cache: out of memory");
    if (rc == CLI_EXIT_OK)
        rc = setup(c, db, ids, m);
    struct run hit = {0}, miss = {0};
    if (rc == CLI_EXIT_OK)
        rc = reads(c, db, ids, m, m, 0, samples, &hit); /* warm-up: every memory cached */
    if (rc == CLI_EXIT_OK)
        rc = reads(c, db, ids, m, n, 0, samples, &hit);
    if (rc == CLI_EXIT_OK)
        rc = reads(c, db, ids, m, n, 1, samples, &miss);
    if (rc == CLI_EXIT_OK)
        print(c, backend, n, m, &hit, &miss);
    for (int i = 0; ids && i < m; i++)
        free(ids[i]);
    free(ids);
    free(samples);
    mn_close(db);
    if (*dir)
        cli_temp_dir_remove(dir);
    return rc;
}
