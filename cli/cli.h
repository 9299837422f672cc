/*
 * cli.h — what the manushya command files share.
 *
 * The CLI has no logic of its own: every command parses its arguments with cli_parse(), opens
 * the database with cli_open(), calls the public API (manushya.h only) and prints the result,
 * human-readable or as JSON (--json). Exit codes are part of the interface scripts rely on.
 */
#ifndef MANUSHYA_CLI_H
#define MANUSHYA_CLI_H

#include <manushya.h>
#include "input.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (documented in manushya --help; scripts depend on them). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_ERROR = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_NOTFOUND = 3,
    CLI_EXIT_DENIED = 4,
    CLI_EXIT_LIMITED = 5
};
/* cli_parse() result meaning "carry on with the command" (any other value is an exit code). */
#define CLI_CONTINUE (-1)

typedef struct cli_ctx cli_ctx;

/* One command: "memory add", or a group that is its own command ("init", "embed": name NULL). */
typedef struct cli_cmd {
    const char *name;
    int (*run)(cli_ctx *c, int argc, char **argv); /* argv[0] is the first word after COMMAND */
    const char *synopsis;                          /* "memory add TEXT [--type T] ..." */
    const char *help;                              /* description and options, '\n'-separated */
} cli_cmd;

typedef struct cli_group {
    const char *name;
    const char *summary;
    const cli_cmd *cmds;
    size_t ncmds;
} cli_group;

struct cli_ctx {
    /* Global options, from the command line or else the environment. */
    const char *url;      /* --db / MANUSHYA_DB; NULL = the default path */
    const char *tenant;   /* --tenant / MANUSHYA_TENANT */
    const char *identity; /* --as / MANUSHYA_IDENTITY */
    const char *context;  /* --context / MANUSHYA_CONTEXT: JSON object for mn_actor.context */
    const char *api_key;  /* --api-key / MANUSHYA_API_KEY: instead of tenant and identity */
    int json;             /* --json */
    /* --embedder, --embed-url, --embed-model (env MANUSHYA_EMBEDDER, MANUSHYA_EMBED_URL,
     * MANUSHYA_EMBED_MODEL) go straight into cfg; --embed-dim is this text until main()
     * checks it into cfg.embed_dim. */
    const char *embed_dim;
    /* --dedup off|exact|near[:T] (env MANUSHYA_DEDUP): this text until main() checks it into
     * cfg.dedup and cfg.dedup_threshold. */
    const char *dedup;
    /* --index-quantize float32|int8[:R] (env MANUSHYA_INDEX_QUANTIZE): this text until main() checks it
     * into cfg.hnsw_quantize and cfg.hnsw_rerank. */
    const char *quantize;
    /* --embed-async / MANUSHYA_EMBED_ASYNC=1 sets cfg.embed_async. */

    const cli_group *group;
    const cli_cmd *cmd;

    mn_config cfg;        /* commands may set fields (init: embed_dim) before cli_open() */
    mn_db *db;            /* opened lazily by cli_open() */
    char *url_owned;      /* the default URL, when we built it */

    /* Positional arguments left by cli_parse(), in order (they point into argv). */
    char **args;
    int nargs;
};

/* ---- Option parsing (cli/opts.c) ---------------------------------------------------------- */
typedef enum { CLI_OPT_FLAG, CLI_OPT_STR, CLI_OPT_INT, CLI_OPT_NUM } cli_opt_kind;

typedef struct cli_opt {
    const char *name;  /* long name without the dashes: "type" for --type */
    cli_opt_kind kind;
    void *out;         /* FLAG, INT: int *; STR: const char **; NUM: double * */
    int *given;        /* optional: set to 1 when the option appears */
} cli_opt;

/*
 * Parses a command's arguments: --name VALUE, --name=VALUE, flags, "--" ending options, "-" as
 * a positional. Positionals land in c->args / c->nargs; there must be min_args..max_args of
 * them (max_args < 0: no limit). --help / -h prints the command's usage to stdout.
 * Returns CLI_CONTINUE, CLI_EXIT_OK (help was printed) or CLI_EXIT_USAGE (message printed).
 * opts ends with an entry whose name is NULL (opts itself may be NULL).
 */
int cli_parse(cli_ctx *c, int argc, char **argv, const cli_opt *opts, int min_args, int max_args);

/* ---- Memory filters (cli/filter_opts.c) --------------------------------------------------- */
/* A time as options take it: ms since the epoch, or a UTC date "2024-11-29", or a date and time
 * "2024-11-29T07:53:01" (a trailing Z allowed). 0: not a time. */
