/* Memories by filter: counting them (mn_memory_count), deleting them (mn_memory_delete_where)
 * and keeping the newest N of them (mn_memory_trim). Each selects as mn_memory_list does (the
 * same query, policies included); deleting goes through mn_memory_delete_many's path, so that
 * it is all or none, checked per memory and audited alike. */
#include "api/access.h"
#include "api/filter.h"
#include "api/handle.h"
#include "api/memory.h"
#include "api/metrics.h"
#include "api/validate.h"
#include "core/error.h"
#include "core/uuid.h"
#include "store/list.h"

#include <stdlib.h>
#include <string.h>

/* Rows read per page while walking the matches. */
#define MNI_WHERE_PAGE 1000

/* What a walk keeps of each match: its id and creation time (trim's order). */
struct match {
    char id[MNI_UUID_LEN + 1];
    int64_t created_at;
};

struct matches {
    struct match *m;
    size_t n, cap;
    int keep;      /* 0: count only */
};

/* Walks every memory q selects that who may read, page by page (newest first), into *k. */
static int walk(mn_db *db, struct mni_who *who, struct mni_store_query *q, int per_memory,
                struct matches *k)
{
    char cursor[MNI_UUID_LEN + 1] = "";
    q->limit = MNI_WHERE_PAGE;
    q->flags &= ~(unsigned)MN_WITH_EMBEDDING;
    for (;;) {
        q->before_id = cursor[0] ? cursor : NULL;
        mn_memories *l = NULL;
        int rc = db->store->ops->memory_list(db->store, who->tenant->id, q, &l);
        if (rc != MN_OK)
            return rc;
        int more = l->next_cursor != NULL;
        if (more)
            memcpy(cursor, l->next_cursor, sizeof cursor);
        if (per_memory)
            mni_access_filter_list(db, who, l);
        for (size_t i = 0; rc == MN_OK && k->keep && i < l->count; i++) {
            if (mni_grow((void **)&k->m, &k->cap, k->n, sizeof *k->m) != MN_OK) {
                rc = mni_seterr(db, MN_ENOMEM, "out of memory reading the matching memories");
                break;
            }
            struct match *m = &k->m[k->n++];
            memcpy(m->id, l->items[i]->id, sizeof m->id);
            m->created_at = l->items[i]->created_at;
        }
        if (!k->keep)
            k->n += l->count;
        mn_memories_free(l);
        if (rc != MN_OK || !more)
            return rc;
    }
}

/* Resolves the actor and the filter, then walks the matches into *k. delete_mode: the mode of
 * the delete they are for, NULL when they are only counted: then, when no policy looks at the
 * memories (one decision holds for all) and every condition is the store's to test (metadata
 * may be sealed, opened only here), one count in the store answers instead of the walk. */
static int matching(mn_db *db, const mn_actor *actor, const mn_filter *filter,
                    const int *delete_mode, struct matches *k)
{
    struct mni_who who = {0};
    struct mni_query_owned q = {0};
    int per_memory = 0;
    int rc = mni_query_begin(db, actor, "list", filter, &who, &q, &per_memory);
    if (rc == MN_OK && delete_mode && !(*delete_mode & MN_DELETE_ALL_MATCHING) &&
        !mni_query_has_condition(&q))
        rc = mni_seterr(db, MN_EINVAL, "the filter has no condition, so every memory would be "
                       "deleted; give a condition, or add MN_DELETE_ALL_MATCHING to the mode "
                       "if that is meant");
    /* A soft delete of what is deleted already would fail the batch: it is not matched. */
    if (delete_mode && (*delete_mode & ~MN_DELETE_ALL_MATCHING) == MN_DELETE_SOFT)
        q.q.flags &= ~(unsigned)MN_WITH_DELETED;
    if (rc == MN_OK && !delete_mode && !per_memory && !q.q.metadata)
        rc = db->store->ops->memory_count(db->store, who.tenant->id, &q.q, &k->n);
    else if (rc == MN_OK)
        rc = walk(db, &who, &q.q, per_memory, k);
    mni_query_release(&q);
    mni_who_release(&who);
    return rc;
}

static int check_mode(mn_db *db, int mode)
{
    int base = mode & ~MN_DELETE_ALL_MATCHING;
    return base == MN_DELETE_SOFT || base == MN_DELETE_HARD ? MN_OK
           : mni_seterr(db, MN_EINVAL, "delete mode %d is unknown; use MN_DELETE_SOFT or "
                       "MN_DELETE_HARD, with MN_DELETE_ALL_MATCHING or'ed in for a filter "
                       "without condition", mode);
}

static int memory_count(mn_db *db, const mn_actor *actor, const mn_filter *filter,
                        size_t *count)
{
    if (!db)
        return mni_err_no_db("mn_memory_count");
    int rc = mni_require(db, count, "count");
    struct matches k = {0};
    if (rc == MN_OK)
        rc = matching(db, actor, filter, NULL, &k);
    if (rc == MN_OK)
        *count = k.n;
    return rc;
}

int mn_memory_count(mn_db *db, const mn_actor *actor, const mn_filter *filter, size_t *count)
{
    MNI_TIMED(db, memory_list, memory_count(db, actor, filter, count));
}

/* Newest first: created_at, then id, descending. */
static int newest_first(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? 1 : -1;
    return -strcmp(x->id, y->id);
}

/* Deletes the matches past the newest *keep (keep NULL: every match), all or none. */
static int delete_matching(mn_db *db, const mn_actor *actor, const mn_filter *filter,
                           const size_t *keep, int mode, size_t *deleted)
{
    if (!db)
        return mni_err_no_db(keep ? "mn_memory_trim" : "mn_memory_delete_where");
    struct matches k = { .keep = 1 };
    int rc = check_mode(db, mode);
    if (rc == MN_OK)
        rc = matching(db, actor, filter, &mode, &k);
    size_t first = 0, n = 0;
    const char **ids = NULL;
    if (rc == MN_OK && keep) {
        qsort(k.m, k.n, sizeof *k.m, newest_first);
        first = *keep < k.n ? *keep : k.n;
    }
    n = rc == MN_OK ? k.n - first : 0;
    if (n && !(ids = malloc(n * sizeof *ids)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory deleting %zu memories", n);
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        ids[i] = k.m[first + i].id;
    if (rc == MN_OK)
        rc = mni_memory_delete_ids(db, actor, ids, n, mode & ~MN_DELETE_ALL_MATCHING);
    if (deleted)
        *deleted = rc == MN_OK ? n : 0;
    free(ids);
    free(k.m);
    return rc;
}

int mn_memory_delete_where(mn_db *db, const mn_actor *actor, const mn_filter *filter, int mode,
                           size_t *deleted)
{
    MNI_TIMED(db, memory_delete, delete_matching(db, actor, filter, NULL, mode, deleted));
}

int mn_memory_trim(mn_db *db, const mn_actor *actor, const mn_filter *filter, size_t keep,
                   int mode, size_t *deleted)
{
    MNI_TIMED(db, memory_delete, delete_matching(db, actor, filter, &keep, mode, deleted));
}
