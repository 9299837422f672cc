/* Access control: the policy decision in front of every API call made for an identity.
 *
 * Compiled policy sets are kept per tenant in the handle, tagged with the tenant's policy
 * generation (advanced by the store on every policy change, by any process): a call reads the
 * generation (one indexed read) and reuses the set while it is current. Sets are reference
 * counted, so a thread may keep deciding with a set that another thread has just replaced. */
#include "api/access.h"
#include "api/audit.h"
#include "api/metrics.h"
#include "core/clock.h"
#include "core/error.h"
#include "store/types.h"
#include "api/handle.h"
#include "core/uuid.h"
#include "policy/decision_cache.h"
#include "policy/decision_key.h"
#include "policy/policy.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct set_ref {
    mni_policyset *set;
    int refs;
};

struct set_entry {
    char tenant_id[MNI_UUID_LEN + 1];
    int64_t gen;
    struct set_ref *ref;
};

struct mni_policy_sets {
    pthread_mutex_t mu;
    struct set_entry *entries;
    size_t n, cap;
    mni_dcache *decisions;  /* verdicts by request, tagged with the policy generation */
};

int mni_policy_sets_create(struct mni_policy_sets **out)
{
    struct mni_policy_sets *ps = calloc(1, sizeof *ps);
    if (!ps)
        return MN_ENOMEM;
    ps->decisions = mni_dcache_create(MNI_DCACHE_DEFAULT_CAPACITY, MNI_DCACHE_DEFAULT_TTL_MS);
    if (!ps->decisions) {
        free(ps);
        return MN_ENOMEM;
    }
    pthread_mutex_init(&ps->mu, NULL);
    *out = ps;
    return MN_OK;
}

/* Under ps->mu. */
static void unref(struct set_ref *r)
{
    if (r && --r->refs == 0) {
        mni_policyset_free(r->set);
        free(r);
    }
}

void mni_policy_sets_free(struct mni_policy_sets *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n; i++)
        unref(ps->entries[i].ref);
    free(ps->entries);
    mni_dcache_free(ps->decisions);
    pthread_mutex_destroy(&ps->mu);
    free(ps);
}

static struct set_entry *find(struct mni_policy_sets *ps, const char *tenant_id)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->entries[i].tenant_id, tenant_id) == 0)
            return &ps->entries[i];
    return NULL;
}

/* Compiles the tenant's stored policies. One that does not compile (stored before a rule of
 * this version refused it, or written behind the library's back) fails every decision: no
 * policy is left out, lest a deny be lost, and none guessed at. */
static int load_set(mn_db *db, const char *tenant_id, struct set_ref **out)
{
    mn_policies *l;
    int rc = db->store->ops->policy_list(db->store, tenant_id, &l);
    if (rc != MN_OK)
        return rc;
    struct mni_policy_src *src = calloc(l->count ? l->count : 1, sizeof *src);
    struct set_ref *ref = calloc(1, sizeof *ref);
    if (!src || !ref) {
        rc = mni_seterr(db, MN_ENOMEM, "out of memory loading policies");
    } else {
        for (size_t i = 0; i < l->count; i++)
            src[i] = (struct mni_policy_src){ l->items[i]->id, l->items[i]->role, l->items[i]->rule,
                                             l->items[i]->priority, l->items[i]->active };
        char err[MNI_ERRMSG_MAX - 64];
        rc = mni_policyset_compile(src, l->count, &ref->set, err, sizeof err);
        if (rc != MN_OK)
            mni_seterr(db, rc, "the tenant's policies do not compile, so no identity may act "
                      "until the tenant's system actor fixes, deactivates or deletes the policy: "
                      "%s", err);
    }
    free(src);
    mn_policies_free(l);
    if (rc != MN_OK) {
        free(ref);
        return rc;
    }
    ref->refs = 1;
    *out = ref;
    return MN_OK;
}

/* The set of the tenant at policy generation gen, with a reference for the caller (give it
 * back with release). */
