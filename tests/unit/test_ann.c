/*
 * The standalone vector index through the public API only (manushya.h, mn_ann_*): recall@10
 * against exact search on small clustered data, with and without a filter; scores are the raw
 * inner products (no normalisation); delete, update, re-add; multi-threaded add_many; search
 * while adding from other threads; save/load round trip with identical results; bad inputs
 * (dimension, parameters, NULLs, non-finite values: MN_EINVAL and nothing changed), damaged,
 * truncated and foreign files (MN_ECORRUPT), missing files and unwritable paths, each
 * reported with a message by mn_errcode(NULL) and mn_errmsg(NULL).
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manushya.h"
#include "support/harness.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

#define DIM 48
#define NBASE (SANITIZED ? 1500 : 4000)
#define NQ 100
#define K 10
#define NCLUSTERS 40

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double gauss(void)
{
    double u = ((double)(rnd() >> 11) + 1) * 0x1.0p-53, v = (double)(rnd() >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void unit(float *v)
{
    double s = 0;
    for (int i = 0; i < DIM; i++)
        s += (double)v[i] * v[i];
    for (int i = 0; i < DIM; i++)
        v[i] = (float)(v[i] / sqrt(s));
}

static float *base, *queries;
static int64_t *keys;

/* Clustered unit vectors (as embeddings are); keys spread and partly negative. */
static void gen_data(void)
{
    if (base)
        return;
    rng_state = 12345;
    float *centres = th_keep(malloc((size_t)NCLUSTERS * DIM * sizeof(float)));
    base = th_keep(malloc((size_t)NBASE * DIM * sizeof(float)));
    queries = th_keep(malloc((size_t)NQ * DIM * sizeof(float)));
    keys = th_keep(malloc(NBASE * sizeof *keys));
    for (int i = 0; i < NCLUSTERS * DIM; i++)
        centres[i] = (float)gauss();
    for (int c = 0; c < NCLUSTERS; c++)
        unit(centres + c * DIM);
    for (int i = 0; i < NBASE + NQ; i++) {
        float *v = i < NBASE ? base + (size_t)i * DIM : queries + (size_t)(i - NBASE) * DIM;
        const float *c = centres + (rnd() % NCLUSTERS) * DIM;
        for (int j = 0; j < DIM; j++)
            v[j] = (float)(c[j] + 0.15 * gauss());
        unit(v);
    }
    for (int i = 0; i < NBASE; i++)
        keys[i] = (int64_t)i * 7919 - 1000000;
}

static double dot(const float *a, const float *b)
{
    double s = 0;
    for (int i = 0; i < DIM; i++)
        s += (double)a[i] * b[i];
    return s;
}

typedef int (*pass_fn)(int64_t key);

/* Exact top-K keys for q among live rows that pass (NULL: all). Returns how many. */
static size_t exact(const float *q, const unsigned char *live, pass_fn pass, int64_t *out)
{
    double best[K];
    size_t have = 0;
    for (int i = 0; i < NBASE; i++) {
        if ((live && !live[i]) || (pass && !pass(keys[i])))
            continue;
        double s = dot(q, base + (size_t)i * DIM);
        if (have == K && s <= best[K - 1])
            continue;
        size_t j = have < K ? have++ : K - 1;
        while (j > 0 && s > best[j - 1]) {
            best[j] = best[j - 1];
            out[j] = out[j - 1];
            j--;
        }
        best[j] = s;
        out[j] = keys[i];
    }
    return have;
}

static int pass_third(int64_t key)
{
    return ((uint64_t)key * 0x9E3779B97F4A7C15ULL >> 60) < 5; /* about 5/16 of the keys */
}

static int accept_third(void *ctx, int64_t key)
{
    (*(size_t *)ctx)++;
    return pass_third(key);
}

/* Mean recall@K over the queries, checking every hit passes and scores descend. */
static double recall(const mn_ann *a, int ef, const unsigned char *live, pass_fn pass)
{
    double sum = 0;
    for (int qi = 0; qi < NQ; qi++) {
        const float *q = queries + (size_t)qi * DIM;
        int64_t want[K], got[K];
        float sc[K];
        size_t nw = exact(q, live, pass, want), ng = 99, calls = 0;
        int rc = pass ? mn_ann_search_filtered(a, q, K, ef, accept_third, &calls, got, sc, &ng)
                      : mn_ann_search(a, q, K, ef, got, sc, &ng);
        ck_assert_int_eq(rc, MN_OK);
        ck_assert_uint_le(ng, K);
        if (pass)
            ck_assert_uint_gt(calls, 0);
        size_t hit = 0;
        for (size_t i = 0; i < ng; i++) {
            if (pass)
                ck_assert(pass(got[i]));
            if (i)
                ck_assert(sc[i] <= sc[i - 1]);
            for (size_t j = 0; j < nw; j++)
                hit += got[i] == want[j];
        }
        sum += nw ? (double)hit / (double)nw : 1.0;
    }
    return sum / NQ;
}

