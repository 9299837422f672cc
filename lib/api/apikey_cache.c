/*
 * Verifying API keys: what a server does for every request that bears one, so it is cached.
 *
 * A key is found by its public id in the handle's striped table (core/striped.h), read from the
 * store again after about a second (a revoke by another process applies within that time; one
 * through this handle at once: mni_apikeys_invalidate bumps the generation every entry
 * carries). The presented key is always hashed (BLAKE2b keyed with the database's secret) and
 * compared in constant time, with a dummy hash when the id is unknown, so that a wrong,
 * unknown, revoked or expired key costs the same work and gets the same answer.
 */
#include "api/apikey.h"
#include "api/handle.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/metrics.h"
#include "core/striped.h"
#include "store/store.h"
#include "store/types.h"

#include <cJSON.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 16
#define STRIPE_MAX 4096        /* a full stripe starts over: the keys in use come back */
#define REFRESH_MS 1000
#define TOUCH_MS 60000         /* last_used_at is written at most this often per key */
#define SECRET_NAME "apikey_secret"

struct entry {
    struct mni_striped_node node;
    uint64_t gen;
    int64_t fetched_ms;        /* monotonic */
    int64_t last_used_at;      /* as stored, or as this handle last recorded it */
    unsigned char hash[MNI_APIKEY_HASH_BYTES];
    mn_apikey key;
    char *scopes;              /* a grant's list (apikey.h); NULL: no narrowing */
    int identity_active;       /* a key of a deactivated identity is refused like a wrong one */
};

struct mni_apikeys {
    _Atomic uint64_t gen;
    _Atomic int ready;         /* secret loaded */
    pthread_mutex_t mu;        /* held while loading it */
    unsigned char secret[crypto_generichash_KEYBYTES];
    struct mni_striped table;
};

static void entry_free(struct mni_striped_node *node, void *ctx)
{
    (void)ctx;
    struct entry *e = MNI_STRIPED_ENTRY(node, struct entry, node);
    mni_apikey_clear(&e->key);
    free(e->scopes);
    free(e);
}

static int same_id(const struct mni_striped_node *node, const void *id)
{
    const struct entry *e = MNI_STRIPED_ENTRY(node, const struct entry, node);
    return memcmp(e->key.id, id, MNI_APIKEY_ID_HEX + 1) == 0;
}

/* A full stripe starts over, as without a callback; its live entries count as evicted on the
 * handle's metrics (arg: mni_striped_put's). */
static void stripe_full(struct mni_striped *t, struct mni_striped_stripe *s, void *arg)
{
    mni_metrics_add(arg, MNI_S_CACHE_EVICTIONS + MNI_CACHE_APIKEY, (int64_t)s->n);
    mni_striped_clear(t, s);
}

