/* Memories in the SQLite backend: writing and reading rows. Changes to existing rows (update,
 * delete, restore, purge) are in sqlite/change.c. */
#include "store/sqlite/sqlite.h"
#include "core/error.h"
#include "store/notfound.h"
#include "store/types.h"
#include "core/json.h"
#include "store/list.h"
#include "store/vault.h"

#include <stdlib.h>
#include <string.h>

void sq_bind_query(sqlite3_stmt *st, const char *tenant_id, const struct mni_store_query *q)
{
    sq_bind_text(st, 1, tenant_id);
    sqlite3_bind_int(st, 3, (int)q->flags);
    sqlite3_bind_int64(st, 4, q->now);
    sq_bind_text(st, 5, q->type);
    if (q->identity_id)
        sq_bind_text(st, 6, q->identity_id);
    /* The filter's lists and ranges (sqlite/sql.c, FILTERS); statements without them ignore
     * these parameters. */
    sq_bind_text(st, 20, q->sessions_json);
    sq_bind_text(st, 21, q->types_json);
    sq_bind_text(st, 22, q->identities_json);
    sqlite3_bind_int64(st, 23, q->created_after);
    sqlite3_bind_int64(st, 24, MNI_QUERY_BEFORE(q->created_before));
    sqlite3_bind_int64(st, 25, q->updated_after);
    sqlite3_bind_int64(st, 26, MNI_QUERY_BEFORE(q->updated_before));
    sqlite3_bind_double(st, 27, MNI_QUERY_IMPORTANCE_MIN(q));
    sqlite3_bind_double(st, 28, MNI_QUERY_IMPORTANCE_MAX(q));
    if (q->n_sessions == 1)
        sq_bind_text(st, 29, q->sessions[0]);
}

/* The list statement for q: one owner's conversation by the session index, one owner's
 * memories by the identity index, or the tenant's. */
static int list_statement(const struct mni_store_query *q)
{
    if (q->identity_id && q->n_sessions == 1)
        return SQ_MEMORY_LIST_BY_SESSION;
    return q->identity_id ? SQ_MEMORY_LIST_BY_IDENTITY : SQ_MEMORY_LIST;
}

/* Whether the row's metadata (column col; its memory's id in id_col) passes the filter: 1, 0,
 * or -MN_E* when it does not open (store/vault.h). */
static int metadata_matches(struct mni_store *s, const char *tenant_id, sqlite3_stmt *st,
                            int col, int id_col, const cJSON *filter)
{
    if (!filter)
        return 1;
    return mni_vault_metadata_matches(s, tenant_id, (const char *)sqlite3_column_text(st, id_col),
                                      (const char *)sqlite3_column_text(st, col), filter);
}

struct read_ctx {
    struct mni_store *s;
    const char *tenant_id;
    const struct mni_store_query *q;
};

static int read_memory(sqlite3_stmt *st, void *item, void *ctx)
{
    const struct read_ctx *r = ctx;
    int yes = metadata_matches(r->s, r->tenant_id, st, 6, 1, r->q->metadata);
    if (yes <= 0)
        return yes;
    if (sq_memory_read(st, item, (r->q->flags & MN_WITH_EMBEDDING) != 0) != MN_OK)
        return -MN_ENOMEM;
    int rc = mni_vault_open_memory(r->s, item);
    return rc == MN_OK ? 1 : -rc;
}

/* Adds the tenant's rows with seqs first..last, the rows an add has just written in c's
 * transaction (no other row has those seqs: they were reserved for it), to the keyword index
 * and to the tenant's digest. One statement each for them all, not a trigger per row: FTS5
 * flushes its pending words once per write instead of once per row, and no row needs a
 * statement journal of its own (sql/sqlite/017_keyword_batch.sql, 019_memory_digest.sql). */
static int index_new_rows(struct sq_store *s, struct sq_conn *c, const char *tenant_id,
                          int64_t first, int64_t last)
{
    static const struct { enum sq_stmt_id id; const char *what; } steps[] = {
        { SQ_MEMORY_KEYWORD_ADD, "indexing the words of new memories" },
        { SQ_MEMORY_DIGEST_ADD, "adding new memories to the tenant's digest" },
    };
    int rc = MN_OK;
    for (size_t i = 0; rc == MN_OK && i < sizeof steps / sizeof steps[0]; i++) {
        sqlite3_stmt *q = sq_stmt(s, c, steps[i].id);
        if (!q)
            return MN_EBACKEND;
        sq_bind_text(q, 1, tenant_id);
        sqlite3_bind_int64(q, 2, first);
        sqlite3_bind_int64(q, 3, last);
        rc = sq_exec(s, c, q, steps[i].what);
    }
    return rc;
}

