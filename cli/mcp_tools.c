/*
 * mcp_tools.c — the tools `manushya mcp` offers: remember, recall, list, update, forget.
 *
 * Each tool is its JSON description (the Tool object of tools/list, with its input and output
 * schemas) and a function over the public API. A call's arguments are checked against the
 * very input schema published (mcp_schema.c); the library then checks policies and rate
 * limits as for every caller. A result is the tool's structured content, also given as its
 * JSON text (for clients that read only text); a failure is a tool error whose text is the
 * library's message.
 */
#include "mcp.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- Schemas (JSON text: what tools/list shows, and what calls are checked against) ----- */

#define FILTERS_SCHEMA                                                                         \
    "\"filters\":{\"type\":\"object\",\"additionalProperties\":false,"                         \
    "\"description\":\"Only memories that match all of these.\",\"properties\":{"            \
    "\"type\":{\"type\":\"string\",\"description\":\"The memory type, e.g. fact.\"},"       \
    "\"metadata\":{\"type\":\"object\",\"description\":\"Memories whose metadata contains "    \
    "this object.\"},"                                                                         \
    "\"identity\":{\"type\":\"string\",\"description\":\"Memories owned by this identity "     \
    "(id or external id).\"}}}"

#define CURSOR_SCHEMA                                                                          \
    "\"cursor\":{\"type\":\"string\",\"description\":\"next_cursor of the previous page, "     \
    "with the same other arguments.\"}"

#define ID_SCHEMA "\"id\":{\"type\":\"string\",\"minLength\":1,\"description\":\"The memory's id.\"}"

/* What the memory fields hold (cli_json_memory); more may come. */
#define MEMORY_SCHEMA                                                                          \
    "{\"type\":\"object\",\"required\":[\"id\",\"text\",\"type\",\"metadata\",\"version\"],"  \
    "\"properties\":{\"id\":{\"type\":\"string\"},\"tenant_id\":{\"type\":\"string\"},"       \
    "\"identity_id\":{\"type\":[\"string\",\"null\"]},\"text\":{\"type\":\"string\"},"        \
    "\"type\":{\"type\":\"string\"},\"metadata\":{\"type\":\"object\"},"                       \
    "\"importance\":{\"type\":\"number\"},\"version\":{\"type\":\"integer\"},"                 \
    "\"created_at\":{\"type\":\"integer\"},\"updated_at\":{\"type\":\"integer\"},"             \
    "\"expires_at\":{\"type\":[\"integer\",\"null\"]},\"deleted\":{\"type\":\"boolean\"},"    \
    "\"external_key\":{\"type\":[\"string\",\"null\"]}}}"

#define NEXT_CURSOR_SCHEMA                                                                     \
    "\"next_cursor\":{\"type\":[\"string\",\"null\"],\"description\":\"Give it as cursor for " \
    "the next page; null: none.\"}"

#define SEARCH_HIT_SCHEMA                                                                      \
    "{\"type\":\"object\",\"required\":[\"id\",\"text\",\"type\",\"score\"],"                  \
    "\"properties\":{\"id\":{\"type\":\"string\"},\"text\":{\"type\":\"string\"},"            \
    "\"type\":{\"type\":\"string\"},\"metadata\":{\"type\":\"object\"},"                       \
    "\"similarity\":{\"type\":\"number\"},\"score\":{\"type\":\"number\"},"                    \
    "\"importance\":{\"type\":\"number\"},\"identity_id\":{\"type\":[\"string\",\"null\"]},"  \
    "\"created_at\":{\"type\":\"integer\"}}}"

static const char REMEMBER[] =
    "{\"name\":\"remember\",\"title\":\"Remember\","
    "\"description\":\"Stores a memory (a fact, preference, event...) for later recall. A text "
    "already remembered (same type) is not stored twice; a memory with the same external_key "
    "is updated instead.\","
    "\"inputSchema\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"text\"],\"properties\":{"
    "\"text\":{\"type\":\"string\",\"minLength\":1,\"description\":\"What to remember.\"},"
    "\"type\":{\"type\":\"string\",\"minLength\":1,\"description\":\"Kind of memory (default "
    "fact).\"},"
    "\"metadata\":{\"type\":\"object\",\"description\":\"Any JSON object to keep with it, "
    "usable as a filter.\"},"
    "\"importance\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"0 to 1 "
    "(default 0.5); important memories rank higher.\"},"
    "\"external_key\":{\"type\":\"string\",\"minLength\":1,\"description\":\"Your key for it, "
    "unique per owner: remembering with the same key updates that memory.\"}}},"
    "\"outputSchema\":{\"type\":\"object\",\"required\":[\"memory\",\"outcome\"],"
    "\"properties\":{\"memory\":" MEMORY_SCHEMA ","
    "\"outcome\":{\"enum\":[\"created\",\"updated\",\"unchanged\"]}}},"
    "\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":false,"
    "\"idempotentHint\":false,\"openWorldHint\":false}}";

