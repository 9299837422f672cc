/* Cache backends by mn_config.cache (cache/backends.c is the only place that names them). */
#ifndef MNI_CACHE_BACKENDS_H
#define MNI_CACHE_BACKENDS_H

#include "cache/cache.h"

/* The Redis cache on mn_config.redis_url (its redis_* settings), its keys under namespace ns
 * (at most 32 characters naming the database). Connects lazily. */
int mni_cache_redis_create(mn_db *db, mn_config *cfg, const char *ns, struct mni_cache **out);

/* The backend cfg->cache names (MN_CACHE_MEMORY or MN_CACHE_REDIS); a Redis cache when the
 * build has no Redis is MN_EUNSUPPORTED naming the switch. */
int mni_cache_create(mn_db *db, mn_config *cfg, const char *ns, struct mni_cache **out);

#endif
