/* Rate limits in the public API: decisions for host programs (hit, peek, reset) and the
 * tenant's limits (list, get, set, delete). The library's own calls are limited through
 * mni_ratelimit_enforce (api/limiter.c). */
#include "api/audit.h"
#include "api/access.h"
#include "api/metrics.h"
#include "api/abi_structs.h"
#include "api/actor.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "api/limiter.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* Checks a decision's arguments but the endpoint's name, which the limiter checks the first
 * time it meets it (mni_rl_slot). An actor by API key names its tenant and identity from *g
 * (released by the caller). */
static int check(mn_db *db, const mn_actor *in, int64_t n, mn_actor *actor,
                 struct mni_apikey_grant *g)
{
    memset(g, 0, sizeof *g);
    if (!mni_rl_enabled(db))
        return mni_seterr(db, MN_EUNSUPPORTED, "rate limiting is off for this handle "
                         "(mn_config.ratelimit is MN_RATELIMIT_OFF)");
    if (n < 1)
        return mni_seterr(db, MN_EINVAL, "n is %lld; give the number of calls, >= 1",
                         (long long)n);
    return mni_actor_read(db, in, actor, g);
}

static int decide(mn_db *db, const mn_actor *actor, const char *endpoint, int64_t n, int peek,
                  mn_ratelimit_result *out)
{
    if (!db)
        return mni_err_no_db(__func__);
    mn_ratelimit_result r = {0};
    mn_actor a;
    struct mni_apikey_grant g = {0};
    /* out is cleared first, so that a bad version fails before anything is counted. */
    int rc = out ? mni_abi_write(db, &mni_abi_ratelimit_result, out, &r) : MN_OK;
    if (rc == MN_OK)
        rc = check(db, actor, n, &a, &g);
    if (rc == MN_OK)
        rc = mni_rl_decide(db, a.tenant, a.identity, endpoint, n, peek, MNI_RL_HOST, &r);
    mni_apikey_grant_release(&g);
    if (out && (rc == MN_OK || rc == MN_ELIMITED))
        mni_abi_write(db, &mni_abi_ratelimit_result, out, &r); /* checked above */
    return rc;
}

static int ratelimit_hit(mn_db *db, const mn_actor *actor, const char *endpoint, int64_t n,
                         mn_ratelimit_result *out)
{
    return decide(db, actor, endpoint, n, 0, out);
}

int mn_ratelimit_hit(mn_db *db, const mn_actor *actor, const char *endpoint, int64_t n,
                     mn_ratelimit_result *out)
{
    MNI_TIMED_SAMPLED(db, ratelimit_hit, ratelimit_hit(db, actor, endpoint, n, out));
}

int mn_ratelimit_peek(mn_db *db, const mn_actor *actor, const char *endpoint, int64_t n,
                      mn_ratelimit_result *out)
{
    if (db && !out)
        return mni_seterr(db, MN_EINVAL, "out is NULL; pass an mn_ratelimit_result to fill");
    return decide(db, actor, endpoint, n, 1, out);
}

/* Resolves the actor and asks its policies for `action` on "ratelimit". */
static int managed(mn_db *db, const mn_actor *actor, const char *action, struct mni_who *who)
{
    int rc = mni_who_resolve(db, actor, who);
    return rc == MN_OK ? mni_access_check(db, who, action, "ratelimit", NULL) : rc;
}

int mn_ratelimit_reset(mn_db *db, const mn_actor *actor, const char *endpoint)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    mn_actor a;
    struct mni_apikey_grant g = {0};
    int rc = check(db, actor, 1, &a, &g);
    if (rc == MN_OK)
        rc = mni_rl_check_endpoint(db, endpoint, 0);
    if (rc == MN_OK)
        rc = managed(db, actor, "delete", &who);
    if (rc == MN_OK)
        rc = mni_rl_reset(db, a.tenant, a.identity, endpoint);
    mni_apikey_grant_release(&g);
    mni_who_release(&who);
    return rc;
}

/* The tenant's own limits: none from a store that keeps none. */
static int own_limits(mn_db *db, const char *tenant_id, mn_limits **out)
{
    if (db->store->ops->ratelimit_limit_list)
        return db->store->ops->ratelimit_limit_list(db->store, tenant_id, out);
    *out = calloc(1, sizeof **out);
    return *out ? MN_OK : mni_seterr(db, MN_ENOMEM, "out of memory");
}

/* A new mn_limit, or NULL when out of memory. */
static mn_limit *new_limit(const char *endpoint, int64_t limit, int64_t window_ms,
                           int overridden)
{
    mn_limit *l = calloc(1, sizeof *l);
    if (l && !(l->endpoint = strdup(endpoint))) {
        free(l);
        return NULL;
    }
    if (l) {
        l->limit = limit;
        l->window_ms = window_ms;
        l->overridden = overridden;
    }
    return l;
}

static int by_endpoint(const void *a, const void *b)
{
    return strcmp((*(mn_limit *const *)a)->endpoint, (*(mn_limit *const *)b)->endpoint);
}