static int acquire(mn_db *db, const char *tenant_id, int64_t gen, struct set_ref **out)
{
    struct mni_policy_sets *ps = db->policy_sets;
    int rc;
    pthread_mutex_lock(&ps->mu);
    struct set_entry *e = find(ps, tenant_id);
    if (e && e->gen == gen) {
        e->ref->refs++;
        *out = e->ref;
        pthread_mutex_unlock(&ps->mu);
        return MN_OK;
    }
    pthread_mutex_unlock(&ps->mu);

    /* Compile outside the lock; if another thread got there first, keep its set. */
    struct set_ref *fresh;
    rc = load_set(db, tenant_id, &fresh);
    if (rc != MN_OK)
        return rc;
    pthread_mutex_lock(&ps->mu);
    e = find(ps, tenant_id);
    if (!e && ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 8;
        struct set_entry *grown = realloc(ps->entries, cap * sizeof *grown);
        if (grown) {
            ps->entries = grown;
            ps->cap = cap;
        }
    }
    if (!e && ps->n < ps->cap) {
        e = &ps->entries[ps->n++];
        memcpy(e->tenant_id, tenant_id, sizeof e->tenant_id - 1);
        e->tenant_id[sizeof e->tenant_id - 1] = '\0';
        e->ref = NULL;
        e->gen = -1;
    }
    if (e && e->gen >= gen && e->ref) {
        unref(fresh);
        fresh = e->ref;
        fresh->refs++; /* the caller's reference */
    } else if (e) {
        unref(e->ref);
        e->ref = fresh;
        e->gen = gen;
        fresh->refs++;
    }
    /* Without an entry (out of memory for the table) the caller still gets its own set. */
    *out = fresh;
    pthread_mutex_unlock(&ps->mu);
    return MN_OK;
}

static void release(mn_db *db, struct set_ref *ref)
{
    pthread_mutex_lock(&db->policy_sets->mu);
    unref(ref);
    pthread_mutex_unlock(&db->policy_sets->mu);
}

static void request_for(const struct mni_who *who, const char *action, const char *resource,
                        const cJSON *data, struct mni_request *rq)
{
    *rq = (struct mni_request){
        .identity_id = who->identity->id, .role = who->identity->role, .claims = who->claims,
        .action = action, .resource = resource, .resource_data = data,
        .context = who->context, .now_ms = mni_now_ms(),
    };
}

int mni_access_key_prepare(mn_db *db, struct mni_who *who)
{
    if (who->context && !(who->key_context = cJSON_PrintUnformatted(who->context)))
        return MN_ENOMEM;
    return mni_dkey_who_init(&who->key, db->policy_sets->decisions, who->tenant->id,
                            who->identity->id, who->identity->role, who->identity->claims,
                            who->key_context);
}

/* What a decision is about: a resource of the kind in particular or none (data and memory
 * NULL), given by its data as JSON, or a stored memory (keyed by id and version:
 * policy/decision_key.h). */
struct target {
    const char *action, *resource;
    const cJSON *data;
    const mn_memory *memory;
};

/* A decision as the API uses it. partial: allowed without resource data only because
 * conditions on the resource were assumed to hold (policy.h): true for no resource in
 * particular, so it allows a list or search that then checks each memory, and nothing else. */
struct decision {
    int allowed, partial;
    char policy_id[MNI_UUID_LEN + 1];
    char reason[MNI_DCACHE_REASON_MAX];
};

/* The cache keeps one int per verdict: bit 0 allowed, bit 1 partial. */
#define CACHED_ALLOWED 1
#define CACHED_PARTIAL 2

/* Decides with the set, the engine's way. A rule that fails to evaluate (a "when" past its
 * limits) denies, and is not cached (*cacheable 0): never allow by error. The engine's reason
 * names the rule and the failure. */
static int decide_now(mn_db *db, const struct mni_who *who, const struct target *t,
                      const struct set_ref *ref, int64_t now, struct decision *d,
                      struct mni_verdict *v, int *cacheable)
{
    cJSON *made = NULL;
    const cJSON *data = t->data;
    if (t->memory) {
        const mn_memory *m = t->memory;
        made = mni_access_memory_json(m->id, m->identity_id, m->type, m->metadata, m->importance);
        if (!made)
            return mni_seterr(db, MN_ENOMEM, "out of memory deciding");
        data = made;
    }
    struct mni_request rq;
    request_for(who, t->action, t->resource, data, &rq);
    rq.now_ms = now;
    int ok = mni_policyset_decide(ref->set, &rq, v) == MN_OK;
    cJSON_Delete(made);
    d->allowed = ok && v->allowed;
    d->partial = ok && v->allowed && v->partial;
    snprintf(d->policy_id, sizeof d->policy_id, "%s", v->policy_id ? v->policy_id : "");
    snprintf(d->reason, sizeof d->reason, "%s", ok || v->reason[0] ? v->reason
             : "a policy rule failed to evaluate");
    *cacheable = ok;
    return MN_OK;
}

/* Decides with the tenant's current policies, through the handle's decision cache; a verdict
 * from the cache carries its policy id and reason as far as `explain` asks. */
