/* Access control: the policy decision in front of every API call made for an identity.
 *
 * Compiled policy sets are kept per tenant in the handle, tagged with the tenant's policy
 * generation (advanced by the store on every policy change, by any process): a call reads the
 * generation (one indexed read) and reuses the set while it is current. Sets are reference
 * counted, so a thread may keep deciding with a set that another thread has just replaced. */
#include "api/access.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/free.h"
#include "core/handle.h"
#include "core/uuid.h"
#include "policy/decision_cache.h"
#include "policy/policy.h"
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct set_ref {
    mn_policyset *set;
    int refs;
};

struct set_entry {
    char tenant_id[MN_UUID_LEN + 1];
    int64_t gen;
    struct set_ref *ref;
};

struct mn_policy_sets {
    pthread_mutex_t mu;
    struct set_entry *entries;
    size_t n, cap;
    mn_dcache *decisions;  /* verdicts by request, tagged with the policy generation */
};

int mn_policy_sets_create(struct mn_policy_sets **out)
{
    struct mn_policy_sets *ps = calloc(1, sizeof *ps);
    if (!ps)
        return MN_ENOMEM;
    ps->decisions = mn_dcache_create(MN_DCACHE_DEFAULT_CAPACITY, MN_DCACHE_DEFAULT_TTL_MS);
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
        mn_policyset_free(r->set);
        free(r);
    }
}

void mn_policy_sets_free(struct mn_policy_sets *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n; i++)
        unref(ps->entries[i].ref);
    free(ps->entries);
    mn_dcache_free(ps->decisions);
    pthread_mutex_destroy(&ps->mu);
    free(ps);
}

static struct set_entry *find(struct mn_policy_sets *ps, const char *tenant_id)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->entries[i].tenant_id, tenant_id) == 0)
            return &ps->entries[i];
    return NULL;
}

