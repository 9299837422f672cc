/*
 * Adding memories: mn_memory_put and mn_memory_put_many, which mn_memory_add and
 * mn_memory_add_many are without the outcome.
 *
 * An add first finds what each input repeats: an earlier input of the batch (the same owner's
 * key, or the same owner, type and normalised text), else a stored memory (by key; else by
 * content hash, or by vector with MN_DEDUP_NEAR). What repeats a stored memory becomes its
 * next version (or nothing, when nothing differs); the rest are new rows. All of it is one
 * write, in which the store checks that nobody added a repeated memory since the add looked
 * (store.h, mni_memory_writes): if somebody did, the add looks again.
 */
#include "api/audit.h"
#include "api/abi_structs.h"
#include "api/metrics.h"
#include "api/access.h"
#include "api/actor.h"
#include "api/embed.h"
#include "api/embed_cache.h"
#include "api/memory.h"
#include "api/validate.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/normalise.h"
#include "api/handle.h"
#include "core/uuid.h"
#include "jobs/jobs.h"
#include "api/limiter.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MNI_TYPE_MAX 64
#define MNI_KEY_MAX 256
/* How often an add looks again when other writers keep adding what it repeats. */
#define MNI_PUT_ATTEMPTS 8
#define FIRST ((size_t)-1) /* same[i] of an input that repeats no earlier one */

/* What an add keeps while it prepares rows: the strings it made for them. */
struct pending {
    mn_memory_input *in;       /* the library's copies of the caller's inputs */
    struct mni_memory_row *rows;
    char (*ids)[MNI_UUID_LEN + 1];
    char **owners, **metadata, **norm;
    char (*hashes)[MNI_CONTENT_HASH_HEX + 1]; /* content hashes the lookup made (find_stored) */
    unsigned char *named;      /* input i gives an id or a key: found by it, not by content */
    float *vectors;
    unsigned char *vector_made; /* vectors[i] holds input i's vector (given or embedded) */
    size_t *same;              /* the earlier input that input i repeats, or FIRST */
    mn_memory **found;         /* the stored memory input i repeats, or NULL */
    char **merged;             /* its metadata with input i's merged in (dedup) */
    int *outcome;              /* MN_PUT_* */
    int64_t seen_seq;          /* the store's change number the lookup saw (0: unknown) */
    size_t n;
};

static void forget_found(struct pending *p)
{
    for (size_t i = 0; p->found && p->merged && i < p->n; i++) {
        mn_memory_free(p->found[i]);
        p->found[i] = NULL;
        free(p->merged[i]);
        p->merged[i] = NULL;
    }
}

static void pending_free(struct pending *p)
{
    forget_found(p);
    for (size_t i = 0; i < p->n; i++) {
        free(p->owners ? p->owners[i] : NULL);
        free(p->metadata ? p->metadata[i] : NULL);
        free(p->norm ? p->norm[i] : NULL);
    }
    free(p->in);
    free(p->rows);
    free(p->ids);
    free(p->hashes);
    free(p->owners);
    free(p->metadata);
    free(p->norm);
    free(p->vectors);
    free(p->vector_made);
    free(p->named);
    free(p->same);
    free(p->found);
    free(p->merged);
    free(p->outcome);
}

static float *vector_of(mn_db *db, struct pending *p, size_t i)
{
    return p->vectors + i * (size_t)db->dim;
}

/* At most one of ttl_days, ttl_ms and expires_at; none negative; expires_at in the future. */
static int check_expiry(mn_db *db, const mn_memory_input *in, int64_t now)
{
    if (in->ttl_days < 0)
        return mni_seterr(db, MN_EINVAL, "ttl_days is %d; give a number of days >= 1, or 0 for "
                         "no expiry", in->ttl_days);
    if (in->ttl_ms < 0)
        return mni_seterr(db, MN_EINVAL, "ttl_ms is %lld; give a number of ms >= 1, or 0 for "
                         "no expiry", (long long)in->ttl_ms);
    if (in->expires_at < 0)
        return mni_seterr(db, MN_EINVAL, "expires_at is %lld; give a time in ms since the "
                         "epoch, or 0 for no expiry", (long long)in->expires_at);
    if ((in->ttl_days > 0) + (in->ttl_ms > 0) + (in->expires_at > 0) > 1)
        return mni_seterr(db, MN_EINVAL, "more than one of ttl_days, ttl_ms and expires_at is "
                         "set; give one of them (or none for no expiry)");
    if (in->expires_at > 0 && in->expires_at <= now)
        return mni_seterr(db, MN_EINVAL, "expires_at %lld is not in the future (now is %lld); "
                         "give a later time, or ttl_ms", (long long)in->expires_at,
                         (long long)now);
    return MN_OK;
}

