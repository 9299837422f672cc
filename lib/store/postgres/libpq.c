/* libpq, loaded when a handle first opens a PostgreSQL store (see core/dl.h): an embedded
 * process never pays for it nor for the libraries it brings (OpenSSL, Kerberos, LDAP).
 * Every libpq function the backend calls is listed here, with libpq-fe.h's prototype. */
#include "store/postgres/pg.h"
#include "core/dl.h"
#include "core/error.h"

#define LIBPQ(F)                                                                                  \
    F(, void, PQclear, (PGresult *res), (res))                                                    \
    F(return, char *, PQcmdTuples, (PGresult *res), (res))                                        \
    F(return, PGconn *, PQconnectdb, (const char *conninfo), (conninfo))                          \
    F(return, PGconn *, PQconnectdbParams,                                                        \
      (const char *const *keywords, const char *const *values, int expand_dbname),                \
      (keywords, values, expand_dbname))                                                          \
    F(return, int, PQconsumeInput, (PGconn *conn), (conn))                                        \
    F(return, int, PQenterPipelineMode, (PGconn *conn), (conn))                                   \
    F(return, char *, PQerrorMessage, (const PGconn *conn), (conn))                               \
    F(return, PGresult *, PQexec, (PGconn *conn, const char *query), (conn, query))               \
    F(return, PGresult *, PQexecParams,                                                           \
      (PGconn *conn, const char *command, int nParams, const Oid *paramTypes,                     \
       const char *const *paramValues, const int *paramLengths, const int *paramFormats,          \
       int resultFormat),                                                                         \
      (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats,               \
       resultFormat))                                                                             \
    F(return, int, PQexitPipelineMode, (PGconn *conn), (conn))                                    \
    F(, void, PQfinish, (PGconn *conn), (conn))                                                   \
    F(, void, PQfreemem, (void *ptr), (ptr))                                                      \
    F(return, Oid, PQftype, (const PGresult *res, int field_num), (res, field_num))               \
    F(return, PGresult *, PQgetResult, (PGconn *conn), (conn))                                    \
    F(return, int, PQgetisnull, (const PGresult *res, int tup_num, int field_num),                \
      (res, tup_num, field_num))                                                                  \
    F(return, int, PQgetlength, (const PGresult *res, int tup_num, int field_num),                \
      (res, tup_num, field_num))                                                                  \
    F(return, char *, PQgetvalue, (const PGresult *res, int tup_num, int field_num),              \
      (res, tup_num, field_num))                                                                  \
    F(return, PGnotify *, PQnotifies, (PGconn *conn), (conn))                                     \
    F(return, int, PQntuples, (const PGresult *res), (res))                                       \
    F(return, int, PQpipelineSync, (PGconn *conn), (conn))                                        \
    F(return, int, PQputCopyData, (PGconn *conn, const char *buffer, int nbytes),                 \
      (conn, buffer, nbytes))                                                                     \
    F(return, int, PQputCopyEnd, (PGconn *conn, const char *errormsg), (conn, errormsg))          \
    F(return, char *, PQresultErrorField, (const PGresult *res, int fieldcode),                   \
      (res, fieldcode))                                                                           \
    F(return, ExecStatusType, PQresultStatus, (const PGresult *res), (res))                       \
    F(return, int, PQsendPrepare,                                                                 \
      (PGconn *conn, const char *stmtName, const char *query, int nParams,                        \
       const Oid *paramTypes),                                                                    \
      (conn, stmtName, query, nParams, paramTypes))                                               \
    F(return, int, PQsendQueryPrepared,                                                           \
      (PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues,           \
       const int *paramLengths, const int *paramFormats, int resultFormat),                       \
      (conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat))           \
    F(return, PQnoticeProcessor, PQsetNoticeProcessor,                                            \
      (PGconn *conn, PQnoticeProcessor proc, void *arg), (conn, proc, arg))                       \
    F(return, int, PQsetSingleRowMode, (PGconn *conn), (conn))                                    \
    F(return, int, PQsocket, (const PGconn *conn), (conn))                                        \
    F(return, ConnStatusType, PQstatus, (const PGconn *conn), (conn))                             \
    F(return, PGTransactionStatusType, PQtransactionStatus, (const PGconn *conn), (conn))

#define WRAP(kw, ret, name, params, args) MNI_DL_WRAP(libpq, kw, ret, name, params, args)
MNI_DL_DEFINE(libpq, "libpq.so.5", NULL, LIBPQ, WRAP)

int pgs_libpq_load(mn_db *db)
{
    if (mni_dl_load(&libpq) != MN_OK)
        return mni_seterr(db, MN_EUNSUPPORTED, "postgres:// needs libpq: %s", libpq.why);
    return MN_OK;
}
