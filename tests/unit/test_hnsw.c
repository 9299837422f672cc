/*
 * HNSW index (lib/index/hnsw.c) against exact search on clustered unit vectors (Gaussian
 * clusters, as embeddings are): recall@10 without and with filters (1%, 10%, 50%), after
 * deleting 30% and re-inserting (deleted keys never returned, slots reused, memory flat), after
 * updates; save/load round trip with identical results; corrupt, truncated, mismatched and
 * crafted files rejected with MN_ECORRUPT; concurrent search with insert, delete and update;
 * multi-threaded build; argument errors.
 *
 * Sizes shrink under the sanitizers (SAN=1) to keep the run short.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index/distance.h"
#include "index/hnsw.h"
#include "core/hash.h"
#include "manushya.h"
#include "support/harness.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

#define DIM 96
#define NBASE (SANITIZED ? 3000 : 15000)
#define NQ (SANITIZED ? 100 : 200)
#define NCLUSTERS (NBASE / 100)
#define K 10
#define MIN_RECALL 0.95

/* What the index costs per live vector. */
static double bytes_per_vector(const mni_hnsw *h)
{
    size_t n = mni_hnsw_count(h);
    return n ? (double)mni_hnsw_bytes(h) / (double)n : 0.0;
}

/* ==== data ================================================================================== */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double urand(void)
{
    return (double)((rnd() >> 11) + 1) * 0x1.0p-53;
}

static double gauss(void)
{
    return sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand());
}

static void normalize(float *v, int d)
{
    double s = 0;
    for (int i = 0; i < d; i++)
        s += (double)v[i] * v[i];
    s = 1.0 / sqrt(s);
    for (int i = 0; i < d; i++)
        v[i] = (float)(v[i] * s);
}

static float *centers;

/* A point of a random cluster: centre + isotropic noise (about as long as the centre), unit. */
static void gen_point(float *v)
{
    const float *c = centers + (size_t)(rnd() % NCLUSTERS) * DIM;
    for (int i = 0; i < DIM; i++)
        v[i] = (float)(c[i] + 0.1 * gauss());
    normalize(v, DIM);
}

/* Keys are not slot numbers: spread and partly negative. */
static int64_t key_of(int i)
{
    return (int64_t)i * 7919 - 1000003;
}

static int idx_of(int64_t key)
{
    int64_t x = key + 1000003;
    if (x < 0 || x % 7919)
        return -1;
    return (int)(x / 7919);
}

static float *base;    /* NBASE x DIM, plus room for replacements */
static float *queries; /* NQ x DIM */

static void gen_data(void)
{
    if (base)
        return;
    centers = malloc((size_t)NCLUSTERS * DIM * sizeof(float));
    base = malloc((size_t)NBASE * DIM * sizeof(float));
    queries = malloc((size_t)NQ * DIM * sizeof(float));
    ck_assert(centers && base && queries);
    for (int c = 0; c < NCLUSTERS; c++) {
        for (int i = 0; i < DIM; i++)
            centers[(size_t)c * DIM + i] = (float)gauss();
        normalize(centers + (size_t)c * DIM, DIM);
    }
    for (int i = 0; i < NBASE; i++)
        gen_point(base + (size_t)i * DIM);
    for (int i = 0; i < NQ; i++)
        gen_point(queries + (size_t)i * DIM);
}

/* ==== exact truth and recall ================================================================ */

struct filt {
    int pct; /* accept keys whose index % 100 < pct */
    const unsigned char *present; /* NULL: all */
};

static int accept_pct(void *ctx, int64_t key)
{
    const struct filt *f = ctx;
    int i = idx_of(key);
    return i >= 0 && i % 100 < f->pct;
}

/* The exact top-k indexes among present (and accepted) rows of vecs; returns how many. */
static int exact_topk(const float *vecs, int n, const unsigned char *present, int pct,
                      const float *q, int k, int *out)
{
    float best[K];
    int m = 0;
    for (int i = 0; i < n; i++) {
        if ((present && !present[i]) || (pct < 100 && i % 100 >= pct))
            continue;
        float s = mni_ip_scalar(q, vecs + (size_t)i * DIM, DIM);
        if (m < k) {
            best[m] = s;
            out[m++] = i;
            continue;
        }
        int w = 0;
        for (int j = 1; j < k; j++)
            if (best[j] < best[w])
                w = j;
        if (s > best[w]) {
            best[w] = s;
            out[w] = i;
        }
    }
    return m;
}

/* Recall@10 of h over the queries, where the truth is the exact top-10 among the present rows
 * (vector of row i at vecs + i*DIM, key key_of(i)) accepted by pct. Also checks every hit: a
 * present, accepted key, scored as the inner product with its vector, best first, no
 * duplicates. */
static double recall(const mni_hnsw *h, const float *vecs, int n, const unsigned char *present,
                     int pct, int ef)
{
    struct filt f = { pct, present };
    size_t hits = 0, want = 0;
    for (int qi = 0; qi < NQ; qi++) {
        const float *q = queries + (size_t)qi * DIM;
        int truth[K];
        int nt = exact_topk(vecs, n, present, pct, q, K, truth);
        struct mni_hit out[K];
        size_t got = 99;
        ck_assert_int_eq(mni_hnsw_search(h, q, K, ef, pct < 100 ? accept_pct : NULL, &f, out, &got),
                         MN_OK);
        ck_assert_uint_le(got, K);
        want += (size_t)nt;
        for (size_t j = 0; j < got; j++) {
            int i = idx_of(out[j].key);
            ck_assert_msg(i >= 0 && i < n, "bad key %lld", (long long)out[j].key);
            ck_assert_msg(!present || present[i], "absent key %lld returned",
                          (long long)out[j].key);
            ck_assert_msg(pct >= 100 || i % 100 < pct, "filtered key returned");
            float s = mni_ip_scalar(q, vecs + (size_t)i * DIM, DIM);
            ck_assert_msg(fabsf(s - out[j].score) < 1e-4f, "score %g vs %g", out[j].score, s);
            if (j) {
                ck_assert(out[j - 1].score >= out[j].score);
                ck_assert(out[j - 1].key != out[j].key);
            }
            for (int t = 0; t < nt; t++)
                if (truth[t] == i) {
                    hits++;
                    break;
                }
        }
    }
    return want ? (double)hits / (double)want : 1.0;
}

static mni_hnsw *build_index(int n, const struct mni_hnsw_params *p, int threads)
{
    mni_hnsw *h;
    ck_assert_int_eq(mni_hnsw_create(DIM, p, &h), MN_OK);
    int64_t *keys = malloc((size_t)n * sizeof *keys);
    ck_assert_ptr_nonnull(keys);
    for (int i = 0; i < n; i++)
        keys[i] = key_of(i);
    ck_assert_int_eq(mni_hnsw_build(h, keys, base, (size_t)n, threads), MN_OK);
    free(keys);
    ck_assert_uint_eq(mni_hnsw_count(h), (size_t)n);
    return h;
}

/* One index shared by the read-only tests: built once in the parent (unchecked fixture); each
 * test runs in a forked child on its own copy. */
static mni_hnsw *shared;

static void shared_setup(void)
{
    gen_data();
    if (!shared)
        shared = build_index(NBASE, NULL, 1);
}

static void shared_teardown(void)
{
    mni_hnsw_free(shared);
    shared = NULL;
}

/* ==== tests: basics ========================================================================= */

START_TEST(xxh64_reference)
{
    ck_assert_uint_eq(mni_hash64("", 0, 0), 0xef46db3751d8e999ULL);
    ck_assert_uint_eq(mni_hash64("abc", 3, 0), 0x44bc2cf5ad770999ULL);
    unsigned char b[1000];
    for (int i = 0; i < 1000; i++)
        b[i] = (unsigned char)(i * 7 % 251);
    ck_assert_uint_eq(mni_hash64(b, sizeof b, 0), 0x023fd2ed1ff957d5ULL);
}
END_TEST

