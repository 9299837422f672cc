/*
 * Redis counters: each key is the sliding window of sub-window counts of window.c, its fields
 * packed in one 512-byte string. One Lua script reads it, moves it to the present, decides
 * and writes it back when it admits, atomically (Redis runs a script alone), so the count is
 * exact across processes; a decision costs the same small constant whatever n and the limit.
 * The time comes from TIME on the server, so the hosts' clocks do not matter. The script is
 * loaded (SCRIPT LOAD) at the first decision and called by its SHA1 (EVALSHA): one round trip
 * per decision. A server that lost it (restart, SCRIPT FLUSH) answers NOSCRIPT; it is loaded
 * again and the call repeated, transparently.
 */
#include "ratelimit/counter.h"
#include "ratelimit/window.h"
#include "core/error.h"
#include "redis/redis.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* KEYS[1] the counter; ARGV window (µs), limit, n, peek ("1"), and a time in µs that tests
 * give to run both backends on one sequence (the library never does: the server's clock is
 * the one every process shares). Returns {allowed, count, retry_after_us (-1: n > limit),
 * reset_in_us (0: none counted), now_ms}. The steps are window.c's, name for name. Every
 * number is an integer below 2^53, so a Lua double holds it exactly and math.floor of a
 * quotient is the integer one. A key that is not the 512-byte state (one left by the sorted
 * set of an earlier version) is taken as empty and replaced at the next admission. The window
 * is written back whenever it changed, as the in-process counters keep it, so that both go on
 * from the same state: when calls are admitted, and when time moved it (at most twice per
 * sub-window), which also keeps the newest time seen for a later clock reading that is older. */
const char mni_counter_redis_script[] =
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local S = " STR(MNI_RL_SUBWINDOWS) "\n"
    "local R = S + 1\n"
    "local FMT = '<' .. string.rep('i8', R + 3)\n"
    "local key = KEYS[1]\n"
    "local w, limit, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local t = tonumber(ARGV[5])\n"
    "if not t then\n"
    "  local tm = redis.call('TIME')\n"
    "  t = tonumber(tm[1]) * 1000000 + tonumber(tm[2])\n"
    "end\n"
    "local g = math.floor((w + S - 1) / S)\n"
    "local head, oldest, total, count = 0, 0, 0, {}\n"
    "local st = redis.pcall('GET', key)\n"
    "local kept = type(st) == 'string' and #st == 8 * (R + 3)\n"
    "if kept then\n"
    "  local v = {struct.unpack(FMT, st)}\n"
    "  head, oldest, total = v[1], v[2], v[3]\n"
    "  for i = 0, S do count[i] = v[i + 4] end\n"
    "else\n"
    "  for i = 0, S do count[i] = 0 end\n"
    "end\n"
    "local head0, oldest0 = head, oldest\n"
    "local function save(...)\n"
    "  redis.call('SET', key, struct.pack(FMT, head, oldest, total, unpack(count, 0, S)), ...)\n"
    "end\n"
    /* advance */
    "local k, lo = math.floor(t / g), math.floor((t - w) / g)\n"
    "if k > head then head = k end\n"
    "if total > 0 and lo - oldest > S then\n"
    "  for i = 0, S do count[i] = 0 end\n"
    "  total = 0\n"
    "end\n"
    "while total > 0 and oldest < lo do\n"
    "  total = total - count[oldest % R]\n"
    "  count[oldest % R] = 0\n"
    "  oldest = oldest + 1\n"
    "end\n"
    "while total > 0 and count[oldest % R] == 0 do oldest = oldest + 1 end\n"
    "if total == 0 then oldest = head end\n"
    /* freed_at */
    "local function freed_at(need)\n"
    "  local j = oldest\n"
    "  local freed = count[j % R]\n"
    "  while freed < need do\n"
    "    j = j + 1\n"
    "    freed = freed + count[j % R]\n"
    "  end\n"
    "  return (j + 1) * g + w\n"
    "end\n"
    /* mni_rl_window_decide */
    "local allowed, retry = 0, 0\n"
    "if n <= limit and total + n <= limit then\n"
    "  allowed = 1\n"
    "  if ARGV[4] ~= '1' then\n"
    "    count[head % R] = count[head % R] + n\n"
    "    total = total + n\n"
    "  end\n"
    "elseif n <= limit then\n"
    "  retry = freed_at(total + n - limit) - t\n"
    "else\n"
    "  retry = -1\n"
    "end\n"
    "local reset = 0\n"
    "if total > 0 then reset = freed_at(1) - t end\n"
    /* Kept until the newest calls stop counting. A decision that records nothing still keeps
     * the window it moved (as the in-process counters do), with the expiry it had. */
    "if allowed == 1 and ARGV[4] ~= '1' then\n"
    "  save('PX', math.ceil(((head + 1) * g + w - t) / 1000))\n"
    "elseif kept and (head ~= head0 or oldest ~= oldest0) then\n"
    "  save('KEEPTTL')\n"
    "end\n"
    "return {allowed, total, retry, reset, math.floor(t / 1000)}\n";

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
    const char *argv[] = {"SCRIPT", "LOAD", mni_counter_redis_script};
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

static void rc_set_metrics(struct mni_counter *c, struct mni_metrics *m)
{
    mni_redis_pool_set_metrics(((struct rc_counter *)c)->pool, m);
}

static int rc_ping(struct mni_counter *c, char *err, size_t errlen)
{
    const char *argv[] = {"PING"};
    const size_t lens[] = {4};
    redisReply *r = NULL;
    int rc = mni_redis_command(((struct rc_counter *)c)->pool, 1, argv, lens, &r, err, errlen);
    if (rc == MN_OK && r->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "Redis answered PING with an error: %.200s", r->str);
        rc = MN_EBACKEND;
    }
    if (r)
        freeReplyObject(r);
    return rc;
}

static const struct mni_counter_ops redis_ops = {"redis", rc_decide, rc_reset, rc_destroy,
                                                 rc_set_metrics, rc_ping};

int mni_counter_redis_create(mn_db *db, mn_config *cfg, struct mni_counter **out)
{
    struct rc_counter *r = calloc(1, sizeof *r);
    if (!r)
        return mni_seterr(db, MN_ENOMEM, "out of memory");
    int rc = mni_redis_config_pool(db, cfg, &r->pool);
    if (rc != MN_OK) {
        free(r);
        return rc;
    }
    r->base.ops = &redis_ops;
    r->base.db = db;
    pthread_mutex_init(&r->mu, NULL);
    *out = &r->base;
    return MN_OK;
}
