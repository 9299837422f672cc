/* Schema of the PostgreSQL backend: per-connection setup, pgvector detection, creating and
 * migrating (sql/postgres/NNN_*.sql, recorded in schema_migrations), and the embedding
 * settings a database is made with. */
#include "store/postgres/pg.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/migrations.h"
#include "core/vector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int latest_version(void)
{
    int v = 0;
    for (const struct mni_migration *m = mni_postgres_migrations; m->version; m++)
        v = m->version;
    return v;
}

/* Runs fixed SQL with text parameters outside the prepared set (schema work, done rarely);
 * *res (may be NULL) receives the result. */
static int run_params(struct pgs_store *s, struct pgs_conn *c, const char *sql,
                      const char *const *params, int n, PGresult **res, const char *doing)
{
    return pgs_result(s, c, PQexecParams(c->pg, sql, n, NULL, params, NULL, NULL, 0), res,
                      doing);
}

/* The first column of the first row as a malloc'd string (NULL when no row or NULL). */
static int query_text(struct pgs_store *s, struct pgs_conn *c, const char *sql,
                      const char *const *params, int n, char **out, const char *doing)
{
    PGresult *r;
    *out = NULL;
    int rc = run_params(s, c, sql, params, n, &r, doing);
    if (rc != MN_OK)
        return rc;
    if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
        *out = strdup(PQgetvalue(r, 0, 0));
        if (!*out)
            rc = mni_seterr(s->base.db, MN_ENOMEM, "%s: out of memory", doing);
    }
    PQclear(r);
    return rc;
}

int pgs_conn_setup(struct pgs_store *s, struct pgs_conn *c)
{
    /* A fresh session, even where one server session is shared by its successive clients
     * (PGlite's socket server): no prepared statements or settings of an earlier one. */
    int rc = pgs_exec_text(s, c, "DISCARD ALL", "starting a session");
    if (rc == MN_OK && s->opt.schema) {
        /* Our schema first; public after it, where pgvector's type lives. */
        char path[96];
        snprintf(path, sizeof path, "%s, public", s->opt.schema);
        const char *p[] = { path };
        rc = run_params(s, c, "SELECT set_config('search_path', $1, false)", p, 1, NULL,
                        "choosing the URL's schema");
    }
    if (rc == MN_OK && (s->base.flags & MN_OPEN_READONLY))
        rc = pgs_exec_text(s, c, "SET default_transaction_read_only = on",
                           "opening read-only");
    return rc;
}

/* Whether the migrations table exists (*exists), and whether the server is PGlite's (*pglite):
 * one round trip, the first of an open with schema=NAME (without, asked only when read_state
 * found no manushya tables). With schema=NAME the table is looked up in that schema only: the
 * search_path goes on to public, whose tables (of a database opened without the option) must
 * never stand in for a schema that does not exist yet or has none. Unqualified names are safe
 * once it has. */
static int find_migrations(struct pgs_store *s, struct pgs_conn *c, int *exists, int *pglite)
{
    const char *p[] = { s->opt.schema };
    const char *sql = s->opt.schema
                          ? "SELECT to_regclass(format('%I.schema_migrations', $1::text))::text, "
                            "version()"
                          : "SELECT to_regclass('schema_migrations')::text, version()";
    PGresult *r;
    int rc = run_params(s, c, sql, p, s->opt.schema ? 1 : 0, &r, "reading the schema version");
    if (rc != MN_OK)
        return rc;
    *exists = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0);
    *pglite = PQntuples(r) > 0 && strstr(PQgetvalue(r, 0, 1), "PGlite") != NULL;
    PQclear(r);
    return MN_OK;
}

int pgs_schema_version_on(struct pgs_store *s, struct pgs_conn *c, int *version)
{
    char *v = NULL;
    int exists = 0, pglite = 0;
    *version = 0;
    int rc = find_migrations(s, c, &exists, &pglite);
    if (rc != MN_OK || !exists)
        return rc;
    rc = query_text(s, c, "SELECT max(version)::text FROM schema_migrations", NULL, 0, &v,
                    "reading the schema version");
    if (v)
        *version = atoi(v);
    free(v);
    return rc;
}

/* Applies the migrations up to version upto (0 = all) on c, in one transaction. For tests and
 * `manushya migrate`. */
