/* Scheduled maintenance's leases, written once over the driver (driver.h): table maintenance
 * (sqlite 010, postgres 012), a row per task. Taking a lease is one conditional upsert, so
 * that of several processes asking at once exactly one gets it; each statement is its own
 * transaction, and none is held while the task runs. */
#include "store/driver.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

/* Who holds the task's row, and until when, as read after a take that failed. */
struct lease {
    int found;
    int other;                 /* held by a holder but the one asking */
    int64_t until;
    const char *holder;        /* the one asking */
};

static int read_lease(void *ctx, const struct mni_row *r)
{
    struct lease *l = ctx;
    char *holder = r->ops->is_null(r, 0) ? NULL : r->ops->text(r, 0);
    if (!r->ops->is_null(r, 0) && !holder)
        return -MN_ENOMEM;
    l->found = 1;
    l->other = holder && strcmp(holder, l->holder) != 0;
    l->until = r->ops->integer(r, 1);
    free(holder);
    return 1;
}

int mni_op_maint_take(struct mni_store *s, const char *task, const char *holder, int64_t now,
                      int64_t lease_until, int force, int64_t interval_ms, int *taken,
                      int *busy)
{
    const char *doing = "taking a maintenance task's lease";
    struct mni_args a = {0};
    mni_arg_text(&a, task);
    mni_arg_text(&a, holder);
    mni_arg_int(&a, now);
    mni_arg_int(&a, lease_until);
    mni_arg_int(&a, force ? 1 : 0);
    mni_arg_int(&a, interval_ms);
    int64_t changed = 0;
    *taken = *busy = 0;
    int rc = s->driver->exec(s, NULL, MNI_MAINT_TAKE, &a, &changed, NULL, doing);
    if (rc != MN_OK || changed == 1) {
        *taken = rc == MN_OK;
        return rc;
    }
    /* Not taken: a lease still running is another process's run; else it was not due. */
    struct mni_args t = {0};
    mni_arg_text(&t, task);
    struct lease l = { .holder = holder };
    rc = s->driver->read(s, NULL, MNI_MAINT_GET, &t, read_lease, &l, doing);
    *busy = rc == MN_OK && l.found && l.other && l.until >= now;
    return rc;
}

int mni_op_maint_done(struct mni_store *s, const char *task, const char *holder, int64_t now,
                      int64_t items, int64_t ms, const char *error)
{
    struct mni_args a = {0};
    mni_arg_text(&a, task);
    mni_arg_text(&a, holder);
    mni_arg_int(&a, now);
    mni_arg_int(&a, items);
    mni_arg_int(&a, ms);
    mni_arg_text(&a, error);
    return s->driver->exec(s, NULL, MNI_MAINT_DONE, &a, NULL, NULL,
                           "recording a maintenance run");
}