int mni_apikeys_create(struct mni_apikeys **out)
{
    struct mni_apikeys *c = calloc(1, sizeof *c);
    if (!c || mni_striped_init(&c->table, STRIPES, STRIPE_MAX, entry_free, stripe_full,
                               NULL) != MN_OK) {
        free(c);
        return MN_ENOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    *out = c;
    return MN_OK;
}

void mni_apikeys_free(struct mni_apikeys *c)
{
    if (!c)
        return;
    mni_striped_destroy(&c->table);
    pthread_mutex_destroy(&c->mu);
    sodium_memzero(c->secret, sizeof c->secret);
    free(c);
}

void mni_apikeys_invalidate(mn_db *db)
{
    atomic_fetch_add(&db->apikeys->gen, 1);
}

/* The database's secret: made by the first process that needs it (insert if absent), then
 * read back, so that processes racing to make it all use the one that won. */
static int load_secret(mn_db *db, struct mni_apikeys *c)
{
    const struct mni_store_ops *ops = db->store->ops;
    char *hex = NULL;
    int rc = ops->meta_get(db->store, SECRET_NAME, &hex);
    if (rc == MN_OK && !hex) {
        unsigned char fresh[sizeof c->secret];
        char fresh_hex[2 * sizeof fresh + 1];
        randombytes_buf(fresh, sizeof fresh);
        sodium_bin2hex(fresh_hex, sizeof fresh_hex, fresh, sizeof fresh);
        rc = ops->meta_add(db->store, SECRET_NAME, fresh_hex);
        sodium_memzero(fresh, sizeof fresh);
        sodium_memzero(fresh_hex, sizeof fresh_hex);
        if (rc == MN_OK)
            rc = ops->meta_get(db->store, SECRET_NAME, &hex);
    }
    size_t got = 0;
    if (rc == MN_OK && (!hex || sodium_hex2bin(c->secret, sizeof c->secret, hex, strlen(hex),
                                               NULL, &got, NULL) != 0 || got != sizeof c->secret))
        rc = mni_seterr(db, MN_ECORRUPT, "the database's API key secret (meta %s) is damaged; "
                        "no API key of it can be verified", SECRET_NAME);
    if (hex) {
        sodium_memzero(hex, strlen(hex));
        free(hex);
    }
    return rc;
}

int mni_apikey_hash(mn_db *db, const char *key, unsigned char out[MNI_APIKEY_HASH_BYTES])
{
    struct mni_apikeys *c = db->apikeys;
    if (!atomic_load_explicit(&c->ready, memory_order_acquire)) {
        int rc = MN_OK;
        pthread_mutex_lock(&c->mu);
        if (!atomic_load_explicit(&c->ready, memory_order_relaxed) &&
            (rc = load_secret(db, c)) == MN_OK)
            atomic_store_explicit(&c->ready, 1, memory_order_release);
        pthread_mutex_unlock(&c->mu);
        if (rc != MN_OK)
            return rc;
    }
    crypto_generichash(out, MNI_APIKEY_HASH_BYTES, (const unsigned char *)key, MNI_APIKEY_LEN,
                       c->secret, sizeof c->secret);
    return MN_OK;
}

void mni_apikey_grant_release(struct mni_apikey_grant *g)
{
    free(g->scopes);
    memset(g, 0, sizeof *g);
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int well_formed(const char *key)
{
    return strnlen(key, MNI_APIKEY_LEN + 1) == MNI_APIKEY_LEN && memcmp(key, "mk_", 3) == 0 &&
           is_hex(key + 3, MNI_APIKEY_ID_HEX) && key[3 + MNI_APIKEY_ID_HEX] == '_' &&
           is_hex(key + 4 + MNI_APIKEY_ID_HEX, MNI_APIKEY_SECRET_HEX);
}

static size_t list_size(const char *list)
{
    const char *s = list;
    while (*s)
        s += strlen(s) + 1;
    return (size_t)(s - list) + 1;
}

static int dup_key(const mn_apikey *k, mn_apikey **out)
{
    mn_apikey *d = calloc(1, sizeof *d);
    if (d) {
        *d = *k;
        d->id = strdup(k->id);
        d->tenant_id = strdup(k->tenant_id);
        d->identity_id = strdup(k->identity_id);
        d->scopes = k->scopes ? strdup(k->scopes) : NULL;
    }
    if (!d || !d->id || !d->tenant_id || !d->identity_id || (k->scopes && !d->scopes)) {
        mn_apikey_free(d);
        return MN_ENOMEM;
    }
    *out = d;
    return MN_OK;
}

/* What a key is presented for, and what comes of it. */
struct presented {
    const unsigned char *mac;  /* the presented key's hash */
    int64_t now;               /* wall clock, for expiry and last use */
    struct mni_apikey_grant *g;
    mn_apikey **out;
    int touch;                 /* the use is to be recorded */
};

/* Zeros: what the hash of a key whose id is unknown is compared with (no key hashes to it). */
static const unsigned char dummy[MNI_APIKEY_HASH_BYTES];

/* Judges the presented key against e (NULL: its id is unknown), under e's stripe lock or
 * before e is shared: MN_OK with the grant made, MN_EDENIED (no message: it is set outside the
 * lock), MN_ENOMEM. */
static int judge(struct entry *e, struct presented *p)
{
    int same = sodium_memcmp(p->mac, e ? e->hash : dummy, MNI_APIKEY_HASH_BYTES) == 0;
    if (!e || !same || !e->identity_active || (e->key.expires_at && p->now >= e->key.expires_at))
        return MN_EDENIED;
    if (p->g) {
        memcpy(p->g->id, e->key.id, sizeof p->g->id);
        snprintf(p->g->tenant_id, sizeof p->g->tenant_id, "%s", e->key.tenant_id);
        snprintf(p->g->identity_id, sizeof p->g->identity_id, "%s", e->key.identity_id);
        if (e->scopes && !(p->g->scopes = malloc(list_size(e->scopes))))
            return MN_ENOMEM;
        if (e->scopes)
            memcpy(p->g->scopes, e->scopes, list_size(e->scopes));
    }
    if (p->out && dup_key(&e->key, p->out) != MN_OK)
        return MN_ENOMEM;
    if (p->now - e->last_used_at >= TOUCH_MS) {
        e->last_used_at = p->now;
        p->touch = 1;
    }
    return MN_OK;
}

/* Reads the key with id from the store into a new entry (*out NULL when there is none). */
static int fetch(mn_db *db, const char *id, struct entry **out)
{
    *out = NULL;
    struct mni_apikey_row *row = NULL;
    int rc = db->store->ops->apikey_get(db->store, id, &row);
    if (rc == MN_ENOTFOUND)
        return MN_OK;
    if (rc != MN_OK)
        return rc;
    struct entry *e = calloc(1, sizeof *e);
    char *json = NULL;
    size_t got = 0;
    if (!e)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    else if (sodium_hex2bin(e->hash, sizeof e->hash, row->hash, strlen(row->hash), NULL, &got,
                            NULL) != 0 || got != sizeof e->hash)
        rc = mni_seterr(db, MN_ECORRUPT, "API key %s is damaged in the store (its hash); "
                        "revoke it and make another", id);
    else if (row->key.scopes)
        rc = mni_apikey_scopes_parse(db, row->key.scopes, &json, &e->scopes);
    cJSON_free(json);
    if (rc == MN_OK) {
        e->key = row->key;
        e->last_used_at = row->key.last_used_at;
        e->identity_active = row->identity_active;
        memset(&row->key, 0, sizeof row->key);
        *out = e;
    } else if (e) {
        entry_free(&e->node, NULL);
    }
    mni_one_free(row, mni_apikey_row_clear);
    return rc;
}

/* 1 when a fresh entry for id was there (rc: its verdict), 0 when it must be read. */
static int judge_cached(struct mni_apikeys *c, const char *id, uint64_t h, uint64_t gen,
                        int64_t mono, struct presented *p, int *rc)
{
    struct mni_striped_stripe *s = mni_striped_at(&c->table, h);
    mni_striped_lock(s);
    struct mni_striped_node *n = mni_striped_find(&c->table, s, h, same_id, id);
    struct entry *e = n ? MNI_STRIPED_ENTRY(n, struct entry, node) : NULL;
    int fresh = e && e->gen == gen && mono - e->fetched_ms < REFRESH_MS;
    if (fresh)
        *rc = judge(e, p);
    mni_striped_unlock(s);
    return fresh;
}

int mni_apikey_check(mn_db *db, const char *key, struct mni_apikey_grant *g, mn_apikey **out)
{
    if (g)
        memset(g, 0, sizeof *g);
    if (out)
        *out = NULL;
    if (!key)
        return mni_seterr(db, MN_EINVAL, "the API key is NULL; give the key mn_apikey_create "
                          "made (mk_...)");
    if (!well_formed(key))
        return mni_seterr(db, MN_EINVAL, "that is not an API key: a key reads mk_, %d lowercase "
                          "hex digits, _ and %d more, as mn_apikey_create made it",
                          MNI_APIKEY_ID_HEX, MNI_APIKEY_SECRET_HEX);
    unsigned char mac[MNI_APIKEY_HASH_BYTES];
    int rc = mni_apikey_hash(db, key, mac);
    if (rc != MN_OK)
        return rc;
    char id[MNI_APIKEY_ID_HEX + 1];
    memcpy(id, key + 3, MNI_APIKEY_ID_HEX);
    id[MNI_APIKEY_ID_HEX] = '\0';
    struct mni_apikeys *c = db->apikeys;
    uint64_t h = mni_hash64(id, MNI_APIKEY_ID_HEX, 0);
    uint64_t gen = atomic_load_explicit(&c->gen, memory_order_acquire);
    int64_t mono = mni_mono_coarse_ms();
    struct presented p = {mac, mni_now_ms(), g, out, 0};
    if (judge_cached(c, id, h, gen, mono, &p, &rc)) {
        mni_metrics_inc(db->metrics, MNI_S_CACHE_HITS + MNI_CACHE_APIKEY);
    } else {
        mni_metrics_inc(db->metrics, MNI_S_CACHE_MISSES + MNI_CACHE_APIKEY);
        struct entry *e;
        if ((rc = fetch(db, id, &e)) != MN_OK)
            return rc;
        rc = judge(e, &p);
        if (e) {
            e->node.hash = h;
            e->gen = gen;
            e->fetched_ms = mono;
            mni_striped_put(&c->table, &e->node, same_id, id, db->metrics);
        }
    }
    if (rc == MN_OK && p.touch && !(db->cfg.flags & MN_OPEN_READONLY)) {
        /* Bookkeeping: a failure to record the use does not fail the call. */
        mni_errmark mark = mni_err_mark();
        if (db->store->ops->apikey_touch(db->store, id, p.now, p.now - TOUCH_MS) != MN_OK)
            mni_err_forget(mark);
    }
    if (rc != MN_OK) {
        if (g)
            mni_apikey_grant_release(g);
        if (out) {
            mn_apikey_free(*out);
            *out = NULL;
        }
    }
    if (rc == MN_EDENIED)
        return mni_seterr(db, MN_EDENIED, "the API key is not valid (wrong, unknown, revoked "
                          "or expired, or its identity deactivated); use a current key, or make "
                          "one with mn_apikey_create");
    return rc == MN_ENOMEM ? mni_seterr(db, rc, "out of memory") : rc;
}
