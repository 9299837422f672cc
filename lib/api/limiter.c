/*
 * The limiter of a handle: turns a target (tenant, multiplier, limit) and an endpoint into a
 * counter key and a decision, applies the fail mode when the counters cannot be reached, keeps
 * the stats, and reports an unreachable Redis once per interval rather than once per call.
 */
#include "api/limiter.h"
#include "api/metrics.h"
#include "ratelimit/counter.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_REFRESH_MS 1000
#define DEFAULT_MAX_BYTES ((size_t)64 << 20)

struct mni_limiter {
    int off;
    int fail_closed;
    struct mni_counter *counter;
    struct mni_rl_slots *slots;
    _Atomic uint64_t allowed, denied, fail_open, failed_closed;
    /* The log of an unreachable counter: one line per interval, with what it missed. */
    pthread_mutex_t log_mu;
    int64_t log_interval_ms, last_log_ms;
    uint64_t unlogged;
};

int mni_rl_ping(mn_db *db, char *err, size_t errlen)
{
    struct mni_limiter *l = db->limiter;
    if (!l || l->off || !l->counter || !l->counter->ops->ping)
        return MN_EUNSUPPORTED;
    return l->counter->ops->ping(l->counter, err, errlen);
}

int mni_rl_enabled(const mn_db *db)
{
    return !db->limiter->off;
}

/* Checks the settings and fills their defaults in db->cfg. */
static int settle(mn_db *db)
{
    mn_config *c = &db->cfg;
    if (c->ratelimit < MN_RATELIMIT_AUTO || c->ratelimit > MN_RATELIMIT_REDIS)
        return mni_seterr(db, MN_EINVAL, "mn_config.ratelimit is %d; give MN_RATELIMIT_AUTO (0), "
                         "_OFF (1), _MEMORY (2) or _REDIS (3)", c->ratelimit);
    if (c->ratelimit == MN_RATELIMIT_AUTO)
        /* The embedded default limits in process; a Redis URL shares the counters instead.
         * The library applies the limits to its own calls either way (the system actor is
         * never limited, so a host's own bulk work is not either). */
        c->ratelimit = c->redis_url && *c->redis_url ? MN_RATELIMIT_REDIS : MN_RATELIMIT_MEMORY;
    if (c->ratelimit == MN_RATELIMIT_REDIS && (!c->redis_url || !*c->redis_url))
        return mni_seterr(db, MN_EINVAL, "mn_config.ratelimit is MN_RATELIMIT_REDIS but "
                         "redis_url is not set; give redis://host:port");
    if (c->ratelimit_fail_closed != 0 && c->ratelimit_fail_closed != 1)
        return mni_seterr(db, MN_EINVAL, "mn_config.ratelimit_fail_closed is %d; give 0 "
                         "(fail-open) or 1 (fail-closed)", c->ratelimit_fail_closed);
    if (c->ratelimit_refresh_ms < 0)
        return mni_seterr(db, MN_EINVAL, "mn_config.ratelimit_refresh_ms is %d; give "
                         "milliseconds >= 1 (0 = the default, %d)", c->ratelimit_refresh_ms,
                         DEFAULT_REFRESH_MS);
    if (!c->ratelimit_refresh_ms)
        c->ratelimit_refresh_ms = DEFAULT_REFRESH_MS;
    if (c->ratelimit_scope != MN_RATELIMIT_PER_TENANT &&
        c->ratelimit_scope != MN_RATELIMIT_PER_IDENTITY)
        return mni_seterr(db, MN_EINVAL, "mn_config.ratelimit_scope is %d; give "
                         "MN_RATELIMIT_PER_TENANT (0) or MN_RATELIMIT_PER_IDENTITY (1)",
                         c->ratelimit_scope);
    if (c->ratelimit_defaults < MN_RATELIMIT_DEFAULTS_AUTO ||
        c->ratelimit_defaults > MN_RATELIMIT_DEFAULTS_NONE)
        return mni_seterr(db, MN_EINVAL, "mn_config.ratelimit_defaults is %d; give "
                         "MN_RATELIMIT_DEFAULTS_AUTO (0), _GUIDE (1) or _NONE (2)",
                         c->ratelimit_defaults);
    if (!c->ratelimit_max_bytes)
        c->ratelimit_max_bytes = DEFAULT_MAX_BYTES;
    return MN_OK;
}

