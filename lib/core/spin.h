/*
 * The lock of a stripe of the striped hash table (striped.h), which the rate limiter's hot path
 * takes on every decision. What it guards takes tens of nanoseconds, about what a
 * pthread mutex costs to take and give back (two locked instructions and two calls); this one
 * costs one locked exchange and a store. A waiter spins a little, then yields the CPU, so a
 * holder that was preempted (loaded machine, more threads than cores) gets to run instead of
 * being spun against.
 */
#ifndef MNI_CORE_SPIN_H
#define MNI_CORE_SPIN_H

#include <sched.h>
#include <stdatomic.h>

typedef struct {
    atomic_int held;
} mni_spin;

#define MNI_SPIN_TRIES 100

static inline void mni_spin_lock(mni_spin *l)
{
    while (atomic_exchange_explicit(&l->held, 1, memory_order_acquire)) {
        /* Wait reading, not writing, so the line is not bounced between cores. */
        for (int i = 0; atomic_load_explicit(&l->held, memory_order_relaxed); i++) {
            if (i == MNI_SPIN_TRIES) {
                sched_yield();
                i = 0;
            }
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
}

static inline void mni_spin_unlock(mni_spin *l)
{
    atomic_store_explicit(&l->held, 0, memory_order_release);
}

#endif
