/*
 * The master key: 32 random bytes that wrap (seal) every data key of an encrypted database,
 * kept in a file of its own as 64 hex digits, never in the database. The file must not be
 * readable by others than its owner and group, as ssh treats a private key.
 */
#ifndef MNI_CRYPTO_MASTER_KEY_H
#define MNI_CRYPTO_MASTER_KEY_H

#include "manushya.h"
#include "crypto/seal.h"

/* Where the key file is: path, else MANUSHYA_MASTER_KEY_FILE; NULL when neither says. */
const char *mni_master_key_path(const char *path);

/* Reads the key in the file at path into key (sodium_malloc'd memory is the caller's choice).
 * MN_OK; MN_EKEY (explained on db) when it is missing, unreadable, readable by others or not
 * 64 hex digits. */
int mni_master_key_read(mn_db *db, const char *path, unsigned char key[MNI_KEY_BYTES]);

/* Writes a new random key to a new file at path (mode 0600; an existing file is never
 * overwritten). MN_OK, MN_EEXISTS or MN_EBACKEND, explained on db. */
int mni_master_key_create(mn_db *db, const char *path);

#endif