int mni_limiter_open(mn_db *db)
{
    int rc = settle(db);
    if (rc != MN_OK)
        return rc;
    struct mni_limiter *l = calloc(1, sizeof *l);
    if (!l || mni_rl_slots_create(&l->slots) != MN_OK ||
        mni_rl_targets_create(&db->rl_targets) != MN_OK) {
        if (l)
            mni_rl_slots_free(l->slots);
        free(l);
        return mni_seterr(db, MN_ENOMEM, "mn_open: out of memory");
    }
    pthread_mutex_init(&l->log_mu, NULL);
    db->limiter = l;
    l->off = db->cfg.ratelimit == MN_RATELIMIT_OFF;
    l->fail_closed = db->cfg.ratelimit_fail_closed;
    if (!l->off)
        rc = mni_counter_create(db, &db->cfg, &l->counter);
    if (rc == MN_OK && l->counter && l->counter->ops->set_metrics)
        l->counter->ops->set_metrics(l->counter, db->metrics);
    /* The Redis layer has settled its own defaults into cfg by now. */
    l->log_interval_ms = (int64_t)(db->cfg.redis_health_check_s ? db->cfg.redis_health_check_s
                                                                 : 30) * 1000;
    return rc;
}

void mni_limiter_close(struct mni_limiter *l)
{
    if (!l)
        return;
    if (l->counter)
        l->counter->ops->destroy(l->counter);
    mni_rl_slots_free(l->slots);
    pthread_mutex_destroy(&l->log_mu);
    free(l);
}

void mni_rl_stats(const mn_db *db, mn_ratelimit_stats *out)
{
    struct mni_limiter *l = db->limiter;
    out->allowed = atomic_load(&l->allowed);
    out->denied = atomic_load(&l->denied);
    out->fail_open = atomic_load(&l->fail_open);
    out->fail_closed = atomic_load(&l->failed_closed);
}

/* The counters failed (recording why after mark): allow or refuse per the fail mode, log once
 * per interval. An allowed call does not fail, so it keeps no failure (mni_err_forget). */
static int unreachable(mn_db *db, mni_errmark mark, mn_ratelimit_result *out)
{
    struct mni_limiter *l = db->limiter;
    out->checked = 0;
    out->allowed = !l->fail_closed;
    atomic_fetch_add_explicit(l->fail_closed ? &l->failed_closed : &l->fail_open, 1,
                              memory_order_relaxed);
    int64_t now = mni_mono_coarse_ms();
    unsigned long long calls = 0; /* to report; 0: not this time */
    pthread_mutex_lock(&l->log_mu);
    l->unlogged++;
    if (!l->last_log_ms || now - l->last_log_ms >= l->log_interval_ms) {
        calls = l->unlogged;
        l->last_log_ms = now;
        l->unlogged = 0;
    }
    pthread_mutex_unlock(&l->log_mu);
    if (calls)
        mni_log(db, "rate limiting: %s; %s (%llu call(s) since the last report)", mn_errmsg(db),
               l->fail_closed ? "refusing calls (fail-closed)"
                              : "allowing calls unchecked (fail-open)", calls);
    if (!l->fail_closed) {
        mni_err_forget(mark);
        return MN_OK;
    }
    mni_errprefix(db, "rate limiting failed closed: the counters are unreachable: ");
    return MN_EBACKEND;
}

/* What a refusal's message says, kept until someone reads it (mni_seterr_lazy): a denial is
 * an ordinary answer, often ignored but for its code, and formatting it would cost more than
 * the decision. */
struct denial {
    int64_t n, limit, window_ms, remaining, retry_after_ms;
    int multiplier, per_identity;
    char endpoint[MNI_RL_ENDPOINT_MAX];
};

static void denial_message(char *buf, size_t size, const void *arg)
{
    const struct denial *d = arg;
    char role[48] = "";
    if (d->multiplier != 1)
        snprintf(role, sizeof role, " (x%d for the actor's role)", d->multiplier);
    if (d->retry_after_ms < 0)
        snprintf(buf, size, "rate limited: %lld calls to %s at once exceed its limit of %lld "
                 "per %lld ms%s on their own; split them or raise the limit "
                 "(mn_limit_set)", (long long)d->n, d->endpoint, (long long)d->limit,
                 (long long)d->window_ms, role);
    else
        snprintf(buf, size, "rate limited: %s allows %lld calls per %lld ms for this %s%s "
                 "and %lld remain; retry after %lld ms", d->endpoint, (long long)d->limit,
                 (long long)d->window_ms, d->per_identity ? "identity" : "tenant", role, (long long)d->remaining,
                 (long long)d->retry_after_ms);
}

/* endpoint: a name that passed mni_rl_check_endpoint, so it fits. */
static int limited(mn_db *db, const struct mni_rl_target *t, const char *endpoint, int64_t n,
                   const mn_ratelimit_result *r)
{
    struct denial d;
    d.n = n;
    d.limit = r->limit;
    d.window_ms = r->window_ms;
    d.remaining = r->remaining;
    d.retry_after_ms = r->retry_after_ms;
    d.multiplier = t->multiplier;
    d.per_identity = db->cfg.ratelimit_scope == MN_RATELIMIT_PER_IDENTITY && t->identity_id[0];
    size_t len = strlen(endpoint) + 1;
    memcpy(d.endpoint, endpoint, len);
    _Static_assert(sizeof d <= MNI_ERRARG_MAX, "a denial fits the lazy message's room");
    int rc = mni_seterr_lazy(db, MN_ELIMITED, denial_message, &d,
                             offsetof(struct denial, endpoint) + len);
    mni_err_retry_after(r->retry_after_ms);
    return rc;
}

