/*
 * .fvecs / .ivecs files as `manushya bench ann` reads them (cli/ann_vecs.c).
 * Input: the file's bytes, read both as .fvecs and as .ivecs.
 * Checks, besides no crash or leak: a file read has at least one vector, its dimension in
 * 1..65536, and n * (4 + 4 * dim) bytes, the size of the input.
 */
#include "fuzz.h"
#include "ann_vecs.h"

#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[512];
    int fd = fuzz_file(data, size, path, sizeof path);
    for (int is_float = 0; is_float < 2; is_float++) {
        ann_vecs v;
        if (ann_read_vecs(path, is_float, &v, err, sizeof err) != 0)
            continue;
        fuzz_assert(v.n >= 1 && v.dim >= 1 && v.dim <= 65536 &&
                    v.n * (4 + 4 * (size_t)v.dim) == size,
                    "the vectors read do not account for the file");
        free(v.data);
    }
    close(fd);
    return 0;
}
