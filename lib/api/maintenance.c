/* mn_maintenance_run: each task chosen runs when it is due and this process took its lease
 * (store/op_maintenance.c), timed; and the handle's thread that runs the due ones every
 * maintenance_poll_ms (a worker of jobs/ that never reports work, so it sleeps between
 * polls, and wakes at once when mn_close stops it). */
#include "api/maintenance.h"
#include "api/abi_structs.h"
#include "api/handle.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/metrics.h"
#include "core/uuid.h"
#include "jobs/jobs.h"
#include "store/driver.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int mni_maintenance_settle(mn_db *db)
{
    mn_config *c = &db->cfg;
    if (c->maintenance != 0 && c->maintenance != 1)
        return mni_seterr(db, MN_EINVAL, "mn_config.maintenance is %d; give 1 (a thread of "
                          "the handle runs the due tasks) or 0 (none)", c->maintenance);
    if (c->maintenance_poll_ms < 0 || c->maintenance_poll_ms > MNI_MAINT_MAX_POLL_MS ||
        (c->maintenance_poll_ms && c->maintenance_poll_ms < 10))
        return mni_seterr(db, MN_EINVAL, "mn_config.maintenance_poll_ms is %d; give 10..%d "
                          "milliseconds (0 = the default, %d)", c->maintenance_poll_ms,
                          MNI_MAINT_MAX_POLL_MS, MNI_MAINT_DEFAULT_POLL_MS);
    if (c->audit_retention_days < 0 || c->audit_retention_days > MNI_MAINT_MAX_RETENTION_DAYS)
        return mni_seterr(db, MN_EINVAL, "mn_config.audit_retention_days is %d; give 1..%d "
                          "days, or 0 to keep the audit log forever", c->audit_retention_days,
                          MNI_MAINT_MAX_RETENTION_DAYS);
    if (c->maintenance && (c->flags & MN_OPEN_READONLY))
        return mni_seterr(db, MN_EINVAL, "mn_config.maintenance is 1 on a read-only handle "
                          "(MN_OPEN_READONLY), whose tasks could change nothing; set one of "
                          "them to 0");
    if (!c->maintenance_poll_ms)
        c->maintenance_poll_ms = MNI_MAINT_DEFAULT_POLL_MS;
    return MN_OK;
}

const char *mn_maintenance_task_name(unsigned task)
{
    for (int i = 0; i < MN_MAINT_NTASKS; i++)
        if (mni_maint_tasks[i].bit == task)
            return mni_maint_tasks[i].name;
    return NULL;
}

/* One task: its lease, its run, timed (the per-task elapsed_ns of the report, and the
 * metrics' duration of the task), and the run recorded in its row. */
static void run_task(mn_db *db, const struct mni_maint_task *t, int force,
                     mn_maintenance_task *out)
{
    if (t->off(db)) {
        out->status = MN_MAINT_OFF;
        return;
    }
    struct mni_store *s = db->store;
    char holder[MNI_UUID_LEN + 1];
    mni_uuid7(holder); /* this run's own: a lease taken by another run is never ours */
    int64_t now = mni_now_ms();
    int taken = 0, busy = 0;
    out->rc = mni_op_maint_take(s, t->name, holder, now, now + MNI_MAINT_LEASE_MS, force,
                                t->interval_ms, &taken, &busy);
    if (out->rc != MN_OK || !taken) {
        out->status = out->rc != MN_OK ? MN_MAINT_RAN : busy ? MN_MAINT_BUSY : MN_MAINT_NOT_DUE;
        return;
    }
    out->status = MN_MAINT_RAN;
    uint64_t start = mni_mono_ns();
    out->rc = t->run(db, &out->items);
    out->elapsed_ns = (int64_t)(mni_mono_ns() - start);
    mni_metrics_observe(db->metrics, MNI_S_MAINTENANCE_SECONDS + t->metric * MNI_WIDTH_HISTOGRAM,
                        (uint64_t)out->elapsed_ns);
    /* Recording the run must not hide the run's own failure: its message is kept. */
    char error[MNI_ERRMSG_MAX];
    snprintf(error, sizeof error, "%s", out->rc == MN_OK ? "" : mn_errmsg(db));
    int rc = mni_op_maint_done(s, t->name, holder, mni_now_ms(), out->items,
                               out->elapsed_ns / 1000000, out->rc == MN_OK ? NULL : error);
    if (out->rc != MN_OK)
        mni_seterr(db, out->rc, "%s", error);
    else
        out->rc = rc;
}

int mn_maintenance_run(mn_db *db, unsigned tasks, mn_maintenance_report *out)
{
    if (!db)
        return mni_err_no_db(__func__);
    mn_maintenance_report r;
    int rc = mni_abi_read(db, &mni_abi_maintenance_report, out, 1, &r, sizeof r);
    if (rc != MN_OK)
        return rc;
    memset(r.tasks, 0, sizeof r.tasks);
    unsigned chosen = tasks & ~MN_MAINT_FORCE;
    if (chosen & ~MN_MAINT_ALL)
        return mni_seterr(db, MN_EINVAL, "mn_maintenance_run: tasks has unknown bits 0x%x; "
                          "give MN_MAINT_* bits", chosen & ~MN_MAINT_ALL);
    if (!chosen)
        return mni_seterr(db, MN_EINVAL, "mn_maintenance_run: no task chosen; give "
                          "MN_MAINT_ALL or some MN_MAINT_* bits");
    if (db->cfg.flags & MN_OPEN_READONLY)
        return mni_seterr(db, MN_EINVAL, "mn_maintenance_run: the handle is read-only "
                          "(MN_OPEN_READONLY); open the database writable to maintain it");
    char first[MNI_ERRMSG_MAX] = "";
    for (int i = 0; i < MN_MAINT_NTASKS; i++) {
        if (!(chosen & mni_maint_tasks[i].bit))
            continue;
        run_task(db, &mni_maint_tasks[i], (tasks & MN_MAINT_FORCE) != 0, &r.tasks[i]);
        if (r.tasks[i].rc != MN_OK && rc == MN_OK) {
            rc = r.tasks[i].rc;
            snprintf(first, sizeof first, "maintenance task %s: %s", mni_maint_tasks[i].name,
                     mn_errmsg(db));
        }
    }
    if (out)
        mni_abi_write(db, &mni_abi_maintenance_report, out, &r); /* its version checked above */
    return rc == MN_OK ? MN_OK : mni_seterr(db, rc, "%s", first);
}

/* ---- the handle's thread ---- */

static int tick(void *ctx)
{
    mn_db *db = ctx;
    if (mn_maintenance_run(db, MN_MAINT_ALL, NULL) != MN_OK)
        mni_log(db, "mn_config.maintenance: mn_maintenance_run failed: %s", mn_errmsg(db));
    return 0; /* nothing more is due before the next poll */
}

int mni_maintenance_open(mn_db *db)
{
    if (!db->cfg.maintenance)
        return MN_OK;
    int started = 0;
    int rc = mni_jobs_start(1, db->cfg.maintenance_poll_ms, tick, db, &db->maintenance,
                            &started);
    return rc == MN_OK ? MN_OK
           : mni_seterr(db, rc, "mn_open: the maintenance thread (mn_config.maintenance) "
                        "could not start: %s", rc == MN_ENOMEM ? "out of memory"
                        : "the system refused a new thread");
}

void mni_maintenance_close(mn_db *db)
{
    mni_jobs_stop(db->maintenance);
    db->maintenance = NULL;
}
