/*
 * filter_opts.c — what the memory commands that select (list, search, export, count, delete,
 * trim) share: their filter options into an mn_filter, and times as options take them.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t cli_parse_time(const char *s)
{
    char *end;
    long long ms = strtoll(s, &end, 10);
    if (*s && !*end)
        return ms > 0 ? ms : 0;
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3)
        return 0;
    const char *rest = s + n;
    if (*rest == 'T' || *rest == ' ') {
        int m = 0;
        if (sscanf(rest + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &m) != 3)
            return 0;
        rest += 1 + m;
    }
    if (*rest == 'Z')
        rest++;
    if (*rest || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t > 0 ? (int64_t)t * 1000 : 0;
}

/* A comma list into *one (a single value) or *list / *n (several), in the filter's storage. */
static int split_list(cli_ctx *c, const char *opt, const char *value, char **buf,
                      const char ***list, size_t *n, const char **one)
{
    if (!value)
        return CLI_CONTINUE;
    if (!strchr(value, ',')) {
        *one = value;
        return CLI_CONTINUE;
    }
    size_t parts = 1;
    for (const char *p = value; *p; p++)
        parts += *p == ',';
    *buf = strdup(value);
    *list = calloc(parts, sizeof **list);
    if (!*buf || !*list)
        return cli_error("out of memory");
    *n = 0;
    for (char *save = NULL, *t = strtok_r(*buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        (*list)[(*n)++] = t;
    if (*n != parts)
        return cli_usage_error(c, "--%s %s: an empty value in the list; give values separated "
                               "by single commas", opt, value);
    return CLI_CONTINUE;
}

static int time_bound(cli_ctx *c, const char *opt, const char *value, int64_t *out)
{
    if (value && !(*out = cli_parse_time(value)))
        return cli_usage_error(c, "--%s %s: give ms since the epoch or a UTC time such as "
                               "2026-12-07T09:30:00Z", opt, value);
    return CLI_CONTINUE;
}

int cli_filter_finish(cli_ctx *c, cli_filter *cf)
{
    mn_filter *f = &cf->f;
    const char *one[3] = {NULL, NULL, NULL};
    const char *names[3] = {"session", "type", "identity"};
    const char **lists[3] = {NULL, NULL, NULL};
    size_t ns[3] = {0, 0, 0};
    int rc = CLI_CONTINUE;
    for (int i = 0; rc == CLI_CONTINUE && i < 3; i++)
        rc = split_list(c, names[i], cf->lists[i], &cf->bufs[i], &lists[i], &ns[i], &one[i]);
    cf->owned[0] = lists[0];
    cf->owned[1] = lists[1];
    cf->owned[2] = lists[2];
    f->session = one[0];
    f->sessions = lists[0];
    f->n_sessions = ns[0];
    f->type = one[1];
    f->types = lists[1];
    f->n_types = ns[1];
    f->identity = one[2];
    f->identities = lists[2];
    f->n_identities = ns[2];
    const char *topt[4] = {"created-after", "created-before", "updated-after", "updated-before"};
    int64_t *tout[4] = {&f->created_after, &f->created_before, &f->updated_after,
                        &f->updated_before};
    for (int i = 0; rc == CLI_CONTINUE && i < 4; i++)
        rc = time_bound(c, topt[i], cf->times[i], tout[i]);
    /* --importance-max 0 means at most 0, which the filter writes MN_IMPORTANCE_ZERO. */
    if (cf->importance_max_given && f->importance_max == 0)
        f->importance_max = MN_IMPORTANCE_ZERO;
    if (cf->all_readable)
        f->flags |= MN_ALL_READABLE;
    return rc;
}

void cli_filter_free(cli_filter *cf)
{
    for (int i = 0; i < 3; i++) {
        free(cf->bufs[i]);
        free((void *)cf->owned[i]);
    }
}

int cli_filter_given(const cli_filter *cf)
{
    for (int i = 0; i < 3; i++)
        if (cf->lists[i])
            return 1;
    for (int i = 0; i < 4; i++)
        if (cf->times[i])
            return 1;
    return cf->f.metadata || cf->f.importance_min != 0 || cf->importance_max_given;
}

int cli_with_filter(cli_ctx *c, int argc, char **argv,
                    int (*run)(cli_ctx *c, int argc, char **argv, cli_filter *cf))
{
    cli_filter cf = CLI_FILTER_INIT;
    int rc = run(c, argc, argv, &cf);
    cli_filter_free(&cf);
    return rc;
}
