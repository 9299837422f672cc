/*
 * server.c — libmicrohttpd set up for the route table: a pool of threads each polling its
 * connections with epoll, a bounded number of connections, an idle timeout that also cuts
 * slow senders, a body size limit (413), API-key auth, CORS, gzip, request ids, rate-limit
 * headers and the access log; on SIGTERM or SIGINT it stops accepting, lets the requests in
 * flight finish (at most drain_s) and returns, for the caller to close the handle.
 *
 * Why libmicrohttpd: Debian ships it, it is a C library made to be embedded (no framework),
 * it parses HTTP/1.1 (keep-alive, chunked uploads, pipelining) and has GnuTLS built in.
 */
#include "serve.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* What one request carries across libmicrohttpd's calls of the access handler. */
typedef struct conn {
    sv_req r;
    char *body;
    size_t len, cap;
    int too_large;
    struct timespec start;
    char request_id[129];
    int have_rl;             /* rl holds the X-RateLimit-* figures */
    mn_ratelimit_result rl;
    int64_t retry_after_ms;
} conn;

static mn_db *g_db;
static const sv_options *g_opt;
static atomic_int g_inflight;

static const char UNAUTHORIZED[] =
    "a valid API key is needed: send Authorization: Bearer mk_... or X-API-Key: mk_... "
    "(manushya key create makes one)";

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The client's X-Request-Id when it is 1..128 of [A-Za-z0-9._:-], else 32 new hex digits. */
static void request_id(struct MHD_Connection *c, char *out)
{
    const char *given = header(c, "X-Request-Id");
    size_t n = given ? strlen(given) : 0;
    if (n && n <= 128 && strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789._:-") == n) {
        memcpy(out, given, n + 1);
        return;
    }
    unsigned char raw[16] = {0};
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) { /* never on Linux >= 3.17 */
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        memcpy(raw, &t, sizeof t < sizeof raw ? sizeof t : sizeof raw);
    }
    for (size_t i = 0; i < sizeof raw; i++)
        sprintf(out + 2 * i, "%02x", raw[i]);
}

/* The Origin when the allow-list has it (or "*"), else NULL. */
static const char *allowed_origin(struct MHD_Connection *c)
{
    const char *origin = header(c, "Origin"), *list = g_opt->cors;
    if (!origin || !list)
        return NULL;
    size_t n = strlen(origin);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if ((len == 1 && *p == '*') || (len == n && memcmp(p, origin, n) == 0))
            return origin;
        p += len + (p[len] == ',');
    }
    return NULL;
}

static void add_header(struct MHD_Response *resp, const char *name, const char *value)
{
    MHD_add_response_header(resp, name, value);
}

static void add_int_header(struct MHD_Response *resp, const char *name, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    add_header(resp, name, buf);
}

static void client_address(struct MHD_Connection *c, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (ci && ci->client_addr) {
        socklen_t len = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                 : sizeof(struct sockaddr_in);
        getnameinfo(ci->client_addr, len, buf, (socklen_t)size, NULL, 0, NI_NUMERICHOST);
    }
}

/* Sends body (malloc'd, taken) with status and the headers every answer has; logs it. */
static enum MHD_Result send_body(conn *k, struct MHD_Connection *c, const char *method,
                                 const char *path, int status, char *body, size_t len,
                                 const char *type)
{
    int gz = 0;
    if (body && len >= SV_GZIP_MIN && sv_accepts_gzip(header(c, "Accept-Encoding"))) {
        char *z;
        size_t zn;
        if (sv_gzip(body, len, &z, &zn) == 0) {
            free(body);
            body = z, len = zn, gz = 1;
        }
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE
                                                                          : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (type)
        add_header(resp, "Content-Type", type);
    add_header(resp, "Vary", "Accept-Encoding, Origin");
    if (gz)
        add_header(resp, "Content-Encoding", "gzip");
    add_header(resp, "X-Request-Id", k->request_id);
    const char *origin = allowed_origin(c);
    if (origin) {
        add_header(resp, "Access-Control-Allow-Origin", origin);
        add_header(resp, "Access-Control-Expose-Headers",
                   "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, "
                   "Retry-After");
    }
    if (k->have_rl) {
        add_int_header(resp, "X-RateLimit-Limit", k->rl.limit);
        add_int_header(resp, "X-RateLimit-Remaining", k->rl.remaining);
        /* seconds until places free up, as GitHub and the IETF draft count it */
        int64_t now = (int64_t)time(NULL) * 1000;
        add_int_header(resp, "X-RateLimit-Reset",
                       k->rl.reset_at > now ? (k->rl.reset_at - now + 999) / 1000 : 0);
    }
    if (status == 429)
        add_int_header(resp, "Retry-After",
                       k->retry_after_ms > 0 ? (k->retry_after_ms + 999) / 1000 : 1);
    if (status == 401)
        add_header(resp, "WWW-Authenticate", "Bearer");
    if (status == 405) {
        char allow[64];
        sv_route_allow(path, allow, sizeof allow);
        add_header(resp, "Allow", allow);
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);

    char remote[64];
    client_address(c, remote, sizeof remote);
    sv_access a = {k->request_id, method, path, k->r.key_id, remote, status, len,
                   ms_since(&k->start)};
    sv_access_log(&a);
    return ok;
}

static enum MHD_Result send_json(conn *k, struct MHD_Connection *c, const char *method,
                                 const char *path, int status, cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!text)
        return MHD_NO;
    return send_body(k, c, method, path, status, text, strlen(text), "application/json");
}

