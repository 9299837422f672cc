/* Memories in the SQLite backend: changes to existing rows, each in one transaction that also
 * advances the change sequence. */
#include "store/sqlite/sqlite.h"
#include "store/notfound.h"
#include "core/error.h"

#include <stdlib.h>

/* Runs a statement bound (tenant, id, extra...) and checks that it changed a row. */
static int change_row(struct sq_store *s, struct sq_conn *c, enum sq_stmt_id id,
                      const char *tenant_id, const char *memory_id, int64_t now, int64_t seq,
                      const char *doing)
{
    sqlite3_stmt *q = sq_stmt(s, c, id);
    if (!q)
        return MN_EBACKEND;
    sq_bind_text(q, 1, tenant_id);
    sq_bind_text(q, 2, memory_id);
    if (id == SQ_MEMORY_SOFT_DELETE || id == SQ_MEMORY_RESTORE) {
        sqlite3_bind_int64(q, 3, now);
        sqlite3_bind_int64(q, 4, seq);
    }
    int rc = sq_exec(s, c, q, doing);
    if (rc == MN_OK && id != SQ_HISTORY_DELETE && sqlite3_changes(c->db) == 0)
        return mni_store_no_memory(s->base.db, doing, memory_id,
                                  id == SQ_MEMORY_SOFT_DELETE ? MNI_WANT_LIVE
                                  : id == SQ_MEMORY_RESTORE ? MNI_WANT_DELETED : MNI_WANT_ANY);
    return rc;
}

/* Hard delete: the row and its history go together. */
static int delete_one(struct sq_store *s, struct sq_conn *c, const char *tenant_id,
                      const char *id, int mode, int64_t now, int64_t seq)
{
    if (mode == MN_DELETE_SOFT)
        return change_row(s, c, SQ_MEMORY_SOFT_DELETE, tenant_id, id, now, seq,
                          "deleting a memory");
    int rc = change_row(s, c, SQ_MEMORY_HARD_DELETE, tenant_id, id, now, seq, "deleting a memory");
    return rc == MN_OK ? change_row(s, c, SQ_HISTORY_DELETE, tenant_id, id, now, seq,
                                    "deleting a memory's history")
                       : rc;
}

int sq_memory_update(struct mni_store *st, const char *tenant_id, const struct mni_memory_row *row,
                     int64_t expected_version, const char *changed_by, const char *before,
                     const char *after)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int64_t seq;
    int rc = sq_write_begin(s, &c, 1, &seq);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_MEMORY_UPDATE);
    if (!q)
        rc = MN_EBACKEND;
    if (rc == MN_OK) {
        sq_bind_text(q, 1, tenant_id);
        sq_bind_text(q, 2, row->id);
        sq_bind_text(q, 3, row->text);
        sq_bind_text(q, 4, row->type);
        sq_bind_text(q, 5, row->metadata);
        sqlite3_bind_double(q, 6, row->importance);
        sqlite3_bind_int64(q, 7, row->version);
        sqlite3_bind_int64(q, 8, row->updated_at);
        sqlite3_bind_int64(q, 9, seq);
        if (row->embedding)
            sqlite3_bind_blob(q, 10, row->embedding, s->base.dim * (int)sizeof(float),
                              SQLITE_STATIC);
        sqlite3_bind_int64(q, 11, expected_version);
        rc = sq_exec(s, c, q, "updating a memory");
        /* No row: another writer changed (or deleted) it since the caller read it. */
        if (rc == MN_OK && sqlite3_changes(c->db) == 0)
            rc = MNI_EBUSY_VERSION;
    }
    q = rc == MN_OK ? sq_stmt(s, c, SQ_HISTORY_INSERT) : NULL;
    if (rc == MN_OK && !q)
        rc = MN_EBACKEND;
    if (rc == MN_OK) {
        sq_bind_text(q, 1, tenant_id);
        sq_bind_text(q, 2, row->id);
        sqlite3_bind_int64(q, 3, row->version);
        sqlite3_bind_int64(q, 4, row->updated_at);
        sq_bind_text(q, 5, changed_by);
        sq_bind_text(q, 6, before);
        sq_bind_text(q, 7, after);
        rc = sq_exec(s, c, q, "recording a memory's history");
    }
    /* Asynchronous embedding: a new text queues its job, a given vector ends one. */
    if (rc == MN_OK && row->embed_job)
        rc = sq_job_enqueue(s, c, tenant_id, row->id, row->updated_at);
    else if (rc == MN_OK && row->embedding)
        rc = sq_job_drop(s, c, tenant_id, row->id);
    rc = sq_write_end(s, c, rc);
    if (rc == MN_OK)
        sq_changed(s, tenant_id);
    return rc;
}

int sq_memory_delete(struct mni_store *st, const char *tenant_id, const char *const *ids, size_t n,
                     int mode, int64_t now)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int64_t last = 0;
    int rc = sq_write_begin(s, &c, (int64_t)n, &last);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = delete_one(s, c, tenant_id, ids[i], mode, now, last - (int64_t)n + 1 + (int64_t)i);
    rc = sq_write_end(s, c, rc);
    if (rc == MN_OK)
        sq_changed(s, tenant_id);
    return rc;
}

int sq_memory_restore(struct mni_store *st, const char *tenant_id, const char *id, int64_t now)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int64_t seq;
    int rc = sq_write_begin(s, &c, 1, &seq);
    if (rc == MN_OK)
        rc = sq_write_end(s, c, change_row(s, c, SQ_MEMORY_RESTORE, tenant_id, id, now, seq,
                                           "restoring a memory"));
    if (rc == MN_OK)
        sq_changed(s, tenant_id);
    return rc;
}

static int read_id(sqlite3_stmt *st, void *item, void *ctx)
{
    (void)ctx;
    char **id = item;
    *id = sq_text(st, 0);
    return *id ? 1 : -MN_ENOMEM;
}

static void clear_id(void *item)
{
    free(*(char **)item);
}

int sq_memory_purge_expired(struct mni_store *st, const char *tenant_id, int64_t now,
                            size_t *purged)
{
    static const struct sq_reader id_reader = { sizeof(char *), read_id, clear_id, NULL };
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    char **ids = NULL;
    size_t n = 0;
    int64_t last = 0;
    int rc = sq_write_begin(s, &c, 0, &last);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_MEMORY_EXPIRED);
    if (!q)
        rc = MN_EBACKEND;
    if (rc == MN_OK) {
        sq_bind_text(q, 1, tenant_id);
        sqlite3_bind_int64(q, 2, now);
        rc = sq_collect(s, c, q, &id_reader, 0, (void **)&ids, &n, NULL,
                        "finding expired memories");
    }
    if (rc == MN_OK && n)
        rc = sq_bump_seq(s, c, (int64_t)n, &last);
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = delete_one(s, c, tenant_id, ids[i], MN_DELETE_HARD, now,
                        last - (int64_t)n + 1 + (int64_t)i);
    rc = sq_write_end(s, c, rc);
    if (rc == MN_OK && n)
        sq_changed(s, tenant_id);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    if (rc == MN_OK && purged)
        *purged = n;
    return rc;
}
