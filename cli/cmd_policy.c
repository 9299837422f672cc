/*
 * cmd_policy.c — manushya policy add|list|get|update|delete|test, within --tenant.
 *
 * Policies are managed like everything else: as the actor --tenant / --as names (the system
 * actor without --as), so an identity needs a policy allowing it to manage policies. `policy
 * test` asks for a decision without performing anything; it exits 0 whether the answer is allow
 * or deny, since the question was answered.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* ---- Reading rules for people ------------------------------------------------------------- */

/* Appends s to buf (of size len, holding a string), cutting when full. */
static void append(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    if (n + 1 < len)
        snprintf(buf + n, len - n, "%s", s);
}

/* A short name for a condition key: what the list column shows. */
static const char *cond_name(const char *key)
{
    static const char *const names[][2] = {
        {"time_restrictions", "time"}, {"ip_restrictions", "ip"},
        {"memory_types", "types"},     {"metadata_requirements", "metadata"},
        {"identity_claims", "claims"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i][0]) == 0)
            return names[i][1];
    return key;
}

/* "allow read,list memory [ip,types,when]": effect, actions, resource and the names of the
 * conditions, from the rule's JSON; the rule itself when it is not the expected shape. */
static void rule_summary(const char *rule, char *buf, size_t len)
{
    buf[0] = '\0';
    cJSON *r = cJSON_Parse(rule ? rule : "");
    const cJSON *effect = cJSON_GetObjectItemCaseSensitive(r, "effect");
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(r, "actions");
    const cJSON *resource = cJSON_GetObjectItemCaseSensitive(r, "resource");
    if (!cJSON_IsString(effect)) {
        snprintf(buf, len, "%s", rule ? rule : "");
        cJSON_Delete(r);
        return;
    }
    append(buf, len, effect->valuestring);
    append(buf, len, " ");
    if (cJSON_IsString(actions)) {
        append(buf, len, actions->valuestring);
    } else {
        const cJSON *a;
        int first = 1;
        cJSON_ArrayForEach(a, actions) {
            if (!first)
                append(buf, len, ",");
            append(buf, len, cJSON_IsString(a) ? a->valuestring : "?");
            first = 0;
        }
    }
    append(buf, len, " ");
    append(buf, len, cJSON_IsString(resource) ? resource->valuestring : "?");

    /* Conditions: the top-level keys, except that resource_conditions and custom_conditions
     * are named by what they hold (types, metadata, claims). */
    const char *sep = " [";
    const cJSON *k;
    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(r, "conditions")) {
        int nested = strcmp(k->string, "resource_conditions") == 0 ||
                     strcmp(k->string, "custom_conditions") == 0;
        const cJSON *sub;
        if (nested && cJSON_IsObject(k)) {
            cJSON_ArrayForEach(sub, k) {
                append(buf, len, sep);
                append(buf, len, cond_name(sub->string));
                sep = ",";
            }
            continue;
        }
        append(buf, len, sep);
        append(buf, len, cond_name(k->string));
        sep = ",";
    }
    if (cJSON_GetObjectItemCaseSensitive(r, "when")) {
        append(buf, len, sep);
        append(buf, len, "when");
        sep = ",";
    }
    if (*sep == ',')
        append(buf, len, "]");
    cJSON_Delete(r);
}

static void print_rows(const mn_policies *l)
{
    size_t w_role = 1, w_sum = 1;
    int w_prio = 1;
    char (*sums)[160] = calloc(l->count ? l->count : 1, sizeof *sums);
    char num[16];
    for (size_t k = 0; k < l->count; k++) {
        const mn_policy *p = l->items[k];
        size_t r = cli_print_text(NULL, p->role, 0);
        int n = snprintf(num, sizeof num, "%d", p->priority);
        w_role = r > w_role ? r : w_role;
        w_prio = n > w_prio ? n : w_prio;
        if (sums) {
            rule_summary(p->rule, sums[k], sizeof sums[k]);
            size_t s = cli_print_text(NULL, sums[k], 0);
            w_sum = s > w_sum ? s : w_sum;
        }
    }
    for (size_t k = 0; k < l->count; k++) {
        const mn_policy *p = l->items[k];
        printf("%-36s  ", p->id);
        cli_print_cell(stdout, p->role, w_role);
        printf("  %*d  %-8s  ", w_prio, p->priority, p->active ? "active" : "inactive");
        cli_print_cell(stdout, sums ? sums[k] : "", w_sum);
        if (p->description && *p->description) {
            fputs("  ", stdout);
            cli_print_text(stdout, p->description, 80);
        }
        putchar('\n');
    }
    free(sums);
}

