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

#endif
