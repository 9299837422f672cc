/* The vector index of a handle: partitions per tenant that follow the store's change feed,
 * persistence beside the database, and the search plans (see vindex.h). */
#include "index/vindex.h"
#include "core/metrics.h"
#include "index/distance.h"
#include "index/hnsw.h"
#include "index/vindex_attr.h"
#include "index/vindex_block.h"
#include "core/bytes.h"
#include "core/hash.h"
#include "core/clock.h"
#include "core/error.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 2048          /* feed entries a catch-up step reads and applies */
#define OVERLAY_MIN 1024   /* a search reads at most this many changes past the index... */
                           /* ...or half the partition, whichever is more; beyond: exact scan */
#define BLOCK_FLOATS_BYTES ((size_t)192 << 20) /* the block keeps the float vectors of the
                           * changes it reads while it holds less than this (at 384-d a change
                           * takes 2 KB with them, 550 bytes without: 192 MB hold the 55,000-67,000
                           * an import at 100k leaves behind); past it, codes only, and a search
                           * reads the few dozen vectors it re-ranks from the store (0.1-0.2 ms
                           * of CPU a search at 100k, which holding the floats spares) */
#define BLOCK_MAX_BYTES ((size_t)512 << 20) /* changes past the index the follower reads
                           * ahead into memory on its own, whether or not a search comes: with
                           * the floats of the first 192 MB only, about 680,000 at 384-d, more
                           * than the 450,000 an import at 1M leaves behind (at 256 MB with every
                           * float, 130,000: the searches after it read the rest themselves, then
                           * scanned the whole store, 3-8 s each)... */
#define BLOCK_SEARCH_MAX_BYTES ((size_t)1 << 30) /* ...and that a search reads on to: it needs
                           * every change past the graph, and past the block it would scan
                           * the whole store exactly, each search (75-200 ms at 100k) */
#define BUILD_MIN 32       /* inserts in a page worth several threads */
#define READ_AHEAD_EVERY 128 /* inserts a build thread makes between read-aheads (about 25 ms
                              * on one core, 100 ms under load) */
#define MAX_THREADS 8
#define EXACT_ALWAYS 256   /* filtered sets this small are always scanned exactly */
#define QUIET_MS 200      /* the worker waits for writes to pause this long, unless a search
                            * needs the index... */
#define DEFER_MAX_MS 500  /* ...or it has waited this long: then it catches up while the
                            * writes go on (see worker_main) */
#define SAVE_EVERY 100000  /* the worker saves a partition after this many changes (or as many
                            * as half its keys, if more): a crash costs at most that much */

enum { VX_NEW, VX_READY, VX_BROKEN };

struct vx_part {
    struct vx_part *next;
    char *tenant_id;
    pthread_mutex_t mu;   /* one mutator at a time: load, catch-up, save */
    pthread_rwlock_t rw;  /* searches (read) against attribute and graph swaps (write) */
    int state;            /* VX_*, atomic */
    mni_hnsw *h;
    struct vx_attrs at;
    struct vx_block blk;  /* the changes past the graph, in memory (vindex_block.h) */
    int64_t applied;      /* atomic: every change with seq <= applied is in */
    size_t count;         /* atomic: keys held */
    size_t changed;       /* changes applied since the files were written or read */
    int had_file;         /* files of ours were found (keep them current) */
    int mapped;           /* atomic: its graph still reads its file, unchecked (see
                           * part_own) */
    int64_t mark_seq;     /* the last checkpoint: the seq our files cover (read or last
                           * written) or, without files, the seq of the last save call */
    int64_t pruned_seq;   /* the tombstones up to this seq are pruned (mni_vindex_prune_feed) */
    int want;             /* under vx->mu: the worker should catch up */
    int64_t want_since;   /* under vx->mu: when want was last set from 0 (mni_now_ms) */
    int busy;             /* under vx->mu: the worker is catching up */
    pthread_t loader;     /* under mu: a file-loading thread the last load did without, */
    int loader_unjoined;  /* still to be joined (load_files) */
    struct vx_prefetch *pre; /* under mu: the files being read ahead of a search while it is
                              * still VX_NEW (mni_vindex_prefetch), or NULL */
};

struct mni_vindex {
    struct mni_store *store;
    int dim;
    struct mni_hnsw_params params;
    char *dir;            /* PATH.index, or NULL: nothing on disk */
    int readonly;         /* files are read, never written */
    int threads;          /* for bulk inserts */
    pthread_mutex_t mu;   /* the list of partitions, the worker's state */
    pthread_cond_t cv;    /* wakes the worker */
    pthread_cond_t done;  /* a catch-up step finished */
    int64_t last_write_ms; /* when a write last reported a change or a partition was loaded
                            * (under mu) */
    struct vx_part *parts;
    pthread_t worker;
    int started, stop;
    struct mni_vindex_stats st; /* counters, updated atomically */
    size_t block_floats;  /* the partitions' blocks' floats_below (under mu) */
};

#define COUNT(vx, field) __atomic_add_fetch(&(vx)->st.field, 1, __ATOMIC_RELAXED)

static int ld_state(const struct vx_part *p)
{
    return __atomic_load_n(&p->state, __ATOMIC_ACQUIRE);
}

static void set_state(struct vx_part *p, int s)
{
    __atomic_store_n(&p->state, s, __ATOMIC_RELEASE);
}

/* ---- a set of keys (the changes a search scores itself) ---------------------------------- */

struct keyset {
    int64_t *k; /* a hash set; INT64_MIN = empty (store keys are rowids, never that) */
    size_t n, cap, hashed; /* keys in all, slots of k, keys in k */
    uint64_t *bits;         /* a bit per key from lo, span keys (NULL: none) */
    int64_t lo;
    uint64_t span;
};

/* Makes room for n keys in the hash set (MN_OK), or MN_ENOMEM. */
static int keyset_reserve(struct keyset *s, size_t n)
{
    if (n * 2 <= s->cap)
        return MN_OK;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n * 2)
        cap *= 2;
    int64_t *k = malloc(cap * sizeof *k);
    if (!k)
        return MN_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        k[i] = INT64_MIN;
    for (size_t i = 0; i < s->cap; i++)
        if (s->k[i] != INT64_MIN) {
            size_t j = mni_mix64((uint64_t)s->k[i]) & (cap - 1);
            while (k[j] != INT64_MIN)
                j = (j + 1) & (cap - 1);
            k[j] = s->k[i];
        }
    free(s->k);
    s->k = k;
    s->cap = cap;
    return MN_OK;
}

/* Makes room for n keys, most of them between lo and hi. Keys close together (an import's
 * rowids) get a bitmap over [lo, hi] when it takes at most 8 bytes a key, what the hash set
 * would: tens of thousands of random probes into a megabyte of hash slots were half of what
 * a search past a lagging graph cost, where the bitmap's few kilobytes stay in cache. Keys
 * outside go to the hash set. MN_OK or MN_ENOMEM. */
static int keyset_reserve_range(struct keyset *s, int64_t lo, int64_t hi, size_t n)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    if (s->bits || !n || hi < lo || span / 64 > n)
        return keyset_reserve(s, n);
    s->bits = calloc((size_t)((span + 63) / 64), sizeof *s->bits);
    if (!s->bits)
        return MN_ENOMEM;
    s->lo = lo;
    s->span = span;
    return MN_OK;
}

/* MN_OK (*added: whether key was not in s yet) or MN_ENOMEM. */
static int keyset_add(struct keyset *s, int64_t key, int *added)
{
    *added = 0;
    uint64_t at = (uint64_t)key - (uint64_t)s->lo;
    if (s->bits && at < s->span) {
        uint64_t bit = (uint64_t)1 << (at % 64);
        if (s->bits[at / 64] & bit)
            return MN_OK;
        s->bits[at / 64] |= bit;
        s->n++;
        *added = 1;
        return MN_OK;
    }
    if ((s->hashed + 1) * 2 > s->cap && keyset_reserve(s, s->cap ? s->cap : 32) != MN_OK)
        return MN_ENOMEM;
    size_t j = mni_mix64((uint64_t)key) & (s->cap - 1);
    while (s->k[j] != INT64_MIN) {
        if (s->k[j] == key)
            return MN_OK;
        j = (j + 1) & (s->cap - 1);
    }
    s->k[j] = key;
    s->hashed++;
    s->n++;
    *added = 1;
    return MN_OK;
}

static int keyset_has(const struct keyset *s, int64_t key)
{
    if (!s->n)
        return 0;
    uint64_t at = (uint64_t)key - (uint64_t)s->lo;
    if (s->bits && at < s->span)
        return (s->bits[at / 64] >> (at % 64)) & 1;
    if (!s->hashed)
        return 0;
    for (size_t j = mni_mix64((uint64_t)key) & (s->cap - 1); s->k[j] != INT64_MIN;
         j = (j + 1) & (s->cap - 1))
        if (s->k[j] == key)
            return 1;
    return 0;
}

static void keyset_free(struct keyset *s)
{
    free(s->k);
    free(s->bits);
}

/* ---- partitions ------------------------------------------------------------------------------ */

/* The tenant's partition, made (VX_NEW) when it has none yet; NULL when out of memory. */
static struct vx_part *part_get(mni_vindex *vx, const char *tenant_id)
{
    pthread_mutex_lock(&vx->mu);
    struct vx_part *p = vx->parts;
    while (p && strcmp(p->tenant_id, tenant_id) != 0)
        p = p->next;
    if (!p && (p = calloc(1, sizeof *p))) {
        pthread_rwlockattr_t ra;
        pthread_rwlockattr_init(&ra);
        /* A steady stream of searches must not starve the catch-up's short write locks. */
        pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        p->tenant_id = strdup(tenant_id);
        if (!p->tenant_id || pthread_mutex_init(&p->mu, NULL)) {
            free(p->tenant_id);
            free(p);
            p = NULL;
        } else if (pthread_rwlock_init(&p->rw, &ra)) {
            pthread_mutex_destroy(&p->mu);
            free(p->tenant_id);
            free(p);
            p = NULL;
        } else if (vx_block_init(&p->blk) != MN_OK) {
            pthread_rwlock_destroy(&p->rw);
            pthread_mutex_destroy(&p->mu);
            free(p->tenant_id);
            free(p);
            p = NULL;
        } else {
            p->blk.floats_below = vx->block_floats;
            vx_attrs_init(&p->at);
            p->next = vx->parts;
            vx->parts = p;
            vx->st.partitions++;
        }
        pthread_rwlockattr_destroy(&ra);
    }
    pthread_mutex_unlock(&vx->mu);
    return p;
}

