/* Delivering webhooks: a batch of due deliveries of every tenant claimed for a lease, each
 * POSTed (webhook/post.c) and its outcome recorded while the claim still holds it: delivered,
 * due again after a backoff, or dead when its attempts ran out. A worker killed mid-batch
 * records nothing: its deliveries are claimed again when the lease runs out, with the same
 * event id (at-least-once). mn_webhook_start runs such batches on background threads. */
#include "api/abi_structs.h"
#include "api/handle.h"
#include "api/webhook.h"
#include "core/backoff.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/uuid.h"
#include "jobs/jobs.h"
#include "store/store.h"
#include "webhook/webhook.h"

#include "build_options.h"

#include <stdio.h>
#include <string.h>

#define RETRY_MAX_MS 3600000

/* The options with their defaults, checked. */
static int settle_options(mn_db *db, const mn_webhook_options *in, mn_webhook_options *o)
{
    int rc = mni_abi_read(db, &mni_abi_webhook_options, in, 1, o, sizeof *o);
    if (rc != MN_OK)
        return rc;
    const struct { const char *name; int *v, def, max; } f[] = {
        {"batch", &o->batch, 10, 1000}, {"max_attempts", &o->max_attempts, 8, 1000},
        {"retry_ms", &o->retry_ms, 1000, RETRY_MAX_MS},
        {"timeout_ms", &o->timeout_ms, 10000, 600000},
        {"lease_ms", &o->lease_ms, 300000, 86400000}, {"poll_ms", &o->poll_ms, 1000, 3600000},
        {"threads", &o->threads, 1, MNI_JOBS_MAX_WORKERS},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (*f[i].v < 0 || *f[i].v > f[i].max)
            return mni_seterr(db, MN_EINVAL, "mn_webhook_options.%s is %d; give 1..%d (0 = the "
                              "default, %d)", f[i].name, *f[i].v, f[i].max, f[i].def);
        if (!*f[i].v)
            *f[i].v = f[i].def;
    }
    if ((int64_t)o->lease_ms <= (int64_t)o->batch * o->timeout_ms)
        return mni_seterr(db, MN_EINVAL, "mn_webhook_options.lease_ms (%d) must be more than "
                          "batch x timeout_ms (%d x %d): a batch could outlast its lease and be "
                          "delivered twice; raise lease_ms or lower the others", o->lease_ms,
                          o->batch, o->timeout_ms);
    return MN_OK;
}

/* One delivery: POSTed, then its outcome recorded. */
static int deliver(mn_db *db, const mn_webhook_options *o, const char *claim,
                   const struct mni_webhook_task *t, uint64_t *rng, size_t *delivered,
                   size_t *failed)
{
    char err[256] = "";
    struct mni_webhook_result r = {0};
#if MNI_WITH_CURL
    const struct mni_webhook_request q = { t->url, t->body, t->secret, t->event_id, t->event,
                                           t->id, o->timeout_ms };
    int bad = mni_webhook_post(&q, &r.http_status, err, sizeof err);
#else
    int bad = 1;
    snprintf(err, sizeof err, "this build has no libcurl (WITH_CURL=0)");
#endif
    r.now = mni_now_ms();
    r.error = bad ? err : NULL;
    if (!bad)
        r.status = MN_DELIVERY_DONE;
    else if (t->attempts >= o->max_attempts)
        r.status = MN_DELIVERY_DEAD;
    else {
        r.status = MN_DELIVERY_PENDING;
        r.next_at = r.now + mni_backoff_ms(o->retry_ms, t->attempts, RETRY_MAX_MS, rng);
    }
    int rc = db->store->ops->webhook_settle(db->store, claim, t, &r);
    if (rc == MN_OK)
        ++*(bad ? failed : delivered);
    return rc;
}

static int run_batch(mn_db *db, const mn_webhook_options *o, size_t *delivered,
                     size_t *failed)
{
    char claim[MNI_UUID_LEN + 1];
    mni_uuid7(claim);
    struct mni_webhook_task *t = NULL;
    size_t n = 0;
    int64_t now = mni_now_ms();
    int rc = db->store->ops->webhook_claim(db->store, claim, now, now + o->lease_ms,
                                           (size_t)o->batch, &t, &n);
    uint64_t rng = mni_backoff_seed(&rng);
    for (size_t i = 0; rc == MN_OK && i < n; i++)
        rc = deliver(db, o, claim, &t[i], &rng, delivered, failed);
    mni_webhook_tasks_free(t, n);
    return rc;
}

/* The options settled, and the handle able to deliver. */
static int prepare(mn_db *db, const mn_webhook_options *opt, mn_webhook_options *o)
{
    int rc = settle_options(db, opt, o);
    if (rc == MN_OK && (db->cfg.flags & MN_OPEN_READONLY))
        rc = mni_seterr(db, MN_EINVAL, "the handle is read-only: it cannot record deliveries");
#if !MNI_WITH_CURL
    if (rc == MN_OK)
        rc = mni_seterr(db, MN_EUNSUPPORTED, "webhooks are delivered over libcurl, which this "
                        "build left out (WITH_CURL=0)");
#endif
    return rc;
}

int mn_webhook_run(mn_db *db, const mn_webhook_options *opt, size_t *delivered,
                   size_t *failed)
{
    if (!db)
        return mni_err_no_db(__func__);
    size_t d = 0, f = 0;
    mn_webhook_options o;
    int rc = prepare(db, opt, &o);
    if (rc == MN_OK)
        rc = run_batch(db, &o, &d, &f);
    if (delivered)
        *delivered = d;
    if (failed)
        *failed = f;
    return rc;
}

/* A delivery thread's batch: failures are logged, since no caller sees them. */
static int thread_batch(void *ctx)
{
    mn_db *db = ctx;
    size_t d = 0, f = 0;
    int rc = run_batch(db, &db->webhook_options, &d, &f);
    if (rc != MN_OK)
        mni_log(db, "webhook delivery: %s", mn_errmsg(db));
    return rc == MN_OK && d + f > 0;
}

int mn_webhook_start(mn_db *db, const mn_webhook_options *opt)
{
    if (!db)
        return mni_err_no_db(__func__);
    if (db->webhooks)
        return mni_seterr(db, MN_EINVAL, "the handle's webhook delivery threads run already");
    int rc = prepare(db, opt, &db->webhook_options);
    int started = 0;
    if (rc == MN_OK)
        rc = mni_jobs_start(db->webhook_options.threads, db->webhook_options.poll_ms,
                            thread_batch, db, &db->webhooks, &started);
    if (rc == MN_ENOMEM)
        rc = mni_seterr(db, rc, "out of memory starting webhook delivery threads");
    else if (rc == MN_ERROR)
        rc = mni_seterr(db, rc, "could not start webhook delivery thread %d of %d",
                        started + 1, db->webhook_options.threads);
    return rc;
}

void mni_webhook_close(mn_db *db)
{
    mni_jobs_stop(db->webhooks);
    db->webhooks = NULL;
}
