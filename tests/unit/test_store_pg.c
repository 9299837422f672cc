/* The PostgreSQL backend over Debian's PostgreSQL 15 (tests/servers/postgres.sh, MN_PG_URL):
 * the conformance suite with vector=local, and what only a server can show: migrations, the
 * pool (exhaustion, reconnecting after a restart), the URL's options, and tenant isolation with
 * the server's own view of the rows. Each database is a fresh schema (schema=NAME). */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manushya.h"
#include "api/handle.h"
#include "core/migrations.h"
#include "index/vindex.h"
#include "store/postgres/pg.h"
#include "support/conformance.h"
#include "support/harness.h"

static const char *server(void)
{
    const char *u = getenv("MN_PG_URL");
    ck_assert_msg(u && *u, "MN_PG_URL is not set: run through `make check` (tests/run.sh "
                  "starts tests/servers/postgres.sh)");
    return u;
}

/* A schema name no other test (or process) uses. */
static const char *fresh_schema(void)
{
    static unsigned n;
    return th_fmt("t%ld_%u_%lld", (long)getpid(), n++, (long long)th_now_ms() % 100000000);
}

/* The URL of a schema on the server at base. */
static const char *url_on(const char *base, const char *schema, const char *options)
{
    return th_fmt("%s?schema=%s&vector=local&pool_size=4&pool_overflow=2%s%s", base, schema,
                  options && *options ? "&" : "", options ? options : "");
}

static const char *url_with(const char *schema, const char *options)
{
    return url_on(server(), schema, options);
}

static const char *make_url(void)
{
    return url_with(fresh_schema(), NULL);
}

/* ---- direct SQL, to see what the server holds ------------------------------------------------ */
static PGconn *pg_connect_to(const char *url, const char *schema)
{
    PGconn *c = PQconnectdb(url);
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    if (schema) {
        const char *p[] = { schema };
        PGresult *r = PQexecParams(c, "SELECT set_config('search_path', $1, false)", 1, NULL, p,
                                   NULL, NULL, 0);
        ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
        PQclear(r);
    }
    return c;
}

static PGconn *pg_connect(const char *schema)
{
    return pg_connect_to(server(), schema);
}

