/*
 * Encryption at rest, for every backend: a database chosen encrypted when it was created seals
 * (crypto/seal.h) each memory's text and metadata, its history's before and after, under a
 * data key of its tenant; data keys are stored wrapped by the master key (crypto/
 * master_key.h), which the database never holds. The associated data of a value is its
 * tenant, its record and its column, so a value moved to another row does not open.
 *
 * What stays in the clear: ids, types, importance, times, versions, the embeddings (and the
 * index made of them) and the embedding cache's vectors; the cache's content addresses are
 * keyed hashes (mni_vault_text_hashes), not SHA-256 of the text.
 *
 * Writers seal inside their write, with the newest data key the store has at that moment
 * (mni_vault_write_key): a re-key (store/op_rekey.c) that drops an old key holds that read
 * off until the writers that used it have committed, and then seals again what they wrote.
 */
#ifndef MNI_STORE_VAULT_H
#define MNI_STORE_VAULT_H

#include "crypto/seal.h"
#include "store/driver.h"

#include <cJSON.h>

struct mni_vault;

/* Called once the store is open (api/handle.c): reads whether the database is encrypted and,
 * if it is, loads the master key (key_file, else MANUSHYA_MASTER_KEY_FILE) and checks that it
 * is the database's (MN_EKEY explaining what is missing or wrong). encrypt asks for a new
 * database to be encrypted: allowed only while it has no tenant (and not read-only). */
int mni_vault_attach(struct mni_store *s, int encrypt, const char *key_file, int readonly);
void mni_vault_detach(struct mni_store *s);

/* A tenant's data key for writing, as the write tx sees the store (made, version 1, when
 * the tenant has none). */
struct mni_data_key {
    uint32_t version;
    unsigned char key[MNI_KEY_BYTES];
};
int mni_vault_write_key(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                        struct mni_data_key *k);
/* Seals plain (NUL-terminated) under k for (tenant, record, column): malloc'd; MN_ENOMEM. */
int mni_vault_seal(struct mni_store *s, const struct mni_data_key *k, const char *tenant_id,
                   const char *record, const char *column, const char *plain, char **out);
/* Opens a stored value: *out malloc'd. MN_ECORRUPT naming the record when it was not sealed
 * there (moved, altered, or its key destroyed). */
int mni_vault_open(struct mni_store *s, const char *tenant_id, const char *record,
                   const char *column, const char *stored, char **out);
/* Replaces a sealed value *v in place by its plain text. */
int mni_vault_open_in_place(struct mni_store *s, const char *tenant_id, const char *record,
                            const char *column, char **v);

/* ---- what the backends and shared operations call (nothing when the store is not
 * encrypted) ---- */
/* The rows sealed for writing in tx: *sealed is rows itself for a plain store, else a copy
 * with text and metadata sealed and the text's blind words (store/keywords.h), freed by mni_vault_rows_free(*sealed, rows, n). */
int mni_vault_seal_rows(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                        const struct mni_memory_row *rows, size_t n,
                        const struct mni_memory_row **sealed);
void mni_vault_rows_free(const struct mni_memory_row *sealed,
                         const struct mni_memory_row *rows, size_t n);
/* A history entry's before and after, sealed in tx (a plain store: both NULL, the values
 * are stored as they are). */
int mni_vault_seal_history(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                           const char *memory_id, int64_t version, const char *before,
                           const char *after, char **sealed_before, char **sealed_after);
/* Opens what a read returned, in place. */
int mni_vault_open_memory(struct mni_store *s, mn_memory *m);
int mni_vault_open_memories(struct mni_store *s, mn_memories *l);
int mni_vault_open_history(struct mni_store *s, const char *tenant_id, const char *memory_id,
                           mn_history *h);
int mni_vault_open_tasks(struct mni_store *s, struct mni_embed_task *t, size_t n);
/* Whether a memory's stored metadata contains filter (NULL: every memory does): 1, 0, or a
 * negative -MN_E* (the value does not open: its message is set). */
int mni_vault_metadata_matches(struct mni_store *s, const char *tenant_id, const char *id,
                               const char *stored, const cJSON *filter);
/* The content addresses of n texts in the embedding cache of scope, 32 bytes each into out:
 * SHA-256 of the text for a plain store, else BLAKE2b keyed by a key derived from the scope's
 * data key, so that the cache does not tell whether a guessed text was stored. */
int mni_vault_text_hashes(struct mni_store *s, const char *scope, const char *const *texts,
                          const size_t *lens, size_t n, unsigned char *out);

/* The content hash deduplication compares (store/op_dedup.c): BLAKE2b-256, in hex, of the
 * normalised text (core/normalise.h); in an encrypted store keyed by a key derived from the
 * tenant's newest data key (as the write tx sees it; NULL tx: a read of its own), so that it
 * tells nothing beyond equality. _with: keyed by k's (a re-key's new key). */
int mni_vault_content_hash(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                           const char *text, char out[MNI_CONTENT_HASH_HEX + 1]);
int mni_vault_content_hash_with(const struct mni_data_key *k, const char *text,
                                char out[MNI_CONTENT_HASH_HEX + 1]);

/* ---- keys (store/op_rekey.c, api/vault.c) ---- */
/* The tenant's data key of version (0: its newest, read in tx; NULL tx: a read of its own)
 * into k. MN_ENOTFOUND (no message) when it has none. */
int mni_vault_key(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                  uint32_t version, struct mni_data_key *k);
/* The master key wraps every data key anew (one write), then replaces this handle's. */
int mni_vault_rotate_master(struct mni_store *s, const char *new_key_file);
/* Forgets the tenant's keys this handle holds (all, or those below version). */
void mni_vault_forget(struct mni_store *s, const char *tenant_id, uint32_t below);
/* Adds version to the tenant's data keys (a new random key) unless it is there. */
int mni_vault_add_key(struct mni_store *s, const char *tenant_id, uint32_t version);

#endif
