/* Encryption at rest (vault.h): the master key, the tenants' data keys, sealing and opening
 * the values of memories and their history. */
#include "store/vault.h"
#include "core/normalise.h"
#include "store/keywords.h"
#include "store/types.h"
#include "store/list.h"
#include "core/clock.h"
#include "crypto/master_key.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/striped.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEME "xchacha20poly1305"
#define CHECK_AD "manushya master key check"
#define STRIPES 16
#define CACHE_SUBKEY_ID 1
#define CACHE_SUBKEY_CTX "mncache_" /* crypto_kdf: 8 bytes */
#define DEDUP_SUBKEY_ID 2
#define DEDUP_SUBKEY_CTX "mndedup_"

/* One unwrapped data key of a tenant. */
struct entry {
    struct mni_striped_node node;
    uint32_t version;
    unsigned char key[MNI_KEY_BYTES];
    char tenant[];
};

struct lookup {
    const char *tenant;
    uint32_t version;
};

struct mni_vault {
    unsigned char *master;     /* sodium_malloc'd: guard pages, never swapped out */
    pthread_mutex_t mu;        /* guards master (rotation replaces it) */
    struct mni_striped keys;   /* (tenant, version) -> data key; small: one per tenant */
};

static void entry_free(struct mni_striped_node *node, void *ctx)
{
    (void)ctx;
    struct entry *e = MNI_STRIPED_ENTRY(node, struct entry, node);
    sodium_memzero(e->key, sizeof e->key);
    free(e);
}

static int same_key(const struct mni_striped_node *node, const void *key)
{
    const struct entry *e = MNI_STRIPED_ENTRY(node, const struct entry, node);
    const struct lookup *l = key;
    return e->version == l->version && strcmp(e->tenant, l->tenant) == 0;
}

static uint64_t key_hash(const char *tenant, uint32_t version)
{
    return mni_hash64(tenant, strlen(tenant), version);
}

static int cache_get(struct mni_vault *v, const char *tenant, uint32_t version,
                     unsigned char out[MNI_KEY_BYTES])
{
    struct lookup l = { tenant, version };
    uint64_t h = key_hash(tenant, version);
    struct mni_striped_stripe *st = mni_striped_at(&v->keys, h);
    mni_striped_lock(st);
    struct mni_striped_node *n = mni_striped_find(&v->keys, st, h, same_key, &l);
    if (n)
        memcpy(out, MNI_STRIPED_ENTRY(n, struct entry, node)->key, MNI_KEY_BYTES);
    mni_striped_unlock(st);
    return n != NULL;
}

static void cache_put(struct mni_vault *v, const char *tenant, uint32_t version,
                      const unsigned char key[MNI_KEY_BYTES])
{
    size_t len = strlen(tenant) + 1;
    struct entry *e = malloc(sizeof *e + len);
    if (!e)
        return; /* a cache: the key is unwrapped again next time */
    e->node.hash = key_hash(tenant, version);
    e->version = version;
    memcpy(e->key, key, MNI_KEY_BYTES);
    memcpy(e->tenant, tenant, len);
    struct lookup l = { e->tenant, version };
    mni_striped_put(&v->keys, &e->node, same_key, &l, NULL);
}

struct forget {
    const char *tenant;
    uint32_t below;
};

static int forget_one(struct mni_striped_node *node, void *arg)
{
    const struct entry *e = MNI_STRIPED_ENTRY(node, const struct entry, node);
    const struct forget *f = arg;
    return strcmp(e->tenant, f->tenant) == 0 && e->version < f->below;
}

void mni_vault_forget(struct mni_store *s, const char *tenant_id, uint32_t below)
{
    struct mni_vault *v = s->vault;
    if (!v)
        return;
    struct forget f = { tenant_id, below ? below : UINT32_MAX };
    for (uint64_t i = 0; i <= v->keys.mask; i++) {
        struct mni_striped_stripe *st = &v->keys.stripes[i];
        mni_striped_lock(st);
        mni_striped_sweep(&v->keys, st, forget_one, &f);
        mni_striped_unlock(st);
    }
}

/* ---- wrapping data keys with the master key ---- */

