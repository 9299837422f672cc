#include "api/filter.h"
#include "api/abi_structs.h"
#include "api/access.h"
#include "api/validate.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MNI_FILTER_FLAGS \
    (MN_WITH_DELETED | MN_WITH_EXPIRED | MN_WITH_EMBEDDING | MN_ALL_READABLE)
#define MNI_TYPE_NAME_MAX 64

/* The id of the owner a filter names. One that does not exist is filtered on as it was named,
 * which no memory of the tenant has for owner (owners are the tenant's identities' ids): an
 * empty answer, as for an identity whose memories it may not see, so that a filter never
 * tells an identity which others exist. The trusted system actor, who may know them all, is
 * told (MN_ENOTFOUND): a typo then shows. */
static int owner_id(mn_db *db, const struct mni_who *who, const char *name, char **out)
{
    int rc = mni_who_identity_id(db, who, name, out);
    if (rc == MN_ENOTFOUND && who->identity) {
        *out = strdup(name);
        rc = *out ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory");
    }
    return rc;
}

/* A single field and its list: not both; the list's n strings each a name of at most max
 * bytes. *list / *n receive the one to filter on (NULL / 0: neither). */
static int one_or_list(mn_db *db, const char *field, const char *lists, const char *one,
                       const char *const *list, size_t n, size_t max, const char **owned_one,
                       const char *const **out, size_t *nout)
{
    if (n && !list)
        return mni_seterr(db, MN_EINVAL, "the filter's n_%s is %zu but %s is NULL", lists, n,
                         lists);
    if (one && n)
        return mni_seterr(db, MN_EINVAL, "the filter sets both %s and %s; give one %s, or "
                         "every value in %s", field, lists, field, lists);
    char what[80];
    snprintf(what, sizeof what, "the filter's %s", field);
    int rc = one ? mni_check_name(db, what, one, max) : MN_OK;
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        snprintf(what, sizeof what, "the filter's %s[%zu]", lists, i);
        rc = mni_check_name(db, what, list[i], max);
    }
    if (rc != MN_OK)
        return rc;
    if (one) {
        *owned_one = one;
        *out = owned_one;
        *nout = 1;
    } else {
        *out = n ? list : NULL;
        *nout = n;
    }
    return MN_OK;
}

/* The n strings as a JSON array into *json (malloc'd), or MN_ENOMEM. */
static int json_list(mn_db *db, const char *const *list, size_t n, char **json)
{
    cJSON *a = cJSON_CreateStringArray(list, (int)n);
    *json = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return *json ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory");
}

/* [after, before): neither negative, after below before when both are set. */
static int check_range(mn_db *db, const char *name, int64_t after, int64_t before)
{
    if (after < 0 || before < 0)
        return mni_seterr(db, MN_EINVAL, "the filter's %s_after or %s_before is negative; give "
                         "ms since the epoch, or 0 for no bound", name, name);
    if (after && before && after >= before)
        return mni_seterr(db, MN_EINVAL, "the filter's %s_after (%lld) is not before its "
                         "%s_before (%lld): nothing could match; swap them", name,
                         (long long)after, name, (long long)before);
    return MN_OK;
}

static int importance_range(mn_db *db, const mn_filter *f, struct mni_store_query *q)
{
    double lo = f->importance_min, hi = f->importance_max;
    if (lo == 0 && hi == 0)
        return MN_OK;
    if (!(lo >= 0 && lo <= 1) || !((hi >= 0 && hi <= 1) || hi == MN_IMPORTANCE_ZERO))
        return mni_seterr(db, MN_EINVAL, "the filter's importance_min %g / importance_max %g: "
                         "give bounds in 0..1 (importance_max MN_IMPORTANCE_ZERO for at most 0; "
                         "both 0 for no bound)", lo, hi);
    q->importance_bounded = 1;
    q->importance_min = lo;
    q->importance_max = hi == MN_IMPORTANCE_ZERO ? 0 : hi == 0 ? 1 : hi;
    if (q->importance_min > q->importance_max)
        return mni_seterr(db, MN_EINVAL, "the filter's importance_min %g is above its "
                         "importance_max %g: nothing could match", lo, q->importance_max);
    return MN_OK;
}

