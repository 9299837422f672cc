/*
 * cmd_init.c — manushya init: create (or migrate) the database and say where it is.
 * Other commands also create the database on first use; init exists to choose the embedding
 * dimension, which is fixed when the database is created.
 */
#include "cli.h"

static int run_init(cli_ctx *c, int argc, char **argv)
{
    /* --embed-dim is a global option (main.c): it is in c->cfg already. */
    int encrypt = 0;
    const cli_opt opts[] = {{"encrypt", CLI_OPT_FLAG, &encrypt, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (encrypt)
        c->cfg.flags |= MN_OPEN_ENCRYPT;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;

    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "database", cli_url_shown(c));
        cJSON_AddNumberToObject(o, "embed_dim", mn_embed_dim(c->db));
        cJSON_AddBoolToObject(o, "encrypted", mn_db_encrypted(c->db));
        cJSON_AddStringToObject(o, "version", mn_version());
        return cli_json_emit(o);
    }
    cli_line(stdout, "database       %s", cli_url_shown(c));
    printf("embedding dim  %d\nencrypted      %s\nlibmanushya    %s\n", mn_embed_dim(c->db),
           mn_db_encrypted(c->db) ? "yes" : "no", mn_version());
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {NULL, run_init, "init [--embed-dim N] [--encrypt]",
     "Creates the database, or brings an existing one to the current schema, and prints its\n"
     "path, embedding dimension and whether it is encrypted.\n"
     "  --embed-dim N   (global) embedding dimension of a new database (default 384 with the\n"
     "                  local embedder, the model's with openai); an existing database keeps\n"
     "                  the dimension it was created with. Up to 65536; PostgreSQL with\n"
     "                  pgvector indexes up to 2000 as vector and up to 4000 as halfvec (16-bit\n"
     "                  floats in the index only: the stored vectors and the similarities stay\n"
     "                  32-bit); wider needs vector=local\n"
     "  --encrypt       seal every memory's text and metadata and their history with\n"
     "                  XChaCha20-Poly1305 under per-tenant keys, wrapped by the master key\n"
     "                  in the file --master-key-file or MANUSHYA_MASTER_KEY_FILE names\n"
     "                  (make one with manushya key new-master FILE; it is never stored in\n"
     "                  the database: lose it and the data is lost). Only a database without\n"
     "                  tenants can be made encrypted; from then on it opens with its key\n"
     "                  only. Ids, types, times, embeddings and the index stay in the clear"},
};
const cli_group cli_group_init = {"init", "create or migrate the database", cmds, 1};
