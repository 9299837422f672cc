/* UUIDv7 (RFC 9562): time-ordered ids, so that "newest first" is "largest id first". */
#ifndef MNI_CORE_UUID_H
#define MNI_CORE_UUID_H

#include <stddef.h>
#include <stdint.h>

#define MNI_UUID_LEN 36  /* characters, without the terminator */

/* Writes a new lowercase UUIDv7 into out (37 bytes) and returns its millisecond timestamp.
 * Ids from one process are strictly increasing, even within one millisecond or when the clock
 * steps back. The random bits come from libsodium (randombytes_buf), which cannot fail. */
int64_t mni_uuid7(char out[MNI_UUID_LEN + 1]);
/* n new ids into out[0..n-1], increasing, as n calls of mni_uuid7 would make them but with the
 * random bits of many drawn at once; returns the last one's timestamp (0 when n is 0). */
int64_t mni_uuid7_many(char (*out)[MNI_UUID_LEN + 1], size_t n);

/* 1 if s is a canonical lowercase or uppercase UUID string (8-4-4-4-12 hex), else 0. */
int mni_uuid_valid(const char *s);
/* The canonical (lowercase) spelling of the valid UUID s: ids are stored and compared so. */
void mni_uuid_lower(const char *s, char out[MNI_UUID_LEN + 1]);

#endif
