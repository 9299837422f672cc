/*
 * main.c — the manushya command: global options, dispatch to GROUP COMMAND, exit status.
 *
 *   manushya [--db URL] [--tenant T] [--as IDENTITY] [--api-key KEY] [--context JSON] [--json]
 *            GROUP COMMAND [options] [args]
 *
 * Global options are taken out of argv wherever they appear before "--" (people type them after
 * the command too), so each command only ever sees its own options.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Matches argv[*i] against --name / --name=VALUE. Returns 1 and sets *value (advancing *i for
 * the separate-word form) when it matches, 0 when it does not, -1 when the value is missing. */
static int global_value(const char *name, int argc, char **argv, int *i, const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

/* The versions, then the optional backends the loaded library was built with (mn_features)
 * and "serve" when this CLI has the HTTP server, which scripts and the tests read:
 * "features: postgres redis http-embed serve", or "features: none". */
static void print_version(void)
{
    printf("manushya %s (libmanushya %s)\nfeatures:", MN_VERSION, mn_version());
    unsigned have = mn_features();
    for (unsigned bit = 1; bit; bit <<= 1)
        if ((have & bit) && mn_feature_name(bit))
            printf(" %s", mn_feature_name(bit));
#ifdef MN_CLI_SERVE
    printf(" serve\n");
#else
    printf("%s\n", have ? "" : " none");
#endif
}

/* Removes the global options from argv[1..], compacting the rest; returns the new argc or -1
 * after a usage error. */
static int take_globals(cli_ctx *c, int argc, char **argv)
{
    static const char *const names[] = {"--db", "--tenant", "--as", "--api-key", "--context",
                                        /* embedding */
                                        "--embedder", "--embed-url", "--embed-model",
                                        "--embed-dim",
                                        /* rate limiting */
                                        "--redis",
                                        /* encryption at rest */
                                        "--master-key-file",
                                        /* deduplication */
                                        "--dedup",
                                        /* the vector index's int8 codes */
                                        "--index-quantize"};
    const char **dest[] = {&c->url, &c->tenant, &c->identity, &c->api_key, &c->context,
                           &c->cfg.embedder, &c->cfg.embed_url, &c->cfg.embed_model,
                           &c->embed_dim,
                           &c->cfg.redis_url,
                           &c->cfg.master_key_file,
                           &c->dedup,
                           &c->quantize};
    int out = 1, rest = 0;

    for (int i = 1; i < argc; i++) {
        if (rest || strcmp(argv[i], "--") == 0) {
            rest = 1; /* "--" stays: the command's parser needs it too */
            argv[out++] = argv[i];
            continue;
        }
        if (strcmp(argv[i], "--json") == 0) {
            c->json = 1;
            continue;
        }
        if (strcmp(argv[i], "--embed-async") == 0) { /* asynchronous embedding */
            c->cfg.embed_async = 1;
            continue;
        }
        int matched = 0;
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !matched; k++) {
            int r = global_value(names[k], argc, argv, &i, dest[k]);
            if (r < 0) {
                cli_usage_error(NULL, "%s needs a value", names[k]);
                return -1;
            }
            matched = r;
        }
        if (!matched)
            argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

/* --index-quantize's value into cfg: 0, or -1 when it is none of float32, int8, int8:R. */
static int parse_quantize(const char *v, mn_config *cfg)
{
    if (strcmp(v, "float32") == 0) {
        cfg->hnsw_quantize = MN_ANN_FLOAT32;
        return 0;
    }
    if (strncmp(v, "int8", 4) != 0 || (v[4] && v[4] != ':'))
        return -1;
    cfg->hnsw_quantize = MN_ANN_INT8;
    if (!v[4])
        return 0;
    char *end;
    errno = 0;
    long r = strtol(v + 5, &end, 10);
    if (!v[5] || *end || errno || r < 1 || r > 100000)
        return -1;
    cfg->hnsw_rerank = (int)r;
    return 0;
}

/* --dedup's value into cfg: 0, or -1 when it is none of off, exact, near, near:T. */
static int parse_dedup(const char *v, mn_config *cfg)
{
    if (strcmp(v, "off") == 0 || strcmp(v, "exact") == 0) {
        cfg->dedup = v[0] == 'o' ? MN_DEDUP_OFF : MN_DEDUP_EXACT;
        return 0;
    }
    if (strncmp(v, "near", 4) != 0 || (v[4] && v[4] != ':'))
        return -1;
    cfg->dedup = MN_DEDUP_NEAR;
    if (!v[4])
        return 0;
    char *end;
    errno = 0;
    double t = strtod(v + 5, &end);
    if (!v[5] || *end || errno || !(t > 0 && t <= 1))
        return -1;
    cfg->dedup_threshold = t;
    return 0;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static const cli_group *find_group(const char *name)
{
    size_t n;
    const cli_group *const *all = cli_groups(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i]->name, name) == 0)
            return all[i];
    return NULL;
}

static int is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0;
}

