/*
 * Redis counters: each key is a sorted set of the calls admitted in its window, scored by the
 * server's time in µs. One Lua script drops the calls that left the window, counts the rest
 * and admits n more if they fit, atomically (Redis runs a script alone), so the count is exact
 * across processes; the time comes from TIME on the server, so the hosts' clocks do not
 * matter. The script is loaded (SCRIPT LOAD) at the first decision and called by its SHA1
 * (EVALSHA): one round trip per decision. A server that lost it (restart, SCRIPT FLUSH) answers
 * NOSCRIPT; it is loaded again and the call repeated, transparently.
 */
#include "ratelimit/counter.h"
#include "core/error.h"
#include "redis/redis.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* KEYS[1] the counter; ARGV window (µs), limit, n, peek ("1"). Returns {allowed, count,
 * retry_after_us (-1: n > limit), reset_in_us (0: none counted), now_ms}. Times are passed to
 * Redis as integer strings: a Lua number would be formatted with 14 digits, and a time in µs
 * has 16. Members are "time-index", unique per call; a clash (the clock went back) only adds
 * a '+'. */
static const char SCRIPT[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local key = KEYS[1]\n"
    "local w, limit, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local nows = string.format('%.0f', now)\n"
    "redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now - w))\n"
    "local count = redis.call('ZCARD', key)\n"
    "local function oldest()\n"
    "  local o = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')\n"
    "  if o[2] then return tonumber(o[2]) + w - now end\n"
    "  return 0\n"
    "end\n"
    "local nowms = math.floor(now / 1000)\n"
    "if count + n <= limit then\n"
    "  if ARGV[4] ~= '1' then\n"
    "    for i = 1, n do\n"
    "      local m = nows .. '-' .. (count + i)\n"
    "      while redis.call('ZADD', key, nows, m) == 0 do m = m .. '+' end\n"
    "    end\n"
    "    count = count + n\n"
    "    redis.call('PEXPIRE', key, math.ceil(w / 1000) + 1)\n"
    "  end\n"
    "  return {1, count, 0, oldest(), nowms}\n"
    "end\n"
    "local retry = -1\n"
    "if n <= limit then\n"
    "  local i = count + n - limit - 1\n"
    "  local e = redis.call('ZRANGE', key, i, i, 'WITHSCORES')\n"
    "  retry = tonumber(e[2]) + w - now\n"
    "end\n"
    "return {0, count, retry, oldest(), nowms}\n";

struct rc_counter {
    struct mni_counter base;
    struct mni_redis_pool *pool;
    pthread_mutex_t mu;
    char sha[41];              /* the loaded script's SHA1; "" until loaded */
};

static int fail(struct rc_counter *r, const char *err)
{
    return mni_seterr(r->base.db, MN_EBACKEND, "%s", err);
}

/* SCRIPT LOAD: the server gives the SHA1 to call it by. */
static int load(struct rc_counter *r, char sha[41])
{
    const char *argv[] = {"SCRIPT", "LOAD", SCRIPT};
    redisReply *rep;
    char err[MNI_ERRMSG_MAX];
    int rc = mni_redis_command(r->pool, 3, argv, NULL, &rep, err, sizeof err);
    if (rc != MN_OK)
        return fail(r, err);
    if (rep->type != REDIS_REPLY_STRING || rep->len != 40) {
        rc = mni_seterr(r->base.db, MN_EBACKEND, "Redis refused the rate-limit script: %.200s",
                       rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
    } else {
        memcpy(sha, rep->str, 41);
        pthread_mutex_lock(&r->mu);
        memcpy(r->sha, sha, 41);
        pthread_mutex_unlock(&r->mu);
    }
    freeReplyObject(rep);
    return rc;
}

static int read_reply(struct rc_counter *r, const redisReply *rep, struct mni_count_res *out)
{
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 5)
        return mni_seterr(r->base.db, MN_EBACKEND, "Redis answered the rate-limit script "
                         "with %s", rep->type == REDIS_REPLY_ERROR ? rep->str : "an unexpected "
                         "reply");
    long long v[5];
    for (int i = 0; i < 5; i++) {
        if (rep->element[i]->type != REDIS_REPLY_INTEGER)
            return mni_seterr(r->base.db, MN_EBACKEND, "Redis answered the rate-limit script "
                             "with an unexpected reply");
        v[i] = rep->element[i]->integer;
    }
    out->allowed = v[0] == 1;
    out->count = v[1];
    out->retry_after_us = v[2];
    out->reset_in_us = v[3];
    out->now_ms = v[4];
    return MN_OK;
}

static int rc_decide(struct mni_counter *c, const struct mni_count_req *rq, struct mni_count_res *out)
{
    struct rc_counter *r = (struct rc_counter *)c;
    char sha[41], w[24], limit[24], n[24];
    pthread_mutex_lock(&r->mu);
    memcpy(sha, r->sha, sizeof sha);
    pthread_mutex_unlock(&r->mu);
    int rc = sha[0] ? MN_OK : load(r, sha);
    snprintf(w, sizeof w, "%lld", (long long)rq->window_us);
    snprintf(limit, sizeof limit, "%lld", (long long)rq->limit);
    snprintf(n, sizeof n, "%lld", (long long)rq->n);
    const char *argv[] = {"EVALSHA", sha, "1", rq->key, w, limit, n, rq->peek ? "1" : "0"};
    size_t len[] = {7, 40, 1, rq->keylen, strlen(w), strlen(limit), strlen(n), 1};
    for (int tries = 0; rc == MN_OK; tries++) {
        redisReply *rep;
        char err[MNI_ERRMSG_MAX];
        rc = mni_redis_command(r->pool, 8, argv, len, &rep, err, sizeof err);
        if (rc != MN_OK)
            return fail(r, err);
        /* The server lost the script (restart, SCRIPT FLUSH): load it again, once. */
        if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0 && !tries) {
            freeReplyObject(rep);
            rc = load(r, sha);
            continue;
        }
        rc = read_reply(r, rep, out);
        freeReplyObject(rep);
        return rc;
    }
    return rc;
}

