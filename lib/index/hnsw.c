/* HNSW index: see hnsw.h for the design, the concurrency rules and the file format's purpose.
 *
 * Slots. Every node lives in a slot s (int32): its vector at vecs + s * dim, its node row at
 * links0 + s * stride, its upper lists at upper[s] (level[s] lists of 1 + M ints), its key,
 * state, level and lock byte. The node row holds the layer-0 list (row = 1 + M0 ints: count,
 * then ids) and, in an int8 index, before it the node's code and scale (see list0): a search
 * reads a neighbour's code and later its list from one run of cache lines, as hnswlib keeps
 * its vectors beside its lists. A slot is FREE (on the free list,
 * chained through its layer-0 row), INSERTING (being linked; may be chosen as a neighbour, not
 * returned), LIVE, or DELETED (a waypoint until compaction frees it).
 *
 * Locks, always taken in this order, each at most once per thread:
 *   writers (rwlock)   shared by every mutation; exclusive for save (a stable snapshot)
 *   key_mu[key % 64]   serialises operations on one key
 *   compact_mu         one compaction at a time
 *   graph (rwlock)     shared by searches and mutations; exclusive to grow the arrays and to
 *                      begin and end a compaction (which makes it a grace period: no search
 *                      still holds a slot id the compaction frees)
 *   ep_mu              entry point changes (held through the insert of a new top node)
 *   map_mu             key table, free list, slot count
 *   node lock (spin)   one node's lists while rewriting them; never two at once
 * pool_mu guards the scratch pool and is never held with another lock taken after it.
 *
 * Lists are read with acquire loads and written with release stores (plain moves on x86), so a
 * search needs no lock to follow them; ids are written before the count that exposes them. */
#include "index/hnsw.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/atomic_file.h"
#include "index/distance.h"
#include "core/bytes.h"
#include "core/hash.h"
#include "manushya.h"

enum { ST_FREE = 0, ST_INSERTING = 1, ST_LIVE = 2, ST_DELETED = 3 };

#define MAX_LEVEL 30
#define KEY_STRIPES 64
#define MAX_SLOTS ((size_t)INT32_MAX)
#define MIN_CAP 16
#define MAX_THREADS 64

struct cand {
    float d;
    int32_t id;
};

struct heap {
    struct cand *a;
    size_t n, cap;
};

/* Per-operation working memory, pooled per index. tags is the visited set (epoch-stamped). */
struct scratch {
    struct scratch *next;
    uint16_t *tags;
    size_t tags_cap;
    uint16_t epoch;
    struct heap c, w;    /* candidates (min-heap), results (max-heap) */
    struct cand *list;   /* sorted candidates */
    int8_t *qcode;       /* the query's int8 code (MNI_HNSW_INT8), dim bytes */
    size_t list_cap;
    size_t n_dist, n_expand; /* work counters of the last searches */
    int32_t *ids;        /* a selection */
    int *pruned;         /* heuristic: indexes of pruned candidates */
    size_t sel_cap;      /* of ids and pruned */
};

struct mni_hnsw {
    int dim, m, m0, ef_c;
    int ef_s; /* atomic */
    unsigned flags;
    uint64_t seed;
    double ml;
    mni_dist_fn ip;
    mni_dot8_fn dot8;
    int rerank; /* atomic. MNI_HNSW_INT8: candidates re-scored from the floats (0: all) */
    size_t row;    /* ints per layer-0 list: 1 + m0 */
    size_t lofs;   /* ints before the list in a node row: 0, or the code and its scale */
    size_t stride; /* ints per node row */

    /* Slot arrays, cap entries each; reallocated only under the exclusive graph lock. */
    size_t cap;
    float *vecs;
    int32_t *links0; /* node rows, stride ints each */
    int codes;       /* MNI_HNSW_INT8: the node rows hold codes */
    size_t vecs_bytes, links_bytes; /* as allocated (big blocks) */
    int32_t **upper;
    int64_t *keys;
    uint8_t *state, *level, *nlock;

    /* Under map_mu (n_slots also read atomically). */
    size_t n_slots;
    int32_t free_head;
    size_t n_free;
    int32_t *map;
    size_t map_cap, map_n;

    /* Atomics. */
    size_t n_live, n_deleted, upper_bytes;
    uint64_t rng_ctr;
    uint64_t ep_word; /* (uint32)level << 32 | (uint32)entry; all ones when empty */

    pthread_rwlock_t writers, graph;
    pthread_mutex_t compact_mu, ep_mu, map_mu, pool_mu;
    pthread_mutex_t key_mu[KEY_STRIPES];
    struct scratch *pool;

    /* A loaded index reads its file, mapped privately (copy on write), until mni_hnsw_own
     * copies and checks it: see "the borrowed file" below. vecs_fd >= 0 until then. */
    int vecs_fd;
    uint64_t file_len;     /* the file's size at load */
    size_t vecs_len;       /* the vector section's length */
    uint64_t vecs_sum;     /* its XXH64, as the file's header gives it */
    /* Node rows and upper lists still the file's (a version 3 file, or a float index's of
     * version 2): NULL once the index owns them. */
    void *rows_base, *up_base;   /* the mappings (rows_base: a reservation of links_bytes) */
    size_t rows_base_bytes, up_base_bytes;
    const char *up_sec;          /* the upper-list section (NULL: empty) */
    size_t up_len;               /* and its length */
    struct mni_hash64_state sum; /* the payload's XXH64 up to the vectors (hashed at load) */
    uint64_t payload_sum;        /* and the whole payload's, as the header gives it */
    int damaged;                 /* under writers: mni_hnsw_own found the file damaged */
};

/* ==== small helpers ========================================================================= */

