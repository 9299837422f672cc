/* Decision cache: 4-way set-associative tables of verdicts and of scopes (decision_cache.h).
 * Each set is one cache line holding its own spin lock, its entries' hash tags and pointers,
 * so a hit touches that line and the entry's, and writes nothing shared: the hit counts live
 * in the entries, the other counters change only on misses and puts. */
#include "policy/decision_cache.h"
#include "core/bytes.h"
#include "core/hash.h"

#include "manushya.h"

#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4

/* One cached verdict, or one scope (gen is then the scope's id); data holds the key (each part
 * as a 4-byte length and its bytes, klen bytes in all), then policy id and reason, each
 * NUL-terminated. */
typedef struct dc_entry {
    uint64_t gen;
    int64_t expires;
    uint64_t hits; /* lookups it answered, counted on a line the lookup reads anyway */
    size_t klen;
    uint16_t nparts;
    uint16_t idlen, reasonlen; /* without terminators */
    int verdict;
    char data[];
} dc_entry;

typedef struct dc_set {
    alignas(64) atomic_flag lock;
    uint32_t tag[WAYS]; /* the high half of each entry's key hash (the low half chose the set) */
    dc_entry *e[WAYS];  /* most recently used first; NULL slots last */
} dc_set;

/* A table: the verdicts, or the scopes. */
typedef struct dc_table {
    dc_set *sets;
    size_t mask; /* sets - 1 */
    void *mem;   /* what sets lies in (freed with free()) */
} dc_table;

struct mni_dcache {
    dc_table verdicts, scopes;
    int64_t ttl_ms;
    atomic_uint_fast64_t next_scope;
    /* verdict counters; the hits of entries still held are in the entries */
    atomic_uint_fast64_t misses, puts, evictions, retired_hits;
    atomic_size_t entries;
};

/* ---- hash ------------------------------------------------------------------------------------ */

/* Combines the parts' own hashes (each covers its part's length, so boundaries count; the
 * bytes were hashed when the parts were made): each rotated by its position, so that order
 * counts, then one mix. The rotations are independent of one another, unlike a chain of
 * multiplies. */
static uint64_t key_hash(const mni_dcache_part *key, size_t nparts)
{
    uint64_t h = 0x452821e638d01377ULL ^ nparts;
    for (size_t i = 0; i < nparts; i++) {
        unsigned r = (unsigned)(i * 23 % 64);
        h ^= r ? key[i].hash << r | key[i].hash >> (64 - r) : key[i].hash;
    }
    return mni_mix64(h);
}

/* 1 when the key can be stored: few enough parts, each under 4 GiB, none NULL with bytes. */
static int key_ok(const mni_dcache_part *key, size_t nparts)
{
    if (nparts > MNI_DCACHE_MAX_PARTS || (!key && nparts))
        return 0;
    for (size_t i = 0; i < nparts; i++)
        if (key[i].len > UINT32_MAX || (!key[i].p && key[i].len))
            return 0;
    return 1;
}

/* ---- locks ----------------------------------------------------------------------------------- */

static void lock(dc_set *s)
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

