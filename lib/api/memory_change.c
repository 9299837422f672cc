/* Memories: updating, deleting, restoring, purging, and the history of changes. */
#include "api/audit.h"
#include "api/abi_structs.h"
#include "api/metrics.h"
#include "api/access.h"
#include "api/actor.h"
#include "api/memory.h"
#include "api/embed.h"
#include "api/embed_cache.h"
#include "api/validate.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/error.h"
#include "api/handle.h"
#include "jobs/jobs.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often an update re-reads and retries when other writers keep changing the memory.
 * Updates of one memory through one handle take turns (update_turn), so they do not collide
 * among themselves: only writers elsewhere (another handle or process) make an update retry. */
#define MNI_UPDATE_ATTEMPTS 32

/* The lock an update of memory id takes for its read and write. Without it, updaters of one
 * memory read the same version, one wins, and the others, re-reading behind the handle's
 * queued writers (store/sqlite/writer.c), could lose round after round until they ran out of
 * attempts. */
static pthread_mutex_t *update_turn(mn_db *db, const char *id)
{
    return &db->update_turns[mni_hash64(id, strlen(id), 0) & (MNI_UPDATE_TURNS - 1)];
}

char *mni_memory_snapshot(const char *text, const char *type, const char *metadata,
                          double importance)
{
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    if (o && cJSON_AddStringToObject(o, "text", text) && cJSON_AddStringToObject(o, "type", type)) {
        /* As stored, checked when written: a re-print would respell its numbers. */
        cJSON *meta = cJSON_CreateRaw(metadata);
        if (meta && cJSON_AddItemToObject(o, "metadata", meta) &&
            cJSON_AddNumberToObject(o, "importance", importance))
            out = cJSON_PrintUnformatted(o);
        else if (meta && !cJSON_GetObjectItemCaseSensitive(o, "metadata"))
            cJSON_Delete(meta);
    }
    cJSON_Delete(o);
    return out;
}

#define MNI_MEMORY_SET_ALL (MN_MEMORY_SET_TEXT | MN_MEMORY_SET_TYPE | MN_MEMORY_SET_METADATA | \
                            MN_MEMORY_SET_IMPORTANCE | MN_MEMORY_SET_EMBEDDING)

/* The fields of c that set names, checked; a field it does not name is NULL (or 0) after. */
static int check_changes(mn_db *db, mn_memory_changes *c, char **metadata)
{
    if (c->set & ~(unsigned)MNI_MEMORY_SET_ALL)
        return mni_seterr(db, MN_EINVAL, "mn_memory_changes.set has unknown bits 0x%x; use "
                         "MN_MEMORY_SET_* (a memory's owner and ttl_days never change: add a "
                         "new memory instead)", c->set & ~(unsigned)MNI_MEMORY_SET_ALL);
    if (!c->set)
        return mni_seterr(db, MN_EINVAL, "the update changes nothing; name the fields to change "
                         "in mn_memory_changes.set (MN_MEMORY_SET_TEXT, ...)");
    static const struct { unsigned bit; const char *name; } needed[] = {
        { MN_MEMORY_SET_TEXT, "text" }, { MN_MEMORY_SET_TYPE, "type" },
        { MN_MEMORY_SET_METADATA, "metadata" }, { MN_MEMORY_SET_EMBEDDING, "embedding" } };
    const void *given[] = { c->text, c->type, c->metadata, c->embedding };
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if ((c->set & needed[i].bit) && !given[i])
            return mni_seterr(db, MN_EINVAL, "mn_memory_changes.set names %s but %s is NULL; "
                             "give its new value", needed[i].name, needed[i].name);
    /* Only what set names counts: the other fields are cleared, so that nothing below reads
     * them. */
    if (!(c->set & MN_MEMORY_SET_TEXT))
        c->text = NULL;
    if (!(c->set & MN_MEMORY_SET_TYPE))
        c->type = NULL;
    if (!(c->set & MN_MEMORY_SET_METADATA))
        c->metadata = NULL;
    if (!(c->set & MN_MEMORY_SET_EMBEDDING)) {
        c->embedding = NULL;
        c->dim = 0;
    }
    int rc = c->text ? mni_check_text(db, "text", c->text, db->cfg.max_text_bytes) : MN_OK;
    if (rc == MN_OK && c->type)
        rc = mni_check_name(db, "type", c->type, 64);
    if (rc == MN_OK && (c->set & MN_MEMORY_SET_IMPORTANCE))
        rc = mni_check_importance(db, "importance", c->importance);
    if (rc == MN_OK && c->metadata)
        rc = mni_check_json_object(db, "metadata", c->metadata, NULL, metadata);
    return rc;
}

