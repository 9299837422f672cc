/*
 * Sealed values: XChaCha20-Poly1305 (libsodium's IETF construction) with a unique nonce, as
 * text a TEXT column holds on every backend:
 *
 *     "mn1." base64url( key version (4 bytes, little-endian) | nonce (24) | ciphertext | tag (16) )
 *
 * The key version names which of its owner's keys sealed it, so that a value can be opened
 * while the keys rotate. Associated data binds a value to its place (who owns it, which
 * record, which column): moved anywhere else, it no longer opens.
 */
#ifndef MNI_CRYPTO_SEAL_H
#define MNI_CRYPTO_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define MNI_KEY_BYTES 32
#define MNI_SEAL_PREFIX "mn1."

/* Associated data: the NUL-separated parts, into buf (size bytes); their length, or 0 when
 * they do not fit. */
size_t mni_seal_ad(char *buf, size_t size, const char *owner, const char *record,
                   const char *column);

/* Seals the len bytes at plain: a malloc'd NUL-terminated text, NULL when out of memory. */
char *mni_seal(const unsigned char key[MNI_KEY_BYTES], uint32_t key_version, const void *ad,
               size_t ad_len, const void *plain, size_t len);

/* Whether text has the form of a sealed value; if so *key_version is its key's version. */
int mni_sealed_version(const char *text, uint32_t *key_version);

/* Opens a sealed value: 0 with *plain malloc'd (len bytes and a NUL after them; *len may be
 * NULL), -1 when out of memory, 1 when text is not a value this key sealed with this
 * associated data (another key, another place, or altered). */
int mni_unseal(const unsigned char key[MNI_KEY_BYTES], const char *text, const void *ad,
               size_t ad_len, char **plain, size_t *len);

#endif
