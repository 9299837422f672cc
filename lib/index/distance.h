/* Distance kernels. Stored vectors are unit length, so cosine similarity is the dot product.
 *
 * The inner products (of floats, and of int8 codes) have runtime CPU dispatch: the best kernels
 * this CPU supports (AVX-512F+BW, AVX2+FMA, or portable scalar) is chosen once, thread-safely (pthread_once), on first use.
 * The environment variable MN_SIMD=scalar|avx2|avx512 caps the choice (for tests and
 * benchmarks); a level the CPU lacks is never chosen.
 *
 * Every kernel takes a at float alignment and b at any byte address (a row inside a database
 * page, say); unaligned SIMD loads are used throughout. The SIMD kernels sum in a different
 * order from the scalar one, so they agree with it within float rounding, not bit for bit; each
 * is deterministic for given inputs. */
#ifndef MNI_INDEX_DISTANCE_H
#define MNI_INDEX_DISTANCE_H

#include <stddef.h>
#include <stdint.h>

/* A kernel: the inner product sum(a[i] * b[i]). */
typedef float (*mni_dist_fn)(const float *a, const void *b, int dim);
/* The inner product of two int8 codes (values -127 .. 127, as mni_quantize_i8 writes them), in
 * exact integer arithmetic: at most 65536 * 127^2 in magnitude, which int32 holds. Any
 * alignment for both. */
typedef int32_t (*mni_dot8_fn)(const int8_t *a, const int8_t *b, int dim);
/* The Hamming distances of the sign code q (words 64-bit words, mni_sign_bits) to n codes laid
 * back to back from codes, into out[0 .. n-1]. Works on a whole array: one call per block
 * chunk, not per vector. */
typedef void (*mni_hamming_fn)(const uint64_t *q, const uint64_t *codes, int words, size_t n,
                               uint32_t *out);
/* mni_quantize_i8 and mni_sign_bits (below): every level writes the same codes, bit for bit
 * (the graph's codes, the block's and a query's are compared with one another). */
typedef float (*mni_quantize_fn)(const float *v, int dim, int8_t *code);
typedef void (*mni_sign_bits_fn)(const float *v, int dim, uint64_t *bits);

enum mni_simd_level {
    MNI_SIMD_SCALAR = 0,
    MNI_SIMD_AVX2 = 1,   /* AVX2 + FMA, 8 floats per instruction */
    MNI_SIMD_AVX512 = 2  /* AVX-512F, 16 floats per instruction */
};

struct mni_dist_ops {
    int level;        /* enum mni_simd_level */
    const char *name; /* "scalar", "avx2", "avx512" */
    mni_dist_fn ip;
    mni_dot8_fn dot8;
    mni_hamming_fn hamming;
    mni_quantize_fn quantize;
    mni_sign_bits_fn sign_bits;
};

/* The kernels chosen for this CPU (never NULL). */
const struct mni_dist_ops *mni_dist_ops(void);
/* The kernels of one level, or NULL when this build or this CPU cannot run them. */
const struct mni_dist_ops *mni_dist_ops_level(int level);

/* The dispatched entry point (one indirect call; hot loops should keep mni_dist_ops()->ip). */
float mni_ip(const float *a, const void *b, int dim);

/* The portable kernels, also the reference the SIMD ones are tested against. */
float mni_ip_scalar(const float *a, const void *b, int dim);
int32_t mni_dot8_scalar(const int8_t *a, const int8_t *b, int dim);
void mni_hamming_scalar(const uint64_t *q, const uint64_t *codes, int words, size_t n,
                        uint32_t *out);
float mni_quantize_i8_scalar(const float *v, int dim, int8_t *code);
void mni_sign_bits_scalar(const float *v, int dim, uint64_t *bits);

/* Scalar quantisation with one scale per vector: code[i] = round(v[i] / scale) with scale =
 * max|v[i]| / 127, so v[i] ~ scale * code[i] and ip(a, b) ~ scale_a * scale_b * dot8(a, b).
 * Returns the scale (0 for a zero vector, whose code is all zeros). Dispatched, as mni_ip. */
float mni_quantize_i8(const float *v, int dim, int8_t *code);
/* One value of a code: x (= v[i] / scale) clamped to +-127 (a NaN to 127, so that the
 * conversion is defined) and rounded by adding half and truncating (inline, where lrintf is a
 * library call; ties go away from zero instead of to even, which moves no value by more than
 * half a step). */
static inline int8_t mni_i8_round(float x)
{
    x = x < 127 ? x : 127;
    x = x > -127 ? x : -127;
    return (int8_t)(x >= 0 ? (int)(x + 0.5f) : -(int)(0.5f - x));
}

/* The largest |v[i]| (NaNs left out) for a quantiser that took the maximum of v's first `from`
 * values in eight lanes m: the rest of v, then the lanes folded (every quantiser ends so). */
float mni_i8_amax(const float m[8], const float *v, int from, int dim);

/* The 64-bit words a sign code of dim dimensions takes. */
#define MNI_SIGN_WORDS(dim) (((dim) + 63) / 64)
/* The sign code of v: bit i (of word i / 64) set when v[i] > 0; the unused bits of the last
 * word are zero. For unit vectors the Hamming distance of two codes estimates their angle
 * (it is dim / pi times it on average), so it can choose candidates for an exact score at an
 * eighth of an int8 code's bytes. Dispatched, as mni_ip. */
void mni_sign_bits(const float *v, int dim, uint64_t *bits);

#if defined(__x86_64__) || defined(__i386__)
#define MNI_HAVE_X86_KERNELS 1
/* Only call these when the CPU has the features (mni_dist_ops_level checks). */
float mni_ip_avx2(const float *a, const void *b, int dim);
float mni_ip_avx512(const float *a, const void *b, int dim);
int32_t mni_dot8_avx2(const int8_t *a, const int8_t *b, int dim);
int32_t mni_dot8_avx512(const int8_t *a, const int8_t *b, int dim); /* AVX-512BW */
void mni_hamming_popcnt(const uint64_t *q, const uint64_t *codes, int words, size_t n,
                        uint32_t *out); /* POPCNT, which every AVX2 CPU has */
float mni_quantize_i8_avx2(const float *v, int dim, int8_t *code);
void mni_sign_bits_avx2(const float *v, int dim, uint64_t *bits);
#endif

#endif
