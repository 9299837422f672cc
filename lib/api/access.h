/* Access control of the API calls: every call made for an identity asks the tenant's policies
 * (lib/policy) first; the trusted system actor (no identity) is not asked. */
#ifndef MNI_API_ACCESS_H
#define MNI_API_ACCESS_H

#include "api/actor.h"

/* MN_OK when who may perform action on resource (data: the resource as JSON, or NULL), the
 * allowing policy then kept in who->allowed_by; MN_EDENIED with the deciding policy and reason
 * in mn_errmsg() otherwise (and the denial recorded in the audit log). */
int mni_access_check(mn_db *db, struct mni_who *who, const char *action,
                    const char *resource, const cJSON *data);

/* The same, as a verdict (for mn_policy_test): *allowed, and policy_id / reason malloc'd. */
int mni_access_decide(mn_db *db, const struct mni_who *who, const char *action,
                     const char *resource, const cJSON *data, int *allowed, char **policy_id,
                     char **reason);

/* For list and search: checks that who may `action` memories at all, then says in
 * *per_memory whether each memory must still be checked, with mni_access_filter_list, for the
 * action and for "read" (the action is kept in who->listing). */
int mni_access_begin(mn_db *db, struct mni_who *who, const char *action, int *per_memory);
/* MN_OK when who may `action` the memory m, else MN_EDENIED (as mni_access_check). */
int mni_access_memory_check(mn_db *db, struct mni_who *who, const char *action,
                           const mn_memory *m);

/* 1 when who may both do who->listing (the list or search, mni_access_begin) and read the
 * memory m. A decision that fails hides the memory, and the list goes on: its failure is not
 * the call's. Of m only what a policy sees is read (mni_access_memory_json). */
int mni_access_shows(mn_db *db, const struct mni_who *who, const mn_memory *m);
/* Drops from l, in place, the memories who may not see (see mni_access_begin); a failed
 * decision counts as no. */
void mni_access_filter_list(mn_db *db, const struct mni_who *who, mn_memories *l);

/* Makes who->key, who asks as the decision cache keys it; the identity must be resolved.
 * MN_ENOMEM, or MN_OK. mni_who_resolve calls it. */
int mni_access_key_prepare(mn_db *db, struct mni_who *who);

/* The JSON a policy sees of a memory: {"id","identity_id","type","metadata","importance"};
 * NULL when out of memory. */
cJSON *mni_access_memory_json(const char *id, const char *identity_id, const char *type,
                             const char *metadata, double importance);

/* Gives the default policies to the tenants that never had any: those of a database made
 * before policies existed, which would otherwise lock out every identity. mn_open calls it. */
int mni_tenant_install_default_policies(mn_db *db);

/* The handle's cache of compiled policy sets, one per tenant and policy generation. */
struct mni_policy_sets;
int mni_policy_sets_create(struct mni_policy_sets **out);
void mni_policy_sets_free(struct mni_policy_sets *ps);
/* The decision cache's counters (metrics). */
void mni_access_cache_stats(mn_db *db, uint64_t *hits, uint64_t *misses, uint64_t *evictions);

#endif
