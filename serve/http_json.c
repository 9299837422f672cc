/*
 * http_json.c — a request's arguments, checked against its route's field list, and errors as
 * JSON with the HTTP status of their MN_* code.
 */
#include "serve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int sv_invalid(sv_req *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    return MN_EINVAL;
}

int sv_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p++;
        if (c < 0x80)
            continue;
        int more;
        unsigned cp, min;
        if (c >= 0xc2 && c <= 0xdf)
            more = 1, cp = c & 0x1f, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
            more = 2, cp = c & 0x0f, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
            more = 3, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        if (end - p < more)
            return 0;
        for (int i = 0; i < more; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        p += more;
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
    }
    return 1;
}

/* ---- arguments ---------------------------------------------------------------------------- */
static const sv_field *field_of(const sv_route *rt, const char *name, sv_where where)
{
    for (const sv_field *f = rt->fields; f->name; f++)
        if (f->where == where && strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static const char *type_words(sv_type t)
{
    static const char *const words[] = {"a string", "an integer", "a number", "true or false",
                                        "a JSON object", "an array of strings"};
    return words[t];
}

/* "text, type, metadata" of the fields of a route in one place, for messages. */
static void field_names(const sv_route *rt, sv_where where, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const sv_field *f = rt->fields; f->name; f++)
        if (f->where == where && n < size)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", f->name);
    if (!buf[0])
        snprintf(buf, size, "none");
}

static int unknown_field(sv_req *r, const char *name, sv_where where)
{
    char names[256];
    field_names(r->route, where, names, sizeof names);
    return sv_invalid(r, "unknown %s '%.64s': %s %s accepts %s",
                      where == SV_BODY ? "field" : "query parameter", name, r->route->method,
                      r->route->path, names);
}

static int type_ok(const cJSON *v, sv_type t)
{
    switch (t) {
    case SV_STR:
        return cJSON_IsString(v);
    case SV_NUM:
        return cJSON_IsNumber(v);
    case SV_INT:
        return cJSON_IsNumber(v) && v->valuedouble == (double)(int64_t)v->valuedouble &&
               v->valuedouble >= -9007199254740992.0 && v->valuedouble <= 9007199254740992.0;
    case SV_BOOL:
        return cJSON_IsBool(v);
    case SV_OBJECT:
        return cJSON_IsObject(v);
    case SV_STR_ARRAY:
        if (!cJSON_IsArray(v))
            return 0;
        for (const cJSON *e = v->child; e; e = e->next)
            if (!cJSON_IsString(e))
                return 0;
        return 1;
    }
    return 0;
}

static int ensure_args(sv_req *r)
{
    if (!r->args && !(r->args = cJSON_CreateObject()))
        return MN_ENOMEM;
    return MN_OK;
}

/* 1 when a member before v in o has v's name. */
static int given_before(const cJSON *o, const cJSON *v)
{
    for (const cJSON *w = o->child; w != v; w = w->next)
        if (strcmp(w->string, v->string) == 0)
            return 1;
    return 0;
}

int sv_args_body(sv_req *r, const char *body, size_t len)
{
    int rc = ensure_args(r);
    if (rc != MN_OK || len == 0)
        return rc;
    int takes_body = 0;
    for (const sv_field *f = r->route->fields; f->name; f++)
        takes_body |= f->where == SV_BODY;
    if (!takes_body)
        return sv_invalid(r, "%s %s takes no body", r->route->method, r->route->path);
    if (!sv_utf8_valid(body, len))
        return sv_invalid(r, "the body is not valid UTF-8: send JSON encoded as UTF-8");
    if (memchr(body, '\0', len))
        return sv_invalid(r, "the body holds a NUL byte: send JSON text");
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!j) {
        size_t at = end ? (size_t)(end - body) : 0;
        return sv_invalid(r, "the body is not valid JSON (near byte %zu): send one JSON object",
                          at);
    }
    for (const char *p = end; p < body + len; p++)
        if (!strchr(" \t\r\n", *p)) {
            cJSON_Delete(j);
            return sv_invalid(r, "the body has text after its JSON object (byte %zu)",
                              (size_t)(p - body));
        }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return sv_invalid(r, "the body must be a JSON object");
    }
    rc = MN_OK;
    for (cJSON *v = j->child; v && rc == MN_OK; v = v->next) {
        const sv_field *f = field_of(r->route, v->string, SV_BODY);
        if (!f)
            rc = unknown_field(r, v->string, SV_BODY);
        else if (given_before(j, v))
            rc = sv_invalid(r, "field '%s' is given twice", v->string);
        else if (!cJSON_IsNull(v) && !type_ok(v, f->type))
            rc = sv_invalid(r, "field '%s' must be %s", f->name, type_words(f->type));
    }
    if (rc == MN_OK) { /* move the fields over; a null counts as not given */
        while (j->child) {
            cJSON *v = cJSON_DetachItemViaPointer(j, j->child);
            if (cJSON_IsNull(v))
                cJSON_Delete(v);
            else
                cJSON_AddItemToObject(r->args, v->string, v);
        }
    }
    cJSON_Delete(j);
    return rc;
}

