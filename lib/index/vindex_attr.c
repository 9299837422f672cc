/* Per-key attributes of a vector index partition, and their file (see vindex_attr.h).
 *
 * File format (native byte order, rejected elsewhere by a byte-order mark), version 2 (a
 * version 1 file, without sessions, times and importance, is not ours: the partition is rebuilt):
 *   header, 88 bytes: magic "MNVXATR1", u32 version, u32 BOM, u64 seq, u64 records,
 *     u64 identities, u64 types, u64 sessions, u64 payload bytes, u64 XXH64(payload), u64 token
 *     (the caller's: vindex.c matches it with the database), u64 XXH64(bytes 0..79)
 *   payload: the identities, the types, then the sessions, each as u32 length + bytes (no NUL);
 *     then the records, 72 bytes each: key, seq, expires_at, vhash, created_at, updated_at,
 *     importance (IEEE double's bits) (8 bytes each), ident, type, session (u32 max: none)
 *     (4 each), deleted (1), 3 zero bytes.
 * Everything is checked before use: sums, sizes against the file's, name indexes, unique keys
 * and names. A file that fails is MN_ECORRUPT, never a crash. */
#include "index/vindex_attr.h"
#include "core/bytes.h"
#include "core/hash.h"
#include "core/atomic_file.h"
#include "manushya.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "MNVXATR1"
#define VERSION 2u
#define BOM 0x01020304u
#define HDR 88
#define REC 72
#define NO_SESSION 0xffffffffu
#define MAX_NAME 4096
#define PREFETCH 8 /* records ahead */

static uint64_t str_hash(const char *s)
{
    return mni_hash64(s, strlen(s), 0);
}

/* ---- interned names ------------------------------------------------------------------------ */

static void names_free(struct vx_names *n)
{
    for (size_t i = 0; i < n->n; i++)
        free(n->s[i]);
    free(n->s);
    free(n->map);
    memset(n, 0, sizeof *n);
}

int32_t vx_name_find(const struct vx_names *n, const char *s)
{
    if (!n->mcap)
        return -1;
    size_t mask = n->mcap - 1;
    for (size_t i = str_hash(s) & mask;; i = (i + 1) & mask) {
        int32_t v = n->map[i];
        if (v < 0)
            return -1;
        if (strcmp(n->s[v], s) == 0)
            return v;
    }
}

static int names_rehash(struct vx_names *n, size_t mcap)
{
    int32_t *m = malloc(mcap * sizeof *m);
    if (!m)
        return MN_ENOMEM;
    memset(m, 0xff, mcap * sizeof *m);
    for (size_t v = 0; v < n->n; v++) {
        size_t i = str_hash(n->s[v]) & (mcap - 1);
        while (m[i] >= 0)
            i = (i + 1) & (mcap - 1);
        m[i] = (int32_t)v;
    }
    free(n->map);
    n->map = m;
    n->mcap = mcap;
    return MN_OK;
}

/* The id of s, interning it when new (*added set). */
static int names_intern(struct vx_names *n, const char *s, size_t len, int32_t *id, int *added)
{
    *added = 0;
    if (n->mcap) {
        int32_t v = vx_name_find(n, s);
        if (v >= 0) {
            *id = v;
            return MN_OK;
        }
    }
    if (n->n >= INT32_MAX - 1)
        return MN_ENOMEM;
    if (n->n == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 8;
        char **g = realloc(n->s, cap * sizeof *g);
        if (!g)
            return MN_ENOMEM;
        n->s = g;
        n->cap = cap;
    }
    if ((n->n + 1) * 2 > n->mcap && names_rehash(n, n->mcap ? n->mcap * 2 : 16) != MN_OK)
        return MN_ENOMEM;
    char *c = malloc(len + 1);
    if (!c)
        return MN_ENOMEM;
    memcpy(c, s, len);
    c[len] = 0;
    size_t i = str_hash(c) & (n->mcap - 1);
    while (n->map[i] >= 0)
        i = (i + 1) & (n->mcap - 1);
    n->map[i] = (int32_t)n->n;
    n->s[n->n] = c;
    *id = (int32_t)n->n++;
    *added = 1;
    return MN_OK;
}

