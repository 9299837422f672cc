/* Result rows to public structs, once for every backend (rows.h). */
#include "store/rows.h"
#include "store/notfound.h"
#include "store/store.h"
#include "core/error.h"

#include <stdlib.h>

/* A text column: NULL stays NULL; a copy that could not be made sets *oom. */
static char *text(const struct mni_row *r, int col, int *oom)
{
    col += r->at;
    if (r->ops->is_null(r, col))
        return NULL;
    char *s = r->ops->text(r, col);
    if (!s)
        *oom = 1;
    return s;
}

static int64_t integer(const struct mni_row *r, int col)
{
    return r->ops->integer(r, col + r->at);
}

/* Each fills *item from r: 1, or -MN_ENOMEM (what was copied is left for the type's clear). */
static int mni_row_tenant(const struct mni_row *r, void *tenant)
{
    mn_tenant *t = tenant;
    int oom = 0;
    t->id = text(r, 0, &oom);
    t->name = text(r, 1, &oom);
    t->created_at = integer(r, 2);
    return oom || !t->id || !t->name ? -MN_ENOMEM : 1;
}

static int mni_row_identity(const struct mni_row *r, void *identity)
{
    mn_identity *i = identity;
    int oom = 0;
    i->id = text(r, 0, &oom);
    i->tenant_id = text(r, 1, &oom);
    i->external_id = text(r, 2, &oom);
    i->role = text(r, 3, &oom);
    i->claims = text(r, 4, &oom);
    i->active = (int)integer(r, 5);
    i->created_at = integer(r, 6);
    i->updated_at = integer(r, 7);
    return oom || !i->id || !i->tenant_id || !i->external_id || !i->role || !i->claims
           ? -MN_ENOMEM : 1;
}

static int mni_row_history(const struct mni_row *r, void *entry)
{
    mn_history_entry *h = entry;
    int oom = 0;
    h->version = integer(r, 0);
    h->changed_at = integer(r, 1);
    h->changed_by = text(r, 2, &oom); /* NULL: the system actor */
    h->before = text(r, 3, &oom);
    h->after = text(r, 4, &oom);
    return oom || !h->before || !h->after ? -MN_ENOMEM : 1;
}

static int mni_row_policy(const struct mni_row *r, void *policy)
{
    mn_policy *p = policy;
    int oom = 0;
    p->id = text(r, 0, &oom);
    p->tenant_id = text(r, 1, &oom);
    p->role = text(r, 2, &oom);
    p->rule = text(r, 3, &oom);
    p->priority = (int)integer(r, 4);
    p->active = (int)integer(r, 5);
    p->description = text(r, 6, &oom);
    p->created_at = integer(r, 7);
    p->updated_at = integer(r, 8);
    return oom || !p->id || !p->tenant_id || !p->role || !p->rule || !p->description
           ? -MN_ENOMEM : 1;
}

int mni_row_memory(const struct mni_row *r, mn_memory *m)
{
    int oom = 0;
    m->id = text(r, 1, &oom);
    m->tenant_id = text(r, 2, &oom);
    m->identity_id = text(r, 3, &oom);
    m->text = text(r, 4, &oom);
    m->type = text(r, 5, &oom);
    m->metadata = text(r, 6, &oom);
    m->importance = r->ops->real(r, 7 + r->at);
    m->version = integer(r, 8);
    m->created_at = integer(r, 9);
    m->updated_at = integer(r, 10);
    m->expires_at = integer(r, 11);
    m->deleted = (int)integer(r, 12);
    m->seq = integer(r, 13);
    /* Asynchronous embedding: the memory's job, when it has one. */
    m->embed_status = (int)integer(r, 15);
    m->embed_error = text(r, 16, &oom);
    m->external_key = text(r, 17, &oom);
    m->session = text(r, 18, &oom);
    return oom || !m->id || !m->tenant_id || !m->identity_id || !m->text || !m->type ||
           !m->metadata ? MN_ENOMEM : MN_OK;
}

/* An embedding job (memory id, tenant, status, attempts, run_after, error, created_at,
 * updated_at): next_at says when a pending one runs next. */
