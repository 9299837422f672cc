/*
 * cmd_query.c — the memory group's read commands: get, list, search, history.
 */
#include "cli.h"

#include <string.h>

/* Both list and search take the same filter options; one table fragment for both. */
#define FILTER_OPTS(f)                                                                         \
    {"identity", CLI_OPT_STR, &(f).identity, NULL}, {"type", CLI_OPT_STR, &(f).type, NULL},    \
        {"meta", CLI_OPT_STR, &(f).metadata, NULL}

static void print_detail(const mn_memory *m)
{
    char c1[32], c2[32], c3[32], importance[32], version[32];
    snprintf(importance, sizeof importance, "%g", m->importance);
    snprintf(version, sizeof version, "%lld", (long long)m->version);
    const cli_field fields[] = {
        {"id", m->id}, {"tenant", m->tenant_id}, {"identity", m->identity_id ? m->identity_id : "-"},
        {"type", m->type}, {"importance", importance}, {"version", version},
        {"created", cli_fmt_time(m->created_at, c1, sizeof c1)},
        {"updated", cli_fmt_time(m->updated_at, c2, sizeof c2)},
        {"expires", cli_fmt_time(m->expires_at, c3, sizeof c3)},
        {"deleted", m->deleted ? "yes" : "no"}, {"metadata", m->metadata ? m->metadata : "{}"},
        {"text", m->text}};
    cli_print_fields(fields, sizeof fields / sizeof fields[0], 12);
    /* Asynchronous embedding: shown while the vector is not stored. */
    if (m->embed_status != MN_EMBED_DONE || m->embed_error) {
        printf("%-12s%s", "embedding", cli_embed_status_name(m->embed_status));
        if (m->embed_error) {
            fputs(": ", stdout);
            cli_print_text(stdout, m->embed_error, 0);
        }
        putchar('\n');
    }
}

