#include "store/notfound.h"
#include "core/error.h"

int mni_store_no_tenant(mn_db *db, const char *tenant)
{
    return mni_seterr(db, MN_ENOTFOUND, "no tenant has the id or name \"%.128s\"; list the "
                     "tenants for the ones there are", tenant);
}

int mni_store_no_identity(mn_db *db, const char *identity)
{
    return mni_seterr(db, MN_ENOTFOUND, "the tenant has no identity with the id or external_id "
                     "\"%.128s\"; list the tenant's identities for the ones there are", identity);
}

int mni_store_identity_gone(mn_db *db, const char *id)
{
    return mni_seterr(db, MN_ENOTFOUND, "identity %s is gone", id);
}

int mni_store_no_policy(mn_db *db, const char *doing, const char *id)
{
    return mni_seterr(db, MN_ENOTFOUND, "%s: the tenant has no policy %s", doing, id);
}

int mni_store_no_memory(mn_db *db, const char *doing, const char *id, enum mni_memory_want want)
{
    return mni_seterr(db, MN_ENOTFOUND, "%s: the tenant has no memory %s%s", doing, id,
                     want == MNI_WANT_LIVE ? " that is not deleted already"
                     : want == MNI_WANT_DELETED ? " that is deleted"
                     : want == MNI_WANT_VISIBLE ? " (or it is deleted or expired)" : "");
}

int mni_store_no_job(mn_db *db, const char *memory_id)
{
    return mni_seterr(db, MN_ENOTFOUND, "memory %s has no embedding job (it is embedded "
                     "already, or not the tenant's)", memory_id);
}

int mni_store_no_limit(mn_db *db, const char *endpoint)
{
    return mni_seterr(db, MN_ENOTFOUND, "the tenant has no limit of its own for \"%.64s\" (it "
                     "uses the built-in one)", endpoint);
}

int mni_store_no_apikey(mn_db *db, const char *id)
{
    return mni_seterr(db, MN_ENOTFOUND, "the tenant has no API key \"%.64s\" (mn_apikey_list "
                     "shows its keys)", id);
}

int mni_store_no_webhook(mn_db *db, const char *id)
{
    return mni_seterr(db, MN_ENOTFOUND, "the tenant has no webhook \"%.64s\" (mn_webhook_list "
                     "shows its webhooks)", id);
}

int mni_store_no_delivery(mn_db *db, int64_t id)
{
    return mni_seterr(db, MN_ENOTFOUND, "the tenant has no dead webhook delivery %lld (only a "
                     "dead one is retried; mn_webhook_deliveries_list with MN_DELIVERY_DEAD "
                     "shows them)", (long long)id);
}
