/*
 * HNSW approximate nearest-neighbour index (Malkov & Yashunin, "Efficient and robust approximate
 * nearest neighbor search using Hierarchical Navigable Small World graphs", 2016/2018) over
 * int64 keys and float vectors of a fixed dimension. Similarity is the inner product (cosine on
 * the unit vectors the library stores); a hit's score is that inner product.
 *
 * Graph: M neighbours per node on the upper layers, M0 = 2M on layer 0; a node's top layer is
 * floor(-ln(U) * mL) with mL = 1/ln(M) and U from a seeded generator (deterministic for one
 * insertion order). Neighbours are chosen by the paper's heuristic (Algorithm 4); with
 * MNI_HNSW_KEEP_PRUNED the lists are topped up with the closest pruned candidates
 * (keepPrunedConnections).
 *
 * Deletes: a deleted node is never returned once mni_hnsw_delete returns. Its in-neighbours are
 * reconnected at once (each chooses, with the heuristic, among its remaining neighbours and the
 * deleted node's), and the node stays in the graph only as a waypoint until compaction. When a
 * tenth of the nodes are deleted, when an insert would otherwise have to grow the arrays, or on
 * mni_hnsw_compact, every remaining link to deleted nodes is repaired the same way and their slots
 * are freed (vector zeroed) and reused by later inserts: recall does not decay and memory does
 * not grow after many deletes and updates. Compaction runs alongside searches and inserts; it
 * takes the write lock only for two short moments (a grace period, then freeing the slots).
 *
 * Filtered search: accept(ctx, key) is asked about nodes as they would enter the result set;
 * rejected nodes are still traversed (they keep the graph connected) but never returned. ef
 * counts accepted nodes, so the search widens by itself when few pass: it explores until it
 * holds ef accepted nodes and no unexplored candidate is closer than the worst of them. With a
 * very selective filter that means visiting about ef / selectivity nodes (measured: 347 distance
 * computations per query unfiltered, about 12,000 at 1%, on 15k vectors); when the accepted set
 * is small an exact scan of it is cheaper and the caller should do that instead, e.g. with
 * mni_hnsw_score_keys (the cost choice belongs to the caller; mni_hnsw_search_ex reports the work a
 * search did). Recall stays high at every selectivity; only the cost grows.
 *
 * Memory: vectors in one page-aligned block (dim floats per slot, no padding); layer-0
 * neighbour lists as one block of fixed-size int32 arrays ([count, id x M0] per slot); both are
 * anonymous mappings with transparent huge pages requested (fewer TLB misses on the scattered
 * reads of a search), grown by mremap. Upper layers live in a separate array per node that has
 * them (about 1 node in M); then keys, per-slot state, level and lock bytes, and an
 * open-addressing key -> slot table of int32. At M = 16 that is dim * 4 + 132 + about 35 bytes
 * per vector. mni_hnsw_bytes reports the total.
 *
 * Concurrency: every call is thread-safe. Searches take a read lock on the graph and never block
 * on one another or on inserts and deletes, which also hold it shared and serialise only on
 * per-node spin locks (one held at a time: no deadlock) while rewriting a node's neighbour list.
 * Readers see lists through atomic loads (every id ever written is a valid slot, so a list read
 * mid-update still names real nodes). The graph lock is taken exclusively only to grow the
 * arrays (by half; mni_hnsw_reserve avoids it) and, briefly, twice per compaction. Operations on
 * the same key are serialised. mni_hnsw_build inserts from several threads that way (no global
 * write lock). mni_hnsw_save blocks writers (not searches) while it runs.
 * mni_hnsw_update is delete + insert under the key's lock: a concurrent search may miss that
 * key for that moment, never see both versions.
 *
 * Persistence: mni_hnsw_save writes path.tmp then renames it over path: a header (magic, version,
 * dim, M, counts, entry point, the caller's seq) with its own checksum, then the payload with an
 * XXH64 checksum (the vectors apart). The file is canonical: the same index gives the same
 * bytes. mni_hnsw_load checks the header, the sizes against the file's (before allocating),
 * states, levels, counts and entry point, and maps the rest (see mni_hnsw_load); mni_hnsw_own
 * then checks both checksums and the rest of the structure (link counts and targets, key
 * uniqueness, scales) before the index writes or looks a key up: a damaged, truncated or
 * mismatched file returns MN_ECORRUPT, never crashes. The format is native little-endian (a
 * byte-order mark rejects others).
 *
 * Quantised search (MNI_HNSW_INT8): besides its float vector, each node keeps an int8 code with
 * one scale per vector (distance.h: mni_quantize_i8), dim + 4 bytes. A search quantises the query
 * the same way and walks every layer scoring codes against codes (exact integer dot products,
 * a quarter of the bytes of floats per distance); then the best `rerank` candidates it kept
 * (default: all ef of them) are scored again from the float vectors, and the k best of those
 * are returned with their exact scores. Inserts, repairs and mni_hnsw_score_keys use the floats,
 * so the graph is the float index's graph. Why one scale per vector and not per dimension: it
 * needs no training sample and never goes stale (any vector inserted at any time is coded alone,
 * no value is clipped), and for unit vectors it spends the 8 bits on the vector's own range;
 * the ordering errors it makes are small next to the graph's, and the re-ranking removes them
 * from the final order. A node's code and scale sit in its layer-0 row, before its list, the
 * row padded to whole cache lines (at dim 384, M 16: 384 + 4 + 132 bytes in 576), so a search
 * reads a neighbour's code and, when it expands it, its list from one run of lines;
 * mni_hnsw_bytes counts them. The floats stay resident (re-ranking and inserts read them), or
 * in a loaded index mapped from its file (with the rows) until mni_hnsw_own. The file holds
 * the codes with the rows (version 3), so a load codes nothing (a version 2 file's are made
 * again).
 *
 * Return codes are those of manushya.h: MN_OK, MN_EINVAL (bad argument, non-finite vector),
 * MN_EEXISTS (insert of a present key), MN_ENOTFOUND (delete of an absent key, missing file),
 * MN_ENOMEM, MN_EBACKEND (I/O error), MN_ECORRUPT, MN_ERANGE (index full: 2^31 - 1 slots).
 */
