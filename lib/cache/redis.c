/*
 * The Redis cache, shared by every process on the store: values under "mn:NS:v:" + key with a
 * TTL (SET PX), generations under "mn:NS:g:" + scope (INCR), NS naming the database so that
 * databases sharing one server never see each other's entries. mni_cache_clear cannot delete
 * by pattern without blocking the server (KEYS, or a SCAN walk racing new entries): it bumps
 * the epoch "mn:NS:g:*", which every generation read also returns (one MGET), so that each
 * key made before is never asked for again and expires by its TTL.
 *
 * A server that failed is not asked again for reads and puts for a second (each then a miss,
 * counted as a failure): a cache must not make every call wait out a connect timeout. Bumps
 * are always tried: a write whose bump is skipped would leave other processes that still
 * reach the server reading what it changed. A bump that failed all the same is made good by
 * a new epoch (as mn_cache_clear), which this handle moves on before it uses the server again:
 * other processes may read what the write changed only between the server's return and this
 * handle's next call.
 */
#include "cache/cache.h"
#include "cache/backends.h"
#include "core/clock.h"
#include "core/error.h"
#include "redis/redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPOCH "*"
#define PAUSE_MS 1000

struct redis_cache {
    struct mni_cache base;
    struct mni_redis_pool *pool;
    char prefix[48]; /* "mn:NS:" */
    size_t plen;
    _Atomic int64_t paused_until; /* mni_mono_coarse_ms; reads and puts skipped until then */
    _Atomic uint64_t owed_epoch;  /* bumps failed: move the epoch on before anything else */
};

static int incr(struct redis_cache *r, const char *scope);

/* prefix + kind + rest into a malloc'd buffer (*len bytes); NULL when out of memory. */
static char *make_key(const struct redis_cache *r, char kind, const void *rest, size_t restlen,
                      size_t *len)
{
    char *k = malloc(r->plen + 2 + restlen);
    if (!k)
        return NULL;
    memcpy(k, r->prefix, r->plen);
    k[r->plen] = kind;
    k[r->plen + 1] = ':';
    memcpy(k + r->plen + 2, rest, restlen);
    *len = r->plen + 2 + restlen;
    return k;
}

/* Runs one command; the reply, or NULL after a failure counted and logged as what. Unless
 * always, skipped (a failure) while the server is paused after a failure. */
static redisReply *run(struct redis_cache *r, const char *what, int always, int argc,
                       const char **argv, const size_t *lens)
{
    redisReply *rep = NULL;
    char err[MNI_ERRMSG_MAX];
    int64_t now = mni_mono_coarse_ms();
    if (!always && (now < atomic_load_explicit(&r->paused_until, memory_order_relaxed) ||
                    (atomic_load(&r->owed_epoch) && incr(r, EPOCH) != 0))) {
        atomic_fetch_add_explicit(&r->base.failures, 1, memory_order_relaxed);
        return NULL;
    }
    if (mni_redis_command(r->pool, argc, argv, lens, &rep, err, sizeof err) != MN_OK) {
        atomic_store_explicit(&r->paused_until, now + PAUSE_MS, memory_order_relaxed);
        mni_cache_failed(&r->base, what, err);
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(err, sizeof err, "Redis answered: %.200s", rep->str);
        mni_cache_failed(&r->base, what, err);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

static int rc_get(struct mni_cache *c, const void *key, size_t klen, void **val, size_t *vlen)
{
    struct redis_cache *r = (struct redis_cache *)c;
    size_t len;
    char *k = make_key(r, 'v', key, klen, &len);
    if (!k)
        return 0;
    const char *argv[] = {"GET", k};
    size_t lens[] = {3, len};
    redisReply *rep = run(r, "GET", 0, 2, argv, lens);
    free(k);
    int hit = rep && rep->type == REDIS_REPLY_STRING &&
              (*val = malloc(rep->len ? rep->len : 1)) != NULL;
    if (hit) {
        memcpy(*val, rep->str, rep->len);
        *vlen = rep->len;
    }
    if (rep)
        freeReplyObject(rep);
    return hit;
}

static void rc_put(struct mni_cache *c, const void *key, size_t klen, const void *val,
                   size_t vlen, int64_t ttl_ms)
{
    struct redis_cache *r = (struct redis_cache *)c;
    size_t len;
    char *k = make_key(r, 'v', key, klen, &len);
    if (!k)
        return;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_ms);
    const char *argv[] = {"SET", k, val, "PX", ttl};
    size_t lens[] = {3, len, vlen, 2, strlen(ttl)};
    redisReply *rep = run(r, "SET", 0, 5, argv, lens);
    free(k);
    if (rep)
        freeReplyObject(rep);
}

/* A generation as Redis keeps it: nil (never bumped) is 0; anything else not a number is
 * taken as unreadable. */
static int read_gen(const redisReply *e, uint64_t *g)
{
    if (e->type == REDIS_REPLY_NIL) {
        *g = 0;
        return 1;
    }
    if (e->type != REDIS_REPLY_STRING)
        return 0;
    char *end;
    *g = strtoull(e->str, &end, 10);
    return end != e->str && *end == '\0';
}

/* The scope's generation and the epoch, in one round trip, mixed into one number: both only
 * grow, so (epoch, gen) never comes back, and the mix makes a repeat after a bump of either
 * as unlikely as a 64-bit hash collision. 0 is kept for "unreadable". */
static uint64_t rc_gen(struct mni_cache *c, const char *scope)
{
    struct redis_cache *r = (struct redis_cache *)c;
    size_t l1, l2;
    char *ke = make_key(r, 'g', EPOCH, 1, &l1);
    char *ks = make_key(r, 'g', scope, strlen(scope), &l2);
    uint64_t out = 0;
    if (ke && ks) {
        const char *argv[] = {"MGET", ke, ks};
        size_t lens[] = {4, l1, l2};
        redisReply *rep = run(r, "MGET", 0, 3, argv, lens);
        uint64_t e, g;
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
            read_gen(rep->element[0], &e) && read_gen(rep->element[1], &g))
            out = (e << 40 | (g & ((1ull << 40) - 1))) + 1;
        if (rep)
            freeReplyObject(rep);
    }
    free(ke);
    free(ks);
    return out;
}

