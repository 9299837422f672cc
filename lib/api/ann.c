/* The standalone vector index (manushya.h, "Vector index (standalone)"): a thin layer over the
 * HNSW core (index/hnsw.h) that checks arguments, turns the core's hits into the caller's key
 * and score arrays, and words every failure (there is no handle: mn_errmsg(NULL) reads it). */
#include "manushya.h"
#include "api/abi_structs.h"
#include "core/error.h"
#include "index/hnsw.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mn_ann {
    mni_hnsw *h;
    int dim;
};

/* Hits kept on the stack up to this k; a larger k allocates. */
#define ANN_STACK_HITS 256

/* There is no handle: failures are the calling thread's with db NULL (mn_errmsg(NULL)). */
#define ann_fail(rc, ...) mni_seterr(NULL, rc, __VA_ARGS__)

/* Words the core's code for an operation on key (add, update, delete); MN_OK passes. */
static int key_fail(int rc, const char *doing, int64_t key)
{
    switch (rc) {
    case MN_OK:
        return MN_OK;
    case MN_EEXISTS:
        return ann_fail(rc, "%s key %lld: the key is in the index already (mn_ann_update "
                        "replaces its vector)", doing, (long long)key);
    case MN_ENOTFOUND:
        return ann_fail(rc, "%s key %lld: the key is not in the index", doing, (long long)key);
    case MN_EINVAL:
        return ann_fail(rc, "%s key %lld: the vector is NULL or has a value that is not finite",
                        doing, (long long)key);
    case MN_ERANGE:
        return ann_fail(rc, "%s key %lld: the index is full (2^31 - 1 vectors)", doing,
                        (long long)key);
    case MN_ENOMEM:
        return ann_fail(rc, "%s key %lld: out of memory", doing, (long long)key);
    default:
        return ann_fail(rc, "%s key %lld: %s", doing, (long long)key, mn_strerror(rc));
    }
}

static int no_index(const char *call)
{
    return ann_fail(MN_EINVAL, "%s: the index is NULL", call);
}

/* MN_OK when v (dim values) is all finite. */
static int check_finite(const char *call, const char *what, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return ann_fail(MN_EINVAL, "%s: %s value %zu is not a finite number", call, what, i);
    return MN_OK;
}

static int check_param(const char *name, int v, int lo, int hi)
{
    if (v == 0 || (v >= lo && v <= hi))
        return MN_OK;
    return ann_fail(MN_EINVAL, "mn_ann_params.%s is %d: it must be %d to %d (0 for the default)",
                    name, v, lo, hi);
}

static mn_ann *wrap(mni_hnsw *h, int *rc)
{
    mn_ann *a = malloc(sizeof *a);
    if (!a) {
        mni_hnsw_free(h);
        *rc = ann_fail(MN_ENOMEM, "out of memory");
        return NULL;
    }
    a->h = h;
    a->dim = mni_hnsw_dim(h);
    *rc = MN_OK;
    return a;
}

int mn_ann_create(int dim, const mn_ann_params *params, mn_ann **out)
{
    if (!out)
        return ann_fail(MN_EINVAL, "mn_ann_create: out is NULL");
    *out = NULL;
    if (dim < 1 || dim > MNI_HNSW_MAX_DIM)
        return ann_fail(MN_EINVAL, "the dimension is %d: it must be 1 to %d", dim,
                        MNI_HNSW_MAX_DIM);
    mn_ann_params p;
    int rc = mni_abi_read(NULL, &mni_abi_ann_params, params, 1, &p, sizeof p);
    if (rc != MN_OK)
        return rc;
    if ((rc = check_param("m", p.m, 2, MNI_HNSW_MAX_M)) ||
        (rc = check_param("ef_construction", p.ef_construction, 1, MNI_HNSW_MAX_EF)) ||
        (rc = check_param("ef_search", p.ef_search, 1, MNI_HNSW_MAX_EF)) ||
        (rc = check_param("rerank", p.rerank, 1, MNI_HNSW_MAX_EF)))
        return rc;
    if (p.quantize != MN_ANN_FLOAT32 && p.quantize != MN_ANN_INT8)
        return ann_fail(MN_EINVAL, "mn_ann_params.quantize is %d: it must be MN_ANN_FLOAT32 (0) "
                        "or MN_ANN_INT8 (1)", p.quantize);
    if (p.rerank && p.quantize != MN_ANN_INT8)
        return ann_fail(MN_EINVAL, "mn_ann_params.rerank is %d but quantize is MN_ANN_FLOAT32: "
                        "rerank applies to MN_ANN_INT8 only (set it to 0)", p.rerank);
    struct mni_hnsw_params hp = { p.m, p.ef_construction, p.ef_search, p.seed,
                                  p.quantize == MN_ANN_INT8 ? MNI_HNSW_INT8 : 0u, p.rerank };
    mni_hnsw *h = NULL;
    rc = mni_hnsw_create(dim, &hp, &h);
    if (rc != MN_OK)
        return ann_fail(rc, rc == MN_ENOMEM ? "out of memory" : "bad parameters");
    *out = wrap(h, &rc);
    return rc;
}

