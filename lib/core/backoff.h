/* Backoff for retries: how long to wait before trying again something that failed, in the
 * same way everywhere the library retries (HTTP requests to an embedder, embedding jobs). */
#ifndef MNI_CORE_BACKOFF_H
#define MNI_CORE_BACKOFF_H

#include <stdint.h>

/* A generator state for mni_backoff_ms, seeded from the clock and the state's address (never
 * 0). Jitter only: not for secrets. */
uint64_t mni_backoff_seed(const void *salt);

/* The wait after the failures-th failure (1 for the first): base_ms doubled for each failure
 * after the first, at most cap_ms, then drawn between half of that and all of it ("equal
 * jitter"), so that many clients that failed together do not come back in step, while a wait
 * never falls below half the one before. 0 when base_ms <= 0. */
int64_t mni_backoff_ms(int64_t base_ms, int failures, int64_t cap_ms, uint64_t *rng);

#endif
