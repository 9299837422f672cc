/*
 * Embedders by name. A new backend adds its ops to the table; nothing else names a backend.
 */
#include "embed/embedder.h"

#include <string.h>

static const struct mn_embedder_ops *const mn_embedders[] = {
    &mn_embedder_local,
    &mn_embedder_openai,
};

const struct mn_embedder_ops *mn_embedder_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof mn_embedders / sizeof mn_embedders[0]; i++)
        if (strcmp(mn_embedders[i]->name, name) == 0)
            return mn_embedders[i];
    return NULL;
}

const char *mn_embedder_names(void)
{
    return "local, openai";
}
