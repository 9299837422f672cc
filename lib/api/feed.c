/* The public change feed (mn_feed_read): the store's feed that the vector index follows
 * (store memory_changes: each memory as its last change left it, the tombstones of purged
 * ones), read past a seq a page at a time, filtered by the actor's policies as a list is
 * (api/pager.h fills the page past what they hide). */
#include "api/abi_structs.h"
#include "api/access.h"
#include "api/actor.h"
#include "api/handle.h"
#include "api/pager.h"
#include "core/error.h"
#include "store/list.h"
#include "store/store.h"
#include "store/vault.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MNI_FEED_DEFAULT 100
#define MNI_FEED_MAX 1000

/* An entry and what only the policy check needs of its memory. */
struct feed_item {
    mn_feed_entry e;    /* first: the page hands out &item->e, and frees the item through it */
    int64_t key;        /* with e.seq, the store's cursor */
    char *metadata;     /* as stored, for the policy check (then dropped); NULL when purged */
    double importance;
};

static void item_free(void *p)
{
    struct feed_item *it = p;
    if (!it)
        return;
    free(it->e.memory_id);
    free(it->e.identity_id);
    free(it->e.type);
    free(it->e.session);
    free(it->metadata);
    free(it);
}

/* The feed for the pager: changes after (after_seq, after_key) up to upto, of owner's
 * memories (NULL: all). */
struct feed_src {
    mn_db *db;
    const struct mni_who *who;
    const char *owner;
    int per_memory;
    int64_t after_seq, after_key, upto;
    /* the batch being read */
    void **v;
    size_t n, cap, rows;
    int err;
};

static int kind_of(const struct mni_change *c)
{
    return c->gone ? MN_FEED_PURGED : c->deleted ? MN_FEED_DELETED
         : c->restored ? MN_FEED_RESTORED : c->version == 1 ? MN_FEED_CREATED : MN_FEED_UPDATED;
}

static char *dup_or_null(const char *s, int *oom)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *oom = 1;
    return d;
}

/* One row of the store's feed; nonzero stops the read (out of memory). */
static int collect(void *ctx, const struct mni_change *c)
{
    struct feed_src *f = ctx;
    f->rows++;
    f->after_seq = c->seq;
    f->after_key = c->key;
    if (!c->id)
        return 0; /* a tombstone from before the public feed: no consumer saw its memory */
    struct feed_item *it = calloc(1, sizeof *it);
    int oom = !it || mni_grow((void **)&f->v, &f->cap, f->n, sizeof *f->v) != MN_OK;
    if (!oom) {
        it->e.memory_id = dup_or_null(c->id, &oom);
        it->e.identity_id = dup_or_null(c->identity_id, &oom);
        it->e.type = dup_or_null(c->type, &oom);
        it->e.session = dup_or_null(c->session, &oom);
        it->e.kind = kind_of(c);
        it->e.version = c->version;
        it->e.seq = c->seq;
        it->e.expires_at = c->gone ? 0 : c->expires_at;
        it->key = c->key;
        it->importance = c->importance;
        if (f->per_memory && !c->gone)
            it->metadata = dup_or_null(c->metadata, &oom);
    }
    if (oom) {
        item_free(it);
        f->err = MN_ENOMEM;
        return 1;
    }
    f->v[f->n++] = it;
    return 0;
}

static int read_changes(struct feed_src *f, int64_t upto, size_t limit)
{
    int rc = f->db->store->ops->memory_changes(f->db->store, f->who->tenant->id, f->owner,
                                              f->after_seq, f->after_key, upto, limit, collect,
                                              f);
    if (rc == MN_OK && f->err)
        rc = mni_seterr(f->db, f->err, "out of memory reading the change feed");
    return rc;
}

/* A batch ends between seqs: when want rows came, the rest of the last one's seq follows. */
static int feed_read(void *src, size_t want, void ***items, size_t *n, int *more)
{
    struct feed_src *f = src;
    f->v = NULL;
    f->n = f->cap = f->rows = 0;
    f->err = MN_OK;
    int rc = read_changes(f, f->upto, want);
    *more = rc == MN_OK && f->rows == want;
    if (*more)
        rc = read_changes(f, f->after_seq, 0);
    if (rc != MN_OK) {
        for (size_t i = 0; i < f->n; i++)
            item_free(f->v[i]);
        free(f->v);
        return rc;
    }
    *items = f->v;
    *n = f->n;
    return MN_OK;
}

/* Whether who may see the entry's memory, as a list would: a purged memory is judged by what
 * its tombstone keeps (no metadata). A stored value that does not open hides the entry. */
static int feed_shows(struct feed_src *f, struct feed_item *it)
{
    struct mni_store *s = f->db->store;
    if (it->metadata && s->vault &&
        mni_vault_open_in_place(s, f->who->tenant->id, it->e.memory_id, "metadata",
                                &it->metadata) != MN_OK)
        return 0;
    char none[] = "{}";
    mn_memory m = { 0 };
    m.id = it->e.memory_id;
    m.identity_id = it->e.identity_id;
    m.type = it->e.type;
    m.metadata = it->metadata ? it->metadata : none;
    m.importance = it->importance;
    return mni_access_shows(f->db, f->who, &m);
}

static size_t feed_filter(void *src, void **items, size_t n)
{
    struct feed_src *f = src;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        struct feed_item *it = items[i];
        if (f->per_memory && !feed_shows(f, it)) {
            item_free(it);
            continue;
        }
        free(it->metadata);
        it->metadata = NULL;
        items[kept++] = it;
    }
    return kept;
}

