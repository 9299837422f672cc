/* Endpoint names, the built-in limits (the Manushya.ai guide's) and the role multipliers. */
#include "ratelimit/ratelimit.h"
#include "core/error.h"

#include <string.h>

#define HOUR_MS INT64_C(3600000)

const struct mni_rl_builtin mni_rl_builtins[] = {
    {"identity:create", 100, HOUR_MS},
    {"memory:create", 1000, HOUR_MS},
    {"memory:search", 2000, HOUR_MS},
    {"policy:test", 500, HOUR_MS},
    {"webhook:create", 50, HOUR_MS},
    {"*", 1000, HOUR_MS},
};
const size_t mni_rl_nbuiltins = sizeof mni_rl_builtins / sizeof mni_rl_builtins[0];

const struct mni_rl_builtin *mni_rl_builtin_for(const char *endpoint)
{
    for (size_t i = 0; i + 1 < mni_rl_nbuiltins; i++)
        if (strcmp(mni_rl_builtins[i].endpoint, endpoint) == 0)
            return &mni_rl_builtins[i];
    return &mni_rl_builtins[mni_rl_nbuiltins - 1];
}

int mni_rl_multiplier(const char *role)
{
    if (!role || strcmp(role, "system") == 0)
        return 5;
    return strcmp(role, "admin") == 0 ? 2 : 1;
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Length of the run of name characters at s (stops at 33: too long). */
static size_t part_len(const char *s)
{
    size_t n = 0;
    while (n <= 32 && name_char(s[n]))
        n++;
    return n;
}

int mni_rl_check_endpoint(mn_db *db, const char *endpoint, int star_ok)
{
    if (!endpoint)
        return mni_seterr(db, MN_EINVAL, "no endpoint given; name one as \"resource:action\", "
                         "e.g. \"memory:create\"");
    if (star_ok && strcmp(endpoint, "*") == 0)
        return MN_OK;
    size_t a = part_len(endpoint);
    size_t b = a >= 1 && a <= 32 && endpoint[a] == ':' ? part_len(endpoint + a + 1) : 0;
    if (b >= 1 && b <= 32 && endpoint[a + 1 + b] == '\0')
        return MN_OK;
    return mni_seterr(db, MN_EINVAL, "endpoint \"%.80s\" is not a valid name; give \"resource:"
                     "action\", each part 1..32 lowercase letters, digits, '_' or '-' (e.g. "
                     "\"memory:create\")%s", endpoint, star_ok ? ", or \"*\" for every other" : "");
}
