/*
 * cmd_import.c — memory import: JSON Lines in (cmd_export.c writes the same format).
 *
 * A line is one memory: {"text": ..., "type": ..., "metadata": {...}, "identity": ...,
 * "importance": ..., "ttl_days": ...}. Export adds "id", "created_at", "updated_at", "version"
 * and "expires_at" for the reader's benefit; import ignores those, so an export imports back.
 * Import adds each batch with mn_memory_add_many (all or none), so a bad line leaves the
 * batches before it committed and nothing of its own batch.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct batch {
    size_t n, cap;
    mn_memory_input *in;
    cJSON **docs;    /* the parsed lines: in[i]'s strings point into them */
    char **meta;     /* metadata re-serialised for in[i].metadata */
    long *line;      /* source line of in[i], for error messages */
} batch;

static void batch_clear(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        cJSON_Delete(b->docs[i]);
        cJSON_free(b->meta[i]);
    }
    b->n = 0;
}

static int batch_init(batch *b, size_t cap)
{
    b->n = 0;
    b->cap = cap;
    b->in = calloc(cap, sizeof *b->in);
    b->docs = calloc(cap, sizeof *b->docs);
    b->meta = calloc(cap, sizeof *b->meta);
    b->line = calloc(cap, sizeof *b->line);
    return b->in && b->docs && b->meta && b->line ? 0 : -1;
}

static void batch_free(batch *b)
{
    batch_clear(b);
    free(b->in);
    free(b->docs);
    free(b->meta);
    free(b->line);
}

static int is_blank(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return *s == '\0';
}

/* Turns one parsed line into in / meta. Returns NULL or the reason the line is bad (written
 * into why). */
static const char *parse_line(const cJSON *doc, mn_memory_input *in, char **meta, char *why,
                              size_t size)
{
    static const char *const ignored[] = {"id", "created_at", "updated_at", "version",
                                          "expires_at"};
    if (!cJSON_IsObject(doc))
        return "not a JSON object";
    *in = (mn_memory_input)MN_MEMORY_INPUT_INIT;
    *meta = NULL;
    const cJSON *f;
    cJSON_ArrayForEach(f, doc) {
        const char *k = f->string;
        int skip = cJSON_IsNull(f) && strcmp(k, "text") != 0; /* null = absent = default */
        for (size_t i = 0; i < sizeof ignored / sizeof ignored[0] && !skip; i++)
            skip = strcmp(k, ignored[i]) == 0;
        if (skip)
            continue;
        const char **str = strcmp(k, "text") == 0       ? &in->text
                           : strcmp(k, "type") == 0     ? &in->type
                           : strcmp(k, "identity") == 0 ? &in->identity
                                                        : NULL;
        if (str) {
            if (!cJSON_IsString(f)) {
                snprintf(why, size, "\"%s\" must be a string", k);
                return why;
            }
            *str = f->valuestring;
        } else if (strcmp(k, "metadata") == 0) {
            if (!cJSON_IsObject(f))
                return "\"metadata\" must be a JSON object";
            if (!(*meta = cJSON_PrintUnformatted(f)))
                return "out of memory";
            in->metadata = *meta;
        } else if (strcmp(k, "importance") == 0) {
            if (!cJSON_IsNumber(f))
                return "\"importance\" must be a number";
            in->importance = f->valuedouble;
        } else if (strcmp(k, "ttl_days") == 0) {
            double d = cJSON_IsNumber(f) ? f->valuedouble : NAN;
            if (!(d == floor(d) && fabs(d) < 1e9))
                return "\"ttl_days\" must be an integer";
            in->ttl_days = (int)d;
        } else {
            snprintf(why, size, "unknown key \"%s\" (known: text, type, metadata, identity, "
                                "importance, ttl_days)", k);
            return why;
        }
    }
    if (!in->text)
        return "missing \"text\"";
    return NULL;
}

typedef struct progress {
    int on;          /* stderr is a terminal */
    off_t total;     /* bytes in the file, 0 when unknown (a pipe) */
    double start, last;
} progress;

static void progress_show(progress *p, FILE *in, size_t done, int final)
{
    if (!p->on)
        return;
    double now = cli_now();
    if (!final && now - p->last < 0.1)
        return;
    p->last = now;
    if (final) {
        fprintf(stderr, "\r%*s\r", 72, "");
        return;
    }
    double rate = now > p->start ? (double)done / (now - p->start) : 0;
    fprintf(stderr, "\rimporting: %zu memories, %.0f/s", done, rate);
    long pos = ftell(in);
    if (p->total > 0 && pos >= 0) {
        int pct = (int)(100.0 * (double)pos / (double)p->total), width = 30;
        int fill = pct * width / 100;
        fprintf(stderr, " [%.*s%*s] %3d%%", fill, "##############################", width - fill,
                "", pct);
    }
    fflush(stderr);
}

typedef struct import_state {
    const char *name;    /* file name for messages ("stdin" for -) */
    size_t committed;    /* memories */
    size_t batches;      /* batches committed */
    long last_line;      /* last line of the last committed batch */
} import_state;

