/* The embedding cache: a remote embedder's vectors kept in the store (api/embed_cache.c). */
#ifndef MNI_API_EMBED_CACHE_H
#define MNI_API_EMBED_CACHE_H

#include "manushya.h"

#include <stddef.h>

/* 1 when db's vectors should go through the cache: the embedder is worth caching
 * (ops->cacheable), mn_config.embed_cache allows it and the store has one. */
int mni_embed_cache_usable(const mn_db *db);
/* MN_OK when db's embedder embeds; MN_EINVAL (what needs it, and what to do instead) for the
 * "external" one, which embeds nothing. Every path to the embedder asks first. */
int mni_embed_check(mn_db *db, const char *what);
/* Embeds texts[0..n-1] (lens bytes each) into out, taking what the cache holds for scope
 * (a tenant id, or NULL for none) and embedding (then caching) only the rest. Errors are set
 * on db. An all-zero vector from the embedder is MN_EINVAL, naming the embedder, its model and
 * the text, whose index goes into *zero (else (size_t)-1): nothing is cached then. */
int mni_embed_cached(mn_db *db, const char *scope, const char *const *texts, const size_t *lens,
                    size_t n, float *out, size_t *zero);

#endif
