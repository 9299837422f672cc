/* Decision cache: 4-way set-associative table of verdicts under striped spin locks
 * (decision_cache.h). */
#include "policy/decision_cache.h"

#include "manushya.h"

#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4
#define MAX_STRIPES 256

/* One cached verdict; data holds the key, then policy id and reason, each NUL-terminated. */
typedef struct dc_entry {
    uint64_t gen;
    int64_t expires;
    size_t klen;
    uint16_t idlen, reasonlen; /* without terminators */
    int allowed;
    char data[];
} dc_entry;

typedef struct dc_set {
    uint64_t hash[WAYS];
    dc_entry *e[WAYS]; /* most recently used first; NULL slots last */
} dc_set;

typedef struct dc_stripe {
    alignas(64) atomic_flag lock;
    uint64_t hits, misses, puts, evictions;
    size_t entries;
} dc_stripe;

struct mn_dcache {
    dc_set *sets;
    size_t mask; /* sets - 1 */
    dc_stripe *stripes;
    size_t stripe_mask;
    int64_t ttl_ms;
};

/* ---- hash ------------------------------------------------------------------------------------ */

static uint64_t mix(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
#else
    uint64_t r = a * (b | 1);
    return r ^ (r >> 29) ^ (b >> 32) * 0x9e3779b97f4a7c15ULL;
#endif
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint64_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint64_t mn_dcache_hash(const void *key, size_t len)
{
    static const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL,
                          k2 = 0x8ebc6af09c88c6e3ULL;
    static const uint64_t k3 = 0x589965cc75374cc3ULL, k4 = 0x1d8e4e27c47d124fULL;
    const unsigned char *p = key;
    uint64_t seed = 0x243f6a8885a308d3ULL ^ mix((uint64_t)len ^ k0, k1);
    size_t n = len;
    if (n > 48) { /* three independent lanes: the multiplies overlap */
        uint64_t s1 = seed, s2 = seed;
        do {
            seed = mix(rd64(p) ^ k1, rd64(p + 8) ^ seed);
            s1 = mix(rd64(p + 16) ^ k3, rd64(p + 24) ^ s1);
            s2 = mix(rd64(p + 32) ^ k4, rd64(p + 40) ^ s2);
            p += 48;
            n -= 48;
        } while (n > 48);
        seed ^= s1 ^ s2;
    }
    while (n > 16) {
        seed = mix(rd64(p) ^ k1, rd64(p + 8) ^ seed);
        p += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = rd64(p);
        b = rd64(p + n - 8);
    } else if (n >= 4) {
        a = rd32(p);
        b = rd32(p + n - 4);
    } else if (n > 0) {
        a = ((uint64_t)p[0] << 16) | ((uint64_t)p[n / 2] << 8) | p[n - 1];
    }
    return mix(mix(a ^ k1, b ^ seed) ^ k2, (uint64_t)len ^ k0);
}

/* ---- locks ----------------------------------------------------------------------------------- */

static void lock(dc_stripe *s)
{
    unsigned spins = 0;
    while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire)) {
        if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            spins = 0;
            sched_yield();
        }
    }
}

