/*
 * Background workers: threads that each run a batch while there is work, then sleep until
 * woken (mni_jobs_wake) or poll_ms passes. What a batch does is the caller's (the handle's
 * embedding jobs, api/jobs_run.c); this layer knows no handle and no store.
 */
#ifndef MNI_JOBS_JOBS_H
#define MNI_JOBS_JOBS_H

#include <stddef.h>

#define MNI_JOBS_MAX_WORKERS 64

struct mni_jobs;

/* Runs one batch on a worker thread; nonzero: it did some work, so more may be due at once. */
typedef int (*mni_jobs_batch_fn)(void *ctx);

/* Starts nthreads workers calling run(ctx). MN_ENOMEM, or MN_ERROR when a thread could not
 * start (*started says how many did; the pool is then stopped and freed). */
int mni_jobs_start(int nthreads, int poll_ms, mni_jobs_batch_fn run, void *ctx,
                   struct mni_jobs **out, int *started);
/* Stops the workers (each finishes the batch it holds) and frees the pool. NULL is a no-op. */
void mni_jobs_stop(struct mni_jobs *j);
/* Work was just queued: an idle worker looks at once. NULL is a no-op. */
void mni_jobs_wake(struct mni_jobs *j);

#endif
