/*
 * cmd_audit.c — manushya audit verify|list|export|retention|prune: the tenant's audit log, for
 * the actor
 * (--tenant, --as, or --api-key). list and export share their filters; both page through the
 * log by seq, so that an export of any length holds one page in memory at a time.
 */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS 86400000LL
#define PAGE 1000 /* mn_audit_list's most entries per call */

/* Parses a command's options, opens the database and fills the actor. */
static int begin(cli_ctx *c, int argc, char **argv, const cli_opt *opts, mn_actor *a)
{
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    return cli_actor(c, a);
}

/* The filters list and export share, and how many entries to show (0: all). */
struct query {
    const char *identity, *action, *resource, *outcome, *since, *until;
    int after, limit;
};

#define QUERY_OPTS(q)                                                                            \
    {"identity", CLI_OPT_STR, &(q).identity, NULL},                                             \
    {"action", CLI_OPT_STR, &(q).action, NULL},                                                  \
    {"resource", CLI_OPT_STR, &(q).resource, NULL},                                              \
    {"outcome", CLI_OPT_STR, &(q).outcome, NULL},                                                \
    {"since", CLI_OPT_STR, &(q).since, NULL},                                                    \
    {"until", CLI_OPT_STR, &(q).until, NULL},                                                    \
    {"after", CLI_OPT_INT, &(q).after, NULL},                                                    \
    {"limit", CLI_OPT_INT, &(q).limit, NULL}

/* q as the library's filter; a usage error (2) for a bad time or number, else CLI_CONTINUE. */
static int make_filter(const cli_ctx *c, const struct query *q, mn_audit_filter *f)
{
    mn_audit_filter_init(f, MN_AUDIT_FILTER_VERSION);
    f->identity = q->identity;
    f->action = q->action;
    f->resource = q->resource;
    f->outcome = q->outcome;
    if (q->since && !(f->since = cli_parse_time(q->since)))
        return cli_usage_error(c, "--since: expected ms since the epoch or a UTC date "
                               "(2024-11-29 or 2024-11-29T07:53:01), got '%s'", q->since);
    if (q->until && !(f->until = cli_parse_time(q->until)))
        return cli_usage_error(c, "--until: expected ms since the epoch or a UTC date "
                               "(2024-11-29 or 2024-11-29T07:53:01), got '%s'", q->until);
    if (q->after < 0 || q->limit < 0)
        return cli_usage_error(c, "--after and --limit take a number from 0");
    f->after_seq = q->after;
    return CLI_CONTINUE;
}

/* Calls fn on each entry f selects, up to limit (0: all), a page at a time. */
static int each_entry(cli_ctx *c, const mn_actor *a, mn_audit_filter *f, int limit,
                      void (*fn)(const mn_audit_entry *e, void *ctx), void *ctx)
{
    long left = limit ? limit : LONG_MAX;
    for (;;) {
        f->limit = left < PAGE ? (int)left : PAGE;
        mn_audit_entries *l = NULL;
        int rc = mn_audit_list(c->db, a, f, &l);
        if (rc != MN_OK)
            return cli_fail(c, rc, "audit %s", c->cmd->name);
        for (size_t i = 0; i < l->count; i++)
            fn(l->items[i], ctx);
        int last = l->count < (size_t)f->limit;
        left -= (long)l->count;
        if (l->count)
            f->after_seq = l->items[l->count - 1]->seq;
        mn_audit_entries_free(l);
        if (last || left == 0)
            return CLI_EXIT_OK;
    }
}

static void print_entry(const mn_audit_entry *e, void *ctx)
{
    (void)ctx;
    char at[24];
    printf("%6lld  %s  ", (long long)e->seq, cli_fmt_time(e->at, at, sizeof at));
    cli_print_cell(stdout, e->identity_id ? e->identity_id : "system", 37);
    cli_print_cell(stdout, e->action, 18);
    cli_print_cell(stdout, e->outcome, 7);
    cli_print_text(stdout, e->resources, 200);
    printf("\n");
}