int mni_memory_may_become(mn_db *db, struct mni_who *who, const struct mni_memory_row *row,
                          int want_read)
{
    if (!who->identity)
        return MN_OK;
    cJSON *next = mni_access_memory_json(row->id, row->identity_id, row->type, row->metadata,
                                        row->importance);
    int rc = next ? mni_access_check(db, who, "update", "memory", next)
                  : mni_seterr(db, MN_ENOMEM, "out of memory");
    if (rc == MN_OK && want_read)
        rc = mni_access_check(db, who, "read", "memory", next);
    cJSON_Delete(next);
    return rc;
}

/* One attempt: reads the memory, writes its next version if nobody wrote one meanwhile. */
/* want_out: the caller asks for the updated memory back, which it must then be able to read. */
/* embed_job: the new text's vector is left to a job (asynchronous embedding). */
static int update_once(mn_db *db, struct mni_who *who, const char *id,
                       const mn_memory_changes *c, const char *metadata, const float *vec,
                       int embed_job, int want_out)
{
    mn_memory *cur;
    struct mni_store_query q = { .flags = MN_WITH_EMBEDDING, .now = mni_now_ms() };
    int rc = db->store->ops->memory_get(db->store, who->tenant->id, id, &q, &cur);
    if (rc == MN_OK && (rc = mni_access_memory_check(db, who, "update", cur)) != MN_OK)
        mn_memory_free(cur);
    if (rc != MN_OK)
        return rc;
    struct mni_memory_row row = {
        .id = cur->id, .identity_id = cur->identity_id,
        .text = c->text ? c->text : cur->text,
        .type = c->type ? c->type : cur->type,
        .metadata = metadata ? metadata : cur->metadata,
        .importance = c->set & MN_MEMORY_SET_IMPORTANCE ? c->importance : cur->importance,
        .version = cur->version + 1,
        .created_at = cur->created_at, .updated_at = q.now, .expires_at = cur->expires_at,
        .embedding = embed_job ? NULL : vec ? vec : cur->embedding,
        .embed_job = embed_job,
    };
    rc = mni_memory_may_become(db, who, &row, want_out);
    if (rc != MN_OK) {
        mn_memory_free(cur);
        return rc;
    }
    char *before = mni_memory_snapshot(cur->text, cur->type, cur->metadata, cur->importance);
    char *after = mni_memory_snapshot(row.text, row.type, row.metadata, row.importance);
    struct mni_audit_call au;
    if (!before || !after)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory recording the history of %s", id);
    else if ((rc = mni_audit_call(db, who, "memory:update", &id, 1, &au)) == MN_OK)
        rc = db->store->ops->memory_update(db->store, who->tenant->id, &row, cur->version,
                                           who->identity ? who->identity->id : NULL, before,
                                           after, &au.au);
    if (before && after)
        mni_audit_call_release(&au);
    free(before);
    free(after);
    mn_memory_free(cur);
    return rc;
}

