/*
 * opts.c — the one option parser every command uses, and the usage texts.
 *
 * Commands describe their options in a small table instead of hand-rolling loops, so every
 * command accepts the same forms (--name VALUE, --name=VALUE, "--", "-") and reports the same
 * usage errors.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char GLOBAL_HELP[] =
    "global options (accepted anywhere before \"--\"):\n"
    "  --db URL        database: sqlite:PATH or PATH, or postgres://[user[:password]@]host\n"
    "                  [:port]/db[?options] (env MANUSHYA_DB; secrets in it are printed as\n"
    "                  ***, as are those of --embed-url, --redis and the API key);\n"
    "                  default $XDG_DATA_HOME/manushya/manushya.db, else\n"
    "                  ~/.local/share/manushya/manushya.db (created on first use)\n"
    "  --tenant T      tenant name or id (env MANUSHYA_TENANT)\n"
    "  --as IDENTITY   act as this identity, id or external id (env MANUSHYA_IDENTITY);\n"
    "                  without it, the tenant's system actor; an empty one is an error\n"
    "  --api-key KEY   act by an API key (mk_...; env MANUSHYA_API_KEY, which keeps it out\n"
    "                  of the process list) instead of --tenant and --as: the key's\n"
    "                  identity, within its scopes; see manushya key --help. An option\n"
    "                  sets aside the other kind's environment variables\n"
    "  --context JSON  a JSON object the policies may test, e.g. '{\"ip\":\"10.1.2.3\"}'\n"
    "                  (env MANUSHYA_CONTEXT); ignored for the system actor. An ip that\n"
    "                  is not an address makes every ip-restricted deny apply\n"
    "  --json          machine-readable output: one JSON value on stdout (text output\n"
    "                  shows control characters in stored text as escapes such as \\x1b)\n"
    "  --embedder NAME local (default: offline word hashing), openai (any server speaking\n"
    "                  OpenAI's /v1/embeddings; env MANUSHYA_EMBEDDER), or external: embed\n"
    "                  nothing, to manage a database of any embedder without its model\n"
    "                  (commands that embed text fail). A database opens only with the\n"
    "                  embedder and model it was made with, or external. The API key comes\n"
    "                  from MANUSHYA_EMBED_API_KEY, else OPENAI_API_KEY\n"
    "  --embed-url URL base URL of the embeddings server, e.g. http://127.0.0.1:11434/v1\n"
    "                  (env MANUSHYA_EMBED_URL; default https://api.openai.com/v1)\n"
    "  --embed-model M model to ask for (env MANUSHYA_EMBED_MODEL; default\n"
    "                  text-embedding-3-small)\n"
    "  --embed-dim N   embedding dimension: local default 384, openai the model's (1536);\n"
    "                  fixed when a database is created; 1..65536, but at most 4000 on\n"
    "                  PostgreSQL with pgvector (beyond 2000 indexed as halfvec)\n"
    "  --embed-async   memory add/update return before the text is embedded: the memory is\n"
    "                  stored with an embedding job that `manushya worker` runs (env\n"
    "                  MANUSHYA_EMBED_ASYNC=1); see manushya jobs --help\n"
    "  --redis URL     rate limits counted in Redis, redis://[:password@]host[:port][/db]\n"
    "                  (env MANUSHYA_REDIS), for every command; without it only the\n"
    "                  ratelimit commands and mcp (a server: every call) count, in the\n"
    "                  process itself; the read-through\n"
    "                  cache is then in Redis too (see manushya cache --help)\n"
    "  --master-key-file F  the master key of an encrypted database (env\n"
    "                  MANUSHYA_MASTER_KEY_FILE): see manushya init --help and\n"
    "                  manushya key --help\n"
    "  --dedup D       what memory add and import do with a text the owner has already\n"
    "                  (same type; case and white space aside): exact (default) adds\n"
    "                  nothing and merges the metadata in, off adds it again, near[:T]\n"
    "                  also takes a vector at cosine T (default 0.95) for the same\n"
    "                  (env MANUSHYA_DEDUP)\n"
    "  --index-quantize Q  the vector index: float32 (default) or int8[:R], int8 codes that\n"
    "                  searches walk, the best R candidates (default all) scored again\n"
    "                  from the floats (env MANUSHYA_INDEX_QUANTIZE)\n";

static const char EXIT_HELP[] =
    "exit status: 0 ok, 1 error, 2 usage, 3 not found, 4 denied by policy, 5 rate limited\n";

const cli_group *const *cli_groups(size_t *n)
{
    static const cli_group *const all[] = {
        &cli_group_init,   &cli_group_tenant, &cli_group_identity,  &cli_group_memory,
        &cli_group_feed,
        &cli_group_policy, &cli_group_embed,  &cli_group_cache,     &cli_group_jsonlogic,
        &cli_group_bench,
        &cli_group_ratelimit, &cli_group_key, &cli_group_audit, &cli_group_migrate,
        &cli_group_worker, &cli_group_jobs, /* asynchronous embedding */
        &cli_group_webhook,
        &cli_group_metrics, &cli_group_health, /* operations */
        &cli_group_maintenance,
        &cli_group_mcp, /* agents */
#ifdef MN_CLI_SERVE
        &cli_group_serve, /* the HTTP API (serve/) */
#endif
    };
    *n = sizeof all / sizeof all[0];
    return all;
}

