/*
 * cmd_jsonlogic.c — manushya jsonlogic RULE [DATA]: evaluates a JSON Logic rule (the language of
 * policy "when" clauses) with the library's evaluator and prints the result as JSON. Needs no
 * database: for scripts, for trying out a "when" before putting it in a policy, and for
 * checking conformance from the shell.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int run_jsonlogic(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 0, 2);
    if (rc != CLI_CONTINUE)
        return rc;
    if (c->nargs == 0 && isatty(STDIN_FILENO))
        return cli_usage_error(c, "missing RULE (or pipe it to stdin)");
    const char *rule = c->nargs > 0 ? c->args[0] : "-";
    const char *data = c->nargs > 1 ? c->args[1] : NULL;
    int rule_stdin = strcmp(rule, "-") == 0, data_stdin = data && strcmp(data, "-") == 0;
    if (rule_stdin && data_stdin)
        return cli_usage_error(c, "only one of RULE and DATA can be read from stdin");

    char *in = NULL;
    if (rule_stdin || data_stdin) {
        if (!(in = cli_read_stdin(rule_stdin ? "jsonlogic: the rule" : "jsonlogic: the data")))
            return CLI_EXIT_ERROR;
        if (rule_stdin)
            rule = in;
        else
            data = in;
    }

    char *result = NULL;
    int mrc = mn_jsonlogic_apply(rule, data, &result);
    if (mrc != MN_OK) {
        rc = cli_error("jsonlogic: %s", mn_errcode(NULL) == mrc ? mn_errmsg(NULL)
                                                               : mn_strerror(mrc));
    } else {
        cli_print_text(stdout, result, 0);
        rc = putchar('\n') == EOF ? CLI_EXIT_ERROR : CLI_EXIT_OK;
    }
    mn_free(result);
    free(in);
    return rc;
}

static const cli_cmd cmds[] = {
    {NULL, run_jsonlogic, "jsonlogic [RULE|-] [DATA|-]",
     "Evaluates the JSON Logic rule RULE (jsonlogic.com) against DATA (JSON; default null) and\n"
     "prints the result as one line of JSON; output is JSON with or without --json.\n"
     "RULE \"-\" or absent: the rule is read from stdin, the whole of it one JSON value (the\n"
     "rule alone, not wrapped in an object). DATA \"-\": the data is read from stdin instead.\n"
     "A rule starting with \"-\" (a negative number) goes after \"--\".\n"
     "Bad JSON or a bad rule (unknown operator, wrong argument count, too deep) exits 1 with a\n"
     "message giving the JSON path of the bad node. Needs no database.\n"
     "  manushya jsonlogic '{\"+\": [1, 2]}'                   -> 3\n"
     "  manushya jsonlogic '{\"var\": \"a.b\"}' '{\"a\": {\"b\": 7}}'  -> 7\n"
     "  echo '{\"in\": [\"x\", {\"var\": \"s\"}]}' | manushya jsonlogic - '{\"s\": \"xyz\"}'"},
};
const cli_group cli_group_jsonlogic = {"jsonlogic", "evaluate a JSON Logic rule (no database)",
                                       cmds, 1};