static size_t wrap_ad(char *buf, size_t size, const char *tenant, uint32_t version)
{
    char ver[16];
    snprintf(ver, sizeof ver, "%" PRIu32, version);
    return mni_seal_ad(buf, size, "data key", tenant, ver);
}

static char *wrap(const unsigned char master[MNI_KEY_BYTES], const char *tenant,
                  uint32_t version, const unsigned char key[MNI_KEY_BYTES])
{
    char ad[512];
    size_t ad_len = wrap_ad(ad, sizeof ad, tenant, version);
    return ad_len ? mni_seal(master, 0, ad, ad_len, key, MNI_KEY_BYTES) : NULL;
}

/* MN_OK with key filled, or MN_ECORRUPT / MN_ENOMEM explained. */
static int unwrap(struct mni_store *s, const unsigned char master[MNI_KEY_BYTES],
                  const char *tenant, uint32_t version, const char *wrapped,
                  unsigned char key[MNI_KEY_BYTES])
{
    char ad[512];
    size_t ad_len = wrap_ad(ad, sizeof ad, tenant, version);
    char *plain = NULL;
    size_t len = 0;
    int rc = ad_len ? mni_unseal(master, wrapped, ad, ad_len, &plain, &len) : 1;
    if (rc < 0)
        return mni_seterr(s->db, MN_ENOMEM, "out of memory opening a data key");
    if (rc == 0 && len == MNI_KEY_BYTES)
        memcpy(key, plain, MNI_KEY_BYTES);
    if (plain)
        sodium_memzero(plain, len);
    free(plain);
    if (rc == 0 && len == MNI_KEY_BYTES)
        return MN_OK;
    return mni_seterr(s->db, MN_ECORRUPT, "data key %" PRIu32 " of tenant %s does not open "
                      "with the master key: its row was altered, or another process rotated "
                      "the master key (open again with the new one)", version, tenant);
}

static int unwrap_with_master(struct mni_store *s, const char *tenant, uint32_t version,
                              const char *wrapped, unsigned char key[MNI_KEY_BYTES])
{
    struct mni_vault *v = s->vault;
    pthread_mutex_lock(&v->mu);
    int rc = unwrap(s, v->master, tenant, version, wrapped, key);
    pthread_mutex_unlock(&v->mu);
    if (rc == MN_OK)
        cache_put(v, tenant, version, key);
    return rc;
}

/* ---- reading data keys ---- */

struct key_row {
    uint32_t want;             /* 0: the first row read */
    int found;
    uint32_t version;
    char *wrapped;
};

static int read_key_row(void *ctx, const struct mni_row *r)
{
    struct key_row *k = ctx;
    uint32_t version = (uint32_t)r->ops->integer(r, r->at);
    if (k->want && version != k->want)
        return 0;
    k->found = 1;
    k->version = version;
    k->wrapped = r->ops->text(r, r->at + 1);
    return k->wrapped ? 1 : -MN_ENOMEM;
}

int mni_vault_key(struct mni_store *s, struct mni_tx *tx, const char *tenant,
                    uint32_t version, struct mni_data_key *out)
{
    struct key_row k = { version, 0, 0, NULL };
    if (version && cache_get(s->vault, tenant, version, out->key)) {
        out->version = version;
        return MN_OK;
    }
    struct mni_args a = {0};
    mni_arg_text(&a, tenant);
    int rc = s->driver->read(s, tx, version ? MNI_DATAKEY_LIST : MNI_DATAKEY_NEWEST, &a,
                             read_key_row, &k, "reading a data key");
    if (rc == -MN_ENOMEM || rc == MN_ENOMEM)
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory reading a data key");
    if (rc == MN_OK && !k.found)
        rc = MN_ENOTFOUND;
    if (rc == MN_OK) {
        out->version = k.version;
        rc = cache_get(s->vault, tenant, k.version, out->key)
             ? MN_OK : unwrap_with_master(s, tenant, k.version, k.wrapped, out->key);
    }
    free(k.wrapped);
    return rc;
}

