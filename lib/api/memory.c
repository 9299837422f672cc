/* Memories: adding and reading them. Changes are in memory_change.c, search in search.c. */
#include "api/cache.h"
#include "api/audit.h"
#include "api/abi_structs.h"
#include "api/metrics.h"
#include "api/access.h"
#include "api/actor.h"
#include "api/embed.h"
#include "api/filter.h"
#include "api/validate.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "core/uuid.h"
#include "api/embed_cache.h"
#include "jobs/jobs.h"
#include "api/limiter.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MNI_TYPE_MAX 64
#define MNI_LIST_DEFAULT 50
#define MNI_LIST_MAX 1000

/* What an add keeps while it prepares rows: the strings it made for them. */
struct pending {
    mn_memory_input *in;       /* the library's copies of the caller's inputs */
    struct mni_memory_row *rows;
    char (*ids)[MNI_UUID_LEN + 1];
    char **owners, **metadata;
    float *vectors;
    size_t n;
};

static void pending_free(struct pending *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->owners ? p->owners[i] : NULL);
        free(p->metadata ? p->metadata[i] : NULL);
    }
    free(p->in);
    free(p->rows);
    free(p->ids);
    free(p->owners);
    free(p->metadata);
    free(p->vectors);
}

/* Checks one input and fills its row, except the embedding of text the embedder must do. */
static int prepare_row(mn_db *db, const struct mni_who *who, const mn_memory_input *in,
                       struct pending *p, size_t i, int64_t now)
{
    struct mni_memory_row *r = &p->rows[i];
    int rc = mni_check_text(db, "text", in->text, db->cfg.max_text_bytes);
    if (rc == MN_OK && in->type)
        rc = mni_check_name(db, "type", in->type, MNI_TYPE_MAX);
    if (rc == MN_OK && in->importance != MN_IMPORTANCE_DEFAULT)
        rc = mni_check_importance(db, "importance", in->importance);
    if (rc == MN_OK && in->ttl_days < 0)
        rc = mni_seterr(db, MN_EINVAL, "ttl_days is %d; give a number of days >= 1, or 0 for "
                       "no expiry", in->ttl_days);
    if (rc == MN_OK)
        rc = mni_check_json_object(db, "metadata", in->metadata, NULL, &p->metadata[i]);
    if (rc == MN_OK && in->embedding)
        rc = mni_check_vector(db, "embedding", in->embedding, in->dim,
                             p->vectors + i * (size_t)db->dim);
    if (rc == MN_OK && !in->embedding && in->dim)
        rc = mni_seterr(db, MN_EINVAL, "dim is %d but embedding is NULL", in->dim);
    if (rc == MN_OK && !in->embedding)
        rc = mni_embed_check(db, "a memory without an embedding");
    /* An import names the same owner line after line: look it up once per run. */
    if (rc == MN_OK && i > 0 && in->identity && in[-1].identity &&
        strcmp(in->identity, in[-1].identity) == 0)
        rc = (p->owners[i] = strdup(p->owners[i - 1])) ? MN_OK
             : mni_seterr(db, MN_ENOMEM, "out of memory");
    else if (rc == MN_OK)
        rc = mni_who_owner(db, who, in->identity, &p->owners[i]);
    if (rc != MN_OK)
        return rc;
    mni_uuid7(p->ids[i]);
    r->id = p->ids[i];
    r->identity_id = p->owners[i];
    r->text = in->text;
    r->type = in->type ? in->type : "fact";
    r->metadata = p->metadata[i];
    r->importance = in->importance == MN_IMPORTANCE_DEFAULT ? 0.5 : in->importance;
    r->version = 1;
    r->created_at = r->updated_at = now;
    r->expires_at = in->ttl_days > 0 ? now + in->ttl_days * MNI_MS_PER_DAY : 0;
    r->embedding = p->vectors + i * (size_t)db->dim;
    /* Asynchronous embedding: a text without a vector goes with its job. */
    if (db->cfg.embed_async && !in->embedding) {
        r->embedding = NULL;
        r->embed_job = 1;
    }
    return MN_OK;
}