START_TEST(arguments)
{
    mni_hnsw *h = (mni_hnsw *)1;
    struct mni_hnsw_params p = { 0, 0, 0, 0, 0, 0 };
    ck_assert_int_eq(mni_hnsw_create(0, NULL, &h), MN_EINVAL);
    ck_assert_ptr_null(h);
    ck_assert_int_eq(mni_hnsw_create(MNI_HNSW_MAX_DIM + 1, NULL, &h), MN_EINVAL);
    ck_assert_int_eq(mni_hnsw_create(8, NULL, NULL), MN_EINVAL);
    p.m = 1;
    ck_assert_int_eq(mni_hnsw_create(8, &p, &h), MN_EINVAL);
    p.m = MNI_HNSW_MAX_M + 1;
    ck_assert_int_eq(mni_hnsw_create(8, &p, &h), MN_EINVAL);
    p.m = 0;
    p.ef_search = -1;
    ck_assert_int_eq(mni_hnsw_create(8, &p, &h), MN_EINVAL);
    p.ef_search = 0;
    p.flags = 0x100;
    ck_assert_int_eq(mni_hnsw_create(8, &p, &h), MN_EINVAL);

    ck_assert_int_eq(mni_hnsw_create(8, NULL, &h), MN_OK);
    mni_hnsw_params_get(h, &p);
    ck_assert_int_eq(p.m, 16);
    ck_assert_int_eq(p.ef_construction, 64);
    ck_assert_int_eq(p.ef_search, 40);
    ck_assert_int_eq(mni_hnsw_dim(h), 8);

    float v[8] = { 1, 0, 0, 0, 0, 0, 0, 0 }, bad[8] = { 1, 0, 0, NAN, 0, 0, 0, 0 };
    struct mni_hit out[4];
    size_t n = 7;
    ck_assert_int_eq(mni_hnsw_search(h, v, 4, 0, NULL, NULL, out, &n), MN_OK);
    ck_assert_uint_eq(n, 0); /* empty index */
    ck_assert_int_eq(mni_hnsw_insert(h, 1, bad), MN_EINVAL);
    bad[3] = INFINITY;
    ck_assert_int_eq(mni_hnsw_update(h, 1, bad), MN_EINVAL);
    ck_assert_int_eq(mni_hnsw_insert(h, 1, NULL), MN_EINVAL);
    ck_assert_int_eq(mni_hnsw_insert(NULL, 1, v), MN_EINVAL);
    ck_assert_uint_eq(mni_hnsw_count(h), 0);
    ck_assert_int_eq(mni_hnsw_insert(h, 1, v), MN_OK);
    ck_assert_int_eq(mni_hnsw_insert(h, 1, v), MN_EEXISTS);
    ck_assert_int_eq(mni_hnsw_delete(h, 2), MN_ENOTFOUND);
    ck_assert(mni_hnsw_contains(h, 1));
    ck_assert(!mni_hnsw_contains(h, 2));
    ck_assert_int_eq(mni_hnsw_search(h, v, 4, 0, NULL, NULL, out, &n), MN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0].key, 1);
    ck_assert_float_eq_tol(out[0].score, 1.0f, 1e-6f);
    ck_assert_int_eq(mni_hnsw_search(h, v, 0, 0, NULL, NULL, NULL, &n), MN_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(mni_hnsw_search(h, v, 4, 0, NULL, NULL, NULL, &n), MN_EINVAL);
    ck_assert_int_eq(mni_hnsw_search(h, NULL, 4, 0, NULL, NULL, out, &n), MN_EINVAL);
    ck_assert_int_eq(mni_hnsw_search(h, v, 4, 0, NULL, NULL, out, NULL), MN_EINVAL);
    ck_assert_int_eq(mni_hnsw_set_ef_search(h, 0), MN_EINVAL);
    ck_assert_int_eq(mni_hnsw_set_ef_search(h, 77), MN_OK);
    mni_hnsw_params_get(h, &p);
    ck_assert_int_eq(p.ef_search, 77);
    ck_assert_int_eq(mni_hnsw_delete(h, 1), MN_OK);
    ck_assert_uint_eq(mni_hnsw_count(h), 0);
    ck_assert_int_eq(mni_hnsw_search(h, v, 4, 0, NULL, NULL, out, &n), MN_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(mni_hnsw_delete(h, 1), MN_ENOTFOUND);
    ck_assert_int_eq(mni_hnsw_insert(h, 1, v), MN_OK); /* index emptied, then reused */
    ck_assert_int_eq(mni_hnsw_search(h, v, 4, 0, NULL, NULL, out, &n), MN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(mni_hnsw_compact(h), MN_OK);
    ck_assert_int_eq(mni_hnsw_compact(NULL), MN_EINVAL);
    mni_hnsw_free(h);
    mni_hnsw_free(NULL);
}
END_TEST

/* With ef >= the number of nodes, a small index answers exactly, ties by smaller key. */
START_TEST(small_exact)
{
    gen_data();
    enum { N = 200 };
    mni_hnsw *h = build_index(N, NULL, 1);
    for (int qi = 0; qi < 20; qi++) {
        const float *q = queries + (size_t)qi * DIM;
        int truth[K];
        exact_topk(base, N, NULL, 100, q, K, truth);
        struct mni_hit out[K];
        size_t n;
        ck_assert_int_eq(mni_hnsw_search(h, q, K, N, NULL, NULL, out, &n), MN_OK);
        ck_assert_uint_eq(n, K);
        for (int j = 0; j < K; j++) {
            int found = 0;
            for (int t = 0; t < K; t++)
                found |= truth[t] == idx_of(out[j].key);
            ck_assert(found);
        }
    }
    /* identical vectors under different keys: equal scores come out by key */
    mni_hnsw *t;
    ck_assert_int_eq(mni_hnsw_create(DIM, NULL, &t), MN_OK);
    for (int64_t key = 9; key >= 0; key--)
        ck_assert_int_eq(mni_hnsw_insert(t, key, base), MN_OK);
    struct mni_hit out[10];
    size_t n;
    ck_assert_int_eq(mni_hnsw_search(t, base, 10, 0, NULL, NULL, out, &n), MN_OK);
    ck_assert_uint_eq(n, 10);
    for (int j = 0; j < 10; j++)
        ck_assert_int_eq(out[j].key, j);
    mni_hnsw_free(t);
    mni_hnsw_free(h);
}
END_TEST

/* ==== tests: recall ========================================================================= */

START_TEST(recall_unfiltered)
{
    double r = recall(shared, base, NBASE, NULL, 100, 0);
    printf("hnsw: n=%d dim=%d recall@10 %.4f at default ef 40, %.0f bytes/vector\n", NBASE, DIM,
           r, bytes_per_vector(shared));
    ck_assert_msg(r >= MIN_RECALL, "recall %.4f", r);
    ck_assert(recall(shared, base, NBASE, NULL, 100, 200) >= r - 0.005);
}
END_TEST

START_TEST(recall_filtered)
{
    static const int pcts[] = { 1, 10, 50 };
    for (int i = 0; i < 3; i++) {
        double r = recall(shared, base, NBASE, NULL, pcts[i], 0);
        printf("hnsw: filter %d%%: recall@10 %.4f at default ef 40\n", pcts[i], r);
        ck_assert_msg(r >= MIN_RECALL, "filter %d%%: recall %.4f", pcts[i], r);
    }
}
END_TEST

static int accept_none(void *ctx, int64_t key)
{
    (void)key;
    ++*(int *)ctx;
    return 0;
}

/* A filter that accepts nothing: no hit, and the whole graph was explored (widening). */
START_TEST(filter_accepts_nothing)
{
    int calls = 0;
    struct mni_hit out[K];
    size_t n = 99;
    ck_assert_int_eq(mni_hnsw_search(shared, queries, K, 0, accept_none, &calls, out, &n), MN_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(calls, NBASE);
}
END_TEST

/* The small-filter fallback: exact over a key list, from the index's vectors. */
START_TEST(score_keys_exact)
{
    enum { NK = 500, NI = 3000 };
    mni_hnsw *h = build_index(NI, NULL, 1); /* its own: a key gets deleted */
    int64_t keys[NK + 20];
    int rows[NK];
    for (int i = 0; i < NK; i++) {
        rows[i] = (int)(rnd() % NI);
        keys[i] = key_of(rows[i]);
    }
    for (int i = 0; i < 10; i++)
        keys[NK + i] = keys[i]; /* duplicates */
    for (int i = 10; i < 20; i++)
        keys[NK + i] = -(int64_t)i; /* absent */
    ck_assert_int_eq(mni_hnsw_delete(h, keys[1]), MN_OK); /* deleted: never scored */
    for (int qi = 0; qi < 20; qi++) {
        const float *q = queries + (size_t)qi * DIM;
        struct mni_hit out[K];
        size_t n;
        ck_assert_int_eq(mni_hnsw_score_keys(h, q, keys, NK + 20, K, out, &n), MN_OK);
        ck_assert_uint_eq(n, K);
        /* the truth: best of the rows, the deleted one excluded */
        float best[K];
        int m = 0;
        unsigned char seen[NI];
        memset(seen, 0, sizeof seen);
        for (int i = 0; i < NK; i++) {
            if (i == 1 || rows[i] == rows[1] || seen[rows[i]])
                continue;
            seen[rows[i]] = 1;
            float sc = mni_ip_scalar(q, base + (size_t)rows[i] * DIM, DIM);
            if (m < K) {
                best[m++] = sc;
                continue;
            }
            int w = 0;
            for (int j = 1; j < K; j++)
                if (best[j] < best[w])
                    w = j;
            if (sc > best[w])
                best[w] = sc;
        }
        float worst = best[0];
        for (int j = 1; j < K; j++)
            worst = best[j] < worst ? best[j] : worst;
        for (size_t j = 0; j < n; j++) {
            ck_assert_int_ne(out[j].key, keys[1]);
            ck_assert(out[j].score >= worst - 1e-5f);
            if (j) {
                ck_assert(out[j - 1].score >= out[j].score);
                ck_assert_int_ne(out[j - 1].key, out[j].key);
            }
        }
    }
    struct mni_hit out[K];
    size_t n;
    ck_assert_int_eq(mni_hnsw_score_keys(h, queries, keys, 0, K, out, &n), MN_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(mni_hnsw_score_keys(h, queries, NULL, 3, K, out, &n), MN_EINVAL);
    mni_hnsw_free(h);
}
END_TEST

/* The work a search reports grows as the filter narrows (about ef / selectivity). */
START_TEST(search_work_stats)
{
    struct mni_hnsw_search_stats all, narrow;
    struct mni_hit out[K];
    size_t n;
    struct filt f = { 1, NULL };
    size_t d_all = 0, d_narrow = 0;
    for (int qi = 0; qi < 20; qi++) {
        const float *q = queries + (size_t)qi * DIM;
        ck_assert_int_eq(mni_hnsw_search_ex(shared, q, K, 0, NULL, NULL, out, &n, &all), MN_OK);
        ck_assert_int_eq(mni_hnsw_search_ex(shared, q, K, 0, accept_pct, &f, out, &n, &narrow),
                         MN_OK);
        ck_assert_uint_eq(all.ef, 40);
        ck_assert_uint_gt(all.distances, all.expanded);
        d_all += all.distances;
        d_narrow += narrow.distances;
    }
    printf("hnsw: distances per query: %zu unfiltered, %zu at 1%% (exact over the 1%%: %d)\n",
           d_all / 20, d_narrow / 20, NBASE / 100);
    ck_assert_uint_gt(d_narrow, 5 * d_all);
}
END_TEST

START_TEST(bytes_reported)
{
    struct mni_hnsw_stats st;
    mni_hnsw_stats(shared, &st);
    ck_assert_uint_eq(st.live, NBASE);
    ck_assert_uint_eq(st.deleted, 0);
    ck_assert_uint_eq(st.slots, NBASE);
    ck_assert_uint_eq(st.capacity, NBASE); /* the build reserved exactly */
    ck_assert_int_ge(st.max_level, 1);
    ck_assert_int_le(st.max_level, 8);
    double bpv = bytes_per_vector(shared);
    double floor_ = DIM * 4 + (2 * 16 + 1) * 4 + 8;
    ck_assert_msg(bpv >= floor_ && bpv <= floor_ + 64, "bytes/vector %.1f", bpv);
    ck_assert_uint_eq(mni_hnsw_bytes(shared), st.bytes);
}
END_TEST

/* The same seed and insertion order give the same graph: the same answers. */
START_TEST(deterministic)
{
    gen_data();
    mni_hnsw *a = build_index(2000, NULL, 1), *b = build_index(2000, NULL, 1);
    for (int qi = 0; qi < 50; qi++) {
        struct mni_hit x[K], y[K];
        size_t nx, ny;
        ck_assert_int_eq(
            mni_hnsw_search(a, queries + (size_t)qi * DIM, K, 0, NULL, NULL, x, &nx), MN_OK);
        ck_assert_int_eq(
            mni_hnsw_search(b, queries + (size_t)qi * DIM, K, 0, NULL, NULL, y, &ny), MN_OK);
        ck_assert_uint_eq(nx, ny);
        for (size_t j = 0; j < nx; j++) {
            ck_assert_int_eq(x[j].key, y[j].key);
            ck_assert(x[j].score == y[j].score);
        }
    }
    mni_hnsw_free(a);
    mni_hnsw_free(b);
}
END_TEST

START_TEST(keep_pruned_and_small_m)
{
    gen_data();
    int n = NBASE / 3;
    struct mni_hnsw_params p = { 0, 0, 0, 7, MNI_HNSW_KEEP_PRUNED, 0 };
    mni_hnsw *h = build_index(n, &p, 1);
    double r = recall(h, base, n, NULL, 100, 0);
    printf("hnsw: keepPrunedConnections: recall@10 %.4f\n", r);
    ck_assert(r >= MIN_RECALL);
    mni_hnsw_free(h);
    struct mni_hnsw_params q = { 4, 32, 64, 7, 0, 0 };
    h = build_index(n, &q, 1);
    r = recall(h, base, n, NULL, 100, 0);
    printf("hnsw: M=4: recall@10 %.4f at ef 64\n", r);
    ck_assert(r >= 0.8);
    mni_hnsw_free(h);
}
END_TEST

/* ==== tests: deletes and updates ============================================================ */

static int check_absent(const mni_hnsw *h, const unsigned char *present, int n)
{
    for (int qi = 0; qi < NQ; qi++) {
        struct mni_hit out[K];
        size_t got;
        ck_assert_int_eq(mni_hnsw_search(h, queries + (size_t)qi * DIM, K, 0, NULL, NULL, out, &got),
                         MN_OK);
        for (size_t j = 0; j < got; j++) {
            int i = idx_of(out[j].key);
            ck_assert(i >= 0 && i < n);
            ck_assert_msg(present[i], "deleted key %lld returned", (long long)out[j].key);
        }
    }
    return 1;
}

/* Three rounds: delete a random 30%, check, re-insert them. Recall holds, deleted keys never
 * come back, slots are reused and the memory stays flat. */
START_TEST(delete_reinsert)
{
    gen_data();
    const int n = NBASE;
    mni_hnsw *h = build_index(n, NULL, 1);
    unsigned char *present = malloc((size_t)n);
    int *gone = malloc((size_t)n * sizeof *gone);
    ck_assert(present && gone);
    memset(present, 1, (size_t)n);
    size_t bytes0 = mni_hnsw_bytes(h), bytes1 = 0;
    for (int round = 0; round < 3; round++) {
        int ng = 0;
        for (int i = 0; i < n; i++)
            if (rnd() % 100 < 30) {
                gone[ng++] = i;
                ck_assert_int_eq(mni_hnsw_delete(h, key_of(i)), MN_OK);
                present[i] = 0;
                ck_assert(!mni_hnsw_contains(h, key_of(i)));
                if (ng % 500 == 0) { /* never returned, from the moment delete returns */
                    struct mni_hit out[K];
                    size_t got;
                    ck_assert_int_eq(mni_hnsw_search(h, base + (size_t)i * DIM, K, 0, NULL, NULL,
                                                    out, &got), MN_OK);
                    for (size_t j = 0; j < got; j++)
                        ck_assert(present[idx_of(out[j].key)]);
                }
            }
        ck_assert_int_eq(mni_hnsw_delete(h, key_of(gone[0])), MN_ENOTFOUND);
        ck_assert_uint_eq(mni_hnsw_count(h), (size_t)(n - ng));
        check_absent(h, present, n);
        double r = recall(h, base, n, present, 100, 0);
        printf("hnsw: round %d: %d deleted, recall@10 %.4f\n", round, ng, r);
        ck_assert_msg(r >= MIN_RECALL, "after deletes: recall %.4f", r);
        r = recall(h, base, n, present, 10, 0);
        ck_assert_msg(r >= MIN_RECALL, "after deletes, filter 10%%: recall %.4f", r);

        for (int j = 0; j < ng; j++) {
            ck_assert_int_eq(mni_hnsw_insert(h, key_of(gone[j]), base + (size_t)gone[j] * DIM),
                             MN_OK);
            present[gone[j]] = 1;
        }
        ck_assert_uint_eq(mni_hnsw_count(h), (size_t)n);
        r = recall(h, base, n, NULL, 100, 0);
        struct mni_hnsw_stats st;
        mni_hnsw_stats(h, &st);
        printf("hnsw: round %d: re-inserted, recall@10 %.4f; slots %zu, pending %zu, free %zu, "
               "%.0f bytes/vector\n", round, r, st.slots, st.deleted, st.free,
               bytes_per_vector(h));
        ck_assert_msg(r >= MIN_RECALL, "after re-insert: recall %.4f", r);
        /* auto compaction keeps at most ~10% deleted; their slots are reused */
        ck_assert_uint_le(st.deleted, (size_t)n / 9 + 1);
        ck_assert_uint_le(st.slots, (size_t)n + (size_t)n / 9 + 1);
        if (round == 0)
            bytes1 = mni_hnsw_bytes(h);
        else
            ck_assert_uint_le(mni_hnsw_bytes(h), bytes1 + bytes1 / 50); /* flat */
    }
    ck_assert_uint_le(bytes1, bytes0 * 2 + 4096);
    ck_assert_int_eq(mni_hnsw_compact(h), MN_OK);
    struct mni_hnsw_stats st;
    mni_hnsw_stats(h, &st);
    ck_assert_uint_eq(st.deleted, 0);
    ck_assert_uint_eq(st.free, st.slots - st.live);
    ck_assert(recall(h, base, n, NULL, 100, 0) >= MIN_RECALL);
    free(present);
    free(gone);
    mni_hnsw_free(h);
}
END_TEST

/* Saves h, loads it back and checks the copy answers the same (any state of deletion). */
static void round_trip_same(const mni_hnsw *h, int nq)
{
    const char *path = th_tmppath("state.hnsw");
    ck_assert_int_eq(mni_hnsw_save(h, path, 9), MN_OK);
    mni_hnsw *g;
    ck_assert_int_eq(mni_hnsw_load(path, DIM, &g, NULL), MN_OK);
    for (int qi = 0; qi < nq; qi++) {
        struct mni_hit x[K], y[K];
        size_t nx, ny;
        ck_assert_int_eq(
            mni_hnsw_search(h, queries + (size_t)qi * DIM, K, 0, NULL, NULL, x, &nx), MN_OK);
        ck_assert_int_eq(
            mni_hnsw_search(g, queries + (size_t)qi * DIM, K, 0, NULL, NULL, y, &ny), MN_OK);
        ck_assert_uint_eq(nx, ny);
        for (size_t j = 0; j < nx; j++)
            ck_assert(x[j].key == y[j].key && x[j].score == y[j].score);
    }
    struct mni_hnsw_stats a, b;
    mni_hnsw_stats(h, &a);
    mni_hnsw_stats(g, &b);
    ck_assert_uint_eq(a.live, b.live);
    ck_assert_uint_eq(a.deleted, b.deleted);
    ck_assert_int_eq(a.max_level, b.max_level);
    mni_hnsw_free(g);
}

/* Deleting everything, then the entry point repeatedly; explicit compaction only. Every state
 * (entry point below a deleted higher node, no live node at all) saves and loads. */
START_TEST(delete_all_and_entry_point)
{
    gen_data();
    struct mni_hnsw_params p = { 0, 0, 0, 3, MNI_HNSW_NO_AUTO_COMPACT, 0 };
    const int n = 1000;
    mni_hnsw *h = build_index(n, &p, 1);
    unsigned char *present = malloc((size_t)n);
    memset(present, 1, (size_t)n);
    /* delete in an order that hits high-level nodes (the entry point) early: from the end
     * backwards, checking the search works after each hundred */
    for (int i = n - 1; i >= 0; i--) {
        ck_assert_int_eq(mni_hnsw_delete(h, key_of(i)), MN_OK);
        present[i] = 0;
        if (i % 100 == 0 && i > 0) {
            struct mni_hit out[K];
            size_t got;
            ck_assert_int_eq(mni_hnsw_search(h, base, K, 0, NULL, NULL, out, &got), MN_OK);
            ck_assert_uint_eq(got, (size_t)(i < K ? i : K));
            for (size_t j = 0; j < got; j++)
                ck_assert(present[idx_of(out[j].key)]);
            if (i % 300 == 0)
                round_trip_same(h, 10);
        }
    }
    round_trip_same(h, 10); /* only deleted nodes: no entry point */
    struct mni_hnsw_stats st;
    mni_hnsw_stats(h, &st);
    ck_assert_uint_eq(st.live, 0);
    ck_assert_uint_eq(st.deleted, (size_t)n); /* no auto compaction */
    ck_assert_int_eq(st.max_level, -1);
    struct mni_hit out[K];
    size_t got;
    ck_assert_int_eq(mni_hnsw_search(h, base, K, 0, NULL, NULL, out, &got), MN_OK);
    ck_assert_uint_eq(got, 0);
    ck_assert_int_eq(mni_hnsw_compact(h), MN_OK);
    mni_hnsw_stats(h, &st);
    ck_assert_uint_eq(st.deleted, 0);
    ck_assert_uint_eq(st.free, (size_t)n);
    /* refill: every slot is reused, none added */
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(mni_hnsw_insert(h, key_of(i), base + (size_t)i * DIM), MN_OK);
    mni_hnsw_stats(h, &st);
    ck_assert_uint_eq(st.slots, (size_t)n);
    ck_assert_uint_eq(st.free, 0);
    free(present);
    mni_hnsw_free(h);
}
END_TEST

START_TEST(update_replaces_vector)
{
    gen_data();
    const int n = NBASE / 3, nu = 300;
    mni_hnsw *h = build_index(n, NULL, 1);
    float *vecs = malloc((size_t)n * DIM * sizeof(float));
    memcpy(vecs, base, (size_t)n * DIM * sizeof(float));
    float *old = malloc((size_t)nu * DIM * sizeof(float));
    for (int u = 0; u < nu; u++) {
        int i = (int)(rnd() % (uint64_t)n);
        memcpy(old + (size_t)u * DIM, vecs + (size_t)i * DIM, DIM * sizeof(float));
        gen_point(vecs + (size_t)i * DIM);
        ck_assert_int_eq(mni_hnsw_update(h, key_of(i), vecs + (size_t)i * DIM), MN_OK);
        /* found by its new vector at once, with the new score */
        struct mni_hit out[K];
        size_t got;
        ck_assert_int_eq(mni_hnsw_search(h, vecs + (size_t)i * DIM, K, 0, NULL, NULL, out, &got),
                         MN_OK);
        ck_assert_uint_ge(got, 1);
        ck_assert_int_eq(out[0].key, key_of(i));
        ck_assert_float_eq_tol(out[0].score, 1.0f, 1e-4f);
        /* by its old vector, it is at most scored as the new one */
        ck_assert_int_eq(mni_hnsw_search(h, old + (size_t)u * DIM, K, 0, NULL, NULL, out, &got),
                         MN_OK);
        for (size_t j = 0; j < got; j++) {
            int x = idx_of(out[j].key);
            float s = mni_ip_scalar(old + (size_t)u * DIM, vecs + (size_t)x * DIM, DIM);
            ck_assert_float_eq_tol(out[j].score, s, 1e-4f);
            if (j)
                ck_assert_int_ne(out[j].key, out[j - 1].key);
        }
    }
    ck_assert_uint_eq(mni_hnsw_count(h), (size_t)n);
    double r = recall(h, vecs, n, NULL, 100, 0);
    printf("hnsw: after %d updates: recall@10 %.4f\n", nu, r);
    ck_assert(r >= MIN_RECALL);
    /* update of an absent key inserts it */
    ck_assert_int_eq(mni_hnsw_update(h, key_of(n), base + (size_t)n * DIM), MN_OK);
    ck_assert_uint_eq(mni_hnsw_count(h), (size_t)n + 1);
    ck_assert(mni_hnsw_contains(h, key_of(n)));
    free(vecs);
    free(old);
    mni_hnsw_free(h);
}
END_TEST

/* ==== tests: persistence ==================================================================== */

/* An index with live, deleted (pending) and free slots. */
/* An index of n rows after deletes, a compaction, more deletes (pending) and re-inserts into
 * freed slots; flags are added to MNI_HNSW_NO_AUTO_COMPACT. */
static mni_hnsw *mixed_index_with(int n, unsigned char *present, unsigned flags, int rerank)
{
    struct mni_hnsw_params p = { 12, 48, 50, 11, MNI_HNSW_NO_AUTO_COMPACT | flags, rerank };
    mni_hnsw *h;
    ck_assert_int_eq(mni_hnsw_create(DIM, &p, &h), MN_OK);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(mni_hnsw_insert(h, key_of(i), base + (size_t)i * DIM), MN_OK);
    memset(present, 1, (size_t)n);
    for (int i = 0; i < n; i += 5) { /* 20% deleted, then compacted: free slots */
        ck_assert_int_eq(mni_hnsw_delete(h, key_of(i)), MN_OK);
        present[i] = 0;
    }
    ck_assert_int_eq(mni_hnsw_compact(h), MN_OK);
    for (int i = 1; i < n; i += 7) { /* more deleted, pending */
        if (present[i]) {
            ck_assert_int_eq(mni_hnsw_delete(h, key_of(i)), MN_OK);
            present[i] = 0;
        }
    }
    for (int i = 0; i < n; i += 10) { /* some back, into free slots */
        ck_assert_int_eq(mni_hnsw_insert(h, key_of(i), base + (size_t)i * DIM), MN_OK);
        present[i] = 1;
    }
    struct mni_hnsw_stats st;
    mni_hnsw_stats(h, &st);
    ck_assert_uint_gt(st.deleted, 0);
    ck_assert_uint_gt(st.free, 0);
    return h;
}

static mni_hnsw *mixed_index(int n, unsigned char *present)
{
    return mixed_index_with(n, present, 0, 0);
}

static void same_answers(const mni_hnsw *a, const mni_hnsw *b)
{
    static const int pcts[] = { 100, 10 };
    for (int f = 0; f < 2; f++) {
        struct filt flt = { pcts[f], NULL };
        for (int qi = 0; qi < NQ; qi++) {
            struct mni_hit x[K], y[K];
            size_t nx, ny;
            const float *q = queries + (size_t)qi * DIM;
            mni_hnsw_accept_fn acc = pcts[f] < 100 ? accept_pct : NULL;
            ck_assert_int_eq(mni_hnsw_search(a, q, K, 0, acc, &flt, x, &nx), MN_OK);
            ck_assert_int_eq(mni_hnsw_search(b, q, K, 0, acc, &flt, y, &ny), MN_OK);
            ck_assert_uint_eq(nx, ny);
            for (size_t j = 0; j < nx; j++) {
                ck_assert_int_eq(x[j].key, y[j].key);
                ck_assert(x[j].score == y[j].score); /* bit for bit */
            }
        }
    }
}

START_TEST(save_load_round_trip)
{
    gen_data();
    const int n = NBASE / 3;
    unsigned char *present = malloc((size_t)n);
    mni_hnsw *h = mixed_index(n, present);
    const char *path = th_tmppath("index.hnsw");
    ck_assert_int_eq(mni_hnsw_save(h, path, INT64_C(-1234567890123)), MN_OK);
    ck_assert_int_eq(th_tmp_leftovers(path), 0);
    mni_hnsw *g = NULL;
    int64_t seq = 0;
    ck_assert_int_eq(mni_hnsw_load(path, DIM, &g, &seq), MN_OK);
    ck_assert_int_eq(seq, INT64_C(-1234567890123));
    struct mni_hnsw_stats s1, s2;
    mni_hnsw_stats(h, &s1);
    mni_hnsw_stats(g, &s2);
    ck_assert_uint_eq(s1.live, s2.live);
    ck_assert_uint_eq(s1.deleted, s2.deleted);
    ck_assert_uint_eq(s1.slots, s2.slots);
    ck_assert_uint_eq(s1.free, s2.free);
    ck_assert_int_eq(s1.max_level, s2.max_level);
    struct mni_hnsw_params p1, p2;
    mni_hnsw_params_get(h, &p1);
    mni_hnsw_params_get(g, &p2);
    ck_assert(memcmp(&p1, &p2, sizeof p1) == 0);
    same_answers(h, g);
    double r = recall(g, base, n, present, 100, 0);
    ck_assert_msg(r >= MIN_RECALL, "loaded: recall %.4f", r);
    /* saving the loaded index gives the same bytes */
    const char *path2 = th_tmppath("index2.hnsw");
    ck_assert_int_eq(mni_hnsw_save(g, path2, INT64_C(-1234567890123)), MN_OK);
    ck_assert_uint_eq(th_file_hash(path), th_file_hash(path2));
    /* the loaded index goes on: the same operations on both keep the same answers */
    for (int i = 0; i < n; i++) {
        if (present[i] && i % 3 == 0) {
            ck_assert_int_eq(mni_hnsw_delete(h, key_of(i)), MN_OK);
            ck_assert_int_eq(mni_hnsw_delete(g, key_of(i)), MN_OK);
        } else if (!present[i]) {
            ck_assert_int_eq(mni_hnsw_insert(h, key_of(i), base + (size_t)i * DIM), MN_OK);
            ck_assert_int_eq(mni_hnsw_insert(g, key_of(i), base + (size_t)i * DIM), MN_OK);
        }
    }
    ck_assert_int_eq(mni_hnsw_compact(h), MN_OK);
    ck_assert_int_eq(mni_hnsw_compact(g), MN_OK);
    same_answers(h, g);
    /* any dimension (0), a wrong one, a missing file, an unwritable path */
    mni_hnsw_free(g);
    ck_assert_int_eq(mni_hnsw_load(path, 0, &g, NULL), MN_OK);
    ck_assert_int_eq(mni_hnsw_dim(g), DIM);
    mni_hnsw_free(g);
    g = (mni_hnsw *)1;
    ck_assert_int_eq(mni_hnsw_load(path, DIM + 1, &g, NULL), MN_ECORRUPT);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(mni_hnsw_load(th_tmppath("nope.hnsw"), DIM, &g, NULL), MN_ENOTFOUND);
    ck_assert_int_eq(mni_hnsw_save(h, th_fmt("%s/no/such/dir/x", th_tmpdir()), 1), MN_EBACKEND);
    ck_assert_int_eq(mni_hnsw_save(h, NULL, 1), MN_EINVAL);
    ck_assert_int_eq(mni_hnsw_load(NULL, DIM, &g, NULL), MN_EINVAL);
    /* an empty index round-trips too */
    mni_hnsw *e;
    ck_assert_int_eq(mni_hnsw_create(DIM, NULL, &e), MN_OK);
    ck_assert_int_eq(mni_hnsw_save(e, path, 0), MN_OK);
    mni_hnsw_free(e);
    ck_assert_int_eq(mni_hnsw_load(path, DIM, &e, NULL), MN_OK);
    ck_assert_uint_eq(mni_hnsw_count(e), 0);
    ck_assert_int_eq(mni_hnsw_insert(e, 5, base), MN_OK);
    mni_hnsw_free(e);
    free(present);
    mni_hnsw_free(h);
}
END_TEST

/* Loads the file and makes its vectors the index's own, which checks them (a load maps them
 * unread): the first failure of the two. */
static int load_rc(const char *path, const void *data, size_t len)
{
    th_write_file(path, data, len);
    mni_hnsw *g = (mni_hnsw *)1;
    int rc = mni_hnsw_load(path, DIM, &g, NULL);
    if (rc == MN_OK) {
        rc = mni_hnsw_own(g, NULL);
        mni_hnsw_free(g);
    } else {
        ck_assert_ptr_null(g);
    }
    return rc;
}

/* Where a file's vector section starts, for ns slots: past keys, states and levels, at the
 * next multiple of 64 KiB. */
#define HDR 136 /* the header's size; its checksum is at HDR_SUM */
#define HDR_SUM 128

static size_t vec_off(size_t ns)
{
    size_t end = HDR + ns * 10;
    return end + (65536 - end % 65536) % 65536;
}

static void put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* Re-seals a modified file with valid checksums: only the structure checks can catch it. The
 * payload's covers all but the vectors, which have their own. */
static void reseal(unsigned char *f, size_t len)
{
    size_t ns;
    memcpy(&ns, f + 48, 8);
    size_t vo = vec_off(ns), vl = ns * DIM * 4;
    if (ns > len || vo + vl > len) /* a slot count the file cannot hold: its sizes refuse it */
        vo = len, vl = 0;
    struct mni_hash64_state x;
    mni_hash64_init(&x, 0);
    mni_hash64_update(&x, f + HDR, vo - HDR);
    mni_hash64_update(&x, f + vo + vl, len - vo - vl);
    put64(f + 104, mni_hash64_final(&x));
    put64(f + 112, mni_hash64(f + vo, vl, 0));
    put64(f + HDR_SUM, mni_hash64(f, HDR_SUM, 0));
}

START_TEST(corrupt_files)
{
    gen_data();
    const int n = 500;
    unsigned char present[500];
    mni_hnsw *h = mixed_index(n, present);
    const char *path = th_tmppath("good.hnsw"), *bad = th_tmppath("bad.hnsw");
    ck_assert_int_eq(mni_hnsw_save(h, path, 42), MN_OK);
    size_t len;
    unsigned char *good = (unsigned char *)th_read_file(path, &len);
    ck_assert_ptr_nonnull(good);
    unsigned char *f = malloc(len + 16);
    ck_assert_int_eq(load_rc(bad, good, len), MN_OK);

    /* one flipped byte anywhere: every header byte, then positions across the payload */
    for (size_t pos = 0; pos < len; pos += pos < HDR ? 1 : 1 + len / 700) {
        memcpy(f, good, len);
        f[pos] ^= (unsigned char)(1u << (pos % 8));
        ck_assert_msg(load_rc(bad, f, len) == MN_ECORRUPT, "flip at %zu accepted", pos);
    }
    memcpy(f, good, len);
    f[len - 1] ^= 0x80;
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    /* truncated, extended, empty, not ours */
    static const size_t cuts[] = { 0, 1, 8, 64, 127, 128, 129, HDR - 1, HDR, HDR + 1, 1000 };
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
        ck_assert_int_eq(load_rc(bad, good, cuts[i]), MN_ECORRUPT);
    ck_assert_int_eq(load_rc(bad, good, len / 2), MN_ECORRUPT);
    ck_assert_int_eq(load_rc(bad, good, len - 1), MN_ECORRUPT);
    memcpy(f, good, len);
    f[len] = 0;
    ck_assert_int_eq(load_rc(bad, f, len + 1), MN_ECORRUPT);
    th_random_bytes(f, len, 7);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);

    /* crafted, with valid checksums */
    size_t ns = 0;
    memcpy(&ns, good + 48, 8);
    size_t off_state = HDR + ns * 8;
    size_t off_level = off_state + ns;
    size_t off_links = vec_off(ns) + ns * DIM * 4, row = 1 + 2 * 12;
    size_t live_slot = 0;
    while (good[off_state + live_slot] != 2) /* ST_LIVE */
        live_slot++;
    int32_t v;
    memcpy(f, good, len); /* a link out of range */
    v = (int32_t)ns + 3;
    memcpy(f + off_links + (live_slot * row + 1) * 4, &v, 4);
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len); /* a negative link */
    v = -2;
    memcpy(f + off_links + (live_slot * row + 1) * 4, &v, 4);
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len); /* a count above M0 */
    v = 25;
    memcpy(f + off_links + live_slot * row * 4, &v, 4);
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len); /* an unknown state */
    f[off_state + live_slot] = 9;
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len); /* a level that does not match the upper lists' size */
    f[off_level + live_slot] = (unsigned char)(f[off_level + live_slot] + 1);
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len); /* two live nodes with one key */
    {
        size_t other = live_slot + 1;
        while (good[off_state + other] != 2)
            other++;
        memcpy(f + HDR + other * 8, f + HDR + live_slot * 8, 8);
    }
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len); /* counts that do not add up */
    put64(f + 56, 1);
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len); /* an entry point that is not on the top layer */
    {
        uint32_t e = (uint32_t)live_slot;
        memcpy(f + 44, &e, 4);
    }
    reseal(f, len);
    int rc = load_rc(bad, f, len);
    ck_assert(rc == MN_ECORRUPT || good[off_level + live_slot] == good[40]);
    memcpy(f, good, len); /* a huge slot count: rejected before allocating */
    put64(f + 48, (uint64_t)1 << 40);
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len); /* another version: the one before, its vectors not mappable */
    f[8] = 1;
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len); /* M out of range */
    f[24] = 0;
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    /* and the good file still loads */
    ck_assert_int_eq(load_rc(bad, good, len), MN_OK);
    free(f);
    mni_hnsw_free(h);
}
END_TEST

