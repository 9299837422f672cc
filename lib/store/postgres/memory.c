/* Memories in the PostgreSQL backend: writing and reading rows. Changes to existing rows
 * (update, delete, restore, purge) are in postgres/change.c. */
#include "store/postgres/pg.h"
#include "core/error.h"
#include "store/notfound.h"
#include "store/types.h"
#include "core/json.h"
#include "store/list.h"
#include "store/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a bulk insert writes; the bytes sent to the server at a time. */
#define COPY_COLUMNS \
    "id, tenant_id, identity_id, text, type, metadata, importance, version, created_at, " \
    "updated_at, expires_at, deleted, seq, embedding, content_hash, external_key, words, session"
#define COPY_FLUSH (1 << 20)

/* Binds $1 (tenant) and $3..$6 of the memory queries (postgres/sql.c); slot receives $2. */
static void bind_query(struct pgs_args *a, const char *tenant_id, const char *second,
                       const struct mni_store_query *q, int with_filters)
{
    pgs_arg_text(a, tenant_id);
    pgs_arg_text(a, second);
    pgs_arg_int(a, q->flags);
    pgs_arg_int(a, q->now);
    if (with_filters) {
        pgs_arg_text(a, q->type);
        pgs_arg_text(a, q->identity_id);
    }
}

void pgs_bind_filters(struct pgs_args *a, const struct mni_store_query *q)
{
    pgs_arg_text(a, q->sessions_json);
    pgs_arg_text(a, q->types_json);
    pgs_arg_text(a, q->identities_json);
    pgs_arg_int(a, q->created_after);
    pgs_arg_int(a, MNI_QUERY_BEFORE(q->created_before));
    pgs_arg_int(a, q->updated_after);
    pgs_arg_int(a, MNI_QUERY_BEFORE(q->updated_before));
    pgs_arg_double(a, MNI_QUERY_IMPORTANCE_MIN(q));
    pgs_arg_double(a, MNI_QUERY_IMPORTANCE_MAX(q));
}

/* Whether the row's metadata (column col; its memory's id in id_col) passes the filter: 1, 0,
 * or -MN_E* when it does not open (store/vault.h). */
static int metadata_matches(struct pgs_store *s, const char *tenant_id, const PGresult *r,
                            int row, int col, int id_col, const cJSON *filter)
{
    if (!filter)
        return 1;
    return mni_vault_metadata_matches(&s->base, tenant_id, PQgetvalue(r, row, id_col),
                                      PQgetvalue(r, row, col), filter);
}

struct read_ctx {
    const char *tenant_id;
    const struct mni_store_query *q;
};

static int read_memory(struct pgs_store *s, const PGresult *r, int row, void *item, void *ctx)
{
    const struct read_ctx *x = ctx;
    int yes = metadata_matches(s, x->tenant_id, r, row, 6, 1, x->q->metadata);
    if (yes <= 0)
        return yes;
    int rc = pgs_memory_read(s, r, row, item, (x->q->flags & MN_WITH_EMBEDDING) != 0);
    if (rc == MN_OK)
        rc = mni_vault_open_memory(&s->base, item);
    return rc == MN_OK ? 1 : -rc;
}

/* One row as COPY_COLUMNS lists them; the embedding in the column's binary format. */
static void put_row(struct pgs_store *s, struct pgs_copybuf *b, const char *tenant_id,
                    const struct mni_memory_row *r, int64_t seq, const char *hash,
                    char *vecbuf)
{
    pgs_copy_u16(b, 18); /* columns */
    pgs_copy_text(b, r->id);
    pgs_copy_text(b, tenant_id);
    pgs_copy_text(b, r->identity_id);
    pgs_copy_text(b, r->text);
    pgs_copy_text(b, r->type);
    pgs_copy_text(b, r->metadata);
    pgs_copy_f64(b, r->importance);
    pgs_copy_i64(b, r->version);
    pgs_copy_i64(b, r->created_at);
    pgs_copy_i64(b, r->updated_at);
    pgs_copy_i64(b, r->expires_at);
    uint32_t no = 0;
    pgs_copy_field(b, &no, 4); /* deleted */
    pgs_copy_i64(b, seq);
    if (!r->embedding) {
        pgs_copy_field(b, NULL, 0);
    } else {
        struct pgs_args a = {0};
        pgs_arg_vec(s, &a, r->embedding, s->base.dim, vecbuf);
        pgs_copy_field(b, vecbuf, (size_t)a.len[0]);
    }
    pgs_copy_text(b, hash);
    pgs_copy_text(b, r->external_key);
    pgs_copy_text(b, r->words);
    pgs_copy_text(b, r->session);
}

