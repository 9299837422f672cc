/*
 * cmd_query.c — the memory group's read commands: get, list, search, history.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
    if (m->session) {
        printf("%-12s", "session");
        cli_print_text(stdout, m->session, 0);
        putchar('\n');
    }
    if (m->external_key) {
        printf("%-12s", "key");
        cli_print_text(stdout, m->external_key, 0);
        putchar('\n');
    }
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

/* Fetches one page of a list or a search for c (its options hold *cursor), or with all every
 * page, following next_cursor; show is given each page. *last is the last page fetched (its
 * next_cursor: where to go on), NULL after a failure of fetch, whose MN_* code is returned;
 * show's failure (an exit code) ends the pages too, and is returned. */
static int each_page(cli_ctx *c, int all, const char **cursor,
                     int (*fetch)(cli_ctx *, void *, mn_memories **), void *opt,
                     int (*show)(cli_ctx *, const mn_memories *, void *), void *show_ctx,
                     mn_memories **last)
{
    mn_memories *page = NULL;
    for (;;) {
        mn_memories *prev = page; /* *cursor points into it: freed after the next call */
        page = NULL;
        int rc = fetch(c, opt, &page);
        mn_memories_free(prev);
        if (rc != MN_OK) {
            *last = NULL;
            return rc;
        }
        *last = page;
        if ((rc = show(c, page, show_ctx)) != CLI_EXIT_OK)
            return rc;
        if (!all || !page->next_cursor)
            return MN_OK;
        *cursor = page->next_cursor;
    }
}

/* "next cursor: C", or the JSON "next_cursor" member's value (a string or null). */
static void print_next_cursor(const cli_ctx *c, const char *next)
{
    if (c->json) {
        cJSON *s = next ? cJSON_CreateString(next) : cJSON_CreateNull();
        char *q = s ? cJSON_PrintUnformatted(s) : NULL;
        cli_line(stdout, "%s}", q ? q : "null");
        cJSON_free(q);
        cJSON_Delete(s);
    } else if (next) {
        cli_line(stdout, "next cursor: %s", next);
    }
}

struct list_run {
    mn_actor a;
    mn_list_options lo;
    size_t printed;
    int started;     /* JSON: the array is open */
};

static int list_fetch(cli_ctx *c, void *opt, mn_memories **out)
{
    struct list_run *r = opt;
    return mn_memory_list(c->db, &r->a, &r->lo, out);
}

static int list_show(cli_ctx *c, const mn_memories *page, void *ctx)
{
    struct list_run *r = ctx;
    if (c->json && !r->started)
        fputs("{\"memories\":[", stdout);
    r->started = 1;
    return print_page(c, page, &r->printed);
}

static int memory_list(cli_ctx *c, int argc, char **argv, cli_filter *cf)
{
    struct list_run r = {.lo = MN_LIST_OPTIONS_INIT};
    r.lo.filter = &cf->f;
    int all = 0, deleted = 0, expired = 0;
    const cli_opt opts[] = {CLI_FILTER_OPTS(*cf),
                            {"limit", CLI_OPT_INT, &r.lo.limit, NULL},
                            {"cursor", CLI_OPT_STR, &r.lo.cursor, NULL},
                            {"all", CLI_OPT_FLAG, &all, NULL},
                            {"with-deleted", CLI_OPT_FLAG, &deleted, NULL},
                            {"with-expired", CLI_OPT_FLAG, &expired, NULL},
                            {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc == CLI_CONTINUE)
        rc = cli_filter_finish(c, cf);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &r.a)) != CLI_CONTINUE ||
        (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    cf->f.flags |= (deleted ? MN_WITH_DELETED : 0) | (expired ? MN_WITH_EXPIRED : 0);

    mn_memories *page = NULL;
    rc = each_page(c, all, &r.lo.cursor, list_fetch, &r, list_show, &r, &page);
    if (!page) {
        if (c->json && r.started)
            fputs("]}\n", stdout); /* what was printed stays valid JSON */
        return cli_fail(c, rc, "memory list");
    }
    if (c->json)
        printf("],\"count\":%zu,\"next_cursor\":", r.printed);
    print_next_cursor(c, page->next_cursor);
    mn_memories_free(page);
    return rc;
}

int cli_memory_list(cli_ctx *c, int argc, char **argv)
{
    return cli_with_filter(c, argc, argv, memory_list);
}

