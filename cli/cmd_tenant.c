/*
 * cmd_tenant.c — manushya tenant create|list|get|delete. Tenants need no --tenant themselves.
 */
#include "cli.h"


static void print_tenant(const mn_tenant *t)
{
    char when[32];
    cli_line(stdout, "%-36s  %s  %s", t->id, cli_fmt_time(t->created_at, when, sizeof when),
             t->name);
}

/* create and get print the same thing: the id alone (handy in scripts), or the object. */
static int show_one(cli_ctx *c, const mn_tenant *t, int id_only)
{
    if (c->json)
        return cli_json_emit(cli_json_tenant(t));
    if (id_only)
        printf("%s\n", t->id);
    else
        print_tenant(t);
    return CLI_EXIT_OK;
}

static int run_create(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 1, 1);
    if (rc != CLI_CONTINUE || (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    mn_tenant *t = NULL;
    rc = mn_tenant_create(c->db, c->args[0], &t);
    if (rc != MN_OK)
        return cli_fail(c, rc, "tenant create %s", c->args[0]);
    rc = show_one(c, t, 1);
    mn_tenant_free(t);
    return rc;
}

static int run_get(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 1, 1);
    if (rc != CLI_CONTINUE || (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    mn_tenant *t = NULL;
    rc = mn_tenant_get(c->db, c->args[0], &t);
    if (rc != MN_OK)
        return cli_fail(c, rc, "tenant get %s", c->args[0]);
    rc = show_one(c, t, 0);
    mn_tenant_free(t);
    return rc;
}

static int run_list(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 0, 0);
    if (rc != CLI_CONTINUE || (rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    mn_tenants *l = NULL;
    rc = mn_tenant_list(c->db, &l);
    if (rc != MN_OK)
        return cli_fail(c, rc, "tenant list");
    if (c->json) {
        cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "tenants");
        for (size_t i = 0; i < l->count; i++)
            cJSON_AddItemToArray(a, cli_json_tenant(l->items[i]));
        rc = cli_json_emit(o);
    } else {
        for (size_t i = 0; i < l->count; i++)
            print_tenant(l->items[i]);
    }
    mn_tenants_free(l);
    return rc;
}

/* Erasing cannot be undone: without --yes nothing is done (a usage error, exit 2). */
static int run_delete(cli_ctx *c, int argc, char **argv)
{
    int yes = 0;
    const cli_opt opts[] = {{"yes", CLI_OPT_FLAG, &yes, NULL}, {0}};
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!yes)
        return cli_usage_error(c, "tenant delete erases the tenant %s and everything of it for "
                               "good; add --yes to confirm", c->args[0]);
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    rc = mn_tenant_delete(c->db, c->args[0]);
    if (rc != MN_OK)
        return cli_fail(c, rc, "tenant delete %s", c->args[0]);
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {"create", run_create, "tenant create NAME",
     "Creates a tenant and prints its id. NAME: 1..128 letters, digits, '-', '_', '.', not\n"
     "shaped like a UUID (--tenant takes a name or an id, and an id wins)."},
    {"list", run_list, "tenant list", "Lists every tenant: id, creation time (UTC), name."},
    {"get", run_get, "tenant get NAME|ID", "Shows one tenant."},
    {"delete", run_delete, "tenant delete NAME|ID --yes",
     "Erases the tenant and everything of it: memories, history, identities, API keys,\n"
     "policies, rate-limit overrides, embedding jobs and cache, its vector index and index\n"
     "files. Cannot be undone: refused without --yes. Backups are not touched."},
};
const cli_group cli_group_tenant = {"tenant", "create, list and delete tenants", cmds,
                                    sizeof cmds / sizeof cmds[0]};