/* ---- the table ------------------------------------------------------------------------------ */

void vx_attrs_init(struct vx_attrs *t)
{
    memset(t, 0, sizeof *t);
}

void vx_attrs_free(struct vx_attrs *t)
{
    for (size_t i = 0; i < t->idents.n; i++)
        free(t->by_ident[i].k);
    for (size_t i = 0; i < t->sessions.n; i++)
        free(t->by_session[i].k);
    free(t->by_ident);
    free(t->by_session);
    free(t->type_count);
    names_free(&t->idents);
    names_free(&t->types);
    names_free(&t->sessions);
    free(t->a);
    free(t->map);
    memset(t, 0, sizeof *t);
}

size_t vx_attrs_bytes(const struct vx_attrs *t)
{
    size_t b = t->cap * sizeof *t->a + t->mcap * sizeof *t->map +
               t->idents.cap * (sizeof(char *) + sizeof *t->by_ident) +
               t->types.cap * (sizeof(char *) + sizeof(size_t)) +
               t->sessions.cap * (sizeof(char *) + sizeof *t->by_session) +
               (t->idents.mcap + t->types.mcap + t->sessions.mcap) * sizeof(int32_t);
    for (size_t i = 0; i < t->idents.n; i++)
        b += t->by_ident[i].cap * sizeof(int64_t) + strlen(t->idents.s[i]) + 1;
    for (size_t i = 0; i < t->sessions.n; i++)
        b += t->by_session[i].cap * sizeof(int64_t) + strlen(t->sessions.s[i]) + 1;
    for (size_t i = 0; i < t->types.n; i++)
        b += strlen(t->types.s[i]) + 1;
    return b;
}

/* Key map entries: a record's index under its key's hash's top half. Probes compare that half
 * first and read the record (a cache miss at 100k+ keys) only when it matches: loading 100k keys
 * probed the records themselves about 3 times each. */
#define EMPTY UINT64_MAX

static uint64_t map_entry(uint64_t hash, int32_t i)
{
    return (hash & 0xffffffff00000000u) | (uint32_t)i;
}

static int32_t entry_index(uint64_t e)
{
    return e == EMPTY ? -1 : (int32_t)(uint32_t)e;
}

static size_t slot_of(const struct vx_attrs *t, int64_t key)
{
    size_t mask = t->mcap - 1;
    uint64_t hash = mni_mix64((uint64_t)key), tag = hash >> 32;
    size_t i = hash & mask;
    for (uint64_t e; (e = t->map[i]) != EMPTY; i = (i + 1) & mask)
        if (e >> 32 == tag && t->a[(uint32_t)e].key == key)
            break;
    return i;
}

int32_t vx_attrs_find(const struct vx_attrs *t, int64_t key)
{
    return t->mcap ? entry_index(t->map[slot_of(t, key)]) : -1;
}

static void map_set(struct vx_attrs *t, size_t slot, int32_t i)
{
    t->map[slot] = map_entry(mni_mix64((uint64_t)t->a[i].key), i);
}

/* A block of bytes for one of the big arrays (records, key map: 6.7 and 2 MB at 100k keys),
 * in huge pages where there are: a fresh process (a one-shot CLI search) otherwise takes a
 * page fault per 4 KB as it fills them, ~40% of a load's time. Freed with free(). */
#define HUGE ((size_t)2 << 20)
static void *big_alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes < HUGE)
        return malloc(bytes);
    if (posix_memalign(&p, HUGE, bytes))
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes & ~(size_t)4095, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
    return p;
}

static int map_grow(struct vx_attrs *t, size_t mcap)
{
    uint64_t *m = big_alloc(mcap * sizeof *m);
    if (!m)
        return MN_ENOMEM;
    memset(m, 0xff, mcap * sizeof *m);
    for (size_t v = 0; v < t->n; v++) {
        uint64_t hash = mni_mix64((uint64_t)t->a[v].key);
        size_t i = hash & (mcap - 1);
        while (m[i] != EMPTY)
            i = (i + 1) & (mcap - 1);
        m[i] = map_entry(hash, (int32_t)v);
    }
    free(t->map);
    t->map = m;
    t->mcap = mcap;
    return MN_OK;
}

