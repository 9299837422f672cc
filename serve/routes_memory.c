/*
 * routes_memory.c — /v1/memory: add (or upsert), get, list, update, delete, bulk delete,
 * search, history and restore; each one library call for the key's actor.
 */
#include "serve.h"
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* { "items": [...], "next_cursor": ... }; scores: with each hit's similarity and score. */
static cJSON *json_memories(const mn_memories *l, int scores)
{
    cJSON *o = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < l->count; i++) {
        cJSON *m = cli_json_memory(l->items[i]);
        if (scores) {
            cJSON_AddItemToObject(m, "similarity", cli_json_number(l->items[i]->similarity, 6));
            cJSON_AddItemToObject(m, "score", cli_json_number(l->items[i]->score, 6));
        }
        cJSON_AddItemToArray(items, m);
    }
    if (l->next_cursor)
        cJSON_AddStringToObject(o, "next_cursor", l->next_cursor);
    else
        cJSON_AddNullToObject(o, "next_cursor");
    return o;
}

/* The filter fields that list and search share. */
static int filter_of(const sv_req *r, mn_filter *f, char **meta)
{
    int rc = MN_OK;
    *f = (mn_filter)MN_FILTER_INIT;
    f->identity = sv_arg_str(r, "identity");
    f->type = sv_arg_str(r, "type");
    f->metadata = *meta = sv_arg_json(r, "metadata", &rc);
    if (sv_arg_bool(r, "with_deleted"))
        f->flags |= MN_WITH_DELETED;
    return rc;
}

static int memory_out(sv_req *r, int rc, mn_memory *m)
{
    if (rc == MN_OK)
        r->out = cli_json_memory(m);
    mn_memory_free(m);
    return rc;
}

static int memories_out(sv_req *r, int rc, mn_memories *l, int scores)
{
    if (rc == MN_OK)
        r->out = json_memories(l, scores);
    mn_memories_free(l);
    return rc;
}

static int add(sv_req *r)
{
    static const char *const outcomes[] = {"created", "updated", "unchanged"};
    int rc = MN_OK, outcome = 0;
    mn_memory_input in = MN_MEMORY_INPUT_INIT;
    in.text = sv_arg_str(r, "text");
    in.type = sv_arg_str(r, "type");
    in.identity = sv_arg_str(r, "identity");
    in.external_key = sv_arg_str(r, "external_key");
    in.importance = sv_arg_num(r, "importance", MN_IMPORTANCE_DEFAULT);
    int64_t ttl = sv_arg_int(r, "ttl_days", 0);
    if (ttl < 0 || ttl > 1000000)
        return sv_invalid(r, "ttl_days must be 0 (never expires) to 1000000, not %lld",
                          (long long)ttl);
    in.ttl_days = (int)ttl;
    char *meta = sv_arg_json(r, "metadata", &rc);
    in.metadata = meta;
    mn_memory *m = NULL;
    if (rc == MN_OK)
        rc = mn_memory_put(r->db, &r->actor, &in, &outcome, &m);
    free(meta);
    if (rc == MN_OK) {
        r->status = outcome == MN_PUT_CREATED ? 201 : 200;
        r->out = cli_json_memory(m);
        cJSON_AddStringToObject(r->out, "outcome", outcomes[outcome]);
    }
    mn_memory_free(m);
    return rc;
}

static int get(sv_req *r)
{
    mn_memory *m = NULL;
    unsigned flags = sv_arg_bool(r, "with_deleted") ? MN_WITH_DELETED : 0;
    int rc = mn_memory_get(r->db, &r->actor, r->params[0], flags, &m);
    return memory_out(r, rc, m);
}

static int list(sv_req *r)
{
    mn_filter f;
    char *meta;
    int rc = filter_of(r, &f, &meta);
    mn_list_options o = MN_LIST_OPTIONS_INIT;
    o.filter = &f;
    o.limit = (int)sv_arg_int(r, "limit", 0);
    o.cursor = sv_arg_str(r, "cursor");
    mn_memories *l = NULL;
    if (rc == MN_OK)
        rc = mn_memory_list(r->db, &r->actor, &o, &l);
    free(meta);
    return memories_out(r, rc, l, 0);
}

