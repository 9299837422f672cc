/*
 * The "external" embedder: the library embeds nothing, every vector comes from the caller.
 * It has no instance and no embed function; calls that would need one are refused before they
 * change anything (embed/cache.c, mni_embed_check).
 */
#include "embed/embedder.h"

#include "core/vector.h"

#include <manushya.h>
#include <stdio.h>

static int external_create(const struct mni_embedder_config *cfg, mni_embedder **out, char *err,
                           size_t errlen)
{
    *out = NULL;
    if (cfg->dim > MNI_VEC_MAX_DIM) {
        snprintf(err, errlen, "embedder \"external\": dimension %d is out of range; use 1..%d",
                 cfg->dim, MNI_VEC_MAX_DIM);
        return MN_ERANGE;
    }
    return MN_OK;
}

static const char *external_cache_key(const mni_embedder *e)
{
    (void)e;
    return "external";
}

const struct mni_embedder_ops mni_embedder_external = {
    .name = "external",
    .default_dim = 384,
    .any_dim = 1,
    .create = external_create,
    .cache_key = external_cache_key,
};
