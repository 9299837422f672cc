/* mn_health: each dependency of the handle checked, with its status and the reason for it. */
#include "api/handle.h"
#include "api/limiter.h"
#include "api/metrics.h"
#include "core/clock.h"
#include "core/error.h"
#include "index/vindex.h"
#include "store/store.h"

#include <cJSON.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

/* The thresholds (libmanushya(3), HEALTH). */
#define STORE_SLOW_MS 1000                  /* a store round trip slower: degraded */
#define INDEX_LAG_MAX 10000                 /* changes behind: degraded */
#define JOB_AGE_MAX_MS (5 * 60 * 1000)      /* oldest pending job older: degraded */
#define DISK_FAILING_BYTES (100ull << 20)   /* less free: failing */
#define DISK_LOW_BYTES (1ull << 30)         /* less free ... */
#define DISK_LOW_PERCENT 5.0                /* ... or less of the disk: degraded */

static const char *const status_names[] = { "ok", "degraded", "failing" };

struct health {
    cJSON *checks;
    int worst;
    int oom;
};

/* Adds a check: its name, status and reason (printf-style); returns it for its figures. */
__attribute__((format(printf, 4, 5)))
static cJSON *check(struct health *h, const char *name, int status, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "name", name) ||
        !cJSON_AddStringToObject(o, "status", status_names[status]) ||
        !cJSON_AddStringToObject(o, "reason", reason) || !cJSON_AddItemToArray(h->checks, o)) {
        cJSON_Delete(o);
        h->oom = 1;
        return NULL;
    }
    if (status > h->worst)
        h->worst = status;
    return o;
}

static void figure(struct health *h, cJSON *o, const char *name, double v)
{
    if (o && !cJSON_AddNumberToObject(o, name, v))
        h->oom = 1;
}

/* The message of the failure just recorded, which the caller then forgets: mn_health reports
 * what it found, it does not fail. */
static const char *taken(mn_db *db, mni_errmark mark, char *buf, size_t size)
{
    snprintf(buf, size, "%s", mn_errmsg(db));
    mni_err_forget(mark);
    return buf;
}

static void check_store(mn_db *db, struct health *h)
{
    struct mni_store *s = db->store;
    char why[MNI_ERRMSG_MAX];
    int version = 0;
    mni_errmark mark = mni_err_mark();
    uint64_t t0 = mni_mono_ns();
    int rc = s->ops->schema_version(s, &version);
    double ms = (double)(mni_mono_ns() - t0) / 1e6;
    if (rc != MN_OK) {
        cJSON *o = check(h, "store", MN_HEALTH_FAILING, "unreachable: %s",
                         taken(db, mark, why, sizeof why));
        figure(h, o, "latency_seconds", ms / 1000);
        check(h, "schema", MN_HEALTH_FAILING, "not read: the store is unreachable");
        return;
    }
    cJSON *o = ms > STORE_SLOW_MS
                   ? check(h, "store", MN_HEALTH_DEGRADED, "slow: a round trip took %.0f ms "
                           "(more than %d)", ms, STORE_SLOW_MS)
                   : check(h, "store", MN_HEALTH_OK, "reachable in %.2f ms", ms);
    figure(h, o, "latency_seconds", ms / 1000);
    int latest = s->schema_latest;
    if (version < latest)
        o = check(h, "schema", MN_HEALTH_FAILING, "the database is at schema version %d, this "
                  "library needs %d: open it once with MN_OPEN_MIGRATE", version, latest);
    else if (version > latest)
        o = check(h, "schema", MN_HEALTH_FAILING, "the database is at schema version %d, newer "
                  "than this library's %d: upgrade the library", version, latest);
    else
        o = check(h, "schema", MN_HEALTH_OK, "current (version %d)", version);
    figure(h, o, "version", version);
    figure(h, o, "latest", latest);
}