/* Joins the loading thread the last load of p did without (p->mu held, or p unshared): it
 * has nothing left to do but exit, and has surely started by now. */
static void loader_join(struct vx_part *p)
{
    if (p->loader_unjoined)
        pthread_join(p->loader, NULL);
    p->loader_unjoined = 0;
}

static void prefetch_drop(struct vx_part *p);

static void part_free(struct vx_part *p)
{
    prefetch_drop(p);
    loader_join(p);
    mni_hnsw_free(p->h);
    vx_attrs_free(&p->at);
    vx_block_free(&p->blk);
    pthread_rwlock_destroy(&p->rw);
    pthread_mutex_destroy(&p->mu);
    free(p->tenant_id);
    free(p);
}

static void *worker_main(void *arg);

/* Asks the worker to bring p up to date (starting the worker at the first need). A search
 * needs it now (WANT_NOW); a write only eventually (WANT_QUIET): see worker_main. */
enum { WANT_QUIET = 1, WANT_NOW = 2 };

/* kick_for with vx->mu held. */
static void want_locked(mni_vindex *vx, struct vx_part *p, int want)
{
    if (p->want < want) {
        if (!p->want)
            p->want_since = mni_now_ms();
        p->want = want;
        if (!vx->started && !vx->stop)
            vx->started = pthread_create(&vx->worker, NULL, worker_main, vx) == 0;
        pthread_cond_signal(&vx->cv);
    }
}

static void kick_for(mni_vindex *vx, struct vx_part *p, int want)
{
    pthread_mutex_lock(&vx->mu);
    if (want == WANT_QUIET)
        vx->last_write_ms = mni_now_ms();
    want_locked(vx, p, want);
    pthread_mutex_unlock(&vx->mu);
}

static void kick(mni_vindex *vx, struct vx_part *p)
{
    kick_for(vx, p, WANT_NOW);
}

/* The two files of a tenant's partition, or 0 when it has none (no directory, or a tenant id
 * that is not a plain name). */
