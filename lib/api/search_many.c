/* Batch search: n searches for one actor in one call. The query texts go to the embedder in one
 * batch (an HTTP embedder: one request instead of n); then each search runs from its vector
 * with its own filter, k, mode and cursor, exactly as mn_memory_search would run it
 * (api/search.h). The actor is resolved and its access decided once, which is the decision
 * each of n calls would get; the rate limiter counts n searches, all or none. */
#include "api/search.h"
#include "api/abi_structs.h"
#include "api/access.h"
#include "api/filter.h"
#include "api/handle.h"
#include "api/limiter.h"
#include "core/error.h"

#include <stdlib.h>

/* More searches than this in one call are MN_EINVAL: split them. */
#define MNI_SEARCH_MANY_MAX 1000

void mn_memories_free_many(mn_memories **l, size_t n)
{
    if (!l)
        return;
    for (size_t i = 0; i < n; i++)
        mn_memories_free(l[i]);
    free(l);
}

/* Each search's filter as the store's query, in q[0..n-1]. */
static int queries(mn_db *db, const struct mni_who *who, const struct mni_search *s, size_t n,
                   struct mni_query_owned *q)
{
    for (size_t i = 0; i < n; i++) {
        int rc = mni_query_from_filter(db, who, s[i].opt.filter, &q[i]);
        if (rc != MN_OK) {
            mni_errprefix(db, "search %zu: ", i);
            return rc;
        }
    }
    return MN_OK;
}

/* Runs the n searches, prepared and embedded, into *out (all of them, or none on failure). */
static int run_all(mn_db *db, const struct mni_who *who, const struct mni_search *s, size_t n,
                   const struct mni_query_owned *q, int per_memory, const float *vecs,
                   const int *nothing, mn_memories ***out)
{
    mn_memories **l = calloc(n, sizeof *l);
    if (!l)
        return mni_seterr(db, MN_ENOMEM, "out of memory searching");
    int rc = MN_OK;
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = mni_search_embedded(db, who, &s[i], &q[i].q, per_memory,
                                 nothing[i] ? NULL : vecs + i * (size_t)db->dim, &l[i]);
    if (rc != MN_OK) {
        mn_memories_free_many(l, n);
        return rc;
    }
    *out = l;
    return MN_OK;
}

static int search_many(mn_db *db, const mn_actor *actor, const mn_search_options *opts,
                       size_t n, mn_memories ***out)
{
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        *out = NULL;
    if (rc == MN_OK && (n == 0 || n > MNI_SEARCH_MANY_MAX))
        rc = mni_seterr(db, MN_EINVAL, "n is %zu; give 1..%d searches (split more into "
                        "several calls)", n, MNI_SEARCH_MANY_MAX);
    if (rc == MN_OK)
        rc = mni_require(db, opts, "opts");
    struct mni_search *s = rc == MN_OK ? calloc(n, sizeof *s) : NULL;
    struct mni_query_owned *q = rc == MN_OK ? calloc(n, sizeof *q) : NULL;
    float *vecs = rc == MN_OK ? malloc(n * (size_t)db->dim * sizeof *vecs) : NULL;
    int *nothing = rc == MN_OK ? calloc(n, sizeof *nothing) : NULL;
    if (rc == MN_OK && (!s || !q || !vecs || !nothing))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory reading %zu searches", n);
    size_t failed = (size_t)-1;
    if (rc == MN_OK)
        rc = mni_abi_read_array(db, &mni_abi_search_options, opts, n, &s[0].opt, sizeof *s,
                                &failed);
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        if ((rc = mni_search_prepare(db, &s[i])) != MN_OK)
            failed = i;
    if (rc != MN_OK && failed != (size_t)-1)
        mni_errprefix(db, "search %zu: ", failed);
    struct mni_who who = {0};
    int per_memory = 0;
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK) {
        mni_search_ahead(db, &who, s, n);
        rc = mni_access_begin(db, &who, "search", &per_memory);
    }
    if (rc == MN_OK)
        rc = queries(db, &who, s, n, q);
    if (rc == MN_OK)
        rc = mni_ratelimit_enforce(db, &who, "memory:search", (int64_t)n);
    if (rc == MN_OK) {
        rc = mni_search_vectors(db, who.tenant->id, s, n, vecs, nothing, &failed);
        if (rc != MN_OK && failed != (size_t)-1)
            mni_errprefix(db, "search %zu: ", failed);
    }
    if (rc == MN_OK)
        rc = run_all(db, &who, s, n, q, per_memory, vecs, nothing, out);
    for (size_t i = 0; q && i < n; i++)
        mni_query_release(&q[i]);
    mni_who_release(&who);
    free(q);
    free(s);
    free(vecs);
    free(nothing);
    return rc;
}

int mn_memory_search_many(mn_db *db, const mn_actor *actor, const mn_search_options *opts,
                          size_t n, mn_memories ***out)
{
    if (!db)
        return mni_err_no_db("mn_memory_search_many");
    return search_many(db, actor, opts, n, out);
}
