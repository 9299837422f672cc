/* mn_metrics_write: the handle's counters (core/metrics.h) and the figures read when asked
 * (the store's jobs and tenants, the index, the caches' and embedder's own counters). */
#include "api/metrics.h"
#include "cache/cache.h"
#include "api/access.h"
#include "api/limiter.h"
#include "core/error.h"
#include "index/vindex.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>

int mni_metrics_open(mn_db *db)
{
    if (db->cfg.metrics != MN_METRICS_AUTO && db->cfg.metrics != MN_METRICS_OFF)
        return mni_seterr(db, MN_EINVAL, "mn_config.metrics is %d; give MN_METRICS_AUTO (0) or "
                          "MN_METRICS_OFF (1)", db->cfg.metrics);
    if (db->cfg.metrics == MN_METRICS_OFF)
        return MN_OK;
    db->metrics = mni_metrics_create();
    return db->metrics ? MN_OK : mni_seterr(db, MN_ENOMEM, "mn_open: out of memory");
}

/* The SNAP families, and what the caches and the embedder count themselves. */
static int snapshot(mn_db *db, uint64_t *v)
{
    mn_ratelimit_stats rl = MN_RATELIMIT_STATS_INIT;
    if (db->limiter)
        mni_rl_stats(db, &rl);
    v[MNI_S_RATELIMIT_DECISIONS + MNI_RL_ALLOWED] = rl.allowed;
    v[MNI_S_RATELIMIT_DECISIONS + MNI_RL_LIMITED] = rl.denied;
    v[MNI_S_RATELIMIT_DECISIONS + MNI_RL_FAIL_OPEN] = rl.fail_open;
    v[MNI_S_RATELIMIT_DECISIONS + MNI_RL_FAIL_CLOSED] = rl.fail_closed;

    mn_embed_stats es = MN_EMBED_STATS_INIT;
    mni_errmark mark = mni_err_mark();
    if (mn_embed_stats_get(db, &es) != MN_OK)
        mni_err_forget(mark);
    v[MNI_S_EMBED_REQUESTS] = es.requests;
    v[MNI_S_EMBED_RETRIES] = es.retries;
    v[MNI_S_EMBED_TEXTS] = es.texts;
    v[MNI_S_CACHE_HITS + MNI_CACHE_EMBEDDING] += es.cache_hits;
    v[MNI_S_CACHE_MISSES + MNI_CACHE_EMBEDDING] += es.cache_misses;

    uint64_t h, m, e;
    mni_access_cache_stats(db, &h, &m, &e);
    v[MNI_S_CACHE_HITS + MNI_CACHE_DECISION] += h;
    v[MNI_S_CACHE_MISSES + MNI_CACHE_DECISION] += m;
    v[MNI_S_CACHE_EVICTIONS + MNI_CACHE_DECISION] += e;
    /* The read-through cache counts its hits and misses by kind as they happen; what it
     * evicts is of every kind, and only identities are cached yet. */
    if (db->cache)
        v[MNI_S_CACHE_EVICTIONS + MNI_CACHE_IDENTITY] += atomic_load(&db->cache->evictions);

    struct mni_store *s = db->store;
    int64_t seq = 0;
    if (db->index && s->ops->seq_get(s, &seq) == MN_OK)
        mni_vindex_metrics(db->index, seq, v);
    struct mni_store_stats st = { 0 };
    int rc = s->ops->stats ? s->ops->stats(s, &st) : MN_OK;
    if (rc != MN_OK)
        return rc;
    v[MNI_S_EMBED_JOBS + MNI_JOBS_PENDING] = (uint64_t)st.jobs_pending;
    v[MNI_S_EMBED_JOBS + MNI_JOBS_FAILED] = (uint64_t)st.jobs_failed;
    int64_t age = st.jobs_oldest_ms ? mni_now_ms() - st.jobs_oldest_ms : 0;
    v[MNI_S_EMBED_JOBS_OLDEST] = (uint64_t)(age > 0 ? age : 0);
    v[MNI_S_TENANTS] = (uint64_t)st.tenants;
    return MN_OK;
}

int mn_metrics_write(mn_db *db, int format, char **out)
{
    if (!db)
        return mni_err_no_db("mn_metrics_write");
    if (!out)
        return mni_seterr(db, MN_EINVAL, "mn_metrics_write: out is NULL; pass the address of "
                          "a char *");
    *out = NULL;
    if (format != MN_METRICS_PROMETHEUS && format != MN_METRICS_JSON)
        return mni_seterr(db, MN_EINVAL, "mn_metrics_write: format is %d; give "
                          "MN_METRICS_PROMETHEUS (0) or MN_METRICS_JSON (1)", format);
    if (!db->metrics || !db->store)
        return mni_seterr(db, MN_EUNSUPPORTED, "mn_metrics_write: this handle keeps no metrics "
                          "(%s); open it with mn_config.metrics MN_METRICS_AUTO",
                          db->store ? "mn_config.metrics is MN_METRICS_OFF" : "it is not open");
    uint64_t *v = malloc(sizeof *v * MNI_SLOTS);
    if (!v)
        return mni_seterr(db, MN_ENOMEM, "mn_metrics_write: out of memory");
    mni_metrics_sum(db->metrics, v);
    int rc = snapshot(db, v);
    char *text = NULL;
    size_t len = 0;
    FILE *f = rc == MN_OK ? open_memstream(&text, &len) : NULL;
    if (rc == MN_OK && !f)
        rc = mni_seterr(db, MN_ENOMEM, "mn_metrics_write: out of memory");
    if (f) {
        int bad = mni_metrics_render(v, format == MN_METRICS_JSON ? MNI_METRICS_FORMAT_JSON
                                                                  : MNI_METRICS_FORMAT_PROMETHEUS,
                                     f);
        if (fclose(f) != 0 || bad)
            rc = mni_seterr(db, MN_ENOMEM, "mn_metrics_write: out of memory");
    }
    free(v);
    if (rc != MN_OK) {
        free(text);
        return rc;
    }
    *out = text;
    return MN_OK;
}
