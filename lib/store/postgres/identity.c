/* Identities in the PostgreSQL backend. */
#include "store/postgres/pg.h"
#include "store/notfound.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>

int pgs_identity_insert(struct mni_store *st, const mn_identity *i)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_conn *c;
    int rc = pgs_get(s, &s->primary, &c);
    if (rc != MN_OK)
        return rc;
    struct pgs_args a = {0};
    pgs_arg_text(&a, i->id);
    pgs_arg_text(&a, i->tenant_id);
    pgs_arg_text(&a, i->external_id);
    pgs_arg_text(&a, i->role);
    pgs_arg_text(&a, i->claims);
    pgs_arg_int(&a, i->active);
    pgs_arg_int(&a, i->created_at);
    pgs_arg_int(&a, i->updated_at);
    char taken[220];
    snprintf(taken, sizeof taken, "the tenant already has an identity with external_id "
             "\"%.128s\"; pick another", i->external_id);
    rc = pgs_insert_unique(s, c, PGS_IDENTITY_INSERT, &a, "creating an identity", taken);
    pgs_put(s, &s->primary, c);
    return rc;
}

int pgs_identity_get(struct mni_store *st, const char *tenant_id, const char *id_or_external,
                     mn_identity **out)
{
    struct pgs_store *s = (struct pgs_store *)st;
    const char *args[] = { tenant_id, id_or_external };
    int rc = pgs_query_one(s, PGS_IDENTITY_GET, args, 2, &pgs_identity_reader, (void **)out,
                           "reading an identity");
    if (rc == MN_ENOTFOUND)
        mni_store_no_identity(s->base.db, id_or_external);
    return rc;
}

int pgs_identity_list(struct mni_store *st, const char *tenant_id, mn_identities **out)
{
    struct pgs_store *s = (struct pgs_store *)st;
    mn_identities *l = calloc(1, sizeof *l);
    int rc = l ? pgs_query(s, PGS_IDENTITY_LIST, &tenant_id, 1, &pgs_identity_reader,
                           (void **)&l->items, &l->count, "listing identities")
               : mni_seterr(s->base.db, MN_ENOMEM, "out of memory listing identities");
    if (rc != MN_OK) {
        free(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

int pgs_identity_set_active(struct mni_store *st, const char *tenant_id, const char *id,
                            int active, int64_t now)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_text(&a, id);
    pgs_arg_int(&a, active);
    pgs_arg_int(&a, now);
    PGresult *res = NULL;
    int rc = pgs_run_on(s, &s->primary, PGS_IDENTITY_SET_ACTIVE, &a, &res,
                        "changing an identity");
    if (rc == MN_OK && pgs_changes(res) == 0)
        rc = mni_store_identity_gone(s->base.db, id);
    PQclear(res);
    return rc;
}

/* The history goes first: it finds its rows through the memories. */
int pgs_identity_delete(struct mni_store *st, const char *tenant_id, const char *id)
{
    static const enum pgs_stmt_id steps[] = {
        PGS_IDENTITY_DELETE_HISTORY, PGS_IDENTITY_DELETE_MEMORIES, PGS_IDENTITY_DELETE,
    };
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_conn *c;
    int64_t seq;
    int rc = pgs_write_begin(s, &c, 1, &seq);
    if (rc != MN_OK)
        return rc;
    for (size_t i = 0; rc == MN_OK && i < sizeof steps / sizeof *steps; i++) {
        struct pgs_args a = {0};
        pgs_arg_text(&a, tenant_id);
        pgs_arg_text(&a, id);
        PGresult *res = NULL;
        rc = pgs_run(s, c, steps[i], &a, &res, "deleting an identity");
        if (rc == MN_OK && steps[i] == PGS_IDENTITY_DELETE && pgs_changes(res) == 0)
            rc = mni_store_identity_gone(s->base.db, id);
        PQclear(res);
    }
    rc = pgs_write_end(s, c, rc);
    if (rc == MN_OK)
        mni_store_changed(&s->base, tenant_id);
    return rc;
}
