/*
 * cmd_key.c — manushya key create|list|revoke: the tenant's API keys, for the actor (--tenant,
 * --as, or --api-key). create prints the key alone on stdout, the one time it is shown.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS 86400000LL

static int run_create(cli_ctx *c, int argc, char **argv)
{
    const char *identity = NULL, *scopes = NULL;
    int days = 0, days_given = 0;
    const cli_opt opts[] = {{"identity", CLI_OPT_STR, &identity, NULL},
                            {"scopes", CLI_OPT_STR, &scopes, NULL},
                            {"expires-days", CLI_OPT_INT, &days, &days_given},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    mn_actor a;
    int rc = cli_begin_actor(c, argc, argv, opts, 0, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    if (!identity)
        return cli_usage_error(c, "--identity is required: the identity the key acts for");
    if (days_given && days < 1)
        return cli_usage_error(c, "--expires-days must be at least 1");
    mn_apikey_input in = MN_APIKEY_INPUT_INIT;
    in.identity = identity;
    in.scopes = scopes ? cli_list_json(scopes) : NULL;
    if (scopes && !in.scopes)
        return cli_error("key create: out of memory");
    in.expires_at = days_given ? (int64_t)time(NULL) * 1000 + days * DAY_MS : 0;
    char *key = NULL;
    mn_apikey *k = NULL;
    rc = mn_apikey_create(c->db, &a, &in, &key, &k);
    free((char *)in.scopes);
    if (rc != MN_OK)
        return cli_fail(c, rc, "key create for %s", identity);
    if (c->json)
        rc = cli_json_emit(cli_json_apikey(k, key));
    else
        printf("%s\n", key);
    mn_free(key);
    mn_apikey_free(k);
    return rc;
}

static void print_key(const mn_apikey *k)
{
    char created[24], expires[24], used[24];
    printf("%s  ", k->id);
    cli_print_cell(stdout, k->identity_id, 37);
    printf("created %s  expires %s  last used %s  scopes ",
           cli_fmt_time(k->created_at, created, sizeof created),
           cli_fmt_time(k->expires_at, expires, sizeof expires),
           cli_fmt_time(k->last_used_at, used, sizeof used));
    cli_print_text(stdout, k->scopes ? k->scopes : "all", 0);
    printf("\n");
}

static int run_list(cli_ctx *c, int argc, char **argv)
{
    const char *identity = NULL;
    const cli_opt opts[] = {{"identity", CLI_OPT_STR, &identity, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    mn_actor a;
    int rc = cli_begin_actor(c, argc, argv, opts, 0, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    mn_apikeys *l = NULL;
    if ((rc = mn_apikey_list(c->db, &a, identity, &l)) != MN_OK)
        return cli_fail(c, rc, "key list");
    if (c->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < l->count; i++)
            cJSON_AddItemToArray(arr, cli_json_apikey(l->items[i], NULL));
        rc = cli_json_emit(arr);
    } else {
        for (size_t i = 0; i < l->count; i++)
            print_key(l->items[i]);
    }
    mn_apikeys_free(l);
    return rc;
}

static int run_revoke(cli_ctx *c, int argc, char **argv)
{
    mn_actor a;
    int rc = cli_begin_actor(c, argc, argv, NULL, 1, &a);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = mn_apikey_revoke(c->db, &a, c->args[0])) != MN_OK)
        return cli_fail(c, rc, "key revoke %s", c->args[0]);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "revoked", c->args[0]);
        return cli_json_emit(o);
    }
    cli_line(stdout, "revoked %s", c->args[0]);
    return CLI_EXIT_OK;
}

/* ---- encryption at rest: the master key and the tenants' data keys ---- */

static int run_new_master(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = mn_master_key_create(c->args[0])) != MN_OK)
        return cli_fail(c, rc, "key new-master %s", c->args[0]);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "master_key_file", c->args[0]);
        return cli_json_emit(o);
    }
    cli_line(stdout, "wrote a new master key to %s", c->args[0]);
    return CLI_EXIT_OK;
}