static int mni_row_job(const struct mni_row *r, void *job)
{
    mn_job *j = job;
    int oom = 0;
    j->memory_id = text(r, 0, &oom);
    j->tenant_id = text(r, 1, &oom);
    j->status = (int)integer(r, 2);
    j->attempts = (int)integer(r, 3);
    j->next_at = j->status == MN_EMBED_PENDING ? integer(r, 4) : 0;
    j->error = text(r, 5, &oom);
    j->created_at = integer(r, 6);
    j->updated_at = integer(r, 7);
    return oom || !j->memory_id || !j->tenant_id ? -MN_ENOMEM : 1;
}

/* A tenant's own rate limit (endpoint, limit, window_ms). */
static int mni_row_limit(const struct mni_row *r, void *limit)
{
    mn_limit *l = limit;
    int oom = 0;
    l->endpoint = text(r, 0, &oom);
    l->limit = integer(r, 1);
    l->window_ms = integer(r, 2);
    l->overridden = 1;
    return oom || !l->endpoint ? -MN_ENOMEM : 1;
}

/* An API key's columns (id, tenant_id, identity_id, scopes, created_at, expires_at,
 * last_used_at). */
static int mni_row_apikey(const struct mni_row *r, void *apikey)
{
    mn_apikey *k = apikey;
    int oom = 0;
    k->id = text(r, 0, &oom);
    k->tenant_id = text(r, 1, &oom);
    k->identity_id = text(r, 2, &oom);
    k->scopes = text(r, 3, &oom);
    k->created_at = integer(r, 4);
    k->expires_at = integer(r, 5);
    k->last_used_at = integer(r, 6);
    return oom || !k->id || !k->tenant_id || !k->identity_id ? -MN_ENOMEM : 1;
}

/* The same, then the key's hash (column 7). */
static int mni_row_apikey_row(const struct mni_row *r, void *row)
{
    struct mni_apikey_row *k = row;
    int rc = mni_row_apikey(r, &k->key), oom = 0;
    if (rc > 0 && !(k->hash = text(r, 7, &oom)))
        rc = -MN_ENOMEM;
    k->identity_active = !r->ops->is_null(r, r->at + 8) && integer(r, 8) != 0;
    return rc;
}

/* An audit entry (seq, at, identity_id, apikey_id, action, resources, outcome, policy_id,
 * context, prev_hash, hash). */
static int mni_row_audit(const struct mni_row *r, void *entry)
{
    mn_audit_entry *e = entry;
    int oom = 0;
    e->seq = integer(r, 0);
    e->at = integer(r, 1);
    e->identity_id = text(r, 2, &oom);
    e->apikey_id = text(r, 3, &oom);
    e->action = text(r, 4, &oom);
    e->resources = text(r, 5, &oom);
    e->outcome = text(r, 6, &oom);
    e->policy_id = text(r, 7, &oom);
    e->context = text(r, 8, &oom);
    e->prev_hash = text(r, 9, &oom);
    e->hash = text(r, 10, &oom);
    return oom || !e->action || !e->resources || !e->outcome || !e->prev_hash || !e->hash
           ? -MN_ENOMEM : 1;
}

int mni_row_actor(mn_db *db, const struct mni_row *r, mn_tenant **t, int64_t *policy_gen)
{
    *policy_gen = integer(r, 3);
    *t = calloc(1, sizeof **t);
    if (*t && mni_row_tenant(r, *t) > 0)
        return MN_OK;
    mn_tenant_free(*t);
    *t = NULL;
    return mni_seterr(db, MN_ENOMEM, "out of memory reading an actor");
}

const struct mni_row_map mni_map_tenant = { mni_row_tenant, 0 };
const struct mni_row_map mni_map_identity = { mni_row_identity, 0 };
const struct mni_row_map mni_map_history = { mni_row_history, 0 };
const struct mni_row_map mni_map_policy = { mni_row_policy, 0 };
const struct mni_row_map mni_map_limit = { mni_row_limit, 0 };
const struct mni_row_map mni_map_job = { mni_row_job, 0 };
const struct mni_row_map mni_map_apikey = { mni_row_apikey, 0 };
const struct mni_row_map mni_map_apikey_row = { mni_row_apikey_row, 0 };
const struct mni_row_map mni_map_audit = { mni_row_audit, 0 };