static void unlock(dc_stripe *s)
{
    atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

/* ---- the cache ------------------------------------------------------------------------------- */

mn_dcache *mn_dcache_create(size_t capacity, int64_t ttl_ms)
{
    if (capacity == 0)
        capacity = MN_DCACHE_DEFAULT_CAPACITY;
    if (capacity > ((size_t)1 << 40))
        return NULL;
    size_t nsets = 1;
    while (nsets * WAYS < capacity)
        nsets <<= 1;
    size_t nstripes = nsets < MAX_STRIPES ? nsets : MAX_STRIPES;
    mn_dcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->sets = calloc(nsets, sizeof *c->sets);
    c->stripes = aligned_alloc(64, nstripes * sizeof *c->stripes);
    if (!c->sets || !c->stripes) {
        free(c->sets);
        free(c->stripes);
        free(c);
        return NULL;
    }
    memset(c->stripes, 0, nstripes * sizeof *c->stripes);
    for (size_t i = 0; i < nstripes; i++)
        atomic_flag_clear(&c->stripes[i].lock);
    c->mask = nsets - 1;
    c->stripe_mask = nstripes - 1;
    c->ttl_ms = ttl_ms > 0 ? ttl_ms : MN_DCACHE_DEFAULT_TTL_MS;
    return c;
}

void mn_dcache_free(mn_dcache *c)
{
    if (!c)
        return;
    mn_dcache_clear(c);
    free(c->sets);
    free(c->stripes);
    free(c);
}

/* Removes way w of set s, closing the gap (the order of the others is kept). */
static dc_entry *take(dc_set *s, int w)
{
    dc_entry *e = s->e[w];
    for (; w < WAYS - 1; w++) {
        s->e[w] = s->e[w + 1];
        s->hash[w] = s->hash[w + 1];
    }
    s->e[WAYS - 1] = NULL;
    s->hash[WAYS - 1] = 0;
    return e;
}

/* Puts e at the front of s, which has a free slot. */
static void push_front(dc_set *s, dc_entry *e, uint64_t h)
{
    for (int w = WAYS - 1; w > 0; w--) {
        s->e[w] = s->e[w - 1];
        s->hash[w] = s->hash[w - 1];
    }
    s->e[0] = e;
    s->hash[0] = h;
}

static int find(const dc_set *s, uint64_t h, const void *key, size_t len)
{
    for (int w = 0; w < WAYS && s->e[w]; w++)
        if (s->hash[w] == h && s->e[w]->klen == len && memcmp(s->e[w]->data, key, len) == 0)
            return w;
    return -1;
}

static void copy_out(char *dst, size_t cap, const char *src, size_t n)
{
    if (!dst || !cap)
        return;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int mn_dcache_get(mn_dcache *c, const void *key, size_t len, uint64_t generation, int64_t now_ms,
                  int *allowed, char *policy_id, size_t idlen, char *reason, size_t reasonlen)
{
    if (!c || (!key && len))
        return 0;
    uint64_t h = mn_dcache_hash(key, len);
    size_t si = (size_t)h & c->mask;
    dc_set *s = &c->sets[si];
    dc_stripe *st = &c->stripes[si & c->stripe_mask];
    dc_entry *stale = NULL;
    int hit = 0;
    lock(st);
    int w = find(s, h, key, len);
    if (w >= 0) {
        dc_entry *e = s->e[w];
        if (e->gen == generation && now_ms < e->expires) {
            hit = 1;
            if (w > 0)
                push_front(s, take(s, w), h);
            if (allowed)
                *allowed = e->allowed;
            copy_out(policy_id, idlen, e->data + len, e->idlen);
            copy_out(reason, reasonlen, e->data + len + e->idlen + 1, e->reasonlen);
        } else if (e->gen < generation || now_ms >= e->expires) {
            stale = take(s, w); /* never valid again (generations only grow) */
            st->entries--;
        }
    }
    if (hit)
        st->hits++;
    else
        st->misses++;
    unlock(st);
    free(stale);
    return hit;
}

int mn_dcache_put(mn_dcache *c, const void *key, size_t len, uint64_t generation, int64_t now_ms,
                  int64_t valid_until_ms, int allowed, const char *policy_id, const char *reason)
{
    if (!c || (!key && len))
        return MN_EINVAL;
    int64_t expires = now_ms > INT64_MAX - c->ttl_ms ? INT64_MAX : now_ms + c->ttl_ms;
    if (valid_until_ms > 0 && valid_until_ms < expires)
        expires = valid_until_ms;
    if (expires <= now_ms)
        return MN_OK;
    size_t idlen = policy_id ? strnlen(policy_id, UINT16_MAX) : 0;
    size_t rlen = reason ? strnlen(reason, MN_DCACHE_REASON_MAX - 1) : 0;
    dc_entry *e = malloc(sizeof *e + len + idlen + rlen + 2);
    if (!e)
        return MN_ENOMEM;
    e->gen = generation;
    e->expires = expires;
    e->klen = len;
    e->idlen = (uint16_t)idlen;
    e->reasonlen = (uint16_t)rlen;
    e->allowed = allowed != 0;
    if (len)
        memcpy(e->data, key, len);
    copy_out(e->data + len, idlen + 1, policy_id ? policy_id : "", idlen);
    copy_out(e->data + len + idlen + 1, rlen + 1, reason ? reason : "", rlen);

    uint64_t h = mn_dcache_hash(key, len);
    size_t si = (size_t)h & c->mask;
    dc_set *s = &c->sets[si];
    dc_stripe *st = &c->stripes[si & c->stripe_mask];
    dc_entry *old = NULL;
    lock(st);
    int w = find(s, h, key, len);
    if (w >= 0) {
        old = take(s, w);
    } else if (s->e[WAYS - 1]) { /* full: an expired entry, else the least recently used */
        int victim = WAYS - 1;
        for (int i = 0; i < WAYS; i++)
            if (now_ms >= s->e[i]->expires) {
                victim = i;
                break;
            }
        if (now_ms < s->e[victim]->expires)
            st->evictions++;
        old = take(s, victim);
    } else {
        st->entries++;
    }
    push_front(s, e, h);
    st->puts++;
    unlock(st);
    free(old);
    return MN_OK;
}

void mn_dcache_clear(mn_dcache *c)
{
    if (!c)
        return;
    for (size_t si = 0; si <= c->mask; si++) {
        dc_set *s = &c->sets[si];
        dc_stripe *st = &c->stripes[si & c->stripe_mask];
        dc_entry *drop[WAYS];
        lock(st);
        for (int w = 0; w < WAYS; w++) {
            drop[w] = s->e[w];
            st->entries -= s->e[w] != NULL;
            s->e[w] = NULL;
            s->hash[w] = 0;
        }
        unlock(st);
        for (int w = 0; w < WAYS; w++)
            free(drop[w]);
    }
}

void mn_dcache_stats_get(mn_dcache *c, mn_dcache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    for (size_t i = 0; i <= c->stripe_mask; i++) {
        dc_stripe *st = &c->stripes[i];
        lock(st);
        out->hits += st->hits;
        out->misses += st->misses;
        out->puts += st->puts;
        out->evictions += st->evictions;
        out->entries += st->entries;
        unlock(st);
    }
    out->capacity = (c->mask + 1) * WAYS;
}
