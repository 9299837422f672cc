/* The inside of an mn_db handle. Only lib/ sees it. */
#ifndef MNI_API_HANDLE_H
#define MNI_API_HANDLE_H

#include "manushya.h"
#include "embed/embedder.h"

struct mni_store;
struct mni_policy_sets;
struct mni_vindex;
struct mni_limiter;
struct mni_rl_targets;

struct mn_db {
    mn_config cfg;                          /* with defaults filled in */
    struct mni_store *store;
    const struct mni_embedder_ops *embed_ops;
    mni_embedder *embedder;
    int dim;                                /* the database's embedding dimension */
    struct mni_policy_sets *policy_sets;     /* compiled policies per tenant (api/access.c) */
    struct mni_vindex *index;                /* vector index (index/vindex.c); NULL: exact scans */
    /* ---- embedding cache (issue 7, embed/cache.c) ---- */
    int embed_cached;                       /* vectors go through the store's cache */
    uint64_t embed_hits, embed_misses;      /* atomics */
    /* ---- rate limiting (issue 5, ratelimit/) ---- */
    struct mni_limiter *limiter;             /* counters, fail mode, stats */
    struct mni_rl_targets *rl_targets;       /* cached actors and tenants' limits */
    /* ---- asynchronous embedding (issue 7, jobs/) ---- */
    struct mni_jobs *jobs;                   /* worker threads; NULL without any */
};

/* A line for the host's log (mn_config.log_fn; stderr without one): what went wrong where no
 * caller sees it, as in background threads. */
void mni_db_log(mn_db *db, const char *msg);

#define MNI_DEFAULT_MAX_TEXT 65536
#define MNI_DEFAULT_BUSY_MS 5000
#define MNI_DEFAULT_POOL 4

#endif
