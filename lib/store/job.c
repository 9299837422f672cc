/* Embedding jobs: freeing them. Every function accepts NULL. */
#include "store/types.h"

#include <stdlib.h>

void mni_job_clear(void *job)
{
    mn_job *j = job;
    free(j->memory_id);
    free(j->tenant_id);
    free(j->error);
}

void mn_jobs_free(mn_jobs *l)
{
    if (!l)
        return;
    mni_items_free((void **)l->items, l->count, mni_job_clear);
    free(l);
}