/* Room for one more key, one more identity list and one more type count. */
static int reserve_one(struct vx_attrs *t)
{
    if (t->n >= INT32_MAX - 1)
        return MN_ENOMEM;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap + t->cap / 2 : 64;
        struct vx_attr *g = realloc(t->a, cap * sizeof *g);
        if (!g)
            return MN_ENOMEM;
        t->a = g;
        t->cap = cap;
    }
    if ((t->n + 1) * 2 > t->mcap && map_grow(t, t->mcap ? t->mcap * 2 : 128) != MN_OK)
        return MN_ENOMEM;
    return MN_OK;
}

/* Room for one more name in n and in side, its array of elem-sized entries per name (grown
 * before interning, zeroed). */
static int names_grow(struct vx_names *n, void **side, size_t elem)
{
    if (n->n + 1 <= n->cap && *side)
        return MN_OK;
    size_t cap = n->cap ? n->cap * 2 : 8;
    unsigned char *g = realloc(*side, cap * elem);
    if (!g)
        return MN_ENOMEM;
    memset(g + n->n * elem, 0, (cap - n->n) * elem);
    *side = g;
    char **s = realloc(n->s, cap * sizeof *s);
    if (!s)
        return MN_ENOMEM;
    n->s = s;
    n->cap = cap;
    return MN_OK;
}

static int names_room(struct vx_attrs *t)
{
    /* by_ident, type_count and by_session follow their names' capacities. */
    int rc = names_grow(&t->idents, (void **)&t->by_ident, sizeof *t->by_ident);
    if (rc == MN_OK)
        rc = names_grow(&t->types, (void **)&t->type_count, sizeof *t->type_count);
    if (rc == MN_OK)
        rc = names_grow(&t->sessions, (void **)&t->by_session, sizeof *t->by_session);
    return rc;
}

static int list_push(struct vx_keys *l, int64_t key, int32_t *pos)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        int64_t *g = realloc(l->k, cap * sizeof *g);
        if (!g)
            return MN_ENOMEM;
        l->k = g;
        l->cap = cap;
    }
    *pos = (int32_t)l->n;
    l->k[l->n++] = key;
    return MN_OK;
}

/* Takes the key at pos out of list l, one of the identity lists (spos 0) or of the session
 * lists (spos 1): the list's last key fills the gap. */
static void list_remove(struct vx_attrs *t, struct vx_keys *l, int32_t pos, int spos)
{
    int64_t last = l->k[--l->n];
    if ((size_t)pos != l->n) {
        l->k[pos] = last;
        struct vx_attr *moved = &t->a[vx_attrs_find(t, last)];
        *(spos ? &moved->spos : &moved->ipos) = pos;
    }
}

/* Takes record i out of its identity's and its session's lists. */
static void lists_remove(struct vx_attrs *t, int32_t i, int ident, int session)
{
    const struct vx_attr *a = &t->a[i];
    int32_t sid = a->session, spos = a->spos;
    if (ident)
        list_remove(t, &t->by_ident[a->ident], a->ipos, 0);
    if (session && sid >= 0)
        list_remove(t, &t->by_session[sid], spos, 1);
}

/* vx_attrs_put with the names interned already (sid -1: no session). The key is looked up
 * once: its slot serves the insertion too, unless making room moved the map. */
