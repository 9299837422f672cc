/* One batch of embedding jobs: claimed for a lease, embedded per tenant (each through its own
 * embedding cache: a tenant must not learn by timing what another embedded), then stored with
 * the job's acknowledgement in one transaction, or recorded as a failed attempt. */
#include "jobs/jobs.h"
#include "core/backoff.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "core/uuid.h"
#include "api/embed_cache.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MNI_RETRY_MAX_MS 3600000

/* When a job that failed its attempts-th attempt is tried again; 0: never (it stays failed).
 * Jobs that failed together (an embedder down) come back spread out, not all at once. */
static int64_t next_attempt(const mn_db *db, int attempts, int64_t now, uint64_t *rng)
{
    if (attempts >= db->cfg.embed_max_attempts)
        return 0;
    return now + mni_backoff_ms(db->cfg.embed_retry_ms, attempts, MNI_RETRY_MAX_MS, rng);
}

/* Embeds and stores the tasks t[0..n-1], all of one tenant. */
static int run_tenant(mn_db *db, const char *claim, const struct mni_embed_task *t, size_t n,
                      size_t *done, size_t *failed)
{
    const struct mni_store_ops *ops = db->store->ops;
    const char **texts = malloc(n * sizeof *texts);
    size_t *lens = malloc(n * sizeof *lens);
    float *vecs = malloc(n * (size_t)db->dim * sizeof *vecs);
    int64_t *next = malloc(n * sizeof *next);
    int rc = texts && lens && vecs && next
                 ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory embedding %zu jobs", n);
    for (size_t i = 0; rc == MN_OK && i < n; i++) {
        texts[i] = t[i].text;
        lens[i] = strlen(t[i].text);
    }
    int erc = rc == MN_OK ? mni_embed_cached(db, t[0].tenant_id, texts, lens, n, vecs) : rc;
    size_t stored = 0;
    if (rc == MN_OK && erc == MN_OK) {
        rc = ops->embed_jobs_done(db->store, claim, t, n, vecs, mni_now_ms(), &stored);
        *done += stored;
    } else if (rc == MN_OK) {
        /* The whole batch shares the embedder's answer, so it shares its failure too. */
        int64_t now = mni_now_ms();
        uint64_t rng = mni_backoff_seed(next);
        for (size_t i = 0; i < n; i++)
            next[i] = next_attempt(db, t[i].attempts, now, &rng);
        char msg[MNI_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", mn_errmsg(db));
        rc = ops->embed_jobs_fail(db->store, claim, t, n, msg, next, now);
        if (rc == MN_OK)
            *failed += n;
    }
    free(texts);
    free(lens);
    free(vecs);
    free(next);
    return rc;
}

int mni_jobs_run_batch(mn_db *db, size_t max_jobs, size_t *done, size_t *failed)
{
    *done = *failed = 0;
    const struct mni_store_ops *ops = db->store->ops;
    if (!ops->embed_jobs_claim)
        return mni_seterr(db, MN_EUNSUPPORTED, "the %s store keeps no embedding jobs",
                         ops->scheme);
    char claim[MNI_UUID_LEN + 1];
    if (mni_uuid7(claim) < 0)
        return mni_seterr(db, MN_ERROR, "the system gave no randomness for a claim id");
    struct mni_embed_task *t = NULL;
    size_t n = 0;
    int rc = ops->embed_jobs_claim(db->store, claim, mni_now_ms(), db->cfg.embed_lease_ms,
                                   max_jobs ? max_jobs : (size_t)db->cfg.embed_batch, &t, &n);
    /* The tasks come sorted by tenant: one embedding call per tenant's run. */
    for (size_t a = 0, b; rc == MN_OK && a < n; a = b) {
        for (b = a + 1; b < n && strcmp(t[b].tenant_id, t[a].tenant_id) == 0; b++)
            ;
        rc = run_tenant(db, claim, t + a, b - a, done, failed);
    }
    mni_embed_tasks_free(t, n);
    return rc;
}
