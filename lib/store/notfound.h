/* The "not found" errors every backend reports alike: MN_ENOTFOUND with a message naming what
 * is missing and, where one exists, the command that lists what there is. Each returns
 * MN_ENOTFOUND. */
#ifndef MN_STORE_NOTFOUND_H
#define MN_STORE_NOTFOUND_H

#include "manushya.h"

int mn_store_no_tenant(mn_db *db, const char *tenant);
int mn_store_no_identity(mn_db *db, const char *identity);
/* An identity found a moment ago and gone when changed (deleted meanwhile). */
int mn_store_identity_gone(mn_db *db, const char *id);
int mn_store_no_policy(mn_db *db, const char *doing, const char *id);

/* Which memories a change could apply to, for the message. */
enum mn_memory_want { MN_WANT_ANY, MN_WANT_LIVE, MN_WANT_DELETED };
int mn_store_no_memory(mn_db *db, const char *doing, const char *id, enum mn_memory_want want);
int mn_store_no_job(mn_db *db, const char *memory_id);
int mn_store_no_limit(mn_db *db, const char *endpoint);

#endif
