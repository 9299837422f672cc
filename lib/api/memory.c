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

/* Moves what batch holds into page, up to limit, and frees the rest and batch; *took_all says
 * whether every memory of batch went in. */
static void take_batch(mn_memories *page, size_t limit, mn_memories *batch, int *took_all)
{
    *took_all = 1;
    for (size_t i = 0; i < batch->count; i++) {
        if (page->count < limit) {
            page->items[page->count++] = batch->items[i];
        } else {
            mn_memory_free(batch->items[i]);
            *took_all = 0;
        }
    }
    batch->count = 0;
    mn_memories_free(batch);
}

/* A page of q->limit memories who may read, newest first. Policies may hide memories one by
 * one: rows are read on past the hidden ones, in batches growing from the page's size, until
 * the page is full, the rows end, or MN_LIST_READ_MAX hidden rows have been read (then the
 * page is shorter, and its cursor goes on from the last row read). */
static int fill_page(mn_db *db, const struct mni_who *who, struct mni_store_query *q,
                     int per_memory, mn_memories **out)
{
    size_t limit = (size_t)q->limit, hidden = 0;
    mn_memories *page = calloc(1, sizeof *page);
    if (!page || !(page->items = calloc(limit, sizeof *page->items))) {
        mn_memories_free(page);
        return mni_seterr(db, MN_ENOMEM, "out of memory listing memories");
    }
    char after[MNI_UUID_LEN + 1];
    int rc = MN_OK, batch_size = q->limit;
    for (;;) {
        mn_memories *batch = NULL;
        q->limit = batch_size;
        rc = db->store->ops->memory_list(db->store, who->tenant->id, q, &batch);
        if (rc != MN_OK)
            break;
        size_t read = batch->count;
        if (per_memory)
            mni_access_filter_list(db, who, batch);
        hidden += read - batch->count;
        char *next = batch->next_cursor;
        batch->next_cursor = NULL;
        int took_all;
        take_batch(page, limit, batch, &took_all);
        /* Past a batch taken in part, the page goes on after its own last memory. */
        if (!took_all) {
            free(next);
            next = strdup(page->items[limit - 1]->id);
            rc = next ? MN_OK : MN_ENOMEM;
        }
        if (rc != MN_OK || !next || page->count == limit || hidden >= MN_LIST_READ_MAX) {
            page->next_cursor = next;
            break;
        }
        memcpy(after, next, sizeof after);
        free(next);
        q->before_id = after;
        batch_size = batch_size * 2 < MNI_LIST_MAX ? batch_size * 2 : MNI_LIST_MAX;
    }
    if (rc == MN_ENOMEM)
        mni_seterr(db, rc, "out of memory listing memories");
    if (rc != MN_OK) {
        mn_memories_free(page);
        page = NULL;
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
        q.q.before_id = opt->cursor ? cursor : NULL;
        q.q.limit = opt->limit ? opt->limit : MNI_LIST_DEFAULT;
        rc = fill_page(db, &who, &q.q, per_memory, out);
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
