/* Distance kernels: every kernel this CPU can run (scalar, AVX2+FMA, AVX-512F) agrees with a
 * double-precision reference and with the scalar kernel within float rounding, on every
 * dimension 1..67, 128, 384, 784 and 1536, with a at float offsets and b at any byte offset (unaligned);
 * dispatch picks the best level the CPU has, once, from any number of threads, and obeys
 * MN_SIMD. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/distance.h"
#include "manushya.h"
#include "support/harness.h"

#define MAXD 1536

static uint64_t rng_state = 88172645463325252ULL;

static double urand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}

static void fill(float *v, int n, double scale)
{
    for (int i = 0; i < n; i++)
        v[i] = (float)((urand() * 2.0 - 1.0) * scale);
}

/* Reference sums in double, with the magnitude sum that bounds float rounding error. */
static double ref_ip(const float *a, const float *b, int d, double *mag)
{
    double s = 0, m = 0;
    for (int i = 0; i < d; i++) {
        s += (double)a[i] * b[i];
        m += fabs((double)a[i] * b[i]);
    }
    *mag = m;
    return s;
}

static int dims[81];
static int ndims;

static void init_dims(void)
{
    ndims = 0;
    for (int d = 1; d <= 67; d++)
        dims[ndims++] = d;
    dims[ndims++] = 128;
    dims[ndims++] = 384;
    dims[ndims++] = 784;
    dims[ndims++] = 1536;
}

static const char *level_name(int level)
{
    return level == MNI_SIMD_AVX512 ? "avx512" : level == MNI_SIMD_AVX2 ? "avx2" : "scalar";
}

/* The int8 kernel is exact: equal to the integer sum at every dimension and byte offset, also at
 * the extremes (all -127 times all 127, the largest magnitude, and -127 times -127). */
static void check_dot8(const struct mni_dist_ops *ops)
{
    int8_t *abuf = malloc(MAXD + 64), *bbuf = malloc(MAXD + 64);
    ck_assert(abuf && bbuf);
    for (int di = 0; di < ndims; di++) {
        int d = dims[di];
        for (int off = 0; off < 8; off++) {
            int8_t *a = abuf + off, *b = bbuf + 7 - off;
            int64_t want = 0;
            for (int i = 0; i < d; i++) {
                a[i] = (int8_t)((i * 37 + d + off) % 255 - 127);
                b[i] = (int8_t)((i * 11 + 3 * d) % 255 - 127);
                want += (int64_t)a[i] * b[i];
            }
            ck_assert_msg(ops->dot8(a, b, d) == want, "%s dot8 d=%d off=%d: %d vs %lld",
                          ops->name, d, off, (int)ops->dot8(a, b, d), (long long)want);
            memset(a, -127, (size_t)d);
            memset(b, 127, (size_t)d);
            ck_assert_int_eq(ops->dot8(a, b, d), -16129 * d);
            /* the largest positive pairs (the AVX2 kernel sums pairs in int16 lanes) */
            memset(b, -127, (size_t)d);
            ck_assert_int_eq(ops->dot8(a, b, d), 16129 * d);
        }
    }
    free(abuf);
    free(bbuf);
}

/* Checks one level's kernels; returns 0 when the CPU cannot run it. */
static int check_level(int level)
{
    const struct mni_dist_ops *ops = mni_dist_ops_level(level);
    if (!ops)
        return 0;
    ck_assert_int_eq(ops->level, level);
    ck_assert_str_eq(ops->name, level_name(level));
    const struct mni_dist_ops *sc = mni_dist_ops_level(MNI_SIMD_SCALAR);
    ck_assert_ptr_nonnull(sc);
    /* room for offsets: a at +0..3 floats (alignment of float, not of a vector), b at any byte */
    float *abuf = aligned_alloc(64, (MAXD + 16) * sizeof(float));
    unsigned char *bbuf = aligned_alloc(64, (MAXD + 16) * sizeof(float));
    float *bf = malloc(MAXD * sizeof(float));
    ck_assert(abuf && bbuf && bf);
    init_dims();
    for (int di = 0; di < ndims; di++) {
        int d = dims[di];
        for (int ao = 0; ao < 4; ao++) {
            for (int bo = 0; bo < 8; bo++) {
                float *a = abuf + ao;
                fill(a, d, 1.0);
                fill(bf, d, di % 2 ? 1.0 : 1e-3);
                unsigned char *b = bbuf + bo;
                memcpy(b, bf, (size_t)d * sizeof(float));
                double mag;
                double r = ref_ip(a, bf, d, &mag);
                float k = ops->ip(a, b, d), s = sc->ip(a, b, d);
                double tol = 1e-5 * mag + 1e-30;
                ck_assert_msg(fabs(k - r) <= tol, "%s ip d=%d ao=%d bo=%d: %.9g vs %.9g",
                              ops->name, d, ao, bo, k, r);
                ck_assert_msg(fabs(k - s) <= 2 * tol, "%s ip vs scalar d=%d: %.9g vs %.9g",
                              ops->name, d, k, s);
                /* the same inputs give the same bits (determinism) */
                ck_assert(ops->ip(a, b, d) == ops->ip(a, b, d));
            }
        }
    }
    free(abuf);
    free(bbuf);
    free(bf);
    check_dot8(ops);
    return 1;
}

