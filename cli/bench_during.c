/*
 * bench_during.c — manushya bench ingest --search-during: how fast search is while an import
 * runs and right after it, when the vector index has not caught up yet. A thread
 * searches the handle without pause, vector mode and hybrid mode in turn, for the whole import
 * and for a few seconds after it; its latencies are kept per phase and mode, and the index's
 * lag (changes the store holds that the index has not applied, from mn_health) is sampled as
 * it goes. Asserts nothing.
 */
#include "bench_text.h"
#include "cli.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How often (searches) the thread reads the index's lag: mn_health is not free. */
#define LAG_EVERY 16

double cli_index_lag(mn_db *db)
{
    char *json = NULL;
    if (mn_health(db, 0, &json, NULL) != MN_OK)
        return -1;
    cJSON *root = cJSON_Parse(json);
    mn_free(json);
    const cJSON *k;
    double lag = -1;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(root, "checks"))
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(k, "lag")))
            lag = cJSON_GetObjectItemCaseSensitive(k, "lag")->valuedouble;
    cJSON_Delete(root);
    return lag;
}

void cli_wait_for_index(mn_db *db)
{
    double lag = cli_index_lag(db), least = lag, since = cli_now();
    while (lag > 0 && cli_now() - since < 60) {
        usleep(10000);
        lag = cli_index_lag(db);
        if (lag < least) {
            least = lag;
            since = cli_now();
        }
    }
}

enum { DURING, AFTER, PHASES };
enum { VECTOR, HYBRID, MODES };
static const char *const phase_names[PHASES] = { "during", "after" };
static const char *const mode_names[MODES] = { "vector", "hybrid" };

struct samples {
    double *ms;
    size_t n, cap;
};

struct cli_search_during {
    mn_db *db;
    const mn_actor *agent;
    int n;             /* memories the import adds: queries are texts among them */
    double after_s;    /* how long the thread searches after the import */
    int during;        /* 0: the thread waits for the end of the import to start */
    pthread_t thread;
    int started;
    int phase;         /* atomic: DURING, then AFTER (set by cli_search_during_done) */
    double done_at;    /* cli_now() at the end of the import (written before phase) */
    double lag_max[PHASES];
    double lag_at_done; /* the lag when the import returned */
    struct samples s[PHASES][MODES];   /* wall ms */
    struct samples cpu[PHASES][MODES]; /* the thread's CPU ms: what the load does not move */
    int err;           /* a search's return code, other than MN_OK */
};

static int sample_add(struct samples *s, double ms)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        double *p = realloc(s->ms, cap * sizeof *p);
        if (!p)
            return MN_ENOMEM;
        s->ms = p;
        s->cap = cap;
    }
    s->ms[s->n++] = ms;
    return MN_OK;
}

static void *search_loop(void *arg)
{
    struct cli_search_during *d = arg;
    char q[BENCH_TEXT_MAX];
    for (uint64_t i = 0; !d->err; i++) {
        int phase;
        while ((phase = __atomic_load_n(&d->phase, __ATOMIC_ACQUIRE)) == DURING && !d->during)
            usleep(1000);
        if (phase == AFTER && cli_now() - d->done_at >= d->after_s)
            break;
        int mode = (int)(i % MODES);
        bench_text((i * 7919) % (uint64_t)d->n, q, sizeof q);
        mn_search_options so = MN_SEARCH_OPTIONS_INIT;
        so.query = q;
        so.k = 10;
        so.mode = mode == VECTOR ? MN_SEARCH_VECTOR : MN_SEARCH_HYBRID;
        mn_memories *hits = NULL;
        double t0 = cli_now(), c0 = cli_thread_cpu();
        int rc = mn_memory_search(d->db, d->agent, &so, &hits);
        double ms = (cli_now() - t0) * 1000.0, cpu = (cli_thread_cpu() - c0) * 1000.0;
        mn_memories_free(hits);
        if (rc == MN_OK)
            rc = sample_add(&d->s[phase][mode], ms);
        if (rc == MN_OK)
            rc = sample_add(&d->cpu[phase][mode], cpu);
        if (rc != MN_OK)
            d->err = rc;
        if (i % LAG_EVERY == 0) {
            double lag = cli_index_lag(d->db);
            if (lag > d->lag_max[phase])
                d->lag_max[phase] = lag;
        }
    }
    return NULL;
}

