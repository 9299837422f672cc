/* Internals of the PostgreSQL backend, shared by its files (pg_*.c).
 *
 * The URL is any libpq URI (postgres:// or postgresql://) plus our own query options, which
 * postgres/url.c takes out before libpq sees the rest. Connections come from a thread-safe pool
 * (postgres/pool.c); every statement is prepared once per connection (postgres/sql.c) and run with bound
 * parameters. Results are read in binary format (postgres/rows.c). */
#ifndef MNI_STORE_PG_H
#define MNI_STORE_PG_H

#include "store/driver.h"
#include "store/rows.h"
#include "store/store.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>

/* Every statement the backend runs (texts in postgres/sql.c): those of the operations
 * written once (enum mni_stmt, store/driver.h), then the backend's own. */
enum pgs_stmt_id {
    PGS_BUMP_SEQ = MNI_STMT_COUNT,
    PGS_MEMORY_INSERT, PGS_MEMORY_GET, PGS_MEMORY_LIST, PGS_MEMORY_COUNT, PGS_MEMORY_SCAN,
    PGS_MEMORY_GET_KEYS, PGS_MEMORY_FIND_MANY,
    PGS_SEQ_GET, PGS_MEMORY_CHANGES, PGS_MEMORY_SEQS, PGS_MEMORY_DIGEST,
    PGS_FEED_PRUNE, PGS_FEED_HORIZON_PUT, PGS_FEED_HORIZON_GET,
    PGS_MEMORY_SEARCH, PGS_MEMORY_KEYWORD, PGS_MEMORY_KEYWORD_TIES, PGS_MEMORY_WORD_COUNTS,
    PGS_SET_LOCAL,
    PGS_EMBED_CACHE_GET,
    PGS_JOB_ENQUEUE, PGS_JOB_CLAIM, PGS_JOB_STORE, PGS_JOB_ACK, PGS_JOB_RELEASE,
    PGS_JOB_FAIL, PGS_JOB_RETRY_ONE, PGS_JOB_RETRY_FAILED,
    PGS__COUNT
};

/* How vectors are kept: bytea searched by our own index (vector=local), or pgvector's
 * vector(dim) searched by the server (vector=pgvector). */
enum pgs_vector { PGS_VEC_AUTO, PGS_VEC_LOCAL, PGS_VEC_PGVECTOR };

/* The URL's own options (postgres/url.c), with their defaults filled in. */
struct pgs_options {
    char *conninfo;        /* the URL for libpq, our options removed (secret: never logged) */
    char *read_conninfo;   /* read_url: a replica for reads, or NULL */
    char *schema;          /* schema=NAME: tables live there (NULL = the server's default) */
    int vector;            /* enum pgs_vector */
    int partitions;        /* hash partitions per table of a new database */
    int pool_size, pool_overflow;
    int pool_idle;         /* connections kept open while idle (default pool_size) */
    int pool_timeout_ms, pool_recycle_s, health_check_s;
    int connect_retry_ms;  /* a refused connection is retried this long (default 0) */
    int migrate;           /* 1: create and migrate at open (default); 0: refuse */
    int ef_search;         /* hnsw.ef_search per query; 0 in the URL = the handle's */
    char *index_dir;       /* index_dir=: where vector=local keeps its index files; NULL:
                            * the default (pgs_index_dir), "" (index_dir=none): nowhere */
};

int pgs_options_parse(mn_db *db, const char *target, struct pgs_options *o);
void pgs_options_free(struct pgs_options *o);

struct pgs_conn {
    PGconn *pg;
    unsigned char prepared[PGS__COUNT];
    int64_t born_ms, used_ms;
    int busy;
};

/* A pool of connections to one server (the primary, or the read replica). */
struct pgs_pool {
    const char *conninfo;  /* borrowed from the options */
    const char *what;      /* "the primary", "the read replica": for messages */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct pgs_conn *conns;
    int nconns;            /* pool_size + pool_overflow slots */
    int nopen;
};