/* Adds version to the tenant's keys in tx (NULL: a write of its own), unless there. */
static int add_key(struct mni_store *s, struct mni_tx *tx, const char *tenant,
                   uint32_t version)
{
    unsigned char key[MNI_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    struct mni_vault *v = s->vault;
    pthread_mutex_lock(&v->mu);
    char *wrapped = wrap(v->master, tenant, version, key);
    pthread_mutex_unlock(&v->mu);
    sodium_memzero(key, sizeof key);
    if (!wrapped)
        return mni_seterr(s->db, MN_ENOMEM, "out of memory making a data key");
    struct mni_args a = {0};
    mni_arg_text(&a, tenant);
    mni_arg_int(&a, version);
    mni_arg_text(&a, wrapped);
    mni_arg_int(&a, mni_now_ms());
    int rc = s->driver->exec(s, tx, MNI_DATAKEY_ADD, &a, NULL, NULL, "storing a data key");
    free(wrapped);
    return rc;
}

int mni_vault_add_key(struct mni_store *s, const char *tenant_id, uint32_t version)
{
    return add_key(s, NULL, tenant_id, version);
}

int mni_vault_write_key(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                        struct mni_data_key *k)
{
    int rc = mni_vault_key(s, tx, tenant_id, 0, k);
    if (rc == MN_ENOTFOUND) {
        rc = add_key(s, tx, tenant_id, 1);
        if (rc == MN_OK)
            rc = mni_vault_key(s, tx, tenant_id, 0, k);
    }
    return rc == MN_ENOTFOUND ? mni_seterr(s->db, MN_EBACKEND, "tenant %s has no data key "
                                           "after one was stored", tenant_id) : rc;
}

/* ---- sealing and opening values ---- */

int mni_vault_seal(struct mni_store *s, const struct mni_data_key *k, const char *tenant_id,
                   const char *record, const char *column, const char *plain, char **out)
{
    char ad[512];
    size_t ad_len = mni_seal_ad(ad, sizeof ad, tenant_id, record, column);
    *out = ad_len ? mni_seal(k->key, k->version, ad, ad_len, plain, strlen(plain)) : NULL;
    return *out ? MN_OK : mni_seterr(s->db, MN_ENOMEM, "out of memory sealing %s of %s",
                                     column, record);
}

int mni_vault_open(struct mni_store *s, const char *tenant_id, const char *record,
                   const char *column, const char *stored, char **out)
{
    *out = NULL;
    uint32_t version;
    struct mni_data_key k;
    if (!mni_sealed_version(stored, &version))
        return mni_seterr(s->db, MN_ECORRUPT, "the %s of %s in tenant %s is not sealed, in an "
                          "encrypted database: it was written around the library; restore "
                          "the row", column, record, tenant_id);
    int rc = mni_vault_key(s, NULL, tenant_id, version, &k);
    if (rc == MN_ENOTFOUND)
        return mni_seterr(s->db, MN_ECORRUPT, "the %s of %s in tenant %s was sealed with data "
                          "key %" PRIu32 ", which the database no longer has", column, record,
                          tenant_id, version);
    if (rc != MN_OK)
        return rc;
    char ad[512];
    size_t ad_len = mni_seal_ad(ad, sizeof ad, tenant_id, record, column);
    int opened = ad_len ? mni_unseal(k.key, stored, ad, ad_len, out, NULL) : 1;
    sodium_memzero(&k, sizeof k);
    if (opened < 0)
        return mni_seterr(s->db, MN_ENOMEM, "out of memory opening %s of %s", column, record);
    if (opened > 0)
        return mni_seterr(s->db, MN_ECORRUPT, "the %s of %s in tenant %s does not open: it was "
                          "altered, or moved there from another row", column, record,
                          tenant_id);
    return MN_OK;
}

int mni_vault_open_in_place(struct mni_store *s, const char *tenant_id, const char *record,
                            const char *column, char **v)
{
    if (!*v)
        return MN_OK;
    char *plain;
    int rc = mni_vault_open(s, tenant_id, record, column, *v, &plain);
    if (rc == MN_OK) {
        free(*v);
        *v = plain;
    }
    return rc;
}

/* The record a history entry's values are bound to: the memory and its version. */
static void history_record(char *buf, size_t size, const char *memory_id, int64_t version)
{
    snprintf(buf, size, "%s@%" PRId64, memory_id, version);
}

int mni_vault_seal_rows(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                        const struct mni_memory_row *rows, size_t n,
                        const struct mni_memory_row **sealed)
{
    *sealed = rows;
    if (!s->vault)
        return MN_OK;
    struct mni_data_key k;
    int rc = mni_vault_write_key(s, tx, tenant_id, &k);
    struct mni_memory_row *out = rc == MN_OK ? calloc(n ? n : 1, sizeof *out) : NULL;
    if (rc == MN_OK && !out)
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory sealing memories");
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        out[i] = rows[i];
        out[i].text = out[i].metadata = out[i].words = NULL;
        char *text = NULL, *meta = NULL, *words = NULL;
        rc = mni_vault_seal(s, &k, tenant_id, rows[i].id, "text", rows[i].text, &text);
        if (rc == MN_OK)
            rc = mni_vault_seal(s, &k, tenant_id, rows[i].id, "metadata", rows[i].metadata,
                                &meta);
        if (rc == MN_OK)
            rc = mni_keywords_blind(s, &k, rows[i].text, &words);
        out[i].text = text;
        out[i].metadata = meta;
        out[i].words = words;
    }
    sodium_memzero(&k, sizeof k);
    if (rc != MN_OK && out) {
        mni_vault_rows_free(out, rows, n);
        out = NULL;
    }
    if (out)
        *sealed = out;
    return rc;
}