static void add_entry(const mn_audit_entry *e, void *arr)
{
    cJSON_AddItemToArray(arr, cli_json_audit_entry(e));
}

static void emit_entry(const mn_audit_entry *e, void *ctx)
{
    int *rc = ctx;
    if (cli_json_emit(cli_json_audit_entry(e)) != CLI_EXIT_OK)
        *rc = CLI_EXIT_ERROR;
}

static int run_list(cli_ctx *c, int argc, char **argv)
{
    struct query q = {.limit = 100};
    const cli_opt opts[] = {QUERY_OPTS(q), {NULL, CLI_OPT_FLAG, NULL, NULL}};
    mn_actor a;
    mn_audit_filter f;
    int rc = begin(c, argc, argv, opts, &a);
    if (rc != CLI_CONTINUE || (rc = make_filter(c, &q, &f)) != CLI_CONTINUE)
        return rc;
    if (!c->json)
        return each_entry(c, &a, &f, q.limit, print_entry, NULL);
    cJSON *arr = cJSON_CreateArray();
    rc = each_entry(c, &a, &f, q.limit, add_entry, arr);
    if (rc != CLI_EXIT_OK) {
        cJSON_Delete(arr);
        return rc;
    }
    return cli_json_emit(arr);
}

static int run_export(cli_ctx *c, int argc, char **argv)
{
    struct query q = {0};
    const cli_opt opts[] = {QUERY_OPTS(q), {NULL, CLI_OPT_FLAG, NULL, NULL}};
    mn_actor a;
    mn_audit_filter f;
    int rc = begin(c, argc, argv, opts, &a);
    if (rc != CLI_CONTINUE || (rc = make_filter(c, &q, &f)) != CLI_CONTINUE)
        return rc;
    int out = CLI_EXIT_OK;
    rc = each_entry(c, &a, &f, q.limit, emit_entry, &out);
    return rc != CLI_EXIT_OK ? rc : out;
}

static int run_verify(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = begin(c, argc, argv, NULL, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    int64_t checked = 0;
    if ((rc = mn_audit_verify(c->db, &a, &checked)) != MN_OK)
        return cli_fail(c, rc, "audit verify (%lld entries intact before it)",
                        (long long)checked);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "verified", cli_json_int(checked));
        return cli_json_emit(o);
    }
    cli_line(stdout, "%lld entries verified", (long long)checked);
    return CLI_EXIT_OK;
}

static int run_retention(cli_ctx *c, int argc, char **argv)
{
    int days = 0, given = 0;
    const cli_opt opts[] = {{"days", CLI_OPT_INT, &days, &given},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    mn_actor a;
    int rc = begin(c, argc, argv, opts, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    if (given && days < 0)
        return cli_usage_error(c, "--days takes a number from 0 (0: no minimum)");
    if (given && (rc = mn_audit_retention_set(c->db, &a, days * DAY_MS)) != MN_OK)
        return cli_fail(c, rc, "audit retention --days %d", days);
    int64_t keep = 0;
    if ((rc = mn_audit_retention_get(c->db, &a, &keep)) != MN_OK)
        return cli_fail(c, rc, "audit retention");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "retention_ms", cli_json_int(keep));
        return cli_json_emit(o);
    }
    if (!keep)
        cli_line(stdout, "no retention set: audit prune needs --older-than-days");
    else if (keep % DAY_MS == 0)
        cli_line(stdout, "entries are kept %lld days", (long long)(keep / DAY_MS));
    else
        cli_line(stdout, "entries are kept %lld ms", (long long)keep);
    return CLI_EXIT_OK;
}

