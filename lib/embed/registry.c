/*
 * Embedders by name. A new backend adds its ops to the table; nothing else names a backend.
 */
#include "embed/embedder.h"

#include <string.h>

static const struct mni_embedder_ops *const mni_embedders[] = {
    &mni_embedder_local,
    &mni_embedder_openai,
    &mni_embedder_external,
};

const struct mni_embedder_ops *mni_embedder_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof mni_embedders / sizeof mni_embedders[0]; i++)
        if (strcmp(mni_embedders[i]->name, name) == 0)
            return mni_embedders[i];
    return NULL;
}

const char *mni_embedder_names(void)
{
    return "local, openai, external";
}
