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

/* The metadata filter's text (UTF-8, a JSON object) into *out; a memory matches when its
 * metadata contains it (mni_json_contains). MN_EINVAL with the reason in err. */
int mni_filter_metadata_parse(const char *text, cJSON **out, char *err, size_t errlen);

/* The common start of a list or a search: resolves the actor, checks it may `action` memories
 * (*per_memory: whether each result must still be checked, see mni_access_begin) and turns the
 * filter into the store's query. The caller releases who and q whatever the result. */
int mni_query_begin(mn_db *db, const mn_actor *actor, const char *action, const mn_filter *f,
                   struct mni_who *who, struct mni_query_owned *q, int *per_memory);

#endif