static const char RECALL[] =
    "{\"name\":\"recall\",\"title\":\"Recall\","
    "\"description\":\"Finds the memories most relevant to a query, best first: by meaning "
    "and by shared words (hybrid), weighed by recency and importance.\","
    "\"inputSchema\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"query\"],\"properties\":{"
    "\"query\":{\"type\":\"string\",\"minLength\":1,\"description\":\"What to look for.\"},"
    "\"k\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"description\":\"Most hits "
    "to return (default 10).\"},"
    "\"mode\":{\"type\":\"string\",\"enum\":[\"hybrid\",\"vector\",\"keyword\"],"
    "\"description\":\"vector: by meaning; keyword: by shared words; hybrid: both (default).\"},"
    FILTERS_SCHEMA "," CURSOR_SCHEMA "}},"
    "\"outputSchema\":{\"type\":\"object\",\"required\":[\"hits\",\"next_cursor\"],"
    "\"properties\":{\"hits\":{\"type\":\"array\",\"items\":" SEARCH_HIT_SCHEMA "},"
    NEXT_CURSOR_SCHEMA "}},"
    "\"annotations\":{\"readOnlyHint\":true,\"idempotentHint\":true,\"openWorldHint\":false}}";

static const char LIST[] =
    "{\"name\":\"list\",\"title\":\"List memories\","
    "\"description\":\"Lists memories, newest first, one page at a time.\","
    "\"inputSchema\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    FILTERS_SCHEMA ","
    "\"limit\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":1000,\"description\":\"Page "
    "size (default 50).\"}," CURSOR_SCHEMA "}},"
    "\"outputSchema\":{\"type\":\"object\",\"required\":[\"memories\",\"next_cursor\"],"
    "\"properties\":{\"memories\":{\"type\":\"array\",\"items\":" MEMORY_SCHEMA "},"
    NEXT_CURSOR_SCHEMA "}},"
    "\"annotations\":{\"readOnlyHint\":true,\"idempotentHint\":true,\"openWorldHint\":false}}";

static const char UPDATE[] =
    "{\"name\":\"update\",\"title\":\"Update a memory\","
    "\"description\":\"Changes a memory's text, type, metadata or importance (only what is "
    "given; at least one); its earlier version stays in its history.\","
    "\"inputSchema\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"id\"],\"properties\":{" ID_SCHEMA ","
    "\"text\":{\"type\":\"string\",\"minLength\":1,\"description\":\"The new text.\"},"
    "\"type\":{\"type\":\"string\",\"minLength\":1,\"description\":\"The new type.\"},"
    "\"metadata\":{\"type\":\"object\",\"description\":\"The new metadata, replacing the "
    "old.\"},"
    "\"importance\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1,\"description\":\"The "
    "new importance, 0 to 1.\"}}},"
    "\"outputSchema\":{\"type\":\"object\",\"required\":[\"memory\"],"
    "\"properties\":{\"memory\":" MEMORY_SCHEMA "}},"
    "\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":true,"
    "\"idempotentHint\":false,\"openWorldHint\":false}}";

static const char FORGET[] =
    "{\"name\":\"forget\",\"title\":\"Forget a memory\","
    "\"description\":\"Deletes a memory: soft by default (hidden, restorable by an "
    "operator), or hard (gone for good, its history too).\","
    "\"inputSchema\":{\"type\":\"object\",\"additionalProperties\":false,"
    "\"required\":[\"id\"],\"properties\":{" ID_SCHEMA ","
    "\"hard\":{\"type\":\"boolean\",\"description\":\"Delete for good (default false).\"}}},"
    "\"outputSchema\":{\"type\":\"object\",\"required\":[\"id\",\"hard\"],"
    "\"properties\":{\"id\":{\"type\":\"string\"},\"hard\":{\"type\":\"boolean\"}}},"
    "\"annotations\":{\"readOnlyHint\":false,\"destructiveHint\":true,"
    "\"idempotentHint\":false,\"openWorldHint\":false}}";

/* ---- Results ------------------------------------------------------------------------------ */

