/* Policies: parsing the "conditions" of a rule (time, ip, resource and custom conditions) and
 * the scalar formats they use. Errors name the JSON path, as in policy_rule.c. */
#include "policy/policy_impl.h"

#include "manushya.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- time ------------------------------------------------------------------------------------ */

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int pl_parse_hhmm(const char *s, int *minutes)
{
    if (!s || strlen(s) != 5 || s[2] != ':' || !digits(s, 2) || !digits(s + 3, 2))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int pl_parse_date(const char *s, int64_t *days)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4) ||
        !digits(s + 5, 2) || !digits(s + 8, 2))
        return -1;
    int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return -1;
    *days = days_from_civil(y, m, d);
    return 0;
}

static int parse_tod(pl_pctx *c, pl_rule *r, const cJSON *v, const char *path)
{
    static const char *const names[] = {"start", "end", NULL};
    int rc = pl_need_object(c, v, path);
    if (rc == MN_OK)
        rc = pl_keys_known(c, v, path, names, "start, end");
    if (rc != MN_OK)
        return rc;
    int *dst[2] = {&r->tod_start, &r->tod_end};
    for (int i = 0; i < 2; i++) {
        char p[160], q[80];
        pl_subpath(p, sizeof p, path, names[i]);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, names[i]);
        if (!t)
            return pl_bad(c, p, "missing; give a time \"HH:MM\" (UTC)");
        if (!cJSON_IsString(t) || pl_parse_hhmm(t->valuestring, dst[i]) != 0)
            return pl_bad(c, p, "%s is not a time \"HH:MM\" from 00:00 to 23:59",
                          pl_quoted(t, q, sizeof q));
    }
    if (r->tod_start == r->tod_end)
        return pl_bad(c, path, "start and end are equal, which is an empty window; leave "
                      "time_of_day out to allow the whole day");
    r->has_tod = 1;
    return MN_OK;
}

static int parse_days(pl_pctx *c, pl_rule *r, const cJSON *v, const char *path)
{
    static const char *const names[7] = {"sunday", "monday", "tuesday", "wednesday",
                                         "thursday", "friday", "saturday"};
    char q[80];
    if (!cJSON_IsArray(v) || !v->child)
        return pl_bad(c, path, "must be a non-empty array of day names (\"monday\", ...), not %s",
                      cJSON_IsArray(v) ? "an empty array" : pl_quoted(v, q, sizeof q));
    size_t i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        int day = -1;
        for (int d = 0; d < 7 && day < 0 && cJSON_IsString(e); d++)
            if (strcasecmp(e->valuestring, names[d]) == 0 ||
                (strlen(e->valuestring) == 3 && strncasecmp(e->valuestring, names[d], 3) == 0))
                day = d;
        if (day < 0) {
            char p[160];
            pl_subindex(p, sizeof p, path, i);
            return pl_bad(c, p, "%s is not a day of the week (monday ... sunday)",
                          pl_quoted(e, q, sizeof q));
        }
        r->days |= 1u << day;
    }
    return MN_OK;
}

static int parse_dates(pl_pctx *c, pl_rule *r, const cJSON *v, const char *path)
{
    static const char *const names[] = {"start", "end", NULL};
    int rc = pl_need_object(c, v, path);
    if (rc == MN_OK)
        rc = pl_keys_known(c, v, path, names, "start, end");
    if (rc != MN_OK)
        return rc;
    int64_t *dst[2] = {&r->date_start, &r->date_end};
    for (int i = 0; i < 2; i++) {
        char p[160], q[80];
        pl_subpath(p, sizeof p, path, names[i]);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, names[i]);
        if (!t)
            return pl_bad(c, p, "missing; give a date \"YYYY-MM-DD\" (UTC, included)");
        if (!cJSON_IsString(t) || pl_parse_date(t->valuestring, dst[i]) != 0)
            return pl_bad(c, p, "%s is not a date \"YYYY-MM-DD\"", pl_quoted(t, q, sizeof q));
    }
    if (r->date_start > r->date_end)
        return pl_bad(c, path, "start is after end");
    r->has_dates = 1;
    return MN_OK;
}

static int parse_time(pl_pctx *c, pl_rule *r, const cJSON *v, const char *path)
{
    static const char *const names[] = {"time_of_day", "days_of_week", "date_range", NULL};
    int rc = pl_need_object(c, v, path);
    if (rc == MN_OK)
        rc = pl_keys_known(c, v, path, names, "time_of_day, days_of_week, date_range");
    if (rc != MN_OK)
        return rc;
    if (!v->child)
        return pl_bad(c, path, "is empty; give time_of_day, days_of_week and/or date_range");
    for (const cJSON *e = v->child; e && rc == MN_OK; e = e->next) {
        char p[160];
        pl_subpath(p, sizeof p, path, e->string);
        if (strcmp(e->string, "time_of_day") == 0)
            rc = parse_tod(c, r, e, p);
        else if (strcmp(e->string, "days_of_week") == 0)
            rc = parse_days(c, r, e, p);
        else
            rc = parse_dates(c, r, e, p);
    }
    r->has_time = rc == MN_OK;
    return rc;
}

/* ---- ip, resource and custom conditions ------------------------------------------------------ */