/* The one value sql returns, on the server's database at url (in schema, if not NULL). */
static const char *pg_text_at(const char *url, const char *schema, const char *sql)
{
    PGconn *c = pg_connect_to(url, schema);
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    ck_assert_int_eq(PQntuples(r), 1);
    const char *v = th_fmt("%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return v;
}

static const char *pg_text(const char *schema, const char *sql)
{
    return pg_text_at(server(), schema, sql);
}

static void pg_run(const char *schema, const char *sql)
{
    PGconn *c = pg_connect(schema);
    PGresult *r = PQexec(c, sql);
    ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* ---- schema and migrations --------------------------------------------------------------------- */

static int latest(void)
{
    int v = 0;
    for (const struct mni_migration *m = mni_postgres_migrations; m->version; m++)
        v = m->version;
    return v;
}

/* Undoes the latest migration, bringing a database back to the previous version as it was
 * shipped. A new migration needs its line here. */
static const char *undo_latest(void)
{
    static const struct { int version; const char *sql; } undo[] = {
        { 5, "DROP TABLE embed_cache" },
        { 6, "DROP TRIGGER memories_drop_embed_job ON memories; "
             "DROP FUNCTION mn_drop_embed_job(); DROP TABLE embed_jobs" },
        { 7, "ALTER TABLE tenants DROP COLUMN feed_horizon" },
        { 8, "DROP INDEX embed_jobs_claim_order" },
        { 9, "DROP TABLE apikeys" },
        { 10, "DROP TABLE audit_heads; DROP TABLE audit_log" },
        { 11, "DROP TABLE data_keys" },
        { 12, "DROP TABLE maintenance" },
        /* The search key of a pgvector database (none with vector=local); one wider than
         * 2000 dimensions could not have been made before it. */
        { 13, "SET client_min_messages = warning; DROP FUNCTION IF EXISTS mn_search_key" },
        { 14, "DROP INDEX memories_by_content; DROP INDEX memories_unhashed; "
              "DROP INDEX memories_by_external_key; "
              "ALTER TABLE memories DROP COLUMN content_hash, DROP COLUMN external_key" },
        { 15, "ALTER TABLE memories DROP COLUMN fts; ALTER TABLE memories DROP COLUMN words" },
        { 16, "DROP INDEX memories_by_session; ALTER TABLE memories DROP COLUMN session" },
        { 17, "ALTER TABLE memories DROP COLUMN restored; ALTER TABLE memory_tombstones "
              "DROP COLUMN memory_id, DROP COLUMN identity_id, DROP COLUMN type, "
              "DROP COLUMN session, DROP COLUMN version" },
        { 18, "DROP TABLE webhook_deliveries; DROP TABLE webhooks" },
        { 20, "DROP TRIGGER memories_digest_insert ON memories; "
              "DROP TRIGGER memories_digest_delete ON memories; "
              "DROP TRIGGER memories_digest_update ON memories; DROP FUNCTION mn_digest(); "
              "DROP TABLE memory_digest; DROP FUNCTION mn_digest_term(bigint, bigint)" },
    };
    for (size_t i = 0; i < sizeof undo / sizeof *undo; i++)
        if (undo[i].version == latest())
            return th_fmt("%s; DELETE FROM schema_migrations WHERE version = %d", undo[i].sql,
                          latest());
    ck_abort_msg("migration %d has no undo step in test_store_pg.c", latest());
    return NULL;
}

START_TEST(schema_partitioned_by_tenant)
{
    const char *schema = fresh_schema();
    mn_db *db = th_open(url_with(schema, "partitions=3"), NULL);
    mn_close(db);
    /* Every tenant table is hash-partitioned three ways, and every index leads with tenant_id,
     * but the claim's order across tenants (008_embed_jobs_claim.sql) and the keyword index
     * (015_keywords.sql: a GIN index holds no tenant_id, the partition narrows it and the
     * query's tenant_id filters its rows). */
    const char *tables[] = { "identities", "memories", "memory_history", "policies",
                             "memory_tombstones", "embed_jobs" };
    for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
        const char *q = th_fmt("SELECT count(*) FROM pg_inherits WHERE inhparent = '%s'::regclass",
                               tables[i]);
        ck_assert_str_eq(pg_text(schema, q), "3");
    }
    ck_assert_str_eq(pg_text(schema, "SELECT count(*) FROM pg_indexes WHERE schemaname = "
                             "current_schema() AND tablename IN ('identities', 'memories', "
                             "'memory_history', 'policies', 'memory_tombstones', "
                             "'embed_jobs') AND indexdef NOT LIKE '%(tenant_id%' AND "
                             "indexdef NOT LIKE '%(run_after, memory_key) WHERE (status = 1)' "
                             "AND indexdef NOT LIKE '%USING gin (fts)'"),
                      "0");
    ck_assert_str_eq(pg_text(schema, "SELECT max(version) FROM schema_migrations"),
                     th_fmt("%d", latest()));
}
END_TEST

START_TEST(migrate_from_previous_version)
{
    const char *schema = fresh_schema();
    const char *url = url_with(schema, NULL);
    mn_db *db = th_open(url, NULL);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    const char *id = th_add(db, &a, NULL, "kept across the migration");
    mn_close(db);
    pg_run(schema, undo_latest());
    /* migrate=no refuses, naming the fix. */
    db = NULL;
    int rc = mn_open(&db, th_fmt("%s&migrate=no", url), NULL);
    ck_assert_int_eq(rc, MN_EUNSUPPORTED);
    ck_assert_msg(strstr(mn_errmsg(db), "MN_OPEN_MIGRATE"), "%s", mn_errmsg(db));
    mn_close(db);
    db = th_open(url, NULL);
    ck_assert_str_eq(pg_text(schema, "SELECT max(version) FROM schema_migrations"),
                     th_fmt("%d", latest()));
    mn_memory *m = th_get(db, &a, id, 0);
    ck_assert_str_eq(m->text, "kept across the migration");
    mn_memory_free(m);
    TH_OK(db, mn_memory_delete(db, &a, id, MN_DELETE_HARD));
    ck_assert_str_eq(pg_text(schema, "SELECT count(*) FROM memory_tombstones"), "1");
    mn_close(db);
    /* `manushya migrate`'s way: MN_OPEN_MIGRATE migrates whatever the URL says. */
    pg_run(schema, undo_latest());
    mn_config cfg = {.version = MN_CONFIG_VERSION, .flags = MN_OPEN_MIGRATE};
    db = th_open(th_fmt("%s&migrate=no", url), &cfg);
    int version = 0;
    TH_OK(db, mn_schema_version(db, &version));
    ck_assert_int_eq(version, latest());
    mn_close(db);
}
END_TEST

START_TEST(migrate_no_on_empty_refuses)
{
    mn_db *db = NULL;
    int rc = mn_open(&db, url_with(fresh_schema(), "migrate=no"), NULL);
    ck_assert_int_eq(rc, MN_ENOTFOUND);
    ck_assert_msg(strstr(mn_errmsg(db), "MN_OPEN_MIGRATE"), "%s", mn_errmsg(db));
    mn_close(db);
}
END_TEST

/* A database whose public schema already holds manushya's tables (opened once without
 * schema=): schema=NAME still gets tables of its own, made in NAME; a read-only open of a
 * schema that has none is refused. Neither may fall through the search_path to public's. */
START_TEST(schema_never_falls_through_to_public)
{
    const char *name = fresh_schema(), *srv = server();
    pg_run(NULL, th_fmt("CREATE DATABASE %s", name));
    const char *conninfo = th_fmt("%.*s/%s", (int)(strrchr(srv, '/') - srv), srv, name);
    const char *base = th_fmt("%s?vector=local&pool_size=2", conninfo);
    mn_db *db = th_open(base, NULL);
    th_tenant(db, "in_public");
    mn_close(db);

    mn_config ro = {.version = MN_CONFIG_VERSION, .flags = MN_OPEN_READONLY};
    db = NULL;
    int rc = mn_open(&db, th_fmt("%s&schema=mine", base), &ro);
    ck_assert_msg(rc == MN_ENOTFOUND, "read-only open of a schema without tables: rc %d: %s", rc,
                  mn_errmsg(db));
    ck_assert_msg(strstr(mn_errmsg(db), "MN_OPEN_MIGRATE"), "%s", mn_errmsg(db));
    mn_close(db);

    db = th_open(th_fmt("%s&schema=mine", base), NULL);
    ck_assert_int_eq(th_count_tenants(db), 0); /* not public's tenant */
    th_tenant(db, "in_mine");
    mn_close(db);
    ck_assert_str_eq(pg_text_at(conninfo, NULL, "SELECT string_agg(name, ',') FROM mine.tenants"),
                     "in_mine");
    ck_assert_str_eq(pg_text_at(conninfo, NULL, "SELECT string_agg(name, ',') FROM "
                                "public.tenants"), "in_public");
    ck_assert_str_eq(pg_text_at(conninfo, NULL, "SELECT max(version) FROM "
                                "mine.schema_migrations"), th_fmt("%d", latest()));
    /* Opened again, it finds its own tables. */
    db = th_open(th_fmt("%s&schema=mine", base), NULL);
    ck_assert_int_eq(th_count_tenants(db), 1);
    mn_close(db);
    pg_run(NULL, th_fmt("DROP DATABASE %s WITH (FORCE)", name));
}
END_TEST

START_TEST(url_options_checked)
{
    const char *bad[] = { "vector=fast", "partitions=0", "pool_size=x", "schema=Bad-Name",
                          "read_url=http://x", "migrate=maybe", "ef_search", "pool_timeout=0" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mn_db *db = NULL;
        int rc = mn_open(&db, url_with(fresh_schema(), bad[i]), NULL);
        ck_assert_msg(rc == MN_EINVAL, "%s: rc %d: %s", bad[i], rc, mn_errmsg(db));
        mn_close(db);
    }
    /* libpq's own parameters pass through. */
    mn_db *db = th_open(url_with(fresh_schema(), "connect_timeout=5&application_name=mn"), NULL);
    mn_close(db);
}
END_TEST

START_TEST(no_pgvector_needs_vector_local)
{
    /* Debian's PostgreSQL 15 here has no pgvector: without vector=local the open says both
     * ways out. */
    mn_db *db = NULL;
    int rc = mn_open(&db, th_fmt("%s?schema=%s", server(), fresh_schema()), NULL);
    ck_assert_int_eq(rc, MN_EUNSUPPORTED);
    ck_assert_msg(strstr(mn_errmsg(db), "pgvector") && strstr(mn_errmsg(db), "vector=local"),
                  "%s", mn_errmsg(db));
    mn_close(db);
}
END_TEST

START_TEST(bad_server_is_a_clear_error)
{
    mn_db *db = NULL;
    int rc = mn_open(&db, "postgresql://postgres:secret@127.0.0.1:1/none?vector=local", NULL);
    ck_assert_int_eq(rc, MN_EBACKEND);
    ck_assert_msg(strstr(mn_errmsg(db), "cannot connect"), "%s", mn_errmsg(db));
    ck_assert_msg(!strstr(mn_errmsg(db), "secret"), "password in the message: %s", mn_errmsg(db));
    mn_close(db);
}
END_TEST

/* ---- the pool ---------------------------------------------------------------------------------- */

/* A search that scans the memories, which another session has locked: it holds the pool's
 * one connection until the lock goes. */
static void *hold(void *arg)
{
    mn_db *db = arg;
    mn_memories *l = NULL;
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = NULL);
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "anything", .k = 1};
    mn_memory_search(db, &a, &so, &l);
    mn_memories_free(l);
    return NULL;
}