/* A loaded index reads its vectors from the file, mapped: it answers as the saved one did,
 * before and after it makes them its own. A file truncated in place under it (ours never are:
 * they are replaced by rename) is refused when it comes to copying them, not read past its
 * end; a file replaced by rename changes nothing for an index mapping the old one. */
START_TEST(mapped_vectors)
{
    gen_data();
    const int n = 2000;
    unsigned char present[2000];
    mni_hnsw *h = mixed_index(n, present);
    const char *path = th_tmppath("mapped.hnsw");
    ck_assert_int_eq(mni_hnsw_save(h, path, 7), MN_OK);
    mni_hnsw *g = NULL;
    ck_assert_int_eq(mni_hnsw_load(path, DIM, &g, NULL), MN_OK);
    same_answers(h, g);
    /* replaced by rename (as every save does) under the mapping: g still reads its own file */
    mni_hnsw *e;
    ck_assert_int_eq(mni_hnsw_create(DIM, NULL, &e), MN_OK);
    ck_assert_int_eq(mni_hnsw_save(e, path, 8), MN_OK);
    mni_hnsw_free(e);
    same_answers(h, g);
    int stop = 1; /* asked to stop first: nothing changes */
    ck_assert_int_eq(mni_hnsw_own(g, &stop), MN_ERROR);
    same_answers(h, g);
    ck_assert_int_eq(mni_hnsw_own(g, NULL), MN_OK);
    ck_assert_int_eq(mni_hnsw_own(g, NULL), MN_OK); /* nothing left to do */
    same_answers(h, g);
    mni_hnsw_free(g);

    /* truncated in place while mapped */
    ck_assert_int_eq(mni_hnsw_save(h, path, 7), MN_OK);
    ck_assert_int_eq(mni_hnsw_load(path, DIM, &g, NULL), MN_OK);
    struct mni_hnsw_stats st;
    mni_hnsw_stats(h, &st);
    ck_assert_int_eq(truncate(path, (off_t)vec_off(st.slots) + 4096), 0);
    ck_assert_int_eq(mni_hnsw_own(g, NULL), MN_ECORRUPT);
    mni_hnsw_free(g);
    mni_hnsw_free(h);
}
END_TEST

