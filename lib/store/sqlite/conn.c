/* Connections of the SQLite backend: a small pool, so that readers on several threads run at
 * once (WAL mode lets them), statements prepared once per connection, errors and transactions. */
#include "store/sqlite/sqlite.h"
#include "core/metrics.h"
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

int sq_fail(struct sq_store *s, sqlite3 *db, int src, const char *doing)
{
    const char *why = db ? sqlite3_errmsg(db) : sqlite3_errstr(src);
    mn_db *h = s->base.db;
    switch (src & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return mni_seterr(h, MN_EBACKEND, "%s: the database %s stayed locked by another writer for "
                         "more than %d ms; retry, or raise busy_timeout_ms", doing, s->path, s->busy_ms);
    case SQLITE_NOTADB:
        return mni_seterr(h, MN_ECORRUPT, "%s: %s is not a manushya database (not a SQLite file); "
                         "give the path of a manushya database or a new file", doing, s->path);
    case SQLITE_CORRUPT:
        return mni_seterr(h, MN_ECORRUPT, "%s: the database %s is corrupt (%s); restore it from a "
                         "backup or export what is readable", doing, s->path, why);
    case SQLITE_NOMEM:
        return mni_seterr(h, MN_ENOMEM, "%s: out of memory", doing);
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return mni_seterr(h, MN_EBACKEND, "%s: cannot write or open %s (%s); check that the file and "
                         "its directory exist and are writable", doing, s->path, why);
    case SQLITE_FULL:
        return mni_seterr(h, MN_EBACKEND, "%s: the disk holding %s is full", doing, s->path);
    default:
        return mni_seterr(h, MN_EBACKEND, "%s: SQLite error on %s: %s", doing, s->path, why);
    }
}

int sq_conn_open(struct sq_store *s, struct sq_conn *c)
{
    int flags = SQLITE_OPEN_NOMUTEX | (s->readonly ? SQLITE_OPEN_READONLY
                                                   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        rc = sq_fail(s, c->db, rc, "opening the database");
        sq_conn_close(c);
        return rc;
    }
    sqlite3_busy_timeout(c->db, s->busy_ms);
    sqlite3_extended_result_codes(c->db, 1);
    /* WAL: readers never block the writer nor each other; synchronous=NORMAL is durable across
     * application crashes and loses at most the last commits on power loss, the usual WAL trade. */
    static const char *const pragmas[] = {
        "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = OFF",
        "PRAGMA temp_store = MEMORY", "PRAGMA cache_size = -65536",
        /* Reads through a memory map skip a copy per page: search scans every vector. */
        "PRAGMA mmap_size = 1073741824",
        /* Erasure (mn_tenant_delete, mn_identity_delete, hard deletes): SQLite otherwise
         * leaves deleted rows' bytes in free space and free pages of the file, readable by
         * anyone who gets the file. ON zeroes them at every delete, whatever the compile-time
         * default; the WAL's older frames are the erase's to clear (sqlite/driver.c). */
        "PRAGMA secure_delete = ON",
    };
    /* journal_mode = WAL rewrites the file header: not before the file is known to be ours
     * (sq_schema_prepare sets it on the first connection once it is). */
    for (size_t i = s->readonly || !s->recognised ? 1 : 0; i < sizeof pragmas / sizeof *pragmas;
         i++) {
        rc = sqlite3_exec(c->db, pragmas[i], NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            rc = sq_fail(s, c->db, rc, "opening the database");
            sq_conn_close(c);
            return rc;
        }
    }
    rc = sq_rank_register(c->db);
    if (rc != SQLITE_OK) {
        rc = sq_fail(s, c->db, rc, "registering the keyword ranking");
        sq_conn_close(c);
        return rc;
    }
    sq_checkpoint_attach(s, c->db);
    return MN_OK;
}

void sq_conn_close(struct sq_conn *c)
{
    for (int i = 0; i < SQ__COUNT; i++) {
        sqlite3_finalize(c->stmt[i]);
        c->stmt[i] = NULL;
    }
    sqlite3_close(c->db);
    c->db = NULL;
}

int sq_conn_get(struct sq_store *s, struct sq_conn **out)
{
    pthread_mutex_lock(&s->mu);
    if (s->nidle == 0)
        mni_metrics_inc(s->base.metrics, MNI_S_POOL_WAITS + MNI_POOL_SQLITE);
    while (s->nidle == 0)
        pthread_cond_wait(&s->cv, &s->mu);
    struct sq_conn *c = &s->conns[s->idle[--s->nidle]];
    pthread_mutex_unlock(&s->mu);
    mni_metrics_inc(s->base.metrics, MNI_S_POOL_IN_USE + MNI_POOL_SQLITE);
    /* Connections open on first use, so a handle that one thread uses costs one connection. */
    if (!c->db) {
        int rc = sq_conn_open(s, c);
        if (rc != MN_OK) {
            sq_conn_put(s, c);
            return rc;
        }
    }
    *out = c;
    return MN_OK;
}

