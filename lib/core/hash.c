/* XXH64 (xxhash.com's specification), streamed or in one call. */
#include "core/hash.h"
#include "core/bytes.h"

#include <string.h>

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t xxh_round(uint64_t acc, uint64_t in)
{
    acc += in * P2;
    acc = rotl64(acc, 31);
    return acc * P1;
}

static inline uint64_t xxh_merge(uint64_t acc, uint64_t v)
{
    acc ^= xxh_round(0, v);
    return acc * P1 + P4;
}

void mni_hash64_init(struct mni_hash64_state *x, uint64_t seed)
{
    memset(x, 0, sizeof *x);
    x->seed = seed;
    x->v[0] = seed + P1 + P2;
    x->v[1] = seed + P2;
    x->v[2] = seed;
    x->v[3] = seed - P1;
}

void mni_hash64_update(struct mni_hash64_state *x, const void *data, size_t n)
{
    if (!n)
        return; /* data may be NULL then */
    const unsigned char *p = data, *end = p + n;
    x->total += n;
    if (x->nbuf + n < 32) {
        memcpy(x->buf + x->nbuf, p, n);
        x->nbuf += n;
        return;
    }
    if (x->nbuf) {
        size_t f = 32 - x->nbuf;
        memcpy(x->buf + x->nbuf, p, f);
        p += f;
        for (int i = 0; i < 4; i++)
            x->v[i] = xxh_round(x->v[i], mni_load64(x->buf + 8 * i));
        x->nbuf = 0;
    }
    uint64_t v0 = x->v[0], v1 = x->v[1], v2 = x->v[2], v3 = x->v[3];
    while ((size_t)(end - p) >= 32) {
        v0 = xxh_round(v0, mni_load64(p));
        v1 = xxh_round(v1, mni_load64(p + 8));
        v2 = xxh_round(v2, mni_load64(p + 16));
        v3 = xxh_round(v3, mni_load64(p + 24));
        p += 32;
    }
    x->v[0] = v0;
    x->v[1] = v1;
    x->v[2] = v2;
    x->v[3] = v3;
    x->nbuf = (size_t)(end - p);
    memcpy(x->buf, p, x->nbuf);
}

uint64_t mni_hash64_final(const struct mni_hash64_state *x)
{
    uint64_t h;
    if (x->total >= 32) {
        h = rotl64(x->v[0], 1) + rotl64(x->v[1], 7) + rotl64(x->v[2], 12) + rotl64(x->v[3], 18);
        for (int i = 0; i < 4; i++)
            h = xxh_merge(h, x->v[i]);
    } else {
        h = x->seed + P5;
    }
    h += x->total;
    const unsigned char *p = x->buf, *end = p + x->nbuf;
    while (end - p >= 8) {
        h ^= xxh_round(0, mni_load64(p));
        h = rotl64(h, 27) * P1 + P4;
        p += 8;
    }
    if (end - p >= 4) {
        h ^= (uint64_t)mni_load32(p) * P1;
        h = rotl64(h, 23) * P2 + P3;
        p += 4;
    }
    while (p < end) {
        h ^= (uint64_t)*p * P5;
        h = rotl64(h, 11) * P1;
        p++;
    }
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

uint64_t mni_hash64(const void *p, size_t n, uint64_t seed)
{
    struct mni_hash64_state x;
    mni_hash64_init(&x, seed);
    mni_hash64_update(&x, p, n);
    return mni_hash64_final(&x);
}
