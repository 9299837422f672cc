/*
 * cmd_cache.c — manushya cache prune: removes the embedding cache's entries no memory uses.
 */
#include "cli.h"

#define HOUR_MS 3600000.0

static int run_prune(cli_ctx *c, int argc, char **argv)
{
    double hours = 24;
    const cli_opt opts[] = {{"older-than-hours", CLI_OPT_NUM, &hours, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!(hours >= 0) || hours > 1e6)
        return cli_usage_error(c, "--older-than-hours must be 0..1000000");
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    size_t removed = 0;
    if ((rc = mn_embed_cache_prune(c->db, (int64_t)(hours * HOUR_MS), &removed)) != MN_OK)
        return cli_fail(c, rc, "cache prune");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "removed", (double)removed);
        return cli_json_emit(o);
    }
    cli_line(stdout, "removed %zu embedding cache entries", removed);
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {"prune", run_prune, "cache prune [--older-than-hours H]",
     "Removes the embedding cache's entries that no memory uses any more (no memory of their\n"
     "tenant has that text: it was updated or deleted, or it was a search query; entries of\n"
     "manushya embed: all) and that are older than H hours (default 24; 0: all of them).\n"
     "Prints how many went; --json: {\"removed\": N}. The cache serves on meanwhile."},
};
const cli_group cli_group_cache = {"cache", "the embedding cache: prune what no memory uses",
                                   cmds, sizeof cmds / sizeof cmds[0]};