static int update(sv_req *r)
{
    int rc = MN_OK;
    mn_memory_changes ch = MN_MEMORY_CHANGES_INIT;
    if ((ch.text = sv_arg_str(r, "text")))
        ch.set |= MN_MEMORY_SET_TEXT;
    if ((ch.type = sv_arg_str(r, "type")))
        ch.set |= MN_MEMORY_SET_TYPE;
    char *meta = sv_arg_json(r, "metadata", &rc);
    if ((ch.metadata = meta))
        ch.set |= MN_MEMORY_SET_METADATA;
    if (sv_arg_given(r, "importance")) {
        ch.importance = sv_arg_num(r, "importance", 0);
        ch.set |= MN_MEMORY_SET_IMPORTANCE;
    }
    mn_memory *m = NULL;
    if (rc == MN_OK && !ch.set)
        rc = sv_invalid(r, "nothing to change: give text, type, metadata or importance");
    if (rc == MN_OK)
        rc = mn_memory_update(r->db, &r->actor, r->params[0], &ch, &m);
    free(meta);
    return memory_out(r, rc, m);
}

static int delete_mode(const sv_req *r)
{
    return sv_arg_bool(r, "hard") ? MN_DELETE_HARD : MN_DELETE_SOFT;
}

static int delete_one(sv_req *r)
{
    int rc = mn_memory_delete(r->db, &r->actor, r->params[0], delete_mode(r));
    if (rc == MN_OK)
        r->status = 204;
    return rc;
}

static int bulk_delete(sv_req *r)
{
    const char **ids;
    size_t n = sv_arg_strs(r, "ids", &ids);
    if (!n)
        return sv_invalid(r, "ids must be an array of 1 or more memory ids");
    int rc = mn_memory_delete_many(r->db, &r->actor, ids, n, delete_mode(r));
    if (rc == MN_OK) {
        r->out = cJSON_CreateObject();
        cJSON_AddNumberToObject(r->out, "deleted", (double)n);
    }
    free(ids);
    return rc;
}

static int search(sv_req *r)
{
    mn_filter f;
    char *meta;
    int rc = filter_of(r, &f, &meta);
    mn_search_options o = MN_SEARCH_OPTIONS_INIT;
    o.query = sv_arg_str(r, "query");
    o.k = (int)sv_arg_int(r, "k", 0);
    o.filter = &f;
    o.cursor = sv_arg_str(r, "cursor");
    o.min_similarity = sv_arg_num(r, "min_similarity", 0);
    const char *mode = sv_arg_str(r, "mode");
    if (mode && !(o.mode = cli_search_mode(mode)))
        rc = sv_invalid(r, "mode must be vector, keyword or hybrid, not '%.64s'", mode);
    mn_memories *l = NULL;
    if (rc == MN_OK && !o.query)
        rc = sv_invalid(r, "query is required: the text to search for");
    if (rc == MN_OK)
        rc = mn_memory_search(r->db, &r->actor, &o, &l);
    free(meta);
    return memories_out(r, rc, l, 1);
}

static int history(sv_req *r)
{
    mn_history *h = NULL;
    int rc = mn_memory_history(r->db, &r->actor, r->params[0], &h);
    if (rc == MN_OK) {
        cJSON *items = sv_items(r);
        for (size_t i = 0; i < h->count; i++) {
            const mn_history_entry *e = h->items[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "version", cli_json_int(e->version));
            cJSON_AddItemToObject(o, "changed_at", cli_json_int(e->changed_at));
            cJSON_AddItemToObject(o, "changed_by", e->changed_by
                                                       ? cJSON_CreateString(e->changed_by)
                                                       : cJSON_CreateNull());
            cJSON_AddItemToObject(o, "before", cli_json_raw(e->before));
            cJSON_AddItemToObject(o, "after", cli_json_raw(e->after));
            cJSON_AddItemToArray(items, o);
        }
    }
    mn_history_free(h);
    return rc;
}

