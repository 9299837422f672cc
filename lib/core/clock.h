/* Wall-clock time in milliseconds since the Unix epoch (UTC). */
#ifndef MN_CORE_CLOCK_H
#define MN_CORE_CLOCK_H

#include <stdint.h>

int64_t mn_now_ms(void);

#define MN_MS_PER_DAY INT64_C(86400000)

#endif
