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

/* Masks the value that starts at v (up to the end, or the first of stop), in place of
 * *out..; returns where the copy of the rest of in resumes. A value in single quotes (libpq's
 * conninfo) ends at its closing quote. */
static const char *mask_value(const char *v, const char *stop, char **out)
{
    const char *end = v;
    if (*end == '\'') {
        for (end++; *end && *end != '\''; end++)
            if (*end == '\\' && end[1])
                end++;
        if (*end)
            end++;
    } else {
        end += strcspn(end, stop);
    }
    memcpy(*out, "***", 3);
    *out += 3;
    return end;
}

static char *redact_url(const char *url)
{
    char *shown = malloc(strlen(url) * 2 + 8), *out = shown; /* "***" may be longer */
    if (!shown)
        return NULL;
    const char *in = url, *auth = strstr(url, "://");
    if (auth) { /* scheme://user:password@host: the password is between the first ':' and '@' */
        auth += 3;
        size_t alen = strcspn(auth, "/?#");
        const char *at = memrchr(auth, '@', alen);
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            memcpy(out, url, (size_t)(colon + 1 - url));
            out += colon + 1 - url;
            memcpy(out, "***", 3); /* up to the last '@': a password may hold one unescaped */
            out += 3;
            in = at;
        }
    }
    while (*in) { /* password=VALUE, at the start or after a separator */
        if (strncmp(in, "password=", 9) == 0 &&
            (in == url || strchr(" \t?&", in[-1]))) {
            memcpy(out, in, 9);
            out += 9;
            in = mask_value(in + 9, auth ? "&#" : " \t", &out);
            continue;
        }
        *out++ = *in++;
    }
    *out = '\0';
    return shown;
}

const char *cli_url_shown(cli_ctx *c)
{
    const char *url = cli_url(c);
    if (!url)
        return NULL;
    if (!c->url_shown)
        c->url_shown = redact_url(url);
    return c->url_shown ? c->url_shown : "(the database)";
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
    free(c->url_shown);
    c->url_shown = NULL;
}

int cli_actor(const cli_ctx *c, mn_actor *a)
{
    *a = (mn_actor)MN_ACTOR_INIT; /* fields the API gains later are then "default" */
    if (!c->tenant || !*c->tenant)
        return cli_usage_error(c, "no tenant: pass --tenant T or set MANUSHYA_TENANT");
    a->tenant = c->tenant;
    a->identity = c->identity && *c->identity ? c->identity : NULL;
    if (c->context && *c->context) {
        /* Checked here too: the library reads the context only for an identity, and a typo
         * silently ignored for the system actor would surface later, elsewhere. */
        cJSON *j = cJSON_Parse(c->context);
        int is_object = cJSON_IsObject(j);
        cJSON_Delete(j);
        if (!is_object)
            return cli_error("--context (or MANUSHYA_CONTEXT) is not a JSON object: %.80s%s",
                             c->context, strlen(c->context) > 80 ? "..." : "");
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
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    /* mn_errmsg() explains the calling thread's last failure on this handle; when the failure
     * was not the library's (or it kept no message), the code's name is the best we have. */
    const char *msg = mn_errcode(c->db) == rc ? mn_errmsg(c->db) : NULL;
    fprintf(stderr, ": %s\n", msg && *msg ? msg : mn_strerror(rc));
    return cli_exit_code(rc);
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("manushya: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
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

void cli_print_oneline(FILE *f, const char *s, size_t max)
{
    size_t n = strlen(s);
    int cut = max && n > max;
    if (cut) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) /* not inside a UTF-8 sequence */
            n--;
    }
    for (size_t i = 0; i < n; i++)
        fputc(s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i], f);
    if (cut)
        fputs("...", f);
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
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

char *cli_read_stdin(void)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;
    for (;;) {
        if (cap - len < 4096) {
            char *bigger = realloc(buf, cap = cap ? cap * 2 : 8192);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0)
            break; /* end of input or an error: ferror() tells */
    }
    if (ferror(stdin)) {
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
