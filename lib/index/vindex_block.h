/*
 * The changes past a partition's graph, held in memory for search (index/vindex.h).
 *
 * A search must score exactly every change the graph has not applied yet. Read from the change
 * feed at each search, they cost a row read each (about 9 us in SQLite): 44,000 of them, as a
 * fast import leaves behind the graph build, made every search take 100 ms and more. So the
 * feed is read once into this block, which later searches only extend by what was committed
 * since (usually a few changes) and score from memory with the SIMD kernels; the follower drops
 * what it has applied to the graph.
 *
 * The block is a list of chunks, oldest first, each a run of the feed in (seq, key) order:
 * its entries' keys, attributes and vectors (contiguous, dim floats each, and their int8 codes:
 * a scan streams a quarter of the bytes, which is what bounds it), and the names they refer
 * to. It holds every change with a seq up to its read position that the graph may not
 * have applied: what a prune drops is at or below the graph's applied seq. A chunk is built
 * aside and linked whole, so a scan sees whole chunks only.
 *
 * Locks: fill serialises the readers of the feed (and the read position), rw the chunk list:
 * scans read-lock it, linking and pruning write-lock it briefly. Order: fill, then rw.
 */
#ifndef MNI_INDEX_VINDEX_BLOCK_H
#define MNI_INDEX_VINDEX_BLOCK_H

#include "store/store.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct vx_chunk;

struct vx_block {
    pthread_mutex_t fill;
    pthread_rwlock_t rw;
    struct vx_chunk *head, *tail; /* under rw: oldest, newest */
    size_t entries, bytes;        /* under rw: held in the chunks */
    int64_t after, after_key;     /* under fill: the feed is read up to this (seq, key)... */
    int64_t complete;             /* ...and every change with seq <= complete */
};

/* MN_OK or MN_ENOMEM. */
int vx_block_init(struct vx_block *b);
void vx_block_free(struct vx_block *b);
/* Empties b: the graph now holds every change up to seq and none past it. */
void vx_block_reset(struct vx_block *b, int64_t seq);
/* Drops the chunks whose changes are all at or below applied (the graph has them). */
void vx_block_prune(struct vx_block *b, int64_t applied);
/* Reads the tenant's feed into b up to upto (vectors of dim floats), at most max_entries new
 * entries and while b holds less than max_bytes; *covered: whether b now reaches upto. applied
 * (atomic): the graph's applied seq, below which nothing is read. */
int vx_block_fill(struct vx_block *b, struct mni_store *s, const char *tenant_id, int dim,
                  int64_t upto, const int64_t *applied, size_t max_entries, size_t max_bytes,
                  int *covered);
/* How many entries b holds (a scan may see fewer: those past the graph). */
size_t vx_block_entries(struct vx_block *b);
/* One change of the block (its vector valid during the call only) and, unless it is gone,
 * the vector's int8 code and scale (mni_quantize_i8). Nonzero stops the scan. */
typedef int (*vx_block_fn)(void *ctx, const struct mni_change *c, const int8_t *code,
                           float scale);
/* Calls fn on each change of b past applied (atomic, read under b's lock: a prune that
 * dropped what fn does not see has the graph hold it), newest first, until fn returns
 * nonzero. */
void vx_block_scan(struct vx_block *b, const int64_t *applied, vx_block_fn fn, void *ctx);

#endif