static inline int32_t ld32(const int32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void st32(int32_t *p, int32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint8_t ld8(const uint8_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void st8(uint8_t *p, uint8_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline size_t ldz(const size_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint64_t pack_ep(int32_t entry, int level)
{
    return ((uint64_t)(uint32_t)level << 32) | (uint32_t)entry;
}

static inline int32_t ep_entry(uint64_t w)
{
    return (int32_t)(uint32_t)w;
}

static inline int ep_level(uint64_t w)
{
    return (int32_t)(uint32_t)(w >> 32);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void node_lock(mni_hnsw *h, int32_t s)
{
    uint8_t *p = &h->nlock[s];
    int spins = 0;
    while (__atomic_exchange_n(p, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(p, __ATOMIC_RELAXED)) {
            if (++spins >= 100) {
                spins = 0;
                sched_yield();
            } else {
                cpu_relax();
            }
        }
    }
}

static void node_unlock(mni_hnsw *h, int32_t s)
{
    __atomic_store_n(&h->nlock[s], 0, __ATOMIC_RELEASE);
}

static inline const float *vec_at(const mni_hnsw *h, int32_t s)
{
    return h->vecs + (size_t)s * (size_t)h->dim;
}

/* s's layer-0 list: [count, ids], row ints, in the node rows at rows (the index's, or copies
 * being checked). */
static inline int32_t *list0_in(const mni_hnsw *h, int32_t *rows, int32_t s)
{
    return rows + (size_t)s * h->stride + h->lofs;
}

static inline int32_t *list0(const mni_hnsw *h, int32_t s)
{
    return list0_in(h, h->links0, s);
}

/* The list of layer l > 0 in a node's upper lists up. */
static inline int32_t *upper_list(const mni_hnsw *h, int32_t *up, int l)
{
    return up + (size_t)(l - 1) * (size_t)(h->m + 1);
}

static inline float dist_to(const mni_hnsw *h, const float *q, int32_t s)
{
    return -h->ip(q, vec_at(h, s), h->dim);
}

/* ---- quantised search: a query is scored against codes (MNI_HNSW_INT8) or floats ---------- */

/* An int8 node row: the code (dim bytes) at the row's start, a cache-line boundary (rows are
 * padded to whole lines), then its float scale at the next 4-byte boundary, then the list. */
static inline int8_t *code_at(const mni_hnsw *h, int32_t s)
{
    return (int8_t *)(h->links0 + (size_t)s * h->stride);
}

static inline float *scale_at(const mni_hnsw *h, int32_t s)
{
    return (float *)(h->links0 + (size_t)s * h->stride + h->lofs - 1);
}

/* Codes slot s's vector (already in place), when the index keeps codes. */
static void encode_slot(mni_hnsw *h, int32_t s)
{
    if (h->codes)
        *scale_at(h, s) = mni_quantize_i8(vec_at(h, s), h->dim, code_at(h, s));
}

/* What a graph walk measures against: the float query, and its code when the walk scores codes
 * (code NULL: floats, as inserts and repairs always do). */
struct qry {
    const float *f;
    const int8_t *code;
    float scale;
};

static inline struct qry qry_float(const float *f)
{
    struct qry q = { f, NULL, 0 };
    return q;
}

static inline float qdist(const mni_hnsw *h, const struct qry *q, int32_t s)
{
    if (!q->code)
        return dist_to(h, q->f, s);
    return -(q->scale * *scale_at(h, s)) * (float)h->dot8(q->code, code_at(h, s), h->dim);
}

/* The bytes qdist will read for s: every line of its code and scale (a 384-dimension code and
 * its scale are seven), or the first two of its float vector (the hardware's streamer fetches
 * the rest of a long run). */
static inline void prefetch_node(const mni_hnsw *h, const struct qry *q, int32_t s)
{
    if (q->code) {
        const char *p = (const char *)code_at(h, s), *end = (const char *)(scale_at(h, s) + 1);
        for (; p < end; p += 64)
            __builtin_prefetch(p);
        return;
    }
    const char *p = (const char *)vec_at(h, s);
    __builtin_prefetch(p);
    __builtin_prefetch(p + 64);
}

static inline int max_links(const mni_hnsw *h, int l)
{
    return l ? h->m : h->m0;
}

/* s's list on layer l, or NULL when s has no such layer (never for a consistent graph). */
static inline int32_t *list_at(const mni_hnsw *h, int32_t s, int l)
{
    if (l == 0)
        return list0(h, s);
    if (h->level[s] < l || !h->upper[s])
        return NULL;
    return upper_list(h, h->upper[s], l);
}

static inline int list_count(const int32_t *lst, int max)
{
    int n = ld32(lst);
    return n < 0 ? 0 : n > max ? max : n;
}

static void list_write(int32_t *lst, const int32_t *ids, int n)
{
    for (int i = 0; i < n; i++)
        st32(lst + 1 + i, ids[i]);
    st32(lst, n);
}

/* Deleted or freed: not a neighbour to keep or choose. */
static inline int is_removed(const mni_hnsw *h, int32_t s)
{
    uint8_t st = ld8(&h->state[s]);
    return st != ST_LIVE && st != ST_INSERTING;
}

static int random_level(mni_hnsw *h)
{
    uint64_t c = __atomic_fetch_add(&h->rng_ctr, 1, __ATOMIC_RELAXED);
    uint64_t r = mni_mix64(h->seed ^ mni_mix64(c));
    double u = (double)((r >> 11) + 1) * 0x1.0p-53; /* (0, 1] */
    double l = -log(u) * h->ml;
    return l >= MAX_LEVEL ? MAX_LEVEL : (int)l;
}

/* ==== heaps ================================================================================= */

static int heap_reserve(struct heap *hp, size_t need)
{
    if (need <= hp->cap)
        return 0;
    size_t nc = hp->cap ? hp->cap : 64;
    while (nc < need)
        nc *= 2;
    struct cand *a = realloc(hp->a, nc * sizeof *a);
    if (!a)
        return -1;
    hp->a = a;
    hp->cap = nc;
    return 0;
}

static inline void minheap_push(struct heap *hp, float d, int32_t id)
{
    size_t i = hp->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (hp->a[p].d <= d)
            break;
        hp->a[i] = hp->a[p];
        i = p;
    }
    hp->a[i].d = d;
    hp->a[i].id = id;
}

static inline void minheap_pop(struct heap *hp)
{
    size_t n = --hp->n;
    if (!n)
        return;
    struct cand last = hp->a[n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= n)
            break;
        size_t c = (l + 1 < n && hp->a[l + 1].d < hp->a[l].d) ? l + 1 : l;
        if (hp->a[c].d >= last.d)
            break;
        hp->a[i] = hp->a[c];
        i = c;
    }
    hp->a[i] = last;
}

static inline void maxheap_push(struct heap *hp, float d, int32_t id)
{
    size_t i = hp->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (hp->a[p].d >= d)
            break;
        hp->a[i] = hp->a[p];
        i = p;
    }
    hp->a[i].d = d;
    hp->a[i].id = id;
}

static inline void maxheap_pop(struct heap *hp)
{
    size_t n = --hp->n;
    if (!n)
        return;
    struct cand last = hp->a[n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= n)
            break;
        size_t c = (l + 1 < n && hp->a[l + 1].d > hp->a[l].d) ? l + 1 : l;
        if (hp->a[c].d <= last.d)
            break;
        hp->a[i] = hp->a[c];
        i = c;
    }
    hp->a[i] = last;
}

/* A total order even over scores that are not numbers (a damaged file's, read before the
 * index checked it): they sort last, so qsort is never given an inconsistent comparison. */
static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    int xn = isnan(x->d), yn = isnan(y->d);
    if (xn != yn)
        return xn - yn;
    if (!xn && x->d != y->d)
        return x->d < y->d ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Ascending distance (ties: smaller slot), so every selection is deterministic. */
static void cand_sort(struct cand *c, size_t n)
{
    if (n > 48) {
        qsort(c, n, sizeof *c, cand_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct cand t = c[i];
        size_t j = i;
        while (j > 0 && cand_cmp(&c[j - 1], &t) > 0) {
            c[j] = c[j - 1];
            j--;
        }
        c[j] = t;
    }
}

/* ==== scratch pool ========================================================================== */

static void scratch_free(struct scratch *sc)
{
    if (!sc)
        return;
    free(sc->tags);
    free(sc->c.a);
    free(sc->w.a);
    free(sc->list);
    free(sc->ids);
    free(sc->pruned);
    free(sc->qcode);
    free(sc);
}

static size_t scratch_bytes(const mni_hnsw *h, const struct scratch *sc)
{
    return sizeof *sc + sc->tags_cap * sizeof *sc->tags +
           (sc->c.cap + sc->w.cap) * sizeof(struct cand) + sc->list_cap * sizeof *sc->list +
           sc->sel_cap * (sizeof *sc->ids + sizeof *sc->pruned) +
           (sc->qcode ? (size_t)h->dim : 0);
}

static int list_reserve(struct scratch *sc, size_t need)
{
    if (need <= sc->list_cap)
        return 0;
    size_t nc = sc->list_cap ? sc->list_cap : 64;
    while (nc < need)
        nc *= 2;
    struct cand *l = realloc(sc->list, nc * sizeof *l);
    if (!l)
        return -1;
    sc->list = l;
    sc->list_cap = nc;
    return 0;
}

/* Sizes the visited set to the current capacity (the caller holds the graph lock). */
static int scratch_fit(const mni_hnsw *h, struct scratch *sc)
{
    if (sc->tags_cap >= h->cap)
        return 0;
    free(sc->tags);
    sc->tags = calloc(h->cap, sizeof *sc->tags);
    sc->tags_cap = sc->tags ? h->cap : 0;
    sc->epoch = 0;
    return sc->tags ? 0 : -1;
}

/* The caller holds the graph lock (either mode). NULL when out of memory. */
static struct scratch *scratch_get(mni_hnsw *h)
{
    pthread_mutex_lock(&h->pool_mu);
    struct scratch *sc = h->pool;
    if (sc)
        h->pool = sc->next;
    pthread_mutex_unlock(&h->pool_mu);
    if (!sc) {
        sc = calloc(1, sizeof *sc);
        if (!sc)
            return NULL;
        /* A repair considers a full list and the full lists of its removed members; an insert
         * selects among up to ef_construction candidates, which a small m makes the larger. */
        size_t worst = (size_t)h->m0 * (size_t)(h->m0 + 1) + 1;
        if (worst < (size_t)h->ef_c + 1)
            worst = (size_t)h->ef_c + 1;
        sc->sel_cap = worst;
        sc->ids = malloc(worst * sizeof *sc->ids);
        sc->pruned = malloc(worst * sizeof *sc->pruned);
        if (h->codes)
            sc->qcode = malloc((size_t)h->dim);
        if (!sc->ids || !sc->pruned || (h->codes && !sc->qcode) || list_reserve(sc, worst) ||
            heap_reserve(&sc->c, 256) ||
            heap_reserve(&sc->w, (size_t)h->ef_c + 1)) {
            scratch_free(sc);
            return NULL;
        }
    }
    if (scratch_fit(h, sc)) {
        scratch_free(sc);
        return NULL;
    }
    return sc;
}

static void scratch_put(mni_hnsw *h, struct scratch *sc)
{
    if (!sc)
        return;
    pthread_mutex_lock(&h->pool_mu);
    sc->next = h->pool;
    h->pool = sc;
    pthread_mutex_unlock(&h->pool_mu);
}

static inline void visit_begin(struct scratch *sc)
{
    if (++sc->epoch == 0) {
        memset(sc->tags, 0, sc->tags_cap * sizeof *sc->tags);
        sc->epoch = 1;
    }
}

/* ==== key table (under map_mu): open addressing of slots, linear probing ==================== */

static inline size_t key_hash(int64_t key)
{
    return (size_t)mni_mix64((uint64_t)key);
}

static int32_t map_find(const mni_hnsw *h, int64_t key)
{
    size_t mask = h->map_cap - 1, i = key_hash(key) & mask;
    for (;;) {
        int32_t s = h->map[i];
        if (s < 0)
            return -1;
        if (h->keys[s] == key)
            return s;
        i = (i + 1) & mask;
    }
}

static void map_place(int32_t *map, size_t cap, const int64_t *keys, int32_t s)
{
    size_t mask = cap - 1, i = key_hash(keys[s]) & mask;
    while (map[i] >= 0)
        i = (i + 1) & mask;
    map[i] = s;
}

static int map_resize(mni_hnsw *h, size_t cap)
{
    int32_t *m = malloc(cap * sizeof *m);
    if (!m)
        return MN_ENOMEM;
    memset(m, 0xff, cap * sizeof *m);
    for (size_t i = 0; i < h->map_cap; i++)
        if (h->map[i] >= 0)
            map_place(m, cap, h->keys, h->map[i]);
    free(h->map);
    h->map = m;
    h->map_cap = cap;
    return MN_OK;
}

/* Adds slot s under keys[s] (absent). Load factor at most 1/2. */
static int map_put(mni_hnsw *h, int32_t s)
{
    if ((h->map_n + 1) * 2 > h->map_cap) {
        int rc = map_resize(h, h->map_cap * 2);
        if (rc)
            return rc;
    }
    map_place(h->map, h->map_cap, h->keys, s);
    h->map_n++;
    return MN_OK;
}

/* Adds slot s under keys[s] unless that key is there already (1, nothing changed), with room
 * made beforehand: a load's one probe per key, where map_find then map_put took two. */
static int map_put_new(mni_hnsw *h, int32_t s)
{
    size_t mask = h->map_cap - 1, i = key_hash(h->keys[s]) & mask;
    for (int32_t t; (t = h->map[i]) >= 0; i = (i + 1) & mask)
        if (h->keys[t] == h->keys[s])
            return 1;
    h->map[i] = s;
    h->map_n++;
    return 0;
}

/* Removes key (present) by backward shift: no tombstones. */
static void map_del(mni_hnsw *h, int64_t key)
{
    size_t mask = h->map_cap - 1, i = key_hash(key) & mask;
    while (h->map[i] >= 0 && h->keys[h->map[i]] != key)
        i = (i + 1) & mask;
    if (h->map[i] < 0)
        return;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (h->map[j] < 0)
            break;
        size_t k = key_hash(h->keys[h->map[j]]) & mask;
        /* the entry at j stays if its home k lies cyclically in (i, j] */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        h->map[i] = h->map[j];
        i = j;
    }
    h->map[i] = -1;
    h->map_n--;
}

/* ==== slots ================================================================================= */

/* The two big blocks (vectors, layer-0 lists) are anonymous mappings with transparent huge
 * pages requested: a search touches a few hundred scattered vectors and lists, and 2 MiB pages
 * spare most of the TLB misses. Growing remaps without copying. Under AddressSanitizer they are
 * plain heap blocks, so that its bounds checks cover them (and ThreadSanitizer, which does not
 * follow mremap, sees them). Contents past the old size are zero. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BIG_MMAP 0
#else
#define BIG_MMAP 1
#endif

static size_t big_round(size_t bytes)
{
    size_t page = BIG_MMAP ? 4096 : 64;
    return bytes ? (bytes + page - 1) & ~(page - 1) : page;
}

/* Resizes *p from old to bytes (both from big_round; old 0: new block). */
static int big_resize(void **p, size_t old, size_t bytes)
{
#if BIG_MMAP
    void *q = old ? mremap(*p, old, bytes, MREMAP_MAYMOVE)
                  : mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED)
        return -1;
#ifdef MADV_HUGEPAGE
    if (bytes >= ((size_t)4 << 20))
        madvise(q, bytes, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
#else
    void *q = aligned_alloc(64, bytes);
    if (!q)
        return -1;
    if (old)
        memcpy(q, *p, old);
    memset((char *)q + old, 0, bytes - old);
    free(*p);
#endif
    *p = q;
    return 0;
}

static void big_free(void *p, size_t bytes)
{
    if (!p)
        return;
#if BIG_MMAP
    munmap(p, bytes);
#else
    (void)bytes;
    free(p);
#endif
}

/* ==== the borrowed file ===================================================================== */

/* mni_hnsw_load maps the file's sections privately instead of reading them: the vectors, and
 * (a version 3 file, or a float index's of version 2) the node rows and upper lists. A load
 * then costs what the keys, states and levels cost to read (10 bytes a slot), and the first
 * searches fault in only the pages they touch, from the page cache that every process opening
 * the file shares. The mappings last until mni_hnsw_own copies them into memory of the
 * index's own, checking on the way what the load did not (the checksums, the lists, the key
 * table, the free list, the scales); every call that writes, or needs the key table, does
 * that first, so nothing ever writes to the file's pages nor trusts them for more than a
 * search. A search of an index not yet checked stays within its arrays whatever the file
 * holds: levels and entry point are checked at load, a list's count is clamped to its layer's
 * maximum and ids past the slots are skipped (as for lists read mid-update), and a score that
 * is not a number sorts last: a damaged file gives wrong results, never a crash. Files are
 * replaced by rename, never rewritten in place, so a mapped file keeps its content; a file
 * truncated in place while mapped would fault (SIGBUS) on the pages past its new end, which is
 * why the owner of the index makes it its own soon after loading it (vindex.c), and
 * mni_hnsw_own refuses a file that shrank. */

/* Maps the file's section [off, off + len) privately, at the start of a reservation of at
 * least bytes (>= len) whose rest reads zero, into *sec; *base and *base_bytes are what to
 * unmap. MN_ENOMEM or MN_EBACKEND when the system refuses (nothing mapped). */
static int map_section(int fd, uint64_t off, size_t len, size_t bytes, void **sec, void **base,
                       size_t *base_bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), lead = (size_t)(off % page);
    size_t mapped = (lead + len + page - 1) & ~(page - 1);
    size_t total = (lead + (bytes > len ? bytes : len) + page - 1) & ~(page - 1);
    char *b = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b == MAP_FAILED)
        return MN_ENOMEM;
    if (mmap(b, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
             (off_t)(off - lead)) == MAP_FAILED) {
        munmap(b, total);
        return MN_EBACKEND;
    }
    /* The section's last page goes on into the file's next section: slots past it read zero. */
    memset(b + lead + len, 0, mapped - lead - len);
    *sec = b + lead;
    *base = b;
    *base_bytes = total;
    return MN_OK;
}

/* Drops the mappings of rows and upper lists (their pointers are the caller's to replace). */
static void rows_unmap(mni_hnsw *h)
{
    if (h->rows_base)
        munmap(h->rows_base, h->rows_base_bytes);
    if (h->up_base)
        munmap(h->up_base, h->up_base_bytes);
    h->rows_base = h->up_base = NULL;
}

static void vecs_unmap(mni_hnsw *h)
{
    munmap(h->vecs, h->vecs_bytes);
    close(h->vecs_fd);
    __atomic_store_n(&h->vecs_fd, -1, __ATOMIC_RELEASE); /* never mapped again */
}

static void vecs_free(mni_hnsw *h)
{
    if (h->vecs_fd >= 0)
        vecs_unmap(h);
    else
        big_free(h->vecs, h->vecs_bytes);
    h->vecs = NULL;
    h->vecs_bytes = 0;
}

/* Maps the file's vector section [off, off + len) in place of the current block (of
 * vecs_bytes), the rest of the block reading zero. Nothing changed on failure. */
