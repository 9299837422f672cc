/* Turns a public mn_filter into the store's query: checks it, resolves the identity, parses the
 * metadata filter. */
#ifndef MN_API_FILTER_H
#define MN_API_FILTER_H

#include "api/actor.h"
#include "store/store.h"

struct mn_query_owned {
    struct mn_store_query q;
    char *identity_id;
    cJSON *metadata;
};

void mn_query_release(struct mn_query_owned *o);

/* The common start of a list or a search: resolves the actor, checks it may `action` memories
 * (*per_memory: whether each result must still be checked, see mn_access_begin) and turns the
 * filter into the store's query. The caller releases who and q whatever the result. */
int mn_query_begin(mn_db *db, const mn_actor *actor, const char *action, const mn_filter *f,
                   struct mn_who *who, struct mn_query_owned *q, int *per_memory);

#endif