static int decide_cached(mn_db *db, const struct mni_who *who, const struct target *t,
                  enum mni_dkey_explain explain, struct decision *d)
{
    struct mni_policy_sets *ps = db->policy_sets;
    int64_t gen = who->policy_gen, now = mni_now_ms();
    mni_dkey key;
    int rc = mni_dkey_build(&key, &who->key, t->action, t->resource, t->data,
                           t->memory ? t->memory->id : NULL, t->memory ? t->memory->version : 0);
    if (rc != MN_OK) {
        mni_dkey_release(&key);
        return mni_seterr(db, rc, rc == MN_ENOMEM ? "out of memory deciding"
                         : "an action or resource name longer than %d bytes, or a bad memory id",
                         MNI_DKEY_NAME_MAX);
    }
    const size_t nparts = key.nparts;
    int bits;
    if (mni_dkey_lookup(ps->decisions, &key, (uint64_t)gen, now, explain, CACHED_ALLOWED, &bits,
                       d->policy_id, sizeof d->policy_id, d->reason, sizeof d->reason)) {
        d->allowed = (bits & CACHED_ALLOWED) != 0;
        d->partial = (bits & CACHED_PARTIAL) != 0;
        mni_dkey_release(&key);
        return MN_OK;
    }
    struct set_ref *ref;
    rc = acquire(db, who->tenant->id, gen, &ref);
    if (rc == MN_OK) {
        struct mni_verdict v = { 0 };
        int cacheable = 0;
        rc = decide_now(db, who, t, ref, now, d, &v, &cacheable);
        if (rc == MN_OK && cacheable)
            mni_dcache_put(ps->decisions, key.parts, nparts, (uint64_t)gen, now, v.valid_until_ms,
                          (d->allowed ? CACHED_ALLOWED : 0) | (d->partial ? CACHED_PARTIAL : 0),
                          v.policy_id, v.reason);
        release(db, ref);
    }
    mni_dkey_release(&key);
    return rc;
}

/* decide_cached, counted and timed (metrics). */
static int decide(mn_db *db, const struct mni_who *who, const struct target *t,
                  enum mni_dkey_explain explain, struct decision *d)
{
    /* Every decision is counted; one in MNI_METRICS_SAMPLE is timed (a list or search makes
     * one per memory, and timing each would cost as much as a cached decision). */
    int timed = db->metrics && mni_metrics_sampled();
    uint64_t t0 = timed ? mni_mono_ns() : 0;
    int rc = decide_cached(db, who, t, explain, d);
    if (db->metrics && rc == MN_OK) {
        mni_metrics_inc(db->metrics, MNI_S_POLICY_DECISIONS +
                        (d->allowed ? MNI_RESULT_ALLOWED : MNI_RESULT_DENIED));
        if (timed)
            mni_step_end(db, MNI_S_POLICY_SECONDS, t0);
    }
    return rc;
}

void mni_access_cache_stats(mn_db *db, uint64_t *hits, uint64_t *misses, uint64_t *evictions)
{
    mni_dcache_stats st = { 0 };
    if (db->policy_sets && db->policy_sets->decisions)
        mni_dcache_stats_get(db->policy_sets->decisions, &st);
    *hits = st.hits;
    *misses = st.misses;
    *evictions = st.evictions;
}

int mni_access_decide(mn_db *db, const struct mni_who *who, const char *action,
                     const char *resource, const cJSON *data, int *allowed, char **policy_id,
                     char **reason)
{
    if (policy_id)
        *policy_id = NULL;
    if (reason)
        *reason = NULL;
    struct decision d = { .allowed = 1, .reason = "the tenant's system actor is trusted" };
    const struct target t = { action, resource, data, NULL };
    int rc = MN_OK;
    if (!mni_apikey_scope_has(who->apikey.scopes, action, resource))
        d = (struct decision){ .reason = "the actor's API key has no scope for it" };
    else if (who->identity)
        rc = decide(db, who, &t, MNI_DKEY_EXPLAIN_ALL, &d);
    if (rc != MN_OK)
        return rc;
    *allowed = d.allowed;
    if ((policy_id && d.policy_id[0] && !(*policy_id = strdup(d.policy_id))) ||
        (reason && !(*reason = strdup(d.reason)))) {
        free(policy_id ? *policy_id : NULL);
        return mni_seterr(db, MN_ENOMEM, "out of memory");
    }
    return MN_OK;
}

/* A denial, recorded in the audit log: memory_id the memory decided on (NULL: none), d the
 * decision. */
static int denied(mn_db *db, const struct mni_who *who, const char *action,
                  const char *resource, const char *memory_id, const struct decision *d,
                  const char *reason)
{
    mni_seterr(db, MN_EDENIED, "identity \"%.128s\" (role %.64s) may not %s %s: %s",
              who->identity->external_id, who->identity->role, action, resource, reason);
    return mni_audit_denied(db, who, action, resource, memory_id, d->policy_id);
}

/* MN_OK when who may act on t, the allowing policy kept in who->allowed_by; else MN_EDENIED
 * (mni_access_check). */
