/*
 * mcp_schema.c — a tool's arguments checked against the input schema tools/list publishes,
 * so what a client is told and what is enforced are one text. Only the keywords the tools'
 * schemas use are understood; the tools' schemas use no other.
 */
#include "mcp.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

static int fail(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
    return -1;
}

/* "a string", "an object", ...: what v is, for messages. */
static const char *what(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "an array";
    return "null";
}

static int is_integer(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
           fabs(v->valuedouble) <= INT_MAX;
}

static int has_type(const cJSON *v, const char *type)
{
    if (strcmp(type, "object") == 0)
        return cJSON_IsObject(v);
    if (strcmp(type, "string") == 0)
        return cJSON_IsString(v);
    if (strcmp(type, "integer") == 0)
        return is_integer(v);
    if (strcmp(type, "number") == 0)
        return cJSON_IsNumber(v) && isfinite(v->valuedouble);
    if (strcmp(type, "boolean") == 0)
        return cJSON_IsBool(v);
    return 0;
}

/* "'filters.type'" for messages, or "the arguments" at the top. */
static const char *name_of(const char *path, char *buf, size_t size)
{
    if (!*path)
        return "the arguments";
    snprintf(buf, size, "'%s'", path);
    return buf;
}

/* The names of an object schema's properties, ", "-separated, into buf. */
static void property_names(const cJSON *props, char *buf, size_t size)
{
    size_t at = 0;
    const cJSON *p;
    buf[0] = '\0';
    cJSON_ArrayForEach(p, props) {
        int n = snprintf(buf + at, size - at, "%s%s", at ? ", " : "", p->string);
        if (n < 0 || (size_t)n >= size - at)
            break;
        at += (size_t)n;
    }
}

static int check_object(const cJSON *schema, const cJSON *v, const char *path, char *msg,
                        size_t size)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(schema, "required");
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
    char sub[256], names[256];
    const cJSON *f;
    cJSON_ArrayForEach(f, v) {
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->string);
        const cJSON *ps = cJSON_GetObjectItemCaseSensitive(props, f->string);
        if (!ps) {
            if (!cJSON_IsFalse(extra))
                continue;
            property_names(props, names, sizeof names);
            return fail(msg, size, "unknown argument '%s': %s takes %s", sub,
                        *path ? path : "the tool", names);
        }
        if (cJSON_GetObjectItemCaseSensitive(v, f->string) != f)
            return fail(msg, size, "'%s' is given twice", sub);
        if (mcp_schema_check(ps, f, sub, msg, size) != 0)
            return -1;
    }
    cJSON_ArrayForEach(f, req) {
        if (!cJSON_GetObjectItemCaseSensitive(v, f->valuestring)) {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->valuestring);
            return fail(msg, size, "'%s' is required", sub);
        }
    }
    return 0;
}

int mcp_schema_check(const cJSON *schema, const cJSON *v, const char *path, char *msg,
                     size_t size)
{
    char nb[260];
    const char *name = name_of(path, nb, sizeof nb);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(schema, "type");
    if (cJSON_IsString(type) && !has_type(v, type->valuestring))
        return fail(msg, size, "%s: expected %s %s, got %s", name,
                    strchr("aeiou", type->valuestring[0]) ? "an" : "a", type->valuestring,
                    what(v));
    if (cJSON_IsObject(v))
        return check_object(schema, v, path, msg, size);

    const cJSON *en = cJSON_GetObjectItemCaseSensitive(schema, "enum");
    if (en) {
        const cJSON *e;
        char names[256];
        size_t at = 0;
        cJSON_ArrayForEach(e, en) {
            if (cJSON_Compare(e, v, 1))
                return 0;
            int n = snprintf(names + at, sizeof names - at, "%s%s", at ? ", " : "",
                             e->valuestring ? e->valuestring : "?");
            if (n > 0 && (size_t)n < sizeof names - at)
                at += (size_t)n;
        }
        return fail(msg, size, "%s: expected one of %s, got %.60s", name, names,
                    cJSON_IsString(v) ? v->valuestring : what(v));
    }
    const cJSON *min = cJSON_GetObjectItemCaseSensitive(schema, "minimum");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(schema, "maximum");
    if (cJSON_IsNumber(v) && ((min && v->valuedouble < min->valuedouble) ||
                              (max && v->valuedouble > max->valuedouble)))
        return fail(msg, size, "%s: expected %g to %g, got %g", name,
                    min ? min->valuedouble : -HUGE_VAL, max ? max->valuedouble : HUGE_VAL,
                    v->valuedouble);
    const cJSON *minlen = cJSON_GetObjectItemCaseSensitive(schema, "minLength");
    if (cJSON_IsString(v) && minlen && strlen(v->valuestring) < (size_t)minlen->valuedouble)
        return fail(msg, size, "%s: must not be empty", name);
    return 0;
}