static int part_paths(const mni_vindex *vx, const char *tenant_id, char *graph, char *attr,
                      size_t size)
{
    if (!vx->dir)
        return 0;
    size_t n = strlen(tenant_id);
    if (!n || n > 128 || strspn(tenant_id, "abcdefghijklmnopqrstuvwxyz"
                                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != n)
        return 0;
    return snprintf(graph, size, "%s/%s.hnsw", vx->dir, tenant_id) < (int)size &&
           snprintf(attr, size, "%s/%s.attr", vx->dir, tenant_id) < (int)size;
}

/* The meta key that holds the token of the partition's files. */
static void token_key(const struct vx_part *p, char *key, size_t size)
{
    snprintf(key, size, "index:%s", p->tenant_id);
}

/* A fresh token: files and database are matched by it. Never 0. */
static uint64_t new_token(void)
{
    uint64_t t;
    randombytes_buf(&t, sizeof t);
    return t ? t : 1;
}

/* Replaces p's content (p->mu held). */
static void part_install(struct vx_part *p, mni_hnsw *h, struct vx_attrs *at, int64_t applied)
{
    pthread_rwlock_wrlock(&p->rw);
    mni_hnsw *old_h = p->h;
    struct vx_attrs old_at = p->at;
    p->h = h;
    p->at = *at;
    __atomic_store_n(&p->count, at->n, __ATOMIC_RELAXED);
    __atomic_store_n(&p->applied, applied, __ATOMIC_RELEASE);
    pthread_rwlock_unlock(&p->rw);
    vx_block_reset(&p->blk, applied);
    mni_hnsw_free(old_h);
    vx_attrs_free(&old_at);
    vx_attrs_init(at);
}

static int part_reset(mni_vindex *vx, struct vx_part *p);

/* ---- loading and checking a partition's files ----------------------------------------------- */

struct check {
    struct vx_attrs *at;
    size_t bad;
};

/* A row whose last change is at or below the file's seq: the file must hold it as it is. */
static void check_row(void *ctx, int64_t key, int64_t seq)
{
    struct check *c = ctx;
    int32_t i = vx_attrs_find(c->at, key);
    if (i < 0 || c->at->a[i].seq != seq)
        c->bad++;
    else
        c->at->a[i].mark = 1;
}

/* The store's side of the check of a partition's files (files_check): read on the thread that
 * asks for the partition while, when a search prefetched them (mni_vindex_prefetch), another
 * reads the files, so that the round trips to a database server and the reading of the files
 * overlap. Its reads in the order the check needs them: the token the database records, the
 * store's seq, the feed's horizon, the changes past the files' seq (those of the key, seq and
 * whether it is gone), the store's digest. */
struct view_change {
    int64_t key, seq;
    int gone;
};

struct view {
    int64_t since;        /* the files' seq it was read for */
    int rc;               /* the first failed read's; the rest are not made */
    char *token;          /* meta index:TENANT, NULL when unset */
    int64_t now, horizon;
    struct view_change *ch;
    size_t nch, cap;
    int has_digest;       /* n, sum hold the store's digest (a store may keep none) */
    int64_t n, sum;
};

static int view_take(void *ctx, const struct mni_change *ch)
{
    struct view *v = ctx;
    if (v->nch == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 64;
        struct view_change *n = realloc(v->ch, cap * sizeof *n);
        if (!n)
            return -MN_ENOMEM;
        v->ch = n;
        v->cap = cap;
    }
    v->ch[v->nch++] = (struct view_change){ ch->key, ch->seq, ch->gone };
    return 0;
}

static void view_free(struct view *v)
{
    free(v->token);
    free(v->ch);
    memset(v, 0, sizeof *v);
}

static void view_read(mni_vindex *vx, struct vx_part *p, int64_t since, struct view *v)
{
    struct mni_store *st = vx->store;
    char key[160];
    view_free(v);
    v->since = since;
    token_key(p, key, sizeof key);
    v->rc = st->ops->meta_get(st, key, &v->token);
    if (v->rc == MN_OK)
        v->rc = st->ops->seq_get(st, &v->now);
    if (v->rc == MN_OK && st->ops->feed_horizon)
        v->rc = st->ops->feed_horizon(st, p->tenant_id, &v->horizon);
    if (v->rc == MN_OK)
        v->rc = st->ops->memory_changes(st, p->tenant_id, NULL, since, INT64_MAX, INT64_MAX, 0,
                                        view_take, v);
    /* After the changes: a write that commits between the two reads makes them disagree,
     * which only sends the check to the store's rows (files_check). */
    mni_errmark mark = mni_err_mark();
    if (v->rc == MN_OK && st->ops->memory_digest)
        v->has_digest = st->ops->memory_digest(st, p->tenant_id, &v->n, &v->sum) == MN_OK;
    if (!v->has_digest)
        mni_err_forget(mark); /* the full check reads the store and reports for itself */
}

/* The attribute file parsed on a thread of its own while the opener loads the graph and then
 * checks the file's checksum (vx_attr_file_*), or parsed by the opener itself when that thread
 * has not started by then: on a busy machine a new thread can wait many milliseconds for a
 * core, and the opener, which has one, must not wait for it. Whichever claims the parse first
 * does it. The record is shared by the two (refs), the last one out frees it; a thread that
 * found the parse taken is joined later (loader_join), not waited for now. */
struct attr_load {
    struct vx_attr_file file;
    struct vx_attrs *at; /* touched only by the one that claimed the parse */
    int64_t seq;
    uint64_t token;
    int rc;
    int claimed, refs;
};

static void attr_load_claimed(struct attr_load *al)
{
    al->rc = vx_attr_file_parse(&al->file, al->at, &al->seq, &al->token);
}

static void attr_load_release(struct attr_load *al)
{
    if (__atomic_sub_fetch(&al->refs, 1, __ATOMIC_ACQ_REL) == 0)
        free(al);
}

static void *attr_load_run(void *arg)
{
    struct attr_load *al = arg;
    if (!__atomic_exchange_n(&al->claimed, 1, __ATOMIC_ACQ_REL))
        attr_load_claimed(al);
    attr_load_release(al);
    return NULL;
}

/* A partition's two files as read and checked on their own, nothing asked of the store yet
 * (files_read): rc is MN_OK, MN_ENOTFOUND when there are none, another code when they must
 * not be trusted. */
struct vx_files {
    int rc;
    int found;            /* the graph file was there (the partition keeps its files current) */
    mni_hnsw *h;
    struct vx_attrs at;
    int64_t seq;
    uint64_t token;
    int64_t digest;       /* the sum of the attributes' digest terms (vx_attr_file_digest) */
    pthread_t loader;     /* the attribute thread the read did without, */
    int loader_unjoined;  /* still to be joined (see struct attr_load) */
};

/* Reads f for the tenant's partition: touches nothing of the partition, so that a thread of
 * its own can do it (mni_vindex_prefetch). */
static void files_read(mni_vindex *vx, const char *tenant_id, struct vx_files *f)
{
    char gpath[4096], apath[4096];
    memset(f, 0, sizeof *f);
    vx_attrs_init(&f->at);
    f->rc = MN_ENOTFOUND;
    if (!part_paths(vx, tenant_id, gpath, apath, sizeof gpath))
        return;
    int64_t gseq = -1;
    struct attr_load *al = malloc(sizeof *al);
    if (!al) {
        f->rc = MN_ENOMEM;
        return;
    }
    *al = (struct attr_load){ .at = &f->at, .seq = -2, .rc = MN_OK, .refs = 2 };
    int arc = vx_attr_file_map(apath, &al->file);
    /* Graph and attributes are read at once, on two cores where there are: each is about a
     * third of an open-to-first-search at 100k. */
    pthread_t th;
    int threaded = arc == MN_OK && pthread_create(&th, NULL, attr_load_run, al) == 0;
    if (!threaded)
        al->refs = 1;
    int rc = mni_hnsw_load(gpath, vx->dim, &f->h, &gseq);
    if (rc == MN_OK && arc == MN_OK)
        arc = vx_attr_file_sum(&al->file);
    if (rc == MN_OK && arc == MN_OK) /* while the other thread parses the same records */
        arc = vx_attr_file_digest(&al->file, &f->digest);
    if (!threaded || !__atomic_exchange_n(&al->claimed, 1, __ATOMIC_ACQ_REL)) {
        if (threaded) { /* not started yet: the parse is done here, without it */
            f->loader = th;
            f->loader_unjoined = 1;
        }
        if (rc == MN_OK && arc == MN_OK)
            attr_load_claimed(al);
    } else {
        pthread_join(th, NULL); /* it is parsing: wait for it */
    }
    if (arc == MN_OK)
        arc = al->rc;
    else
        vx_attrs_free(&f->at); /* what a parse of a file that fails its sum built */
    vx_attr_file_unmap(&al->file);
    int64_t aseq = al->seq;
    f->token = al->token;
    attr_load_release(al);
    if (rc == MN_ENOTFOUND) {
        /* An attribute file alone is a leftover: rebuilt, and overwritten later. */
        struct stat sb;
        f->rc = stat(apath, &sb) == 0 ? MN_ECORRUPT : MN_ENOTFOUND;
        return;
    }
    f->found = 1;
    if (rc == MN_OK)
        rc = arc == MN_ENOTFOUND ? MN_ECORRUPT : arc;
    if (rc == MN_OK && gseq != aseq)
        rc = MN_ECORRUPT; /* saved at different times: one write was lost */
    if (rc == MN_OK) {
        struct mni_hnsw_params hp;
        mni_hnsw_params_get(f->h, &hp);
        if (hp.m != vx->params.m || hp.ef_construction != vx->params.ef_construction ||
            (hp.flags & MNI_HNSW_INT8) != (vx->params.flags & MNI_HNSW_INT8))
            rc = MN_EINVAL; /* built with other parameters than the handle asks for */
    }
    /* The same count; that they are the same keys is for the worker to check (see
     * part_own). */
    if (rc == MN_OK && mni_hnsw_count(f->h) != f->at.n)
        rc = MN_ECORRUPT;
    f->seq = gseq;
    f->rc = rc;
}

/* What f holds, freed (its attribute thread joined). */
static void files_free(struct vx_files *f)
{
    mni_hnsw_free(f->h);
    vx_attrs_free(&f->at);
    if (f->loader_unjoined)
        pthread_join(f->loader, NULL);
    f->h = NULL;
    f->loader_unjoined = 0;
}

/* Files read ahead of a search (mni_vindex_prefetch), by a thread of their own: peek is the
 * graph's seq as its header said when the read began, which the store's side of the check is
 * read for meanwhile (struct view). */
struct vx_prefetch {
    mni_vindex *vx;
    const char *tenant_id; /* the partition's */
    int64_t peek;
    struct vx_files f;
    pthread_t th;
};

static void *prefetch_run(void *arg)
{
    struct vx_prefetch *pre = arg;
    files_read(pre->vx, pre->tenant_id, &pre->f);
    return NULL;
}

/* The read-ahead of p's files, done (p->mu held); NULL when none was started. */
static struct vx_prefetch *prefetch_take(struct vx_part *p)
{
    struct vx_prefetch *pre = p->pre;
    p->pre = NULL;
    if (pre)
        pthread_join(pre->th, NULL);
    return pre;
}

/* A read-ahead of p's files that no load will use (p->mu held, or p unshared): waited for and
 * freed. */
static void prefetch_drop(struct vx_part *p)
{
    struct vx_prefetch *pre = prefetch_take(p);
    if (pre) {
        files_free(&pre->f);
        free(pre);
    }
}

/* Checks the files f against the store's view v of them (read for f->seq); MN_OK, or why they
 * must not be trusted, or (*unasked set) the failure of a read of the store, which says nothing
 * of them. *store_seq: the store's seq, read during the check (-1 when it was not reached). */
static int files_check(mni_vindex *vx, struct vx_part *p, struct vx_files *f,
                       const struct view *v, int64_t *store_seq, int *unasked)
{
    int rc = v->rc;
    *unasked = rc != MN_OK;
    if (rc == MN_OK)
        *store_seq = v->now;
    /* The database records the token of the last files written for it: files of another
     * database, or a database restored from a backup older than the files, do not match
     * (even when written on past the files' seq since). */
    if (rc == MN_OK && (!v->token || strtoull(v->token, NULL, 16) != f->token))
        rc = MN_ECORRUPT;
    if (rc == MN_OK && f->seq > v->now)
        rc = MN_ECORRUPT; /* ahead of the store: the database went back (a restored backup) */
    if (rc == MN_OK && f->seq < v->horizon)
        rc = MN_ECORRUPT; /* older than the feed's tombstones: deletes since are unknown */
    /* Against the store: the rows not changed since must be there as they are; what else the
     * file holds must have changed since (a fresh load has every mark clear). The changes
     * since first, a superseded version marked, not wrong: with them the store's digest says
     * as much in O(changes) -- it must be the file's pairs not superseded since plus the
     * current rows among the changes; only when it does not match (a write that committed
     * between the reads, a row changed behind the feed's back, a store that keeps no digest)
     * is every row read. Terms are below 2^31: their sums need no reduction on the way. */
    int64_t want_n = (int64_t)f->at.n;
    uint64_t plus = (uint64_t)f->digest, minus = 0;
    for (size_t i = 0; rc == MN_OK && i < v->nch; i++) {
        int32_t k = vx_attrs_find(&f->at, v->ch[i].key);
        if (k >= 0 && !f->at.a[k].mark) {
            f->at.a[k].mark = 1;
            want_n--;
            minus += (uint64_t)mni_digest_term(f->at.a[k].key, f->at.a[k].seq);
        }
        if (!v->ch[i].gone) {
            want_n++;
            plus += (uint64_t)mni_digest_term(v->ch[i].key, v->ch[i].seq);
        }
    }
    int quick = rc == MN_OK && v->has_digest && v->n == want_n &&
                v->sum == mni_digest_mod(plus + (uint64_t)MNI_DIGEST_P -
                                         (uint64_t)mni_digest_mod(minus));
    struct check c = { &f->at, 0 };
    if (rc == MN_OK && !quick) {
        rc = vx->store->ops->memory_seqs(vx->store, p->tenant_id, f->seq, check_row, &c);
        *unasked = rc != MN_OK && rc != MN_ENOTFOUND;
    }
    if (rc == MN_OK && c.bad)
        rc = MN_ECORRUPT;
    for (size_t i = 0; rc == MN_OK && !quick && i < f->at.n; i++)
        if (!f->at.a[i].mark)
            rc = MN_ECORRUPT;
    if (rc == MN_OK && quick)
        COUNT(vx, quick);
    return rc == MN_ENOTFOUND ? MN_ECORRUPT : rc;
}

/* While a search's files load: the store reads the rows of no key, as the search then reads
 * its hits' (memory_get_keys), so that what that read costs the first time a session runs it
 * (on a server, preparing the statement and reading the catalogs its plan needs: milliseconds
 * in a fresh session) is paid now, not after the search. A failure is the real read's to
 * report. */
static void warm_hits(mni_vindex *vx, struct vx_part *p)
{
    mn_memories *l = NULL;
    size_t which;
    mni_errmark mark = mni_err_mark();
    if (vx->store->ops->memory_get_keys(vx->store, p->tenant_id, NULL, 0, 0, mni_now_ms(), &l,
                                        &which) != MN_OK)
        mni_err_forget(mark);
    mn_memories_free(l);
}

/* Reads and checks p's files (p->mu held): those a search read ahead, or read now. MN_OK with
 * *hout, *at, *seq filled, MN_ENOTFOUND when there are none, another code when they must not
 * be trusted or (*unasked) the store could not be asked. *store_seq as files_check says. */
static int load_files(mni_vindex *vx, struct vx_part *p, mni_hnsw **hout, struct vx_attrs *at,
                      int64_t *seq, int64_t *store_seq, int *unasked)
{
    struct vx_files f;
    struct view v = {0};
    int viewed = p->pre != NULL;
    if (viewed) {
        view_read(vx, p, p->pre->peek, &v); /* while the thread reads the files */
        warm_hits(vx, p);
        struct vx_prefetch *pre = prefetch_take(p);
        f = pre->f;
        free(pre);
    } else {
        files_read(vx, p->tenant_id, &f);
    }
    /* Read now, or replaced since the peek (another process saved them): read for their seq. */
    if (f.rc == MN_OK && (!viewed || v.since != f.seq))
        view_read(vx, p, f.seq, &v);
    loader_join(p);
    p->loader = f.loader;
    p->loader_unjoined = f.loader_unjoined;
    f.loader_unjoined = 0;
    p->had_file |= f.found;
    *unasked = 0;
    int rc = f.rc == MN_OK ? files_check(vx, p, &f, &v, store_seq, unasked) : f.rc;
    view_free(&v);
    if (rc != MN_OK) {
        files_free(&f);
        return rc;
    }
    mni_hnsw_set_ef_search(f.h, vx->params.ef_search);
    mni_hnsw_set_rerank(f.h, vx->params.rerank);
    *hout = f.h;
    *at = f.at;
    *seq = f.seq;
    return MN_OK;
}

/* Makes p ready (p->mu held): from its files when they can be trusted, else empty, to be
 * built from the store by the catch-up. When the store could not be asked (a connection lost
 * during the check), p stays to be loaded at its next use: an empty partition now would be
 * saved over files that may well be good (the search meanwhile scans the store, or fails as
 * the store does). *store_seq as load_files says. */
static void part_load(mni_vindex *vx, struct vx_part *p, int64_t *store_seq)
{
    mni_hnsw *h = NULL;
    struct vx_attrs at;
    vx_attrs_init(&at);
    int64_t seq = 0;
    *store_seq = -1;
    int unasked;
    int rc = load_files(vx, p, &h, &at, &seq, store_seq, &unasked);
    if (unasked)
        return;
    if (rc == MN_OK) {
        COUNT(vx, loaded);
    } else {
        if (rc == MN_ENOTFOUND)
            COUNT(vx, missing);
        else
            COUNT(vx, rejected);
        seq = 0;
        if (mni_hnsw_create(vx->dim, &vx->params, &h) != MN_OK) {
            set_state(p, VX_BROKEN);
            return;
        }
    }
    part_install(p, h, &at, seq);
    p->mark_seq = seq;
    p->changed = rc == MN_OK ? 0 : 1;
    __atomic_store_n(&p->mapped, rc == MN_OK, __ATOMIC_RELEASE);
    set_state(p, VX_READY);
}

/* Whether the graph holds every key of the attributes (their counts were found equal at
 * load): a random lookup per key, 10 ms at 100k, so not on the way to the first search. */
static int same_keys(const struct vx_part *p)
{
    for (size_t i = 0; i < p->at.n; i++)
        if (!mni_hnsw_contains(p->h, p->at.a[i].key))
            return 0;
    return 1;
}

/* A partition loaded from its files searches the graph file where it lies (vectors, rows and
 * upper lists mapped by mni_hnsw_load): the first search after an open reads only what it
 * needs. The worker then makes the graph its own before it changes anything (p->mu held),
 * checking its checksums and structure as it copies (mni_hnsw_own), and so that a file
 * truncated under the process later can do no harm; and it checks that graph and attributes
 * hold the same keys (files of two saves at the same seq, which a crash between their writes
 * could leave). A file that does not match, that shrank, or other keys are a rejected file:
 * the partition is rebuilt from the store. A close that comes first leaves it be (MN_ERROR).
 * Until then a search can at worst miss a key the graph lacks: one the attributes lack is
 * never returned (accept_key); a search that scores a few keys exactly (mni_hnsw_score_keys)
 * makes the graph its own itself, as a key lookup needs. */
static int part_own(mni_vindex *vx, struct vx_part *p)
{
    if (!__atomic_load_n(&p->mapped, __ATOMIC_ACQUIRE))
        return MN_OK;
    int rc = mni_hnsw_own(p->h, &vx->stop); /* first: same_keys looks keys up */
    if (rc == MN_OK && !same_keys(p))
        rc = MN_ECORRUPT;
    if (rc == MN_ECORRUPT) { /* counted as loaded: it is a rejected file after all */
        __atomic_sub_fetch(&vx->st.loaded, 1, __ATOMIC_RELAXED);
        COUNT(vx, rejected);
        rc = part_reset(vx, p);
    }
    if (rc == MN_OK)
        __atomic_store_n(&p->mapped, 0, __ATOMIC_RELEASE);
    return rc;
}

/* ---- catching up ---------------------------------------------------------------------------- */

/* Reads the feed into p's block up to the store's seq now (as far as the block takes): the
 * follower reads ahead of its build, which is the slow part, so that the searches while it
 * lags (during and right after an import) find the changes past the graph in memory. It does
 * so between pages and between runs of a page's inserts (apply_page): one build thread takes
 * a second or more over a page of 2048 under load, and when it read ahead only between pages
 * the first search after a fast import read the 2,000-4,000 changes committed since (6-11 us
 * each, 20-30 ms in all: the p99 of the searches after it). */
static void read_ahead(mni_vindex *vx, struct vx_part *p)
{
    int64_t now;
    int covered;
    mni_errmark mark = mni_err_mark();
    if (vx->store->ops->seq_get(vx->store, &now) != MN_OK ||
        vx_block_fill(&p->blk, vx->store, p->tenant_id, vx->dim, now, &p->applied, SIZE_MAX,
                      BLOCK_MAX_BYTES, &covered) != MN_OK)
        mni_err_forget(mark); /* the searches read what is missing, or scan exactly */
}

struct page_item {
    int64_t key;
    struct vx_values v;
    int gone, skip;
    char *ident, *type, *session;
    size_t vec; /* index of its vector in page.vecs */
};

struct page {
    int dim;
    struct page_item it[PAGE];
    size_t n;
    float *vecs;                /* PAGE * dim */
    struct page_item *ord[PAGE]; /* apply_page's scratch */
    int64_t ins_keys[PAGE];
    float *ins_vecs;            /* PAGE * dim */
    int err;
};

static int page_add(void *ctx, const struct mni_change *c)
{
    struct page *pg = ctx;
    struct page_item *it = &pg->it[pg->n];
    memset(it, 0, sizeof *it);
    it->key = c->key;
    it->v.seq = c->seq;
    it->gone = c->gone || !c->embedding;
    if (!it->gone) {
        it->v.deleted = c->deleted;
        it->v.expires_at = c->expires_at;
        it->v.created_at = c->created_at;
        it->v.updated_at = c->updated_at;
        it->v.importance = c->importance;
        it->ident = strdup(c->identity_id);
        it->type = strdup(c->type);
        it->session = c->session ? strdup(c->session) : NULL;
        if (!it->ident || !it->type || (c->session && !it->session)) {
            free(it->ident);
            free(it->type);
            free(it->session);
            pg->err = MN_ENOMEM;
            return 1;
        }
        it->vec = pg->n;
        memcpy(pg->vecs + pg->n * (size_t)pg->dim, c->embedding, (size_t)pg->dim * sizeof(float));
    }
    pg->n++;
    return 0;
}

static void page_clear(struct page *pg)
{
    for (size_t i = 0; i < pg->n; i++) {
        free(pg->it[i].ident);
        free(pg->it[i].type);
        free(pg->it[i].session);
    }
    pg->n = 0;
    pg->err = 0;
}

static int by_key_seq(const void *a, const void *b)
{
    const struct page_item *x = *(struct page_item *const *)a, *y = *(struct page_item *const *)b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->v.seq > y->v.seq) - (x->v.seq < y->v.seq);
}

