/* Adding to the embedding cache, written once over the driver (driver.h): one transaction for
 * all the vectors, keeping rows already there. Reading it is the backends' own (SQLite looks
 * hashes up one by one, PostgreSQL all in one array). */
#include "store/driver.h"
#include "core/error.h"

#define MNI_HASH_LEN 32

int mni_op_embed_cache_put(struct mni_store *s, const char *scope, const char *model, int dim,
                           const unsigned char *hashes, size_t n, const float *vecs,
                           int64_t now)
{
    size_t bytes = (size_t)dim * sizeof(float);
    struct mni_tx *tx;
    int rc = s->driver->begin(s, 0, NULL, &tx);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        struct mni_args a = {0};
        mni_arg_text(&a, scope);
        mni_arg_text(&a, model);
        mni_arg_int(&a, dim);
        mni_arg_blob(&a, hashes + i * MNI_HASH_LEN, MNI_HASH_LEN);
        mni_arg_blob(&a, vecs + i * (size_t)dim, bytes);
        mni_arg_int(&a, now);
        rc = s->driver->exec(s, tx, MNI_EMBED_CACHE_PUT, &a, NULL, NULL,
                             "adding to the embedding cache");
    }
    return s->driver->end(s, tx, rc);
}
