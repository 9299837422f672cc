/* What the library reads of URLs by itself: %-escapes, and where a user:password@ part ends. */
#ifndef MNI_CORE_URL_H
#define MNI_CORE_URL_H

#include <stddef.h>

/* The n bytes at s with their %XX escapes decoded, as a malloc'd string. A bad escape makes it
 * NULL when strict; otherwise it stays as written. NULL when out of memory. */
char *mni_pct_decode(const char *s, size_t n, int strict);

/* The '@' that ends the user:password part of an authority (rest: the n bytes after
 * "scheme://"), NULL when there is none. It is looked for up to the first '/' only, as libpq
 * does: a password may hold '?', '#' or ':' unescaped. Of several, the last: a password may
 * hold an unescaped '@' too. */
const char *mni_url_userinfo_end(const char *rest, size_t n);

#endif