void sq_conn_put(struct sq_store *s, struct sq_conn *c)
{
    mni_metrics_add(s->base.metrics, MNI_S_POOL_IN_USE + MNI_POOL_SQLITE, -1);
    pthread_mutex_lock(&s->mu);
    s->idle[s->nidle++] = (int)(c - s->conns);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

sqlite3_stmt *sq_stmt(struct sq_store *s, struct sq_conn *c, int id)
{
    sqlite3_stmt *st = c->stmt[id];
    if (!st) {
        int rc = sqlite3_prepare_v3(c->db, sq_sql(id), -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) {
            sq_fail(s, c->db, rc, "preparing a statement");
            return NULL;
        }
        c->stmt[id] = st;
        return st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

int sq_exec(struct sq_store *s, struct sq_conn *c, sqlite3_stmt *st, const char *doing)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = sq_fail(s, c->db, rc, doing);
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    return MN_OK;
}

int sq_begin(struct sq_store *s, struct sq_conn *c)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQ_BEGIN);
    return st ? sq_exec(s, c, st, "starting a transaction") : MN_EBACKEND;
}

int sq_end(struct sq_store *s, struct sq_conn *c, int rc)
{
    if (rc == MN_OK) {
        sqlite3_stmt *st = sq_stmt(s, c, SQ_COMMIT);
        rc = st ? sq_exec(s, c, st, "committing") : MN_EBACKEND;
        if (rc == MN_OK)
            return MN_OK;
    }
    /* The error already recorded is the one the caller should see; a failed rollback (the
     * transaction may be gone already) must not replace it. */
    if (sqlite3_get_autocommit(c->db) == 0) {
        sqlite3_stmt *st = c->stmt[SQ_ROLLBACK];
        if (!st && sqlite3_prepare_v3(c->db, sq_sql(SQ_ROLLBACK), -1, SQLITE_PREPARE_PERSISTENT,
                                      &st, NULL) == SQLITE_OK)
            c->stmt[SQ_ROLLBACK] = st;
        if (st) {
            sqlite3_reset(st);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
    }
    return rc;
}

/* Said before SQLite would say "attempt to write a readonly database" deep in a call. */
static int refuse_readonly(struct sq_store *s)
{
    return mni_seterr(s->base.db, MN_EBACKEND, "%s is open read-only; open it read-write to "
                     "change it", s->path);
}

int sq_write_begin(struct sq_store *s, int grouped, struct sq_conn **c, int64_t nseq,
                   int64_t *last_seq)
{
    if (s->readonly)
        return refuse_readonly(s);
    int rc = sq_writer_enter(s, grouped, c);
    if (rc == MN_OK && nseq > 0 && (rc = sq_bump_seq(s, *c, nseq, last_seq)) != MN_OK) {
        sq_writer_leave(s, *c, rc);
        *c = NULL;
    }
    return rc;
}

int sq_write_end(struct sq_store *s, struct sq_conn *c, int rc)
{
    return sq_writer_leave(s, c, rc);
}

void sq_bind_args(struct sq_store *s, sqlite3_stmt *q, const struct mni_args *a)
{
    for (int i = 0; a && i < a->n; i++) {
        const struct mni_arg *v = &a->v[i];
        switch (v->type) {
        case MNI_ARG_TEXT:
            sq_bind_text(q, i + 1, v->p);
            break;
        case MNI_ARG_INT:
            sqlite3_bind_int64(q, i + 1, v->i);
            break;
        case MNI_ARG_REAL:
            sqlite3_bind_double(q, i + 1, v->d);
            break;
        case MNI_ARG_BLOB:
            sqlite3_bind_blob(q, i + 1, v->p, (int)v->len, SQLITE_STATIC);
            break;
        case MNI_ARG_VEC: /* the floats as they are in memory */
            if (v->p)
                sqlite3_bind_blob(q, i + 1, v->p, s->base.dim * (int)sizeof(float),
                                  SQLITE_STATIC);
            else
                sqlite3_bind_null(q, i + 1);
            break;
        }
    }
}

int sq_run(struct sq_store *s, struct sq_conn *c, int id, const struct mni_args *a,
           int64_t *changed, const char *taken, const char *doing)
{
    struct sq_conn *own = NULL;
    int rc = c ? MN_OK : sq_write_begin(s, 0, &own, 0, NULL);
    if (rc != MN_OK)
        return rc;
    if (own)
        c = own;
    sqlite3_stmt *q = sq_stmt(s, c, id);
    if (!q) {
        rc = MN_EBACKEND;
    } else {
        sq_bind_args(s, q, a);
        int step = sqlite3_step(q);
        if (step == SQLITE_DONE || step == SQLITE_ROW)
            rc = MN_OK;
        else if (taken && (step == SQLITE_CONSTRAINT_UNIQUE ||
                           step == SQLITE_CONSTRAINT_PRIMARYKEY))
            rc = mni_seterr(s->base.db, MN_EEXISTS, "%s", taken);
        else
            rc = sq_fail(s, c->db, step, doing);
        sqlite3_reset(q);
        if (rc == MN_OK && changed)
            *changed = sqlite3_changes(c->db);
    }
    return own ? sq_write_end(s, own, rc) : rc;
}

int sq_bump_seq(struct sq_store *s, struct sq_conn *c, int64_t n, int64_t *last)
{
    sqlite3_stmt *st = sq_stmt(s, c, SQ_BUMP_SEQ);
    if (!st)
        return MN_EBACKEND;
    sqlite3_bind_int64(st, 1, n);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = sq_fail(s, c->db, rc, "advancing the change sequence");
        sqlite3_reset(st);
        return rc;
    }
    *last = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return MN_OK;
}

char *sq_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? strdup((const char *)t) : NULL;
}

int sq_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
    return v ? sqlite3_bind_text(st, idx, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, idx);
}