/* The meta keys that an open reads and that are written once, never to change (meta_add, or a
 * put while unset): read all with the open's first statement (postgres/schema.c), and served
 * from there by pgs_meta_get once set, so that a one-shot process does not ask the server for
 * each in turn. */
enum {
    PGS_ONCE_DIM, PGS_ONCE_EMBEDDER, PGS_ONCE_VECTOR, PGS_ONCE_MODEL, PGS_ONCE_ENCRYPTION,
    PGS_ONCE_HASHED, PGS_ONCE_INDEX_ID, PGS_ONCE_DEFAULTS, PGS_ONCE_KEYS
};
extern const char *const pgs_once_keys[PGS_ONCE_KEYS];

struct pgs_store {
    struct mni_store base;
    struct pgs_options opt;
    struct pgs_pool primary, replica;
    int has_replica;
    int vector;            /* PGS_VEC_LOCAL or PGS_VEC_PGVECTOR: the database's */
    int iterative_scan;    /* the server's pgvector has hnsw.iterative_scan (0.8) */
    int no_copy;           /* the server takes no COPY FROM STDIN (PGlite's socket server) */
    atomic_int analyzed;   /* pgs_analyze_once ran */
    char *once[PGS_ONCE_KEYS]; /* their values as the open read them (NULL: unset then) */
};

/* ---- libpq, loaded at the first open (postgres/libpq.c) ---- */
/* MN_OK, or MN_EUNSUPPORTED recorded on db when libpq cannot be loaded. */
int pgs_libpq_load(mn_db *db);

/* ---- the pool (postgres/pool.c) ---- */
int pgs_pool_init(struct pgs_store *s, struct pgs_pool *p, const char *conninfo,
                  const char *what);
void pgs_pool_close(struct pgs_pool *p);
/* A healthy connection, waiting up to pool_timeout_ms for one to be free. */
int pgs_get(struct pgs_store *s, struct pgs_pool *p, struct pgs_conn **out);
/* Returns c to its pool: a broken connection, one left in a transaction, an overflow one or
 * one past its recycle age is closed instead. */
void pgs_put(struct pgs_store *s, struct pgs_pool *p, struct pgs_conn *c);
/* The pool for reads: the replica when read_url is set, else the primary. */
struct pgs_pool *pgs_reads(struct pgs_store *s);

/* ---- running statements (postgres/exec.c) ---- */
/* Parameters of one statement: text, or binary (vectors). */
#define PGS_MAX_ARGS 20
struct pgs_args {
    int n;
    const char *v[PGS_MAX_ARGS];
    int len[PGS_MAX_ARGS];
    int fmt[PGS_MAX_ARGS];
    char num[PGS_MAX_ARGS][32];
};
void pgs_arg_text(struct pgs_args *a, const char *v);   /* NULL binds SQL NULL */
void pgs_arg_int(struct pgs_args *a, int64_t v);
void pgs_arg_double(struct pgs_args *a, double v);
/* Bytes as a binary parameter (bytea), kept alive by the caller until the statement ran. */
void pgs_arg_bytes(struct pgs_args *a, const void *data, size_t len);
/* A vector of dim floats in the column's binary format (bytea or pgvector), in buf (at least
 * pgs_vec_bytes(dim) bytes, kept alive until the statement ran); NULL vec binds NULL. */
size_t pgs_vec_bytes(int dim);
/* Binds $8..$16 of a memory query that selects (postgres/sql.c, SELECTED): q's lists and
 * ranges. */
struct mni_store_query;
void pgs_bind_filters(struct pgs_args *a, const struct mni_store_query *q);
void pgs_arg_vec(struct pgs_store *s, struct pgs_args *a, const float *vec, int dim, char *buf);

/* The n integers as a PostgreSQL array literal ("{1,2,3}"), bound as one text parameter so
 * that a set of keys or seqs costs one round trip; malloc'd, NULL when out of memory. */
char *pgs_int_array(const int64_t *v, size_t n);

