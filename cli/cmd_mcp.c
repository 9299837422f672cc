/*
 * cmd_mcp.c — `manushya mcp`: a Model Context Protocol server over stdio, for agents.
 *
 * JSON-RPC 2.0, one message per line (mcp_stdio.c). Requests are answered in the order they
 * come, one at a time: initialize, ping, tools/list, tools/call (mcp_tools.c). The tools act
 * as the actor the global options name (--tenant/--as or --api-key), through the library,
 * which applies policies and rate limits to every call.
 *
 * Cancellation (notifications/cancelled): a request cancelled before it starts is not run; one
 * cancelled while it runs runs to its end (the library call is not interrupted, so a memory
 * it stored stays stored) and its answer is dropped. A cancellation is seen when it has
 * arrived by the time the request starts or ends.
 */
#include "mcp.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The protocol revisions spoken, newest first: the client's when it is one of them, else the
 * first (the client then decides whether it can go on). Both have tool titles, structured
 * content with output schemas, and no JSON-RPC batches. */
static const char *const revisions[] = {"2025-11-25", "2025-06-18"};

enum { PARSE_ERROR = -32700, INVALID_REQUEST = -32600, METHOD_NOT_FOUND = -32601,
       INVALID_PARAMS = -32602, INTERNAL_ERROR = -32603 };

typedef struct server {
    cli_ctx *c;
    mn_actor actor;
    cJSON *tools;
    mcp_in in;
    int initialized; /* initialize was answered */
} server;

/* A response to id (NULL: null) with member "result" or "error" set to value. */
static cJSON *response(const cJSON *id, const char *member, cJSON *value)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "jsonrpc", "2.0");
    cJSON_AddItemToObject(r, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(r, member, value);
    return r;
}

static cJSON *error_response(const cJSON *id, int code, const char *message)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", message);
    return response(id, "error", e);
}

static cJSON *do_initialize(server *s, const cJSON *id, const cJSON *params)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, "protocolVersion");
    if (!cJSON_IsString(v))
        return error_response(id, INVALID_PARAMS, "initialize: params.protocolVersion, a "
                              "string such as \"2025-11-25\", is required");
    if (s->initialized)
        return error_response(id, INVALID_REQUEST, "initialize: already initialized");
    const char *use = revisions[0];
    for (size_t i = 0; i < sizeof revisions / sizeof revisions[0]; i++)
        if (strcmp(v->valuestring, revisions[i]) == 0)
            use = revisions[i];
    s->initialized = 1;

    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "protocolVersion", use);
    cJSON *tools = cJSON_AddObjectToObject(cJSON_AddObjectToObject(r, "capabilities"), "tools");
    cJSON_AddFalseToObject(tools, "listChanged");
    cJSON *info = cJSON_AddObjectToObject(r, "serverInfo");
    cJSON_AddStringToObject(info, "name", "manushya");
    cJSON_AddStringToObject(info, "title", "Manushya memory");
    cJSON_AddStringToObject(info, "version", MN_VERSION);
    cJSON_AddStringToObject(r, "instructions",
                            "Long-term memory. remember stores what is worth keeping; recall "
                            "finds memories relevant to a query; list pages through them; "
                            "update and forget change or delete one by its id.");
    return response(id, "result", r);
}

static cJSON *do_tools_list(server *s, const cJSON *id, const cJSON *params)
{
    /* One page holds every tool, so no cursor was ever given out: any cursor is invalid. */
    if (cJSON_GetObjectItemCaseSensitive(params, "cursor"))
        return error_response(id, INVALID_PARAMS, "tools/list: invalid cursor (every tool is "
                              "on the first page: call tools/list without one)");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "tools", cJSON_Duplicate(s->tools, 1));
    return response(id, "result", r);
}

