/* Clock readings in milliseconds: wall-clock time since the Unix epoch (UTC), and monotonic
 * time for durations. The coarse ones (a tick's precision, a fraction of the cost) are for
 * caches and logs that a millisecond or so does not matter to. */
#ifndef MNI_CORE_CLOCK_H
#define MNI_CORE_CLOCK_H

#include <stdint.h>

int64_t mni_now_ms(void);
int64_t mni_now_coarse_ms(void);
int64_t mni_mono_ms(void);
int64_t mni_mono_coarse_ms(void);
/* Monotonic time in nanoseconds, for the latencies metrics keep (core/metrics.h). */
uint64_t mni_mono_ns(void);

#define MNI_MS_PER_DAY INT64_C(86400000)

#endif
