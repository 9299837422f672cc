/* ann_vecs.c — reads .fvecs / .ivecs files (the ANN benchmarks' format), checking them: whole,
 * or a run of rows at a time. */
#include "ann_vecs.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STAGE_BYTES ((size_t)4 << 20) /* raw records read at once by ann_vecs_rows */

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *kind_of(int is_float)
{
    return is_float ? ".fvecs" : ".ivecs";
}

int ann_vecs_open(const char *path, int is_float, ann_vecs_file *f, char *err, size_t errlen)
{
    const char *kind = kind_of(is_float);
    memset(f, 0, sizeof *f);
    f->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    int32_t d32 = 0;
    uint64_t size = 0, rec = 0;
    int rc = -1;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fail(err, errlen, "%s is not a regular file", path);
        goto out;
    }
    size = (uint64_t)sb.st_size;
    if (size < 4 || pread(fd, &d32, 4, 0) != 4) {
        fail(err, errlen, "%s is empty or shorter than one %s header (4 bytes)", path, kind);
        goto out;
    }
    if (d32 < 1 || d32 > 65536) {
        fail(err, errlen, "%s is not a %s file: its first vector claims dimension %d (expected "
             "1 to 65536)", path, kind, (int)d32);
        goto out;
    }
    rec = 4 + 4 * (uint64_t)d32;
    if (size % rec) {
        fail(err, errlen, "%s is truncated or not a %s file: %llu bytes are not a whole number "
             "of %llu-byte records of dimension %d (%llu whole, %llu bytes left over)", path,
             kind, (unsigned long long)size, (unsigned long long)rec, (int)d32,
             (unsigned long long)(size / rec), (unsigned long long)(size % rec));
        goto out;
    }
    if (size > SIZE_MAX / 2) {
        fail(err, errlen, "%s is too large", path);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0) {
        close(fd);
        return rc;
    }
    f->path = path;
    f->fd = fd;
    f->is_float = is_float;
    f->dim = d32;
    f->n = (size_t)(size / rec);
    return 0;
}

int ann_vecs_rows(const ann_vecs_file *f, size_t first, size_t count, void *out, char *err,
                  size_t errlen)
{
    size_t rec = 4 + 4 * (size_t)f->dim, row = rec - 4;
    size_t per = STAGE_BYTES / rec ? STAGE_BYTES / rec : 1;
    unsigned char *stage = malloc((count < per ? count : per) * rec + 1);
    if (!stage)
        return fail(err, errlen, "out of memory reading %s", f->path);
    int rc = 0;
    for (size_t done = 0; done < count && rc == 0;) {
        size_t m = count - done < per ? count - done : per, want = m * rec, got = 0;
        while (got < want) {
            ssize_t r = pread(f->fd, stage + got, want - got,
                              (off_t)((first + done) * rec + got));
            if (r <= 0) {
                rc = fail(err, errlen, "reading %s: %s", f->path,
                          r < 0 ? strerror(errno) : "the file shrank while being read");
                break;
            }
            got += (size_t)r;
        }
        for (size_t i = 0; i < m && rc == 0; i++) { /* drop the headers */
            const unsigned char *src = stage + i * rec;
            size_t id = first + done + i;
            int32_t di;
            memcpy(&di, src, 4);
            if (di != f->dim) {
                rc = fail(err, errlen, "%s is not a %s file of one dimension: vector %zu has "
                          "dimension %d, the first %d", f->path, kind_of(f->is_float), id,
                          (int)di, f->dim);
                break;
            }
            unsigned char *dst = (unsigned char *)out + (done + i) * row;
            memcpy(dst, src + 4, row);
            if (f->is_float)
                for (int j = 0; j < f->dim; j++) {
                    float x;
                    memcpy(&x, dst + 4 * (size_t)j, 4);
                    if (!isfinite(x)) {
                        rc = fail(err, errlen, "%s: vector %zu has a value that is not a finite "
                                  "number (component %d)", f->path, id, j);
                        break;
                    }
                }
        }
        done += m;
    }
    free(stage);
    return rc;
}

void ann_vecs_close(ann_vecs_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

int ann_read_vecs(const char *path, int is_float, ann_vecs *v, char *err, size_t errlen)
{
    ann_vecs_file f;
    memset(v, 0, sizeof *v);
    if (ann_vecs_open(path, is_float, &f, err, errlen) != 0)
        return -1;
    size_t bytes = f.n * (size_t)f.dim * 4;
    void *data = malloc(bytes ? bytes : 1);
    int rc = data ? ann_vecs_rows(&f, 0, f.n, data, err, errlen)
                  : fail(err, errlen, "out of memory reading %s (%zu bytes)", path, bytes);
    ann_vecs_close(&f);
    if (rc != 0) {
        free(data);
        return -1;
    }
    v->data = data;
    v->n = f.n;
    v->dim = f.dim;
    return 0;
}