static int add_nets(pl_pctx *c, pl_rule *r, const cJSON *v, const char *path, int ranges)
{
    char q[80];
    if (!cJSON_IsArray(v))
        return pl_bad(c, path, "must be an array of %s, not %s",
                      ranges ? "CIDR ranges (\"10.0.0.0/8\", \"2001:db8::/32\")"
                          : "IP addresses (\"192.0.2.7\", \"2001:db8::1\")",
                   pl_quoted(v, q, sizeof q));
    size_t cnt = (size_t)cJSON_GetArraySize(v), i = 0;
    if (cnt == 0)
        return MN_OK;
    pl_net *nn = realloc(r->nets, (r->nnets + cnt) * sizeof *nn);
    if (!nn)
        return pl_oom(c);
    r->nets = nn;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        char p[160];
        pl_subindex(p, sizeof p, path, i);
        pl_net *n = &r->nets[r->nnets];
        if (!cJSON_IsString(e))
            return pl_bad(c, p, "must be a string, not %s", pl_kind(e));
        if (!ranges) {
            int v4;
            if (pl_parse_ip(e->valuestring, n->addr, &v4) != 0)
                return pl_bad(c, p, "%s is not an IPv4 or IPv6 address%s",
                              pl_quoted(e, q, sizeof q),
                              strchr(e->valuestring, '/') ? " (put ranges in allowed_ranges)" : "");
            n->bits = 128;
        } else {
            int prc = pl_parse_cidr(e->valuestring, n);
            if (prc == -2)
                return pl_bad(c, p, "%s has bits set past its prefix length; give the network "
                              "address (e.g. \"10.0.0.0/8\")", pl_quoted(e, q, sizeof q));
            if (prc != 0)
                return pl_bad(c, p, "%s is not a CIDR (\"10.0.0.0/8\": prefix 0..32 for IPv4, "
                              "0..128 for IPv6)", pl_quoted(e, q, sizeof q));
        }
        r->nnets++;
    }
    return MN_OK;
}

static int parse_ip(pl_pctx *c, pl_rule *r, const cJSON *v, const char *path)
{
    static const char *const names[] = {"allowed_ips", "allowed_ranges", NULL};
    int rc = pl_need_object(c, v, path);
    if (rc == MN_OK)
        rc = pl_keys_known(c, v, path, names, "allowed_ips, allowed_ranges");
    for (const cJSON *e = rc == MN_OK ? v->child : NULL; e && rc == MN_OK; e = e->next) {
        char p[160];
        pl_subpath(p, sizeof p, path, e->string);
        rc = add_nets(c, r, e, p, strcmp(e->string, "allowed_ranges") == 0);
    }
    if (rc == MN_OK && r->nnets == 0)
        return pl_bad(c, path, "allows no address; give allowed_ips and/or allowed_ranges (leave "
                      "ip_restrictions out to allow any address)");
    r->has_ip = 1;
    return rc;
}

static int parse_resource_conds(pl_pctx *c, pl_rule *r, const cJSON *v, const char *path)
{
    static const char *const names[] = {"memory_types", "metadata_requirements", NULL};
    int rc = pl_need_object(c, v, path);
    if (rc == MN_OK)
        rc = pl_keys_known(c, v, path, names, "memory_types, metadata_requirements");
    if (rc == MN_OK && !v->child)
        return pl_bad(c, path, "is empty; give memory_types and/or metadata_requirements");
    for (const cJSON *e = rc == MN_OK ? v->child : NULL; e && rc == MN_OK; e = e->next) {
        char p[160];
        pl_subpath(p, sizeof p, path, e->string);
        if (strcmp(e->string, "memory_types") == 0)
            rc = pl_strings(c, e, p, 0, NULL, &r->types, &r->ntypes);
        else
            rc = pl_dup_object(c, e, p, &r->meta);
    }
    return rc;
}

static int parse_custom(pl_pctx *c, pl_rule *r, const cJSON *v, const char *path)
{
    static const char *const names[] = {"identity_claims", NULL};
    int rc = pl_need_object(c, v, path);
    if (rc == MN_OK)
        rc = pl_keys_known(c, v, path, names, "identity_claims");
    if (rc == MN_OK && !v->child)
        return pl_bad(c, path, "is empty; give identity_claims");
    const cJSON *e = rc == MN_OK ? v->child : NULL;
    if (e) {
        char p[160];
        pl_subpath(p, sizeof p, path, e->string);
        rc = pl_dup_object(c, e, p, &r->claims);
    }
    return rc;
}

int pl_parse_conditions(pl_pctx *c, pl_rule *r, const cJSON *v)
{
    static const char *const names[] = {"roles", "time_restrictions", "ip_restrictions",
                                        "resource_conditions", "custom_conditions", NULL};
    const char *path = "conditions";
    int rc = pl_need_object(c, v, path);
    if (rc == MN_OK)
        rc = pl_keys_known(c, v, path, names, "roles, time_restrictions, ip_restrictions, "
                           "resource_conditions, custom_conditions");
    for (const cJSON *e = rc == MN_OK ? v->child : NULL; e && rc == MN_OK; e = e->next) {
        char p[160];
        pl_subpath(p, sizeof p, path, e->string);
        if (strcmp(e->string, "roles") == 0) {
            int any = 0;
            rc = pl_strings(c, e, p, 0, &any, &r->roles, &r->nroles);
        } else if (strcmp(e->string, "time_restrictions") == 0)
            rc = parse_time(c, r, e, p);
        else if (strcmp(e->string, "ip_restrictions") == 0)
            rc = parse_ip(c, r, e, p);
        else if (strcmp(e->string, "resource_conditions") == 0)
            rc = parse_resource_conds(c, r, e, p);
        else
            rc = parse_custom(c, r, e, p);
    }
    return rc;
}

/* "when": compiled by the JSON Logic engine, whose paths ("$.and[1]") become "when.and[1]". */
