/* ann_vecs.c — reads .fvecs / .ivecs files (the ANN benchmarks' format) whole, checking them. */
#include "ann_vecs.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

__attribute__((format(printf, 5, 6)))
static int fail(FILE *f, void *buf, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    if (f)
        fclose(f);
    free(buf);
    return -1;
}

int ann_read_vecs(const char *path, int is_float, ann_vecs *v, char *err, size_t errlen)
{
    const char *kind = is_float ? ".fvecs" : ".ivecs";
    memset(v, 0, sizeof *v);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(NULL, NULL, err, errlen, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
        return fail(f, NULL, err, errlen, "%s is not a regular file", path);
    uint64_t size = (uint64_t)sb.st_size;
    int32_t d32 = 0;
    if (size == 0 || fread(&d32, 4, 1, f) != 1)
        return fail(f, NULL, err, errlen, "%s is empty or shorter than one %s header (4 bytes)",
                    path, kind);
    if (d32 < 1 || d32 > 65536)
        return fail(f, NULL, err, errlen, "%s is not a %s file: its first vector claims "
                    "dimension %d (expected 1 to 65536)", path, kind, (int)d32);
    uint64_t rec = 4 + 4 * (uint64_t)d32;
    if (size % rec)
        return fail(f, NULL, err, errlen, "%s is truncated or not a %s file: %llu bytes are not "
                    "a whole number of %llu-byte records of dimension %d (%llu whole, %llu "
                    "bytes left over)", path, kind, (unsigned long long)size,
                    (unsigned long long)rec, (int)d32, (unsigned long long)(size / rec),
                    (unsigned long long)(size % rec));
    if (size > SIZE_MAX / 2)
        return fail(f, NULL, err, errlen, "%s is too large", path);
    unsigned char *buf = malloc((size_t)size);
    if (!buf)
        return fail(f, NULL, err, errlen, "out of memory reading %s (%llu bytes)", path,
                    (unsigned long long)size);
    memcpy(buf, &d32, 4);
    size_t want = (size_t)size - 4, got = fread(buf + 4, 1, want, f);
    if (got != want)
        return fail(f, buf, err, errlen, "reading %s: %s", path,
                    ferror(f) ? strerror(errno) : "the file shrank while being read");
    fclose(f);
    size_t n = (size_t)(size / rec), row = (size_t)d32 * 4;
    for (size_t i = 0; i < n; i++) { /* drop the headers in place */
        const unsigned char *src = buf + i * (size_t)rec;
        int32_t di;
        memcpy(&di, src, 4);
        if (di != d32)
            return fail(NULL, buf, err, errlen, "%s is not a %s file of one dimension: vector "
                        "%zu has dimension %d, the first %d", path, kind, i, (int)di, (int)d32);
        memmove(buf + i * row, src + 4, row);
    }
    if (is_float) {
        const float *x = (const float *)(void *)buf;
        for (size_t i = 0; i < n * (size_t)d32; i++)
            if (!isfinite(x[i]))
                return fail(NULL, buf, err, errlen, "%s: vector %zu has a value that is not a "
                            "finite number (component %zu)", path, i / (size_t)d32,
                            i % (size_t)d32);
    }
    void *shrunk = realloc(buf, n * row > 0 ? n * row : 1);
    v->data = shrunk ? shrunk : buf;
    v->n = n;
    v->dim = d32;
    return 0;
}