/* Takes the result r of a statement on c: a failure (r NULL, or not COMMAND_OK / TUPLES_OK)
 * is recorded naming doing and returned, r cleared; otherwise *res (may be NULL: cleared)
 * receives r. Every way of running SQL below ends with it. */
int pgs_result(struct pgs_store *s, struct pgs_conn *c, PGresult *r, PGresult **res,
               const char *doing);
/* Statement ids below are an enum mni_stmt or pgs_stmt_id.
 * Runs a prepared statement; *res (may be NULL) receives the result, which the caller
 * PQclear()s. Records an error naming doing on failure. */
int pgs_run(struct pgs_store *s, struct pgs_conn *c, int id,
            const struct pgs_args *a, PGresult **res, const char *doing);
/* Runs a prepared statement and calls fn for each row as it arrives (row mode: no whole
 * result in memory); fn returning nonzero stops reading (MN_OK). fn may return -MN_E* to fail. */
typedef int (*pgs_row_fn)(void *ctx, const PGresult *r);
/* The same, one statement on a connection of pool p taken for it and given back. */
int pgs_run_on(struct pgs_store *s, struct pgs_pool *p, int id,
               const struct pgs_args *a, PGresult **res, const char *doing);
int pgs_each_on(struct pgs_store *s, struct pgs_pool *p, int id,
                const struct pgs_args *a, pgs_row_fn fn, void *ctx, const char *doing);
/* Runs fixed SQL text with no parameters (transaction control, SET). */
int pgs_exec_text(struct pgs_store *s, struct pgs_conn *c, const char *sql, const char *doing);

/* A growable buffer of COPY's binary format: big-endian integers, fields prefixed by their
 * length (postgres/copybuf.c). oom: an allocation failed, and what was put since is lost. */
struct pgs_copybuf {
    char *p;
    size_t n, cap;
    int oom;
};
void pgs_copy_put(struct pgs_copybuf *b, const void *data, size_t len);
void pgs_copy_u16(struct pgs_copybuf *b, uint16_t v);
void pgs_copy_u32(struct pgs_copybuf *b, uint32_t v);
void pgs_copy_header(struct pgs_copybuf *b);  /* the signature, flags and extension */
void pgs_copy_trailer(struct pgs_copybuf *b); /* after the last row */
void pgs_copy_field(struct pgs_copybuf *b, const void *data, size_t len); /* NULL: SQL NULL */
void pgs_copy_text(struct pgs_copybuf *b, const char *t);                 /* NULL: SQL NULL */
void pgs_copy_i64(struct pgs_copybuf *b, int64_t v);
void pgs_copy_f64(struct pgs_copybuf *b, double d);
/* Records the failure of res (or of the connection) as an MN_E* code with a message saying what
 * was being done; returns the code. */
int pgs_fail(struct pgs_store *s, struct pgs_conn *c, const PGresult *res, const char *doing);
const char *pgs_sql(int id);

/* A write: takes a primary connection, BEGINs and reserves nseq change numbers (the last in
 * *last_seq; nseq 0 reserves none, and last_seq may then be NULL). pgs_write_end COMMITs (rc == MN_OK) or rolls back, gives
 * the connection back and returns rc or the commit's failure. */
int pgs_write_begin(struct pgs_store *s, struct pgs_conn **c, int64_t nseq, int64_t *last_seq);
int pgs_write_end(struct pgs_store *s, struct pgs_conn *c, int rc);
int pgs_bump_seq(struct pgs_store *s, struct pgs_conn *c, int64_t n, int64_t *last);
/* Runs an INSERT; a taken unique key becomes MN_EEXISTS with the message taken. */
int pgs_insert_unique(struct pgs_store *s, struct pgs_conn *c, int id,
                      const struct pgs_args *a, const char *doing, const char *taken);
/* Rows changed by the last command of res. */
int64_t pgs_changes(const PGresult *res);
/* The driver's typed arguments (store/driver.h) as libpq parameters; a's texts and blobs stay
 * borrowed. A vector (one at most) is converted into *buf, malloc'd here and NULL when there
 * is none: free it once the statement ran. MN_ENOMEM, recorded naming doing. */
