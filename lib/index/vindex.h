/*
 * The vector index of a handle: it follows the store (DESIGN.md, "the index follows the store")
 * and serves search.
 *
 * Partitions: one HNSW graph (index/hnsw.h) per tenant, so that no query can reach another
 * tenant's vectors, each with per-key attributes (index/vindex_attr.h: identity, type, session,
 * created and updated times, importance, expiry, soft-deleted) that filters test during graph
 * traversal, and the highest store seq it has
 * applied: every change with a seq up to it is in the partition.
 *
 * Following: the store reports each commit (mni_store_changed); a background thread (one per
 * handle, started at the first need) reads the tenant's change feed past the applied seq
 * (store memory_changes: rows in seq order, tombstones of hard deletes) and applies it in pages:
 * new vectors are inserted (with several threads when many come at once), changed vectors
 * replaced, attribute-only changes (soft delete, restore, type) update the attributes alone,
 * hard deletes remove the key. While writes keep coming the thread waits for them to pause
 * (200 ms), but never more than 500 ms after the first change it has not applied: a long
 * import is followed as it runs (with one build thread fewer, so the import keeps a core),
 * and the searches during and right after it find few changes past the index, not the whole
 * import. Soft-deleted memories stay in the graph and are filtered out
 * (unless MN_WITH_DELETED): a delete and a restore cost nothing to the graph. Expiry needs no
 * change at all: the filter compares expires_at with the query's time.
 *
 * Searching never waits for the index: a search reads the store's seq; the changes the
 * partition has not applied yet are scored exactly, their keys excluded from the graph's
 * answer, and both merged. So a memory is searchable, with its current vector and attributes,
 * as soon as its write returns, whatever the index's lag. Those changes are held in memory
 * (index/vindex_block.h: the partition's block): a search reads from the feed only what was
 * committed since the block was last extended, adds it to the block, and scores the block
 * with the SIMD kernels (int8 codes, floats for the best); the follower drops from the block
 * what it has applied. So the searches during and right after a bulk import, which leaves
 * tens of thousands of changes behind the build, cost milliseconds, not a row read per change.
 * When one search would have to read too much of the feed (more than half the partition, as
 * while a partition is first built) or the block is full (128 MB), the search is handed back
 * to the caller for an exact scan of the store (*served = 0), as it is when there is no index
 * at all.
 *
 * Filtered search: every condition of a filter but metadata (identity, type, session, any-of
 * lists of them, created/updated/importance ranges, deleted, expired) is tested on the
 * attributes. An estimate of the filter's selectivity (from the attributes' counts per
 * identity, type and session, the deleted count, and a sample of the records for ranges) picks
 * the cheaper plan: graph traversal with the filter (about 9 ef / selectivity^0.75 distance
 * computations, per the HNSW core's measurements), or an exact scan of the filtered keys from
 * the in-memory vectors (mni_hnsw_score_keys), which small sets (an identity's few memories, a
 * conversation, a rare type, a narrow range) get, enumerated from the identities' or sessions'
 * key lists when the filter names them. Metadata is not in the attributes: the caller
 * post-filters the rows it fetches, widening k.
 *
 * Persistence: on close (and by the background thread every 100,000 changes, or half the
 * partition if more), each partition of at least MNI_VINDEX_SAVE_MIN keys (or that came from a
 * file) is saved beside the database: PATH.index/TENANT.hnsw (the graph, checksummed, with the
 * applied seq) and TENANT.attr (the attributes, checksummed, same seq, and a random token that
 * is then recorded in the database, meta 'index:TENANT'). A partition is loaded at first use
 * and checked before it is trusted: both files intact, same seq, the token the database
 * holds (files of another database, or a database restored from a backup older than the files
 * -- even one written on since past the files' seq -- do not match), a seq not ahead of the
 * store, built with the handle's M and ef_construction, as many keys in both, and against the
 * store itself: every row whose last change is at or below the file's seq must be in the file
 * with that seq, and every key of the file not so found must have changed since. That last
 * check costs O(changes since the file), not O(rows): the store keeps a digest of its
 * (key, seq) pairs current in each writing transaction (store memory_digest), and the file's
 * pairs not superseded plus the changed rows must match it; only a mismatch (or a store without
 * a digest) reads every row to decide. What costs a pass over every key or vector is left to
 * the background thread, before it changes anything, a quiet moment after the load (a
 * one-shot process that searches and closes never pays it): the graph's vectors against their
 * checksum, the same keys in graph and attributes. A file that fails any check is ignored and
 * the partition rebuilt from the store (the feed from seq 0); it never makes open or search
 * fail. Read-only handles load files but never write them;
 * databases without a file (":memory:") keep the index in memory only. Another process
 * writing the same database is followed through the feed like this handle's own writes.
 *
 * Concurrency: searches run in parallel with one another and with the catch-up (the graph
 * allows concurrent search and insert; the attributes are guarded by a reader-writer lock
 * that the catch-up takes briefly per page). Only one thread mutates a partition at a time.
 */