static int put_ids(struct vx_attrs *t, int64_t key, const struct vx_values *v, int32_t iid,
                   int32_t tid, int32_t sid)
{
    size_t mcap = t->mcap, slot = mcap ? slot_of(t, key) : 0;
    int32_t i = mcap ? entry_index(t->map[slot]) : -1;
    int new_ident = i < 0 || t->a[i].ident != iid, new_session = i < 0 || t->a[i].session != sid;
    int rc = i < 0 ? reserve_one(t) : MN_OK;
    if (t->mcap != mcap)
        slot = slot_of(t, key);
    int32_t ipos = i < 0 ? 0 : t->a[i].ipos, spos = i < 0 ? -1 : t->a[i].spos;
    /* Both pushes before anything changes: a failure leaves the key as it was. */
    if (rc == MN_OK && new_ident)
        rc = list_push(&t->by_ident[iid], key, &ipos);
    if (rc == MN_OK && new_session && sid >= 0 &&
        (rc = list_push(&t->by_session[sid], key, &spos)) != MN_OK && new_ident)
        t->by_ident[iid].n--;
    if (rc != MN_OK)
        return rc;
    if (i < 0) {
        i = (int32_t)t->n++;
        t->a[i] = (struct vx_attr){ .key = key, .ident = iid, .type = tid, .session = -1 };
        map_set(t, slot, i);
        t->type_count[tid]++;
    } else {
        lists_remove(t, i, new_ident, new_session);
        t->type_count[t->a[i].type]--;
        t->type_count[tid]++;
        t->ndeleted -= t->a[i].deleted;
    }
    struct vx_attr *a = &t->a[i];
    a->ident = iid;
    a->ipos = ipos;
    a->type = tid;
    a->session = sid;
    a->spos = sid >= 0 ? spos : -1;
    a->seq = v->seq;
    a->expires_at = v->expires_at;
    a->created_at = v->created_at;
    a->updated_at = v->updated_at;
    a->importance = v->importance;
    a->vhash = v->vhash;
    a->deleted = v->deleted != 0;
    t->ndeleted += a->deleted;
    return MN_OK;
}

int vx_attrs_put(struct vx_attrs *t, int64_t key, const struct vx_values *v, const char *ident,
                 const char *type, const char *session)
{
    int rc = names_room(t);
    if (rc != MN_OK)
        return rc;
    int32_t iid, tid, sid = -1;
    int added;
    rc = names_intern(&t->idents, ident, strlen(ident), &iid, &added);
    if (rc == MN_OK)
        rc = names_intern(&t->types, type, strlen(type), &tid, &added);
    if (rc == MN_OK && session)
        rc = names_intern(&t->sessions, session, strlen(session), &sid, &added);
    return rc == MN_OK ? put_ids(t, key, v, iid, tid, sid) : rc;
}

void vx_attrs_del(struct vx_attrs *t, int64_t key)
{
    int32_t i = vx_attrs_find(t, key);
    if (i < 0)
        return;
    lists_remove(t, i, 1, 1);
    t->type_count[t->a[i].type]--;
    t->ndeleted -= t->a[i].deleted;
    /* Backward-shift deletion keeps every probe chain unbroken (no tombstones). */
    size_t mask = t->mcap - 1, hole = slot_of(t, key);
    for (size_t j = (hole + 1) & mask; t->map[j] != EMPTY; j = (j + 1) & mask) {
        size_t home = mni_mix64((uint64_t)t->a[entry_index(t->map[j])].key) & mask;
        /* The entry at j may move into the hole unless its home lies cyclically in (hole, j]. */
        int stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            t->map[hole] = t->map[j];
            hole = j;
        }
    }
    t->map[hole] = EMPTY;
    /* The last record fills the gap. */
    size_t last = --t->n;
    if ((size_t)i != last) {
        t->a[i] = t->a[last];
        map_set(t, slot_of(t, t->a[i].key), i);
    }
}

/* ---- file ----------------------------------------------------------------------------------- */