START_TEST(pool_exhaustion_is_a_clear_timeout)
{
    const char *schema = fresh_schema();
    mn_config cfg = {.version = MN_CONFIG_VERSION, .index = MN_INDEX_NONE};
    mn_db *db = th_open(url_with(schema, NULL), &cfg);
    th_tenant(db, "acme");
    mn_close(db);
    /* One connection, no overflow, 300 ms to wait; the server holds the only connection with
     * a lock that a second session takes. */
    db = th_open(th_fmt("%s?schema=%s&vector=local&pool_size=1&pool_overflow=0&"
                        "pool_timeout_ms=300", server(), schema), &cfg);
    PGconn *locker = pg_connect(schema);
    PGresult *r = PQexec(locker, "BEGIN; LOCK TABLE memories IN ACCESS EXCLUSIVE MODE");
    ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    pthread_t t;
    pthread_create(&t, NULL, hold, db);
    usleep(300000); /* the thread is now blocked on the lock, holding the pool's connection */
    mn_tenant *tn = NULL;
    int rc = mn_tenant_get(db, "acme", &tn);
    ck_assert_int_eq(rc, MN_EBACKEND);
    ck_assert_msg(strstr(mn_errmsg(db), "pool_size") && strstr(mn_errmsg(db), "300 ms"), "%s",
                  mn_errmsg(db));
    r = PQexec(locker, "COMMIT");
    PQclear(r);
    PQfinish(locker);
    pthread_join(t, NULL);
    /* Free again: the same handle works. */
    TH_OK(db, mn_tenant_get(db, "acme", &tn));
    mn_tenant_free(tn);
    mn_close(db);
}
END_TEST

