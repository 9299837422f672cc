/* Freeing the public result structs. The *_clear functions free what a struct points to but
 * not the struct itself (for arrays of them); they take void * to serve as row-reader hooks. */
#ifndef MNI_CORE_FREE_H
#define MNI_CORE_FREE_H

#include <stddef.h>

#include "manushya.h"

/* Frees a list's items (n pointers): each one's contents with clear (may be NULL), the item,
 * then the array. */
void mni_items_free(void **items, size_t n, void (*clear)(void *));

void mni_tenant_clear(void *tenant);
void mni_identity_clear(void *identity);
void mni_memory_clear(void *memory);
void mni_history_entry_clear(void *entry);
void mni_policy_clear(void *policy);

#endif
