/*
 * common.c — opening the database, the actor, error reporting and small formatting helpers
 * shared by every command.
 */
#include "cli.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* mkdir -p: the default database lives in a directory that may not exist yet. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

const char *cli_url(cli_ctx *c)
{
    if (c->url)
        return c->url;
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    const char *base = xdg && xdg[0] == '/' ? xdg : NULL; /* XDG says relative values are ignored */
    const char *suffix = base ? "" : "/.local/share";
    if (!base) {
        if (!home || !*home)
            return NULL;
        base = home;
    }
    size_t n = strlen(base) + strlen(suffix) + sizeof "/manushya/manushya.db";
    c->url_owned = malloc(n);
    if (!c->url_owned)
        return NULL;
    snprintf(c->url_owned, n, "%s%s/manushya/manushya.db", base, suffix);
    c->url = c->url_owned;
    return c->url;
}

const char *cli_url_shown(const cli_ctx *c)
{
    const char *shown = mn_db_url(c->db);
    return shown ? shown : "(the database)";
}

int cli_open(cli_ctx *c)
{
    if (c->db)
        return CLI_EXIT_OK;
    int is_default = !c->url;
    const char *url = cli_url(c);
    if (!url)
        return cli_error("no database: pass --db URL, or set MANUSHYA_DB or HOME");
    if (is_default) {
        char *dir = strdup(url);
        if (!dir)
            return cli_error("out of memory");
        *strrchr(dir, '/') = '\0';
        int rc = make_dirs(dir);
        int err = errno;
        if (rc != 0) {
            cli_error("cannot create %s: %s", dir, strerror(err));
            free(dir);
            return CLI_EXIT_ERROR;
        }
        free(dir);
    }
    int rc = mn_open(&c->db, url, &c->cfg);
    if (rc != MN_OK) {
        int code = cli_fail(c, rc, "open %s", cli_url_shown(c));
        /* The library names its flag; here the flag is a command. */
        if (strstr(mn_errmsg(c->db), "MN_OPEN_MIGRATE"))
            fputs("manushya: `manushya migrate` opens it with MN_OPEN_MIGRATE\n", stderr);
        if (rc == MN_EKEY)
            fputs("manushya: give the key file with --master-key-file FILE or "
                  "MANUSHYA_MASTER_KEY_FILE (`manushya key new-master FILE` makes one)\n",
                  stderr);
        mn_close(c->db);
        c->db = NULL;
        return code;
    }
    return CLI_EXIT_OK;
}

void cli_close(cli_ctx *c)
{
    mn_close(c->db);
    c->db = NULL;
    free(c->url_owned);
    c->url_owned = NULL;
}

int cli_actor(const cli_ctx *c, mn_actor *a)
{
    *a = (mn_actor)MN_ACTOR_INIT; /* fields the API gains later are then "default" */
    if (c->api_key && (c->tenant || c->identity))
        return cli_usage_error(c, "an API key and a tenant or identity at once: give --api-key "
                               "(MANUSHYA_API_KEY) or --tenant and --as, not both");
    a->api_key = c->api_key;
    if (!c->api_key && (!c->tenant || !*c->tenant))
        return cli_usage_error(c, "no tenant: pass --tenant T or set MANUSHYA_TENANT (or act by "
                               "an API key: --api-key or MANUSHYA_API_KEY)");
    a->tenant = c->tenant;
    if (c->identity && !*c->identity)
        return cli_usage_error(c, "the identity is empty (--as \"\" or MANUSHYA_IDENTITY=\"\"); "
                               "give an identity id or external id, or leave both unset to act "
                               "as the tenant's system actor");
    a->identity = c->identity;
    if (c->context && *c->context) {
        /* Checked here too: the library reads the context only for an identity, and a typo
         * silently ignored for the system actor would surface later, elsewhere. */
        cJSON *j = cJSON_Parse(c->context);
        int is_object = cJSON_IsObject(j);
        cJSON_Delete(j);
        if (!is_object) {
            fputs("manushya: --context (or MANUSHYA_CONTEXT) is not a JSON object: ", stderr);
            cli_print_text(stderr, c->context, 80);
            fputc('\n', stderr);
            return CLI_EXIT_ERROR;
        }
        a->context = c->context;
    }
    return CLI_CONTINUE;
}

int cli_exit_code(int rc)
{
    switch (rc) {
    case MN_OK: return CLI_EXIT_OK;
    case MN_ENOTFOUND: return CLI_EXIT_NOTFOUND;
    case MN_EDENIED: return CLI_EXIT_DENIED;
    case MN_ELIMITED: return CLI_EXIT_LIMITED;
    default: return CLI_EXIT_ERROR;
    }
}

