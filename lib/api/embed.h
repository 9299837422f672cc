/* Embedding through the handle's embedder. */
#ifndef MNI_API_EMBED_H
#define MNI_API_EMBED_H

#include "manushya.h"

#include <stddef.h>

/* Embeds n NUL-terminated texts into out (n * mn_embed_dim(db) floats). scope: the tenant id
 * the texts are embedded for (the embedding cache keeps each tenant's apart), NULL for none. */
int mni_embed_texts(mn_db *db, const char *scope, const char *const *texts, size_t n,
                   float *out);

#endif
