/* Changes to existing memory rows, written once over the driver (driver.h): each in one
 * transaction that also advances the change sequence. */
#include "store/driver.h"
#include "store/list.h"
#include "store/notfound.h"
#include "store/vault.h"
#include "core/error.h"

#include <stdlib.h>

/* Runs a statement on (tenant, id[, now, seq]) and checks that it changed a row. */
static int change_row(struct mni_store *s, struct mni_tx *tx, enum mni_stmt id,
                      const char *tenant_id, const char *memory_id, int64_t now, int64_t seq,
                      const char *doing)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, memory_id);
    if (id == MNI_MEMORY_SOFT_DELETE || id == MNI_MEMORY_RESTORE) {
        mni_arg_int(&a, now);
        mni_arg_int(&a, seq);
    }
    int64_t changed = 0;
    int rc = s->driver->exec(s, tx, id, &a, &changed, NULL, doing);
    if (rc == MN_OK && id != MNI_HISTORY_DELETE && changed == 0)
        rc = mni_store_no_memory(s->db, doing, memory_id,
                                 id == MNI_MEMORY_SOFT_DELETE ? MNI_WANT_LIVE
                                 : id == MNI_MEMORY_RESTORE ? MNI_WANT_DELETED : MNI_WANT_ANY);
    return rc;
}

/* Hard delete: the row and its history go together (the backend leaves the tombstone). */
static int delete_one(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                      const char *id, int mode, int64_t now, int64_t seq)
{
    if (mode == MN_DELETE_SOFT)
        return change_row(s, tx, MNI_MEMORY_SOFT_DELETE, tenant_id, id, now, seq,
                          "deleting a memory");
    int rc = change_row(s, tx, MNI_MEMORY_HARD_DELETE, tenant_id, id, now, seq,
                        "deleting a memory");
    return rc == MN_OK ? change_row(s, tx, MNI_HISTORY_DELETE, tenant_id, id, now, seq,
                                    "deleting a memory's history")
                       : rc;
}

/* The row, then its history entry, as stored; no row means another writer changed (or
 * deleted) it since the caller read it. */
static int write_row(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                     const struct mni_memory_row *row, int64_t expected_version, int64_t seq,
                     const char *hash, const char *changed_by, const char *before,
                     const char *after)
{
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_text(&a, row->id);
    mni_arg_text(&a, row->text);
    mni_arg_text(&a, row->type);
    mni_arg_text(&a, row->metadata);
    mni_arg_real(&a, row->importance);
    mni_arg_int(&a, row->version);
    mni_arg_int(&a, row->updated_at);
    mni_arg_int(&a, seq);
    mni_arg_vec(&a, row->embedding);
    mni_arg_int(&a, expected_version);
    mni_arg_text(&a, hash);
    mni_arg_text(&a, row->external_key);
    mni_arg_text(&a, row->words);
    int64_t changed = 0;
    int rc = s->driver->exec(s, tx, MNI_MEMORY_UPDATE, &a, &changed, NULL, "updating a memory");
    if (rc == MN_OK && changed == 0)
        return MNI_EBUSY_VERSION;
    if (rc != MN_OK)
        return rc;
    struct mni_args h = {0};
    mni_arg_text(&h, tenant_id);
    mni_arg_text(&h, row->id);
    mni_arg_int(&h, row->version);
    mni_arg_int(&h, row->updated_at);
    mni_arg_text(&h, changed_by);
    mni_arg_text(&h, before);
    mni_arg_text(&h, after);
    return s->driver->exec(s, tx, MNI_HISTORY_INSERT, &h, NULL, NULL,
                           "recording a memory's history");
}

/* write_row with the text's content hash, and the values sealed in an encrypted store. */
static int update_row(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                      const struct mni_memory_row *row, int64_t expected_version, int64_t seq,
                      const char *changed_by, const char *before, const char *after)
{
    const struct mni_memory_row *plain = row;
    char *sealed_before = NULL, *sealed_after = NULL;
    char hash[MNI_CONTENT_HASH_HEX + 1];
    int rc = mni_vault_content_hash(s, tx, tenant_id, row->text, hash);
    if (rc == MN_OK)
        rc = mni_vault_seal_rows(s, tx, tenant_id, plain, 1, &row);
    if (rc == MN_OK)
        rc = mni_vault_seal_history(s, tx, tenant_id, row->id, row->version, before, after,
                                    &sealed_before, &sealed_after);
    if (rc == MN_OK)
        rc = write_row(s, tx, tenant_id, row, expected_version, seq, hash, changed_by,
                       sealed_before ? sealed_before : before,
                       sealed_after ? sealed_after : after);
    mni_vault_rows_free(row, plain, 1);
    free(sealed_before);
    free(sealed_after);
    return rc;
}

/* One memory's next version in tx, with seq: the row, its history entry, and its embedding
 * job (asynchronous embedding: a new text queues its job, a given vector ends one). */
static int rewrite(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                   const struct mni_memory_row *row, int64_t expected_version, int64_t seq,
                   const char *changed_by, const char *before, const char *after)
{
    int rc = update_row(s, tx, tenant_id, row, expected_version, seq, changed_by, before, after);
    if (rc == MN_OK && row->embed_job) {
        rc = s->driver->job_enqueue(s, tx, tenant_id, row, seq);
    } else if (rc == MN_OK && row->embedding) {
        struct mni_args a = {0};
        mni_arg_text(&a, tenant_id);
        mni_arg_text(&a, row->id);
        rc = s->driver->exec(s, tx, MNI_JOB_DROP, &a, NULL, NULL,
                             "dropping a memory's embedding job");
    }
    return rc;
}

