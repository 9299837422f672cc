/* The changes past a partition's graph, in memory (see vindex_block.h). */
#include "index/vindex_block.h"
#include "core/error.h"
#include "index/distance.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_MAX 512 /* feed entries one read takes into one chunk (about 5 ms) */
#define NO_NAME UINT32_MAX

struct vx_entry {
    int64_t seq, expires_at, created_at, updated_at;
    double importance;
    int gone, deleted;
    uint32_t ident, type, session; /* offsets in the chunk's names; session NO_NAME: none */
};

struct vx_chunk {
    struct vx_chunk *prev, *next;
    int dim;
    size_t n, cap, first_cap;      /* first_cap: the capacity to start at */
    size_t gone;                   /* entries gone */
    int64_t *keys;                 /* cap: the entries' keys, apart, as a search reads them all */
    struct vx_entry *e;
    float *vecs;                   /* cap * dim, or NULL: a chunk of codes only */
    float *one;                    /* a chunk of codes only: one vector, aligned, as it is read */
    int8_t *codes;                 /* cap * dim: the vectors quantised (mni_quantize_i8)... */
    float *scales;                 /* ...with their scales */
    uint64_t *bits;                /* cap * MNI_SIGN_WORDS(dim): their sign codes (zero: gone) */
    int64_t key_min, key_max;      /* of the entries */
    char *names;                   /* NUL-terminated, back to back */
    size_t names_len, names_cap;
    int err;
};

static void chunk_free(struct vx_chunk *c)
{
    if (!c)
        return;
    free(c->keys);
    free(c->e);
    free(c->vecs);
    free(c->one);
    free(c->codes);
    free(c->scales);
    free(c->bits);
    free(c->names);
    free(c);
}

static size_t chunk_bytes(const struct vx_chunk *c)
{
    return c->cap * (sizeof *c->keys + sizeof *c->e + sizeof *c->scales +
                     (size_t)c->dim * ((c->vecs ? sizeof(float) : 0) + 1) +
                     (size_t)MNI_SIGN_WORDS(c->dim) * sizeof *c->bits) +
           c->names_cap;
}

/* The offset of a copy of s in c's names (NO_NAME when out of memory: c->err set). */
static uint32_t chunk_name(struct vx_chunk *c, const char *s)
{
    size_t len = strlen(s) + 1;
    if (c->names_len + len > c->names_cap) {
        size_t cap = c->names_cap ? c->names_cap : 256;
        while (cap < c->names_len + len)
            cap *= 2;
        char *names = cap < NO_NAME ? realloc(c->names, cap) : NULL;
        if (!names) {
            c->err = MN_ENOMEM;
            return NO_NAME;
        }
        c->names = names;
        c->names_cap = cap;
    }
    memcpy(c->names + c->names_len, s, len);
    c->names_len += len;
    return (uint32_t)(c->names_len - len);
}

/* memory_changes' callback: one more entry. */
static int chunk_add(void *ctx, const struct mni_change *ch)
{
    struct vx_chunk *c = ctx;
    size_t words = (size_t)MNI_SIGN_WORDS(c->dim);
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : c->first_cap;
        int64_t *keys = realloc(c->keys, cap * sizeof *keys);
        if (keys)
            c->keys = keys;
        struct vx_entry *e = keys ? realloc(c->e, cap * sizeof *e) : NULL;
        if (e)
            c->e = e;
        float *v = e && !c->one ? realloc(c->vecs, cap * (size_t)c->dim * sizeof *v) : NULL;
        if (v)
            c->vecs = v;
        int8_t *codes = v || (e && c->one) ? realloc(c->codes, cap * (size_t)c->dim) : NULL;
        if (codes)
            c->codes = codes;
        float *scales = codes ? realloc(c->scales, cap * sizeof *scales) : NULL;
        if (scales)
            c->scales = scales;
        uint64_t *bits = scales ? realloc(c->bits, cap * words * sizeof *bits) : NULL;
        if (!bits) {
            c->err = MN_ENOMEM;
            return 1;
        }
        c->bits = bits;
        c->cap = cap;
    }
    struct vx_entry *e = &c->e[c->n];
    memset(e, 0, sizeof *e);
    c->keys[c->n] = ch->key;
    e->seq = ch->seq;
    e->gone = ch->gone || !ch->embedding;
    c->gone += (size_t)e->gone;
    if (!c->n || ch->key < c->key_min)
        c->key_min = ch->key;
    if (!c->n || ch->key > c->key_max)
        c->key_max = ch->key;
    uint64_t *bits = c->bits + c->n * words;
    memset(bits, 0, words * sizeof *bits);
    if (!e->gone) {
        e->deleted = ch->deleted;
        e->expires_at = ch->expires_at;
        e->created_at = ch->created_at;
        e->updated_at = ch->updated_at;
        e->importance = ch->importance;
        e->ident = chunk_name(c, ch->identity_id);
        e->type = chunk_name(c, ch->type);
        e->session = ch->session ? chunk_name(c, ch->session) : NO_NAME;
        if (c->err)
            return 1;
        float *v = c->one ? c->one : c->vecs + c->n * (size_t)c->dim;
        memcpy(v, ch->embedding, (size_t)c->dim * sizeof(float));
        c->scales[c->n] = mni_quantize_i8(v, c->dim, c->codes + c->n * (size_t)c->dim);
        mni_sign_bits(v, c->dim, bits);
    }
    c->n++;
    return 0;
}

