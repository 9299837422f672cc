/* The floor of a one-shot PostgreSQL client (bench/open_search.sh): a process that connects,
 * runs SELECT 1 and ends, linked to libpq as usual. Whatever a one-shot `manushya memory
 * search` takes beyond it is ours: the server's backend start and the dynamic loading of
 * libpq and its libraries are in both. Built by that script against the system's libpq (not
 * by make: bench/*.c link the library's objects, whose libpq is loaded at run time).
 *   pg_floor CONNINFO */
#include <libpq-fe.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pg_floor CONNINFO\n");
        return 2;
    }
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg_floor: %s", PQerrorMessage(c));
        PQfinish(c);
        return 1;
    }
    PGresult *r = PQexec(c, "SELECT 1");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "pg_floor: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return !ok;
}
