/* Memories: reading them. Adding is in memory_put.c, changes in memory_change.c, search in
 * search.c. */
#include "api/cache.h"
#include "api/abi_structs.h"
#include "api/metrics.h"
#include "api/access.h"
#include "api/actor.h"
#include "api/filter.h"
#include "api/pager.h"
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

/* A list's rows for the pager (api/pager.h): newest first, before the cursor (an id). */
struct list_src {
    mn_db *db;
    const struct mni_who *who;
    struct mni_store_query *q;
    int per_memory;
    char cursor[MNI_UUID_LEN + 1]; /* "" before the first row */
};

static int list_read(void *src, size_t want, void ***items, size_t *n, int *more)
{
    struct list_src *ls = src;
    ls->q->limit = (int)want;
    ls->q->before_id = ls->cursor[0] ? ls->cursor : NULL;
    mn_memories *l = NULL;
    int rc = ls->db->store->ops->memory_list(ls->db->store, ls->who->tenant->id, ls->q, &l);
    if (rc != MN_OK)
        return rc;
    *more = l->next_cursor != NULL;
    if (*more)
        memcpy(ls->cursor, l->next_cursor, sizeof ls->cursor);
    *items = (void **)l->items;
    *n = l->count;
    l->items = NULL;
    l->count = 0;
    mn_memories_free(l);
    return MN_OK;
}

static size_t list_filter(void *src, void **items, size_t n)
{
    struct list_src *ls = src;
    mn_memories l = { n, (mn_memory **)items, NULL };
    if (ls->per_memory)
        mni_access_filter_list(ls->db, ls->who, &l);
    return l.count;
}

static int list_resume_after(void *src, const void *item)
{
    struct list_src *ls = src;
    memcpy(ls->cursor, ((const mn_memory *)item)->id, sizeof ls->cursor);
    return MN_OK;
}

static void list_free_item(void *item)
{
    mn_memory_free(item);
}

static const struct mni_pager list_pager = {
    list_read, list_filter, list_resume_after, NULL, list_free_item, MNI_LIST_MAX
};

/* A page of q->limit memories who may read, newest first, from before the cursor (NULL: the
 * newest); its next_cursor goes on from the last row read. */
static int fill_page(mn_db *db, const struct mni_who *who, struct mni_store_query *q,
                     int per_memory, const char *cursor, mn_memories **out)
{
    struct list_src ls = { db, who, q, per_memory, "" };
    if (cursor)
        memcpy(ls.cursor, cursor, sizeof ls.cursor);
    void **items = NULL;
    size_t n = 0;
    int more = 0;
    int rc = mni_page_fill(db, &list_pager, &ls, (size_t)q->limit, &items, &n, &more);
    if (rc == MN_OK && !more)
        ls.cursor[0] = '\0';
    mn_memories *page = rc == MN_OK ? calloc(1, sizeof *page) : NULL;
    if (page && ls.cursor[0] && !(page->next_cursor = strdup(ls.cursor))) {
        free(page);
        page = NULL;
    }
    if (rc == MN_OK && !page) {
        for (size_t i = 0; i < n; i++)
            mn_memory_free(items[i]);
        free(items);
        rc = mni_seterr(db, MN_ENOMEM, "out of memory listing memories");
    } else if (page) {
        page->items = (mn_memory **)items;
        page->count = n;
    }
    *out = page;
    return rc;
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
        q.q.limit = opt->limit ? opt->limit : MNI_LIST_DEFAULT;
        rc = fill_page(db, &who, &q.q, per_memory, opt->cursor ? cursor : NULL, out);
    }
    mni_query_release(&q);
    mni_who_release(&who);
    return rc;
}

int mn_memory_list(mn_db *db, const mn_actor *actor, const mn_list_options *options,
                   mn_memories **out)
{
    MNI_TIMED(db, memory_list, memory_list(db, actor, options, out));
}
