/* SHA-256 (FIPS 180-4): the embedding cache's content address of a text. */
#ifndef MN_EMBED_SHA256_H
#define MN_EMBED_SHA256_H

#include <stddef.h>

#define MN_SHA256_LEN 32

void mn_sha256(const void *data, size_t len, unsigned char out[MN_SHA256_LEN]);

#endif