int64_t cli_parse_time(const char *s);

/* The filter options of the memory commands that select: CLI_FILTER_OPTS(cf) in the options
 * table, then cli_filter_finish (comma lists, times) before cf.f is used, and cli_filter_free.
 * --session, --type and --identity take one value or a comma list (any of them). */
typedef struct cli_filter {
    mn_filter f;
    const char *lists[3];   /* --session, --type, --identity as given */
    const char *times[4];   /* --created-after, --created-before, --updated-after, ... */
    int importance_max_given;
    int all_readable;       /* --all-readable: MN_ALL_READABLE */
    char *bufs[3];
    const char **owned[3];
} cli_filter;
#define CLI_FILTER_INIT {.f = MN_FILTER_INIT}
#define CLI_FILTER_OPTS(cf)                                                                    \
    {"session", CLI_OPT_STR, &(cf).lists[0], NULL}, {"type", CLI_OPT_STR, &(cf).lists[1], NULL}, \
        {"identity", CLI_OPT_STR, &(cf).lists[2], NULL},                                       \
        {"meta", CLI_OPT_STR, &(cf).f.metadata, NULL},                                         \
        {"created-after", CLI_OPT_STR, &(cf).times[0], NULL},                                  \
        {"created-before", CLI_OPT_STR, &(cf).times[1], NULL},                                 \
        {"updated-after", CLI_OPT_STR, &(cf).times[2], NULL},                                  \
        {"updated-before", CLI_OPT_STR, &(cf).times[3], NULL},                                 \
        {"importance-min", CLI_OPT_NUM, &(cf).f.importance_min, NULL},                         \
        {"importance-max", CLI_OPT_NUM, &(cf).f.importance_max, &(cf).importance_max_given}, \
        {"all-readable", CLI_OPT_FLAG, &(cf).all_readable, NULL}
/* CLI_CONTINUE, or a usage error printed (its exit code). */
int cli_filter_finish(cli_ctx *c, cli_filter *cf);
void cli_filter_free(cli_filter *cf);
/* Whether any filter option was given. */
int cli_filter_given(const cli_filter *cf);
/* Runs a command with a fresh filter, freeing it after: run's exit code. */
int cli_with_filter(cli_ctx *c, int argc, char **argv,
                    int (*run)(cli_ctx *c, int argc, char **argv, cli_filter *cf));

/* MN_SEARCH_* of a mode's name ("vector", "keyword", "hybrid"), or 0 when unknown. */
int cli_search_mode(const char *name);
/* The name of an MN_SEARCH_* mode other than AUTO. */
const char *cli_search_mode_name(int mode);