int cli_search_during_start(mn_db *db, const mn_actor *agent, int n, int during,
                            double after_s, cli_search_during **out)
{
    struct cli_search_during *d = calloc(1, sizeof *d);
    *out = d;
    if (!d)
        return cli_error("bench: out of memory");
    d->db = db;
    d->agent = agent;
    d->n = n;
    d->during = during;
    d->after_s = after_s;
    d->started = pthread_create(&d->thread, NULL, search_loop, d) == 0;
    return d->started ? CLI_EXIT_OK : cli_error("bench: cannot start the searching thread");
}

void cli_search_during_done(cli_search_during *d)
{
    d->lag_at_done = cli_index_lag(d->db);
    d->done_at = cli_now();
    __atomic_store_n(&d->phase, AFTER, __ATOMIC_RELEASE);
}

/* The figures of one phase and mode into o (JSON) or on stdout. */
static void report_one(cJSON *o, struct samples *s, struct samples *cpu, const char *mode)
{
    cli_latency l = s->n ? cli_latency_of(s->ms, s->n) : (cli_latency){ 0, 0, 0 };
    cli_latency c = cpu->n ? cli_latency_of(cpu->ms, cpu->n) : (cli_latency){ 0, 0, 0 };
    if (o) {
        cJSON *m = cJSON_AddObjectToObject(o, mode);
        cJSON_AddNumberToObject(m, "searches", (double)s->n);
        cJSON_AddItemToObject(m, "p50_ms", cli_json_number(l.p50, 4));
        cJSON_AddItemToObject(m, "p99_ms", cli_json_number(l.p99, 4));
        cJSON_AddItemToObject(m, "mean_ms", cli_json_number(l.mean, 4));
        cJSON_AddItemToObject(m, "cpu_p50_ms", cli_json_number(c.p50, 4));
        cJSON_AddItemToObject(m, "cpu_p99_ms", cli_json_number(c.p99, 4));
    } else {
        printf("    %-6s %6zu searches: p50 %8.3f ms, p99 %8.3f ms, mean %8.3f ms; CPU p50 "
               "%8.3f ms, p99 %8.3f ms\n", mode, s->n, l.p50, l.p99, l.mean, c.p50, c.p99);
    }
}

int cli_search_during_join(cli_search_during *d)
{
    if (!d)
        return CLI_EXIT_OK;
    if (d->started)
        pthread_join(d->thread, NULL);
    d->started = 0;
    return d->err ? cli_error("bench: a search during the import failed: %s",
                              mn_strerror(d->err))
                  : CLI_EXIT_OK;
}

void cli_search_during_report(cli_search_during *d, double caught_up_s, cJSON *json)
{
    if (!d)
        return;
    cJSON *o = json ? cJSON_AddObjectToObject(json, "search_during") : NULL;
    if (o) {
        cJSON_AddItemToObject(o, "after_seconds", cli_json_number(d->after_s, 3));
        cJSON_AddNumberToObject(o, "lag_at_import_end", d->lag_at_done);
        cJSON_AddItemToObject(o, "caught_up_seconds", cli_json_number(caught_up_s, 3));
    } else {
        printf("search %s: a thread searching (k=10, vector and hybrid in turn)%s for %.1f s "
               "after the import\n", d->during ? "during" : "after",
               d->during ? " during and" : "", d->after_s);
    }
    for (int p = d->during ? DURING : AFTER; p < PHASES; p++) {
        cJSON *po = o ? cJSON_AddObjectToObject(o, phase_names[p]) : NULL;
        if (po)
            cJSON_AddNumberToObject(po, "lag_max", d->lag_max[p]);
        else
            printf("  %s the import (index lag at most %.0f):\n", phase_names[p],
                   d->lag_max[p]);
        for (int m = 0; m < MODES; m++) {
            report_one(po, &d->s[p][m], &d->cpu[p][m], mode_names[m]);
            free(d->s[p][m].ms);
            free(d->cpu[p][m].ms);
        }
    }
    if (!o)
        printf("  index lag at the end of the import %.0f; caught up %.2f s after it\n",
               d->lag_at_done, caught_up_s);
    free(d);
}