/* A half-life such as "500ms", "30s", "15m", "12h" or "7d" into milliseconds; "off" is
 * MN_SEARCH_OFF. 0 with a usage error printed when it is none of these. */
static int64_t half_life_ms(const cli_ctx *c, const char *text)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}};
    if (strcmp(text, "off") == 0)
        return MN_SEARCH_OFF;
    char *end;
    double n = strtod(text, &end);
    for (size_t i = 0; end != text && n > 0 && i < sizeof units / sizeof *units; i++)
        if (strcmp(end, units[i].unit) == 0 && n * units[i].ms >= 1 && n * units[i].ms < 1e15)
            return (int64_t)(n * units[i].ms);
    cli_usage_error(c, "--recency-half-life %s: give a time with its unit (500ms, 30s, 15m, "
                    "12h, 7d), at least 1ms, or \"off\"", text);
    return 0;
}

struct search_run {
    mn_actor a;
    mn_search_options so;
    int explain;     /* --explain: each hit's rankings and fused score too */
    cJSON *hits;     /* JSON: every page's hits */
    size_t printed;
    double took_ms;
};

static int search_fetch(cli_ctx *c, void *opt, mn_memories **out)
{
    struct search_run *r = opt;
    double t0 = cli_now();
    int rc = mn_memory_search(c->db, &r->a, &r->so, out);
    r->took_ms += (cli_now() - t0) * 1000.0;
    return rc;
}

static int search_show(cli_ctx *c, const mn_memories *hits, void *ctx)
{
    struct search_run *r = ctx;
    int w = type_width(hits);
    for (size_t i = 0; i < hits->count; i++, r->printed++) {
        const mn_memory *m = hits->items[i];
        if (c->json) {
            cJSON_AddItemToArray(r->hits, cli_json_search_hit(m, r->explain));
            continue;
        }
        printf("%3zu  %.3f  ", r->printed + 1, m->similarity);
        if (r->explain)
            printf("v#%-3d %.3f  k#%-3d %7.3f  fused %.4f  score %.4f  ", m->vector_rank,
                   m->vector_score, m->keyword_rank, m->keyword_score, m->fused_score,
                   m->score);
        cli_print_cell(stdout, m->type, (size_t)w);
        fputs("  ", stdout);
        cli_print_text(stdout, m->text, 0);
        putchar('\n');
    }
    return CLI_EXIT_OK;
}

/* The lines of path ("-": stdin) but empty ones, each a query, into *out (malloc'd, with the
 * strings); *n of them. An exit code. */
static int read_queries(const char *path, char ***out, size_t *n)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        return cli_error("%s: %s", path, strerror(errno));
    char **q = NULL, *line = NULL;
    size_t cap = 0, len = 0;
    ssize_t got;
    int rc = CLI_EXIT_OK;
    *n = 0;
    while (rc == CLI_EXIT_OK && (got = getline(&line, &len, f)) >= 0) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (!got)
            continue;
        if (*n == cap) {
            char **grown = realloc(q, (cap = cap ? 2 * cap : 16) * sizeof *q);
            if (!grown)
                rc = cli_error("out of memory reading %s", path);
            else
                q = grown;
        }
        if (rc == CLI_EXIT_OK && !(q[*n] = strdup(line)))
            rc = cli_error("out of memory reading %s", path);
        else if (rc == CLI_EXIT_OK)
            (*n)++;
    }
    free(line);
    if (f != stdin)
        fclose(f);
    if (rc == CLI_EXIT_OK && *n == 0)
        rc = cli_error("%s has no query (one a line)", path);
    if (rc != CLI_EXIT_OK) {
        mn_strings_free(q, *n);
        return rc;
    }
    *out = q;
    return rc;
}

/* --queries-file: every query of the file searched in one batch (mn_memory_search_many) with
 * the options of r, one JSON line per query, in order. */
