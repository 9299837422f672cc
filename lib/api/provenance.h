/* Which embedder a database's vectors come from (api/provenance.c). */
#ifndef MNI_API_PROVENANCE_H
#define MNI_API_PROVENANCE_H

#include "manushya.h"

/* Called once the store is open: MN_OK when the handle's embedder and model are the ones the
 * database's vectors come from (recording the model of a database that has none recorded), or
 * when the handle embeds nothing (external); MN_EINVAL, saying which is which, otherwise. */
int mni_embed_provenance_check(mn_db *db);

#endif
