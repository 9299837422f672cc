/*
 * Who an actor is, read through the cache: the store's actor_get (a tenant by id or name, an
 * identity by id or external id, the tenant's policy generation), which every data call does,
 * kept for 30 minutes (the guide's TTL for identities) under the directory's generation.
 * Failures (an unknown tenant, a store error) are never cached: they go to the store each time.
 */
#include "api/cache.h"
#include "api/handle.h"
#include "cache/cache.h"
#include "cache/codec.h"
#include "core/metrics.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define ACTOR_TTL_MS (30 * 60 * 1000)
#define ACTOR_FORMAT 1

/* "a", the generation, then the names as given; NULL identity (the system actor) differs from
 * any name by its marker byte. */
static int make_key(struct mni_wbuf *k, uint64_t gen, const char *tenant, const char *identity)
{
    mni_wbuf_format(k, 'a');
    mni_wbuf_i64(k, (int64_t)gen);
    mni_wbuf_str(k, tenant);
    mni_wbuf_str(k, identity);
    return !k->oom;
}

static void encode(struct mni_wbuf *w, const mn_tenant *t, const mn_identity *i, int64_t gen)
{
    mni_wbuf_format(w, ACTOR_FORMAT);
    mni_wbuf_str(w, t->id);
    mni_wbuf_str(w, t->name);
    mni_wbuf_i64(w, t->created_at);
    mni_wbuf_i64(w, gen);
    mni_wbuf_i64(w, i != NULL);
    if (!i)
        return;
    mni_wbuf_str(w, i->id);
    mni_wbuf_str(w, i->tenant_id);
    mni_wbuf_str(w, i->external_id);
    mni_wbuf_str(w, i->role);
    mni_wbuf_str(w, i->claims);
    mni_wbuf_i64(w, i->active);
    mni_wbuf_i64(w, i->created_at);
    mni_wbuf_i64(w, i->updated_at);
}

/* 1 with *t, *i and *gen made from v; 0 (nothing made) when v is not a whole actor. */
static int decode(const void *v, size_t n, mn_tenant **t, mn_identity **i, int64_t *gen)
{
    struct mni_rbuf r = {v, n, 0};
    mn_tenant *nt = mni_rbuf_format(&r, ACTOR_FORMAT) ? calloc(1, sizeof *nt) : NULL;
    if (!nt)
        return 0;
    mn_identity *ni = NULL;
    nt->id = mni_rbuf_str(&r);
    nt->name = mni_rbuf_str(&r);
    nt->created_at = mni_rbuf_i64(&r);
    *gen = mni_rbuf_i64(&r);
    int has_identity = mni_rbuf_i64(&r) != 0;
    if (has_identity && !r.bad && !(ni = calloc(1, sizeof *ni)))
        r.bad = 1;
    if (ni) {
        ni->id = mni_rbuf_str(&r);
        ni->tenant_id = mni_rbuf_str(&r);
        ni->external_id = mni_rbuf_str(&r);
        ni->role = mni_rbuf_str(&r);
        ni->claims = mni_rbuf_str(&r);
        ni->active = (int)mni_rbuf_i64(&r);
        ni->created_at = mni_rbuf_i64(&r);
        ni->updated_at = mni_rbuf_i64(&r);
    }
    int whole = !r.bad && r.n == 0 && nt->id && nt->name &&
                (!has_identity || (ni->id && ni->tenant_id && ni->external_id && ni->role &&
                                   ni->claims));
    if (!whole) {
        mn_tenant_free(nt);
        mn_identity_free(ni);
        return 0;
    }
    *t = nt;
    *i = ni;
    return 1;
}

int mni_cached_actor_get(mn_db *db, const char *tenant, const char *identity, mn_tenant **t,
                         mn_identity **i, int64_t *policy_gen)
{
    struct mni_cache *c = db->cache;
    struct mni_wbuf k = {0};
    uint64_t gen = c ? c->ops->gen(c, MNI_SCOPE_DIRECTORY) : 0;
    int keyed = gen && make_key(&k, gen, tenant, identity);
    if (keyed) {
        void *v;
        size_t n;
        int hit = mni_cache_lookup(db, MNI_CACHE_IDENTITY, k.p, k.n, &v, &n);
        if (hit) {
            hit = decode(v, n, t, i, policy_gen);
            free(v);
        }
        if (hit) {
            mni_wbuf_free(&k);
            return MN_OK;
        }
    }
    int rc = db->store->ops->actor_get(db->store, tenant, identity, t, i, policy_gen);
    if (rc == MN_OK && keyed) {
        struct mni_wbuf v = {0};
        encode(&v, *t, *i, *policy_gen);
        if (!v.oom)
            c->ops->put(c, k.p, k.n, v.p, v.n, ACTOR_TTL_MS);
        mni_wbuf_free(&v);
    }
    mni_wbuf_free(&k);
    return rc;
}