int sq_memory_insert(struct mni_store *st, const char *tenant_id,
                     const struct mni_memory_writes *w)
{
    struct sq_store *s = (struct sq_store *)st;
    int blob_bytes = s->base.dim * (int)sizeof(float);
    size_t n = w->n;
    int64_t nseq = (int64_t)(n + w->nrewrites);
    struct sq_conn *c;
    int64_t last = 0;
    char (*hashes)[MNI_CONTENT_HASH_HEX + 1] = malloc((n ? n : 1) * sizeof *hashes);
    if (!hashes)
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory adding memories");
    int rc = sq_write_begin(s, 1, &c, nseq, &last);
    if (rc != MN_OK) {
        free(hashes);
        return rc;
    }
    struct mni_tx *tx = (struct mni_tx *)c;
    int64_t first_seq = last - nseq + 1;  /* the new rows', then the rewrites' */
    const struct mni_memory_row *stored = w->rows;
    /* The writers' lock is the store's: the change number before this write's own is the
     * last anyone wrote. */
    rc = mni_op_memory_claims(st, tx, tenant_id, w, first_seq - 1, hashes);
    if (rc == MN_OK)
        rc = mni_vault_seal_rows(st, tx, tenant_id, w->rows, n, &stored);
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        const struct mni_memory_row *r = &stored[i];
        sqlite3_stmt *q = sq_stmt(s, c, SQ_MEMORY_INSERT);
        if (!q) {
            rc = MN_EBACKEND;
            break;
        }
        sq_bind_text(q, 1, r->id);
        sq_bind_text(q, 2, tenant_id);
        sq_bind_text(q, 3, r->identity_id);
        sq_bind_text(q, 4, r->text);
        sq_bind_text(q, 5, r->type);
        sq_bind_text(q, 6, r->metadata);
        sqlite3_bind_double(q, 7, r->importance);
        sqlite3_bind_int64(q, 8, r->version);
        sqlite3_bind_int64(q, 9, r->created_at);
        sqlite3_bind_int64(q, 10, r->updated_at);
        sqlite3_bind_int64(q, 11, r->expires_at);
        sqlite3_bind_int64(q, 12, first_seq + (int64_t)i);
        if (r->embedding)
            sqlite3_bind_blob(q, 13, r->embedding, blob_bytes, SQLITE_STATIC);
        sq_bind_text(q, 14, hashes[i]);
        if (r->external_key)
            sq_bind_text(q, 15, r->external_key);
        sq_bind_text(q, 16, r->words);
        sq_bind_text(q, 17, r->session);
        rc = sq_exec(s, c, q, "adding a memory");
        /* Asynchronous embedding: the job commits with the memory, or neither. */
        if (rc == MN_OK && r->embed_job)
            rc = sq_job_enqueue(s, c, tenant_id, r->id, r->created_at);
    }
    /* The keyword index and the digest, one statement each for the batch. */
    if (rc == MN_OK && n)
        rc = index_new_rows(s, c, tenant_id, first_seq, first_seq + (int64_t)n - 1);
    if (stored != w->rows)
        mni_vault_rows_free(stored, w->rows, n);
    free(hashes);
    return mni_op_memory_insert_end(st, tx, tenant_id, w, first_seq + (int64_t)n, rc);
}

int sq_memory_get(struct mni_store *st, const char *tenant_id, const char *id,
                  const struct mni_store_query *q, mn_memory **out)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, c, SQ_MEMORY_GET);
    if (stmt) {
        sq_bind_query(stmt, tenant_id, q);
        sq_bind_text(stmt, 2, id);
        struct read_ctx ctx = { st, tenant_id, q };
        struct sq_reader r = { sizeof(mn_memory), read_memory, mni_memory_clear, &ctx };
        rc = sq_fetch_one(s, c, stmt, &r, (void **)out, "reading a memory");
        if (rc == MN_ENOTFOUND)
            mni_store_no_memory(s->base.db, "reading a memory", id, MNI_WANT_VISIBLE);
    }
    sq_conn_put(s, c);
    return stmt ? rc : MN_EBACKEND;
}

int sq_memory_list(struct mni_store *st, const char *tenant_id, const struct mni_store_query *q,
                   mn_memories **out)
{
    struct sq_store *s = (struct sq_store *)st;
    void **items = NULL;
    size_t count = 0;
    struct sq_conn *c;
    int more = 0, rc = sq_conn_get(s, &c);
    if (rc == MN_OK) {
        sqlite3_stmt *stmt = sq_stmt(s, c, list_statement(q));
        if (stmt) {
            sq_bind_query(stmt, tenant_id, q);
            /* "~" sorts after every id: the first page starts at the newest. */
            sq_bind_text(stmt, 2, q->before_id ? q->before_id : "~");
            struct read_ctx ctx = { st, tenant_id, q };
            struct sq_reader r = { sizeof(mn_memory), read_memory, mni_memory_clear, &ctx };
            rc = sq_collect(s, c, stmt, &r, (size_t)q->limit, (void **)&items, &count, &more,
                            "listing memories");
            if (rc == MN_OK)
                rc = mni_list_point(s->base.db, (void **)&items, &count, r.size, r.clear,
                                    "listing memories");
        } else {
            rc = MN_EBACKEND;
        }
        sq_conn_put(s, c);
    }
    return mni_memories_page(s->base.db, items, count, more, rc, out);
}

