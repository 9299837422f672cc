/*
 * cmd_init.c — manushya init: create (or migrate) the database and say where it is.
 * Other commands also create the database on first use; init exists to choose the embedding
 * dimension, which is fixed when the database is created.
 */
#include "cli.h"

static int run_init(cli_ctx *c, int argc, char **argv)
{
    /* --embed-dim is a global option (main.c): it is in c->cfg already. */
    int rc = cli_parse(c, argc, argv, NULL, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;

    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "database", cli_url_shown(c));
        cJSON_AddNumberToObject(o, "embed_dim", mn_embed_dim(c->db));
        cJSON_AddStringToObject(o, "version", mn_version());
        return cli_json_emit(o);
    }
    cli_line(stdout, "database       %s", cli_url_shown(c));
    printf("embedding dim  %d\nlibmanushya    %s\n", mn_embed_dim(c->db), mn_version());
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {NULL, run_init, "init [--embed-dim N]",
     "Creates the database, or brings an existing one to the current schema, and prints its\n"
     "path and embedding dimension.\n"
     "  --embed-dim N   (global) embedding dimension of a new database (default 384 with the\n"
     "                  local embedder, the model's with openai); an existing database keeps\n"
     "                  the dimension it was created with"},
};
const cli_group cli_group_init = {"init", "create or migrate the database", cmds, 1};