/* Codes within -127 .. 127, the largest magnitude at +-127, each value within half a step of
 * scale * code; a zero vector codes as zeros with scale 0. */
START_TEST(quantize_i8)
{
    enum { D = 100 };
    float v[D];
    int8_t c[D];
    fill(v, D, 1.0);
    v[17] = -3.0f; /* the largest magnitude */
    float scale = mni_quantize_i8(v, D, c);
    ck_assert(fabsf(scale - 3.0f / 127.0f) < 1e-7f);
    ck_assert_int_eq(c[17], -127);
    for (int i = 0; i < D; i++) {
        ck_assert(c[i] >= -127 && c[i] <= 127);
        ck_assert_msg(fabsf(v[i] - scale * (float)c[i]) <= scale * 0.5f + 1e-6f, "i=%d", i);
    }
    memset(v, 0, sizeof v);
    memset(c, 1, sizeof c);
    ck_assert(mni_quantize_i8(v, D, c) == 0.0f);
    for (int i = 0; i < D; i++)
        ck_assert_int_eq(c[i], 0);
}
END_TEST

/* Every level codes a vector exactly as the scalar quantiser does, bit for bit, and writes the
 * same sign code (the graph's codes, the block's and a query's are compared with one another):
 * at every dimension and float offset, on random values of two scales, and on the awkward
 * ones: halves (x.5 steps exactly, where rounding goes away from zero), zeros of both signs,
 * NaNs, infinities, denormals. */
START_TEST(codes_match_scalar)
{
    init_dims();
    float *buf = malloc((MAXD + 4) * sizeof(float));
    int8_t *want = malloc(MAXD), *got = malloc(MAXD);
    uint64_t wbits[MNI_SIGN_WORDS(MAXD)], gbits[MNI_SIGN_WORDS(MAXD)];
    ck_assert(buf && want && got);
    const float odd[] = { 0.5f, -0.5f, 1.5f, -1.5f, 126.5f, -126.5f, 0.0f, -0.0f, NAN, -NAN,
                          INFINITY, -INFINITY, 1e-40f, -1e-40f, 127.0f, -127.0f };
    int checked = 0;
    for (int level = MNI_SIMD_SCALAR; level <= MNI_SIMD_AVX512; level++) {
        const struct mni_dist_ops *ops = mni_dist_ops_level(level);
        if (!ops)
            continue;
        for (int di = 0; di < ndims; di++) {
            int d = dims[di];
            for (int round = 0; round < 8; round++) {
                float *v = buf + round % 4;
                fill(v, d, round % 2 ? 1.0 : 1e-3);
                if (round >= 2) { /* at a scale of 1 (127 the largest), halves are x.5 steps */
                    for (int i = 0; i < d; i++)
                        v[i] = (float)(int)(v[i] * 254.0f) / 2.0f;
                    v[0] = round % 2 ? 127.0f : -127.0f;
                }
                if (round >= 4)
                    for (int i = round; i < d; i += 5)
                        v[i] = odd[(i + round) % (round >= 6 ? 16 : 8)];
                float ws = mni_quantize_i8_scalar(v, d, want);
                float gs = ops->quantize(v, d, got);
                ck_assert_msg(memcmp(&ws, &gs, sizeof ws) == 0, "%s scale d=%d round %d: %a vs %a",
                              ops->name, d, round, ws, gs);
                ck_assert_msg(memcmp(want, got, (size_t)d) == 0, "%s code d=%d round %d",
                              ops->name, d, round);
                mni_sign_bits_scalar(v, d, wbits);
                ops->sign_bits(v, d, gbits);
                ck_assert_msg(memcmp(wbits, gbits, (size_t)MNI_SIGN_WORDS(d) * 8) == 0,
                              "%s sign code d=%d round %d", ops->name, d, round);
                checked++;
            }
        }
    }
    ck_assert_int_gt(checked, 0);
    free(buf);
    free(want);
    free(got);
}
END_TEST