static int memory_update(mn_db *db, const mn_actor *actor, const char *id,
                         const mn_memory_changes *in, mn_memory **out)
{
    if (!db)
        return mni_err_no_db("mn_memory_update");
    char *metadata = NULL;
    float *vec = NULL;
    struct mni_who who = {0};
    char key[MNI_UUID_LEN + 1];
    mn_memory_changes copy;
    const mn_memory_changes *changes = &copy;
    int rc = mni_check_memory_id(db, "the memory id", id, key);
    id = key;
    if (rc == MN_OK)
        rc = mni_abi_read(db, &mni_abi_memory_changes, in, 0, &copy, sizeof copy);
    if (rc == MN_OK)
        rc = check_changes(db, &copy, &metadata);
    if (rc == MN_OK && changes->text && !changes->embedding)
        rc = mni_embed_check(db, "a text update without an embedding");
    /* A new text needs a new vector, unless the caller brings one: made now, or by a job. */
    int embed_job = rc == MN_OK && changes->text && !changes->embedding && db->cfg.embed_async;
    if (rc == MN_OK && (changes->embedding || changes->text) && !embed_job &&
        !(vec = malloc((size_t)db->dim * sizeof *vec)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory updating %s", id);
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK && changes->embedding)
        rc = mni_check_vector(db, "embedding", changes->embedding, changes->dim, vec);
    else if (rc == MN_OK && changes->text && !embed_job)
        rc = mni_embed_texts(db, who.tenant->id, &changes->text, 1, vec, NULL);
    pthread_mutex_t *turn = rc == MN_OK ? update_turn(db, id) : NULL;
    if (turn)
        pthread_mutex_lock(turn);
    for (int i = 0; rc == MN_OK && i < MNI_UPDATE_ATTEMPTS; i++) {
        rc = update_once(db, &who, id, changes, metadata, vec, embed_job, out != NULL);
        if (rc != MNI_EBUSY_VERSION)
            break;
        rc = i + 1 < MNI_UPDATE_ATTEMPTS ? MN_OK
             : mni_seterr(db, MN_EBACKEND, "memory %s kept changing under %d update attempts; "
                         "retry later", id, MNI_UPDATE_ATTEMPTS);
    }
    if (turn)
        pthread_mutex_unlock(turn);
    if (rc == MN_OK && embed_job)
        mni_jobs_wake(db->jobs);
    if (rc == MN_OK && out) {
        struct mni_store_query q = { .flags = MN_WITH_EXPIRED, .now = mni_now_ms() };
        rc = db->store->ops->memory_get(db->store, who.tenant->id, id, &q, out);
    }
    mni_who_release(&who);
    free(metadata);
    free(vec);
    return rc;
}

int mn_memory_update(mn_db *db, const mn_actor *actor, const char *id,
                     const mn_memory_changes *in, mn_memory **out)
{
    MNI_TIMED(db, memory_update, memory_update(db, actor, id, in, out));
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids in canonical spelling, in *canon (one allocation; free it). Every id must be a UUID
 * and appear once: a repeated id would fail the second time round and roll the whole batch
 * back with a confusing message. */
static int canonical_ids(mn_db *db, const char *const *ids, size_t n, const char ***canon)
{
    const size_t key_size = MNI_UUID_LEN + 1;
    /* n pointers, n sorted pointers, then the n keys they point to. */
    char *block = malloc(n * (2 * sizeof(char *) + key_size));
    if (!block)
        return mni_seterr(db, MN_ENOMEM, "out of memory checking %zu ids", n);
    const char **out = (const char **)block, **sorted = out + n;
    char *keys = (char *)(sorted + n);
    int rc = MN_OK;
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        char what[40];
        snprintf(what, sizeof what, "id %zu", i);
        rc = mni_check_memory_id(db, what, ids[i], keys + i * key_size);
        out[i] = sorted[i] = keys + i * key_size;
    }
    if (rc == MN_OK)
        qsort(sorted, n, sizeof *sorted, compare_strings);
    for (size_t i = 1; rc == MN_OK && i < n; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            rc = mni_seterr(db, MN_EINVAL, "memory id %s is given more than once", sorted[i]);
    if (rc != MN_OK) {
        free(block);
        return rc;
    }
    *canon = out;
    return MN_OK;
}

/* May who `action` the stored memory id (deleted and expired ones included)? */
static int check_existing(mn_db *db, struct mni_who *who, const char *id, const char *action)
{
    if (!who->identity)
        return MN_OK;
    mn_memory *m;
    struct mni_store_query q = { .flags = MN_WITH_DELETED | MN_WITH_EXPIRED, .now = mni_now_ms() };
    int rc = db->store->ops->memory_get(db->store, who->tenant->id, id, &q, &m);
    if (rc == MN_OK)
        rc = mni_access_memory_check(db, who, action, m);
    mn_memory_free(m);
    return rc;
}

int mni_memory_delete_ids(mn_db *db, const mn_actor *actor, const char *const *ids, size_t n,
                          int mode)
{
    if (!db)
        return mni_err_no_db("mn_memory_delete_many");
    int rc = mode == MN_DELETE_SOFT || mode == MN_DELETE_HARD ? MN_OK
             : mni_seterr(db, MN_EINVAL, "delete mode %d is unknown; use MN_DELETE_SOFT or "
                         "MN_DELETE_HARD", mode);
    if (rc == MN_OK && n)
        rc = mni_require(db, ids, "ids");
    const char **canon = NULL;
    if (rc == MN_OK && n)
        rc = canonical_ids(db, ids, n, &canon);
    struct mni_who who = {0};
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    for (size_t i = 0; rc == MN_OK && who.identity && i < n; i++)
        rc = check_existing(db, &who, canon[i], "delete");
    struct mni_audit_call au = {0};
    if (rc == MN_OK && n)
        rc = mni_audit_call(db, &who, "memory:delete", canon, n, &au);
    if (rc == MN_OK && n)
        rc = db->store->ops->memory_delete(db->store, who.tenant->id, canon, n, mode,
                                           mni_now_ms(), &au.au);
    mni_audit_call_release(&au);
    mni_who_release(&who);
    free(canon);
    return rc;
}

int mn_memory_delete_many(mn_db *db, const mn_actor *actor, const char *const *ids, size_t n,
                          int mode)
{
    MNI_TIMED(db, memory_delete, mni_memory_delete_ids(db, actor, ids, n, mode));
}

static int memory_delete(mn_db *db, const mn_actor *actor, const char *id, int mode)
{
    if (!db)
        return mni_err_no_db("mn_memory_delete");
    char key[MNI_UUID_LEN + 1];
    int rc = mni_check_memory_id(db, "the memory id", id, key);
    id = key;
    return rc == MN_OK ? mni_memory_delete_ids(db, actor, &id, 1, mode) : rc;
}

int mn_memory_delete(mn_db *db, const mn_actor *actor, const char *id, int mode)
{
    MNI_TIMED(db, memory_delete, memory_delete(db, actor, id, mode));
}

static int memory_restore(mn_db *db, const mn_actor *actor, const char *id)
{
    if (!db)
        return mni_err_no_db("mn_memory_restore");
    struct mni_who who = {0};
    char key[MNI_UUID_LEN + 1];
    int rc = mni_check_memory_id(db, "the memory id", id, key);
    id = key;
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = check_existing(db, &who, id, "update");
    struct mni_audit_call au = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, "memory:restore", &id, 1, &au);
    if (rc == MN_OK)
        rc = db->store->ops->memory_restore(db->store, who.tenant->id, id, mni_now_ms(),
                                            &au.au);
    mni_audit_call_release(&au);
    mni_who_release(&who);
    return rc;
}

int mn_memory_restore(mn_db *db, const mn_actor *actor, const char *id)
{
    MNI_TIMED(db, memory_restore, memory_restore(db, actor, id));
}

static int memory_purge_expired(mn_db *db, const mn_actor *actor, size_t *purged)
{
    if (!db)
        return mni_err_no_db("mn_memory_purge_expired");
    struct mni_who who = {0};
    size_t n = 0;
    int rc = mni_who_resolve(db, actor, &who);
    /* Purging is tenant-wide: a policy must allow deleting memories without naming one. */
    if (rc == MN_OK)
        rc = mni_access_check(db, &who, "delete", "memory", NULL);
    /* The store names the purged ids in the entry: only it finds them. */
    struct mni_audit_call au = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, "memory:purge", NULL, 0, &au);
    if (rc == MN_OK)
        rc = db->store->ops->memory_purge_expired(db->store, who.tenant->id, mni_now_ms(), &n,
                                                  &au.au);
    mni_audit_call_release(&au);
    if (rc == MN_OK)
        mni_metrics_inc(db->metrics, MNI_S_MAINTENANCE + MNI_MAINT_EXPIRED_PURGE);
    if (rc == MN_OK && purged)
        *purged = n;
    mni_who_release(&who);
    return rc;
}