void cli_print_main_usage(FILE *f)
{
    size_t n;
    const cli_group *const *g = cli_groups(&n);
    fprintf(f, "usage: manushya [--db URL] [--tenant T] [--as IDENTITY] [--api-key KEY]\n"
               "                [--context JSON] [--json] [--embedder NAME] [--embed-url URL]\n"
               "                [--embed-model M] [--embed-dim N] [--embed-async] [--redis URL]\n"
               "                [--master-key-file F] [--dedup off|exact|near[:T]]\n"
               "                [--index-quantize float32|int8[:R]]\n"
               "                GROUP COMMAND [options] [args]\n\ngroups:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-10s %s\n", g[i]->name, g[i]->summary);
    fprintf(f, "\n%s  --version       print the version and exit\n"
               "  --help          this text; manushya GROUP --help and manushya GROUP COMMAND\n"
               "                  --help describe groups and commands\n\n%s",
            GLOBAL_HELP, EXIT_HELP);
}

void cli_print_group_usage(const cli_group *g, FILE *f)
{
    if (g->ncmds == 1 && !g->cmds[0].name) {
        fprintf(f, "usage: manushya [global options] %s\n\n%s\n\n%s", g->cmds[0].synopsis,
                g->cmds[0].help, GLOBAL_HELP);
        return;
    }
    fprintf(f, "usage: manushya [global options] %s COMMAND [options] [args]\n\n%s\n\ncommands:\n",
            g->name, g->summary);
    for (size_t i = 0; i < g->ncmds; i++)
        fprintf(f, "  %s\n", g->cmds[i].synopsis);
    fprintf(f, "\n\"manushya %s COMMAND --help\" describes each one.\n\n%s", g->name, GLOBAL_HELP);
}

void cli_print_cmd_usage(const cli_ctx *c, FILE *f)
{
    if (!c->group) {
        cli_print_main_usage(f);
        return;
    }
    if (!c->cmd) {
        cli_print_group_usage(c->group, f);
        return;
    }
    fprintf(f, "usage: manushya [global options] %s\n\n%s\n\n%s", c->cmd->synopsis, c->cmd->help,
            GLOBAL_HELP);
}

int cli_usage_error(const cli_ctx *c, const char *fmt, ...)
{
    va_list ap;
    fputs("manushya: ", stderr);
    va_start(ap, fmt);
    cli_vprint(stderr, fmt, ap);
    va_end(ap);
    if (c && c->group && c->cmd && c->cmd->name)
        fprintf(stderr, "; see manushya %s %s --help\n", c->group->name, c->cmd->name);
    else if (c && c->group)
        fprintf(stderr, "; see manushya %s --help\n", c->group->name);
    else
        fputs("; see manushya --help\n", stderr);
    return CLI_EXIT_USAGE;
}

/* Stores value into the option's destination, checking numbers strictly: "10x" or "" is an
 * error rather than a silent 10 or 0. */
static int set_value(const cli_ctx *c, const cli_opt *o, const char *value)
{
    char *end;
    errno = 0;
    switch (o->kind) {
    case CLI_OPT_STR:
        *(const char **)o->out = value;
        return CLI_CONTINUE;
    case CLI_OPT_INT: {
        long v = strtol(value, &end, 10);
        if (!*value || *end || errno || v < INT_MIN || v > INT_MAX)
            return cli_usage_error(c, "--%s: expected an integer, got '%s'", o->name, value);
        *(int *)o->out = (int)v;
        return CLI_CONTINUE;
    }
    case CLI_OPT_NUM: {
        double v = strtod(value, &end);
        if (!*value || *end || errno || !isfinite(v))
            return cli_usage_error(c, "--%s: expected a number, got '%s'", o->name, value);
        *(double *)o->out = v;
        return CLI_CONTINUE;
    }
    case CLI_OPT_FLAG:
        break;
    }
    return cli_usage_error(c, "internal: bad option kind for --%s", o->name);
}

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t len)
{
    for (const cli_opt *o = opts; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

int cli_parse(cli_ctx *c, int argc, char **argv, const cli_opt *opts, int min_args, int max_args)
{
    int npos = 0, only_positional = 0;

    for (int i = 0; i < argc; i++) {
        char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == '\0') { /* "-" is a positional (stdin) */
            argv[npos++] = a; /* compacted in place: npos <= i */
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_print_cmd_usage(c, stdout);
            return CLI_EXIT_OK;
        }
        if (a[1] != '-')
            return cli_usage_error(c, "unknown option %s", a);

        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *o = find_opt(opts, name, len);
        if (!o)
            return cli_usage_error(c, "unknown option --%.*s", (int)len, name);
        if (o->given)
            *o->given = 1;
        if (o->kind == CLI_OPT_FLAG) {
            if (eq)
                return cli_usage_error(c, "--%s takes no value", o->name);
            *(int *)o->out = 1;
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc)
                return cli_usage_error(c, "--%s needs a value", o->name);
            value = argv[++i];
        }
        int rc = set_value(c, o, value);
        if (rc != CLI_CONTINUE)
            return rc;
    }

    if (npos < min_args)
        return cli_usage_error(c, npos ? "too few arguments" : "missing argument");
    if (max_args >= 0 && npos > max_args)
        return cli_usage_error(c, "unexpected argument '%s'", argv[max_args]);
    c->args = argv;
    c->nargs = npos;
    return CLI_CONTINUE;
}
