/* Numbered schema migrations, compiled into the library from sql/<backend>/NNN_*.sql. */
#ifndef MNI_CORE_MIGRATIONS_H
#define MNI_CORE_MIGRATIONS_H

struct mni_migration {
    int version;       /* NNN of the file name; strictly increasing */
    const char *name;  /* file name, for messages */
    const char *sql;
};

/* Terminated by an entry whose version is 0. */
extern const struct mni_migration mni_sqlite_migrations[];
extern const struct mni_migration mni_postgres_migrations[];

#endif
