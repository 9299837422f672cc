/* Reading binary-format results of the PostgreSQL backend into the public structs: one reader
 * per struct type, one loop for all (as sqlite/rows.c does for SQLite). */
#include "store/postgres/pg.h"
#include "core/bytes.h"
#include "core/error.h"
#include "store/types.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

/* Built-in type oids (pg_type.h, stable across versions). */
enum { OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_FLOAT4 = 700,
       OID_FLOAT8 = 701 };

int64_t pgs_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const char *v = PQgetvalue(r, row, col);
    switch (PQftype(r, col)) {
    case OID_BOOL:
        return v[0] != 0;
    case OID_INT2: {
        uint16_t x;
        memcpy(&x, v, 2);
        return (int16_t)be16toh(x);
    }
    case OID_INT4:
        return (int32_t)be32toh(mni_load32(v));
    case OID_INT8:
        return (int64_t)be64toh(mni_load64(v));
    default:
        return 0;
    }
}

double pgs_double(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const char *v = PQgetvalue(r, row, col);
    if (PQftype(r, col) == OID_FLOAT4) {
        uint32_t x = be32toh(mni_load32(v));
        float f;
        memcpy(&f, &x, 4);
        return f;
    }
    if (PQftype(r, col) == OID_FLOAT8) {
        uint64_t x = be64toh(mni_load64(v));
        double d;
        memcpy(&d, &x, 8);
        return d;
    }
    return (double)pgs_int(r, row, col);
}

char *pgs_text(const PGresult *r, int row, int col, int *oom)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    int n = PQgetlength(r, row, col);
    char *s = malloc((size_t)n + 1);
    if (!s) {
        *oom = 1;
        return NULL;
    }
    memcpy(s, PQgetvalue(r, row, col), (size_t)n);
    s[n] = 0;
    return s;
}

int pgs_vec(struct pgs_store *s, const PGresult *r, int row, int col, float *out)
{
    if (PQgetisnull(r, row, col))
        return 0;
    int dim = s->base.dim, n = PQgetlength(r, row, col);
    const char *v = PQgetvalue(r, row, col);
    if (s->vector == PGS_VEC_LOCAL) {
        if (n != dim * (int)sizeof(float))
            return -1;
        memcpy(out, v, (size_t)n);
        return 1;
    }
    uint16_t d;
    memcpy(&d, v, 2);
    if (n != 4 + dim * 4 || be16toh(d) != dim)
        return -1;
    for (int i = 0; i < dim; i++) {
        uint32_t u;
        memcpy(&u, v + 4 + 4 * i, 4);
        u = be32toh(u);
        memcpy(&out[i], &u, 4);
    }
    return 1;
}

static void clear_items(const struct pgs_reader *rd, char *items, size_t n)
{
    if (rd->clear)
        for (size_t i = 0; i < n; i++)
            rd->clear(items + i * rd->size);
    free(items);
}

int pgs_collect(struct pgs_store *s, const PGresult *res, const struct pgs_reader *rd,
                size_t limit, void **items, size_t *count, int *more, const char *doing)
{
    int rows = PQntuples(res);
    size_t n = 0;
    /* One spare item: a row is read in place and kept by counting it. */
    char *arr = calloc((size_t)rows + 1, rd->size);
    int rc = arr ? MN_OK : MN_ENOMEM;
    if (more)
        *more = 0;
    for (int i = 0; rc == MN_OK && i < rows; i++) {
        char *item = arr + n * rd->size;
        int kept = rd->read(s, res, i, item, rd->ctx);
        if (kept > 0 && !(limit && n == limit)) {
            n++;
            continue;
        }
        if (rd->clear)
            rd->clear(item);
        memset(item, 0, rd->size);
        if (kept < 0)
            rc = -kept;
        else if (kept) {
            /* A kept row past the page: there is more to come. */
            if (more)
                *more = 1;
            break;
        }
    }
    if (rc == MN_ENOMEM)
        mni_seterr(s->base.db, rc, "%s: out of memory", doing);
    if (rc != MN_OK) {
        clear_items(rd, arr, n);
        return rc;
    }
    *items = arr;
    *count = n;
    return MN_OK;
}

int pgs_query(struct pgs_store *s, enum pgs_stmt_id id, const char *const *texts, int ntexts,
              const struct pgs_reader *rd, void **items, size_t *count, const char *doing)
{
    struct pgs_pool *pool = pgs_reads(s);
    struct pgs_args a = {0};
    for (int i = 0; i < ntexts; i++)
        pgs_arg_text(&a, texts[i]);
    PGresult *res = NULL;
    int rc = pgs_run_on(s, pool, id, &a, &res, doing);
    if (rc == MN_OK)
        rc = pgs_collect(s, res, rd, 0, items, count, NULL, doing);
    PQclear(res);
    return rc;
}

int pgs_query_one(struct pgs_store *s, enum pgs_stmt_id id, const char *const *texts,
                  int ntexts, const struct pgs_reader *rd, void **out, const char *doing)
{
    size_t n = 0;
    void *items = NULL;
    int rc = pgs_query(s, id, texts, ntexts, rd, &items, &n, doing);
    if (rc == MN_OK && n == 0) {
        free(items);
        return MN_ENOTFOUND;
    }
    if (rc == MN_OK)
        *out = items; /* an array of one is the object itself (n is 1: ids are unique) */
    return rc;
}