/* The server stops mid-run: the call in flight fails with MN_EBACKEND and leaves nothing; once
 * it is back the same handle works again, its pool reconnecting. */
START_TEST(server_restart_mid_run)
{
    const char *dir = th_tmppath("pg");
    const char *base = th_server("postgres", "start", dir);
    ck_assert_ptr_nonnull(base);
    mn_db *db = th_open(url_on(base, fresh_schema(), NULL), NULL);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    th_add(db, &a, NULL, "before the restart");
    th_state before;
    th_state_get(db, &before);

    th_server("postgres", "pause", dir);
    mn_memory_input in[50];
    for (int i = 0; i < 50; i++)
        in[i] = (mn_memory_input)TH_IN(.text = th_fmt("during the outage %d", i));
    int rc = mn_memory_add_many(db, &a, in, 50, NULL, NULL);
    ck_assert_int_eq(rc, MN_EBACKEND);
    ck_assert_msg(th_has_word(mn_errmsg(db), "connect|connection"), "%s", mn_errmsg(db));
    th_server("postgres", "start", dir);

    /* Nothing of the failed call is there; the handle carries on. */
    th_state after;
    th_state_get(db, &after);
    th_assert_state_eq(&before, &after, "failed add_many during the outage");
    th_add(db, &a, NULL, "after the restart");
    ck_assert_uint_eq(th_count_memories(db, &a, 0), 2);
    mn_close(db);
    th_server("postgres", "stop", dir);
}
END_TEST

/* A transaction cut off by the server in the middle of its statements keeps nothing. */
START_TEST(killed_transaction_keeps_nothing)
{
    /* A server of its own: the killer below ends every COPY into memories it sees. */
    const char *dir = th_tmppath("pg");
    const char *base = th_server("postgres", "start", dir);
    ck_assert_ptr_nonnull(base);
    mn_config cfg = {
        .version = MN_CONFIG_VERSION, .index = MN_INDEX_NONE, .ratelimit = MN_RATELIMIT_OFF};
    mn_db *db = th_open(url_on(base, fresh_schema(), "pool_size=1&pool_overflow=0"), &cfg);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    enum { BATCH = 2000 };
    static mn_memory_input in[BATCH];
    for (int i = 0; i < BATCH; i++)
        in[i] = (mn_memory_input)TH_IN(.text = th_fmt("batch row %d with some words", i));
    /* A second process kills the backend while it is busy inserting. */
    pid_t child = fork();
    ck_assert_int_ge(child, 0);
    if (child == 0) {
        PGconn *k = PQconnectdb(base);
        for (int i = 0; i < 1000; i++) {
            PGresult *r = PQexec(k, "SELECT count(pg_terminate_backend(pid)) FROM "
                                    "pg_stat_activity WHERE pid <> pg_backend_pid() AND "
                                    "state = 'active' AND query LIKE 'COPY memories%'");
            int killed = PQresultStatus(r) == PGRES_TUPLES_OK && atoi(PQgetvalue(r, 0, 0)) > 0;
            PQclear(r);
            if (killed)
                break;
            usleep(5000);
        }
        PQfinish(k);
        _exit(0);
    }
    int rc = MN_OK, rounds = 0;
    while (rc == MN_OK && rounds++ < 50)
        rc = mn_memory_add_many(db, &a, in, BATCH, NULL, NULL);
    int status;
    waitpid(child, &status, 0);
    ck_assert_msg(rc == MN_EBACKEND, "rc %d: %s", rc, mn_errmsg(db));
    ck_assert_msg(strstr(mn_errmsg(db), "nothing of this call was kept"), "%s", mn_errmsg(db));
    /* Whole batches only. */
    size_t n = th_count_memories(db, &a, 0);
    ck_assert_uint_eq(n, (size_t)(rounds - 1) * BATCH);
    th_add(db, &a, NULL, "the handle reconnects");
    ck_assert_uint_eq(th_count_memories(db, &a, 0), n + 1);
    mn_close(db);
    th_server("postgres", "stop", dir);
}
END_TEST