#ifndef MNI_INDEX_VINDEX_H
#define MNI_INDEX_VINDEX_H

#include "index/topk.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mni_vindex mni_vindex;

/* Partitions with fewer keys are not written to disk (rebuilding them is quicker). */
#define MNI_VINDEX_SAVE_MIN 1000

/* For an open store, with the HNSW parameters of cfg (their defaults filled in). Never fails
 * for lack of files. */
int mni_vindex_open(struct mni_store *store, const mn_config *cfg, mni_vindex **out);
/* Stops the background thread and saves what should be. */
void mni_vindex_close(mni_vindex *vx);
/* The store committed a change to the tenant's memories. */
void mni_vindex_changed(mni_vindex *vx, const char *tenant_id);

/* A search for the tenant is coming: its partition's files, when it has them and is not
 * loaded yet, start being read on a thread of their own, so that the reading overlaps what
 * the caller still asks the store before the search (the actor, its policies) and the store's
 * side of the files' check, which the search reads meanwhile. Never waits, never fails: the
 * search loads the partition itself when this did nothing. */
void mni_vindex_prefetch(mni_vindex *vx, const char *tenant_id);
/* Pushes into top (its k is want) the want best hits for the unit vector vec among what q
 * selects (everything but metadata, which the caller checks on the rows), or sets
 * *served to 0 when the index cannot answer now (the caller scans exactly). ef <= 0: the
 * handle's. Returns MN_OK unless memory ran out. */
int mni_vindex_search(mni_vindex *vx, const char *tenant_id, const struct mni_store_query *q,
                     const float *vec, size_t want, int ef, struct mni_topk *top, int *served);

/* Erasure: drops what the index holds of the tenant, in memory (its partition is emptied
 * and, if the tenant still has memories, built again from the store at its next use) and on
 * disk (its files are removed). A graph keeps deleted vectors until compaction and a file
 * keeps them until it is written again: an erase that must not leave them calls this after
 * its commit. */
void mni_vindex_forget(mni_vindex *vx, const char *tenant_id);

/* Saves every partition that should be (as close does). */
int mni_vindex_save(mni_vindex *vx);
/* Change-feed pruning between saves, for the partitions no file is kept for (a store without
 * files, or too small to be written): each drops the tombstones its previous call's mark
 * covered and marks what it has applied now, so tombstones stay one call longer than this
 * index needs them (an index of another process that lags more is rebuilt from the store).
 * Partitions with files prune when saved. *tenants: the partitions that pruned. */
int mni_vindex_prune_feed(mni_vindex *vx, size_t *tenants);
/* Waits (up to timeout_ms) until the tenant's partition is loaded, has applied every change
 * committed before the call and holds its vectors in its own memory (a partition loaded from
 * its files reads them from the file at first, see vindex.c). MN_OK, or MN_ERROR on timeout or when the partition broke. For
 * tests and benchmarks. */
int mni_vindex_sync(mni_vindex *vx, const char *tenant_id, int timeout_ms);

/* The size up to which a partition's block of changes past its graph keeps their float vectors
 * (index/vindex_block.h, floats_below), for the chunks read from now on: tests give 0 to have
 * every search past the graph re-rank with vectors read from the store. */
void mni_vindex_set_block_floats(mni_vindex *vx, size_t bytes);

struct mni_vindex_stats {
    /* handle-wide counters */
    size_t partitions;
    size_t loaded;   /* partitions read from their files */
    size_t missing;  /* partitions without files: built from the store */
    size_t rejected; /* files found damaged, stale or mismatched: rebuilt from the store */
    size_t quick;    /* ... of the loaded: checked against the store's digest, not its rows */
    size_t searches; /* searches the index served */
    size_t graph;    /* ... by graph traversal */
    size_t exact;    /* ... by an exact scan of the filtered keys */
    size_t overlay;  /* ... with changes past the index scored from the block */
    size_t fallback; /* searches handed back for a full exact scan */
    size_t applied;  /* feed entries applied */
    size_t saves;    /* partitions written */
    size_t resets;   /* partitions emptied and rebuilt: they lagged behind the pruned feed */
    /* the tenant's partition, when one was named */
    int64_t seq;     /* applied */
    size_t count;    /* keys */
    size_t bytes;    /* graph and attributes */
};
void mni_vindex_stats(mni_vindex *vx, const char *tenant_id, struct mni_vindex_stats *st);

/* The index's figures for metrics (core/metrics.h), into vals (MNI_SLOTS values, those of the
 * INDEX_* families zero): the loaded partitions by size, their vectors and bytes, and the lag
 * behind store_seq (the store's seq now) of the one furthest behind, a partition still to be
 * loaded included. */
void mni_vindex_metrics(mni_vindex *vx, int64_t store_seq, uint64_t *vals);

#endif