void mn_ann_free(mn_ann *a)
{
    if (!a)
        return;
    mni_hnsw_free(a->h);
    free(a);
}

/* Before any write, key lookup or save, an index loaded with MN_ANN_LOAD_MAP makes what it
 * maps its own: copied out of the file and checked on the way (nothing to do otherwise).
 * Writes then never touch the file's pages, and the index no longer needs the file. The core
 * does it too; here it gets its message. */
static int own_index(const mn_ann *a, const char *call)
{
    int rc = mni_hnsw_own(a->h, NULL);
    switch (rc) {
    case MN_OK:
        return MN_OK;
    case MN_ECORRUPT:
        return ann_fail(rc, "%s: the index's file does not match its checksums or structure, "
                        "or it shrank: the index is damaged (load it from a good file or build "
                        "it again); nothing changed", call);
    case MN_ENOMEM:
        return ann_fail(rc, "%s: out of memory copying the index from its file; nothing "
                        "changed", call);
    default:
        return ann_fail(rc, "%s: %s", call, mn_strerror(rc));
    }
}

int mn_ann_add(mn_ann *a, int64_t key, const float *vec)
{
    if (!a)
        return no_index("mn_ann_add");
    int rc = own_index(a, "mn_ann_add");
    return rc ? rc : key_fail(mni_hnsw_insert(a->h, key, vec), "adding", key);
}

int mn_ann_update(mn_ann *a, int64_t key, const float *vec)
{
    if (!a)
        return no_index("mn_ann_update");
    int rc = own_index(a, "mn_ann_update");
    return rc ? rc : key_fail(mni_hnsw_update(a->h, key, vec), "updating", key);
}

int mn_ann_add_many(mn_ann *a, const int64_t *keys, const float *vecs, size_t n, int threads)
{
    if (!a)
        return no_index("mn_ann_add_many");
    if (n && (!keys || !vecs))
        return ann_fail(MN_EINVAL, "mn_ann_add_many: %s is NULL for %zu rows",
                        keys ? "vecs" : "keys", n);
    /* Every value checked first, so that a bad vector changes nothing. */
    size_t total = n * (size_t)a->dim;
    if (n && total / n != (size_t)a->dim)
        return ann_fail(MN_EINVAL, "mn_ann_add_many: %zu rows of %d values overflow", n, a->dim);
    int rc = check_finite("mn_ann_add_many", "vecs", vecs, total);
    if (rc != MN_OK || (n && (rc = own_index(a, "mn_ann_add_many")) != MN_OK))
        return rc;
    rc = mni_hnsw_build(a->h, keys, vecs, n, threads);
    switch (rc) {
    case MN_OK:
        return MN_OK;
    case MN_EEXISTS:
        return ann_fail(rc, "mn_ann_add_many: a key is in the index already or repeated in "
                        "keys; the rows before it were added");
    case MN_ERANGE:
        return ann_fail(rc, "mn_ann_add_many: the index is full (2^31 - 1 vectors)");
    case MN_ENOMEM:
        return ann_fail(rc, "mn_ann_add_many: out of memory adding %zu rows", n);
    default:
        return ann_fail(rc, "mn_ann_add_many: %s", mn_strerror(rc));
    }
}

int mn_ann_delete(mn_ann *a, int64_t key)
{
    if (!a)
        return no_index("mn_ann_delete");
    int rc = own_index(a, "mn_ann_delete");
    return rc ? rc : key_fail(mni_hnsw_delete(a->h, key), "deleting", key);
}

int mn_ann_contains(const mn_ann *a, int64_t key)
{
    return a && own_index(a, "mn_ann_contains") == MN_OK ? mni_hnsw_contains(a->h, key) : 0;
}

