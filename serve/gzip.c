/*
 * gzip.c — response bodies compressed with zlib when the client accepts gzip.
 */
#include "serve.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

int sv_accepts_gzip(const char *ae)
{
    /* Accept-Encoding: a list of "coding[;q=N]"; gzip (or *) with q=0 refuses it. */
    for (const char *p = ae; p && *p;) {
        p += strspn(p, " \t,");
        size_t len = strcspn(p, ",;"), tok = len;
        while (tok && (p[tok - 1] == ' ' || p[tok - 1] == '\t'))
            tok--;
        int named = (tok == 4 && strncasecmp(p, "gzip", 4) == 0) || (tok == 1 && *p == '*');
        const char *next = p + strcspn(p, ",");
        if (named) {
            const char *q = p + len;
            if (*q != ';')
                return 1;
            q += strspn(q + 1, " \t") + 1;
            if (strncasecmp(q, "q=", 2) != 0)
                return 1;
            return strtod(q + 2, NULL) > 0;
        }
        p = next;
    }
    return 0;
}

int sv_gzip(const char *in, size_t n, char **out, size_t *outn)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 16: a gzip wrapper, not zlib's; level 6 is zlib's default trade-off */
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    size_t cap = deflateBound(&z, (uLong)n);
    char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return -1;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return -1;
    }
    *out = buf;
    *outn = z.total_out;
    return 0;
}
