/*
 * cmd_import.c — memory import: JSON Lines in (cmd_export.c writes the same format).
 *
 * A line is one memory (import_line.c reads it).
 * Import adds each batch with mn_memory_put_many (all or none), so a bad line leaves the
 * batches before it committed and nothing of its own batch. A line that repeats a memory (its
 * external_key, or its owner's text: deduplication) updates or finds it instead, so that a
 * file imported twice leaves the store as the first import did. A line is read as the library
 * reads metadata (mn_json_compact): what a reader would not see as written (\u0000 in a text, a
 * key given twice, an integer past 2^53) stops the import at that line, and the metadata
 * goes to the library as the line wrote it.
 */
#include "cli.h"
#include "import_line.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct batch {
    size_t n, cap;
    mn_memory_input *in;
    cJSON **docs;    /* the parsed lines: in[i]'s strings point into them */
    char **meta;     /* the line's metadata, as written, for in[i].metadata */
    long *line;      /* source line of in[i], for error messages */
    int *outcome;    /* what became of in[i] (MN_PUT_*) */
} batch;

static void batch_clear(batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        cJSON_Delete(b->docs[i]);
        mn_free(b->meta[i]);
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
    b->outcome = calloc(cap, sizeof *b->outcome);
    return b->in && b->docs && b->meta && b->line && b->outcome ? 0 : -1;
}

static void batch_free(batch *b)
{
    batch_clear(b);
    free(b->in);
    free(b->docs);
    free(b->meta);
    free(b->line);
    free(b->outcome);
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
    size_t outcomes[3];  /* of the lines committed: MN_PUT_CREATED, _UPDATED, _UNCHANGED */
    size_t batches;      /* batches committed */
    long last_line;      /* last line of the last committed batch */
} import_state;

/* Called when the import stops: says what is in the database now, and where the part that is
 * not begins. The failing batch runs from its first line to the bad one (bad_line; 0 when the
 * library refused the batch as a whole), or to its last line when that comes later. */
static void report_stop(const import_state *st, const batch *b, long bad_line)
{
    long first = b->n ? b->line[0] : bad_line, last = bad_line;
    if (b->n && b->line[b->n - 1] > last)
        last = b->line[b->n - 1];
    char lines[64];
    if (first == last)
        snprintf(lines, sizeof lines, "line %ld", first);
    else
        snprintf(lines, sizeof lines, "lines %ld-%ld", first, last);
    if (st->committed)
        cli_error("%s: %zu %s in %zu %s (lines 1-%ld) committed; the failing batch (%s) was "
                  "rolled back: nothing from line %ld on was imported", st->name, st->committed,
                  st->committed == 1 ? "memory" : "memories", st->batches,
                  st->batches == 1 ? "batch" : "batches", st->last_line, lines, first);
    else
        cli_error("%s: nothing committed; the failing batch (%s) was rolled back", st->name,
                  lines);
}

static int commit(cli_ctx *c, const mn_actor *a, import_state *st, batch *b)
{
    if (!b->n)
        return CLI_EXIT_OK;
    size_t bad = (size_t)-1;
    int rc = mn_memory_put_many(c->db, a, b->in, b->n, NULL, b->outcome, &bad);
    if (rc != MN_OK) {
        long line = bad < b->n ? b->line[bad] : b->line[b->n - 1];
        int code = bad < b->n ? cli_fail(c, rc, "%s:%ld", st->name, line)
                              : cli_fail(c, rc, "%s:%ld-%ld", st->name, b->line[0], line);
        report_stop(st, b, bad < b->n ? line : 0);
        return code;
    }
    st->committed += b->n;
    for (size_t i = 0; i < b->n; i++)
        st->outcomes[b->outcome[i]]++;
    st->batches++;
    st->last_line = b->line[b->n - 1];
    batch_clear(b);
    return CLI_EXIT_OK;
}

static int import_stream(cli_ctx *c, const mn_actor *a, FILE *in, import_state *st, batch *b,
                         progress *p)
{
    char *buf = NULL, why[512];
    size_t cap = 0;
    long lineno = 0;
    int rc = CLI_EXIT_OK;
    ssize_t len;

    while (rc == CLI_EXIT_OK && (len = getline(&buf, &cap, in)) >= 0) {
        lineno++;
        const char *err;
        int got = cli_import_line(buf, (size_t)len, &b->in[b->n], &b->docs[b->n],
                                  &b->meta[b->n], &err, why, sizeof why);
        if (got == 0)
            continue;
        if (got < 0) {
            progress_show(p, in, st->committed, 1);
            cli_error("%s:%ld: %s", st->name, lineno, err);
            report_stop(st, b, lineno);
            rc = CLI_EXIT_ERROR;
            break;
        }
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
    import_state st = {.name = is_stdin ? "stdin" : path};
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
    /* Each batch left a segment in the keyword index, which searches read until the keywords
     * task merges them: merged now (0.3 s for 100,000 memories), so that searches are as fast
     * after an import as before. The import stands whatever becomes of it: the task retries. */
    if (st.batches > 1 && mn_maintenance_run(c->db, MN_MAINT_KEYWORDS | MN_MAINT_FORCE,
                                             NULL) != MN_OK)
        fprintf(stderr, "manushya: merging the keyword index after the import: %s (the "
                "keywords maintenance task does it later)\n", mn_errmsg(c->db));
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "imported", (double)st.committed);
        cJSON_AddNumberToObject(o, "batches", (double)st.batches);
        cJSON_AddNumberToObject(o, "created", (double)st.outcomes[MN_PUT_CREATED]);
        cJSON_AddNumberToObject(o, "updated", (double)st.outcomes[MN_PUT_UPDATED]);
        cJSON_AddNumberToObject(o, "unchanged", (double)st.outcomes[MN_PUT_UNCHANGED]);
        cJSON_AddItemToObject(o, "seconds", cli_json_number(secs, 4));
        cJSON_AddItemToObject(o, "per_second", cli_json_number(rate, 6));
        return cli_json_emit(o);
    }
    printf("imported %zu %s in %.3f s (%.0f/s)\n", st.committed,
           st.committed == 1 ? "memory" : "memories", secs, rate);
    /* Lines that repeated a memory (deduplication, external_key) added none. */
    if (st.outcomes[MN_PUT_UPDATED] || st.outcomes[MN_PUT_UNCHANGED])
        printf("new: %zu, updated: %zu, unchanged: %zu\n", st.outcomes[MN_PUT_CREATED],
               st.outcomes[MN_PUT_UPDATED], st.outcomes[MN_PUT_UNCHANGED]);
    return CLI_EXIT_OK;
}
