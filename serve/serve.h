/*
 * serve.h — what the files of `manushya serve` share: an HTTP front on the public API.
 *
 * The server has no logic of its own: a route reads its arguments (the JSON body and the query
 * string, checked against the route's field list before the handler runs), calls one library
 * function for the actor of the request's API key and writes what it returned as JSON. A
 * library failure becomes an HTTP status and { "error": { "code", "message" } }.
 *
 * Threads: libmicrohttpd's pool calls the routes in parallel; the mn_db handle is shared (the
 * library is thread-safe), everything else a request touches is its own (sv_req).
 */
#ifndef MANUSHYA_SERVE_H
#define MANUSHYA_SERVE_H

#include <manushya.h>

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- Routes (router.c) -------------------------------------------------------------------- */
typedef enum { SV_STR, SV_INT, SV_NUM, SV_BOOL, SV_OBJECT, SV_STR_ARRAY } sv_type;
typedef enum { SV_BODY, SV_QUERY } sv_where;

/* One argument a route accepts; anything else is refused (400 naming the field). */
typedef struct sv_field {
    const char *name;
    sv_type type;
    sv_where where;
    const char *about; /* for the OpenAPI document */
} sv_field;

typedef struct sv_req sv_req;

/* A handler calls the library and sets r->status and r->out (or r->text); it returns MN_OK or
 * the library's code (the message then comes from mn_errmsg, or from sv_invalid). */
typedef int (*sv_handler)(sv_req *r);

#define SV_MAX_FIELDS 16
#define SV_MAX_PARAMS 2

typedef struct sv_route {
    const char *method;      /* "GET", "POST", "PUT", "DELETE" */
    const char *path;        /* "/v1/memory/{id}": {name} matches one segment */
    sv_handler fn;
    int open;                /* 1: no API key (health, metrics, the OpenAPI document) */
    /* Rate limiting: the "resource:action" the call counts against, or NULL. by_library: the
     * library limits the call itself (mn_memory_search, ...): the server only reads the
     * counter for the X-RateLimit-* headers; else the server counts it (mn_ratelimit_hit). */
    const char *limit;
    int by_library;
    int created;             /* 1: success is 201 Created */
    const char *summary;
    sv_field fields[SV_MAX_FIELDS]; /* ends at a NULL name */
} sv_route;

/* Every route, in the order of the OpenAPI document. */
const sv_route *sv_routes(size_t *n);
/* The route for method and path, its {params} into values (pointers into copies in buf).
 * NULL with *path_known 1 when the path exists under another method (405), 0 when not (404). */
const sv_route *sv_route_find(const char *method, const char *path, char *buf, size_t size,
                              const char **values, int *path_known);
/* "GET, POST" for a path that exists: the Allow header of a 405 (buf, size). */
void sv_route_allow(const char *path, char *buf, size_t size);

/* The route tables of each part (routes_*.c); sv_routes joins them. */
extern const sv_route sv_routes_identity[], sv_routes_memory[], sv_routes_policy[],
    sv_routes_keys[], sv_routes_ops[], sv_routes_webhooks[];
extern const size_t sv_nroutes_identity, sv_nroutes_memory, sv_nroutes_policy,
    sv_nroutes_keys, sv_nroutes_ops, sv_nroutes_webhooks;

/* ---- A request ---------------------------------------------------------------------------- */
struct sv_req {
    mn_db *db;
    mn_actor actor;          /* from the API key; unset for open routes */
    const char *key_id;      /* the key's public id, for the access log */
    const char *identity_id; /* the identity the key acts for (/v1/identity/me) */
    const sv_route *route;
    const char *params[SV_MAX_PARAMS]; /* the path's {params}, in order */
    cJSON *args;             /* body and query arguments, checked against route->fields */
    /* what the handler answers */
    int status;              /* 0: 200, or 201 for a route that creates */
    cJSON *out;              /* JSON body (the request owns it) ... */
    char *text;              /* ... or a text body (mn_free'd), of type content_type */
    const char *content_type;
    char error[512];         /* sv_invalid's message, when set */
};

