/*
 * cmd_identity.c — manushya identity create|list|get|deactivate|delete, within --tenant.
 */
#include "cli.h"

#include <string.h>

static void print_row(const mn_identity *i, size_t w_ext, size_t w_role)
{
    char when[32];
    printf("%-36s  ", i->id);
    cli_print_cell(stdout, i->external_id, w_ext);
    fputs("  ", stdout);
    cli_print_cell(stdout, i->role, w_role);
    printf("  %-8s  %s\n", i->active ? "active" : "inactive",
           cli_fmt_time(i->created_at, when, sizeof when));
}

static void print_detail(const mn_identity *i)
{
    char c1[32], c2[32];
    const cli_field fields[] = {
        {"id", i->id}, {"tenant", i->tenant_id}, {"external id", i->external_id},
        {"role", i->role}, {"claims", i->claims ? i->claims : "{}"},
        {"active", i->active ? "yes" : "no"},
        {"created", cli_fmt_time(i->created_at, c1, sizeof c1)},
        {"updated", cli_fmt_time(i->updated_at, c2, sizeof c2)}};
    cli_print_fields(fields, sizeof fields / sizeof fields[0], 13);
}

/* Every identity command takes exactly one positional and needs the tenant. */
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

static int run_create(cli_ctx *c, int argc, char **argv)
{
    const char *role = NULL, *claims = NULL;
    const cli_opt opts[] = {{"role", CLI_OPT_STR, &role, NULL},
                            {"claims", CLI_OPT_STR, &claims, NULL}, {0}};
    mn_actor a;
    int rc = prologue(c, argc, argv, opts, 1, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    mn_identity *i = NULL;
    rc = mn_identity_create(c->db, &a, c->args[0], role, claims, &i);
    if (rc != MN_OK)
        return cli_fail(c, rc, "identity create %s", c->args[0]);
    if (c->json)
        rc = cli_json_emit(cli_json_identity(i));
    else
        printf("%s\n", i->id);
    mn_identity_free(i);
    return rc;
}

static int run_get(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = prologue(c, argc, argv, NULL, 1, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    mn_identity *i = NULL;
    rc = mn_identity_get(c->db, &a, c->args[0], &i);
    if (rc != MN_OK)
        return cli_fail(c, rc, "identity get %s", c->args[0]);
    if (c->json)
        rc = cli_json_emit(cli_json_identity(i));
    else
        print_detail(i);
    mn_identity_free(i);
    return rc;
}

static int run_list(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = prologue(c, argc, argv, NULL, 0, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    mn_identities *l = NULL;
    rc = mn_identity_list(c->db, &a, &l);
    if (rc != MN_OK)
        return cli_fail(c, rc, "identity list");
    if (c->json) {
        cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "identities");
        for (size_t k = 0; k < l->count; k++)
            cJSON_AddItemToArray(arr, cli_json_identity(l->items[k]));
        rc = cli_json_emit(o);
    } else {
        size_t w_ext = 1, w_role = 1;
        for (size_t k = 0; k < l->count; k++) {
            size_t e = cli_print_text(NULL, l->items[k]->external_id, 0),
                   r = cli_print_text(NULL, l->items[k]->role, 0);
            w_ext = e > w_ext ? e : w_ext;
            w_role = r > w_role ? r : w_role;
        }
        for (size_t k = 0; k < l->count; k++)
            print_row(l->items[k], w_ext, w_role);
    }
    mn_identities_free(l);
    return rc;
}

/* deactivate and delete: same shape, different call. */
static int change(cli_ctx *c, int argc, char **argv, const char *verb, const char *done,
                  int (*fn)(mn_db *, const mn_actor *, const char *))
{
    mn_actor a;
    int rc = prologue(c, argc, argv, NULL, 1, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    rc = fn(c->db, &a, c->args[0]);
    if (rc != MN_OK)
        return cli_fail(c, rc, "identity %s %s", verb, c->args[0]);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c->args[0]);
        cJSON_AddTrueToObject(o, done);
        return cli_json_emit(o);
    }
    cli_line(stdout, "%s %s", done, c->args[0]);
    return CLI_EXIT_OK;
}

static int run_deactivate(cli_ctx *c, int argc, char **argv)
{
    return change(c, argc, argv, "deactivate", "deactivated", mn_identity_deactivate);
}

static int run_delete(cli_ctx *c, int argc, char **argv)
{
    return change(c, argc, argv, "delete", "deleted", mn_identity_delete);
}

static const cli_cmd cmds[] = {
    {"create", run_create, "identity create EXTERNAL_ID [--role ROLE] [--claims JSON]",
     "Creates an identity in --tenant and prints its id. EXTERNAL_ID may not be shaped\n"
     "like a UUID (--as and ID take an id or an external id, and an id wins).\n"
     "  --role ROLE     role the policies see (default \"agent\")\n"
     "  --claims JSON   a JSON object of claims (default {})"},
    {"list", run_list, "identity list",
     "Lists the tenant's identities: id, external id, role, state, creation time (UTC)."},
    {"get", run_get, "identity get ID", "Shows one identity; ID is its id or external id."},
    {"deactivate", run_deactivate, "identity deactivate ID",
     "Marks an identity inactive; its memories stay."},
    {"delete", run_delete, "identity delete ID",
     "Erases an identity and every memory it owns, history, embedding jobs and API keys\n"
     "included; the tenant's vector index is rebuilt without them. Cannot be undone."},
};
const cli_group cli_group_identity = {"identity", "manage a tenant's identities (agents, users)",
                                      cmds, sizeof cmds / sizeof cmds[0]};
