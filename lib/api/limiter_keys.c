/*
 * The hot path of a decision: (tenant, identity, endpoint) as the caller names them, to the
 * decision's target and counter key, ready made and hashed. Resolving the target
 * (limiter_targets.c), checking the endpoint's name and making the key cost several times the
 * decision itself, and a host asks about the same few actors and endpoints millions of times, so the result is kept
 * here per triple: a hit costs one hash of the names, one lock and one copy. An entry is used
 * as long as the target it was made from is fresh (mni_rl_target_fresh).
 *
 * An endpoint is checked when its entry is made; a hit matches the caller's name byte for byte
 * with one that passed the check, so it needs none. A hash table in stripes, each with its own
 * lock and at most STRIPE_MAX entries: a full stripe starts over (the entries are remade from
 * the targets' cache, not the store), which bounds the memory with no LRU to keep.
 */
#include "api/limiter.h"
#include "core/hash.h"
#include "core/spin.h"
#include "core/error.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 16
#define STRIPE_MAX 1024
#define MIN_BUCKETS 16
#define NAME_MAX_LEN 512

struct entry {
    struct entry *next;
    uint64_t hash;             /* of name */
    struct mni_rl_slot slot;
    size_t namelen;
    char name[];               /* tenant '\0' identity '\0' endpoint (system actor: '\1') */
};

struct stripe {
    mni_spin mu;
    struct entry **buckets;
    size_t nbuckets, n;
} __attribute__((aligned(64)));

struct mni_rl_slots {
    struct stripe stripes[STRIPES];
};

int mni_rl_slots_create(struct mni_rl_slots **out)
{
    struct mni_rl_slots *c = aligned_alloc(64, (sizeof *c + 63) / 64 * 64);
    if (!c)
        return MN_ENOMEM;
    memset(c, 0, sizeof *c);
    *out = c;
    return MN_OK;
}

