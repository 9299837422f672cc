/*
 * The sliding window of one rate-limit counter, kept as counts per sub-window: the arithmetic
 * both counter backends apply. memory.c calls it; the Redis script (redis_counter.c) is the
 * same steps in Lua, over the same fields packed in one string, and a test runs both on one
 * sequence of calls and compares every answer.
 *
 * A window of W µs is cut into MNI_RL_SUBWINDOWS sub-windows of g = ceil(W / MNI_RL_SUBWINDOWS)
 * µs, numbered from the clock's zero (sub-window k is [k*g, (k+1)*g)). A decision at time t
 * counts the calls admitted in every sub-window from the one holding t - W to the one holding
 * t: all the calls of the exact window (t - W, t], and some that left it less than g ago. So
 *  - it never admits more than the limit in any window: when a call is admitted, the calls of
 *    the window ending then, itself included, number at most the limit; and every call of a
 *    window was counted by the last admission in it;
 *  - it refuses early by at most one sub-window: a call made at s counts until t - W passes
 *    the end of its sub-window, at most g after s + W, when an exact log would drop it.
 * The sub-windows a decision counts are at most MNI_RL_SUBWINDOWS + 1, so a key is a ring of
 * that many counts and their sum: 512 bytes however large the limit or the calls asked for.
 * A decision drops the sub-windows that left the window (each once, at most a ring's worth),
 * so it costs O(1) whatever n and the limit.
 *
 * Why 60: a limit per hour then frees places by the minute and a limit per minute by the
 * second, within 1/60 (1.7%) of what an exact log would say, for half a kilobyte per key. A
 * log of the calls' times is exact but costs memory and time in proportion to the limit.
 */
#ifndef MNI_RATELIMIT_WINDOW_H
#define MNI_RATELIMIT_WINDOW_H

#include "ratelimit/counter.h"

#include <stdint.h>

#define MNI_RL_SUBWINDOWS 60
#define MNI_RL_SLOTS (MNI_RL_SUBWINDOWS + 1)

/* A zeroed struct is a window that counts nothing. */
struct mni_rl_window {
    int64_t head;                 /* the newest sub-window a decision saw: the key's clock,
                                   * which never goes back */
    int64_t oldest;               /* the oldest sub-window holding calls (head when none does) */
    int64_t total;                /* calls counted: the sum of count[] */
    int64_t count[MNI_RL_SLOTS];   /* calls admitted in sub-window k, at k % MNI_RL_SLOTS */
};

/* Decides for n (>= 1) calls at t (µs, >= 0) under `limit` (>= 1) calls per window_us (>= 1):
 * fills out's allowed, count, retry_after_us (-1: n > limit, which never fits) and
 * reset_in_us; when admitted and not peek, records them. */
void mni_rl_window_decide(struct mni_rl_window *w, int64_t t, int64_t window_us, int64_t limit,
                         int64_t n, int peek, struct mni_count_res *out);
/* Moves the window to end at t and returns the calls it still counts (0: the key may go). */
int64_t mni_rl_window_count(struct mni_rl_window *w, int64_t t, int64_t window_us);

#endif