/* The rows through COPY ... FROM STDIN in binary format: the server parses no SQL per row, and
 * the data goes in large writes. Inside the caller's transaction. */
static int copy_rows(struct pgs_store *s, struct pgs_conn *c, const char *tenant_id,
                     const struct mni_memory_row *rows, size_t n, int64_t first_seq,
                     char (*hashes)[MNI_CONTENT_HASH_HEX + 1])
{
    PGresult *res = PQexec(c->pg, "COPY memories (" COPY_COLUMNS ") FROM STDIN (FORMAT binary)");
    if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
        int rc = pgs_fail(s, c, res, "adding memories");
        PQclear(res);
        return rc;
    }
    PQclear(res);
    struct pgs_copybuf b = {0};
    char *vecbuf = malloc(pgs_vec_bytes(s->base.dim));
    int rc = MN_OK;
    pgs_copy_header(&b);
    for (size_t i = 0; vecbuf && !b.oom && rc == MN_OK && i < n; i++) {
        put_row(s, &b, tenant_id, &rows[i], first_seq + (int64_t)i, hashes[i], vecbuf);
        if (b.n >= COPY_FLUSH || i + 1 == n) {
            if (i + 1 == n)
                pgs_copy_trailer(&b);
            if (!b.oom && PQputCopyData(c->pg, b.p, (int)b.n) != 1)
                rc = pgs_fail(s, c, NULL, "adding memories");
            b.n = 0;
        }
    }
    if (rc == MN_OK && (!vecbuf || b.oom))
        rc = mni_seterr(s->base.db, MN_ENOMEM, "out of memory adding memories");
    free(vecbuf);
    free(b.p);
    /* Ending the COPY with an error message makes the server drop what it received. */
    if (PQputCopyEnd(c->pg, rc == MN_OK ? NULL : "aborted by libmanushya") != 1 && rc == MN_OK)
        rc = pgs_fail(s, c, NULL, "adding memories");
    while ((res = PQgetResult(c->pg))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == MN_OK)
            rc = pgs_fail(s, c, res, "adding memories");
        PQclear(res);
    }
    return rc;
}

/* Row by row, for a server without COPY: one prepared INSERT each. */
static int insert_rows(struct pgs_store *s, struct pgs_conn *c, const char *tenant_id,
                       const struct mni_memory_row *rows, size_t n, int64_t first_seq,
                       char (*hashes)[MNI_CONTENT_HASH_HEX + 1])
{
    char *vecbuf = malloc(pgs_vec_bytes(s->base.dim));
    int rc = vecbuf ? MN_OK : mni_seterr(s->base.db, MN_ENOMEM, "out of memory adding memories");
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        const struct mni_memory_row *r = &rows[i];
        struct pgs_args a = {0};
        pgs_arg_text(&a, r->id);
        pgs_arg_text(&a, tenant_id);
        pgs_arg_text(&a, r->identity_id);
        pgs_arg_text(&a, r->text);
        pgs_arg_text(&a, r->type);
        pgs_arg_text(&a, r->metadata);
        pgs_arg_double(&a, r->importance);
        pgs_arg_int(&a, r->version);
        pgs_arg_int(&a, r->created_at);
        pgs_arg_int(&a, r->updated_at);
        pgs_arg_int(&a, r->expires_at);
        pgs_arg_int(&a, first_seq + (int64_t)i);
        pgs_arg_vec(s, &a, r->embedding, s->base.dim, vecbuf);
        pgs_arg_text(&a, hashes[i]);
        pgs_arg_text(&a, r->external_key);
        pgs_arg_text(&a, r->words);
        pgs_arg_text(&a, r->session);
        rc = pgs_run(s, c, PGS_MEMORY_INSERT, &a, NULL, "adding a memory");
    }
    free(vecbuf);
    return rc;
}

