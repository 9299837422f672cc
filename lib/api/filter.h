/* Turns a public mn_filter into the store's query: checks it, resolves the identity, parses the
 * metadata filter. */
#ifndef MNI_API_FILTER_H
#define MNI_API_FILTER_H

#include "api/actor.h"
#include "store/store.h"

struct mni_query_owned {
    struct mni_store_query q;
    char *identity_id;
    cJSON *metadata;
};

void mni_query_release(struct mni_query_owned *o);

/* Turns filter (NULL: none) into the store's query for who, who resolved and its access
 * checked: the caller releases out whatever the result. */
int mni_query_from_filter(mn_db *db, const struct mni_who *who, const mn_filter *filter,
                          struct mni_query_owned *out);

/* The common start of a list or a search: resolves the actor, checks it may `action` memories
 * (*per_memory: whether each result must still be checked, see mni_access_begin) and turns the
 * filter into the store's query. The caller releases who and q whatever the result. */
int mni_query_begin(mn_db *db, const mn_actor *actor, const char *action, const mn_filter *f,
                   struct mni_who *who, struct mni_query_owned *q, int *per_memory);

#endif
