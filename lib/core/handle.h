/* The inside of an mn_db handle. Only lib/ sees it. */
#ifndef MN_CORE_HANDLE_H
#define MN_CORE_HANDLE_H

#include "manushya.h"
#include "embed/embedder.h"

struct mn_store;
struct mn_policy_sets;
struct mn_vindex;
struct mn_limiter;
struct mn_rl_targets;

struct mn_db {
    mn_config cfg;                          /* with defaults filled in */
    struct mn_store *store;
    const struct mn_embedder_ops *embed_ops;
    mn_embedder *embedder;
    int dim;                                /* the database's embedding dimension */
    struct mn_policy_sets *policy_sets;     /* compiled policies per tenant (api/access.c) */
    struct mn_vindex *index;                /* vector index (index/vindex.c); NULL: exact scans */
    /* ---- embedding cache (issue 7, embed/cache.c) ---- */
    int embed_cached;                       /* vectors go through the store's cache */
    uint64_t embed_hits, embed_misses;      /* atomics */
    /* ---- rate limiting (issue 5, ratelimit/) ---- */
    struct mn_limiter *limiter;             /* counters, fail mode, stats */
    struct mn_rl_targets *rl_targets;       /* cached actors and tenants' limits */
    /* ---- asynchronous embedding (issue 7, jobs/) ---- */
    struct mn_jobs *jobs;                   /* worker threads; NULL without any */
};

/* Called by the store after it committed a change to the tenant's memories: the vector index
 * catches up in the background. */
void mn_db_changed(mn_db *db, const char *tenant_id);

#define MN_DEFAULT_DIM 384
#define MN_DEFAULT_MAX_TEXT 65536
#define MN_DEFAULT_BUSY_MS 5000
#define MN_DEFAULT_POOL 4

#endif