static cJSON *do_tools_call(server *s, const cJSON *id, const cJSON *params)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
    if (!cJSON_IsString(name))
        return error_response(id, INVALID_PARAMS, "tools/call: params.name, the tool's name "
                              "(a string), is required");
    if (args && !cJSON_IsObject(args) && !cJSON_IsNull(args))
        return error_response(id, INVALID_PARAMS, "tools/call: params.arguments must be an "
                              "object");
    int known;
    cJSON *r = mcp_tools_call(s->c, &s->actor, s->tools, name->valuestring,
                              cJSON_IsObject(args) ? args : NULL, &known);
    if (!known) {
        char msg[256];
        snprintf(msg, sizeof msg, "tools/call: unknown tool '%.64s': the tools are remember, "
                 "recall, list, update and forget", name->valuestring);
        return error_response(id, INVALID_PARAMS, msg);
    }
    return r ? response(id, "result", r) : error_response(id, INTERNAL_ERROR, "out of memory");
}

static cJSON *do_ping(server *s, const cJSON *id, const cJSON *params)
{
    (void)s;
    (void)params;
    return response(id, "result", cJSON_CreateObject());
}

static const struct {
    const char *method;
    cJSON *(*run)(server *s, const cJSON *id, const cJSON *params);
    int before_init; /* may come before initialize */
} methods[] = {{"initialize", do_initialize, 1},
               {"ping", do_ping, 1},
               {"tools/list", do_tools_list, 0},
               {"tools/call", do_tools_call, 0}};

/* The request id a cancellation in line l names, when it is one; else NULL. The caller
 * deletes *msg. */
static const cJSON *cancelled_id(const mcp_line *l, cJSON **msg)
{
    *msg = NULL;
    if (l->too_long || !strstr(l->text, "notifications/cancelled"))
        return NULL;
    *msg = cJSON_Parse(l->text);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(*msg, "method");
    if (!cJSON_IsString(m) || strcmp(m->valuestring, "notifications/cancelled") != 0 ||
        cJSON_GetObjectItemCaseSensitive(*msg, "id"))
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(*msg, "params"),
                                            "requestId");
}

/* Whether a cancellation of request id has arrived: read what is waiting on stdin, without
 * waiting, and look through the lines not yet taken. The cancellation itself stays queued. */
static int is_cancelled(server *s, const cJSON *id)
{
    mcp_in_fill(&s->in, 0);
    for (const mcp_line *l = s->in.head; l; l = l->next) {
        cJSON *msg;
        const cJSON *rid = cancelled_id(l, &msg);
        int same = rid && cJSON_Compare(rid, id, 1);
        cJSON_Delete(msg);
        if (same)
            return 1;
    }
    return 0;
}

/* Whether id is one JSON-RPC allows and MCP keeps (a string or an integer; not null). */
static int valid_id(const cJSON *id)
{
    return cJSON_IsString(id) || (cJSON_IsNumber(id) && fabs(id->valuedouble) <= 0x1p53 &&
                                  id->valuedouble == floor(id->valuedouble));
}

