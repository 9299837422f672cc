/*
 * Writes the index harness's seed corpus (fuzz_index.c) into the directory given: small real
 * files, each behind the harness's flag byte, with and without the checksum fix-up flag:
 *   ann-*        an index saved by mn_ann_save (24 vectors of dimension 4, m 2, one deleted);
 *   partition-*  a database partition's files as the vector index saves them (index/vindex.c:
 *                the graph by mni_hnsw_save with the applied seq, the attributes by
 *                vx_attrs_save with identities, types, sessions, times, importance, an
 *                expiry and a soft delete).
 * Run by `make fuzz-seeds`; the corpus in the tree is its output.
 */
#include "index/hnsw.h"
#include "index/vindex_attr.h"

#include <manushya.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 24
#define DIM 4

static void die(const char *what)
{
    fprintf(stderr, "seed_index: %s\n", what);
    exit(1);
}

static void vector(int i, float *v)
{
    for (int k = 0; k < DIM; k++)
        v[k] = (float)sin(i * 1.7 + k * 0.9);
}

/* dir/name = flag byte + the file at src. */
static void corpus_file(const char *dir, const char *name, int flag, const char *src)
{
    FILE *in = fopen(src, "rb");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen(path, "wb");
    if (!in || !out)
        die("cannot open a file");
    fputc(flag, out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    if (fclose(out))
        die("cannot write a corpus file");
}

int main(int argc, char **argv)
{
    if (argc != 3)
        die("usage: seed_index TMPDIR CORPUSDIR");
    char ann[4096], graph[4096], attrs[4096];
    snprintf(ann, sizeof ann, "%s/ann.idx", argv[1]);
    snprintf(graph, sizeof graph, "%s/part.hnsw", argv[1]);
    snprintf(attrs, sizeof attrs, "%s/part.attr", argv[1]);
    float v[DIM];

    mn_ann_params p = {.version = MN_ANN_PARAMS_VERSION, .m = 2, .seed = 7 };
    mn_ann *a;
    if (mn_ann_create(DIM, &p, &a) != MN_OK)
        die("mn_ann_create");
    for (int i = 0; i < N; i++) {
        vector(i, v);
        if (mn_ann_add(a, 1000 + i, v) != MN_OK)
            die("mn_ann_add");
    }
    if (mn_ann_delete(a, 1005) != MN_OK || mn_ann_save(a, ann) != MN_OK)
        die("mn_ann_save");
    mn_ann_free(a);

    struct mni_hnsw_params hp = { .m = 2, .seed = 7 };
    mni_hnsw *h;
    struct vx_attrs t;
    vx_attrs_init(&t);
    static const char *const idents[] = { "9b2f0e4c-identity-a", "9b2f0e4c-identity-b",
                                          "9b2f0e4c-identity-c" };
    static const char *const types[] = { "fact", "preference" };
    static const char *const sessions[] = { "chat-1", "chat-2", NULL };
    if (mni_hnsw_create(DIM, &hp, &h) != MN_OK)
        die("mni_hnsw_create");
    for (int i = 0; i < N; i++) {
        vector(i, v);
        if (mni_hnsw_insert(h, i + 1, v) != MN_OK ||
            vx_attrs_put(&t, i + 1, &(struct vx_values){ .seq = i + 1,
                         .expires_at = i == 3 ? 1767225600000 : 0,
                         .created_at = 1767225600000 + i, .updated_at = 1767225600000 + 2 * i,
                         .importance = i / 10.0, .vhash = (uint64_t)i * 2654435761u,
                         .deleted = i == 7 }, idents[i % 3], types[i % 2],
                         sessions[i % 3]) != MN_OK)
            die("building the partition");
    }
    if (mni_hnsw_save(h, graph, N) != MN_OK || vx_attrs_save(&t, attrs, N, 0x5eed5eed) != MN_OK)
        die("saving the partition");
    mni_hnsw_free(h);
    vx_attrs_free(&t);

    corpus_file(argv[2], "ann-fixed", 2, ann);
    corpus_file(argv[2], "ann-raw", 0, ann);
    corpus_file(argv[2], "partition-graph-fixed", 2, graph);
    corpus_file(argv[2], "partition-attr-fixed", 3, attrs);
    corpus_file(argv[2], "partition-attr-raw", 1, attrs);
    return 0;
}
