/*
 * cmd_ops.c — manushya metrics and manushya health: what an operator scrapes and probes.
 * metrics prints mn_metrics_write's output (Prometheus text, or JSON with --json); health
 * prints mn_health's checks and exits with its status (0 healthy, 1 degraded, 2 failing).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int run_metrics(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, (const cli_opt[]){{0}}, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    char *text = NULL;
    rc = mn_metrics_write(c->db, c->json ? MN_METRICS_JSON : MN_METRICS_PROMETHEUS, &text);
    if (rc != MN_OK)
        return cli_fail(c, rc, "metrics");
    fputs(text, stdout);
    mn_free(text);
    return CLI_EXIT_OK;
}

static int run_health(cli_ctx *c, int argc, char **argv)
{
    int probe = 0;
    const cli_opt opts[] = {{"probe-embed", CLI_OPT_FLAG, &probe, NULL}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return MN_HEALTH_FAILING; /* the store cannot even be opened: cli_open said why */
    char *json = NULL;
    int status = MN_HEALTH_FAILING;
    rc = mn_health(c->db, probe ? MN_HEALTH_PROBE_EMBED : 0, &json, &status);
    if (rc != MN_OK) {
        cli_fail(c, rc, "health");
        return MN_HEALTH_FAILING;
    }
    cJSON *root = cJSON_Parse(json);
    mn_free(json);
    if (!root) {
        cli_error("health: out of memory");
        return MN_HEALTH_FAILING;
    }
    if (c->json) {
        cli_json_emit(root);
        return status;
    }
    const cJSON *checks = cJSON_GetObjectItemCaseSensitive(root, "checks"), *k;
    printf("%s\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "status")));
    cJSON_ArrayForEach(k, checks) {
        printf("  %-9s %-9s ", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "name")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "status")));
        cli_print_text(stdout, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "reason")),
                       300);
        printf("\n");
    }
    cJSON_Delete(root);
    return status;
}

static const cli_cmd metrics_cmds[] = {
    {NULL, run_metrics, "metrics",
     "Prints the handle's metrics in the Prometheus text exposition format (--json: as JSON,\n"
     "{\"metrics\": [{\"name\", \"type\", \"help\", \"series\"}]}). A command opens a handle of its\n"
     "own, so its call counters start at zero; the figures read from the store (embedding\n"
     "jobs, tenants) are the database's. A server exposes mn_metrics_write of its long-lived\n"
     "handle instead."},
};
const cli_group cli_group_metrics = {"metrics", "print metrics (Prometheus text format)",
                                     metrics_cmds, 1};

static const cli_cmd health_cmds[] = {
    {NULL, run_health, "health [--probe-embed]",
     "Checks the store (reachable, its latency), the schema (current), Redis (reachable, when\n"
     "used), the embedder (with --probe-embed), the vector index's lag, the embedding-job\n"
     "backlog and the disk space beside a SQLite file; prints each check with its status and\n"
     "reason (--json: {\"status\", \"checks\": [{\"name\", \"status\", \"reason\", ...}]}).\n"
     "Exit status: 0 healthy, 1 degraded, 2 failing.\n"
     "  --probe-embed   also embed a short text (a request to a remote embedder)"},
};
const cli_group cli_group_health = {"health", "check the store, Redis, embedder, index and jobs",
                                    health_cmds, 1};
