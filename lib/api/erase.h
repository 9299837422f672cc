/* Erasure, above the store: what the handle itself holds of erased rows. */
#ifndef MNI_API_ERASE_H
#define MNI_API_ERASE_H

#include "manushya.h"

/* After the store committed an erase of rows of the tenant (the tenant itself, or an
 * identity's): the vector index forgets the tenant's part, in memory and its files (rebuilt
 * from the store at its next use, if the tenant is still there), and verified API keys and
 * cached limits are checked against the store again. */
void mni_erased(mn_db *db, const char *tenant_id);

#endif
