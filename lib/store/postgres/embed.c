/* The embedding cache of the PostgreSQL backend (table embed_cache,
 * sql/postgres/005_embed_cache.sql): reading it, one read for all hashes. Adding to it is
 * written once (store/op_embed.c). */
#include "store/postgres/pg.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MNI_HASH_LEN 32

/* The hashes as a bytea[] literal: {"\\x<hex>",...} (a parameter value, not SQL). */
static char *hash_array(const unsigned char *hashes, size_t n)
{
    char *out = malloc(n * (MNI_HASH_LEN * 2 + 6) + 3), *o = out;
    if (!out)
        return NULL;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        o += sprintf(o, "%s\"\\\\x", i ? "," : "");
        for (int j = 0; j < MNI_HASH_LEN; j++)
            o += sprintf(o, "%02x", hashes[i * MNI_HASH_LEN + (size_t)j]);
        *o++ = '"';
    }
    *o++ = '}';
    *o = 0;
    return out;
}

int pgs_embed_cache_get(struct mni_store *st, const char *scope, const char *model, int dim,
                        const unsigned char *hashes, size_t n, float *out, unsigned char *hit)
{
    struct pgs_store *s = (struct pgs_store *)st;
    size_t bytes = (size_t)dim * sizeof(float);
    char *arr = hash_array(hashes, n);
    if (!arr)
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory reading the embedding cache");
    struct pgs_args a = {0};
    pgs_arg_text(&a, scope);
    pgs_arg_text(&a, model);
    pgs_arg_int(&a, dim);
    pgs_arg_text(&a, arr);
    PGresult *res = NULL;
    int rc = pgs_run_on(s, pgs_reads(s), PGS_EMBED_CACHE_GET, &a, &res,
                        "reading the embedding cache");
    free(arr);
    for (int r = 0; rc == MN_OK && r < PQntuples(res); r++) {
        int64_t i = pgs_int(res, r, 0) - 1; /* ORDINALITY counts from 1 */
        /* A vector of another size is not ours to trust: a miss, embedded again. */
        if (i < 0 || (size_t)i >= n || (size_t)PQgetlength(res, r, 1) != bytes)
            continue;
        memcpy(out + (size_t)i * (size_t)dim, PQgetvalue(res, r, 1), bytes);
        hit[i] = 1;
    }
    PQclear(res);
    return rc;
}