/* read_url: reads go to the replica's pool, writes to the primary. The "replica" here is the
 * same server under another application_name, which pg_stat_activity shows. */
START_TEST(read_url_takes_the_reads)
{
    const char *schema = fresh_schema();
    const char *replica = th_fmt("%s?application_name=mni_replica_%s", server(), schema);
    /* The replica's URL, percent-encoded as an option's value. */
    char enc[1024];
    size_t n = 0;
    for (const char *p = replica; *p && n + 4 < sizeof enc; p++)
        n += (size_t)(strchr(":/?&=@%", *p) ? snprintf(enc + n, 4, "%%%02X", *p)
                                             : snprintf(enc + n, 2, "%c", *p));
    const char *q = th_fmt("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                           "'mni_replica_%s'", schema);
    ck_assert_str_eq(pg_text(NULL, q), "0");
    mn_db *db = th_open(url_with(schema, th_fmt("read_url=%s", enc)), NULL);
    th_tenant(db, "acme");
    mn_tenants *l = NULL;
    TH_OK(db, mn_tenant_list(db, &l));
    ck_assert_uint_eq(l->count, 1);
    mn_tenants_free(l);
    ck_assert_str_eq(pg_text(NULL, q), "1");
    mn_close(db);
}
END_TEST

/* The ops other issues added, on postgres too: a tenant's own rate limits, and the embedding
 * cache (called through the store, as embed/cache.c does). */
/* A statement a connection has not run yet is prepared in the round trip that runs it (a
 * pipeline, postgres/exec.c): one the server refuses to prepare (here: its table is not this
 * library's) is a clear error that changes nothing, the connection serves the next call, and
 * the statement is prepared again once the table is back. */
START_TEST(failed_prepare_is_a_clear_error)
{
    const char *schema = fresh_schema();
    mn_db *db = th_open(url_with(schema, "pool_size=1&pool_overflow=0"), NULL);
    th_tenant(db, "acme");
    mn_actor a = TH_ACTOR(.tenant = "acme");
    mn_limit *l = NULL;
    pg_run(schema, "ALTER TABLE ratelimit_limits RENAME TO ratelimit_limits_gone");
    TH_RC(db, mn_limit_get(db, &a, "memory:create", &l), MN_ECORRUPT);
    ck_assert_msg(strstr(mn_errmsg(db), "not those of this libmanushya"), "%s", mn_errmsg(db));
    ck_assert_int_eq(th_count_tenants(db), 1); /* the one connection, idle again */
    pg_run(schema, "ALTER TABLE ratelimit_limits_gone RENAME TO ratelimit_limits");
    TH_OK(db, mn_limit_get(db, &a, "memory:create", &l));
    ck_assert_int_eq(l->overridden, 0);
    mn_limit_free(l);
    mn_close(db);
}
END_TEST

START_TEST(ratelimit_overrides_and_embed_cache)
{
    mn_db *db = th_open(make_url(), NULL);
    const char *acme = th_tenant(db, "acme");
    th_tenant(db, "other");
    mn_actor a = TH_ACTOR(.tenant = "acme"), o = TH_ACTOR(.tenant = "other");
    TH_OK(db, mn_limit_set(db, &a, "memory:create", 7, 60000));
    TH_OK(db, mn_limit_set(db, &a, "memory:create", 9, 60000)); /* replaces */
    mn_limit *l = NULL;
    TH_OK(db, mn_limit_get(db, &a, "memory:create", &l));
    ck_assert_int_eq(l->limit, 9);
    ck_assert_int_eq(l->overridden, 1);
    mn_limit_free(l);
    TH_OK(db, mn_limit_get(db, &o, "memory:create", &l));
    ck_assert_int_eq(l->overridden, 0); /* the other tenant keeps the built-in limit */
    mn_limit_free(l);
    TH_RC(db, mn_limit_delete(db, &o, "memory:create"), MN_ENOTFOUND);
    TH_OK(db, mn_limit_delete(db, &a, "memory:create"));
    TH_RC(db, mn_limit_delete(db, &a, "memory:create"), MN_ENOTFOUND);

    struct mni_store *st = db->store;
    unsigned char hashes[3 * 32];
    th_random_bytes(hashes, sizeof hashes, 7);
    float vecs[2 * 4] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[3 * 4] = {0};
    unsigned char hit[3] = {0};
    TH_OK(db, st->ops->embed_cache_put(st, acme, "m", 4, hashes, 2, vecs, 1));
    TH_OK(db, st->ops->embed_cache_put(st, acme, "m", 4, hashes, 2, vecs, 2)); /* kept as is */
    TH_OK(db, st->ops->embed_cache_get(st, acme, "m", 4, hashes, 3, out, hit));
    ck_assert(hit[0] && hit[1] && !hit[2]);
    ck_assert(memcmp(out, vecs, sizeof vecs) == 0);
    memset(hit, 0, sizeof hit);
    TH_OK(db, st->ops->embed_cache_get(st, "", "m", 4, hashes, 3, out, hit));
    ck_assert(!hit[0] && !hit[1] && !hit[2]); /* another scope sees nothing */
    mn_close(db);
}
END_TEST

/* The change feed's tombstones (index/vindex.c prunes them once its saved files no longer
 * need them): a prune drops the tenant's tombstones up to the seq, no other tenant's, and the
 * tenant's horizon only rises. */
static int64_t seq_now(mn_db *db)
{
    int64_t seq = 0;
    TH_OK(db, db->store->ops->seq_get(db->store, &seq));
    return seq;
}

static int64_t horizon(mn_db *db, const char *tenant_id)
{
    int64_t seq = -1;
    TH_OK(db, db->store->ops->feed_horizon(db->store, tenant_id, &seq));
    return seq;
}

/* Deletes a new memory of the actor's for good; returns the seq of the delete. */
static int64_t add_and_delete(mn_db *db, const mn_actor *a, const char *text)
{
    TH_OK(db, mn_memory_delete(db, a, th_add(db, a, NULL, text), MN_DELETE_HARD));
    return seq_now(db);
}

START_TEST(feed_prune_and_horizon)
{
    const char *schema = fresh_schema();
    mn_db *db = th_open(url_with(schema, NULL), NULL);
    const char *acme = th_tenant(db, "acme"), *other = th_tenant(db, "other");
    th_identity(db, "acme", "alice");
    th_identity(db, "other", "bob");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice"),
             o = TH_ACTOR(.tenant = "other", .identity = "bob");
    int64_t s1 = add_and_delete(db, &a, "first to go");
    int64_t s2 = add_and_delete(db, &a, "second to go");
    add_and_delete(db, &o, "the other tenant's");
    const char *count = "SELECT count(*) FROM memory_tombstones WHERE tenant_id = '%s'";
    ck_assert_str_eq(pg_text(schema, th_fmt(count, acme)), "2");
    ck_assert_int_eq(horizon(db, acme), 0);

    struct mni_store *st = db->store;
    TH_OK(db, st->ops->feed_prune(st, acme, s1));
    ck_assert_str_eq(pg_text(schema, th_fmt(count, acme)), "1");
    ck_assert_str_eq(pg_text(schema, th_fmt("SELECT seq FROM memory_tombstones WHERE "
                                            "tenant_id = '%s'", acme)),
                     th_fmt("%lld", (long long)s2));
    ck_assert_int_eq(horizon(db, acme), s1);
    /* An older prune (another process finishing late) lowers nothing. */
    TH_OK(db, st->ops->feed_prune(st, acme, s1 - 1));
    ck_assert_int_eq(horizon(db, acme), s1);
    TH_OK(db, st->ops->feed_prune(st, acme, s2));
    ck_assert_str_eq(pg_text(schema, th_fmt(count, acme)), "0");
    ck_assert_int_eq(horizon(db, acme), s2);
    /* The other tenant keeps its tombstone and its horizon. */
    ck_assert_str_eq(pg_text(schema, th_fmt(count, other)), "1");
    ck_assert_int_eq(horizon(db, other), 0);
    mn_close(db);
}
END_TEST

/* vector=local keeps its index in files under index_dir=, in a directory named by the
 * database's own id: a handle that opens after a save loads them instead of rebuilding the
 * index from the change feed, and catches up only the changes after their seq (a write of
 * another handle after the save); files that the database does not vouch for (older ones put
 * back after a newer save) are rebuilt, never trusted. */
static struct mni_vindex_stats pg_index_stats(mn_db *db, const char *tenant_id)
{
    mn_memories *l = NULL;
    mn_actor sys = TH_ACTOR(.tenant = "acme");
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "note 7", .k = 5};
    TH_OK(db, mn_memory_search(db, &sys, &so, &l));
    ck_assert_uint_ge(l->count, 1);
    mn_memories_free(l);
    ck_assert_int_eq(mni_vindex_sync(db->index, tenant_id, 120000), MN_OK);
    struct mni_vindex_stats st;
    mni_vindex_stats(db->index, tenant_id, &st);
    return st;
}

