/*
 * cmd_feed.c — manushya feed: the change feed (mn_feed_read) as JSON Lines, one change a line,
 * a page at a time or, with --follow, on and on as changes come.
 */
#include "cli.h"

#include <stdlib.h>
#include <time.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One read: its entries printed; q->after_seq moves on to the page's next_seq. */
static int read_page(cli_ctx *c, const mn_actor *a, mn_feed_query *q, int *more)
{
    mn_feed_page *p = NULL;
    int rc = mn_feed_read(c->db, a, q, &p);
    if (rc != MN_OK)
        return cli_fail(c, rc, "feed");
    for (size_t i = 0; rc == MN_OK && i < p->count; i++)
        rc = cli_json_emit(cli_json_feed_entry(p->items[i]));
    q->after_seq = p->next_seq;
    *more = p->more;
    mn_feed_page_free(p);
    fflush(stdout);
    return rc == MN_OK ? CLI_EXIT_OK : rc;
}

static int run_feed(cli_ctx *c, int argc, char **argv)
{
    mn_feed_query q = MN_FEED_QUERY_INIT;
    const char *after = NULL;
    int follow = 0, all_readable = 0, interval = 1000;
    const cli_opt opts[] = {{"after", CLI_OPT_STR, &after, NULL},
                            {"limit", CLI_OPT_INT, &q.limit, NULL},
                            {"follow", CLI_OPT_FLAG, &follow, NULL},
                            {"interval", CLI_OPT_INT, &interval, NULL},
                            {"all-readable", CLI_OPT_FLAG, &all_readable, NULL},
                            {0}};
    mn_actor a;
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    char *end = NULL;
    if (after && ((q.after_seq = strtoll(after, &end, 10)) < 0 || *end || end == after))
        return cli_usage_error(c, "--after %s: give a seq (a number >= 0) that feed printed",
                               after);
    if (interval < 1 || interval > 3600000)
        return cli_usage_error(c, "--interval %d: give milliseconds, 1..3600000", interval);
    if (all_readable)
        q.flags |= MN_ALL_READABLE;
    if ((rc = cli_actor(c, &a)) != CLI_CONTINUE || (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    int more = 0;
    rc = read_page(c, &a, &q, &more);
    while (rc == CLI_EXIT_OK && follow) {
        if (!more)
            sleep_ms(interval);
        rc = read_page(c, &a, &q, &more);
    }
    if (rc != CLI_EXIT_OK)
        return rc;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "next_seq", cli_json_int(q.after_seq));
    cJSON_AddBoolToObject(o, "more", more);
    return cli_json_emit(o);
}

static const cli_cmd cmds[] = {
    {NULL, run_feed, "feed [--after SEQ] [--limit N] [--all-readable] [--follow] [--interval MS]",
     "Prints the changes to memories after SEQ, one JSON object a line, in seq order: {\"seq\",\n"
     "\"kind\" (created, updated, deleted, restored, purged), \"id\", \"version\",\n"
     "\"identity_id\", \"type\", \"session\", \"expires_at\"}, then {\"next_seq\": N, \"more\": B}:\n"
     "read on with --after N (at once while more is true). A state feed, not an event log: a\n"
     "memory changed twice appears once, with its latest state (every event is in audit\n"
     "list). As an identity (--as): the changes to its own memories that it may read.\n"
     "A SEQ whose purges maintenance has pruned since is refused (exit 1): resync from 0.\n"
     "  --after SEQ       changes after this seq (default 0: from the start)\n"
     "  --limit N         changes per page (default 100, at most 1000)\n"
     "  --all-readable    as an identity: every memory it may read, not only its own\n"
     "  --follow          read page after page, then wait for new changes and print them as\n"
     "                    they come, until interrupted (no next_seq line)\n"
     "  --interval MS     with --follow: how long to wait between reads once caught up\n"
     "                    (default 1000)"},
};
const cli_group cli_group_feed = {"feed", "the changes to memories after a seq, as JSON Lines "
                                  "(needs --tenant)", cmds, 1};
