/* Tenants in the SQLite backend. */
#include "store/sqlite/sqlite.h"
#include "store/notfound.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>

int sq_insert_unique(struct sq_store *s, struct sq_conn *c, sqlite3_stmt *st, const char *doing,
                     const char *taken)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return MN_OK;
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return mni_seterr(s->base.db, MN_EEXISTS, "%s", taken);
    return sq_fail(s, c->db, rc, doing);
}

int sq_tenant_insert(struct mni_store *st, const mn_tenant *t, const mn_policy *policies,
                     size_t npolicies)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int rc = sq_write_begin(s, &c, 0, NULL);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_TENANT_INSERT);
    if (!q) {
        rc = MN_EBACKEND;
    } else {
        sq_bind_text(q, 1, t->id);
        sq_bind_text(q, 2, t->name);
        sqlite3_bind_int64(q, 3, t->created_at);
        char taken[200];
        snprintf(taken, sizeof taken, "a tenant named \"%.128s\" already exists; pick another "
                 "name", t->name);
        rc = sq_insert_unique(s, c, q, "creating a tenant", taken);
    }
    for (size_t i = 0; rc == MN_OK && i < npolicies; i++)
        rc = sq_policy_insert_on(s, c, &policies[i]);
    return sq_write_end(s, c, rc);
}

int sq_tenant_get(struct mni_store *st, const char *id_or_name, mn_tenant **out)
{
    struct sq_store *s = (struct sq_store *)st;
    int rc = sq_query_one(s, SQ_TENANT_GET, &id_or_name, 1, &sq_tenant_reader, (void **)out,
                          "reading a tenant");
    if (rc == MN_ENOTFOUND)
        mni_store_no_tenant(s->base.db, id_or_name);
    return rc;
}

static int list_tenants(struct mni_store *st, enum sq_stmt_id id, mn_tenants **out)
{
    struct sq_store *s = (struct sq_store *)st;
    mn_tenants *l = calloc(1, sizeof *l);
    int rc = l ? sq_query(s, id, NULL, 0, &sq_tenant_reader, 0, (void **)&l->items, &l->count,
                          "listing tenants")
               : mni_seterr(s->base.db, MN_ENOMEM, "out of memory listing tenants");
    if (rc != MN_OK) {
        free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

int sq_tenant_list(struct mni_store *st, mn_tenants **out)
{
    return list_tenants(st, SQ_TENANT_LIST, out);
}

int sq_tenant_list_unruled(struct mni_store *st, mn_tenants **out)
{
    return list_tenants(st, SQ_TENANT_LIST_UNRULED, out);
}

int sq_actor_get(struct mni_store *st, const char *tenant, const char *identity, mn_tenant **t,
                 mn_identity **i, int64_t *policy_gen)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    *t = NULL;
    *i = NULL;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_ACTOR_GET);
    if (!q) {
        sq_conn_put(s, c);
        return MN_EBACKEND;
    }
    sq_bind_text(q, 1, tenant);
    sq_bind_text(q, 2, identity);
    int step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        struct mni_row r = sq_row(q);
        rc = mni_row_actor(s->base.db, &r, identity, t, i, policy_gen);
    } else if (step == SQLITE_DONE) {
        rc = mni_store_no_tenant(s->base.db, tenant);
    } else {
        rc = sq_fail(s, c->db, step, "reading the actor");
    }
    sqlite3_reset(q);
    sq_conn_put(s, c);
    return rc;
}