int sq_memory_count(struct mni_store *st, const char *tenant_id, const struct mni_store_query *q,
                    size_t *count)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, c, q->identity_id ? SQ_MEMORY_COUNT_BY_IDENTITY
                                                      : SQ_MEMORY_COUNT);
    rc = stmt ? MN_OK : MN_EBACKEND;
    if (stmt) {
        sq_bind_query(stmt, tenant_id, q);
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW)
            *count = (size_t)sqlite3_column_int64(stmt, 0);
        else
            rc = sq_fail(s, c->db, step, "counting memories");
        sqlite3_reset(stmt);
    }
    sq_conn_put(s, c);
    return rc;
}

int sq_memory_scan(struct mni_store *st, const char *tenant_id, const struct mni_store_query *q,
                   mni_scan_fn fn, void *ctx)
{
    struct sq_store *s = (struct sq_store *)st;
    int bytes = s->base.dim * (int)sizeof(float);
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *stmt = sq_stmt(s, c, q->identity_id ? SQ_MEMORY_SCAN_BY_IDENTITY
                                                      : SQ_MEMORY_SCAN);
    rc = stmt ? MN_OK : MN_EBACKEND;
    if (stmt) {
        sq_bind_query(stmt, tenant_id, q);
        sqlite3_bind_int(stmt, 7, q->metadata != NULL);
    }
    while (rc == MN_OK) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_DONE)
            break;
        if (step != SQLITE_ROW) {
            rc = sq_fail(s, c->db, step, "searching memories");
            break;
        }
        int yes = metadata_matches(st, tenant_id, stmt, 2, 3, q->metadata);
        if (yes < 0) {
            rc = -yes;
            break;
        }
        if (!yes)
            continue;
        /* The blob points into SQLite's page (or its memory map): no copy. */
        const void *vec = sqlite3_column_blob(stmt, 1);
        if (sqlite3_column_bytes(stmt, 1) != bytes) {
            rc = mni_seterr(s->base.db, MN_ECORRUPT, "%s: memory key %lld has an embedding of "
                           "%d bytes, not %d; the database is damaged", s->path,
                           (long long)sqlite3_column_int64(stmt, 0),
                           sqlite3_column_bytes(stmt, 1), bytes);
            break;
        }
        fn(ctx, sqlite3_column_int64(stmt, 0), vec);
    }
    if (stmt)
        sqlite3_reset(stmt);
    sq_conn_put(s, c);
    return rc;
}

int sq_memory_get_keys(struct mni_store *st, const char *tenant_id, const int64_t *keys, size_t n,
                       unsigned flags, int64_t now, mn_memories **out, size_t *which)
{
    struct sq_store *s = (struct sq_store *)st;
    mn_memories *l = calloc(1, sizeof *l);
    if (!l || (n && !(l->items = calloc(n, sizeof *l->items)))) {
        free(l);
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory reading search results");
    }
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    int got_conn = rc == MN_OK;
    /* One read transaction for all n rows: a statement on its own is a read transaction of its
     * own, whose locks (the WAL's read mark, the file's shared lock) cost more to take and drop
     * than reading the row (as in sqlite/dedup.c); it also reads the n rows at one moment. */
    int in_tx = got_conn && n > 1;
    if (in_tx) {
        sqlite3_stmt *begin = sq_stmt(s, c, SQ_BEGIN_READ);
        rc = begin ? sq_exec(s, c, begin, "reading search results") : MN_EBACKEND;
        in_tx = rc == MN_OK;
    }
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        sqlite3_stmt *stmt = sq_stmt(s, c, SQ_MEMORY_GET_KEY);
        if (!stmt) {
            rc = MN_EBACKEND;
            break;
        }
        sq_bind_text(stmt, 1, tenant_id);
        sqlite3_bind_int64(stmt, 2, keys[i]);
        sqlite3_bind_int(stmt, 3, (int)flags);
        sqlite3_bind_int64(stmt, 4, now); /* checked again: an index may lag the store */
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW) {
            mn_memory *m = calloc(1, sizeof *m);
            if (m) {
                which[l->count] = i;
                l->items[l->count++] = m;
            }
            if (!m || sq_memory_read(stmt, m, (flags & MN_WITH_EMBEDDING) != 0))
                rc = mni_seterr(s->base.db, MN_ENOMEM, "out of memory reading search results");
            else
                rc = mni_vault_open_memory(st, m);
        } else if (step != SQLITE_DONE) {
            rc = sq_fail(s, c->db, step, "reading search results");
        }
        sqlite3_reset(stmt);
    }
    if (in_tx)
        rc = sq_end(s, c, rc);
    if (got_conn)
        sq_conn_put(s, c);
    if (rc != MN_OK) {
        mn_memories_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}