int vx_attrs_save(const struct vx_attrs *t, const char *path, int64_t seq, uint64_t token)
{
    const struct vx_names *lists[3] = { &t->idents, &t->types, &t->sessions };
    size_t names = 0;
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            names += 4 + strlen(lists[l]->s[i]);
    size_t payload = names + t->n * REC;
    unsigned char *buf = calloc(1, HDR + payload);
    if (!buf)
        return MN_ENOMEM;
    unsigned char *p = buf + HDR;
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < lists[l]->n; i++) {
            uint32_t len = (uint32_t)strlen(lists[l]->s[i]);
            mni_store32(p, len);
            memcpy(p + 4, lists[l]->s[i], len);
            p += 4 + len;
        }
    for (size_t i = 0; i < t->n; i++, p += REC) {
        const struct vx_attr *a = &t->a[i];
        mni_store64(p, (uint64_t)a->key);
        mni_store64(p + 8, (uint64_t)a->seq);
        mni_store64(p + 16, (uint64_t)a->expires_at);
        mni_store64(p + 24, a->vhash);
        mni_store64(p + 32, (uint64_t)a->created_at);
        mni_store64(p + 40, (uint64_t)a->updated_at);
        uint64_t bits;
        memcpy(&bits, &a->importance, sizeof bits);
        mni_store64(p + 48, bits);
        mni_store32(p + 56, (uint32_t)a->ident);
        mni_store32(p + 60, (uint32_t)a->type);
        mni_store32(p + 64, a->session < 0 ? NO_SESSION : (uint32_t)a->session);
        p[68] = a->deleted;
    }
    memcpy(buf, MAGIC, 8);
    mni_store32(buf + 8, VERSION);
    mni_store32(buf + 12, BOM);
    mni_store64(buf + 16, (uint64_t)seq);
    mni_store64(buf + 24, t->n);
    mni_store64(buf + 32, t->idents.n);
    mni_store64(buf + 40, t->types.n);
    mni_store64(buf + 48, t->sessions.n);
    mni_store64(buf + 56, payload);
    mni_store64(buf + 64, mni_hash64(buf + HDR, payload, 0));
    mni_store64(buf + 72, token);
    mni_store64(buf + 80, mni_hash64(buf, 80, 0));

    struct mni_atomic_file af;
    int rc = mni_atomic_file_open(&af, path);
    if (rc == MN_OK)
        rc = mni_atomic_file_commit(&af, fwrite(buf, 1, HDR + payload, af.f) != HDR + payload);
    free(buf);
    return rc;
}

static int parse(const unsigned char *buf, size_t size, struct vx_attrs *t, int64_t *seq,
                 uint64_t *token)
{
    if (size < HDR || memcmp(buf, MAGIC, 8) || mni_load32(buf + 8) != VERSION ||
        mni_load32(buf + 12) != BOM || mni_load64(buf + 80) != mni_hash64(buf, 80, 0))
        return MN_ECORRUPT;
    uint64_t n = mni_load64(buf + 24), ni = mni_load64(buf + 32), nt = mni_load64(buf + 40);
    uint64_t ns = mni_load64(buf + 48), payload = mni_load64(buf + 56);
    if (payload != size - HDR) /* its checksum: vx_attr_file_sum */
        return MN_ECORRUPT;
    /* Every count is bounded by the bytes it takes, before anything is allocated. */
    if (n > payload / REC || ni > payload / 4 || nt > payload / 4 || ns > payload / 4 ||
        n >= INT32_MAX || ns >= NO_SESSION)
        return MN_ECORRUPT;
    const unsigned char *p = buf + HDR, *end = buf + size;
    struct vx_names *lists[3] = { &t->idents, &t->types, &t->sessions };
    for (uint64_t i = 0; i < ni + nt + ns; i++) {
        if (end - p < 4)
            return MN_ECORRUPT;
        uint32_t len = mni_load32(p);
        if (len > MAX_NAME || (uint64_t)(end - p - 4) < len || memchr(p + 4, 0, len))
            return MN_ECORRUPT;
        int rc = names_room(t);
        if (rc != MN_OK)
            return rc;
        int32_t id;
        int added;
        char name[MAX_NAME + 1];
        memcpy(name, p + 4, len);
        name[len] = 0;
        rc = names_intern(lists[(i >= ni) + (i >= ni + nt)], name, len, &id, &added);
        if (rc != MN_OK)
            return rc;
        if (!added) /* a name twice */
            return MN_ECORRUPT;
        p += 4 + len;
    }
    if ((uint64_t)(end - p) != n * REC)
        return MN_ECORRUPT;
    /* Room for all at once: no growing while reading (t is empty: nothing to keep). */
    struct vx_attr *arr = big_alloc((n ? n : 1) * sizeof *arr);
    if (!arr)
        return MN_ENOMEM;
    free(t->a);
    t->a = arr;
    t->cap = n ? n : 1;
    size_t mcap = 128;
    while (mcap < 2 * n + 2)
        mcap *= 2;
    if (map_grow(t, mcap) != MN_OK)
        return MN_ENOMEM;
    for (uint64_t i = 0; i < n; i++, p += REC) {
        uint32_t iid = mni_load32(p + 56), tid = mni_load32(p + 60), sid = mni_load32(p + 64);
        if (iid >= ni || tid >= nt || (sid != NO_SESSION && sid >= ns) || p[68] > 1)
            return MN_ECORRUPT;
        int64_t key = (int64_t)mni_load64(p);
        /* The map slot of a key a few records on, fetched while this one is placed: each is a
         * cache miss, the bulk of a load's time without this. */
        if (n - i > PREFETCH)
            __builtin_prefetch(&t->map[mni_mix64(mni_load64(p + PREFETCH * REC)) & (mcap - 1)]);
        uint64_t bits = mni_load64(p + 48);
        struct vx_values v = { .seq = (int64_t)mni_load64(p + 8),
                               .expires_at = (int64_t)mni_load64(p + 16),
                               .created_at = (int64_t)mni_load64(p + 32),
                               .updated_at = (int64_t)mni_load64(p + 40),
                               .vhash = mni_load64(p + 24), .deleted = p[68] };
        memcpy(&v.importance, &bits, sizeof bits);
        size_t had = t->n;
        int rc = put_ids(t, key, &v, (int32_t)iid, (int32_t)tid,
                         sid == NO_SESSION ? -1 : (int32_t)sid);
        if (rc != MN_OK)
            return rc;
        if (t->n == had) /* the key was there: a key twice */
            return MN_ECORRUPT;
    }
    *seq = (int64_t)mni_load64(buf + 16);
    *token = mni_load64(buf + 72);
    return MN_OK;
}

