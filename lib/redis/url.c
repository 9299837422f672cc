/* redis:// URLs. */
#include "redis/redis.h"
#include "manushya.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "bad Redis URL: %s; give redis://[[user]:password@]host[:port][/db]",
             what);
    return MN_EINVAL;
}

/* Copies n bytes of s into dst (size bytes); 0 when they do not fit. */
static int copy(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        return 0;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 1;
}

/* A decimal number in [lo, hi] making up all of s[0..n-1]; -1 otherwise. */
static long number(const char *s, size_t n, long lo, long hi)
{
    if (n == 0 || n > 10)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= lo && v <= hi ? v : -1;
}

int mni_redis_parse_url(const char *url, struct mni_redis_target *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->port = 6379;
    if (!url)
        return bad(err, errlen, "none given");
    if (strncmp(url, "rediss://", 9) == 0) {
        snprintf(err, errlen, "rediss:// (Redis over TLS) is not supported: this build's hiredis "
                 "has no TLS; use redis:// (on a trusted network, or through a TLS tunnel)");
        return MN_EUNSUPPORTED;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return bad(err, errlen, "it does not start with redis://");
    const char *p = url + 8, *end = p + strcspn(p, "/?#");
    if (*end == '?' || *end == '#')
        return bad(err, errlen, "query strings and fragments are not understood");
    /* user:password@ — the last '@' before the path ends it (a password may hold '@'). */
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *uend = colon ? colon : at;
        if (!copy(t->user, sizeof t->user, p, (size_t)(uend - p)) ||
            (colon && !copy(t->password, sizeof t->password, colon + 1,
                            (size_t)(at - colon - 1))))
            return bad(err, errlen, "the user or password is too long");
        if (!colon && *t->user) { /* redis://secret@host: the usual form means a password */
            memcpy(t->password, t->user, sizeof t->password < sizeof t->user
                                             ? sizeof t->password : sizeof t->user);
            t->user[0] = '\0';
        }
        p = at + 1;
    }
    const char *hend, *port = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close)
            return bad(err, errlen, "an IPv6 address lacks its closing ']'");
        if (!copy(t->host, sizeof t->host, p + 1, (size_t)(close - p - 1)))
            return bad(err, errlen, "the host is too long");
        hend = close + 1;
        if (hend < end && *hend != ':')
            return bad(err, errlen, "unexpected text after the IPv6 address");
    } else {
        hend = memchr(p, ':', (size_t)(end - p));
        if (!hend)
            hend = end;
        if (!copy(t->host, sizeof t->host, p, (size_t)(hend - p)))
            return bad(err, errlen, "the host is too long");
    }
    if (!t->host[0])
        return bad(err, errlen, "no host");
    for (const char *h = t->host; *h; h++)
        if ((unsigned char)*h <= ' ' || *h == '@' || *h == '[' || *h == ']')
            return bad(err, errlen, "the host has a character hosts cannot have");
    if (hend < end && *hend == ':') {
        port = hend + 1;
        long v = number(port, (size_t)(end - port), 1, 65535);
        if (v < 0)
            return bad(err, errlen, "the port is not a number from 1 to 65535");
        t->port = (int)v;
    }
    if (*end == '/' && end[1]) {
        long v = number(end + 1, strlen(end + 1), 0, 1000000);
        if (v < 0)
            return bad(err, errlen, "the database (after '/') is not a number >= 0");
        t->db = (int)v;
    }
    return MN_OK;
}