static int pgs_migrate(struct pgs_store *s, struct pgs_conn *c, int upto, int dim, const char *embedder,
                int vector)
{
    char parts[16], dims[16], now[24];
    snprintf(parts, sizeof parts, "%d", s->opt.partitions);
    snprintf(dims, sizeof dims, "%d", dim);
    snprintf(now, sizeof now, "%lld", (long long)mni_now_ms());
    int version = 0;
    int rc = pgs_exec_text(s, c, "BEGIN", "starting the migration");
    /* Of two processes migrating the same database at once, the second waits here and then
     * finds the work done. */
    if (rc == MN_OK)
        rc = pgs_exec_text(s, c, "SELECT pg_advisory_xact_lock(7232950466535571245)",
                           "waiting for another migration");
    if (rc == MN_OK && s->opt.schema) {
        /* The name was checked to be plain (postgres/url.c); the server quotes it anyway. */
        char *create = NULL;
        const char *p[] = { s->opt.schema };
        rc = query_text(s, c, "SELECT format('CREATE SCHEMA IF NOT EXISTS %I', $1::text)", p, 1,
                        &create, "creating the URL's schema");
        if (rc == MN_OK && create)
            rc = pgs_exec_text(s, c, create, "creating the URL's schema");
        free(create);
    }
    if (rc == MN_OK && vector == PGS_VEC_PGVECTOR)
        rc = pgs_exec_text(s, c, "CREATE EXTENSION IF NOT EXISTS vector SCHEMA public",
                           "installing pgvector (CREATE EXTENSION vector)");
    if (rc == MN_OK)
        rc = pgs_exec_text(s, c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                           "version int PRIMARY KEY, name text NOT NULL, "
                           "applied_at bigint NOT NULL)", "recording the schema version");
    if (rc == MN_OK)
        rc = pgs_schema_version_on(s, c, &version);
    if (rc == MN_OK) {
        const char *p[] = { parts, vector == PGS_VEC_PGVECTOR ? "pgvector" : "local", dims };
        rc = run_params(s, c, "SELECT set_config('manushya.partitions', $1, true), "
                        "set_config('manushya.vector', $2, true), "
                        "set_config('manushya.dim', $3, true)", p, 3, NULL,
                        "preparing the migration");
    }
    for (const struct mni_migration *m = mni_postgres_migrations; rc == MN_OK && m->version;
         m++) {
        if (m->version <= version || (upto && m->version > upto))
            continue;
        char doing[160], ver[16];
        snprintf(doing, sizeof doing, "applying migration %s", m->name);
        snprintf(ver, sizeof ver, "%d", m->version);
        rc = pgs_exec_text(s, c, m->sql, doing);
        const char *p[] = { ver, m->name, now };
        if (rc == MN_OK)
            rc = run_params(s, c, "INSERT INTO schema_migrations (version, name, applied_at) "
                            "VALUES ($1, $2, $3)", p, 3, NULL, doing);
    }
    /* The first opener's embedding settings win. */
    if (rc == MN_OK) {
        const char *p[] = { dims, embedder };
        rc = run_params(s, c, "INSERT INTO meta (key, value) VALUES ('embed_dim', $1), "
                        "('embedder', $2) ON CONFLICT (key) DO NOTHING", p, 2, NULL,
                        "recording the embedding settings");
    }
    if (rc == MN_OK)
        return pgs_exec_text(s, c, "COMMIT", "committing the migration");
    if (PQstatus(c->pg) == CONNECTION_OK)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    return rc;
}

const char *const pgs_once_keys[PGS_ONCE_KEYS] = {
    [PGS_ONCE_DIM] = "embed_dim",           [PGS_ONCE_EMBEDDER] = "embedder",
    [PGS_ONCE_VECTOR] = "vector",           [PGS_ONCE_MODEL] = "embed_model",
    [PGS_ONCE_ENCRYPTION] = "encryption",   [PGS_ONCE_HASHED] = "content_hashed",
    [PGS_ONCE_INDEX_ID] = "index_id",       [PGS_ONCE_DEFAULTS] = "default_policies",
};

/* What an open checks of a database with manushya tables, read in one round trip with the
 * write-once settings (s->once; the embedding settings among them, which every version has):
 * its schema version, the version of pgvector installed in it (NULL when none) and whether
 * the server is PGlite's. */
struct db_state {
    int version, pglite;
    char *pgvector;
};

static void db_state_free(struct db_state *st)
{
    free(st->pgvector);
    memset(st, 0, sizeof *st);
}

/* Reads *st and s->once. With missing (the open's first statement, where the URL names no
 * schema): a database without manushya tables fails it with undefined_table, which sets
 * *missing and is no error; the caller then asks find_migrations. Reading the settings first
 * saves a fresh connection a round trip and the server a statement, on every open but a
 * database's first. The meta columns follow pgs_once_keys. */
