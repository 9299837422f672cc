/*
 * routes_webhooks.c — /v1/webhooks: the tenant's webhook subscriptions and their deliveries.
 * A new subscription's secret is in the answer to its POST, the one time it is shown.
 */
#include "serve.h"
#include "cli.h"

#include <stdlib.h>

static int list(sv_req *r)
{
    mn_webhooks *l = NULL;
    int rc = mn_webhook_list(r->db, &r->actor, &l);
    if (rc == MN_OK) {
        cJSON *items = sv_items(r);
        for (size_t i = 0; i < l->count; i++)
            cJSON_AddItemToArray(items, cli_json_webhook(l->items[i], NULL));
    }
    mn_webhooks_free(l);
    return rc;
}

static int create(sv_req *r)
{
    int rc = MN_OK;
    mn_webhook_input in = MN_WEBHOOK_INPUT_INIT;
    char *events = sv_arg_json(r, "events", &rc);
    in.url = sv_arg_str(r, "url");
    in.events = events;
    char *secret = NULL;
    mn_webhook *w = NULL;
    if (rc == MN_OK && (rc = mn_webhook_add(r->db, &r->actor, &in, &secret, &w)) == MN_OK)
        r->out = cli_json_webhook(w, secret);
    mn_free(secret);
    mn_webhook_free(w);
    free(events);
    return rc;
}

static int remove_one(sv_req *r)
{
    int rc = mn_webhook_remove(r->db, &r->actor, r->params[0]);
    if (rc == MN_OK)
        r->status = 204;
    return rc;
}

static int test(sv_req *r)
{
    int64_t id = 0;
    int rc = mn_webhook_test(r->db, &r->actor, r->params[0], &id);
    if (rc == MN_OK) {
        r->out = cJSON_CreateObject();
        cJSON_AddNumberToObject(r->out, "delivery_id", (double)id);
    }
    return rc;
}

static int deliveries(sv_req *r)
{
    const char *name = sv_arg_str(r, "status");
    int status = name ? cli_delivery_status_of(name) : 0;
    if (status < 0)
        return sv_invalid(r, "status must be pending, done, dead or any, not '%.64s'", name);
    mn_webhook_deliveries *l = NULL;
    int rc = mn_webhook_deliveries_list(r->db, &r->actor, sv_arg_str(r, "webhook"), status,
                                        (int)sv_arg_int(r, "limit", 0), &l);
    if (rc == MN_OK) {
        cJSON *items = sv_items(r);
        for (size_t i = 0; i < l->count; i++)
            cJSON_AddItemToArray(items, cli_json_delivery(l->items[i]));
    }
    mn_webhook_deliveries_free(l);
    return rc;
}

/* Retries the dead delivery id (0: every dead one). */
static int retry(sv_req *r, int64_t id)
{
    size_t n = 0;
    int rc = mn_webhook_retry(r->db, &r->actor, id, &n);
    if (rc == MN_OK) {
        r->out = cJSON_CreateObject();
        cJSON_AddNumberToObject(r->out, "retried", (double)n);
    }
    return rc;
}

static int retry_one(sv_req *r)
{
    char *end = NULL;
    long long id = strtoll(r->params[0], &end, 10);
    if (id < 1 || *end)
        return sv_invalid(r, "the delivery id '%.64s' is not a number >= 1", r->params[0]);
    return retry(r, id);
}

static int retry_dead(sv_req *r)
{
    return retry(r, 0);
}

const sv_route sv_routes_webhooks[] = {
    {"GET", "/v1/webhooks", list, 0, "webhook:read", 0, 0,
     "The tenant's webhook subscriptions (never a secret)", {{0}}},
    {"POST", "/v1/webhooks", create, 0, "webhook:create", 0, 1,
     "Subscribe a URL to events; the answer holds the signing secret, the one time it is shown",
     {{"url", SV_STR, SV_BODY, "http:// or https:// URL that receives the events (required)"},
      {"events", SV_STR_ARRAY, SV_BODY, "memory.created, memory.updated, memory.deleted, "
       "policy.changed, identity.created, identity.deleted (required)"},
      {0}}},
    {"GET", "/v1/webhooks/deliveries", deliveries, 0, "webhook:read", 0, 0,
     "The tenant's webhook deliveries, newest first",
     {{"webhook", SV_STR, SV_QUERY, "only this subscription's"},
      {"status", SV_STR, SV_QUERY, "pending, done, dead or any (default)"},
      {"limit", SV_INT, SV_QUERY, "at most this many (default 100)"},
      {0}}},
    {"POST", "/v1/webhooks/deliveries/retry", retry_dead, 0, "webhook:update", 0, 0,
     "Queue every dead delivery again", {{0}}},
    {"POST", "/v1/webhooks/deliveries/{id}/retry", retry_one, 0, "webhook:update", 0, 0,
     "Queue a dead delivery again", {{0}}},
    /* After the literal paths of the same shape (router.c). */
    {"DELETE", "/v1/webhooks/{id}", remove_one, 0, "webhook:delete", 0, 0,
     "Remove a subscription and its deliveries", {{0}}},
    {"POST", "/v1/webhooks/{id}/test", test, 0, "webhook:update", 0, 0,
     "Queue a webhook.test event to this subscription alone", {{0}}},
};
const size_t sv_nroutes_webhooks = sizeof sv_routes_webhooks / sizeof sv_routes_webhooks[0];
