/* Policies in the PostgreSQL backend. Each change also advances the tenant's policy_gen, in the
 * same transaction, so that every process's caches see the change on their next decision. */
#include "store/postgres/pg.h"
#include "store/notfound.h"
#include "core/error.h"

#include <stdlib.h>

/* Binds p's columns as POLICY_COLUMNS orders them; an update leaves created_at out. */
static void bind_policy(struct pgs_args *a, const mn_policy *p, int with_created)
{
    pgs_arg_text(a, p->id);
    pgs_arg_text(a, p->tenant_id);
    pgs_arg_text(a, p->role);
    pgs_arg_text(a, p->rule);
    pgs_arg_int(a, p->priority);
    pgs_arg_int(a, p->active);
    pgs_arg_text(a, p->description);
    if (with_created)
        pgs_arg_int(a, p->created_at);
    pgs_arg_int(a, p->updated_at);
}

int pgs_policy_insert_on(struct pgs_store *s, struct pgs_conn *c, const mn_policy *p)
{
    struct pgs_args a = {0};
    bind_policy(&a, p, 1);
    return pgs_run(s, c, PGS_POLICY_INSERT, &a, NULL, "adding a policy");
}

/* Runs one policy statement and the generation bump in one transaction. */
static int change(struct pgs_store *s, enum pgs_stmt_id id, const mn_policy *p,
                  const char *tenant_id, const char *policy_id, const char *doing)
{
    struct pgs_conn *c;
    int rc = pgs_write_begin(s, &c, 0, NULL);
    if (rc != MN_OK)
        return rc;
    struct pgs_args a = {0};
    if (p) {
        bind_policy(&a, p, id == PGS_POLICY_INSERT);
    } else {
        pgs_arg_text(&a, tenant_id);
        pgs_arg_text(&a, policy_id);
    }
    PGresult *res = NULL;
    rc = pgs_run(s, c, id, &a, &res, doing);
    if (rc == MN_OK && id != PGS_POLICY_INSERT && pgs_changes(res) == 0)
        rc = mni_store_no_policy(s->base.db, doing, policy_id);
    PQclear(res);
    if (rc == MN_OK) {
        struct pgs_args b = {0};
        pgs_arg_text(&b, tenant_id);
        rc = pgs_run(s, c, PGS_POLICY_GEN_BUMP, &b, NULL, "recording a policy change");
    }
    return pgs_write_end(s, c, rc);
}

int pgs_policy_insert(struct mni_store *st, const mn_policy *p)
{
    return change((struct pgs_store *)st, PGS_POLICY_INSERT, p, p->tenant_id, p->id,
                  "adding a policy");
}

int pgs_policy_update(struct mni_store *st, const mn_policy *p)
{
    return change((struct pgs_store *)st, PGS_POLICY_UPDATE, p, p->tenant_id, p->id,
                  "updating a policy");
}

int pgs_policy_delete(struct mni_store *st, const char *tenant_id, const char *id)
{
    return change((struct pgs_store *)st, PGS_POLICY_DELETE, NULL, tenant_id, id,
                  "deleting a policy");
}

int pgs_policy_get(struct mni_store *st, const char *tenant_id, const char *id, mn_policy **out)
{
    struct pgs_store *s = (struct pgs_store *)st;
    const char *args[] = { tenant_id, id };
    int rc = pgs_query_one(s, PGS_POLICY_GET, args, 2, &pgs_policy_reader, (void **)out,
                           "reading a policy");
    if (rc == MN_ENOTFOUND)
        mni_store_no_policy(s->base.db, "reading a policy", id);
    return rc;
}

int pgs_policy_list(struct mni_store *st, const char *tenant_id, mn_policy_list **out)
{
    struct pgs_store *s = (struct pgs_store *)st;
    mn_policy_list *l = calloc(1, sizeof *l);
    int rc = l ? pgs_query(s, PGS_POLICY_LIST, &tenant_id, 1, &pgs_policy_reader,
                           (void **)&l->items, &l->count, "listing policies")
               : mni_seterr(s->base.db, MN_ENOMEM, "out of memory listing policies");
    if (rc != MN_OK) {
        free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}