static mn_ann *built(int threads)
{
    gen_data();
    mn_ann *a = NULL;
    ck_assert_int_eq(mn_ann_create(DIM, NULL, &a), MN_OK);
    ck_assert_int_eq(mn_ann_add_many(a, keys, base, NBASE, threads), MN_OK);
    ck_assert_uint_eq(mn_ann_count(a), NBASE);
    return a;
}

/* ==== tests ================================================================================= */

START_TEST(recall_unfiltered)
{
    mn_ann *a = built(1);
    double r = recall(a, 64, NULL, NULL);
    ck_assert_msg(r >= 0.95, "recall@10 at ef 64: %.3f", r);
    ck_assert_msg(recall(a, 200, NULL, NULL) >= r - 1e-9, "recall fell with a larger ef");
    ck_assert_int_eq(mn_ann_dim(a), DIM);
    size_t bytes = mn_ann_bytes(a);
    ck_assert_uint_gt(bytes, (size_t)NBASE * DIM * sizeof(float));
    ck_assert_uint_lt(bytes, (size_t)NBASE * (DIM * sizeof(float) + 1024));
    mn_ann_free(a);
}
END_TEST

START_TEST(recall_filtered)
{
    mn_ann *a = built(2);
    double r = recall(a, 64, NULL, pass_third);
    ck_assert_msg(r >= 0.95, "filtered recall@10 at ef 64: %.3f", r);
    mn_ann_free(a);
}
END_TEST

static int accept_nothing(void *ctx, int64_t key)
{
    (void)ctx;
    (void)key;
    return 0;
}

START_TEST(filter_accepts_nothing)
{
    mn_ann *a = built(1);
    int64_t got[K];
    size_t n = 99;
    ck_assert_int_eq(mn_ann_search_filtered(a, queries, K, 20, accept_nothing, NULL, got, NULL,
                                            &n),
                     MN_OK);
    ck_assert_uint_eq(n, 0);
    mn_ann_free(a);
}
END_TEST

