/*
 * Embedders by name. A new backend adds its ops to the table; nothing else names a backend.
 * A backend left out of the build (its WITH_* switch off) keeps its name here, so that asking
 * for it says which switch would add it rather than that no such embedder exists.
 */
#include "embed/embedder.h"
#include "core/error.h"
#include "core/features.h"

#include "build_options.h"

#include <stdio.h>
#include <string.h>

#if MNI_WITH_CURL
#define OPENAI (&mni_embedder_openai)
#else
#define OPENAI NULL
#endif

static const struct {
    const char *name;
    const struct mni_embedder_ops *ops; /* NULL: not in this build */
    unsigned feature;                  /* the MN_FEATURE_* bit that brings it */
} embedders[] = {
    {"local", &mni_embedder_local, 0},
    {"openai", OPENAI, MN_FEATURE_HTTP_EMBED},
    {"external", &mni_embedder_external, 0},
};
#define NEMBEDDERS (sizeof embedders / sizeof embedders[0])

int mni_embedder_find(const mn_db *db, const char *name, const struct mni_embedder_ops **out)
{
    *out = NULL;
    for (size_t i = 0; name && i < NEMBEDDERS; i++) {
        if (strcmp(embedders[i].name, name) != 0)
            continue;
        if (!embedders[i].ops) {
            char what[64];
            snprintf(what, sizeof what, "the \"%s\" embedder", name);
            return mni_unbuilt(db, embedders[i].feature, what);
        }
        *out = embedders[i].ops;
        return MN_OK;
    }
    char names[128] = "";
    for (size_t i = 0, len = 0; i < NEMBEDDERS && len < sizeof names; i++)
        if (embedders[i].ops)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
                                    embedders[i].name);
    return mni_seterr(db, MN_EINVAL, "unknown embedder \"%.64s\"; this build has %s, or give "
                     "your own (mn_config.embedder_plugin)", name ? name : "(null)", names);
}

int mni_embedders_global_init(void)
{
    for (size_t i = 0; i < NEMBEDDERS; i++)
        if (embedders[i].ops && embedders[i].ops->global_init &&
            embedders[i].ops->global_init() != MN_OK)
            return MN_ERROR;
    return MN_OK;
}
