/*
 * The Redis connection layer, shared by whatever keeps state in Redis (rate-limit counters;
 * later caches): a URL parser and a thread-safe pool of hiredis connections with the
 * Manushya.ai guide's settings (at most 50 connections, connect and reply timeouts of 5 s, an
 * idle connection PINGed before use after 30 s, a command retried on a new connection when its
 * connection failed or timed out), all configurable.
 *
 * Errors are written into err (errlen bytes) as "what failed and what to do", never with the
 * password; callers turn them into mni_seterr messages.
 */
#ifndef MNI_REDIS_REDIS_H
#define MNI_REDIS_REDIS_H

#include "manushya.h"

#include <hiredis/hiredis.h>
#include <stddef.h>

struct mni_redis_target {
    char host[256];
    int port;                 /* default 6379 */
    int db;                   /* SELECTed on connect; default 0 */
    char user[128];           /* AUTH user password when set (Redis 6 ACL) */
    char password[256];       /* AUTH password when set */
};

/* redis://[[user]:password@]host[:port][/db], host a name, an IPv4 address or [IPv6].
 * MN_EINVAL for a malformed URL, MN_EUNSUPPORTED for rediss:// (this hiredis has no TLS). */
int mni_redis_parse_url(const char *url, struct mni_redis_target *t, char *err, size_t errlen);

struct mni_redis_options {     /* 0 = the default */
    int max_conns;            /* 50 */
    int connect_timeout_ms;   /* 5000 */
    int timeout_ms;           /* 5000, each reply */
    int health_check_s;       /* 30 */
    int retries;              /* 1; -1 = none */
};
#define MNI_REDIS_MAX_CONNS 50
#define MNI_REDIS_TIMEOUT_MS 5000
#define MNI_REDIS_HEALTH_S 30
#define MNI_REDIS_RETRIES 1

/* The mn_config.redis_* fields, checked (MN_EINVAL naming the field), as pool options; the
 * defaults are written back into cfg. */
int mni_redis_config_options(mn_db *db, mn_config *cfg, struct mni_redis_options *o);

struct mni_redis_pool;

/* Parses url and makes a pool; connects nothing yet. */
int mni_redis_pool_create(const char *url, const struct mni_redis_options *o,
                         struct mni_redis_pool **out, char *err, size_t errlen);
/* A pool to mn_config.redis_url with the options of mni_redis_config_options: MN_OK, or the
 * failure explained on db. */
int mni_redis_config_pool(mn_db *db, mn_config *cfg, struct mni_redis_pool **out);
void mni_redis_pool_free(struct mni_redis_pool *p);
/* Counts the pool's size, connections in use, waits and timeouts on m (core/metrics.h). */
struct mni_metrics;
void mni_redis_pool_set_metrics(struct mni_redis_pool *p, struct mni_metrics *m);

/* Runs one command (argv of argc binary-safe strings) on a pooled connection and returns the
 * reply in *reply (freeReplyObject it). A server error is a reply (REDIS_REPLY_ERROR), not a
 * failure. MN_EBACKEND when no reply came: the server is unreachable, timed out or busy past
 * the timeout on every try. */
int mni_redis_command(struct mni_redis_pool *p, int argc, const char **argv, const size_t *argvlen,
                     redisReply **reply, char *err, size_t errlen);

#endif
