/*
 * A handle's metrics: counters, gauges and latency histograms, written on the hot paths with
 * no cache line shared between threads, read (summed) when they are rendered.
 *
 * Every series is a slot (a 64-bit word) in a shard; a handle has MNI_METRICS_SHARDS shards,
 * each its own cache lines, and a thread writes only to the shard its thread-local slot index
 * picks (threads are dealt shards in turn, so up to MNI_METRICS_SHARDS threads never share
 * one). A write is a relaxed atomic add on that shard: two threads that do share one (more
 * threads than shards) still count exactly. Rendering sums the shards.
 *
 * The series are declared once, in MNI_METRIC_FAMILIES below: each family has a name, a type,
 * a help text and at most two labels, each of a fixed set of values (bounded cardinality:
 * never an id or free text). mni_metrics_render writes the Prometheus text exposition format
 * or JSON from that one table.
 *
 * Gauges are kept as signed sums (a pool's get adds 1 in one shard, its put takes 1 away in
 * another). Families marked SNAP are not written by the hot paths: the layer that renders
 * fills their values in the snapshot (what the index, the store and the caches report).
 * Histograms keep a count per bucket (not cumulative) and their sum in nanoseconds.
 */
#ifndef MNI_CORE_METRICS_H
#define MNI_CORE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MNI_METRICS_SHARDS 32

/* The public calls counted and timed (label op). */
#define MNI_METRIC_OPS(X) \
    X(memory_add) X(memory_add_many) X(memory_get) X(memory_list) X(memory_search) \
    X(memory_update) X(memory_delete) X(memory_restore) X(memory_history) \
    X(memory_purge_expired) X(policy_test) X(ratelimit_hit) X(embed) X(apikey_verify) \
    X(tenant_create) X(tenant_delete) X(identity_create) X(identity_delete) X(job_run)

enum mni_metric_op {
#define MNI_X_(n) MNI_OP_##n,
    MNI_METRIC_OPS(MNI_X_)
#undef MNI_X_
    MNI_OP__COUNT
};

/* Label value sets; *_N is the number of values of each. */
#define MNI_CODES_N 12      /* MN_OK .. MN_ERANGE (another code counts as MN_ERROR) */
enum { MNI_RESULT_ALLOWED, MNI_RESULT_DENIED, MNI_RESULT_N };  /* policy */
enum { MNI_RL_ALLOWED, MNI_RL_LIMITED, MNI_RL_FAIL_OPEN, MNI_RL_FAIL_CLOSED, MNI_RL_N };
enum { MNI_PATH_INDEX, MNI_PATH_EXACT, MNI_PATH_SERVER, MNI_PATH_N };   /* search */
enum { MNI_POOL_SQLITE, MNI_POOL_POSTGRES, MNI_POOL_REDIS, MNI_POOL_N };
enum { MNI_JOBS_PENDING, MNI_JOBS_FAILED, MNI_JOBS_N };
enum { MNI_CACHE_DECISION, MNI_CACHE_EMBEDDING, MNI_CACHE_APIKEY, MNI_CACHE_IDENTITY, MNI_CACHE_MEMORIES,
       MNI_CACHE_SEARCHES, MNI_CACHE_N };
enum { MNI_MAINT_WAL_CHECKPOINT, MNI_MAINT_INDEX_SAVE, MNI_MAINT_FEED_PRUNE,
       MNI_MAINT_EXPIRED_PURGE, MNI_MAINT_EMBED_CACHE_PRUNE, MNI_MAINT_AUDIT_PRUNE, MNI_MAINT_KEYWORD_MERGE,
       MNI_MAINT_N };
enum { MNI_ISIZE_1K, MNI_ISIZE_10K, MNI_ISIZE_100K, MNI_ISIZE_1M, MNI_ISIZE_MORE, MNI_ISIZE_N };

/* Label sets: a family's labels, by name; the MNI_LS_* id picks names and values
 * (core/metrics.c). */
