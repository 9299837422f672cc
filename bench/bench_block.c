/* bench_block — the block of changes past the graph (lib/index/vindex_block.h) on its own: what
 * a read of the feed into it costs a change, and what a search of it costs, as a search right
 * after a fast import meets them. On an existing embedded database (normally one that
 * `manushya bench ingest` left, N memories), without its index: the newest C changes of the
 * tenant (default 60000, about what an import at 100k leaves behind the graph) are read into a
 * block, timed (CPU time of this thread), then Q searches (default 200, a random unit vector
 * each, k 10: the depth of sign codes and candidates the index uses) are timed one by one,
 * their keep accepting every live change. Prints the parameters, the read's microseconds a
 * change and the searches' p50 / p99 / mean in milliseconds.
 *     build/bench/bench_block DB TENANT [--changes C] [--queries Q] */
#include "manushya.h"
#include "api/handle.h"
#include "index/distance.h"
#include "index/topk.h"
#include "index/vindex_block.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define K 10
#define CANDIDATES (2 * K + 16) /* as lib/index/vindex.c */
#define SIGN_DEPTH (32 * CANDIDATES)

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A search's state: the keys met (a bit each, from the block's smallest key), the best. */
struct search {
    uint64_t *seen;
    int64_t lo;
    struct mni_topk best;
};

static int first(void *ctx, int64_t key)
{
    struct search *s = ctx;
    uint64_t at = (uint64_t)(key - s->lo), bit = (uint64_t)1 << (at % 64);
    if (s->seen[at / 64] & bit)
        return 0;
    s->seen[at / 64] |= bit;
    return 1;
}

static int keep(void *ctx, const struct mni_change *c)
{
    (void)ctx;
    return !c->deleted;
}

static void take(void *ctx, int64_t key, const float *vec, float score)
{
    struct search *s = ctx;
    (void)vec;
    mni_topk_push(&s->best, key, score);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_block DB TENANT [--changes C] [--queries Q]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage();
    const char *url = argv[1], *tenant = argv[2];
    long changes = 60000, queries = 200;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--changes") == 0)
            changes = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--queries") == 0)
            queries = atol(argv[i + 1]);
        else
            usage();
    }
    if (changes < 1 || queries < 1 || argc % 2 == 0)
        usage();
    mn_global_init();
    mn_config cfg = MN_CONFIG_INIT;
    cfg.index = MN_INDEX_NONE;
    mn_db *db;
    mn_tenant *t;
    if (mn_open(&db, url, &cfg) != MN_OK || mn_tenant_get(db, tenant, &t) != MN_OK) {
        fprintf(stderr, "bench_block: %s\n", mn_errmsg(db));
        return 1;
    }
    struct mni_store *st = db->store;
    int dim = db->dim;
    int64_t now;
    struct vx_block b;
    if (st->ops->seq_get(st, &now) != MN_OK || vx_block_init(&b) != MN_OK) {
        fprintf(stderr, "bench_block: %s\n", mn_errmsg(db));
        return 1;
    }
    /* The graph, as far as the block knows, holds everything but the newest changes. */
    int64_t applied = now > changes ? now - changes : 0;
    vx_block_reset(&b, applied);
    int covered;
    double t0 = cpu_ms();
    int rc = vx_block_fill(&b, st, t->id, dim, now, &applied, SIZE_MAX, SIZE_MAX, &covered);
    double read_ms = cpu_ms() - t0;
    size_t held = vx_block_entries(&b);
    int64_t lo = 0, hi = -1;
    if (rc != MN_OK || !covered || !vx_block_key_range(&b, &lo, &hi)) {
        fprintf(stderr, "bench_block: no changes read: %s\n", mn_errmsg(db));
        return 1;
    }
    float *q = malloc((size_t)dim * sizeof *q);
    int8_t *code = malloc((size_t)dim);
    uint64_t *bits = malloc((size_t)MNI_SIGN_WORDS(dim) * sizeof *bits);
    double *ms = malloc((size_t)queries * sizeof *ms), total = 0;
    struct search s = { calloc((size_t)(hi - lo) / 64 + 1, sizeof *s.seen), lo, { 0 } };
    if (!q || !code || !bits || !ms || !s.seen || mni_topk_init(&s.best, CANDIDATES) != 0)
        return 1;
    uint64_t rng = 88172645463325252ULL;
    for (long i = 0; i < queries; i++) {
        double norm = 0;
        for (int d = 0; d < dim; d++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            q[d] = (float)((double)(rng >> 11) * 0x1.0p-52 - 1.0);
            norm += (double)q[d] * q[d];
        }
        for (int d = 0; d < dim; d++)
            q[d] = (float)(q[d] / sqrt(norm));
        memset(s.seen, 0, ((size_t)(hi - lo) / 64 + 1) * sizeof *s.seen);
        s.best.n = 0;
        double a = cpu_ms();
        struct vx_block_query bq = { code, mni_quantize_i8(q, dim, code), bits, SIGN_DEPTH };
        mni_sign_bits(q, dim, bits);
        rc = vx_block_search(&b, &applied, &bq, first, keep, take, &s);
        ms[i] = cpu_ms() - a;
        total += ms[i];
        if (rc != MN_OK)
            return 1;
    }
    qsort(ms, (size_t)queries, sizeof *ms, cmp_double);
    printf("bench_block  %s tenant %s: %zu changes past the graph (dim %d, %s kernels)\n", url,
           tenant, held, dim, mni_dist_ops()->name);
    printf("read         %.1f ms CPU = %.2f us a change\n", read_ms, read_ms * 1e3 / (double)held);
    printf("search       %ld queries, k=%d, sign depth %d: CPU p50 %.3f ms, p99 %.3f ms, "
           "mean %.3f ms\n", queries, K, SIGN_DEPTH, ms[queries / 2], ms[queries * 99 / 100],
           total / (double)queries);
    free(q);
    free(code);
    free(bits);
    free(ms);
    free(s.seen);
    mni_topk_free(&s.best);
    mn_tenant_free(t);
    vx_block_free(&b);
    mn_close(db);
    return 0;
}
