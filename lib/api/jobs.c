/* The public calls on embedding jobs: list, retry, and one batch run by the caller's thread. */
#include "api/cache.h"
#include "api/jobs.h"
#include "api/metrics.h"
#include "jobs/jobs.h"
#include "api/access.h"
#include "api/actor.h"
#include "api/validate.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "core/uuid.h"
#include "store/store.h"

#include <stdlib.h>

#define MNI_JOBS_LIST_DEFAULT 100
#define MNI_JOBS_LIST_MAX 10000

/* Resolves the actor and checks that it may `action` memories and that the store has jobs. */
static int begin(mn_db *db, const mn_actor *actor, const char *action, struct mni_who *who)
{
    int rc = mni_who_resolve(db, actor, who);
    if (rc == MN_OK && who->identity)
        rc = mni_access_check(db, who, action, "memory", NULL);
    if (rc == MN_OK && !db->store->ops->embed_jobs_list)
        rc = mni_seterr(db, MN_EUNSUPPORTED, "the %s store keeps no embedding jobs",
                       db->store->ops->scheme);
    return rc;
}

int mn_job_list(mn_db *db, const mn_actor *actor, int status, int limit,
                mn_jobs **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        *out = NULL;
    if (rc == MN_OK && status != -1 && status != MN_EMBED_PENDING && status != MN_EMBED_FAILED)
        rc = mni_seterr(db, MN_EINVAL, "status is %d; give MN_EMBED_PENDING, MN_EMBED_FAILED "
                       "or -1 for both", status);
    if (rc == MN_OK && (limit < 0 || limit > MNI_JOBS_LIST_MAX))
        rc = mni_seterr(db, MN_EINVAL, "limit is %d; give 1..%d (0 = %d)", limit,
                       MNI_JOBS_LIST_MAX, MNI_JOBS_LIST_DEFAULT);
    struct mni_who who = {0};
    if (rc == MN_OK)
        rc = begin(db, actor, "list", &who);
    if (rc == MN_OK)
        rc = db->store->ops->embed_jobs_list(db->store, who.tenant->id, status < 0 ? 0 : status,
                                             limit ? limit : MNI_JOBS_LIST_DEFAULT, out);
    mni_who_release(&who);
    return rc;
}

int mn_job_retry(mn_db *db, const mn_actor *actor, const char *memory_id,
                 size_t *retried)
{
    if (!db)
        return mni_err_no_db(__func__);
    char key[MNI_UUID_LEN + 1];
    int rc = memory_id ? mni_check_memory_id(db, "the memory id", memory_id, key) : MN_OK;
    struct mni_who who = {0};
    if (rc == MN_OK && (db->cfg.flags & MN_OPEN_READONLY))
        rc = mni_seterr(db, MN_EINVAL, "the handle is read-only: jobs cannot be retried");
    if (rc == MN_OK)
        rc = begin(db, actor, "update", &who);
    size_t n = 0;
    if (rc == MN_OK)
        rc = db->store->ops->embed_jobs_retry(db->store, who.tenant->id,
                                              memory_id ? key : NULL, mni_now_ms(), &n);
    if (rc == MN_OK && n)
        mni_cache_bump(db, who.tenant->id); /* the memories' embed_status (jobs_run.c) */
    if (rc == MN_OK && n)
        mni_jobs_wake(db->jobs);
    if (rc == MN_OK && retried)
        *retried = n;
    mni_who_release(&who);
    return rc;
}

static int job_run(mn_db *db, size_t max_jobs, size_t *done, size_t *failed)
{
    if (!db)
        return mni_err_no_db("mn_job_run");
    size_t d = 0, f = 0;
    int rc = max_jobs <= 10000 ? MN_OK
             : mni_seterr(db, MN_EINVAL, "max_jobs is %zu; give 1..10000 (0 = embed_batch)",
                         max_jobs);
    if (rc == MN_OK && (db->cfg.flags & MN_OPEN_READONLY))
        rc = mni_seterr(db, MN_EINVAL, "the handle is read-only: it cannot store vectors");
    if (rc == MN_OK)
        rc = mni_jobs_run_batch(db, max_jobs, &d, &f);
    if (done)
        *done = d;
    if (failed)
        *failed = f;
    return rc;
}

int mn_job_run(mn_db *db, size_t max_jobs, size_t *done, size_t *failed)
{
    MNI_TIMED(db, job_run, job_run(db, max_jobs, done, failed));
}
