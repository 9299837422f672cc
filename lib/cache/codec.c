/* Cached values as bytes (codec.h). */
#include "cache/codec.h"
#include "core/bytes.h"

#include <stdlib.h>
#include <string.h>

#define NULL_LEN 0xffffffffu

static unsigned char *room(struct mni_wbuf *w, size_t n)
{
    if (w->oom)
        return NULL;
    if (w->n + n > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        while (cap < w->n + n)
            cap *= 2;
        unsigned char *p = realloc(w->p, cap);
        if (!p) {
            w->oom = 1;
            return NULL;
        }
        w->p = p;
        w->cap = cap;
    }
    unsigned char *at = w->p + w->n;
    w->n += n;
    return at;
}

void mni_wbuf_format(struct mni_wbuf *w, unsigned char format)
{
    unsigned char *p = room(w, 1);
    if (p)
        *p = format;
}

void mni_wbuf_str(struct mni_wbuf *w, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (len >= NULL_LEN) {
        w->oom = 1; /* not a string the store holds: never cached */
        return;
    }
    unsigned char *p = room(w, 4 + len);
    if (!p)
        return;
    mni_store32(p, s ? (uint32_t)len : NULL_LEN);
    memcpy(p + 4, s ? s : "", len);
}

void mni_wbuf_i64(struct mni_wbuf *w, int64_t v)
{
    unsigned char *p = room(w, 8);
    if (p)
        mni_store64(p, (uint64_t)v);
}

void mni_wbuf_free(struct mni_wbuf *w)
{
    free(w->p);
    memset(w, 0, sizeof *w);
}

static const unsigned char *take(struct mni_rbuf *r, size_t n)
{
    if (r->bad || r->n < n) {
        r->bad = 1;
        return NULL;
    }
    const unsigned char *at = r->p;
    r->p += n;
    r->n -= n;
    return at;
}

int mni_rbuf_format(struct mni_rbuf *r, unsigned char format)
{
    const unsigned char *p = take(r, 1);
    return p && *p == format;
}

char *mni_rbuf_str(struct mni_rbuf *r)
{
    const unsigned char *p = take(r, 4);
    if (!p)
        return NULL;
    uint32_t len = mni_load32(p);
    if (len == NULL_LEN)
        return NULL;
    if (!(p = take(r, len)))
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (!s) {
        r->bad = 1;
        return NULL;
    }
    memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

int64_t mni_rbuf_i64(struct mni_rbuf *r)
{
    const unsigned char *p = take(r, 8);
    return p ? (int64_t)mni_load64(p) : 0;
}
