/* Freeing the public result structs. The *_clear functions free what a struct points to but
 * not the struct itself (for arrays of them); they take void * to serve as row-reader hooks. */
#ifndef MN_CORE_FREE_H
#define MN_CORE_FREE_H

#include "manushya.h"

void mn_tenant_clear(void *tenant);
void mn_identity_clear(void *identity);
void mn_memory_clear(void *memory);
void mn_history_entry_clear(void *entry);
void mn_policy_clear(void *policy);

#endif
