/*
 * openapi.c — the OpenAPI 3.1 document, made from the route table (served at /openapi.json):
 * every route with its path parameters, query parameters and body fields, so the document and
 * the server cannot disagree.
 */
#include "serve.h"

#include <ctype.h>
#include <string.h>

static cJSON *schema_of(sv_type t)
{
    static const char *const names[] = {"string", "integer", "number", "boolean", "object",
                                        "array"};
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", names[t]);
    if (t == SV_STR_ARRAY)
        cJSON_AddItemToObject(s, "items", schema_of(SV_STR));
    return s;
}

static cJSON *parameter(const char *name, const char *in, sv_type t, const char *about)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "name", name);
    cJSON_AddStringToObject(p, "in", in);
    cJSON_AddBoolToObject(p, "required", strcmp(in, "path") == 0);
    if (about)
        cJSON_AddStringToObject(p, "description", about);
    cJSON_AddItemToObject(p, "schema", schema_of(t));
    return p;
}

/* "get_v1_memory_id" */
static void operation_id(const sv_route *rt, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "%s", rt->method);
    for (const char *p = rt->path; *p && n + 1 < size; p++)
        if (isalnum((unsigned char)*p))
            buf[n++] = *p;
        else if (n && buf[n - 1] != '_')
            buf[n++] = '_';
    while (n && buf[n - 1] == '_')
        n--;
    buf[n] = '\0';
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

static cJSON *operation(const sv_route *rt)
{
    cJSON *op = cJSON_CreateObject();
    char id[128];
    operation_id(rt, id, sizeof id);
    cJSON_AddStringToObject(op, "operationId", id);
    cJSON_AddStringToObject(op, "summary", rt->summary);
    cJSON *params = cJSON_AddArrayToObject(op, "parameters");
    for (const char *p = strchr(rt->path, '{'); p; p = strchr(p + 1, '{')) {
        char name[32];
        size_t len = strcspn(p + 1, "}");
        snprintf(name, sizeof name, "%.*s", (int)len, p + 1);
        cJSON_AddItemToArray(params, parameter(name, "path", SV_STR, NULL));
    }
    cJSON *props = NULL;
    for (const sv_field *f = rt->fields; f->name; f++) {
        if (f->where == SV_QUERY) {
            cJSON_AddItemToArray(params, parameter(f->name, "query", f->type, f->about));
            continue;
        }
        if (!props) {
            cJSON *body = cJSON_AddObjectToObject(op, "requestBody");
            cJSON *schema = cJSON_AddObjectToObject(
                cJSON_AddObjectToObject(cJSON_AddObjectToObject(body, "content"),
                                        "application/json"),
                "schema");
            cJSON_AddStringToObject(schema, "type", "object");
            cJSON_AddBoolToObject(schema, "additionalProperties", 0);
            props = cJSON_AddObjectToObject(schema, "properties");
        }
        cJSON *s = schema_of(f->type);
        cJSON_AddStringToObject(s, "description", f->about);
        cJSON_AddItemToObject(props, f->name, s);
    }
    if (rt->open)
        cJSON_AddItemToObject(op, "security", cJSON_CreateArray());
    cJSON *resp = cJSON_AddObjectToObject(op, "responses");
    cJSON *ok = cJSON_AddObjectToObject(resp, rt->created ? "201" : "200");
    cJSON_AddStringToObject(ok, "description", "done");
    cJSON *err = cJSON_AddObjectToObject(resp, "default");
    cJSON_AddStringToObject(err, "description", "{ \"error\": { \"code\", \"message\" } }");
    cJSON *ref = cJSON_AddObjectToObject(
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(err, "content"), "application/json"),
        "schema");
    cJSON_AddStringToObject(ref, "$ref", "#/components/schemas/Error");
    return op;
}

static cJSON *components(void)
{
    cJSON *c = cJSON_CreateObject();
    cJSON *schemes = cJSON_AddObjectToObject(c, "securitySchemes");
    cJSON *bearer = cJSON_AddObjectToObject(schemes, "bearer");
    cJSON_AddStringToObject(bearer, "type", "http");
    cJSON_AddStringToObject(bearer, "scheme", "bearer");
    cJSON *header = cJSON_AddObjectToObject(schemes, "apiKey");
    cJSON_AddStringToObject(header, "type", "apiKey");
    cJSON_AddStringToObject(header, "in", "header");
    cJSON_AddStringToObject(header, "name", "X-API-Key");
    cJSON *err = cJSON_AddObjectToObject(cJSON_AddObjectToObject(c, "schemas"), "Error");
    cJSON_AddStringToObject(err, "type", "object");
    cJSON *inner = cJSON_AddObjectToObject(cJSON_AddObjectToObject(err, "properties"), "error");
    cJSON_AddStringToObject(inner, "type", "object");
    cJSON *p = cJSON_AddObjectToObject(inner, "properties");
    cJSON_AddItemToObject(p, "code", schema_of(SV_STR));
    cJSON_AddItemToObject(p, "message", schema_of(SV_STR));
    return c;
}

cJSON *sv_openapi(void)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "openapi", "3.1.0");
    cJSON *info = cJSON_AddObjectToObject(doc, "info");
    cJSON_AddStringToObject(info, "title", "manushya serve");
    cJSON_AddStringToObject(info, "version", mn_version());
    cJSON *sec = cJSON_AddArrayToObject(doc, "security");
    cJSON *b = cJSON_CreateObject(), *k = cJSON_CreateObject();
    cJSON_AddArrayToObject(b, "bearer");
    cJSON_AddArrayToObject(k, "apiKey");
    cJSON_AddItemToArray(sec, b);
    cJSON_AddItemToArray(sec, k);
    cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
    size_t n;
    const sv_route *all = sv_routes(&n);
    for (size_t i = 0; i < n; i++) {
        cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, all[i].path);
        if (!item)
            item = cJSON_AddObjectToObject(paths, all[i].path);
        char m[8];
        size_t j = 0;
        for (; all[i].method[j] && j + 1 < sizeof m; j++)
            m[j] = (char)tolower((unsigned char)all[i].method[j]);
        m[j] = '\0';
        cJSON_AddItemToObject(item, m, operation(&all[i]));
    }
    cJSON_AddItemToObject(doc, "components", components());
    return doc;
}