/* ---- readers of the public structs ---------------------------------------------------------- */

static int read_tenant(struct pgs_store *s, const PGresult *r, int row, void *item, void *ctx)
{
    (void)s, (void)ctx;
    mn_tenant *t = item;
    int oom = 0;
    t->id = pgs_text(r, row, 0, &oom);
    t->name = pgs_text(r, row, 1, &oom);
    t->created_at = pgs_int(r, row, 2);
    return oom || !t->id || !t->name ? -MN_ENOMEM : 1;
}

const struct pgs_reader pgs_tenant_reader = { sizeof(mn_tenant), read_tenant, mni_tenant_clear,
                                              NULL };

/* ctx, when set, points to the column where the identity's columns start (a join). */
static int read_identity(struct pgs_store *s, const PGresult *r, int row, void *item, void *ctx)
{
    (void)s;
    int at = ctx ? *(const int *)ctx : 0, oom = 0;
    mn_identity *i = item;
    i->id = pgs_text(r, row, at, &oom);
    i->tenant_id = pgs_text(r, row, at + 1, &oom);
    i->external_id = pgs_text(r, row, at + 2, &oom);
    i->role = pgs_text(r, row, at + 3, &oom);
    i->claims = pgs_text(r, row, at + 4, &oom);
    i->active = (int)pgs_int(r, row, at + 5);
    i->created_at = pgs_int(r, row, at + 6);
    i->updated_at = pgs_int(r, row, at + 7);
    return oom || !i->id || !i->tenant_id || !i->external_id || !i->role || !i->claims
           ? -MN_ENOMEM : 1;
}

const struct pgs_reader pgs_identity_reader = { sizeof(mn_identity), read_identity,
                                                mni_identity_clear, NULL };

static int read_history(struct pgs_store *s, const PGresult *r, int row, void *item, void *ctx)
{
    (void)s, (void)ctx;
    mn_history_entry *h = item;
    int oom = 0;
    h->version = pgs_int(r, row, 0);
    h->changed_at = pgs_int(r, row, 1);
    h->changed_by = pgs_text(r, row, 2, &oom);
    h->before = pgs_text(r, row, 3, &oom);
    h->after = pgs_text(r, row, 4, &oom);
    return oom || !h->before || !h->after ? -MN_ENOMEM : 1;
}

const struct pgs_reader pgs_history_reader = { sizeof(mn_history_entry), read_history,
                                               mni_history_entry_clear, NULL };

static int read_policy(struct pgs_store *s, const PGresult *r, int row, void *item, void *ctx)
{
    (void)s, (void)ctx;
    mn_policy *p = item;
    int oom = 0;
    p->id = pgs_text(r, row, 0, &oom);
    p->tenant_id = pgs_text(r, row, 1, &oom);
    p->role = pgs_text(r, row, 2, &oom);
    p->rule = pgs_text(r, row, 3, &oom);
    p->priority = (int)pgs_int(r, row, 4);
    p->active = (int)pgs_int(r, row, 5);
    p->description = pgs_text(r, row, 6, &oom);
    p->created_at = pgs_int(r, row, 7);
    p->updated_at = pgs_int(r, row, 8);
    return oom || !p->id || !p->tenant_id || !p->role || !p->rule || !p->description
           ? -MN_ENOMEM : 1;
}

const struct pgs_reader pgs_policy_reader = { sizeof(mn_policy), read_policy, mni_policy_clear,
                                              NULL };

/* Columns as MEMORY_COLUMNS lists them (postgres/sql.c). The embedding is copied only when asked
 * for: it is the biggest part of a row. */
int pgs_memory_read(struct pgs_store *s, const PGresult *r, int row, mn_memory *m,
                    int with_embedding)
{
    int oom = 0;
    m->id = pgs_text(r, row, 1, &oom);
    m->tenant_id = pgs_text(r, row, 2, &oom);
    m->identity_id = pgs_text(r, row, 3, &oom);
    m->text = pgs_text(r, row, 4, &oom);
    m->type = pgs_text(r, row, 5, &oom);
    m->metadata = pgs_text(r, row, 6, &oom);
    m->importance = pgs_double(r, row, 7);
    m->version = pgs_int(r, row, 8);
    m->created_at = pgs_int(r, row, 9);
    m->updated_at = pgs_int(r, row, 10);
    m->expires_at = pgs_int(r, row, 11);
    m->deleted = (int)pgs_int(r, row, 12);
    m->seq = pgs_int(r, row, 13);
    if (oom || !m->id || !m->tenant_id || !m->identity_id || !m->text || !m->type ||
        !m->metadata)
        return MN_ENOMEM;
    if (with_embedding && !PQgetisnull(r, row, 14)) {
        int dim = s->base.dim;
        m->embedding = malloc((size_t)dim * sizeof(float));
        if (!m->embedding)
            return MN_ENOMEM;
        if (pgs_vec(s, r, row, 14, m->embedding) < 0)
            return mni_seterr(s->base.db, MN_ECORRUPT, "memory %s has an embedding of another "
                             "size than the database's %d dimensions; the database is damaged",
                             m->id, dim);
        m->dim = dim;
    }
    /* Asynchronous embedding (issue 7): the memory's job, when it has one. */
    m->embed_status = (int)pgs_int(r, row, 15);
    m->embed_error = pgs_text(r, row, 16, &oom);
    return oom ? MN_ENOMEM : MN_OK;
}