int mn_memory_purge_expired(mn_db *db, const mn_actor *actor, size_t *purged)
{
    MNI_TIMED(db, memory_purge_expired, memory_purge_expired(db, actor, purged));
}

static int memory_history(mn_db *db, const mn_actor *actor, const char *id, mn_history **out)
{
    if (!db)
        return mni_err_no_db("mn_memory_history");
    struct mni_who who = {0};
    mn_memory *m = NULL;
    char key[MNI_UUID_LEN + 1];
    int rc = mni_check_memory_id(db, "the memory id", id, key);
    id = key;
    if (rc == MN_OK)
        rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    /* An unknown id is an error, not an empty history. */
    struct mni_store_query q = { .flags = MN_WITH_DELETED | MN_WITH_EXPIRED, .now = mni_now_ms() };
    if (rc == MN_OK)
        rc = db->store->ops->memory_get(db->store, who.tenant->id, id, &q, &m);
    if (rc == MN_OK)
        rc = mni_access_memory_check(db, &who, "read", m);
    if (rc == MN_OK)
        rc = db->store->ops->memory_history(db->store, who.tenant->id, id, out);
    mn_memory_free(m);
    mni_who_release(&who);
    return rc;
}

int mn_memory_history(mn_db *db, const mn_actor *actor, const char *id, mn_history **out)
{
    MNI_TIMED(db, memory_history, memory_history(db, actor, id, out));
}