int cli_fail(const cli_ctx *c, int rc, const char *fmt, ...)
{
    va_list ap;
    fputs("manushya: ", stderr);
    va_start(ap, fmt);
    cli_vprint(stderr, fmt, ap);
    va_end(ap);
    /* mn_errmsg() explains the calling thread's last failure on this handle; when the failure
     * was not the library's (or it kept no message), the code's name is the best we have. It
     * may quote stored data or input: it goes through cli_print_text too. */
    const char *msg = mn_errcode(c->db) == rc ? mn_errmsg(c->db) : NULL;
    fputs(": ", stderr);
    cli_print_text(stderr, msg && *msg ? msg : mn_strerror(rc), 0);
    fputc('\n', stderr);
    return cli_exit_code(rc);
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("manushya: ", stderr);
    va_start(ap, fmt);
    cli_vprint(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_ERROR;
}

const char *cli_fmt_time(int64_t ms, char *buf, size_t size)
{
    if (ms == 0) {
        snprintf(buf, size, "never");
        return buf;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(buf, size, "%lld", (long long)ms);
    return buf;
}

const char *cli_fmt_seconds(int64_t ms, char *buf, size_t size)
{
    /* Exact decimals, never an exponent: 3600000 is "3600 s", 1500 is "1.5 s". */
    long long whole = (long long)(ms / 1000), frac = (long long)(ms % 1000);
    const char *sign = ms < 0 ? "-" : "";
    whole = whole < 0 ? -whole : whole;
    frac = frac < 0 ? -frac : frac;
    if (!frac) {
        snprintf(buf, size, "%s%lld s", sign, whole);
        return buf;
    }
    int digits = 3;
    for (; frac % 10 == 0; frac /= 10)
        digits--;
    snprintf(buf, size, "%s%lld.%0*lld s", sign, whole, digits, frac);
    return buf;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double cli_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

cli_latency cli_latency_of(double *samples, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += samples[i];
    qsort(samples, n, sizeof *samples, cmp_double);
    return (cli_latency){ .p50 = samples[(n * 50 + 99) / 100 - 1],
                          .p99 = samples[(n * 99 + 99) / 100 - 1], .mean = sum / (double)n };
}

char *cli_read_stdin(const char *what)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;
    for (;;) {
        if (cap - len < 4096) {
            char *bigger = realloc(buf, cap = cap ? cap * 2 : 8192);
            if (!bigger) {
                free(buf);
                cli_error("%s from stdin: out of memory", what);
                return NULL;
            }
            buf = bigger;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0)
            break; /* end of input or an error: ferror() tells */
    }
    char why[96];
    const char *bad = ferror(stdin) ? strerror(errno) : cli_nul_at(buf, len, why, sizeof why);
    if (bad) {
        cli_error("%s from stdin: %s", what, bad);
        free(buf);
        return NULL;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    buf[len] = '\0';
    return buf;
}

int cli_temp_dir(const char *name, char *buf, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    int n = snprintf(buf, size, "%s/manushya-%s.XXXXXX", tmp, name);
    if (n < 0 || (size_t)n >= size)
        return cli_error("TMPDIR is too long: %s", tmp);
    if (!mkdtemp(buf))
        return cli_error("cannot make a temporary directory in %s: %s", tmp, strerror(errno));
    return CLI_EXIT_OK;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    remove(path); /* best effort: what cannot go stays in the temporary directory */
    return 0;
}

void cli_temp_dir_remove(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int cli_bench_backend(cli_ctx *c, const char *backend, int *redis)
{
    *redis = strcmp(backend, "redis") == 0;
    if (!*redis && strcmp(backend, "memory") != 0)
        return cli_usage_error(c, "--backend is memory or redis, not '%s'", backend);
    if (*redis && !c->cfg.redis_url)
        return cli_usage_error(c, "--backend redis needs --redis URL (or MANUSHYA_REDIS)");
    return CLI_CONTINUE;
}

int cli_bench_open(cli_ctx *c, const char *name, const mn_config *cfg, char *dir, size_t size,
                   mn_db **db)
{
    *db = NULL;
    int rc = cli_temp_dir(name, dir, size);
    if (rc != CLI_EXIT_OK) {
        *dir = '\0';
        return rc;
    }
    char path[CLI_TEMP_DIR_MAX + 16];
    snprintf(path, sizeof path, "%s/bench.db", dir);
    int mrc = mn_open(db, path, cfg);
    return mrc == MN_OK ? CLI_EXIT_OK : cli_fail(c, mrc, "%s: opening %s", name, path);
}

static const char *const search_modes[] = {
    [MN_SEARCH_VECTOR] = "vector", [MN_SEARCH_KEYWORD] = "keyword", [MN_SEARCH_HYBRID] = "hybrid",
};

int cli_search_mode(const char *name)
{
    for (int m = MN_SEARCH_VECTOR; m <= MN_SEARCH_HYBRID; m++)
        if (strcmp(name, search_modes[m]) == 0)
            return m;
    return 0;
}

const char *cli_search_mode_name(int mode)
{
    return search_modes[mode];
}

int cli_begin_actor(cli_ctx *c, int argc, char **argv, const cli_opt *opts, int nargs,
                    mn_actor *a)
{
    int rc = cli_parse(c, argc, argv, opts, nargs, nargs);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    return cli_actor(c, a);
}

char *cli_list_json(const char *list)
{
    cJSON *arr = cJSON_CreateArray();
    char *copy = strdup(list), *save = NULL;
    for (char *s = copy ? strtok_r(copy, ",", &save) : NULL; s; s = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(arr, cJSON_CreateString(s));
    char *out = copy ? cJSON_PrintUnformatted(arr) : NULL;
    free(copy);
    cJSON_Delete(arr);
    return out;
}