/* A CallToolResult holding text, an error when is_error. */
static cJSON *text_result(const char *text, int is_error)
{
    cJSON *r = cJSON_CreateObject(), *content = cJSON_AddArrayToObject(r, "content");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", "text");
    cJSON_AddStringToObject(t, "text", text);
    cJSON_AddItemToArray(content, t);
    if (is_error)
        cJSON_AddTrueToObject(r, "isError");
    return r;
}

static cJSON *tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *tool_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return text_result(msg, 1);
}

/* The tool error for a failed library call: its message, as the CLI shows it. */
static cJSON *library_error(const cli_ctx *c, const char *tool, int rc)
{
    const char *msg = mn_errcode(c->db) == rc ? mn_errmsg(c->db) : NULL;
    return tool_error("%s: %s", tool, msg && *msg ? msg : mn_strerror(rc));
}

/* The result for structured content s (deleted here): s, and s as JSON text. */
static cJSON *structured_result(cJSON *s)
{
    char *text = s ? cJSON_PrintUnformatted(s) : NULL;
    cJSON *r = text ? text_result(text, 0) : NULL;
    cJSON_free(text);
    if (!r) {
        cJSON_Delete(s);
        return NULL;
    }
    cJSON_AddItemToObject(r, "structuredContent", s);
    return r;
}

/* ---- Arguments ---------------------------------------------------------------------------- */

static const char *str_arg(const cJSON *args, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An object argument as the JSON text the library takes (*out malloc'd, NULL when absent).
 * -1 out of memory. */
static int json_arg(const cJSON *args, const char *name, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
    *out = v ? cJSON_PrintUnformatted(v) : NULL;
    return v && !*out ? -1 : 0;
}

/* The filters argument into f; its metadata text into *meta (free it). -1 out of memory. */
static int filter_arg(const cJSON *args, mn_filter *f, char **meta)
{
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(args, "filters");
    f->type = str_arg(fs, "type");
    f->identity = str_arg(fs, "identity");
    if (json_arg(fs, "metadata", meta) != 0)
        return -1;
    f->metadata = *meta;
    return 0;
}

static void int_arg(const cJSON *args, const char *name, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, name);
    if (v)
        *out = v->valueint; /* an integer in int's range: the schema said so */
}

/* The result of tool's call that returned rc and page (freed here): the library's error, or
 * {member: [...], next_cursor}, each memory as a search hit when hits, else whole. */
static cJSON *page_result(const cli_ctx *c, const char *tool, int rc, mn_memories *page,
                          const char *member, int hits)
{
    if (rc != MN_OK)
        return library_error(c, tool, rc);
    cJSON *s = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(s, member);
    for (size_t i = 0; i < page->count; i++)
        cJSON_AddItemToArray(arr, hits ? cli_json_search_hit(page->items[i], 0)
                                       : cli_json_memory(page->items[i]));
    cJSON_AddItemToObject(s, "next_cursor", page->next_cursor
                                                ? cJSON_CreateString(page->next_cursor)
                                                : cJSON_CreateNull());
    mn_memories_free(page);
    return structured_result(s);
}

/* ---- The tools ---------------------------------------------------------------------------- */

typedef cJSON *(*tool_fn)(cli_ctx *c, const mn_actor *a, const cJSON *args);

static cJSON *run_remember(cli_ctx *c, const mn_actor *a, const cJSON *args)
{
    static const char *const became[] = {"created", "updated", "unchanged"};
    mn_memory_input in = MN_MEMORY_INPUT_INIT;
    char *meta;
    if (json_arg(args, "metadata", &meta) != 0)
        return NULL;
    in.text = str_arg(args, "text");
    in.type = str_arg(args, "type");
    in.metadata = meta;
    in.external_key = str_arg(args, "external_key");
    const cJSON *imp = cJSON_GetObjectItemCaseSensitive(args, "importance");
    if (imp)
        in.importance = imp->valuedouble;
    mn_memory *m = NULL;
    int outcome = 0, rc = mn_memory_put(c->db, a, &in, &outcome, &m);
    free(meta);
    if (rc != MN_OK)
        return library_error(c, "remember", rc);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToObject(s, "memory", cli_json_memory(m));
    cJSON_AddStringToObject(s, "outcome", became[outcome]);
    mn_memory_free(m);
    return structured_result(s);
}

static cJSON *run_recall(cli_ctx *c, const mn_actor *a, const cJSON *args)
{
    mn_filter f = MN_FILTER_INIT;
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    char *meta;
    if (filter_arg(args, &f, &meta) != 0)
        return NULL;
    so.filter = &f;
    so.query = str_arg(args, "query");
    so.cursor = str_arg(args, "cursor");
    int_arg(args, "k", &so.k);
    const char *mode = str_arg(args, "mode");
    so.mode = mode ? cli_search_mode(mode) : MN_SEARCH_AUTO;
    mn_memories *hits = NULL;
    int rc = mn_memory_search(c->db, a, &so, &hits);
    free(meta);
    return page_result(c, "recall", rc, hits, "hits", 1);
}

static cJSON *run_list(cli_ctx *c, const mn_actor *a, const cJSON *args)
{
    mn_filter f = MN_FILTER_INIT;
    mn_list_options lo = MN_LIST_OPTIONS_INIT;
    char *meta;
    if (filter_arg(args, &f, &meta) != 0)
        return NULL;
    lo.filter = &f;
    lo.cursor = str_arg(args, "cursor");
    int_arg(args, "limit", &lo.limit);
    mn_memories *page = NULL;
    int rc = mn_memory_list(c->db, a, &lo, &page);
    free(meta);
    return page_result(c, "list", rc, page, "memories", 0);
}

static cJSON *run_update(cli_ctx *c, const mn_actor *a, const cJSON *args)
{
    mn_memory_changes ch = MN_MEMORY_CHANGES_INIT;
    char *meta;
    if (json_arg(args, "metadata", &meta) != 0)
        return NULL;
    const cJSON *imp = cJSON_GetObjectItemCaseSensitive(args, "importance");
    ch.text = str_arg(args, "text");
    ch.type = str_arg(args, "type");
    ch.metadata = meta;
    ch.importance = imp ? imp->valuedouble : 0;
    ch.set = (ch.text ? MN_MEMORY_SET_TEXT : 0) | (ch.type ? MN_MEMORY_SET_TYPE : 0) |
             (meta ? MN_MEMORY_SET_METADATA : 0) | (imp ? MN_MEMORY_SET_IMPORTANCE : 0);
    if (!ch.set) {
        free(meta);
        return tool_error("update: nothing to change: give text, type, metadata or importance");
    }
    mn_memory *m = NULL;
    int rc = mn_memory_update(c->db, a, str_arg(args, "id"), &ch, &m);
    free(meta);
    if (rc != MN_OK)
        return library_error(c, "update", rc);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddItemToObject(s, "memory", cli_json_memory(m));
    mn_memory_free(m);
    return structured_result(s);
}

static cJSON *run_forget(cli_ctx *c, const mn_actor *a, const cJSON *args)
{
    const char *id = str_arg(args, "id");
    int hard = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(args, "hard"));
    int rc = mn_memory_delete(c->db, a, id, hard ? MN_DELETE_HARD : MN_DELETE_SOFT);
    if (rc != MN_OK)
        return library_error(c, "forget", rc);
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "id", id);
    cJSON_AddBoolToObject(s, "hard", hard);
    return structured_result(s);
}