/* Inserts n new keys into p's graph, with threads threads when they are enough to share. */
static int insert_run(struct vx_part *p, const int64_t *keys, const float *vecs, size_t n,
                      int threads)
{
    int dim = mni_hnsw_dim(p->h), rc = MN_OK;
    if (n >= BUILD_MIN && threads > 1) {
        rc = mni_hnsw_build(p->h, keys, vecs, n, threads);
        if (rc == MN_EEXISTS || rc == MN_EINVAL) { /* then one by one, to place the blame */
            rc = MN_OK;
            for (size_t i = 0; rc == MN_OK && i < n; i++)
                if (!mni_hnsw_contains(p->h, keys[i]) &&
                    (rc = mni_hnsw_insert(p->h, keys[i], vecs + i * (size_t)dim)) == MN_EINVAL)
                    rc = MN_OK; /* left out (see below) */
        }
        return rc;
    }
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        rc = mni_hnsw_insert(p->h, keys[i], vecs + i * (size_t)dim);
        if (rc == MN_EEXISTS)
            rc = mni_hnsw_update(p->h, keys[i], vecs + i * (size_t)dim);
        if (rc == MN_EINVAL)
            rc = MN_OK; /* left out (see above); its attributes are harmless without it */
    }
    return rc;
}

/* Applies one page to p (p->mu held): the graph first, then the attributes under the write
 * lock. A key seen twice in the page (a tombstone, then a new row under a reused key) counts
 * by its last entry. */
static int apply_page(mni_vindex *vx, struct vx_part *p, struct page *pg, int threads)
{
    struct page_item **ord = pg->ord;
    for (size_t i = 0; i < pg->n; i++)
        ord[i] = &pg->it[i];
    qsort(ord, pg->n, sizeof *ord, by_key_seq);
    for (size_t i = 0; i + 1 < pg->n; i++)
        if (ord[i]->key == ord[i + 1]->key)
            ord[i]->skip = 1;

    int64_t *ins_keys = pg->ins_keys;
    float *ins_vecs = pg->ins_vecs;
    size_t nins = 0;
    int rc = MN_OK;
    size_t vbytes = (size_t)pg->dim * sizeof(float);
    for (size_t i = 0; rc == MN_OK && i < pg->n; i++) {
        struct page_item *it = &pg->it[i];
        if (it->skip)
            continue;
        int32_t a = vx_attrs_find(&p->at, it->key);
        int in_graph = mni_hnsw_contains(p->h, it->key);
        if (it->gone) {
            if (in_graph)
                rc = mni_hnsw_delete(p->h, it->key);
            if (rc == MN_ENOTFOUND)
                rc = MN_OK;
            continue;
        }
        const float *v = pg->vecs + it->vec * (size_t)pg->dim;
        uint64_t vh = it->v.vhash = mni_hash64(v, vbytes, 0);
        if (in_graph && a >= 0 && p->at.a[a].vhash == vh)
            continue; /* the attributes changed, not the vector */
        if (in_graph) {
            rc = mni_hnsw_update(p->h, it->key, v);
        } else {
            ins_keys[nins] = it->key;
            memcpy(ins_vecs + nins * (size_t)pg->dim, v, vbytes);
            nins++;
        }
        if (rc == MN_EINVAL) { /* a vector the graph refuses (not finite): left out */
            it->gone = 1;
            rc = MN_OK;
        }
    }
    /* READ_AHEAD_EVERY inserts a thread, then a read-ahead (see read_ahead). */
    size_t run = READ_AHEAD_EVERY * (size_t)(threads > 1 ? threads : 1);
    for (size_t at = 0; rc == MN_OK && at < nins; at += run) {
        if (at)
            read_ahead(vx, p);
        rc = insert_run(p, ins_keys + at, ins_vecs + at * (size_t)pg->dim,
                        nins - at < run ? nins - at : run, threads);
    }
    if (rc != MN_OK)
        return rc;

    pthread_rwlock_wrlock(&p->rw);
    for (size_t i = 0; rc == MN_OK && i < pg->n; i++) {
        struct page_item *it = &pg->it[i];
        if (it->skip)
            continue;
        if (it->gone)
            vx_attrs_del(&p->at, it->key);
        else
            rc = vx_attrs_put(&p->at, it->key, &it->v, it->ident, it->type, it->session);
    }
    __atomic_store_n(&p->count, p->at.n, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&p->rw);
    p->changed += pg->n;
    __atomic_add_fetch(&vx->st.applied, pg->n, __ATOMIC_RELAXED);
    return rc;
}

/* Whether p, which has applied the feed up to after, may have missed tombstones pruned since:
 * read after the page, so a prune that committed before the page was read is seen. An empty
 * partition misses nothing (a key it has never held needs no tombstone). */