static int vecs_map(mni_hnsw *h, int fd, uint64_t off, size_t len)
{
    void *sec, *base;
    size_t bytes;
    int rc = map_section(fd, off, len, h->vecs_bytes, &sec, &base, &bytes);
    if (rc)
        return rc;
    vecs_free(h);
    h->vecs = base; /* off is page-aligned (VEC_ALIGN): base is the section */
    h->vecs_bytes = bytes;
    h->vecs_fd = fd;
    h->vecs_len = len;
    return MN_OK;
}

/* Hashes n bytes at p into x a megabyte at a time, or copies them to dst (may be NULL) and
 * hashes the copy while it is in the cache. MN_ERROR when *stop became nonzero first. */
static int hash_copy(struct mni_hash64_state *x, const void *p, size_t n, void *dst,
                     const int *stop)
{
    const size_t chunk = (size_t)1 << 20;
    for (size_t o = 0; o < n; o += chunk) {
        if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED))
            return MN_ERROR;
        size_t c = n - o < chunk ? n - o : chunk;
        const char *from = (const char *)p + o;
        if (dst)
            from = memcpy((char *)dst + o, from, c);
        mni_hash64_update(x, from, c);
    }
    return MN_OK;
}

/* Grows every slot array to hold exactly want slots (more than now). Caller holds the graph lock
 * exclusively. Never arrays of a borrowed file (a load grows before it maps; mni_hnsw_own
 * comes before any write). */
static int grow(mni_hnsw *h, size_t want)
{
    if (want <= h->cap)
        return MN_OK;
    if (want > MAX_SLOTS)
        return MN_ERANGE;
    size_t nc = want;
    size_t vbytes = big_round(nc * (size_t)h->dim * sizeof(float));
    size_t lbytes = big_round(nc * h->stride * sizeof(int32_t));
    void *nv = h->vecs, *nl = h->links0;
    if (big_resize(&nv, h->vecs_bytes, vbytes))
        return MN_ENOMEM;
    h->vecs = nv;
    h->vecs_bytes = vbytes;
    if (big_resize(&nl, h->links_bytes, lbytes))
        return MN_ENOMEM;
    h->links0 = nl;
    h->links_bytes = lbytes;
    int32_t **up = realloc(h->upper, nc * sizeof *up);
    if (up)
        h->upper = up;
    int64_t *ks = realloc(h->keys, nc * sizeof *ks);
    if (ks)
        h->keys = ks;
    uint8_t *st = realloc(h->state, nc);
    if (st)
        h->state = st;
    uint8_t *lv = realloc(h->level, nc);
    if (lv)
        h->level = lv;
    uint8_t *lk = realloc(h->nlock, nc);
    if (lk)
        h->nlock = lk;
    if (!up || !ks || !st || !lv || !lk)
        return MN_ENOMEM; /* the arrays that grew stay valid; cap is unchanged */
    size_t old = h->cap;
    for (size_t i = old; i < nc; i++)
        h->upper[i] = NULL;
    memset(h->keys + old, 0, (nc - old) * sizeof *ks);
    memset(h->state + old, ST_FREE, nc - old);
    memset(h->level + old, 0, nc - old);
    memset(h->nlock + old, 0, nc - old);
    h->cap = nc;
    return MN_OK;
}

/* Takes a slot for key (absent: MN_EEXISTS otherwise) and enters it in the key table. The
 * caller holds the graph lock shared; it is dropped and retaken when the arrays must grow. */
static int alloc_slot(mni_hnsw *h, int64_t key, int32_t *out)
{
    for (;;) {
        pthread_mutex_lock(&h->map_mu);
        if (map_find(h, key) >= 0) {
            pthread_mutex_unlock(&h->map_mu);
            return MN_EEXISTS;
        }
        int32_t s = -1;
        if (h->free_head >= 0) {
            s = h->free_head;
            h->free_head = list0(h, s)[1];
            h->n_free--;
        } else if (h->n_slots < h->cap) {
            s = (int32_t)h->n_slots;
            __atomic_store_n(&h->n_slots, h->n_slots + 1, __ATOMIC_RELEASE);
        }
        if (s >= 0) {
            list0(h, s)[1] = 0;
            h->keys[s] = key;
            int rc = map_put(h, s);
            if (rc) { /* back on the free list */
                h->keys[s] = 0;
                list0(h, s)[1] = h->free_head;
                h->free_head = s;
                h->n_free++;
            }
            pthread_mutex_unlock(&h->map_mu);
            *out = s;
            return rc;
        }
        size_t cap = h->cap;
        pthread_mutex_unlock(&h->map_mu);
        if (cap >= MAX_SLOTS)
            return MN_ERANGE;
        pthread_rwlock_unlock(&h->graph);
        pthread_rwlock_wrlock(&h->graph);
        int rc = MN_OK;
        if (h->cap == cap) /* by half: amortised O(1) per insert, at most 1/3 unused */
            rc = grow(h, cap > MAX_SLOTS / 3 * 2 ? MAX_SLOTS : cap + cap / 2);
        pthread_rwlock_unlock(&h->graph);
        pthread_rwlock_rdlock(&h->graph);
        if (rc)
            return rc;
    }
}

/* Returns slot s to the free list (graph lock exclusive, or s was never reachable). */
static void release_slot_locked(mni_hnsw *h, int32_t s)
{
    if (h->upper[s]) {
        __atomic_fetch_sub(&h->upper_bytes,
                           (size_t)h->level[s] * (size_t)(h->m + 1) * sizeof(int32_t),
                           __ATOMIC_RELAXED);
        free(h->upper[s]);
        h->upper[s] = NULL;
    }
    memset(h->vecs + (size_t)s * (size_t)h->dim, 0, (size_t)h->dim * sizeof(float));
    memset(h->links0 + (size_t)s * h->stride, 0, h->stride * sizeof(int32_t)); /* and code */
    h->keys[s] = 0;
    h->level[s] = 0;
    st8(&h->state[s], ST_FREE);
    list0(h, s)[1] = h->free_head;
    h->free_head = s;
    h->n_free++;
}

/* ==== graph search ========================================================================== */

struct filter {
    mni_hnsw_accept_fn fn;
    void *ctx;
    int32_t self;
    int build; /* construction: any linkable node but self; search: live and accepted */
};

static inline int returnable(const mni_hnsw *h, const struct filter *f, int32_t s)
{
    uint8_t st = ld8(&h->state[s]);
    if (f->build)
        return (st == ST_LIVE || st == ST_INSERTING) && s != f->self;
    return st == ST_LIVE && (!f->fn || f->fn(f->ctx, h->keys[s]));
}

/* Greedy descent on layer l (ef = 1). */
static void greedy(const mni_hnsw *h, const struct qry *q, int32_t *cur, float *curd, int l)
{
    size_t cap = h->cap;
    int max = max_links(h, l), changed = 1;
    while (changed) {
        changed = 0;
        const int32_t *lst = list_at(h, *cur, l);
        if (!lst)
            return;
        int n = list_count(lst, max);
        for (int j = 1; j <= n; j++) {
            int32_t id = ld32(lst + j);
            if ((size_t)(uint32_t)id >= cap)
                continue;
            float d = qdist(h, q, id);
            if (d < *curd) {
                *curd = d;
                *cur = id;
                changed = 1;
            }
        }
    }
}

/* Algorithm 2 (SEARCH-LAYER) with a result filter: leaves in sc->w (max-heap) the ef nearest
 * returnable nodes found on layer l from ep. Non-returnable nodes are traversed; the search ends
 * when ef returnable nodes are held and no candidate is closer than the worst of them, so it
 * widens by itself while too few pass the filter. */
static int search_layer(const mni_hnsw *h, struct scratch *sc, const struct qry *q, int32_t ep,
                        float epd, size_t ef, int l, const struct filter *f)
{
    visit_begin(sc);
    sc->c.n = sc->w.n = 0;
    if (heap_reserve(&sc->w, ef + 1))
        return MN_ENOMEM;
    uint16_t *tags = sc->tags;
    const uint16_t epoch = sc->epoch;
    const size_t cap = h->cap;
    const int max = max_links(h, l);

    tags[ep] = epoch;
    minheap_push(&sc->c, epd, ep);
    if (returnable(h, f, ep))
        maxheap_push(&sc->w, epd, ep);
    float lower = sc->w.n ? sc->w.a[0].d : INFINITY;

    while (sc->c.n) {
        struct cand cur = sc->c.a[0];
        if (cur.d > lower && sc->w.n >= ef)
            break;
        minheap_pop(&sc->c);
        sc->n_expand++;
        const int32_t *lst = list_at(h, cur.id, l);
        if (!lst)
            continue;
        int n = list_count(lst, max), fresh = 0;
        /* The unvisited neighbours first, each one's bytes requested as it is found: the
         * loads overlap, and no prefetch is spent on a node already scored. */
        int32_t ids[2 * MNI_HNSW_MAX_M];
        for (int j = 1; j <= n; j++) {
            int32_t id = ld32(lst + j);
            if ((size_t)(uint32_t)id >= cap || tags[id] == epoch)
                continue;
            tags[id] = epoch;
            prefetch_node(h, q, id);
            ids[fresh++] = id;
        }
        for (int j = 0; j < fresh; j++) {
            int32_t id = ids[j];
            float d = qdist(h, q, id);
            sc->n_dist++;
            if (sc->w.n < ef || d < lower) {
                if (sc->c.n == sc->c.cap && heap_reserve(&sc->c, sc->c.n + 1))
                    return MN_ENOMEM;
                minheap_push(&sc->c, d, id);
                if (l == 0) /* likely expanded soon: fetch its list meanwhile */
                    __builtin_prefetch(list0(h, id));
                if (returnable(h, f, id)) {
                    maxheap_push(&sc->w, d, id);
                    if (sc->w.n > ef)
                        maxheap_pop(&sc->w);
                    lower = sc->w.a[0].d;
                }
            }
        }
    }
    return MN_OK;
}

/* Moves sc->w into sc->list, nearest first; returns the count. */
static int take_sorted(struct scratch *sc, size_t *n)
{
    size_t k = sc->w.n;
    if (list_reserve(sc, k))
        return MN_ENOMEM;
    for (size_t i = k; i > 0; i--) {
        sc->list[i - 1] = sc->w.a[0];
        maxheap_pop(&sc->w);
    }
    *n = k;
    return MN_OK;
}

/* ==== neighbour selection =================================================================== */

/* Algorithm 4 (SELECT-NEIGHBORS-HEURISTIC) over c[0 .. n-1], sorted by distance to the base
 * node: a candidate is kept when it is closer to the base than to every one kept so far, which
 * spreads the links over directions. With MNI_HNSW_KEEP_PRUNED the nearest pruned candidates top
 * the list up to m. Writes at most m ids to out (not aliasing c); returns how many. */
static int select_heuristic(const mni_hnsw *h, struct scratch *sc, const struct cand *c, size_t n,
                            int m, int32_t *out)
{
    if (n <= (size_t)m) {
        for (size_t i = 0; i < n; i++)
            out[i] = c[i].id;
        return (int)n;
    }
    int r = 0;
    size_t np = 0;
    for (size_t i = 0; i < n && r < m; i++) {
        const float *v = vec_at(h, c[i].id);
        int good = 1;
        for (int j = 0; j < r; j++) {
            if (dist_to(h, v, out[j]) < c[i].d) {
                good = 0;
                break;
            }
        }
        if (good)
            out[r++] = c[i].id;
        else
            sc->pruned[np++] = (int)i;
    }
    if (h->flags & MNI_HNSW_KEEP_PRUNED)
        for (size_t p = 0; p < np && r < m; p++)
            out[r++] = c[sc->pruned[p]].id;
    return r;
}

/* Adds s to e's layer-l list; a full list is shrunk with the heuristic (which may drop s). */
static void add_link(mni_hnsw *h, struct scratch *sc, int32_t e, int32_t s, int l)
{
    const int max = max_links(h, l);
    node_lock(h, e);
    int32_t *lst = list_at(h, e, l);
    if (!lst) {
        node_unlock(h, e);
        return;
    }
    int n = list_count(lst, max);
    for (int j = 1; j <= n; j++) {
        if (ld32(lst + j) == s) {
            node_unlock(h, e);
            return;
        }
    }
    if (n < max) {
        st32(lst + 1 + n, s);
        st32(lst, n + 1);
        node_unlock(h, e);
        return;
    }
    const float *ev = vec_at(h, e);
    size_t k = 0;
    for (int j = 1; j <= n; j++) {
        int32_t id = ld32(lst + j);
        if ((size_t)(uint32_t)id >= h->cap || is_removed(h, id))
            continue;
        sc->list[k].d = dist_to(h, ev, id);
        sc->list[k++].id = id;
    }
    sc->list[k].d = dist_to(h, ev, s);
    sc->list[k++].id = s;
    cand_sort(sc->list, k);
    int r = select_heuristic(h, sc, sc->list, k, max, sc->ids);
    list_write(lst, sc->ids, r);
    node_unlock(h, e);
}

