/* Identities in the SQLite backend. */
#include "store/sqlite/sqlite.h"
#include "store/notfound.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>

int sq_identity_insert(struct mni_store *st, const mn_identity *i)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_IDENTITY_INSERT);
    if (q) {
        sq_bind_text(q, 1, i->id);
        sq_bind_text(q, 2, i->tenant_id);
        sq_bind_text(q, 3, i->external_id);
        sq_bind_text(q, 4, i->role);
        sq_bind_text(q, 5, i->claims);
        sqlite3_bind_int(q, 6, i->active);
        sqlite3_bind_int64(q, 7, i->created_at);
        sqlite3_bind_int64(q, 8, i->updated_at);
        char taken[220];
        snprintf(taken, sizeof taken, "the tenant already has an identity with external_id "
                 "\"%.128s\"; pick another", i->external_id);
        rc = sq_insert_unique(s, c, q, "creating an identity", taken);
    }
    sq_conn_put(s, c);
    return q ? rc : MN_EBACKEND;
}

int sq_identity_get(struct mni_store *st, const char *tenant_id, const char *id_or_external,
                    mn_identity **out)
{
    struct sq_store *s = (struct sq_store *)st;
    const char *args[] = { tenant_id, id_or_external };
    int rc = sq_query_one(s, SQ_IDENTITY_GET, args, 2, &sq_identity_reader, (void **)out,
                          "reading an identity");
    if (rc == MN_ENOTFOUND)
        mni_store_no_identity(s->base.db, id_or_external);
    return rc;
}

int sq_identity_list(struct mni_store *st, const char *tenant_id, mn_identity_list **out)
{
    struct sq_store *s = (struct sq_store *)st;
    mn_identity_list *l = calloc(1, sizeof *l);
    int rc = l ? sq_query(s, SQ_IDENTITY_LIST, &tenant_id, 1, &sq_identity_reader, 0,
                          (void **)&l->items, &l->count, "listing identities")
               : mni_seterr(s->base.db, MN_ENOMEM, "out of memory listing identities");
    if (rc != MN_OK) {
        free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

int sq_identity_set_active(struct mni_store *st, const char *tenant_id, const char *id, int active,
                           int64_t now)
{
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int rc = sq_conn_get(s, &c);
    if (rc != MN_OK)
        return rc;
    sqlite3_stmt *q = sq_stmt(s, c, SQ_IDENTITY_SET_ACTIVE);
    if (q) {
        sq_bind_text(q, 1, tenant_id);
        sq_bind_text(q, 2, id);
        sqlite3_bind_int(q, 3, active);
        sqlite3_bind_int64(q, 4, now);
        rc = sq_exec(s, c, q, "changing an identity");
        if (rc == MN_OK && sqlite3_changes(c->db) == 0)
            rc = mni_store_identity_gone(s->base.db, id);
    }
    sq_conn_put(s, c);
    return q ? rc : MN_EBACKEND;
}

/* The history goes first: it finds its rows through the memories. */
int sq_identity_delete(struct mni_store *st, const char *tenant_id, const char *id)
{
    static const enum sq_stmt_id steps[] = {
        SQ_IDENTITY_DELETE_HISTORY, SQ_IDENTITY_DELETE_MEMORIES, SQ_IDENTITY_DELETE,
    };
    struct sq_store *s = (struct sq_store *)st;
    struct sq_conn *c;
    int64_t seq;
    int rc = sq_write_begin(s, &c, 1, &seq);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < sizeof steps / sizeof *steps; i++) {
        sqlite3_stmt *q = sq_stmt(s, c, steps[i]);
        if (!q) {
            rc = MN_EBACKEND;
            break;
        }
        sq_bind_text(q, 1, tenant_id);
        sq_bind_text(q, 2, id);
        rc = sq_exec(s, c, q, "deleting an identity");
        if (rc == MN_OK && steps[i] == SQ_IDENTITY_DELETE && sqlite3_changes(c->db) == 0)
            rc = mni_store_identity_gone(s->base.db, id);
    }
    rc = sq_write_end(s, c, rc);
    if (rc == MN_OK)
        sq_changed(s, tenant_id);
    return rc;
}
