/* The worker threads of a handle (mn_config.embed_workers): each runs batches while jobs are
 * due, then sleeps until this handle queues more (mni_jobs_wake) or embed_poll_ms passes (jobs
 * queued by other processes, retries coming due, leases running out). */
#include "jobs/jobs.h"
#include "core/error.h"
#include "api/handle.h"
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct mni_jobs {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* CLOCK_MONOTONIC */
    int stop;
    uint64_t wakes;         /* bumped by mni_jobs_wake: a worker that saw it change looks again */
    pthread_t *threads;
    int nthreads;
};

#define MNI_DEFAULT_EMBED_BATCH 100
#define MNI_MAX_EMBED_BATCH 10000
#define MNI_DEFAULT_EMBED_ATTEMPTS 5
#define MNI_DEFAULT_EMBED_RETRY_MS 1000
#define MNI_DEFAULT_EMBED_LEASE_MS 300000
#define MNI_DEFAULT_EMBED_POLL_MS 1000

int mni_jobs_settle(mn_db *db)
{
    mn_config *c = &db->cfg;
    if (c->embed_async != 0 && c->embed_async != 1)
        return mni_seterr(db, MN_EINVAL, "mn_config.embed_async is %d; give 1 (embed in the "
                         "background) or 0 (embed inline)", c->embed_async);
    if (c->embed_workers < 0 || c->embed_workers > MNI_JOBS_MAX_WORKERS)
        return mni_seterr(db, MN_EINVAL, "mn_config.embed_workers is %d; give 0..%d threads",
                         c->embed_workers, MNI_JOBS_MAX_WORKERS);
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

static void log_line(mn_db *db, const char *msg)
{
    if (db->cfg.log_fn)
        db->cfg.log_fn(db->cfg.log_ctx, msg);
    else
        fprintf(stderr, "libmanushya: %s\n", msg);
}

static void *worker_main(void *arg)
{
    mn_db *db = arg;
    struct mni_jobs *j = db->jobs;
    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        uint64_t seen = j->wakes;
        pthread_mutex_unlock(&j->mu);
        size_t done = 0, failed = 0;
        int rc = mni_jobs_run_batch(db, 0, &done, &failed);
        if (rc != MN_OK) {
            char msg[MNI_ERRMSG_MAX + 64];
            snprintf(msg, sizeof msg, "embedding worker: %s", mn_errmsg(db));
            log_line(db, msg);
        }
        pthread_mutex_lock(&j->mu);
        /* A full batch: more may be due at once. Else sleep until woken or the poll. */
        if (rc == MN_OK && done + failed > 0)
            continue;
        if (j->stop || j->wakes != seen)
            continue;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + (int64_t)db->cfg.embed_poll_ms * 1000000;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        while (!j->stop && j->wakes == seen &&
               pthread_cond_timedwait(&j->cv, &j->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
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
    struct mni_jobs *j = calloc(1, sizeof *j);
    if (!j || !(j->threads = calloc((size_t)db->cfg.embed_workers, sizeof *j->threads))) {
        free(j);
        return mni_seterr(db, MN_ENOMEM, "out of memory starting embedding workers");
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->mu, NULL);
    db->jobs = j;
    for (int i = 0; i < db->cfg.embed_workers; i++) {
        if (pthread_create(&j->threads[i], NULL, worker_main, db) != 0)
            return mni_seterr(db, MN_ERROR, "could not start embedding worker thread %d of %d",
                             i + 1, db->cfg.embed_workers);
        j->nthreads++;
    }
    return MN_OK;
}

void mni_jobs_close(mn_db *db)
{
    struct mni_jobs *j = db->jobs;
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stop = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < j->nthreads; i++)
        pthread_join(j->threads[i], NULL);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j->threads);
    free(j);
    db->jobs = NULL;
}

void mni_jobs_wake(mn_db *db)
{
    struct mni_jobs *j = db->jobs;
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->wakes++;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}
