/*
 * cmd_export.c — memory export: the tenant's live memories as the JSON Lines that memory
 * import reads (see cmd_import.c for the format).
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Owners are written as external ids, which mean the same in another database, unlike the
 * identity ids. Most exports involve few identities: a small list is enough. */
typedef struct owner_cache {
    size_t n, cap;
    char **id, **ext;
} owner_cache;

static void owners_free(owner_cache *oc)
{
    for (size_t i = 0; i < oc->n; i++) {
        free(oc->id[i]);
        free(oc->ext[i]);
    }
    free(oc->id);
    free(oc->ext);
}

/* The external id of identity id, or NULL after printing why. */
static const char *owner(cli_ctx *c, const mn_actor *a, owner_cache *oc, const char *id)
{
    for (size_t i = 0; i < oc->n; i++)
        if (strcmp(oc->id[i], id) == 0)
            return oc->ext[i];
    if (oc->n == oc->cap) {
        size_t cap = oc->cap ? oc->cap * 2 : 16;
        char **ids = realloc(oc->id, cap * sizeof *ids);
        if (ids)
            oc->id = ids;
        char **exts = ids ? realloc(oc->ext, cap * sizeof *exts) : NULL;
        if (!exts) {
            cli_error("out of memory");
            return NULL;
        }
        oc->ext = exts;
        oc->cap = cap;
    }
    mn_identity *ident = NULL;
    int rc = mn_identity_get(c->db, a, id, &ident);
    if (rc != MN_OK) {
        cli_fail(c, rc, "memory export: owner %s", id);
        return NULL;
    }
    oc->id[oc->n] = strdup(id);
    oc->ext[oc->n] = strdup(ident->external_id);
    mn_identity_free(ident);
    if (!oc->id[oc->n] || !oc->ext[oc->n]) {
        free(oc->id[oc->n]);
        free(oc->ext[oc->n]);
        cli_error("out of memory");
        return NULL;
    }
    return oc->ext[oc->n++];
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static cJSON *export_line(const mn_memory *m, const char *owner_ext, int64_t now)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", m->id);
    cJSON_AddStringToObject(o, "text", m->text);
    cJSON_AddStringToObject(o, "type", m->type);
    cJSON_AddItemToObject(o, "metadata", cli_json_raw(m->metadata));
    if (owner_ext)
        cJSON_AddStringToObject(o, "identity", owner_ext);
    if (m->external_key)
        cJSON_AddStringToObject(o, "external_key", m->external_key);
    if (m->session)
        cJSON_AddStringToObject(o, "session", m->session);
    cJSON_AddItemToObject(o, "importance", cli_json_number(m->importance, 6));
    if (m->expires_at) {
        /* Time left, rounded up: an import keeps the memory at least as long. */
        int64_t day = 86400000, left = m->expires_at - now;
        cJSON_AddItemToObject(o, "ttl_days", cli_json_int(left > 0 ? (left + day - 1) / day : 1));
        cJSON_AddItemToObject(o, "expires_at", cli_json_int(m->expires_at));
    }
    cJSON_AddItemToObject(o, "version", cli_json_int(m->version));
    cJSON_AddItemToObject(o, "created_at", cli_json_int(m->created_at));
    cJSON_AddItemToObject(o, "updated_at", cli_json_int(m->updated_at));
    return o;
}

/* Writes every page to out; returns an exit code. */
static int export_all(cli_ctx *c, const mn_actor *a, mn_list_options *lo, FILE *out, size_t *n)
{
    owner_cache oc = {0};
    mn_memories *page = NULL;
    int64_t now = now_ms();
    int rc = CLI_EXIT_OK;
    lo->limit = 1000;
    for (;;) {
        mn_memories *prev = page; /* lo->cursor points into it */
        page = NULL;
        int mrc = mn_memory_list(c->db, a, lo, &page);
        mn_memories_free(prev);
        if (mrc != MN_OK) {
            rc = cli_fail(c, mrc, "memory export");
            break;
        }
        for (size_t i = 0; i < page->count && rc == CLI_EXIT_OK; i++) {
            const mn_memory *m = page->items[i];
            const char *ext = m->identity_id ? owner(c, a, &oc, m->identity_id) : NULL;
            if (m->identity_id && !ext) {
                rc = CLI_EXIT_ERROR;
                break;
            }
            cJSON *j = export_line(m, ext, now);
            char *line = j ? cJSON_PrintUnformatted(j) : NULL;
            cJSON_Delete(j);
            if (!line) {
                rc = cli_error("out of memory");
                break;
            }
            fprintf(out, "%s\n", line);
            cJSON_free(line);
            (*n)++;
        }
        if (rc != CLI_EXIT_OK || !page->next_cursor)
            break;
        lo->cursor = page->next_cursor;
    }
    mn_memories_free(page);
    owners_free(&oc);
    return rc;
}

static int memory_export(cli_ctx *c, int argc, char **argv, cli_filter *cf)
{
    mn_list_options lo = MN_LIST_OPTIONS_INIT;
    lo.filter = &cf->f;
    const cli_opt opts[] = {CLI_FILTER_OPTS(*cf), {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 0, 1);
    if (rc == CLI_CONTINUE)
        rc = cli_filter_finish(c, cf);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE ||
        (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;

    const char *path = c->nargs && strcmp(c->args[0], "-") != 0 ? c->args[0] : NULL;
    char *tmp = NULL;
    FILE *out = stdout;
    if (path) {
        /* Written beside the target and renamed at the end: a failed export never leaves a
         * truncated file where a good one was. */
        size_t len = strlen(path) + 32;
        if (!(tmp = malloc(len)))
            return cli_error("out of memory");
        snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
        if (!(out = fopen(tmp, "w"))) {
            rc = cli_error("%s: %s", tmp, strerror(errno));
            free(tmp);
            return rc;
        }
    }

    size_t n = 0;
    rc = export_all(c, &a, &lo, out, &n);
    if (path) {
        errno = 0;
        int werr = ferror(out), cerr = fclose(out);
        if (rc == CLI_EXIT_OK && (werr || cerr != 0 || rename(tmp, path) != 0))
            rc = cli_error("%s: %s", path, strerror(errno ? errno : EIO));
        if (rc != CLI_EXIT_OK)
            remove(tmp);
        free(tmp);
        if (rc == CLI_EXIT_OK) {
            if (c->json) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "exported", (double)n);
                cJSON_AddStringToObject(o, "file", path);
                return cli_json_emit(o);
            }
            cli_line(stdout, "exported %zu %s to %s", n, n == 1 ? "memory" : "memories", path);
        }
    }
    return rc;
}

int cli_memory_export(cli_ctx *c, int argc, char **argv)
{
    return cli_with_filter(c, argc, argv, memory_export);
}