void mni_vault_rows_free(const struct mni_memory_row *sealed, const struct mni_memory_row *rows,
                         size_t n)
{
    if (!sealed || sealed == rows)
        return;
    for (size_t i = 0; i < n; i++) {
        free((char *)sealed[i].text);
        free((char *)sealed[i].metadata);
        free((char *)sealed[i].words);
    }
    free((void *)sealed);
}

int mni_vault_seal_history(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                           const char *memory_id, int64_t version, const char *before,
                           const char *after, char **sealed_before, char **sealed_after)
{
    *sealed_before = *sealed_after = NULL;
    if (!s->vault)
        return MN_OK;
    char record[256];
    history_record(record, sizeof record, memory_id, version);
    struct mni_data_key k;
    int rc = mni_vault_write_key(s, tx, tenant_id, &k);
    if (rc == MN_OK)
        rc = mni_vault_seal(s, &k, tenant_id, record, "before", before, sealed_before);
    if (rc == MN_OK)
        rc = mni_vault_seal(s, &k, tenant_id, record, "after", after, sealed_after);
    sodium_memzero(&k, sizeof k);
    return rc;
}

int mni_vault_open_memory(struct mni_store *s, mn_memory *m)
{
    if (!s->vault)
        return MN_OK;
    int rc = mni_vault_open_in_place(s, m->tenant_id, m->id, "text", &m->text);
    return rc == MN_OK ? mni_vault_open_in_place(s, m->tenant_id, m->id, "metadata",
                                                 &m->metadata) : rc;
}

int mni_vault_open_memories(struct mni_store *s, mn_memories *l)
{
    int rc = MN_OK;
    for (size_t i = 0; l && s->vault && rc == MN_OK && i < l->count; i++)
        rc = mni_vault_open_memory(s, l->items[i]);
    return rc;
}

int mni_vault_open_history(struct mni_store *s, const char *tenant_id, const char *memory_id,
                           mn_history *h)
{
    int rc = MN_OK;
    for (size_t i = 0; h && s->vault && rc == MN_OK && i < h->count; i++) {
        mn_history_entry *e = h->items[i];
        char record[256];
        history_record(record, sizeof record, memory_id, e->version);
        rc = mni_vault_open_in_place(s, tenant_id, record, "before", &e->before);
        if (rc == MN_OK)
            rc = mni_vault_open_in_place(s, tenant_id, record, "after", &e->after);
    }
    return rc;
}

int mni_vault_open_tasks(struct mni_store *s, struct mni_embed_task *t, size_t n)
{
    int rc = MN_OK;
    for (size_t i = 0; s->vault && rc == MN_OK && i < n; i++)
        rc = mni_vault_open_in_place(s, t[i].tenant_id, t[i].memory_id, "text", &t[i].text);
    return rc;
}