/* Prints "manushya: <msg>; see manushya GROUP COMMAND --help" to stderr, returns 2. */
int cli_usage_error(const cli_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the usage of the current command (or group, or the whole program) to f. */
void cli_print_cmd_usage(const cli_ctx *c, FILE *f);
void cli_print_group_usage(const cli_group *g, FILE *f);
void cli_print_main_usage(FILE *f);

/* ---- Database, actor, errors (cli/common.c) ----------------------------------------------- */
/* Opens c->db unless already open (creating the default directory when no URL was given).
 * Returns CLI_EXIT_OK or an exit code after printing the error. */
int cli_open(cli_ctx *c);
/* The URL in use: --db, MANUSHYA_DB or the default path. NULL if it could not be worked out. */
const char *cli_url(cli_ctx *c);
/* The database URL as messages and output may show it, once cli_open has made the handle
 * (also when the open failed): the library's, its secrets replaced by "***" (mn_db_url). */
const char *cli_url_shown(const cli_ctx *c);
/* A new private directory for a command's scratch files (benchmarks' databases and index
 * files): $TMPDIR/manushya-NAME.XXXXXX, else under /tmp, written into buf (size bytes).
 * CLI_EXIT_OK, or an error printed. cli_temp_dir_remove deletes it with all it holds. */
#define CLI_TEMP_DIR_MAX 4096
int cli_temp_dir(const char *name, char *buf, size_t size);
void cli_temp_dir_remove(const char *dir);
/* Fills *a from --tenant / --as / --context, or --api-key. Without a tenant or a key (or with
 * both), prints a usage error and returns 2; a --context that is not a JSON object is an error
 * (1). Else CLI_CONTINUE. */
int cli_actor(const cli_ctx *c, mn_actor *a);
/* A command's start: parses its options (exactly nargs positionals), opens the database and
 * fills the actor; CLI_CONTINUE or the exit code. */
int cli_begin_actor(cli_ctx *c, int argc, char **argv, const cli_opt *opts, int nargs,
                    mn_actor *a);
/* "a,b,c" as the JSON array of strings ["a","b","c"] (malloc'd); NULL when out of memory. */
char *cli_list_json(const char *list);
/* Maps an MN_* code to the CLI exit code. */
int cli_exit_code(int rc);
/* Prints "manushya: <what>: <mn_errmsg>" to stderr and returns cli_exit_code(rc). */
int cli_fail(const cli_ctx *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints "manushya: <what>" to stderr and returns CLI_EXIT_ERROR (for non-library failures). */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_close(cli_ctx *c);

/* ---- Formatting (cli/common.c) ------------------------------------------------------------ */
/* "2024-11-29 07:53:01" (UTC); "never" for 0. buf needs 24 bytes. */
const char *cli_fmt_time(int64_t ms, char *buf, size_t size);
/* A duration in whole seconds when it is one ("3600 s"), else with its milliseconds
 * ("1.5 s", "0.25 s"). buf needs 32 bytes. */
const char *cli_fmt_seconds(int64_t ms, char *buf, size_t size);
/* Monotonic clock in seconds. */
double cli_now(void);
/* CPU seconds the calling thread used: what a benchmark on a shared machine compares (other
 * processes' load changes wall time, much less this). */
double cli_thread_cpu(void);
/* Latency figures of n > 0 samples, which it sorts in place: p50 and p99 by nearest rank, and
 * the mean. */
typedef struct cli_latency {
    double p50, p99, mean;
} cli_latency;
cli_latency cli_latency_of(double *samples, size_t n);
/* Reads all of stdin into a NUL-terminated malloc'd string, without its final newlines (as
 * $(...) does). On a read error, out of memory or a NUL byte in the input (which would cut
 * the string short) says so, naming what ("memory add: the text"), and returns NULL. */
char *cli_read_stdin(const char *what);
/* ---- Text for terminals (cli/text.c) ------------------------------------------------------ *
 * Every human-readable line that holds stored or user data goes through cli_print_text, and so
 * does JSON output: nothing a memory holds can move the cursor, retitle the window or hide text
 * on the operator's terminal. */
/* Prints s on one line: valid UTF-8 as it is; \n, \t, \r and other C0 bytes as C escapes
 * (\x1b); DEL and the C1 code points as \u007f .. \u009f (so JSON text stays valid JSON);
 * each byte that is not UTF-8 as U+FFFD. After max characters (0: no limit) it cuts, never
 * inside a character or an escape, and adds "...". Returns the characters printed (an escape
 * counts its own); f NULL prints nothing and only counts. */
size_t cli_print_text(FILE *f, const char *s, size_t max);
/* cli_print_text, then spaces up to width characters: a table's column. */
void cli_print_cell(FILE *f, const char *s, size_t width);
/* One "label   value" line per field on stdout, values through cli_print_text, starting at
 * column width. A NULL value shows as empty. */
typedef struct cli_field {
    const char *label;
    const char *value;
} cli_field;
void cli_print_fields(const cli_field *fields, size_t n, int width);
/* Formats fmt (which holds no newline) and prints the result through cli_print_text; cli_line
 * ends the line. */
void cli_vprint(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void cli_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- JSON output (cli/json_out.c) --------------------------------------------------------- */
cJSON *cli_json_memory(const mn_memory *m);
/* One change of the feed: seq, kind, id, version, identity_id, type, session, expires_at. */
cJSON *cli_json_feed_entry(const mn_feed_entry *e);
/* A search hit: the memory's id, text, type, metadata, owner and creation time, with its
 * similarity, ranking factors and score; explain adds the rankings behind the score. */
cJSON *cli_json_search_hit(const mn_memory *m, int explain);
cJSON *cli_json_tenant(const mn_tenant *t);
cJSON *cli_json_identity(const mn_identity *i);
cJSON *cli_json_policy(const mn_policy *p);
cJSON *cli_json_decision(const mn_decision *d);
cJSON *cli_json_audit_entry(const mn_audit_entry *e);
/* An API key as lists show it; with the key itself when key is not NULL (made just now). */
cJSON *cli_json_apikey(const mn_apikey *k, const char *key);
cJSON *cli_json_job(const mn_job *j);
/* Webhooks (cmd_webhook.c, serve/routes_webhooks.c): a subscription (with its secret, the
 * once it is made), a delivery, a delivery status's name ("pending", "done", "dead") and the
 * MN_DELIVERY_* a name says (0 for "any", -1 for no status). */
cJSON *cli_json_webhook(const mn_webhook *w, const char *secret);
cJSON *cli_json_delivery(const mn_webhook_delivery *d);
const char *cli_delivery_status_name(int status);
int cli_delivery_status_of(const char *name);
/* Stored JSON text (object/array) for embedding in output as it is; a string when it is not
 * JSON. */
cJSON *cli_json_raw(const char *text);
/* An integer printed with all its digits: cJSON's numbers are doubles, which print 2^60 as
 * 1.152921504606847e+18. */
cJSON *cli_json_int(int64_t v);
/* A number rounded to sig significant digits, so output reads 0.812 rather than 0.8120000362. */
cJSON *cli_json_number(double v, int sig);
/* Prints j on one line to stdout and deletes it. Returns CLI_EXIT_OK or CLI_EXIT_ERROR. */
int cli_json_emit(cJSON *j);

/* ---- Command groups ----------------------------------------------------------------------- */
/* Every group, in the order of manushya --help (cli/opts.c). */
const cli_group *const *cli_groups(size_t *n);
extern const cli_group cli_group_init;
extern const cli_group cli_group_tenant;
extern const cli_group cli_group_identity;
extern const cli_group cli_group_memory;
extern const cli_group cli_group_embed;
extern const cli_group cli_group_cache;     /* cli/cmd_cache.c */
extern const cli_group cli_group_policy;
extern const cli_group cli_group_jsonlogic;
extern const cli_group cli_group_bench;
extern const cli_group cli_group_ratelimit;
extern const cli_group cli_group_migrate;   /* cli/cmd_migrate.c */
extern const cli_group cli_group_key;       /* cli/cmd_key.c: API keys */
extern const cli_group cli_group_audit;     /* cli/cmd_audit.c: the audit log */
extern const cli_group cli_group_feed;      /* cli/cmd_feed.c: the change feed */
extern const cli_group cli_group_metrics;   /* cli/cmd_ops.c: metrics and health */
extern const cli_group cli_group_health;
/* manushya bench cache (cli/bench_cache.c), in cmd_bench.c's table. */
int cli_bench_cache(cli_ctx *c, int argc, char **argv);
/* A benchmark's database: a new temporary directory (its path into dir, size bytes; remove
 * it with cli_temp_dir_remove whatever this returns, once made) holding bench.db, opened
 * with cfg into *db (close it). CLI_EXIT_OK, or an error printed naming the benchmark. */
int cli_bench_open(cli_ctx *c, const char *name, const mn_config *cfg, char *dir, size_t size,
                   mn_db **db);
/* manushya bench search (cli/bench_search.c), in cmd_bench.c's table. */
int cli_bench_search(cli_ctx *c, int argc, char **argv);
/* manushya bench ann (cli/bench_ann.c), in cmd_bench.c's table. */
int cli_bench_ann(cli_ctx *c, int argc, char **argv);
/* A benchmark's --backend memory|redis: *redis set, CLI_CONTINUE, or a usage error (redis
 * without --redis). */
int cli_bench_backend(cli_ctx *c, const char *backend, int *redis);
/* bench ingest --search-during/--search-after (cli/bench_during.c): a thread that searches
 * the handle (vector and hybrid mode in turn, queries among the n memories the import adds)
 * from start (during 1) or from cli_search_during_done (during 0) until after_s seconds after
 * cli_search_during_done, timing each phase apart and sampling
 * the index's lag. join waits for it (CLI_EXIT_OK, or an error printed if a search failed);
 * report (also after a failed join) prints its figures, or adds them to json, and frees it;
 * caught_up_s: how long after the import the index caught up. */
typedef struct cli_search_during cli_search_during;
int cli_search_during_start(mn_db *db, const mn_actor *agent, int n, int during,
                            double after_s, cli_search_during **out);
void cli_search_during_done(cli_search_during *d);
int cli_search_during_join(cli_search_during *d);
void cli_search_during_report(cli_search_during *d, double caught_up_s, cJSON *json);
/* The vector index's lag (store changes it has not applied) from mn_health; -1 when there is
 * no index or health failed. */
double cli_index_lag(mn_db *db);
/* Waits until the vector index has caught up with the store, so that the searches a benchmark
 * times next measure the index, not the exact scans that stand in for it while it builds. It
 * waits as long as the index gains (a million memories take minutes), and gives up after 60 s
 * in which its lag did not fall. */
void cli_wait_for_index(mn_db *db);
/* manushya bench apikey (cli/bench_apikey.c), in cmd_bench.c's table. */
int cli_bench_apikey(cli_ctx *c, int argc, char **argv);
/* manushya bench ratelimit (cli/bench_ratelimit.c), in cmd_bench.c's table. */
int cli_bench_ratelimit(cli_ctx *c, int argc, char **argv);

/* manushya bench policy (cli/bench_policy.c), in cmd_bench.c's table. */
int cli_bench_policy(cli_ctx *c, int argc, char **argv);

/* manushya bench embed (cli/bench_embed.c), in cmd_bench.c's table. */
int cli_bench_embed(cli_ctx *c, int argc, char **argv);

/* Asynchronous embedding: cli/cmd_worker.c, cli/cmd_jobs.c. */
extern const cli_group cli_group_worker;
extern const cli_group cli_group_jobs;
/* Webhooks: cli/cmd_webhook.c. CLI_WEBHOOK_OPTS(o) are the options of how deliveries are
 * made (mn_webhook_options o), shared by worker and serve. */
extern const cli_group cli_group_webhook;
#define CLI_WEBHOOK_OPTS(o)                                                                    \
    {"webhook-threads", CLI_OPT_INT, &(o).threads, NULL},                                      \
        {"webhook-batch", CLI_OPT_INT, &(o).batch, NULL},                                      \
        {"webhook-max-attempts", CLI_OPT_INT, &(o).max_attempts, NULL},                        \
        {"webhook-retry-ms", CLI_OPT_INT, &(o).retry_ms, NULL},                                \
        {"webhook-timeout-ms", CLI_OPT_INT, &(o).timeout_ms, NULL},                            \
        {"webhook-lease-ms", CLI_OPT_INT, &(o).lease_ms, NULL},                                \
        {"webhook-poll-ms", CLI_OPT_INT, &(o).poll_ms, NULL}
#define CLI_WEBHOOK_HELP                                                                       \
    "  --no-webhooks     make no webhook deliveries\n"                                         \
    "  --webhook-threads N  delivery threads (default 1)\n"                                    \
    "  --webhook-batch N  deliveries claimed together (default 10)\n"                          \
    "  --webhook-max-attempts N  attempts before a delivery is dead (default 8)\n"             \
    "  --webhook-retry-ms MS  wait after a failed attempt, doubling, jittered (default 1000)\n" \
    "  --webhook-timeout-ms MS  one request's time limit (default 10000)\n"                    \
    "  --webhook-lease-ms MS  a delivery held by a worker that died is made again after MS\n"  \
    "                    (default 300000)\n"                                                    \
    "  --webhook-poll-ms MS  idle delivery threads look for due deliveries this often\n"        \
    "                    (default 1000)"
/* Scheduled maintenance: cli/cmd_maintenance.c. cli_maintenance_report prints what became of
 * each task asked, as lines, or (--json) into an object "maintenance" added to into. */
extern const cli_group cli_group_maintenance;
/* The Model Context Protocol server: cli/cmd_mcp.c (and cli/mcp*.c, cli/mcp.h). */
extern const cli_group cli_group_mcp;
int cli_maintenance_report(const cli_ctx *c, const mn_maintenance_report *r, cJSON *into);
/* "done", "pending", "failed" for an MNI_EMBED_* status (cmd_jobs.c). */
const char *cli_embed_status_name(int status);
/* The MN_EMBED_PENDING or MN_EMBED_FAILED a job status is named by ("pending", "failed"); -1
 * for any other name. */
int cli_embed_status_of(const char *name);

/* manushya serve (serve/cmd_serve.c), in builds with WITH_SERVE=1 (MN_CLI_SERVE). */
extern const cli_group cli_group_serve;

/* memory commands implemented outside cmd_memory.c (its table names them). */
int cli_memory_get(cli_ctx *c, int argc, char **argv);
int cli_memory_list(cli_ctx *c, int argc, char **argv);
int cli_memory_search(cli_ctx *c, int argc, char **argv);
int cli_memory_history(cli_ctx *c, int argc, char **argv);
int cli_memory_import(cli_ctx *c, int argc, char **argv);
int cli_memory_export(cli_ctx *c, int argc, char **argv);

#endif
