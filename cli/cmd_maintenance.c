/*
 * cmd_maintenance.c — manushya maintenance run: the scheduled maintenance tasks, each when it
 * is due and no other process runs it (mn_maintenance_run), and the report shared with
 * manushya worker --once.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static const char *status_name(int status)
{
    switch (status) {
    case MN_MAINT_RAN: return "ran";
    case MN_MAINT_BUSY: return "busy";
    case MN_MAINT_NOT_DUE: return "not-due";
    case MN_MAINT_OFF: return "off";
    default: return "not-asked";
    }
}

/* Why a task was skipped, for people. */
static const char *skipped_why(int status)
{
    switch (status) {
    case MN_MAINT_BUSY: return "skipped: another process runs it";
    case MN_MAINT_NOT_DUE: return "skipped: not due yet";
    default: return "off: --audit-retention-days is 0 (keep the audit log forever)";
    }
}

int cli_maintenance_report(const cli_ctx *c, const mn_maintenance_report *r, cJSON *into)
{
    cJSON *o = into ? cJSON_AddObjectToObject(into, "maintenance") : NULL;
    for (int i = 0; i < MN_MAINT_NTASKS; i++) {
        const mn_maintenance_task *t = &r->tasks[i];
        const char *name = mn_maintenance_task_name(1u << i);
        if (t->status == MN_MAINT_NOT_ASKED)
            continue;
        if (c->json) {
            cJSON *e = cJSON_AddObjectToObject(o, name);
            cJSON_AddStringToObject(e, "status", status_name(t->status));
            cJSON_AddItemToObject(e, "items", cli_json_int(t->items));
            cJSON_AddItemToObject(e, "ms", cli_json_number((double)t->elapsed_ns / 1e6, 3));
            if (t->rc == MN_OK)
                cJSON_AddNullToObject(e, "error");
            else
                cJSON_AddStringToObject(e, "error", mn_strerror(t->rc));
        } else if (t->status != MN_MAINT_RAN) {
            cli_line(stdout, "%-8s %s", name, skipped_why(t->status));
        } else {
            cli_line(stdout, "%-8s %s: %lld items in %.1f ms", name,
                     t->rc == MN_OK ? "ran" : "failed", (long long)t->items,
                     (double)t->elapsed_ns / 1e6);
        }
    }
    return CLI_EXIT_OK;
}

/* "purge,cache" into task bits; 0 after a usage error (in *rc). */
static unsigned parse_tasks(const cli_ctx *c, const char *list, int *rc)
{
    unsigned bits = 0;
    char *copy = strdup(list), *save = NULL;
    for (char *s = copy ? strtok_r(copy, ",", &save) : NULL; s; s = strtok_r(NULL, ",", &save)) {
        unsigned b = 0;
        for (int i = 0; i < MN_MAINT_NTASKS && !b; i++)
            if (strcmp(s, mn_maintenance_task_name(1u << i)) == 0)
                b = 1u << i;
        if (!b) {
            *rc = cli_usage_error(c, "--task: no task \"%s\"; give purge, cache, feed, index, "
                                  "audit or keywords (comma-separated for several)", s);
            free(copy);
            return 0;
        }
        bits |= b;
    }
    if (!copy)
        *rc = cli_error("out of memory");
    free(copy);
    return bits;
}

static int run_run(cli_ctx *c, int argc, char **argv)
{
    const char *tasks = NULL;
    int force = 0;
    const cli_opt opts[] = {{"task", CLI_OPT_STR, &tasks, NULL},
                            {"force", CLI_OPT_FLAG, &force, NULL},
                            {"audit-retention-days", CLI_OPT_INT,
                             &c->cfg.audit_retention_days, NULL}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    unsigned bits = tasks ? parse_tasks(c, tasks, &rc) : MN_MAINT_ALL;
    if (!bits)
        return rc == CLI_CONTINUE ? cli_usage_error(c, "--task: give at least one task") : rc;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    mn_maintenance_report r = MN_MAINTENANCE_REPORT_INIT;
    int mrc = mn_maintenance_run(c->db, bits | (force ? MN_MAINT_FORCE : 0), &r);
    if (mrc == MN_EINVAL)
        return cli_fail(c, mrc, "maintenance run");
    cJSON *o = c->json ? cJSON_CreateObject() : NULL;
    cli_maintenance_report(c, &r, o);
    /* The whole report first (the tasks after a failed one still ran), then the failure. */
    rc = o ? cli_json_emit(cJSON_DetachItemFromObject(o, "maintenance")) : CLI_EXIT_OK;
    cJSON_Delete(o);
    return mrc == MN_OK ? rc : cli_fail(c, mrc, "maintenance run");
}

static const cli_cmd cmds[] = {
    {"run", run_run, "maintenance run [--task T[,T...]] [--force] [--audit-retention-days N]",
     "Runs the scheduled maintenance tasks (all, or those --task names) that are due and that\n"
     "no other process is running, in this process, and prints what became of each: ran\n"
     "(with the items it purged, removed or saved, and how long it took), skipped (not due,\n"
     "or another process runs it) or off. A task is due when its interval has passed since\n"
     "it last started in any process: purge (expired memories) every hour; cache (embedding\n"
     "cache entries no memory uses, older than 24 h) daily; feed (change-feed tombstones\n"
     "the vector index no longer needs) and index (the vector index's checkpoint files)\n"
     "every 10 minutes; audit (audit entries older than the retention) daily; keywords\n"
     "(merges the SQLite keyword index's segments into one: searches read each; its items\n"
     "are merge steps, 0 when already one) every 10 minutes. manushya worker runs them on\n"
     "these intervals by itself.\n"
     "  --task T[,T...]   purge, cache, feed, index, audit, keywords (default: all)\n"
     "  --force           run them now, due or not (one another process runs is still skipped)\n"
     "  --audit-retention-days N  audit keeps N days of the audit log (default 0: forever,\n"
     "                    and the audit task is off)\n"
     "--json: {\"TASK\": {\"status\": \"ran\"|\"busy\"|\"not-due\"|\"off\", \"items\", \"ms\",\n"
     "\"error\": null or what failed}} for each task asked. Exit 1 when a task failed (the\n"
     "others still ran)."},
};
const cli_group cli_group_maintenance = {"maintenance",
                                         "scheduled maintenance: purge, prune, checkpoint, merge",
                                         cmds, sizeof cmds / sizeof cmds[0]};
