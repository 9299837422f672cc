/* The maintenance tasks (api/maintenance.h): what each does, through the public calls that do
 * it on demand, and how often it is due (the intervals of the Manushya.ai guide's beat
 * schedule). */
#include "api/maintenance.h"
#include "core/metrics.h"
#include "api/handle.h"
#include "core/clock.h"
#include "core/error.h"
#include "index/vindex.h"
#include "store/store.h"

#include <stdio.h>

#define MINUTE_MS INT64_C(60000)
#define HOUR_MS (60 * MINUTE_MS)

/* One tenant's share of a task; *n counts what it did. */
typedef int (*tenant_fn)(mn_db *db, const mn_tenant *t, int64_t *n);

/* Runs fn for every tenant, going on past a tenant's failure (one tenant's damaged audit
 * chain must not keep the others' retention from running): the first failure is returned,
 * with its message, naming the tenant. */
static int each_tenant(mn_db *db, tenant_fn fn, int64_t *items)
{
    mn_tenants *l = NULL;
    int rc = mn_tenant_list(db, &l);
    char first[MNI_ERRMSG_MAX] = "";
    int first_rc = MN_OK;
    for (size_t i = 0; rc == MN_OK && i < l->count; i++) {
        int64_t n = 0;
        int r = fn(db, l->items[i], &n);
        *items += n;
        if (r != MN_OK && first_rc == MN_OK) {
            first_rc = r;
            snprintf(first, sizeof first, "tenant %s: %s", l->items[i]->name, mn_errmsg(db));
        }
    }
    mn_tenants_free(l);
    return rc != MN_OK || first_rc == MN_OK ? rc : mni_seterr(db, first_rc, "%s", first);
}

/* The tenant's trusted system actor: maintenance is the host's own work. */
static mn_actor system_actor(const mn_tenant *t)
{
    mn_actor a = MN_ACTOR_INIT;
    a.tenant = t->id;
    return a;
}

static int purge_tenant(mn_db *db, const mn_tenant *t, int64_t *n)
{
    mn_actor a = system_actor(t);
    size_t purged = 0;
    int rc = mn_memory_purge_expired(db, &a, &purged);
    *n = (int64_t)purged;
    return rc;
}

static int purge_run(mn_db *db, int64_t *items)
{
    return each_tenant(db, purge_tenant, items);
}

/* An entry unused for a day: a write in flight that is about to use one is long done. */
static int cache_run(mn_db *db, int64_t *items)
{
    size_t removed = 0;
    int rc = mn_embed_cache_prune(db, MNI_MS_PER_DAY, &removed);
    *items = (int64_t)removed;
    return rc;
}

/* Tombstones are read by the vector indexes that follow the feed, in this process or
 * another. A database that searches itself (pgvector) has no index of ours in any process:
 * nobody reads its tombstones, so all of them go. Else the handle's index drops those of its
 * partitions kept without files (index/vindex.h; those with files prune when saved:
 * index_run). A handle without an index cannot know what others need: it keeps them. */
static int feed_tenant(mn_db *db, const mn_tenant *t, int64_t *n)
{
    struct mni_store *s = db->store;
    int64_t seq = 0;
    int rc = s->ops->seq_get(s, &seq);
    if (rc == MN_OK)
        rc = s->ops->feed_prune(s, t->id, seq);
    *n = rc == MN_OK;
    return rc;
}

static int feed_run(mn_db *db, int64_t *items)
{
    if (!db->store->ops->feed_prune)
        return MN_OK;
    if (db->store->ops->memory_search)
        return each_tenant(db, feed_tenant, items);
    if (!db->index)
        return MN_OK;
    size_t n = 0;
    int rc = mni_vindex_prune_feed(db->index, &n);
    *items = (int64_t)n;
    return rc; /* the store's failure, its message set */
}

/* The handle's index saved as on close: its partitions written are the items. */
static int index_run(mn_db *db, int64_t *items)
{
    if (!db->index)
        return MN_OK;
    struct mni_vindex_stats before, after;
    mni_vindex_stats(db->index, NULL, &before);
    int rc = mni_vindex_save(db->index);
    mni_vindex_stats(db->index, NULL, &after);
    *items = (int64_t)(after.saves - before.saves);
    return rc == MN_OK ? MN_OK
           : mni_seterr(db, rc, "saving the vector index beside the database failed (%s); "
                        "check that its directory is writable", mn_strerror(rc));
}

static int audit_off(const mn_db *db)
{
    return db->cfg.audit_retention_days == 0;
}

static int never_off(const mn_db *db)
{
    (void)db;
    return 0;
}

/* Prunes to mn_config.audit_retention_days, or to the tenant's own retention
 * (mn_audit_retention_set) where that keeps entries longer: a tenant's minimum stands. */
static int audit_tenant(mn_db *db, const mn_tenant *t, int64_t *n)
{
    mn_actor a = system_actor(t);
    int64_t age = db->cfg.audit_retention_days * MNI_MS_PER_DAY, keep = 0;
    int rc = mn_audit_retention_get(db, &a, &keep);
    return rc == MN_OK ? mn_audit_prune(db, &a, keep > age ? keep : age, n) : rc;
}

static int audit_run(mn_db *db, int64_t *items)
{
    return each_tenant(db, audit_tenant, items);
}

/* The keyword index's segments merged into one: its merge steps are the items. A backend
 * whose index needs no merging (PostgreSQL's GIN) has nothing to do. */
static int keywords_run(mn_db *db, int64_t *items)
{
    struct mni_store *s = db->store;
    return s->ops->memory_keyword_merge ? s->ops->memory_keyword_merge(s, items) : MN_OK;
}

const struct mni_maint_task mni_maint_tasks[MN_MAINT_NTASKS] = {
    { MN_MAINT_PURGE_EXPIRED, "purge", MNI_MAINT_EXPIRED_PURGE, HOUR_MS, never_off, purge_run },
    { MN_MAINT_EMBED_CACHE, "cache", MNI_MAINT_EMBED_CACHE_PRUNE, 24 * HOUR_MS, never_off,
      cache_run },
    { MN_MAINT_FEED, "feed", MNI_MAINT_FEED_PRUNE, 10 * MINUTE_MS, never_off, feed_run },
    { MN_MAINT_INDEX, "index", MNI_MAINT_INDEX_SAVE, 10 * MINUTE_MS, never_off, index_run },
    { MN_MAINT_AUDIT, "audit", MNI_MAINT_AUDIT_PRUNE, 24 * HOUR_MS, audit_off, audit_run },
    { MN_MAINT_KEYWORDS, "keywords", MNI_MAINT_KEYWORD_MERGE, 10 * MINUTE_MS, never_off,
      keywords_run },
};
