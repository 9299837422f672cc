/* Schema of the SQLite backend: recognising our files, creating and migrating them.
 *
 * A manushya database carries PRAGMA application_id = MNI_SQLITE_APP_ID, so that a SQLite file
 * of some other program is refused instead of being "migrated" into ours, and
 * PRAGMA user_version = the number of the last migration applied (sql/sqlite/NNN_*.sql). */
#include "store/sqlite/sqlite.h"
#include "core/error.h"
#include "core/migrations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MNI_SQLITE_APP_ID 0x4d4e5348 /* "MNSH" */
#define SQ_PAGE_SIZE "16384"

static int latest_version(void)
{
    int v = 0;
    for (const struct mni_migration *m = mni_sqlite_migrations; m->version; m++)
        v = m->version;
    return v;
}

/* One integer from a one-row query; *found says whether there was a row. */
static int query_int(struct sq_store *s, struct sq_conn *c, const char *q, const char *bind,
                     int64_t *v, int *found)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, q, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(s, c->db, rc, "reading the schema");
    if (bind)
        sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    if (!ok)
        rc = sq_fail(s, c->db, rc, "reading the schema");
    sqlite3_finalize(st);
    return ok ? MN_OK : rc;
}

static int pragma_int(struct sq_store *s, struct sq_conn *c, const char *q, int64_t *v)
{
    int found;
    return query_int(s, c, q, NULL, v, &found);
}

int sq_schema_version_on(struct sq_store *s, struct sq_conn *c, int *version)
{
    int64_t v = 0;
    int rc = pragma_int(s, c, "PRAGMA user_version", &v);
    *version = (int)v;
    return rc;
}

static int run_script(struct sq_store *s, struct sq_conn *c, const char *sql, const char *doing)
{
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return MN_OK;
    rc = sq_fail(s, c->db, rc, doing);
    sqlite3_free(msg);
    return rc;
}

/* Reads meta.key into *v (as text, malloc'd; NULL when absent). */
static int meta_get(struct sq_store *s, struct sq_conn *c, const char *key, char **v)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(s, c->db, rc, "reading the database settings");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sq_text(st, 0) : NULL;
    int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
    if (!ok)
        rc = sq_fail(s, c->db, rc, "reading the database settings");
    sqlite3_finalize(st);
    return ok ? MN_OK : rc;
}

/* Records key = v unless the key is set already (the first writer's settings win). */
static int meta_put(struct sq_store *s, struct sq_conn *c, const char *key, const char *v)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return sq_fail(s, c->db, rc, "recording the database settings");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? MN_OK : sq_fail(s, c->db, rc, "recording the database settings");
}

/* Brings the file to the latest schema and records the embedding settings of a new database, in
 * one IMMEDIATE transaction: a failure leaves the file as it was, and of two processes creating
 * the same file at once the second, once it has the write lock, finds the work done. */
static int upgrade(struct sq_store *s, struct sq_conn *c, const char *embedder, int dim)
{
    int version, rc = sq_begin(s, c);
    if (rc == MN_OK)
        rc = sq_schema_version_on(s, c, &version);
    for (const struct mni_migration *m = mni_sqlite_migrations; rc == MN_OK && m->version; m++) {
        if (m->version <= version)
            continue;
        char doing[160], pragma[64];
        snprintf(doing, sizeof doing, "applying migration %s", m->name);
        rc = run_script(s, c, m->sql, doing);
        /* PRAGMA takes no parameters; the values are compiled-in integers, not input. */
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
        if (rc == MN_OK)
            rc = run_script(s, c, pragma, doing);
        snprintf(pragma, sizeof pragma, "PRAGMA application_id = %d", MNI_SQLITE_APP_ID);
        if (rc == MN_OK)
            rc = run_script(s, c, pragma, doing);
    }
    if (rc == MN_OK) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", dim);
        rc = meta_put(s, c, "embed_dim", buf);
        if (rc == MN_OK)
            rc = meta_put(s, c, "embedder", embedder);
    }
    return sq_end(s, c, rc);
}

/* The embedding settings are fixed when the database is made: vectors of another dimension
 * could not be compared with the stored ones (nor those of another embedder, which
 * api/provenance.c checks for every store). */
