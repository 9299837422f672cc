/*
 * Vector index files: an index saved by mn_ann_save (loaded by mn_ann_load_v2, copied and with
 * its floats mapped, index/hnsw.c; a database's partition graph TENANT.hnsw is the same
 * format) and a partition's attribute file TENANT.attr (vx_attrs_load, index/vindex_attr.c).
 * Input: one byte of flags, then the file. Flag 1: an attribute file, else an index file.
 * Flag 2: the harness first writes the file's payload size and checksums (XXH64, as the
 * savers do) so that a mutation reaches the structural checks behind them; without it the
 * loader checks the bytes as they come.
 * Checks, besides no crash or leak: a loaded index answers a search, takes a new vector (or,
 * mapped, refuses it for floats that fail their checksum) and deletes one; in loaded
 * attributes every key is found at its record, and a key can be put and removed.
 */
#include "fuzz.h"
#include "core/bytes.h"
#include "core/hash.h"
#include "index/hnsw.h"
#include "index/vindex_attr.h"

#include <manushya.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLAG_ATTR 1
#define FLAG_FIX_SUMS 2

/* Where the savers put sizes and checksums (hnsw.c and vindex_attr.c, "Header"). */
#define HNSW_HDR 136
#define ATTR_HDR 88

/* An index file's vectors (slots x dim floats, from the first multiple of 64 KiB past the
 * keys, states and levels) have their own checksum; the payload's covers the rest. */
static void fix_sums(uint8_t *f, size_t size, int attr)
{
    size_t hdr = attr ? ATTR_HDR : HNSW_HDR;
    if (size < hdr)
        return;
    size_t at_size = attr ? 56 : 96, at_sum = attr ? 64 : 104, at_hdr_sum = attr ? 80 : 128;
    uint64_t vo = size, vl = 0;
    if (!attr) {
        uint64_t ns = mni_load64(f + 48), dim = mni_load32(f + 20);
        uint64_t end = hdr + ns * 10;
        if (ns <= size && dim <= size) {
            vo = end + (65536 - end % 65536) % 65536;
            vl = ns * dim * 4;
        }
        if (vo > size || vl > size - vo)
            vo = size, vl = 0;
        mni_store64(f + 112, mni_hash64(f + vo, vl, 0));
    }
    struct mni_hash64_state x;
    mni_hash64_init(&x, 0);
    mni_hash64_update(&x, f + hdr, vo - hdr);
    mni_hash64_update(&x, f + vo + vl, size - vo - vl);
    mni_store64(f + at_size, size - hdr);
    mni_store64(f + at_sum, mni_hash64_final(&x));
    mni_store64(f + at_hdr_sum, mni_hash64(f, at_hdr_sum, 0));
}

/* Loads the file copied (flags 0) or with its floats mapped (MN_ANN_LOAD_MAP), then searches
 * and writes. A mapped load does not read the floats' checksum: its first write does, and may
 * refuse floats the fuzzer changed (MN_ECORRUPT), which is the documented answer. */
static void use_index(const char *path, unsigned flags)
{
    mn_ann *a = NULL;
    if (mn_ann_load_v2(path, flags, &a) != MN_OK)
        return;
    int dim = mn_ann_dim(a);
    float *q = calloc((size_t)dim, sizeof *q);
    fuzz_assert(q != NULL, "out of memory in the harness");
    q[0] = 1;
    int64_t keys[5];
    size_t n = 0;
    fuzz_assert(mn_ann_search(a, q, 5, 0, keys, NULL, &n) == MN_OK, "a loaded index failed a "
                "search");
    int64_t fresh = INT64_MIN + 12345;
    int rc = MN_OK;
    if (!mn_ann_contains(a, fresh))
        rc = mn_ann_add(a, fresh, q);
    fuzz_assert(rc == MN_OK || (flags && rc == MN_ECORRUPT), "a loaded index refused a new "
                "vector");
    if (n && rc == MN_OK)
        fuzz_assert(mn_ann_delete(a, keys[0]) == MN_OK, "a loaded index failed a delete");
    free(q);
    mn_ann_free(a);
}

static void use_attrs(const char *path)
{
    struct vx_attrs t;
    int64_t seq;
    uint64_t token;
    vx_attrs_init(&t);
    if (vx_attrs_load(path, &t, &seq, &token) == MN_OK) {
        for (size_t i = 0; i < t.n; i++)
            fuzz_assert(vx_attrs_find(&t, t.a[i].key) == (int32_t)i, "a loaded key is lost");
        int64_t fresh = INT64_MIN + 12345;
        if (vx_attrs_find(&t, fresh) < 0 &&
            vx_attrs_put(&t, fresh, &(struct vx_values){ .seq = 1 }, "fuzz-identity", "fact",
                         "fuzz-session") == MN_OK)
            fuzz_assert(vx_attrs_find(&t, fresh) >= 0, "a key put is not found");
        if (t.n)
            vx_attrs_del(&t, t.a[0].key);
    }
    vx_attrs_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int attr = data[0] & FLAG_ATTR;
    uint8_t *file = malloc(size);
    fuzz_assert(file != NULL, "out of memory in the harness");
    memcpy(file, data + 1, size - 1);
    if (data[0] & FLAG_FIX_SUMS)
        fix_sums(file, size - 1, attr);
    char path[64];
    int fd = fuzz_file(file, size - 1, path, sizeof path);
    if (attr)
        use_attrs(path);
    else {
        use_index(path, 0);
        use_index(path, MN_ANN_LOAD_MAP);
    }
    close(fd);
    free(file);
    return 0;
}