#ifndef MNI_INDEX_HNSW_H
#define MNI_INDEX_HNSW_H

#include <stddef.h>
#include <stdint.h>

#include "index/topk.h"

typedef struct mni_hnsw mni_hnsw;

#define MNI_HNSW_DEFAULT_M 16
#define MNI_HNSW_DEFAULT_EF_CONSTRUCTION 64
#define MNI_HNSW_DEFAULT_EF_SEARCH 40
#define MNI_HNSW_MAX_M 100
#define MNI_HNSW_MAX_EF 100000
#define MNI_HNSW_MAX_DIM 65536

/* params.flags */
#define MNI_HNSW_KEEP_PRUNED 0x1u     /* keepPrunedConnections: fill lists to M with pruned ones */
#define MNI_HNSW_NO_AUTO_COMPACT 0x2u /* compact only on mni_hnsw_compact */
#define MNI_HNSW_INT8 0x4u            /* int8 codes for searches (below) */
#define MNI_HNSW_FLAGS (MNI_HNSW_KEEP_PRUNED | MNI_HNSW_NO_AUTO_COMPACT | MNI_HNSW_INT8)

struct mni_hnsw_params {
    int m;               /* 0 = MNI_HNSW_DEFAULT_M; 2 .. MNI_HNSW_MAX_M */
    int ef_construction; /* 0 = default; 1 .. MNI_HNSW_MAX_EF */
    int ef_search;       /* 0 = default; 1 .. MNI_HNSW_MAX_EF; a query may pass its own */
    uint64_t seed;       /* of the level generator (any value) */
    unsigned flags;      /* MNI_HNSW_* */
    int rerank;          /* MNI_HNSW_INT8: candidates re-scored exactly; 0 = all ef of them,
                          * else at least k; 0 .. MNI_HNSW_MAX_EF (0 without MNI_HNSW_INT8) */
};

/* 1 to accept key into the results, 0 to skip it (still traversed). */
typedef int (*mni_hnsw_accept_fn)(void *ctx, int64_t key);

struct mni_hnsw_stats {
    size_t live;     /* searchable keys (= mni_hnsw_count) */
    size_t deleted;  /* deleted nodes still in the graph, waiting for compaction */
    size_t slots;    /* slots in use or free (high-water mark) */
    size_t free;     /* freed slots waiting for reuse */
    size_t capacity; /* slots allocated */
    int max_level;   /* top layer, -1 when empty */
    size_t bytes;    /* = mni_hnsw_bytes */
    size_t mapped;   /* bytes of a loaded file read in place (vectors, and rows and upper
                      * lists until mni_hnsw_own; not in bytes) */
};

/* p may be NULL (all defaults). dim: 1 .. MNI_HNSW_MAX_DIM. */
int mni_hnsw_create(int dim, const struct mni_hnsw_params *p, mni_hnsw **out);
void mni_hnsw_free(mni_hnsw *h);

/* vec: dim finite floats (unit length for cosine), copied. MN_EEXISTS if key is present. */
int mni_hnsw_insert(mni_hnsw *h, int64_t key, const float *vec);
/* Replaces key's vector, or inserts it when absent. */
int mni_hnsw_update(mni_hnsw *h, int64_t key, const float *vec);
/* MN_ENOTFOUND if key is absent. */
int mni_hnsw_delete(mni_hnsw *h, int64_t key);
/* 1 if key is present (searchable), else 0. */
int mni_hnsw_contains(const mni_hnsw *h, int64_t key);
/* Inserts n rows (keys[i], vecs + i * dim) from `threads` threads (<= 1: this one). Stops at
 * the first error and returns it (rows already inserted stay). */
int mni_hnsw_build(mni_hnsw *h, const int64_t *keys, const float *vecs, size_t n, int threads);
/* Repairs every link to deleted nodes and frees their slots for reuse. */
int mni_hnsw_compact(mni_hnsw *h);

