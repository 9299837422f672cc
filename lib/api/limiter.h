/*
 * The rate limiter of a handle: the cache of actors and tenants' own limits
 * (limiter_targets.c), the cache of ready-made counter keys per actor and endpoint
 * (limiter_keys.c), decisions over a counter backend (lib/ratelimit) with the fail mode, stats and
 * log (limiter.c), and the check the API calls make for their actor (mni_ratelimit_enforce).
 */
#ifndef MNI_API_LIMITER_H
#define MNI_API_LIMITER_H

#include "api/actor.h"
#include "core/uuid.h"
#include "ratelimit/ratelimit.h"

#include <stdint.h>

struct mni_limiter;

/* Checks the handle's rate-limit settings and makes its limiter (db->limiter), with no
 * connection yet (Redis is reached at the first decision). */
int mni_limiter_open(mn_db *db);
void mni_limiter_close(struct mni_limiter *l);

/* ---- who and which limit (limiter_targets.c) ---- */
struct mni_rl_target {
    char tenant_id[MNI_UUID_LEN + 1];
    char identity_id[MNI_UUID_LEN + 1]; /* "" for the system actor */
    int multiplier;
    int64_t limit, window_ms;          /* the endpoint's, before the multiplier */
    int builtin;                       /* 1: the built-in limit, the tenant set none */
    int64_t fetched_ms;                /* when read from the store (coarse monotonic ms) and */
    uint64_t gen;                      /* the cache generation then: for caches built on it */
};
/* Resolves tenant (id or name) and identity (id or external_id; NULL: the system actor) and
 * the limit endpoint has for them, through a cache refreshed every ratelimit_refresh_ms. */
int mni_rl_target(mn_db *db, const char *tenant, const char *identity, const char *endpoint,
                 struct mni_rl_target *t);
/* Makes every cached entry stale (the tenant's limits changed through this handle). */
void mni_rl_targets_invalidate(mn_db *db);
/* 1 while t (from mni_rl_target) may still be used at now_ms (mni_mono_coarse_ms): read from the
 * store less than ratelimit_refresh_ms ago and no limit changed through this handle since. */
int mni_rl_target_fresh(const mn_db *db, const struct mni_rl_target *t, int64_t now_ms);
struct mni_rl_targets;
int mni_rl_targets_create(struct mni_rl_targets **out);
void mni_rl_targets_free(struct mni_rl_targets *c);

/* ---- counter keys, ready made (limiter_keys.c) ---- */
#define MNI_RL_KEY_MAX (sizeof "ratelimit:{}:::ms" + 2 * MNI_UUID_LEN + MNI_RL_ENDPOINT_MAX + 20)
struct mni_rl_slot {
    struct mni_rl_target t;
    uint64_t hash;                     /* mni_hash64 of key */
    size_t keylen;
    char key[MNI_RL_KEY_MAX];           /* ratelimit:{TENANT_ID}:ENDPOINT:WINDOW, per identity
                                        * ratelimit:{TENANT_ID}:IDENTITY_ID:ENDPOINT:WINDOW */
};
/* The target and counter key of tenant (id or name), identity (id or external_id; NULL: the
 * system actor) and endpoint, checked (MN_EINVAL for a bad endpoint name), through a cache;
 * now_ms: monotonic ms (the caller's clock reading, see mni_rl_target_fresh). */
struct mni_rl_slots;
int mni_rl_slot(mn_db *db, struct mni_rl_slots *c, const char *tenant, const char *identity,
               const char *endpoint, int64_t now_ms, struct mni_rl_slot *out);
int mni_rl_slots_create(struct mni_rl_slots **out);
void mni_rl_slots_free(struct mni_rl_slots *c);

/* ---- decisions (limiter.c) ---- */
/* 1 unless rate limiting is off for the handle. */
int mni_rl_enabled(const mn_db *db);
/* Decides for n calls of the actor (as mni_rl_slot names it) to endpoint (peek: records
 * nothing). caller: the host's own check (MNI_RL_HOST, mn_ratelimit_hit), always held to the
 * built-in limits, or the library's check of a call it makes for an identity, by API key or
 * not, which mn_config.ratelimit_defaults may exempt from them (admitted, out->limit 0). Admitted: MN_OK. Refused: MN_ELIMITED with the retry-after in the message (peek:
 * MN_OK, out->allowed 0). Counters unreachable: MN_OK (fail-open) or MN_EBACKEND (fail-closed),
 * out->checked 0. Other failures (bad endpoint, unknown actor): their code, *out zeroed. */
enum mni_rl_caller { MNI_RL_HOST, MNI_RL_IDENTITY, MNI_RL_APIKEY };
int mni_rl_decide(mn_db *db, const char *tenant, const char *identity, const char *endpoint,
                 int64_t n, int peek, enum mni_rl_caller caller, mn_ratelimit_result *out);
int mni_rl_reset(mn_db *db, const char *tenant, const char *identity, const char *endpoint);
void mni_rl_stats(const mn_db *db, mn_ratelimit_stats *out);
/* Whether the counters' server (Redis) answers: MN_OK, MN_EBACKEND (why in err), or
 * MN_EUNSUPPORTED when the handle's counters have no server. */
int mni_rl_ping(mn_db *db, char *err, size_t errlen);

/* The check of an API call made for who: MN_OK (admitted and counted, or not limited: the
 * system actor, or limiting off), MN_ELIMITED, or MN_EBACKEND (fail-closed). */
int mni_ratelimit_enforce(mn_db *db, const struct mni_who *who, const char *endpoint, int64_t n);

#endif
