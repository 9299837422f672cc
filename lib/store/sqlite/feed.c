/* The change feed of the SQLite backend: what a vector index (index/vindex.c) and the public
 * feed (api/feed.c) read to follow the store. Rows carry the seq of their last change
 * (memories_by_tenant_seq); hard deletes leave tombstones (memory_tombstones, written by a
 * trigger, sql/sqlite/003_index_feed.sql and 015_public_feed.sql). */
#include "store/sqlite/sqlite.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int sq_seq_read(struct sq_store *s, struct sq_conn *c, int64_t *seq)
{
    sqlite3_stmt *q = sq_stmt(s, c, SQ_SEQ_GET);
    if (!q)
        return MN_EBACKEND;
    int rc = MN_OK, step = sqlite3_step(q);
    if (step == SQLITE_ROW)
        *seq = sqlite3_column_int64(q, 0);
    else if (step == SQLITE_DONE)
        rc = mni_seterr(s->base.db, MN_ECORRUPT, "%s: the change sequence is missing; the "
                       "database is damaged", s->path);
    else
        rc = sq_fail(s, c->db, step, "reading the change sequence");
    sqlite3_reset(q);
    return rc;
}

int sq_seq_get(struct mni_store *st, int64_t *seq)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    rc = sq_seq_read(s, c, seq);
    sq_conn_put(s, c);
    return rc;
}

int sq_memory_changes(struct mni_store *st, const char *tenant_id, const char *owner,
                      int64_t after_seq,
                      int64_t after_key, int64_t upto_seq, size_t limit, mni_change_fn fn,
                      void *ctx)
{
    struct sq_store *s = (struct sq_store *)st;
    int bytes = s->base.dim * (int)sizeof(float);
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_MEMORY_CHANGES);
    rc = q ? MN_OK : MN_EBACKEND;
    if (q) {
        sq_bind_text(q, 1, tenant_id);
        sqlite3_bind_int64(q, 2, after_seq);
        sqlite3_bind_int64(q, 3, after_key);
        sqlite3_bind_int64(q, 4, upto_seq);
        sqlite3_bind_int64(q, 5, limit ? (sqlite3_int64)limit : -1);
        sq_bind_text(q, 6, owner);
    }
    while (rc == MN_OK) {
        int step = sqlite3_step(q);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = sq_fail(s, c->db, step, "reading the change feed");
            break;
        }
        struct mni_change ch;
        memset(&ch, 0, sizeof ch);
        ch.key = sqlite3_column_int64(q, 0);
        ch.seq = sqlite3_column_int64(q, 1);
        ch.gone = sqlite3_column_int(q, 2);
        ch.identity_id = (const char *)sqlite3_column_text(q, 5);
        ch.type = (const char *)sqlite3_column_text(q, 6);
        ch.id = (const char *)sqlite3_column_text(q, 8);
        ch.version = sqlite3_column_int64(q, 9);
        ch.session = (const char *)sqlite3_column_text(q, 10);
        if (!ch.gone) {
            ch.deleted = sqlite3_column_int(q, 3);
            ch.restored = sqlite3_column_int(q, 11);
            ch.expires_at = sqlite3_column_int64(q, 4);
            ch.metadata = (const char *)sqlite3_column_text(q, 12);
            ch.importance = sqlite3_column_double(q, 13);
            ch.created_at = sqlite3_column_int64(q, 14);
            ch.updated_at = sqlite3_column_int64(q, 15);
            /* The blob points into SQLite's page (or its memory map): no copy. */
            ch.embedding = sqlite3_column_blob(q, 7);
            int got = sqlite3_column_bytes(q, 7);
            if (!ch.identity_id || !ch.type || !ch.id || !ch.metadata ||
                (!ch.session && sqlite3_column_type(q, 10) != SQLITE_NULL)) {
                rc = mni_seterr(s->base.db, MN_ENOMEM, "out of memory reading the change feed");
                break;
            }
            if (ch.embedding && got != bytes) {
                rc = mni_seterr(s->base.db, MN_ECORRUPT, "%s: memory key %lld has an embedding "
                               "of %d bytes, not %d; the database is damaged", s->path,
                               (long long)ch.key, got, bytes);
                break;
            }
        }
        if (fn(ctx, &ch))
            break;
    }
    if (q)
        sqlite3_reset(q);
    sq_conn_put(s, c);
    return rc;
}

int sq_memory_seqs(struct mni_store *st, const char *tenant_id, int64_t upto_seq, mni_seq_fn fn,
                   void *ctx)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_MEMORY_SEQS);
    rc = q ? MN_OK : MN_EBACKEND;
    if (q) {
        sq_bind_text(q, 1, tenant_id);
        sqlite3_bind_int64(q, 2, upto_seq);
    }
    while (rc == MN_OK) {
        int step = sqlite3_step(q);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = sq_fail(s, c->db, step, "reading the memories' sequence numbers");
            break;
        }
        fn(ctx, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1));
    }
    if (q)
        sqlite3_reset(q);
    sq_conn_put(s, c);
    return rc;
}

