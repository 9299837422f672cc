/*
 * cmd_ratelimit.c — manushya ratelimit hit|peek|status|reset|set-limit: the tenant's rate
 * limits and decisions for the actor (--tenant, --as). With --redis (MANUSHYA_REDIS) the
 * counters are the ones every process shares; without it they live in this process only, so
 * hit and peek show a fresh window each time (useful to see the limit that applies).
 */
#include "cli.h"

#include <string.h>

#define DEFAULT_ENDPOINT "memory:create"

/* Parses the options every command has, opens the database (in-process counters when no
 * Redis was given) and fills the actor. */
static int begin(cli_ctx *c, int argc, char **argv, const cli_opt *opts, mn_actor *a)
{
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!c->cfg.redis_url)
        c->cfg.ratelimit = MN_RATELIMIT_MEMORY;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    return cli_actor(c, a);
}

static void print_result(const cli_ctx *c, const char *endpoint, const mn_ratelimit_result *r)
{
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "endpoint", endpoint);
        cJSON_AddBoolToObject(o, "allowed", r->allowed);
        cJSON_AddBoolToObject(o, "checked", r->checked);
        cJSON_AddNumberToObject(o, "limit", (double)r->limit);
        cJSON_AddNumberToObject(o, "remaining", (double)r->remaining);
        cJSON_AddNumberToObject(o, "window_ms", (double)r->window_ms);
        cJSON_AddNumberToObject(o, "reset_at", (double)r->reset_at);
        cJSON_AddNumberToObject(o, "retry_after_ms", (double)r->retry_after_ms);
        cli_json_emit(o);
        return;
    }
    char when[32], window[32];
    printf("%s  ", r->allowed ? "allowed" : "limited");
    cli_print_text(stdout, endpoint, 0);
    printf("  %lld of %lld left per %s%s", (long long)r->remaining, (long long)r->limit,
           cli_fmt_seconds(r->window_ms, window, sizeof window),
           r->checked ? "" : "  (counters unreachable: not checked)");
    if (r->reset_at)
        printf("  reset %s", cli_fmt_time(r->reset_at, when, sizeof when));
    if (!r->allowed && r->retry_after_ms < 0)
        printf("  never fits");
    else if (!r->allowed)
        printf("  retry after %s", cli_fmt_seconds(r->retry_after_ms, when, sizeof when));
    printf("\n");
}

