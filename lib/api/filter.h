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

int mn_query_from_filter(mn_db *db, const struct mn_who *who, const mn_filter *f,
                         struct mn_query_owned *out);
void mn_query_release(struct mn_query_owned *o);

#endif
