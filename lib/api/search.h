/* One search in steps, which mn_memory_search takes one after the other and
 * mn_memory_search_many (api/search_many.c) takes for n searches at once: the options checked,
 * the query texts embedded (n in one batch), then each search run from its vector. */
#ifndef MNI_API_SEARCH_H
#define MNI_API_SEARCH_H

#include "api/actor.h"
#include "api/search_rank.h"
#include "store/store.h"

/* A search's options, checked and settled, and its ranking. Not to be moved once prepared
 * (the ranking points into itself). */
struct mni_search {
    mn_search_options opt; /* the library's full copy of the caller's */
    struct mni_rank rank;
};

/* Checks s->opt (a full copy of the caller's) and settles it in place: the mode, weights and
 * the relevance floor in force; fills s->rank. MN_EINVAL, recorded on db, for bad options. */
int mni_search_prepare(mn_db *db, struct mni_search *s);

/* Once the tenant of the n prepared searches s is known (who resolved), before their access
 * check and embedding: when one of them ranks by vector, the tenant's partition of the vector
 * index starts loading from its files meanwhile (mni_vindex_prefetch). */
void mni_search_ahead(mn_db *db, const struct mni_who *who, const struct mni_search *s, size_t n);

/* The unit query vectors of the n prepared searches s, into vecs (n * db->dim floats): the
 * caller's vector checked, or the query text embedded for tenant_id, all the texts in one call
 * of the embedder. nothing[i] is set when query i has no words to search for (its vector is all
 * zeros, which the embedder refuses): that search finds nothing. On a bad query *failed is its
 * index, else (size_t)-1. */
int mni_search_vectors(mn_db *db, const char *tenant_id, const struct mni_search *s, size_t n,
                       float *vecs, int *nothing, size_t *failed);

/* Runs the prepared search s for who, whose access and filter q are settled (mni_query_begin;
 * per_memory as it says), from the query's vector vec (NULL: a query without words, which finds
 * nothing): its page of results in *out. */
int mni_search_embedded(mn_db *db, const struct mni_who *who, const struct mni_search *s,
                        const struct mni_store_query *q, int per_memory, const float *vec,
                        mn_memories **out);

#endif
