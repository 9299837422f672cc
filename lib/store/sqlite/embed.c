/* Reading the embedding cache of the SQLite backend (table embed_cache,
 * sql/sqlite/005_embed_cache.sql): a hash at a time. Adding to it is written once
 * (store/op_embed.c). */
#include "store/sqlite/sqlite.h"
#include "core/error.h"

#include <string.h>

#define MNI_HASH_LEN 32

int sq_embed_cache_get(struct mni_store *st, const char *scope, const char *model, int dim,
                       const unsigned char *hashes, size_t n, float *out, unsigned char *hit)
{
    struct sq_store *s = (struct sq_store *)st;
    size_t bytes = (size_t)dim * sizeof(float);
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_EMBED_CACHE_GET);
    rc = q ? MN_OK : MN_EBACKEND;
    if (q) {
        sq_bind_text(q, 1, scope);
        sq_bind_text(q, 2, model);
        sqlite3_bind_int(q, 3, dim);
    }
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        sqlite3_bind_blob(q, 4, hashes + i * MNI_HASH_LEN, MNI_HASH_LEN, SQLITE_STATIC);
        int step = sqlite3_step(q);
        /* A vector of another size is not ours to trust: a miss, embedded again. */
        if (step == SQLITE_ROW && (size_t)sqlite3_column_bytes(q, 0) == bytes) {
            memcpy(out + i * (size_t)dim, sqlite3_column_blob(q, 0), bytes);
            hit[i] = 1;
        } else if (step != SQLITE_ROW && step != SQLITE_DONE) {
            rc = sq_fail(s, c->db, step, "reading the embedding cache");
        }
        sqlite3_reset(q);
    }
    sq_conn_put(s, c);
    return rc;
}
