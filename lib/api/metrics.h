/* The handle's metrics at the API layer: timing each public call (core/metrics.h keeps the
 * counters) and the figures mn_metrics_write reads from the store, index and caches. */
#ifndef MNI_API_METRICS_H
#define MNI_API_METRICS_H

#include "api/handle.h"
#include "core/clock.h"
#include "core/metrics.h"

static inline uint64_t mni_call_begin(const mn_db *db)
{
    return db && db->metrics ? mni_mono_ns() : 0;
}

static inline int mni_call_end(const mn_db *db, enum mni_metric_op op, uint64_t t0, int rc)
{
    if (db && db->metrics)
        mni_metrics_call(db->metrics, op, rc, mni_mono_ns() - t0);
    return rc;
}

/* The body of a public call that is counted and timed: call is the work, e.g.
 *     MNI_TIMED(db, memory_get, memory_get(db, actor, id, flags, out)); */
#define MNI_TIMED(db, op, call)                                                                \
    do {                                                                                       \
        uint64_t t0_ = mni_call_begin(db);                                                     \
        int rc_ = (call);                                                                      \
        return mni_call_end((db), MNI_OP_##op, t0_, rc_);                                      \
    } while (0)

/* MNI_TIMED for a call that takes a fraction of a microsecond (mn_ratelimit_hit with the
 * counters in the handle), where two clock readings would cost half the call: every call is
 * counted, one in MNI_METRICS_SAMPLE of each thread's is timed. */
#define MNI_TIMED_SAMPLED(db, op, call)                                                        \
    do {                                                                                       \
        int timed_ = (db) && (db)->metrics && mni_metrics_sampled();                           \
        uint64_t t0_ = timed_ ? mni_mono_ns() : 0;                                             \
        int rc_ = (call);                                                                      \
        if ((db) && (db)->metrics) {                                                           \
            mni_metrics_inc((db)->metrics, MNI_S_CALLS + MNI_OP_##op * MNI_CODES_N +           \
                            mni_metrics_code(rc_));                                            \
            if (timed_)                                                                        \
                mni_metrics_observe((db)->metrics, MNI_S_CALL_SECONDS +                        \
                                    MNI_OP_##op * MNI_WIDTH_HISTOGRAM, mni_mono_ns() - t0_);   \
        }                                                                                      \
        return rc_;                                                                            \
    } while (0)

/* Times a step (a policy or rate-limit decision, an embedder call) into the histogram family
 * whose first slot is slot. */
static inline void mni_step_end(const mn_db *db, unsigned slot, uint64_t t0)
{
    if (db->metrics)
        mni_metrics_observe(db->metrics, slot, mni_mono_ns() - t0);
}

/* Creates the handle's metrics unless its config turns them off. MN_OK or MN_ENOMEM. */
int mni_metrics_open(mn_db *db);

#endif