/* Under x's lock: when x's layer-l list names removed nodes, rebuilds it with the heuristic from
 * its remaining neighbours and the remaining neighbours of the removed ones. */
static void repair_links(mni_hnsw *h, struct scratch *sc, int32_t x, int l)
{
    const int max = max_links(h, l);
    const size_t cap = h->cap;
    int32_t *lst = list_at(h, x, l);
    if (!lst)
        return;
    int n = list_count(lst, max), bad = 0;
    for (int j = 1; j <= n && !bad; j++) {
        int32_t id = ld32(lst + j);
        bad = (size_t)(uint32_t)id >= cap || is_removed(h, id);
    }
    if (!bad)
        return;
    visit_begin(sc);
    const uint16_t epoch = sc->epoch;
    sc->tags[x] = epoch;
    const float *xv = vec_at(h, x);
    size_t k = 0;
    for (int j = 1; j <= n; j++) {
        int32_t y = ld32(lst + j);
        if ((size_t)(uint32_t)y >= cap)
            continue;
        if (!is_removed(h, y)) {
            if (sc->tags[y] != epoch) {
                sc->tags[y] = epoch;
                sc->list[k].d = dist_to(h, xv, y);
                sc->list[k++].id = y;
            }
            continue;
        }
        const int32_t *yl = list_at(h, y, l);
        if (!yl)
            continue;
        int yn = list_count(yl, max);
        for (int i = 1; i <= yn; i++) {
            int32_t z = ld32(yl + i);
            if ((size_t)(uint32_t)z >= cap || sc->tags[z] == epoch || is_removed(h, z))
                continue;
            sc->tags[z] = epoch;
            sc->list[k].d = dist_to(h, xv, z);
            sc->list[k++].id = z;
        }
    }
    cand_sort(sc->list, k);
    int r = select_heuristic(h, sc, sc->list, k, max, sc->ids);
    list_write(lst, sc->ids, r);
}

/* ==== insert ================================================================================ */

/* Algorithm 1 (INSERT) for slot s, already INSERTING with its vector and level. The caller holds
 * the graph lock shared. */
static int link_node(mni_hnsw *h, struct scratch *sc, int32_t s, int lv)
{
    const float *v = vec_at(h, s);
    const struct qry q = qry_float(v);
    const struct filter f = { NULL, NULL, s, 1 };
    int held = 0, rc = MN_OK;
    uint64_t w = __atomic_load_n(&h->ep_word, __ATOMIC_ACQUIRE);
    int32_t ep = ep_entry(w);
    int top = ep_level(w);
    if (ep < 0 || lv > top) {
        /* A new top node (or the first): hold ep_mu through the insert so that no other top
         * node is made meanwhile (its upper layers would miss this one). */
        pthread_mutex_lock(&h->ep_mu);
        held = 1;
        w = __atomic_load_n(&h->ep_word, __ATOMIC_ACQUIRE);
        ep = ep_entry(w);
        top = ep_level(w);
        if (ep < 0) {
            __atomic_store_n(&h->ep_word, pack_ep(s, lv), __ATOMIC_RELEASE);
            pthread_mutex_unlock(&h->ep_mu);
            return MN_OK;
        }
        if (lv <= top) {
            pthread_mutex_unlock(&h->ep_mu);
            held = 0;
        }
    }
    float epd = dist_to(h, v, ep);
    for (int l = top; l > lv; l--)
        greedy(h, &q, &ep, &epd, l);
    int32_t sel[2 * MNI_HNSW_MAX_M];
    for (int l = lv < top ? lv : top; l >= 0; l--) {
        size_t n;
        rc = search_layer(h, sc, &q, ep, epd, (size_t)h->ef_c, l, &f);
        if (rc == MN_OK)
            rc = take_sorted(sc, &n);
        if (rc)
            break;
        if (n > 0) {
            ep = sc->list[0].id;
            epd = sc->list[0].d;
        }
        int r = select_heuristic(h, sc, sc->list, n, h->m, sel);
        node_lock(h, s);
        list_write(list_at(h, s, l), sel, r);
        node_unlock(h, s);
        for (int i = 0; i < r; i++)
            add_link(h, sc, sel[i], s, l);
    }
    if (held) {
        if (rc == MN_OK)
            __atomic_store_n(&h->ep_word, pack_ep(s, lv), __ATOMIC_RELEASE);
        pthread_mutex_unlock(&h->ep_mu);
    }
    return rc;
}

static void delete_slot(mni_hnsw *h, struct scratch *sc, int32_t d);

/* Inserts key (absent from the table) with vector v. Graph lock shared on entry and exit. */
static int insert_new(mni_hnsw *h, struct scratch *sc, int64_t key, const float *v)
{
    int32_t s;
    int rc = alloc_slot(h, key, &s);
    if (rc)
        return rc;
    if (scratch_fit(h, sc)) {
        rc = MN_ENOMEM;
        goto undo;
    }
    int lv = random_level(h);
    memcpy(h->vecs + (size_t)s * (size_t)h->dim, v, (size_t)h->dim * sizeof(float));
    encode_slot(h, s);
    h->level[s] = (uint8_t)lv;
    list0(h, s)[0] = 0;
    if (lv > 0) {
        size_t ints = (size_t)lv * (size_t)(h->m + 1);
        h->upper[s] = calloc(ints, sizeof(int32_t));
        if (!h->upper[s]) {
            rc = MN_ENOMEM;
            goto undo;
        }
        __atomic_fetch_add(&h->upper_bytes, ints * sizeof(int32_t), __ATOMIC_RELAXED);
    }
    st8(&h->state[s], ST_INSERTING); /* publishes vector, level and lists */
    rc = link_node(h, sc, s, lv);
    if (rc) {
        /* Partly linked: retire it as a deleted node (repaired, freed by compaction). */
        pthread_mutex_lock(&h->map_mu);
        map_del(h, key);
        pthread_mutex_unlock(&h->map_mu);
        __atomic_fetch_add(&h->n_live, 1, __ATOMIC_RELAXED); /* delete_slot takes one off */
        delete_slot(h, sc, s);
        return rc;
    }
    st8(&h->state[s], ST_LIVE);
    __atomic_fetch_add(&h->n_live, 1, __ATOMIC_RELAXED);
    return MN_OK;

undo:
    /* Never reachable: straight back to the free list. */
    pthread_mutex_lock(&h->map_mu);
    map_del(h, key);
    if (h->upper[s]) {
        free(h->upper[s]);
        h->upper[s] = NULL;
        __atomic_fetch_sub(&h->upper_bytes,
                           (size_t)h->level[s] * (size_t)(h->m + 1) * sizeof(int32_t),
                           __ATOMIC_RELAXED);
    }
    h->level[s] = 0;
    h->keys[s] = 0;
    list0(h, s)[0] = 0;
    list0(h, s)[1] = h->free_head;
    h->free_head = s;
    h->n_free++;
    pthread_mutex_unlock(&h->map_mu);
    return rc;
}

/* ==== delete ================================================================================ */

/* d was the entry point and is removed: the new one is a live node of the highest level. */
static void replace_entry(mni_hnsw *h, int32_t d)
{
    pthread_mutex_lock(&h->ep_mu);
    uint64_t w = __atomic_load_n(&h->ep_word, __ATOMIC_ACQUIRE);
    if (ep_entry(w) != d) {
        pthread_mutex_unlock(&h->ep_mu);
        return;
    }
    int top = ep_level(w);
    int32_t best = -1;
    int bestl = -1;
    /* Usually a neighbour on the top layer is live: it has the same level. */
    const int32_t *lst = list_at(h, d, top);
    if (lst) {
        int n = list_count(lst, max_links(h, top));
        for (int j = 1; j <= n && best < 0; j++) {
            int32_t id = ld32(lst + j);
            if ((size_t)(uint32_t)id < h->cap && ld8(&h->state[id]) == ST_LIVE &&
                h->level[id] >= top) {
                best = id;
                bestl = h->level[id];
            }
        }
    }
    if (best < 0) {
        /* Otherwise scan: the highest live node, or an inserting one when none is live. */
        size_t ns = __atomic_load_n(&h->n_slots, __ATOMIC_ACQUIRE);
        int32_t alt = -1;
        int altl = -1;
        for (size_t s = 0; s < ns; s++) {
            uint8_t st = ld8(&h->state[s]);
            if (st == ST_LIVE && h->level[s] > bestl) {
                best = (int32_t)s;
                bestl = h->level[s];
            } else if (st == ST_INSERTING && h->level[s] > altl) {
                alt = (int32_t)s;
                altl = h->level[s];
            }
        }
        if (best < 0) {
            best = alt;
            bestl = altl;
        }
    }
    __atomic_store_n(&h->ep_word, best < 0 ? pack_ep(-1, -1) : pack_ep(best, bestl),
                     __ATOMIC_RELEASE);
    pthread_mutex_unlock(&h->ep_mu);
}

/* Marks d deleted (never returned from now on) and reconnects its neighbours. d's key is
 * already out of the table; the graph lock is held shared. sc may be NULL (no memory): the
 * repair is then left to compaction. */
static void delete_slot(mni_hnsw *h, struct scratch *sc, int32_t d)
{
    st8(&h->state[d], ST_DELETED);
    __atomic_fetch_sub(&h->n_live, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->n_deleted, 1, __ATOMIC_RELAXED);
    if (ep_entry(__atomic_load_n(&h->ep_word, __ATOMIC_ACQUIRE)) == d)
        replace_entry(h, d);
    if (!sc)
        return;
    int32_t nb[2 * MNI_HNSW_MAX_M];
    for (int l = h->level[d]; l >= 0; l--) {
        const int32_t *lst = list_at(h, d, l);
        if (!lst)
            continue;
        int n = list_count(lst, max_links(h, l));
        for (int j = 0; j < n; j++)
            nb[j] = ld32(lst + 1 + j);
        for (int j = 0; j < n; j++) {
            int32_t x = nb[j];
            if ((size_t)(uint32_t)x >= h->cap || is_removed(h, x))
                continue;
            node_lock(h, x);
            repair_links(h, sc, x, l);
            node_unlock(h, x);
        }
    }
}

/* ==== compaction ============================================================================ */

static int compact(mni_hnsw *h, int automatic)
{
    int rc = MN_OK;
    pthread_rwlock_rdlock(&h->writers);
    if (automatic) {
        if (pthread_mutex_trylock(&h->compact_mu)) {
            pthread_rwlock_unlock(&h->writers);
            return MN_OK; /* another thread is at it */
        }
    } else {
        pthread_mutex_lock(&h->compact_mu);
    }
    /* 1. Under the exclusive lock, the deleted nodes become condemned: every insert from now
     * on sees them deleted and will not link to them, and none still running could have. */
    pthread_rwlock_wrlock(&h->graph);
    size_t ns = h->n_slots, count = 0;
    uint8_t *cond = calloc(ns ? ns : 1, 1);
    if (cond)
        for (size_t s = 0; s < ns; s++)
            if (h->state[s] == ST_DELETED) {
                cond[s] = 1;
                count++;
            }
    pthread_rwlock_unlock(&h->graph);
    if (!cond) {
        rc = MN_ENOMEM;
        goto out;
    }
    if (!count)
        goto out;

    /* 2. Shared: repair every list that names a condemned node (searches and inserts go on). */
    pthread_rwlock_rdlock(&h->graph);
    struct scratch *sc = scratch_get(h);
    if (!sc) {
        pthread_rwlock_unlock(&h->graph);
        rc = MN_ENOMEM;
        goto out;
    }
    for (size_t x = 0; x < ns; x++) {
        if (cond[x] || ld8(&h->state[x]) == ST_FREE)
            continue;
        for (int l = h->level[x]; l >= 0; l--) {
            const int32_t *lst = list_at(h, (int32_t)x, l);
            if (!lst)
                continue;
            int n = list_count(lst, max_links(h, l)), hit = 0;
            for (int j = 1; j <= n && !hit; j++) {
                uint32_t id = (uint32_t)ld32(lst + j);
                hit = id < ns && cond[id];
            }
            if (hit) {
                node_lock(h, (int32_t)x);
                repair_links(h, sc, (int32_t)x, l);
                node_unlock(h, (int32_t)x);
            }
        }
    }
    scratch_put(h, sc);
    pthread_rwlock_unlock(&h->graph);

    /* 3. Exclusive again: no search holds a condemned id now, and no list names one. */
    pthread_rwlock_wrlock(&h->graph);
    int32_t ep = ep_entry(h->ep_word);
    if (ep >= 0 && (size_t)ep < ns && cond[ep])
        replace_entry(h, ep); /* cannot happen (delete moves it), but never leave it dangling */
    for (size_t s = 0; s < ns; s++)
        if (cond[s])
            release_slot_locked(h, (int32_t)s);
    __atomic_fetch_sub(&h->n_deleted, count, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&h->graph);

out:
    free(cond);
    pthread_mutex_unlock(&h->compact_mu);
    pthread_rwlock_unlock(&h->writers);
    return rc;
}

