/* The change feed of the PostgreSQL backend: what the vector index (index/vindex.c) reads to
 * follow the store when vectors are kept for it (vector=local), and the public feed
 * (api/feed.c) reads always. Rows carry the seq of their last change; hard deletes leave
 * tombstones (a trigger, sql/postgres/003_index_feed.sql and 017_public_feed.sql).
 * The feed and the sequence are always read on the primary: a replica's lag would make an
 * index skip changes. Also pruning the tombstones, and the meta settings. */
#include "store/postgres/pg.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int pgs_seq_get(struct mni_store *st, int64_t *seq)
{
    struct pgs_store *s = (struct pgs_store *)st;
    PGresult *res = NULL;
    int rc = pgs_run_on(s, &s->primary, PGS_SEQ_GET, NULL, &res, "reading the change sequence");
    if (rc == MN_OK && PQntuples(res) != 1)
        rc = mni_seterr(s->base.db, MN_ECORRUPT, "the change sequence row is missing; the "
                       "database is damaged");
    else if (rc == MN_OK)
        *seq = pgs_int(res, 0, 0);
    PQclear(res);
    return rc;
}

struct feed {
    struct pgs_store *s;
    mni_change_fn fn;
    void *ctx;
    float *vec;
};

static int feed_row(void *ctx, const PGresult *r)
{
    struct feed *f = ctx;
    struct mni_change ch;
    memset(&ch, 0, sizeof ch);
    ch.key = pgs_int(r, 0, 0);
    ch.seq = pgs_int(r, 0, 1);
    ch.gone = (int)pgs_int(r, 0, 2);
    ch.identity_id = PQgetisnull(r, 0, 5) ? NULL : PQgetvalue(r, 0, 5);
    ch.type = PQgetisnull(r, 0, 6) ? NULL : PQgetvalue(r, 0, 6);
    ch.id = PQgetisnull(r, 0, 8) ? NULL : PQgetvalue(r, 0, 8);
    ch.version = pgs_int(r, 0, 9);
    ch.session = PQgetisnull(r, 0, 10) ? NULL : PQgetvalue(r, 0, 10);
    if (!ch.gone) {
        ch.deleted = (int)pgs_int(r, 0, 3);
        ch.restored = (int)pgs_int(r, 0, 11);
        ch.expires_at = pgs_int(r, 0, 4);
        ch.metadata = PQgetvalue(r, 0, 12);
        ch.importance = pgs_double(r, 0, 13);
        ch.created_at = pgs_int(r, 0, 14);
        ch.updated_at = pgs_int(r, 0, 15);
        int got = pgs_vec(f->s, r, 0, 7, f->vec);
        if (got < 0)
            return -mni_seterr(f->s->base.db, MN_ECORRUPT, "memory key %lld has an embedding of "
                              "another size than the database's %d dimensions; the database "
                              "is damaged", (long long)ch.key, f->s->base.dim);
        ch.embedding = got ? f->vec : NULL;
    }
    return f->fn(f->ctx, &ch) ? 1 : 0;
}

int pgs_memory_changes(struct mni_store *st, const char *tenant_id, const char *owner,
                       int64_t after_seq,
                       int64_t after_key, int64_t upto_seq, size_t limit, mni_change_fn fn,
                       void *ctx)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct feed f = { s, fn, ctx, malloc((size_t)s->base.dim * sizeof(float)) };
    if (!f.vec)
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory reading the change feed");
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_int(&a, after_seq);
    pgs_arg_int(&a, after_key);
    pgs_arg_int(&a, upto_seq);
    if (limit)
        pgs_arg_int(&a, (int64_t)limit);
    else
        pgs_arg_text(&a, NULL);
    pgs_arg_text(&a, owner);
    int rc = pgs_each_on(s, &s->primary, PGS_MEMORY_CHANGES, &a, feed_row, &f,
                         "reading the change feed");
    free(f.vec);
    return rc;
}

struct seqs {
    mni_seq_fn fn;
    void *ctx;
};

static int seq_row(void *ctx, const PGresult *r)
{
    struct seqs *q = ctx;
    q->fn(q->ctx, pgs_int(r, 0, 0), pgs_int(r, 0, 1));
    return 0;
}