/* Every built-in limit the tenant did not replace, then its own, sorted. */
static int merge(mn_db *db, mn_limits *own, mn_limits **out)
{
    mn_limits *l = calloc(1, sizeof *l);
    if (l)
        l->items = calloc(own->count + mni_rl_nbuiltins, sizeof *l->items);
    int rc = l && l->items ? MN_OK : MN_ENOMEM;
    for (size_t i = 0; rc == MN_OK && i < mni_rl_nbuiltins; i++) {
        const struct mni_rl_builtin *b = &mni_rl_builtins[i];
        int replaced = 0;
        for (size_t j = 0; j < own->count && !replaced; j++)
            replaced = strcmp(own->items[j]->endpoint, b->endpoint) == 0;
        if (!replaced && !(l->items[l->count++] = new_limit(b->endpoint, b->limit,
                                                             b->window_ms, 0)))
            rc = MN_ENOMEM;
    }
    for (size_t j = 0; rc == MN_OK && j < own->count; j++) {
        const mn_limit *o = own->items[j];
        if (!(l->items[l->count++] = new_limit(o->endpoint, o->limit, o->window_ms, 1)))
            rc = MN_ENOMEM;
    }
    if (rc != MN_OK) {
        mn_limits_free(l);
        return mni_seterr(db, MN_ENOMEM, "out of memory");
    }
    qsort(l->items, l->count, sizeof *l->items, by_endpoint);
    *out = l;
    return MN_OK;
}

int mn_limit_list(mn_db *db, const mn_actor *actor, mn_limits **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    int rc = mni_require(db, out, "out");
    struct mni_who who = {0};
    mn_limits *own = NULL;
    if (rc == MN_OK)
        rc = managed(db, actor, "read", &who);
    if (rc == MN_OK)
        rc = own_limits(db, who.tenant->id, &own);
    if (rc == MN_OK)
        rc = merge(db, own, out);
    mn_limits_free(own);
    mni_who_release(&who);
    return rc;
}

int mn_limit_get(mn_db *db, const mn_actor *actor, const char *endpoint,
                 mn_limit **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = mni_rl_check_endpoint(db, endpoint, 1);
    mn_limits *all = NULL;
    if (rc == MN_OK)
        rc = mn_limit_list(db, actor, &all);
    if (rc != MN_OK)
        return rc;
    /* An endpoint not listed has the tenant's "*" limit, which the list always holds. */
    const mn_limit *hit = NULL, *star = NULL;
    for (size_t i = 0; i < all->count; i++) {
        if (strcmp(all->items[i]->endpoint, endpoint) == 0)
            hit = all->items[i];
        if (strcmp(all->items[i]->endpoint, "*") == 0)
            star = all->items[i];
    }
    if (!hit)
        hit = star;
    mn_limit *l = new_limit(endpoint, hit->limit, hit->window_ms,
                            hit != star || strcmp(endpoint, "*") == 0 ? hit->overridden : 0);
    if (!l)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    mn_limits_free(all);
    *out = l;
    return rc;
}

/* Checks a limit change and resolves who may make it. */
static int change_begin(mn_db *db, const mn_actor *actor, const char *endpoint, int has_values,
                        int64_t limit, int64_t window_ms, struct mni_who *who)
{
    int rc = mni_rl_check_endpoint(db, endpoint, 1);
    if (rc == MN_OK && has_values && (limit < 1 || limit > MNI_RL_LIMIT_MAX))
        rc = mni_seterr(db, MN_EINVAL, "limit is %lld; give 1..%lld calls per window",
                       (long long)limit, (long long)MNI_RL_LIMIT_MAX);
    if (rc == MN_OK && has_values && (window_ms < 1 || window_ms > MNI_RL_WINDOW_MAX_MS))
        rc = mni_seterr(db, MN_EINVAL, "window_ms is %lld; give 1..%lld (31 days)",
                       (long long)window_ms, (long long)MNI_RL_WINDOW_MAX_MS);
    if (rc == MN_OK && (!db->store->ops->ratelimit_limit_put ||
                        !db->store->ops->ratelimit_limit_delete))
        rc = mni_seterr(db, MN_EUNSUPPORTED, "this store (%s) keeps no rate limits of its own "
                       "yet; tenants use the built-in limits", db->store->ops->scheme);
    return rc == MN_OK ? managed(db, actor, "update", who) : rc;
}

int mn_limit_set(mn_db *db, const mn_actor *actor, const char *endpoint,
                 int64_t limit, int64_t window_ms)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    int rc = change_begin(db, actor, endpoint, 1, limit, window_ms, &who);
    struct mni_audit_call au = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, "limit:update", &endpoint, 1, &au);
    if (rc == MN_OK)
        rc = db->store->ops->ratelimit_limit_put(db->store, who.tenant->id, endpoint, limit,
                                                 window_ms, mni_now_ms(), &au.au);
    mni_audit_call_release(&au);
    if (rc == MN_OK)
        mni_rl_targets_invalidate(db);
    mni_who_release(&who);
    return rc;
}

int mn_limit_delete(mn_db *db, const mn_actor *actor, const char *endpoint)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    int rc = change_begin(db, actor, endpoint, 0, 0, 0, &who);
    struct mni_audit_call au = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, "limit:delete", &endpoint, 1, &au);
    if (rc == MN_OK)
        rc = db->store->ops->ratelimit_limit_delete(db->store, who.tenant->id, endpoint,
                                                    &au.au);
    mni_audit_call_release(&au);
    if (rc == MN_OK)
        mni_rl_targets_invalidate(db);
    mni_who_release(&who);
    return rc;
}

int mn_ratelimit_stats_get(mn_db *db, mn_ratelimit_stats *out)
{
    if (!db)
        return mni_err_no_db(__func__);
    mn_ratelimit_stats s = { .version = MN_RATELIMIT_STATS_VERSION };
    mni_rl_stats(db, &s);
    return mni_abi_write(db, &mni_abi_ratelimit_stats, out, &s);
}
