/* The "not found" errors every backend reports alike: MN_ENOTFOUND with a message naming what
 * is missing and, where it helps, where to look for what there is. Each returns
 * MN_ENOTFOUND. */
#ifndef MNI_STORE_NOTFOUND_H
#define MNI_STORE_NOTFOUND_H

#include "manushya.h"

int mni_store_no_tenant(mn_db *db, const char *tenant);
int mni_store_no_identity(mn_db *db, const char *identity);
/* An identity found a moment ago and gone when changed (deleted meanwhile). */
int mni_store_identity_gone(mn_db *db, const char *id);
int mni_store_no_policy(mn_db *db, const char *doing, const char *id);

/* Which memories a change or a read could apply to, for the message. */
enum mni_memory_want { MNI_WANT_ANY, MNI_WANT_LIVE, MNI_WANT_DELETED, MNI_WANT_VISIBLE };
int mni_store_no_memory(mn_db *db, const char *doing, const char *id, enum mni_memory_want want);
int mni_store_no_job(mn_db *db, const char *memory_id);
int mni_store_no_limit(mn_db *db, const char *endpoint);
int mni_store_no_apikey(mn_db *db, const char *id);
int mni_store_no_webhook(mn_db *db, const char *id);
int mni_store_no_delivery(mn_db *db, int64_t id);

#endif