static int rc_reset(struct mni_counter *c, const char *key, size_t keylen, uint64_t hash)
{
    (void)hash;
    struct rc_counter *r = (struct rc_counter *)c;
    const char *argv[] = {"DEL", key};
    size_t len[] = {3, keylen};
    redisReply *rep;
    char err[MNI_ERRMSG_MAX];
    int rc = mni_redis_command(r->pool, 2, argv, len, &rep, err, sizeof err);
    if (rc != MN_OK)
        return fail(r, err);
    if (rep->type == REDIS_REPLY_ERROR)
        rc = mni_seterr(r->base.db, MN_EBACKEND, "Redis refused to reset the counter: %.200s",
                       rep->str);
    freeReplyObject(rep);
    return rc;
}

static void rc_destroy(struct mni_counter *c)
{
    struct rc_counter *r = (struct rc_counter *)c;
    mni_redis_pool_free(r->pool);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static const struct mni_counter_ops redis_ops = {"redis", rc_decide, rc_reset, rc_destroy};

/* The mn_config.redis_* fields, checked, as pool options; the defaults written back to cfg. */
static int options(mn_db *db, mn_config *cfg, struct mni_redis_options *o)
{
    const struct {
        int *v;
        const char *name;
        int lo, hi, def;
    } f[] = {
        {&cfg->redis_pool_max, "redis_pool_max", 1, 10000, MNI_REDIS_MAX_CONNS},
        {&cfg->redis_connect_timeout_ms, "redis_connect_timeout_ms", 1, 600000,
         MNI_REDIS_TIMEOUT_MS},
        {&cfg->redis_timeout_ms, "redis_timeout_ms", 1, 600000, MNI_REDIS_TIMEOUT_MS},
        {&cfg->redis_health_check_s, "redis_health_check_s", 1, 86400, MNI_REDIS_HEALTH_S},
        {&cfg->redis_retries, "redis_retries", -1, 10, MNI_REDIS_RETRIES},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (*f[i].v && (*f[i].v < f[i].lo || *f[i].v > f[i].hi))
            return mni_seterr(db, MN_EINVAL, "mn_config.%s is %d; give %d..%d (0 = the default, "
                             "%d)", f[i].name, *f[i].v, f[i].lo, f[i].hi, f[i].def);
        if (!*f[i].v)
            *f[i].v = f[i].def;
    }
    *o = (struct mni_redis_options){cfg->redis_pool_max, cfg->redis_connect_timeout_ms,
                                   cfg->redis_timeout_ms, cfg->redis_health_check_s,
                                   cfg->redis_retries};
    return MN_OK;
}

int mni_counter_redis_create(mn_db *db, mn_config *cfg, struct mni_counter **out)
{
    struct mni_redis_options o;
    int rc = options(db, cfg, &o);
    if (rc != MN_OK)
        return rc;
    struct rc_counter *r = calloc(1, sizeof *r);
    if (!r)
        return mni_seterr(db, MN_ENOMEM, "out of memory");
    char err[MNI_ERRMSG_MAX];
    rc = mni_redis_pool_create(cfg->redis_url, &o, &r->pool, err, sizeof err);
    if (rc != MN_OK) {
        free(r);
        return mni_seterr(db, rc, "mn_config.redis_url: %s", err);
    }
    r->base.ops = &redis_ops;
    r->base.db = db;
    pthread_mutex_init(&r->mu, NULL);
    *out = &r->base;
    return MN_OK;
}
