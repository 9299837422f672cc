/* Cache backends by mn_config.cache: the only place that names them. A backend left out of the
 * build (its WITH_* switch off) says which switch would add it. */
#include "cache/backends.h"
#include "core/error.h"
#include "core/features.h"

#include "build_options.h"

int mni_cache_create(mn_db *db, mn_config *cfg, const char *ns, struct mni_cache **out)
{
    if (cfg->cache == MN_CACHE_MEMORY) {
        *out = mni_cache_memory_create(db, cfg->cache_max_bytes, cfg->cache_local_ms);
        return *out ? MN_OK : mni_seterr(db, MN_ENOMEM, "mn_open: out of memory");
    }
#if MNI_WITH_REDIS
    return mni_cache_redis_create(db, cfg, ns, out);
#else
    (void)ns;
    return mni_unbuilt(db, MN_FEATURE_REDIS, "mn_config.redis_url (the Redis cache)");
#endif
}