int mn_ann_search_filtered(const mn_ann *a, const float *q, size_t k, int ef,
                           mn_ann_accept_fn accept, void *ctx, int64_t *keys, float *scores,
                           size_t *n)
{
    if (n)
        *n = 0;
    if (!a)
        return no_index("mn_ann_search");
    if (!q || !n || (k && !keys))
        return ann_fail(MN_EINVAL, "mn_ann_search: %s is NULL",
                        !q ? "the query" : !n ? "n" : "keys");
    int rc = check_finite("mn_ann_search", "query", q, (size_t)a->dim);
    if (rc != MN_OK)
        return rc;
    /* No more hits than there are vectors: a huge k allocates nothing it cannot fill. */
    size_t live = mni_hnsw_count(a->h);
    size_t kk = k < live ? k : live;
    if (!kk)
        return MN_OK;
    struct mni_hit stack[ANN_STACK_HITS], *hits = stack;
    if (kk > ANN_STACK_HITS && !(hits = malloc(kk * sizeof *hits)))
        return ann_fail(MN_ENOMEM, "mn_ann_search: out of memory for %zu hits", kk);
    size_t m = 0;
    rc = mni_hnsw_search(a->h, q, kk, ef, accept, ctx, hits, &m);
    if (rc == MN_OK) {
        for (size_t i = 0; i < m; i++) {
            keys[i] = hits[i].key;
            if (scores)
                scores[i] = hits[i].score;
        }
        *n = m;
    } else {
        ann_fail(rc, "mn_ann_search: %s", rc == MN_ENOMEM ? "out of memory" : mn_strerror(rc));
    }
    if (hits != stack)
        free(hits);
    return rc;
}

int mn_ann_search(const mn_ann *a, const float *q, size_t k, int ef, int64_t *keys,
                  float *scores, size_t *n)
{
    return mn_ann_search_filtered(a, q, k, ef, NULL, NULL, keys, scores, n);
}

size_t mn_ann_count(const mn_ann *a)
{
    return a ? mni_hnsw_count(a->h) : 0;
}

size_t mn_ann_bytes(const mn_ann *a)
{
    return a ? mni_hnsw_bytes(a->h) + sizeof *a : 0;
}

int mn_ann_dim(const mn_ann *a)
{
    return a ? a->dim : 0;
}

/* The core's I/O failures come straight from a system call (fopen, fwrite, fsync, rename, ...)
 * whose errno is still set; 0 when there was none. */
static const char *io_reason(int e)
{
    return e ? strerror(e) : "I/O error";
}

int mn_ann_save(const mn_ann *a, const char *path)
{
    if (!a)
        return no_index("mn_ann_save");
    if (!path || !*path)
        return ann_fail(MN_EINVAL, "mn_ann_save: the path is %s", path ? "empty" : "NULL");
    int rc = own_index(a, "mn_ann_save");
    if (rc != MN_OK)
        return rc;
    errno = 0;
    rc = mni_hnsw_save(a->h, path, 0);
    int e = errno;
    if (rc == MN_EBACKEND)
        return ann_fail(rc, "cannot write %s (through %s.tmp): %s", path, path, io_reason(e));
    if (rc != MN_OK)
        return ann_fail(rc, "saving %s: %s", path, mn_strerror(rc));
    return MN_OK;
}

int mn_ann_load_v2(const char *path, unsigned flags, mn_ann **out)
{
    if (!out)
        return ann_fail(MN_EINVAL, "mn_ann_load: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return ann_fail(MN_EINVAL, "mn_ann_load: the path is %s", path ? "empty" : "NULL");
    if (flags & ~(unsigned)MN_ANN_LOAD_MAP)
        return ann_fail(MN_EINVAL, "mn_ann_load_v2: flags has unknown bits 0x%x (the only "
                        "flag is MN_ANN_LOAD_MAP)", flags & ~(unsigned)MN_ANN_LOAD_MAP);
    mni_hnsw *h = NULL;
    errno = 0;
    int rc = mni_hnsw_load(path, 0, &h, NULL);
    /* The core leaves most of the file mapped, checked only as far as searches need. Without
     * MN_ANN_LOAD_MAP the index is the caller's own at once: copied and checked whole. */
    if (rc == MN_OK && !(flags & MN_ANN_LOAD_MAP) &&
        (rc = mni_hnsw_own(h, NULL)) != MN_OK) {
        mni_hnsw_free(h);
        h = NULL;
    }
    int e = errno;
    switch (rc) {
    case MN_OK:
        break;
    case MN_ENOTFOUND:
        return ann_fail(rc, "%s does not exist", path);
    case MN_ECORRUPT:
        return ann_fail(rc, "%s is not a vector index file, or it is damaged or truncated (its "
                        "sizes, checksums or structure do not match)", path);
    case MN_EBACKEND:
        return ann_fail(rc, "cannot read %s: %s", path, io_reason(e));
    case MN_ENOMEM:
        return ann_fail(rc, "out of memory loading %s", path);
    default:
        return ann_fail(rc, "loading %s: %s", path, mn_strerror(rc));
    }
    *out = wrap(h, &rc);
    return rc;
}

int mn_ann_load(const char *path, mn_ann **out)
{
    return mn_ann_load_v2(path, 0, out);
}
