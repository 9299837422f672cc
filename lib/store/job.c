/* Embedding jobs: freeing them. Every function accepts NULL. */
#include "store/types.h"

#include <stdlib.h>

void mni_embed_job_clear(void *job)
{
    mn_embed_job *j = job;
    free(j->memory_id);
    free(j->tenant_id);
    free(j->error);
}

void mn_embed_job_list_free(mn_embed_job_list *l)
{
    if (!l)
        return;
    mni_items_free(l->items, l->count, sizeof *l->items, mni_embed_job_clear);
    free(l);
}