/* Called when the import stops at a bad line: says what is in the database now. */
static void report_stop(const import_state *st, const batch *b, long bad_line)
{
    /* The failing batch: from its first line to the bad one, or to its last when the library
     * refused a line in the middle of it. */
    long first = b->n ? b->line[0] : bad_line, last = bad_line;
    if (b->n && b->line[b->n - 1] > last)
        last = b->line[b->n - 1];
    if (st->committed)
        fprintf(stderr, "manushya: %s: %zu %s in %zu %s (lines 1-%ld) committed before line %ld",
                st->name, st->committed, st->committed == 1 ? "memory" : "memories",
                st->batches, st->batches == 1 ? "batch" : "batches", st->last_line, bad_line);
    else
        fprintf(stderr, "manushya: %s: nothing committed before line %ld", st->name, bad_line);
    if (first == last)
        fprintf(stderr, "; the failing batch (line %ld) was rolled back\n", first);
    else
        fprintf(stderr, "; the failing batch (lines %ld-%ld) was rolled back\n", first, last);
}

static int commit(cli_ctx *c, const mn_actor *a, import_state *st, batch *b)
{
    if (!b->n)
        return CLI_EXIT_OK;
    size_t bad = (size_t)-1;
    int rc = mn_memory_add_many(c->db, a, b->in, b->n, NULL, &bad);
    if (rc != MN_OK) {
        long line = bad < b->n ? b->line[bad] : b->line[b->n - 1];
        int code = bad < b->n ? cli_fail(c, rc, "%s:%ld", st->name, line)
                              : cli_fail(c, rc, "%s:%ld-%ld", st->name, b->line[0], line);
        report_stop(st, b, line);
        return code;
    }
    st->committed += b->n;
    st->batches++;
    st->last_line = b->line[b->n - 1];
    batch_clear(b);
    return CLI_EXIT_OK;
}

static int import_stream(cli_ctx *c, const mn_actor *a, FILE *in, import_state *st, batch *b,
                         progress *p)
{
    char *buf = NULL, why[256];
    size_t cap = 0;
    long lineno = 0;
    int rc = CLI_EXIT_OK;
    ssize_t len;

    while (rc == CLI_EXIT_OK && (len = getline(&buf, &cap, in)) >= 0) {
        lineno++;
        if (is_blank(buf))
            continue;
        const char *end = NULL;
        cJSON *doc = cJSON_ParseWithLengthOpts(buf, (size_t)len, &end, 0);
        const char *err = NULL;
        if (!doc)
            err = "not valid JSON";
        else if (!is_blank(end))
            err = "more than one JSON value on the line";
        else
            err = parse_line(doc, &b->in[b->n], &b->meta[b->n], why, sizeof why);
        if (err) {
            cJSON_Delete(doc);
            cJSON_free(b->meta[b->n]);
            b->meta[b->n] = NULL;
            progress_show(p, in, st->committed, 1);
            cli_error("%s:%ld: %s", st->name, lineno, err);
            report_stop(st, b, lineno);
            rc = CLI_EXIT_ERROR;
            break;
        }
        b->docs[b->n] = doc;
        b->line[b->n++] = lineno;
        if (b->n == b->cap) {
            rc = commit(c, a, st, b);
            progress_show(p, in, st->committed, 0);
        }
    }
    if (rc == CLI_EXIT_OK && ferror(in))
        rc = cli_error("%s: read error: %s", st->name, strerror(errno));
    if (rc == CLI_EXIT_OK)
        rc = commit(c, a, st, b);
    progress_show(p, in, st->committed, 1);
    free(buf);
    return rc;
}

int cli_memory_import(cli_ctx *c, int argc, char **argv)
{
    int size = 1000;
    const cli_opt opts[] = {{"batch", CLI_OPT_INT, &size, NULL}, {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE)
        return rc;
    if (size < 1)
        return cli_usage_error(c, "--batch must be at least 1");

    const char *path = c->args[0];
    int is_stdin = strcmp(path, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen(path, "r");
    if (!in)
        return cli_error("%s: %s", path, strerror(errno));
    if ((rc = cli_open(c)) != CLI_EXIT_OK) {
        if (!is_stdin)
            fclose(in);
        return rc;
    }

    struct stat sb;
    progress p = {isatty(STDERR_FILENO), 0, cli_now(), 0};
    if (fstat(fileno(in), &sb) == 0 && S_ISREG(sb.st_mode))
        p.total = sb.st_size;
    import_state st = {is_stdin ? "stdin" : path, 0, 0, 0};
    batch b;
    if (batch_init(&b, (size_t)size) != 0)
        rc = cli_error("out of memory for a batch of %d", size);
    else
        rc = import_stream(c, &a, in, &st, &b, &p);
    batch_free(&b);
    if (!is_stdin)
        fclose(in);
    if (rc != CLI_EXIT_OK)
        return rc;

    double secs = cli_now() - p.start, rate = secs > 0 ? (double)st.committed / secs : 0;
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "imported", (double)st.committed);
        cJSON_AddNumberToObject(o, "batches", (double)st.batches);
        cJSON_AddItemToObject(o, "seconds", cli_json_number(secs, 4));
        cJSON_AddItemToObject(o, "per_second", cli_json_number(rate, 6));
        return cli_json_emit(o);
    }
    printf("imported %zu %s in %.3f s (%.0f/s)\n", st.committed,
           st.committed == 1 ? "memory" : "memories", secs, rate);
    return CLI_EXIT_OK;
}
