/* Wall-clock time in milliseconds since the Unix epoch (UTC). */
#ifndef MNI_CORE_CLOCK_H
#define MNI_CORE_CLOCK_H

#include <stdint.h>

int64_t mni_now_ms(void);

#define MNI_MS_PER_DAY INT64_C(86400000)

#endif