int vx_block_init(struct vx_block *b)
{
    memset(b, 0, sizeof *b);
    b->after_key = INT64_MAX;
    b->floats_below = SIZE_MAX;
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    /* A steady stream of searches must not starve the follower's prunes. */
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = MN_ENOMEM;
    if (pthread_mutex_init(&b->fill, NULL) == 0) {
        if (pthread_rwlock_init(&b->rw, &ra) == 0)
            rc = MN_OK;
        else
            pthread_mutex_destroy(&b->fill);
    }
    pthread_rwlockattr_destroy(&ra);
    return rc;
}

/* Unlinks every chunk from head up to (not including) stop (rw write-locked); returns the
 * first of them, still linked to one another, for chunks_free. */
static struct vx_chunk *unlink_upto(struct vx_block *b, struct vx_chunk *stop)
{
    struct vx_chunk *first = b->head;
    if (first == stop)
        return NULL;
    for (struct vx_chunk *c = first; c != stop; c = c->next) {
        b->entries -= c->n;
        b->bytes -= chunk_bytes(c);
    }
    if (stop) {
        stop->prev->next = NULL;
        stop->prev = NULL;
    } else {
        b->tail = NULL;
    }
    b->head = stop;
    return first;
}

static void chunks_free(struct vx_chunk *c)
{
    while (c) {
        struct vx_chunk *next = c->next;
        chunk_free(c);
        c = next;
    }
}

void vx_block_free(struct vx_block *b)
{
    chunks_free(b->head);
    pthread_rwlock_destroy(&b->rw);
    pthread_mutex_destroy(&b->fill);
}

void vx_block_reset(struct vx_block *b, int64_t seq)
{
    pthread_mutex_lock(&b->fill);
    pthread_rwlock_wrlock(&b->rw);
    struct vx_chunk *gone = unlink_upto(b, NULL);
    pthread_rwlock_unlock(&b->rw);
    b->after = b->complete = seq;
    b->after_key = INT64_MAX;
    pthread_mutex_unlock(&b->fill);
    chunks_free(gone);
}

void vx_block_prune(struct vx_block *b, int64_t applied)
{
    pthread_rwlock_wrlock(&b->rw);
    struct vx_chunk *c = b->head;
    while (c && c->e[c->n - 1].seq <= applied)
        c = c->next;
    struct vx_chunk *gone = unlink_upto(b, c);
    pthread_rwlock_unlock(&b->rw);
    chunks_free(gone);
}

/* Prunes what the graph has applied and, when that leaves nothing, moves the read position
 * past the graph, so that nothing it already has is read (b->fill held). */
static void catch_up_with_graph(struct vx_block *b, const int64_t *applied)
{
    int64_t done = __atomic_load_n(applied, __ATOMIC_ACQUIRE);
    vx_block_prune(b, done);
    /* A block that reaches past the graph has an entry past it, which no prune drops: so
     * one that does not is empty. */
    if (b->complete < done) {
        b->after = b->complete = done;
        b->after_key = INT64_MAX;
    }
}