static int incr(struct redis_cache *r, const char *scope)
{
    /* An epoch settles the bumps that failed before it was sent, not one failing meanwhile. */
    int epoch = strcmp(scope, EPOCH) == 0;
    uint64_t owed = atomic_load(&r->owed_epoch);
    size_t len;
    char *k = make_key(r, 'g', scope, strlen(scope), &len);
    redisReply *rep = NULL;
    if (k) {
        const char *argv[] = {"INCR", k};
        size_t lens[] = {4, len};
        rep = run(r, "INCR", 1, 2, argv, lens);
    } else {
        mni_cache_failed(&r->base, "INCR", "out of memory");
    }
    free(k);
    if (!rep) {
        atomic_fetch_add(&r->owed_epoch, 1);
        return -1;
    }
    freeReplyObject(rep);
    if (epoch)
        atomic_compare_exchange_strong(&r->owed_epoch, &owed, 0);
    return 0;
}

static int rc_bump(struct mni_cache *c, const char *scope)
{
    return incr((struct redis_cache *)c, scope);
}

static int rc_clear(struct mni_cache *c, char *err, size_t errlen)
{
    if (incr((struct redis_cache *)c, EPOCH) == 0)
        return MN_OK;
    snprintf(err, errlen, "Redis did not take the new cache epoch (INCR); the handle's log "
             "says why");
    return MN_EBACKEND;
}

static void rc_size(struct mni_cache *c, uint64_t *entries, uint64_t *bytes)
{
    (void)c;
    *entries = *bytes = 0;
}

static void rc_destroy(struct mni_cache *c)
{
    struct redis_cache *r = (struct redis_cache *)c;
    mni_redis_pool_free(r->pool);
    mni_cache_base_destroy(c);
    free(r);
}

static const struct mni_cache_ops redis_ops = {"redis", MN_CACHE_REDIS, rc_get,  rc_put,
                                               rc_gen,  rc_bump,        rc_clear, rc_size,
                                               rc_destroy};

int mni_cache_redis_create(mn_db *db, mn_config *cfg, const char *ns, struct mni_cache **out)
{
    struct redis_cache *r = calloc(1, sizeof *r);
    if (!r)
        return mni_seterr(db, MN_ENOMEM, "out of memory");
    int rc = mni_redis_config_pool(db, cfg, &r->pool);
    if (rc != MN_OK) {
        free(r);
        return rc;
    }
    atomic_init(&r->paused_until, 0);
    atomic_init(&r->owed_epoch, 0);
    r->plen = (size_t)snprintf(r->prefix, sizeof r->prefix, "mn:%.32s:", ns);
    mni_cache_base_init(&r->base, &redis_ops, db, (int64_t)cfg->redis_health_check_s * 1000);
    *out = &r->base;
    return MN_OK;
}