static int search_file(cli_ctx *c, struct search_run *r, const char *path)
{
    char **queries = NULL;
    size_t n = 0;
    int rc = read_queries(path, &queries, &n);
    mn_search_options *so = rc == CLI_EXIT_OK ? malloc(n * sizeof *so) : NULL;
    if (rc == CLI_EXIT_OK && !so)
        rc = cli_error("out of memory");
    for (size_t i = 0; rc == CLI_EXIT_OK && i < n; i++) {
        so[i] = r->so;
        so[i].query = queries[i];
    }
    mn_memories **hits = NULL;
    if (rc == CLI_EXIT_OK && (rc = mn_memory_search_many(c->db, &r->a, so, n, &hits)) != MN_OK)
        rc = cli_fail(c, rc, "memory search --queries-file %s", path);
    for (size_t i = 0; hits && rc == CLI_EXIT_OK && i < n; i++) {
        cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "hits");
        cJSON_AddStringToObject(o, "query", queries[i]);
        for (size_t j = 0; j < hits[i]->count; j++)
            cJSON_AddItemToArray(a, cli_json_search_hit(hits[i]->items[j], r->explain));
        cJSON_AddItemToObject(o, "next_cursor", hits[i]->next_cursor
                                                    ? cJSON_CreateString(hits[i]->next_cursor)
                                                    : cJSON_CreateNull());
        char *line = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!line)
            rc = cli_error("out of memory formatting JSON");
        else
            puts(line);
        cJSON_free(line);
    }
    mn_memories_free_many(hits, n);
    mn_strings_free(queries, n);
    free(so);
    return rc;
}

static int memory_search(cli_ctx *c, int argc, char **argv, cli_filter *cf)
{
    struct search_run r = {.so = MN_SEARCH_OPTIONS_INIT};
    r.so.filter = &cf->f;
    r.so.k = 10;
    const char *half_life = NULL;
    int all = 0;
    const char *mode = NULL, *queries_file = NULL;
    const cli_opt opts[] = {CLI_FILTER_OPTS(*cf),
                            {"k", CLI_OPT_INT, &r.so.k, NULL},
                            {"min-similarity", CLI_OPT_NUM, &r.so.min_similarity, NULL},
                            {"recency-half-life", CLI_OPT_STR, &half_life, NULL},
                            {"recency-weight", CLI_OPT_NUM, &r.so.recency_weight, NULL},
                            {"importance-weight", CLI_OPT_NUM, &r.so.importance_weight, NULL},
                            {"cursor", CLI_OPT_STR, &r.so.cursor, NULL},
                            {"all", CLI_OPT_FLAG, &all, NULL},
                            {"mode", CLI_OPT_STR, &mode, NULL},
                            {"explain", CLI_OPT_FLAG, &r.explain, NULL},
                            {"queries-file", CLI_OPT_STR, &queries_file, NULL},
                            {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 1);
    if (rc == CLI_CONTINUE && !queries_file != (c->nargs == 1))
        rc = cli_usage_error(c, "give a QUERY or --queries-file F (one of them)");
    if (rc == CLI_CONTINUE && queries_file && (all || r.so.cursor))
        rc = cli_usage_error(c, "--queries-file gives the first page of each query: drop "
                             "--all and --cursor");
    if (rc == CLI_CONTINUE)
        rc = cli_filter_finish(c, cf);
    if (rc == CLI_CONTINUE && half_life && !(r.so.recency_half_life_ms = half_life_ms(c, half_life)))
        rc = CLI_EXIT_USAGE;
    if (rc == CLI_CONTINUE && mode && !(r.so.mode = cli_search_mode(mode)))
        rc = cli_usage_error(c, "--mode %s: give vector, keyword or hybrid", mode);
    if (r.explain)
        r.so.flags |= MN_SEARCH_EXPLAIN;
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &r.a)) != CLI_CONTINUE ||
        (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    if (queries_file)
        return search_file(c, &r, queries_file);
    r.so.query = c->args[0];
    if (c->json && !(r.hits = cJSON_CreateArray()))
        return cli_error("out of memory formatting JSON");

    mn_memories *page = NULL;
    rc = each_page(c, all, &r.so.cursor, search_fetch, &r, search_show, &r, &page);
    if (!page) {
        cJSON_Delete(r.hits);
        return cli_fail(c, rc, "memory search");
    }
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "query", r.so.query);
        cJSON_AddNumberToObject(o, "k", r.so.k);
        cJSON_AddItemToObject(o, "took_ms", cli_json_number(r.took_ms, 4));
        cJSON_AddItemToObject(o, "hits", r.hits);
        cJSON_AddItemToObject(o, "next_cursor", page->next_cursor
                                                    ? cJSON_CreateString(page->next_cursor)
                                                    : cJSON_CreateNull());
        rc = cli_json_emit(o);
    } else {
        print_next_cursor(c, page->next_cursor);
    }
    mn_memories_free(page);
    return rc;
}

int cli_memory_search(cli_ctx *c, int argc, char **argv)
{
    return cli_with_filter(c, argc, argv, memory_search);
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