enum mni_label_set {
    MNI_LS_NONE, MNI_LS_OP_CODE, MNI_LS_OP, MNI_LS_RESULT, MNI_LS_RL, MNI_LS_PATH, MNI_LS_POOL,
    MNI_LS_JOBS, MNI_LS_CACHE, MNI_LS_MAINT, MNI_LS_ISIZE, MNI_LS__COUNT
};
#define MNI_LS_SERIES_NONE 1
#define MNI_LS_SERIES_OP_CODE (MNI_OP__COUNT * MNI_CODES_N)
#define MNI_LS_SERIES_OP MNI_OP__COUNT
#define MNI_LS_SERIES_RESULT MNI_RESULT_N
#define MNI_LS_SERIES_RL MNI_RL_N
#define MNI_LS_SERIES_PATH MNI_PATH_N
#define MNI_LS_SERIES_POOL MNI_POOL_N
#define MNI_LS_SERIES_JOBS MNI_JOBS_N
#define MNI_LS_SERIES_CACHE MNI_CACHE_N
#define MNI_LS_SERIES_MAINT MNI_MAINT_N
#define MNI_LS_SERIES_ISIZE MNI_ISIZE_N

/* Histogram buckets: upper bounds in seconds (core/metrics.c has them in ns too); a series is
 * MNI_HIST_BUCKETS finite buckets, +Inf, then the sum in ns. */
#define MNI_HIST_BUCKETS 17
#define MNI_WIDTH_COUNTER 1
#define MNI_WIDTH_GAUGE 1
#define MNI_WIDTH_HISTOGRAM (MNI_HIST_BUCKETS + 2)

/* X(ID, TYPE, SOURCE, LABELS, SCALE, NAME, HELP): TYPE COUNTER, GAUGE or HISTOGRAM; SOURCE
 * LIVE (the hot paths write it) or SNAP (filled at render time); SCALE multiplies a slot's
 * value when shown (1, or 1e-3 for a value kept in ms). */