static int behind_horizon(mni_vindex *vx, struct vx_part *p, int64_t after)
{
    int64_t horizon = 0;
    if (!p->at.n || !vx->store->ops->feed_horizon ||
        vx->store->ops->feed_horizon(vx->store, p->tenant_id, &horizon) != MN_OK)
        return 0;
    return after < horizon;
}

/* Empties p, to be rebuilt from the store's current rows (p->mu held). */
static int part_reset(mni_vindex *vx, struct vx_part *p)
{
    prefetch_drop(p); /* files it read may be gone since (mni_vindex_forget) */
    mni_hnsw *h = NULL;
    struct vx_attrs at;
    vx_attrs_init(&at);
    int rc = mni_hnsw_create(vx->dim, &vx->params, &h);
    if (rc != MN_OK) {
        set_state(p, VX_BROKEN);
        return rc;
    }
    part_install(p, h, &at, 0);
    p->changed = 1;
    COUNT(vx, resets);
    return MN_OK;
}

/* Applies the feed past p's seq up to the store's seq now, a page at a time (p->mu held),
 * building with up to threads threads. */
static void catch_up(mni_vindex *vx, struct vx_part *p, int threads)
{
    int64_t upto;
    if (vx->store->ops->seq_get(vx->store, &upto) != MN_OK)
        return;
    int64_t after = __atomic_load_n(&p->applied, __ATOMIC_ACQUIRE), after_key = INT64_MAX;
    if (after >= upto)
        return;
    struct page *pg = calloc(1, sizeof *pg);
    float *vecs = malloc((size_t)PAGE * (size_t)vx->dim * sizeof(float));
    float *ins = malloc((size_t)PAGE * (size_t)vx->dim * sizeof(float));
    if (!pg || !vecs || !ins) {
        free(pg);
        free(vecs);
        free(ins);
        return;
    }
    pg->dim = vx->dim;
    pg->vecs = vecs;
    pg->ins_vecs = ins;
    for (;;) {
        read_ahead(vx, p);
        int rc = vx->store->ops->memory_changes(vx->store, p->tenant_id, NULL, after,
                                                after_key, upto, PAGE, page_add, pg);
        if (rc == MN_OK)
            rc = pg->err;
        if (rc == MN_OK && behind_horizon(vx, p, after)) {
            /* Deletes we had not applied were pruned from the feed: start again from empty
             * (searches meanwhile scan exactly), which needs no tombstones. */
            rc = part_reset(vx, p);
            if (rc != MN_OK)
                break;
            after = 0;
            after_key = INT64_MAX;
            page_clear(pg);
            continue;
        }
        if (rc == MN_OK)
            rc = apply_page(vx, p, pg, threads);
        if (rc != MN_OK) {
            /* A failed store read is retried at the next kick; a graph that could not take a
             * change (out of memory, full) is given up: searches scan exactly. */
            if (rc == MN_ENOMEM || rc == MN_ERANGE)
                set_state(p, VX_BROKEN);
            break;
        }
        if (pg->n < PAGE) {
            __atomic_store_n(&p->applied, upto, __ATOMIC_RELEASE);
            vx_block_prune(&p->blk, upto);
            break;
        }
        /* More may share the last seq (one transaction's tombstones): resume after the last
         * (seq, key) read, and publish only the seqs read to the end. */
        after = pg->it[pg->n - 1].v.seq;
        after_key = pg->it[pg->n - 1].key;
        __atomic_store_n(&p->applied, after - 1, __ATOMIC_RELEASE);
        vx_block_prune(&p->blk, after - 1);
        page_clear(pg);
        if (__atomic_load_n(&vx->stop, __ATOMIC_RELAXED))
            break;
    }
    page_clear(pg);
    free(vecs);
    free(ins);
    free(pg);
}

static int part_save(mni_vindex *vx, struct vx_part *p);

static void *worker_main(void *arg)
{
    mni_vindex *vx = arg;
    pthread_mutex_lock(&vx->mu);
    while (!vx->stop) {
        struct vx_part *p = vx->parts;
        while (p && !p->want)
            p = p->next;
        if (!p) {
            pthread_cond_wait(&vx->cv, &vx->mu);
            continue;
        }
        /* While writes keep coming and no search is waiting, let them have the CPU for a
         * while: on a small machine a bulk import and the graph build would halve each other,
         * and a pause in the writes lets the build have it all. Not for long, though
         * (DEFER_MAX_MS): a long import would leave the whole import behind the index, and
         * the searches right after it would score it exactly, slowly, until the build is
         * done. So past that the worker catches up while the writes go on,
         * leaving them a core; the changes it has not applied yet are the few that came in
         * since its last catch-up (see the top of vindex.h). */
        int64_t now = mni_now_ms();
        int64_t quiet = vx->last_write_ms + QUIET_MS - now;
        int64_t wait = p->want_since + DEFER_MAX_MS - now;
        if (quiet < wait)
            wait = quiet;
        if (p->want == WANT_QUIET && wait > 0) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += (long)(wait % 1000) * 1000000L;
            until.tv_sec += wait / 1000 + until.tv_nsec / 1000000000L;
            until.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&vx->cv, &vx->mu, &until);
            continue;
        }
        int threads = quiet > 0 && vx->threads > 1 ? vx->threads - 1 : vx->threads;
        p->want = 0;
        p->busy = 1;
        pthread_mutex_unlock(&vx->mu);
        pthread_mutex_lock(&p->mu);
        int64_t ignored;
        if (ld_state(p) == VX_NEW)
            part_load(vx, p, &ignored);
        if (ld_state(p) == VX_READY && part_own(vx, p) == MN_OK)
            catch_up(vx, p, threads);
        size_t every = p->at.n / 2 > SAVE_EVERY ? p->at.n / 2 : SAVE_EVERY;
        if (ld_state(p) == VX_READY && p->changed >= every &&
            !__atomic_load_n(&vx->stop, __ATOMIC_RELAXED))
            part_save(vx, p);
        pthread_mutex_unlock(&p->mu);
        pthread_mutex_lock(&vx->mu);
        p->busy = 0;
        pthread_cond_broadcast(&vx->done);
    }
    pthread_mutex_unlock(&vx->mu);
    return NULL;
}

/* ---- searching ------------------------------------------------------------------------------ */

/* Which interned names of one kind (identities, types, sessions) a query accepts. */
struct name_filter {
    unsigned char *ok; /* one flag per name; NULL: the query names none (any passes) */
    size_t keys;       /* how many keys the accepted names hold */
};

/* The names q accepts of one kind: the one name (one, NULL: no condition) and any of the list
 * (n names, 0: no condition), both holding when both are given; their keys counted from count
 * (one per name) or, when it is NULL, from the sizes of their lists. MN_OK or MN_ENOMEM;
 * *none set when no name of the index passes. */
static int name_filter_make(const struct vx_names *names, const char *one,
                            const char *const *list, size_t n, const struct vx_keys *lists,
                            const size_t *count, struct name_filter *nf, int *none)
{
    nf->ok = NULL;
    nf->keys = 0;
    if (!one && !n)
        return MN_OK;
    if (!(nf->ok = calloc(names->n ? names->n : 1, 1)))
        return MN_ENOMEM;
    int32_t only = one ? vx_name_find(names, one) : -1;
    if (n) {
        for (size_t i = 0; i < n; i++) {
            int32_t id = vx_name_find(names, list[i]);
            if (id >= 0 && (!one || id == only))
                nf->ok[id] = 1;
        }
    } else if (only >= 0) {
        nf->ok[only] = 1;
    }
    for (size_t id = 0; id < names->n; id++)
        if (nf->ok[id])
            nf->keys += count ? count[id] : lists[id].n;
    *none |= nf->keys == 0;
    return MN_OK;
}

struct filt {
    const struct vx_attrs *at;
    const struct mni_store_query *q;
    struct name_filter ident, type, session;
    int ranged;  /* q has a range (created, updated, importance) */
    unsigned flags;
    int64_t now;
    const struct keyset *skip; /* keys the search scores from the feed */
};

static int attr_ok(const struct filt *f, const struct vx_attr *a)
{
    return (!f->ident.ok || f->ident.ok[a->ident]) && (!f->type.ok || f->type.ok[a->type]) &&
           (!f->session.ok || (a->session >= 0 && f->session.ok[a->session])) &&
           ((f->flags & MN_WITH_DELETED) || !a->deleted) &&
           ((f->flags & MN_WITH_EXPIRED) || !a->expires_at || a->expires_at > f->now) &&
           (!f->ranged ||
            mni_query_ranges_hold(f->q, a->created_at, a->updated_at, a->importance));
}

static int accept_key(void *ctx, int64_t key)
{
    const struct filt *f = ctx;
    int32_t i = vx_attrs_find(f->at, key);
    return i >= 0 && attr_ok(f, &f->at->a[i]) && !keyset_has(f->skip, key);
}

/* The changes past the index, scored from the partition's block (vindex_block.h), newest
 * first, so that a key's latest change is the one that counts: their sign codes choose
 * SIGN_DEPTH(want) of them, whose int8 codes pick the best candidates (CANDIDATES(want) of
 * them), whose float vectors then give the exact scores. The depth: on the 384-d vectors of
 * `bench ingest` (a block of 42,000, 300 queries), the sign codes' nearest 400 hold 0.9997
 * of the exact top 10 and their nearest 800 all of it; 32 x 36 = 1152 at k = 10 keeps a
 * margin, for an int8 pass over 1152 codes (0.4 MB) instead of every one. */
#define CANDIDATES(want) (2 * (want) + 16)
#define SIGN_DEPTH(want) (32 * CANDIDATES(want))

struct overlay {
    const struct mni_store_query *q;
    const float *vec;
    int dim;
    const struct mni_dist_ops *ops;
    int8_t *code;       /* the query's int8 code... */
    uint64_t *bits;     /* ...and its sign code */
    float scale;
    size_t depth;
    struct keyset keys; /* every key seen: the graph's answer leaves them out */
    struct mni_topk cand; /* by the codes' score; key: a slot of cand_key and cand_vec */
    int64_t *cand_key;
    float *cand_vec;
    unsigned char *cand_held; /* per slot: cand_vec holds its vector (else: read it) */
    int64_t *read_key;    /* the keys of the candidates whose vectors are read... */
    size_t *read_slot, *read_which; /* ...their slots, and memory_get_keys' which */
    struct mni_topk top;  /* the candidates, by their exact score */
};

