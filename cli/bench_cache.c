/*
 * bench_cache.c — manushya bench cache: what the read-through cache saves, one thread, on a
 * fresh temporary database (tenant "bench", agent "bench-agent" owning M memories).
 * On mn_memory_get (the actor resolved and the memory read, both through the cache; memories
 * read round robin):
 *   hit:  every memory and the actor in the cache (a warm-up pass first);
 *   miss: the cache emptied (mn_cache_clear, untimed) before each read, which then goes to the
 *         store for the actor and the memory and puts both back.
 * On a repeated search mix (Q query texts searched round robin by the tenant's system actor,
 * k 10): the handle with the cache (no warm-up: the first round misses) against a handle on the
 * same file without one.
 * Prints each one's calls/s and p50/p99/mean latency, and the speed-ups (miss mean / hit mean;
 * uncached mean / cached mean). Asserts nothing.
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

/* What is timed: call i of a run. */
struct work {
    mn_db *db;
    char **ids;
    int m;        /* memories, read round robin */
    int queries;  /* query texts, searched round robin */
};

static int get_op(const struct work *w, int i)
{
    mn_memory *out = NULL;
    int rc = mn_memory_get(w->db, &agent, w->ids[i % w->m], 0, &out);
    mn_memory_free(out);
    return rc;
}

static int search_op(const struct work *w, int i)
{
    const mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "bench"};
    char query[64];
    snprintf(query, sizeof query, "bench cache memory %d", (i % w->queries) * 7);
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = query;
    mn_memories *out = NULL;
    int rc = mn_memory_search(w->db, &sys, &so, &out);
    mn_memories_free(out);
    return rc;
}

/* n calls of op; clear: empty the cache before each (untimed). */
static int timed(cli_ctx *c, const struct work *w, int (*op)(const struct work *, int),
                 const char *what, int n, int clear, double *samples, struct run *r)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        int rc = clear ? mn_cache_clear(w->db) : MN_OK;
        double t0 = now_us();
        if (rc == MN_OK)
            rc = op(w, i);
        samples[i] = now_us() - t0;
        if (rc != MN_OK)
            return cli_fail(c, rc, "bench cache: %s", what);
        total += samples[i];
    }
    r->per_s = n / (total / 1e6);
    r->lat = cli_latency_of(samples, (size_t)n);
    return CLI_EXIT_OK;
}

/* The runs being compared, and their names (hit/miss, cached/uncached). */
struct pair {
    const char *names[2];
    struct run runs[2];
};

static double speedup(const struct pair *p)
{
    return p->runs[1].lat.mean / p->runs[0].lat.mean;
}

static cJSON *pair_json(cJSON *o, const char *name, const struct pair *p)
{
    cJSON *j = cJSON_AddObjectToObject(o, name);
    for (int i = 0; j && i < 2; i++) {
        cJSON *r = cJSON_AddObjectToObject(j, p->names[i]);
        cJSON_AddItemToObject(r, "calls_per_s", cli_json_number(p->runs[i].per_s, 4));
        cJSON_AddItemToObject(r, "p50_us", cli_json_number(p->runs[i].lat.p50, 3));
        cJSON_AddItemToObject(r, "p99_us", cli_json_number(p->runs[i].lat.p99, 3));
        cJSON_AddItemToObject(r, "mean_us", cli_json_number(p->runs[i].lat.mean, 3));
    }
    cJSON_AddItemToObject(j, "speedup", cli_json_number(speedup(p), 3));
    return j;
}

static void pair_print(const struct pair *p, const char *unit)
{
    for (int i = 0; i < 2; i++)
        printf("  %-8s %.0f %s/s: p50 %.2f us, p99 %.2f us, mean %.2f us\n", p->names[i],
               p->runs[i].per_s, unit, p->runs[i].lat.p50, p->runs[i].lat.p99,
               p->runs[i].lat.mean);
    printf("  speed-up: %.2fx (%s mean / %s mean)\n", speedup(p), p->names[1], p->names[0]);
}