static void clear(struct stripe *s)
{
    for (size_t b = 0; b < s->nbuckets; b++)
        for (struct entry *e = s->buckets[b], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(s->buckets);
    s->buckets = NULL;
    s->nbuckets = s->n = 0;
}

void mni_rl_slots_free(struct mni_rl_slots *c)
{
    if (!c)
        return;
    for (int i = 0; i < STRIPES; i++)
        clear(&c->stripes[i]);
    free(c);
}

/* The cache key of the triple; 0 when the names are too long to cache (the lookup behind
 * then fails or finds them uncached every time). */
static size_t make_name(const char *tenant, const char *identity, const char *endpoint,
                        char *buf)
{
    size_t a = strlen(tenant), b = identity ? strlen(identity) : 0, c = strlen(endpoint);
    if (a + b + c + 2 > NAME_MAX_LEN)
        return 0;
    char *p = buf;
    memcpy(p, tenant, a + 1);
    p += a + 1;
    memcpy(p, identity ? identity : "\1", identity ? b + 1 : 1);
    p += identity ? b + 1 : 1;
    memcpy(p, endpoint, c);
    return (size_t)(p + c - buf);
}

/* Appends the decimal digits of v (>= 0). */
static char *put_int(char *p, int64_t v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* ratelimit:{TENANT_ID}:ENDPOINT:WINDOW, the window in seconds ("3600") or, when not whole
 * seconds, in ms ("250ms"). */
static void make_key(const char *endpoint, struct mni_rl_slot *s)
{
    char *p = s->key;
    memcpy(p, "ratelimit:{", 11);
    p += 11;
    size_t n = strlen(s->t.tenant_id);
    memcpy(p, s->t.tenant_id, n);
    p += n;
    *p++ = '}';
    *p++ = ':';
    n = strlen(endpoint);
    memcpy(p, endpoint, n);
    p += n;
    *p++ = ':';
    if (s->t.window_ms % 1000 == 0) {
        p = put_int(p, s->t.window_ms / 1000);
    } else {
        p = put_int(p, s->t.window_ms);
        *p++ = 'm';
        *p++ = 's';
    }
    *p = '\0';
    s->keylen = (size_t)(p - s->key);
    s->hash = mni_hash64(s->key, s->keylen, 0);
}

/* Copies the slot without the unused end of its key buffer. */
static void copy_slot(struct mni_rl_slot *dst, const struct mni_rl_slot *src)
{
    memcpy(dst, src, offsetof(struct mni_rl_slot, key) + src->keylen + 1);
}

/* 1 with *out filled when the stripe holds a fresh entry for the name. */
static int lookup(const mn_db *db, struct stripe *s, const char *name, size_t namelen,
                  uint64_t h, int64_t now, struct mni_rl_slot *out)
{
    int found = 0;
    mni_spin_lock(&s->mu);
    if (s->nbuckets)
        for (struct entry *e = s->buckets[(h / STRIPES) & (s->nbuckets - 1)]; e; e = e->next)
            if (e->hash == h && e->namelen == namelen && memcmp(e->name, name, namelen) == 0) {
                found = mni_rl_target_fresh(db, &e->slot.t, now);
                if (found)
                    copy_slot(out, &e->slot);
                break;
            }
    mni_spin_unlock(&s->mu);
    return found;
}

/* Doubles the bucket array (best effort: on no memory the chains grow longer). */
static void grow(struct stripe *s)
{
    size_t nb = s->nbuckets ? s->nbuckets * 2 : MIN_BUCKETS;
    struct entry **nbk = calloc(nb, sizeof *nbk);
    if (!nbk)
        return;
    for (size_t b = 0; b < s->nbuckets; b++)
        for (struct entry *e = s->buckets[b], *next; e; e = next) {
            next = e->next;
            size_t i = (e->hash / STRIPES) & (nb - 1);
            e->next = nbk[i];
            nbk[i] = e;
        }
    free(s->buckets);
    s->buckets = nbk;
    s->nbuckets = nb;
}

/* Keeps slot for the name in place of a stale entry, if any (best effort: it is a cache). */
static void insert(struct stripe *s, const char *name, size_t namelen, uint64_t h,
                   const struct mni_rl_slot *slot)
{
    struct entry *e = malloc(sizeof *e + namelen);
    if (!e)
        return;
    e->hash = h;
    copy_slot(&e->slot, slot);
    e->namelen = namelen;
    memcpy(e->name, name, namelen);
    mni_spin_lock(&s->mu);
    if (s->n >= STRIPE_MAX)
        clear(s);
    if (s->n >= s->nbuckets)
        grow(s);
    if (!s->nbuckets) {
        mni_spin_unlock(&s->mu);
        free(e);
        return;
    }
    struct entry **p = &s->buckets[(h / STRIPES) & (s->nbuckets - 1)];
    for (; *p; p = &(*p)->next) {
        struct entry *x = *p;
        if (x->hash == h && x->namelen == namelen && memcmp(x->name, name, namelen) == 0) {
            *p = x->next;
            free(x);
            s->n--;
            break;
        }
    }
    p = &s->buckets[(h / STRIPES) & (s->nbuckets - 1)];
    e->next = *p;
    *p = e;
    s->n++;
    mni_spin_unlock(&s->mu);
}

int mni_rl_slot(mn_db *db, struct mni_rl_slots *c, const char *tenant, const char *identity,
               const char *endpoint, int64_t now_ms, struct mni_rl_slot *out)
{
    char name[NAME_MAX_LEN];
    size_t namelen = endpoint ? make_name(tenant, identity, endpoint, name) : 0;
    uint64_t h = namelen ? mni_hash64(name, namelen, 0) : 0;
    struct stripe *s = &c->stripes[h % STRIPES];
    if (namelen && lookup(db, s, name, namelen, h, now_ms, out))
        return MN_OK;
    int rc = mni_rl_check_endpoint(db, endpoint, 0);
    if (rc == MN_OK)
        rc = mni_rl_target(db, tenant, identity, endpoint, &out->t);
    if (rc != MN_OK)
        return rc;
    make_key(endpoint, out);
    if (namelen)
        insert(s, name, namelen, h, out);
    return MN_OK;
}
