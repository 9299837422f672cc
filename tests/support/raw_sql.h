/*
 * Reading and changing a database past the library, as an attacker or a damaged disk would:
 * sqlite3 for sqlite:PATH, libpq for the PostgreSQL URLs th_store_url gives (their schema).
 * Statements use $1, $2 (SQLite binds them by their order of appearance, as PostgreSQL by
 * number), so one text serves both.
 */
#ifndef MNI_TESTS_RAW_SQL_H
#define MNI_TESTS_RAW_SQL_H

/* The first column of the first row of sql with the text parameters p1, p2 (NULL: none
 * from there on): a copy kept by the harness, or NULL when there is no row or it is NULL. */
const char *th_raw_query(const char *url, const char *sql, const char *p1, const char *p2);
/* Runs a changing statement; the rows it changed. */
long th_raw_exec(const char *url, const char *sql, const char *p1, const char *p2);

#endif
