/*
 * Deduplication and upsert in the store, written once over the driver (driver.h): finding the
 * memory an add repeats (by its owner's key, or by the content hash of its text), checking in
 * the add's own write that nobody added it since, and hashing the rows written before content
 * hashes were kept.
 */
#include "store/driver.h"
#include "store/list.h"
#include "store/vault.h"
#include "core/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Rows hashed per write of the backfill. */
#define BACKFILL_BATCH 256

/* The first row's id (column 0), copied; stops the read. */
static int first_id(void *ctx, const struct mni_row *r)
{
    char **id = ctx;
    *id = r->ops->text(r, r->at);
    return *id ? 1 : -MN_ENOMEM;
}

/* The id of the memory that holds key, or (key NULL) has that content: *id malloc'd, NULL
 * when there is none. In tx, or a read of its own when tx is NULL. */
static int find_id(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                   const char *identity_id, const char *key, const char *type,
                   const char *hash, int64_t now, char **id)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, identity_id);
    if (key) {
        mni_arg_text(&a, key);
    } else {
        mni_arg_text(&a, type);
        mni_arg_text(&a, hash);
        mni_arg_int(&a, now);
    }
    *id = NULL;
    const char *doing = "looking for the memory an add repeats";
    int rc = s->driver->read(s, tx, key ? MNI_MEMORY_FIND_KEY : MNI_MEMORY_FIND_CONTENT, &a,
                             first_id, id, doing);
    if (rc == MN_ENOMEM || rc == -MN_ENOMEM)
        rc = mni_seterr(s->db, MN_ENOMEM, "%s: out of memory", doing);
    return rc;
}

int mni_op_memory_claims(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                         const struct mni_memory_writes *w,
                         char (*hashes)[MNI_CONTENT_HASH_HEX + 1])
{
    int rc = MN_OK;
    for (size_t i = 0; rc == MN_OK && i < w->n; i++) {
        const struct mni_memory_row *r = &w->rows[i];
        rc = mni_vault_content_hash(s, tx, tenant_id, r->text, hashes[i]);
        char *key_holder = NULL, *twin = NULL;
        if (rc == MN_OK && r->external_key)
            rc = find_id(s, tx, tenant_id, r->identity_id, r->external_key, NULL, NULL, 0,
                         &key_holder);
        if (rc == MN_OK && !key_holder && w->dedup && w->dedup[i])
            rc = find_id(s, tx, tenant_id, r->identity_id, NULL, r->type, hashes[i], w->now,
                         &twin);
        if (rc == MN_OK && (key_holder || twin))
            rc = MNI_EBUSY_VERSION;
        free(key_holder);
        free(twin);
    }
    return rc;
}

int mni_op_memory_find(struct mni_store *s, const char *tenant_id, const char *identity_id,
                       const char *key, const char *type, const char *text, int64_t now,
                       mn_memory **out)
{
    char hash[MNI_CONTENT_HASH_HEX + 1];
    char *id = NULL;
    *out = NULL;
    int rc = key ? MN_OK : mni_vault_content_hash(s, NULL, tenant_id, text, hash);
    if (rc == MN_OK)
        rc = find_id(s, NULL, tenant_id, identity_id, key, type, hash, now, &id);
    if (rc == MN_OK && !id)
        rc = MN_ENOTFOUND;
    if (rc == MN_OK) {
        struct mni_store_query q = {
            .flags = MN_WITH_DELETED | MN_WITH_EXPIRED | MN_WITH_EMBEDDING, .now = now };
        rc = s->ops->memory_get(s, tenant_id, id, &q, out);
    }
    free(id);
    return rc;
}

/* A row to hash: its tenant, id and stored text. */
struct unhashed {
    char *(*v)[3];
    size_t n, cap;
};

static int keep_unhashed(void *ctx, const struct mni_row *r)
{
    struct unhashed *u = ctx;
    if (mni_grow((void **)&u->v, &u->cap, u->n, sizeof *u->v) != MN_OK)
        return -MN_ENOMEM;
    char **row = u->v[u->n++];
    for (int c = 0; c < 3; c++)
        row[c] = r->ops->text(r, r->at + c);
    return row[0] && row[1] && row[2] ? 0 : -MN_ENOMEM;
}

/* Hashes one batch in one write: *done when none was left. */
static int backfill_batch(struct mni_store *s, size_t *hashed, int *done)
{
    struct mni_tx *tx;
    struct unhashed u = {0};
    int rc = s->driver->begin(s, 0, NULL, &tx);
    if (rc != MN_OK)
        return rc;
    struct mni_args a = {0};
    mni_arg_int(&a, BACKFILL_BATCH);
    const char *doing = "hashing the texts of memories written by an older version";
    rc = s->driver->read(s, tx, MNI_MEMORY_UNHASHED, &a, keep_unhashed, &u, doing);
    if (rc == MN_ENOMEM || rc == -MN_ENOMEM)
        rc = mni_seterr(s->db, MN_ENOMEM, "%s: out of memory", doing);
    for (size_t i = 0; rc == MN_OK && i < u.n; i++) {
        char **row = u.v[i];
        char hash[MNI_CONTENT_HASH_HEX + 1];
        rc = s->vault ? mni_vault_open_in_place(s, row[0], row[1], "text", &row[2]) : MN_OK;
        if (rc == MN_OK)
            rc = mni_vault_content_hash(s, tx, row[0], row[2], hash);
        struct mni_args h = {0};
        mni_arg_text(&h, row[0]);
        mni_arg_text(&h, row[1]);
        mni_arg_text(&h, hash);
        if (rc == MN_OK)
            rc = s->driver->exec(s, tx, MNI_MEMORY_HASH_SET, &h, NULL, NULL, doing);
    }
    rc = s->driver->end(s, tx, rc);
    if (rc == MN_OK)
        *hashed += u.n;
    *done = u.n < BACKFILL_BATCH;
    for (size_t i = 0; i < u.n; i++)
        for (int c = 0; c < 3; c++) {
            if (u.v[i][c])
                sodium_memzero(u.v[i][c], strlen(u.v[i][c]));
            free(u.v[i][c]);
        }
    free(u.v);
    return rc;
}

int mni_op_memory_hash_backfill(struct mni_store *s, size_t *hashed)
{
    int done = 0, rc = MN_OK;
    *hashed = 0;
    while (rc == MN_OK && !done)
        rc = backfill_batch(s, hashed, &done);
    return rc;
}