static int dispatch(cli_ctx *c, int argc, char **argv)
{
    if (argc < 2) {
        cli_print_main_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (is_help(argv[1])) {
        cli_print_main_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        print_version();
        return CLI_EXIT_OK;
    }
    if (argv[1][0] == '-')
        return cli_usage_error(NULL, "unknown option %s", argv[1]);

    c->group = find_group(argv[1]);
    if (!c->group)
        return cli_usage_error(NULL, "unknown command group '%s'", argv[1]);

    const cli_group *g = c->group;
    if (g->ncmds == 1 && !g->cmds[0].name) { /* init, embed: the group is the command */
        c->cmd = &g->cmds[0];
        return c->cmd->run(c, argc - 2, argv + 2);
    }
    if (argc < 3) {
        cli_print_group_usage(g, stderr);
        return CLI_EXIT_USAGE;
    }
    if (is_help(argv[2])) {
        cli_print_group_usage(g, stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < g->ncmds; i++) {
        if (strcmp(g->cmds[i].name, argv[2]) == 0) {
            c->cmd = &g->cmds[i];
            return c->cmd->run(c, argc - 3, argv + 3);
        }
    }
    return cli_usage_error(c, "unknown command '%s %s'", g->name, argv[2]);
}

int main(int argc, char **argv)
{
    cli_ctx c = {0};
    c.cfg = (mn_config)MN_CONFIG_INIT;
    argc = take_globals(&c, argc, argv);
    if (argc < 0)
        return CLI_EXIT_USAGE;
    if (!c.url)
        c.url = env("MANUSHYA_DB");
    /* Who acts: an option beats the environment, so --api-key sets aside MANUSHYA_TENANT and
     * MANUSHYA_IDENTITY, and --tenant or --as set aside MANUSHYA_API_KEY; both kinds from one
     * source are refused by cli_actor. */
    int key_given = c.api_key != NULL, actor_given = c.tenant || c.identity;
    if (!c.tenant && !key_given)
        c.tenant = env("MANUSHYA_TENANT");
    /* Set but empty is not unset: an empty identity would act as the trusted system actor, so
     * cli_actor refuses it. */
    if (!c.identity && !key_given)
        c.identity = getenv("MANUSHYA_IDENTITY");
    if (!c.api_key && !actor_given)
        c.api_key = env("MANUSHYA_API_KEY");
    if (!c.context)
        c.context = env("MANUSHYA_CONTEXT");
    /* Embedding: the embedder, its server and model; --embed-dim is checked here
     * once for every command. */
    if (!c.cfg.embedder)
        c.cfg.embedder = env("MANUSHYA_EMBEDDER");
    if (!c.cfg.embed_url)
        c.cfg.embed_url = env("MANUSHYA_EMBED_URL");
    if (!c.cfg.embed_model)
        c.cfg.embed_model = env("MANUSHYA_EMBED_MODEL");
    if (c.embed_dim) {
        char *end;
        errno = 0;
        long d = strtol(c.embed_dim, &end, 10);
        if (!*c.embed_dim || *end || errno || d < 1 || d > 65536)
            return cli_usage_error(NULL, "--embed-dim: expected a dimension 1..65536, got '%s'",
                                   c.embed_dim);
        c.cfg.embed_dim = (int)d;
    }
    if (!c.dedup)
        c.dedup = env("MANUSHYA_DEDUP");
    if (c.dedup && parse_dedup(c.dedup, &c.cfg) != 0)
        return cli_usage_error(NULL, "--dedup: expected off, exact, near or near:T (T a "
                               "cosine similarity above 0 and at most 1), got '%s'", c.dedup);
    if (!c.quantize)
        c.quantize = env("MANUSHYA_INDEX_QUANTIZE");
    if (c.quantize && parse_quantize(c.quantize, &c.cfg) != 0)
        return cli_usage_error(NULL, "--index-quantize: expected float32, int8 or int8:R (R, "
                               "the candidates re-scored from the floats, 1..100000), got "
                               "'%s'", c.quantize);
    /* Asynchronous embedding: commit memories with a job, a worker embeds them. */
    if (!c.cfg.embed_async && env("MANUSHYA_EMBED_ASYNC"))
        c.cfg.embed_async = strcmp(env("MANUSHYA_EMBED_ASYNC"), "0") != 0;
    /* Rate limiting: counters in Redis with --redis; without it a one-shot process
     * has nothing to count in itself (the library's default, in-process counters, would start
     * empty at every command), so limits are off but for the `ratelimit` commands' own. */
    if (!c.cfg.redis_url)
        c.cfg.redis_url = env("MANUSHYA_REDIS");
    c.cfg.ratelimit = c.cfg.redis_url ? MN_RATELIMIT_REDIS : MN_RATELIMIT_OFF;

    int status = dispatch(&c, argc, argv);
    cli_close(&c);

    /* A full disk or closed pipe must not look like success to a script. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int err = errno;
        cli_error("writing output: %s", strerror(err));
        if (status == CLI_EXIT_OK)
            status = CLI_EXIT_ERROR;
    }
    return status;
}