/* Every query's hits (filtered and not) into out[2 * NQ * K] and n[2 * NQ]: whatever the file
 * holds, the searches return. */
static void answers(const mni_hnsw *g, struct mni_hit *out, size_t *n)
{
    for (int f = 0; f < 2; f++) {
        struct filt flt = { f ? 10 : 100, NULL };
        for (int qi = 0; qi < NQ; qi++) {
            size_t i = (size_t)f * NQ + (size_t)qi;
            ck_assert_int_eq(mni_hnsw_search(g, queries + (size_t)qi * DIM, K, 0,
                                             f ? accept_pct : NULL, &flt, out + i * K, &n[i]),
                             MN_OK);
            ck_assert_uint_le(n[i], K);
        }
    }
}

/* A damaged file loaded with its rows mapped (checked as far as searches need): searches
 * return, in bounds (the sanitizer build checks it), and the first write, key lookup or save
 * is MN_ECORRUPT and changes nothing. */
static void damaged_mapped(const char *path, const unsigned char *f, size_t len, const char *what)
{
    th_write_file(path, f, len);
    mni_hnsw *g = NULL;
    ck_assert_msg(mni_hnsw_load(path, DIM, &g, NULL) == MN_OK, "%s: not loaded", what);
    static struct mni_hit a[2 * NQ * K], b[2 * NQ * K];
    size_t na[2 * NQ], nb[2 * NQ];
    answers(g, a, na);
    size_t count = mni_hnsw_count(g);
    struct mni_hnsw_stats st;
    mni_hnsw_stats(g, &st);
    ck_assert_uint_gt(st.mapped, 0);
    ck_assert_msg(mni_hnsw_insert(g, -77, base) == MN_ECORRUPT, "%s: insert", what);
    ck_assert_int_eq(mni_hnsw_update(g, -77, base), MN_ECORRUPT);
    ck_assert_int_eq(mni_hnsw_delete(g, -77), MN_ECORRUPT);
    ck_assert_int_eq(mni_hnsw_compact(g), MN_ECORRUPT);
    ck_assert_int_eq(mni_hnsw_contains(g, key_of(3)), 0);
    ck_assert_int_eq(mni_hnsw_save(g, th_tmppath("never.hnsw"), 1), MN_ECORRUPT);
    ck_assert_int_eq(mni_hnsw_own(g, NULL), MN_ECORRUPT);
    /* nothing changed: the same count, still mapped, the same answers */
    ck_assert_uint_eq(mni_hnsw_count(g), count);
    struct mni_hnsw_stats st2;
    mni_hnsw_stats(g, &st2);
    ck_assert_uint_eq(st2.mapped, st.mapped);
    answers(g, b, nb);
    ck_assert(memcmp(na, nb, sizeof na) == 0);
    for (size_t i = 0; i < 2 * NQ; i++)
        for (size_t j = 0; j < na[i]; j++)
            ck_assert(a[i * K + j].key == b[i * K + j].key);
    mni_hnsw_free(g);
}