static int overlay_init(struct overlay *o, const struct mni_store_query *q, const float *vec,
                        int dim, size_t want)
{
    size_t n = CANDIDATES(want);
    memset(o, 0, sizeof *o);
    o->q = q;
    o->vec = vec;
    o->dim = dim;
    o->ops = mni_dist_ops();
    o->depth = SIGN_DEPTH(want);
    o->code = malloc((size_t)dim);
    o->bits = malloc((size_t)MNI_SIGN_WORDS(dim) * sizeof *o->bits);
    o->cand_key = malloc(n * sizeof *o->cand_key);
    o->cand_vec = malloc(n * (size_t)dim * sizeof *o->cand_vec);
    o->cand_held = malloc(n);
    o->read_key = malloc(n * sizeof *o->read_key);
    o->read_slot = malloc(n * sizeof *o->read_slot);
    o->read_which = malloc(n * sizeof *o->read_which);
    int bad = mni_topk_init(&o->cand, n);
    bad |= mni_topk_init(&o->top, want);
    if (bad || !o->code || !o->bits || !o->cand_key || !o->cand_vec || !o->cand_held ||
        !o->read_key || !o->read_slot || !o->read_which)
        return MN_ENOMEM;
    o->scale = mni_quantize_i8(vec, dim, o->code);
    mni_sign_bits(vec, dim, o->bits);
    return MN_OK;
}

static void overlay_free(struct overlay *o)
{
    free(o->code);
    free(o->bits);
    keyset_free(&o->keys);
    free(o->cand_key);
    free(o->cand_vec);
    free(o->cand_held);
    free(o->read_key);
    free(o->read_slot);
    free(o->read_which);
    mni_topk_free(&o->cand);
    mni_topk_free(&o->top);
}

/* vx_block_search's first: every key past the graph goes to the keys the graph's answer
 * leaves out, the first time it is met. */
static int overlay_first(void *ctx, int64_t key)
{
    struct overlay *o = ctx;
    int added;
    return keyset_add(&o->keys, key, &added) == MN_OK ? added : -1;
}

/* vx_block_search's keep: a change that q selects. */
static int overlay_keep(void *ctx, const struct mni_change *c)
{
    const struct overlay *o = ctx;
    const struct mni_store_query *q = o->q;
    if ((c->deleted && !(q->flags & MN_WITH_DELETED)) ||
        (c->expires_at && c->expires_at <= q->now && !(q->flags & MN_WITH_EXPIRED)))
        return 0;
    const struct mni_query_fields fields = { c->identity_id, c->type, c->session, c->created_at,
                                             c->updated_at, c->importance };
    return mni_query_selects_fields(q, &fields);
}

/* vx_block_search's take: a candidate when its int8 score is among the best (its vector
 * copied, or read by overlay_rerank when the block has its codes only). */
static void overlay_take(void *ctx, int64_t key, const float *vec, float score)
{
    struct overlay *o = ctx;
    size_t slot;
    if (o->cand.n < o->cand.k)
        slot = o->cand.n;
    else if (score > o->cand.heap[0].score) /* it replaces the worst candidate, in its slot */
        slot = (size_t)o->cand.heap[0].key;
    else
        return;
    o->cand_key[slot] = key;
    o->cand_held[slot] = vec != NULL;
    if (vec)
        memcpy(o->cand_vec + slot * (size_t)o->dim, vec, (size_t)o->dim * sizeof(float));
    mni_topk_push(&o->cand, (int64_t)slot, score);
}

/* The vectors of the candidates the block has the codes of only, read from the store in one
 * call: the few dozen rows of a search (CANDIDATES), where holding every change's floats would
 * take four times the block's memory. A row that went since (or that q's flags no longer let
 * through) is no candidate: the store has the last word, as for the graph's answer. */
static int overlay_read_vectors(struct overlay *o, struct mni_store *s, const char *tenant_id)
{
    size_t m = 0;
    for (size_t i = 0; i < o->cand.n; i++) {
        size_t slot = (size_t)o->cand.heap[i].key;
        if (!o->cand_held[slot]) {
            o->read_key[m] = o->cand_key[slot];
            o->read_slot[m++] = slot;
        }
    }
    if (!m)
        return MN_OK;
    mn_memories *l = NULL;
    int rc = s->ops->memory_get_keys(s, tenant_id, o->read_key, m,
                                     o->q->flags | MN_WITH_EMBEDDING, o->q->now, &l,
                                     o->read_which);
    for (size_t j = 0; rc == MN_OK && j < l->count; j++) {
        const mn_memory *mem = l->items[j];
        size_t slot = o->read_slot[o->read_which[j]];
        if (mem->embedding && mem->dim == o->dim) {
            memcpy(o->cand_vec + slot * (size_t)o->dim, mem->embedding,
                   (size_t)o->dim * sizeof(float));
            o->cand_held[slot] = 1;
        }
    }
    mn_memories_free(l);
    return rc;
}

/* The candidates' exact scores, into o->top. */
static int overlay_rerank(struct overlay *o, struct mni_store *s, const char *tenant_id)
{
    int rc = overlay_read_vectors(o, s, tenant_id);
    for (size_t i = 0; rc == MN_OK && i < o->cand.n; i++) {
        size_t slot = (size_t)o->cand.heap[i].key;
        if (o->cand_held[slot])
            mni_topk_push(&o->top, o->cand_key[slot],
                          o->ops->ip(o->vec, o->cand_vec + slot * (size_t)o->dim, o->dim));
    }
    return rc;
}

/* Records sampled to estimate how many keys q's ranges let through. */
#define RANGE_SAMPLE 256

/* The share of at's keys that q's ranges let through, from an even sample of the records (a
 * range has no counts to read). */
static double range_share(const struct filt *f)
{
    const struct vx_attrs *at = f->at;
    size_t step = at->n > RANGE_SAMPLE ? at->n / RANGE_SAMPLE : 1, seen = 0, pass = 0;
    for (size_t i = 0; i < at->n; i += step, seen++) {
        const struct vx_attr *a = &at->a[i];
        pass += mni_query_ranges_hold(f->q, a->created_at, a->updated_at, a->importance);
    }
    return seen ? (double)pass / (double)seen : 1.0;
}

/* The keys of the accepted names' lists (nf of lists) that f accepts, into keys. */
static size_t listed_keys(struct filt *f, const struct name_filter *nf,
                          const struct vx_keys *lists, size_t nlists, int64_t *keys)
{
    size_t m = 0;
    for (size_t id = 0; id < nlists; id++)
        for (size_t i = 0; nf->ok[id] && i < lists[id].n; i++)
            if (accept_key(f, lists[id].k[i]))
                keys[m++] = lists[id].k[i];
    return m;
}

static void filt_free(struct filt *f)
{
    free(f->ident.ok);
    free(f->type.ok);
    free(f->session.ok);
}

/* part_search with the filter made. */
static int filtered_search(mni_vindex *vx, struct vx_part *p, struct filt *f,
                           const float *vec, size_t want, int ef, struct mni_hit *out, size_t *n)
{
    const struct vx_attrs *at = &p->at;
    /* How many keys pass, assuming the conditions independent: the names' own counts, the
     * deleted count, a sample for the ranges. */
    double total = (double)at->n, est = total;
    const struct name_filter *kinds[3] = { &f->ident, &f->type, &f->session };
    for (int k = 0; k < 3; k++)
        if (kinds[k]->ok)
            est *= (double)kinds[k]->keys / total;
    if (!(f->flags & MN_WITH_DELETED))
        est *= (total - (double)at->ndeleted) / total;
    if (f->ranged)
        est *= range_share(f);
    if (est < 1)
        est = 1;
    size_t efe = (size_t)(ef > 0 ? ef : vx->params.ef_search);
    if (efe < want)
        efe = want;
    /* The smallest key lists that hold every key passing: the accepted identities' or
     * sessions', else every key. */
    const struct name_filter *by = NULL;
    if (f->ident.ok)
        by = &f->ident;
    if (f->session.ok && (!by || f->session.keys < by->keys))
        by = &f->session;
    /* Costs in distance computations: a filtered graph search visits about
     * 9 ef / selectivity^0.75 nodes (the HNSW core's measurements); the exact scan scores the
     * filtered keys and looks at each key it enumerates (the lists, or every key). */
    double graph = 9.0 * (double)efe * pow(est / total, -0.75);
    double listed = by ? (double)by->keys : total;
    double exact = est + 0.1 * listed;
    if (exact <= graph || est <= EXACT_ALWAYS || efe >= at->n) {
        size_t cap = by ? by->keys : at->n, m = 0;
        int64_t *keys = malloc((cap ? cap : 1) * sizeof *keys);
        if (!keys)
            return MN_ENOMEM;
        if (by == &f->ident) {
            m = listed_keys(f, by, at->by_ident, at->idents.n, keys);
        } else if (by == &f->session) {
            m = listed_keys(f, by, at->by_session, at->sessions.n, keys);
        } else {
            for (size_t i = 0; i < at->n; i++)
                if (attr_ok(f, &at->a[i]) && !keyset_has(f->skip, at->a[i].key))
                    keys[m++] = at->a[i].key;
        }
        int rc = mni_hnsw_score_keys(p->h, vec, keys, m, want, out, n);
        free(keys);
        COUNT(vx, exact);
        return rc;
    }
    COUNT(vx, graph);
    return mni_hnsw_search(p->h, vec, want, (int)efe, accept_key, f, out, n);
}

/* The want best of the partition (rw read-locked) for q (all but its metadata), minus the
 * keys in skip. */
static int part_search(mni_vindex *vx, struct vx_part *p, const struct mni_store_query *q,
                       const float *vec, size_t want, int ef, const struct keyset *skip,
                       struct mni_hit *out, size_t *n)
{
    const struct vx_attrs *at = &p->at;
    struct filt f = { .at = at, .q = q, .ranged = mni_query_has_range(q), .flags = q->flags,
                      .now = q->now, .skip = skip };
    *n = 0;
    if (!at->n)
        return MN_OK;
    int none = 0;
    int rc = name_filter_make(&at->idents, q->identity_id, q->identities, q->n_identities,
                              at->by_ident, NULL, &f.ident, &none);
    if (rc == MN_OK)
        rc = name_filter_make(&at->types, q->type, q->types, q->n_types, NULL, at->type_count,
                              &f.type, &none);
    if (rc == MN_OK)
        rc = name_filter_make(&at->sessions, NULL, q->sessions, q->n_sessions, at->by_session,
                              NULL, &f.session, &none);
    /* A name the index has no key of: nothing passes. */
    if (rc == MN_OK && !none)
        rc = filtered_search(vx, p, &f, vec, want, ef, out, n);
    filt_free(&f);
    return rc;
}

