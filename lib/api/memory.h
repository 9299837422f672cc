/* What the memory calls share between their files (memory.c, memory_change.c, search.c). */
#ifndef MNI_API_MEMORY_H
#define MNI_API_MEMORY_H

#include "api/actor.h"
#include "store/store.h"

/* The part of a memory that an update changes and the history records (a JSON object:
 * text, type, metadata, importance); NULL when out of memory. */
char *mni_memory_snapshot(const char *text, const char *type, const char *metadata,
                          double importance);
/* Whether who may turn a memory into row: "update" it as it will be (so that an update
 * cannot make an allowed memory one the actor may not create), and "read" it when want_read.
 * The check of the memory as it is stays the caller's. */
int mni_memory_may_become(mn_db *db, struct mni_who *who, const struct mni_memory_row *row,
                          int want_read);
/* The live memory of q's identity and type whose vector is the most similar to vec, at
 * min_similarity or more, with its embedding: *out NULL when there is none (search.c). */
int mni_search_nearest(mn_db *db, struct mni_who *who, const struct mni_store_query *q,
                       const float *vec, double min_similarity, mn_memory **out);
/* mn_memory_delete_many: all or none, each id checked for "delete", one audit entry for the
 * batch (memory_change.c). n 0 deletes nothing. */
int mni_memory_delete_ids(mn_db *db, const mn_actor *actor, const char *const *ids, size_t n,
                          int mode);

#endif