/* Embeds, in one call, the texts of every input that brought no vector of its own (none
 * with asynchronous embedding: their jobs will). scope: the tenant, for the cache. A text
 * without a direction (an all-zero vector) fails the call: *failed is its input. */
static int embed_missing(mn_db *db, const char *scope, struct pending *p, size_t *failed)
{
    const mn_memory_input *in = p->in;
    size_t unembedded = 0;
    for (size_t i = 0; i < p->n; i++)
        unembedded += !in[i].embedding;
    if (!unembedded || db->cfg.embed_async)
        return MN_OK;
    const char **texts = malloc(unembedded * sizeof *texts);
    float *out = texts ? malloc(unembedded * (size_t)db->dim * sizeof *out) : NULL;
    int rc = out ? MN_OK
             : mni_seterr(db, MN_ENOMEM, "out of memory embedding %zu texts", unembedded);
    if (rc == MN_OK) {
        for (size_t i = 0, j = 0; i < p->n; i++)
            if (!in[i].embedding)
                texts[j++] = in[i].text;
        size_t zero;
        rc = mni_embed_texts(db, scope, texts, unembedded, out, &zero);
        for (size_t i = 0, j = 0; rc != MN_OK && zero < unembedded && i < p->n; i++)
            if (!in[i].embedding && j++ == zero)
                *failed = i;
    }
    for (size_t i = 0, j = 0; rc == MN_OK && i < p->n; i++)
        if (!in[i].embedding)
            memcpy(p->vectors + i * (size_t)db->dim, out + j++ * (size_t)db->dim,
                   (size_t)db->dim * sizeof *out);
    free(texts);
    free(out);
    return rc;
}

/* Whether two new memories look the same to a policy (owner, type, metadata, importance): a
 * batch decides once for a run of them. */
static int alike(const struct mni_memory_row *a, const struct mni_memory_row *b)
{
    return a->importance == b->importance && strcmp(a->identity_id, b->identity_id) == 0 &&
           strcmp(a->type, b->type) == 0 && strcmp(a->metadata, b->metadata) == 0;
}

/* May who create this memory? Its owner, type, metadata and importance are what policies look
 * at; not its id, which nobody knew before: so memories alike share one cached decision. */
static int check_create(mn_db *db, struct mni_who *who, const struct mni_memory_row *r)
{
    cJSON *data = mni_access_memory_json(NULL, r->identity_id, r->type, r->metadata,
                                        r->importance);
    int rc = data ? mni_access_check(db, who, "create", "memory", data)
                  : mni_seterr(db, MN_ENOMEM, "out of memory");
    cJSON_Delete(data);
    return rc;
}

/* Copies the caller's n inputs, resolves the actor into *who (the caller releases it), then
 * checks, embeds and stores the inputs in one transaction. */