static void pg_add_notes(mn_db *db, int from, int n)
{
    mn_actor sys = TH_ACTOR(.tenant = "acme");
    mn_memory_input *in = th_keep(calloc((size_t)n, sizeof *in));
    for (int i = 0; i < n; i++)
        in[i] = (mn_memory_input)TH_IN(.identity = "alice",
                                       .text = th_fmt("note %d about topic %d", from + i,
                                                      (from + i) % 37));
    char **ids = NULL;
    TH_OK(db, mn_memory_add_many(db, &sys, in, (size_t)n, &ids, NULL));
    mn_strings_free(ids, (size_t)n);
}

START_TEST(local_index_files_reused)
{
    const char *dir = th_tmppath("pg-index");
    const char *url = url_with(fresh_schema(), th_fmt("index_dir=%s", dir));
    mn_db *db = th_open(url, NULL);
    const char *acme = th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    pg_add_notes(db, 0, MNI_VINDEX_SAVE_MIN + 200);
    struct mni_vindex_stats st = pg_index_stats(db, acme);
    ck_assert_uint_eq(st.missing, 1);
    mn_close(db); /* saves */
    char *id = NULL;
    db = th_open(url, NULL);
    TH_OK(db, db->store->ops->meta_get(db->store, "index_id", &id));
    ck_assert_ptr_nonnull(id);
    const char *graph = th_fmt("%s/%s/%s.hnsw", dir, id, acme);
    const char *attr = th_fmt("%s/%s/%s.attr", dir, id, acme);
    free(id);
    ck_assert(th_file_exists(graph) && th_file_exists(attr));

    /* Current: loaded, nothing applied. */
    st = pg_index_stats(db, acme);
    ck_assert_uint_eq(st.loaded, 1);
    ck_assert_uint_eq(st.missing + st.rejected, 0);
    ck_assert_uint_eq(st.applied, 0);
    ck_assert_uint_eq(st.count, MNI_VINDEX_SAVE_MIN + 200);
    mn_close(db);

    /* Another handle writes after the save (without an index: it saves nothing): the next
     * open loads the files and applies those writes alone. */
    size_t glen, alen;
    char *old_graph = th_read_file(graph, &glen), *old_attr = th_read_file(attr, &alen);
    mn_config none = {.version = MN_CONFIG_VERSION, .index = MN_INDEX_NONE};
    mn_db *other = th_open(url, &none);
    pg_add_notes(other, 5000, 30);
    mn_close(other);
    db = th_open(url, NULL);
    st = pg_index_stats(db, acme);
    ck_assert_uint_eq(st.loaded, 1);
    ck_assert_uint_eq(st.rejected, 0);
    ck_assert_uint_eq(st.applied, 30);
    ck_assert_uint_eq(st.count, MNI_VINDEX_SAVE_MIN + 230);
    mn_close(db); /* saves again: a new token in the database */

    /* The older files put back: the database names the newer ones; rebuilt from the store. */
    th_write_file(graph, old_graph, glen);
    th_write_file(attr, old_attr, alen);
    db = th_open(url, NULL);
    st = pg_index_stats(db, acme);
    ck_assert_uint_eq(st.loaded, 0);
    ck_assert_uint_eq(st.rejected, 1);
    ck_assert_uint_eq(st.count, MNI_VINDEX_SAVE_MIN + 230);
    mn_close(db);

    /* index_dir=none: no files (the index lives in memory); a relative path is refused. */
    db = th_open(url_with(fresh_schema(), "index_dir=none"), NULL);
    char *d = (char *)1;
    TH_OK(db, db->store->ops->index_dir(db->store, &d));
    ck_assert_ptr_null(d);
    mn_close(db);
    db = NULL;
    ck_assert_int_eq(mn_open(&db, url_with(fresh_schema(), "index_dir=rel/dir"), NULL),
                     MN_EINVAL);
    ck_assert_msg(strstr(mn_errmsg(db), "index_dir=rel/dir"), "%s", mn_errmsg(db));
    mn_close(db);
}
END_TEST

