/* SHA-256 (FIPS 180-4): the embedding cache's content address of a text. */
#ifndef MNI_EMBED_SHA256_H
#define MNI_EMBED_SHA256_H

#include <stddef.h>

#define MNI_SHA256_LEN 32

void mni_sha256(const void *data, size_t len, unsigned char out[MNI_SHA256_LEN]);

#endif