/* The rule, pretty-printed, its lines after the first indented by `indent` spaces. */
static void print_rule(const char *rule, int indent)
{
    cJSON *r = cJSON_Parse(rule ? rule : "");
    char *s = r ? cJSON_Print(r) : NULL;
    cJSON_Delete(r);
    if (!s) {
        cli_line(stdout, "%s", rule ? rule : "");
        return;
    }
    /* cJSON lays the rule out with tabs and newlines, never raw in its strings: the text
     * between them goes through cli_print_text, tabs become spaces ("key":<tab>value, one). */
    for (char *p = s;; p++) {
        size_t span = strcspn(p, "\t\n");
        char sep = p[span];
        p[span] = '\0';
        cli_print_text(stdout, p, 0);
        p += span;
        if (!sep)
            break;
        if (sep == '\n')
            printf("\n%*s", indent, "");
        else
            fputs(span && p[-1] == ':' ? " " : "  ", stdout);
    }
    putchar('\n');
    cJSON_free(s);
}

static void print_detail(const mn_policy *p)
{
    char c1[32], c2[32], sum[256], priority[16];
    rule_summary(p->rule, sum, sizeof sum);
    snprintf(priority, sizeof priority, "%d", p->priority);
    const cli_field head[] = {
        {"id", p->id}, {"tenant", p->tenant_id}, {"role", p->role}, {"priority", priority},
        {"active", p->active ? "yes" : "no"}, {"description", p->description},
        {"summary", sum}};
    const cli_field tail[] = {{"created", cli_fmt_time(p->created_at, c1, sizeof c1)},
                              {"updated", cli_fmt_time(p->updated_at, c2, sizeof c2)}};
    cli_print_fields(head, sizeof head / sizeof head[0], 13);
    printf("%-13s", "rule");
    print_rule(p->rule, 13);
    cli_print_fields(tail, sizeof tail / sizeof tail[0], 13);
}

static void print_decision(const mn_decision *d)
{
    const cli_field fields[] = {{"policy", d->policy_id ? d->policy_id : "none"},
                                {"reason", d->reason}};
    puts(d->allowed ? "allow" : "deny");
    cli_print_fields(fields, sizeof fields / sizeof fields[0], 8);
}

/* ---- Commands ----------------------------------------------------------------------------- */

/* Parses, fills the actor and opens the database. */
static int prologue(cli_ctx *c, int argc, char **argv, const cli_opt *opts, int nargs,
                    mn_actor *a)
{
    int rc = cli_parse(c, argc, argv, opts, nargs, nargs);
    if (rc != CLI_CONTINUE || (rc = cli_actor(c, a)) != CLI_CONTINUE)
        return rc;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    return CLI_CONTINUE;
}

/* --rule - reads the rule from stdin (*owned then holds it). */
static int rule_arg(const char **rule, char **owned, const char *cmd)
{
    *owned = NULL;
    if (*rule && strcmp(*rule, "-") == 0) {
        char what[64];
        snprintf(what, sizeof what, "%s: the rule", cmd);
        if (!(*owned = cli_read_stdin(what)))
            return CLI_EXIT_ERROR;
        *rule = *owned;
    }
    return CLI_CONTINUE;
}

static int show_policy(cli_ctx *c, const mn_policy *p, int id_only)
{
    if (c->json)
        return cli_json_emit(cli_json_policy(p));
    if (id_only)
        printf("%s\n", p->id);
    else
        print_detail(p);
    return CLI_EXIT_OK;
}