/* A load maps the node rows and upper lists (codes, scales, lists) with the vectors, and
 * checks them when the index must be its own: a good file answers as the index that saved it,
 * before and after; a damaged one (out-of-range links, huge counts, scales that are not
 * finite, garbage, a repeated key) is searched without a crash and refused at the first write,
 * with nothing changed. */
START_TEST(mapped_rows)
{
    gen_data();
    const int n = 2000;
    unsigned char present[2000];
    mni_hnsw *h = mixed_index_with(n, present, MNI_HNSW_INT8, 0);
    const char *path = th_tmppath("rows.hnsw"), *bad = th_tmppath("rowsbad.hnsw");
    ck_assert_int_eq(mni_hnsw_save(h, path, 7), MN_OK);
    size_t len;
    unsigned char *good = (unsigned char *)th_read_file(path, &len);
    ck_assert_ptr_nonnull(good);

    /* good: mapped and copied loads answer alike; the mapped one holds far fewer bytes */
    mni_hnsw *g = NULL, *c = NULL;
    ck_assert_int_eq(mni_hnsw_load(path, DIM, &g, NULL), MN_OK);
    ck_assert_int_eq(mni_hnsw_load(path, DIM, &c, NULL), MN_OK);
    ck_assert_int_eq(mni_hnsw_own(c, NULL), MN_OK);
    same_answers(h, g);
    same_answers(c, g);
    struct mni_hnsw_stats sg, sc;
    mni_hnsw_stats(g, &sg);
    mni_hnsw_stats(c, &sc);
    ck_assert_uint_eq(sc.mapped, 0);
    ck_assert_uint_gt(sg.mapped, (size_t)n * 64 * 4); /* the rows at least */
    ck_assert_uint_lt(sg.bytes + (size_t)n * 64 * 4, sc.bytes);
    ck_assert_uint_eq(sg.free, sc.free);
    /* the first write makes it its own; saved again, the same bytes; then it round-trips */
    ck_assert_int_eq(mni_hnsw_contains(g, key_of(3)), mni_hnsw_contains(h, key_of(3)));
    mni_hnsw_stats(g, &sg);
    ck_assert_uint_eq(sg.mapped, 0);
    same_answers(c, g);
    const char *again = th_tmppath("rows2.hnsw");
    ck_assert_int_eq(mni_hnsw_save(g, again, 7), MN_OK);
    ck_assert_uint_eq(th_file_hash(path), th_file_hash(again));
    ck_assert_int_eq(mni_hnsw_insert(g, -77, base), MN_OK);
    ck_assert_int_eq(mni_hnsw_insert(h, -77, base), MN_OK);
    ck_assert_int_eq(mni_hnsw_save(g, again, 8), MN_OK);
    mni_hnsw_free(c);
    ck_assert_int_eq(mni_hnsw_load(again, DIM, &c, NULL), MN_OK);
    same_answers(g, c);
    ck_assert_int_eq(mni_hnsw_delete(c, -77), MN_OK);
    ck_assert_int_eq(mni_hnsw_delete(h, -77), MN_OK);
    same_answers(h, c);
    mni_hnsw_free(c);
    mni_hnsw_free(g);

    /* damaged, under valid checksums unless said */
    size_t ns;
    memcpy(&ns, good + 48, 8);
    size_t off_state = HDR + ns * 8, off_level = off_state + ns;
    size_t lofs = (DIM + 3) / 4 + 1, stride = (lofs + 1 + 2 * 12 + 15) / 16 * 16;
    size_t off_rows = vec_off(ns) + ns * DIM * 4, off_up = off_rows + ns * stride * 4;
    unsigned char *f = malloc(len);
    int32_t v;
    memcpy(f, good, len); /* links out of range, both ways */
    for (size_t s = 0; s < ns; s++) {
        v = INT32_MAX;
        memcpy(f + off_rows + (s * stride + lofs + 1) * 4, &v, 4);
        v = -5;
        memcpy(f + off_rows + (s * stride + lofs + 2) * 4, &v, 4);
    }
    reseal(f, len);
    damaged_mapped(bad, f, len, "links out of range");
    memcpy(f, good, len); /* huge counts */
    v = INT32_MAX;
    for (size_t s = 0; s < ns; s++)
        memcpy(f + off_rows + (s * stride + lofs) * 4, &v, 4);
    reseal(f, len);
    damaged_mapped(bad, f, len, "huge counts");
    memcpy(f, good, len); /* negative counts */
    v = INT32_MIN;
    for (size_t s = 0; s < ns; s += 2)
        memcpy(f + off_rows + (s * stride + lofs) * 4, &v, 4);
    reseal(f, len);
    damaged_mapped(bad, f, len, "negative counts");
    static const uint32_t bad_scales[] = { 0x7fc00000u, 0x7f800000u, 0xff800000u };
    for (size_t i = 0; i < 3; i++) { /* scales that are not finite: NaN, +inf, -inf */
        memcpy(f, good, len);
        for (size_t s = i; s < ns; s += 1 + i)
            memcpy(f + off_rows + (s * stride + lofs - 1) * 4, &bad_scales[i], 4);
        reseal(f, len);
        damaged_mapped(bad, f, len, "scale not finite");
    }
    /* upper lists: a huge count and a link out of range in each (levels as they are) */
    ck_assert_uint_gt(len, off_up);
    memcpy(f, good, len);
    for (size_t s = 0, o = off_up; s < ns; s++) {
        for (int l = 0; l < good[off_level + s]; l++, o += (1 + 12) * 4) {
            v = l % 2 ? INT32_MAX : -1;
            memcpy(f + o, &v, 4);
            v = (int32_t)ns + l;
            memcpy(f + o + 4, &v, 4);
        }
    }
    reseal(f, len);
    damaged_mapped(bad, f, len, "upper lists");
    memcpy(f, good, len); /* garbage rows and upper lists, checksums not matching */
    th_random_bytes(f + off_rows, len - off_rows, 11);
    damaged_mapped(bad, f, len, "garbage");
    memcpy(f, good, len); /* one key twice among the live */
    size_t s1 = 0, s2;
    while (good[off_state + s1] != 2)
        s1++;
    for (s2 = s1 + 1; good[off_state + s2] != 2; s2++)
        ;
    memcpy(f + HDR + s2 * 8, f + HDR + s1 * 8, 8);
    reseal(f, len);
    damaged_mapped(bad, f, len, "repeated key");
    free(f);
    mni_hnsw_free(h);
}
END_TEST

