/* Freeing the public result structs that the stores make (store/tenant.c, identity.c,
 * memory.c, policy.c, job.c, limit.c). The *_clear functions free what a struct points to but
 * not the struct itself (for the backends' arrays of them); they take void * to serve as
 * row-reader hooks. */
#ifndef MNI_STORE_TYPES_H
#define MNI_STORE_TYPES_H

#include "manushya.h"

#include <stddef.h>

/* Frees a public list's items (n pointers): each one's contents with clear (may be NULL), the
 * item, then the array. */
void mni_items_free(void **items, size_t n, void (*clear)(void *));
/* Frees an array of n structs of size bytes: each one's contents with clear (may be NULL),
 * then the array (a backend's rows before they become a list). */
void mni_array_free(void *items, size_t n, size_t size, void (*clear)(void *));
/* Frees what one struct holds (clear), then the struct. NULL: nothing. */
void mni_one_free(void *item, void (*clear)(void *));

void mni_tenant_clear(void *tenant);
void mni_identity_clear(void *identity);
void mni_memory_clear(void *memory);
void mni_history_entry_clear(void *entry);
void mni_policy_clear(void *policy);
void mni_job_clear(void *job);
void mni_limit_clear(void *limit);
void mni_apikey_clear(void *apikey);
void mni_apikey_row_clear(void *row);
void mni_audit_entry_clear(void *entry);
void mni_webhook_clear(void *webhook);
void mni_webhook_delivery_clear(void *delivery);

#endif
