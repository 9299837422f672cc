/*
 * cmd_migrate.c — manushya migrate: bring the database to this libmanushya's schema and say
 * which version it is at. For PostgreSQL this is the step to run before handles that open with
 * migrate=no in their URL (the usual setting for a shared server: one deliberate migration
 * instead of whichever application starts first); SQLite files migrate at every open anyway.
 */
#include "cli.h"

static int run_migrate(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, (const cli_opt[]){{0}}, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    c->cfg.flags |= MN_OPEN_MIGRATE;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    int version = 0;
    int mrc = mn_schema_version(c->db, &version);
    if (mrc != MN_OK)
        return cli_fail(c, mrc, "migrate: reading the schema version");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "schema_version", version);
        cJSON_AddNumberToObject(o, "embed_dim", mn_embed_dim(c->db));
        cJSON_AddStringToObject(o, "version", mn_version());
        return cli_json_emit(o);
    }
    printf("schema version %d\nembedding dim  %d\nlibmanushya    %s\n", version,
           mn_embed_dim(c->db), mn_version());
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {NULL, run_migrate, "migrate",
     "Creates the database's tables or applies the migrations it lacks (each in one\n"
     "transaction, recorded with its version), then prints the schema version. With\n"
     "PostgreSQL it migrates even when the URL says migrate=no; run it once per upgrade."},
};
const cli_group cli_group_migrate = {"migrate", "create or migrate the schema (PostgreSQL: "
                                     "before handles with migrate=no)", cmds, 1};