static int decide(cli_ctx *c, int argc, char **argv, int peek)
{
    const char *endpoint = DEFAULT_ENDPOINT;
    int n = 1;
    const cli_opt opts[] = {{"endpoint", CLI_OPT_STR, &endpoint, NULL},
                            {"n", CLI_OPT_INT, &n, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    mn_actor a;
    int rc = begin(c, argc, argv, opts, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    mn_ratelimit_result r = MN_RATELIMIT_RESULT_INIT;
    rc = peek ? mn_ratelimit_peek(c->db, &a, endpoint, n, &r)
              : mn_ratelimit_hit(c->db, &a, endpoint, n, &r);
    if (rc == MN_OK || rc == MN_ELIMITED)
        print_result(c, endpoint, &r);
    if (rc != MN_OK)
        return cli_fail(c, rc, "ratelimit %s %s", peek ? "peek" : "hit", endpoint);
    return peek && !r.allowed ? CLI_EXIT_LIMITED : CLI_EXIT_OK;
}

static int run_hit(cli_ctx *c, int argc, char **argv)
{
    return decide(c, argc, argv, 0);
}

static int run_peek(cli_ctx *c, int argc, char **argv)
{
    return decide(c, argc, argv, 1);
}

static int run_reset(cli_ctx *c, int argc, char **argv)
{
    const char *endpoint = DEFAULT_ENDPOINT;
    const cli_opt opts[] = {{"endpoint", CLI_OPT_STR, &endpoint, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    mn_actor a;
    int rc = begin(c, argc, argv, opts, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = mn_ratelimit_reset(c->db, &a, endpoint);
    return rc == MN_OK ? CLI_EXIT_OK : cli_fail(c, rc, "ratelimit reset %s", endpoint);
}

static int run_status(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = begin(c, argc, argv, NULL, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    mn_limits *l = NULL;
    rc = mn_limit_list(c->db, &a, &l);
    if (rc != MN_OK)
        return cli_fail(c, rc, "ratelimit status");
    cJSON *o = c->json ? cJSON_CreateObject() : NULL, *arr = NULL;
    if (o)
        arr = cJSON_AddArrayToObject(o, "limits");
    for (size_t i = 0; i < l->count; i++) {
        const mn_limit *x = l->items[i];
        if (o) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "endpoint", x->endpoint);
            cJSON_AddNumberToObject(e, "limit", (double)x->limit);
            cJSON_AddNumberToObject(e, "window_ms", (double)x->window_ms);
            cJSON_AddBoolToObject(e, "overridden", x->overridden);
            cJSON_AddItemToArray(arr, e);
        } else {
            char window[32];
            cli_print_cell(stdout, x->endpoint, 32);
            printf(" %10lld per %-10s  %s\n", (long long)x->limit,
                   cli_fmt_seconds(x->window_ms, window, sizeof window),
                   x->overridden ? "tenant" : "built-in");
        }
    }
    mn_limits_free(l);
    if (!o) {
        printf("(role multipliers: admin x2, system x5)\n");
        return CLI_EXIT_OK;
    }
    mn_ratelimit_stats st = MN_RATELIMIT_STATS_INIT;
    if (mn_ratelimit_stats_get(c->db, &st) == MN_OK)
        cJSON_AddNumberToObject(o, "fail_open", (double)st.fail_open);
    return cli_json_emit(o);
}

static int run_set_limit(cli_ctx *c, int argc, char **argv)
{
    const char *endpoint = NULL;
    int limit = 0, builtin = 0, has_limit = 0;
    double window = 3600;
    const cli_opt opts[] = {{"endpoint", CLI_OPT_STR, &endpoint, NULL},
                            {"limit", CLI_OPT_INT, &limit, &has_limit},
                            {"window", CLI_OPT_NUM, &window, NULL},
                            {"builtin", CLI_OPT_FLAG, &builtin, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!endpoint)
        return cli_usage_error(c, "--endpoint is required (\"resource:action\", or \"*\")");
    if (builtin == has_limit)
        return cli_usage_error(c, "give --limit N (with --window SECONDS) or --builtin");
    mn_actor a;
    if ((rc = cli_open(c)) != CLI_EXIT_OK || (rc = cli_actor(c, &a)) != CLI_CONTINUE)
        return rc;
    rc = builtin ? mn_limit_delete(c->db, &a, endpoint)
                 : mn_limit_set(c->db, &a, endpoint, limit,
                                (int64_t)(window * 1000 + 0.5));
    return rc == MN_OK ? CLI_EXIT_OK : cli_fail(c, rc, "ratelimit set-limit %s", endpoint);
}

static const cli_cmd cmds[] = {
    {"hit", run_hit, "ratelimit hit [--endpoint E] [--n N]",
     "Counts N calls (default 1) of the actor to endpoint E (default " DEFAULT_ENDPOINT ") if\n"
     "they fit, and prints the decision: allowed or limited, the calls left of the limit, the\n"
     "window, and when limited the time to wait. Exit 5 when limited. Without --redis the\n"
     "counters live in this process only: every run starts an empty window."},
    {"peek", run_peek, "ratelimit peek [--endpoint E] [--n N]",
     "As hit, counting nothing: would N calls be admitted now? Exit 5 when not."},
    {"status", run_status, "ratelimit status",
     "The tenant's limits per endpoint: the built-in ones and its own (\"tenant\")."},
    {"reset", run_reset, "ratelimit reset [--endpoint E]",
     "Forgets the calls counted for the tenant and endpoint (meaningful with --redis)."},
    {"set-limit", run_set_limit,
     "ratelimit set-limit --endpoint E (--limit N [--window SECONDS] | --builtin)",
     "Sets the tenant's own limit for E (or \"*\": every endpoint not named): N calls, 1 ..\n"
     "1000000000, per window of SECONDS (default 3600, at most 31 days; fractions allowed).\n"
     "--builtin removes it: the built-in limit applies again. Every process sees the change\n"
     "within a second."},
};
const cli_group cli_group_ratelimit = {"ratelimit", "rate limits: decisions and per-tenant limits",
                                       cmds, sizeof cmds / sizeof cmds[0]};