int pgs_args_from(struct pgs_store *s, struct pgs_args *p, const struct mni_args *a,
                  char **buf, const char *doing);
/* The operations written once (store/driver.h) run through it (postgres/driver.c). */
extern const struct mni_driver pgs_driver;

/* ---- reading results (postgres/rows.c) ---- */
int64_t pgs_int(const PGresult *r, int row, int col);
double pgs_double(const PGresult *r, int row, int col);
/* A malloc'd copy of a text column (NULL for NULL; *oom set when out of memory). */
char *pgs_text(const PGresult *r, int row, int col, int *oom);
/* The vector of a column into out (dim floats); 0 when NULL, -1 when it has another size. */
int pgs_vec(struct pgs_store *s, const PGresult *r, int row, int col, float *out);

/* Readers of the public structs, as in the SQLite backend: read fills item from row, returns
 * 1 to keep it, 0 to skip, -MN_E* on failure. */
struct pgs_reader {
    size_t size;
    int (*read)(struct pgs_store *s, const PGresult *r, int row, void *item, void *ctx);
    void (*clear)(void *item);
    void *ctx;
};
/* Row row of r for the shared mappers. */
struct mni_row pgs_row(const PGresult *r, int row);
/* Reads every row of res (at most limit kept; 0 = all; *more when another kept row followed). */
int pgs_collect(struct pgs_store *s, const PGresult *res, const struct pgs_reader *rd,
                size_t limit, void **items, size_t *count, int *more, const char *doing);
/* A memory row (PGS_MEMORY_COLUMNS order) into m; the embedding only when with_embedding. */
int pgs_memory_read(struct pgs_store *s, const PGresult *r, int row, mn_memory *m,
                    int with_embedding);

/* ---- schema (postgres/schema.c) ---- */
/* Creates or migrates the database (when allowed), detects pgvector, checks the embedding
 * settings; on return *dim is the database's dimension. */
int pgs_schema_prepare(struct pgs_store *s, const char *embedder, int *dim);
int pgs_schema_version_on(struct pgs_store *s, struct pgs_conn *c, int *version);
/* Per connection: the search_path for schema=NAME. */
int pgs_conn_setup(struct pgs_store *s, struct pgs_conn *c);

/* ---- the ops (store/driver.h): memories in postgres/memory.c, the change feed and settings
 * in postgres/feed.c, the embedding cache in postgres/embed.c, jobs in postgres/jobs.c ---- */
MNI_BACKEND_OPS_DECLARE(pgs);
/* Embedding jobs (postgres/jobs.c). pgs_jobs_enqueue runs inside the caller's transaction:
 * the jobs of the rows flagged embed_job (rows[i] written with seq first_seq + i) are
 * (re)queued. */
int pgs_jobs_enqueue(struct pgs_store *s, struct pgs_conn *c, const char *tenant_id,
                     const struct mni_memory_row *rows, size_t n, int64_t first_seq);
/* The driver's find_ids (store/driver.h): what a batch of adds repeats, by one statement
 * (postgres/dedup.c). */
int pgs_find_ids(struct mni_store *st, struct mni_tx *tx, const char *tenant_id,
                 const struct mni_find *wants, size_t n, int64_t now, char **ids,
                 int64_t *keys, int64_t *seen_seq, const char *doing);
/* In the handle's first write of memories, on its connection c (inside its transaction,
 * after the rows, so that they are sampled): gives the memories table statistics if a
 * partition with rows has none (postgres/dedup.c). */
int pgs_analyze_once(struct pgs_store *s, struct pgs_conn *c);
/* Server-side search with pgvector (postgres/search.c). */
int pgs_memory_search(struct mni_store *st, const char *tenant_id, const struct mni_store_query *q,
                      const float *vec, size_t want, int ef, mni_hit_fn fn, void *ctx);

#endif