static int check_embedding(struct sq_store *s, struct sq_conn *c, const char *embedder, int *dim)
{
    char *stored_dim = NULL, *stored_embedder = NULL;
    int rc = meta_get(s, c, "embed_dim", &stored_dim);
    if (rc == MN_OK)
        rc = meta_get(s, c, "embedder", &stored_embedder);
    if (rc == MN_OK) {
        int have = stored_dim ? atoi(stored_dim) : 0;
        if (have <= 0 || !stored_embedder)
            rc = mni_seterr(s->base.db, MN_ECORRUPT, "%s: the recorded embedding settings are "
                           "missing or damaged", s->path);
        else if (*dim != 0 && *dim != have)
            rc = mni_seterr(s->base.db, MN_EINVAL, "%s stores %d-dimensional embeddings but %d "
                           "were asked for (embed_dim, or the dimension of the \"%s\" "
                           "embedder's model); use embed_dim %d (0 with the local embedder) and "
                           "a model of that dimension, or a new database", s->path, have, *dim,
                           embedder, have);
        else
            *dim = have;
    }
    free(stored_dim);
    free(stored_embedder);
    return rc;
}

int sq_schema_prepare(struct sq_store *s, struct sq_conn *c, const char *embedder, int *dim)
{
    int64_t app_id = 0, tables = 0;
    int found, version, latest = latest_version();
    s->base.schema_latest = latest;
    /* One read transaction: another process creating the file meanwhile must not be seen half
     * before and half after its commit. */
    int rc = run_script(s, c, "BEGIN", "reading the schema");
    if (rc == MN_OK)
        rc = pragma_int(s, c, "PRAGMA application_id", &app_id);
    if (rc == MN_OK)
        rc = query_int(s, c, "SELECT count(*) FROM sqlite_master", NULL, &tables, &found);
    if (rc == MN_OK)
        rc = sq_schema_version_on(s, c, &version);
    if (sqlite3_get_autocommit(c->db) == 0)
        sqlite3_exec(c->db, rc == MN_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
    if (rc != MN_OK)
        return rc;

    int fresh = tables == 0 && app_id == 0;
    if (!fresh && app_id != MNI_SQLITE_APP_ID)
        return mni_seterr(s->base.db, MN_ECORRUPT, "%s is a SQLite database of another program, "
                         "not a manushya database; give the path of a manushya database or of a "
                         "new file", s->path);
    if (version > latest)
        return mni_seterr(s->base.db, MN_ECORRUPT, "%s has schema version %d, made by a newer "
                         "libmanushya; this library (%s) knows versions up to %d: upgrade "
                         "libmanushya to open it", s->path, version, MN_VERSION, latest);
    /* Ours (or new): only now may it become WAL, which rewrites its header; a refused file is
     * left byte for byte as it was. */
    /* A new file gets bigger pages than SQLite's 4 KiB: a memory row (its vector alone is
     * 1.5 KiB at 384 dimensions) then shares a page with more neighbours, wasting less space,
     * and the WAL takes fewer, larger writes. Only an empty file can change its page size. */
    if (fresh && !s->readonly)
        sqlite3_exec(c->db, "PRAGMA page_size = " SQ_PAGE_SIZE, NULL, NULL, NULL);
    /* Switching to WAL needs an exclusive lock, and SQLite returns SQLITE_BUSY for it without
     * calling the busy handler: wait here for another process creating the same file. */
    for (int waited = 0; !s->readonly; waited += 5) {
        int src = sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (src == SQLITE_OK)
            break;
        if ((src & 0xff) != SQLITE_BUSY || waited >= s->busy_ms)
            return sq_fail(s, c->db, src, "switching the database to WAL");
        sqlite3_sleep(5);
    }
    s->recognised = 1;
    if (fresh || version < latest) {
        if (s->readonly)
            return mni_seterr(s->base.db, fresh ? MN_ENOTFOUND : MN_EUNSUPPORTED,
                             "%s is %s, which a read-only open cannot do; open it read-write "
                             "once", s->path, fresh ? "not a manushya database yet and needs "
                             "creating" : "from an older schema and needs migrating");
        rc = upgrade(s, c, embedder, *dim ? *dim : MNI_DEFAULT_DIM);
        if (rc != MN_OK)
            return rc;
    }
    return check_embedding(s, c, embedder, dim);
}