START_TEST(scores_are_raw_inner_products)
{
    gen_data();
    mn_ann *a = NULL;
    ck_assert_int_eq(mn_ann_create(DIM, NULL, &a), MN_OK);
    float v[DIM], w[DIM];
    for (int i = 0; i < DIM; i++) {
        v[i] = 2.0f * base[i];  /* length 2 */
        w[i] = 0.5f * base[DIM + i];
    }
    ck_assert_int_eq(mn_ann_add(a, 7, v), MN_OK);
    ck_assert_int_eq(mn_ann_add(a, -3, w), MN_OK);
    int64_t got[5];
    float sc[5];
    size_t n = 0;
    /* k above the count: only what there is */
    ck_assert_int_eq(mn_ann_search(a, base, 5, 0, got, sc, &n), MN_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert(got[0] == 7);
    ck_assert_msg(fabs(sc[0] - 2.0) < 1e-4, "score %f: the index must not normalise", sc[0]);
    ck_assert(fabs(sc[1] - 0.5 * dot(base, base + DIM)) < 1e-4);
    /* k = 0: nothing asked, nothing returned */
    n = 9;
    ck_assert_int_eq(mn_ann_search(a, base, 0, 0, NULL, NULL, &n), MN_OK);
    ck_assert_uint_eq(n, 0);
    mn_ann_free(a);
}
END_TEST

START_TEST(empty_index)
{
    mn_ann *a = NULL;
    ck_assert_int_eq(mn_ann_create(3, NULL, &a), MN_OK);
    const float q[3] = {1, 0, 0};
    int64_t got[4];
    size_t n = 9;
    ck_assert_int_eq(mn_ann_search(a, q, 4, 0, got, NULL, &n), MN_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(mn_ann_count(a), 0);
    TH_RC(NULL, mn_ann_delete(a, 1), MN_ENOTFOUND);
    mn_ann_free(a);
}
END_TEST

/* The smallest m with the default ef_construction: an insert chooses its links among up to 64
 * candidates, more than a repair of 2m-link lists ever considers (the heuristic's scratch once
 * had room for the latter only; ASan caught the overflow, found by the index fuzzer). */
START_TEST(small_m_large_ef_construction)
{
    mn_ann *a = NULL;
    const mn_ann_params p = {
        .version = MN_ANN_PARAMS_VERSION, .m = 2, .ef_construction = 64, .seed = 7};
    ck_assert_int_eq(mn_ann_create(4, &p, &a), MN_OK);
    uint64_t s = 1;
    for (int64_t key = 0; key < 300; key++) {
        float v[4];
        for (int j = 0; j < 4; j++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            v[j] = (float)(s >> 40) / (float)(1u << 24) - 0.5f;
        }
        ck_assert_int_eq(mn_ann_add(a, key, v), MN_OK);
    }
    ck_assert_uint_eq(mn_ann_count(a), 300);
    mn_ann_free(a);
}
END_TEST

static int64_t deleted_key;
static int pass_not_deleted(int64_t key)
{
    return key != deleted_key;
}

START_TEST(delete_update_readd)
{
    mn_ann *a = built(1);
    unsigned char *live = th_keep(malloc(NBASE));
    memset(live, 1, NBASE);
    /* each query's own nearest neighbour deleted: never returned again */
    for (int qi = 0; qi < NQ; qi++) {
        int64_t top[K];
        size_t n = 0;
        ck_assert_int_eq(mn_ann_search(a, queries + (size_t)qi * DIM, 1, 40, top, NULL, &n),
                         MN_OK);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(mn_ann_contains(a, top[0]), 1);
        ck_assert_int_eq(mn_ann_delete(a, top[0]), MN_OK);
        ck_assert_int_eq(mn_ann_contains(a, top[0]), 0);
        TH_RC(NULL, mn_ann_delete(a, top[0]), MN_ENOTFOUND);
        live[(top[0] + 1000000) / 7919] = 0;
        deleted_key = top[0];
        ck_assert_int_eq(mn_ann_search(a, queries + (size_t)qi * DIM, K, 40, top, NULL, &n),
                         MN_OK);
        for (size_t i = 0; i < n; i++)
            ck_assert(pass_not_deleted(top[i]));
    }
    /* a third more deleted at random */
    for (int i = 0; i < NBASE; i += 3)
        if (live[i]) {
            ck_assert_int_eq(mn_ann_delete(a, keys[i]), MN_OK);
            live[i] = 0;
        }
    size_t nlive = 0;
    for (int i = 0; i < NBASE; i++)
        nlive += live[i];
    ck_assert_uint_eq(mn_ann_count(a), nlive);
    double r = recall(a, 64, live, NULL);
    ck_assert_msg(r >= 0.95, "recall@10 after deletes: %.3f", r);

    /* add: a present key is MN_EEXISTS; update replaces; deleted keys come back */
    TH_RC(NULL, mn_ann_add(a, keys[1], base + DIM), MN_EEXISTS);
    for (int i = 0; i < NBASE; i++)
        if (!live[i]) {
            ck_assert_int_eq(mn_ann_add(a, keys[i], base + (size_t)i * DIM), MN_OK);
            live[i] = 1;
        }
    ck_assert_uint_eq(mn_ann_count(a), NBASE);
    r = recall(a, 64, NULL, NULL);
    ck_assert_msg(r >= 0.95, "recall@10 after re-adding: %.3f", r);

    /* update moves key 1's vector onto query 0: it becomes query 0's best, score 1 */
    ck_assert_int_eq(mn_ann_update(a, keys[1], queries), MN_OK);
    int64_t top[K];
    float sc[K];
    size_t n = 0;
    ck_assert_int_eq(mn_ann_search(a, queries, K, 40, top, sc, &n), MN_OK);
    ck_assert(n == K && top[0] == keys[1] && fabsf(sc[0] - 1.0f) < 1e-4f);
    ck_assert_uint_eq(mn_ann_count(a), NBASE);
    ck_assert_int_eq(mn_ann_update(a, 424242, queries + DIM), MN_OK); /* absent: added */
    ck_assert_uint_eq(mn_ann_count(a), NBASE + 1);
    mn_ann_free(a);
}
END_TEST

START_TEST(add_many_duplicates)
{
    gen_data();
    mn_ann *a = NULL;
    ck_assert_int_eq(mn_ann_create(DIM, NULL, &a), MN_OK);
    int64_t k2[4] = {1, 2, 3, 2};
    TH_RC(NULL, mn_ann_add_many(a, k2, base, 4, 1), MN_EEXISTS);
    ck_assert_uint_eq(mn_ann_count(a), 3); /* rows before the failure stay */
    ck_assert_int_eq(mn_ann_add_many(a, k2, base, 0, 1), MN_OK);
    ck_assert_int_eq(mn_ann_add_many(a, NULL, NULL, 0, 4), MN_OK);
    mn_ann_free(a);
}
END_TEST

struct reader {
    const mn_ann *a;
    int *stop;
    int errors;
    size_t searches;
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    int64_t got[K];
    for (size_t i = 0; !__atomic_load_n(r->stop, __ATOMIC_ACQUIRE) || i < 10; i++) {
        size_t n;
        if (mn_ann_search(r->a, queries + (i % NQ) * DIM, K, 32, got, NULL, &n) != MN_OK)
            r->errors++;
        r->searches++;
    }
    return NULL;
}

START_TEST(search_while_adding)
{
    gen_data();
    mn_ann *a = NULL;
    ck_assert_int_eq(mn_ann_create(DIM, NULL, &a), MN_OK);
    int stop = 0;
    struct reader rd[2] = {{a, &stop, 0, 0}, {a, &stop, 0, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, reader_main, &rd[i]), 0);
    int n = SANITIZED ? 800 : NBASE;
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(mn_ann_add(a, keys[i], base + (size_t)i * DIM), MN_OK);
    for (int i = 0; i < n; i += 4)
        ck_assert_int_eq(mn_ann_delete(a, keys[i]), MN_OK);
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(rd[i].errors, 0);
    }
    ck_assert_uint_eq(mn_ann_count(a), (size_t)(n - (n + 3) / 4));
    mn_ann_free(a);
}
END_TEST

START_TEST(save_load_round_trip)
{
    mn_ann *a = built(2);
    for (int i = 0; i < NBASE; i += 5)
        ck_assert_int_eq(mn_ann_delete(a, keys[i]), MN_OK);
    const char *path = th_tmppath("index.ann");
    ck_assert_msg(mn_ann_save(a, path) == MN_OK, "%s", mn_errmsg(NULL));
    ck_assert_int_eq(th_tmp_leftovers(path), 0);
    mn_ann *b = NULL;
    ck_assert_msg(mn_ann_load(path, &b) == MN_OK, "%s", mn_errmsg(NULL));
    ck_assert_uint_eq(mn_ann_count(b), mn_ann_count(a));
    ck_assert_int_eq(mn_ann_dim(b), DIM);
    for (int qi = 0; qi < NQ; qi++) {
        int64_t ga[K], gb[K];
        float sa[K], sb[K];
        size_t na = 0, nb = 0;
        ck_assert_int_eq(mn_ann_search(a, queries + (size_t)qi * DIM, K, 50, ga, sa, &na), MN_OK);
        ck_assert_int_eq(mn_ann_search(b, queries + (size_t)qi * DIM, K, 50, gb, sb, &nb), MN_OK);
        ck_assert_uint_eq(na, nb);
        ck_assert(memcmp(ga, gb, na * sizeof *ga) == 0);
        ck_assert(memcmp(sa, sb, na * sizeof *sa) == 0);
    }
    /* canonical: saving the loaded index gives the same bytes */
    const char *path2 = th_tmppath("again.ann");
    ck_assert_int_eq(mn_ann_save(b, path2), MN_OK);
    ck_assert(th_file_hash(path) == th_file_hash(path2));
    /* the loaded index takes writes */
    ck_assert_int_eq(mn_ann_add(b, keys[0], base), MN_OK);
    ck_assert_uint_eq(mn_ann_count(b), mn_ann_count(a) + 1);
    mn_ann_free(a);
    mn_ann_free(b);
}
END_TEST

/* The same hits and scores, bit for bit, from a and b for every query at ef 50. */
static void same_answers(const mn_ann *a, const mn_ann *b)
{
    for (int qi = 0; qi < NQ; qi++) {
        const float *q = queries + (size_t)qi * DIM;
        int64_t ga[K], gb[K];
        float sa[K], sb[K];
        size_t na = 0, nb = 0;
        ck_assert_int_eq(mn_ann_search(a, q, K, 50, ga, sa, &na), MN_OK);
        ck_assert_int_eq(mn_ann_search(b, q, K, 50, gb, sb, &nb), MN_OK);
        ck_assert_uint_eq(na, nb);
        ck_assert(memcmp(ga, gb, na * sizeof *ga) == 0);
        ck_assert(memcmp(sa, sb, na * sizeof *sa) == 0);
    }
}

/* MN_ANN_INT8 through the public calls: recall at ef 50 as the float tests ask, exact scores,
 * and a save/load that keeps the codes' search (the same answers, bit for bit). */
START_TEST(int8_round_trip)
{
    gen_data();
    const mn_ann_params p = {.version = MN_ANN_PARAMS_VERSION, .quantize = MN_ANN_INT8};
    mn_ann *a = NULL, *b = NULL;
    ck_assert_int_eq(mn_ann_create(DIM, &p, &a), MN_OK);
    ck_assert_int_eq(mn_ann_add_many(a, keys, base, NBASE, 2), MN_OK);
    const char *path = th_tmppath("int8.ann");
    ck_assert_msg(mn_ann_save(a, path) == MN_OK, "%s", mn_errmsg(NULL));
    ck_assert_msg(mn_ann_load(path, &b) == MN_OK, "%s", mn_errmsg(NULL));
    same_answers(a, b);
    for (int qi = 0; qi < NQ; qi++) {
        const float *q = queries + (size_t)qi * DIM;
        int64_t got[K];
        float sc[K];
        size_t n = 0;
        ck_assert_int_eq(mn_ann_search(b, q, K, 50, got, sc, &n), MN_OK);
        for (size_t j = 0; j < n; j++) {
            double s = dot(q, base + (size_t)((got[j] + 1000000) / 7919) * DIM);
            ck_assert_msg(fabs(s - sc[j]) < 1e-4, "score %g vs %g", sc[j], s);
        }
    }
    double r = recall(b, 50, NULL, NULL);
    printf("ann int8: recall@10 %.4f at ef 50\n", r);
    ck_assert_msg(r >= 0.95, "recall %.4f", r);
    mn_ann_free(a);
    mn_ann_free(b);
}
END_TEST

/* MN_ANN_LOAD_MAP: the same answers as the copied load, without the floats in mn_ann_bytes;
 * saving over the mapped file is safe (rename); the first write copies the floats (bytes
 * grow to the copied index's), and writes then work as on any index. Unknown flags are
 * MN_EINVAL. Floats or links damaged under a valid structure load mapped (their checksums
 * are not read at load), and the first write refuses them with MN_ECORRUPT, changing
 * nothing. */
START_TEST(mapped_load)
{
    gen_data();
    const mn_ann_params p = {.version = MN_ANN_PARAMS_VERSION, .quantize = MN_ANN_INT8};
    mn_ann *a = NULL, *copied = NULL, *mapped = NULL;
    ck_assert_int_eq(mn_ann_create(DIM, &p, &a), MN_OK);
    ck_assert_int_eq(mn_ann_add_many(a, keys, base, NBASE, 2), MN_OK);
    const char *path = th_tmppath("mapped.ann");
    ck_assert_int_eq(mn_ann_save(a, path), MN_OK);
    ck_assert_msg(mn_ann_load_v2(path, 0, &copied) == MN_OK, "%s", mn_errmsg(NULL));
    ck_assert_msg(mn_ann_load_v2(path, MN_ANN_LOAD_MAP, &mapped) == MN_OK, "%s",
                  mn_errmsg(NULL));
    same_answers(copied, mapped);
    same_answers(a, mapped);
    size_t floats = (size_t)NBASE * DIM * sizeof(float);
    ck_assert_uint_ge(mn_ann_bytes(copied), mn_ann_bytes(mapped) + floats);
    /* saved over by rename: the mapped index still reads the old file's pages */
    ck_assert_int_eq(mn_ann_delete(copied, keys[1]), MN_OK);
    ck_assert_int_eq(mn_ann_save(copied, path), MN_OK);
    ck_assert_int_eq(mn_ann_contains(mapped, keys[1]), 1);
    same_answers(a, mapped);
    /* the first write makes the floats the index's own, then it behaves as any index */
    ck_assert_int_eq(mn_ann_delete(mapped, keys[1]), MN_OK);
    ck_assert_uint_ge(mn_ann_bytes(mapped) + 4096, mn_ann_bytes(copied));
    same_answers(copied, mapped);
    ck_assert_int_eq(mn_ann_add(mapped, keys[1], base + DIM), MN_OK);
    ck_assert_int_eq(mn_ann_update(mapped, keys[2], base + 3 * DIM), MN_OK);
    ck_assert_int_eq(mn_ann_add_many(mapped, (const int64_t[]){-5}, base, 1, 1), MN_OK);
    ck_assert_uint_eq(mn_ann_count(mapped), NBASE + 1);
    int64_t got[K];
    size_t n = 0;
    ck_assert_int_eq(mn_ann_search(mapped, base + 3 * DIM, 1, 50, got, NULL, &n), MN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(got[0] == keys[2] || got[0] == keys[3]); /* the same vector under two keys */
    mn_ann_free(mapped);
    mapped = NULL;

    mn_ann *x = (mn_ann *)&x;
    TH_RC(NULL, mn_ann_load_v2(path, 0x2u, &x), MN_EINVAL);
    ck_assert_ptr_null(x);
    ck_assert_msg(th_has_word(mn_errmsg(NULL), "MN_ANN_LOAD_MAP"), "%s", mn_errmsg(NULL));

    /* one float flipped (the first vector's first byte: the section starts 64 KiB-aligned) */
    ck_assert_int_eq(mn_ann_save(a, path), MN_OK);
    size_t len;
    unsigned char *f = (unsigned char *)th_read_file(path, &len);
    ck_assert_ptr_nonnull(f);
    f[65536] ^= 0x01;
    th_write_file(path, f, len);
    TH_RC(NULL, mn_ann_load_v2(path, 0, &x), MN_ECORRUPT);
    ck_assert_msg(mn_ann_load_v2(path, MN_ANN_LOAD_MAP, &mapped) == MN_OK, "%s",
                  mn_errmsg(NULL));
    TH_RC(NULL, mn_ann_add(mapped, -7, base), MN_ECORRUPT);
    ck_assert_msg(th_has_word(mn_errmsg(NULL), "checksum"), "%s", mn_errmsg(NULL));
    ck_assert_int_eq(mn_ann_contains(mapped, -7), 0);
    ck_assert_uint_eq(mn_ann_count(mapped), NBASE);
    mn_ann_free(mapped);

    /* one byte of the links flipped (the file's last: an upper list, or the last node row):
     * refused by a copying load; a mapped load searches it, and the first call that needs
     * the checked index (a key lookup, a write, a save) refuses it, changing nothing */
    ck_assert_int_eq(mn_ann_save(a, path), MN_OK);
    f = (unsigned char *)th_read_file(path, &len);
    ck_assert_ptr_nonnull(f);
    f[len - 5] ^= 0x10;
    th_write_file(path, f, len);
    TH_RC(NULL, mn_ann_load_v2(path, 0, &x), MN_ECORRUPT);
    ck_assert_msg(mn_ann_load_v2(path, MN_ANN_LOAD_MAP, &mapped) == MN_OK, "%s",
                  mn_errmsg(NULL));
    ck_assert_int_eq(mn_ann_search(mapped, base, K, 0, got, NULL, &n), MN_OK);
    ck_assert_uint_eq(n, K);
    ck_assert_int_eq(mn_ann_contains(mapped, keys[0]), 0);
    ck_assert_msg(th_has_word(mn_errmsg(NULL), "mn_ann_contains"), "%s", mn_errmsg(NULL));
    TH_RC(NULL, mn_ann_add(mapped, -7, base), MN_ECORRUPT);
    ck_assert_msg(th_has_word(mn_errmsg(NULL), "checksums"), "%s", mn_errmsg(NULL));
    TH_RC(NULL, mn_ann_delete(mapped, keys[0]), MN_ECORRUPT);
    TH_RC(NULL, mn_ann_save(mapped, th_tmppath("never.ann")), MN_ECORRUPT);
    ck_assert_int_eq(th_file_exists(th_tmppath("never.ann")), 0);
    ck_assert_uint_eq(mn_ann_count(mapped), NBASE);
    ck_assert_int_eq(mn_ann_search(mapped, base, K, 0, got, NULL, &n), MN_OK);
    ck_assert_uint_eq(n, K);
    mn_ann_free(mapped);
    mn_ann_free(copied);
    mn_ann_free(a);
}
END_TEST

static int load_rc(const char *path, const void *data, size_t len)
{
    th_write_file(path, data, len);
    mn_ann *x = (mn_ann *)&x; /* must be reset to NULL on failure */
    int rc = mn_ann_load(path, &x);
    if (rc == MN_OK)
        mn_ann_free(x);
    else
        ck_assert_ptr_null(x);
    return rc;
}

START_TEST(corrupt_files)
{
    gen_data();
    mn_ann *a = NULL;
    ck_assert_int_eq(mn_ann_create(DIM, NULL, &a), MN_OK);
    ck_assert_int_eq(mn_ann_add_many(a, keys, base, 300, 1), MN_OK);
    const char *path = th_tmppath("good.ann"), *bad = th_tmppath("bad.ann");
    ck_assert_int_eq(mn_ann_save(a, path), MN_OK);
    mn_ann_free(a);
    size_t len;
    unsigned char *good = (unsigned char *)th_read_file(path, &len);
    ck_assert_ptr_nonnull(good);
    unsigned char *f = th_keep(malloc(len + 1));
    const char *err;
    ck_assert_int_eq(load_rc(bad, good, len), MN_OK);
    for (size_t pos = 0; pos < len; pos += pos < 128 ? 7 : 1 + len / 50) {
        memcpy(f, good, len);
        f[pos] ^= 0x10;
        ck_assert_msg(load_rc(bad, f, len) == MN_ECORRUPT, "flip at %zu", pos);
        err = mn_errmsg(NULL);
        ck_assert_msg(strstr(err, bad) && th_has_word(err, "damaged"), "message: %s", err);
    }
    static const size_t cuts[] = {0, 1, 64, 127, 128, 129};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++)
        ck_assert_int_eq(load_rc(bad, good, cuts[i]), MN_ECORRUPT);
    ck_assert_int_eq(load_rc(bad, good, len / 2), MN_ECORRUPT);
    ck_assert_int_eq(load_rc(bad, good, len - 1), MN_ECORRUPT);
    memcpy(f, good, len);
    f[len] = 0;
    ck_assert_int_eq(load_rc(bad, f, len + 1), MN_ECORRUPT);
    th_random_bytes(f, len, 3);
    ck_assert_int_eq(load_rc(bad, f, len), MN_ECORRUPT);
    ck_assert_int_eq(load_rc(bad, "not an index\n", 13), MN_ECORRUPT);

    /* missing file, a directory, an unwritable path */
    mn_ann *x = NULL;
    TH_RC(NULL, mn_ann_load(th_tmppath("missing.ann"), &x), MN_ENOTFOUND);
    err = mn_errmsg(NULL);
    ck_assert_msg(th_has_word(err, "does not exist"), "message: %s", err);
    int rc = mn_ann_load(th_tmpdir(), &x);
    ck_assert_msg(rc == MN_EBACKEND || rc == MN_ECORRUPT, "directory: rc %d", rc);
    ck_assert_ptr_null(x);
    ck_assert_int_eq(mn_ann_create(DIM, NULL, &a), MN_OK);
    const char *nodir = th_fmt("%s/no/such/dir/x.ann", th_tmpdir());
    TH_RC(NULL, mn_ann_save(a, nodir), MN_EBACKEND);
    err = mn_errmsg(NULL);
    ck_assert_msg(strstr(err, nodir) && th_has_word(err, "No such file"), "message: %s", err);
    mn_ann_free(a);
}
END_TEST

START_TEST(bad_inputs)
{
    gen_data();
    mn_ann *a = (mn_ann *)&a;
    /* dimension and parameters */
    static const int dims[] = {0, -1, 65537, INT32_MIN};
    for (size_t i = 0; i < sizeof dims / sizeof *dims; i++) {
        TH_RC(NULL, mn_ann_create(dims[i], NULL, &a), MN_EINVAL);
        ck_assert_ptr_null(a);
        ck_assert_msg(th_has_word(mn_errmsg(NULL), "dimension"), "message: %s", mn_errmsg(NULL));
    }
    static const mn_ann_params bad[] = {
#define P(a, b, c) {.version = MN_ANN_PARAMS_VERSION, .m = a, .ef_construction = b, .ef_search = c}
        P(1, 0, 0),      P(101, 0, 0), P(-2, 0, 0),    P(0, -1, 0),
        P(0, 100001, 0), P(0, 0, -5),  P(0, 0, 100001)};
#undef P
    static const char *const names[] = {"m", "m", "m", "ef_construction", "ef_construction",
                                        "ef_search", "ef_search"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        TH_RC(NULL, mn_ann_create(DIM, &bad[i], &a), MN_EINVAL);
        ck_assert_msg(strstr(mn_errmsg(NULL), th_fmt("mn_ann_params.%s is", names[i])),
                      "message: %s", mn_errmsg(NULL));
    }
    TH_RC(NULL, mn_ann_create(DIM, NULL, NULL), MN_EINVAL);
    ck_assert_int_eq(mn_ann_create(DIM, NULL, &a), MN_OK);
    mn_ann_params ok = {.version = MN_ANN_PARAMS_VERSION,
                        .m = 8,
                        .ef_construction = 20,
                        .ef_search = 10,
                        .seed = 99};
    mn_ann *b = NULL;
    ck_assert_int_eq(mn_ann_create(DIM, &ok, &b), MN_OK);
    mn_ann_free(b);
    /* quantisation (since 1.5): an unknown mode, a rerank out of range or without codes */
    mn_ann_params q = ok;
    q.quantize = 2;
    TH_RC(NULL, mn_ann_create(DIM, &q, &b), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(NULL), "mn_ann_params.quantize is 2: it must be "
                                          "MN_ANN_FLOAT32 (0) or MN_ANN_INT8 (1)"),
                  "message: %s", mn_errmsg(NULL));
    q.quantize = MN_ANN_INT8;
    q.rerank = -1;
    TH_RC(NULL, mn_ann_create(DIM, &q, &b), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(NULL), "mn_ann_params.rerank is -1"), "message: %s",
                  mn_errmsg(NULL));
    q.rerank = 100001;
    TH_RC(NULL, mn_ann_create(DIM, &q, &b), MN_EINVAL);
    q.quantize = MN_ANN_FLOAT32;
    q.rerank = 20;
    TH_RC(NULL, mn_ann_create(DIM, &q, &b), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(NULL), "rerank applies to MN_ANN_INT8 only"), "message: %s",
                  mn_errmsg(NULL));
    ck_assert_ptr_null(b);
    /* a version-1 struct (before quantize) is a float index */
    mn_ann_params v1;
    ck_assert_int_eq(mn_ann_params_init(&v1, 1), MN_OK);
    ck_assert_int_eq(mn_ann_create(DIM, &v1, &b), MN_OK);
    mn_ann_free(b);

    /* NULLs */
    float v[DIM];
    memcpy(v, base, sizeof v);
    int64_t got[K];
    size_t n = 7;
    TH_RC(NULL, mn_ann_add(NULL, 1, v), MN_EINVAL);
    TH_RC(NULL, mn_ann_add(a, 1, NULL), MN_EINVAL);
    TH_RC(NULL, mn_ann_update(NULL, 1, v), MN_EINVAL);
    TH_RC(NULL, mn_ann_update(a, 1, NULL), MN_EINVAL);
    TH_RC(NULL, mn_ann_add_many(NULL, keys, base, 1, 1), MN_EINVAL);
    TH_RC(NULL, mn_ann_add_many(a, NULL, base, 1, 1), MN_EINVAL);
    TH_RC(NULL, mn_ann_add_many(a, keys, NULL, 1, 1), MN_EINVAL);
    TH_RC(NULL, mn_ann_delete(NULL, 1), MN_EINVAL);
    TH_RC(NULL, mn_ann_search(NULL, v, K, 0, got, NULL, &n), MN_EINVAL);
    ck_assert_uint_eq(n, 0);
    TH_RC(NULL, mn_ann_search(a, NULL, K, 0, got, NULL, &n), MN_EINVAL);
    TH_RC(NULL, mn_ann_search(a, v, K, 0, NULL, NULL, &n), MN_EINVAL);
    TH_RC(NULL, mn_ann_search(a, v, K, 0, got, NULL, NULL), MN_EINVAL);
    TH_RC(NULL, mn_ann_save(NULL, "x"), MN_EINVAL);
    TH_RC(NULL, mn_ann_save(a, NULL), MN_EINVAL);
    TH_RC(NULL, mn_ann_save(a, ""), MN_EINVAL);
    TH_RC(NULL, mn_ann_load(NULL, &b), MN_EINVAL);
    TH_RC(NULL, mn_ann_load("x", NULL), MN_EINVAL);
    ck_assert_uint_eq(mn_ann_count(NULL), 0);
    ck_assert_uint_eq(mn_ann_bytes(NULL), 0);
    ck_assert_int_eq(mn_ann_dim(NULL), 0);
    ck_assert_int_eq(mn_ann_contains(NULL, 1), 0);
    mn_ann_free(NULL);

    /* non-finite values: MN_EINVAL and nothing changed */
    ck_assert_int_eq(mn_ann_add(a, 1, v), MN_OK);
    const float bads[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        float w[DIM];
        memcpy(w, base + DIM, sizeof w);
        w[DIM - 1 - (int)i] = bads[i];
        TH_RC(NULL, mn_ann_add(a, 2, w), MN_EINVAL);
        TH_RC(NULL, mn_ann_update(a, 1, w), MN_EINVAL);
        TH_RC(NULL, mn_ann_search(a, w, K, 0, got, NULL, &n), MN_EINVAL);
        ck_assert_int_eq(mn_ann_contains(a, 2), 0);
    }
    float *many = th_keep(malloc(50 * DIM * sizeof *many));
    memcpy(many, base, 50 * DIM * sizeof *many);
    many[49 * DIM + 3] = NAN; /* the last row: the rows before it must not be added either */
    TH_RC(NULL, mn_ann_add_many(a, keys + 100, many, 50, 2), MN_EINVAL);
    ck_assert_uint_eq(mn_ann_count(a), 1);
    /* key 1's vector is unchanged */
    ck_assert_int_eq(mn_ann_search(a, v, 1, 0, got, NULL, &n), MN_OK);
    ck_assert(n == 1 && got[0] == 1);
    /* the failure stays reported after calls that succeed, as errno does */
    ck_assert_int_eq(mn_errcode(NULL), MN_EINVAL);
    ck_assert_msg(th_has_word(mn_errmsg(NULL), "not a finite number"), "%s", mn_errmsg(NULL));
    mn_ann_free(a);
}
END_TEST

