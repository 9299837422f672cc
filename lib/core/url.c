/* %-escapes and the user:password@ part of URLs (core/url.h). */
#include "core/url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int hex(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

char *mni_pct_decode(const char *s, size_t n, int strict)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            *o++ = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else if (s[i] == '%' && strict) {
            free(out);
            return NULL;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

const char *mni_url_userinfo_end(const char *rest, size_t n)
{
    const char *slash = memchr(rest, '/', n);
    return memrchr(rest, '@', slash ? (size_t)(slash - rest) : n);
}
