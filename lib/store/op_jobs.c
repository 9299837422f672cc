/* Listing a tenant's embedding jobs, written once over the driver (driver.h). Claiming and
 * completing them stay in the backends: SQLite claims then reads back, PostgreSQL claims with
 * SKIP LOCKED in one statement. */
#include "store/driver.h"
#include "store/types.h"
#include "core/error.h"

#include <stdlib.h>

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