/* The k best (key, score) hits for unit vector q, best first (ties: smaller key first), into
 * out[0 .. *n - 1]. ef <= 0: the index's ef_search; the search uses max(ef, k). accept may be
 * NULL (no filter); it is called from this thread, under the index's read lock: it must not
 * call into the same index. */
int mni_hnsw_search(const mni_hnsw *h, const float *q, size_t k, int ef, mni_hnsw_accept_fn accept,
                   void *ctx, struct mni_hit *out, size_t *n);

/* What a search did: for the caller's choice between graph search and exact scan (an exact
 * scan of F candidates costs F distance computations; a filtered graph search costs about
 * ef / selectivity times a few of them, see above). */
struct mni_hnsw_search_stats {
    size_t distances; /* distance computations on layer 0 */
    size_t expanded;  /* nodes whose lists were followed */
    size_t ef;        /* the ef used: max(ef, k), at most the number of slots */
};
int mni_hnsw_search_ex(const mni_hnsw *h, const float *q, size_t k, int ef,
                      mni_hnsw_accept_fn accept, void *ctx, struct mni_hit *out, size_t *n,
                      struct mni_hnsw_search_stats *stats);

/* Exact top-k among the given keys (absent or deleted ones skipped, duplicates once), scored
 * from the index's own vectors: the fallback for a small filtered set, with no store reads. */
int mni_hnsw_score_keys(const mni_hnsw *h, const float *q, const int64_t *keys, size_t nkeys,
                       size_t k, struct mni_hit *out, size_t *n);

size_t mni_hnsw_count(const mni_hnsw *h);
int mni_hnsw_dim(const mni_hnsw *h);
/* Bytes the index holds in memory of its own (vectors, links, tables, search scratch); not
 * the vectors still mapped from a loaded file (page cache: shared, evictable; see stats). */
size_t mni_hnsw_bytes(const mni_hnsw *h);
/* mni_hnsw_bytes / count (0 when empty). */
void mni_hnsw_stats(const mni_hnsw *h, struct mni_hnsw_stats *st);
/* The parameters in force (defaults filled in). */
void mni_hnsw_params_get(const mni_hnsw *h, struct mni_hnsw_params *p);
int mni_hnsw_set_ef_search(mni_hnsw *h, int ef);
/* 0 .. MNI_HNSW_MAX_EF (params.rerank); MN_EINVAL otherwise or when the index keeps no codes
 * and rerank is not 0. */
int mni_hnsw_set_rerank(mni_hnsw *h, int rerank);

/* seq: the highest store sequence the index covers, kept in the header for the caller. */
int mni_hnsw_save(const mni_hnsw *h, const char *path, int64_t seq);
/* dim: the dimension expected (0: any); a file of another dimension is MN_ECORRUPT. seq may be
 * NULL. Reads and checks the header, keys, states and levels (10 bytes a slot: states, levels,
 * counts and entry point are checked now) and maps the rest from the file (private, copy on
 * write): the vectors, and the node rows (codes, scales, layer-0 lists) and upper lists of a
 * version 3 file (or a float index's of version 2; an int8 index's of version 2 has its rows
 * read, checked and coded now). A load so costs no more than the keys take to read, and the
 * first searches fault in only what they touch. Searches of an index not yet checked stay in
 * bounds whatever the file holds (wrong results from a damaged file, never a crash); the rest
 * is checked by mni_hnsw_own. */
int mni_hnsw_load(const char *path, int dim, mni_hnsw **out, int64_t *seq);
/* The seq a saved index file was written with, from its header alone (checked: ours, intact):
 * what a caller asks the store about while another thread loads the file (mni_hnsw_load, whose
 * seq says whether the file was replaced meanwhile). MN_OK, MN_ENOTFOUND (no file),
 * MN_ECORRUPT (not an index file, or a damaged header), MN_EBACKEND. */
int mni_hnsw_file_seq(const char *path, int64_t *seq);
/* Makes a loaded index its own: copies what it maps from its file into memory of its own,
 * checking on the way the payload's and the vectors' checksums, every list (counts, targets),
 * the saved scales (finite) and the keys (unique), and building the key table and the free
 * list. Nothing to do for an index that was not loaded, or is its own already. Every call that
 * writes (insert, update, build, delete, compact), looks a key up (contains, score_keys) or
 * saves does it first, and fails with its code (contains: 0). Until then the index reads its
 * file: a file truncated in place (ours are always replaced by rename) could fault. Blocks
 * writers, not searches, while it copies and checks (the work a load that read the file did;
 * searches wait only while the pointers are swapped). MN_ECORRUPT: the file does not match
 * its checksums or structure, or it shrank (nothing changed; the index must not be written:
 * rebuild it; later calls answer the same without reading the file again); MN_ERROR: *stop (may be NULL) became nonzero first, nothing changed;
 * MN_ENOMEM. */
int mni_hnsw_own(mni_hnsw *h, const int *stop);

#endif
