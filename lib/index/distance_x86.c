/* x86-64 kernels: AVX2+FMA and AVX-512F (+BW for int8 codes). Each function carries its own
 * target attribute, so the library is still compiled for the baseline ISA and only runs these
 * after dispatch (distance.c) has checked the CPU. Loads are unaligned (loadu), so b may be at any byte
 * address; the scalar tail reads through memcpy for the same reason. */
#include "index/distance.h"

#ifdef MNI_HAVE_X86_KERNELS

#include <immintrin.h>
#include <math.h>
#include <string.h>

static inline float tail_at(const unsigned char *b, int i)
{
    float v;
    memcpy(&v, b + (size_t)i * sizeof(float), sizeof v);
    return v;
}

__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v)
{
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

/* Four independent accumulators hide the FMA latency (4 cycles, 2 per cycle). */
__attribute__((target("avx2,fma"))) float mni_ip_avx2(const float *a, const void *bv, int dim)
{
    const unsigned char *b = bv;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= dim; i += 32) {
        const float *pb = (const float *)(const void *)(b + (size_t)i * 4);
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(pb), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(pb + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(pb + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(pb + 24), s3);
    }
    for (; i + 8 <= dim; i += 8) {
        const float *pb = (const float *)(const void *)(b + (size_t)i * 4);
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(pb), s0);
    }
    float sum = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < dim; i++)
        sum += a[i] * tail_at(b, i);
    return sum;
}

/* AVX-512F: the tail is one masked load (masked-off lanes are not read, so no fault and no
 * over-read). */
__attribute__((target("avx512f"))) float mni_ip_avx512(const float *a, const void *bv, int dim)
{
    const unsigned char *b = bv;
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    int i = 0;
    for (; i + 64 <= dim; i += 64) {
        const float *pb = (const float *)(const void *)(b + (size_t)i * 4);
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(pb), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(pb + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(pb + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(pb + 48), s3);
    }
    for (; i + 16 <= dim; i += 16) {
        const float *pb = (const float *)(const void *)(b + (size_t)i * 4);
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(pb), s0);
    }
    if (i < dim) {
        __mmask16 m = (__mmask16)((1u << (dim - i)) - 1);
        const float *pb = (const float *)(const void *)(b + (size_t)i * 4);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, pb), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/* int8 codes, 32 bytes per step: pmaddubsw multiplies unsigned by signed bytes, so a's sign
 * moves onto b (psignb: |a| times b * sign(a), the same products) and the pairs of products
 * are summed into int16 lanes, then pmaddwd against ones widens them into int32. pmaddubsw
 * saturates, but codes within -127 .. 127 (mni_quantize_i8 never writes -128) give pairs of at
 * most 2 * 127^2 = 32258 < 32767: exact. Half the instructions of sign-extending both codes to
 * int16 first (the AVX-512BW kernel below still does that). */
__attribute__((target("avx2"))) static inline __m256i dot8_step(__m256i acc, const int8_t *a,
                                                                const int8_t *b, __m256i ones)
{
    __m256i va = _mm256_loadu_si256((const __m256i *)(const void *)a);
    __m256i vb = _mm256_loadu_si256((const __m256i *)(const void *)b);
    __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(va, va), _mm256_sign_epi8(vb, va));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, ones));
}

__attribute__((target("avx2"))) int32_t mni_dot8_avx2(const int8_t *a, const int8_t *b, int dim)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    int i = 0;
    for (; i + 64 <= dim; i += 64) {
        s0 = dot8_step(s0, a + i, b + i, ones);
        s1 = dot8_step(s1, a + i + 32, b + i + 32, ones);
    }
    if (i + 32 <= dim) {
        s0 = dot8_step(s0, a + i, b + i, ones);
        i += 32;
    }
    __m256i s = _mm256_add_epi32(s0, s1);
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    if (i + 16 <= dim) { /* the same step on 16 bytes: 784 = 12 * 64 + 16 (Fashion-MNIST) */
        __m128i va = _mm_loadu_si128((const __m128i *)(const void *)(a + i));
        __m128i vb = _mm_loadu_si128((const __m128i *)(const void *)(b + i));
        __m128i p16 = _mm_maddubs_epi16(_mm_sign_epi8(va, va), _mm_sign_epi8(vb, va));
        h = _mm_add_epi32(h, _mm_madd_epi16(p16, _mm256_castsi256_si128(ones)));
        i += 16;
    }
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    int32_t sum = _mm_cvtsi128_si32(h);
    for (; i < dim; i++)
        sum += (int32_t)a[i] * (int32_t)b[i];
    return sum;
}

