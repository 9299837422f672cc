/*
 * The sliding window in sub-windows (see window.h for the design and its bounds). The Redis
 * script in redis_counter.c mirrors these functions line for line: change both together.
 *
 * Invariant between decisions: every sub-window holding calls lies in [oldest, head], and
 * head - oldest <= MNI_RL_SUBWINDOWS, so each has its own slot of the ring.
 */
#include "ratelimit/window.h"

#include <string.h>

_Static_assert(sizeof(struct mni_rl_window) == 512, "the state is the Redis script's 512 bytes");

/* a / b rounded down (b > 0): t - W is below zero early in the monotonic clock's life. */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

static int64_t subwindow_us(int64_t window_us)
{
    return (window_us + MNI_RL_SUBWINDOWS - 1) / MNI_RL_SUBWINDOWS;
}

static int64_t *slot(struct mni_rl_window *w, int64_t k)
{
    return &w->count[k % MNI_RL_SLOTS];
}

/* Moves the window to end at t: drops the sub-windows before the one holding t - window_us,
 * then the empty ones at the old end, so that oldest holds calls. */
static void advance(struct mni_rl_window *w, int64_t t, int64_t window_us, int64_t g)
{
    int64_t k = floor_div(t, g), lo = floor_div(t - window_us, g);
    if (k > w->head)
        w->head = k;
    if (w->total && lo - w->oldest > MNI_RL_SUBWINDOWS) {
        /* Idle for more than a window: every count left it (no slot-by-slot walk). */
        memset(w->count, 0, sizeof w->count);
        w->total = 0;
    }
    for (; w->total && w->oldest < lo; w->oldest++) {
        w->total -= *slot(w, w->oldest);
        *slot(w, w->oldest) = 0;
    }
    while (w->total && !*slot(w, w->oldest))
        w->oldest++;
    if (!w->total)
        w->oldest = w->head;
}

/* When the oldest `need` (1..total) counted calls have all stopped counting: the end of the
 * sub-window holding the last of them, plus the window. */
static int64_t freed_at(struct mni_rl_window *w, int64_t need, int64_t window_us, int64_t g)
{
    int64_t k = w->oldest, freed = *slot(w, k);
    while (freed < need)
        freed += *slot(w, ++k);
    return (k + 1) * g + window_us;
}

void mni_rl_window_decide(struct mni_rl_window *w, int64_t t, int64_t window_us, int64_t limit,
                         int64_t n, int peek, struct mni_count_res *out)
{
    int64_t g = subwindow_us(window_us);
    advance(w, t, window_us, g);
    /* n > limit first: it never fits, and total + n could overflow. */
    out->allowed = n <= limit && w->total + n <= limit;
    out->retry_after_us = 0;
    if (out->allowed && !peek) {
        *slot(w, w->head) += n;
        w->total += n;
    } else if (!out->allowed) {
        out->retry_after_us = n > limit ? -1 : freed_at(w, w->total + n - limit, window_us, g) - t;
    }
    out->count = w->total;
    out->reset_in_us = w->total ? freed_at(w, 1, window_us, g) - t : 0;
}

int64_t mni_rl_window_count(struct mni_rl_window *w, int64_t t, int64_t window_us)
{
    advance(w, t, window_us, subwindow_us(window_us));
    return w->total;
}
