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
    char **identities;         /* q.identities: the ids the filter's identities resolve to */
    const char *session;       /* q.sessions when the filter names one session */
    char *sessions_json, *types_json, *identities_json;
};

void mni_query_release(struct mni_query_owned *o);

/* Whether the memory m passes q's conditions (owner, type, lists, ranges, metadata; not the
 * flags): 1 or 0. */
int mni_query_selects(const struct mni_store_query *q, const mn_memory *m);
/* Whether q has a condition that narrows what it selects (flags aside). */
int mni_query_has_condition(const struct mni_store_query *q);

/* The common start of a list or a search: resolves the actor, checks it may `action` memories
 * (*per_memory: whether each result must still be checked, see mni_access_begin) and turns the
 * filter into the store's query. The caller releases who and q whatever the result. */
int mni_query_begin(mn_db *db, const mn_actor *actor, const char *action, const mn_filter *f,
                   struct mni_who *who, struct mni_query_owned *q, int *per_memory);

#endif