/* The rewrites of an add, with seqs from first_seq on. */
static int rewrite_all(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                       const struct mni_memory_rewrite *w, size_t n, int64_t first_seq)
{
    int rc = MN_OK;
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = rewrite(s, tx, tenant_id, &w[i].row, w[i].expected_version,
                     first_seq + (int64_t)i, w[i].changed_by, w[i].before, w[i].after);
    return rc;
}

int mni_op_memory_insert_end(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                             const struct mni_memory_writes *w, int64_t first_seq, int rc)
{
    if (rc == MN_OK)
        rc = rewrite_all(s, tx, tenant_id, w->rewrites, w->nrewrites, first_seq);
    if (rc == MN_OK)
        rc = mni_audit_append(s, tx, w->au_update);
    rc = mni_audit_end(s, tx, w->au_create, rc);
    if (rc == MN_OK)
        mni_store_changed(s, tenant_id);
    return rc;
}

int mni_op_memory_update(struct mni_store *s, const char *tenant_id,
                         const struct mni_memory_row *row, int64_t expected_version,
                         const char *changed_by, const char *before, const char *after,
                         const struct mni_audit *au)
{
    struct mni_tx *tx;
    int64_t seq;
    int rc = s->driver->begin(s, 1, &seq, &tx);
    if (rc != MN_OK)
        return rc;
    rc = rewrite(s, tx, tenant_id, row, expected_version, seq, changed_by, before, after);
    rc = mni_audit_end(s, tx, au, rc);
    if (rc == MN_OK)
        mni_store_changed(s, tenant_id);
    return rc;
}

int mni_op_memory_delete(struct mni_store *s, const char *tenant_id, const char *const *ids,
                         size_t n, int mode, int64_t now,
                         const struct mni_audit *au)
{
    struct mni_tx *tx;
    int64_t last = 0;
    int rc = s->driver->begin(s, (int64_t)n, &last, &tx);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = delete_one(s, tx, tenant_id, ids[i], mode, now, last - (int64_t)n + 1 + (int64_t)i);
    rc = mni_audit_end(s, tx, au, rc);
    if (rc == MN_OK)
        mni_store_changed(s, tenant_id);
    return rc;
}

int mni_op_memory_restore(struct mni_store *s, const char *tenant_id, const char *id,
                          int64_t now,
                          const struct mni_audit *au)
{
    struct mni_tx *tx;
    int64_t seq;
    int rc = s->driver->begin(s, 1, &seq, &tx);
    if (rc == MN_OK)
        rc = mni_audit_end(s, tx, au, change_row(s, tx, MNI_MEMORY_RESTORE, tenant_id, id, now,
                                                 seq, "restoring a memory"));
    if (rc == MN_OK)
        mni_store_changed(s, tenant_id);
    return rc;
}

/* The ids an expiry read found, copied: its rows live only during the read. */
struct ids {
    char **v;
    size_t n, cap;
};

static int keep_id(void *ctx, const struct mni_row *r)
{
    struct ids *ids = ctx;
    if (mni_grow((void **)&ids->v, &ids->cap, ids->n, sizeof *ids->v) != MN_OK)
        return -MN_ENOMEM;
    char *id = r->ops->text(r, r->at);
    if (!id)
        return -MN_ENOMEM;
    ids->v[ids->n++] = id;
    return 0;
}

/* The ids as a JSON array (cJSON's allocation, which is malloc's). */
static char *ids_json(char **v, size_t n)
{
    cJSON *a = cJSON_CreateStringArray((const char *const *)v, (int)n);
    char *text = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return text;
}

int mni_op_memory_purge_expired(struct mni_store *s, const char *tenant_id, int64_t now,
                                size_t *purged,
                                const struct mni_audit *au)
{
    struct mni_tx *tx;
    struct ids ids = {0};
    int64_t last = 0;
    int rc = s->driver->begin(s, 0, &last, &tx);
    if (rc != MN_OK)
        return rc;
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_int(&a, now);
    const char *doing = "finding expired memories";
    rc = s->driver->read(s, tx, MNI_MEMORY_EXPIRED, &a, keep_id, &ids, doing);
    if (rc == MN_ENOMEM)
        mni_seterr(s->db, rc, "%s: out of memory", doing);
    size_t n = ids.n;
    if (rc == MN_OK && n)
        rc = s->driver->bump_seq(s, tx, (int64_t)n, &last);
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = delete_one(s, tx, tenant_id, ids.v[i], MN_DELETE_HARD, now,
                        last - (int64_t)n + 1 + (int64_t)i);
    /* The entry names the purged ids, which only this write found; a purge that found none
     * changed nothing and is not recorded. */
    struct mni_audit named = au ? *au : (struct mni_audit){0};
    char *resources = NULL;
    if (rc == MN_OK && n && au && !(named.resources = resources = ids_json(ids.v, n)))
        rc = mni_seterr(s->db, MN_ENOMEM, "%s: out of memory", doing);
    rc = mni_audit_end(s, tx, n && au ? &named : NULL, rc);
    free(resources);
    if (rc == MN_OK && n)
        mni_store_changed(s, tenant_id);
    for (size_t i = 0; i < n; i++)
        free(ids.v[i]);
    free(ids.v);
    if (rc == MN_OK && purged)
        *purged = n;
    return rc;
}