int sv_args_query(sv_req *r, const char *key, const char *value)
{
    int rc = ensure_args(r);
    if (rc != MN_OK)
        return rc;
    if (!value)
        value = "";
    if (!sv_utf8_valid(key, strlen(key)) || !sv_utf8_valid(value, strlen(value)))
        return sv_invalid(r, "the query string is not valid UTF-8 once %%-decoded");
    const sv_field *f = field_of(r->route, key, SV_QUERY);
    if (!f)
        return unknown_field(r, key, SV_QUERY);
    if (cJSON_GetObjectItemCaseSensitive(r->args, key))
        return sv_invalid(r, "query parameter '%s' is given twice", key);
    cJSON *v = NULL;
    if (f->type == SV_STR) {
        v = cJSON_CreateString(value);
    } else if (f->type == SV_BOOL) {
        if (strcmp(value, "true") && strcmp(value, "false"))
            return sv_invalid(r, "query parameter '%s' must be true or false", key);
        v = cJSON_CreateBool(value[0] == 't');
    } else { /* SV_INT: the only other kind a query carries */
        char *end;
        errno = 0;
        long long n = strtoll(value, &end, 10);
        if (!*value || *end || errno)
            return sv_invalid(r, "query parameter '%s' must be an integer", key);
        v = cJSON_CreateNumber((double)n);
    }
    if (!v)
        return MN_ENOMEM;
    cJSON_AddItemToObject(r->args, key, v);
    return MN_OK;
}

static const cJSON *arg(const sv_req *r, const char *name)
{
    return r->args ? cJSON_GetObjectItemCaseSensitive(r->args, name) : NULL;
}

int sv_arg_given(const sv_req *r, const char *name)
{
    return arg(r, name) != NULL;
}

const char *sv_arg_str(const sv_req *r, const char *name)
{
    const cJSON *v = arg(r, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t sv_arg_int(const sv_req *r, const char *name, int64_t dflt)
{
    const cJSON *v = arg(r, name);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

double sv_arg_num(const sv_req *r, const char *name, double dflt)
{
    const cJSON *v = arg(r, name);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int sv_arg_bool(const sv_req *r, const char *name)
{
    return cJSON_IsTrue(arg(r, name));
}

char *sv_arg_json(const sv_req *r, const char *name, int *rc)
{
    const cJSON *v = arg(r, name);
    if (!v)
        return NULL;
    char *s = cJSON_PrintUnformatted(v);
    if (!s)
        *rc = MN_ENOMEM;
    return s;
}

size_t sv_arg_strs(const sv_req *r, const char *name, const char ***out)
{
    const cJSON *v = arg(r, name);
    *out = NULL;
    size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
    if (!v || !n || !(*out = malloc(n * sizeof **out)))
        return 0;
    for (const cJSON *e = v->child; e; e = e->next)
        (*out)[i++] = e->valuestring;
    return n;
}

cJSON *sv_items(sv_req *r)
{
    r->out = cJSON_CreateObject();
    return cJSON_AddArrayToObject(r->out, "items");
}

/* ---- errors ------------------------------------------------------------------------------- */
static const struct {
    int rc, status;
    const char *word;
} errors[] = {
    {MN_EINVAL, 400, "invalid"},         {MN_ENOTFOUND, 404, "not_found"},
    {MN_EEXISTS, 409, "exists"},         {MN_EDENIED, 403, "denied"},
    {MN_ELIMITED, 429, "rate_limited"},  {MN_EBACKEND, 503, "backend"},
    {MN_ENOMEM, 503, "out_of_memory"},   {MN_EUNSUPPORTED, 501, "unsupported"},
    {MN_ECORRUPT, 500, "corrupt"},       {MN_ERANGE, 422, "range"},
    {MN_EKEY, 500, "key"},
};

int sv_status_of(int rc)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].rc == rc)
            return errors[i].status;
    return 500;
}

const char *sv_code_word(int rc)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].rc == rc)
            return errors[i].word;
    return "error";
}

cJSON *sv_error_json(const char *code, const char *message)
{
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    return o;
}