static void maybe_compact(mni_hnsw *h)
{
    if (h->flags & MNI_HNSW_NO_AUTO_COMPACT)
        return;
    size_t del = ldz(&h->n_deleted), live = ldz(&h->n_live);
    if (del > 0 && del * 10 >= live + del)
        compact(h, 1);
}

int mni_hnsw_compact(mni_hnsw *h)
{
    if (!h)
        return MN_EINVAL;
    int rc = mni_hnsw_own(h, NULL);
    return rc ? rc : compact(h, 0);
}

/* ==== public: create, mutate ================================================================ */

static int check_params(int dim, const struct mni_hnsw_params *p, struct mni_hnsw_params *out)
{
    struct mni_hnsw_params d = { 0, 0, 0, 0, 0, 0 };
    if (p)
        d = *p;
    if (!d.m)
        d.m = MNI_HNSW_DEFAULT_M;
    if (!d.ef_construction)
        d.ef_construction = MNI_HNSW_DEFAULT_EF_CONSTRUCTION;
    if (!d.ef_search)
        d.ef_search = MNI_HNSW_DEFAULT_EF_SEARCH;
    if (dim < 1 || dim > MNI_HNSW_MAX_DIM || d.m < 2 || d.m > MNI_HNSW_MAX_M ||
        d.ef_construction < 1 || d.ef_construction > MNI_HNSW_MAX_EF || d.ef_search < 1 ||
        d.ef_search > MNI_HNSW_MAX_EF || (d.flags & ~MNI_HNSW_FLAGS) || d.rerank < 0 ||
        d.rerank > MNI_HNSW_MAX_EF || (d.rerank && !(d.flags & MNI_HNSW_INT8)))
        return MN_EINVAL;
    *out = d;
    return MN_OK;
}

/* Ints per node row, and before its list (*lofs): the list alone (1 + 2m), or in an int8
 * index the code, its scale and the list, padded to whole cache lines. */
static size_t node_stride(int dim, int m, unsigned flags, size_t *lofs)
{
    size_t row = 1 + 2 * (size_t)m;
    *lofs = 0;
    if (!(flags & MNI_HNSW_INT8))
        return row;
    *lofs = ((size_t)dim + 3) / 4 + 1;
    return (*lofs + row + 15) / 16 * 16;
}

int mni_hnsw_create(int dim, const struct mni_hnsw_params *p, mni_hnsw **out)
{
    struct mni_hnsw_params prm;
    if (!out)
        return MN_EINVAL;
    *out = NULL;
    if (check_params(dim, p, &prm))
        return MN_EINVAL;
    mni_hnsw *h = calloc(1, sizeof *h);
    if (!h)
        return MN_ENOMEM;
    h->dim = dim;
    h->m = prm.m;
    h->m0 = 2 * prm.m;
    h->ef_c = prm.ef_construction;
    h->ef_s = prm.ef_search;
    h->flags = prm.flags;
    h->seed = prm.seed;
    h->ml = 1.0 / log((double)prm.m);
    h->ip = mni_dist_ops()->ip;
    h->dot8 = mni_dist_ops()->dot8;
    h->rerank = prm.rerank;
    h->row = 1 + (size_t)h->m0;
    h->codes = (prm.flags & MNI_HNSW_INT8) != 0;
    h->stride = node_stride(dim, prm.m, prm.flags, &h->lofs);
    h->free_head = -1;
    h->vecs_fd = -1;
    h->ep_word = pack_ep(-1, -1);
    h->map_cap = 64;
    h->map = malloc(h->map_cap * sizeof *h->map);
    if (!h->map) {
        free(h);
        return MN_ENOMEM;
    }
    memset(h->map, 0xff, h->map_cap * sizeof *h->map);
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* Writer preference: a grow or compaction is not starved by a stream of searches. */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&h->writers, &ra);
    pthread_rwlock_init(&h->graph, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&h->compact_mu, NULL);
    pthread_mutex_init(&h->ep_mu, NULL);
    pthread_mutex_init(&h->map_mu, NULL);
    pthread_mutex_init(&h->pool_mu, NULL);
    for (int i = 0; i < KEY_STRIPES; i++)
        pthread_mutex_init(&h->key_mu[i], NULL);
    int rc = grow(h, MIN_CAP);
    if (rc) {
        mni_hnsw_free(h);
        return rc;
    }
    *out = h;
    return MN_OK;
}

void mni_hnsw_free(mni_hnsw *h)
{
    if (!h)
        return;
    if (h->rows_base) { /* rows and upper lists are the file's */
        rows_unmap(h);
    } else {
        for (size_t s = 0; s < h->cap; s++)
            free(h->upper ? h->upper[s] : NULL);
        big_free(h->links0, h->links_bytes);
    }
    free(h->upper);
    vecs_free(h);
    free(h->keys);
    free(h->state);
    free(h->level);
    free(h->nlock);
    free(h->map);
    while (h->pool) {
        struct scratch *n = h->pool->next;
        scratch_free(h->pool);
        h->pool = n;
    }
    pthread_rwlock_destroy(&h->writers);
    pthread_rwlock_destroy(&h->graph);
    pthread_mutex_destroy(&h->compact_mu);
    pthread_mutex_destroy(&h->ep_mu);
    pthread_mutex_destroy(&h->map_mu);
    pthread_mutex_destroy(&h->pool_mu);
    for (int i = 0; i < KEY_STRIPES; i++)
        pthread_mutex_destroy(&h->key_mu[i]);
    free(h);
}

/* Allocates room for n nodes in all, so that inserts up to n never pause to grow. */
static int mni_hnsw_reserve(mni_hnsw *h, size_t n)
{
    if (!h)
        return MN_EINVAL;
    if (n > MAX_SLOTS)
        return MN_ERANGE;
    pthread_rwlock_wrlock(&h->graph);
    int rc = grow(h, n);
    pthread_rwlock_unlock(&h->graph);
    return rc;
}

static pthread_mutex_t *key_lock(mni_hnsw *h, int64_t key)
{
    return &h->key_mu[key_hash(key) % KEY_STRIPES];
}

/* Before growing the arrays, reclaim the slots of deleted nodes if there are enough of them. */
static void compact_before_growing(mni_hnsw *h)
{
    if (h->flags & MNI_HNSW_NO_AUTO_COMPACT)
        return;
    pthread_rwlock_rdlock(&h->graph);
    pthread_mutex_lock(&h->map_mu);
    int full = h->free_head < 0 && h->n_slots == h->cap && ldz(&h->n_deleted) * 64 >= h->cap;
    pthread_mutex_unlock(&h->map_mu);
    pthread_rwlock_unlock(&h->graph);
    if (full)
        compact(h, 1);
}

static int put(mni_hnsw *h, int64_t key, const float *v, int replace)
{
    if (!h || !v)
        return MN_EINVAL;
    for (int i = 0; i < h->dim; i++)
        if (!isfinite(v[i]))
            return MN_EINVAL;
    int rc = mni_hnsw_own(h, NULL);
    if (rc)
        return rc;
    compact_before_growing(h);
    pthread_mutex_t *km = key_lock(h, key);
    pthread_rwlock_rdlock(&h->writers);
    pthread_mutex_lock(km);
    pthread_rwlock_rdlock(&h->graph);
    struct scratch *sc = scratch_get(h);
    if (!sc) {
        rc = MN_ENOMEM;
    } else {
        pthread_mutex_lock(&h->map_mu);
        int32_t old = map_find(h, key);
        if (old >= 0 && replace)
            map_del(h, key);
        pthread_mutex_unlock(&h->map_mu);
        if (old >= 0 && !replace) {
            rc = MN_EEXISTS;
        } else {
            if (old >= 0)
                delete_slot(h, sc, old);
            rc = insert_new(h, sc, key, v);
        }
        scratch_put(h, sc);
    }
    pthread_rwlock_unlock(&h->graph);
    pthread_mutex_unlock(km);
    pthread_rwlock_unlock(&h->writers);
    maybe_compact(h);
    return rc;
}

int mni_hnsw_insert(mni_hnsw *h, int64_t key, const float *vec)
{
    return put(h, key, vec, 0);
}

int mni_hnsw_update(mni_hnsw *h, int64_t key, const float *vec)
{
    return put(h, key, vec, 1);
}

int mni_hnsw_delete(mni_hnsw *h, int64_t key)
{
    if (!h)
        return MN_EINVAL;
    int rc = mni_hnsw_own(h, NULL);
    if (rc)
        return rc;
    pthread_mutex_t *km = key_lock(h, key);
    pthread_rwlock_rdlock(&h->writers);
    pthread_mutex_lock(km);
    pthread_rwlock_rdlock(&h->graph);
    pthread_mutex_lock(&h->map_mu);
    int32_t s = map_find(h, key);
    if (s >= 0)
        map_del(h, key);
    pthread_mutex_unlock(&h->map_mu);
    if (s >= 0) {
        struct scratch *sc = scratch_get(h);
        delete_slot(h, sc, s);
        scratch_put(h, sc);
    }
    pthread_rwlock_unlock(&h->graph);
    pthread_mutex_unlock(km);
    pthread_rwlock_unlock(&h->writers);
    if (s < 0)
        return MN_ENOTFOUND;
    maybe_compact(h);
    return MN_OK;
}

int mni_hnsw_contains(const mni_hnsw *hc, int64_t key)
{
    mni_hnsw *h = (mni_hnsw *)hc;
    if (!h || mni_hnsw_own(h, NULL) != MN_OK) /* the key table is built there */
        return 0;
    pthread_rwlock_rdlock(&h->graph);
    pthread_mutex_lock(&h->map_mu);
    int32_t s = map_find(h, key);
    int live = s >= 0 && ld8(&h->state[s]) == ST_LIVE;
    pthread_mutex_unlock(&h->map_mu);
    pthread_rwlock_unlock(&h->graph);
    return live;
}

struct build_job {
    mni_hnsw *h;
    const int64_t *keys;
    const float *vecs;
    size_t n, next;
    int rc;
};

static void *build_worker(void *arg)
{
    struct build_job *j = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (i >= j->n || __atomic_load_n(&j->rc, __ATOMIC_RELAXED))
            break;
        int rc = mni_hnsw_insert(j->h, j->keys[i], j->vecs + i * (size_t)j->h->dim);
        if (rc) {
            int zero = 0;
            __atomic_compare_exchange_n(&j->rc, &zero, rc, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED);
            break;
        }
    }
    return NULL;
}

int mni_hnsw_build(mni_hnsw *h, const int64_t *keys, const float *vecs, size_t n, int threads)
{
    if (!h || (n && (!keys || !vecs)))
        return MN_EINVAL;
    if (!n)
        return MN_OK;
    int rc = mni_hnsw_own(h, NULL);
    if (rc)
        return rc;
    size_t have = ldz(&h->n_live) + ldz(&h->n_deleted);
    rc = mni_hnsw_reserve(h, have + n > MAX_SLOTS ? MAX_SLOTS : have + n);
    if (rc)
        return rc;
    struct build_job job = { h, keys, vecs, n, 0, MN_OK };
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((size_t)threads > n)
        threads = (int)n;
    pthread_t tid[MAX_THREADS];
    int started = 0;
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&tid[started], NULL, build_worker, &job))
            break;
        started++;
    }
    build_worker(&job);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    return job.rc;
}

/* ==== public: search ======================================================================== */

int mni_hnsw_search(const mni_hnsw *h, const float *q, size_t k, int ef, mni_hnsw_accept_fn accept,
                   void *ctx, struct mni_hit *out, size_t *n)
{
    return mni_hnsw_search_ex(h, q, k, ef, accept, ctx, out, n, NULL);
}

