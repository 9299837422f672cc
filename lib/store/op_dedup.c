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

/* The ids of what the n wants name (ids[i] malloc'd, NULL for none; all NULL on failure) and
 * their keys, by the driver's one statement for the batch. */
static int find_ids(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                    const struct mni_find *wants, size_t n, int64_t now, char **ids,
                    int64_t *keys, int64_t *seen_seq)
{
    const char *doing = "looking for the memory an add repeats";
    memset(keys, 0, n * sizeof *keys);
    if (seen_seq)
        *seen_seq = 0;
    int rc = n ? s->driver->find_ids(s, tx, tenant_id, wants, n, now, ids, keys, seen_seq,
                                     doing) : MN_OK;
    if (rc == MN_ENOMEM || rc == -MN_ENOMEM)
        rc = mni_seterr(s->db, MN_ENOMEM, "%s: out of memory", doing);
    if (rc != MN_OK)
        for (size_t i = 0; i < n; i++) {
            free(ids[i]);
            ids[i] = NULL;
        }
    return rc;
}

/* What a lookup of n wants holds: their ids and keys (find_ids). */
struct found {
    char **ids;
    int64_t *keys;
};

static int found_alloc(struct mni_store *s, struct found *f, size_t n)
{
    f->ids = calloc(n ? n : 1, sizeof *f->ids);
    f->keys = calloc(n ? n : 1, sizeof *f->keys);
    return f->ids && f->keys ? MN_OK
           : mni_seterr(s->db, MN_ENOMEM, "out of memory looking for what %zu adds repeat", n);
}

static void found_free(struct found *f, size_t n)
{
    for (size_t i = 0; f->ids && i < n; i++)
        free(f->ids[i]);
    free(f->ids);
    free(f->keys);
}

int mni_op_memory_claims(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                         const struct mni_memory_writes *w, int64_t seq,
                         char (*hashes)[MNI_CONTENT_HASH_HEX + 1])
{
    int unchanged = w->seen_seq && seq == w->seen_seq;
    struct found f = {0};
    struct mni_find *wants = calloc(w->n ? w->n : 1, sizeof *wants);
    int rc = wants ? found_alloc(s, &f, w->n)
                   : mni_seterr(s->db, MN_ENOMEM, "out of memory checking what an add repeats");
    for (size_t i = 0; rc == MN_OK && i < w->n; i++) {
        const struct mni_memory_row *r = &w->rows[i];
        /* A plain store's hash is the text's alone, so the lookup's stands; an encrypted
         * store's is keyed, and its key may have turned since the lookup. */
        if (r->content_hash && !s->vault)
            memcpy(hashes[i], r->content_hash, sizeof hashes[i]);
        else
            rc = mni_vault_content_hash(s, tx, tenant_id, r->text, hashes[i]);
        wants[i] = (struct mni_find){ .identity_id = r->identity_id, .key = r->external_key,
                                      .type = w->dedup && w->dedup[i] ? r->type : NULL,
                                      .text = r->text };
        memcpy(wants[i].hash, hashes[i], sizeof wants[i].hash);
    }
    if (rc == MN_OK && !unchanged)
        rc = find_ids(s, tx, tenant_id, wants, w->n, w->now, f.ids, f.keys, NULL);
    for (size_t i = 0; rc == MN_OK && !unchanged && i < w->n; i++)
        if (f.ids[i])
            rc = MNI_EBUSY_VERSION;
    found_free(&f, w->n);
    free(wants);
    return rc;
}

/* The memories found (ids and keys of f, n of them) into out, by their keys in one read. A
 * memory found and then gone before it was read is none (the add's write checks again). */