/* Embedding jobs are claimed with FOR UPDATE SKIP LOCKED: a job another session (a worker in
 * another process) holds is passed over, not waited for, and no job goes to two claims. The
 * async cases themselves run on this server in test_jobs.c. */
START_TEST(claim_skips_locked_jobs)
{
    const char *schema = fresh_schema();
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_async = 1};
    mn_db *db = th_open(url_with(schema, NULL), &cfg);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    th_add(db, &a, NULL, "held by another worker");
    const char *free_id = th_add(db, &a, NULL, "free to take");
    PGconn *other = pg_connect(schema);
    PGresult *r = PQexec(other, "BEGIN; SELECT memory_key FROM embed_jobs "
                                "ORDER BY memory_key LIMIT 1 FOR UPDATE");
    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    PQclear(r);
    struct mni_store *st = db->store;
    struct mni_embed_task *t = NULL;
    size_t n = 0;
    TH_OK(db, st->ops->embed_jobs_claim(st, "c1", th_now_ms(), 60000, 10, &t, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(t[0].memory_id, free_id);
    mni_embed_tasks_free(t, n);
    /* Claimed jobs are not due until their lease ends; the held one is free once released. */
    PQclear(PQexec(other, "COMMIT"));
    PQfinish(other);
    TH_OK(db, st->ops->embed_jobs_claim(st, "c2", th_now_ms(), 60000, 10, &t, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(t[0].text, "held by another worker");
    mni_embed_tasks_free(t, n);
    TH_OK(db, st->ops->embed_jobs_claim(st, "c3", th_now_ms(), 60000, 10, &t, &n));
    ck_assert_uint_eq(n, 0);
    mni_embed_tasks_free(t, n);
    mn_close(db);
}
END_TEST

/* A claim over a big backlog reads its LIMIT of due jobs in order from each partition's index
 * (an ordered merge, no sort of every pending job): the plan of the claim statement itself. At
 * this size the planner may still read the table to match the rows it updates; at a million
 * jobs it looks them up by key (5 ms a claim, against 0.5 s without the index). */
START_TEST(claim_reads_jobs_in_index_order)
{
    const char *schema = fresh_schema();
    mn_db *db = th_open(url_with(schema, NULL), NULL);
    mn_close(db);
    pg_run(schema, "INSERT INTO embed_jobs SELECT 't' || (i % 50), i, CASE WHEN i % 10 = 0 "
                   "THEN 2 ELSE 1 END, 0, i % 1000, NULL, NULL, 0, 0 FROM "
                   "generate_series(1, 50000) i; ANALYZE embed_jobs");
    const char *plan = pg_text(schema, th_fmt("PREPARE claim AS %s; EXPLAIN (FORMAT JSON) "
                                              "EXECUTE claim('c', 500, 600000, 100)",
                                              pgs_sql(PGS_JOB_CLAIM)));
    ck_assert_msg(strstr(plan, "run_after_memory_key_idx") && strstr(plan, "\"Merge Append\""),
                  "%.1500s", plan);
}
END_TEST

/* ---- tenant isolation, in the SQL itself -------------------------------------------------- */

/* The conformance suite walks the API trying to reach another tenant's rows; this checks the
 * backend's SQL the same way: every statement on a table holding tenants' rows names the
 * tenant in its WHERE clause (or, for an INSERT, writes the tenant it was given). */
START_TEST(every_statement_names_the_tenant)
{
    const char *tables[] = { "identities", "memories", "memory_history", "policies",
                             "memory_tombstones", "ratelimit_limits", "embed_jobs",
                             "audit_log", "audit_heads", "data_keys" };
    /* Not listed: meta and maintenance (the leases of scheduled maintenance's tasks), whose
     * rows belong to the database, not to a tenant. */
    for (int id = 0; id < PGS__COUNT; id++) {
        /* Listing tenants is across tenants by design (the operator's view), and so is
         * claiming embedding jobs (workers serve every tenant; each job is then acknowledged
         * with its tenant named), and reading an API key by its id: the key is what names the
         * tenant (its identity is read in the key's own tenant), and re-wrapping every data
         * key under a new master key; and hashing the memories an older version wrote
         * (each hash then written with its tenant named). */
        if (id == MNI_TENANT_LIST_UNRULED || id == PGS_JOB_CLAIM || id == MNI_APIKEY_GET ||
            id == MNI_DATAKEY_ALL || id == MNI_MEMORY_UNHASHED)
            continue;
        const char *sql = pgs_sql(id);
        ck_assert_msg(sql, "statement %d has no text", id);
        int touches = 0;
        for (size_t t = 0; t < sizeof tables / sizeof *tables; t++)
            if (strstr(sql, th_fmt(" %s ", tables[t])) || strstr(sql, th_fmt(" %s (", tables[t])))
                touches = 1;
        if (!touches)
            continue;
        int filtered = strstr(sql, "tenant_id = $") || strstr(sql, "i.tenant_id = t.id");
        int insert = strncmp(sql, "INSERT", 6) == 0 && strstr(sql, "tenant_id");
        ck_assert_msg(filtered || insert, "statement %d does not name the tenant: %s", id, sql);
    }
}
END_TEST

static Suite *pg_suite(void)
{
    Suite *s = suite_create("postgres");
    TCase *tc = tcase_create("server");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, schema_partitioned_by_tenant);
    tcase_add_test(tc, migrate_from_previous_version);
    tcase_add_test(tc, migrate_no_on_empty_refuses);
    tcase_add_test(tc, schema_never_falls_through_to_public);
    tcase_add_test(tc, url_options_checked);
    tcase_add_test(tc, no_pgvector_needs_vector_local);
    tcase_add_test(tc, bad_server_is_a_clear_error);
    tcase_add_test(tc, pool_exhaustion_is_a_clear_timeout);
    tcase_add_test(tc, server_restart_mid_run);
    tcase_add_test(tc, killed_transaction_keeps_nothing);
    tcase_add_test(tc, every_statement_names_the_tenant);
    tcase_add_test(tc, read_url_takes_the_reads);
    tcase_add_test(tc, ratelimit_overrides_and_embed_cache);
    tcase_add_test(tc, failed_prepare_is_a_clear_error);
    tcase_add_test(tc, feed_prune_and_horizon);
    tcase_add_test(tc, local_index_files_reused);
    tcase_add_test(tc, claim_skips_locked_jobs);
    tcase_add_test(tc, claim_reads_jobs_in_index_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    mn_global_init();
    th_init();
    SRunner *sr = srunner_create(mni_conformance_suite("postgres", make_url, 1));
    srunner_add_suite(sr, pg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