static const struct {
    const char *json;
    tool_fn run;
} tools[] = {{REMEMBER, run_remember}, {RECALL, run_recall}, {LIST, run_list},
             {UPDATE, run_update},     {FORGET, run_forget}};

cJSON *mcp_tools_new(void)
{
    cJSON *all = cJSON_CreateArray();
    for (size_t i = 0; all && i < sizeof tools / sizeof tools[0]; i++) {
        cJSON *t = cJSON_Parse(tools[i].json);
        if (!t) { /* out of memory: the texts are checked by the tests */
            cJSON_Delete(all);
            return NULL;
        }
        cJSON_AddItemToArray(all, t);
    }
    return all;
}

cJSON *mcp_tools_call(cli_ctx *c, const mn_actor *a, const cJSON *all, const char *name,
                      const cJSON *args, int *known)
{
    size_t i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, all) {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(t, "name")->valuestring, name) == 0)
            break;
        i++;
    }
    *known = t != NULL;
    if (!t)
        return NULL;
    char msg[512];
    cJSON *none = NULL;
    if (!args && !(args = none = cJSON_CreateObject()))
        return NULL;
    cJSON *r;
    if (mcp_schema_check(cJSON_GetObjectItemCaseSensitive(t, "inputSchema"), args, "", msg,
                         sizeof msg) != 0)
        r = tool_error("%s: %s", name, msg);
    else
        r = tools[i].run(c, a, args);
    cJSON_Delete(none);
    return r;
}
