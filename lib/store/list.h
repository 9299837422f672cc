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

#endif
