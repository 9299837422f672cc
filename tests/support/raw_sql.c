/* Reading and changing a database past the library (raw_sql.h). */
#include "support/raw_sql.h"
#include "support/harness.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

static int is_sqlite(const char *url)
{
    return strncmp(url, "sqlite:", 7) == 0;
}

/* Runs sql on SQLite: *value the first column of the first row (kept), *changed the rows. */
static void run_sqlite(const char *url, const char *sql, const char *const *p, int np,
                       const char **value, long *changed)
{
    sqlite3 *raw;
    ck_assert_int_eq(sqlite3_open(url + strlen("sqlite:"), &raw), SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(raw, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(raw));
    for (int i = 0; i < np; i++)
        sqlite3_bind_text(st, i + 1, p[i], -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    ck_assert_msg(step == SQLITE_ROW || step == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(raw));
    *value = step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL
             ? th_fmt("%s", (const char *)sqlite3_column_text(st, 0)) : NULL;
    sqlite3_finalize(st);
    *changed = sqlite3_changes(raw);
    sqlite3_close(raw);
}

static void run_pg(const char *url, const char *sql, const char *const *p, int np,
                   const char **value, long *changed)
{
    const char *schema = strstr(url, "schema=");
    ck_assert_msg(schema, "%s: not a URL of th_store_url", url);
    schema += strlen("schema=");
    PGconn *c = PQconnectdb(getenv("MN_PG_URL"));
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    const char *sp[] = { th_fmt("%.*s", (int)strcspn(schema, "&"), schema) };
    PQclear(PQexecParams(c, "SELECT set_config('search_path', $1, false)", 1, NULL, sp, NULL,
                         NULL, 0));
    PGresult *r = PQexecParams(c, sql, np, NULL, p, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s: %s", sql,
                  PQerrorMessage(c));
    *value = st == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)
             ? th_fmt("%s", PQgetvalue(r, 0, 0)) : NULL;
    *changed = atol(PQcmdTuples(r));
    PQclear(r);
    PQfinish(c);
}

static void run(const char *url, const char *sql, const char *p1, const char *p2,
                const char **value, long *changed)
{
    const char *p[] = { p1, p2 };
    int np = p1 ? (p2 ? 2 : 1) : 0;
    (is_sqlite(url) ? run_sqlite : run_pg)(url, sql, p, np, value, changed);
}

const char *th_raw_query(const char *url, const char *sql, const char *p1, const char *p2)
{
    const char *v;
    long changed;
    run(url, sql, p1, p2, &v, &changed);
    return v;
}

long th_raw_exec(const char *url, const char *sql, const char *p1, const char *p2)
{
    const char *v;
    long changed;
    run(url, sql, p1, p2, &v, &changed);
    return changed;
}