/* After a walk over codes: scores the first candidates of sc->list (nearest first by code)
 * again from the float vectors and sorts them by that; returns how many are kept, the rest
 * being dropped. That is h->rerank of them (0: all), or more while fewer than k of them are
 * live (a node deleted meanwhile is not returned). */
static size_t rerank(const mni_hnsw *h, struct scratch *sc, const float *q, size_t got, size_t k)
{
    int every = __atomic_load_n(&h->rerank, __ATOMIC_RELAXED);
    size_t want = every ? (size_t)every : got, r = 0, live = 0;
    if (want < k)
        want = k;
    for (; r < got && (r < want || live < k); r++) {
        int32_t id = sc->list[r].id;
        live += ld8(&h->state[id]) == ST_LIVE;
        sc->list[r].d = dist_to(h, q, id);
    }
    cand_sort(sc->list, r);
    return r;
}

/* Equal scores: smaller key first (as mni_topk). */
static void hits_tie_order(struct mni_hit *out, size_t m)
{
    for (size_t i = 1; i < m; i++) {
        struct mni_hit t = out[i];
        size_t j = i;
        while (j > 0 && out[j - 1].score == t.score && out[j - 1].key > t.key) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = t;
    }
}

int mni_hnsw_search_ex(const mni_hnsw *hc, const float *q, size_t k, int ef,
                      mni_hnsw_accept_fn accept, void *ctx, struct mni_hit *out, size_t *n,
                      struct mni_hnsw_search_stats *stats)
{
    mni_hnsw *h = (mni_hnsw *)hc;
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (n)
        *n = 0;
    if (!h || !q || !n || (k && !out))
        return MN_EINVAL;
    if (!k)
        return MN_OK;
    if (ef <= 0)
        ef = __atomic_load_n(&h->ef_s, __ATOMIC_RELAXED);
    if (ef > MNI_HNSW_MAX_EF)
        ef = MNI_HNSW_MAX_EF;
    size_t efe = (size_t)ef > k ? (size_t)ef : k;
    pthread_rwlock_rdlock(&h->graph);
    uint64_t w = __atomic_load_n(&h->ep_word, __ATOMIC_ACQUIRE);
    int32_t ep = ep_entry(w);
    if (ep < 0) {
        pthread_rwlock_unlock(&h->graph);
        return MN_OK;
    }
    size_t ns = __atomic_load_n(&h->n_slots, __ATOMIC_ACQUIRE);
    if (efe > ns)
        efe = ns ? ns : 1;
    struct scratch *sc = scratch_get(h);
    if (!sc) {
        pthread_rwlock_unlock(&h->graph);
        return MN_ENOMEM;
    }
    struct qry qq = qry_float(q);
    if (h->codes) {
        qq.code = sc->qcode;
        qq.scale = mni_quantize_i8(q, h->dim, sc->qcode);
    }
    float epd = qdist(h, &qq, ep);
    for (int l = ep_level(w); l > 0; l--)
        greedy(h, &qq, &ep, &epd, l);
    const struct filter f = { accept, ctx, -1, 0 };
    size_t got = 0, m = 0;
    sc->n_dist = sc->n_expand = 0;
    int rc = search_layer(h, sc, &qq, ep, epd, efe, 0, &f);
    if (stats) {
        stats->distances = sc->n_dist;
        stats->expanded = sc->n_expand;
        stats->ef = efe;
    }
    if (rc == MN_OK)
        rc = take_sorted(sc, &got);
    if (rc == MN_OK && qq.code)
        got = rerank(h, sc, q, got, k);
    if (rc == MN_OK) {
        /* A node deleted since it was found is dropped: deleted means never returned. */
        for (size_t i = 0; i < got && m < k; i++) {
            int32_t id = sc->list[i].id;
            if (ld8(&h->state[id]) != ST_LIVE)
                continue;
            out[m].key = h->keys[id];
            out[m].score = -sc->list[i].d;
            m++;
        }
    }
    scratch_put(h, sc);
    pthread_rwlock_unlock(&h->graph);
    hits_tie_order(out, m);
    *n = m;
    return rc;
}

int mni_hnsw_score_keys(const mni_hnsw *hc, const float *q, const int64_t *keys, size_t nkeys,
                       size_t k, struct mni_hit *out, size_t *n)
{
    mni_hnsw *h = (mni_hnsw *)hc;
    if (n)
        *n = 0;
    if (!h || !q || !n || (k && !out) || (nkeys && !keys))
        return MN_EINVAL;
    if (!k || !nkeys)
        return MN_OK;
    int rc = mni_hnsw_own(h, NULL); /* the key table is built there */
    if (rc)
        return rc;
    struct mni_topk top;
    if (mni_topk_init(&top, k))
        return MN_ENOMEM;
    pthread_rwlock_rdlock(&h->graph);
    struct scratch *sc = scratch_get(h);
    if (!sc) {
        pthread_rwlock_unlock(&h->graph);
        mni_topk_free(&top);
        return MN_ENOMEM;
    }
    visit_begin(sc); /* a key listed twice is scored once */
    /* the key table in batches, so inserts are not held up for long */
    for (size_t i = 0; i < nkeys;) {
        size_t end = nkeys - i > 256 ? i + 256 : nkeys;
        pthread_mutex_lock(&h->map_mu);
        for (; i < end; i++) {
            int32_t s = map_find(h, keys[i]);
            if (s < 0 || sc->tags[s] == sc->epoch || ld8(&h->state[s]) != ST_LIVE)
                continue;
            sc->tags[s] = sc->epoch;
            mni_topk_push(&top, keys[i], -dist_to(h, q, s));
        }
        pthread_mutex_unlock(&h->map_mu);
    }
    scratch_put(h, sc);
    pthread_rwlock_unlock(&h->graph);
    mni_topk_sort(&top);
    size_t m = top.n;
    memcpy(out, top.heap, m * sizeof *out);
    mni_topk_free(&top);
    *n = m;
    return MN_OK;
}

/* ==== public: introspection ================================================================= */

size_t mni_hnsw_count(const mni_hnsw *h)
{
    return h ? ldz(&h->n_live) : 0;
}

int mni_hnsw_dim(const mni_hnsw *h)
{
    return h ? h->dim : 0;
}

/* The bytes of the vector block that are the file's pages (0 when the index owns it). */
static size_t vecs_mapped(const mni_hnsw *h)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return h->vecs_fd >= 0 ? (h->vecs_len + page - 1) & ~(page - 1) : 0;
}

/* The file's bytes the index reads in place: vectors, and rows and upper lists until owned. */
static size_t mapped_locked(const mni_hnsw *h)
{
    size_t rows = h->rows_base ? h->n_slots * h->stride * sizeof(int32_t) + h->up_len : 0;
    return vecs_mapped(h) + rows;
}

/* Graph lock held (either mode). */
static size_t bytes_locked(mni_hnsw *h)
{
    size_t per_slot = sizeof(int32_t *) + sizeof(int64_t) + 3;
    size_t b = sizeof *h + h->vecs_bytes - vecs_mapped(h) +
               (h->rows_base ? 0 : h->links_bytes) + h->cap * per_slot + ldz(&h->upper_bytes);
    pthread_mutex_lock(&h->map_mu);
    b += h->map_cap * sizeof *h->map;
    pthread_mutex_unlock(&h->map_mu);
    pthread_mutex_lock(&h->pool_mu);
    for (const struct scratch *sc = h->pool; sc; sc = sc->next)
        b += scratch_bytes(h, sc);
    pthread_mutex_unlock(&h->pool_mu);
    return b;
}

size_t mni_hnsw_bytes(const mni_hnsw *hc)
{
    mni_hnsw *h = (mni_hnsw *)hc;
    if (!h)
        return 0;
    pthread_rwlock_rdlock(&h->graph);
    size_t b = bytes_locked(h);
    pthread_rwlock_unlock(&h->graph);
    return b;
}

void mni_hnsw_stats(const mni_hnsw *hc, struct mni_hnsw_stats *st)
{
    mni_hnsw *h = (mni_hnsw *)hc;
    memset(st, 0, sizeof *st);
    if (!h)
        return;
    pthread_rwlock_rdlock(&h->graph);
    st->live = ldz(&h->n_live);
    st->deleted = ldz(&h->n_deleted);
    pthread_mutex_lock(&h->map_mu);
    st->slots = h->n_slots;
    st->free = h->n_free;
    pthread_mutex_unlock(&h->map_mu);
    st->capacity = h->cap;
    st->max_level = ep_level(__atomic_load_n(&h->ep_word, __ATOMIC_ACQUIRE));
    st->bytes = bytes_locked(h);
    st->mapped = mapped_locked(h);
    pthread_rwlock_unlock(&h->graph);
}

void mni_hnsw_params_get(const mni_hnsw *h, struct mni_hnsw_params *p)
{
    memset(p, 0, sizeof *p);
    if (!h)
        return;
    p->m = h->m;
    p->ef_construction = h->ef_c;
    p->ef_search = __atomic_load_n(&h->ef_s, __ATOMIC_RELAXED);
    p->seed = h->seed;
    p->flags = h->flags;
    p->rerank = __atomic_load_n(&h->rerank, __ATOMIC_RELAXED);
}

int mni_hnsw_set_ef_search(mni_hnsw *h, int ef)
{
    if (!h || ef < 1 || ef > MNI_HNSW_MAX_EF)
        return MN_EINVAL;
    __atomic_store_n(&h->ef_s, ef, __ATOMIC_RELAXED);
    return MN_OK;
}

int mni_hnsw_set_rerank(mni_hnsw *h, int rerank)
{
    if (!h || rerank < 0 || rerank > MNI_HNSW_MAX_EF || (rerank && !h->codes))
        return MN_EINVAL;
    __atomic_store_n(&h->rerank, rerank, __ATOMIC_RELAXED);
    return MN_OK;
}

/* ==== persistence =========================================================================== */

/* Header, 136 bytes, little-endian:
 *    0 magic "MNHNSWIX"       8 u32 version        12 u32 header size (136)
 *   16 u32 byte-order mark   20 u32 dim            24 u32 m           28 u32 ef_construction
 *   32 u32 ef_search         36 u32 flags          40 i32 max level   44 i32 entry
 *   48 u64 slots             56 u64 live           64 u64 deleted     72 u64 seed
 *   80 u64 rng counter       88 i64 seq            96 u64 payload bytes
 *  104 u64 payload XXH64    112 u64 vectors XXH64  120 u32 rerank (MNI_HNSW_INT8, else 0)
 *  124 u32 reserved (0)     128 u64 XXH64 of bytes 0..127
 * Payload: keys i64[slots]; state u8[slots]; level u8[slots]; zeros up to a file offset that
 * is a multiple of VEC_ALIGN; vectors f32[slots * dim]; node rows i32[slots * stride] as they
 * are in memory (node_stride: the layer-0 list, 1 + 2m ints, and in an int8 index before it
 * the code and its scale, the row padded with zeros to whole cache lines); then, for each used
 * slot of level L > 0 in slot order, its upper lists i32[L * (1 + m)]. A free slot's row is
 * zeros. The payload checksum covers all of it but the vectors, which have their own. The
 * loader maps the vectors, rows and upper lists rather than reading them (see "the borrowed
 * file"): both checksums are checked when they are copied (mni_hnsw_own). Saving the codes (version 3)
 * spares a load the coding of every vector, which read all the floats, and lets the rows be
 * mapped as they are in memory. Version 2 (1.6 - 1.7)
 * held only the lists in the rows (1 + 2m ints; the same bytes as version 3 for a float
 * index): its files still load, an int8 index coding its vectors again. Version 1 had a
 * 128-byte header and the vectors 8-aligned under the payload checksum; its files are
 * refused (the caller rebuilds). */
#define HDR_SIZE 136
#define HDR_SUM 128 /* where the header's own checksum is, over the bytes before it */
#define FILE_VERSION 3
#define FILE_VERSION_LISTS_ONLY 2 /* still read: rows without codes */
#define VEC_ALIGN 65536 /* a multiple of every page size Linux uses: the section can be mapped */
#define BOM 0x01020304u
static const char MAGIC[8] = { 'M', 'N', 'H', 'N', 'S', 'W', 'I', 'X' };

struct wr {
    FILE *f;
    struct mni_hash64_state x;
    uint64_t bytes;
    int err;
};

/* Zeros between the level bytes of ns slots and the vectors (see the format above). */
static uint64_t vec_pad(uint64_t ns)
{
    uint64_t end = HDR_SIZE + ns * 10;
    return (VEC_ALIGN - end % VEC_ALIGN) % VEC_ALIGN;
}

