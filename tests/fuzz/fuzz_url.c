/*
 * Every URL the library parses: the database's (store/registry.c picks the backend, then
 * store/postgres/url.c takes our options out of a postgres:// URL), Redis's (redis/url.c) and the
 * HTTP embedder's base URL (embed/openai.c, through the embedder's create as mn_open calls it).
 * Input: one URL; each parser gets it whole (the schemes keep them apart).
 * Checks, besides no crash or leak: a postgres URL that parses gives libpq a URL of the same
 * scheme; a Redis URL that parses has a host and a port in 1..65535.
 */
#include "fuzz.h"
#include "embed/embedder.h"
#include "redis/redis.h"
#include "store/postgres/pg.h"
#include "store/store.h"

#include <manushya.h>

#include <stdlib.h>
#include <string.h>

static void database_url(const char *url)
{
    const char *target = NULL;
    const struct mni_store_ops *ops = NULL;
    if (mni_store_find(NULL, url, &ops, &target) != MN_OK || ops != &mni_store_postgres)
        return;
    struct pgs_options o;
    if (pgs_options_parse(NULL, target, &o) == MN_OK) {
        fuzz_assert(strncmp(o.conninfo, "postgresql://", 13) == 0,
                    "the URL handed to libpq lost its scheme");
        pgs_options_free(&o);
    }
}

static void redis_url(const char *url)
{
    struct mni_redis_target t;
    char err[256];
    if (mni_redis_parse_url(url, &t, err, sizeof err) == MN_OK)
        fuzz_assert(t.host[0] && t.port >= 1 && t.port <= 65535,
                    "a Redis URL parsed without a host or with a bad port");
}

static void embedder_url(const char *url)
{
    const struct mni_embedder_config cfg = { .dim = 8, .url = url, .api_key = "" };
    mni_embedder *e = NULL;
    char err[256];
    if (mni_embedder_openai.create(&cfg, &e, err, sizeof err) == MN_OK)
        mni_embedder_openai.destroy(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_str(data, size);
    database_url(url);
    redis_url(url);
    embedder_url(url);
    free(url);
    return 0;
}
