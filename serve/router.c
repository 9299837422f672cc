/*
 * router.c — the route table: every route of every part, and matching a request's method and
 * path against it. The OpenAPI document (openapi.c) is made from this same table, so what is
 * documented is what is served. Webhooks and other parts add a table of their own here.
 */
#include "serve.h"

#include <string.h>

const sv_route *sv_routes(size_t *n)
{
    static sv_route all[64];
    static size_t count;
    static const struct {
        const sv_route *routes;
        const size_t *n;
    } parts[] = {
        {sv_routes_identity, &sv_nroutes_identity}, {sv_routes_memory, &sv_nroutes_memory},
        {sv_routes_policy, &sv_nroutes_policy},     {sv_routes_keys, &sv_nroutes_keys},
        {sv_routes_ops, &sv_nroutes_ops},           {sv_routes_webhooks, &sv_nroutes_webhooks},
    };
    if (!count) /* filled before the server's threads start (sv_run), never after */
        for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++)
            for (size_t i = 0; i < *parts[p].n && count < sizeof all / sizeof all[0]; i++)
                all[count++] = parts[p].routes[i];
    *n = count;
    return all;
}

/* Matches path against pattern; the {param} segments' values are copied into buf and pointed
 * to from values. 1 on a match. */
static int match(const char *pattern, const char *path, char *buf, size_t size,
                 const char **values)
{
    size_t used = 0;
    int nv = 0;
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/')
            return 0;
        pattern++, path++;
        size_t plen = strcspn(pattern, "/"), slen = strcspn(path, "/");
        if (pattern[0] == '{') {
            if (slen == 0 || used + slen + 1 > size || nv >= SV_MAX_PARAMS)
                return 0;
            memcpy(buf + used, path, slen);
            buf[used + slen] = '\0';
            values[nv++] = buf + used;
            used += slen + 1;
        } else if (plen != slen || memcmp(pattern, path, plen) != 0) {
            return 0;
        }
        pattern += plen, path += slen;
    }
    return !*pattern && !*path;
}

const sv_route *sv_route_find(const char *method, const char *path, char *buf, size_t size,
                              const char **values, int *path_known)
{
    size_t n;
    const sv_route *all = sv_routes(&n);
    *path_known = 0;
    /* A literal segment beats a parameter ("/v1/memory/search" is not memory "search"): the
     * tables list literal paths before parameterised ones of the same shape. */
    for (size_t i = 0; i < n; i++) {
        if (!match(all[i].path, path, buf, size, values))
            continue;
        *path_known = 1;
        if (strcmp(all[i].method, method) == 0)
            return &all[i];
    }
    return NULL;
}

void sv_route_allow(const char *path, char *buf, size_t size)
{
    size_t n, used = 0;
    const sv_route *all = sv_routes(&n);
    const char *values[SV_MAX_PARAMS];
    char scratch[1024];
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++)
        if (match(all[i].path, path, scratch, sizeof scratch, values) && !strstr(buf, all[i].method))
            used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                                     all[i].method);
}