static void print(const cli_ctx *c, const char *backend, int n, const struct work *w,
                  const struct pair *gets, const struct pair *searches)
{
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "backend", backend);
        cJSON_AddNumberToObject(o, "memories", w->m);
        cJSON_AddNumberToObject(o, "n", n);
        pair_json(o, "get", gets);
        cJSON *s = pair_json(o, "search_mix", searches);
        cJSON_AddNumberToObject(s, "queries", w->queries);
        cli_json_emit(o);
        return;
    }
    printf("bench cache: the %s cache, 1 thread, %d memories, n=%d, SQLite, libmanushya %s\n",
           backend, w->m, n, mn_version());
    printf(" mn_memory_get, memories round robin:\n");
    pair_print(gets, "reads");
    printf(" mn_memory_search, %d query texts round robin, k 10:\n", w->queries);
    pair_print(searches, "searches");
}

int cli_bench_cache(cli_ctx *c, int argc, char **argv)
{
    const char *backend = "memory";
    int n = 20000, m = 1000, queries = 100;
    const cli_opt opts[] = {{"backend", CLI_OPT_STR, &backend, NULL},
                            {"n", CLI_OPT_INT, &n, NULL},
                            {"memories", CLI_OPT_INT, &m, NULL},
                            {"queries", CLI_OPT_INT, &queries, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    int redis = 0;
    if ((rc = cli_bench_backend(c, backend, &redis)) != CLI_CONTINUE)
        return rc;
    if (n < 1 || n > 10000000 || m < 1 || m > 1000000 || queries < 1 || queries > 1000000)
        return cli_usage_error(c, "give --n 1..10000000, --memories 1..1000000, "
                               "--queries 1..1000000");
    mn_config cfg = c->cfg, off = c->cfg;
    cfg.cache = redis ? MN_CACHE_REDIS : MN_CACHE_MEMORY;
    off.cache = MN_CACHE_OFF;
    char dir[CLI_TEMP_DIR_MAX] = "";
    mn_db *db = NULL, *uncached = NULL;
    rc = cli_bench_open(c, "bench-cache", &cfg, dir, sizeof dir, &db);
    /* The same file, without a cache: the search mix's baseline. */
    int mrc = rc == CLI_EXIT_OK ? mn_open(&uncached, mn_db_url(db), &off) : MN_OK;
    if (mrc != MN_OK)
        rc = cli_fail(c, mrc, "bench cache: opening %s again", mn_db_url(db));
    char **ids = calloc((size_t)m, sizeof *ids);
    /* The warm-up times m reads, the runs n calls. */
    double *samples = malloc((size_t)(n > m ? n : m) * sizeof *samples);
    if (rc == CLI_EXIT_OK && (!ids || !samples))
        rc = cli_error("bench cache: out of memory");
    if (rc == CLI_EXIT_OK)
        rc = setup(c, db, ids, m);
    struct work w = {db, ids, m, queries}, wu = {uncached, ids, m, queries};
    struct pair gets = {.names = {"hit", "miss"}}, searches = {.names = {"cached", "uncached"}};
    if (rc == CLI_EXIT_OK) /* warm-up: every memory cached */
        rc = timed(c, &w, get_op, "reading a memory", m, 0, samples, &gets.runs[0]);
    if (rc == CLI_EXIT_OK)
        rc = timed(c, &w, get_op, "reading a memory", n, 0, samples, &gets.runs[0]);
    if (rc == CLI_EXIT_OK)
        rc = timed(c, &w, get_op, "reading a memory", n, 1, samples, &gets.runs[1]);
    if (rc == CLI_EXIT_OK)
        rc = timed(c, &w, search_op, "searching", n, 0, samples, &searches.runs[0]);
    if (rc == CLI_EXIT_OK)
        rc = timed(c, &wu, search_op, "searching", n, 0, samples, &searches.runs[1]);
    if (rc == CLI_EXIT_OK)
        print(c, backend, n, &w, &gets, &searches);
    for (int i = 0; ids && i < m; i++)
        free(ids[i]);
    free(ids);
    free(samples);
    mn_close(uncached);
    mn_close(db);
    if (*dir)
        cli_temp_dir_remove(dir);
    return rc;
}
