/*
 * cmd_embed.c — manushya embed TEXT...: the vectors the database's embedder makes, to inspect
 * what search compares. Uses the database because the dimension is a property of it. The texts
 * go to the embedder in one call (a remote one batches them) through the embedding cache.
 */
#include "cli.h"

#include <stdlib.h>

static int run_embed(cli_ctx *c, int argc, char **argv)
{
    int stats = 0;
    const cli_opt opts[] = {{"stats", CLI_OPT_FLAG, &stats, NULL}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 1, -1);
    if (rc != CLI_CONTINUE || (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    int dim = mn_embed_dim(c->db);
    size_t n = (size_t)c->nargs;
    float *v = dim > 0 ? malloc(n * (size_t)dim * sizeof *v) : NULL;
    if (!v)
        return cli_error("cannot allocate %zu vectors of %d floats", n, dim);
    int mrc = mn_embed_many(c->db, (const char *const *)c->args, n, v, dim);
    mn_embed_stats st = MN_EMBED_STATS_INIT;
    if (mrc == MN_OK)
        mrc = mn_embed_stats_get(c->db, &st);
    if (mrc != MN_OK) {
        free(v);
        return cli_fail(c, mrc, "embed %zu text%s", n, n == 1 ? "" : "s");
    }
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "embedder", st.embedder);
        cJSON_AddStringToObject(o, "model", st.model);
        cJSON_AddNumberToObject(o, "dim", dim);
        cJSON *vectors = cJSON_AddArrayToObject(o, "vectors");
        for (size_t i = 0; i < n; i++) {
            cJSON *arr = cJSON_CreateArray();
            for (int k = 0; k < dim; k++)
                cJSON_AddItemToArray(arr, cli_json_number(v[i * (size_t)dim + (size_t)k], 6));
            cJSON_AddItemToArray(vectors, arr);
        }
        cJSON *cache = cJSON_AddObjectToObject(o, "cache");
        cJSON_AddBoolToObject(cache, "enabled", st.cached);
        cJSON_AddNumberToObject(cache, "hits", (double)st.cache_hits);
        cJSON_AddNumberToObject(cache, "misses", (double)st.cache_misses);
        cJSON_AddNumberToObject(o, "requests", (double)st.requests);
        if (stats) {
            cJSON *more = cJSON_AddObjectToObject(o, "stats");
            cJSON_AddNumberToObject(more, "texts", (double)st.texts);
            cJSON_AddNumberToObject(more, "requests", (double)st.requests);
            cJSON_AddNumberToObject(more, "retries", (double)st.retries);
            cJSON_AddNumberToObject(more, "max_inflight", (double)st.max_inflight);
            cJSON_AddNumberToObject(more, "max_batch", (double)st.max_batch);
        }
        free(v);
        return cli_json_emit(o);
    }
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < dim; k++)
            printf(k ? " %.6g" : "%.6g", (double)v[i * (size_t)dim + (size_t)k]);
        putchar('\n');
    }
    if (stats)
        cli_line(stderr, "embedder %s, model %s, dim %d: cache %s, %llu hits, %llu misses; "
                 "%llu requests (%llu retries)", st.embedder, st.model, dim,
                 st.cached ? "on" : "off", (unsigned long long)st.cache_hits,
                 (unsigned long long)st.cache_misses, (unsigned long long)st.requests,
                 (unsigned long long)st.retries);
    free(v);
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {NULL, run_embed, "embed TEXT... [--stats]",
     "Prints the embedding of each TEXT, one line of space-separated floats per text\n"
     "(--json: {\"embedder\", \"model\", \"dim\", \"vectors\", \"cache\": {\"enabled\", \"hits\",\n"
     "\"misses\"}, \"requests\"}). The local embedder hashes words, word pairs and character\n"
     "trigrams: it matches words, not meaning. With --embedder openai the texts go to the\n"
     "server in batches, and vectors it made before come from the database's embedding cache.\n"
     "  --stats   print the embedder, cache hits and misses and HTTP requests to stderr\n"
     "            (--json: add \"stats\": {\"texts\", \"requests\", \"retries\",\n"
     "            \"max_inflight\", \"max_batch\"}, what the embedder did since the open)"},
};
const cli_group cli_group_embed = {"embed", "show the embedding vectors of texts", cmds, 1};
