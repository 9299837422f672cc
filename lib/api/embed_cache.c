/*
 * The embedding cache: before a remote embedder is asked, the store is asked for the vectors
 * of the same (model, dimension, SHA-256 of the text) made before; only the misses are sent,
 * each distinct text once (an import often repeats one), and their vectors are kept for next
 * time. The cache is an optimisation: a store that cannot read or write it never makes
 * embedding fail (the texts are then simply embedded).
 */
#include "api/embed_cache.h"
#include "core/bytes.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "store/store.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define HASH_LEN crypto_hash_sha256_BYTES /* a text's content address */

int mni_embed_cache_usable(const mn_db *db)
{
    const struct mni_store_ops *ops = db->store ? db->store->ops : NULL;
    return db->embed_ops->cacheable && db->cfg.embed_cache == MN_EMBED_CACHE_AUTO && ops &&
           ops->embed_cache_get && ops->embed_cache_put;
}

static int embed_direct(mn_db *db, const char *const *texts, const size_t *lens, size_t n,
                        float *out)
{
    char err[MNI_ERRMSG_MAX];
    int rc = db->embed_ops->embed(db->embedder, texts, lens, n, out, err, sizeof err);
    return rc == MN_OK ? MN_OK : mni_seterr(db, rc, "%s", err);
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
                    size_t n, float *out)
{
    if (!db->embed_cached || n == 0)
        return embed_direct(db, texts, lens, n, out);
    const struct mni_store_ops *ops = db->store->ops;
    const char *model = db->embed_ops->cache_key(db->embedder);
    size_t dim = (size_t)db->dim;
    unsigned char *hashes = malloc(n * HASH_LEN), *hit = calloc(n, 1);
    const char **mt = malloc(n * sizeof *mt);
    size_t *ml = malloc(n * sizeof *ml), *miss = malloc(n * sizeof *miss);
    size_t *of = malloc(n * sizeof *of), *first = malloc(n * sizeof *first);
    unsigned char *mh = malloc(n * HASH_LEN), *uh = malloc(n * HASH_LEN);
    float *mv = malloc(n * dim * sizeof *mv);
    int rc = hashes && hit && mt && ml && miss && of && first && mh && uh && mv
                 ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory embedding %zu texts", n);
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        crypto_hash_sha256(hashes + i * HASH_LEN, (const unsigned char *)texts[i], lens[i]);
    if (rc == MN_OK)
        ops->embed_cache_get(db->store, scope ? scope : "", model, db->dim, hashes, n, out, hit);
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
    if (rc == MN_OK && distinct)
        rc = embed_direct(db, mt, ml, distinct, mv);
    if (rc == MN_OK && distinct) {
        if (!(db->cfg.flags & MN_OPEN_READONLY))
            ops->embed_cache_put(db->store, scope ? scope : "", model, db->dim, uh, distinct, mv,
                                 mni_now_ms());
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