static int run_add(cli_ctx *c, int argc, char **argv)
{
    mn_policy_input in = MN_POLICY_INPUT_INIT;
    const cli_opt opts[] = {{"role", CLI_OPT_STR, &in.role, NULL},
                            {"rule", CLI_OPT_STR, &in.rule, NULL},
                            {"priority", CLI_OPT_INT, &in.priority, NULL},
                            {"inactive", CLI_OPT_FLAG, &in.inactive, NULL},
                            {"description", CLI_OPT_STR, &in.description, NULL},
                            {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!in.role)
        return cli_usage_error(c, "--role ROLE is required (a role name, or \"*\" for every role)");
    if (!in.rule)
        return cli_usage_error(c, "--rule JSON is required");
    mn_actor a;
    char *owned;
    if ((rc = cli_actor(c, &a)) != CLI_CONTINUE ||
        (rc = rule_arg(&in.rule, &owned, "policy add")) != CLI_CONTINUE)
        return rc;
    mn_policy *p = NULL;
    if ((rc = cli_open(c)) == CLI_EXIT_OK) {
        int mrc = mn_policy_add(c->db, &a, &in, &p);
        rc = mrc != MN_OK ? cli_fail(c, mrc, "policy add") : show_policy(c, p, 1);
    }
    mn_policy_free(p);
    free(owned);
    return rc;
}

static int run_get(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = prologue(c, argc, argv, NULL, 1, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    mn_policy *p = NULL;
    rc = mn_policy_get(c->db, &a, c->args[0], &p);
    if (rc != MN_OK)
        return cli_fail(c, rc, "policy get %s", c->args[0]);
    rc = show_policy(c, p, 0);
    mn_policy_free(p);
    return rc;
}

static int run_list(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = prologue(c, argc, argv, NULL, 0, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    mn_policies *l = NULL;
    rc = mn_policy_list(c->db, &a, &l);
    if (rc != MN_OK)
        return cli_fail(c, rc, "policy list");
    if (c->json) {
        cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "policies");
        for (size_t k = 0; k < l->count; k++)
            cJSON_AddItemToArray(arr, cli_json_policy(l->items[k]));
        rc = cli_json_emit(o);
    } else {
        print_rows(l);
    }
    mn_policies_free(l);
    return rc;
}

static int run_update(cli_ctx *c, int argc, char **argv)
{
    mn_policy_changes in = MN_POLICY_CHANGES_INIT;
    int role = 0, rule = 0, priority = 0, active = 0, inactive = 0, description = 0;
    const cli_opt opts[] = {{"role", CLI_OPT_STR, &in.role, &role},
                            {"rule", CLI_OPT_STR, &in.rule, &rule},
                            {"priority", CLI_OPT_INT, &in.priority, &priority},
                            {"active", CLI_OPT_FLAG, &active, NULL},
                            {"inactive", CLI_OPT_FLAG, &inactive, NULL},
                            {"description", CLI_OPT_STR, &in.description, &description},
                            {0}};
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if (active && inactive)
        return cli_usage_error(c, "--active and --inactive contradict each other");
    in.active = active;
    in.set = (role ? MN_POLICY_SET_ROLE : 0) | (rule ? MN_POLICY_SET_RULE : 0) |
             (priority ? MN_POLICY_SET_PRIORITY : 0) |
             (description ? MN_POLICY_SET_DESCRIPTION : 0) |
             (active || inactive ? MN_POLICY_SET_ACTIVE : 0);
    if (!in.set)
        return cli_usage_error(c, "nothing to change: give --role, --rule, --priority, --active, "
                                  "--inactive or --description");
    mn_actor a;
    char *owned;
    if ((rc = cli_actor(c, &a)) != CLI_CONTINUE ||
        (rc = rule_arg(&in.rule, &owned, "policy update")) != CLI_CONTINUE)
        return rc;
    mn_policy *p = NULL;
    if ((rc = cli_open(c)) == CLI_EXIT_OK) {
        int mrc = mn_policy_update(c->db, &a, c->args[0], &in, &p);
        if (mrc != MN_OK)
            rc = cli_fail(c, mrc, "policy update %s", c->args[0]);
        else if (c->json)
            rc = cli_json_emit(cli_json_policy(p));
        else
            printf("updated %s\n", p->id);
    }
    mn_policy_free(p);
    free(owned);
    return rc;
}

static int run_delete(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = prologue(c, argc, argv, NULL, 1, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = mn_policy_delete(c->db, &a, c->args[0]);
    if (rc != MN_OK)
        return cli_fail(c, rc, "policy delete %s", c->args[0]);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c->args[0]);
        cJSON_AddTrueToObject(o, "deleted");
        return cli_json_emit(o);
    }
    cli_line(stdout, "deleted %s", c->args[0]);
    return CLI_EXIT_OK;
}

static int run_test(cli_ctx *c, int argc, char **argv)
{
    const char *action = NULL, *resource = NULL, *data = NULL;
    const cli_opt opts[] = {{"action", CLI_OPT_STR, &action, NULL},
                            {"resource", CLI_OPT_STR, &resource, NULL},
                            {"resource-data", CLI_OPT_STR, &data, NULL}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 0, 0);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!action || !resource)
        return cli_usage_error(c, "--action ACTION and --resource RESOURCE are required");
    mn_actor a;
    if ((rc = cli_actor(c, &a)) != CLI_CONTINUE)
        return rc;
    char *owned = NULL;
    if (data && strcmp(data, "-") == 0) {
        if (!(owned = cli_read_stdin("policy test: the resource data")))
            return CLI_EXIT_ERROR;
        data = owned;
    }
    mn_decision *d = NULL;
    if ((rc = cli_open(c)) == CLI_EXIT_OK) {
        int mrc = mn_policy_test(c->db, &a, action, resource, data, &d);
        if (mrc != MN_OK)
            rc = cli_fail(c, mrc, "policy test");
        else if (c->json)
            rc = cli_json_emit(cli_json_decision(d));
        else
            print_decision(d);
    }
    mn_decision_free(d);
    free(owned);
    return rc;
}

