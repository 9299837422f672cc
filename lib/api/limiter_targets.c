/*
 * Who a rate-limit decision is for, cached: an actor (as the caller named it) resolved to its
 * tenant id and role multiplier, with the tenant's own limits. A decision is far cheaper than
 * the store reads behind it, so the entry is kept ratelimit_refresh_ms (default 1 s): a limit
 * set, a role changed or an identity deactivated by another process applies within that time;
 * a limit set through this handle at once (mni_rl_targets_invalidate bumps the generation).
 *
 * The striped hash table (core/striped.h), at most STRIPE_MAX entries a stripe: a full stripe
 * drops its stale entries, else its oldest, so a host with many actors keeps a bounded cache.
 */
#include "api/limiter.h"
#include "core/hash.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/striped.h"
#include "api/handle.h"
#include "store/store.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STRIPES 16
#define STRIPE_MAX 256

struct over {
    char endpoint[MNI_RL_ENDPOINT_MAX];
    int64_t limit, window_ms;
};

struct entry {
    struct mni_striped_node node;
    uint64_t gen;
    int64_t fetched_ms;
    char tenant_id[MNI_UUID_LEN + 1];
    char identity_id[MNI_UUID_LEN + 1];
    int multiplier;
    size_t nover;
    struct over *over;
    size_t keylen;
    char key[];                /* tenant '\0' identity ('\0' alone: the system actor) */
};

/* What an entry is looked up by. */
struct key {
    const char *p;
    size_t len;
};

/* When an entry is stale, and the oldest fresh one a sweep saw. */
struct freshness {
    uint64_t gen;
    int64_t now, ttl;
    struct entry *oldest;
};

struct mni_rl_targets {
    _Atomic uint64_t gen;
    struct mni_striped table;
};

static void entry_free(struct mni_striped_node *node, void *ctx)
{
    (void)ctx;
    struct entry *e = MNI_STRIPED_ENTRY(node, struct entry, node);
    free(e->over);
    free(e);
}

static int same_key(const struct mni_striped_node *node, const void *key)
{
    const struct entry *e = MNI_STRIPED_ENTRY(node, const struct entry, node);
    const struct key *k = key;
    return e->keylen == k->len && memcmp(e->key, k->p, k->len) == 0;
}

static int stale(struct mni_striped_node *node, void *arg)
{
    struct entry *e = MNI_STRIPED_ENTRY(node, struct entry, node);
    struct freshness *f = arg;
    if (e->gen != f->gen || f->now - e->fetched_ms >= f->ttl)
        return 1;
    if (!f->oldest || e->fetched_ms < f->oldest->fetched_ms)
        f->oldest = e;
    return 0;
}

/* A full stripe's stale entries go (a lookup would refetch them anyway), else its oldest. */
static void make_room(struct mni_striped *t, struct mni_striped_stripe *s, void *arg)
{
    struct freshness *f = arg;
    f->oldest = NULL;
    if (!mni_striped_sweep(t, s, stale, f) && f->oldest)
        mni_striped_delete(t, s, &f->oldest->node);
}

int mni_rl_targets_create(struct mni_rl_targets **out)
{
    struct mni_rl_targets *c = calloc(1, sizeof *c);
    if (!c ||
        mni_striped_init(&c->table, STRIPES, STRIPE_MAX, entry_free, make_room, NULL) != MN_OK) {
        free(c);
        return MN_ENOMEM;
    }
    *out = c;
    return MN_OK;
}

void mni_rl_targets_free(struct mni_rl_targets *c)
{
    if (!c)
        return;
    mni_striped_destroy(&c->table);
    free(c);
}

void mni_rl_targets_invalidate(mn_db *db)
{
    atomic_fetch_add(&db->rl_targets->gen, 1);
}

int mni_rl_target_fresh(const mn_db *db, const struct mni_rl_target *t, int64_t now_ms)
{
    return t->gen == atomic_load_explicit(&db->rl_targets->gen, memory_order_acquire) &&
           now_ms - t->fetched_ms < db->cfg.ratelimit_refresh_ms;
}

/* The cache key of an actor: tenant, NUL, identity or nothing, NUL plus a mark for the system
 * actor, so that no identity name can pose as it. */
static size_t make_key(const char *tenant, const char *identity, char *buf, size_t size)
{
    size_t a = strlen(tenant), b = identity ? strlen(identity) : 0;
    if (a + b + 2 > size)
        return 0;
    memcpy(buf, tenant, a + 1);
    if (identity)
        memcpy(buf + a + 1, identity, b);
    buf[a + 1 + b] = identity ? '\0' : '\1';
    return a + b + 2;
}

