/* The standalone vector index (manushya.h, "Vector index (standalone)"): a thin layer over the
 * HNSW core (index/hnsw.h) that checks arguments, turns the core's hits into the caller's key
 * and score arrays, and words the errors of the calls that have no handle or touch a file. */
#include "manushya.h"
#include "api/abi_structs.h"
#include "index/hnsw.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mn_ann {
    mni_hnsw *h;
    int dim;
};

/* Hits kept on the stack up to this k; a larger k allocates. */
#define ANN_STACK_HITS 256

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static int check_param(char *err, size_t errlen, const char *name, int v, int lo, int hi)
{
    if (v == 0 || (v >= lo && v <= hi))
        return MN_OK;
    return fail(err, errlen, MN_EINVAL, "%s is %d: it must be %d to %d (0 for the default)", name,
                v, lo, hi);
}

static mn_ann *wrap(mni_hnsw *h, char *err, size_t errlen, int *rc)
{
    mn_ann *a = malloc(sizeof *a);
    if (!a) {
        mni_hnsw_free(h);
        *rc = fail(err, errlen, MN_ENOMEM, "out of memory");
        return NULL;
    }
    a->h = h;
    a->dim = mni_hnsw_dim(h);
    *rc = MN_OK;
    return a;
}

int mn_ann_create(int dim, const mn_ann_params *params, mn_ann **out, char *err, size_t errlen)
{
    if (!out)
        return fail(err, errlen, MN_EINVAL, "out is NULL");
    *out = NULL;
    if (dim < 1 || dim > MNI_HNSW_MAX_DIM)
        return fail(err, errlen, MN_EINVAL, "the dimension is %d: it must be 1 to %d", dim,
                    MNI_HNSW_MAX_DIM);
    mn_ann_params p;
    int rc = mni_abi_read(NULL, &mni_abi_ann_params, params, 1, &p, sizeof p);
    if (rc != MN_OK)
        return fail(err, errlen, rc, "%s", mn_errmsg(NULL));
    if ((rc = check_param(err, errlen, "m", p.m, 2, MNI_HNSW_MAX_M)) ||
        (rc = check_param(err, errlen, "ef_construction", p.ef_construction, 1,
                          MNI_HNSW_MAX_EF)) ||
        (rc = check_param(err, errlen, "ef_search", p.ef_search, 1, MNI_HNSW_MAX_EF)))
        return rc;
    struct mni_hnsw_params hp = { p.m, p.ef_construction, p.ef_search, p.seed, 0 };
    mni_hnsw *h = NULL;
    rc = mni_hnsw_create(dim, &hp, &h);
    if (rc != MN_OK)
        return fail(err, errlen, rc, rc == MN_ENOMEM ? "out of memory" : "bad parameters");
    *out = wrap(h, err, errlen, &rc);
    return rc;
}

void mn_ann_free(mn_ann *a)
{
    if (!a)
        return;
    mni_hnsw_free(a->h);
    free(a);
}

int mn_ann_add(mn_ann *a, int64_t key, const float *vec)
{
    return a ? mni_hnsw_insert(a->h, key, vec) : MN_EINVAL;
}

int mn_ann_update(mn_ann *a, int64_t key, const float *vec)
{
    return a ? mni_hnsw_update(a->h, key, vec) : MN_EINVAL;
}

int mn_ann_add_many(mn_ann *a, const int64_t *keys, const float *vecs, size_t n, int threads)
{
    if (!a || (n && (!keys || !vecs)))
        return MN_EINVAL;
    /* Every value checked first, so that a bad vector changes nothing. */
    size_t total = n * (size_t)a->dim;
    if (n && total / n != (size_t)a->dim)
        return MN_EINVAL;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(vecs[i]))
            return MN_EINVAL;
    return mni_hnsw_build(a->h, keys, vecs, n, threads);
}

int mn_ann_delete(mn_ann *a, int64_t key)
{
    return a ? mni_hnsw_delete(a->h, key) : MN_EINVAL;
}

int mn_ann_contains(const mn_ann *a, int64_t key)
{
    return a ? mni_hnsw_contains(a->h, key) : 0;
}

int mn_ann_search_filtered(const mn_ann *a, const float *q, size_t k, int ef,
                           mn_ann_accept_fn accept, void *ctx, int64_t *keys, float *scores,
                           size_t *n)
{
    if (n)
        *n = 0;
    if (!a || !q || !n || (k && !keys))
        return MN_EINVAL;
    for (int i = 0; i < a->dim; i++)
        if (!isfinite(q[i]))
            return MN_EINVAL;
    /* No more hits than there are vectors: a huge k allocates nothing it cannot fill. */
    size_t live = mni_hnsw_count(a->h);
    size_t kk = k < live ? k : live;
    if (!kk)
        return MN_OK;
    struct mni_hit stack[ANN_STACK_HITS], *hits = stack;
    if (kk > ANN_STACK_HITS && !(hits = malloc(kk * sizeof *hits)))
        return MN_ENOMEM;
    size_t m = 0;
    int rc = mni_hnsw_search(a->h, q, kk, ef, accept, ctx, hits, &m);
    if (rc == MN_OK) {
        for (size_t i = 0; i < m; i++) {
            keys[i] = hits[i].key;
            if (scores)
                scores[i] = hits[i].score;
        }
        *n = m;
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

int mn_ann_save(const mn_ann *a, const char *path, char *err, size_t errlen)
{
    if (!a)
        return fail(err, errlen, MN_EINVAL, "the index is NULL");
    if (!path || !*path)
        return fail(err, errlen, MN_EINVAL, "the path is %s", path ? "empty" : "NULL");
    errno = 0;
    int rc = mni_hnsw_save(a->h, path, 0);
    int e = errno;
    if (rc == MN_EBACKEND)
        return fail(err, errlen, rc, "cannot write %s (through %s.tmp): %s", path, path,
                    io_reason(e));
    if (rc != MN_OK)
        return fail(err, errlen, rc, "saving %s: %s", path, mn_strerror(rc));
    return MN_OK;
}

int mn_ann_load(const char *path, mn_ann **out, char *err, size_t errlen)
{
    if (!out)
        return fail(err, errlen, MN_EINVAL, "out is NULL");
    *out = NULL;
    if (!path || !*path)
        return fail(err, errlen, MN_EINVAL, "the path is %s", path ? "empty" : "NULL");
    mni_hnsw *h = NULL;
    errno = 0;
    int rc = mni_hnsw_load(path, 0, &h, NULL);
    int e = errno;
    switch (rc) {
    case MN_OK:
        break;
    case MN_ENOTFOUND:
        return fail(err, errlen, rc, "%s does not exist", path);
    case MN_ECORRUPT:
        return fail(err, errlen, rc,
                    "%s is not a vector index file, or it is damaged or truncated (its sizes, "
                    "checksums or structure do not match)",
                    path);
    case MN_EBACKEND:
        return fail(err, errlen, rc, "cannot read %s: %s", path, io_reason(e));
    case MN_ENOMEM:
        return fail(err, errlen, rc, "out of memory loading %s", path);
    default:
        return fail(err, errlen, rc, "loading %s: %s", path, mn_strerror(rc));
    }
    *out = wrap(h, err, errlen, &rc);
    return rc;
}
