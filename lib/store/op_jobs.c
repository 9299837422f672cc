/* Listing a tenant's embedding jobs, written once over the driver (driver.h). Claiming and
 * completing them stay in the backends: SQLite claims then reads back, PostgreSQL claims with
 * SKIP LOCKED in one statement. */
#include "store/driver.h"
#include "store/types.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int mni_op_embed_jobs_list(struct mni_store *s, const char *tenant_id, int status, int limit,
                           mn_jobs **out)
{
    *out = NULL;
    struct mni_args a = {0};
    mni_arg_text(&a, tenant_id);
    mni_arg_int(&a, status);
    mni_arg_int(&a, limit);
    mn_jobs *l = calloc(1, sizeof *l);
    if (!l)
        return mni_seterr(s->db, MN_ENOMEM, "out of memory listing embedding jobs");
    int rc = mni_query_list(s, MNI_JOB_LIST, &a, &mni_map_job, sizeof(mn_job), mni_job_clear,
                            (void ***)&l->items, &l->count, "listing embedding jobs");
    if (rc != MN_OK) {
        mn_jobs_free(l);
        return rc;
    }
    *out = l;
    return MN_OK;
}

static int read_stats(void *ctx, const struct mni_row *r)
{
    struct mni_store_stats *st = ctx;
    st->jobs_pending = r->ops->integer(r, 0);
    st->jobs_failed = r->ops->integer(r, 1);
    st->jobs_oldest_ms = r->ops->integer(r, 2);
    st->tenants = r->ops->integer(r, 3);
    return 1;
}

int mni_op_stats(struct mni_store *s, struct mni_store_stats *out)
{
    memset(out, 0, sizeof *out);
    struct mni_args a = {0};
    return s->driver->read(s, NULL, MNI_STORE_STATS, &a, read_stats, out,
                           "reading the store's figures");
}