int pgs_memory_seqs(struct mni_store *st, const char *tenant_id, int64_t upto_seq, mni_seq_fn fn,
                    void *ctx)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct seqs q = { fn, ctx };
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_int(&a, upto_seq);
    return pgs_each_on(s, &s->primary, PGS_MEMORY_SEQS, &a, seq_row, &q,
                       "reading the memories' sequence numbers");
}

/* On the primary, as the feed: kept by the triggers of sql/postgres/020_memory_digest.sql; a
 * tenant without a row has none. */
int pgs_memory_digest(struct mni_store *st, const char *tenant_id, int64_t *n, int64_t *sum)
{
    struct pgs_store *s = (struct pgs_store *)st;
    *n = *sum = 0;
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    PGresult *res = NULL;
    int rc = pgs_run_on(s, &s->primary, PGS_MEMORY_DIGEST, &a, &res,
                        "reading the memories' digest");
    if (rc == MN_OK && PQntuples(res) == 1) {
        *n = pgs_int(res, 0, 0);
        *sum = pgs_int(res, 0, 1);
    }
    PQclear(res);
    return rc;
}

int pgs_meta_get(struct mni_store *st, const char *key, char **value)
{
    struct pgs_store *s = (struct pgs_store *)st;
    *value = NULL;
    for (int i = 0; i < PGS_ONCE_KEYS; i++)
        if (s->once[i] && strcmp(key, pgs_once_keys[i]) == 0)
            return (*value = strdup(s->once[i]))
                       ? MN_OK
                       : mni_seterr(st->db, MN_ENOMEM, "out of memory reading a setting");
    struct pgs_args a = {0};
    pgs_arg_text(&a, key);
    PGresult *res = NULL;
    int rc = pgs_run_on(s, &s->primary, MNI_META_GET, &a, &res, "reading a setting");
    int oom = 0;
    if (rc == MN_OK && PQntuples(res) == 1)
        *value = pgs_text(res, 0, 0, &oom);
    if (oom)
        rc = mni_seterr(s->base.db, MN_ENOMEM, "out of memory reading a setting");
    PQclear(res);
    return rc;
}

int pgs_meta_put(struct mni_store *st, const char *key, const char *value)
{
    struct pgs_store *s = (struct pgs_store *)st;
    struct pgs_args a = {0};
    pgs_arg_text(&a, key);
    pgs_arg_text(&a, value);
    return pgs_run_on(s, &s->primary, MNI_META_PUT, &a, NULL, "recording a setting");
}

/* Tombstones are kept until every index had time to apply them (index/vindex.c decides when);
 * dropping them and raising the horizon in one transaction means an index never sees fewer
 * tombstones than the horizon it checks promises. */
int pgs_feed_prune(struct mni_store *st, const char *tenant_id, int64_t upto_seq)
{
    struct pgs_store *s = (struct pgs_store *)st;
    if (s->base.flags & MN_OPEN_READONLY)
        return MN_OK; /* nothing to prune from a database we may not write */
    struct pgs_conn *c;
    int rc = pgs_write_begin(s, &c, 0, NULL);
    if (rc != MN_OK)
        return rc;
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    pgs_arg_int(&a, upto_seq);
    rc = pgs_run(s, c, PGS_FEED_PRUNE, &a, NULL, "pruning the change feed's tombstones");
    if (rc == MN_OK)
        rc = pgs_run(s, c, PGS_FEED_HORIZON_PUT, &a, NULL, "recording the change feed's horizon");
    return pgs_write_end(s, c, rc);
}

/* On the primary, as the feed itself: a replica's older horizon could hide a prune. */
int pgs_feed_horizon(struct mni_store *st, const char *tenant_id, int64_t *seq)
{
    struct pgs_store *s = (struct pgs_store *)st;
    *seq = 0;
    struct pgs_args a = {0};
    pgs_arg_text(&a, tenant_id);
    PGresult *res = NULL;
    int rc = pgs_run_on(s, &s->primary, PGS_FEED_HORIZON_GET, &a, &res,
                        "reading the change feed's horizon");
    if (rc == MN_OK && PQntuples(res) == 1)
        *seq = pgs_int(res, 0, 0);
    PQclear(res);
    return rc;
}
