/*
 * cmd_memory.c — the memory group's table and its write commands: add, update, delete,
 * restore, purge. The read commands live in cmd_query.c, import/export in cmd_import.c.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>


/* --ttl-ms N and --expires-at T into in. */
static int expiry_opts(cli_ctx *c, const char *ttl_ms, const char *expires_at,
                       mn_memory_input *in)
{
    char *end = NULL;
    if (ttl_ms && ((in->ttl_ms = strtoll(ttl_ms, &end, 10)) <= 0 || *end))
        return cli_usage_error(c, "--ttl-ms %s: give a number of milliseconds >= 1", ttl_ms);
    if (expires_at && !(in->expires_at = cli_parse_time(expires_at)))
        return cli_usage_error(c, "--expires-at %s: give ms since the epoch or a UTC time such "
                               "as 2026-12-07T09:30:00Z", expires_at);
    return CLI_CONTINUE;
}

static int run_add(cli_ctx *c, int argc, char **argv)
{
    mn_memory_input in = MN_MEMORY_INPUT_INIT;
    const char *ttl_ms = NULL, *expires_at = NULL;
    const cli_opt opts[] = {{"type", CLI_OPT_STR, &in.type, NULL},
                            {"session", CLI_OPT_STR, &in.session, NULL},
                            {"ttl-ms", CLI_OPT_STR, &ttl_ms, NULL},
                            {"expires-at", CLI_OPT_STR, &expires_at, NULL},
                            {"meta", CLI_OPT_STR, &in.metadata, NULL},
                            {"importance", CLI_OPT_NUM, &in.importance, NULL},
                            {"ttl-days", CLI_OPT_INT, &in.ttl_days, NULL},
                            {"identity", CLI_OPT_STR, &in.identity, NULL},
                            {"key", CLI_OPT_STR, &in.external_key, NULL},
                            {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc == CLI_CONTINUE)
        rc = expiry_opts(c, ttl_ms, expires_at, &in);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE)
        return rc;
    char *text = NULL;
    if (strcmp(c->args[0], "-") == 0 && !(text = cli_read_stdin("memory add: the text")))
        return CLI_EXIT_ERROR;
    in.text = text ? text : c->args[0];

    mn_memory *m = NULL;
    if ((rc = cli_open(c)) == CLI_EXIT_OK) {
        int outcome;
        rc = mn_memory_put(c->db, &a, &in, &outcome, &m);
        static const char *const became[] = {"created", "updated", "unchanged"};
        if (rc != MN_OK) {
            rc = cli_fail(c, rc, "memory add");
        } else if (c->json) {
            cJSON *o = cli_json_memory(m);
            cJSON_AddStringToObject(o, "outcome", became[outcome]);
            rc = cli_json_emit(o);
        } else if (outcome == MN_PUT_CREATED) {
            printf("%s\n", m->id);
        } else {
            printf("%s (%s: %s)\n", m->id, became[outcome],
                   in.external_key ? "its key's memory" : "a memory with this text");
        }
    }
    mn_memory_free(m);
    free(text);
    return rc;
}

static int run_update(cli_ctx *c, int argc, char **argv)
{
    mn_memory_changes in = MN_MEMORY_CHANGES_INIT;
    int text = 0, type = 0, meta = 0, importance = 0;
    const cli_opt opts[] = {{"text", CLI_OPT_STR, &in.text, &text},
                            {"type", CLI_OPT_STR, &in.type, &type},
                            {"meta", CLI_OPT_STR, &in.metadata, &meta},
                            {"importance", CLI_OPT_NUM, &in.importance, &importance},
                            {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE)
        return rc;
    in.set = (text ? MN_MEMORY_SET_TEXT : 0) | (type ? MN_MEMORY_SET_TYPE : 0) |
             (meta ? MN_MEMORY_SET_METADATA : 0) | (importance ? MN_MEMORY_SET_IMPORTANCE : 0);
    if (!in.set)
        return cli_usage_error(c, "nothing to change: give --text, --type, --meta or --importance");
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    mn_memory *m = NULL;
    rc = mn_memory_update(c->db, &a, c->args[0], &in, &m);
    if (rc != MN_OK)
        return cli_fail(c, rc, "memory update %s", c->args[0]);
    if (c->json)
        rc = cli_json_emit(cli_json_memory(m));
    else
        printf("updated %s (version %lld)\n", m->id, (long long)m->version);
    mn_memory_free(m);
    return rc;
}

/* What a delete by filter or a trim prints: how many went, and how. */
static int report_deleted(cli_ctx *c, size_t n, int hard)
{
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "deleted", (double)n);
        cJSON_AddBoolToObject(o, "hard", hard);
        return cli_json_emit(o);
    }
    printf("deleted %zu %s%s\n", n, n == 1 ? "memory" : "memories",
           hard ? " (hard: gone for good)" : " (restorable with memory restore)");
    return CLI_EXIT_OK;
}

