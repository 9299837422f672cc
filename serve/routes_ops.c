/*
 * routes_ops.c — operations: /healthz, /metrics and /openapi.json (no key: probes, scrapers
 * and client generators), and for a key: the audit log (/v1/events), embedding jobs and the
 * tenant's rate limits.
 */
#include "serve.h"
#include "cli.h"

#include <string.h>

static int healthz(sv_req *r)
{
    int status = MN_HEALTH_FAILING;
    int rc = mn_health(r->db, 0, &r->text, &status);
    r->content_type = "application/json";
    r->status = status == MN_HEALTH_FAILING ? 503 : 200;
    return rc;
}

static int metrics(sv_req *r)
{
    r->content_type = "text/plain; version=0.0.4";
    return mn_metrics_write(r->db, MN_METRICS_PROMETHEUS, &r->text);
}

static int openapi(sv_req *r)
{
    r->out = sv_openapi();
    return r->out ? MN_OK : MN_ENOMEM;
}

static int events(sv_req *r)
{
    mn_audit_filter f = MN_AUDIT_FILTER_INIT;
    f.identity = sv_arg_str(r, "identity");
    f.action = sv_arg_str(r, "action");
    f.resource = sv_arg_str(r, "resource");
    f.outcome = sv_arg_str(r, "outcome");
    f.since = sv_arg_int(r, "since", 0);
    f.until = sv_arg_int(r, "until", 0);
    f.after_seq = sv_arg_int(r, "after_seq", 0);
    f.limit = (int)sv_arg_int(r, "limit", 0);
    mn_audit_entries *l = NULL;
    int rc = mn_audit_list(r->db, &r->actor, &f, &l);
    if (rc == MN_OK) {
        cJSON *items = sv_items(r);
        for (size_t i = 0; i < l->count; i++)
            cJSON_AddItemToArray(items, cli_json_audit_entry(l->items[i]));
    }
    mn_audit_entries_free(l);
    return rc;
}

static int jobs(sv_req *r)
{
    const char *status = sv_arg_str(r, "status");
    int st = status ? cli_embed_status_of(status) : -1;
    if (status && st < 0)
        return sv_invalid(r, "status must be pending or failed, not '%.64s'", status);
    mn_jobs *l = NULL;
    int rc = mn_job_list(r->db, &r->actor, st, (int)sv_arg_int(r, "limit", 0), &l);
    if (rc == MN_OK) {
        cJSON *items = sv_items(r);
        for (size_t i = 0; i < l->count; i++)
            cJSON_AddItemToArray(items, cli_json_job(l->items[i]));
    }
    mn_jobs_free(l);
    return rc;
}

static int job_retry(sv_req *r)
{
    size_t n = 0;
    int rc = mn_job_retry(r->db, &r->actor, r->params[0], &n);
    if (rc == MN_OK) {
        r->out = cJSON_CreateObject();
        cJSON_AddNumberToObject(r->out, "retried", (double)n);
    }
    return rc;
}

/* The tenant's limits, each with where the key's actor stands (mn_ratelimit_peek). */
static int rate_limits(sv_req *r)
{
    mn_limits *l = NULL;
    int rc = mn_limit_list(r->db, &r->actor, &l);
    if (rc != MN_OK)
        return rc;
    cJSON *items = sv_items(r);
    for (size_t i = 0; i < l->count && rc == MN_OK; i++) {
        const mn_limit *e = l->items[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "endpoint", e->endpoint);
        cJSON_AddItemToObject(o, "limit", cli_json_int(e->limit));
        cJSON_AddItemToObject(o, "window_ms", cli_json_int(e->window_ms));
        cJSON_AddBoolToObject(o, "overridden", e->overridden != 0);
        mn_ratelimit_result now = MN_RATELIMIT_RESULT_INIT;
        if (strcmp(e->endpoint, "*") != 0) {
            rc = mn_ratelimit_peek(r->db, &r->actor, e->endpoint, 1, &now);
            if (rc == MN_OK) {
                cJSON_AddItemToObject(o, "applied", cli_json_int(now.limit));
                cJSON_AddItemToObject(o, "remaining", cli_json_int(now.remaining));
                cJSON_AddItemToObject(o, "reset_at", cli_json_int(now.reset_at));
            } else if (rc == MN_EUNSUPPORTED) { /* limits switched off */
                rc = MN_OK;
            }
        }
        cJSON_AddItemToArray(items, o);
    }
    mn_limits_free(l);
    return rc;
}

const sv_route sv_routes_ops[] = {
    {"GET", "/healthz", healthz, 1, NULL, 0, 0,
     "Health: 200 when ok or degraded, 503 when failing (mn_health)", {{0}}},
    {"GET", "/metrics", metrics, 1, NULL, 0, 0, "Prometheus metrics (mn_metrics_write)", {{0}}},
    {"GET", "/openapi.json", openapi, 1, NULL, 0, 0, "This document", {{0}}},
    {"GET", "/v1/events", events, 0, "audit:list", 0, 0, "The tenant's audit log, by seq",
     {{"identity", SV_STR, SV_QUERY, "who acted"},
      {"action", SV_STR, SV_QUERY, "memory:create, or a prefix such as memory:"},
      {"resource", SV_STR, SV_QUERY, "an id the entry names"},
      {"outcome", SV_STR, SV_QUERY, "ok or denied"},
      {"since", SV_INT, SV_QUERY, "ms since the epoch"},
      {"until", SV_INT, SV_QUERY, "ms since the epoch"},
      {"after_seq", SV_INT, SV_QUERY, "the last seq of the previous page"},
      {"limit", SV_INT, SV_QUERY, "default 100, at most 1000"},
      {0}}},
    {"GET", "/v1/jobs", jobs, 0, "jobs:list", 0, 0,
     "Embedding jobs: memories waiting for their vector",
     {{"status", SV_STR, SV_QUERY, "pending or failed"},
      {"limit", SV_INT, SV_QUERY, "at most this many"},
      {0}}},
    {"POST", "/v1/jobs/{memory_id}/retry", job_retry, 0, "jobs:retry", 0, 0,
     "Make a memory's embedding job due now", {{0}}},
    {"GET", "/v1/rate-limits", rate_limits, 0, "ratelimit:read", 0, 0,
     "The tenant's rate limits and what is left of each for the key", {{0}}},
};
const size_t sv_nroutes_ops = sizeof sv_routes_ops / sizeof sv_routes_ops[0];
