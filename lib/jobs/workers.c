/* The worker threads: each runs batches while they find work, then sleeps until woken
 * (mni_jobs_wake) or poll_ms passes (work queued by other processes, retries coming due,
 * leases running out). */
#include "jobs/jobs.h"
#include "manushya.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

struct mni_jobs {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* CLOCK_MONOTONIC */
    int stop;
    uint64_t wakes;         /* bumped by mni_jobs_wake: a worker that saw it change looks again */
    pthread_t *threads;
    int nthreads;
    int poll_ms;
    mni_jobs_batch_fn run;
    void *ctx;
};

static void *worker_main(void *arg)
{
    struct mni_jobs *j = arg;
    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
        uint64_t seen = j->wakes;
        pthread_mutex_unlock(&j->mu);
        int busy = j->run(j->ctx);
        pthread_mutex_lock(&j->mu);
        /* A batch that did work: more may be due at once. Else sleep until woken or the poll. */
        if (busy || j->stop || j->wakes != seen)
            continue;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + (int64_t)j->poll_ms * 1000000;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        while (!j->stop && j->wakes == seen &&
               pthread_cond_timedwait(&j->cv, &j->mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

int mni_jobs_start(int nthreads, int poll_ms, mni_jobs_batch_fn run, void *ctx,
                   struct mni_jobs **out, int *started)
{
    *out = NULL;
    *started = 0;
    struct mni_jobs *j = calloc(1, sizeof *j);
    if (!j || !(j->threads = calloc((size_t)nthreads, sizeof *j->threads))) {
        free(j);
        return MN_ENOMEM;
    }
    j->poll_ms = poll_ms;
    j->run = run;
    j->ctx = ctx;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->mu, NULL);
    for (; j->nthreads < nthreads; j->nthreads++) {
        if (pthread_create(&j->threads[j->nthreads], NULL, worker_main, j) != 0) {
            *started = j->nthreads;
            mni_jobs_stop(j);
            return MN_ERROR;
        }
    }
    *started = j->nthreads;
    *out = j;
    return MN_OK;
}

void mni_jobs_stop(struct mni_jobs *j)
{
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
}

void mni_jobs_wake(struct mni_jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->wakes++;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}
