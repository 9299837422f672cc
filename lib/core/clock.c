#include "core/clock.h"

#include <time.h>

static int64_t ms_of(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mni_now_ms(void)
{
    return ms_of(CLOCK_REALTIME);
}

int64_t mni_now_coarse_ms(void)
{
    return ms_of(CLOCK_REALTIME_COARSE);
}

int64_t mni_mono_ms(void)
{
    return ms_of(CLOCK_MONOTONIC);
}

int64_t mni_mono_coarse_ms(void)
{
    return ms_of(CLOCK_MONOTONIC_COARSE);
}

uint64_t mni_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
