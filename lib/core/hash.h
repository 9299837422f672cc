/*
 * The library's one hash: XXH64 (the index files' checksum, so it must not change) over bytes,
 * in one call or streamed, and its 64-bit finaliser for integer keys. For tables and checksums,
 * never for secrets (the embedding cache uses SHA-256).
 */
#ifndef MNI_CORE_HASH_H
#define MNI_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* XXH64 of n bytes (p may be NULL when n is 0). */
uint64_t mni_hash64(const void *p, size_t n, uint64_t seed);

/* The same, fed in pieces. */
struct mni_hash64_state {
    uint64_t v[4], total, seed;
    unsigned char buf[32];
    size_t nbuf;
};
void mni_hash64_init(struct mni_hash64_state *x, uint64_t seed);
void mni_hash64_update(struct mni_hash64_state *x, const void *data, size_t n);
uint64_t mni_hash64_final(const struct mni_hash64_state *x);

/* A full-avalanche mix of one word (splitmix64's finaliser): table slots of integer keys. */
static inline uint64_t mni_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

#endif