int cli_memory_get(cli_ctx *c, int argc, char **argv)
{
    int deleted = 0, expired = 0;
    const cli_opt opts[] = {{"with-deleted", CLI_OPT_FLAG, &deleted, NULL},
                            {"with-expired", CLI_OPT_FLAG, &expired, NULL}, {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE ||
        (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    unsigned flags = (deleted ? MN_WITH_DELETED : 0) | (expired ? MN_WITH_EXPIRED : 0);
    mn_memory *m = NULL;
    rc = mn_memory_get(c->db, &a, c->args[0], flags, &m);
    if (rc != MN_OK)
        return cli_fail(c, rc, "memory get %s", c->args[0]);
    if (c->json)
        rc = cli_json_emit(cli_json_memory(m));
    else
        print_detail(m);
    mn_memory_free(m);
    return rc;
}

static int type_width(const mn_memories *l)
{
    int w = 4;
    for (size_t i = 0; i < l->count; i++) {
        int n = (int)cli_print_text(NULL, l->items[i]->type, 0);
        w = n > w ? n : w;
    }
    return w > 20 ? 20 : w;
}

/* One page as rows, or as JSON array elements (the JSON is streamed page by page so that
 * --all --json over a large tenant does not hold every memory at once). */
static int print_page(const cli_ctx *c, const mn_memories *l, size_t *printed)
{
    int w = type_width(l);
    for (size_t i = 0; i < l->count; i++, (*printed)++) {
        const mn_memory *m = l->items[i];
        if (c->json) {
            cJSON *j = cli_json_memory(m);
            char *s = j ? cJSON_PrintUnformatted(j) : NULL;
            cJSON_Delete(j);
            if (!s)
                return cli_error("out of memory formatting JSON");
            fputs(*printed ? "," : "", stdout);
            cli_print_text(stdout, s, 0);
            cJSON_free(s);
            continue;
        }
        char when[32];
        printf("%s  %s  ", m->id, cli_fmt_time(m->created_at, when, sizeof when));
        cli_print_cell(stdout, m->type, (size_t)w);
        fputs(m->deleted ? "  [deleted] " : "  ", stdout);
        cli_print_text(stdout, m->text, 100);
        putchar('\n');
    }
    return CLI_EXIT_OK;
}

int cli_memory_list(cli_ctx *c, int argc, char **argv)
{
    mn_filter f = MN_FILTER_INIT;
    mn_list_options lo = MN_LIST_OPTIONS_INIT;
    lo.filter = &f;
    int all = 0, deleted = 0, expired = 0;
    const cli_opt opts[] = {FILTER_OPTS(f),
                            {"limit", CLI_OPT_INT, &lo.limit, NULL},
                            {"cursor", CLI_OPT_STR, &lo.cursor, NULL},
                            {"all", CLI_OPT_FLAG, &all, NULL},
                            {"with-deleted", CLI_OPT_FLAG, &deleted, NULL},
                            {"with-expired", CLI_OPT_FLAG, &expired, NULL},
                            {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE ||
        (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    f.flags = (deleted ? MN_WITH_DELETED : 0) | (expired ? MN_WITH_EXPIRED : 0);

    mn_memories *page = NULL;
    size_t printed = 0;
    for (int first = 1;; first = 0) {
        mn_memories *prev = page; /* lo.cursor points into it: freed after the next call */
        page = NULL;
        rc = mn_memory_list(c->db, &a, &lo, &page);
        mn_memories_free(prev);
        if (rc != MN_OK) {
            if (c->json && !first)
                fputs("]}\n", stdout); /* what was printed stays valid JSON */
            return cli_fail(c, rc, "memory list");
        }
        if (c->json && first)
            fputs("{\"memories\":[", stdout);
        if ((rc = print_page(c, page, &printed)) != CLI_EXIT_OK || !all || !page->next_cursor)
            break;
        lo.cursor = page->next_cursor;
    }
    const char *next = page ? page->next_cursor : NULL;
    if (c->json) {
        printf("],\"count\":%zu,\"next_cursor\":", printed);
        if (next) {
            cJSON *s = cJSON_CreateString(next);
            char *q = cJSON_PrintUnformatted(s);
            cli_line(stdout, "%s}", q ? q : "null");
            cJSON_free(q);
            cJSON_Delete(s);
        } else {
            puts("null}");
        }
    } else if (next) {
        cli_line(stdout, "next cursor: %s", next);
    }
    mn_memories_free(page);
    return rc;
}

static cJSON *search_hit(const mn_memory *m, int explain)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", m->id);
    cJSON_AddStringToObject(o, "text", m->text);
    cJSON_AddStringToObject(o, "type", m->type);
    cJSON_AddItemToObject(o, "metadata", cli_json_raw(m->metadata));
    cJSON_AddItemToObject(o, "similarity", cli_json_number(m->similarity, 6));
    cJSON_AddItemToObject(o, "importance", cli_json_number(m->importance, 6));
    if (m->identity_id)
        cJSON_AddStringToObject(o, "identity_id", m->identity_id);
    else
        cJSON_AddNullToObject(o, "identity_id");
    cJSON_AddItemToObject(o, "created_at", cli_json_int(m->created_at));
    if (explain) {
        cJSON *e = cJSON_AddObjectToObject(o, "explain");
        cJSON_AddItemToObject(e, "vector_score", cli_json_number(m->vector_score, 6));
        cJSON_AddNumberToObject(e, "vector_rank", m->vector_rank);
        cJSON_AddItemToObject(e, "keyword_score", cli_json_number(m->keyword_score, 6));
        cJSON_AddNumberToObject(e, "keyword_rank", m->keyword_rank);
        cJSON_AddItemToObject(e, "fused_score", cli_json_number(m->fused_score, 6));
    }
    return o;
}

int cli_memory_search(cli_ctx *c, int argc, char **argv)
{
    mn_filter f = MN_FILTER_INIT;
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.filter = &f;
    so.k = 10;
    const char *mode = NULL;
    int explain = 0;
    const cli_opt opts[] = {FILTER_OPTS(f),
                            {"k", CLI_OPT_INT, &so.k, NULL},
                            {"min-similarity", CLI_OPT_NUM, &so.min_similarity, NULL},
                            {"mode", CLI_OPT_STR, &mode, NULL},
                            {"explain", CLI_OPT_FLAG, &explain, NULL},
                            {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if (mode && !(so.mode = cli_search_mode(mode)))
        return cli_usage_error(c, "--mode %s: give vector, keyword or hybrid", mode);
    if (explain)
        so.flags |= MN_SEARCH_EXPLAIN;
    if ((rc = cli_actor(c, &a)) != CLI_CONTINUE || (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    so.query = c->args[0];

    mn_memories *hits = NULL;
    double t0 = cli_now();
    rc = mn_memory_search(c->db, &a, &so, &hits);
    double took_ms = (cli_now() - t0) * 1000.0;
    if (rc != MN_OK)
        return cli_fail(c, rc, "memory search");

    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "query", so.query);
        cJSON_AddNumberToObject(o, "k", so.k);
        cJSON_AddItemToObject(o, "took_ms", cli_json_number(took_ms, 4));
        cJSON *arr = cJSON_AddArrayToObject(o, "hits");
        for (size_t i = 0; i < hits->count; i++)
            cJSON_AddItemToArray(arr, search_hit(hits->items[i], explain));
        rc = cli_json_emit(o);
    } else {
        int w = type_width(hits);
        for (size_t i = 0; i < hits->count; i++) {
            const mn_memory *m = hits->items[i];
            printf("%3zu  %.3f  ", i + 1, m->similarity);
            if (explain)
                printf("v#%-3d %.3f  k#%-3d %7.3f  fused %.4f  ", m->vector_rank,
                       m->vector_score, m->keyword_rank, m->keyword_score, m->fused_score);
            cli_print_cell(stdout, m->type, (size_t)w);
            fputs("  ", stdout);
            cli_print_text(stdout, m->text, 0);
            putchar('\n');
        }
    }
    mn_memories_free(hits);
    return rc;
}

/* "text: old -> new; importance: 0.5 -> 0.9": the fields of after that differ from before. */
static void print_change(const char *before, const char *after)
{
    cJSON *b = before ? cJSON_Parse(before) : NULL, *a = after ? cJSON_Parse(after) : NULL;
    if (!cJSON_IsObject(b) || !cJSON_IsObject(a)) {
        printf("%s", !cJSON_IsObject(b) && cJSON_IsObject(a) ? "created" :
                     cJSON_IsObject(b) && !cJSON_IsObject(a) ? "removed" : "changed");
    } else {
        int n = 0;
        const cJSON *f;
        cJSON_ArrayForEach(f, a) {
            const cJSON *old = cJSON_GetObjectItemCaseSensitive(b, f->string);
            if (old && cJSON_Compare(old, f, 1))
                continue;
            char *os = old ? cJSON_PrintUnformatted(old) : NULL, *ns = cJSON_PrintUnformatted(f);
            fputs(n++ ? "; " : "", stdout);
            cli_print_text(stdout, f->string, 0);
            fputs(": ", stdout);
            cli_print_text(stdout, os ? os : "(none)", 0);
            fputs(" -> ", stdout);
            cli_print_text(stdout, ns ? ns : "?", 200);
            cJSON_free(os);
            cJSON_free(ns);
        }
        if (!n)
            printf("no field changed");
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

int cli_memory_history(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = cli_parse(c, argc, argv, NULL, 1, 1);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE ||
        (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    mn_history *h = NULL;
    rc = mn_memory_history(c->db, &a, c->args[0], &h);
    if (rc != MN_OK)
        return cli_fail(c, rc, "memory history %s", c->args[0]);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c->args[0]);
        cJSON *arr = cJSON_AddArrayToObject(o, "history");
        for (size_t i = 0; i < h->count; i++) {
            const mn_history_entry *e = h->items[i];
            cJSON *j = cJSON_CreateObject();
            cJSON_AddItemToObject(j, "version", cli_json_int(e->version));
            cJSON_AddItemToObject(j, "changed_at", cli_json_int(e->changed_at));
            cJSON_AddItemToObject(j, "changed_by", e->changed_by ? cJSON_CreateString(e->changed_by)
                                                                 : cJSON_CreateNull());
            cJSON_AddItemToObject(j, "before", cli_json_raw(e->before));
            cJSON_AddItemToObject(j, "after", cli_json_raw(e->after));
            cJSON_AddItemToArray(arr, j);
        }
        rc = cli_json_emit(o);
    } else {
        for (size_t i = 0; i < h->count; i++) {
            const mn_history_entry *e = h->items[i];
            char when[32];
            printf("v%-3lld %s  by ", (long long)e->version,
                   cli_fmt_time(e->changed_at, when, sizeof when));
            cli_print_cell(stdout, e->changed_by ? e->changed_by : "(system)", 36);
            fputs("  ", stdout);
            print_change(e->before, e->after);
            putchar('\n');
        }
    }
    mn_history_free(h);
    return rc;
}
