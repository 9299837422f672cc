/* Cached values as bytes: strings (a 4-byte length, 0xffffffff for NULL, then the bytes) and
 * 64-bit integers, in the host's byte order, after a format byte that a reader checks, so that
 * an entry another version of the library wrote in a shared Redis is a miss, not garbage. */
#ifndef MNI_CACHE_CODEC_H
#define MNI_CACHE_CODEC_H

#include <stddef.h>
#include <stdint.h>

struct mni_wbuf {
    unsigned char *p;
    size_t n, cap;
    int oom; /* a write ran out of memory: the buffer is incomplete */
};

struct mni_rbuf {
    const unsigned char *p;
    size_t n;
    int bad; /* a read went past the end or ran out of memory */
};

void mni_wbuf_format(struct mni_wbuf *w, unsigned char format);
void mni_wbuf_str(struct mni_wbuf *w, const char *s);
void mni_wbuf_i64(struct mni_wbuf *w, int64_t v);
void mni_wbuf_free(struct mni_wbuf *w);

/* 1 when the value starts with format (and reads on from after it). */
int mni_rbuf_format(struct mni_rbuf *r, unsigned char format);
/* A malloc'd copy, or NULL (for a NULL written, or with bad set). */
char *mni_rbuf_str(struct mni_rbuf *r);
int64_t mni_rbuf_i64(struct mni_rbuf *r);

#endif