static void check_redis(mn_db *db, struct health *h)
{
    char err[MNI_ERRMSG_MAX] = "";
    uint64_t t0 = mni_mono_ns();
    int rc = mni_rl_ping(db, err, sizeof err);
    double s = (double)(mni_mono_ns() - t0) / 1e9;
    cJSON *o;
    if (rc == MN_EUNSUPPORTED) {
        check(h, "redis", MN_HEALTH_OK, "not used: the rate-limit counters are in the handle or "
              "off");
        return;
    }
    if (rc == MN_OK)
        o = check(h, "redis", MN_HEALTH_OK, "reachable in %.2f ms", s * 1000);
    else if (db->cfg.ratelimit_fail_closed)
        o = check(h, "redis", MN_HEALTH_FAILING, "unreachable, and rate-limited calls are "
                  "refused (ratelimit_fail_closed): %s", err);
    else
        o = check(h, "redis", MN_HEALTH_DEGRADED, "unreachable; rate-limited calls are allowed "
                  "unchecked (fail-open): %s", err);
    figure(h, o, "latency_seconds", s);
}

static void check_embedder(mn_db *db, struct health *h, unsigned flags)
{
    if (!db->embed_ops->embed) {
        check(h, "embedder", MN_HEALTH_OK, "none: the caller gives every vector (embedder "
              "\"external\")");
        return;
    }
    if (!(flags & MN_HEALTH_PROBE_EMBED)) {
        check(h, "embedder", MN_HEALTH_OK, "not probed (MN_HEALTH_PROBE_EMBED embeds a short "
              "text)");
        return;
    }
    float *v = malloc(sizeof *v * (size_t)db->dim);
    if (!v) {
        h->oom = 1;
        return;
    }
    char why[MNI_ERRMSG_MAX];
    mni_errmark mark = mni_err_mark();
    uint64_t t0 = mni_mono_ns();
    int rc = mn_embed(db, "health check", v, db->dim);
    double s = (double)(mni_mono_ns() - t0) / 1e9;
    free(v);
    cJSON *o;
    if (rc == MN_OK)
        o = check(h, "embedder", MN_HEALTH_OK, "embedded a text in %.2f ms", s * 1000);
    else
        o = check(h, "embedder", db->cfg.embed_async ? MN_HEALTH_DEGRADED : MN_HEALTH_FAILING,
                  "%s: %s", db->cfg.embed_async ? "failing; memories wait in embedding jobs"
                                                : "failing; adds and searches by text fail",
                  taken(db, mark, why, sizeof why));
    figure(h, o, "latency_seconds", s);
}

static void check_index(mn_db *db, struct health *h, int64_t seq)
{
    if (!db->index) {
        check(h, "index", MN_HEALTH_OK, "%s", db->store->ops->memory_search
              ? "none: the store searches itself" : "none: searches scan exactly");
        return;
    }
    uint64_t *v = calloc(MNI_SLOTS, sizeof *v);
    if (!v) {
        h->oom = 1;
        return;
    }
    mni_vindex_metrics(db->index, seq, v);
    int64_t lag = (int64_t)v[MNI_S_INDEX_LAG];
    uint64_t tenants = 0;
    for (unsigned i = 0; i < MNI_ISIZE_N; i++)
        tenants += v[MNI_S_INDEX_TENANTS + i];
    cJSON *o = lag > INDEX_LAG_MAX
                   ? check(h, "index", MN_HEALTH_DEGRADED, "%lld changes behind the store "
                           "(more than %d): searches score them exactly or scan",
                           (long long)lag, INDEX_LAG_MAX)
                   : check(h, "index", MN_HEALTH_OK, "%lld changes behind the store",
                           (long long)lag);
    figure(h, o, "lag", (double)lag);
    figure(h, o, "tenants_loaded", (double)tenants);
    figure(h, o, "vectors", (double)v[MNI_S_INDEX_VECTORS]);
    free(v);
}

static void check_jobs(struct health *h, const struct mni_store_stats *st)
{
    int64_t age = st->jobs_oldest_ms ? mni_now_ms() - st->jobs_oldest_ms : 0;
    if (age < 0)
        age = 0;
    cJSON *o;
    if (st->jobs_failed)
        o = check(h, "jobs", MN_HEALTH_DEGRADED, "%lld embedding jobs failed: their memories "
                  "are not searchable (mn_job_list, mn_job_retry)", (long long)st->jobs_failed);
    else if (age > JOB_AGE_MAX_MS)
        o = check(h, "jobs", MN_HEALTH_DEGRADED, "the oldest of %lld pending embedding jobs is "
                  "%lld s old (more than %d): are workers running?", (long long)st->jobs_pending,
                  (long long)(age / 1000), JOB_AGE_MAX_MS / 1000);
    else
        o = check(h, "jobs", MN_HEALTH_OK, "%lld pending, none failed",
                  (long long)st->jobs_pending);
    figure(h, o, "pending", (double)st->jobs_pending);
    figure(h, o, "failed", (double)st->jobs_failed);
    figure(h, o, "oldest_age_seconds", (double)age / 1000);
}