static int read_state(struct pgs_store *s, struct pgs_conn *c, struct db_state *st, int *missing)
{
    db_state_free(st);
    PGresult *r = PQexecParams(c->pg, "SELECT (SELECT max(version) FROM schema_migrations)::text, "
                               "(SELECT extversion FROM pg_extension WHERE extname = 'vector'), "
                               "version(), "
                               "(SELECT value FROM meta WHERE key = 'embed_dim'), "
                               "(SELECT value FROM meta WHERE key = 'embedder'), "
                               "(SELECT value FROM meta WHERE key = 'vector'), "
                               "(SELECT value FROM meta WHERE key = 'embed_model'), "
                               "(SELECT value FROM meta WHERE key = 'encryption'), "
                               "(SELECT value FROM meta WHERE key = 'content_hashed'), "
                               "(SELECT value FROM meta WHERE key = 'index_id'), "
                               "(SELECT value FROM meta WHERE key = 'default_policies')",
                               0, NULL, NULL, NULL, NULL, 0);
    const char *state = r && PQresultStatus(r) == PGRES_FATAL_ERROR
                            ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (missing)
        *missing = state && strcmp(state, "42P01") == 0;
    if (missing && *missing) {
        PQclear(r);
        return MN_OK;
    }
    int rc = pgs_result(s, c, r, &r, "reading the database settings");
    if (rc != MN_OK)
        return rc;
    for (int i = 0; i < PGS_ONCE_KEYS; i++) {
        free(s->once[i]);
        s->once[i] = NULL;
    }
    int oom = 0;
    if (PQntuples(r) > 0) {
        st->version = PQgetisnull(r, 0, 0) ? 0 : atoi(PQgetvalue(r, 0, 0));
        st->pgvector = pgs_text(r, 0, 1, &oom);
        st->pglite = strstr(PQgetvalue(r, 0, 2), "PGlite") != NULL;
        for (int i = 0; i < PGS_ONCE_KEYS; i++)
            s->once[i] = pgs_text(r, 0, 3 + i, &oom);
    }
    PQclear(r);
    return oom ? mni_seterr(s->base.db, MN_ENOMEM, "reading the database settings: out of "
                            "memory") : MN_OK;
}

/* The embedding settings are fixed when the database is made: vectors of another dimension
 * could not be compared with the stored ones (nor those of another embedder, which
 * api/provenance.c checks for every store). */
static int check_embedding(struct pgs_store *s, const char *embedder, int *dim)
{
    const char *vector = s->once[PGS_ONCE_VECTOR];
    int have = s->once[PGS_ONCE_DIM] ? atoi(s->once[PGS_ONCE_DIM]) : 0;
    int mode = vector && strcmp(vector, "pgvector") == 0 ? PGS_VEC_PGVECTOR
               : vector && strcmp(vector, "local") == 0 ? PGS_VEC_LOCAL : 0;
    if (have <= 0 || !s->once[PGS_ONCE_EMBEDDER] || !mode)
        return mni_seterr(s->base.db, MN_ECORRUPT, "the database's recorded settings (meta: "
                         "embed_dim, embedder, vector) are missing or damaged");
    if (*dim != 0 && *dim != have)
        return mni_seterr(s->base.db, MN_EINVAL, "the database stores %d-dimensional "
                         "embeddings but %d were asked for (embed_dim, or the dimension of the "
                         "\"%s\" embedder's model); leave embed_dim at 0 to use the "
                         "database's dimension", have, *dim, embedder);
    if (s->opt.vector != PGS_VEC_AUTO && s->opt.vector != mode)
        return mni_seterr(s->base.db, MN_EINVAL, "the database keeps its vectors %s, but the "
                         "URL asks for vector=%s; drop the option or give vector=%s",
                         mode == PGS_VEC_LOCAL ? "for libmanushya's own index (vector=local)"
                                               : "in pgvector columns (vector=pgvector)",
                         s->opt.vector == PGS_VEC_LOCAL ? "local" : "pgvector",
                         mode == PGS_VEC_LOCAL ? "local" : "pgvector");
    *dim = have;
    s->vector = mode;
    return MN_OK;
}

/* Whether CREATE EXTENSION could install pgvector here (or it is installed): asked only when a
 * database is made, since reading the server's extension directory costs milliseconds. */
static int find_pgvector(struct pgs_store *s, struct pgs_conn *c, int *available)
{
    char *v = NULL;
    int rc = query_text(s, c, "SELECT (EXISTS (SELECT FROM pg_extension WHERE extname = "
                        "'vector') OR EXISTS (SELECT FROM pg_available_extensions WHERE name = "
                        "'vector'))::int::text", NULL, 0, &v, "looking for pgvector");
    *available = v && strcmp(v, "1") == 0;
    free(v);
    return rc;
}

/* pgvector's HNSW indexes take halfvec of up to 4000 dimensions (vector of up to 2000:
 * sql/postgres/013_wide_vectors.sql chooses). */
#define PGVECTOR_MAX_DIM 4000