static const cli_cmd cmds[] = {
    {"add", run_add,
     "policy add --role ROLE --rule JSON [--priority N] [--inactive] [--description TEXT]",
     "Adds a policy to --tenant and prints its id (--json: the policy).\n"
     "  --role ROLE         the identities' role it applies to, or \"*\" for every role\n"
     "  --rule JSON         the rule, a JSON object (\"-\" reads it from stdin):\n"
     "                        {\"effect\": \"allow\"|\"deny\",\n"
     "                         \"actions\": [\"read\", ...]|\"*\",\n"
     "                         \"resource\": \"memory\"|\"identity\"|\"policy\"|...|\"*\",\n"
     "                         \"conditions\": {...}, \"when\": JSON Logic}\n"
     "                      conditions: roles, time_restrictions, ip_restrictions,\n"
     "                      resource_conditions, custom_conditions (libmanushya(3), POLICIES);\n"
     "                      \"when\" sees {actor, action, resource, context}; it is one\n"
     "                      operation ({\"==\": [a, b]}) or true/false: an array, string,\n"
     "                      number, {} or object of several keys is refused (a constant to\n"
     "                      JSON Logic), as is any {} or object of several keys inside it;\n"
     "                      a context.ip that is not an address meets every deny's\n"
     "                      ip_restrictions and no allow's (fail closed)\n"
     "  --priority N        higher is consulted first (default 0)\n"
     "  --inactive          store it switched off\n"
     "  --description TEXT  what it is for\n"
     "Among the active policies of the actor's role, a deny that applies overrides every allow;\n"
     "otherwise the highest-priority allow that applies decides; none means deny."},
    {"list", run_list, "policy list",
     "Lists the tenant's policies, highest priority first: id, role, priority, state, a summary\n"
     "of the rule (effect, actions, resource and, in brackets, the names of its conditions:\n"
     "time, ip, types, metadata, claims, roles, when) and the description.\n"
     "--json: {\"policies\": [...]} with each rule as a JSON object."},
    {"get", run_get, "policy get ID", "Shows one policy, its rule pretty-printed."},
    {"update", run_update,
     "policy update ID [--role R] [--rule JSON] [--priority N] [--active|--inactive] "
     "[--description T]",
     "Changes the given fields of a policy (at least one); prints \"updated ID\" (--json: the\n"
     "policy). --rule - reads the rule from stdin. The change applies to the next decision,\n"
     "in every process using the database."},
    {"delete", run_delete, "policy delete ID", "Deletes a policy."},
    {"test", run_test,
     "policy test [--as IDENTITY] --action ACTION --resource RESOURCE [--resource-data JSON] "
     "[--context JSON]",
     "Asks for the decision the identity given by --as would get, without doing anything, and\n"
     "prints \"allow\" or \"deny\", the deciding policy's id (\"none\" when no policy applied)\n"
     "and the reason.\n"
     "--json: {\"allowed\": bool, \"policy_id\": string|null, \"reason\": string}.\n"
     "The exit status is 0 whether the answer is allow or deny (it is a question, answered);\n"
     "it is non-zero only when no decision could be made (bad input, unknown identity, ...).\n"
     "  --as IDENTITY         who asks (the global option); without it, the system actor,\n"
     "                        which policies do not apply to: always allow\n"
     "  --action ACTION       create, read, update, delete, list, search, ...\n"
     "  --resource RESOURCE   memory, identity, policy, ...\n"
     "  --resource-data JSON  the resource as policies see it (\"-\" reads stdin), for a memory\n"
     "                        {\"identity_id\": ..., \"type\": ..., \"metadata\": {...}}\n"
     "  --context JSON        the request's context (the global option), e.g. {\"ip\": ...}"},
};
const cli_group cli_group_policy = {"policy", "manage and test a tenant's access policies", cmds,
                                    sizeof cmds / sizeof cmds[0]};