START_TEST(scalar_matches_reference)
{
    ck_assert(check_level(MNI_SIMD_SCALAR));
}
END_TEST

START_TEST(avx2_matches_scalar)
{
    if (!check_level(MNI_SIMD_AVX2))
        printf("distance: AVX2+FMA not on this CPU, kernel not run\n");
}
END_TEST

START_TEST(avx512_matches_scalar)
{
    if (!check_level(MNI_SIMD_AVX512))
        printf("distance: AVX-512F not on this CPU, kernel not run\n");
}
END_TEST

/* The kernels read exactly dim floats: a vector at the very end of an allocation is fine (ASan
 * would catch an over-read) and so is one that starts at an odd byte. */
START_TEST(no_over_read)
{
    init_dims();
    for (int level = MNI_SIMD_SCALAR; level <= MNI_SIMD_AVX512; level++) {
        const struct mni_dist_ops *ops = mni_dist_ops_level(level);
        if (!ops)
            continue;
        for (int di = 0; di < ndims; di++) {
            int d = dims[di];
            float *a = malloc((size_t)d * sizeof(float));
            unsigned char *braw = malloc((size_t)d * sizeof(float) + 3);
            ck_assert(a && braw);
            fill(a, d, 1.0);
            for (int i = 0; i < d; i++) {
                float one = 1.0f;
                memcpy(braw + 3 + (size_t)i * sizeof(float), &one, sizeof one);
            }
            double sum = 0;
            for (int i = 0; i < d; i++)
                sum += a[i];
            float k = ops->ip(a, braw + 3, d);
            ck_assert_msg(fabs(k - sum) <= 1e-5 * d, "%s d=%d", ops->name, d);
            free(a);
            free(braw);
        }
    }
}
END_TEST

/* Sign codes: bit i set for v[i] > 0, the last word's spare bits zero; every level's Hamming
 * kernel counts the differing bits, over whole arrays of codes. */
START_TEST(sign_bits_hamming)
{
    init_dims();
    enum { CODES = 5 };
    for (int di = 0; di < ndims; di++) {
        int d = dims[di], words = MNI_SIGN_WORDS(d);
        float *v = malloc((size_t)d * sizeof(float));
        uint64_t *q = malloc((size_t)words * sizeof *q);
        uint64_t *codes = malloc((size_t)words * CODES * sizeof *codes);
        ck_assert(v && q && codes);
        fill(v, d, 1.0);
        mni_sign_bits(v, d, q);
        for (int i = 0; i < d; i++)
            ck_assert(((q[i / 64] >> (i % 64)) & 1) == (v[i] > 0));
        if (d % 64)
            ck_assert((q[words - 1] >> (d % 64)) == 0);
        int want[CODES];
        for (int c = 0; c < CODES; c++) { /* code c: the signs of the first c * d / 8 flipped */
            for (int i = 0; i < d; i++)
                v[i] = i < c * d / 8 ? -v[i] : v[i];
            mni_sign_bits(v, d, codes + (size_t)c * (size_t)words);
            for (int i = 0; i < d; i++)
                v[i] = i < c * d / 8 ? -v[i] : v[i];
            want[c] = 0;
            for (int i = 0; i < c * d / 8; i++)
                want[c] += v[i] != 0; /* a zero stays unset either way */
        }
        for (int level = MNI_SIMD_SCALAR; level <= MNI_SIMD_AVX512; level++) {
            const struct mni_dist_ops *ops = mni_dist_ops_level(level);
            if (!ops)
                continue;
            uint32_t got[CODES];
            ops->hamming(q, codes, words, CODES, got);
            for (int c = 0; c < CODES; c++)
                ck_assert_msg(got[c] == (uint32_t)want[c], "%s d=%d code %d: %u, want %d",
                              ops->name, d, c, (unsigned)got[c], want[c]);
        }
        free(v);
        free(q);
        free(codes);
    }
}
END_TEST