/* pgvector 0.8 added iterative index scans (hnsw.iterative_scan). */
static int has_iterative_scan(const char *version)
{
    int major = 0, minor = 0;
    return version && sscanf(version, "%d.%d", &major, &minor) == 2 &&
           (major > 0 || minor >= 8);
}

/* An open of a current database costs two round trips here and in pgs_conn_setup (the
 * session's reset, the settings with the server's version): each is a wake-up of both
 * processes, and a one-shot process pays them all before its first search. With schema=NAME,
 * one more: the migrations table is looked up in that schema first (find_migrations). */
int pgs_schema_prepare(struct pgs_store *s, const char *embedder, int *dim)
{
    s->base.schema_latest = latest_version();
    struct pgs_conn *c;
    int rc = pgs_get(s, &s->primary, &c);
    if (rc != MN_OK)
        return rc;
    int exists = 0, missing = 1, latest = latest_version(), available = 0;
    struct db_state st = {0};
    if (!s->opt.schema) /* unqualified names are the URL's tables then */
        rc = read_state(s, c, &st, &missing);
    if (rc == MN_OK && missing) {
        rc = find_migrations(s, c, &exists, &s->no_copy);
        if (rc == MN_OK && exists)
            rc = read_state(s, c, &st, NULL);
    }
    if (rc == MN_OK && !missing)
        s->no_copy = st.pglite;
    int mode = s->opt.vector, new_dim = *dim ? *dim : MNI_DEFAULT_DIM;
    if (rc == MN_OK && st.version == 0 && mode != PGS_VEC_LOCAL)
        rc = find_pgvector(s, c, &available);
    if (rc == MN_OK && st.version == 0) {
        if (s->base.flags & (MN_OPEN_NOCREATE | MN_OPEN_READONLY))
            rc = mni_seterr(s->base.db, MN_ENOTFOUND, "the PostgreSQL database (or schema) has "
                           "no manushya tables yet, and the open was asked not to create them; "
                           "open it read-write once, or with MN_OPEN_MIGRATE");
        else if (mode != PGS_VEC_LOCAL && new_dim > PGVECTOR_MAX_DIM)
            rc = mni_seterr(s->base.db, MN_EUNSUPPORTED, "pgvector indexes vectors of at most "
                           "%d dimensions (as halfvec), and this database's would have %d; "
                           "add vector=local to the URL to keep them in a column and search "
                           "them with libmanushya's own index (up to %d dimensions)",
                           PGVECTOR_MAX_DIM, new_dim, MNI_VEC_MAX_DIM);
        else if (mode == PGS_VEC_AUTO && available)
            mode = PGS_VEC_PGVECTOR;
        else if (mode != PGS_VEC_LOCAL && !available)
            rc = mni_seterr(s->base.db, MN_EUNSUPPORTED, "the PostgreSQL server has no pgvector "
                           "extension for server-side vector search; install it (Debian: "
                           "postgresql-15-pgvector), or add vector=local to the URL to keep "
                           "vectors in a column and search them with libmanushya's own index");
    }
    if (rc == MN_OK && st.version > latest)
        rc = mni_seterr(s->base.db, MN_ECORRUPT, "the database has schema version %d, made by "
                       "a newer libmanushya; this library (%s) knows versions up to %d: "
                       "upgrade libmanushya to open it", st.version, MN_VERSION, latest);
    /* MN_OPEN_MIGRATE: migrate, whatever the URL says. */
    int migrate = s->opt.migrate || (s->base.flags & MN_OPEN_MIGRATE);
    if (rc == MN_OK && st.version < latest) {
        if (st.version > 0 && (!migrate || (s->base.flags & MN_OPEN_READONLY)))
            rc = mni_seterr(s->base.db, MN_EUNSUPPORTED, "the database has schema version %d "
                           "and this libmanushya needs %d; open it read-write with "
                           "MN_OPEN_MIGRATE in mn_config.flags to migrate it (the URL says "
                           "migrate=no, or the open is read-only)", st.version, latest);
        else if (!migrate)
            rc = mni_seterr(s->base.db, MN_ENOTFOUND, "the database has no manushya tables and "
                           "the URL says migrate=no; open it once with MN_OPEN_MIGRATE in "
                           "mn_config.flags to create them");
        else
            rc = pgs_migrate(s, c, 0, new_dim, embedder,
                             st.version == 0 ? mode : PGS_VEC_AUTO);
        if (rc == MN_OK) /* the settings the migration recorded (or found) */
            rc = read_state(s, c, &st, NULL);
    }
    if (rc == MN_OK)
        rc = check_embedding(s, embedder, dim);
    if (rc == MN_OK && s->vector == PGS_VEC_PGVECTOR)
        s->iterative_scan = has_iterative_scan(st.pgvector);
    db_state_free(&st);
    pgs_put(s, &s->primary, c);
    return rc;
}