static void check_disk(mn_db *db, struct health *h)
{
    const char *path = db->store->ops->file_path ? db->store->ops->file_path(db->store) : NULL;
    if (!path)
        return; /* a server's disk is its own */
    char *copy = strdup(path);
    if (!copy) {
        h->oom = 1;
        return;
    }
    struct statvfs fs;
    int bad = statvfs(dirname(copy), &fs);
    free(copy);
    if (bad) {
        check(h, "disk", MN_HEALTH_DEGRADED, "the free space beside the database could not "
              "be read");
        return;
    }
    double free_b = (double)fs.f_bavail * (double)fs.f_frsize;
    double pct = fs.f_blocks ? 100.0 * (double)fs.f_bavail / (double)fs.f_blocks : 100.0;
    cJSON *o;
    if (free_b < (double)DISK_FAILING_BYTES)
        o = check(h, "disk", MN_HEALTH_FAILING, "%.0f MiB free beside the database: writes will "
                  "fail soon", free_b / (1 << 20));
    else if (free_b < (double)DISK_LOW_BYTES || pct < DISK_LOW_PERCENT)
        o = check(h, "disk", MN_HEALTH_DEGRADED, "%.0f MiB (%.1f%%) free beside the database",
                  free_b / (1 << 20), pct);
    else
        o = check(h, "disk", MN_HEALTH_OK, "%.1f GiB (%.0f%%) free beside the database",
                  free_b / (1 << 30), pct);
    figure(h, o, "free_bytes", free_b);
}

int mn_health(mn_db *db, unsigned flags, char **json, int *status)
{
    if (!db)
        return mni_err_no_db("mn_health");
    if (json)
        *json = NULL;
    if (flags & ~(unsigned)MN_HEALTH_PROBE_EMBED)
        return mni_seterr(db, MN_EINVAL, "mn_health: flags have unknown bits 0x%x; use "
                          "MN_HEALTH_*", flags & ~(unsigned)MN_HEALTH_PROBE_EMBED);
    if (!db->store)
        return mni_seterr(db, MN_EINVAL, "mn_health: the handle is not open");
    struct health h = { cJSON_CreateArray(), MN_HEALTH_OK, 0 };
    if (!h.checks)
        return mni_seterr(db, MN_ENOMEM, "mn_health: out of memory");
    check_store(db, &h);
    check_redis(db, &h);
    check_embedder(db, &h, flags);
    struct mni_store *s = db->store;
    int64_t seq = 0;
    struct mni_store_stats st = { 0 };
    char why[MNI_ERRMSG_MAX];
    mni_errmark mark = mni_err_mark();
    if (s->ops->seq_get(s, &seq) != MN_OK)
        check(&h, "index", MN_HEALTH_FAILING, "the store's seq could not be read: %s",
              taken(db, mark, why, sizeof why));
    else
        check_index(db, &h, seq);
    mark = mni_err_mark();
    if (s->ops->stats && s->ops->stats(s, &st) != MN_OK)
        check(&h, "jobs", MN_HEALTH_FAILING, "the embedding jobs could not be counted: %s",
              taken(db, mark, why, sizeof why));
    else
        check_jobs(&h, &st);
    check_disk(db, &h);
    char *text = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!h.oom && root && cJSON_AddStringToObject(root, "status", status_names[h.worst])) {
        cJSON_AddItemToObject(root, "checks", h.checks);
        h.checks = NULL;
        text = json ? cJSON_PrintUnformatted(root) : NULL;
    } else {
        h.oom = 1;
    }
    cJSON_Delete(root);
    cJSON_Delete(h.checks);
    if (h.oom || (json && !text)) {
        free(text);
        return mni_seterr(db, MN_ENOMEM, "mn_health: out of memory");
    }
    if (json)
        *json = text;
    if (status)
        *status = h.worst;
    return MN_OK;
}