int mni_vault_metadata_matches(struct mni_store *s, const char *tenant_id, const char *id,
                               const char *stored, const cJSON *filter)
{
    if (!filter)
        return 1;
    char *plain = NULL;
    if (s->vault) {
        int rc = mni_vault_open(s, tenant_id, id, "metadata", stored, &plain);
        if (rc != MN_OK)
            return -rc;
        stored = plain;
    }
    cJSON *meta = cJSON_Parse(stored);
    int yes = meta && mni_json_filter_matches(meta, filter);
    cJSON_Delete(meta);
    free(plain);
    return yes;
}

int mni_vault_text_hashes(struct mni_store *s, const char *scope, const char *const *texts,
                          const size_t *lens, size_t n, unsigned char *out)
{
    if (!s->vault) {
        for (size_t i = 0; i < n; i++)
            crypto_hash_sha256(out + i * 32, (const unsigned char *)texts[i], lens[i]);
        return MN_OK;
    }
    struct mni_data_key k;
    int rc = mni_vault_write_key(s, NULL, scope, &k);
    if (rc != MN_OK)
        return rc;
    unsigned char sub[crypto_generichash_KEYBYTES];
    crypto_kdf_derive_from_key(sub, sizeof sub, CACHE_SUBKEY_ID, CACHE_SUBKEY_CTX, k.key);
    for (size_t i = 0; i < n; i++)
        crypto_generichash(out + i * 32, 32, (const unsigned char *)texts[i], lens[i], sub,
                           sizeof sub);
    sodium_memzero(sub, sizeof sub);
    sodium_memzero(&k, sizeof k);
    return MN_OK;
}

/* BLAKE2b-256 of text's normalised form in hex, keyed by key (NULL: unkeyed). */
static int content_hash(const unsigned char *key, size_t key_len, const char *text,
                        char out[MNI_CONTENT_HASH_HEX + 1])
{
    size_t len;
    char *norm = mni_normalise(text, &len);
    if (!norm)
        return MN_ENOMEM;
    unsigned char h[MNI_CONTENT_HASH_HEX / 2];
    crypto_generichash(h, sizeof h, (const unsigned char *)norm, len, key, key_len);
    sodium_memzero(norm, len);
    free(norm);
    sodium_bin2hex(out, MNI_CONTENT_HASH_HEX + 1, h, sizeof h);
    return MN_OK;
}

int mni_vault_content_hash_with(const struct mni_data_key *k, const char *text,
                                char out[MNI_CONTENT_HASH_HEX + 1])
{
    unsigned char sub[crypto_generichash_KEYBYTES];
    crypto_kdf_derive_from_key(sub, sizeof sub, DEDUP_SUBKEY_ID, DEDUP_SUBKEY_CTX, k->key);
    int rc = content_hash(sub, sizeof sub, text, out);
    sodium_memzero(sub, sizeof sub);
    return rc;
}

int mni_vault_content_hash(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                           const char *text, char out[MNI_CONTENT_HASH_HEX + 1])
{
    int rc = MN_OK;
    if (!s->vault) {
        rc = content_hash(NULL, 0, text, out);
    } else {
        struct mni_data_key k;
        rc = mni_vault_write_key(s, tx, tenant_id, &k);
        if (rc == MN_OK)
            rc = mni_vault_content_hash_with(&k, text, out);
        sodium_memzero(&k, sizeof k);
    }
    return rc == MN_ENOMEM ? mni_seterr(s->db, rc, "out of memory hashing a memory's text")
                           : rc;
}

/* ---- the master key ---- */

/* The master check: a random value sealed by the master key, so that a wrong key is told
 * at open, not as garbage later. */
static char *seal_check(const unsigned char master[MNI_KEY_BYTES])
{
    unsigned char nonce[32];
    randombytes_buf(nonce, sizeof nonce);
    return mni_seal(master, 0, CHECK_AD, sizeof CHECK_AD, nonce, sizeof nonce);
}

static int check_opens(const unsigned char master[MNI_KEY_BYTES], const char *check)
{
    char *plain = NULL;
    int rc = mni_unseal(master, check, CHECK_AD, sizeof CHECK_AD, &plain, NULL);
    free(plain);
    return rc;
}

