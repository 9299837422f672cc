/*
 * The hot path of a decision: (tenant, identity, endpoint) as the caller names them, to the
 * decision's target and counter key, ready made and hashed. Resolving the target
 * (limiter_targets.c), checking the endpoint's name and making the key cost several times the
 * decision itself, and a host asks about the same few actors and endpoints millions of times, so
 * the result is kept here per triple: a hit costs one hash of the names, one lock and one copy. An
 * entry is used as long as the target it was made from is fresh (mni_rl_target_fresh).
 *
 * An endpoint is checked when its entry is made; a hit matches the caller's name byte for byte
 * with one that passed the check, so it needs none. The striped hash table (core/striped.h),
 * at most STRIPE_MAX entries a stripe: a full stripe starts over (the entries are remade from
 * the targets' cache, not the store), which bounds the memory with no LRU to keep.
 */
#include "api/limiter.h"
#include "api/handle.h"
#include "core/hash.h"
#include "core/error.h"
#include "core/striped.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 16
#define STRIPE_MAX 1024
#define NAME_MAX_LEN 512

struct entry {
    struct mni_striped_node node;      /* hash: of name */
    struct mni_rl_slot slot;
    size_t namelen;
    char name[];               /* tenant '\0' identity '\0' endpoint (system actor: '\1') */
};

/* What an entry is looked up by. */
struct name {
    const char *p;
    size_t len;
};

struct mni_rl_slots {
    struct mni_striped table;
};

static void entry_free(struct mni_striped_node *node, void *ctx)
{
    (void)ctx;
    free(MNI_STRIPED_ENTRY(node, struct entry, node));
}

static int same_name(const struct mni_striped_node *node, const void *key)
{
    const struct entry *e = MNI_STRIPED_ENTRY(node, const struct entry, node);
    const struct name *n = key;
    return e->namelen == n->len && memcmp(e->name, n->p, n->len) == 0;
}

int mni_rl_slots_create(struct mni_rl_slots **out)
{
    struct mni_rl_slots *c = calloc(1, sizeof *c);
    /* No full callback: a full stripe is cleared. */
    if (!c || mni_striped_init(&c->table, STRIPES, STRIPE_MAX, entry_free, NULL, NULL) != MN_OK) {
        free(c);
        return MN_ENOMEM;
    }
    *out = c;
    return MN_OK;
}

void mni_rl_slots_free(struct mni_rl_slots *c)
{
    if (!c)
        return;
    mni_striped_destroy(&c->table);
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

/* Appends the n bytes at src. */
static char *put(char *p, const char *src, size_t n)
{
    memcpy(p, src, n);
    return p + n;
}

/* ratelimit:{TENANT_ID}:ENDPOINT:WINDOW, the window in seconds ("3600") or, when not whole
 * seconds, in ms ("250ms"); per_identity: ratelimit:{TENANT_ID}:IDENTITY_ID:ENDPOINT:WINDOW
 * for an identity (the tenant's key for the system actor). The tenant in braces keeps every
 * key of a tenant in one Redis cluster slot. */
static void make_key(const char *endpoint, int per_identity, struct mni_rl_slot *s)
{
    char *p = put(s->key, "ratelimit:{", 11);
    p = put(p, s->t.tenant_id, strlen(s->t.tenant_id));
    p = put(p, "}:", 2);
    if (per_identity && s->t.identity_id[0]) {
        p = put(p, s->t.identity_id, strlen(s->t.identity_id));
        *p++ = ':';
    }
    p = put(p, endpoint, strlen(endpoint));
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

/* 1 with *out filled when the table holds a fresh entry for the name. */
static int lookup(const mn_db *db, struct mni_striped *t, const struct name *name, uint64_t h,
                  int64_t now, struct mni_rl_slot *out)
{
    int found = 0;
    struct mni_striped_stripe *s = mni_striped_at(t, h);
    mni_striped_lock(s);
    struct mni_striped_node *n = mni_striped_find(t, s, h, same_name, name);
    if (n) {
        const struct entry *e = MNI_STRIPED_ENTRY(n, const struct entry, node);
        found = mni_rl_target_fresh(db, &e->slot.t, now);
        if (found)
            copy_slot(out, &e->slot);
    }
    mni_striped_unlock(s);
    return found;
}

/* Keeps slot for the name in place of a stale entry, if any (best effort: it is a cache). */
static void insert(struct mni_striped *t, const struct name *name, uint64_t h,
                   const struct mni_rl_slot *slot)
{
    struct entry *e = malloc(sizeof *e + name->len);
    if (!e)
        return;
    e->node.hash = h;
    copy_slot(&e->slot, slot);
    e->namelen = name->len;
    memcpy(e->name, name->p, name->len);
    mni_striped_put(t, &e->node, same_name, name, NULL);
}

int mni_rl_slot(mn_db *db, struct mni_rl_slots *c, const char *tenant, const char *identity,
               const char *endpoint, int64_t now_ms, struct mni_rl_slot *out)
{
    char buf[NAME_MAX_LEN];
    struct name name = {buf, endpoint ? make_name(tenant, identity, endpoint, buf) : 0};
    uint64_t h = name.len ? mni_hash64(buf, name.len, 0) : 0;
    if (name.len && lookup(db, &c->table, &name, h, now_ms, out))
        return MN_OK;
    int rc = mni_rl_check_endpoint(db, endpoint, 0);
    if (rc == MN_OK)
        rc = mni_rl_target(db, tenant, identity, endpoint, &out->t);
    if (rc != MN_OK)
        return rc;
    make_key(endpoint, db->cfg.ratelimit_scope == MN_RATELIMIT_PER_IDENTITY, out);
    if (name.len)
        insert(&c->table, &name, h, out);
    return MN_OK;
}
