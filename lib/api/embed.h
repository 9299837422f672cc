/* Embedding through the handle's embedder. */
#ifndef MNI_API_EMBED_H
#define MNI_API_EMBED_H

#include "manushya.h"

#include <stddef.h>

/* Embeds n NUL-terminated texts into out (n * mn_embed_dim(db) floats). scope: the tenant id
 * the texts are embedded for (the embedding cache keeps each tenant's apart), NULL for none.
 * A text the embedder makes an all-zero vector of is MN_EINVAL; its index goes into *zero
 * (when zero is not NULL; else (size_t)-1). */
int mni_embed_texts(mn_db *db, const char *scope, const char *const *texts, size_t n,
                   float *out, size_t *zero);

/* Checks the caller's embedder plug-in (c->embedder_plugin, set) and keeps a copy of it in the
 * handle, strings included: c then names it (embedder, embed_dim) and the handle embeds
 * through it. MN_EINVAL naming what is wrong. */
int mni_plugin_take(mn_db *db, mn_config *c);
/* Frees the handle's copy; calls the plug-in's destroy when mn_open had succeeded. */
void mni_plugin_release(mn_db *db);

#endif
