/*
 * bench_embed.c — manushya bench embed: texts/s of the handle's embedder, single-threaded, on
 * deterministic synthetic texts (bench_text.c). Runs on a fresh temporary database with the
 * embedding cache off, so that every text is really embedded. For an HTTP embedder it also
 * shows what went over the wire: requests, retries, the most in flight and the largest batch.
 */
#include "cli.h"
#include "bench_text.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Embeds texts [0, n) in calls of batch texts; *secs is the time spent in the calls. */
static int embed_all(cli_ctx *c, int n, int batch, double *secs, size_t *bytes)
{
    int dim = mn_embed_dim(c->db);
    char (*buf)[BENCH_TEXT_MAX] = malloc((size_t)batch * sizeof *buf);
    const char **texts = malloc((size_t)batch * sizeof *texts);
    float *out = malloc((size_t)batch * (size_t)dim * sizeof *out);
    int rc = buf && texts && out ? CLI_EXIT_OK : cli_error("out of memory");
    *secs = 0;
    *bytes = 0;
    for (int done = 0; rc == CLI_EXIT_OK && done < n;) {
        int m = n - done < batch ? n - done : batch;
        for (int i = 0; i < m; i++) {
            bench_text((uint64_t)(done + i), buf[i], sizeof buf[i]);
            texts[i] = buf[i];
            *bytes += strlen(buf[i]);
        }
        double t0 = cli_now();
        int mrc = mn_embed_many(c->db, texts, (size_t)m, out, dim);
        *secs += cli_now() - t0;
        if (mrc != MN_OK)
            rc = cli_fail(c, mrc, "embed texts %d..%d", done, done + m - 1);
        done += m;
    }
    free(buf);
    free(texts);
    free(out);
    return rc;
}

int cli_bench_embed(cli_ctx *c, int argc, char **argv)
{
    int n = 0, batch = 1000;
    const cli_opt opts[] = {{"n", CLI_OPT_INT, &n, NULL}, {"batch", CLI_OPT_INT, &batch, NULL},
                            {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    int local = !c->cfg.embedder || strcmp(c->cfg.embedder, "local") == 0;
    if (n == 0)
        n = local ? 200000 : 2000;
    if (n < 1 || batch < 1)
        return cli_usage_error(c, "--n and --batch must be at least 1");
    char dir[CLI_TEMP_DIR_MAX];
    if ((rc = cli_temp_dir("bench-embed", dir, sizeof dir)) != CLI_EXIT_OK)
        return rc;
    char url[sizeof dir + 32];
    snprintf(url, sizeof url, "sqlite:%s/bench.db", dir);
    c->url = url;
    c->cfg.embed_cache = MN_EMBED_CACHE_OFF;
    c->cfg.index = MN_INDEX_NONE;
    double secs = 0;
    size_t bytes = 0;
    rc = cli_open(c);
    if (rc == CLI_EXIT_OK)
        rc = embed_all(c, n, batch, &secs, &bytes);
    mn_embed_stats st = MN_EMBED_STATS_INIT;
    char embedder[64] = "", model[256] = ""; /* st's strings end with the handle */
    if (rc == CLI_EXIT_OK && mn_embed_stats_get(c->db, &st) != MN_OK)
        rc = cli_error("no embedding statistics");
    if (rc == CLI_EXIT_OK) {
        snprintf(embedder, sizeof embedder, "%s", st.embedder);
        snprintf(model, sizeof model, "%s", st.model);
    }
    cli_close(c);
    c->url = NULL;
    cli_temp_dir_remove(dir);
    if (rc != CLI_EXIT_OK)
        return rc;
    double rate = secs > 0 ? n / secs : 0;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "embedder", embedder);
        cJSON_AddStringToObject(o, "model", model);
        cJSON_AddNumberToObject(o, "dim", st.dim);
        cJSON_AddNumberToObject(o, "n", n);
        cJSON_AddNumberToObject(o, "batch", batch);
        cJSON_AddNumberToObject(o, "threads", 1);
        cJSON_AddItemToObject(o, "mean_text_bytes", cli_json_number((double)bytes / n, 4));
        cJSON_AddItemToObject(o, "seconds", cli_json_number(secs, 6));
        cJSON_AddItemToObject(o, "texts_per_s", cli_json_number(rate, 6));
        cJSON_AddNumberToObject(o, "requests", (double)st.requests);
        cJSON_AddNumberToObject(o, "retries", (double)st.retries);
        cJSON_AddNumberToObject(o, "max_inflight", (double)st.max_inflight);
        cJSON_AddNumberToObject(o, "max_batch", (double)st.max_batch);
        cJSON_AddStringToObject(o, "library", mn_version());
        return cli_json_emit(o);
    }
    printf("bench embed   embedder=%s model=%s dim=%d n=%d batch=%d threads=1 libmanushya=%s\n"
           "texts         %d synthetic texts, mean %.1f bytes\n"
           "embed         %.3f s = %.0f texts/s (%.1f MB/s of text)\n",
           embedder, model, st.dim, n, batch, mn_version(), n, (double)bytes / n, secs,
           rate, secs > 0 ? (double)bytes / secs / 1e6 : 0);
    if (st.requests)
        printf("http          %llu requests (%llu retries), at most %llu in flight, at most %llu "
               "texts per request\n", (unsigned long long)st.requests,
               (unsigned long long)st.retries, (unsigned long long)st.max_inflight,
               (unsigned long long)st.max_batch);
    return CLI_EXIT_OK;
}