static int restore(sv_req *r)
{
    int rc = mn_memory_restore(r->db, &r->actor, r->params[0]);
    mn_memory *m = NULL;
    if (rc == MN_OK)
        rc = mn_memory_get(r->db, &r->actor, r->params[0], 0, &m);
    return memory_out(r, rc, m);
}

#define F_IDENTITY(w) {"identity", SV_STR, w, "owner: identity id or external_id"}
#define F_TYPE(w) {"type", SV_STR, w, "memory type, e.g. fact"}
#define F_DELETED {"with_deleted", SV_BOOL, SV_QUERY, "include soft-deleted memories"}

const sv_route sv_routes_memory[] = {
    {"POST", "/v1/memory", add, 0, "memory:create", 1, 1,
     "Add a memory (or update the one with its external_key, or find the one it repeats)",
     {{"text", SV_STR, SV_BODY, "the memory's text (required)"},
      F_TYPE(SV_BODY),
      {"metadata", SV_OBJECT, SV_BODY, "JSON object"},
      {"importance", SV_NUM, SV_BODY, "0..1, default 0.5"},
      {"ttl_days", SV_INT, SV_BODY, "expires that many days after the add; 0: never"},
      F_IDENTITY(SV_BODY),
      {"external_key", SV_STR, SV_BODY, "the caller's name of the memory, unique per owner"},
      {0}}},
    {"GET", "/v1/memory", list, 0, "memory:list", 0, 0, "List memories, newest first",
     {F_IDENTITY(SV_QUERY), F_TYPE(SV_QUERY), F_DELETED,
      {"limit", SV_INT, SV_QUERY, "default 50, at most 1000"},
      {"cursor", SV_STR, SV_QUERY, "next_cursor of the previous page"},
      {0}}},
    {"POST", "/v1/memory/search", search, 0, "memory:search", 1, 0, "Search memories",
     {{"query", SV_STR, SV_BODY, "text to search for (required)"},
      {"k", SV_INT, SV_BODY, "results, default 10, at most 1000"},
      F_IDENTITY(SV_BODY), F_TYPE(SV_BODY),
      {"metadata", SV_OBJECT, SV_BODY, "memories whose metadata contains this object"},
      {"mode", SV_STR, SV_BODY, "vector, keyword or hybrid (default: the server's)"},
      {"min_similarity", SV_NUM, SV_BODY, "relevance floor, -1..1"},
      {"cursor", SV_STR, SV_BODY, "next_cursor of the previous page"},
      {0}}},
    {"POST", "/v1/memory/bulk-delete", bulk_delete, 0, "memory:delete", 0, 0,
     "Delete memories, all or none",
     {{"ids", SV_STR_ARRAY, SV_BODY, "memory ids (required)"},
      {"hard", SV_BOOL, SV_BODY, "true: gone for good; false (default): restorable"},
      {0}}},
    {"GET", "/v1/memory/{id}", get, 0, "memory:read", 0, 0, "Get a memory", {F_DELETED, {0}}},
    {"PUT", "/v1/memory/{id}", update, 0, "memory:update", 0, 0,
     "Change a memory's text, type, metadata or importance",
     {{"text", SV_STR, SV_BODY, "new text (re-embedded)"},
      F_TYPE(SV_BODY),
      {"metadata", SV_OBJECT, SV_BODY, "replaces the metadata"},
      {"importance", SV_NUM, SV_BODY, "0..1"},
      {0}}},
    {"DELETE", "/v1/memory/{id}", delete_one, 0, "memory:delete", 0, 0, "Delete a memory",
     {{"hard", SV_BOOL, SV_QUERY, "true: gone for good; false (default): restorable"}, {0}}},
    {"GET", "/v1/memory/{id}/history", history, 0, "memory:read", 0, 0,
     "A memory's versions, oldest first", {{0}}},
    {"POST", "/v1/memory/{id}/restore", restore, 0, "memory:update", 0, 0,
     "Restore a soft-deleted memory", {{0}}},
};
const size_t sv_nroutes_memory = sizeof sv_routes_memory / sizeof sv_routes_memory[0];
