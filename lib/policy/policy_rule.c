/* Policies: parsing and validating one rule into a pl_rule (policy_impl.h). Every error names the
 * JSON path of the bad field, e.g. `conditions.ip_restrictions.allowed_ranges[1]: ...`. */
#include "policy/policy_impl.h"

#include "manushya.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int pl_bad(pl_pctx *c, const char *path, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        int n = snprintf(c->err, c->errlen, "%s: ", path);
        if (n >= 0 && (size_t)n < c->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return MN_EINVAL;
}

int pl_oom(pl_pctx *c)
{
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "out of memory compiling the rule");
    return MN_ENOMEM;
}

const char *pl_kind(const cJSON *v)
{
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    return "a value";
}

/* A value quoted for a message, cut to a readable length. */
const char *pl_quoted(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsString(v))
        snprintf(buf, len, "\"%.60s%s\"", v->valuestring, strlen(v->valuestring) > 60 ? "..." : "");
    else
        snprintf(buf, len, "%s", pl_kind(v));
    return buf;
}

void pl_subpath(char *out, size_t len, const char *path, const char *key)
{
    snprintf(out, len, "%s%s%s", path, *path ? "." : "", key);
}

void pl_subindex(char *out, size_t len, const char *path, size_t i)
{
    snprintf(out, len, "%s[%zu]", path, i);
}

/* Checks that every member of object o is one of the NULL-terminated names, once each. */
int pl_keys_known(pl_pctx *c, const cJSON *o, const char *path, const char *const *names,
                  const char *list)
{
    for (const cJSON *e = o->child; e; e = e->next) {
        int known = 0;
        for (size_t i = 0; names[i] && !known; i++)
            known = strcmp(e->string, names[i]) == 0;
        const char *where = *path ? path : "rule";
        if (!known)
            return pl_bad(c, where, "unknown key \"%.60s\" (expected %s)", e->string, list);
        for (const cJSON *f = o->child; f != e; f = f->next)
            if (strcmp(f->string, e->string) == 0)
                return pl_bad(c, where, "duplicate key \"%.60s\"", e->string);
    }
    return MN_OK;
}

int pl_need_object(pl_pctx *c, const cJSON *v, const char *path)
{
    return cJSON_IsObject(v) ? MN_OK : pl_bad(c, path, "must be a JSON object, not %s", pl_kind(v));
}

/* A non-empty array of non-empty strings, copied into *out. star: "*" (as the whole value) is
 * accepted and sets *any. */
int pl_strings(pl_pctx *c, const cJSON *v, const char *path, int star, int *any, char ***out,
               size_t *n)
{
    char q[80];
    if (star && cJSON_IsString(v) && strcmp(v->valuestring, "*") == 0) {
        *any = 1;
        return MN_OK;
    }
    if (!cJSON_IsArray(v))
        return pl_bad(c, path, "must be an array of strings%s, not %s", star ? " or \"*\"" : "",
                      pl_quoted(v, q, sizeof q));
    size_t cnt = (size_t)cJSON_GetArraySize(v);
    if (cnt == 0)
        return pl_bad(c, path, "must not be empty");
    char **a = calloc(cnt, sizeof *a);
    if (!a)
        return pl_oom(c);
    size_t i = 0;
    int rc = MN_OK;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e) || !e->valuestring[0]) {
            char p[160];
            pl_subindex(p, sizeof p, path, i);
            rc = pl_bad(c, p, "must be a non-empty string, not %s", pl_quoted(e, q, sizeof q));
            break;
        }
        if (star && strcmp(e->valuestring, "*") == 0)
            *any = 1;
        if (!(a[i] = strdup(e->valuestring))) {
            rc = pl_oom(c);
            break;
        }
    }
    if (rc != MN_OK) {
        for (size_t k = 0; k < cnt; k++)
            free(a[k]);
        free(a);
        return rc;
    }
    *out = a;
    *n = cnt;
    return MN_OK;
}

int pl_dup_object(pl_pctx *c, const cJSON *v, const char *path, cJSON **out)
{
    int rc = pl_need_object(c, v, path);
    if (rc != MN_OK)
        return rc;
    if (!(*out = cJSON_Duplicate(v, 1)))
        return pl_oom(c);
    return MN_OK;
}