/* Checks one input and fills its row, except the embedding of text the embedder must do. Its
 * new id (add_rows) gives way to the id it names. */
static int prepare_row(mn_db *db, const struct mni_who *who, const mn_memory_input *in,
                       struct pending *p, size_t i, int64_t now)
{
    struct mni_memory_row *r = &p->rows[i];
    int rc = mni_check_text(db, "text", in->text, db->cfg.max_text_bytes);
    if (rc == MN_OK && in->type)
        rc = mni_check_name(db, "type", in->type, MNI_TYPE_MAX);
    if (rc == MN_OK && in->external_key)
        rc = mni_check_name(db, "external_key", in->external_key, MNI_KEY_MAX);
    if (rc == MN_OK && in->id)
        rc = mni_check_memory_id(db, "id", in->id, p->ids[i]);
    if (rc == MN_OK && in->importance != MN_IMPORTANCE_DEFAULT)
        rc = mni_check_importance(db, "importance", in->importance);
    if (rc == MN_OK)
        rc = check_expiry(db, in, now);
    if (rc == MN_OK && in->session)
        rc = mni_check_name(db, "session", in->session, MN_SESSION_MAX);
    if (rc == MN_OK)
        rc = mni_check_json_object(db, "metadata", in->metadata, NULL, &p->metadata[i]);
    if (rc == MN_OK && in->embedding)
        rc = mni_check_vector(db, "embedding", in->embedding, in->dim, vector_of(db, p, i));
    if (rc == MN_OK && !in->embedding && in->dim)
        rc = mni_seterr(db, MN_EINVAL, "dim is %d but embedding is NULL", in->dim);
    if (rc == MN_OK && !in->embedding)
        rc = mni_embed_check(db, "a memory without an embedding");
    size_t len;
    if (rc == MN_OK && !(p->norm[i] = mni_normalise(in->text, &len)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    /* An import names the same owner line after line: look it up once per run. */
    if (rc == MN_OK && i > 0 && in->identity && in[-1].identity &&
        strcmp(in->identity, in[-1].identity) == 0)
        rc = (p->owners[i] = strdup(p->owners[i - 1])) ? MN_OK
             : mni_seterr(db, MN_ENOMEM, "out of memory");
    else if (rc == MN_OK)
        rc = mni_who_owner(db, who, in->identity, &p->owners[i]);
    if (rc != MN_OK)
        return rc;
    p->named[i] = in->id || in->external_key;
    p->vector_made[i] = in->embedding != NULL;
    r->id = p->ids[i];
    r->identity_id = p->owners[i];
    r->text = in->text;
    r->type = in->type ? in->type : "fact";
    r->metadata = p->metadata[i];
    r->importance = in->importance == MN_IMPORTANCE_DEFAULT ? 0.5 : in->importance;
    r->version = 1;
    r->created_at = r->updated_at = now;
    r->expires_at = in->ttl_days > 0 ? now + in->ttl_days * MNI_MS_PER_DAY
                    : in->ttl_ms > 0 ? now + in->ttl_ms : in->expires_at;
    r->session = in->session;
    r->embedding = vector_of(db, p, i);
    r->external_key = in->external_key;
    /* Asynchronous embedding: a text without a vector goes with its job. */
    if (db->cfg.embed_async && !in->embedding) {
        r->embedding = NULL;
        r->embed_job = 1;
    }
    return MN_OK;
}

/* Whether two new memories look the same to a policy (owner, type, metadata, importance): a
 * batch decides once for each such kind (kind_allowed). */
static int alike(const struct mni_memory_row *a, const struct mni_memory_row *b)
{
    return a->importance == b->importance && strcmp(a->identity_id, b->identity_id) == 0 &&
           strcmp(a->type, b->type) == 0 && strcmp(a->metadata, b->metadata) == 0;
}

/* The kinds of memory (alike()) a batch was already allowed to create, each by the row that
 * was checked for it, the last KINDS_KEPT of them: a batch mixes a few kinds (an import's
 * types, interleaved), and a row alike one of them needs no decision of its own. */
#define KINDS_KEPT 8
struct kinds {
    size_t row[KINDS_KEPT];
    size_t n, next;
};

/* Whether row i is alike a kind already allowed; else it becomes one, which the caller checks
 * (a refusal ends the batch). */
static int kind_allowed(const struct pending *p, size_t i, struct kinds *k)
{
    for (size_t j = 0; j < k->n; j++)
        if (alike(&p->rows[i], &p->rows[k->row[j]]))
            return 1;
    k->row[k->next] = i;
    k->next = (k->next + 1) % KINDS_KEPT;
    if (k->n < KINDS_KEPT)
        k->n++;
    return 0;
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

/* Whether input i repeats the earlier input j: the same id; or the same owner, and the same
 * key, or (both without a name, dedup on) the same type and normalised text. */
static int repeats(mn_db *db, const struct pending *p, size_t j, size_t i)
{
    const struct mni_memory_row *a = &p->rows[j], *b = &p->rows[i];
    if (p->in[j].id || p->in[i].id)
        return p->in[j].id && p->in[i].id && strcmp(p->ids[j], p->ids[i]) == 0;
    if (strcmp(a->identity_id, b->identity_id) != 0)
        return 0;
    if (a->external_key || b->external_key)
        return a->external_key && b->external_key &&
               strcmp(a->external_key, b->external_key) == 0;
    return db->cfg.dedup != MN_DEDUP_OFF && strcmp(a->type, b->type) == 0 &&
           strcmp(p->norm[j], p->norm[i]) == 0;
}

/* Hashes what repeats() compares of input i into *h: its id; or its owner and key; or its
 * owner, type and normalised text. 0 when it can repeat no other input (no name, dedup off). */
static int repeat_hash(mn_db *db, const struct pending *p, size_t i, uint64_t *h)
{
    const struct mni_memory_row *r = &p->rows[i];
    const char *part[3] = {p->ids[i], NULL, NULL};
    char kind = 'i';
    if (!p->in[i].id) {
        if (!r->external_key && db->cfg.dedup == MN_DEDUP_OFF)
            return 0;
        kind = r->external_key ? 'k' : 't';
        part[0] = r->identity_id;
        part[1] = r->external_key ? r->external_key : r->type;
        part[2] = r->external_key ? NULL : p->norm[i];
    }
    struct mni_hash64_state x;
    mni_hash64_init(&x, 0);
    mni_hash64_update(&x, &kind, 1);
    for (int k = 0; k < 3 && part[k]; k++)
        mni_hash64_update(&x, part[k], strlen(part[k]) + 1); /* the NUL separates the parts */
    *h = mni_hash64_final(&x);
    return 1;
}

/* Sets p->same: for each input, the first earlier input it repeats, or FIRST. A hash table of
 * the first inputs of each kind, so a batch of n costs n lookups, not n^2/2 comparisons.
 * repeats() is an equality of the hashed parts, so the first input of a kind is the one to
 * find. */
static int find_repeats(mn_db *db, struct pending *p)
{
    size_t cap = 16;
    while (cap < 2 * p->n)
        cap *= 2;
    size_t *slot = malloc(cap * sizeof *slot);
    if (!slot)
        return mni_seterr(db, MN_ENOMEM, "out of memory preparing %zu memories", p->n);
    for (size_t k = 0; k < cap; k++)
        slot[k] = FIRST;
    for (size_t i = 0; i < p->n; i++) {
        p->same[i] = FIRST;
        uint64_t h;
        if (!repeat_hash(db, p, i, &h))
            continue;
        size_t k = (size_t)h & (cap - 1);
        while (slot[k] != FIRST && !repeats(db, p, slot[k], i))
            k = (k + 1) & (cap - 1);
        if (slot[k] == FIRST)
            slot[k] = i;
        else
            p->same[i] = slot[k];
    }
    free(slot);
    return MN_OK;
}

/* Folds each input that repeats an earlier one of the batch into it: a later input of the
 * same id or key replaces the earlier's values (its id stays); a duplicate's metadata merges
 * in. */
static int fold_batch(mn_db *db, struct mni_who *who, struct pending *p)
{
    int rc = find_repeats(db, p);
    for (size_t i = 0; rc == MN_OK && i < p->n; i++) {
        size_t j = p->same[i];
        if (j == FIRST)
            continue;
        if (p->named[i]) {
            struct mni_memory_row earlier = p->rows[j];
            p->rows[j] = p->rows[i];
            p->rows[j].id = earlier.id;
            if (p->rows[j].embedding)
                p->rows[j].embedding = vector_of(db, p, j);
            memcpy(vector_of(db, p, j), vector_of(db, p, i), (size_t)db->dim * sizeof(float));
            p->vector_made[j] = p->vector_made[i];
            p->in[j] = p->in[i];
            continue;
        }
        char *merged = mni_json_merge(p->metadata[j], p->metadata[i]);
        if (!merged)
            return mni_seterr(db, MN_ENOMEM, "out of memory merging metadata");
        free(p->metadata[j]);
        p->rows[j].metadata = p->metadata[j] = merged;
        /* The memory to create is no longer the one allowed. */
        rc = who->identity ? check_create(db, who, &p->rows[j]) : MN_OK;
    }
    return rc;
}

/* The stored memory with input i's id, *m NULL when there is none. */
static int find_by_id(mn_db *db, const struct mni_who *who, struct pending *p, size_t i,
                      int64_t now, mn_memory **m)
{
    struct mni_store_query q = {
        .flags = MN_WITH_DELETED | MN_WITH_EXPIRED | MN_WITH_EMBEDDING, .now = now };
    int rc = db->store->ops->memory_get(db->store, who->tenant->id, p->ids[i], &q, m);
    if (rc == MN_ENOTFOUND) {
        *m = NULL;
        return MN_OK;
    }
    if (rc == MN_OK && strcmp((*m)->identity_id, p->rows[i].identity_id) != 0)
        rc = mni_seterr(db, MN_EEXISTS, "id %s is another owner's memory; add without it "
                       "(a new id) or as that owner", p->ids[i]);
    return rc;
}

/* Whether input i (the first of its kind in the batch) is looked for in the store: by its id,
 * key or content. */
static int looked_for(mn_db *db, const struct pending *p, size_t i)
{
    return p->same[i] == FIRST && (p->named[i] || db->cfg.dedup != MN_DEDUP_OFF);
}

/* Keeps m (may be NULL) as the stored memory that input i repeats, unless it is deleted or
 * expired, which an add by id or key may not revive. */
static int keep_found(mn_db *db, struct pending *p, size_t i, mn_memory *m, int64_t now)
{
    int rc = MN_OK;
    if (m && (m->deleted || (m->expires_at && m->expires_at <= now)))
        rc = mni_seterr(db, MN_EEXISTS, "%s \"%s\" belongs to memory %s, which is %s; restore "
                       "it (mn_memory_restore) or delete it for good (MN_DELETE_HARD) before "
                       "adding with it", p->in[i].id ? "id" : "external_key",
                       p->in[i].id ? p->ids[i] : p->rows[i].external_key, m->id,
                       m->deleted ? "deleted" : "expired");
    if (rc == MN_OK)
        p->found[i] = m;
    else
        mn_memory_free(m);
    return rc;
}

/* Looks up the stored memory each input (the first of its kind in the batch) repeats: by its
 * id, else its key, else its content; those not found by id all in one lookup of the store
 * (memory_find_many), so that a batch costs a server one round trip, not one per input. */
static int find_stored(mn_db *db, const struct mni_who *who, struct pending *p, int64_t now,
                       size_t *failed)
{
    size_t cap = p->n ? p->n : 1;
    struct mni_find *wants = calloc(cap, sizeof *wants);
    size_t *which = calloc(cap, sizeof *which);
    mn_memory **found = calloc(cap, sizeof *found);
    size_t nwants = 0;
    p->seen_seq = 0;
    int rc = wants && which && found ? MN_OK
             : mni_seterr(db, MN_ENOMEM, "out of memory looking up %zu memories", p->n);
    for (size_t i = 0; rc == MN_OK && i < p->n; i++) {
        const struct mni_memory_row *r = &p->rows[i];
        mn_memory *m = NULL;
        if (!looked_for(db, p, i))
            continue;
        if (p->in[i].id)
            rc = find_by_id(db, who, p, i, now, &m);
        if (rc != MN_OK)
            mn_memory_free(m); /* another owner's */
        else if (m)
            rc = keep_found(db, p, i, m, now);
        else if (r->external_key || !p->in[i].id) {
            which[nwants] = i;
            wants[nwants++] = (struct mni_find){ .identity_id = r->identity_id,
                                                 .key = r->external_key,
                                                 .type = r->external_key ? NULL : r->type,
                                                 .text = r->text };
        }
        if (rc != MN_OK)
            *failed = i;
    }
    if (rc == MN_OK && nwants &&
        (rc = db->store->ops->memory_find_many(db->store, who->tenant->id, wants, nwants, now,
                                               found, &p->seen_seq)) != MN_OK)
        *failed = nwants == 1 ? which[0] : (size_t)-1; /* the lookup of all of them failed */
    for (size_t k = 0; rc == MN_OK && k < nwants; k++) {
        /* The hash of a text looked for by content: its write need not hash it again. */
        if (wants[k].type) {
            memcpy(p->hashes[which[k]], wants[k].hash, sizeof p->hashes[0]);
            p->rows[which[k]].content_hash = p->hashes[which[k]];
        }
        rc = keep_found(db, p, which[k], found[k], now);
        found[k] = NULL;
        if (rc != MN_OK)
            *failed = which[k];
    }
    for (size_t k = 0; found && k < nwants; k++)
        mn_memory_free(found[k]);
    free(wants);
    free(which);
    free(found);
    return rc;
}

/* MN_DEDUP_NEAR: the most similar live memory of input i's owner and type, for an input
 * whose text equals none, once its vector is made. */
static int find_near(mn_db *db, struct mni_who *who, struct pending *p, size_t i, int64_t now)
{
    const struct mni_memory_row *r = &p->rows[i];
    if (db->cfg.dedup != MN_DEDUP_NEAR || p->named[i] || p->found[i] ||
        !p->vector_made[i])
        return MN_OK;
    struct mni_store_query q = { .identity_id = r->identity_id, .type = r->type,
                                 .flags = MN_WITH_EMBEDDING, .now = now };
    double t = db->cfg.dedup_threshold;
    return mni_search_nearest(db, who, &q, vector_of(db, p, i), t, &p->found[i]);
}

/* Whether input i, which repeats the stored memory m by its id or key, changes it. */
static int key_changes(const struct pending *p, size_t i, const mn_memory *m)
{
    const struct mni_memory_row *r = &p->rows[i];
    double importance = p->in[i].importance == MN_IMPORTANCE_DEFAULT ? m->importance
                                                                      : r->importance;
    return strcmp(r->text, m->text) != 0 || strcmp(r->type, m->type) != 0 ||
           strcmp(r->metadata, m->metadata) != 0 || importance != m->importance ||
           p->in[i].embedding ||
           (r->external_key && (!m->external_key || strcmp(r->external_key, m->external_key)));
}

/* The next version of the stored memory m that input i repeats (what the add will write);
 * *changes 0 when it is m as it is. */
static int next_version(mn_db *db, struct pending *p, size_t i, const mn_memory *m,
                        int64_t now, struct mni_memory_row *next, int *changes)
{
    const struct mni_memory_row *r = &p->rows[i];
    *next = (struct mni_memory_row){
        .id = m->id, .identity_id = m->identity_id, .text = m->text, .type = m->type,
        .metadata = m->metadata, .importance = m->importance, .version = m->version + 1,
        .created_at = m->created_at, .updated_at = now, .expires_at = m->expires_at,
        .embedding = m->embedding, .external_key = m->external_key, .session = m->session };
    if (p->named[i]) {
        if (r->external_key)
            next->external_key = r->external_key;
        *changes = key_changes(p, i, m);
        next->text = r->text;
        next->type = r->type;
        next->metadata = r->metadata;
        if (p->in[i].importance != MN_IMPORTANCE_DEFAULT)
            next->importance = r->importance;
        /* A new text needs its vector: given, made (embed_pending), or left to a job. */
        if (p->vector_made[i])
            next->embedding = vector_of(db, p, i);
        else if (strcmp(r->text, m->text) != 0 && db->cfg.embed_async)
            next->embedding = NULL, next->embed_job = 1;
        else if (strcmp(r->text, m->text) != 0)
            next->embedding = vector_of(db, p, i);
        return MN_OK;
    }
    if (!p->merged[i] && !(p->merged[i] = mni_json_merge(m->metadata, r->metadata)))
        return mni_seterr(db, MN_ENOMEM, "out of memory merging metadata");
    next->metadata = p->merged[i];
    *changes = strcmp(p->merged[i], m->metadata) != 0;
    return MN_OK;
}

/* Whether input i needs its vector made now: a new memory's, or a stored one's new text. */
static int needs_vector(mn_db *db, const struct pending *p, size_t i)
{
    if (p->same[i] != FIRST || p->vector_made[i] || db->cfg.embed_async)
        return 0;
    const mn_memory *m = p->found[i];
    return !m || (p->named[i] && strcmp(p->rows[i].text, m->text) != 0);
}

/* Embeds, in one call, the texts that need_vector names. scope: the tenant, for the cache.
 * A text without a direction (an all-zero vector) fails the call: *failed is its input. */
static int embed_pending(mn_db *db, const char *scope, struct pending *p, size_t *failed)
{
    size_t unembedded = 0;
    for (size_t i = 0; i < p->n; i++)
        unembedded += needs_vector(db, p, i);
    if (!unembedded)
        return MN_OK;
    const char **texts = malloc(unembedded * sizeof *texts);
    size_t *which = texts ? malloc(unembedded * sizeof *which) : NULL;
    float *out = which ? malloc(unembedded * (size_t)db->dim * sizeof *out) : NULL;
    int rc = out ? MN_OK
             : mni_seterr(db, MN_ENOMEM, "out of memory embedding %zu texts", unembedded);
    size_t zero = (size_t)-1;
    if (rc == MN_OK) {
        for (size_t i = 0, j = 0; i < p->n; i++)
            if (needs_vector(db, p, i)) {
                which[j] = i;
                texts[j++] = p->rows[i].text;
            }
        rc = mni_embed_texts(db, scope, texts, unembedded, out, &zero);
        if (rc != MN_OK && zero < unembedded)
            *failed = which[zero];
    }
    for (size_t j = 0; rc == MN_OK && j < unembedded; j++) {
        memcpy(vector_of(db, p, which[j]), out + j * (size_t)db->dim,
               (size_t)db->dim * sizeof *out);
        p->vector_made[which[j]] = 1;
    }
    free(texts);
    free(which);
    free(out);
    return rc;
}

/* One add's write, built from what was found: the new rows, the rewrites of stored memories,
 * and the ids of each for their audit entries. */
struct write {
    struct mni_memory_row *rows;
    unsigned char *dedup;
    struct mni_memory_rewrite *rewrites;
    char **befores, **afters;
    const char **created, **updated;
    struct mni_memory_writes w;
};

static void write_free(struct write *x)
{
    for (size_t i = 0; i < x->w.nrewrites; i++) {
        free(x->befores[i]);
        free(x->afters[i]);
    }
    free(x->rows);
    free(x->dedup);
    free(x->rewrites);
    free(x->befores);
    free(x->afters);
    free(x->created);
    free(x->updated);
}

/* Decides what becomes of each input (p->outcome) and builds the write. */
static int plan(mn_db *db, struct mni_who *who, struct pending *p, int64_t now, struct write *x)
{
    size_t n = p->n;
    x->rows = malloc(n * sizeof *x->rows);
    x->dedup = malloc(n);
    x->rewrites = malloc(n * sizeof *x->rewrites);
    x->befores = calloc(n, sizeof *x->befores);
    x->afters = calloc(n, sizeof *x->afters);
    x->created = malloc(n * sizeof *x->created);
    x->updated = malloc(n * sizeof *x->updated);
    if (!x->rows || !x->dedup || !x->rewrites || !x->befores || !x->afters || !x->created ||
        !x->updated)
        return mni_seterr(db, MN_ENOMEM, "out of memory preparing %zu memories", n);
    const char *changed_by = who->identity ? who->identity->id : NULL;
    int rc = MN_OK;
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        const mn_memory *m = p->found[i];
        if (p->same[i] != FIRST)
            continue;
        if (!m) {
            p->outcome[i] = MN_PUT_CREATED;
            x->dedup[x->w.n] = !p->named[i] && db->cfg.dedup != MN_DEDUP_OFF;
            x->created[x->w.n] = p->ids[i];
            x->rows[x->w.n++] = p->rows[i];
            continue;
        }
        memcpy(p->ids[i], m->id, MNI_UUID_LEN + 1);
        struct mni_memory_rewrite *rw = &x->rewrites[x->w.nrewrites];
        int changes = 0;
        rc = next_version(db, p, i, m, now, &rw->row, &changes);
        p->outcome[i] = changes ? MN_PUT_UPDATED : MN_PUT_UNCHANGED;
        /* What an update of it would need: the memory as it is, then as it will be; finding
         * it unchanged tells what reading it would. */
        if (rc == MN_OK)
            rc = mni_access_memory_check(db, who, changes ? "update" : "read", m);
        if (rc == MN_OK && changes)
            rc = mni_memory_may_become(db, who, &rw->row, 0);
        if (rc != MN_OK || !changes)
            continue;
        rw->expected_version = m->version;
        rw->changed_by = changed_by;
        size_t k = x->w.nrewrites++;
        rw->before = x->befores[k] = mni_memory_snapshot(m->text, m->type, m->metadata,
                                                         m->importance);
        rw->after = x->afters[k] = mni_memory_snapshot(rw->row.text, rw->row.type,
                                                       rw->row.metadata, rw->row.importance);
        x->updated[k] = m->id;
        if (!rw->before || !rw->after)
            rc = mni_seterr(db, MN_ENOMEM, "out of memory recording the history of %s", m->id);
    }
    for (size_t i = 0; i < n; i++)
        if (p->same[i] != FIRST) {
            memcpy(p->ids[i], p->ids[p->same[i]], MNI_UUID_LEN + 1);
            p->outcome[i] = p->outcome[p->same[i]];
        }
    x->w.rows = x->rows;
    x->w.dedup = x->dedup;
    x->w.rewrites = x->rewrites;
    x->w.now = now;
    x->w.seen_seq = p->seen_seq;
    return rc;
}

/* One attempt: finds what the inputs repeat, makes the vectors still missing, and writes. */
static int put_once(mn_db *db, struct mni_who *who, struct pending *p, int batch,
                    size_t *failed)
{
    int64_t now = mni_now_ms();
    int rc = find_stored(db, who, p, now, failed);
    if (rc == MN_OK && (rc = embed_pending(db, who->tenant->id, p, failed)) != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < p->n; i++)
        if (p->same[i] == FIRST && (rc = find_near(db, who, p, i, now)) != MN_OK)
            *failed = i;
    struct write x = {0};
    if (rc == MN_OK && (rc = plan(db, who, p, now, &x)) != MN_OK && batch)
        *failed = (size_t)-1;
    struct mni_audit_call create = {0}, update = {0};
    int audited = rc == MN_OK;
    if (audited && (rc = mni_audit_call(db, who, "memory:create", x.created, x.w.n,
                                        &create)) == MN_OK)
        rc = mni_audit_call(db, who, "memory:update", x.updated, x.w.nrewrites, &update);
    x.w.au_create = x.w.n ? &create.au : NULL;
    x.w.au_update = x.w.nrewrites ? &update.au : NULL;
    if (rc == MN_OK && (x.w.n || x.w.nrewrites))
        rc = db->store->ops->memory_insert(db->store, who->tenant->id, &x.w);
    if (audited) {
        mni_audit_call_release(&create);
        mni_audit_call_release(&update);
    }
    if (rc == MN_OK)
        mni_metrics_add(db->metrics, MNI_S_MEMORIES_CREATED, (int64_t)x.w.n);
    if (rc == MN_OK && db->cfg.embed_async && (x.w.n || x.w.nrewrites))
        mni_jobs_wake(db->jobs);
    write_free(&x);
    return rc;
}

static int pending_alloc(mn_db *db, struct pending *p, size_t n)
{
    p->n = n;
    p->rows = calloc(n, sizeof *p->rows);
    p->ids = calloc(n, sizeof *p->ids);
    p->hashes = calloc(n, sizeof *p->hashes);
    p->owners = calloc(n, sizeof *p->owners);
    p->metadata = calloc(n, sizeof *p->metadata);
    p->norm = calloc(n, sizeof *p->norm);
    p->vectors = malloc(n * (size_t)db->dim * sizeof *p->vectors);
    p->vector_made = calloc(n, 1);
    p->named = calloc(n, 1);
    p->same = malloc(n * sizeof *p->same);
    p->found = calloc(n, sizeof *p->found);
    p->merged = calloc(n, sizeof *p->merged);
    p->outcome = calloc(n, sizeof *p->outcome);
    return p->rows && p->ids && p->hashes && p->owners && p->metadata && p->norm && p->vectors &&
           p->vector_made && p->named && p->same && p->found && p->merged && p->outcome
           ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory preparing %zu memories", n);
}

/* Copies the caller's n inputs, resolves the actor into *who (the caller releases it), then
 * checks, embeds and stores the inputs in one transaction. */
static int add_rows(mn_db *db, const mn_actor *actor, const mn_memory_input *in, size_t n,
                    int batch, struct pending *p, size_t *failed, struct mni_who *who)
{
    p->in = malloc(n * sizeof *p->in);
    int rc = p->in ? mni_abi_read_array(db, &mni_abi_memory_input, in, n, p->in,
                                        sizeof *p->in, failed)
                   : mni_seterr(db, MN_ENOMEM, "out of memory reading %zu memories", n);
    if (rc != MN_OK && batch && *failed != (size_t)-1)
        mni_errprefix(db, "memory %zu: ", *failed);
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, who);
    int allocated = pending_alloc(db, p, n);
    if (rc == MN_OK)
        rc = allocated;
    /* A new id for each input, drawn together (core/uuid.h); the inputs that name their own
     * replace theirs (prepare_row). */
    if (rc == MN_OK)
        mni_uuid7_many(p->ids, n);
    int64_t now = mni_now_ms();
    struct kinds allowed = {0};
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        rc = prepare_row(db, who, &p->in[i], p, i, now);
        if (rc == MN_OK && who->identity && !kind_allowed(p, i, &allowed))
            rc = check_create(db, who, &p->rows[i]);
        if (rc != MN_OK) {
            *failed = i;
            /* Only a failure pays for naming the input. */
            if (batch)
                mni_errprefix(db, "memory %zu: ", i);
        }
    }
    if (rc == MN_OK)
        rc = fold_batch(db, who, p);
    /* Rate limit: counted once the batch is known good and allowed; a batch of n counts n. */
    if (rc == MN_OK)
        rc = mni_ratelimit_enforce(db, who, "memory:create", (int64_t)n);
    for (int attempt = 1; rc == MN_OK; attempt++) {
        rc = put_once(db, who, p, batch, failed);
        if (rc != MN_OK && rc != MNI_EBUSY_VERSION && batch && *failed < n)
            mni_errprefix(db, "memory %zu: ", *failed);
        if (rc != MNI_EBUSY_VERSION)
            break;
        forget_found(p);
        rc = attempt < MNI_PUT_ATTEMPTS ? MN_OK
             : mni_seterr(db, MN_EBACKEND, "other writers kept adding what this add repeats "
                         "through %d attempts; retry later", MNI_PUT_ATTEMPTS);
    }
    return rc;
}

