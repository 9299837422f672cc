/* Reading binary-format results of the PostgreSQL backend into the public structs: one reader
 * per struct type, one loop for all (as sqlite/rows.c does for SQLite). */
#include "store/postgres/pg.h"
#include "core/bytes.h"
#include "core/error.h"
#include "store/list.h"
#include "store/rows.h"

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
    return mni_array_done(s->base.db, rc, arr, n, rd->size, rd->clear, items, count, doing);
}

/* ---- readers of the public structs ---------------------------------------------------------- */

static int pg_is_null(const struct mni_row *r, int col)
{
    return PQgetisnull(r->res, r->row, col);
}

static char *pg_row_text(const struct mni_row *r, int col)
{
    int oom = 0;
    return pgs_text(r->res, r->row, col, &oom);
}

static int64_t pg_integer(const struct mni_row *r, int col)
{
    return pgs_int(r->res, r->row, col);
}

static double pg_real(const struct mni_row *r, int col)
{
    return pgs_double(r->res, r->row, col);
}

static const struct mni_row_ops row_ops = { pg_is_null, pg_row_text, pg_integer, pg_real };

struct mni_row pgs_row(const PGresult *r, int row)
{
    return (struct mni_row){ &row_ops, r, row, 0 };
}

/* Columns as MEMORY_COLUMNS lists them (postgres/sql.c). The embedding is copied only when asked
 * for: it is the biggest part of a row. */
int pgs_memory_read(struct pgs_store *s, const PGresult *r, int row, mn_memory *m,
                    int with_embedding)
{
    struct mni_row mr = pgs_row(r, row);
    if (mni_row_memory(&mr, m) != MN_OK)
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
    return MN_OK;
}
