/* One batch of embedding jobs: claimed for a lease, embedded per tenant (each through its own
 * embedding cache: a tenant must not learn by timing what another embedded), then stored with
 * the job's acknowledgement in one transaction, or recorded as a failed attempt. The handle's
 * worker threads (mn_config.embed_workers, jobs/) run such batches in the background. */
#include "api/cache.h"
#include "api/jobs.h"
#include "jobs/jobs.h"
#include "core/backoff.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "core/uuid.h"
#include "api/embed.h"
#include "api/embed_cache.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MNI_RETRY_MAX_MS 3600000
#define MNI_DEFAULT_EMBED_BATCH 100
#define MNI_MAX_EMBED_BATCH 10000
#define MNI_DEFAULT_EMBED_ATTEMPTS 5
#define MNI_DEFAULT_EMBED_RETRY_MS 1000
#define MNI_DEFAULT_EMBED_LEASE_MS 300000
#define MNI_DEFAULT_EMBED_POLL_MS 1000

/* When a job that failed its attempts-th attempt is tried again; 0: never (it stays failed).
 * Jobs that failed together (an embedder down) come back spread out, not all at once. */
static int64_t next_attempt(const mn_db *db, int attempts, int64_t now, uint64_t *rng)
{
    if (attempts >= db->cfg.embed_max_attempts)
        return 0;
    return now + mni_backoff_ms(db->cfg.embed_retry_ms, attempts, MNI_RETRY_MAX_MS, rng);
}

/* Records a failed attempt of the tasks t[0..n-1], with db's error message, recorded after
 * mark. The failure is the jobs' now, kept with them, not the run's: it is forgotten. */
static int record_failure(mn_db *db, mni_errmark mark, const char *claim,
                          const struct mni_embed_task *t, size_t n, int64_t *next,
                          size_t *failed)
{
    int64_t now = mni_now_ms();
    uint64_t rng = mni_backoff_seed(next);
    for (size_t i = 0; i < n; i++)
        next[i] = next_attempt(db, t[i].attempts, now, &rng);
    char msg[MNI_ERRMSG_MAX];
    snprintf(msg, sizeof msg, "%s", mn_errmsg(db));
    mni_err_forget(mark);
    int rc = db->store->ops->embed_jobs_fail(db->store, claim, t, n, msg, next, now);
    /* A memory shows its job's state (embed_status, embed_error), which the store's change
     * hook does not report: the cache forgets the tenants' memories itself. */
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(t[i].tenant_id, t[i - 1].tenant_id) != 0)
            mni_cache_bump(db, t[i].tenant_id);
    if (rc == MN_OK)
        *failed += n;
    return rc;
}

/* Embeds and stores the tasks t[0..n-1], all of one tenant. */
static int run_tenant(mn_db *db, const char *claim, const struct mni_embed_task *t, size_t n,
                      size_t *done, size_t *failed)
{
    const struct mni_store_ops *ops = db->store->ops;
    const char **texts = calloc(n, sizeof *texts);
    size_t *lens = calloc(n, sizeof *lens);
    float *vecs = malloc(n * (size_t)db->dim * sizeof *vecs);
    int64_t *next = malloc(n * sizeof *next);
    int rc = texts && lens && vecs && next
                 ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory embedding %zu jobs", n);
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        texts[i] = t[i].text;
        lens[i] = strlen(t[i].text);
    }
    size_t zero = (size_t)-1, stored = 0;
    mni_errmark mark = mni_err_mark();
    int erc = rc == MN_OK ? mni_embed_cached(db, t[0].tenant_id, texts, lens, n, vecs, &zero)
                          : rc;
    if (rc == MN_OK && erc == MN_OK) {
        rc = ops->embed_jobs_done(db->store, claim, t, n, vecs, mni_now_ms(), &stored);
        *done += stored;
    } else if (rc == MN_OK && zero < n) {
        /* One text without a direction is that job's failure alone: the others go again. */
        rc = record_failure(db, mark, claim, t + zero, 1, next, failed);
        if (rc == MN_OK && zero > 0)
            rc = run_tenant(db, claim, t, zero, done, failed);
        if (rc == MN_OK && zero + 1 < n)
            rc = run_tenant(db, claim, t + zero + 1, n - zero - 1, done, failed);
    } else if (rc == MN_OK) {
        /* The whole batch shares the embedder's answer, so it shares its failure too. */
        rc = record_failure(db, mark, claim, t, n, next, failed);
    }
    free(texts);
    free(lens);
    free(vecs);
    free(next);
    return rc;
}

