/*
 * The handle's asynchronous embedding: the jobs a store queues with memories whose vectors are
 * still to be made, the batches that make them (jobs_run.c, on the handle's worker threads of
 * jobs/ or the caller's), and the public calls on jobs (jobs.c).
 */
#ifndef MNI_API_JOBS_H
#define MNI_API_JOBS_H

#include "manushya.h"

#include <stddef.h>

/* Checks the embed_* settings of mn_config and fills their defaults (from settle_config). */
int mni_jobs_settle(mn_db *db);
/* Once the store and the embedder are open: checks that the store keeps jobs when the config
 * needs them, and starts the worker threads. */
int mni_jobs_open(mn_db *db);
/* Stops the worker threads (each finishes the batch it holds). */
void mni_jobs_close(mn_db *db);

/* One batch: claim, embed (through the cache of each task's tenant), store or record the
 * failure. Errors of the store are set on db; embedding failures are recorded on the jobs
 * and counted in *failed. */
int mni_jobs_run_batch(mn_db *db, size_t max_jobs, size_t *done, size_t *failed);

#endif