/* Sets a message for a 400 the handler found itself; returns MN_EINVAL. */
int sv_invalid(sv_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Arguments (http_json.c). Each returns the value, or the default when the field was not given
 * (the route's field list already checked the types). */
const char *sv_arg_str(const sv_req *r, const char *name);
int sv_arg_given(const sv_req *r, const char *name);
int64_t sv_arg_int(const sv_req *r, const char *name, int64_t dflt);
double sv_arg_num(const sv_req *r, const char *name, double dflt);
int sv_arg_bool(const sv_req *r, const char *name);
/* An object argument as compact JSON text (malloc'd), NULL when not given; *rc MN_ENOMEM when
 * it could not be made. */
char *sv_arg_json(const sv_req *r, const char *name, int *rc);
/* A string-array argument: its count, the strings into *out (malloc'd array of borrowed
 * pointers; free it), NULL when not given. */
size_t sv_arg_strs(const sv_req *r, const char *name, const char ***out);

/* Checks the arguments of a request against route->fields: body (a JSON object, or nothing)
 * and the query (MHD's pairs, added by sv_args_query). MN_OK with r->args set, or MN_EINVAL
 * with the message in r->error. */
int sv_args_body(sv_req *r, const char *body, size_t len);
int sv_args_query(sv_req *r, const char *key, const char *value);

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF). */
int sv_utf8_valid(const char *s, size_t len);

/* ---- Errors (http_json.c) ----------------------------------------------------------------- */
/* The HTTP status and the error code word for an MN_* code. */
int sv_status_of(int rc);
const char *sv_code_word(int rc);
/* { "error": { "code": code, "message": message } } */
cJSON *sv_error_json(const char *code, const char *message);

/* Sets r->out to { "items": [] } and returns the array, for a list's items. */
cJSON *sv_items(sv_req *r);

/* ---- gzip (gzip.c) ------------------------------------------------------------------------ */
/* 1 when an Accept-Encoding header value accepts gzip (a gzip or * token without q=0). */
int sv_accepts_gzip(const char *accept_encoding);
/* in[0..n) gzip-compressed into *out (malloc'd), its size in *outn; 0, or -1 on failure. */
int sv_gzip(const char *in, size_t n, char **out, size_t *outn);
#define SV_GZIP_MIN 1024 /* bodies shorter than this are sent as they are */

/* ---- Access log (access_log.c) ------------------------------------------------------------ */
typedef struct sv_access {
    const char *request_id, *method, *path, *key_id, *remote;
    int status;
    size_t bytes;
    double ms;
} sv_access;
/* Opens the log: "-" stdout, "off" none, else a file appended to. 0, or -1 (errno). */
int sv_access_log_open(const char *where);
/* Writes one JSON line (thread-safe). */
void sv_access_log(const sv_access *a);
void sv_access_log_close(void);

/* ---- OpenAPI (openapi.c) ------------------------------------------------------------------ */
/* The OpenAPI 3.1 document of the route table. */
cJSON *sv_openapi(void);

/* ---- The server (server.c) ---------------------------------------------------------------- */
typedef struct sv_options {
    const char *listen;      /* ADDR:PORT, [V6ADDR]:PORT; port 0 picks a free one */
    int threads;
    int max_connections;
    int timeout_s;           /* an idle or slow connection is closed after this */
    size_t max_body;
    int drain_s;             /* SIGTERM: wait this long at most for requests in flight */
    const char *cors;        /* comma-separated allowed origins, or NULL */
    const char *access_log;
    const char *tls_cert, *tls_key; /* PEM files, both or neither */
} sv_options;

/* Loads libmicrohttpd (serve/mhd.c): 0, or -1 after printing why. */
int sv_mhd_load(void);

/* Serves db until SIGTERM or SIGINT; returns a CLI exit code (after printing any failure). */
int sv_run(mn_db *db, const sv_options *opt);

#endif