static int read_found(struct mni_store *s, const char *tenant_id, const struct found *f,
                      size_t n, int64_t now, mn_memory **out)
{
    const unsigned flags = MN_WITH_DELETED | MN_WITH_EXPIRED | MN_WITH_EMBEDDING;
    size_t hits = 0;
    for (size_t i = 0; i < n; i++)
        hits += f->ids[i] != NULL;
    if (!hits)
        return MN_OK;
    int64_t *keys = malloc(hits * sizeof *keys);
    size_t *at = malloc(hits * sizeof *at), *which = malloc(hits * sizeof *which);
    mn_memories *l = NULL;
    int rc = keys && at && which ? MN_OK
             : mni_seterr(s->db, MN_ENOMEM, "out of memory reading what %zu adds repeat", hits);
    for (size_t i = 0, k = 0; rc == MN_OK && i < n; i++)
        if (f->ids[i]) {
            keys[k] = f->keys[i];
            at[k++] = i;
        }
    if (rc == MN_OK)
        rc = s->ops->memory_get_keys(s, tenant_id, keys, hits, flags, now, &l, which);
    for (size_t j = 0; rc == MN_OK && j < l->count; j++) {
        out[at[which[j]]] = l->items[j];
        l->items[j] = NULL;
    }
    if (l)
        l->count = 0;
    mn_memories_free(l);
    free(keys);
    free(at);
    free(which);
    return rc;
}

int mni_op_memory_find_many(struct mni_store *s, const char *tenant_id,
                            struct mni_find *wants, size_t n, int64_t now, mn_memory **out,
                            int64_t *seen_seq)
{
    struct found f = {0};
    memset(out, 0, n * sizeof *out);
    int rc = found_alloc(s, &f, n);
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        if (wants[i].type)
            rc = mni_vault_content_hash(s, NULL, tenant_id, wants[i].text, wants[i].hash);
    if (rc == MN_OK)
        rc = find_ids(s, NULL, tenant_id, wants, n, now, f.ids, f.keys, seen_seq);
    if (rc == MN_OK)
        rc = read_found(s, tenant_id, &f, n, now, out);
    for (size_t i = 0; rc != MN_OK && i < n; i++) {
        mn_memory_free(out[i]);
        out[i] = NULL;
    }
    found_free(&f, n);
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

/* Hashes one batch in one write: *done when none was left. The batch is read before the
 * write, so that a store with nothing to hash (every open asks) writes nothing and takes no
 * change number; a row hashed (or rewritten, which hashes it) since it was read keeps its
 * hash (MNI_MEMORY_HASH_SET sets only a missing one). */
static int backfill_batch(struct mni_store *s, size_t *hashed, int *done)
{
    struct mni_tx *tx = NULL;
    struct unhashed u = {0};
    struct mni_args a = {0};
    mni_arg_int(&a, BACKFILL_BATCH);
    const char *doing = "hashing the texts of memories written by an older version";
    int rc = s->driver->read(s, NULL, MNI_MEMORY_UNHASHED, &a, keep_unhashed, &u, doing);
    if (rc == MN_ENOMEM || rc == -MN_ENOMEM)
        rc = mni_seterr(s->db, MN_ENOMEM, "%s: out of memory", doing);
    int64_t last;
    /* A change number: a row hashed can make an add's lookup find what it did not
     * (mni_op_memory_claims). */
    if (rc == MN_OK && u.n)
        rc = s->driver->begin(s, 1, &last, &tx);
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
    if (tx)
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

/* Once a backfill has found nothing left to hash, none will ever be: every writer since the
 * migration that added the hashes sets them, and a library older than it cannot open the
 * database. This meta key says so, and an open reads it instead of looking for rows without
 * a hash in every tenant (on PostgreSQL that look plans over every partition of memories: a
 * tenth of a one-shot search's time). A database migrated from before the hashes has no key. */
#define ALL_HASHED_KEY "content_hashed"

int mni_op_memory_hash_backfill(struct mni_store *s, size_t *hashed)
{
    char *all = NULL;
    *hashed = 0;
    int rc = s->ops->meta_get(s, ALL_HASHED_KEY, &all);
    int known = all != NULL;
    free(all);
    int done = known;
    while (rc == MN_OK && !done)
        rc = backfill_batch(s, hashed, &done);
    return rc == MN_OK && !known ? s->ops->meta_add(s, ALL_HASHED_KEY, "all") : rc;
}
