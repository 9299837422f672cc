/* ann_vecs.h — .fvecs / .ivecs files for `manushya bench ann` (ann_vecs.c), read on their own
 * so that the fuzzer (tests/fuzz) reaches the reader as the command does. */
#ifndef MANUSHYA_CLI_ANN_VECS_H
#define MANUSHYA_CLI_ANN_VECS_H

#include <stddef.h>

/* A whole .fvecs / .ivecs file: rows of (int32 dim, dim 4-byte values), every dim equal. */
typedef struct ann_vecs {
    size_t n;
    int dim;
    void *data; /* n * dim floats or int32s, headers removed; free() it */
} ann_vecs;

/* Reads path into v, checking the format (is_float: .fvecs, else .ivecs). Returns 0, or -1
 * with a message naming the file and the fault in err (v then holds nothing). */
int ann_read_vecs(const char *path, int is_float, ann_vecs *v, char *err, size_t errlen);

/* The same file read a run of rows at a time, so that a base of any size is never held whole
 * (10M x 384 floats are 15 GB): open checks the size and the first header and gives n and dim;
 * each read checks its rows' headers (and, for .fvecs, that every value is finite). */
typedef struct ann_vecs_file {
    const char *path;
    int fd, is_float, dim;
    size_t n;
} ann_vecs_file;

int ann_vecs_open(const char *path, int is_float, ann_vecs_file *f, char *err, size_t errlen);
/* Rows first .. first + count - 1 (within n) into out (count * dim values). 0 or -1 (err). */
int ann_vecs_rows(const ann_vecs_file *f, size_t first, size_t count, void *out, char *err,
                  size_t errlen);
void ann_vecs_close(ann_vecs_file *f);

#endif