/* Compiles the tenant's stored policies. */
static int load_set(mn_db *db, const char *tenant_id, struct set_ref **out)
{
    mn_policy_list *l;
    int rc = db->store->ops->policy_list(db->store, tenant_id, &l);
    if (rc != MN_OK)
        return rc;
    struct mn_policy_src *src = calloc(l->count ? l->count : 1, sizeof *src);
    struct set_ref *ref = calloc(1, sizeof *ref);
    if (!src || !ref) {
        rc = mn_seterr(db, MN_ENOMEM, "out of memory loading policies");
    } else {
        for (size_t i = 0; i < l->count; i++)
            src[i] = (struct mn_policy_src){ l->items[i].id, l->items[i].role, l->items[i].rule,
                                             l->items[i].priority, l->items[i].active };
        char err[MN_ERRMSG_MAX - 64];
        rc = mn_policyset_compile(src, l->count, &ref->set, err, sizeof err);
        if (rc != MN_OK)
            mn_seterr(db, rc, "the tenant's policies do not compile: %s", err);
    }
    free(src);
    mn_policy_list_free(l);
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
    struct mn_policy_sets *ps = db->policy_sets;
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

static void request_for(const struct mn_who *who, const char *action, const char *resource,
                        const cJSON *data, struct mn_request *rq)
{
    *rq = (struct mn_request){
        .identity_id = who->identity->id, .role = who->identity->role, .claims = who->claims,
        .action = action, .resource = resource, .resource_data = data,
        .context = who->context, .now_ms = mn_now_ms(),
    };
}

/* The bytes a decision depends on, NUL-separated: who (tenant, identity, role, claims), what
 * (action, resource, the resource's data) and the context. */
static char *decision_key(const struct mn_who *who, const char *action, const char *resource,
                          const cJSON *data, size_t *len)
{
    char *data_text = data ? cJSON_PrintUnformatted(data) : NULL;
    char *ctx_text = who->context ? cJSON_PrintUnformatted(who->context) : NULL;
    const char *parts[] = { who->tenant->id, who->identity->id, who->identity->role,
                            who->identity->claims, action, resource,
                            data_text ? data_text : "", ctx_text ? ctx_text : "" };
    size_t total = 0, n = sizeof parts / sizeof *parts;
    for (size_t i = 0; i < n; i++)
        total += strlen(parts[i]) + 1;
    char *key = (!data || data_text) && (!who->context || ctx_text) ? malloc(total) : NULL;
    for (size_t i = 0, at = 0; key && i < n; i++) {
        size_t l = strlen(parts[i]) + 1;
        memcpy(key + at, parts[i], l);
        at += l;
    }
    cJSON_free(data_text);
    cJSON_free(ctx_text);
    *len = total;
    return key;
}

/* A decision as the API uses it. partial: allowed without resource data only because
 * conditions on the resource were assumed to hold (policy.h): true for no resource in
 * particular, so it allows a list or search that then checks each memory, and nothing else. */
struct decision {
    int allowed, partial;
    char policy_id[MN_UUID_LEN + 1];
    char reason[MN_DCACHE_REASON_MAX];
};

/* The cache keeps one int per verdict: bit 0 allowed, bit 1 partial. */
#define CACHED_ALLOWED 1
#define CACHED_PARTIAL 2

/* Decides with the tenant's current policies, through the handle's decision cache. */
static int decide(mn_db *db, const struct mn_who *who, const char *action, const char *resource,
                  const cJSON *data, struct decision *d)
{
    struct mn_policy_sets *ps = db->policy_sets;
    int64_t gen = who->policy_gen, now = mn_now_ms();
    size_t len;
    char *key = decision_key(who, action, resource, data, &len);
    if (!key)
        return mn_seterr(db, MN_ENOMEM, "out of memory deciding");
    int bits;
    if (mn_dcache_get(ps->decisions, key, len, (uint64_t)gen, now, &bits, d->policy_id,
                      sizeof d->policy_id, d->reason, sizeof d->reason)) {
        d->allowed = (bits & CACHED_ALLOWED) != 0;
        d->partial = (bits & CACHED_PARTIAL) != 0;
        free(key);
        return MN_OK;
    }
    struct set_ref *ref;
    int rc = acquire(db, who->tenant->id, gen, &ref);
    if (rc == MN_OK) {
        struct mn_request rq;
        struct mn_verdict v = { 0 };
        request_for(who, action, resource, data, &rq);
        rq.now_ms = now;
        /* A rule that fails to evaluate (a "when" past its limits) denies, and is not cached:
         * never allow by error. The engine's reason names the rule and the failure. */
        int ok = mn_policyset_decide(ref->set, &rq, &v) == MN_OK;
        d->allowed = ok && v.allowed;
        d->partial = ok && v.allowed && v.partial;
        snprintf(d->policy_id, sizeof d->policy_id, "%s", v.policy_id ? v.policy_id : "");
        snprintf(d->reason, sizeof d->reason, "%s", ok || v.reason[0] ? v.reason
                 : "a policy rule failed to evaluate");
        if (ok)
            mn_dcache_put(ps->decisions, key, len, (uint64_t)gen, now, v.valid_until_ms,
                          (d->allowed ? CACHED_ALLOWED : 0) | (d->partial ? CACHED_PARTIAL : 0),
                          v.policy_id, v.reason);
        release(db, ref);
    }
    free(key);
    return rc;
}

/* As decide, for any actor: the system actor is trusted. */
static int decide_for(mn_db *db, const struct mn_who *who, const char *action,
                      const char *resource, const cJSON *data, struct decision *d)
{
    if (who->identity)
        return decide(db, who, action, resource, data, d);
    *d = (struct decision){ .allowed = 1, .reason = "the tenant's system actor is trusted" };
    return MN_OK;
}

int mn_access_decide(mn_db *db, const struct mn_who *who, const char *action,
                     const char *resource, const cJSON *data, int *allowed, char **policy_id,
                     char **reason)
{
    if (policy_id)
        *policy_id = NULL;
    if (reason)
        *reason = NULL;
    struct decision d;
    int rc = decide_for(db, who, action, resource, data, &d);
    if (rc != MN_OK)
        return rc;
    *allowed = d.allowed;
    if ((policy_id && d.policy_id[0] && !(*policy_id = strdup(d.policy_id))) ||
        (reason && !(*reason = strdup(d.reason)))) {
        free(policy_id ? *policy_id : NULL);
        return mn_seterr(db, MN_ENOMEM, "out of memory");
    }
    return MN_OK;
}

static int denied(mn_db *db, const struct mn_who *who, const char *action,
                  const char *resource, const char *reason)
{
    return mn_seterr(db, MN_EDENIED, "identity \"%.128s\" (role %.64s) may not %s %s: %s",
                     who->identity->external_id, who->identity->role, action, resource, reason);
}

int mn_access_check(mn_db *db, const struct mn_who *who, const char *action,
                    const char *resource, const cJSON *data)
{
    if (!who->identity)
        return MN_OK;
    struct decision d;
    int rc = decide(db, who, action, resource, data, &d);
    if (rc == MN_OK && !d.allowed)
        rc = denied(db, who, action, resource, d.reason);
    /* Allowed only for resources that meet conditions, and none was named: a call on all of
     * them at once (a purge, say) needs a policy without conditions on the resource. */
    if (rc == MN_OK && d.partial)
        rc = denied(db, who, action, resource, "the allowing policy only covers some of them "
                    "(it has conditions on the resource), and this call is on no one in "
                    "particular");
    return rc;
}

int mn_access_begin(mn_db *db, struct mn_who *who, const char *action, int *per_memory)
{
    *per_memory = 0;
    who->listing = action;
    if (!who->identity)
        return MN_OK;
    struct decision act, read;
    int rc = decide(db, who, action, "memory", NULL, &act);
    if (rc == MN_OK && !act.allowed)
        return denied(db, who, action, "memory", act.reason);
    /* Every memory shown must pass both the list (or search) and read policies. Two decisions
     * settle it for all of them when both allow and no policy of either looks at the memory;
     * otherwise each memory is decided. */
    if (rc == MN_OK)
        rc = decide(db, who, "read", "memory", NULL, &read);
    if (rc != MN_OK)
        return rc;
    struct set_ref *ref;
    rc = acquire(db, who->tenant->id, who->policy_gen, &ref);
    if (rc != MN_OK)
        return rc;
    const char *role = who->identity->role;
    *per_memory = act.partial || !read.allowed || read.partial ||
                  mn_policyset_per_resource(ref->set, role, action, "memory") ||
                  mn_policyset_per_resource(ref->set, role, "read", "memory");
    release(db, ref);
    return MN_OK;
}

cJSON *mn_access_memory_json(const char *id, const char *identity_id, const char *type,
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

int mn_access_memory_check(mn_db *db, const struct mn_who *who, const char *action,
                           const mn_memory *m)
{
    if (!who->identity)
        return MN_OK;
    cJSON *data = mn_access_memory_json(m->id, m->identity_id, m->type, m->metadata,
                                        m->importance);
    int rc = data ? mn_access_check(db, who, action, "memory", data)
                  : mn_seterr(db, MN_ENOMEM, "out of memory");
    cJSON_Delete(data);
    return rc;
}

/* 1 when who may both `action` (the list or search) and read the memory m. */
static int shows(mn_db *db, const struct mn_who *who, const char *action, const mn_memory *m)
{
    if (!who->identity)
        return 1;
    cJSON *data = mn_access_memory_json(m->id, m->identity_id, m->type, m->metadata,
                                        m->importance);
    struct decision d = { 0 };
    int yes = data && decide(db, who, action, "memory", data, &d) == MN_OK && d.allowed &&
              decide(db, who, "read", "memory", data, &d) == MN_OK && d.allowed;
    cJSON_Delete(data);
    return yes;
}

/* Hidden memories are freed where they stand and the rest close ranks. */
void mn_access_filter_list(mn_db *db, const struct mn_who *who, mn_memory_list *l)
{
    size_t kept = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (shows(db, who, who->listing, &l->items[i]))
            l->items[kept++] = l->items[i];
        else
            mn_memory_clear(&l->items[i]);
    }
    l->count = kept;
}