/* Fills t from e for endpoint: the tenant's own limit, else its "*", else the built-in. */
static void fill(const struct entry *e, const char *endpoint, struct mni_rl_target *t)
{
    memcpy(t->tenant_id, e->tenant_id, sizeof t->tenant_id);
    memcpy(t->identity_id, e->identity_id, sizeof t->identity_id);
    t->multiplier = e->multiplier;
    t->builtin = 0;
    t->fetched_ms = e->fetched_ms;
    t->gen = e->gen;
    const struct over *star = NULL;
    for (size_t i = 0; i < e->nover; i++) {
        if (strcmp(e->over[i].endpoint, endpoint) == 0) {
            t->limit = e->over[i].limit;
            t->window_ms = e->over[i].window_ms;
            return;
        }
        if (strcmp(e->over[i].endpoint, "*") == 0)
            star = &e->over[i];
    }
    const struct mni_rl_builtin *b = mni_rl_builtin_for(endpoint);
    if (star && strcmp(b->endpoint, "*") == 0) {
        t->limit = star->limit;
        t->window_ms = star->window_ms;
    } else {
        t->limit = b->limit;
        t->window_ms = b->window_ms;
        t->builtin = 1;
    }
}

/* Reads the actor and the tenant's limits from the store into a new entry. */
static int fetch(mn_db *db, const char *tenant, const char *identity, struct entry *e)
{
    mn_tenant *t = NULL;
    mn_identity *i = NULL;
    int64_t gen;
    int rc = db->store->ops->actor_get(db->store, tenant, identity, &t, &i, &gen);
    if (rc == MN_OK && identity && !i->active)
        rc = mni_seterr(db, MN_EDENIED, "identity \"%.128s\" is deactivated and may not act",
                       i->external_id);
    if (rc == MN_OK) {
        snprintf(e->tenant_id, sizeof e->tenant_id, "%s", t->id);
        snprintf(e->identity_id, sizeof e->identity_id, "%s", identity ? i->id : "");
        e->multiplier = mni_rl_multiplier(identity ? i->role : NULL);
    }
    mn_limits *l = NULL;
    if (rc == MN_OK && db->store->ops->ratelimit_limit_list)
        rc = db->store->ops->ratelimit_limit_list(db->store, e->tenant_id, &l);
    if (rc == MN_OK && l && l->count && !(e->over = calloc(l->count, sizeof *e->over)))
        rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    for (size_t k = 0; rc == MN_OK && l && k < l->count; k++) {
        snprintf(e->over[k].endpoint, sizeof e->over[k].endpoint, "%s", l->items[k]->endpoint);
        e->over[k].limit = l->items[k]->limit;
        e->over[k].window_ms = l->items[k]->window_ms;
        e->nover++;
    }
    mn_limits_free(l);
    mn_tenant_free(t);
    mn_identity_free(i);
    return rc;
}

/* 1 with t filled when the table holds a fresh entry for the key. */
static int lookup(struct mni_striped *tb, const struct key *k, uint64_t h,
                  const struct freshness *f, const char *endpoint, struct mni_rl_target *t)
{
    int found = 0;
    struct mni_striped_stripe *s = mni_striped_at(tb, h);
    mni_striped_lock(s);
    struct mni_striped_node *n = mni_striped_find(tb, s, h, same_key, k);
    if (n) {
        const struct entry *e = MNI_STRIPED_ENTRY(n, const struct entry, node);
        found = e->gen == f->gen && f->now - e->fetched_ms < f->ttl;
        if (found)
            fill(e, endpoint, t);
    }
    mni_striped_unlock(s);
    return found;
}

int mni_rl_target(mn_db *db, const char *tenant, const char *identity, const char *endpoint,
                 struct mni_rl_target *t)
{
    char buf[512];
    /* 0 when longer than any tenant and identity name: not cached, the store says not found */
    struct key k = {buf, make_key(tenant, identity, buf, sizeof buf)};
    struct mni_rl_targets *c = db->rl_targets;
    uint64_t h = k.len ? mni_hash64(buf, k.len, 0) : 0;
    struct freshness f = {atomic_load_explicit(&c->gen, memory_order_acquire),
                          mni_mono_coarse_ms(), db->cfg.ratelimit_refresh_ms, NULL};
    if (k.len && lookup(&c->table, &k, h, &f, endpoint, t))
        return MN_OK;
    struct entry *e = calloc(1, sizeof *e + k.len);
    if (!e)
        return mni_seterr(db, MN_ENOMEM, "out of memory");
    e->node.hash = h;
    e->gen = f.gen;
    e->fetched_ms = f.now;
    e->keylen = k.len;
    memcpy(e->key, buf, k.len);
    int rc = fetch(db, tenant, identity, e);
    if (rc == MN_OK)
        fill(e, endpoint, t);
    if (rc != MN_OK || !k.len) {
        entry_free(&e->node, NULL);
        return rc;
    }
    mni_striped_put(&c->table, &e->node, same_key, &k, &f);
    return MN_OK;
}
