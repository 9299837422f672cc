/*
 * cmd_webhook.c — manushya webhook add|list|remove|test|deliveries|retry: the tenant's webhook
 * subscriptions and their deliveries, for the actor (--tenant, --as, or --api-key). add prints
 * the signing secret alone on stdout, the one time it is shown. Deliveries are made by
 * `manushya worker` and `manushya serve`.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int run_add(cli_ctx *c, int argc, char **argv)
{
    const char *url = NULL, *events = NULL;
    const cli_opt opts[] = {{"url", CLI_OPT_STR, &url, NULL},
                            {"events", CLI_OPT_STR, &events, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    mn_actor a;
    int rc = cli_begin_actor(c, argc, argv, opts, 0, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!url)
        return cli_usage_error(c, "--url is required: the http:// or https:// URL that "
                               "receives the events");
    if (!events)
        return cli_usage_error(c, "--events is required: a comma-separated list of memory."
                               "created, memory.updated, memory.deleted, policy.changed, "
                               "identity.created, identity.deleted");
    mn_webhook_input in = MN_WEBHOOK_INPUT_INIT;
    in.url = url;
    in.events = cli_list_json(events);
    if (!in.events)
        return cli_error("webhook add: out of memory");
    char *secret = NULL;
    mn_webhook *w = NULL;
    rc = mn_webhook_add(c->db, &a, &in, &secret, &w);
    free((char *)in.events);
    if (rc != MN_OK)
        return cli_fail(c, rc, "webhook add");
    if (c->json)
        rc = cli_json_emit(cli_json_webhook(w, secret));
    else
        printf("%s\n", secret);
    if (!c->json)
        cli_line(stderr, "webhook %s: the secret above signs its requests; it is not shown "
                 "again", w->id);
    mn_free(secret);
    mn_webhook_free(w);
    return rc;
}

static int run_list(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = cli_begin_actor(c, argc, argv, NULL, 0, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    mn_webhooks *l = NULL;
    if ((rc = mn_webhook_list(c->db, &a, &l)) != MN_OK)
        return cli_fail(c, rc, "webhook list");
    cJSON *arr = c->json ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < l->count; i++) {
        const mn_webhook *w = l->items[i];
        char created[24];
        if (arr) {
            cJSON_AddItemToArray(arr, cli_json_webhook(w, NULL));
            continue;
        }
        printf("%s  created %s  ", w->id, cli_fmt_time(w->created_at, created, sizeof created));
        cli_print_cell(stdout, w->url, 40);
        cli_print_text(stdout, w->events, 0);
        printf("\n");
    }
    mn_webhooks_free(l);
    return arr ? cli_json_emit(arr) : CLI_EXIT_OK;
}

static int run_remove(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = cli_begin_actor(c, argc, argv, NULL, 1, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = mn_webhook_remove(c->db, &a, c->args[0])) != MN_OK)
        return cli_fail(c, rc, "webhook remove %s", c->args[0]);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "removed", c->args[0]);
        return cli_json_emit(o);
    }
    cli_line(stdout, "removed %s and its deliveries", c->args[0]);
    return CLI_EXIT_OK;
}

static int run_test(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = cli_begin_actor(c, argc, argv, NULL, 1, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    int64_t id = 0;
    if ((rc = mn_webhook_test(c->db, &a, c->args[0], &id)) != MN_OK)
        return cli_fail(c, rc, "webhook test %s", c->args[0]);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "delivery_id", cli_json_int(id));
        return cli_json_emit(o);
    }
    cli_line(stdout, "queued test delivery %lld", (long long)id);
    return CLI_EXIT_OK;
}

static int run_deliveries(cli_ctx *c, int argc, char **argv)
{
    const char *webhook = NULL, *status_name = "any";
    int limit = 0;
    const cli_opt opts[] = {{"webhook", CLI_OPT_STR, &webhook, NULL},
                            {"status", CLI_OPT_STR, &status_name, NULL},
                            {"limit", CLI_OPT_INT, &limit, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    mn_actor a;
    int rc = cli_begin_actor(c, argc, argv, opts, 0, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    int status = cli_delivery_status_of(status_name);
    if (status < 0)
        return cli_usage_error(c, "--status: give pending, done, dead or any, not \"%s\"",
                               status_name);
    mn_webhook_deliveries *l = NULL;
    if ((rc = mn_webhook_deliveries_list(c->db, &a, webhook, status, limit, &l)) != MN_OK)
        return cli_fail(c, rc, "webhook deliveries");
    cJSON *arr = c->json ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < l->count; i++) {
        const mn_webhook_delivery *d = l->items[i];
        char at[24];
        if (arr) {
            cJSON_AddItemToArray(arr, cli_json_delivery(d));
            continue;
        }
        printf("%lld  %s  %-7s attempts %d  http %d  %s  event %s  ", (long long)d->id,
               d->webhook_id, cli_delivery_status_name(d->status), d->attempts, d->http_status,
               cli_fmt_time(d->updated_at, at, sizeof at), d->event_id);
        cli_print_text(stdout, d->event, 0);
        if (d->error) {
            printf("  ");
            cli_print_text(stdout, d->error, 0);
        }
        printf("\n");
    }
    mn_webhook_deliveries_free(l);
    return arr ? cli_json_emit(arr) : CLI_EXIT_OK;
}

static int run_retry(cli_ctx *c, int argc, char **argv)
{
    int all_dead = 0;
    const cli_opt opts[] = {{"all-dead", CLI_OPT_FLAG, &all_dead, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    int rc = cli_parse(c, argc, argv, opts, 0, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if (all_dead == (c->nargs == 1))
        return cli_usage_error(c, "give a delivery id or --all-dead (one of the two)");
    char *end = NULL;
    long long id = c->nargs ? strtoll(c->args[0], &end, 10) : 0;
    if (c->nargs && (id < 1 || *end))
        return cli_usage_error(c, "the delivery id \"%s\" is not a number >= 1 (webhook "
                               "deliveries --status dead lists them)", c->args[0]);
    mn_actor a;
    if ((rc = cli_open(c)) != CLI_EXIT_OK || (rc = cli_actor(c, &a)) != CLI_CONTINUE)
        return rc;
    size_t n = 0;
    if ((rc = mn_webhook_retry(c->db, &a, id, &n)) != MN_OK)
        return cli_fail(c, rc, "webhook retry");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "retried", (double)n);
        return cli_json_emit(o);
    }
    cli_line(stdout, "queued %zu dead deliver%s again", n, n == 1 ? "y" : "ies");
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {"add", run_add, "webhook add --url URL --events EVENT[,EVENT...]",
     "Subscribes the tenant's webhook: each change that raises one of the events (memory.\n"
     "created, memory.updated, memory.deleted, policy.changed, identity.created,\n"
     "identity.deleted) is POSTed to URL (http:// or https://) as JSON, signed with the\n"
     "header Manushya-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>.\n"
     "Prints the secret alone on stdout: it is shown this once (--json: an object with the\n"
     "secret, id, url, events). Needs \"create\" on \"webhook\"."},
    {"list", run_list, "webhook list",
     "The tenant's webhooks, oldest first: id, created, URL, events. Never a secret. --json\n"
     "prints an array. Needs \"read\" on \"webhook\"."},
    {"remove", run_remove, "webhook remove ID",
     "Removes the webhook and its deliveries, made or not. Exit 3 when the tenant has no such\n"
     "webhook. Needs \"delete\" on \"webhook\"."},
    {"test", run_test, "webhook test ID",
     "Queues a \"webhook.test\" event to that webhook alone and prints its delivery id; a\n"
     "worker (or serve) delivers it. Needs \"update\" on \"webhook\"."},
    {"deliveries", run_deliveries,
     "webhook deliveries [--webhook ID] [--status pending|done|dead|any] [--limit N]",
     "The tenant's deliveries, newest first (of one webhook with --webhook; at most N,\n"
     "default 100): id, webhook, status, attempts, last HTTP status, updated, event id (the\n"
     "idempotency id its receiver sees in Manushya-Event-Id), event, last error. --json\n"
     "prints an array. Needs \"read\" on \"webhook\"."},
    {"retry", run_retry, "webhook retry DELIVERY_ID | --all-dead",
     "Queues a dead delivery (its attempts ran out), or every dead one, again: due now,\n"
     "attempts back to 0, same event id. Exit 3 when the id is not a dead delivery of the\n"
     "tenant. Needs \"update\" on \"webhook\"."},
};
const cli_group cli_group_webhook = {"webhook", "webhook subscriptions and their deliveries",
                                     cmds, sizeof cmds / sizeof cmds[0]};
