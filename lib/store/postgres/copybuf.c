/* COPY's binary format in a growable buffer: what the store's batch insert sends
 * (postgres/memory.c), and what bench/bench_pg_copy.c sends to measure its ceiling. */
#include "store/postgres/pg.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

void pgs_copy_put(struct pgs_copybuf *b, const void *data, size_t len)
{
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->n + len)
            cap *= 2;
        char *grown = b->oom ? NULL : realloc(b->p, cap);
        if (!grown) {
            b->oom = 1;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
}

void pgs_copy_u16(struct pgs_copybuf *b, uint16_t v)
{
    v = htobe16(v);
    pgs_copy_put(b, &v, 2);
}

void pgs_copy_u32(struct pgs_copybuf *b, uint32_t v)
{
    v = htobe32(v);
    pgs_copy_put(b, &v, 4);
}

void pgs_copy_header(struct pgs_copybuf *b)
{
    static const char signature[] = "PGCOPY\n\377\r\n";
    pgs_copy_put(b, signature, sizeof signature); /* its NUL included */
    pgs_copy_u32(b, 0);                           /* flags */
    pgs_copy_u32(b, 0);                           /* header extension */
}

void pgs_copy_trailer(struct pgs_copybuf *b)
{
    pgs_copy_u16(b, 0xffff);
}

void pgs_copy_field(struct pgs_copybuf *b, const void *data, size_t len)
{
    if (!data) {
        pgs_copy_u32(b, 0xffffffffu); /* NULL */
        return;
    }
    pgs_copy_u32(b, (uint32_t)len);
    pgs_copy_put(b, data, len);
}

void pgs_copy_text(struct pgs_copybuf *b, const char *t)
{
    pgs_copy_field(b, t, t ? strlen(t) : 0);
}

void pgs_copy_i64(struct pgs_copybuf *b, int64_t v)
{
    uint64_t u = htobe64((uint64_t)v);
    pgs_copy_field(b, &u, 8);
}

void pgs_copy_f64(struct pgs_copybuf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    u = htobe64(u);
    pgs_copy_field(b, &u, 8);
}