static int run_rotate_master(cli_ctx *c, int argc, char **argv)
{
    int rc = cli_parse(c, argc, argv, NULL, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    if ((rc = mn_master_key_rotate(c->db, c->args[0])) != MN_OK)
        return cli_fail(c, rc, "key rotate-master %s", c->args[0]);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "master_key_file", c->args[0]);
        return cli_json_emit(o);
    }
    cli_line(stdout, "the database opens with the master key in %s from now on", c->args[0]);
    return CLI_EXIT_OK;
}

static int run_rotate_tenant(cli_ctx *c, int argc, char **argv)
{
    int batch = 1000;
    const cli_opt opts[] = {{"batch", CLI_OPT_INT, &batch, NULL},
                            {NULL, CLI_OPT_FLAG, NULL, NULL}};
    int rc = cli_parse(c, argc, argv, opts, 1, 1);
    if (rc != CLI_CONTINUE)
        return rc;
    if (batch < 1)
        return cli_usage_error(c, "--batch must be at least 1");
    if ((rc = cli_open(c)) != CLI_EXIT_OK)
        return rc;
    int done = 0;
    long writes = 0;
    while (!done && (rc = mn_tenant_rekey(c->db, c->args[0], (size_t)batch, &done)) == MN_OK)
        writes++;
    if (rc != MN_OK)
        return cli_fail(c, rc, "key rotate-tenant %s (after %ld writes; run it again to go on)",
                        c->args[0], writes);
    if (c->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "tenant", c->args[0]);
        cJSON_AddNumberToObject(o, "writes", (double)writes);
        return cli_json_emit(o);
    }
    cli_line(stdout, "re-keyed tenant %s in %ld writes; its old data keys are destroyed",
             c->args[0], writes);
    return CLI_EXIT_OK;
}

static const cli_cmd cmds[] = {
    {"create", run_create, "key create --identity ID [--scopes S,S...] [--expires-days N]",
     "Makes an API key for the identity (id or external id) and prints it alone on stdout:\n"
     "it is shown this once, and the database keeps only a hash of it. --scopes narrows what\n"
     "the key may do to those resource:action pairs (memory:create, memory:read,\n"
     "memory:update, memory:delete, memory:list, memory:search, identity:..., policy:...,\n"
     "ratelimit:..., apikey:create|read|delete, audit:read|update|delete); without it the key may do\n"
     "whatever the identity's policies allow, and never more. --expires-days: it stops working after N\n"
     "days. --json prints an object with the key, its id and the rest. Needs \"create\" on\n"
     "\"apikey\" (the system actor, an admin)."},
    {"list", run_list, "key list [--identity ID]",
     "The tenant's API keys (of one identity with --identity), oldest first: id, identity,\n"
     "created, expires, last used (recorded at most once a minute), scopes. Never a key\n"
     "itself. --json prints an array. Needs \"read\" on \"apikey\"."},
    {"revoke", run_revoke, "key revoke ID",
     "Revokes the API key with that id (what key list shows, the key's mk_ID_ part): it stops\n"
     "working at once. Exit 3 when the tenant has no such key. Needs \"delete\" on \"apikey\"."},
    {"new-master", run_new_master, "key new-master FILE",
     "Writes a new random master key (64 hex digits) to FILE, readable by its owner only. It\n"
     "never overwrites a file. An encrypted database (see manushya init --help) opens with it:\n"
     "give it to every command with --master-key-file FILE or MANUSHYA_MASTER_KEY_FILE. Keep\n"
     "a copy apart from the database and its backups: without it the data cannot be read."},
    {"rotate-master", run_rotate_master, "key rotate-master NEW_FILE",
     "Wraps every data key of the encrypted database with the master key in NEW_FILE instead\n"
     "of the current one (--master-key-file or MANUSHYA_MASTER_KEY_FILE), in one transaction;\n"
     "no memory is sealed again, so it is quick whatever the size. From then on the database\n"
     "opens with NEW_FILE only: restart other processes with it."},
    {"rotate-tenant", run_rotate_tenant, "key rotate-tenant TENANT [--batch N]",
     "Seals every memory and history value of the tenant (name or id) again under a new data\n"
     "key, N rows per transaction (default 1000) while the database stays in use, then\n"
     "destroys the old keys. Interrupted (a kill, a crash), run it again: it goes on from\n"
     "the last batch written."},
};
const cli_group cli_group_key = {"key", "API keys; master and data keys of an encrypted database", cmds,
                                 sizeof cmds / sizeof cmds[0]};