int mni_vindex_search(mni_vindex *vx, const char *tenant_id, const struct mni_store_query *q,
                     const float *vec, size_t want, int ef, struct mni_topk *top, int *served)
{
    *served = 0;
    struct vx_part *p = part_get(vx, tenant_id);
    if (!p)
        return MN_OK;
    /* The store's seq that this search must see at least: read by the files' check when this
     * search loaded them (after the search began, so no less), which spares a one-shot process
     * a round trip to a database server. */
    int64_t now_seq = -1;
    if (ld_state(p) == VX_NEW) {
        pthread_mutex_lock(&p->mu);
        if (ld_state(p) == VX_NEW)
            part_load(vx, p, &now_seq);
        pthread_mutex_unlock(&p->mu);
        /* The worker's first pass copies a loaded partition's vectors out of their file (all of
         * them: 150 MB at 100k x 384), which a one-shot process that searches and closes never
         * needs: it comes after a quiet moment, as for writes, unless the partition lags
         * (below), when a search needs the catch-up now. */
        kick_for(vx, p, WANT_QUIET);
    }
    if (ld_state(p) != VX_READY ||
        (now_seq < 0 && vx->store->ops->seq_get(vx->store, &now_seq) != MN_OK)) {
        COUNT(vx, fallback);
        return MN_OK;
    }
    int64_t applied = __atomic_load_n(&p->applied, __ATOMIC_ACQUIRE);
    struct overlay ov;
    int rc = overlay_init(&ov, q, vec, vx->dim, want);
    if (rc == MN_OK && applied < now_seq) {
        kick(vx, p);
        /* What this search reads of the feed goes to the block, for the searches after it
         * too; reading more than half the partition costs what an exact scan does. */
        size_t limit = __atomic_load_n(&p->count, __ATOMIC_RELAXED) / 2 + OVERLAY_MIN;
        int covered = 0;
        rc = vx_block_fill(&p->blk, vx->store, tenant_id, vx->dim, now_seq, &p->applied, limit,
                           BLOCK_SEARCH_MAX_BYTES, &covered);
        /* Room for the keys past the graph: at most the block's entries, and about as many
         * as the seqs past it (a transaction's tombstones share one), which is fewer while
         * the block still holds what the graph has just applied. */
        size_t past = (size_t)(now_seq - applied), held = vx_block_entries(&p->blk);
        int64_t lo = 0, hi = -1;
        if (rc == MN_OK && covered && vx_block_key_range(&p->blk, &lo, &hi))
            rc = keyset_reserve_range(&ov.keys, lo, hi, past < held ? past : held);
        if (rc == MN_OK && covered) {
            const struct vx_block_query bq = { ov.code, ov.scale, ov.bits, ov.depth };
            rc = vx_block_search(&p->blk, &p->applied, &bq, overlay_first, overlay_keep,
                                 overlay_take, &ov);
            if (rc == MN_OK)
                rc = overlay_rerank(&ov, vx->store, tenant_id);
        }
        if (rc == MN_OK && !covered) {
            overlay_free(&ov);
            COUNT(vx, fallback);
            return MN_OK;
        }
    }
    if (rc == MN_ENOMEM) {
        overlay_free(&ov);
        return rc;
    }
    struct mni_hit *hits = malloc((want ? want : 1) * sizeof *hits);
    size_t nh = 0;
    if (!hits)
        rc = MN_ENOMEM;
    if (rc == MN_OK) {
        pthread_rwlock_rdlock(&p->rw);
        rc = part_search(vx, p, q, vec, want, ef, &ov.keys, hits, &nh);
        pthread_rwlock_unlock(&p->rw);
    }
    if (rc == MN_OK) {
        for (size_t i = 0; i < nh; i++)
            mni_topk_push(top, hits[i].key, hits[i].score);
        for (size_t i = 0; i < ov.top.n; i++)
            mni_topk_push(top, ov.top.heap[i].key, ov.top.heap[i].score);
        *served = 1;
        COUNT(vx, searches);
        if (ov.keys.n)
            COUNT(vx, overlay);
        mni_metrics_add(vx->store->metrics, MNI_S_SEARCH_OVERLAY, (int64_t)ov.keys.n);
    } else if (rc != MN_ENOMEM) {
        COUNT(vx, fallback);
        rc = MN_OK;
    }
    free(hits);
    overlay_free(&ov);
    return rc;
}

/* ---- the handle ----------------------------------------------------------------------------- */

void mni_vindex_changed(mni_vindex *vx, const char *tenant_id)
{
    struct vx_part *p = part_get(vx, tenant_id);
    if (p)
        kick_for(vx, p, WANT_QUIET);
}

void mni_vindex_prefetch(mni_vindex *vx, const char *tenant_id)
{
    char gpath[4096], apath[4096];
    struct vx_part *p = vx ? part_get(vx, tenant_id) : NULL;
    /* Never waits: a partition another thread is loading or catching up needs no help. */
    if (!p || ld_state(p) != VX_NEW || !part_paths(vx, tenant_id, gpath, apath, sizeof gpath) ||
        pthread_mutex_trylock(&p->mu) != 0)
        return;
    struct vx_prefetch *pre = NULL;
    if (ld_state(p) == VX_NEW && !p->pre && (pre = calloc(1, sizeof *pre)) &&
        mni_hnsw_file_seq(gpath, &pre->peek) == MN_OK) {
        pre->vx = vx;
        pre->tenant_id = p->tenant_id;
        if (pthread_create(&pre->th, NULL, prefetch_run, pre) == 0) {
            p->pre = pre;
            pre = NULL;
        }
    }
    free(pre);
    pthread_mutex_unlock(&p->mu);
}

/* A checkpoint at seq: the tombstones the previous one needed are dropped, so that they are
 * kept one checkpoint longer than ours need them: an index in another process that lags by
 * less than that still catches up (see feed_prune). */
static void part_checkpoint(mni_vindex *vx, struct vx_part *p, int64_t seq)
{
    if (p->mark_seq > 0 && vx->store->ops->feed_prune &&
        vx->store->ops->feed_prune(vx->store, p->tenant_id, p->mark_seq) == MN_OK) {
        p->pruned_seq = p->mark_seq;
        mni_metrics_inc(vx->store->metrics, MNI_S_MAINTENANCE + MNI_MAINT_FEED_PRUNE);
    }
    p->mark_seq = seq;
    p->changed = 0;
}

/* 1 while the partition's tenant is in the store. A tenant erased through another handle or
 * process (mn_tenant_delete) leaves this one's partition in memory: saving it would write the
 * erased vectors back to disk. A failure to ask is not an answer: the tenant counts as there,
 * and the failure is forgotten (a save is bookkeeping, not the caller's call). */
static int tenant_exists(mni_vindex *vx, const char *tenant_id)
{
    mn_tenant *t = NULL;
    mni_errmark mark = mni_err_mark();
    int rc = vx->store->ops->tenant_get(vx->store, tenant_id, &t);
    mn_tenant_free(t);
    if (rc != MN_OK)
        mni_err_forget(mark);
    return rc != MN_ENOTFOUND;
}

/* mkdir -p: the index directory of a server's database lies under a cache directory that
 * may not exist yet. 0 when it exists now. */
static int make_dir(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n >= sizeof path)
        return -1;
    memcpy(path, dir, n + 1);
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(path, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static int part_save(mni_vindex *vx, struct vx_part *p)
{
    char gpath[4096], apath[4096];
    if (vx->readonly || ld_state(p) != VX_READY)
        return MN_OK;
    if (!part_paths(vx, p->tenant_id, gpath, apath, sizeof gpath)) {
        /* No files to write (a database that is not a file: PostgreSQL, :memory:): the
         * checkpoint only marks how far back tombstones are kept. */
        if (p->changed)
            part_checkpoint(vx, p, __atomic_load_n(&p->applied, __ATOMIC_ACQUIRE));
        return MN_OK;
    }
    if (!p->changed || (p->at.n < MNI_VINDEX_SAVE_MIN && !p->had_file))
        return MN_OK;
    if (!tenant_exists(vx, p->tenant_id))
        return MN_OK;
    if (make_dir(vx->dir) != 0)
        return MN_EBACKEND;
    int64_t seq = __atomic_load_n(&p->applied, __ATOMIC_ACQUIRE);
    uint64_t token = new_token();
    char key[160], hex[32];
    token_key(p, key, sizeof key);
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)token);
    /* The files, then the token in the database: a failure between leaves files that do not
     * match, and are rebuilt. */
    int rc = mni_hnsw_save(p->h, gpath, seq);
    if (rc == MN_OK)
        rc = vx_attrs_save(&p->at, apath, seq, token);
    if (rc == MN_OK)
        rc = vx->store->ops->meta_put(vx->store, key, hex);
    if (rc == MN_OK && !tenant_exists(vx, p->tenant_id)) {
        /* Erased while the files were written: they go, as the erase took them. */
        unlink(gpath);
        unlink(apath);
        return MN_OK;
    }
    if (rc == MN_OK) {
        p->had_file = 1;
        COUNT(vx, saves);
        mni_metrics_inc(vx->store->metrics, MNI_S_MAINTENANCE + MNI_MAINT_INDEX_SAVE);
        part_checkpoint(vx, p, seq);
    }
    return rc;
}

