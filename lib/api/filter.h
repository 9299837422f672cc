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
    int own;                   /* q.identity_id is the actor's own by default (no owner named) */
};

void mni_query_release(struct mni_query_owned *o);

/* Turns filter (NULL: none) into the store's query for who, who resolved and its access
 * checked: the caller releases out whatever the result. */
int mni_query_from_filter(mn_db *db, const struct mni_who *who, const mn_filter *filter,
                          struct mni_query_owned *out);
/* Whether the memory m passes q's conditions (owner, type, lists, ranges, metadata; not the
 * flags): 1 or 0. */
int mni_query_selects(const struct mni_store_query *q, const mn_memory *m);
/* Whether the caller's filter behind o has a condition that narrows what it selects (flags
 * aside; the owner an identity's call is scoped to by default is none). */
int mni_query_has_condition(const struct mni_query_owned *o);

/* The common start of a list or a search: resolves the actor, checks it may `action` memories
 * (*per_memory: whether each result must still be checked, see mni_access_begin) and turns the
 * filter into the store's query. The caller releases who and q whatever the result. */
int mni_query_begin(mn_db *db, const mn_actor *actor, const char *action, const mn_filter *f,
                   struct mni_who *who, struct mni_query_owned *q, int *per_memory);
/* Its second half, for a caller with work to start once it knows the tenant: who resolved
 * (mni_who_resolve), the access check and the query. */
int mni_query_settle(mn_db *db, struct mni_who *who, const char *action, const mn_filter *f,
                     struct mni_query_owned *q, int *per_memory);

#endif
