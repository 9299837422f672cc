/*
 * cmd_jobs.c — manushya jobs list|retry: the tenant's embedding jobs (asynchronous
 * embedding): the memories still waiting for their vector, and those whose embedding failed.
 */
#include "cli.h"

#include <string.h>

int cli_embed_status_of(const char *name)
{
    return strcmp(name, "pending") == 0 ? MN_EMBED_PENDING
           : strcmp(name, "failed") == 0 ? MN_EMBED_FAILED
                                          : -1;
}

const char *cli_embed_status_name(int status)
{
    return status == MN_EMBED_PENDING ? "pending" : status == MN_EMBED_FAILED ? "failed"
                                                                              : "done";
}

static int run_list(cli_ctx *c, int argc, char **argv)
{
    const char *status = NULL;
    int limit = 0;
    const cli_opt opts[] = {{"status", CLI_OPT_STR, &status, NULL},
                            {"limit", CLI_OPT_INT, &limit, NULL}, {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE)
        return rc;
    int st = status ? cli_embed_status_of(status) : -1;
    if (status && st < 0)
        return cli_usage_error(c, "--status: give pending or failed, not '%s'", status);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    mn_jobs *l = NULL;
    rc = mn_job_list(c->db, &a, st, limit, &l);
    if (rc != MN_OK)
        return cli_fail(c, rc, "jobs list");
    if (c->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < l->count; i++)
            cJSON_AddItemToArray(arr, cli_json_job(l->items[i]));
        mn_jobs_free(l);
        return cli_json_emit(arr);
    }
    for (size_t i = 0; i < l->count; i++) {
        const mn_job *j = l->items[i];
        char when[32];
        printf("%s  %-7s  %d attempt%s", j->memory_id, cli_embed_status_name(j->status),
               j->attempts, j->attempts == 1 ? " " : "s");
        if (j->next_at)
            printf("  next %s", cli_fmt_time(j->next_at, when, sizeof when));
        if (j->error) {
            printf("  ");
            cli_print_text(stdout, j->error, 160);
        }
        printf("\n");
    }
    mn_jobs_free(l);
    return CLI_EXIT_OK;
}

static int run_retry(cli_ctx *c, int argc, char **argv)
{
    int all_failed = 0;
    const cli_opt opts[] = {{"all-failed", CLI_OPT_FLAG, &all_failed, NULL}, {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 0, 1);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE)
        return rc;
    if (all_failed == (c->nargs == 1))
        return cli_usage_error(c, "give a memory ID or --all-failed (one of them)");
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    size_t n = 0;
    rc = mn_job_retry(c->db, &a, c->nargs ? c->args[0] : NULL, &n);
    if (rc != MN_OK)
        return cli_fail(c, rc, "jobs retry");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "retried", (double)n);
        return cli_json_emit(o);
    }
    printf("%zu job%s due again\n", n, n == 1 ? "" : "s");
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {"list", run_list, "jobs list [--status pending|failed] [--limit N]",
     "Lists the tenant's embedding jobs, oldest memory first: the memories stored with\n"
     "--embed-async whose vector is not stored yet (pending; after a failed attempt, with its\n"
     "error and the time of the next one) or whose attempts all failed (failed). --json: an\n"
     "array of {\"memory_id\", \"tenant_id\", \"status\", \"attempts\", \"next_at\", \"error\",\n"
     "\"created_at\", \"updated_at\"}. An identity (--as) needs the \"list\" permission on memories.\n"
     "  --status S   only pending or only failed jobs\n"
     "  --limit N    at most N jobs (default 100, at most 10000)"},
    {"retry", run_retry, "jobs retry ID | --all-failed",
     "Makes the job of memory ID, or every failed job of the tenant, due now with its\n"
     "attempts back to 0; a running `manushya worker` takes them. An identity (--as) needs the\n"
     "\"update\" permission on memories.\n"
     "  --all-failed   every failed job of the tenant"},
};
const cli_group cli_group_jobs = {"jobs", "list and retry embedding jobs (asynchronous embedding)",
                                  cmds, sizeof cmds / sizeof cmds[0]};