void mni_vindex_forget(mni_vindex *vx, const char *tenant_id)
{
    pthread_mutex_lock(&vx->mu);
    struct vx_part *p = vx->parts;
    while (p && strcmp(p->tenant_id, tenant_id) != 0)
        p = p->next;
    pthread_mutex_unlock(&vx->mu);
    if (p) {
        /* An empty graph, not none: a search that saw the partition ready may still come
         * for it. Nothing changed since: no save writes it back. */
        pthread_mutex_lock(&p->mu);
        if (part_reset(vx, p) == MN_OK)
            p->changed = 0;
        p->had_file = 0;
        pthread_mutex_unlock(&p->mu);
    }
    char gpath[4096], apath[4096];
    if (!vx->readonly && part_paths(vx, tenant_id, gpath, apath, sizeof gpath)) {
        unlink(gpath);
        unlink(apath);
    }
}

/* Runs fn on every partition, each under its own lock; the first failure (the others still
 * run). */
static int each_part(mni_vindex *vx, int (*fn)(mni_vindex *vx, struct vx_part *p, void *arg),
                     void *arg)
{
    int rc = MN_OK;
    pthread_mutex_lock(&vx->mu);
    struct vx_part *parts = vx->parts;
    pthread_mutex_unlock(&vx->mu);
    /* Partitions are only ever prepended: the list from parts on is stable. */
    for (struct vx_part *p = parts; p; p = p->next) {
        pthread_mutex_lock(&p->mu);
        int r = fn(vx, p, arg);
        pthread_mutex_unlock(&p->mu);
        if (r != MN_OK && rc == MN_OK)
            rc = r;
    }
    return rc;
}

static int save_part(mni_vindex *vx, struct vx_part *p, void *arg)
{
    (void)arg;
    return part_save(vx, p);
}

int mni_vindex_save(mni_vindex *vx)
{
    return each_part(vx, save_part, NULL);
}

/* A partition no file is kept for: a store without files, or one too small to be written
 * (and that never came from one). Its checkpoints are only marks of how far back tombstones
 * are kept, so moving them on costs no file; a partition with files moves them on when saved,
 * never past what its files cover. */
static int keeps_no_file(const mni_vindex *vx, const struct vx_part *p)
{
    return !vx->dir || (!p->had_file && p->at.n < MNI_VINDEX_SAVE_MIN);
}

/* mni_vindex_prune_feed for one partition; *tenants (arg) counts those pruned. */
static int prune_part(mni_vindex *vx, struct vx_part *p, void *arg)
{
    size_t *tenants = arg;
    if (ld_state(p) != VX_READY || !keeps_no_file(vx, p))
        return MN_OK;
    int64_t applied = __atomic_load_n(&p->applied, __ATOMIC_ACQUIRE);
    int prune = p->mark_seq > p->pruned_seq;
    int rc = prune ? vx->store->ops->feed_prune(vx->store, p->tenant_id, p->mark_seq) : MN_OK;
    if (rc == MN_OK) {
        *tenants += prune;
        p->pruned_seq = p->mark_seq;
        p->mark_seq = applied;
    }
    return rc;
}

void mni_vindex_set_block_floats(mni_vindex *vx, size_t bytes)
{
    pthread_mutex_lock(&vx->mu);
    vx->block_floats = bytes;
    for (struct vx_part *p = vx->parts; p; p = p->next) {
        pthread_mutex_lock(&p->blk.fill);
        p->blk.floats_below = bytes;
        pthread_mutex_unlock(&p->blk.fill);
    }
    pthread_mutex_unlock(&vx->mu);
}

int mni_vindex_prune_feed(mni_vindex *vx, size_t *tenants)
{
    *tenants = 0;
    if (vx->readonly || !vx->store->ops->feed_prune)
        return MN_OK;
    return each_part(vx, prune_part, tenants);
}

int mni_vindex_open(struct mni_store *store, const mn_config *cfg, mni_vindex **out)
{
    *out = NULL;
    mni_vindex *vx = calloc(1, sizeof *vx);
    if (!vx)
        return MN_ENOMEM;
    vx->store = store;
    vx->dim = store->dim;
    vx->params.m = cfg->hnsw_m;
    vx->params.ef_construction = cfg->hnsw_ef_construction;
    vx->params.ef_search = cfg->hnsw_ef_search;
    vx->params.flags = cfg->hnsw_quantize == MN_ANN_INT8 ? MNI_HNSW_INT8 : 0u;
    vx->params.rerank = cfg->hnsw_rerank;
    vx->readonly = (store->flags & MN_OPEN_READONLY) != 0;
    vx->block_floats = BLOCK_FLOATS_BYTES;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* One core stays with the application (ingest embeds on it while the index builds). */
    vx->threads = cpus > 2 ? (int)(cpus - 1 > MAX_THREADS ? MAX_THREADS : cpus - 1)
                           : (cpus == 2 ? 2 : 1);
    /* Without a place for files (or when asking failed) the index lives in memory only. */
    mni_errmark mark = mni_err_mark();
    if (store->ops->index_dir && store->ops->index_dir(store, &vx->dir) != MN_OK)
        mni_err_forget(mark);
    pthread_mutex_init(&vx->mu, NULL);
    pthread_cond_init(&vx->cv, NULL);
    pthread_cond_init(&vx->done, NULL);
    *out = vx;
    return MN_OK;
}

void mni_vindex_close(mni_vindex *vx)
{
    if (!vx)
        return;
    pthread_mutex_lock(&vx->mu);
    __atomic_store_n(&vx->stop, 1, __ATOMIC_RELAXED);
    pthread_cond_broadcast(&vx->cv);
    int started = vx->started;
    pthread_mutex_unlock(&vx->mu);
    if (started)
        pthread_join(vx->worker, NULL);
    mni_vindex_save(vx);
    while (vx->parts) {
        struct vx_part *p = vx->parts;
        vx->parts = p->next;
        part_free(p);
    }
    pthread_mutex_destroy(&vx->mu);
    pthread_cond_destroy(&vx->cv);
    pthread_cond_destroy(&vx->done);
    free(vx->dir);
    free(vx);
}

int mni_vindex_sync(mni_vindex *vx, const char *tenant_id, int timeout_ms)
{
    struct vx_part *p = part_get(vx, tenant_id);
    int64_t upto;
    if (!p)
        return MN_ENOMEM;
    int rc = vx->store->ops->seq_get(vx->store, &upto);
    if (rc != MN_OK)
        return rc;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    int timed_out = 0;
    pthread_mutex_lock(&vx->mu);
    for (;;) {
        int s = ld_state(p);
        if (s == VX_BROKEN || (timed_out && s != VX_READY)) {
            rc = MN_ERROR;
            break;
        }
        if (s == VX_READY && __atomic_load_n(&p->applied, __ATOMIC_ACQUIRE) >= upto &&
            !__atomic_load_n(&p->mapped, __ATOMIC_ACQUIRE))
            break;
        if (timed_out) {
            rc = MN_ERROR;
            break;
        }
        /* A pass is asked for only when none is running or waiting: a pass asked for while
         * one runs would run again after this returns, and the handle would go on catching
         * up with changes made after the call (a handle meant to lag would not). A pass that
         * ended short of upto (a failed read) is asked for again. */
        if (!p->busy && p->want < WANT_NOW)
            want_locked(vx, p, WANT_NOW);
        timed_out = pthread_cond_timedwait(&vx->done, &vx->mu, &until) == ETIMEDOUT;
    }
    pthread_mutex_unlock(&vx->mu);
    return rc;
}

void mni_vindex_stats(mni_vindex *vx, const char *tenant_id, struct mni_vindex_stats *st)
{
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&vx->mu);
#define TAKE(f) st->f = __atomic_load_n(&vx->st.f, __ATOMIC_RELAXED)
    TAKE(partitions);
    TAKE(loaded);
    TAKE(missing);
    TAKE(rejected);
    TAKE(quick);
    TAKE(searches);
    TAKE(graph);
    TAKE(exact);
    TAKE(overlay);
    TAKE(fallback);
    TAKE(applied);
    TAKE(saves);
    TAKE(resets);
#undef TAKE
    struct vx_part *p = vx->parts;
    while (tenant_id && p && strcmp(p->tenant_id, tenant_id) != 0)
        p = p->next;
    pthread_mutex_unlock(&vx->mu);
    if (tenant_id && p) {
        pthread_rwlock_rdlock(&p->rw);
        st->seq = __atomic_load_n(&p->applied, __ATOMIC_ACQUIRE);
        st->count = p->at.n;
        st->bytes = (p->h ? mni_hnsw_bytes(p->h) : 0) + vx_attrs_bytes(&p->at);
        pthread_rwlock_unlock(&p->rw);
    }
}

void mni_vindex_metrics(mni_vindex *vx, int64_t store_seq, uint64_t *vals)
{
    /* The partitions, taken under mu; each is then read under its own lock, as
     * mni_vindex_stats does (a partition lives as long as the handle). */
    pthread_mutex_lock(&vx->mu);
    size_t np = 0;
    for (struct vx_part *p = vx->parts; p; p = p->next)
        np++;
    struct vx_part **parts = malloc((np ? np : 1) * sizeof *parts);
    np = 0;
    for (struct vx_part *p = vx->parts; p && parts; p = p->next)
        parts[np++] = p;
    pthread_mutex_unlock(&vx->mu);
    int64_t lag = 0;
    for (size_t i = 0; i < np; i++) {
        struct vx_part *p = parts[i];
        int state = ld_state(p);
        if (state == VX_BROKEN)
            continue;
        /* A partition not loaded yet (first used, its catch-up to come) has applied nothing. */
        int64_t behind = store_seq - __atomic_load_n(&p->applied, __ATOMIC_ACQUIRE);
        if (behind > lag)
            lag = behind;
        if (state != VX_READY)
            continue;
        size_t n = __atomic_load_n(&p->count, __ATOMIC_RELAXED);
        unsigned b = n < 1000 ? MNI_ISIZE_1K : n < 10000 ? MNI_ISIZE_10K
                   : n < 100000 ? MNI_ISIZE_100K : n < 1000000 ? MNI_ISIZE_1M : MNI_ISIZE_MORE;
        vals[MNI_S_INDEX_TENANTS + b]++;
        vals[MNI_S_INDEX_VECTORS] += n;
        pthread_rwlock_rdlock(&p->rw);
        vals[MNI_S_INDEX_BYTES] += (p->h ? mni_hnsw_bytes(p->h) : 0) + vx_attrs_bytes(&p->at);
        pthread_rwlock_unlock(&p->rw);
    }
    free(parts);
    vals[MNI_S_INDEX_LAG] = (uint64_t)lag;
}