int vx_block_fill(struct vx_block *b, struct mni_store *s, const char *tenant_id, int dim,
                  int64_t upto, const int64_t *applied, size_t max_entries, size_t max_bytes,
                  int *covered)
{
    int rc = MN_OK;
    size_t taken = 0;
    *covered = 0;
    /* A chunk per turn of the lock: a search waits for one chunk's read at most, not for a
     * follower reading far ahead. */
    for (;;) {
        pthread_mutex_lock(&b->fill);
        catch_up_with_graph(b, applied);
        pthread_rwlock_rdlock(&b->rw);
        size_t bytes = b->bytes;
        pthread_rwlock_unlock(&b->rw);
        *covered = b->complete >= upto;
        if (*covered || taken >= max_entries || bytes >= max_bytes) {
            pthread_mutex_unlock(&b->fill);
            return MN_OK;
        }
        size_t limit = max_entries - taken < CHUNK_MAX ? max_entries - taken : CHUNK_MAX;
        struct vx_chunk *c = calloc(1, sizeof *c);
        if (c && bytes >= b->floats_below && !(c->one = malloc((size_t)dim * sizeof(float)))) {
            free(c);
            c = NULL;
        }
        if (c) {
            c->dim = dim;
            /* About as many entries as seqs to read (a transaction's tombstones share one):
             * growing a chunk copied its vectors over and over, a tenth of a read's time. */
            uint64_t seqs = (uint64_t)upto - (uint64_t)b->after;
            c->first_cap = seqs < limit ? (size_t)seqs + 1 : limit;
        }
        rc = c ? s->ops->memory_changes(s, tenant_id, NULL, b->after, b->after_key, upto, limit,
                                        chunk_add, c)
               : MN_ENOMEM;
        if (rc == MN_OK)
            rc = c->err;
        if (c) {
            free(c->one);
            c->one = NULL;
        }
        int linked = rc == MN_OK && c->n;
        if (rc == MN_OK) {
            taken += c->n;
            if (linked) {
                pthread_rwlock_wrlock(&b->rw);
                c->prev = b->tail;
                if (b->tail)
                    b->tail->next = c;
                else
                    b->head = c;
                b->tail = c;
                b->entries += c->n;
                b->bytes += chunk_bytes(c);
                pthread_rwlock_unlock(&b->rw);
            }
            if (c->n < limit) { /* the feed is read to upto */
                b->after = b->complete = upto;
                b->after_key = INT64_MAX;
            } else {            /* more may share the last seq: resume after the last read */
                b->after = c->e[c->n - 1].seq;
                b->after_key = c->keys[c->n - 1];
                if (b->complete < b->after - 1)
                    b->complete = b->after - 1;
            }
        }
        pthread_mutex_unlock(&b->fill);
        if (!linked)
            chunk_free(c);
        if (rc != MN_OK)
            return rc;
    }
}

size_t vx_block_entries(struct vx_block *b)
{
    pthread_rwlock_rdlock(&b->rw);
    size_t n = b->entries;
    pthread_rwlock_unlock(&b->rw);
    return n;
}

int vx_block_key_range(struct vx_block *b, int64_t *lo, int64_t *hi)
{
    pthread_rwlock_rdlock(&b->rw);
    int any = b->head != NULL;
    for (const struct vx_chunk *c = b->head; c; c = c->next) {
        if (c == b->head || c->key_min < *lo)
            *lo = c->key_min;
        if (c == b->head || c->key_max > *hi)
            *hi = c->key_max;
    }
    pthread_rwlock_unlock(&b->rw);
    return any;
}