static int check(mn_db *db, struct mni_who *who, const struct target *t)
{
    if (!who->identity)
        return MN_OK;
    struct decision d;
    int rc = mni_apikey_scope_check(db, &who->apikey, t->action, t->resource);
    if (rc == MN_OK)
        rc = decide(db, who, t, MNI_DKEY_EXPLAIN_DENIALS, &d);
    const char *memory_id = t->memory ? t->memory->id : NULL;
    if (rc == MN_OK && !d.allowed)
        rc = denied(db, who, t->action, t->resource, memory_id, &d, d.reason);
    /* Allowed only for resources that meet conditions, and none was named: a call on all of
     * them at once (a purge, say) needs a policy without conditions on the resource. */
    if (rc == MN_OK && d.partial)
        rc = denied(db, who, t->action, t->resource, memory_id, &d, "the allowing policy only covers some of "
                    "them (it has conditions on the resource), and this call is on no one in "
                    "particular");
    if (rc == MN_OK)
        memcpy(who->allowed_by, d.policy_id, sizeof who->allowed_by);
    return rc;
}

int mni_access_check(mn_db *db, struct mni_who *who, const char *action,
                    const char *resource, const cJSON *data)
{
    const struct target t = { action, resource, data, NULL };
    return check(db, who, &t);
}

int mni_access_begin(mn_db *db, struct mni_who *who, const char *action, int *per_memory)
{
    *per_memory = 0;
    who->listing = action;
    if (!who->identity)
        return MN_OK;
    struct decision act, read;
    const struct target listing = { action, "memory", NULL, NULL },
                        reading = { "read", "memory", NULL, NULL };
    /* What a list or search shows, a key must let it both find and read. */
    int rc = mni_apikey_scope_check(db, &who->apikey, action, "memory");
    if (rc == MN_OK)
        rc = mni_apikey_scope_check(db, &who->apikey, "read", "memory");
    if (rc == MN_OK)
        rc = decide(db, who, &listing, MNI_DKEY_EXPLAIN_DENIALS, &act);
    if (rc == MN_OK && !act.allowed)
        return denied(db, who, action, "memory", NULL, &act, act.reason);
    /* Every memory shown must pass both the list (or search) and read policies. Two decisions
     * settle it for all of them when both allow and no policy of either looks at the memory;
     * otherwise each memory is decided. */
    if (rc == MN_OK)
        rc = decide(db, who, &reading, MNI_DKEY_EXPLAIN_NONE, &read);
    if (rc != MN_OK)
        return rc;
    struct set_ref *ref;
    rc = acquire(db, who->tenant->id, who->policy_gen, &ref);
    if (rc != MN_OK)
        return rc;
    const char *role = who->identity->role;
    *per_memory = act.partial || !read.allowed || read.partial ||
                  mni_policyset_per_resource(ref->set, role, action, "memory") ||
                  mni_policyset_per_resource(ref->set, role, "read", "memory");
    release(db, ref);
    return MN_OK;
}

cJSON *mni_access_memory_json(const char *id, const char *identity_id, const char *type,
                             const char *metadata, double importance)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *meta = cJSON_Parse(metadata ? metadata : "{}");
    if (!o || !meta || (id && !cJSON_AddStringToObject(o, "id", id)) ||
        !cJSON_AddStringToObject(o, "identity_id", identity_id) ||
        !cJSON_AddStringToObject(o, "type", type) ||
        !cJSON_AddNumberToObject(o, "importance", importance)) {
        cJSON_Delete(o);
        cJSON_Delete(meta);
        return NULL;
    }
    cJSON_AddItemToObject(o, "metadata", meta);
    return o;
}

int mni_access_memory_check(mn_db *db, struct mni_who *who, const char *action,
                           const mn_memory *m)
{
    const struct target t = { action, "memory", NULL, m };
    return check(db, who, &t);
}

int mni_access_shows(mn_db *db, const struct mni_who *who, const mn_memory *m)
{
    if (!who->identity)
        return 1;
    const struct target listing = { who->listing, "memory", NULL, m },
                        reading = { "read", "memory", NULL, m };
    struct decision d = { 0 };
    mni_errmark mark = mni_err_mark();
    int rc = decide(db, who, &listing, MNI_DKEY_EXPLAIN_NONE, &d);
    if (rc == MN_OK && d.allowed)
        rc = decide(db, who, &reading, MNI_DKEY_EXPLAIN_NONE, &d);
    if (rc != MN_OK)
        mni_err_forget(mark);
    return rc == MN_OK && d.allowed;
}

/* Hidden memories are freed where they stand and the rest close ranks. */
void mni_access_filter_list(mn_db *db, const struct mni_who *who, mn_memories *l)
{
    size_t kept = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (mni_access_shows(db, who, l->items[i]))
            l->items[kept++] = l->items[i];
        else
            mn_memory_free(l->items[i]);
    }
    l->count = kept;
}