static int decide(mn_db *db, const struct mni_rl_slot *s, const char *endpoint, int64_t n,
                  int peek, int64_t now_us, mn_ratelimit_result *out)
{
    struct mni_limiter *l = db->limiter;
    const struct mni_rl_target *t = &s->t;
    struct mni_count_req rq = {.key = s->key, .keylen = s->keylen, .hash = s->hash,
                              .window_us = t->window_ms * 1000,
                              .limit = t->limit * t->multiplier, .n = n, .peek = peek, .now_us = now_us};
    struct mni_count_res cr;
    out->limit = rq.limit;
    out->window_ms = t->window_ms;
    out->remaining = rq.limit;
    mni_errmark mark = mni_err_mark();
    int rc = l->counter->ops->decide(l->counter, &rq, &cr);
    if (rc != MN_OK && n <= rq.limit)
        return unreachable(db, mark, out);
    /* More than the limit never fits, whatever the counters hold: refused even when they
     * could not be asked, never left to the fail mode. The counters' failure is not the
     * answer, so it is forgotten. */
    if (rc != MN_OK) {
        mni_err_forget(mark);
        cr = (struct mni_count_res){.retry_after_us = -1};
    }
    out->checked = rc == MN_OK;
    out->allowed = cr.allowed;
    out->remaining = rq.limit > cr.count ? rq.limit - cr.count : 0;
    /* Rounded up: a caller that waits the ms given must find the place free. */
    out->reset_at = cr.count ? cr.now_ms + (cr.reset_in_us + 999) / 1000 : 0;
    out->retry_after_ms = cr.allowed ? 0 : cr.retry_after_us < 0 ? -1
                                          : (cr.retry_after_us + 999) / 1000;
    atomic_fetch_add_explicit(cr.allowed ? &l->allowed : &l->denied, 1, memory_order_relaxed);
    if (!cr.allowed && !peek)
        return limited(db, t, endpoint, n, out);
    return MN_OK;
}

/* The one clock reading of a decision (it costs as much as a tenth of the decision). */
static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Whether the built-in limits hold caller's calls (see mn_config.ratelimit_defaults). */
static int builtin_holds(const mn_db *db, enum mni_rl_caller caller)
{
    switch (db->cfg.ratelimit_defaults) {
    case MN_RATELIMIT_DEFAULTS_GUIDE:
        return 1;
    case MN_RATELIMIT_DEFAULTS_NONE:
        return caller == MNI_RL_HOST;
    default:
        return caller != MNI_RL_IDENTITY;
    }
}

int mni_rl_decide(mn_db *db, const char *tenant, const char *identity, const char *endpoint,
                 int64_t n, int peek, enum mni_rl_caller caller, mn_ratelimit_result *out)
{
    struct mni_rl_slot s;
    int64_t now = mono_us();
    memset(out, 0, sizeof *out);
    int rc = mni_rl_slot(db, db->limiter->slots, tenant, identity, endpoint, now / 1000, &s);
    if (rc == MN_OK && s.t.builtin && !builtin_holds(db, caller)) {
        /* No limit holds the call: admitted, nothing counted. */
        out->allowed = out->checked = 1;
        return MN_OK;
    }
    if (rc == MN_OK)
        rc = decide(db, &s, endpoint, n, peek, now, out);
    /* Timed from the decision's own clock reading; in-process counters (a decision takes a
     * tenth of a microsecond) at one decision in MNI_METRICS_SAMPLE, Redis at every one. */
    const struct mni_counter *c = db->limiter->counter;
    if (db->metrics && ((c && c->ops->ping) || mni_metrics_sampled()))
        mni_metrics_observe(db->metrics, MNI_S_RATELIMIT_SECONDS,
                            mni_mono_ns() - (uint64_t)now * 1000);
    return rc;
}

int mni_rl_reset(mn_db *db, const char *tenant, const char *identity, const char *endpoint)
{
    struct mni_rl_slot s;
    int rc = mni_rl_slot(db, db->limiter->slots, tenant, identity, endpoint, mono_us() / 1000,
                        &s);
    return rc == MN_OK ? db->limiter->counter->ops->reset(db->limiter->counter, s.key,
                                                             s.keylen, s.hash)
                       : rc;
}

int mni_ratelimit_enforce(mn_db *db, const struct mni_who *who, const char *endpoint, int64_t n)
{
    if (!who->identity || db->limiter->off)
        return MN_OK;
    mn_ratelimit_result r;
    return mni_rl_decide(db, who->tenant->id, who->identity->id, endpoint, n, 0,
                         who->apikey.id[0] ? MNI_RL_APIKEY : MNI_RL_IDENTITY, &r);
}
