/* The public lists hand out pointers ({ count, mn_X **items }), so that a result struct may grow
 * at the end without moving the items after it in a program built against an older header.
 * The backends' row collectors build plain arrays of structs; this turns one into a list. */
#ifndef MNI_STORE_LIST_H
#define MNI_STORE_LIST_H

#include "manushya.h"

/* *items: a malloc'd array of *n structs of size bytes each, consumed. On MN_OK it is replaced
 * by a malloc'd array of *n pointers, each to a malloc'd struct of its own. On MN_ENOMEM
 * (recorded on db, with doing) every struct is cleared with clear (may be NULL), nothing stays
 * allocated, *items is NULL and *n 0. */
int mni_list_point(mn_db *db, void **items, size_t *n, size_t size, void (*clear)(void *),
                   const char *doing);

/* Makes room for item n in *arr, an array of items of size bytes with room for *cap (doubled
 * as it fills, from 16): MN_OK, or MN_ENOMEM with *arr left as it was. */
int mni_grow(void **arr, size_t *cap, size_t n, size_t size);

/* Ends a backend's read of rows into arr, an array of n structs of size bytes: on MN_OK it
 * becomes *items and *count; on a failure the structs are cleared (clear may be NULL) and arr
 * freed, MN_ENOMEM recorded on db naming doing. Returns rc. */
int mni_array_done(mn_db *db, int rc, void *arr, size_t n, size_t size, void (*clear)(void *),
                   void **items, size_t *count, const char *doing);

/* Ends a page of memories read with rc into items (count pointers, as mni_list_point makes
 * them; NULL and 0 after a failure): on MN_OK *out receives them as a list, whose next cursor
 * is the last item's id when more rows followed (more); on a failure they are freed and *out
 * is NULL. Returns rc, or MN_ENOMEM recorded on db. */
int mni_memories_page(mn_db *db, void **items, size_t count, int more, int rc,
                      mn_memories **out);

#endif