static void wr_put(struct wr *w, const void *p, size_t n)
{
    if (w->err || !n)
        return;
    mni_hash64_update(&w->x, p, n);
    if (fwrite(p, 1, n, w->f) != n)
        w->err = 1;
    w->bytes += n;
}

int mni_hnsw_save(const mni_hnsw *hc, const char *path, int64_t seq)
{
    mni_hnsw *h = (mni_hnsw *)hc;
    if (!h || !path || !*path)
        return MN_EINVAL;
    /* A borrowed file is checked first: a damaged one must not be saved under new checksums. */
    int rc = mni_hnsw_own(h, NULL);
    if (rc != MN_OK)
        return rc;
    struct mni_atomic_file af;
    rc = mni_atomic_file_open(&af, path);
    if (rc != MN_OK)
        return rc;
    FILE *f = af.f;
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    int32_t *buf = malloc(h->stride * sizeof *buf); /* a node row (or upper list) as written */
    if (!buf) {
        mni_atomic_file_commit(&af, 1);
        return MN_ENOMEM;
    }

    pthread_rwlock_wrlock(&h->writers); /* no mutation (nor compaction) while we copy */
    pthread_rwlock_rdlock(&h->graph);
    unsigned char hdr[HDR_SIZE];
    memset(hdr, 0, sizeof hdr);
    struct wr w = { f, { { 0 }, 0, 0, { 0 }, 0 }, 0, 0 };
    if (fwrite(hdr, 1, HDR_SIZE, f) != HDR_SIZE)
        w.err = 1;
    mni_hash64_init(&w.x, 0);
    size_t ns = h->n_slots;
    static const unsigned char zeros[4096] = { 0 };
    wr_put(&w, h->keys, ns * sizeof *h->keys);
    wr_put(&w, h->state, ns);
    wr_put(&w, h->level, ns);
    for (uint64_t pad = vec_pad(ns); pad; pad -= pad < sizeof zeros ? pad : sizeof zeros)
        wr_put(&w, zeros, pad < sizeof zeros ? pad : sizeof zeros);
    /* The vectors: written, counted in the payload, hashed apart. */
    struct mni_hash64_state vsum = w.x;
    mni_hash64_init(&w.x, 0);
    wr_put(&w, h->vecs, ns * (size_t)h->dim * sizeof(float));
    uint64_t vecs_sum = mni_hash64_final(&w.x);
    w.x = vsum;
    /* Rows are written canonically: nothing past the list's count (stale ids), nothing in the
     * padding, free slots (which chain the free list through their row) as zeros. The same
     * index, the same bytes. */
    for (size_t s = 0; s < ns; s++) {
        const int32_t *r = h->links0 + s * h->stride;
        memset(buf, 0, h->stride * sizeof *buf);
        if (h->state[s] != ST_FREE) {
            int c = list_count(r + h->lofs, h->m0);
            if (h->codes) {
                memcpy(buf, r, (size_t)h->dim);        /* the code */
                buf[h->lofs - 1] = r[h->lofs - 1];     /* its scale */
            }
            buf[h->lofs] = c;
            memcpy(buf + h->lofs + 1, r + h->lofs + 1, (size_t)c * sizeof *buf);
        }
        wr_put(&w, buf, h->stride * sizeof *buf);
    }
    for (size_t s = 0; s < ns; s++) {
        if (h->state[s] == ST_FREE)
            continue;
        for (int l = 1; l <= h->level[s]; l++) {
            const int32_t *r = list_at(h, (int32_t)s, l);
            int c = list_count(r, h->m);
            memset(buf, 0, (size_t)(h->m + 1) * sizeof *buf);
            buf[0] = c;
            memcpy(buf + 1, r + 1, (size_t)c * sizeof *buf);
            wr_put(&w, buf, (size_t)(h->m + 1) * sizeof *buf);
        }
    }

    uint64_t word = h->ep_word;
    memcpy(hdr, MAGIC, 8);
    mni_store32(hdr + 8, FILE_VERSION);
    mni_store32(hdr + 12, HDR_SIZE);
    mni_store32(hdr + 16, BOM);
    mni_store32(hdr + 20, (uint32_t)h->dim);
    mni_store32(hdr + 24, (uint32_t)h->m);
    mni_store32(hdr + 28, (uint32_t)h->ef_c);
    mni_store32(hdr + 32, (uint32_t)h->ef_s);
    mni_store32(hdr + 36, h->flags);
    mni_store32(hdr + 40, (uint32_t)ep_level(word));
    mni_store32(hdr + 44, (uint32_t)ep_entry(word));
    mni_store64(hdr + 48, ns);
    mni_store64(hdr + 56, ldz(&h->n_live));
    mni_store64(hdr + 64, ldz(&h->n_deleted));
    mni_store64(hdr + 72, h->seed);
    mni_store64(hdr + 80, h->rng_ctr);
    mni_store64(hdr + 88, (uint64_t)seq);
    mni_store64(hdr + 96, w.bytes);
    mni_store64(hdr + 104, mni_hash64_final(&w.x));
    mni_store64(hdr + 112, vecs_sum);
    mni_store32(hdr + 120, (uint32_t)__atomic_load_n(&h->rerank, __ATOMIC_RELAXED));
    mni_store32(hdr + 124, 0);
    mni_store64(hdr + HDR_SUM, mni_hash64(hdr, HDR_SUM, 0));
    if (!w.err && (fseek(f, 0, SEEK_SET) || fwrite(hdr, 1, HDR_SIZE, f) != HDR_SIZE))
        w.err = 1;
    pthread_rwlock_unlock(&h->graph);
    pthread_rwlock_unlock(&h->writers);
    free(buf);
    return mni_atomic_file_commit(&af, w.err);
}

struct rd {
    FILE *f;
    struct mni_hash64_state x;
    int err;
};

static void rd_get(struct rd *r, void *p, size_t n)
{
    if (r->err || !n)
        return;
    if (fread(p, 1, n, r->f) != n) {
        r->err = 1;
        return;
    }
    mni_hash64_update(&r->x, p, n);
}

/* rd_get in pieces small enough to be hashed while still in the cache. */
static void rd_get_big(struct rd *r, void *p, size_t n)
{
    const size_t chunk = (size_t)1 << 20;
    for (size_t o = 0; o < n; o += chunk)
        rd_get(r, (char *)p + o, n - o < chunk ? n - o : chunk);
}

/* What a search trusts, checked at load (two bytes a slot): states, levels, the live and
 * deleted counts, the entry point. Sums the bytes the upper lists take in the file into *up
 * and counts the free slots. */
static int check_states(mni_hnsw *h, size_t ns, size_t live, size_t deleted, int top,
                        int32_t entry, uint64_t *up)
{
    size_t nl = 0, nd = 0;
    int maxl = -1; /* over live nodes: the entry point is the highest live one (a deleted node
                    * waiting for compaction may be higher) */
    *up = 0;
    for (size_t s = 0; s < ns; s++) {
        uint8_t st = h->state[s];
        if (st != ST_FREE && st != ST_LIVE && st != ST_DELETED)
            return MN_ECORRUPT;
        if (h->level[s] > MAX_LEVEL || (st == ST_FREE && h->level[s]))
            return MN_ECORRUPT;
        if (st == ST_LIVE)
            nl++;
        else if (st == ST_DELETED)
            nd++;
        if (st == ST_LIVE && h->level[s] > maxl)
            maxl = h->level[s];
        *up += (uint64_t)h->level[s] * (uint64_t)(h->m + 1) * sizeof(int32_t);
    }
    if (nl != live || nd != deleted)
        return MN_ECORRUPT;
    if (entry == -1) { /* empty, or only deleted nodes left */
        if (top != -1 || nl)
            return MN_ECORRUPT;
    } else if (entry < 0 || (size_t)entry >= ns || h->state[entry] == ST_FREE ||
               h->level[entry] != top || maxl > top) {
        return MN_ECORRUPT;
    }
    h->n_free = ns - nl - nd;
    return MN_OK;
}

/* Checks slot s's lists in rows and upper against reach (see check_lists) and zeroes what lies
 * past each list's count. */
static int check_slot_lists(const mni_hnsw *h, int32_t *rows, int32_t **upper,
                            const int8_t *reach, int32_t s)
{
    size_t ns = h->n_slots;
    for (int l = 0; l <= h->level[s]; l++) {
        int32_t *lst = l ? upper_list(h, upper[s], l) : list0_in(h, rows, s);
        int max = max_links(h, l);
        if (reach[s] < 0) {
            if (lst[0] != 0)
                return MN_ECORRUPT;
            memset(lst, 0, (size_t)(max + 1) * sizeof *lst);
            continue;
        }
        if (lst[0] < 0 || lst[0] > max)
            return MN_ECORRUPT;
        for (int j = 1; j <= lst[0]; j++)
            if ((uint32_t)lst[j] >= ns || reach[lst[j]] < l)
                return MN_ECORRUPT;
        memset(lst + 1 + lst[0], 0, (size_t)(max - lst[0]) * sizeof *lst);
    }
    return MN_OK;
}

/* The checksums catch accidents; this and check_states catch everything that could make the
 * index misbehave once it writes: every list of rows and upper (the index's, or the copies
 * mni_hnsw_own makes) has a count within its layer's maximum and targets that exist on that
 * layer (what lies past a count is zeroed), and every saved scale is finite (one that is not
 * would make every score of its node NaN). */
static int check_lists(const mni_hnsw *h, int32_t *rows, int32_t **upper)
{
    size_t ns = h->n_slots;
    /* Per slot, the highest layer a link may point to it on (-1: free), in one byte: each of
     * the million or so links at 100k is checked with one random read instead of two. */
    int8_t *reach = malloc(ns ? ns : 1);
    if (!reach)
        return MN_ENOMEM;
    for (size_t s = 0; s < ns; s++)
        reach[s] = h->state[s] == ST_FREE ? -1 : (int8_t)h->level[s];
    int rc = MN_OK;
    for (size_t s = 0; s < ns && rc == MN_OK; s++) {
        rc = check_slot_lists(h, rows, upper, reach, (int32_t)s);
        /* the scale: the int just before the list */
        if (rc == MN_OK && h->codes &&
            !isfinite(*(const float *)(list0_in(h, rows, (int32_t)s) - 1)))
            rc = MN_ECORRUPT;
    }
    free(reach);
    return rc;
}

/* Builds the key table (live keys unique) and the free list (through the free slots' rows in
 * rows) of slots checked by check_states. */
static int build_tables(mni_hnsw *h, int32_t *rows)
{
    size_t ns = h->n_slots;
    /* The key table at its final size at once: growing it by doubling re-placed every key
     * about twice over. */
    size_t cap = h->map_cap;
    while (cap < 2 * (ldz(&h->n_live) + 1))
        cap *= 2;
    if (cap != h->map_cap && map_resize(h, cap))
        return MN_ENOMEM;
    for (size_t s = 0; s < ns; s++) {
        /* The slot of a key a few on is fetched while this one is placed: each is a miss. */
        if (ns - s > 8)
            __builtin_prefetch(&h->map[key_hash(h->keys[s + 8]) & (h->map_cap - 1)]);
        if (h->state[s] == ST_LIVE && map_put_new(h, (int32_t)s))
            return MN_ECORRUPT;
    }
    h->free_head = -1;
    for (size_t s = ns; s > 0; s--) {
        if (h->state[s - 1] == ST_FREE) {
            list0_in(h, rows, (int32_t)(s - 1))[1] = h->free_head;
            h->free_head = (int32_t)(s - 1);
        }
    }
    return MN_OK;
}

/* Copies the borrowed rows and upper lists into *rows and *upper (cap entries; their bytes in
 * *up_bytes), hashing them on the way: with the keys, states and levels hashed at load, that
 * is the payload's checksum. Then checks the copies (check_lists) and builds the tables over
 * them. Nothing changed on failure. */