static int run_prune(cli_ctx *c, int argc, char **argv)
{
    int days = 0, given = 0;
    const cli_opt opts[] = {{"older-than-days", CLI_OPT_INT, &days, &given},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    mn_actor a;
    int rc = begin(c, argc, argv, opts, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    if (given && days < 0)
        return cli_usage_error(c, "--older-than-days takes a number from 0: the entries made "
                               "more than N days ago go");
    int64_t age = days * DAY_MS, removed = 0;
    /* Without the option, the age is the tenant's retention. */
    if (!given && (rc = mn_audit_retention_get(c->db, &a, &age)) != MN_OK)
        return cli_fail(c, rc, "audit prune");
    if (!given && !age)
        return cli_usage_error(c, "the tenant has no retention set: give --older-than-days N, "
                               "or set one with audit retention --days N");
    if ((rc = mn_audit_prune(c->db, &a, age, &removed)) != MN_OK)
        return cli_fail(c, rc, "audit prune");
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "removed", cli_json_int(removed));
        return cli_json_emit(o);
    }
    cli_line(stdout, "removed %lld entries", (long long)removed);
    return CLI_EXIT_OK;
}

/* The filters of list and export, one paragraph. */
#define FILTERS_HELP                                                                          \
    "--identity ID: calls made by that identity (id or external id). --action A: that\n"      \
    "action (memory:create), or every one it begins (memory:). --resource ID: entries\n"      \
    "naming that id. --outcome ok|denied. --since T, --until T: made at or after T, before\n" \
    "T (ms since the epoch, or a UTC date 2024-11-29 or 2024-11-29T07:53:01). --after SEQ:\n" \
    "entries past SEQ, to page.\n"

static const cli_cmd cmds[] = {
    {"verify", run_verify, "audit verify",
     "Walks the tenant's hash chain from its first entry (or the checkpoint a prune left) and\n"
     "prints \"N entries verified\". Exit 1, naming the first entry edited, deleted or moved\n"
     "(\"entry 7 ...\"), when the chain is not intact. --json prints {\"verified\": N}. Needs\n"
     "\"read\" on \"audit\" (the system actor, an admin)."},
    {"list", run_list,
     "audit list [--identity ID] [--action A] [--resource ID] [--outcome O] [--since T] "
     "[--until T] [--after SEQ] [--limit N]",
     "The tenant's audit entries, oldest first: seq, time, identity (\"system\" for the\n"
     "tenant's own actor), action, outcome, the ids acted on. At most --limit entries\n"
     "(default 100; 0: all).\n" FILTERS_HELP
     "--json prints an array of objects. Needs \"read\" on \"audit\"."},
    {"export", run_export,
     "audit export [--identity ID] [--action A] [--resource ID] [--outcome O] [--since T] "
     "[--until T] [--after SEQ] [--limit N]",
     "Every entry the filters select (all by default; --limit N: the first N) as JSON lines\n"
     "on stdout, oldest first, each with its seq, at, identity_id, apikey_id, action,\n"
     "resources, outcome, policy_id, context, prev_hash and hash.\n" FILTERS_HELP
     "Needs \"read\" on \"audit\"."},
    {"retention", run_retention, "audit retention [--days N]",
     "Shows the tenant's retention, or sets it with --days: its entries are kept N days at\n"
     "least: audit prune refuses a shorter age and, given none, prunes what is older (0: no\n"
     "minimum). --json prints {\"retention_ms\": N}. Setting it is an entry\n"
     "itself and needs \"update\" on \"audit\"; showing it needs \"read\"."},
    {"prune", run_prune, "audit prune [--older-than-days N]",
     "Removes the entries made more than N days ago (0: every entry before now; without the\n"
     "option, the tenant's retention) and keeps the last one removed as the chain's\n"
     "checkpoint, so that audit verify still checks the rest. Refuses (exit 1) when the\n"
     "chain does not verify or N is below the retention. The prune is an entry itself.\n"
     "Prints \"removed N entries\"; --json {\"removed\": N}. Needs \"delete\" on \"audit\"."},
};
const cli_group cli_group_audit = {"audit", "the audit log: verify, list, export, retention, prune",
                                   cmds, sizeof cmds / sizeof cmds[0]};