/* Every mn_ann failure names what was wrong through mn_errmsg(NULL). */
START_TEST(failures_explained)
{
    gen_data();
    mn_ann *a = NULL;
    ck_assert_int_eq(mn_ann_create(DIM, NULL, &a), MN_OK);
    ck_assert_int_eq(mn_ann_add(a, 42, base), MN_OK);
    TH_RC(NULL, mn_ann_add(a, 42, base), MN_EEXISTS);
    ck_assert_msg(strstr(mn_errmsg(NULL), "adding key 42") &&
                  strstr(mn_errmsg(NULL), "mn_ann_update"), "%s", mn_errmsg(NULL));
    TH_RC(NULL, mn_ann_delete(a, 7), MN_ENOTFOUND);
    ck_assert_msg(strstr(mn_errmsg(NULL), "deleting key 7"), "%s", mn_errmsg(NULL));
    int64_t two[] = {1, 1};
    TH_RC(NULL, mn_ann_add_many(a, two, base, 2, 1), MN_EEXISTS);
    ck_assert_msg(strstr(mn_errmsg(NULL), "repeated"), "%s", mn_errmsg(NULL));
    TH_RC(NULL, mn_ann_add(NULL, 1, base), MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(NULL), "mn_ann_add: the index is NULL"), "%s",
                  mn_errmsg(NULL));
    mn_ann_free(a);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ann");
    TCase *tc = tcase_create("search");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, recall_unfiltered);
    tcase_add_test(tc, recall_filtered);
    tcase_add_test(tc, filter_accepts_nothing);
    tcase_add_test(tc, scores_are_raw_inner_products);
    tcase_add_test(tc, empty_index);
    tcase_add_test(tc, small_m_large_ef_construction);
    suite_add_tcase(s, tc);

    tc = tcase_create("mutations");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, delete_update_readd);
    tcase_add_test(tc, add_many_duplicates);
    tcase_add_test(tc, search_while_adding);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, save_load_round_trip);
    tcase_add_test(tc, int8_round_trip);
    tcase_add_test(tc, mapped_load);
    tcase_add_test(tc, corrupt_files);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, bad_inputs);
    tcase_add_test(tc, failures_explained);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(suite());
}
