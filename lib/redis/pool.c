/*
 * The pool: connections are made on demand up to max_conns, kept on an idle stack between
 * commands, PINGed before use when they sat idle past the health-check interval, and dropped
 * when a command on them fails. A command whose connection failed or timed out is retried on a
 * new connection (a server restart leaves every idle connection dead: the first failure drops
 * them all, so the retry connects afresh). A thread finding every connection busy waits for
 * one up to the reply timeout.
 */
#include "redis/redis.h"
#include "core/metrics.h"
#include "manushya.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct conn {
    redisContext *c;
    time_t used;               /* last reply, monotonic seconds */
};

struct mni_redis_pool {
    struct mni_redis_target t;
    struct mni_redis_options o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct conn *idle;         /* stack of max_conns */
    int nidle, total;
    struct mni_metrics *metrics; /* NULL: none */
};

void mni_redis_pool_set_metrics(struct mni_redis_pool *p, struct mni_metrics *m)
{
    p->metrics = m;
    mni_metrics_add(m, MNI_S_POOL_SIZE + MNI_POOL_REDIS, p->o.max_conns);
}

static time_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static struct timeval tv_ms(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

int mni_redis_pool_create(const char *url, const struct mni_redis_options *o,
                         struct mni_redis_pool **out, char *err, size_t errlen)
{
    *out = NULL;
    struct mni_redis_pool *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return MN_ENOMEM;
    }
    int rc = mni_redis_parse_url(url, &p->t, err, errlen);
    if (rc != MN_OK) {
        free(p);
        return rc;
    }
    p->o = *o;
    if (!p->o.max_conns)
        p->o.max_conns = MNI_REDIS_MAX_CONNS;
    if (!p->o.connect_timeout_ms)
        p->o.connect_timeout_ms = MNI_REDIS_TIMEOUT_MS;
    if (!p->o.timeout_ms)
        p->o.timeout_ms = MNI_REDIS_TIMEOUT_MS;
    if (!p->o.health_check_s)
        p->o.health_check_s = MNI_REDIS_HEALTH_S;
    if (!p->o.retries)
        p->o.retries = MNI_REDIS_RETRIES;
    if (p->o.retries < 0)
        p->o.retries = 0;
    p->idle = calloc((size_t)p->o.max_conns, sizeof *p->idle);
    if (!p->idle) {
        free(p);
        snprintf(err, errlen, "out of memory");
        return MN_ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    *out = p;
    return MN_OK;
}

void mni_redis_pool_free(struct mni_redis_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nidle; i++)
        redisFree(p->idle[i].c);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->idle);
    free(p);
}

/* A command on c outside the pool's accounting (connect-time AUTH, SELECT, PING): 1 when it
 * got a reply that is not an error. */
static int simple(redisContext *c, char *err, size_t errlen, const char *what, int argc,
                  const char **argv)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    int ok = r && r->type != REDIS_REPLY_ERROR;
    if (!r)
        snprintf(err, errlen, "%s failed: %s", what, c->errstr);
    else if (!ok)
        snprintf(err, errlen, "%s refused: %.200s", what, r->str);
    if (r)
        freeReplyObject(r);
    return ok;
}

static redisContext *connect_one(struct mni_redis_pool *p, char *err, size_t errlen)
{
    redisContext *c = redisConnectWithTimeout(p->t.host, p->t.port,
                                              tv_ms(p->o.connect_timeout_ms));
    if (!c) {
        snprintf(err, errlen, "out of memory connecting to Redis");
        return NULL;
    }
    if (c->err) {
        snprintf(err, errlen, "cannot connect to Redis at %s:%d: %s", p->t.host, p->t.port,
                 c->errstr);
        redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv_ms(p->o.timeout_ms));
    redisEnableKeepAlive(c);
    char db[16];
    snprintf(db, sizeof db, "%d", p->t.db);
    const char *auth[] = {"AUTH", p->t.user, p->t.password};
    const char *select[] = {"SELECT", db};
    int ok = 1;
    if (p->t.password[0])
        ok = *p->t.user ? simple(c, err, errlen, "Redis AUTH (check the URL's user and "
                                 "password)", 3, auth)
                        : simple(c, err, errlen, "Redis AUTH (check the URL's password)", 2,
                                 (const char *[]){"AUTH", p->t.password});
    if (ok && p->t.db)
        ok = simple(c, err, errlen, "Redis SELECT of the URL's database", 2, select);
    if (!ok) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* Drops every idle connection (after a failure: they are probably dead too). */
static void drop_idle(struct mni_redis_pool *p)
{
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nidle; i++)
        redisFree(p->idle[i].c);
    p->total -= p->nidle;
    p->nidle = 0;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void release(struct mni_redis_pool *p, redisContext *c)
{
    pthread_mutex_lock(&p->mu);
    if (c) {
        p->idle[p->nidle].c = c;
        p->idle[p->nidle].used = mono_s();
        p->nidle++;
    } else {
        p->total--;
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* A connection for one command: idle (checked if it sat long), new, or the next one freed. */
static int acquire(struct mni_redis_pool *p, redisContext **out, char *err, size_t errlen)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += p->o.timeout_ms / 1000;
    until.tv_nsec += (long)(p->o.timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&p->mu);
    int waited = 0;
    for (;;) {
        if (p->nidle) {
            struct conn k = p->idle[--p->nidle];
            pthread_mutex_unlock(&p->mu);
            const char *ping[] = {"PING"};
            if (mono_s() - k.used < p->o.health_check_s ||
                simple(k.c, err, errlen, "Redis health check (PING)", 1, ping)) {
                *out = k.c;
                return MN_OK;
            }
            redisFree(k.c); /* dead: make a new one in its place */
            break;
        }
        if (p->total < p->o.max_conns) {
            p->total++;
            pthread_mutex_unlock(&p->mu);
            break;
        }
        if (!waited++)
            mni_metrics_inc(p->metrics, MNI_S_POOL_WAITS + MNI_POOL_REDIS);
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->mu);
            mni_metrics_inc(p->metrics, MNI_S_POOL_TIMEOUTS + MNI_POOL_REDIS);
            snprintf(err, errlen, "all %d Redis connections stayed busy for %d ms; raise "
                     "mn_config.redis_pool_max", p->o.max_conns, p->o.timeout_ms);
            return MN_EBACKEND;
        }
    }
    *out = connect_one(p, err, errlen);
    if (!*out) {
        release(p, NULL);
        return MN_EBACKEND;
    }
    return MN_OK;
}

int mni_redis_command(struct mni_redis_pool *p, int argc, const char **argv, const size_t *argvlen,
                     redisReply **reply, char *err, size_t errlen)
{
    *reply = NULL;
    for (int attempt = 0;; attempt++) {
        redisContext *c;
        int rc = acquire(p, &c, err, errlen);
        if (rc != MN_OK)
            return rc; /* no connection to be had: retrying would only wait again */
        mni_metrics_inc(p->metrics, MNI_S_POOL_IN_USE + MNI_POOL_REDIS);
        *reply = redisCommandArgv(c, argc, argv, argvlen);
        mni_metrics_add(p->metrics, MNI_S_POOL_IN_USE + MNI_POOL_REDIS, -1);
        if (*reply) {
            release(p, c);
            return MN_OK;
        }
        snprintf(err, errlen, "Redis at %s:%d did not answer: %s", p->t.host, p->t.port,
                 c->errstr[0] ? c->errstr : "connection lost");
        redisFree(c);
        release(p, NULL);
        drop_idle(p);
        if (attempt >= p->o.retries)
            return MN_EBACKEND;
    }
}
