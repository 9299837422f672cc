/*
 * cmd_cache.c — manushya cache prune: removes the embedding cache's entries no memory uses;
 * cache stats and clear: the read-through cache (mn_cache_stats_get, mn_cache_clear).
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

static const char *backend_name(int b)
{
    return b == MN_CACHE_REDIS ? "redis" : b == MN_CACHE_MEMORY ? "memory" : "off";
}

static int run_stats(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    mn_cache_stats s = MN_CACHE_STATS_INIT;
    if ((rc = mn_cache_stats_get(c->db, &s)) != MN_OK)
        return cli_fail(c, rc, "cache stats");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "backend", backend_name(s.backend));
        cJSON_AddNumberToObject(o, "hits", (double)s.hits);
        cJSON_AddNumberToObject(o, "misses", (double)s.misses);
        cJSON_AddNumberToObject(o, "evictions", (double)s.evictions);
        cJSON_AddNumberToObject(o, "failures", (double)s.failures);
        cJSON_AddNumberToObject(o, "entries", (double)s.entries);
        cJSON_AddNumberToObject(o, "bytes", (double)s.bytes);
        return cli_json_emit(o);
    }
    cli_line(stdout, "backend %s: hits %llu, misses %llu, evictions %llu, failures %llu, "
             "entries %llu, bytes %llu", backend_name(s.backend), (unsigned long long)s.hits,
             (unsigned long long)s.misses, (unsigned long long)s.evictions,
             (unsigned long long)s.failures, (unsigned long long)s.entries,
             (unsigned long long)s.bytes);
    return CLI_EXIT_OK;
}

static int run_clear(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    if ((rc = mn_cache_clear(c->db)) != MN_OK)
        return cli_fail(c, rc, "cache clear");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "cleared", 1);
        return cli_json_emit(o);
    }
    cli_line(stdout, "cleared the read-through cache");
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {"prune", run_prune, "cache prune [--older-than-hours H]",
     "Removes the embedding cache's entries that no memory uses any more (no memory of their\n"
     "tenant has that text: it was updated or deleted, or it was a search query; entries of\n"
     "manushya embed: all) and that are older than H hours (default 24; 0: all of them).\n"
     "Prints how many went; --json: {\"removed\": N}. The cache serves on meanwhile."},
    {"stats", run_stats, "cache stats",
     "The read-through cache of this process (actors, memories by id): its backend (memory,\n"
     "or redis with --redis, shared by every process) and its hits, misses, evictions, Redis\n"
     "failures, entries and bytes since it opened. --json: one object with those names."},
    {"clear", run_clear, "cache clear",
     "Empties the read-through cache: with --redis, for every process on this database (a new\n"
     "epoch every key carries; old entries expire); in process, this process's own. Fails\n"
     "when Redis cannot be reached. --json: {\"cleared\": true}."},
};
const cli_group cli_group_cache = {"cache", "the embedding cache (prune) and the read-through "
                                   "cache (stats, clear)",
                                   cmds, sizeof cmds / sizeof cmds[0]};
