/*
 * The embedding cache: before a remote embedder is asked, the store is asked for the vectors
 * of the same (model, dimension, content address of the text: SHA-256, keyed in an encrypted
 * database, store/vault.h) made before; only the misses are sent,
 * each distinct text once (an import often repeats one), and their vectors are kept for next
 * time. The cache is an optimisation: a store that cannot read or write it never makes
 * embedding fail (the texts are then simply embedded).
 */
#include "api/embed_cache.h"
#include "store/vault.h"
#include "api/metrics.h"
#include "core/bytes.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "store/store.h"
#include "store/driver.h"

#include <stdlib.h>
#include <string.h>

#define HASH_LEN 32 /* a text's content address (store/vault.h) */

int mni_embed_cache_usable(const mn_db *db)
{
    const struct mni_store_ops *ops = db->store ? db->store->ops : NULL;
    return db->embed_ops->cacheable && db->cfg.embed_cache == MN_EMBED_CACHE_AUTO && ops &&
           ops->embed_cache_get && ops->embed_cache_put;
}

int mni_embed_check(mn_db *db, const char *what)
{
    if (db->embed_ops->embed)
        return MN_OK;
    return mni_seterr(db, MN_EINVAL, "%s needs text embedded, but this handle embeds nothing "
                      "(embedder \"%s\"): pass the vectors yourself (mn_memory_input.embedding, "
                      "mn_search_options.vector), or open the database with its embedder",
                      what, db->cfg.embedder);
}

/* Every embedder's vectors pass here, before they are cached or used. An all-zero vector (the
 * local embedder's for text without words; a server's by mistake) has no direction: stored, it
 * would match nothing and sit in the index; as a query, it finds nothing. So it is refused. */
static int embed_direct(mn_db *db, const char *const *texts, const size_t *lens, size_t n,
                        float *out, size_t *zero)
{
    char err[MNI_ERRMSG_MAX];
    /* A costly embedder (a server, a plug-in) is timed at every call; the local one, which
     * takes a few microseconds, at one call in MNI_METRICS_SAMPLE. */
    int timed = db->metrics && (db->embed_ops->cacheable || mni_metrics_sampled());
    uint64_t t0 = timed ? mni_mono_ns() : 0;
    int rc = db->embed_ops->embed(db->embedder, texts, lens, n, out, err, sizeof err);
    if (timed)
        mni_step_end(db, MNI_S_EMBED_SECONDS, t0);
    if (rc != MN_OK) {
        mni_metrics_inc(db->metrics, MNI_S_EMBED_ERRORS);
        return mni_seterr(db, rc, "%s", err);
    }
    size_t dim = (size_t)db->dim;
    for (size_t i = 0; i < n; i++) {
        const float *v = out + i * dim;
        size_t k = 0;
        while (k < dim && v[k] == 0)
            k++;
        if (k == dim) {
            *zero = i;
            return mni_seterr(db, MN_EINVAL, "the %s embedder (model %s) made an all-zero vector "
                             "of \"%.*s%s\", which has no direction to compare; give a text "
                             "with words in it",
                             db->plugin ? db->plugin->name : db->embed_ops->name,
                             db->embed_ops->cache_key(db->embedder), (int)(lens[i] < 60 ?
                             lens[i] : 60), texts[i], lens[i] > 60 ? "..." : "");
        }
    }
    return MN_OK;
}

/* Numbers the distinct hashes among h[0..n-1] (HASH_LEN bytes each): of[j] is the number
 * of the first hash equal to h[j], first[k] the index of the k-th distinct one. Returns how many
 * are distinct, or 0 when out of memory. An open-addressing table keyed by the hashes' first
 * 8 bytes, compared in full. */
static size_t number_distinct(const unsigned char *h, size_t n, size_t *of, size_t *first)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    size_t *slot = malloc(cap * sizeof *slot); /* distinct number + 1; 0 = empty */
    if (!slot)
        return 0;
    memset(slot, 0, cap * sizeof *slot);
    size_t distinct = 0;
    for (size_t j = 0; j < n; j++) {
        const unsigned char *hj = h + j * HASH_LEN;
        size_t at = (size_t)mni_load64(hj) & (cap - 1);
        while (slot[at] && memcmp(h + first[slot[at] - 1] * HASH_LEN, hj, HASH_LEN))
            at = (at + 1) & (cap - 1);
        if (!slot[at]) {
            first[distinct] = j;
            slot[at] = ++distinct;
        }
        of[j] = slot[at] - 1;
    }
    free(slot);
    return distinct;
}