/* All rows in one transaction. */
int pgs_memory_insert(struct mni_store *st, const char *tenant_id,
                      const struct mni_memory_writes *w)
{
    struct pgs_store *s = (struct pgs_store *)st;
    size_t n = w->n;
    int64_t nseq = (int64_t)(n + w->nrewrites);
    char (*hashes)[MNI_CONTENT_HASH_HEX + 1] = malloc((n ? n : 1) * sizeof *hashes);
    if (!hashes)
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory adding memories");
    struct pgs_conn *c;
    int64_t last = 0;
    int rc = pgs_write_begin(s, &c, nseq, &last);
    if (rc != MN_OK) {
        free(hashes);
        return rc;
    }
    struct mni_tx *tx = (struct mni_tx *)c;
    int64_t first = last - nseq + 1;
    const struct mni_memory_row *stored = w->rows;
    rc = mni_op_memory_claims(st, tx, tenant_id, w, 0, hashes);
    if (rc == MN_OK)
        rc = mni_vault_seal_rows(st, tx, tenant_id, w->rows, n, &stored);
    if (rc == MN_OK && n)
        rc = s->no_copy ? insert_rows(s, c, tenant_id, stored, n, first, hashes)
                        : copy_rows(s, c, tenant_id, stored, n, first, hashes);
    if (stored != w->rows)
        mni_vault_rows_free(stored, w->rows, n);
    free(hashes);
    /* Asynchronous embedding: the jobs commit with the memories, or neither. */
    if (rc == MN_OK && n)
        rc = pgs_jobs_enqueue(s, c, tenant_id, w->rows, n, first);
    if (rc == MN_OK && n)
        rc = pgs_analyze_once(s, c);
    return mni_op_memory_insert_end(st, tx, tenant_id, w, first + (int64_t)n, rc);
}

int pgs_memory_get(struct mni_store *st, const char *tenant_id, const char *id,
                   const struct mni_store_query *q, mn_memory **out)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_pool *pool = pgs_reads(s);
    struct pgs_args a = {0};
    bind_query(&a, tenant_id, id, q, 0);
    PGresult *res = NULL;
    int rc = pgs_run_on(s, pool, PGS_MEMORY_GET, &a, &res, "reading a memory");
    size_t n = 0;
    struct read_ctx ctx = { tenant_id, q };
    struct pgs_reader r = { sizeof(mn_memory), read_memory, mni_memory_clear, &ctx };
    if (rc == MN_OK)
        rc = pgs_collect(s, res, &r, 1, (void **)out, &n, NULL, "reading a memory");
    PQclear(res);
    if (rc == MN_OK && n == 0) {
        free(*out);
        *out = NULL;
        rc = mni_store_no_memory(s->base.db, "reading a memory", id, MNI_WANT_VISIBLE);
    }
    return rc;
}

int pgs_memory_list(struct mni_store *st, const char *tenant_id, const struct mni_store_query *q,
                    mn_memories **out)
{
    struct pgs_store *s = (struct pgs_store *)st;
    void **items = NULL;
    size_t count = 0;
    struct pgs_args a = {0};
    bind_query(&a, tenant_id, q->before_id, q, 1);
    /* One row past the page says whether more follow; a metadata filter is tested here, so
     * then the server cannot know where the page ends. */
    if (q->metadata)
        pgs_arg_text(&a, NULL);
    else
        pgs_arg_int(&a, (int64_t)q->limit + 1);
    pgs_bind_filters(&a, q);
    PGresult *res = NULL;
    int more = 0;
    int rc = pgs_run_on(s, pgs_reads(s), PGS_MEMORY_LIST, &a, &res, "listing memories");
    struct read_ctx ctx = { tenant_id, q };
    struct pgs_reader r = { sizeof(mn_memory), read_memory, mni_memory_clear, &ctx };
    if (rc == MN_OK)
        rc = pgs_collect(s, res, &r, (size_t)q->limit, (void **)&items, &count, &more,
                         "listing memories");
    if (rc == MN_OK)
        rc = mni_list_point(s->base.db, (void **)&items, &count, r.size, r.clear,
                            "listing memories");
    PQclear(res);
    return mni_memories_page(s->base.db, items, count, more, rc, out);
}

int pgs_memory_count(struct mni_store *st, const char *tenant_id,
                     const struct mni_store_query *q, size_t *count)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_args a = {0};
    bind_query(&a, tenant_id, NULL, q, 1);
    pgs_arg_text(&a, NULL); /* no limit */
    pgs_bind_filters(&a, q);
    PGresult *res = NULL;
    int rc = pgs_run_on(s, pgs_reads(s), PGS_MEMORY_COUNT, &a, &res, "counting memories");
    if (rc == MN_OK)
        *count = (size_t)pgs_int(res, 0, 0);
    PQclear(res);
    return rc;
}

