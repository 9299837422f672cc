/* The PostgreSQL URL: a libpq URI whose query may also carry our options, which are taken out
 * here (libpq rejects parameters it does not know) and the rest handed to libpq as it was.
 * Messages never repeat the URL: it may hold a password. */
#include "store/postgres/pg.h"
#include "core/error.h"
#include "core/url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PGS_MAX_PARTITIONS 1024

/* An integer option in lo..hi. */
static int int_opt(mn_db *db, const char *name, const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || x < lo || x > hi)
        return mni_seterr(db, MN_EINVAL, "the database URL's option %s=%.32s is not a whole "
                         "number from %d to %d", name, v, lo, hi);
    *out = (int)x;
    return MN_OK;
}

/* schema=NAME: lower-case letters, digits and '_', not starting with a digit (no quoting
 * surprises: the name goes into a search_path). */
static int schema_ok(const char *v)
{
    if (!*v || strlen(v) > 63 || isdigit((unsigned char)*v))
        return 0;
    for (const char *p = v; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return 0;
    return 1;
}

/* libpq ends a user:password@ part (in rest, the URL after "scheme://") at its first '@': a
 * second one would make the rest of the password a host name, in messages too. */
static int one_at(mn_db *db, const char *rest, const char *which)
{
    const char *at = mni_url_userinfo_end(rest, strlen(rest));
    if (at && memchr(rest, '@', (size_t)(at - rest)))
        return mni_seterr(db, MN_EINVAL, "%s has two '@' before its host; write an '@' of the "
                         "user or password as %%40", which);
    return MN_OK;
}

/* One of our options; *ours = 0 when name is not one (it is libpq's). */
static int take_option(mn_db *db, struct pgs_options *o, const char *name, const char *v,
                       int *ours)
{
    *ours = 1;
    if (strcmp(name, "vector") == 0) {
        if (strcmp(v, "local") == 0)
            o->vector = PGS_VEC_LOCAL;
        else if (strcmp(v, "pgvector") == 0)
            o->vector = PGS_VEC_PGVECTOR;
        else if (strcmp(v, "auto") == 0)
            o->vector = PGS_VEC_AUTO;
        else
            return mni_seterr(db, MN_EINVAL, "the database URL's option vector=%.32s is not "
                             "one of local, pgvector, auto", v);
        return MN_OK;
    }
    if (strcmp(name, "partitions") == 0)
        return int_opt(db, name, v, 1, PGS_MAX_PARTITIONS, &o->partitions);
    if (strcmp(name, "pool_size") == 0)
        return int_opt(db, name, v, 1, 1000, &o->pool_size);
    if (strcmp(name, "pool_overflow") == 0)
        return int_opt(db, name, v, 0, 1000, &o->pool_overflow);
    if (strcmp(name, "pool_idle") == 0)
        return int_opt(db, name, v, 0, 1000, &o->pool_idle);
    if (strcmp(name, "connect_retry_ms") == 0)
        return int_opt(db, name, v, 0, 3600000, &o->connect_retry_ms);
    if (strcmp(name, "pool_timeout_ms") == 0)
        return int_opt(db, name, v, 1, 3600000, &o->pool_timeout_ms);
    if (strcmp(name, "pool_timeout") == 0) {
        int sec;
        int rc = int_opt(db, name, v, 1, 3600, &sec);
        if (rc == MN_OK) /* sec is set only then */
            o->pool_timeout_ms = sec * 1000;
        return rc;
    }
    if (strcmp(name, "pool_recycle") == 0)
        return int_opt(db, name, v, 0, 1000000, &o->pool_recycle_s);
    if (strcmp(name, "health_check") == 0)
        return int_opt(db, name, v, 0, 1000000, &o->health_check_s);
    if (strcmp(name, "ef_search") == 0)
        return int_opt(db, name, v, 1, 1000, &o->ef_search);
    if (strcmp(name, "migrate") == 0) {
        if (strcmp(v, "auto") != 0 && strcmp(v, "no") != 0)
            return mni_seterr(db, MN_EINVAL, "the database URL's option migrate=%.32s is not "
                             "auto or no", v);
        o->migrate = strcmp(v, "auto") == 0;
        return MN_OK;
    }
    if (strcmp(name, "schema") == 0) {
        if (!schema_ok(v))
            return mni_seterr(db, MN_EINVAL, "the database URL's option schema=%.64s is not a "
                             "plain name; use 1..63 lower-case letters, digits and '_'", v);
        free(o->schema);
        o->schema = strdup(v);
        return o->schema ? MN_OK : MN_ENOMEM;
    }
    if (strcmp(name, "index_dir") == 0) {
        if (strcmp(v, "none") != 0 && v[0] != '/')
            return mni_seterr(db, MN_EINVAL, "the database URL's option index_dir=%.64s is not "
                             "an absolute path; give one (percent-encoded), or none", v);
        free(o->index_dir);
        o->index_dir = strdup(strcmp(v, "none") == 0 ? "" : v);
        return o->index_dir ? MN_OK : MN_ENOMEM;
    }
    if (strcmp(name, "read_url") == 0) {
        if (strncmp(v, "postgres://", 11) != 0 && strncmp(v, "postgresql://", 13) != 0)
            return mni_seterr(db, MN_EINVAL, "the database URL's option read_url is not a "
                             "postgres:// URL; percent-encode the replica's URL as the value");
        if (one_at(db, strstr(v, "://") + 3, "the database URL's read_url") != MN_OK)
            return MN_EINVAL;
        free(o->read_conninfo);
        o->read_conninfo = strdup(v);
        return o->read_conninfo ? MN_OK : MN_ENOMEM;
    }
    *ours = 0;
    return MN_OK;
}

int pgs_options_parse(mn_db *db, const char *target, struct pgs_options *o)
{
    memset(o, 0, sizeof *o);
    o->vector = PGS_VEC_AUTO;
    o->partitions = 4;
    o->pool_size = 20;
    o->pool_overflow = 30;
    o->pool_idle = -1; /* = pool_size, once that is known */
    o->pool_timeout_ms = 30000;
    o->pool_recycle_s = 3600;
    o->health_check_s = 30;
    o->migrate = 1;
    /* The query starts after the user:password@ part, which may hold a '?'. */
    if (one_at(db, target, "the database URL") != MN_OK)
        return MN_EINVAL;
    const char *at = mni_url_userinfo_end(target, strlen(target));
    const char *q = strchr(at ? at : target, '?');
    size_t base = q ? (size_t)(q - target) : strlen(target);
    /* The rebuilt URL is never longer than the scheme plus the given one. */
    size_t cap = strlen(target) + 16;
    o->conninfo = malloc(cap);
    if (!o->conninfo)
        return mni_seterr(db, MN_ENOMEM, "out of memory reading the database URL");
    int n = snprintf(o->conninfo, cap, "postgresql://%.*s", (int)base, target);
    char sep = '?';
    int rc = MN_OK;
    for (const char *p = q ? q + 1 : NULL; rc == MN_OK && p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (len && eq) {
            char name[32];
            size_t nl = (size_t)(eq - p);
            char *v = mni_pct_decode(eq + 1, len - nl - 1, 1);
            int ours = 0;
            if (!v) {
                rc = mni_seterr(db, MN_EINVAL, "the database URL has a bad %%-escape in its "
                               "options");
            } else if (nl < sizeof name) {
                memcpy(name, p, nl);
                name[nl] = 0;
                rc = take_option(db, o, name, v, &ours);
            }
            free(v);
            if (rc == MN_OK && !ours) {
                n += snprintf(o->conninfo + n, cap - (size_t)n, "%c%.*s", sep, (int)len, p);
                sep = '&';
            }
        } else if (len) {
            rc = mni_seterr(db, MN_EINVAL, "the database URL's option \"%.32s\" has no value; "
                           "write name=value", p);
        }
        p = amp ? amp + 1 : NULL;
    }
    if (o->pool_idle < 0 || o->pool_idle > o->pool_size)
        o->pool_idle = o->pool_size;
    if (rc == MN_ENOMEM)
        mni_seterr(db, rc, "out of memory reading the database URL");
    if (rc != MN_OK)
        pgs_options_free(o);
    return rc;
}

void pgs_options_free(struct pgs_options *o)
{
    free(o->conninfo);
    free(o->read_conninfo);
    free(o->schema);
    free(o->index_dir);
    memset(o, 0, sizeof *o);
}
