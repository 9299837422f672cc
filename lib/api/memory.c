/* Memories: reading them. Adding is in memory_put.c, changes in memory_change.c, search in
 * search.c. */
#include "api/cache.h"
#include "api/abi_structs.h"
#include "api/metrics.h"
#include "api/access.h"
#include "api/actor.h"
#include "api/filter.h"
#include "api/validate.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "core/uuid.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MNI_LIST_DEFAULT 50
#define MNI_LIST_MAX 1000

static int memory_get(mn_db *db, const mn_actor *actor, const char *id, unsigned flags,
                      mn_memory **out)
{
    if (!db)
        return mni_err_no_db("mn_memory_get");
    char key[MNI_UUID_LEN + 1];
    int rc = mni_check_memory_id(db, "the memory id", id, key);
    id = key;
    if (rc == MN_OK)
        rc = mni_require(db, out, "out");
    if (rc == MN_OK && (flags & ~(unsigned)(MN_WITH_DELETED | MN_WITH_EXPIRED | MN_WITH_EMBEDDING)))
        rc = mni_seterr(db, MN_EINVAL, "flags have unknown bits 0x%x; use MN_WITH_*", flags);
    struct mni_who who = {0};
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_cached_memory_get(db, who.tenant->id, id, flags, mni_now_ms(), out);
    if (rc == MN_OK && (rc = mni_access_memory_check(db, &who, "read", *out)) != MN_OK) {
        mn_memory_free(*out);
        *out = NULL;
    }
    mni_who_release(&who);
    return rc;
}

int mn_memory_get(mn_db *db, const mn_actor *actor, const char *id, unsigned flags,
                  mn_memory **out)
{
    MNI_TIMED(db, memory_get, memory_get(db, actor, id, flags, out));
}

static int memory_list(mn_db *db, const mn_actor *actor, const mn_list_options *options,
                       mn_memories **out)
{
    if (!db)
        return mni_err_no_db("mn_memory_list");
    mn_list_options copy;
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = mni_abi_read(db, &mni_abi_list_options, options, 1, &copy, sizeof copy);
    const mn_list_options *opt = &copy;
    if (rc == MN_OK && (opt->limit < 0 || opt->limit > MNI_LIST_MAX))
        rc = mni_seterr(db, MN_EINVAL, "limit is %d; give 1..%d (0 = %d)", opt->limit,
                       MNI_LIST_MAX, MNI_LIST_DEFAULT);
    char cursor[MNI_UUID_LEN + 1];
    if (rc == MN_OK && opt->cursor && !mni_uuid_valid(opt->cursor))
        rc = mni_seterr(db, MN_EINVAL, "cursor \"%.64s\" is not one that a list returned; pass "
                       "next_cursor as it was, or NULL for the first page", opt->cursor);
    else if (rc == MN_OK && opt->cursor)
        mni_uuid_lower(opt->cursor, cursor);
    struct mni_who who = {0};
    struct mni_query_owned q = {0};
    int per_memory = 0;
    if (rc == MN_OK)
        rc = mni_query_begin(db, actor, "list", opt->filter, &who, &q, &per_memory);
    if (rc == MN_OK) {
        q.q.before_id = opt->cursor ? cursor : NULL;
        q.q.limit = opt->limit ? opt->limit : MNI_LIST_DEFAULT;
        rc = db->store->ops->memory_list(db->store, who.tenant->id, &q.q, out);
    }
    /* A page keeps its cursor: it may hold fewer than limit memories when some are hidden. */
    if (rc == MN_OK && per_memory)
        mni_access_filter_list(db, &who, *out);
    mni_query_release(&q);
    mni_who_release(&who);
    return rc;
}

int mn_memory_list(mn_db *db, const mn_actor *actor, const mn_list_options *options,
                   mn_memories **out)
{
    MNI_TIMED(db, memory_list, memory_list(db, actor, options, out));
}