struct scan {
    struct pgs_store *s;
    const char *tenant_id;
    const struct mni_store_query *q;
    mni_scan_fn fn;
    void *ctx;
    float *vec;
};

static int scan_row(void *ctx, const PGresult *r)
{
    struct scan *sc = ctx;
    int yes = metadata_matches(sc->s, sc->tenant_id, r, 0, 2, 3, sc->q->metadata);
    if (yes <= 0)
        return yes;
    if (pgs_vec(sc->s, r, 0, 1, sc->vec) < 0)
        return -mni_seterr(sc->s->base.db, MN_ECORRUPT, "memory key %lld has an embedding of "
                          "another size than the database's %d dimensions; the database is "
                          "damaged", (long long)pgs_int(r, 0, 0), sc->s->base.dim);
    sc->fn(sc->ctx, pgs_int(r, 0, 0), sc->vec);
    return 0;
}

int pgs_memory_scan(struct mni_store *st, const char *tenant_id, const struct mni_store_query *q,
                    mni_scan_fn fn, void *ctx)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct scan sc = { s, tenant_id, q, fn, ctx, malloc((size_t)s->base.dim * sizeof(float)) };
    if (!sc.vec)
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory searching");
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_int(&a, q->metadata != NULL);
    pgs_arg_int(&a, q->flags);
    pgs_arg_int(&a, q->now);
    pgs_arg_text(&a, q->type);
    pgs_arg_text(&a, q->identity_id);
    pgs_arg_text(&a, NULL); /* no limit */
    pgs_bind_filters(&a, q);
    int rc = pgs_each_on(s, pgs_reads(s), PGS_MEMORY_SCAN, &a, scan_row, &sc,
                         "searching memories");
    free(sc.vec);
    return rc;
}

static int cmp_key(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Row of res holding key, or -1 (order: (key, row) pairs sorted by key). */
static int find_row(const int64_t (*order)[2], int rows, int64_t key)
{
    int lo = 0, hi = rows - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (order[mid][0] == key)
            return (int)order[mid][1];
        if (order[mid][0] < key)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int pgs_memory_get_keys(struct mni_store *st, const char *tenant_id, const int64_t *keys,
                        size_t n, unsigned flags, int64_t now, mn_memories **out,
                        size_t *which)
{
    struct pgs_store *s = (struct pgs_store *)st;
    mn_memories *l = calloc(1, sizeof *l);
    char *arr = pgs_int_array(keys, n); /* one round trip for all */
    if (!l || !arr || (n && !(l->items = calloc(n, sizeof *l->items)))) {
        free(l);
        free(arr);
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory reading search results");
    }
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, arr);
    pgs_arg_int(&a, flags);
    pgs_arg_int(&a, now); /* checked again: an index may lag the store */
    PGresult *res = NULL;
    int rc = pgs_run_on(s, pgs_reads(s), PGS_MEMORY_GET_KEYS, &a, &res,
                        "reading search results");
    free(arr);
    int rows = rc == MN_OK ? PQntuples(res) : 0;
    int64_t (*order)[2] = rows ? malloc((size_t)rows * sizeof *order) : NULL;
    if (rows && !order)
        rc = mni_seterr(s->base.db, MN_ENOMEM, "out of memory reading search results");
    for (int i = 0; rc == MN_OK && i < rows; i++) {
        order[i][0] = pgs_int(res, i, 0);
        order[i][1] = i;
    }
    if (rows && order)
        qsort(order, (size_t)rows, sizeof *order, cmp_key);
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        int row = find_row((const int64_t (*)[2])order, rows, keys[i]);
        if (row < 0)
            continue;
        mn_memory *m = calloc(1, sizeof *m);
        if (!m) {
            rc = MN_ENOMEM;
        } else {
            which[l->count] = i;
            l->items[l->count++] = m;
            rc = pgs_memory_read(s, res, row, m, (flags & MN_WITH_EMBEDDING) != 0);
            if (rc == MN_OK)
                rc = mni_vault_open_memory(&s->base, m);
        }
        if (rc == MN_ENOMEM)
            mni_seterr(s->base.db, rc, "out of memory reading search results");
    }
    free(order);
    PQclear(res);
    if (rc != MN_OK) {
        mn_memories_free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}
