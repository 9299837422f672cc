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
 * its entries' keys (apart: a search reads them all), attributes and vectors (contiguous, dim
 * floats each, their int8 codes and their sign codes: a search streams the sign codes, an
 * eighth of the int8 codes' bytes, and scores the int8 codes of the nearest thousand or so
 * only), and the names they refer to. The float vectors are four fifths of a change's 2 KB at
 * 384-d and serve only the few dozen candidates a search re-ranks: a chunk read once the
 * block is large (floats_below) keeps the codes only, about 550 bytes a change, so that the
 * half million changes a graph lags after an import of a million fit in memory; the caller
 * reads the floats of the few candidates of such chunks from the store. It
 * holds every change with a seq up to its read position that the graph may not have applied:
 * what a prune drops is at or below the graph's applied seq. A chunk is built aside and linked
 * whole, so a search sees whole chunks only.
 *
 * Locks: fill serialises the readers of the feed (and the read position), rw the chunk list:
 * searches read-lock it, linking and pruning write-lock it briefly. Order: fill, then rw.
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
    size_t floats_below;          /* set before use (vx_block_init: SIZE_MAX): a chunk read
                                   * while the block holds fewer bytes keeps its float
                                   * vectors, later ones their codes only */
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
/* How many entries b holds (a search may see fewer: those past the graph). */
size_t vx_block_entries(struct vx_block *b);
/* The smallest and largest key b holds (1), or 0 when b is empty: a hint (the block may take
 * more keys before a search). */
int vx_block_key_range(struct vx_block *b, int64_t *lo, int64_t *hi);

/* A query for vx_block_search: its int8 code and scale (mni_quantize_i8), its sign code
 * (mni_sign_bits), and how many of the entries kept its sign code chooses for int8 scores. */
struct vx_block_query {
    const int8_t *code;
    float scale;
    const uint64_t *bits;
    size_t depth;
};
/* Whether a key's change is the newest of it the search has met: 1 yes, 0 no (an older one),
 * -1 out of memory (the search stops). */
typedef int (*vx_block_first_fn)(void *ctx, int64_t key);
/* Whether to score a change of the block (valid during the call only; its embedding is NULL
 * in a chunk of codes only): 1 yes, 0 no, -1 out of memory (the search stops). */
typedef int (*vx_block_keep_fn)(void *ctx, const struct mni_change *c);
/* One chosen entry: its key, its float vector (valid during the call only; NULL in a chunk of
 * codes only) and its int8 score. */
typedef void (*vx_block_take_fn)(void *ctx, int64_t key, const float *vec, float score);
/* Searches the changes of b past applied (atomic, read under b's lock: a prune that dropped
 * what the search does not see has the graph hold it). first hears the key of each change,
 * newest first; a key's newest change, unless gone, is a candidate. keep is asked about the
 * candidates nearest to q by sign code (Hamming distance) first, newest first at equal
 * distance, as far as it takes to find q->depth it keeps (or every candidate): asking about
 * every change was a large part of a search of tens of thousands, which needs the nearest
 * thousand or so. Of those kept, the q->depth nearest by sign code (at equal distance the
 * newest) go to take with their int8 scores, all of them when fewer are kept. MN_OK, or
 * MN_ENOMEM (first's, keep's, or the search's own). */
int vx_block_search(struct vx_block *b, const int64_t *applied, const struct vx_block_query *q,
                    vx_block_first_fn first, vx_block_keep_fn keep, vx_block_take_fn take,
                    void *ctx);

#endif
