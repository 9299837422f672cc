/* The test of a query's conditions other than metadata on a memory's fields (store.h): rows
 * read back (api/filter.c) and changes read from the feed (index/vindex.c) are judged by the
 * same code as the store's SQL judges them. */
#include "store/store.h"

#include <string.h>

/* Whether s (NULL: none) is one of the n strings; n 0 is no condition. */
static int in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return n == 0;
}

int mni_query_selects_fields(const struct mni_store_query *q, const struct mni_query_fields *f)
{
    return (!q->identity_id || strcmp(f->identity_id, q->identity_id) == 0) &&
           (!q->type || strcmp(f->type, q->type) == 0) &&
           in_list(q->sessions, q->n_sessions, f->session) &&
           in_list(q->types, q->n_types, f->type) &&
           in_list(q->identities, q->n_identities, f->identity_id) &&
           mni_query_ranges_hold(q, f->created_at, f->updated_at, f->importance);
}