static int feed_resume_after(void *src, const void *item)
{
    struct feed_src *f = src;
    const struct feed_item *it = item;
    f->after_seq = it->e.seq;
    f->after_key = it->key;
    return MN_OK;
}

static int same_seq(const void *prev, const void *next)
{
    return ((const struct feed_item *)prev)->e.seq == ((const struct feed_item *)next)->e.seq;
}

static const struct mni_pager feed_pager = {
    feed_read, feed_filter, feed_resume_after, same_seq, item_free, MNI_FEED_MAX
};

/* MN_ERANGE when tombstones after after_seq were pruned: the consumer has missed purges. */
static int check_horizon(mn_db *db, const char *tenant_id, int64_t after_seq)
{
    int64_t horizon = 0;
    struct mni_store *s = db->store;
    int rc = after_seq > 0 && s->ops->feed_horizon ? s->ops->feed_horizon(s, tenant_id, &horizon)
                                                   : MN_OK;
    if (rc == MN_OK && after_seq < horizon)
        rc = mni_seterr(db, MN_ERANGE, "the change feed no longer holds every change after seq "
                        "%" PRId64 ": the records of purged memories up to seq %" PRId64 " were "
                        "pruned (maintenance, MN_MAINT_FEED); resync: read from after_seq 0 (or "
                        "list everything) and follow on from the next_seq that gives",
                        after_seq, horizon);
    return rc;
}

static int check_query(mn_db *db, const mn_feed_query *q)
{
    if (q->limit < 0 || q->limit > MNI_FEED_MAX)
        return mni_seterr(db, MN_EINVAL, "limit is %d; give 1..%d (0 = %d)", q->limit,
                          MNI_FEED_MAX, MNI_FEED_DEFAULT);
    if (q->flags & ~(unsigned)MN_ALL_READABLE)
        return mni_seterr(db, MN_EINVAL, "flags have unknown bits 0x%x; use MN_ALL_READABLE or 0",
                          q->flags & ~(unsigned)MN_ALL_READABLE);
    if (q->after_seq < 0)
        return mni_seterr(db, MN_EINVAL, "after_seq is %" PRId64 "; give 0 for the start, or a "
                          "page's next_seq", q->after_seq);
    return MN_OK;
}

static int page_of(mn_db *db, void **items, size_t n, int more, int64_t next_seq,
                   mn_feed_page **out)
{
    mn_feed_page *p = calloc(1, sizeof *p);
    if (!p) {
        for (size_t i = 0; i < n; i++)
            item_free(items[i]);
        free(items);
        return mni_seterr(db, MN_ENOMEM, "out of memory reading the change feed");
    }
    p->items = (mn_feed_entry **)items;
    p->count = n;
    p->more = more;
    p->next_seq = next_seq;
    *out = p;
    return MN_OK;
}

int mn_feed_read(mn_db *db, const mn_actor *actor, const mn_feed_query *query,
                 mn_feed_page **out)
{
    if (!db)
        return mni_err_no_db("mn_feed_read");
    mn_feed_query q = { 0 };
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        *out = NULL;
    if (rc == MN_OK)
        rc = mni_abi_read(db, &mni_abi_feed_query, query, 1, &q, sizeof q);
    if (rc == MN_OK)
        rc = check_query(db, &q);
    struct mni_who who = { 0 };
    struct feed_src f = { db, &who, NULL, 0, q.after_seq, INT64_MAX, 0, NULL, 0, 0, 0, 0 };
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_access_begin(db, &who, "list", &f.per_memory);
    /* An identity follows its own memories unless it asks for all it may read: the owner is
     * then part of the store's query, so pages fill from them alone. */
    if (rc == MN_OK && who.identity && !(q.flags & MN_ALL_READABLE))
        f.owner = who.identity->id;
    if (rc == MN_OK)
        rc = db->store->ops->seq_get(db->store, &f.upto);
    if (rc == MN_OK && q.after_seq > f.upto)
        rc = mni_seterr(db, MN_EINVAL, "after_seq %" PRId64 " is past the store's last change "
                        "(seq %" PRId64 "); give a next_seq this database returned, or 0",
                        q.after_seq, f.upto);
    void **items = NULL;
    size_t n = 0;
    int more = 0;
    if (rc == MN_OK)
        rc = mni_page_fill(db, &feed_pager, &f, q.limit ? (size_t)q.limit : MNI_FEED_DEFAULT,
                           &items, &n, &more);
    /* After the read: a prune that ran before or during it shows in the horizon now. */
    if (rc == MN_OK && (rc = check_horizon(db, who.tenant->id, q.after_seq)) != MN_OK) {
        for (size_t i = 0; i < n; i++)
            item_free(items[i]);
        free(items);
    }
    if (rc == MN_OK)
        rc = page_of(db, items, n, more, more ? f.after_seq : f.upto, out);
    mni_who_release(&who);
    return rc;
}

const char *mn_feed_kind_name(int kind)
{
    static const char *const names[] = {
        [MN_FEED_CREATED] = "created", [MN_FEED_UPDATED] = "updated",
        [MN_FEED_DELETED] = "deleted", [MN_FEED_RESTORED] = "restored",
        [MN_FEED_PURGED] = "purged",
    };
    return kind > 0 && kind < (int)(sizeof names / sizeof *names) ? names[kind] : NULL;
}

void mn_feed_page_free(mn_feed_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->count; i++)
        item_free(p->items[i]);
    free(p->items);
    free(p);
}
