/*
 * cmd_embed.c — manushya embed TEXT...: the vectors the database's embedder makes, to inspect
 * what search compares. Uses the database because the dimension is a property of it.
 */
#include "cli.h"

#include <stdlib.h>

static int run_embed(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 1, -1);
    if (rc != CLI_CONTINUE || (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    int dim = mn_embed_dim(c->db);
    float *v = dim > 0 ? malloc((size_t)dim * sizeof *v) : NULL;
    if (!v)
        return cli_error("cannot allocate a vector of %d floats", dim);

    cJSON *o = NULL, *vectors = NULL;
    if (c->json) {
        o = cJSON_CreateObject();
        /* The API has no getter for the embedder's name; the CLI never sets one, so it is the
         * default. */
        cJSON_AddStringToObject(o, "model", c->cfg.embedder ? c->cfg.embedder : "local");
        cJSON_AddNumberToObject(o, "dim", dim);
        vectors = cJSON_AddArrayToObject(o, "vectors");
    }
    for (int i = 0; i < c->nargs && rc == CLI_EXIT_OK; i++) {
        int mrc = mn_embed(c->db, c->args[i], v, dim);
        if (mrc != MN_OK) {
            rc = cli_fail(c, mrc, "embed text %d", i + 1);
            break;
        }
        if (c->json) {
            cJSON *arr = cJSON_CreateArray();
            for (int k = 0; k < dim; k++)
                cJSON_AddItemToArray(arr, cli_json_number(v[k], 6));
            cJSON_AddItemToArray(vectors, arr);
            continue;
        }
        for (int k = 0; k < dim; k++)
            printf(k ? " %.6g" : "%.6g", (double)v[k]);
        putchar('\n');
    }
    free(v);
    if (c->json) {
        if (rc == CLI_EXIT_OK)
            return cli_json_emit(o);
        cJSON_Delete(o);
    }
    return rc;
}

static const cli_cmd cmds[] = {
    {NULL, run_embed, "embed TEXT...",
     "Prints the embedding of each TEXT, one line of space-separated floats per text\n"
     "(--json: {\"model\", \"dim\", \"vectors\"}). The local embedder hashes words, word pairs\n"
     "and character trigrams: it matches words, not meaning."},
};
const cli_group cli_group_embed = {"embed", "show the embedding vectors of texts", cmds, 1};