/* ==== tests: concurrency ==================================================================== */

/* Searches of a mapped index while another thread makes it its own: each answers as the index
 * that saved it, before, during and after the swap. */
struct own_race {
    const mni_hnsw *g;
    const struct mni_hit *want; /* NQ x K */
    const size_t *nwant;
    int stop, bad, rounds;
};

static void *own_race_searcher(void *arg)
{
    struct own_race *r = arg;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        for (int qi = 0; qi < NQ; qi++) {
            struct mni_hit x[K];
            size_t nx;
            const struct mni_hit *w = r->want + (size_t)qi * K;
            if (mni_hnsw_search(r->g, queries + (size_t)qi * DIM, K, 0, NULL, NULL, x, &nx) ||
                nx != r->nwant[qi])
                __atomic_store_n(&r->bad, 1, __ATOMIC_RELAXED);
            for (size_t j = 0; j < nx && j < K; j++) /* field by field: a hit has padding */
                if (x[j].key != w[j].key || x[j].score != w[j].score)
                    __atomic_store_n(&r->bad, 1, __ATOMIC_RELAXED);
        }
        __atomic_add_fetch(&r->rounds, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

START_TEST(mapped_own_while_searching)
{
    gen_data();
    const int n = 3000;
    unsigned char present[3000];
    mni_hnsw *h = mixed_index_with(n, present, MNI_HNSW_INT8, 0);
    const char *path = th_tmppath("race.hnsw");
    ck_assert_int_eq(mni_hnsw_save(h, path, 7), MN_OK);
    static struct mni_hit want[NQ * K];
    static size_t nwant[NQ];
    for (int qi = 0; qi < NQ; qi++)
        ck_assert_int_eq(mni_hnsw_search(h, queries + (size_t)qi * DIM, K, 0, NULL, NULL,
                                         want + (size_t)qi * K, &nwant[qi]), MN_OK);
    mni_hnsw *g = NULL;
    ck_assert_int_eq(mni_hnsw_load(path, DIM, &g, NULL), MN_OK);
    struct own_race r = { g, want, nwant, 0, 0, 0 };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, own_race_searcher, &r), 0);
    while (__atomic_load_n(&r.rounds, __ATOMIC_RELAXED) < 2)
        usleep(1000);
    ck_assert_int_eq(mni_hnsw_own(g, NULL), MN_OK);
    int after = __atomic_load_n(&r.rounds, __ATOMIC_RELAXED);
    while (__atomic_load_n(&r.rounds, __ATOMIC_RELAXED) < after + 2)
        usleep(1000);
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    ck_assert_int_eq(r.bad, 0);
    struct mni_hnsw_stats st;
    mni_hnsw_stats(g, &st);
    ck_assert_uint_eq(st.mapped, 0);
    mni_hnsw_free(g);
    mni_hnsw_free(h);
}
END_TEST

struct conc {
    mni_hnsw *h;
    int n, writers, stop;
    int done_upto;      /* deletions: del_order[0 .. done_upto - 1] have returned */
    const int *del_pos; /* per row: its position in the delete order, or INT32_MAX */
    const float *vecs;
    int updates_from;   /* rows >= this are updated (new vectors in upd) */
    const float *upd;
    long searches;
    int errors;
};

static void *inserter(void *arg)
{
    struct conc *c = arg;
    static int next_id;
    int t = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED) % c->writers;
    for (int i = t; i < c->n; i += c->writers)
        if (mni_hnsw_insert(c->h, key_of(i), c->vecs + (size_t)i * DIM))
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
    return NULL;
}

/* Searches until told to stop; checks every answer: valid keys, right scores (the vector a key
 * maps to is its own, under concurrent writes), order, no duplicate, no deleted key. */
static void *searcher(void *arg)
{
    struct conc *c = arg;
    uint64_t r = 12345 + (uint64_t)(uintptr_t)&r;
    long count = 0;
    while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE) || count < 20) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        const float *q = queries + (size_t)((r >> 33) % NQ) * DIM;
        int upto = __atomic_load_n(&c->done_upto, __ATOMIC_ACQUIRE);
        struct mni_hit out[K];
        size_t got;
        int bad = mni_hnsw_search(c->h, q, K, 0, NULL, NULL, out, &got) != MN_OK;
        for (size_t j = 0; j < got && !bad; j++) {
            int i = idx_of(out[j].key);
            if (i < 0 || i >= c->n) {
                bad = 1;
                break;
            }
            if (c->del_pos && c->del_pos[i] < upto)
                bad = 1; /* deleted before the search began */
            if (i < c->updates_from) {
                float s = mni_ip_scalar(q, c->vecs + (size_t)i * DIM, DIM);
                if (fabsf(s - out[j].score) > 1e-4f)
                    bad = 1;
            } else { /* old or new vector, never anything else */
                float s0 = mni_ip_scalar(q, c->vecs + (size_t)i * DIM, DIM);
                float s1 = mni_ip_scalar(q, c->upd + (size_t)i * DIM, DIM);
                if (fabsf(s0 - out[j].score) > 1e-4f && fabsf(s1 - out[j].score) > 1e-4f)
                    bad = 1;
            }
            for (size_t t = 0; t < j; t++)
                if (out[t].key == out[j].key)
                    bad = 1;
            if (j && out[j - 1].score < out[j].score)
                bad = 1;
        }
        if (bad)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
        count++;
    }
    __atomic_fetch_add(&c->searches, count, __ATOMIC_RELAXED);
    return NULL;
}

/* Two writers insert while two readers search (the arrays grow under them: no reserve). */
START_TEST(concurrent_insert_search)
{
    gen_data();
    const int n = SANITIZED ? 2000 : NBASE / 2;
    mni_hnsw *h;
    ck_assert_int_eq(mni_hnsw_create(DIM, NULL, &h), MN_OK);
    struct conc c = { h, n, 2, 0, 0, NULL, base, n, NULL, 0, 0 };
    pthread_t w[2], r[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&r[i], NULL, searcher, &c), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&w[i], NULL, inserter, &c), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i], NULL);
    __atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    ck_assert_int_eq(c.errors, 0);
    ck_assert_uint_eq(mni_hnsw_count(h), (size_t)n);
    double rc = recall(h, base, n, NULL, 100, 0);
    printf("hnsw: concurrent insert (2 writers, 2 readers, %ld searches): recall@10 %.4f\n",
           c.searches, rc);
    ck_assert(rc >= MIN_RECALL);
    mni_hnsw_free(h);
}
END_TEST

struct deleter_arg {
    struct conc *c;
    const int *order;
    int count;
};