static int memory_put(mn_db *db, const mn_actor *actor, const mn_memory_input *in,
                      int *outcome, mn_memory **out)
{
    if (!db)
        return mni_err_no_db("mn_memory_put");
    struct pending p = {0};
    struct mni_who who = {0};
    size_t failed;
    int rc = add_rows(db, actor, in, 1, 0, &p, &failed, &who);
    if (rc == MN_OK && outcome)
        *outcome = p.outcome[0];
    if (rc == MN_OK && out) {
        struct mni_store_query q = { .flags = MN_WITH_EXPIRED, .now = mni_now_ms() };
        rc = db->store->ops->memory_get(db->store, who.tenant->id, p.ids[0], &q, out);
    }
    mni_who_release(&who);
    pending_free(&p);
    return rc;
}

int mn_memory_put(mn_db *db, const mn_actor *actor, const mn_memory_input *in, int *outcome,
                  mn_memory **out)
{
    MNI_TIMED(db, memory_add, memory_put(db, actor, in, outcome, out));
}

int mn_memory_add(mn_db *db, const mn_actor *actor, const mn_memory_input *in, mn_memory **out)
{
    MNI_TIMED(db, memory_add, memory_put(db, actor, in, NULL, out));
}

static int memory_put_many(mn_db *db, const mn_actor *actor, const mn_memory_input *in,
                           size_t n, char ***ids, int *outcomes, size_t *failed_index)
{
    if (!db)
        return mni_err_no_db("mn_memory_put_many");
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
    if (rc == MN_OK && outcomes)
        memcpy(outcomes, p.outcome, n * sizeof *outcomes);
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

int mn_memory_put_many(mn_db *db, const mn_actor *actor, const mn_memory_input *in, size_t n,
                       char ***ids, int *outcomes, size_t *failed_index)
{
    MNI_TIMED(db, memory_add_many,
              memory_put_many(db, actor, in, n, ids, outcomes, failed_index));
}

int mn_memory_add_many(mn_db *db, const mn_actor *actor, const mn_memory_input *in, size_t n,
                       char ***ids, size_t *failed_index)
{
    MNI_TIMED(db, memory_add_many,
              memory_put_many(db, actor, in, n, ids, NULL, failed_index));
}