static int rows_copy(mni_hnsw *h, const int *stop, int32_t **rows, int32_t ***upper,
                     size_t *up_bytes)
{
    size_t ns = h->n_slots;
    void *nl = NULL;
    int32_t **nup = calloc(h->cap, sizeof *nup);
    if (!nup || big_resize(&nl, 0, h->links_bytes)) {
        free(nup);
        return MN_ENOMEM;
    }
    struct mni_hash64_state x = h->sum;
    int rc = hash_copy(&x, h->links0, ns * h->stride * sizeof(int32_t), nl, stop);
    if (rc == MN_OK)
        rc = hash_copy(&x, h->up_sec, h->up_len, NULL, stop);
    if (rc == MN_OK && mni_hash64_final(&x) != h->payload_sum)
        rc = MN_ECORRUPT;
    *up_bytes = 0;
    for (size_t s = 0; s < ns && rc == MN_OK; s++) {
        if (!h->upper[s])
            continue;
        size_t b = (size_t)h->level[s] * (size_t)(h->m + 1) * sizeof(int32_t);
        if (!(nup[s] = malloc(b)))
            rc = MN_ENOMEM;
        else
            memcpy(nup[s], h->upper[s], b);
        *up_bytes += b;
    }
    if (rc == MN_OK)
        rc = check_lists(h, nl, nup);
    if (rc == MN_OK) {
        pthread_mutex_lock(&h->map_mu);
        rc = build_tables(h, nl);
        if (rc) { /* as it was: no key table, no free list */
            memset(h->map, 0xff, h->map_cap * sizeof *h->map);
            h->map_n = 0;
            h->free_head = -1;
        }
        pthread_mutex_unlock(&h->map_mu);
    }
    if (rc) {
        for (size_t s = 0; s < ns; s++)
            free(nup[s]);
        free(nup);
        big_free(nl, h->links_bytes);
        return rc;
    }
    *rows = nl;
    *upper = nup;
    return MN_OK;
}

/* mni_hnsw_own with the writers lock held: the copies are made and checked while searches go
 * on over the file's pages, then swapped in under the graph lock. */
static int own_locked(mni_hnsw *h, const int *stop)
{
    struct stat sb;
    if (fstat(h->vecs_fd, &sb) || (uint64_t)sb.st_size < h->file_len)
        return MN_ECORRUPT; /* shrunk in place: its pages past the end must not be read */
    void *nv = NULL;
    int32_t *nl = NULL, **nup = NULL;
    size_t up_bytes = 0;
    if (big_resize(&nv, 0, h->vecs_bytes))
        return MN_ENOMEM;
    struct mni_hash64_state x;
    mni_hash64_init(&x, 0);
    int rc = hash_copy(&x, h->vecs, h->vecs_len, nv, stop);
    if (rc == MN_OK && mni_hash64_final(&x) != h->vecs_sum)
        rc = MN_ECORRUPT;
    if (rc == MN_OK && h->rows_base)
        rc = rows_copy(h, stop, &nl, &nup, &up_bytes);
    if (rc) {
        big_free(nv, h->vecs_bytes);
        return rc;
    }
    pthread_rwlock_wrlock(&h->graph); /* no search reading the file's pages */
    if (h->rows_base) {
        rows_unmap(h);
        h->links0 = nl;
        free(h->upper);
        h->upper = nup;
        h->upper_bytes = up_bytes;
    }
    size_t bytes = h->vecs_bytes;
    vecs_unmap(h); /* last: vecs_fd < 0 says the index is its own */
    h->vecs = nv;
    h->vecs_bytes = bytes;
    pthread_rwlock_unlock(&h->graph);
    return MN_OK;
}

int mni_hnsw_own(mni_hnsw *h, const int *stop)
{
    if (!h)
        return MN_EINVAL;
    if (__atomic_load_n(&h->vecs_fd, __ATOMIC_ACQUIRE) < 0)
        return MN_OK; /* without the lock: every write asks first */
    pthread_rwlock_wrlock(&h->writers); /* no mutation, nor another owner, meanwhile */
    int rc = MN_OK;
    if (h->damaged) {
        rc = MN_ECORRUPT; /* not read again for every write or lookup that asks */
    } else if (h->vecs_fd >= 0) {
        rc = own_locked(h, stop);
        h->damaged = rc == MN_ECORRUPT;
    }
    pthread_rwlock_unlock(&h->writers);
    return rc;
}

/* Maps the node rows at roff and the upper lists after them (up bytes) of a file whose rows
 * are as in memory, in place of the blocks grow made; points the upper lists into the file.
 * Nothing is read. */
static int rows_map(mni_hnsw *h, int fd, uint64_t roff, uint64_t up)
{
    size_t ns = h->n_slots, rlen = ns * h->stride * sizeof(int32_t);
    void *sec, *base;
    size_t bytes;
    int rc = map_section(fd, roff, rlen, h->links_bytes, &sec, &base, &bytes);
    if (rc)
        return rc;
    big_free(h->links0, h->links_bytes);
    h->links0 = sec;
    h->rows_base = base;
    h->rows_base_bytes = bytes;
    if (!up)
        return MN_OK;
    rc = map_section(fd, roff + rlen, (size_t)up, (size_t)up, &sec, &h->up_base,
                     &h->up_base_bytes);
    if (rc)
        return rc;
    h->up_sec = sec;
    h->up_len = (size_t)up;
    int32_t *p = sec;
    for (size_t s = 0; s < ns; s++) {
        if (!h->level[s])
            continue;
        h->upper[s] = p;
        p += (size_t)h->level[s] * (size_t)(h->m + 1);
    }
    return MN_OK;
}

/* Reads the node rows (of frow ints each in the file) and upper lists of a file whose rows are
 * not as in memory (a version 2 int8 index's), hashing them into r, each upper list in memory
 * of its own. */
static int rows_read(mni_hnsw *h, struct rd *r, size_t frow)
{
    size_t ns = h->n_slots;
    for (size_t s = 0; s < ns && !r->err; s++)
        rd_get(r, list0(h, (int32_t)s), frow * sizeof(int32_t));
    for (size_t s = 0; s < ns && !r->err; s++) {
        if (!h->level[s])
            continue;
        size_t ints = (size_t)h->level[s] * (size_t)(h->m + 1);
        h->upper[s] = malloc(ints * sizeof(int32_t));
        if (!h->upper[s])
            return MN_ENOMEM;
        h->upper_bytes += ints * sizeof(int32_t);
        rd_get(r, h->upper[s], ints * sizeof(int32_t));
    }
    return r->err ? MN_ECORRUPT : MN_OK;
}

/* Whether hdr is the header of an index file this version reads: magic, version, size, byte
 * order and its own checksum. */
static int header_ok(const unsigned char *hdr)
{
    uint32_t version = mni_load32(hdr + 8);
    return !memcmp(hdr, MAGIC, 8) &&
           (version == FILE_VERSION || version == FILE_VERSION_LISTS_ONLY) &&
           mni_load32(hdr + 12) == HDR_SIZE && mni_load32(hdr + 16) == BOM &&
           mni_load64(hdr + HDR_SUM) == mni_hash64(hdr, HDR_SUM, 0) &&
           mni_load32(hdr + 124) == 0;
}

int mni_hnsw_file_seq(const char *path, int64_t *seq)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? MN_ENOTFOUND : MN_EBACKEND;
    unsigned char hdr[HDR_SIZE];
    int ok = fread(hdr, 1, HDR_SIZE, f) == HDR_SIZE && header_ok(hdr);
    fclose(f);
    if (ok)
        *seq = (int64_t)mni_load64(hdr + 88);
    return ok ? MN_OK : MN_ECORRUPT;
}

int mni_hnsw_load(const char *path, int dim, mni_hnsw **out, int64_t *seq)
{
    if (!path || !out || dim < 0)
        return MN_EINVAL;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? MN_ENOTFOUND : MN_EBACKEND;
    struct stat sb;
    unsigned char hdr[HDR_SIZE];
    mni_hnsw *h = NULL;
    int fd = -1;
    int rc = MN_ECORRUPT;
    if (fstat(fileno(f), &sb)) {
        rc = MN_EBACKEND;
        goto fail;
    }
    if (sb.st_size < HDR_SIZE || fread(hdr, 1, HDR_SIZE, f) != HDR_SIZE)
        goto fail;
    if (!header_ok(hdr))
        goto fail;
    uint32_t version = mni_load32(hdr + 8);
    uint32_t fdim = mni_load32(hdr + 20);
    struct mni_hnsw_params p = { (int)mni_load32(hdr + 24), (int)mni_load32(hdr + 28),
                                (int)mni_load32(hdr + 32), mni_load64(hdr + 72),
                                mni_load32(hdr + 36), (int)mni_load32(hdr + 120) };
    int top = (int32_t)mni_load32(hdr + 40);
    int32_t entry = (int32_t)mni_load32(hdr + 44);
    uint64_t ns = mni_load64(hdr + 48), live = mni_load64(hdr + 56), deleted = mni_load64(hdr + 64);
    uint64_t payload = mni_load64(hdr + 96), sum = mni_load64(hdr + 104);
    if (fdim < 1 || fdim > MNI_HNSW_MAX_DIM || (dim && (uint32_t)dim != fdim) ||
        p.m < 2 || p.m > MNI_HNSW_MAX_M || p.ef_construction < 1 ||
        p.ef_construction > MNI_HNSW_MAX_EF || p.ef_search < 1 || p.ef_search > MNI_HNSW_MAX_EF ||
        (p.flags & ~MNI_HNSW_FLAGS) ||
        (p.rerank && !(p.flags & MNI_HNSW_INT8)) || p.rerank < 0 ||
        p.rerank > MNI_HNSW_MAX_EF || top < -1 ||
        top > MAX_LEVEL || ns > MAX_SLOTS || live > ns || deleted > ns - live ||
        payload != (uint64_t)sb.st_size - HDR_SIZE)
        goto fail;
    /* Sizes of the fixed sections; each slot takes at least this many bytes of the file, so
     * ns is bounded by the file's size before anything is allocated. */
    size_t lofs, stride = node_stride((int)fdim, p.m, p.flags, &lofs);
    uint64_t row = 1 + 2 * (uint64_t)p.m;
    uint64_t frow = version == FILE_VERSION ? stride : row; /* ints per row in the file */
    uint64_t per = 8 + 2 + 4 * (uint64_t)fdim + 4 * frow;
    if (ns > payload / per)
        goto fail;
    uint64_t pad = vec_pad(ns);
    uint64_t fixed = ns * per + pad;
    if (fixed > payload)
        goto fail;

    rc = mni_hnsw_create((int)fdim, &p, &h);
    if (rc)
        goto fail;
    h->rng_ctr = mni_load64(hdr + 80);
    rc = grow(h, ns);
    if (rc)
        goto fail;
    rc = MN_ECORRUPT;
    struct rd r = { f, { { 0 }, 0, 0, { 0 }, 0 }, 0 };
    mni_hash64_init(&r.x, 0);
    unsigned char padb[4096];
    rd_get_big(&r, h->keys, ns * 8);
    rd_get(&r, h->state, ns);
    rd_get(&r, h->level, ns);
    for (uint64_t left = pad; left; left -= left < sizeof padb ? left : sizeof padb)
        rd_get(&r, padb, left < sizeof padb ? left : sizeof padb);
    h->n_slots = ns;
    h->n_live = live;
    h->n_deleted = deleted;
    uint64_t up;
    if (r.err || (rc = check_states(h, ns, live, deleted, top, entry, &up)) != MN_OK)
        goto fail;
    rc = MN_ECORRUPT;
    if (fixed + up != payload)
        goto fail;
    uint64_t voff = HDR_SIZE + ns * 10 + pad, vlen = ns * fdim * sizeof(float);
    if (ns && (fd = dup(fileno(f))) < 0) {
        rc = MN_EBACKEND;
        goto fail;
    }
    if (ns && frow == stride) { /* the rows as they are in memory: mapped, checked later */
        h->sum = r.x;
        h->payload_sum = sum;
        rc = rows_map(h, fd, voff + vlen, up);
    } else { /* read and checked now (nothing to map, or codes to make) */
        if (fseeko(f, (off_t)(voff + vlen), SEEK_SET))
            r.err = 1;
        rc = rows_read(h, &r, frow);
        if (rc == MN_OK && mni_hash64_final(&r.x) != sum)
            rc = MN_ECORRUPT;
        if (rc == MN_OK)
            rc = check_lists(h, h->links0, h->upper);
        if (rc == MN_OK)
            rc = build_tables(h, h->links0);
    }
    if (rc)
        goto fail;
    h->ep_word = pack_ep(entry, top);
    if (ns) {
        rc = vecs_map(h, fd, voff, vlen);
        if (rc)
            goto fail;
        fd = -1; /* the index's now */
        h->vecs_sum = mni_load64(hdr + 112);
        h->file_len = (uint64_t)sb.st_size;
    }
    for (uint64_t s = 0; h->codes && frow != stride && s < ns; s++)
        encode_slot(h, (int32_t)s); /* a version 2 file */
    fclose(f);
    if (seq)
        *seq = (int64_t)mni_load64(hdr + 88);
    *out = h;
    return MN_OK;

fail:
    if (fd >= 0)
        close(fd);
    fclose(f);
    mni_hnsw_free(h);
    return rc;
}
