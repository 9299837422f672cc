/* Filling a page past hidden rows: see pager.h. */
#include "api/pager.h"
#include "core/error.h"
#include "store/list.h"

#include <stdlib.h>

/* Moves batch[0 .. n-1] onto the page while it has room, or while an item must stay with the
 * one before it; frees the rest. *cut: the item the page ended at when some were left. */
static int take(const struct mni_pager *p, void **batch, size_t n, size_t limit, void ***page,
                size_t *count, size_t *cap, const void **cut)
{
    int rc = MN_OK;
    *cut = NULL;
    for (size_t i = 0; i < n; i++) {
        int fits = *count < limit ||
                   (!*cut && *count && p->together && p->together((*page)[*count - 1], batch[i]));
        if (rc == MN_OK && fits && !*cut) {
            rc = mni_grow((void **)page, cap, *count, sizeof **page);
            if (rc == MN_OK) {
                (*page)[(*count)++] = batch[i];
                continue;
            }
        }
        if (rc == MN_OK && !*cut)
            *cut = (*page)[*count - 1];
        p->free_item(batch[i]);
    }
    free(batch);
    return rc;
}

int mni_page_fill(mn_db *db, const struct mni_pager *p, void *src, size_t limit, void ***items,
                  size_t *count, int *more)
{
    void **page = NULL;
    size_t n = 0, cap = 0, hidden = 0, want = limit;
    int rc = MN_OK;
    *more = 0;
    for (;;) {
        void **batch = NULL;
        size_t read = 0;
        rc = p->read(src, want, &batch, &read, more);
        if (rc != MN_OK)
            break;
        size_t shown = p->filter ? p->filter(src, batch, read) : read;
        hidden += read - shown;
        const void *cut;
        rc = take(p, batch, shown, limit, &page, &n, &cap, &cut);
        if (rc == MN_OK && cut) {
            /* The page goes on after its own last item, not after the batch. */
            rc = p->resume_after(src, cut);
            *more = 1;
        }
        if (rc != MN_OK || !*more || n >= limit || hidden >= MN_LIST_READ_MAX)
            break;
        want = want * 2 < p->batch_max ? want * 2 : p->batch_max;
    }
    if (rc == MN_ENOMEM)
        mni_seterr(db, rc, "out of memory filling a page");
    if (rc != MN_OK) {
        for (size_t i = 0; i < n; i++)
            p->free_item(page[i]);
        free(page);
        page = NULL;
        n = 0;
    }
    *items = page;
    *count = n;
    return rc;
}