#define MNI_METRIC_FAMILIES(X) \
    X(CALLS, COUNTER, LIVE, OP_CODE, 1, "manushya_calls_total", \
      "Public library calls, by operation and result code.") \
    X(CALL_SECONDS, HISTOGRAM, LIVE, OP, 1, "manushya_call_duration_seconds", \
      "Latency of public library calls, by operation.") \
    X(MEMORIES_CREATED, COUNTER, LIVE, NONE, 1, "manushya_memories_created_total", \
      "Memories stored by mn_memory_add and mn_memory_add_many.") \
    X(POLICY_DECISIONS, COUNTER, LIVE, RESULT, 1, "manushya_policy_decisions_total", \
      "Policy decisions for identities, by result.") \
    X(POLICY_SECONDS, HISTOGRAM, LIVE, NONE, 1, "manushya_policy_decision_duration_seconds", \
      "Latency of a policy decision (decision cache included), one decision in 16 timed.") \
    X(RATELIMIT_DECISIONS, COUNTER, SNAP, RL, 1, "manushya_ratelimit_decisions_total", \
      "Rate-limit decisions, by result (fail_open: allowed unchecked, counters unreachable).") \
    X(RATELIMIT_SECONDS, HISTOGRAM, LIVE, NONE, 1, \
      "manushya_ratelimit_decision_duration_seconds", \
      "Latency of a rate-limit decision (in-process counters: one decision in 16 timed).") \
    X(EMBED_SECONDS, HISTOGRAM, LIVE, NONE, 1, "manushya_embed_duration_seconds", \
      "Latency of one call of the embedder, a batch (the local one: one call in 16 timed).") \
    X(EMBED_ERRORS, COUNTER, LIVE, NONE, 1, "manushya_embed_errors_total", \
      "Embedder calls that failed.") \
    X(EMBED_REQUESTS, COUNTER, SNAP, NONE, 1, "manushya_embed_requests_total", \
      "Requests sent by the embedder (HTTP requests, retries included; plug-in calls).") \
    X(EMBED_RETRIES, COUNTER, SNAP, NONE, 1, "manushya_embed_retries_total", \
      "Embedder requests that were retries of a transient failure.") \
    X(EMBED_TEXTS, COUNTER, SNAP, NONE, 1, "manushya_embed_texts_total", \
      "Texts the embedder embedded.") \
    X(EMBED_JOBS, GAUGE, SNAP, JOBS, 1, "manushya_embed_jobs", \
      "Embedding jobs in the store, by status.") \
    X(EMBED_JOBS_OLDEST, GAUGE, SNAP, NONE, 1e-3, "manushya_embed_jobs_oldest_age_seconds", \
      "Age of the oldest pending embedding job (0: none).") \
    X(SEARCHES, COUNTER, LIVE, PATH, 1, "manushya_searches_total", \
      "Searches by the path taken: the vector index, an exact scan, or the server.") \
    X(SEARCH_OVERLAY, COUNTER, LIVE, NONE, 1, "manushya_search_overlay_entries_total", \
      "Changes not yet in the index graph that index searches checked besides it.") \
    X(INDEX_LAG, GAUGE, SNAP, NONE, 1, "manushya_index_lag_seq", \
      "Store changes (seq) the most lagging loaded index part has not applied.") \
    X(INDEX_TENANTS, GAUGE, SNAP, ISIZE, 1, "manushya_index_tenants", \
      "Tenants with a loaded index part, by its size in vectors (under_1k ... 1m_plus).") \
    X(INDEX_VECTORS, GAUGE, SNAP, NONE, 1, "manushya_index_vectors", \
      "Vectors in the loaded index parts.") \
    X(INDEX_BYTES, GAUGE, SNAP, NONE, 1, "manushya_index_bytes", \
      "Memory held by the loaded index parts.") \
    X(TENANTS, GAUGE, SNAP, NONE, 1, "manushya_tenants", "Tenants in the store.") \
    X(POOL_SIZE, GAUGE, LIVE, POOL, 1, "manushya_pool_connections", \
      "Connections a pool may hold (SQLite readers, PostgreSQL, Redis).") \
    X(POOL_IN_USE, GAUGE, LIVE, POOL, 1, "manushya_pool_in_use", \
      "Connections of a pool in use now.") \
    X(POOL_WAITS, COUNTER, LIVE, POOL, 1, "manushya_pool_waits_total", \
      "Takes of a connection that had to wait for one to come back.") \
    X(POOL_TIMEOUTS, COUNTER, LIVE, POOL, 1, "manushya_pool_timeouts_total", \
      "Takes of a connection that gave up waiting.") \
    X(STORE_COMMITS, COUNTER, LIVE, NONE, 1, "manushya_store_commits_total", \
      "Write transactions the SQLite store committed (a group commit counts once).") \
    X(STORE_GROUPED_WRITES, COUNTER, LIVE, NONE, 1, "manushya_store_grouped_writes_total", \
      "Writes to the SQLite store that handed their transaction on to share a later COMMIT.") \
    X(CACHE_HITS, COUNTER, SNAP, CACHE, 1, "manushya_cache_hits_total", \
      "Cache lookups that found their entry, by cache.") \
    X(CACHE_MISSES, COUNTER, SNAP, CACHE, 1, "manushya_cache_misses_total", \
      "Cache lookups that did not, by cache.") \
    X(CACHE_EVICTIONS, COUNTER, SNAP, CACHE, 1, "manushya_cache_evictions_total", \
      "Live cache entries dropped to make room, by cache.") \
    X(MAINTENANCE, COUNTER, LIVE, MAINT, 1, "manushya_maintenance_runs_total", \
      "Maintenance runs, by task.") \
    X(MAINTENANCE_SECONDS, HISTOGRAM, LIVE, MAINT, 1, \
      "manushya_maintenance_duration_seconds", \
      "Duration of a scheduled maintenance task's run (mn_maintenance_run), by task.")

enum mni_metric_family {
#define MNI_X_(id, type, src, ls, scale, name, help) MNI_F_##id,
    MNI_METRIC_FAMILIES(MNI_X_)
#undef MNI_X_
    MNI_F__COUNT
};

/* The first slot of each family. */
enum mni_metric_slot {
#define MNI_X_(id, type, src, ls, scale, name, help) \
    MNI_S_##id, MNI_S_##id##_END_ = MNI_S_##id + MNI_LS_SERIES_##ls * MNI_WIDTH_##type - 1,
    MNI_METRIC_FAMILIES(MNI_X_)
#undef MNI_X_
    MNI_SLOTS
};