static int parse_when(pl_pctx *c, pl_rule *r, const cJSON *v)
{
    char msg[400];
    int rc = mni_jl_compile_ex(v, MNI_JL_CONDITION, &r->when, msg, sizeof msg);
    if (rc == MN_ENOMEM)
        return pl_oom(c);
    if (rc != MN_OK) {
        if (c->err && c->errlen) /* "$.and[1]: ..." -> "when.and[1]: ..." */
            snprintf(c->err, c->errlen, "when%s%s", msg[0] == '$' ? "" : ": ",
                     msg[0] == '$' ? msg + 1 : msg);
        return MN_EINVAL;
    }
    r->when_on_resource = pl_logic_on_resource(v);
    return MN_OK;
}

static int parse_top(pl_pctx *c, pl_rule *r, const cJSON *j)
{
    static const char *const names[] = {"effect", "actions", "resource", "conditions", "when",
                                        NULL};
    char q[80];
    if (!cJSON_IsObject(j))
        return pl_bad(c, "rule", "must be a JSON object such as {\"effect\":\"allow\",\"actions\":"
                      "[\"read\"],\"resource\":\"memory\"}, not %s", pl_kind(j));
    int rc = pl_keys_known(c, j, "", names, "effect, actions, resource, conditions, when");
    if (rc != MN_OK)
        return rc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "effect");
    if (!v)
        return pl_bad(c, "effect", "missing; give \"allow\" or \"deny\"");
    if (cJSON_IsString(v) && strcmp(v->valuestring, "allow") == 0)
        r->effect = PL_ALLOW;
    else if (cJSON_IsString(v) && strcmp(v->valuestring, "deny") == 0)
        r->effect = PL_DENY;
    else
        return pl_bad(c, "effect", "must be \"allow\" or \"deny\", not %s",
                      pl_quoted(v, q, sizeof q));
    if (!(v = cJSON_GetObjectItemCaseSensitive(j, "actions")))
        return pl_bad(c, "actions", "missing; give an array of actions ([\"read\", \"list\"]) or "
                      "\"*\"");
    if ((rc = pl_strings(c, v, "actions", 1, &r->actions_any, &r->actions, &r->nactions)) != MN_OK)
        return rc;
    if (!(v = cJSON_GetObjectItemCaseSensitive(j, "resource")))
        return pl_bad(c, "resource", "missing; give a resource (\"memory\", \"identity\", ...) or "
                      "\"*\"");
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return pl_bad(c, "resource", "must be a non-empty string (\"memory\", \"*\", ...), not %s",
                      pl_quoted(v, q, sizeof q));
    r->resource_any = strcmp(v->valuestring, "*") == 0;
    if (!(r->resource = strdup(v->valuestring)))
        return pl_oom(c);
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "conditions")) &&
        (rc = pl_parse_conditions(c, r, v)) != MN_OK)
        return rc;
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "when")) && (rc = parse_when(c, r, v)) != MN_OK)
        return rc;
    r->on_resource = r->types || r->meta || r->when_on_resource;
    return MN_OK;
}

int pl_rule_parse(const char *json, pl_rule *r, char *err, size_t errlen)
{
    pl_pctx c = {err, errlen};
    memset(r, 0, sizeof *r);
    if (err && errlen)
        err[0] = '\0';
    if (!json)
        return pl_bad(&c, "rule", "is NULL; give a JSON object");
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(json, &end, 1);
    if (!j) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        return pl_bad(&c, "rule", "is not valid JSON (parsing stopped at byte %zu)", at);
    }
    int rc = parse_top(&c, r, j);
    cJSON_Delete(j);
    if (rc != MN_OK)
        pl_rule_clear(r);
    return rc;
}

static void free_strings(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void pl_rule_clear(pl_rule *r)
{
    if (!r)
        return;
    free_strings(r->actions, r->nactions);
    free(r->resource);
    free_strings(r->roles, r->nroles);
    free(r->nets);
    free_strings(r->types, r->ntypes);
    cJSON_Delete(r->meta);
    cJSON_Delete(r->claims);
    mni_jl_free(r->when);
    memset(r, 0, sizeof *r);
}

