/*
 * Counter backends by mn_config.ratelimit: the only place that names them. A backend left out
 * of the build (its WITH_* switch off) says which switch would add it.
 */
#include "ratelimit/counter.h"
#include "core/error.h"
#include "core/features.h"

#include "build_options.h"

#include <stddef.h>

#if MNI_WITH_REDIS
#define REDIS mni_counter_redis_create
#else
#define REDIS NULL
#endif

static const struct {
    int kind; /* MNI_RATELIMIT_* */
    int (*create)(mn_db *db, mn_config *cfg, struct mni_counter **out); /* NULL: not built */
    unsigned feature;
    const char *what; /* for the message when not built */
} counters[] = {
    {MN_RATELIMIT_MEMORY, mni_counter_memory_create, 0, "in-process rate limiting"},
    {MN_RATELIMIT_REDIS, REDIS, MN_FEATURE_REDIS, "mn_config.redis_url (Redis rate limiting)"},
};

int mni_counter_create(mn_db *db, mn_config *cfg, struct mni_counter **out)
{
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        if (counters[i].kind == cfg->ratelimit)
            return counters[i].create ? counters[i].create(db, cfg, out)
                                      : mni_unbuilt(db, counters[i].feature, counters[i].what);
    return mni_seterr(db, MN_EINVAL, "mn_config.ratelimit is %d: no counters for it",
                     cfg->ratelimit);
}