static enum MHD_Result send_error(conn *k, struct MHD_Connection *c, const char *method,
                                  const char *path, int status, const char *code,
                                  const char *message)
{
    return send_json(k, c, method, path, status, sv_error_json(code, message));
}

/* The API key of the request: Authorization: Bearer KEY, else X-API-Key. */
static const char *presented_key(struct MHD_Connection *c)
{
    const char *auth = header(c, "Authorization");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        return auth + 7;
    return header(c, "X-API-Key");
}

/* MN_OK with the actor set from the key, MN_EDENIED, or the store's failure. A missing or malformed key costs what
 * a wrong one does (a key of the right shape is checked in its place), so that neither the
 * answer nor its time tells them apart. */
static int authenticate(sv_req *r, struct MHD_Connection *c, mn_apikey **k)
{
    static const char shaped[] =
        "mk_0000000000000000_0000000000000000000000000000000000000000000000000000000000000000";
    const char *key = presented_key(c);
    int rc = mn_apikey_verify(r->db, key ? key : shaped, k);
    if (rc == MN_EINVAL)
        rc = mn_apikey_verify(r->db, shaped, k);
    if (rc != MN_OK || !key)
        return rc == MN_OK || rc == MN_EINVAL ? MN_EDENIED : rc;
    r->actor = (mn_actor)MN_ACTOR_INIT;
    r->actor.api_key = key;
    r->key_id = (*k)->id;
    r->identity_id = (*k)->identity_id;
    return MN_OK;
}

typedef struct query_ctx {
    sv_req *r;
    int rc;
} query_ctx;

static enum MHD_Result on_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    query_ctx *q = cls;
    q->rc = sv_args_query(q->r, key, value);
    return q->rc == MN_OK ? MHD_YES : MHD_NO;
}

/* The rate-limit counter of the route for the X-RateLimit-* headers: counted here (rc of the
 * decision) or, when the library counts the call itself, read after it. */
static int rate_limit(conn *k, int count)
{
    const sv_route *rt = k->r.route;
    int rc = count ? mn_ratelimit_hit(k->r.db, &k->r.actor, rt->limit, 1, &k->rl)
                   : mn_ratelimit_peek(k->r.db, &k->r.actor, rt->limit, 1, &k->rl);
    if (rc == MN_OK || rc == MN_ELIMITED)
        k->have_rl = 1;
    if (rc == MN_ELIMITED)
        k->retry_after_ms = k->rl.retry_after_ms;
    return rc == MN_EUNSUPPORTED ? MN_OK : rc; /* limits switched off: no headers */
}