static void unlock(dc_set *s)
{
    atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

/* ---- sets ------------------------------------------------------------------------------------ */

/* Whether an all-zero atomic_flag is clear (C11 leaves its representation open; it is with
 * GCC and Clang): then a table's sets need no writing at all to start empty. */
static int zero_flag_is_clear(void)
{
    atomic_flag f;
    memset(&f, 0, sizeof f);
    return !atomic_flag_test_and_set(&f);
}

/* The sets start zeroed by calloc, which for a table this size (1 MB by default) maps fresh
 * zero pages without writing them: a process that caches a few decisions (a one-shot CLI
 * call) touches a few pages, where writing every set cost ~1.3 ms at each open. */
static int table_init(dc_table *t, size_t nsets)
{
    if (!(t->mem = calloc(1, nsets * sizeof *t->sets + 64)))
        return MN_ENOMEM;
    t->sets = (dc_set *)(((uintptr_t)t->mem + 63) & ~(uintptr_t)63);
    if (!zero_flag_is_clear())
        for (size_t i = 0; i < nsets; i++)
            atomic_flag_clear_explicit(&t->sets[i].lock, memory_order_relaxed);
    t->mask = nsets - 1;
    return MN_OK;
}

static dc_set *set_of(const dc_table *t, uint64_t h)
{
    return &t->sets[(size_t)h & t->mask];
}

static uint32_t tag_of(uint64_t h)
{
    return (uint32_t)(h >> 32);
}

/* Removes way w of set s, closing the gap (the order of the others is kept). */
static dc_entry *take(dc_set *s, int w)
{
    dc_entry *e = s->e[w];
    for (; w < WAYS - 1; w++) {
        s->e[w] = s->e[w + 1];
        s->tag[w] = s->tag[w + 1];
    }
    s->e[WAYS - 1] = NULL;
    s->tag[WAYS - 1] = 0;
    return e;
}

/* Puts e at the front of s, which has a free slot. */
static void push_front(dc_set *s, dc_entry *e, uint32_t tag)
{
    for (int w = WAYS - 1; w > 0; w--) {
        s->e[w] = s->e[w - 1];
        s->tag[w] = s->tag[w - 1];
    }
    s->e[0] = e;
    s->tag[0] = tag;
}

/* memcmp(a, b, n) == 0, without a call for the parts up to 64 bytes most keys have (scope ids,
 * what a decision is about, short contexts): 8 bytes at a time, the last word ending at the
 * last byte. */
static int bytes_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
    if (n > 64)
        return memcmp(a, b, n) == 0;
    if (n >= 8) {
        uint64_t diff = mni_load64(a + n - 8) ^ mni_load64(b + n - 8);
        for (size_t i = 0; i + 8 <= n; i += 8)
            diff |= mni_load64(a + i) ^ mni_load64(b + i);
        return diff == 0;
    }
    if (n >= 4)
        return mni_load32(a) == mni_load32(b) && mni_load32(a + n - 4) == mni_load32(b + n - 4);
    return n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1]);
}

static int key_equal(const dc_entry *e, const mni_dcache_part *key, size_t nparts)
{
    if (e->nparts != nparts)
        return 0;
    const unsigned char *d = (const unsigned char *)e->data;
    for (size_t i = 0; i < nparts; i++) {
        uint32_t len;
        memcpy(&len, d, sizeof len);
        if (len != key[i].len || !bytes_equal(d + sizeof len, key[i].p, len))
            return 0;
        d += sizeof len + len;
    }
    return 1;
}