static void *deleter(void *arg)
{
    struct deleter_arg *d = arg;
    for (int j = 0; j < d->count; j++) {
        if (mni_hnsw_delete(d->c->h, key_of(d->order[j])) != MN_OK)
            __atomic_fetch_add(&d->c->errors, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&d->c->done_upto, j + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void *updater(void *arg)
{
    struct conc *c = arg;
    for (int i = c->updates_from; i < c->n; i++)
        if (mni_hnsw_update(c->h, key_of(i), c->upd + (size_t)i * DIM) != MN_OK)
            __atomic_fetch_add(&c->errors, 1, __ATOMIC_RELAXED);
    return NULL;
}

/* One thread deletes (auto compaction included), one updates, two search: no search returns a
 * key whose delete had returned before it began, nor a key twice, nor a wrong vector. */
START_TEST(concurrent_delete_update_search)
{
    gen_data();
    const int n = SANITIZED ? 2000 : NBASE / 2, nd = n * 3 / 10;
    mni_hnsw *h = build_index(n, NULL, 2);
    int *order = malloc((size_t)n * sizeof *order), *del_pos = malloc((size_t)n * sizeof *del_pos);
    float *upd = malloc((size_t)NBASE * DIM * sizeof(float));
    ck_assert(order && del_pos && upd);
    for (int i = 0; i < n; i++) {
        order[i] = i;
        del_pos[i] = INT32_MAX;
    }
    /* delete a random 30% of the first 80% of rows; the last 20% are updated */
    int upd_from = n - n / 5;
    for (int i = upd_from - 1; i > 0; i--) {
        int j = (int)(rnd() % (uint64_t)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int j = 0; j < nd; j++)
        del_pos[order[j]] = j;
    for (int i = upd_from; i < n; i++)
        gen_point(upd + (size_t)i * DIM);
    struct conc c = { h, n, 1, 0, 0, del_pos, base, upd_from, upd, 0, 0 };
    struct deleter_arg da = { &c, order, nd };
    pthread_t r[2], d, u;
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&r[i], NULL, searcher, &c), 0);
    ck_assert_int_eq(pthread_create(&d, NULL, deleter, &da), 0);
    ck_assert_int_eq(pthread_create(&u, NULL, updater, &c), 0);
    pthread_join(d, NULL);
    pthread_join(u, NULL);
    __atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(r[i], NULL);
    ck_assert_int_eq(c.errors, 0);
    ck_assert_uint_eq(mni_hnsw_count(h), (size_t)(n - nd));
    unsigned char *present = malloc((size_t)n);
    float *now = malloc((size_t)n * DIM * sizeof(float));
    for (int i = 0; i < n; i++) {
        present[i] = del_pos[i] == INT32_MAX;
        memcpy(now + (size_t)i * DIM, (i >= upd_from ? upd : base) + (size_t)i * DIM,
               DIM * sizeof(float));
    }
    double rc = recall(h, now, n, present, 100, 0);
    struct mni_hnsw_stats st;
    mni_hnsw_stats(h, &st);
    printf("hnsw: concurrent delete+update (%ld searches): recall@10 %.4f, %zu pending\n",
           c.searches, rc, st.deleted);
    ck_assert(rc >= MIN_RECALL);
    free(order);
    free(del_pos);
    free(upd);
    free(present);
    free(now);
    mni_hnsw_free(h);
}
END_TEST

START_TEST(parallel_build)
{
    gen_data();
    mni_hnsw *h = build_index(NBASE, NULL, 4);
    double r = recall(h, base, NBASE, NULL, 100, 0);
    printf("hnsw: 4-thread build: recall@10 %.4f\n", r);
    ck_assert(r >= MIN_RECALL);
    /* a failing row stops the build with its error */
    int64_t keys[3] = { key_of(0), 777, 778 };
    ck_assert_int_eq(mni_hnsw_build(h, keys, base, 3, 2), MN_EEXISTS);
    ck_assert_int_eq(mni_hnsw_build(h, NULL, base, 3, 2), MN_EINVAL);
    ck_assert_int_eq(mni_hnsw_build(h, NULL, NULL, 0, 2), MN_OK);
    mni_hnsw_free(h);
}
END_TEST

/* Saving while others search and write: each file is a consistent snapshot that loads. */
START_TEST(save_while_writing)
{
    gen_data();
    const int n = SANITIZED ? 1500 : 4000;
    mni_hnsw *h;
    ck_assert_int_eq(mni_hnsw_create(DIM, NULL, &h), MN_OK);
    struct conc c = { h, n, 1, 0, 0, NULL, base, n, NULL, 0, 0 };
    pthread_t r, w;
    ck_assert_int_eq(pthread_create(&r, NULL, searcher, &c), 0);
    ck_assert_int_eq(pthread_create(&w, NULL, inserter, &c), 0);
    const char *path = th_tmppath("busy.hnsw");
    size_t last = 0;
    for (int i = 0; i < 5; i++) {
        usleep(20000);
        ck_assert_int_eq(mni_hnsw_save(h, path, i), MN_OK);
        mni_hnsw *g;
        int64_t seq;
        ck_assert_int_eq(mni_hnsw_load(path, DIM, &g, &seq), MN_OK);
        ck_assert_int_eq(seq, i);
        ck_assert_uint_ge(mni_hnsw_count(g), last);
        last = mni_hnsw_count(g);
        mni_hnsw_free(g);
    }
    pthread_join(w, NULL);
    __atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
    pthread_join(r, NULL);
    ck_assert_int_eq(c.errors, 0);
    ck_assert_uint_eq(mni_hnsw_count(h), (size_t)n);
    mni_hnsw_free(h);
}
END_TEST

/* Two indexes (as two processes would have) saved to one path at once: each save writes its own
 * temporary file, so the file left is whole, one of the two. */
struct saver {
    mni_hnsw *h;
    const char *path;
    int failures;
};

static void *saver_main(void *p)
{
    struct saver *s = p;
    for (int i = 0; i < 40; i++)
        s->failures += mni_hnsw_save(s->h, s->path, i) != MN_OK;
    return NULL;
}

START_TEST(concurrent_saves_one_path)
{
    gen_data();
    const int n = NBASE / 4;
    unsigned char *present = malloc((size_t)n);
    const char *path = th_tmppath("shared.hnsw");
    struct saver s[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        /* Different sizes: bytes of one mixed into the other's file could not pass. */
        int size = i ? n - 100 : n;
        if (size <= 0)
            ck_abort_msg("too few vectors");
        s[i] = (struct saver){ mixed_index(size, present), path, 0 };
        ck_assert_int_eq(pthread_create(&t[i], NULL, saver_main, &s[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    mni_hnsw *g = NULL;
    int64_t seq;
    ck_assert_int_eq(mni_hnsw_load(path, DIM, &g, &seq), MN_OK);
    ck_assert(mni_hnsw_count(g) == mni_hnsw_count(s[0].h) ||
              mni_hnsw_count(g) == mni_hnsw_count(s[1].h));
    ck_assert_int_eq(s[0].failures + s[1].failures, 0);
    ck_assert_int_eq(th_tmp_leftovers(path), 0);
    mni_hnsw_free(g);
    mni_hnsw_free(s[0].h);
    mni_hnsw_free(s[1].h);
    free(present);
}
END_TEST

/* ==== tests: int8 codes (MNI_HNSW_INT8) ====================================================== */

/* The bound the codes may cost at equal ef on this data, against the float index's recall. */
#define INT8_RECALL_LOSS 0.02

static mni_hnsw *int8_index(int rerank)
{
    struct mni_hnsw_params p = { 0, 0, 0, 0, MNI_HNSW_INT8, rerank };
    return build_index(NBASE, &p, 1);
}

/* Recall within INT8_RECALL_LOSS of the float index at the same ef, with and without a filter;
 * recall() also checks that every score is the exact inner product (the re-ranking's). */
START_TEST(int8_recall)
{
    mni_hnsw *q = int8_index(0);
    static const int pcts[] = { 100, 10 };
    for (int i = 0; i < 2; i++) {
        double rf = recall(shared, base, NBASE, NULL, pcts[i], 0);
        double rq = recall(q, base, NBASE, NULL, pcts[i], 0);
        printf("hnsw int8: filter %d%%: recall@10 %.4f (float32 %.4f) at default ef 40, %.0f "
               "bytes/vector (float32 %.0f)\n", pcts[i], rq, rf, bytes_per_vector(q),
               bytes_per_vector(shared));
        ck_assert_msg(rq >= rf - INT8_RECALL_LOSS, "filter %d%%: int8 recall %.4f, float %.4f",
                      pcts[i], rq, rf);
    }
    /* the codes cost dim + 4 bytes per slot more than the float index */
    struct mni_hnsw_stats sf, sq;
    mni_hnsw_stats(shared, &sf);
    mni_hnsw_stats(q, &sq);
    ck_assert_uint_ge(sq.bytes - sf.bytes, sq.capacity * (DIM + 4));
    /* re-ranking only k candidates: still exact scores, recall no better than all of them */
    mni_hnsw *r = int8_index(K);
    struct mni_hnsw_params p;
    mni_hnsw_params_get(r, &p);
    ck_assert_int_eq(p.rerank, K);
    ck_assert_uint_eq(p.flags, MNI_HNSW_INT8);
    double rk = recall(r, base, NBASE, NULL, 100, 0), ra = recall(q, base, NBASE, NULL, 100, 0);
    printf("hnsw int8: recall@10 %.4f re-ranking %d, %.4f re-ranking all 40\n", rk, K, ra);
    ck_assert(rk <= ra + 1e-9);
    mni_hnsw_free(r);
    mni_hnsw_free(q);
}
END_TEST

/* Deletes, a compaction, re-inserts into freed slots and updates keep the codes right: no
 * deleted key comes back, recall over what is present holds, and an update's new vector is
 * what is found and scored. */
START_TEST(int8_mutations)
{
    gen_data();
    const int n = NBASE / 3;
    unsigned char *present = malloc((size_t)n);
    mni_hnsw *h = mixed_index_with(n, present, MNI_HNSW_INT8, 0);
    double r = recall(h, base, n, present, 100, 0);
    ck_assert_msg(r >= MIN_RECALL - INT8_RECALL_LOSS, "after deletes: recall %.4f", r);
    ck_assert_int_eq(mni_hnsw_compact(h), MN_OK);
    r = recall(h, base, n, present, 100, 0);
    ck_assert_msg(r >= MIN_RECALL - INT8_RECALL_LOSS, "after compaction: recall %.4f", r);
    /* an update: key 1 takes row 2's vector; a search with that vector finds key 1 first */
    if (!present[1]) {
        ck_assert_int_eq(mni_hnsw_insert(h, key_of(1), base + DIM), MN_OK);
        present[1] = 1;
    }
    ck_assert_int_eq(mni_hnsw_update(h, key_of(1), base + 2 * (size_t)DIM), MN_OK);
    struct mni_hit out[2];
    size_t got;
    ck_assert_int_eq(mni_hnsw_search(h, base + 2 * (size_t)DIM, 2, 0, NULL, NULL, out, &got),
                     MN_OK);
    ck_assert_uint_eq(got, 2);
    int first = out[0].key == key_of(1) || out[1].key == key_of(1);
    ck_assert(first);
    float self = mni_ip_scalar(base + 2 * (size_t)DIM, base + 2 * (size_t)DIM, DIM);
    ck_assert(fabsf(out[0].score - self) < 1e-4f);
    /* delete everything: nothing is returned, and the index is reusable */
    for (int i = 0; i < n; i++)
        if (present[i])
            ck_assert_int_eq(mni_hnsw_delete(h, key_of(i)), MN_OK);
    ck_assert_int_eq(mni_hnsw_search(h, queries, 2, 0, NULL, NULL, out, &got), MN_OK);
    ck_assert_uint_eq(got, 0);
    ck_assert_int_eq(mni_hnsw_compact(h), MN_OK);
    ck_assert_int_eq(mni_hnsw_insert(h, 5, base), MN_OK);
    ck_assert_int_eq(mni_hnsw_search(h, base, 2, 0, NULL, NULL, out, &got), MN_OK);
    ck_assert_uint_eq(got, 1);
    ck_assert_int_eq(out[0].key, 5);
    free(present);
    mni_hnsw_free(h);
}
END_TEST

static uint32_t file_u32(const unsigned char *f, size_t at)
{
    uint32_t v;
    memcpy(&v, f + at, 4);
    return v;
}

static void put32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void reseal(unsigned char *f, size_t len);
static int load_rc(const char *path, const void *data, size_t len);

/* The version 2 file (1.6 - 1.7) of the int8 index saved in f (version 3, len bytes): the same
 * but for the rows, which held only the lists. Into *n2 bytes (freed by the caller). */
static unsigned char *int8_as_version2(const unsigned char *f, size_t len, size_t *n2)
{
    size_t ns;
    memcpy(&ns, f + 48, 8);
    size_t row = 1 + 2 * (size_t)file_u32(f, 24), lofs = (DIM + 3) / 4 + 1;
    size_t stride = (lofs + row + 15) / 16 * 16;
    size_t rows = vec_off(ns) + ns * DIM * 4, upper = len - rows - ns * stride * 4;
    *n2 = rows + ns * row * 4 + upper;
    unsigned char *g = malloc(*n2);
    memcpy(g, f, rows);
    for (size_t s = 0; s < ns; s++)
        memcpy(g + rows + s * row * 4, f + rows + (s * stride + lofs) * 4, row * 4);
    memcpy(g + rows + ns * row * 4, f + rows + ns * stride * 4, upper);
    put32(g + 8, 2);
    put64(g + 96, *n2 - HDR);
    reseal(g, *n2);
    return g;
}

/* An int8 index keeps its flags, rerank and codes in the file (the same answers bit for bit,
 * the same bytes when saved again); a float index has 0 for rerank. A version 2 file, whose
 * rows hold no codes, loads with its codes made again: the same answers, and saved again the
 * same bytes as the version 3 file. An older version, a rerank without codes, a foreign flag, a
 * bad rerank, a reserved word set, a saved scale that is not finite and a truncated file are
 * MN_ECORRUPT. */
START_TEST(int8_save_load)
{
    gen_data();
    const int n = NBASE / 3;
    unsigned char *present = malloc((size_t)n);
    mni_hnsw *h = mixed_index_with(n, present, MNI_HNSW_INT8, 25);
    const char *path = th_tmppath("int8.hnsw"), *path2 = th_tmppath("int8b.hnsw");
    ck_assert_int_eq(mni_hnsw_save(h, path, 7), MN_OK);
    mni_hnsw *g = NULL;
    ck_assert_int_eq(mni_hnsw_load(path, DIM, &g, NULL), MN_OK);
    struct mni_hnsw_params p1, p2;
    mni_hnsw_params_get(h, &p1);
    mni_hnsw_params_get(g, &p2);
    ck_assert(memcmp(&p1, &p2, sizeof p1) == 0);
    ck_assert_uint_eq(mni_hnsw_bytes(h) > 0, 1);
    same_answers(h, g);
    ck_assert_int_eq(mni_hnsw_save(g, path2, 7), MN_OK);
    ck_assert_uint_eq(th_file_hash(path), th_file_hash(path2));
    size_t len;
    unsigned char *good = (unsigned char *)th_read_file(path, &len);
    ck_assert_ptr_nonnull(good);
    ck_assert_uint_eq(file_u32(good, 8), 3);
    ck_assert_uint_eq(file_u32(good, 36), MNI_HNSW_INT8 | MNI_HNSW_NO_AUTO_COMPACT);
    ck_assert_uint_eq(file_u32(good, 120), 25);
    unsigned char *f = malloc(len);
    const char *bad = th_tmppath("int8bad.hnsw");
    memcpy(f, good, len);
    put32(f + 8, 1); /* the version before */
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len);
    put32(f + 36, MNI_HNSW_NO_AUTO_COMPACT); /* a rerank without codes */
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len);
    put32(f + 36, MNI_HNSW_INT8 | 0x80u); /* a flag no version knows */
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len);
    put32(f + 120, (uint32_t)-1); /* rerank out of range */
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    memcpy(f, good, len);
    put32(f + 124, 1); /* the reserved word */
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    ck_assert_int_eq(load_rc(bad, good, len - 1), MN_ECORRUPT);
    ck_assert_int_eq(load_rc(bad, good, len), MN_OK);
    /* a scale that is not finite, under valid checksums: the scale of a live slot's row */
    size_t ns;
    memcpy(&ns, good + 48, 8);
    size_t live_slot = 0;
    while (good[HDR + ns * 8 + live_slot] != 2) /* ST_LIVE */
        live_slot++;
    size_t lofs = (DIM + 3) / 4 + 1;
    size_t stride = (lofs + 1 + 2 * file_u32(good, 24) + 15) / 16 * 16;
    size_t scale_at = vec_off(ns) + ns * DIM * 4 + (live_slot * stride + lofs - 1) * 4;
    memcpy(f, good, len);
    put32(f + scale_at, 0x7fc00000u); /* NaN */
    reseal(f, len);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    /* version 2: codes made again at load, the same answers and, saved again, version 3 */
    size_t len2;
    unsigned char *old = int8_as_version2(good, len, &len2);
    ck_assert_uint_lt(len2, len);
    th_write_file(bad, old, len2);
    mni_hnsw *o = NULL;
    ck_assert_int_eq(mni_hnsw_load(bad, DIM, &o, NULL), MN_OK);
    same_answers(h, o);
    ck_assert_int_eq(mni_hnsw_save(o, path2, 7), MN_OK);
    ck_assert_uint_eq(th_file_hash(path), th_file_hash(path2));
    mni_hnsw_free(o);
    free(old);
    /* a float index: the same version, 0 for rerank */
    mni_hnsw *fl = mixed_index(500, present);
    ck_assert_int_eq(mni_hnsw_save(fl, path2, 7), MN_OK);
    good = (unsigned char *)th_read_file(path2, &len);
    ck_assert_uint_eq(file_u32(good, 8), 3);
    ck_assert_uint_eq(file_u32(good, 120), 0);
    mni_hnsw_free(fl);
    free(f);
    free(present);
    mni_hnsw_free(g);
    mni_hnsw_free(h);
}
END_TEST

START_TEST(int8_params)
{
    mni_hnsw *h = (mni_hnsw *)1;
    struct mni_hnsw_params p = { 0, 0, 0, 0, MNI_HNSW_INT8, -1 };
    ck_assert_int_eq(mni_hnsw_create(DIM, &p, &h), MN_EINVAL);
    ck_assert_ptr_null(h);
    p.rerank = MNI_HNSW_MAX_EF + 1;
    ck_assert_int_eq(mni_hnsw_create(DIM, &p, &h), MN_EINVAL);
    p.rerank = 0;
    p.flags = 0x80u;
    ck_assert_int_eq(mni_hnsw_create(DIM, &p, &h), MN_EINVAL);
    p.flags = MNI_HNSW_INT8;
    p.rerank = MNI_HNSW_MAX_EF;
    ck_assert_int_eq(mni_hnsw_create(DIM, &p, &h), MN_OK);
    mni_hnsw_free(h);
    /* odd dimensions (a SIMD kernel's tail) and a zero vector, whose code has no scale */
    static const int dims[] = { 1, 7, 33, 100 };
    for (int i = 0; i < 4; i++) {
        p.rerank = 0;
        ck_assert_int_eq(mni_hnsw_create(dims[i], &p, &h), MN_OK);
        float v[100] = { 0 }, w[100];
        ck_assert_int_eq(mni_hnsw_insert(h, 1, v), MN_OK);
        for (int j = 0; j < dims[i]; j++)
            w[j] = (float)(j % 5) - 2.0f;
        ck_assert_int_eq(mni_hnsw_insert(h, 2, w), MN_OK);
        struct mni_hit out[2];
        size_t n;
        ck_assert_int_eq(mni_hnsw_search(h, w, 2, 0, NULL, NULL, out, &n), MN_OK);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(out[0].key, 2);
        ck_assert(fabsf(out[0].score - mni_ip_scalar(w, w, dims[i])) < 1e-3f);
        ck_assert(out[1].score == 0.0f);
        mni_hnsw_free(h);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hnsw");
    TCase *tc = tcase_create("basics");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, xxh64_reference);
    tcase_add_test(tc, arguments);
    tcase_add_test(tc, small_exact);
    tcase_add_test(tc, deterministic);
    suite_add_tcase(s, tc);

    tc = tcase_create("recall");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, shared_setup, shared_teardown);
    tcase_add_test(tc, recall_unfiltered);
    tcase_add_test(tc, recall_filtered);
    tcase_add_test(tc, filter_accepts_nothing);
    tcase_add_test(tc, score_keys_exact);
    tcase_add_test(tc, search_work_stats);
    tcase_add_test(tc, bytes_reported);
    tcase_add_test(tc, keep_pruned_and_small_m);
    tcase_add_test(tc, int8_recall);
    suite_add_tcase(s, tc);

    tc = tcase_create("int8");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, int8_mutations);
    tcase_add_test(tc, int8_save_load);
    tcase_add_test(tc, int8_params);
    suite_add_tcase(s, tc);

    tc = tcase_create("mutations");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, delete_reinsert);
    tcase_add_test(tc, delete_all_and_entry_point);
    tcase_add_test(tc, update_replaces_vector);
    suite_add_tcase(s, tc);

    tc = tcase_create("persistence");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, corrupt_files);
    tcase_add_test(tc, mapped_vectors);
    tcase_add_test(tc, mapped_rows);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, concurrent_insert_search);
    tcase_add_test(tc, mapped_own_while_searching);
    tcase_add_test(tc, concurrent_delete_update_search);
    tcase_add_test(tc, parallel_build);
    tcase_add_test(tc, save_while_writing);
    tcase_add_test(tc, concurrent_saves_one_path);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(suite());
}
