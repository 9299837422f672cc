#include "store/notfound.h"
#include "core/error.h"

int mn_store_no_tenant(mn_db *db, const char *tenant)
{
    return mn_seterr(db, MN_ENOTFOUND, "no tenant has the id or name \"%.128s\"; "
                     "`manushya tenant list` shows them", tenant);
}

int mn_store_no_identity(mn_db *db, const char *identity)
{
    return mn_seterr(db, MN_ENOTFOUND, "the tenant has no identity with the id or external_id "
                     "\"%.128s\"; `manushya identity list` shows them", identity);
}

int mn_store_identity_gone(mn_db *db, const char *id)
{
    return mn_seterr(db, MN_ENOTFOUND, "identity %s is gone", id);
}

int mn_store_no_policy(mn_db *db, const char *doing, const char *id)
{
    return mn_seterr(db, MN_ENOTFOUND, "%s: the tenant has no policy %s", doing, id);
}

int mn_store_no_memory(mn_db *db, const char *doing, const char *id, enum mn_memory_want want)
{
    return mn_seterr(db, MN_ENOTFOUND, "%s: the tenant has no memory %s%s", doing, id,
                     want == MN_WANT_LIVE ? " that is not deleted already"
                     : want == MN_WANT_DELETED ? " that is deleted" : "");
}

int mn_store_no_job(mn_db *db, const char *memory_id)
{
    return mn_seterr(db, MN_ENOTFOUND, "memory %s has no embedding job (it is embedded "
                     "already, or not the tenant's)", memory_id);
}

int mn_store_no_limit(mn_db *db, const char *endpoint)
{
    return mn_seterr(db, MN_ENOTFOUND, "the tenant has no limit of its own for \"%.64s\" (it "
                     "uses the built-in one)", endpoint);
}