/* The file is mapped, not read: parse copies what it keeps, so a copy of the whole file into
 * fresh memory first (a 6 MB one at 100k keys) would be paid at every open for nothing. */
int vx_attr_file_map(const char *path, struct vx_attr_file *f)
{
    f->buf = NULL;
    f->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? MN_ENOTFOUND : MN_EBACKEND;
    struct stat sb;
    int rc = MN_OK;
    void *buf = MAP_FAILED;
    if (fstat(fd, &sb) || sb.st_size < 0)
        rc = MN_EBACKEND;
    else if ((uint64_t)sb.st_size < HDR)
        rc = MN_ECORRUPT;
    else if ((buf = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
        rc = errno == ENOMEM ? MN_ENOMEM : MN_EBACKEND;
    close(fd);
    if (rc == MN_OK) {
        f->buf = buf;
        f->size = (size_t)sb.st_size;
    }
    return rc;
}

int vx_attr_file_sum(const struct vx_attr_file *f)
{
    return mni_hash64(f->buf + HDR, f->size - HDR, 0) == mni_load64(f->buf + 64) ? MN_OK
                                                                                  : MN_ECORRUPT;
}

int vx_attr_file_digest(const struct vx_attr_file *f, int64_t *sum)
{
    uint64_t n = mni_load64(f->buf + 24);
    if (n > (f->size - HDR) / REC)
        return MN_ECORRUPT;
    /* The records are the file's last n * REC bytes (parse checks as much): key, then seq. */
    const unsigned char *p = f->buf + f->size - n * REC;
    uint64_t s = 0; /* terms are below 2^31: 2^32 of them and more fit unreduced */
    for (uint64_t i = 0; i < n; i++, p += REC)
        s += (uint64_t)mni_digest_term((int64_t)mni_load64(p), (int64_t)mni_load64(p + 8));
    *sum = mni_digest_mod(s);
    return MN_OK;
}

int vx_attr_file_parse(const struct vx_attr_file *f, struct vx_attrs *t, int64_t *seq,
                       uint64_t *token)
{
    int rc = parse(f->buf, f->size, t, seq, token);
    if (rc != MN_OK)
        vx_attrs_free(t);
    return rc;
}

void vx_attr_file_unmap(struct vx_attr_file *f)
{
    if (f->buf)
        munmap((void *)f->buf, f->size);
    f->buf = NULL;
}

int vx_attrs_load(const char *path, struct vx_attrs *t, int64_t *seq, uint64_t *token)
{
    struct vx_attr_file f;
    int rc = vx_attr_file_map(path, &f);
    if (rc == MN_OK)
        rc = vx_attr_file_sum(&f);
    if (rc == MN_OK)
        rc = vx_attr_file_parse(&f, t, seq, token);
    vx_attr_file_unmap(&f);
    if (rc != MN_OK)
        vx_attrs_free(t);
    return rc;
}