/* Runs a complete request: route, auth, arguments, rate limit, the handler. */
static enum MHD_Result serve(conn *k, struct MHD_Connection *c, const char *method,
                             const char *path)
{
    sv_req *r = &k->r;
    char params[1024];
    int known;
    if (!sv_utf8_valid(path, strlen(path)))
        return send_error(k, c, method, path, 400, "invalid", "the path is not valid UTF-8");
    r->route = sv_route_find(method, path, params, sizeof params, r->params, &known);
    if (!r->route)
        return known ? send_error(k, c, method, path, 405, "method_not_allowed",
                                  "this path does not take that method: see the Allow header")
                     : send_error(k, c, method, path, 404, "no_route",
                                  "no such route: GET /openapi.json lists them");
    if (k->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body is larger than %zu bytes (--max-body)",
                 g_opt->max_body);
        return send_error(k, c, method, path, 413, "too_large", msg);
    }
    const char *ctype = header(c, "Content-Type");
    if (k->len && ctype && strncasecmp(ctype, "application/json", 16) != 0)
        return send_error(k, c, method, path, 415, "unsupported_media_type",
                          "send the body as Content-Type: application/json");

    mn_apikey *key = NULL;
    int rc = MN_OK;
    if (!r->route->open && (rc = authenticate(r, c, &key)) != MN_OK) {
        mn_apikey_free(key);
        if (rc == MN_EDENIED)
            return send_error(k, c, method, path, 401, "unauthorized", UNAUTHORIZED);
        return send_error(k, c, method, path, sv_status_of(rc), sv_code_word(rc),
                          mn_errmsg(r->db)); /* the store failed, not the key */
    }
    query_ctx q = {r, MN_OK};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, on_query_arg, &q);
    rc = q.rc;
    if (rc == MN_OK)
        rc = sv_args_body(r, k->body, k->len);
    if (rc == MN_OK && r->route->limit && !r->route->by_library)
        rc = rate_limit(k, 1);
    if (rc == MN_OK)
        rc = r->route->fn(r);
    if (r->route->limit && r->route->by_library && (rc == MN_OK || rc == MN_ELIMITED)) {
        int64_t wait = rc == MN_ELIMITED ? mn_retry_after_ms(r->db) : 0;
        rate_limit(k, 0);
        k->retry_after_ms = wait;
    }
    enum MHD_Result ok;
    if (rc != MN_OK) {
        const char *msg = r->error[0] ? r->error : mn_errmsg(r->db);
        ok = send_error(k, c, method, path, sv_status_of(rc), sv_code_word(rc), msg);
    } else if (r->text) {
        char *body = strdup(r->text);
        ok = body ? send_body(k, c, method, path, r->status ? r->status : 200, body,
                              strlen(body), r->content_type)
                  : MHD_NO;
    } else {
        int status = r->status ? r->status : r->route->created ? 201 : 200;
        cJSON *out = r->out;
        r->out = NULL;
        ok = out ? send_json(k, c, method, path, status, out)
                 : send_body(k, c, method, path, 204, NULL, 0, NULL);
    }
    mn_apikey_free(key);
    return ok;
}

/* A CORS preflight: 204 with what the routes accept, when the origin is allowed. */
static enum MHD_Result preflight(conn *k, struct MHD_Connection *c, const char *path)
{
    const char *origin = allowed_origin(c);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (char *)"",
                                                                MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    add_header(resp, "X-Request-Id", k->request_id);
    add_header(resp, "Vary", "Origin");
    if (origin) {
        add_header(resp, "Access-Control-Allow-Origin", origin);
        add_header(resp, "Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
        add_header(resp, "Access-Control-Allow-Headers",
                   "Authorization, X-API-Key, Content-Type, X-Request-Id");
        add_header(resp, "Access-Control-Max-Age", "600");
    }
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, resp);
    MHD_destroy_response(resp);
    char remote[64];
    client_address(c, remote, sizeof remote);
    sv_access a = {k->request_id, "OPTIONS", path, NULL, remote, 204, 0, ms_since(&k->start)};
    sv_access_log(&a);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls, (void)version;
    conn *k = *con_cls;
    if (!k) { /* the headers are in: the first call */
        if (!(k = calloc(1, sizeof *k)))
            return MHD_NO;
        *con_cls = k;
        atomic_fetch_add(&g_inflight, 1);
        clock_gettime(CLOCK_MONOTONIC, &k->start);
        k->r.db = g_db;
        k->rl = (mn_ratelimit_result)MN_RATELIMIT_RESULT_INIT;
        request_id(c, k->request_id);
        const char *cl = header(c, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > g_opt->max_body) {
            k->too_large = 1; /* answer now: the body is never read */
            return serve(k, c, method, url);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (k->too_large || k->len + n > g_opt->max_body) {
            k->too_large = 1; /* a chunked body past the limit: dropped as it comes */
            return MHD_YES;
        }
        if (k->len + n > k->cap) {
            size_t cap = k->cap ? k->cap : 4096;
            while (cap < k->len + n)
                cap *= 2;
            char *b = realloc(k->body, cap);
            if (!b)
                return MHD_NO;
            k->body = b, k->cap = cap;
        }
        memcpy(k->body + k->len, upload_data, n);
        k->len += n;
        return MHD_YES;
    }
    if (strcmp(method, "OPTIONS") == 0)
        return preflight(k, c, url);
    return serve(k, c, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    conn *k = *con_cls;
    if (!k)
        return;
    cJSON_Delete(k->r.args);
    cJSON_Delete(k->r.out);
    mn_free(k->r.text);
    free(k->body);
    free(k);
    *con_cls = NULL;
    atomic_fetch_sub(&g_inflight, 1);
}

/* ADDR:PORT or [V6ADDR]:PORT into *sa. 0, or -1 with a message printed. */
static int parse_listen(const char *spec, struct sockaddr_storage *sa)
{
    char host[256];
    const char *port;
    memset(sa, 0, sizeof *sa);
    if (spec[0] == '[') {
        const char *end = strchr(spec, ']');
        if (!end || end[1] != ':' || (size_t)(end - spec - 1) >= sizeof host)
            goto bad;
        memcpy(host, spec + 1, (size_t)(end - spec - 1));
        host[end - spec - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= sizeof host)
            goto bad;
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 0 || p > 65535)
        goto bad;
    struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        return 0;
    }
bad:
    fprintf(stderr, "manushya serve: --listen '%s': give ADDR:PORT with a numeric address, "
                    "e.g. 127.0.0.1:8080 or [::1]:8080 (port 0: any free port)\n", spec);
    return -1;
}

/* A whole PEM file, NUL-terminated (malloc'd), or NULL with a message printed. */
static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    if (f) {
        for (;;) {
            if (n + 4096 + 1 > cap) {
                char *b = realloc(buf, cap = n + 4096 + 1 + cap);
                if (!b)
                    break;
                buf = b;
            }
            size_t got = fread(buf + n, 1, 4096, f);
            n += got;
            if (got < 4096)
                break;
        }
    }
    if (!f || ferror(f) || !buf) {
        fprintf(stderr, "manushya serve: cannot read %s: %s\n", path, strerror(errno));
        free(buf);
        buf = NULL;
    } else {
        buf[n] = '\0';
    }
    if (f)
        fclose(f);
    return buf;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("manushya serve: ", stderr);
    vfprintf(stderr, fmt, ap);
}

