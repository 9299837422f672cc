/* The handle: opening and closing, library-wide initialisation and version. */
#include "api/handle.h"
#include "api/webhook.h"
#include "api/search_rank.h"
#include "api/apikey.h"
#include "core/error.h"
#include "api/abi_structs.h"
#include "api/embed_cache.h"
#include "api/provenance.h"
#include "store/store.h"
#include "store/vault.h"
#include "api/access.h"
#include "api/embed.h"
#include "index/hnsw.h"
#include "index/vindex.h"
#include "api/jobs.h"
#include "api/limiter.h"
#include "api/metrics.h"
#include "api/maintenance.h"
#include "api/cache.h"

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MNI_MAX_POOL 64

const char *mn_version(void)
{
    return MN_VERSION;
}

int mn_version_number(void)
{
    return MN_VERSION_NUMBER;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void global_init(void)
{
    init_rc = sqlite3_initialize() == SQLITE_OK && sodium_init() >= 0 &&
                      mni_embedders_global_init() == MN_OK ? MN_OK : MN_ERROR;
}

int mn_global_init(void)
{
    pthread_once(&init_once, global_init);
    return init_rc;
}

/* Fills the defaults of a zeroed config and checks the rest. */
static int settle_config(mn_db *db, const mn_config *in)
{
    mn_config *c = &db->cfg;
    int rc = mni_abi_read(db, &mni_abi_config, in, 1, c, sizeof *c);
    if (rc != MN_OK)
        return rc;
    const unsigned known = MN_OPEN_READONLY | MN_OPEN_NOCREATE | MN_OPEN_MIGRATE |
                           MN_OPEN_ENCRYPT;
    if (c->flags & ~known)
        return mni_seterr(db, MN_EINVAL, "mn_config.flags has unknown bits 0x%x; use MN_OPEN_*",
                         c->flags & ~known);
    if (c->embed_timeout_ms < 0)
        return mni_seterr(db, MN_EINVAL, "mn_config.embed_timeout_ms is %d; give milliseconds "
                         "> 0 (0 = the default, 30000)", c->embed_timeout_ms);
    if (c->embed_cache != MN_EMBED_CACHE_AUTO && c->embed_cache != MN_EMBED_CACHE_OFF)
        return mni_seterr(db, MN_EINVAL, "mn_config.embed_cache is %d; give MN_EMBED_CACHE_AUTO "
                         "(0) or MN_EMBED_CACHE_OFF (1)", c->embed_cache);
    if (c->embed_dim < 0)
        return mni_seterr(db, MN_EINVAL, "mn_config.embed_dim is %d; give a positive dimension "
                         "or 0 for the default (%d)", c->embed_dim, MNI_DEFAULT_DIM);
    if (c->busy_timeout_ms < 0)
        return mni_seterr(db, MN_EINVAL, "mn_config.busy_timeout_ms is %d; give milliseconds "
                         ">= 0 (0 = the default, %d)", c->busy_timeout_ms, MNI_DEFAULT_BUSY_MS);
    if (c->pool_size < 0 || c->pool_size > MNI_MAX_POOL)
        return mni_seterr(db, MN_EINVAL, "mn_config.pool_size is %d; give 1..%d (0 = the "
                         "default, %d)", c->pool_size, MNI_MAX_POOL, MNI_DEFAULT_POOL);
    if (c->index != MN_INDEX_AUTO && c->index != MN_INDEX_NONE)
        return mni_seterr(db, MN_EINVAL, "mn_config.index is %d; give MN_INDEX_AUTO (0) or "
                         "MN_INDEX_NONE (1)", c->index);
    if (c->hnsw_m && (c->hnsw_m < 2 || c->hnsw_m > MNI_HNSW_MAX_M))
        return mni_seterr(db, MN_EINVAL, "mn_config.hnsw_m is %d; give 2..%d (0 = the default, "
                         "%d)", c->hnsw_m, MNI_HNSW_MAX_M, MNI_HNSW_DEFAULT_M);
    if (c->hnsw_ef_construction < 0 || c->hnsw_ef_construction > MNI_HNSW_MAX_EF)
        return mni_seterr(db, MN_EINVAL, "mn_config.hnsw_ef_construction is %d; give 1..%d (0 = "
                         "the default, %d)", c->hnsw_ef_construction, MNI_HNSW_MAX_EF,
                         MNI_HNSW_DEFAULT_EF_CONSTRUCTION);
    if (c->hnsw_ef_search < 0 || c->hnsw_ef_search > MNI_HNSW_MAX_EF)
        return mni_seterr(db, MN_EINVAL, "mn_config.hnsw_ef_search is %d; give 1..%d (0 = the "
                         "default, %d)", c->hnsw_ef_search, MNI_HNSW_MAX_EF,
                         MNI_HNSW_DEFAULT_EF_SEARCH);
    if (c->hnsw_quantize != MN_ANN_FLOAT32 && c->hnsw_quantize != MN_ANN_INT8)
        return mni_seterr(db, MN_EINVAL, "mn_config.hnsw_quantize is %d; give MN_ANN_FLOAT32 "
                         "(0, the default) or MN_ANN_INT8 (1)", c->hnsw_quantize);
    if (c->hnsw_rerank < 0 || c->hnsw_rerank > MNI_HNSW_MAX_EF)
        return mni_seterr(db, MN_EINVAL, "mn_config.hnsw_rerank is %d; give 1..%d (0 = all the "
                         "candidates a search keeps)", c->hnsw_rerank, MNI_HNSW_MAX_EF);
    if (c->hnsw_rerank && c->hnsw_quantize != MN_ANN_INT8)
        return mni_seterr(db, MN_EINVAL, "mn_config.hnsw_rerank is %d but hnsw_quantize is "
                         "MN_ANN_FLOAT32: rerank applies to MN_ANN_INT8 only (set it to 0)",
                         c->hnsw_rerank);
    if (c->dedup != MN_DEDUP_EXACT && c->dedup != MN_DEDUP_OFF && c->dedup != MN_DEDUP_NEAR)
        return mni_seterr(db, MN_EINVAL, "mn_config.dedup is %d; give MN_DEDUP_EXACT (0), "
                         "MN_DEDUP_OFF (1) or MN_DEDUP_NEAR (2)", c->dedup);
    if (!(c->dedup_threshold >= 0 && c->dedup_threshold <= 1))
        return mni_seterr(db, MN_EINVAL, "mn_config.dedup_threshold is %g; give a cosine "
                         "similarity above 0 and at most 1 (0 = the default, %g)",
                         c->dedup_threshold, MNI_DEFAULT_DEDUP_THRESHOLD);
    if (!c->dedup_threshold)
        c->dedup_threshold = MNI_DEFAULT_DEDUP_THRESHOLD;
    if (c->search_mode < MN_SEARCH_AUTO || c->search_mode > MN_SEARCH_HYBRID)
        return mni_seterr(db, MN_EINVAL, "mn_config.search_mode is %d; give MN_SEARCH_VECTOR "
                         "(1), MN_SEARCH_KEYWORD (2) or MN_SEARCH_HYBRID (3; 0 = the default, "
                         "hybrid)", c->search_mode);
    if (!c->search_mode)
        c->search_mode = MN_SEARCH_HYBRID;
    if (c->embedder_plugin) {
        rc = mni_plugin_take(db, c);
        if (rc != MN_OK)
            return rc;
    } else if (!c->embedder || !*c->embedder) {
        c->embedder = "local";
    }
    if (!c->max_text_bytes)
        c->max_text_bytes = MNI_DEFAULT_MAX_TEXT;
    if (!c->busy_timeout_ms)
        c->busy_timeout_ms = MNI_DEFAULT_BUSY_MS;
    if (!c->pool_size)
        c->pool_size = MNI_DEFAULT_POOL;
    if (!c->hnsw_m)
        c->hnsw_m = MNI_HNSW_DEFAULT_M;
    if (!c->hnsw_ef_construction)
        c->hnsw_ef_construction = MNI_HNSW_DEFAULT_EF_CONSTRUCTION;
    if (!c->hnsw_ef_search)
        c->hnsw_ef_search = MNI_HNSW_DEFAULT_EF_SEARCH;
    if (!db->plugin) {
        rc = mni_embedder_find(db, c->embedder, &db->embed_ops);
        if (rc != MN_OK)
            return rc;
        /* The name is borrowed from the caller: keep the library's own copy of it. */
        c->embedder = db->embed_ops->name;
    }
    rc = mni_maintenance_settle(db);
    if (rc == MN_OK)
        rc = mni_cache_settle(db);
    if (rc == MN_OK)
        rc = mni_rank_settle(db); /* search ranking defaults */
    return rc == MN_OK ? mni_jobs_settle(db) : rc; /* asynchronous embedding */
}

static int make_embedder(mn_db *db, int dim)
{
    if (db->embedder)
        db->embed_ops->destroy(db->embedder);
    db->embedder = NULL;
    char err[MNI_ERRMSG_MAX];
    struct mni_embedder_config ec = {
        .dim = dim,
        .url = db->cfg.embed_url,
        .model = db->cfg.embed_model,
        .timeout_ms = db->cfg.embed_timeout_ms,
        .retries = db->cfg.embed_retries,
        .plugin = db->plugin,
    };
    int rc = db->embed_ops->create(&ec, &db->embedder, err, sizeof err);
    if (rc != MN_OK)
        return mni_seterr(db, rc == MN_ERANGE ? MN_EINVAL : rc, "%s", err);
    const char *key = db->embed_ops->api_key ? db->embed_ops->api_key(db->embedder) : NULL;
    rc = key ? mni_secrets_add(&db->report.secrets, key, strlen(key)) : MN_OK;
    return rc == MN_OK ? MN_OK : mni_seterr(db, rc, "mn_open: out of memory");
}

/* What the handle is given that its messages must never show: the secrets of its URLs. */
static int learn_secrets(mn_db *db, const char *url, const mn_config *cfg)
{
    int rc = mni_secrets_add_url(&db->report.secrets, url);
    if (rc == MN_OK && cfg)
        rc = mni_secrets_add_url(&db->report.secrets, cfg->redis_url);
    if (rc == MN_OK && cfg)
        rc = mni_secrets_add_url(&db->report.secrets, cfg->embed_url);
    size_t size = url ? strlen(url) * 3 + 1 : 0; /* each character may become "***" */
    if (rc == MN_OK && url && (db->url_shown = malloc(size)) != NULL)
        mni_redact(&db->report.secrets, url, db->url_shown, size);
    return rc == MN_OK && (!url || db->url_shown) ? MN_OK : MN_ENOMEM;
}

/* The store's change hook, after each committed change to a tenant's memories: the cache
 * forgets what it held of them (before the writing call returns), the vector index catches up
 * in the background. */
static void index_follow(void *ctx, const char *tenant_id)
{
    mn_db *db = ctx;
    mni_cache_bump(db, tenant_id);
    if (db->index)
        mni_vindex_changed(db->index, tenant_id);
}

int mn_open(mn_db **out, const char *url, const mn_config *cfg)
{
    if (!out)
        return mni_seterr(NULL, MN_EINVAL, "mn_open: out is NULL; pass the address of an mn_db *");
    *out = NULL;
    if (mn_global_init() != MN_OK)
        return mni_seterr(NULL, MN_ERROR, "mn_open: SQLite, libsodium or an embedder's HTTP "
                         "client failed to initialise");
    mn_db *db = calloc(1, sizeof *db);
    if (!db)
        return mni_seterr(NULL, MN_ENOMEM, "mn_open: out of memory");
    *out = db;
    for (int i = 0; i < MNI_UPDATE_TURNS; i++)
        pthread_mutex_init(&db->update_turns[i], NULL);
    if (learn_secrets(db, url, cfg) != MN_OK || mni_policy_sets_create(&db->policy_sets) != MN_OK ||
        mni_apikeys_create(&db->apikeys) != MN_OK)
        return mni_seterr(db, MN_ENOMEM, "mn_open: out of memory");
    int rc = settle_config(db, cfg);
    db->report.log_fn = db->cfg.log_fn;
    db->report.log_ctx = db->cfg.log_ctx;
    if (rc == MN_OK)
        rc = mni_metrics_open(db); /* first: what opens next counts on it */
    if (rc == MN_OK)
        rc = mni_limiter_open(db); /* rate limiting: checks its settings, connects lazily */
    if (rc != MN_OK)
        return rc;
    if (!url || !*url)
        return mni_seterr(db, MN_EINVAL, "no database URL; give sqlite:PATH or a file path");
    const char *target;
    const struct mni_store_ops *ops;
    if ((rc = mni_store_find(db, url, &ops, &target)) != MN_OK)
        return rc;
    /* The embedder checks the dimension before a new database is made with it. An embedder
     * that takes any dimension follows an existing database's (wanted 0); a model's own
     * dimension must be the database's. */
    int dim = db->cfg.embed_dim ? db->cfg.embed_dim : db->embed_ops->default_dim;
    rc = make_embedder(db, db->cfg.embed_dim);
    if (rc != MN_OK)
        return rc;
    int wanted = db->embed_ops->any_dim ? db->cfg.embed_dim : dim;
    rc = mni_store_open(ops, db, target, &db->cfg, &wanted, index_follow, db, &db->store);
    if (rc == MN_OK)
        rc = mni_vault_attach(db->store, (db->cfg.flags & MN_OPEN_ENCRYPT) != 0,
                              db->cfg.master_key_file, (db->cfg.flags & MN_OPEN_READONLY) != 0);
    if (rc == MN_OK)
        rc = mni_embed_provenance_check(db);
    /* Rows an older version wrote have no content hash yet: deduplication needs them all. */
    size_t hashed;
    if (rc == MN_OK && !(db->cfg.flags & MN_OPEN_READONLY))
        rc = db->store->ops->memory_hash_backfill(db->store, &hashed);
    if (rc != MN_OK)
        return rc;
    mni_store_set_metrics(db->store, db->metrics);
    db->dim = wanted;
    db->embed_cached = mni_embed_cache_usable(db);
    /* The vector index (index/vindex.h). Without one (MN_INDEX_NONE, or no memory for it)
     * search scans exactly; its files never make the open fail. A store that searches itself
     * (postgres with pgvector) needs none. */
    if (db->cfg.index == MN_INDEX_AUTO && !db->store->ops->memory_search)
        mni_vindex_open(db->store, &db->cfg, &db->index);
    rc = wanted == dim ? MN_OK : make_embedder(db, wanted);
    /* Borrowed from the caller for mn_open only: the embedder keeps its own copies, the
     * store its master key. */
    db->cfg.embed_url = db->cfg.embed_model = db->cfg.master_key_file = NULL;
    if (rc == MN_OK)
        rc = mni_cache_open(db); /* before the default policies: they move its generation */
    if (rc == MN_OK && !(db->cfg.flags & MN_OPEN_READONLY))
        rc = mni_tenant_install_default_policies(db);
    if (rc == MN_OK)
        rc = mni_jobs_open(db); /* embedding workers: once everything else is up */
    if (rc == MN_OK)
        rc = mni_maintenance_open(db); /* its thread runs tasks on everything above */
    db->plugin_owned = rc == MN_OK; /* a failed open leaves the plug-in's ctx the caller's */
    return rc;
}

void mn_close(mn_db *db)
{
    if (!db)
        return;
    mni_webhook_close(db); /* started by the host after the open: stops first */
    mni_maintenance_close(db); /* started last: it stops first */
    mni_jobs_close(db); /* the embedding workers use everything below: they stop first */
    mni_vindex_close(db->index); /* saves the index: before the store goes */
    if (db->store) {
        mni_vault_detach(db->store);
        db->store->ops->close(db->store);
    }
    if (db->embedder)
        db->embed_ops->destroy(db->embedder);
    mni_plugin_release(db);
    mni_policy_sets_free(db->policy_sets);
    mni_apikeys_free(db->apikeys);
    mni_limiter_close(db->limiter);
    mni_cache_close(db);
    mni_rl_targets_free(db->rl_targets);
    mni_secrets_free(&db->report.secrets);
    free(db->url_shown);
    mni_metrics_free(db->metrics);
    mni_err_forget_db(db);
    for (int i = 0; i < MNI_UPDATE_TURNS; i++)
        pthread_mutex_destroy(&db->update_turns[i]);
    free(db);
}

const char *mn_db_url(const mn_db *db)
{
    return db ? db->url_shown : NULL;
}

int mn_embed_dim(const mn_db *db)
{
    return db ? db->dim : 0;
}

int mn_schema_version(mn_db *db, int *version)
{
    if (!db || !version || !db->store)
        return mni_seterr(db, MN_EINVAL, "mn_schema_version: give an open handle and an int *");
    return db->store->ops->schema_version(db->store, version);
}