static int find(const dc_set *s, uint32_t tag, const mni_dcache_part *key, size_t nparts)
{
    for (int w = 0; w < WAYS && s->e[w]; w++)
        if (s->tag[w] == tag && key_equal(s->e[w], key, nparts))
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

/* A new entry holding the key, policy id and reason (NULL: ""); the caller sets gen, expires
 * and verdict. NULL when out of memory. */
static dc_entry *entry_new(const mni_dcache_part *key, size_t nparts, const char *policy_id,
                           const char *reason)
{
    size_t idlen = policy_id ? strnlen(policy_id, UINT16_MAX) : 0;
    size_t rlen = reason ? strnlen(reason, MNI_DCACHE_REASON_MAX - 1) : 0;
    size_t len = 0;
    for (size_t i = 0; i < nparts; i++)
        len += sizeof(uint32_t) + key[i].len;
    dc_entry *e = malloc(sizeof *e + len + idlen + rlen + 2);
    if (!e)
        return NULL;
    e->hits = 0;
    e->klen = len;
    e->nparts = (uint16_t)nparts;
    e->idlen = (uint16_t)idlen;
    e->reasonlen = (uint16_t)rlen;
    char *d = e->data;
    for (size_t i = 0; i < nparts; i++) {
        uint32_t plen = (uint32_t)key[i].len;
        memcpy(d, &plen, sizeof plen);
        if (plen)
            memcpy(d + sizeof plen, key[i].p, plen);
        d += sizeof plen + plen;
    }
    copy_out(e->data + len, idlen + 1, policy_id ? policy_id : "", idlen);
    copy_out(e->data + len + idlen + 1, rlen + 1, reason ? reason : "", rlen);
    return e;
}

/* Puts e at the front of its locked set s: it replaces the entry of the same key, or in a full
 * set an expired entry, else the least recently used. Returns the entry it displaced (to free
 * outside the lock), NULL if none; *evicted says whether that was a live entry of another
 * key. */
static dc_entry *insert(dc_set *s, dc_entry *e, uint32_t tag, const mni_dcache_part *key,
                        size_t nparts, int64_t now_ms, int *evicted)
{
    dc_entry *old = NULL;
    *evicted = 0;
    int w = find(s, tag, key, nparts);
    if (w >= 0) {
        old = take(s, w);
    } else if (s->e[WAYS - 1]) {
        int victim = WAYS - 1;
        for (int i = 0; i < WAYS; i++)
            if (now_ms >= s->e[i]->expires) {
                victim = i;
                break;
            }
        *evicted = now_ms < s->e[victim]->expires;
        old = take(s, victim);
    }
    push_front(s, e, tag);
    return old;
}

/* A verdict entry leaves the cache: its hits join the retired ones. */
static void retire(mni_dcache *c, const dc_entry *e)
{
    atomic_fetch_add_explicit(&c->retired_hits, e->hits, memory_order_relaxed);
    atomic_fetch_sub_explicit(&c->entries, 1, memory_order_relaxed);
}

/* ---- the cache ------------------------------------------------------------------------------- */

mni_dcache *mni_dcache_create(size_t capacity, int64_t ttl_ms)
{
    if (capacity == 0)
        capacity = MNI_DCACHE_DEFAULT_CAPACITY;
    if (capacity > ((size_t)1 << 40))
        return NULL;
    size_t nsets = 1;
    while (nsets * WAYS < capacity)
        nsets <<= 1;
    mni_dcache *c = calloc(1, sizeof *c);
    /* A scope serves many decisions: a quarter of the sets. */
    if (!c || table_init(&c->verdicts, nsets) != MN_OK ||
        table_init(&c->scopes, nsets / 4 ? nsets / 4 : 1) != MN_OK) {
        if (c) {
            free(c->verdicts.mem);
            free(c);
        }
        return NULL;
    }
    c->ttl_ms = ttl_ms > 0 ? ttl_ms : MNI_DCACHE_DEFAULT_TTL_MS;
    atomic_init(&c->next_scope, 1);
    return c;
}

/* Frees a table's entries when no other thread uses it any more: no locks taken and nothing
 * written, so that the pages of sets never used stay untouched (see table_init). */
static void free_entries(dc_table *t)
{
    for (size_t si = 0; si <= t->mask; si++)
        for (int w = 0; w < WAYS; w++)
            free(t->sets[si].e[w]);
    free(t->mem);
}

void mni_dcache_free(mni_dcache *c)
{
    if (!c)
        return;
    free_entries(&c->verdicts);
    free_entries(&c->scopes);
    free(c);
}

int mni_dcache_get(mni_dcache *c, const mni_dcache_part *key, size_t nparts, uint64_t generation,
                  int64_t now_ms, int *verdict, char *policy_id, size_t idlen, char *reason,
                  size_t reasonlen)
{
    if (!c || !key_ok(key, nparts))
        return 0;
    uint64_t h = key_hash(key, nparts);
    uint32_t tag = tag_of(h);
    dc_set *s = set_of(&c->verdicts, h);
    dc_entry *stale = NULL;
    int hit = 0;
    lock(s);
    int w = find(s, tag, key, nparts);
    if (w >= 0) {
        dc_entry *e = s->e[w];
        if (e->gen == generation && now_ms < e->expires) {
            hit = 1;
            e->hits++;
            if (w > 0)
                push_front(s, take(s, w), tag);
            if (verdict)
                *verdict = e->verdict;
            copy_out(policy_id, idlen, e->data + e->klen, e->idlen);
            copy_out(reason, reasonlen, e->data + e->klen + e->idlen + 1, e->reasonlen);
        } else if (e->gen < generation || now_ms >= e->expires) {
            stale = take(s, w); /* never valid again (generations only grow) */
        }
    }
    unlock(s);
    if (!hit)
        atomic_fetch_add_explicit(&c->misses, 1, memory_order_relaxed);
    if (stale) {
        retire(c, stale);
        free(stale);
    }
    return hit;
}

int mni_dcache_put(mni_dcache *c, const mni_dcache_part *key, size_t nparts, uint64_t generation,
                  int64_t now_ms, int64_t valid_until_ms, int verdict, const char *policy_id,
                  const char *reason)
{
    if (!c || !key_ok(key, nparts))
        return MN_EINVAL;
    int64_t expires = now_ms > INT64_MAX - c->ttl_ms ? INT64_MAX : now_ms + c->ttl_ms;
    if (valid_until_ms > 0 && valid_until_ms < expires)
        expires = valid_until_ms;
    if (expires <= now_ms)
        return MN_OK;
    dc_entry *e = entry_new(key, nparts, policy_id, reason);
    if (!e)
        return MN_ENOMEM;
    e->gen = generation;
    e->expires = expires;
    e->verdict = verdict;

    uint64_t h = key_hash(key, nparts);
    dc_set *s = set_of(&c->verdicts, h);
    int evicted;
    lock(s);
    dc_entry *old = insert(s, e, tag_of(h), key, nparts, now_ms, &evicted);
    unlock(s);
    atomic_fetch_add_explicit(&c->entries, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->puts, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->evictions, (uint_fast64_t)evicted, memory_order_relaxed);
    if (old) {
        retire(c, old);
        free(old);
    }
    return MN_OK;
}

uint64_t mni_dcache_scope(mni_dcache *c, const mni_dcache_part *parts, size_t nparts)
{
    if (!c || !key_ok(parts, nparts))
        return 0;
    uint64_t h = key_hash(parts, nparts), id = 0;
    uint32_t tag = tag_of(h);
    dc_set *s = set_of(&c->scopes, h);
    lock(s);
    int w = find(s, tag, parts, nparts);
    if (w >= 0) {
        id = s->e[w]->gen;
        if (w > 0)
            push_front(s, take(s, w), tag);
    }
    unlock(s);
    if (id)
        return id;
    /* New: made outside the lock; a thread that interned the same parts meanwhile wins. */
    dc_entry *e = entry_new(parts, nparts, NULL, NULL), *old;
    if (!e)
        return 0;
    e->expires = INT64_MAX;
    e->verdict = 0;
    int evicted;
    lock(s);
    if ((w = find(s, tag, parts, nparts)) >= 0) {
        id = s->e[w]->gen;
        old = e;
    } else {
        id = e->gen = atomic_fetch_add_explicit(&c->next_scope, 1, memory_order_relaxed);
        old = insert(s, e, tag, parts, nparts, INT64_MIN, &evicted);
    }
    unlock(s);
    free(old);
    return id;
}

/* Empties a table; verdicts: its entries are retired. */
static void clear_table(mni_dcache *c, dc_table *t, int verdicts)
{
    for (size_t si = 0; si <= t->mask; si++) {
        dc_set *s = &t->sets[si];
        dc_entry *drop[WAYS];
        lock(s);
        for (int w = 0; w < WAYS; w++) {
            drop[w] = s->e[w];
            s->e[w] = NULL;
            s->tag[w] = 0;
        }
        unlock(s);
        for (int w = 0; w < WAYS; w++) {
            if (drop[w] && verdicts)
                retire(c, drop[w]);
            free(drop[w]);
        }
    }
}

void mni_dcache_clear(mni_dcache *c)
{
    if (!c)
        return;
    clear_table(c, &c->verdicts, 1);
    clear_table(c, &c->scopes, 0);
}

void mni_dcache_stats_get(mni_dcache *c, mni_dcache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    uint64_t held = 0;
    for (size_t si = 0; si <= c->verdicts.mask; si++) {
        dc_set *s = &c->verdicts.sets[si];
        lock(s);
        for (int w = 0; w < WAYS && s->e[w]; w++)
            held += s->e[w]->hits;
        unlock(s);
    }
    out->hits = held + atomic_load_explicit(&c->retired_hits, memory_order_relaxed);
    out->misses = atomic_load_explicit(&c->misses, memory_order_relaxed);
    out->puts = atomic_load_explicit(&c->puts, memory_order_relaxed);
    out->evictions = atomic_load_explicit(&c->evictions, memory_order_relaxed);
    out->entries = atomic_load_explicit(&c->entries, memory_order_relaxed);
    out->capacity = (c->verdicts.mask + 1) * WAYS;
}