START_TEST(legacy_kernels_unchanged)
{
    init_dims();
    float *a = malloc(MAXD * sizeof(float)), *b = malloc(MAXD * sizeof(float));
    ck_assert(a && b);
    for (int di = 0; di < ndims; di++) {
        int d = dims[di];
        fill(a, d, 1.0);
        fill(b, d, 1.0);
        double mag, r = ref_ip(a, b, d, &mag);
        ck_assert(fabs(mni_ip_scalar(a, b, d) - r) <= 1e-5 * mag);
        ck_assert(fabs(mni_ip(a, b, d) - r) <= 1e-5 * mag);
    }
    ck_assert(mni_ip_scalar(a, b, 0) == 0.0f);
    ck_assert(mni_ip(a, b, 0) == 0.0f);
    free(a);
    free(b);
}
END_TEST

/* Dispatch matches what /proc/cpuinfo says the CPU has. */
START_TEST(dispatch_matches_cpu)
{
    if (getenv("MN_SIMD"))
        return;
    const struct mni_dist_ops *ops = mni_dist_ops();
    ck_assert_ptr_nonnull(ops);
    int avx2 = 0, fma = 0, avx512 = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[8192];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "flags", 5))
                continue;
            avx2 = strstr(line, " avx2") != NULL;
            fma = strstr(line, " fma") != NULL;
            avx512 = strstr(line, " avx512f") != NULL;
            break;
        }
        fclose(f);
    }
#if defined(__x86_64__)
    int want = avx2 && fma ? (avx512 ? MNI_SIMD_AVX512 : MNI_SIMD_AVX2) : MNI_SIMD_SCALAR;
    ck_assert_msg(ops->level == want, "chose %s, cpuinfo says level %d", ops->name, want);
#endif
    ck_assert_ptr_eq(mni_dist_ops_level(ops->level), ops);
    ck_assert_ptr_null(mni_dist_ops_level(ops->level + 1));
    ck_assert_ptr_null(mni_dist_ops_level(-1));
    printf("distance: dispatch chose %s\n", ops->name);
}
END_TEST

static void *first_call(void *arg)
{
    *(const struct mni_dist_ops **)arg = mni_dist_ops();
    return NULL;
}

/* Each Check test runs in a fresh child: this is the first use, raced from 8 threads. */
START_TEST(dispatch_once_threads)
{
    enum { T = 8 };
    pthread_t t[T];
    const struct mni_dist_ops *got[T];
    for (int i = 0; i < T; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, first_call, &got[i]), 0);
    for (int i = 0; i < T; i++)
        pthread_join(t[i], NULL);
    for (int i = 1; i < T; i++)
        ck_assert_ptr_eq(got[i], got[0]);
    ck_assert_ptr_eq(mni_dist_ops(), got[0]);
}
END_TEST

START_TEST(dispatch_env_cap)
{
    const char *fork = getenv("CK_FORK");
    if (fork && strcmp(fork, "no") == 0)
        return; /* needs a fresh process */
    setenv("MN_SIMD", "scalar", 1);
    ck_assert_int_eq(mni_dist_ops()->level, MNI_SIMD_SCALAR);
    ck_assert_ptr_eq(mni_dist_ops()->ip, mni_ip_scalar);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("distance");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, scalar_matches_reference);
    tcase_add_test(tc, quantize_i8);
    tcase_add_test(tc, codes_match_scalar);
    tcase_add_test(tc, avx2_matches_scalar);
    tcase_add_test(tc, avx512_matches_scalar);
    tcase_add_test(tc, no_over_read);
    tcase_add_test(tc, legacy_kernels_unchanged);
    tcase_add_test(tc, sign_bits_hamming);
    suite_add_tcase(s, tc);
    tc = tcase_create("dispatch");
    tcase_add_test(tc, dispatch_matches_cpu);
    tcase_add_test(tc, dispatch_once_threads);
    tcase_add_test(tc, dispatch_env_cap);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(suite());
}
