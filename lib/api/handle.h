/* The inside of an mn_db handle. Only lib/ sees it. */
#ifndef MNI_API_HANDLE_H
#define MNI_API_HANDLE_H

#include "manushya.h"
#include "core/error.h"
#include "embed/embedder.h"

#include <pthread.h>

struct mni_store;
struct mni_policy_sets;
struct mni_vindex;
struct mni_limiter;
struct mni_rl_targets;
struct mni_apikeys;
struct mni_metrics;
struct mni_cache;

/* Locks that updates of one memory take in turn (a power of two): enough that updates of
 * different memories rarely share one. */
#define MNI_UPDATE_TURNS 64

struct mn_db {
    struct mni_report report;               /* first: what core/error.c reads of a handle
                                             * (its secrets, its log) */
    mn_config cfg;                          /* with defaults filled in */
    char *url_shown;                        /* the URL as mn_db_url() shows it */
    struct mni_store *store;
    const struct mni_embedder_ops *embed_ops;
    mni_embedder *embedder;
    mn_embedder *plugin;                    /* the caller's embedder plug-in, copied
                                             * (api/embed.c); NULL: a built-in embedder */
    int plugin_owned;                       /* mn_open succeeded: mn_close destroys its ctx */
    int dim;                                /* the database's embedding dimension */
    struct mni_policy_sets *policy_sets;     /* compiled policies per tenant (api/access.c) */
    struct mni_vindex *index;                /* vector index (index/vindex.c); NULL: exact scans */
    /* ---- embedding cache (embed/cache.c) ---- */
    int embed_cached;                       /* vectors go through the store's cache */
    uint64_t embed_hits, embed_misses;      /* atomics */
    /* ---- rate limiting (ratelimit/) ---- */
    struct mni_limiter *limiter;             /* counters, fail mode, stats */
    struct mni_rl_targets *rl_targets;       /* cached actors and tenants' limits */
    struct mni_apikeys *apikeys;             /* verified API keys and the database's key
                                             * secret (api/apikey_cache.c) */
    /* ---- asynchronous embedding (jobs/) ---- */
    struct mni_jobs *jobs;                   /* worker threads; NULL without any */
    /* ---- metrics (core/metrics.h, api/metrics.c) ---- */
    struct mni_metrics *metrics;             /* NULL: off (mn_config.metrics) */
    /* ---- read-through cache (cache/cache.h, api/cache.c) ---- */
    struct mni_cache *cache;                 /* NULL: none (MN_CACHE_OFF) */
    /* ---- scheduled maintenance (api/maintenance.c) ---- */
    struct mni_jobs *maintenance;            /* its thread; NULL without one */
    /* ---- webhook deliveries (api/webhook_run.c) ---- */
    struct mni_jobs *webhooks;               /* mn_webhook_start's threads; NULL: none */
    mn_webhook_options webhook_options;      /* theirs, defaults filled */
    /* ---- updates of one memory take turns (api/memory_change.c) ---- */
    pthread_mutex_t update_turns[MNI_UPDATE_TURNS]; /* by the memory id's hash */
};

#define MNI_DEFAULT_MAX_TEXT 65536
#define MNI_DEFAULT_DEDUP_THRESHOLD 0.95
#define MNI_DEFAULT_BUSY_MS 5000
#define MNI_DEFAULT_POOL 4

#endif
