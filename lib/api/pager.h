/* Pages filled past what a policy hides: a list of memories (api/memory.c) and the change feed
 * (api/feed.c) read rows in batches after a cursor, drop those the actor may not see, and
 * read on until the page is full, the rows end, or MN_LIST_READ_MAX hidden rows were read. */
#ifndef MNI_API_PAGER_H
#define MNI_API_PAGER_H

#include "manushya.h"

/* A source of items (pointers to results) in page order, with a cursor of its own. */
struct mni_pager {
    /* Reads up to want items after the cursor into *items (malloc'd, *n pointers; NULL when
     * none) and moves the cursor past the last row read; *more: whether rows may follow. */
    int (*read)(void *src, size_t want, void ***items, size_t *n, int *more);
    /* Drops from items, in place, those the actor may not see (freeing them); returns how many
     * stay. NULL when every item shows. */
    size_t (*filter)(void *src, void **items, size_t n);
    /* Puts the cursor just after item: the page ended at it, before the rest of its batch. */
    int (*resume_after)(void *src, const void *item);
    /* Whether next must be on the same page as prev, the item before it (a page only ends
     * between items that need not be together). NULL: any two may be split. */
    int (*together)(const void *prev, const void *next);
    void (*free_item)(void *item);
    size_t batch_max;      /* the largest batch read at once */
};

/* Fills a page of limit items (more when together keeps a group whole) from src: *items
 * (malloc'd, *count of them) and *more, whether the source may hold more after the cursor,
 * where the next page starts. Batches grow from limit by doubling to batch_max. On a failure
 * nothing is returned (the error is recorded on db by the source, or here: MN_ENOMEM). */
int mni_page_fill(mn_db *db, const struct mni_pager *p, void *src, size_t limit, void ***items,
                  size_t *count, int *more);

#endif