static int add_rows(mn_db *db, const mn_actor *actor, const mn_memory_input *in, size_t n,
                    int batch, struct pending *p, size_t *failed, struct mni_who *who)
{
    p->n = n;
    p->in = malloc(n * sizeof *p->in);
    int rc = p->in ? mni_abi_read_array(db, &mni_abi_memory_input, in, n, p->in,
                                        sizeof *p->in, failed)
                   : mni_seterr(db, MN_ENOMEM, "out of memory reading %zu memories", n);
    if (rc != MN_OK && batch && *failed != (size_t)-1)
        mni_errprefix(db, "memory %zu: ", *failed);
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, who);
    p->rows = calloc(n, sizeof *p->rows);
    p->ids = calloc(n, sizeof *p->ids);
    p->owners = calloc(n, sizeof *p->owners);
    p->metadata = calloc(n, sizeof *p->metadata);
    p->vectors = malloc(n * (size_t)db->dim * sizeof *p->vectors);
    if (rc == MN_OK && (!p->rows || !p->ids || !p->owners || !p->metadata || !p->vectors))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory preparing %zu memories", n);
    int64_t now = mni_now_ms();
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        rc = prepare_row(db, who, &p->in[i], p, i, now);
        if (rc == MN_OK && who->identity && !(i > 0 && alike(&p->rows[i], &p->rows[i - 1])))
            rc = check_create(db, who, &p->rows[i]);
        if (rc != MN_OK) {
            *failed = i;
            /* Only a failure pays for naming the input. */
            if (batch)
                mni_errprefix(db, "memory %zu: ", i);
        }
    }
    /* Rate limit: counted once the batch is known good and allowed; a batch of n counts n. */
    if (rc == MN_OK)
        rc = mni_ratelimit_enforce(db, who, "memory:create", (int64_t)n);
    if (rc == MN_OK && (rc = embed_missing(db, who->tenant->id, p, failed)) != MN_OK &&
        batch && *failed < n)
        mni_errprefix(db, "memory %zu: ", *failed);
    const char **ids = rc == MN_OK ? malloc(n * sizeof *ids) : NULL;
    if (rc == MN_OK && !ids)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory preparing %zu memories", n);
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        ids[i] = p->ids[i];
    struct mni_audit_call au;
    if (rc == MN_OK && (rc = mni_audit_call(db, who, "memory:create", ids, n, &au)) == MN_OK)
        rc = db->store->ops->memory_insert(db->store, who->tenant->id, p->rows, n, &au.au);
    if (ids)
        mni_audit_call_release(&au);
    free(ids);
    if (rc == MN_OK)
        mni_metrics_add(db->metrics, MNI_S_MEMORIES_CREATED, (int64_t)n);
    if (rc == MN_OK && db->cfg.embed_async)
        mni_jobs_wake(db->jobs);
    return rc;
}

static int get_by_id(mn_db *db, const char *tenant_id, const char *id, unsigned flags,
                     mn_memory **out)
{
    struct mni_store_query q = { .flags = flags, .now = mni_now_ms() };
    return db->store->ops->memory_get(db->store, tenant_id, id, &q, out);
}

static int memory_add(mn_db *db, const mn_actor *actor, const mn_memory_input *in, mn_memory **out)
{
    if (!db)
        return mni_err_no_db("mn_memory_add");
    struct pending p = {0};
    struct mni_who who = {0};
    size_t failed;
    int rc = add_rows(db, actor, in, 1, 0, &p, &failed, &who);
    if (rc == MN_OK && out)
        rc = get_by_id(db, who.tenant->id, p.ids[0], MN_WITH_EXPIRED, out);
    mni_who_release(&who);
    pending_free(&p);
    return rc;
}

int mn_memory_add(mn_db *db, const mn_actor *actor, const mn_memory_input *in, mn_memory **out)
{
    MNI_TIMED(db, memory_add, memory_add(db, actor, in, out));
}

static int memory_add_many(mn_db *db, const mn_actor *actor, const mn_memory_input *in, size_t n,
                           char ***ids, size_t *failed_index)
{
    if (!db)
        return mni_err_no_db("mn_memory_add_many");
    if (ids)
        *ids = NULL;
    size_t failed = (size_t)-1;
    int rc = n ? mni_require(db, in, "the memory inputs") : MN_OK;
    if (rc != MN_OK || n == 0)
        return rc;
    struct pending p = {0};
    struct mni_who who = {0};
    rc = add_rows(db, actor, in, n, 1, &p, &failed, &who);
    mni_who_release(&who);
    if (failed_index)
        *failed_index = failed;
    if (rc == MN_OK && ids) {
        char **copy = calloc(n, sizeof *copy);
        for (size_t i = 0; copy && i < n; i++)
            if (!(copy[i] = strdup(p.ids[i]))) {
                mn_strings_free(copy, i);
                copy = NULL;
            }
        /* The memories are stored; only the copy of their ids failed. */
        if (!copy)
            rc = mni_seterr(db, MN_ENOMEM, "the %zu memories were added but their ids could not "
                           "be returned (out of memory)", n);
        *ids = copy;
    }
    pending_free(&p);
    return rc;
}

int mn_memory_add_many(mn_db *db, const mn_actor *actor, const mn_memory_input *in, size_t n,
                       char ***ids, size_t *failed_index)
{
    MNI_TIMED(db, memory_add_many, memory_add_many(db, actor, in, n, ids, failed_index));
}

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
