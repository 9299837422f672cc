/* What this build has: the WITH_* switches it was made with, for callers and for messages. */
#include "core/features.h"
#include "core/error.h"

#include "build_options.h"

#include <stddef.h>

static const struct {
    unsigned bit;
    int built;
    const char *name;   /* mn_feature_name() */
    const char *option; /* the Makefile's switch */
    const char *lib;    /* what the switch links */
} features[] = {
    {MN_FEATURE_POSTGRES, MNI_WITH_POSTGRES, "postgres", "WITH_POSTGRES", "libpq"},
    {MN_FEATURE_REDIS, MNI_WITH_REDIS, "redis", "WITH_REDIS", "hiredis"},
    {MN_FEATURE_HTTP_EMBED, MNI_WITH_CURL, "http-embed", "WITH_CURL", "libcurl"},
};
#define NFEATURES (sizeof features / sizeof features[0])

unsigned mn_features(void)
{
    unsigned bits = 0;
    for (size_t i = 0; i < NFEATURES; i++)
        if (features[i].built)
            bits |= features[i].bit;
    return bits;
}

const char *mn_feature_name(unsigned feature)
{
    for (size_t i = 0; i < NFEATURES; i++)
        if (features[i].bit == feature)
            return features[i].name;
    return NULL;
}

int mni_unbuilt(const mn_db *db, unsigned feature, const char *what)
{
    for (size_t i = 0; i < NFEATURES; i++)
        if (features[i].bit == feature)
            return mni_seterr(db, MN_EUNSUPPORTED, "%s needs a build with %s=1 (this library "
                             "was built without %s)", what, features[i].option, features[i].lib);
    return mni_seterr(db, MN_EUNSUPPORTED, "%s is not in this build", what);
}