int mni_jobs_run_batch(mn_db *db, size_t max_jobs, size_t *done, size_t *failed)
{
    *done = *failed = 0;
    const struct mni_store_ops *ops = db->store->ops;
    int rc = mni_embed_check(db, "running embedding jobs");
    if (rc != MN_OK)
        return rc;
    if (!ops->embed_jobs_claim)
        return mni_seterr(db, MN_EUNSUPPORTED, "the %s store keeps no embedding jobs",
                         ops->scheme);
    char claim[MNI_UUID_LEN + 1];
    mni_uuid7(claim);
    struct mni_embed_task *t = NULL;
    size_t n = 0;
    rc = ops->embed_jobs_claim(db->store, claim, mni_now_ms(), db->cfg.embed_lease_ms,
                               max_jobs ? max_jobs : (size_t)db->cfg.embed_batch, &t, &n);
    /* The tasks come sorted by tenant: one embedding call per tenant's run. */
    for (size_t a = 0, b; rc == MN_OK && a < n; a = b) {
        for (b = a + 1; b < n && strcmp(t[b].tenant_id, t[a].tenant_id) == 0; b++)
            ;
        rc = run_tenant(db, claim, t + a, b - a, done, failed);
    }
    mni_embed_tasks_free(t, n);
    return rc;
}

int mni_jobs_settle(mn_db *db)
{
    mn_config *c = &db->cfg;
    if (c->embed_async != 0 && c->embed_async != 1)
        return mni_seterr(db, MN_EINVAL, "mn_config.embed_async is %d; give 1 (embed in the "
                         "background) or 0 (embed inline)", c->embed_async);
    if (c->embed_workers < 0 || c->embed_workers > MNI_JOBS_MAX_WORKERS)
        return mni_seterr(db, MN_EINVAL, "mn_config.embed_workers is %d; give 0..%d threads",
                         c->embed_workers, MNI_JOBS_MAX_WORKERS);
    if (c->embed_async || c->embed_workers) {
        int rc = mni_embed_check(db, c->embed_async ? "mn_config.embed_async"
                                                    : "mn_config.embed_workers");
        if (rc != MN_OK)
            return rc;
    }
    if (c->embed_batch < 0 || c->embed_batch > MNI_MAX_EMBED_BATCH)
        return mni_seterr(db, MN_EINVAL, "mn_config.embed_batch is %d; give 1..%d (0 = the "
                         "default, %d)", c->embed_batch, MNI_MAX_EMBED_BATCH,
                         MNI_DEFAULT_EMBED_BATCH);
    const struct { const char *name; int v; } ms[] = {
        {"embed_max_attempts", c->embed_max_attempts}, {"embed_retry_ms", c->embed_retry_ms},
        {"embed_lease_ms", c->embed_lease_ms}, {"embed_poll_ms", c->embed_poll_ms},
    };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        if (ms[i].v < 0)
            return mni_seterr(db, MN_EINVAL, "mn_config.%s is %d; give a number > 0 (0 = the "
                             "default)", ms[i].name, ms[i].v);
    if (c->embed_retries < -1)
        return mni_seterr(db, MN_EINVAL, "mn_config.embed_retries is %d; give >= 0 retries, -1 "
                         "for none, or 0 for the default (3)", c->embed_retries);
    if (!c->embed_batch)
        c->embed_batch = MNI_DEFAULT_EMBED_BATCH;
    if (!c->embed_max_attempts)
        c->embed_max_attempts = MNI_DEFAULT_EMBED_ATTEMPTS;
    if (!c->embed_retry_ms)
        c->embed_retry_ms = MNI_DEFAULT_EMBED_RETRY_MS;
    if (!c->embed_lease_ms)
        c->embed_lease_ms = MNI_DEFAULT_EMBED_LEASE_MS;
    if (!c->embed_poll_ms)
        c->embed_poll_ms = MNI_DEFAULT_EMBED_POLL_MS;
    return MN_OK;
}

/* A worker's batch: failures are logged, since no caller sees them. */
static int worker_batch(void *ctx)
{
    mn_db *db = ctx;
    size_t done = 0, failed = 0;
    int rc = mni_jobs_run_batch(db, 0, &done, &failed);
    if (rc != MN_OK) {
        mni_log(db, "embedding worker: %s", mn_errmsg(db));
    }
    return rc == MN_OK && done + failed > 0;
}

int mni_jobs_open(mn_db *db)
{
    const struct mni_store_ops *ops = db->store->ops;
    int wanted = db->cfg.embed_async || db->cfg.embed_workers;
    if (wanted && !ops->embed_jobs_claim)
        return mni_seterr(db, MN_EUNSUPPORTED, "the %s store keeps no embedding jobs: open it "
                         "with embed_async 0 and embed_workers 0", ops->scheme);
    if (db->cfg.embed_workers && (db->cfg.flags & MN_OPEN_READONLY))
        return mni_seterr(db, MN_EINVAL, "a read-only handle cannot store vectors: open it with "
                         "embed_workers 0");
    if (!db->cfg.embed_workers)
        return MN_OK;
    int started;
    int rc = mni_jobs_start(db->cfg.embed_workers, db->cfg.embed_poll_ms, worker_batch, db,
                            &db->jobs, &started);
    if (rc == MN_ENOMEM)
        return mni_seterr(db, MN_ENOMEM, "out of memory starting embedding workers");
    if (rc != MN_OK)
        return mni_seterr(db, MN_ERROR, "could not start embedding worker thread %d of %d",
                         started + 1, db->cfg.embed_workers);
    return MN_OK;
}

void mni_jobs_close(mn_db *db)
{
    mni_jobs_stop(db->jobs);
    db->jobs = NULL;
}