int sv_run(mn_db *db, const sv_options *opt)
{
    if (sv_mhd_load() != 0)
        return 1;
    struct sockaddr_storage sa;
    if (parse_listen(opt->listen, &sa) != 0)
        return 2;
    if (!opt->tls_cert != !opt->tls_key) {
        fprintf(stderr, "manushya serve: give both --tls-cert and --tls-key, or neither\n");
        return 2;
    }
    char *cert = NULL, *pkey = NULL;
    if (opt->tls_cert) {
        if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
            fprintf(stderr, "manushya serve: this libmicrohttpd has no TLS: put a "
                            "TLS-terminating proxy in front (manushya-serve(1))\n");
            return 1;
        }
        if (!(cert = read_file(opt->tls_cert)) || !(pkey = read_file(opt->tls_key))) {
            free(cert);
            return 1;
        }
    }
    g_db = db;
    g_opt = opt;
    size_t nroutes;
    sv_routes(&nroutes); /* built once, before the threads */

    /* SIGTERM and SIGINT are waited for by this thread only: the pool's threads, made below,
     * inherit the mask. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0) |
                     (cert ? MHD_USE_TLS : 0);
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, pkey},
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, /* first: it applies from here on */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)opt->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)opt->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)opt->timeout_s,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)opt->max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_ARRAY, cert ? tls : tls + 2,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "manushya serve: cannot listen on %s: %s\n", opt->listen,
                strerror(errno));
        free(cert), free(pkey);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[64];
    if (sa.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof host);
    else
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof host);
    fprintf(stderr, "manushya serve: listening on %s://%s%s%s:%u (%d threads, %d connections "
                    "at most)\n", cert ? "https" : "http", sa.ss_family == AF_INET6 ? "[" : "",
            host, sa.ss_family == AF_INET6 ? "]" : "", info ? info->port : 0, opt->threads,
            opt->max_connections);

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "manushya serve: %s: draining %d request(s) in flight\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", atomic_load(&g_inflight));
    MHD_socket ls = MHD_quiesce_daemon(d); /* no new connections from here */
    if (ls != MHD_INVALID_SOCKET)
        close(ls);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(&g_inflight) > 0 && ms_since(&t0) < opt->drain_s * 1000.0)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    int left = atomic_load(&g_inflight);
    MHD_stop_daemon(d);
    free(cert), free(pkey);
    if (left)
        fprintf(stderr, "manushya serve: stopped with %d request(s) unfinished after %d s\n",
                left, opt->drain_s);
    else
        fprintf(stderr, "manushya serve: stopped\n");
    return 0;
}