/* The answer to one line (NULL: none, for notifications and responses). */
static cJSON *handle(server *s, const mcp_line *l)
{
    if (l->too_long) {
        char msg[128];
        snprintf(msg, sizeof msg, "message longer than %u bytes: not read",
                 (unsigned)MCP_MAX_MESSAGE);
        return error_response(NULL, INVALID_REQUEST, msg);
    }
    /* White space around the message is allowed (a CRLF line end, say); a blank line is
     * nothing at all. */
    size_t len = l->len;
    while (len && strchr(" \t\r", l->text[len - 1]))
        len--;
    if (strspn(l->text, " \t\r") == len)
        return NULL;
    const char *end;
    cJSON *msg = cJSON_ParseWithLengthOpts(l->text, len, &end, 0);
    if (!msg || end != l->text + len) {
        cJSON_Delete(msg);
        return error_response(NULL, PARSE_ERROR, "parse error: not a JSON text");
    }
    cJSON *answer = NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc");
    if (cJSON_IsArray(msg)) {
        answer = error_response(NULL, INVALID_REQUEST, "batches (JSON arrays) are not part of "
                                "this protocol revision: send one message per line");
    } else if (!cJSON_IsObject(msg) || !cJSON_IsString(version) ||
               strcmp(version->valuestring, "2.0") != 0) {
        answer = error_response(valid_id(id) ? id : NULL, INVALID_REQUEST,
                                "invalid request: a JSON-RPC 2.0 object with \"jsonrpc\":\"2.0\" "
                                "is expected");
    } else if (!method && (cJSON_GetObjectItemCaseSensitive(msg, "result") ||
                           cJSON_GetObjectItemCaseSensitive(msg, "error"))) {
        /* A response: this server sends no requests, so there is nothing it answers. */
    } else if (!cJSON_IsString(method) || (id && !valid_id(id)) ||
               (params && !cJSON_IsObject(params))) {
        answer = error_response(valid_id(id) ? id : NULL, INVALID_REQUEST,
                                "invalid request: \"method\" must be a string, \"id\" a string "
                                "or an integer, \"params\" an object");
    } else if (id) {
        size_t i = 0, n = sizeof methods / sizeof methods[0];
        while (i < n && strcmp(methods[i].method, method->valuestring) != 0)
            i++;
        if (i == n) {
            char text[160];
            snprintf(text, sizeof text, "method not found: %.80s", method->valuestring);
            answer = error_response(id, METHOD_NOT_FOUND, text);
        } else if (!s->initialized && !methods[i].before_init) {
            answer = error_response(id, INVALID_REQUEST, "not initialized: send initialize "
                                    "first");
        } else if (!is_cancelled(s, id)) {
            answer = methods[i].run(s, id, params);
            if (is_cancelled(s, id)) {
                cJSON_Delete(answer);
                answer = NULL;
            }
        }
    }
    /* Notifications (initialized, cancelled, any other) need no answer. A cancellation that
     * comes here names a request already answered, or one never seen: nothing to do. */
    cJSON_Delete(msg);
    return answer;
}

static int serve(server *s)
{
    mcp_line *l;
    while ((l = mcp_in_next(&s->in))) {
        cJSON *answer = handle(s, l);
        free(l);
        if (answer && mcp_send(answer) != 0)
            return cli_error("mcp: writing to stdout failed: %s", strerror(errno));
    }
    if (s->in.error)
        return cli_error("mcp: reading stdin: %s", strerror(s->in.error));
    return CLI_EXIT_OK;
}

static int run_mcp(cli_ctx *c, int argc, char **argv)
{
    server s = {.c = c, .in = {.fd = STDIN_FILENO}};
    int rc = cli_parse(c, argc, argv, NULL, 0, 0);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &s.actor)) != CLI_CONTINUE)
        return rc;
    /* A server lives on: its own counters can limit it (one-shot commands have none). */
    if (!c->cfg.redis_url)
        c->cfg.ratelimit = MN_RATELIMIT_MEMORY;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    if (!(s.tools = mcp_tools_new()))
        return cli_error("mcp: out of memory");
    /* A client that goes away makes writes fail (EPIPE) rather than kill the process. */
    signal(SIGPIPE, SIG_IGN);
    rc = serve(&s);
    cJSON_Delete(s.tools);
    mcp_in_free(&s.in);
    return rc;
}

static const cli_cmd cmds[] = {
    {NULL, run_mcp, "mcp",
     "Serves the database to an AI agent as a Model Context Protocol server on stdin and\n"
     "stdout (JSON-RPC 2.0, one message per line; protocol revisions 2025-11-25 and\n"
     "2025-06-18; nothing else is written to stdout, errors go to stderr). The agent's MCP\n"
     "client starts it; it ends with exit status 0 when stdin ends.\n"
     "Tools: remember (text, type, metadata, importance, external_key), recall (query, k,\n"
     "mode, filters: type, metadata, identity; cursor), list (filters, limit, cursor), update\n"
     "(id and text, type, metadata, importance), forget (id, hard). They act as the actor of\n"
     "--tenant and --as, or of --api-key (MANUSHYA_API_KEY): policies apply to every call,\n"
     "and rate limits too, counted in the process (or in Redis with --redis). A bad argument\n"
     "or a failure (denied, limited, not found) is a tool error holding the message.\n"
     "A message longer than 4 MiB is refused. A request cancelled before it starts is not\n"
     "run; one cancelled while it runs finishes (what it stored stays) and is not answered."},
};
const cli_group cli_group_mcp = {"mcp", "serve memories to AI agents over the Model Context "
                                        "Protocol (stdio)",
                                 cmds, 1};
