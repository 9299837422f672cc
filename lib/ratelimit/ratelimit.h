/*
 * Rate limiting's parts that know no handle (see "Rate limits" in manushya.h): endpoint names
 * and built-in limits (limits.c) and the counter backends (counter.h: memory.c,
 * redis_counter.c). The limiter of a handle that decides with them is api/limiter.h.
 */
#ifndef MNI_RATELIMIT_RATELIMIT_H
#define MNI_RATELIMIT_RATELIMIT_H

#include "manushya.h"

#include <stdint.h>

/* ---- names and built-in limits (limits.c) ---- */
#define MNI_RL_ENDPOINT_MAX 65           /* "resource:action", 32 + 1 + 32 bytes */
#define MNI_RL_LIMIT_MAX INT64_C(1000000000)
#define MNI_RL_WINDOW_MAX_MS INT64_C(2678400000) /* 31 days */
/* MN_EINVAL naming what is wrong unless endpoint is a valid name ("*" too when star_ok). */
int mni_rl_check_endpoint(mn_db *db, const char *endpoint, int star_ok);
/* The limit multiplier of a role: admin 2, system 5 (and the system actor, role NULL), else 1. */
int mni_rl_multiplier(const char *role);
/* The built-in limits, "*" last. */
struct mni_rl_builtin {
    const char *endpoint;
    int64_t limit, window_ms;
};
extern const struct mni_rl_builtin mni_rl_builtins[];
extern const size_t mni_rl_nbuiltins;
/* The built-in entry for endpoint ("*" for one not named). */
const struct mni_rl_builtin *mni_rl_builtin_for(const char *endpoint);

#endif
