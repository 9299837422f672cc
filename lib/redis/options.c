/* The pool options of a handle's mn_config (its redis_* fields), and the pool made with them,
 * shared by whatever connects: the rate-limit counters and the caches. */
#include "redis/redis.h"
#include "core/error.h"

/* The mn_config.redis_* fields, checked, as pool options; the defaults written back to cfg. */
int mni_redis_config_options(mn_db *db, mn_config *cfg, struct mni_redis_options *o)
{
    const struct {
        int *v;
        const char *name;
        int lo, hi, def;
    } f[] = {
        {&cfg->redis_pool_max, "redis_pool_max", 1, 10000, MNI_REDIS_MAX_CONNS},
        {&cfg->redis_connect_timeout_ms, "redis_connect_timeout_ms", 1, 600000,
         MNI_REDIS_TIMEOUT_MS},
        {&cfg->redis_timeout_ms, "redis_timeout_ms", 1, 600000, MNI_REDIS_TIMEOUT_MS},
        {&cfg->redis_health_check_s, "redis_health_check_s", 1, 86400, MNI_REDIS_HEALTH_S},
        {&cfg->redis_retries, "redis_retries", -1, 10, MNI_REDIS_RETRIES},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (*f[i].v && (*f[i].v < f[i].lo || *f[i].v > f[i].hi))
            return mni_seterr(db, MN_EINVAL, "mn_config.%s is %d; give %d..%d (0 = the default, "
                             "%d)", f[i].name, *f[i].v, f[i].lo, f[i].hi, f[i].def);
        if (!*f[i].v)
            *f[i].v = f[i].def;
    }
    *o = (struct mni_redis_options){cfg->redis_pool_max, cfg->redis_connect_timeout_ms,
                                   cfg->redis_timeout_ms, cfg->redis_health_check_s,
                                   cfg->redis_retries};
    return MN_OK;
}


int mni_redis_config_pool(mn_db *db, mn_config *cfg, struct mni_redis_pool **out)
{
    struct mni_redis_options o;
    int rc = mni_redis_config_options(db, cfg, &o);
    if (rc != MN_OK)
        return rc;
    char err[MNI_ERRMSG_MAX];
    rc = mni_redis_pool_create(cfg->redis_url, &o, out, err, sizeof err);
    return rc == MN_OK ? MN_OK : mni_seterr(db, rc, "mn_config.redis_url: %s", err);
}
