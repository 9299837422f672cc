/* Backoff for retries (backoff.h). */
#include "core/backoff.h"

#include <stdint.h>
#include <time.h>

uint64_t mni_backoff_seed(const void *salt)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t s = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
                 (uint64_t)(uintptr_t)salt ^ UINT64_C(0x9e3779b97f4a7c15);
    return s ? s : 1;
}

/* xorshift64* */
static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(0x2545f4914f6cdd1d);
}

int64_t mni_backoff_ms(int64_t base_ms, int failures, int64_t cap_ms, uint64_t *rng)
{
    if (base_ms <= 0)
        return 0;
    int64_t delay = base_ms;
    for (int i = 1; i < failures && delay < cap_ms; i++)
        delay = delay > INT64_MAX / 2 ? INT64_MAX : delay * 2;
    if (delay > cap_ms)
        delay = cap_ms;
    double unit = (double)(next_rand(rng) >> 11) / 9007199254740992.0; /* [0, 1) */
    return delay / 2 + (int64_t)((double)(delay - delay / 2) * unit);
}
