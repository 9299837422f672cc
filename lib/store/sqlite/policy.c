/* Policies in the SQLite backend. Each change also advances the tenant's policy_gen, in the
 * same transaction, so that every process's caches see the change on their next decision. */
#include "store/sqlite/sqlite.h"
#include "store/notfound.h"
#include "core/error.h"

#include <stdlib.h>

static int bump_generation(struct sq_store *s, struct sq_conn *c, const char *tenant_id)
{
    sqlite3_stmt *q = sq_stmt(s, c, SQ_POLICY_GEN_BUMP);
    if (!q)
        return MN_EBACKEND;
    sq_bind_text(q, 1, tenant_id);
    return sq_exec(s, c, q, "recording a policy change");
}

/* Binds every column of p as POLICY_COLUMNS orders them. */
static void bind_policy(sqlite3_stmt *q, const mn_policy *p)
{
    sq_bind_text(q, 1, p->id);
    sq_bind_text(q, 2, p->tenant_id);
    sq_bind_text(q, 3, p->role);
    sq_bind_text(q, 4, p->rule);
    sqlite3_bind_int(q, 5, p->priority);
    sqlite3_bind_int(q, 6, p->active);
    sq_bind_text(q, 7, p->description);
    sqlite3_bind_int64(q, 8, p->created_at);
    sqlite3_bind_int64(q, 9, p->updated_at);
}

int sq_policy_insert_on(struct sq_store *s, struct sq_conn *c, const mn_policy *p)
{
    sqlite3_stmt *q = sq_stmt(s, c, SQ_POLICY_INSERT);
    if (!q)
        return MN_EBACKEND;
    bind_policy(q, p);
    return sq_exec(s, c, q, "adding a policy");
}

/* Runs one policy statement and the generation bump in one transaction. */
static int change(struct sq_store *s, enum sq_stmt_id id, const mn_policy *p,
                  const char *tenant_id, const char *policy_id, const char *doing)
{
    struct sq_conn *c;
    int rc = sq_write_begin(s, &c, 0, NULL);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, id);
    if (!q)
        rc = MN_EBACKEND;
    if (rc == MN_OK && p) {
        bind_policy(q, p);
    } else if (rc == MN_OK) {
        sq_bind_text(q, 1, tenant_id);
        sq_bind_text(q, 2, policy_id);
    }
    if (rc == MN_OK)
        rc = sq_exec(s, c, q, doing);
    if (rc == MN_OK && id != SQ_POLICY_INSERT && sqlite3_changes(c->db) == 0)
        rc = mni_store_no_policy(s->base.db, doing, policy_id);
    if (rc == MN_OK)
        rc = bump_generation(s, c, tenant_id);
    return sq_write_end(s, c, rc);
}

int sq_policy_insert(struct mni_store *st, const mn_policy *p)
{
    return change((struct sq_store *)st, SQ_POLICY_INSERT, p, p->tenant_id, p->id,
                  "adding a policy");
}

int sq_policy_update(struct mni_store *st, const mn_policy *p)
{
    return change((struct sq_store *)st, SQ_POLICY_UPDATE, p, p->tenant_id, p->id,
                  "updating a policy");
}

int sq_policy_delete(struct mni_store *st, const char *tenant_id, const char *id)
{
    return change((struct sq_store *)st, SQ_POLICY_DELETE, NULL, tenant_id, id,
                  "deleting a policy");
}

int sq_policy_get(struct mni_store *st, const char *tenant_id, const char *id, mn_policy **out)
{
    struct sq_store *s = (struct sq_store *)st;
    const char *args[] = { tenant_id, id };
    int rc = sq_query_one(s, SQ_POLICY_GET, args, 2, &sq_policy_reader, (void **)out,
                          "reading a policy");
    if (rc == MN_ENOTFOUND)
        mni_store_no_policy(s->base.db, "reading a policy", id);
    return rc;
}

int sq_policy_list(struct mni_store *st, const char *tenant_id, mn_policy_list **out)
{
    struct sq_store *s = (struct sq_store *)st;
    mn_policy_list *l = calloc(1, sizeof *l);
    int rc = l ? sq_query(s, SQ_POLICY_LIST, &tenant_id, 1, &sq_policy_reader, 0,
                          (void **)&l->items, &l->count, "listing policies")
               : mni_seterr(s->base.db, MN_ENOMEM, "out of memory listing policies");
    if (rc != MN_OK) {
        free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}