/* memory delete ID... deletes those ids; memory delete --session S ... --yes what matches. */
static int memory_delete(cli_ctx *c, int argc, char **argv, cli_filter *cf)
{
    int hard = 0, yes = 0, all = 0;
    const cli_opt opts[] = {{"hard", CLI_OPT_FLAG, &hard, NULL},
                            {"yes", CLI_OPT_FLAG, &yes, NULL},
                            {"all-matching", CLI_OPT_FLAG, &all, NULL},
                            CLI_FILTER_OPTS(*cf),
                            {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 0, -1);
    if (rc == CLI_CONTINUE)
        rc = cli_filter_finish(c, cf);
    if (rc != CLI_CONTINUE)
        return rc;
    int by_filter = cli_filter_given(cf) || all;
    if (c->nargs && by_filter)
        return cli_usage_error(c, "give memory ids or filter options, not both");
    if (!c->nargs && !by_filter)
        return cli_usage_error(c, "give the ids of the memories to delete, or filter options "
                               "(--session, --type, ...) with --yes");
    if (by_filter && !yes)
        return cli_usage_error(c, "deleting every memory that matches needs --yes (see what "
                               "matches first with memory count or memory list)");
    if ((rc = cli_actor(c, &a)) != CLI_CONTINUE || (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    int mode = (hard ? MN_DELETE_HARD : MN_DELETE_SOFT) | (all ? MN_DELETE_ALL_MATCHING : 0);
    if (by_filter) {
        size_t n = 0;
        rc = mn_memory_delete_where(c->db, &a, &cf->f, mode, &n);
        return rc != MN_OK ? cli_fail(c, rc, "memory delete") : report_deleted(c, n, hard);
    }
    /* All or none: a typo in the third id must not leave the first two deleted. */
    rc = mn_memory_delete_many(c->db, &a, (const char *const *)c->args, (size_t)c->nargs,
                               hard ? MN_DELETE_HARD : MN_DELETE_SOFT);
    if (rc != MN_OK)
        return cli_fail(c, rc, "memory delete");
    if (c->json) {
        cJSON *o = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(o, "deleted");
        for (int i = 0; i < c->nargs; i++)
            cJSON_AddItemToArray(ids, cJSON_CreateString(c->args[i]));
        cJSON_AddBoolToObject(o, "hard", hard);
        return cli_json_emit(o);
    }
    printf("deleted %d %s%s\n", c->nargs, c->nargs == 1 ? "memory" : "memories",
           hard ? " (hard: gone for good)" : " (restorable with memory restore)");
    return CLI_EXIT_OK;
}

static int memory_count(cli_ctx *c, int argc, char **argv, cli_filter *cf)
{
    int deleted = 0, expired = 0;
    const cli_opt opts[] = {CLI_FILTER_OPTS(*cf),
                            {"with-deleted", CLI_OPT_FLAG, &deleted, NULL},
                            {"with-expired", CLI_OPT_FLAG, &expired, NULL},
                            {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc == CLI_CONTINUE)
        rc = cli_filter_finish(c, cf);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE ||
        (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    cf->f.flags |= (deleted ? MN_WITH_DELETED : 0) | (expired ? MN_WITH_EXPIRED : 0);
    size_t n = 0;
    rc = mn_memory_count(c->db, &a, &cf->f, &n);
    if (rc != MN_OK)
        return cli_fail(c, rc, "memory count");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "count", (double)n);
        return cli_json_emit(o);
    }
    printf("%zu\n", n);
    return CLI_EXIT_OK;
}

static int memory_trim(cli_ctx *c, int argc, char **argv, cli_filter *cf)
{
    int keep = -1, hard = 0;
    const cli_opt opts[] = {{"keep", CLI_OPT_INT, &keep, NULL},
                            {"hard", CLI_OPT_FLAG, &hard, NULL},
                            CLI_FILTER_OPTS(*cf),
                            {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc == CLI_CONTINUE)
        rc = cli_filter_finish(c, cf);
    if (rc == CLI_CONTINUE && keep < 0)
        rc = cli_usage_error(c, "give --keep N, how many of the newest matching memories stay");
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE ||
        (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    size_t n = 0;
    rc = mn_memory_trim(c->db, &a, &cf->f, (size_t)keep, hard ? MN_DELETE_HARD : MN_DELETE_SOFT,
                        &n);
    return rc != MN_OK ? cli_fail(c, rc, "memory trim") : report_deleted(c, n, hard);
}

static int run_delete(cli_ctx *c, int argc, char **argv)
{
    return cli_with_filter(c, argc, argv, memory_delete);
}

static int run_count(cli_ctx *c, int argc, char **argv)
{
    return cli_with_filter(c, argc, argv, memory_count);
}

static int run_trim(cli_ctx *c, int argc, char **argv)
{
    return cli_with_filter(c, argc, argv, memory_trim);
}

static int run_restore(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = cli_parse(c, argc, argv, NULL, 1, 1);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE ||
        (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    rc = mn_memory_restore(c->db, &a, c->args[0]);
    if (rc != MN_OK)
        return cli_fail(c, rc, "memory restore %s", c->args[0]);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c->args[0]);
        cJSON_AddTrueToObject(o, "restored");
        return cli_json_emit(o);
    }
    cli_line(stdout, "restored %s", c->args[0]);
    return CLI_EXIT_OK;
}

static int run_purge(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = cli_parse(c, argc, argv, NULL, 0, 0);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, &a)) != CLI_CONTINUE ||
        (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    size_t n = 0;
    rc = mn_memory_purge_expired(c->db, &a, &n);
    if (rc != MN_OK)
        return cli_fail(c, rc, "memory purge");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "purged", (double)n);
        return cli_json_emit(o);
    }
    printf("purged %zu expired %s\n", n, n == 1 ? "memory" : "memories");
    return CLI_EXIT_OK;
}

#define FILTER_HELP                                                                            \
    "  --identity I    only memories owned by identity I (id or external id); --as an\n"      \
    "                  identity, one that does not exist matches nothing (not exit 3)\n"      \
    "  --type T        only memories of type T\n"                                             \
    "  --session S     only memories of conversation S\n"                                     \
    "                  (--identity, --type, --session: a comma list matches any of them)\n"   \
    "  --meta JSON     only memories whose metadata contains this JSON object; a value\n"     \
    "                  {\"$in\": [a, b]} matches any of a, b\n"                                  \
    "  --created-after T, --created-before T, --updated-after T, --updated-before T\n"       \
    "                  only memories created / last changed at or after T, or before T\n"     \
    "                  (ms since the epoch, or UTC: 2026-12-07 or 2026-12-07T09:30:00Z)\n"    \
    "  --importance-min X, --importance-max X\n"                                              \
    "                  only memories of importance X or more / X or less (0..1)\n"           \
    "  --all-readable  as an identity (--as): every memory it may read, not only the ones\n"  \
    "                  it owns (the default unless --identity names owners)\n"
#define FILTER_USAGE                                                                           \
    "[--identity I] [--type T] [--session S] [--meta JSON] [--created-after T]\n"             \
    "    [--created-before T] [--updated-after T] [--updated-before T] [--importance-min X]\n" \
    "    [--importance-max X] [--all-readable]"

static const cli_cmd cmds[] = {
    {"add", run_add,
     "memory add TEXT [--type T] [--meta JSON] [--importance X] [--ttl-days N] [--identity I]\n"
     "           [--key K] [--session S] [--ttl-ms N] [--expires-at T]",
     "Stores a memory in --tenant, owned by the --as identity, and prints its id (--json: the\n"
     "memory). TEXT \"-\" reads the text from stdin (a NUL byte in it is an error).\n"
     "  --type T          kind of memory (default \"fact\")\n"
     "  --meta JSON       metadata, a JSON object (default {}), kept as written; an integer\n"
     "                    past 2^53, 1e999, \\u0000 or a key given twice is refused\n"
     "  --importance X    0..1 (default 0.5)\n"
     "  --ttl-days N      expires N days from now (default: never)\n"
     "  --ttl-ms N        expires N milliseconds from now\n"
     "  --expires-at T    expires at T (ms since the epoch, or UTC 2026-12-07T09:30:00Z),\n"
     "                    which must be in the future; one of the three at most\n"
     "  --session S       the conversation it belongs to (1..256 bytes): filter on it with\n"
     "                    --session, keep its last N with memory trim\n"
     "  --identity I      owner, when not the --as identity (the system actor must name one)\n"
     "  --key K           the memory's key, unique per owner: adding with a key the owner's\n"
     "                    memory has updates that memory (a new version) instead\n"
     "A text the owner has already (same type; case and white space aside) adds nothing:\n"
     "the id printed is that memory's, followed by what became of it (--dedup; --json:\n"
     "\"outcome\" created, updated or unchanged)."},
    {"get", cli_memory_get, "memory get ID [--with-deleted] [--with-expired]",
     "Shows one memory.\n"
     "  --with-deleted    also find it when soft-deleted\n"
     "  --with-expired    also find it when expired"},
    {"list", cli_memory_list,
     "memory list " FILTER_USAGE "\n    [--limit N] [--cursor C] [--all] "
     "[--with-deleted] [--with-expired]",
     "Lists memories, newest first, one page at a time; prints the cursor of the next page\n"
     "when there is one (--json: \"next_cursor\").\n" FILTER_HELP
     "  --limit N         page size (default 50, at most 1000)\n"
     "  --cursor C        start after the page that returned cursor C\n"
     "  --all             every page, not just the first\n"
     "  --with-deleted    include soft-deleted memories\n"
     "  --with-expired    include expired memories"},
    {"update", run_update, "memory update ID [--text T] [--type T] [--meta JSON] [--importance X]",
     "Changes a memory (only what is given), bumps its version and records the change in its\n"
     "history. Prints the new version (--json: the memory)."},
    {"delete", run_delete,
     "memory delete ID... [--hard]\n"
     "       memory delete " FILTER_USAGE " --yes [--hard] [--all-matching]",
     "Deletes memories: all of them, or none if any id is unknown. With filter options\n"
     "instead of ids, deletes every memory that matches (and the actor may read), all or\n"
     "none: one the actor may not delete deletes nothing (exit 4). Prints how many.\n"
     "  --hard            remove for good, history included (default: soft, restorable)\n"
     "  --yes             needed to delete by filter\n"
     "  --all-matching    allow a filter without condition: delete every memory\n"
     FILTER_HELP},
    {"count", run_count, "memory count " FILTER_USAGE " [--with-deleted] [--with-expired]",
     "Prints how many memories memory list would show with these options, over all pages.\n"
     FILTER_HELP
     "  --with-deleted    include soft-deleted memories\n"
     "  --with-expired    include expired memories"},
    {"trim", run_trim, "memory trim --keep N " FILTER_USAGE " [--hard]",
     "Keeps the newest N memories that match (by creation time) and deletes the rest, all\n"
     "or none, as memory delete does: \"keep the last N of a conversation\" is\n"
     "memory trim --session S --keep N. A filter without condition is refused.\n"
     "  --keep N          how many of the newest stay\n"
     "  --hard            remove for good (default: soft, restorable)\n"
     FILTER_HELP},
    {"restore", run_restore, "memory restore ID", "Restores a soft-deleted memory."},
    {"history", cli_memory_history, "memory history ID",
     "Shows a memory's changes, oldest first: version, time (UTC), who, what changed."},
    {"search", cli_memory_search,
     "memory search QUERY [--mode M] [--explain] [--k N] [--min-similarity X]\n"
     "                    [--recency-half-life T] [--recency-weight W] [--importance-weight W]\n"
     "                    [--cursor C] [--all] " FILTER_USAGE "\n"
     "       memory search --queries-file F [options]",
     "Finds the memories closest to QUERY, best first: rank, similarity, type, text; prints\n"
     "the cursor of the next page when more may follow (--json: \"next_cursor\"; each hit\n"
     "has \"similarity\", \"recency_factor\", \"importance_factor\" and \"score\", the fused\n"
     "relevance times both factors, by which hits are ordered). A QUERY without a word to\n"
     "match (only punctuation, say) finds nothing.\n"
     "  --mode M            vector (by meaning), keyword (by shared words, BM25) or hybrid\n"
     "                      (both, fused by reciprocal rank; the default): a rare word such\n"
     "                      as an order number or a name ranks its memory first\n"
     "  --explain           show each hit's vector rank and similarity, keyword rank and\n"
     "                      score, fused score and score (JSON: an \"explain\" object per hit)\n"
     "  --k N               number of hits per page (default 10, at most 1000)\n"
     "  --min-similarity X  drop hits only the vector ranking found below this cosine\n"
     "                      similarity (default: 0.15 with the local embedder, none with the\n"
     "                      others; -1: no floor)\n"
     "  --recency-half-life T  favour recently changed memories: one changed T ago (500ms,\n"
     "                      30s, 15m, 12h, 7d) counts half as recent as a new one\n"
     "  --recency-weight W  0..1: how much of the score recency may take (default 0.5)\n"
     "  --importance-weight W  0..1: how much of the score importance may take\n"
     "  --cursor C          the page after the one that printed cursor C (same options)\n"
     "  --all               every page, not just the first\n"
     "  --queries-file F    one query a line of F (- for stdin), all searched in one call\n"
     "                      (their texts embedded in one batch) with the other options;\n"
     "                      prints one JSON line per query, in order: {\"query\", \"hits\",\n"
     "                      \"next_cursor\"}\n" FILTER_HELP},
    {"import", cli_memory_import, "memory import FILE.jsonl|- [--batch N]",
     "Adds memories from JSON Lines: one object per line with \"text\" (required) and\n"
     "optionally \"type\", \"metadata\" (object), \"identity\", \"importance\", \"ttl_days\",\n"
     "\"external_key\", \"session\".\n"
     "\"id\", \"created_at\", \"updated_at\", \"version\" and \"expires_at\" (written by export)\n"
     "are ignored; any other key is an error, as are a key given twice and a NUL byte.\n"
     "Blank lines are skipped. Each batch is added all or none; on a bad line import stops,\n"
     "says which, how much was committed, and the first line of the batch that was not\n"
     "(nothing from it on was imported). Metadata goes in as the line wrote it; refused\n"
     "where memory add would refuse it. After more than one batch it merges the keyword\n"
     "index (maintenance task keywords), which each batch added to.\n"
     "  --batch N         lines per batch (default 1000)"},
    {"export", cli_memory_export, "memory export [FILE|-] " FILTER_USAGE,
     "Writes the tenant's live memories, newest first, as JSON Lines that memory import reads\n"
     "back (to stdout by default). \"identity\" is the owner's external id, so the file can be\n"
     "imported into another database that has the same identities; \"ttl_days\" is the time\n"
     "left, rounded up. Imported back into the same tenant, every memory is stored twice.\n"
     FILTER_HELP},
    {"purge", run_purge, "memory purge", "Deletes the tenant's expired memories for good; "
                                          "prints how many."},
};
const cli_group cli_group_memory = {"memory", "store, find and manage memories (needs --tenant)",
                                    cmds, sizeof cmds / sizeof cmds[0]};