__attribute__((target("avx512f,avx512bw"))) int32_t mni_dot8_avx512(const int8_t *a,
                                                                   const int8_t *b, int dim)
{
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    int i = 0;
    for (; i + 64 <= dim; i += 64) {
        __m512i a0 =
            _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(a + i)));
        __m512i b0 =
            _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(b + i)));
        __m512i a1 =
            _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(a + i + 32)));
        __m512i b1 =
            _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(const void *)(b + i + 32)));
        s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(a0, b0));
        s1 = _mm512_add_epi32(s1, _mm512_madd_epi16(a1, b1));
    }
    int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(s0, s1));
    for (; i < dim; i++)
        sum += (int32_t)a[i] * (int32_t)b[i];
    return sum;
}

/* mni_hamming_scalar's loop compiled for the popcnt instruction (the baseline ISA has none):
 * 6 loads, xors and popcnts per 384-d code. */
__attribute__((target("popcnt"))) void mni_hamming_popcnt(const uint64_t *q,
                                                          const uint64_t *codes, int words,
                                                          size_t n, uint32_t *out)
{
    for (size_t i = 0; i < n; i++, codes += words) {
        int d = 0;
        for (int w = 0; w < words; w++)
            d += __builtin_popcountll(q[w] ^ codes[w]);
        out[i] = (uint32_t)d;
    }
}

/* mni_quantize_i8_scalar's arithmetic eight lanes at a time, bit for bit (a vector's block
 * entry is coded as it is read, 25% of a read's time when scalar): the same maximum (max_ps
 * keeps its second operand for a NaN or a tie, as the scalar a > m ? a : m), the same
 * products and clamps (min_ps(x, 127) is x < 127 ? x : 127, a NaN giving 127), and the same
 * rounding: the scalar 0.5f - x for a negative x is 0.5f + |x|, truncated. */
__attribute__((target("avx2,fma"))) float mni_quantize_i8_avx2(const float *v, int dim,
                                                               int8_t *code)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m8 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= dim; i += 8)
        m8 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(v + i)), m8);
    float m[8];
    _mm256_storeu_ps(m, m8);
    float amax = mni_i8_amax(m, v, i, dim);
    if (amax == 0) {
        memset(code, 0, (size_t)dim);
        return 0;
    }
    float inv = 127.0f / amax;
    const __m256 vinv = _mm256_set1_ps(inv), hi = _mm256_set1_ps(127.0f);
    const __m256 lo = _mm256_set1_ps(-127.0f), half = _mm256_set1_ps(0.5f);
    const __m256 zero = _mm256_setzero_ps();
    /* packs interleave the 128-bit lanes: this puts the 4-byte groups back in order */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (i = 0; i + 32 <= dim; i += 32) {
        __m256i q[4];
        for (int k = 0; k < 4; k++) {
            __m256 x = _mm256_mul_ps(_mm256_loadu_ps(v + i + 8 * k), vinv);
            x = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
            __m256i t = _mm256_cvttps_epi32(_mm256_add_ps(_mm256_andnot_ps(sign, x), half));
            __m256i neg = _mm256_castps_si256(_mm256_cmp_ps(x, zero, _CMP_LT_OQ));
            q[k] = _mm256_blendv_epi8(t, _mm256_sub_epi32(_mm256_setzero_si256(), t), neg);
        }
        __m256i w = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
                                       _mm256_packs_epi32(q[2], q[3]));
        _mm256_storeu_si256((__m256i *)(void *)(code + i), _mm256_permutevar8x32_epi32(w, order));
    }
    for (; i < dim; i++)
        code[i] = mni_i8_round(v[i] * inv);
    return amax / 127.0f;
}

/* mni_sign_bits_scalar eight lanes at a time: v > 0 (false for a NaN) as a movemask. */
__attribute__((target("avx2"))) void mni_sign_bits_avx2(const float *v, int dim,
                                                        uint64_t *bits)
{
    memset(bits, 0, (size_t)MNI_SIGN_WORDS(dim) * sizeof *bits);
    const __m256 zero = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= dim; i += 8) {
        unsigned m = (unsigned)_mm256_movemask_ps(
            _mm256_cmp_ps(_mm256_loadu_ps(v + i), zero, _CMP_GT_OQ));
        bits[i / 64] |= (uint64_t)m << (i % 64);
    }
    for (; i < dim; i++)
        bits[i / 64] |= (uint64_t)(v[i] > 0) << (i % 64);
}

#endif
