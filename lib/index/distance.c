#include "index/distance.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- dispatched kernels ------------------------------------------------------------------- */


/* Scalar reference. Eight independent sums: without -ffast-math the compiler may not reorder a
 * single running sum, and one chain of dependent additions leaves the FPU waiting on latency;
 * eight lanes let it vectorise and pipeline. b is read through memcpy (any address): memcpy of
 * eight floats compiles to one unaligned load, with no misaligned access in the C sense. */
float mni_ip_scalar(const float *a, const void *b, int dim)
{
    const unsigned char *p = b;
    float s[8] = { 0 }, v[8];
    int i = 0;
    for (; i + 8 <= dim; i += 8) {
        memcpy(v, p + (size_t)i * sizeof(float), sizeof v);
        for (int j = 0; j < 8; j++)
            s[j] += a[i + j] * v[j];
    }
    float sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < dim; i++) {
        memcpy(v, p + (size_t)i * sizeof(float), sizeof(float));
        sum += a[i] * v[0];
    }
    return sum;
}

/* Four independent sums, for the same reason as above; the compiler vectorises them. */
int32_t mni_dot8_scalar(const int8_t *a, const int8_t *b, int dim)
{
    int32_t s[4] = { 0 };
    int i = 0;
    for (; i + 4 <= dim; i += 4)
        for (int j = 0; j < 4; j++)
            s[j] += (int32_t)a[i + j] * (int32_t)b[i + j];
    int32_t sum = (s[0] + s[1]) + (s[2] + s[3]);
    for (; i < dim; i++)
        sum += (int32_t)a[i] * (int32_t)b[i];
    return sum;
}

/* Without -mpopcnt the builtin is libgcc's bit trick, still branch-free. */
void mni_hamming_scalar(const uint64_t *q, const uint64_t *codes, int words, size_t n,
                        uint32_t *out)
{
    for (size_t i = 0; i < n; i++, codes += words) {
        int d = 0;
        for (int w = 0; w < words; w++)
            d += __builtin_popcountll(q[w] ^ codes[w]);
        out[i] = (uint32_t)d;
    }
}

void mni_sign_bits_scalar(const float *v, int dim, uint64_t *bits)
{
    memset(bits, 0, (size_t)MNI_SIGN_WORDS(dim) * sizeof *bits);
    for (int i = 0; i < dim; i++)
        bits[i / 64] |= (uint64_t)(v[i] > 0) << (i % 64);
}

float mni_i8_amax(const float m[8], const float *v, int from, int dim)
{
    float amax = 0;
    for (int j = 0; j < 8; j++)
        amax = m[j] > amax ? m[j] : amax;
    for (int i = from; i < dim; i++) {
        float a = fabsf(v[i]);
        amax = a > amax ? a : amax;
    }
    return amax;
}

/* A search codes its query on every call, so this is on the query path: eight lanes for the
 * maximum (one chain of dependent max operations waits on each). */
float mni_quantize_i8_scalar(const float *v, int dim, int8_t *code)
{
    float m[8] = { 0 };
    int i = 0;
    for (; i + 8 <= dim; i += 8)
        for (int j = 0; j < 8; j++) {
            float a = fabsf(v[i + j]);
            m[j] = a > m[j] ? a : m[j];
        }
    float amax = mni_i8_amax(m, v, i, dim);
    if (amax == 0) {
        memset(code, 0, (size_t)dim);
        return 0;
    }
    float inv = 127.0f / amax;
    for (i = 0; i < dim; i++)
        code[i] = mni_i8_round(v[i] * inv);
    return amax / 127.0f;
}

static const struct mni_dist_ops ops_scalar = { MNI_SIMD_SCALAR, "scalar", mni_ip_scalar,
                                                mni_dot8_scalar, mni_hamming_scalar,
                                                mni_quantize_i8_scalar, mni_sign_bits_scalar };
#ifdef MNI_HAVE_X86_KERNELS
static const struct mni_dist_ops ops_avx2 = { MNI_SIMD_AVX2, "avx2", mni_ip_avx2, mni_dot8_avx2,
                                              mni_hamming_popcnt, mni_quantize_i8_avx2,
                                              mni_sign_bits_avx2 };
static const struct mni_dist_ops ops_avx512 = { MNI_SIMD_AVX512, "avx512", mni_ip_avx512,
                                                mni_dot8_avx512, mni_hamming_popcnt,
                                                mni_quantize_i8_avx2, mni_sign_bits_avx2 };
#endif

static pthread_once_t dist_once = PTHREAD_ONCE_INIT;
static int cpu_level; /* the highest level this CPU runs, set once */
static const struct mni_dist_ops *dist_best;

static void dist_init(void)
{
    int level = MNI_SIMD_SCALAR;
#ifdef MNI_HAVE_X86_KERNELS
    __builtin_cpu_init();
    /* libgcc's checks include the OS saving the wider registers (XCR0). */
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
        __builtin_cpu_supports("popcnt"))
        level = MNI_SIMD_AVX2;
    if (level == MNI_SIMD_AVX2 && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512bw"))
        level = MNI_SIMD_AVX512;
#endif
    cpu_level = level;
    const char *cap = getenv("MN_SIMD");
    if (cap && strcmp(cap, "scalar") == 0)
        level = MNI_SIMD_SCALAR;
    else if (cap && strcmp(cap, "avx2") == 0 && level > MNI_SIMD_AVX2)
        level = MNI_SIMD_AVX2;
    dist_best = &ops_scalar;
#ifdef MNI_HAVE_X86_KERNELS
    if (level == MNI_SIMD_AVX2)
        dist_best = &ops_avx2;
    else if (level == MNI_SIMD_AVX512)
        dist_best = &ops_avx512;
#endif
}

const struct mni_dist_ops *mni_dist_ops(void)
{
    pthread_once(&dist_once, dist_init);
    return dist_best;
}

const struct mni_dist_ops *mni_dist_ops_level(int level)
{
    pthread_once(&dist_once, dist_init);
    if (level < MNI_SIMD_SCALAR || level > cpu_level)
        return NULL;
    switch (level) {
#ifdef MNI_HAVE_X86_KERNELS
    case MNI_SIMD_AVX2:
        return &ops_avx2;
    case MNI_SIMD_AVX512:
        return &ops_avx512;
#endif
    default:
        return &ops_scalar;
    }
}

float mni_ip(const float *a, const void *b, int dim)
{
    return mni_dist_ops()->ip(a, b, dim);
}

float mni_quantize_i8(const float *v, int dim, int8_t *code)
{
    return mni_dist_ops()->quantize(v, dim, code);
}

void mni_sign_bits(const float *v, int dim, uint64_t *bits)
{
    mni_dist_ops()->sign_bits(v, dim, bits);
}

