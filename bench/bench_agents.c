/* bench_agents — what an agent product's calls cost on a fresh temporary SQLite database: N
 * memories (default 20000) owned by IDS identities (default 10), added as the identities
 * themselves through mn_memory_add_many (no rate-limit wall by default), then Q searches
 * (default 200, vector mode, k 10) by one identity: of its own memories (the default scope),
 * naming itself as owner, and of every memory it may read (MN_ALL_READABLE: the scope before
 * 1.4); then Q queries as batches of B (default 32) through mn_memory_search_many against B
 * single calls. Prints the parameters and the mean time of each in milliseconds.
 *     build/bench/bench_agents [--n N] [--ids IDS] [--queries Q] [--batch B] */
#include "manushya.h"

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

static void ok(mn_db *db, int rc, const char *what)
{
    if (rc != MN_OK) {
        fprintf(stderr, "bench_agents: %s: %s\n", what, mn_errmsg(db));
        exit(1);
    }
}

static const char *const words[] = {"tea", "coffee", "flight", "hotel", "refund", "invoice",
                                    "meeting", "birthday", "allergy", "garden", "piano", "tax",
                                    "dog", "train", "museum", "budget"};
#define NWORDS (sizeof words / sizeof *words)

static void text_of(size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "note %zu about %s and %s near %s", i, words[i % NWORDS],
             words[(i / NWORDS) % NWORDS], words[(i * 7 + 3) % NWORDS]);
}

/* Mean ms of q searches by a with filter f. */
static double searches(mn_db *db, const mn_actor *a, const mn_filter *f, int q)
{
    char text[128];
    double t0 = now_ms();
    for (int i = 0; i < q; i++) {
        text_of((size_t)i * 31, text, sizeof text);
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = text, .k = 10,
                                .mode = MN_SEARCH_VECTOR, .filter = f};
        mn_memories *l = NULL;
        ok(db, mn_memory_search(db, a, &so, &l), "search");
        mn_memories_free(l);
    }
    return (now_ms() - t0) / q;
}

/* Mean ms per query of q queries in batches of b (b == 1: single calls). */
static double batches(mn_db *db, const mn_actor *a, int q, int b, int offset)
{
    char (*texts)[128] = malloc((size_t)b * sizeof *texts);
    mn_search_options *so = calloc((size_t)b, sizeof *so);
    double t0 = now_ms();
    for (int i = 0; i < q; i += b) {
        for (int j = 0; j < b; j++) {
            /* new texts each time: the embedding cache must not answer */
            text_of((size_t)(offset + i + j) * 17 + 5, texts[j], sizeof texts[j]);
            so[j] = (mn_search_options){.version = MN_SEARCH_OPTIONS_VERSION,
                                        .query = texts[j], .k = 10, .mode = MN_SEARCH_VECTOR};
        }
        mn_memories **l = NULL;
        ok(db, mn_memory_search_many(db, a, so, (size_t)b, &l), "search_many");
        mn_memories_free_many(l, (size_t)b);
    }
    double per = (now_ms() - t0) / q;
    free(texts);
    free(so);
    return per;
}

int main(int argc, char **argv)
{
    int n = 20000, ids = 10, q = 200, b = 32;
    for (int i = 1; i + 1 < argc; i += 2) {
        int *p = strcmp(argv[i], "--n") == 0 ? &n : strcmp(argv[i], "--ids") == 0 ? &ids
                 : strcmp(argv[i], "--queries") == 0 ? &q : strcmp(argv[i], "--batch") == 0 ? &b
                 : NULL;
        if (!p || (*p = atoi(argv[i + 1])) <= 0) {
            fprintf(stderr, "usage: bench_agents [--n N] [--ids IDS] [--queries Q] "
                            "[--batch B]\n");
            return 2;
        }
    }
    char dir[] = "/tmp/manushya-bench-agents.XXXXXX", url[64];
    if (!mkdtemp(dir))
        return 1;
    snprintf(url, sizeof url, "sqlite:%s/bench.db", dir);
    mn_db *db = NULL;
    if (mn_open(&db, url, NULL) != MN_OK) {
        fprintf(stderr, "bench_agents: open: %s\n", mn_errmsg(db));
        return 1;
    }
    mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "acme"};
    ok(db, mn_tenant_create(db, "acme", NULL), "tenant");
    mn_actor *as = calloc((size_t)ids, sizeof *as);
    char (*names)[16] = calloc((size_t)ids, sizeof *names);
    for (int i = 0; i < ids; i++) {
        snprintf(names[i], sizeof names[i], "agent%d", i);
        ok(db, mn_identity_create(db, &sys, names[i], "admin", NULL, NULL), "identity");
        as[i] = (mn_actor){.version = MN_ACTOR_VERSION, .tenant = "acme", .identity = names[i]};
    }
    enum { BATCH = 500 };
    static char texts[BATCH][128];
    mn_memory_input in[BATCH];
    double t0 = now_ms();
    for (int done = 0; done < n;) {
        int m = n - done < BATCH ? n - done : BATCH;
        for (int j = 0; j < m; j++) {
            text_of((size_t)(done + j), texts[j], sizeof texts[j]);
            in[j] = (mn_memory_input){.version = MN_MEMORY_INPUT_VERSION, .text = texts[j],
                                      .importance = MN_IMPORTANCE_DEFAULT};
        }
        /* each identity adds its own, as an agent would */
        ok(db, mn_memory_add_many(db, &as[(done / BATCH) % ids], in, (size_t)m, NULL, NULL),
           "add");
        done += m;
    }
    double add_s = (now_ms() - t0) / 1e3;
    mn_filter own = {.version = MN_FILTER_VERSION};
    mn_filter named = {.version = MN_FILTER_VERSION, .identity = names[0]};
    mn_filter all = {.version = MN_FILTER_VERSION, .flags = MN_ALL_READABLE};
    searches(db, &as[0], &own, 20); /* warm-up: the index loaded */
    printf("bench_agents: n %d memories, %d identities (%d each), %d queries, k 10, vector "
           "mode, local embedder, SQLite\n", n, ids, n / ids, q);
    printf("  ingest as the identities (add_many of %d): %.1f s, %.0f memories/s\n", BATCH,
           add_s, n / add_s);
    printf("  search, own memories (default):    %.3f ms\n", searches(db, &as[0], &own, q));
    printf("  search, naming the owner:          %.3f ms\n", searches(db, &as[0], &named, q));
    printf("  search, MN_ALL_READABLE (pre-1.4): %.3f ms\n", searches(db, &as[0], &all, q));
    printf("  search, system actor (tenant):     %.3f ms\n", searches(db, &sys, NULL, q));
    printf("  %d queries as %d single calls:     %.3f ms per query\n", q, q,
           batches(db, &as[0], q, 1, 0));
    printf("  %d queries in batches of %d:       %.3f ms per query\n", q, b,
           batches(db, &as[0], q, b, q));
    mn_close(db);
    char path[128];
    snprintf(path, sizeof path, "%s/bench.db", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/bench.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/bench.db-shm", dir);
    unlink(path);
    rmdir(dir);
    free(as);
    free(names);
    return 0;
}