struct mni_metrics_shard {
    _Atomic uint64_t v[MNI_SLOTS];
} __attribute__((aligned(64)));

struct mni_metrics {
    struct mni_metrics_shard *shards; /* MNI_METRICS_SHARDS, cache-line aligned */
    void *mem;
};

/* NULL when out of memory (or when metrics are off: callers pass NULL around, and every
 * write below does nothing with it). */
struct mni_metrics *mni_metrics_create(void);
void mni_metrics_free(struct mni_metrics *m);

/* This thread's shard index (dealt on its first call). The thread-local words keep the default
 * TLS model: initial-exec would save a call per access, but a library loaded with dlopen (a
 * Python program's ctypes) may then find no room left in the static TLS block. */
unsigned mni_metrics_shard_of_thread(void);
extern _Thread_local unsigned mni_metrics_tslot; /* shard + 1; 0: not dealt yet */

static inline _Atomic uint64_t *mni_metrics_row(struct mni_metrics *m)
{
    unsigned s = mni_metrics_tslot;
    if (__builtin_expect(s == 0, 0))
        s = mni_metrics_shard_of_thread() + 1;
    return m->shards[s - 1].v;
}

/* Adds n to slot (MNI_S_family + series). */
static inline void mni_metrics_add(struct mni_metrics *m, unsigned slot, int64_t n)
{
    if (m)
        atomic_fetch_add_explicit(&mni_metrics_row(m)[slot], (uint64_t)n, memory_order_relaxed);
}

static inline void mni_metrics_inc(struct mni_metrics *m, unsigned slot)
{
    mni_metrics_add(m, slot, 1);
}

/* Whether to time this event of a thread's frequent, cheap steps (a policy decision: a list or
 * search makes one per memory; an in-process rate-limit decision; the local embedder), where
 * two clock readings would cost as much as the step: one in MNI_METRICS_SAMPLE of each
 * thread's, counted by a thread-local countdown. Their counts stay exact. */
#define MNI_METRICS_SAMPLE 16
extern _Thread_local unsigned mni_metrics_tsample;
static inline int mni_metrics_sampled(void)
{
    return (++mni_metrics_tsample & (MNI_METRICS_SAMPLE - 1)) == 0;
}

/* The bucket of a duration in ns. */
unsigned mni_metrics_bucket(uint64_t ns);

/* Records a duration (ns) in the histogram series starting at slot (MNI_S_family +
 * series * MNI_WIDTH_HISTOGRAM). */
static inline void mni_metrics_observe(struct mni_metrics *m, unsigned slot, uint64_t ns)
{
    if (!m)
        return;
    _Atomic uint64_t *row = mni_metrics_row(m);
    atomic_fetch_add_explicit(&row[slot + mni_metrics_bucket(ns)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&row[slot + MNI_HIST_BUCKETS + 1], ns, memory_order_relaxed);
}

/* The series of a public call: its op and result code. */
static inline unsigned mni_metrics_code(int rc)
{
    return rc >= 0 && rc < MNI_CODES_N ? (unsigned)rc : 1u /* MN_ERROR */;
}

/* A public call ended with rc after ns: counts it and times it. */
static inline void mni_metrics_call(struct mni_metrics *m, enum mni_metric_op op, int rc,
                                    uint64_t ns)
{
    if (!m)
        return;
    mni_metrics_inc(m, MNI_S_CALLS + (unsigned)op * MNI_CODES_N + mni_metrics_code(rc));
    mni_metrics_observe(m, MNI_S_CALL_SECONDS + (unsigned)op * MNI_WIDTH_HISTOGRAM, ns);
}

/* Every slot summed over the shards into vals[MNI_SLOTS]. */
void mni_metrics_sum(const struct mni_metrics *m, uint64_t *vals);

#define MNI_METRICS_FORMAT_PROMETHEUS 0
#define MNI_METRICS_FORMAT_JSON 1
/* Writes every family from vals (MNI_SLOTS values, mni_metrics_sum's plus the SNAP ones) in
 * the format asked for. 0, or -1 when f failed. */
int mni_metrics_render(const uint64_t *vals, int format, FILE *f);

#endif