static int meta(struct mni_store *s, const char *key, char **value)
{
    *value = NULL;
    return s->ops->meta_get(s, key, value);
}

/* Makes a new database encrypted: the check first, then the scheme that turns it on, each
 * insert-if-absent (two processes racing read back the one that won). */
static int turn_on(struct mni_store *s, const unsigned char master[MNI_KEY_BYTES])
{
    mn_tenants *t = NULL;
    int rc = s->ops->tenant_list(s, &t);
    if (rc == MN_OK && t->count > 0)
        rc = mni_seterr(s->db, MN_EINVAL, "MN_OPEN_ENCRYPT: this database has tenants already, "
                        "stored in the clear; encryption is chosen when a database is created "
                        "(export its memories and import them into a new encrypted database)");
    mn_tenants_free(t);
    char *check = rc == MN_OK ? seal_check(master) : NULL;
    if (rc == MN_OK && !check)
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory turning encryption on");
    if (rc == MN_OK)
        rc = s->ops->meta_add(s, "encryption_check", check);
    if (rc == MN_OK)
        rc = s->ops->meta_add(s, "encryption", SCHEME);
    free(check);
    return rc;
}

static void vault_free(struct mni_vault *v)
{
    if (!v)
        return;
    if (v->keys.stripes)
        mni_striped_destroy(&v->keys);
    sodium_free(v->master);
    pthread_mutex_destroy(&v->mu);
    free(v);
}

int mni_vault_attach(struct mni_store *s, int encrypt, const char *key_file, int readonly)
{
    char *scheme = NULL, *check = NULL;
    int rc = meta(s, "encryption", &scheme);
    if (rc != MN_OK || (!scheme && !encrypt)) {
        free(scheme);
        return rc;
    }
    const char *path = mni_master_key_path(key_file);
    struct mni_vault *v = NULL;
    if (scheme && strcmp(scheme, SCHEME) != 0)
        rc = mni_seterr(s->db, MN_ECORRUPT, "the database is encrypted with \"%s\", which this "
                        "version of the library does not know; use a newer one", scheme);
    else if (!scheme && readonly)
        rc = mni_seterr(s->db, MN_EINVAL, "MN_OPEN_ENCRYPT with MN_OPEN_READONLY: a database "
                        "opened read-only cannot be made encrypted");
    else if (!path)
        rc = mni_seterr(s->db, MN_EKEY, "%s: give the master key file in "
                        "mn_config.master_key_file or MANUSHYA_MASTER_KEY_FILE "
                        "(mn_master_key_create makes one)",
                        scheme ? "the database is encrypted" : "MN_OPEN_ENCRYPT needs a master key");
    else if (!(v = calloc(1, sizeof *v)) || !(v->master = sodium_malloc(MNI_KEY_BYTES)))
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory opening an encrypted database");
    if (v) {
        pthread_mutex_init(&v->mu, NULL);
        if (rc == MN_OK)
            rc = mni_master_key_read(s->db, path, v->master);
        if (rc == MN_OK && mni_striped_init(&v->keys, STRIPES, SIZE_MAX, entry_free, NULL,
                                            NULL) != MN_OK)
            rc = mni_seterr(s->db, MN_ENOMEM, "out of memory opening an encrypted database");
    }
    if (rc == MN_OK && !scheme)
        rc = turn_on(s, v->master);
    if (rc == MN_OK)
        rc = meta(s, "encryption_check", &check);
    if (rc == MN_OK && (!check || check_opens(v->master, check) != 0))
        rc = mni_seterr(s->db, MN_EKEY, "the master key in %s does not open this database: "
                        "give the key it was created with, or the one mn_master_key_rotate "
                        "last set", path);
    free(scheme);
    free(check);
    if (rc != MN_OK) {
        vault_free(v);
        return rc;
    }
    s->vault = v;
    return MN_OK;
}

void mni_vault_detach(struct mni_store *s)
{
    vault_free(s->vault);
    s->vault = NULL;
}

/* Every data key as stored, for re-wrapping. */
struct wrapped_key {
    char *tenant;
    uint32_t version;
    char *wrapped;
};
struct wrapped_keys {
    struct wrapped_key *v;
    size_t n, cap;
};

