/* Loads and stores of unaligned 32- and 64-bit words, in the host's byte order (the index
 * files record it with a byte-order mark and refuse another). memcpy compiles to one move. */
#ifndef MNI_CORE_BYTES_H
#define MNI_CORE_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint32_t mni_load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t mni_load64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline void mni_store32(void *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline void mni_store64(void *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

#endif
