#include "api/filter.h"
#include "api/abi_structs.h"
#include "api/access.h"
#include "api/validate.h"
#include "core/clock.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#define MNI_FILTER_FLAGS \
    (MN_WITH_DELETED | MN_WITH_EXPIRED | MN_WITH_EMBEDDING | MN_ALL_READABLE)

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
        rc = mni_check_name(db, "the type filter", f->type, 64);
        if (rc != MN_OK)
            return rc;
        out->q.type = f->type;
    }
    if (f->identity) {
        /* For an identity, one that does not exist is filtered on as it was named, which no
         * memory of the tenant has for owner (owners are the tenant's identities' ids): an
         * empty answer, as for an identity whose memories it may not see, so that a filter
         * never tells an identity which others exist. The trusted system actor, who may know
         * them all, is told (MN_ENOTFOUND): a typo then shows. */
        rc = mni_who_identity_id(db, who, f->identity, &out->identity_id);
        if (rc == MN_ENOTFOUND && who->identity) {
            out->identity_id = strdup(f->identity);
            rc = out->identity_id ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory");
        }
        if (rc != MN_OK)
            return rc;
        out->q.identity_id = out->identity_id;
    } else if (who->identity && !(f->flags & MN_ALL_READABLE)) {
        /* An identity reads its own memories unless it asks for all it may read: the owner is
         * then part of the query, which the store's WHERE and the index's filter apply. */
        out->q.identity_id = who->identity->id;
    }
    if (f->metadata) {
        rc = mni_check_json_object(db, "the metadata filter", f->metadata, &out->metadata, NULL);
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
    if (rc == MN_OK)
        rc = mni_access_begin(db, who, action, per_memory);
    return rc == MN_OK ? mni_query_from_filter(db, who, f, q) : rc;
}

void mni_query_release(struct mni_query_owned *o)
{
    free(o->identity_id);
    cJSON_Delete(o->metadata);
    memset(o, 0, sizeof *o);
}
