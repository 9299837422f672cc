/* Numbered schema migrations, compiled into the library from sql/<backend>/NNN_*.sql. */
#ifndef MN_CORE_MIGRATIONS_H
#define MN_CORE_MIGRATIONS_H

struct mn_migration {
    int version;       /* NNN of the file name; strictly increasing */
    const char *name;  /* file name, for messages */
    const char *sql;
};

/* Terminated by an entry whose version is 0. */
extern const struct mn_migration mn_sqlite_migrations[];
extern const struct mn_migration mn_postgres_migrations[];

#endif