static int read_wrapped(void *ctx, const struct mni_row *r)
{
    struct wrapped_keys *l = ctx;
    if (mni_grow((void **)&l->v, &l->cap, l->n, sizeof *l->v) != MN_OK)
        return -MN_ENOMEM;
    struct wrapped_key *k = &l->v[l->n++];
    k->tenant = r->ops->text(r, r->at);
    k->version = (uint32_t)r->ops->integer(r, r->at + 1);
    k->wrapped = r->ops->text(r, r->at + 2);
    return k->tenant && k->wrapped ? 0 : -MN_ENOMEM;
}

/* Unwraps each key with the old master and stores it wrapped by the new one, in tx. */
static int rewrap_all(struct mni_store *s, struct mni_tx *tx,
                      const unsigned char old[MNI_KEY_BYTES],
                      const unsigned char new_master[MNI_KEY_BYTES])
{
    struct wrapped_keys l = {0};
    int rc = s->driver->read(s, tx, MNI_DATAKEY_ALL, &(struct mni_args){0}, read_wrapped, &l,
                             "reading the data keys");
    if (rc == -MN_ENOMEM || rc == MN_ENOMEM)
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory reading the data keys");
    for (size_t i = 0; rc == MN_OK && i < l.n; i++) {
        unsigned char key[MNI_KEY_BYTES];
        rc = unwrap(s, old, l.v[i].tenant, l.v[i].version, l.v[i].wrapped, key);
        char *again = rc == MN_OK ? wrap(new_master, l.v[i].tenant, l.v[i].version, key) : NULL;
        sodium_memzero(key, sizeof key);
        if (rc == MN_OK && !again)
            rc = mni_seterr(s->db, MN_ENOMEM, "out of memory re-wrapping the data keys");
        if (rc == MN_OK) {
            struct mni_args a = {0};
            mni_arg_text(&a, l.v[i].tenant);
            mni_arg_int(&a, l.v[i].version);
            mni_arg_text(&a, again);
            rc = s->driver->exec(s, tx, MNI_DATAKEY_SET, &a, NULL, NULL,
                                 "re-wrapping a data key");
        }
        free(again);
    }
    for (size_t i = 0; i < l.n; i++) {
        free(l.v[i].tenant);
        free(l.v[i].wrapped);
    }
    free(l.v);
    return rc;
}

int mni_vault_rotate_master(struct mni_store *s, const char *new_key_file)
{
    struct mni_vault *v = s->vault;
    if (!v)
        return mni_seterr(s->db, MN_EINVAL, "mn_master_key_rotate: this database is not "
                          "encrypted, so it has no master key");
    unsigned char *fresh = sodium_malloc(MNI_KEY_BYTES);
    if (!fresh)
        return mni_seterr(s->db, MN_ENOMEM, "out of memory reading the new master key");
    int rc = mni_master_key_read(s->db, new_key_file, fresh);
    char *check = rc == MN_OK ? seal_check(fresh) : NULL;
    if (rc == MN_OK && !check)
        rc = mni_seterr(s->db, MN_ENOMEM, "out of memory rotating the master key");
    struct mni_tx *tx = NULL;
    if (rc == MN_OK)
        rc = s->driver->begin(s, 0, NULL, &tx);
    if (rc == MN_OK) {
        /* The master is held for the whole write: no data key is wrapped meanwhile by the
         * key that is being replaced. */
        pthread_mutex_lock(&v->mu);
        rc = rewrap_all(s, tx, v->master, fresh);
        if (rc == MN_OK) {
            struct mni_args a = {0};
            mni_arg_text(&a, "encryption_check");
            mni_arg_text(&a, check);
            rc = s->driver->exec(s, tx, MNI_META_PUT, &a, NULL, NULL,
                                 "recording the new master key's check");
        }
        rc = s->driver->end(s, tx, rc);
        if (rc == MN_OK) {
            unsigned char *old = v->master;
            v->master = fresh;
            fresh = old;
        }
        pthread_mutex_unlock(&v->mu);
    }
    free(check);
    sodium_free(fresh);
    return rc;
}
