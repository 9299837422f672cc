/*
 * Who a rate-limit decision is for, cached: an actor (as the caller named it) resolved to its
 * tenant id and role multiplier, with the tenant's own limits. A decision is far cheaper than
 * the store reads behind it, so the entry is kept ratelimit_refresh_ms (default 1 s): a limit
 * set, a role changed or an identity deactivated by another process applies within that time;
 * a limit set through this handle at once (mni_rl_targets_invalidate bumps the generation).
 *
 * A hash table in stripes, each with its own lock and at most STRIPE_MAX entries (stale ones
 * go first, else the oldest), so a host with many actors keeps a bounded cache.
 */
#include "api/limiter.h"
#include "core/hash.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "store/store.h"

#include <pthread.h>
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
    struct entry *next;
    uint64_t hash, gen;
    int64_t fetched_ms;
    char tenant_id[MNI_UUID_LEN + 1];
    int multiplier;
    size_t nover;
    struct over *over;
    size_t keylen;
    char key[];                /* tenant '\0' identity ('\0' alone: the system actor) */
};

struct stripe {
    pthread_mutex_t mu;
    struct entry *head;        /* newest first */
    size_t n;
} __attribute__((aligned(64)));

struct mni_rl_targets {
    _Atomic uint64_t gen;
    struct stripe stripes[STRIPES];
};

int mni_rl_targets_create(struct mni_rl_targets **out)
{
    struct mni_rl_targets *c = aligned_alloc(64, (sizeof *c + 63) / 64 * 64);
    if (!c)
        return MN_ENOMEM;
    memset(c, 0, sizeof *c);
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_init(&c->stripes[i].mu, NULL);
    *out = c;
    return MN_OK;
}

static void entry_free(struct entry *e)
{
    free(e->over);
    free(e);
}

void mni_rl_targets_free(struct mni_rl_targets *c)
{
    if (!c)
        return;
    for (int i = 0; i < STRIPES; i++) {
        for (struct entry *e = c->stripes[i].head, *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
        pthread_mutex_destroy(&c->stripes[i].mu);
    }
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
    t->multiplier = e->multiplier;
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

/* Puts e first in its stripe in place of an older entry for the same key; past STRIPE_MAX
 * entries, a stale one (else the oldest) makes room. */
static void insert(struct stripe *s, struct entry *e, uint64_t gen, int64_t now, int64_t ttl)
{
    pthread_mutex_lock(&s->mu);
    struct entry **same = NULL, **stale = NULL, **last = NULL;
    for (struct entry **p = &s->head; *p; p = &(*p)->next) {
        struct entry *x = *p;
        if (x->hash == e->hash && x->keylen == e->keylen && memcmp(x->key, e->key, e->keylen) == 0)
            same = p;
        else if (x->gen != gen || now - x->fetched_ms >= ttl)
            stale = p;
        last = p;
    }
    struct entry **victim = same ? same : s->n >= STRIPE_MAX ? (stale ? stale : last) : NULL;
    if (victim) {
        struct entry *x = *victim;
        *victim = x->next;
        entry_free(x);
        s->n--;
    }
    e->next = s->head;
    s->head = e;
    s->n++;
    pthread_mutex_unlock(&s->mu);
}

/* 1 with t filled when the stripe holds a fresh entry for the key. */
static int lookup(struct stripe *s, const char *key, size_t keylen, uint64_t h, uint64_t gen,
                  int64_t now, int64_t ttl, const char *endpoint, struct mni_rl_target *t)
{
    int found = 0;
    pthread_mutex_lock(&s->mu);
    for (struct entry *e = s->head; e; e = e->next)
        if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0) {
            found = e->gen == gen && now - e->fetched_ms < ttl;
            if (found)
                fill(e, endpoint, t);
            break;
        }
    pthread_mutex_unlock(&s->mu);
    return found;
}

int mni_rl_target(mn_db *db, const char *tenant, const char *identity, const char *endpoint,
                 struct mni_rl_target *t)
{
    char key[512];
    /* 0 when longer than any tenant and identity name: not cached, the store says not found */
    size_t keylen = make_key(tenant, identity, key, sizeof key);
    struct mni_rl_targets *c = db->rl_targets;
    uint64_t h = keylen ? mni_hash64(key, keylen, 0) : 0;
    struct stripe *s = &c->stripes[h % STRIPES];
    uint64_t gen = atomic_load_explicit(&c->gen, memory_order_acquire);
    int64_t now = mni_mono_coarse_ms(), ttl = db->cfg.ratelimit_refresh_ms;
    if (keylen && lookup(s, key, keylen, h, gen, now, ttl, endpoint, t))
        return MN_OK;
    struct entry *e = calloc(1, sizeof *e + keylen);
    if (!e)
        return mni_seterr(db, MN_ENOMEM, "out of memory");
    e->hash = h;
    e->gen = gen;
    e->fetched_ms = now;
    e->keylen = keylen;
    memcpy(e->key, key, keylen);
    int rc = fetch(db, tenant, identity, e);
    if (rc == MN_OK)
        fill(e, endpoint, t);
    if (rc != MN_OK || !keylen) {
        entry_free(e);
        return rc;
    }
    insert(s, e, gen, now, ttl);
    return MN_OK;
}
