/* bench_filters — filtered search and count on one large tenant, on a fresh temporary SQLite
 * database: N memories (default 100000) with caller-given random unit vectors (no embedding
 * cost), each in one of S conversations (default N/100, so about 100 each) with importance
 * spread over 0..1, owned by one identity and added by the tenant's system actor in batches of
 * 1000. Then Q searches
 * (default 200, vector mode, k 10, a random vector each) with no filter, with a session, with
 * a created-time range holding about a tenth of the tenant, and with an importance range;
 * and mn_memory_count without a filter, with a session and with the time range. Prints the
 * parameters and the p50 and p99 of each in milliseconds.
 *     build/bench/bench_filters [--n N] [--sessions S] [--queries Q] */
#include "manushya.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ok(mn_db *db, int rc, const char *what)
{
    if (rc != MN_OK) {
        fprintf(stderr, "bench_filters: %s: %s\n", what, mn_errmsg(db));
        exit(1);
    }
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double uniform(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void random_vector(float *v, int dim)
{
    for (int i = 0; i < dim; i++)
        v[i] = (float)(uniform() - 0.5);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct figures {
    double p50, p99;
    double hits; /* mean results per search */
};

static struct figures of(double *ms, int q)
{
    qsort(ms, (size_t)q, sizeof *ms, by_value);
    return (struct figures){ms[q / 2], ms[(q * 99) / 100 < q ? (q * 99) / 100 : q - 1], 0};
}

/* q searches with filter f (NULL: none), a random vector each. */
static struct figures searches(mn_db *db, const mn_actor *a, const mn_filter *f, int q,
                               float *vec, int dim, double *ms)
{
    size_t hits = 0;
    for (int i = 0; i < q; i++) {
        random_vector(vec, dim);
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .vector = vec,
                                .dim = dim, .k = 10, .mode = MN_SEARCH_VECTOR, .filter = f,
                                .min_similarity = MN_SEARCH_OFF}; /* random vectors: no floor */
        mn_memories *l = NULL;
        double t0 = now_ms();
        ok(db, mn_memory_search(db, a, &so, &l), "search");
        ms[i] = now_ms() - t0;
        hits += l->count;
        mn_memories_free(l);
    }
    struct figures fig = of(ms, q);
    fig.hits = (double)hits / q;
    return fig;
}

/* q counts with filter f; *count the last one's answer. */
static struct figures counts(mn_db *db, const mn_actor *a, const mn_filter *f, int q,
                             size_t *count, double *ms)
{
    for (int i = 0; i < q; i++) {
        double t0 = now_ms();
        ok(db, mn_memory_count(db, a, f, count), "count");
        ms[i] = now_ms() - t0;
    }
    return of(ms, q);
}

int main(int argc, char **argv)
{
    int n = 100000, sessions = 0, q = 200;
    for (int i = 1; i + 1 < argc; i += 2) {
        int *p = strcmp(argv[i], "--n") == 0 ? &n : strcmp(argv[i], "--sessions") == 0
                 ? &sessions : strcmp(argv[i], "--queries") == 0 ? &q : NULL;
        if (!p || (*p = atoi(argv[i + 1])) <= 0) {
            fprintf(stderr, "usage: bench_filters [--n N] [--sessions S] [--queries Q]\n");
            return 2;
        }
    }
    if (!sessions)
        sessions = n / 100 ? n / 100 : 1;
    char dir[] = "/tmp/manushya-bench-filters.XXXXXX", url[64];
    if (!mkdtemp(dir))
        return 1;
    snprintf(url, sizeof url, "sqlite:%s/bench.db", dir);
    mn_db *db = NULL;
    if (mn_open(&db, url, NULL) != MN_OK) {
        fprintf(stderr, "bench_filters: open: %s\n", mn_errmsg(db));
        return 1;
    }
    int dim = mn_embed_dim(db);
    mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "acme"};
    ok(db, mn_tenant_create(db, "acme", NULL), "tenant");
    ok(db, mn_identity_create(db, &sys, "owner", "agent", NULL, NULL), "identity");
    enum { BATCH = 1000 };
    static char texts[BATCH][48], names[BATCH][24];
    mn_memory_input in[BATCH];
    float *vecs = malloc((size_t)BATCH * (size_t)dim * sizeof *vecs);
    double *ms = malloc((size_t)q * sizeof *ms);
    if (!vecs || !ms)
        return 1;
    /* The created-time range: the memories added from 45% to 55% of the ingest. */
    int64_t range_from = 0, range_to = 0;
    double t0 = now_ms();
    for (int done = 0; done < n;) {
        int m = n - done < BATCH ? n - done : BATCH;
        if (!range_from && done >= n * 45 / 100)
            range_from = wall_ms();
        if (!range_to && done >= n * 55 / 100)
            range_to = wall_ms();
        for (int j = 0; j < m; j++) {
            snprintf(texts[j], sizeof texts[j], "note %d", done + j);
            snprintf(names[j], sizeof names[j], "s%d", (int)(uniform() * sessions));
            random_vector(vecs + (size_t)j * (size_t)dim, dim);
            in[j] = (mn_memory_input){.version = MN_MEMORY_INPUT_VERSION, .identity = "owner",
                                      .text = texts[j],
                                      .importance = uniform(), .session = names[j],
                                      .embedding = vecs + (size_t)j * (size_t)dim, .dim = dim};
        }
        ok(db, mn_memory_add_many(db, &sys, in, (size_t)m, NULL, NULL), "add");
        done += m;
    }
    double add_s = (now_ms() - t0) / 1e3;
    float *vec = malloc((size_t)dim * sizeof *vec);
    mn_filter session = {.version = MN_FILTER_VERSION, .session = "s7"};
    mn_filter created = {.version = MN_FILTER_VERSION, .created_after = range_from,
                         .created_before = range_to};
    mn_filter important = {.version = MN_FILTER_VERSION, .importance_min = 0.9,
                           .importance_max = 1.0};
    searches(db, &sys, NULL, 20, vec, dim, ms); /* warm-up: the index built and loaded */
    printf("bench_filters: n %d memories, %d sessions, dim %d, %d queries, k 10, vector mode, "
           "system actor, SQLite, libmanushya %s; ingest %.1f s\n", n, sessions, dim, q,
           mn_version(), add_s);
    struct {
        const char *what;
        const mn_filter *f;
    } cases[] = {{"no filter", NULL},
                 {"session (1 of S)", &session},
                 {"created range (45%..55%)", &created},
                 {"importance 0.9..1", &important}};
    printf("  %-34s %9s %9s\n", "", "p50 ms", "p99 ms");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct figures f = searches(db, &sys, cases[i].f, q, vec, dim, ms);
        printf("  search, %-26s %9.3f %9.3f  (%.1f hits)\n", cases[i].what, f.p50, f.p99,
               f.hits);
    }
    for (size_t i = 0; i < 3; i++) {
        size_t count = 0;
        struct figures f = counts(db, &sys, cases[i].f, q < 50 ? q : 50, &count, ms);
        printf("  count, %-27s %9.3f %9.3f  (%zu)\n", cases[i].what, f.p50, f.p99, count);
    }
    mn_close(db);
    char path[128];
    const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/bench.db%s", dir, suffixes[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "rm -rf %s/bench.db.index", dir);
    if (system(path) != 0)
        fprintf(stderr, "bench_filters: could not remove %s/bench.db.index\n", dir);
    rmdir(dir);
    free(vecs);
    free(vec);
    free(ms);
    return 0;
}