/* The first entry of c past done (c->n when none is): c is in seq order. */
static size_t first_past(const struct vx_chunk *c, int64_t done)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->e[mid].seq <= done)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Entry i of c as a change (its vector included) into ch, which the caller zeroes once: every
 * field set here is set on every call (a memset per entry was a third of a search's own time). */
static void entry_change(const struct vx_chunk *c, size_t i, struct mni_change *ch)
{
    const struct vx_entry *e = &c->e[i];
    int live = !e->gone;
    ch->key = c->keys[i];
    ch->seq = e->seq;
    ch->gone = e->gone;
    ch->deleted = e->deleted;
    ch->expires_at = e->expires_at;
    ch->created_at = e->created_at;
    ch->updated_at = e->updated_at;
    ch->importance = e->importance;
    ch->identity_id = live ? c->names + e->ident : NULL;
    ch->type = live ? c->names + e->type : NULL;
    ch->session = live && e->session != NO_NAME ? c->names + e->session : NULL;
    ch->embedding = live && c->vecs ? c->vecs + i * (size_t)c->dim : NULL;
}

#define NOT_KEPT UINT32_MAX
#define AHEAD 8 /* entries a search prefetches ahead of the one it reads */

/* The entries of a chunk past the graph, as a search sees them. */
struct view {
    const struct vx_chunk *c;
    size_t first; /* the first entry past the graph */
    uint32_t *d;  /* the sign code distances of entries first.. (NOT_KEPT: not a candidate) */
};

/* A candidate: entry first + i of view j. */
struct pick {
    uint32_t j, i;
};

/* The candidates of v (nv views) at a distance in [lo, hi], newest first, into out (room for
 * them all), of which the first at_hi only at distance hi: their count. A search reads a
 * thousand or so of tens of thousands, scattered: listed first, they can be fetched ahead. */
static size_t pick_band(const struct view *v, size_t nv, uint32_t lo, uint32_t hi, size_t at_hi,
                        struct pick *out)
{
    size_t n = 0;
    for (size_t j = 0; j < nv; j++) {
        const uint32_t *d = v[j].d;
        for (size_t i = v[j].c->n - v[j].first; i-- > 0;) {
            if (d[i] < lo || d[i] > hi) /* NOT_KEPT included */
                continue;
            if (d[i] == hi) {
                if (!at_hi)
                    continue;
                at_hi--;
            }
            out[n++] = (struct pick){ (uint32_t)j, (uint32_t)i };
        }
    }
    return n;
}

/* Asks keep about the candidates of v at a distance in [lo, hi], newest first: those it turns
 * down leave, those it keeps are counted in kept_at. The count kept, or -1 (out of memory). */
static ptrdiff_t ask_band(const struct view *v, size_t nv, uint32_t lo, uint32_t hi,
                          struct pick *picks, vx_block_keep_fn keep, void *ctx, size_t *kept_at)
{
    size_t n = pick_band(v, nv, lo, hi, SIZE_MAX, picks);
    ptrdiff_t kept = 0;
    struct mni_change ch = { 0 };
    for (size_t k = 0; k < n; k++) {
        if (k + AHEAD < n) {
            const struct view *a = &v[picks[k + AHEAD].j];
            const struct vx_entry *e = &a->c->e[a->first + picks[k + AHEAD].i];
            __builtin_prefetch(e);
            __builtin_prefetch((const char *)(e + 1) - 1);
        }
        const struct view *w = &v[picks[k].j];
        uint32_t *d = &w->d[picks[k].i];
        entry_change(w->c, w->first + picks[k].i, &ch);
        int r = keep(ctx, &ch);
        if (r < 0)
            return -1;
        if (r == 0) {
            *d = NOT_KEPT;
        } else {
            kept_at[*d]++;
            kept++;
        }
    }
    return kept;
}

/* Gives take the int8 scores of the n picks. */
static void take_picks(const struct view *v, const struct pick *picks, size_t n,
                       const struct vx_block_query *q, vx_block_take_fn take, void *ctx)
{
    const struct mni_dist_ops *ops = mni_dist_ops();
    for (size_t k = 0; k < n; k++) {
        if (k + AHEAD < n) {
            const struct view *a = &v[picks[k + AHEAD].j];
            size_t e = a->first + picks[k + AHEAD].i;
            const char *code = (const char *)(a->c->codes + e * (size_t)a->c->dim);
            for (int at = 0; at < a->c->dim; at += 64)
                __builtin_prefetch(code + at);
            __builtin_prefetch(&a->c->scales[e]);
            __builtin_prefetch(&a->c->keys[e]);
        }
        const struct vx_chunk *c = v[picks[k].j].c;
        size_t e = v[picks[k].j].first + picks[k].i;
        const int8_t *code = c->codes + e * (size_t)c->dim;
        float score = q->scale * c->scales[e] * (float)ops->dot8(q->code, code, c->dim);
        take(ctx, c->keys[e], c->vecs ? c->vecs + e * (size_t)c->dim : NULL, score);
    }
}

int vx_block_search(struct vx_block *b, const int64_t *applied, const struct vx_block_query *q,
                    vx_block_first_fn first, vx_block_keep_fn keep, vx_block_take_fn take,
                    void *ctx)
{
    const struct mni_dist_ops *ops = mni_dist_ops();
    pthread_rwlock_rdlock(&b->rw);
    int64_t done = __atomic_load_n(applied, __ATOMIC_ACQUIRE);
    size_t m = 0, nv = 0;
    for (const struct vx_chunk *c = b->tail; c; c = c->prev) {
        size_t past = first_past(c, done);
        m += c->n - past;
        nv++;
        if (past)
            break; /* older chunks are all at or below done */
    }
    int dim = b->head ? b->head->dim : 0, words = MNI_SIGN_WORDS(dim);
    struct view *v = malloc((nv ? nv : 1) * sizeof *v);
    uint32_t *dist = malloc((m ? m : 1) * sizeof *dist);
    struct pick *picks = malloc((m ? m : 1) * sizeof *picks);
    /* By distance: the candidates keep has not been asked about, and those it kept. */
    size_t *waiting = calloc(2 * ((size_t)dim + 1), sizeof *waiting);
    size_t *kept_at = waiting ? waiting + dim + 1 : NULL;
    int rc = v && dist && picks && waiting ? MN_OK : MN_ENOMEM;
    /* The candidates: the newest change of each key, unless it is gone; first hears of every
     * key, newest change first. Their sign code distances, a chunk at a time. */
    size_t at = 0, candidates = 0;
    const struct vx_chunk *c = b->tail;
    for (size_t j = 0; rc == MN_OK && j < nv; j++, c = c->prev) {
        v[j] = (struct view){ c, first_past(c, done), dist + at };
        size_t n = c->n - v[j].first;
        uint32_t *d = v[j].d;
        ops->hamming(q->bits, c->bits + v[j].first * (size_t)words, words, n, d);
        for (size_t i = n; i-- > 0;) {
            size_t e = v[j].first + i;
            int r = first(ctx, c->keys[e]);
            if (r < 0) {
                rc = MN_ENOMEM;
                break;
            }
            if (r == 0 || (c->gone && c->e[e].gone)) {
                d[i] = NOT_KEPT;
            } else {
                waiting[d[i]]++;
                candidates++;
            }
        }
        at += n;
    }
    /* keep, asked about the nearest candidates first, a band of distances at a time, until it
     * has kept the depth: what costs is asking (a change's fields, the query's filter), and a
     * search needs the nearest thousand or so of tens of thousands. A band holds as many
     * candidates as should give the missing ones at the share keep has kept so far. */
    size_t kept = 0, asked = 0;
    uint32_t hi = 0, lo = 0;
    while (rc == MN_OK && kept < q->depth && asked < candidates) {
        double share = asked ? (double)kept / (double)asked : 1.0;
        double want = (double)(q->depth - kept) / (share > 1.0 / 64 ? share : 1.0 / 64);
        size_t band = waiting[hi];
        while (hi < (uint32_t)dim && (double)band < want)
            band += waiting[++hi];
        ptrdiff_t got = ask_band(v, nv, lo, hi, picks, keep, ctx, kept_at);
        if (got < 0)
            rc = MN_ENOMEM;
        kept += (size_t)(got > 0 ? got : 0);
        asked += band;
        lo = ++hi;
    }
    /* The depth nearest by sign code: every one kept nearer than the threshold, and as many at
     * it as make up the depth (the newest of them: they are met in that order). Every
     * candidate up to the threshold has been asked about. Their int8 scores, to take. */
    if (rc == MN_OK && kept) {
        size_t threshold = 0, below = 0;
        while (threshold < (size_t)dim && below + kept_at[threshold] < q->depth)
            below += kept_at[threshold++];
        size_t n = pick_band(v, nv, 0, (uint32_t)threshold, q->depth - below, picks);
        take_picks(v, picks, n, q, take, ctx);
    }
    pthread_rwlock_unlock(&b->rw);
    free(v);
    free(dist);
    free(picks);
    free(waiting);
    return rc;
}