int mni_embed_cached(mn_db *db, const char *scope, const char *const *texts, const size_t *lens,
                    size_t n, float *out, size_t *zero)
{
    *zero = (size_t)-1;
    int rc = mni_embed_check(db, "this call");
    if (rc != MN_OK)
        return rc;
    if (!db->embed_cached || n == 0)
        return embed_direct(db, texts, lens, n, out, zero);
    const struct mni_store_ops *ops = db->store->ops;
    const char *model = db->embed_ops->cache_key(db->embedder);
    size_t dim = (size_t)db->dim;
    unsigned char *hashes = malloc(n * HASH_LEN), *hit = calloc(n, 1);
    const char **mt = malloc(n * sizeof *mt);
    size_t *ml = malloc(n * sizeof *ml), *miss = malloc(n * sizeof *miss);
    size_t *of = malloc(n * sizeof *of), *first = malloc(n * sizeof *first);
    unsigned char *mh = malloc(n * HASH_LEN), *uh = malloc(n * HASH_LEN);
    float *mv = malloc(n * dim * sizeof *mv);
    rc = hashes && hit && mt && ml && miss && of && first && mh && uh && mv
             ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory embedding %zu texts", n);
    if (rc == MN_OK)
        rc = mni_vault_text_hashes(db->store, scope ? scope : "", texts, lens, n, hashes);
    /* Reading and writing the cache may fail without failing the call: the failure is
     * forgotten (a miss, a vector not kept). */
    mni_errmark mark = mni_err_mark();
    if (rc == MN_OK && ops->embed_cache_get(db->store, scope ? scope : "", model, db->dim,
                                            hashes, n, out, hit) != MN_OK)
        mni_err_forget(mark);
    /* The misses: their indices, hashes; then each distinct text once (mt, ml, uh). */
    size_t misses = 0, distinct = 0;
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        if (!hit[i]) {
            miss[misses] = i;
            memcpy(mh + misses * HASH_LEN, hashes + i * HASH_LEN, HASH_LEN);
            misses++;
        }
    if (rc == MN_OK && misses && !(distinct = number_distinct(mh, misses, of, first)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory embedding %zu texts", n);
    for (size_t k = 0; rc == MN_OK && k < distinct; k++) {
        mt[k] = texts[miss[first[k]]];
        ml[k] = lens[miss[first[k]]];
        memcpy(uh + k * HASH_LEN, mh + first[k] * HASH_LEN, HASH_LEN);
    }
    size_t zero_distinct = (size_t)-1;
    if (rc == MN_OK && distinct && (rc = embed_direct(db, mt, ml, distinct, mv,
                                                      &zero_distinct)) != MN_OK &&
        zero_distinct < distinct)
        *zero = miss[first[zero_distinct]];
    if (rc == MN_OK && distinct) {
        if (!(db->cfg.flags & MN_OPEN_READONLY) &&
            ops->embed_cache_put(db->store, scope ? scope : "", model, db->dim, uh, distinct, mv,
                                 mni_now_ms()) != MN_OK)
            mni_err_forget(mark);
        for (size_t j = 0; j < misses; j++)
            memcpy(out + miss[j] * dim, mv + of[j] * dim, dim * sizeof *out);
    }
    /* A text repeated within the call is served like a hit: it was embedded once. */
    if (rc == MN_OK) {
        __atomic_fetch_add(&db->embed_hits, (uint64_t)(n - distinct), __ATOMIC_RELAXED);
        __atomic_fetch_add(&db->embed_misses, (uint64_t)distinct, __ATOMIC_RELAXED);
    }
    free(hashes);
    free(hit);
    free(mt);
    free(ml);
    free(miss);
    free(of);
    free(first);
    free(mh);
    free(uh);
    free(mv);
    return rc;
}

int mn_embed_cache_prune(mn_db *db, int64_t older_than_ms, size_t *removed)
{
    if (!db)
        return mni_err_no_db(__func__);
    size_t n = 0;
    int rc = older_than_ms >= 0 ? MN_OK
             : mni_seterr(db, MN_EINVAL, "mn_embed_cache_prune: older_than_ms is %lld; give "
                          "0 or more milliseconds", (long long)older_than_ms);
    if (rc == MN_OK && (db->cfg.flags & MN_OPEN_READONLY))
        rc = mni_seterr(db, MN_EINVAL, "mn_embed_cache_prune: the database is open read-only "
                        "(MN_OPEN_READONLY)");
    if (rc == MN_OK && db->store->ops->embed_cache_put)
        rc = mni_op_embed_cache_prune(db->store, mni_now_ms() - older_than_ms, &n);
    if (rc == MN_OK)
        mni_metrics_inc(db->metrics, MNI_S_MAINTENANCE + MNI_MAINT_EMBED_CACHE_PRUNE);
    if (removed)
        *removed = n;
    return rc;
}
