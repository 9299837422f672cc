/* Tenants and actors in the PostgreSQL backend. */
#include "store/postgres/pg.h"
#include "store/notfound.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>

int pgs_tenant_insert(struct mni_store *st, const mn_tenant *t, const mn_policy *policies,
                      size_t npolicies)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_conn *c;
    int rc = pgs_write_begin(s, &c, 0, NULL);
    if (rc != MN_OK)
        return rc;
    struct pgs_args a = {0};
    pgs_arg_text(&a, t->id);
    pgs_arg_text(&a, t->name);
    pgs_arg_int(&a, t->created_at);
    char taken[200];
    snprintf(taken, sizeof taken, "a tenant named \"%.128s\" already exists; pick another name",
             t->name);
    rc = pgs_insert_unique(s, c, PGS_TENANT_INSERT, &a, "creating a tenant", taken);
    for (size_t i = 0; rc == MN_OK && i < npolicies; i++)
        rc = pgs_policy_insert_on(s, c, &policies[i]);
    return pgs_write_end(s, c, rc);
}

int pgs_tenant_get(struct mni_store *st, const char *id_or_name, mn_tenant **out)
{
    struct pgs_store *s = (struct pgs_store *)st;
    int rc = pgs_query_one(s, PGS_TENANT_GET, &id_or_name, 1, &pgs_tenant_reader, (void **)out,
                           "reading a tenant");
    if (rc == MN_ENOTFOUND)
        mni_store_no_tenant(s->base.db, id_or_name);
    return rc;
}

static int list_tenants(struct mni_store *st, enum pgs_stmt_id id, mn_tenants **out)
{
    struct pgs_store *s = (struct pgs_store *)st;
    mn_tenants *l = calloc(1, sizeof *l);
    int rc = l ? pgs_query(s, id, NULL, 0, &pgs_tenant_reader, (void **)&l->items, &l->count,
                           "listing tenants")
               : mni_seterr(s->base.db, MN_ENOMEM, "out of memory listing tenants");
    if (rc != MN_OK) {
        free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

int pgs_tenant_list(struct mni_store *st, mn_tenants **out)
{
    return list_tenants(st, PGS_TENANT_LIST, out);
}

int pgs_tenant_list_unruled(struct mni_store *st, mn_tenants **out)
{
    return list_tenants(st, PGS_TENANT_LIST_UNRULED, out);
}

int pgs_actor_get(struct mni_store *st, const char *tenant, const char *identity, mn_tenant **t,
                  mn_identity **i, int64_t *policy_gen)
{
    struct pgs_store *s = (struct pgs_store *)st;
    *t = NULL;
    *i = NULL;
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant);
    pgs_arg_text(&a, identity);
    PGresult *res = NULL;
    int rc = pgs_run_on(s, pgs_reads(s), PGS_ACTOR_GET, &a, &res, "reading the actor");
    if (rc == MN_OK && PQntuples(res) == 0) {
        rc = mni_store_no_tenant(s->base.db, tenant);
    } else if (rc == MN_OK) {
        struct mni_row r = pgs_row(res, 0);
        rc = mni_row_actor(s->base.db, &r, identity, t, i, policy_gen);
    }
    PQclear(res);
    return rc;
}