/* Version 2 of the filter: lists, the session, ranges. */
static int lists_and_ranges(mn_db *db, const struct mni_who *who, const mn_filter *f,
                            struct mni_query_owned *out)
{
    struct mni_store_query *q = &out->q;
    const char *one_type = NULL, *one_identity = NULL;
    const char *const *identities = NULL;
    size_t n_identities = 0;
    int rc = one_or_list(db, "session", "sessions", f->session, f->sessions, f->n_sessions, MN_SESSION_MAX,
                         &out->session, &q->sessions, &q->n_sessions);
    if (rc == MN_OK)
        rc = one_or_list(db, "type", "types", f->type, f->types, f->n_types, MNI_TYPE_NAME_MAX,
                         &one_type, &q->types, &q->n_types);
    if (rc == MN_OK)
        rc = one_or_list(db, "identity", "identities", f->identity, f->identities, f->n_identities, 256,
                         &one_identity, &identities, &n_identities);
    /* The single type and identity stay where the index and the stores' indexes use them. */
    if (one_type) {
        q->types = NULL;
        q->n_types = 0;
    }
    if (rc == MN_OK && !one_identity && n_identities) {
        out->identities = calloc(n_identities, sizeof *out->identities);
        if (!out->identities)
            rc = mni_seterr(db, MN_ENOMEM, "out of memory");
        for (size_t i = 0; rc == MN_OK && i < n_identities; i++)
            rc = owner_id(db, who, identities[i], &out->identities[i]);
        q->identities = (const char *const *)out->identities;
        q->n_identities = n_identities;
    }
    if (rc == MN_OK && q->n_sessions)
        rc = json_list(db, q->sessions, q->n_sessions, &out->sessions_json);
    if (rc == MN_OK && q->n_types)
        rc = json_list(db, q->types, q->n_types, &out->types_json);
    if (rc == MN_OK && q->n_identities)
        rc = json_list(db, q->identities, q->n_identities, &out->identities_json);
    q->sessions_json = out->sessions_json;
    q->types_json = out->types_json;
    q->identities_json = out->identities_json;
    if (rc == MN_OK)
        rc = check_range(db, "created", f->created_after, f->created_before);
    if (rc == MN_OK)
        rc = check_range(db, "updated", f->updated_after, f->updated_before);
    q->created_after = f->created_after;
    q->created_before = f->created_before;
    q->updated_after = f->updated_after;
    q->updated_before = f->updated_before;
    return rc == MN_OK ? importance_range(db, f, q) : rc;
}

int mni_query_from_filter(mn_db *db, const struct mni_who *who, const mn_filter *filter,
                          struct mni_query_owned *out)
{
    memset(out, 0, sizeof *out);
    out->q.now = mni_now_ms();
    mn_filter copy;
    const mn_filter *f = &copy;
    int rc = mni_abi_read(db, &mni_abi_filter, filter, 1, &copy, sizeof copy);
    if (rc != MN_OK)
        return rc;
    if (f->flags & ~(unsigned)MNI_FILTER_FLAGS)
        return mni_seterr(db, MN_EINVAL, "filter flags have unknown bits 0x%x; use MN_WITH_* "
                         "and MN_ALL_READABLE",
                         f->flags & ~(unsigned)MNI_FILTER_FLAGS);
    out->q.flags = f->flags & ~(unsigned)MN_ALL_READABLE; /* whose: settled below */
    if (f->type) {
        rc = mni_check_name(db, "the type filter", f->type, MNI_TYPE_NAME_MAX);
        if (rc != MN_OK)
            return rc;
        out->q.type = f->type;
    }
    rc = lists_and_ranges(db, who, f, out);
    if (rc != MN_OK)
        return rc;
    if (f->identity) {
        rc = owner_id(db, who, f->identity, &out->identity_id);
        if (rc != MN_OK)
            return rc;
        out->q.identity_id = out->identity_id;
    } else if (who->identity && !(f->flags & MN_ALL_READABLE) && !out->q.n_identities) {
        /* An identity reads its own memories unless it asks for all it may read or names the
         * owners: the owner is then part of the query, which the store's WHERE and the index's
         * filter apply. */
        out->q.identity_id = who->identity->id;
        out->own = 1;
    }
    if (f->metadata) {
        rc = mni_check_json_object(db, "the metadata filter", f->metadata, &out->metadata, NULL);
        const char *bad = rc == MN_OK ? mni_json_filter_check(out->metadata) : NULL;
        if (bad)
            rc = mni_seterr(db, MN_EINVAL, "the metadata filter: %s", bad);
        if (rc != MN_OK)
            return rc;
        /* An empty object contains nothing to test: every memory matches, so skip parsing. */
        if (out->metadata->child)
            out->q.metadata = out->metadata;
    }
    return MN_OK;
}

int mni_query_begin(mn_db *db, const mn_actor *actor, const char *action, const mn_filter *f,
                   struct mni_who *who, struct mni_query_owned *q, int *per_memory)
{
    int rc = mni_who_resolve(db, actor, who);
    return rc == MN_OK ? mni_query_settle(db, who, action, f, q, per_memory) : rc;
}

int mni_query_settle(mn_db *db, struct mni_who *who, const char *action, const mn_filter *f,
                     struct mni_query_owned *q, int *per_memory)
{
    int rc = mni_access_begin(db, who, action, per_memory);
    return rc == MN_OK ? mni_query_from_filter(db, who, f, q) : rc;
}

void mni_query_release(struct mni_query_owned *o)
{
    free(o->identity_id);
    cJSON_Delete(o->metadata);
    for (size_t i = 0; o->identities && i < o->q.n_identities; i++)
        free(o->identities[i]);
    free(o->identities);
    free(o->sessions_json);
    free(o->types_json);
    free(o->identities_json);
    memset(o, 0, sizeof *o);
}

int mni_query_selects(const struct mni_store_query *q, const mn_memory *m)
{
    const struct mni_query_fields f = { m->identity_id, m->type, m->session, m->created_at,
                                        m->updated_at, m->importance };
    if (!mni_query_selects_fields(q, &f))
        return 0;
    if (!q->metadata)
        return 1;
    cJSON *meta = cJSON_Parse(m->metadata);
    int ok = meta && mni_json_filter_matches(meta, q->metadata);
    cJSON_Delete(meta);
    return ok;
}

int mni_query_has_condition(const struct mni_query_owned *o)
{
    const struct mni_store_query *q = &o->q;
    return (q->identity_id && !o->own) || q->type || q->metadata || mni_query_has_more(q);
}