/* Kept by the triggers of sql/sqlite/019_memory_digest.sql; a tenant without a row has none. */
int sq_memory_digest(struct mni_store *st, const char *tenant_id, int64_t *n, int64_t *sum)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    *n = *sum = 0;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_MEMORY_DIGEST);
    if (!q) {
        sq_conn_put(s, c);
        return MN_EBACKEND;
    }
    sq_bind_text(q, 1, tenant_id);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        *n = sqlite3_column_int64(q, 0);
        *sum = sqlite3_column_int64(q, 1);
    } else if (step != SQLITE_DONE) {
        rc = sq_fail(s, c->db, step, "reading the memories' digest");
    }
    sqlite3_reset(q);
    sq_conn_put(s, c);
    return rc;
}

const char *sq_file_path(struct mni_store *st)
{
    struct sq_store *s = (struct sq_store *)st;
    /* An in-memory database, or a URI SQLite might interpret: no file to sit beside. */
    if (!s->path || !*s->path || strcmp(s->path, ":memory:") == 0 ||
        strncmp(s->path, "file:", 5) == 0)
        return NULL;
    return s->path;
}

/* Beside the database: PATH.index. */
int sq_index_dir(struct mni_store *st, char **dir)
{
    const char *path = sq_file_path(st);
    *dir = NULL;
    if (!path)
        return MN_OK;
    size_t n = strlen(path);
    if (!(*dir = malloc(n + sizeof ".index")))
        return mni_seterr(st->db, MN_ENOMEM, "out of memory naming the index directory");
    memcpy(*dir, path, n);
    memcpy(*dir + n, ".index", sizeof ".index");
    return MN_OK;
}

void sq_changed(struct sq_store *s, const char *tenant_id)
{
    mni_store_changed(&s->base, tenant_id);
}

int sq_meta_get(struct mni_store *st, const char *key, char **value)
{
    struct sq_store *s = (struct sq_store *)st;
    *value = NULL;
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, MNI_META_GET);
    if (!q) {
        sq_conn_put(s, c);
        return MN_EBACKEND;
    }
    sq_bind_text(q, 1, key);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        *value = sq_text(q, 0);
        if (!*value)
            rc = mni_seterr(s->base.db, MN_ENOMEM, "out of memory reading a setting");
    } else if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sq_fail(s, c->db, step, "reading a setting");
    }
    sqlite3_reset(q);
    sq_conn_put(s, c);
    return rc;
}

int sq_meta_put(struct mni_store *st, const char *key, const char *value)
{
    struct mni_args a = {0};
    mni_arg_text(&a, key);
    mni_arg_text(&a, value);
    return sq_run((struct sq_store *)st, NULL, MNI_META_PUT, &a, NULL, NULL,
                  "recording a setting");
}

int sq_feed_prune(struct mni_store *st, const char *tenant_id, int64_t upto_seq)
{
    struct sq_store *s = (struct sq_store *)st;
    if (s->readonly)
        return MN_OK; /* nothing to prune from a database we may not write */
    struct sq_conn *c;
    int rc = sq_write_begin(s, 0, &c, 0, NULL);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *del = sq_stmt(s, c, SQ_FEED_PRUNE), *put = sq_stmt(s, c, SQ_FEED_HORIZON_PUT);
    rc = del && put ? MN_OK : MN_EBACKEND;
    if (rc == MN_OK) {
        sq_bind_text(del, 1, tenant_id);
        sqlite3_bind_int64(del, 2, upto_seq);
        rc = sq_exec(s, c, del, "pruning the change feed's tombstones");
    }
    if (rc == MN_OK) {
        sq_bind_text(put, 1, tenant_id);
        sqlite3_bind_int64(put, 2, upto_seq);
        rc = sq_exec(s, c, put, "recording the change feed's horizon");
    }
    return sq_write_end(s, c, rc);
}

int sq_feed_horizon(struct mni_store *st, const char *tenant_id, int64_t *seq)
{
    struct sq_store *s = (struct sq_store *)st;
    *seq = 0;
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_FEED_HORIZON_GET);
    if (!q) {
        sq_conn_put(s, c);
        return MN_EBACKEND;
    }
    sq_bind_text(q, 1, tenant_id);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW)
        *seq = sqlite3_column_int64(q, 0);
    else if (step != SQLITE_DONE)
        rc = sq_fail(s, c->db, step, "reading the change feed's horizon");
    sqlite3_reset(q);
    sq_conn_put(s, c);
    return rc;
}
