/* Internals of the SQLite backend, shared by its files (sqlite_*.c). */
#ifndef MNI_STORE_SQLITE_H
#define MNI_STORE_SQLITE_H

#include "store/driver.h"
#include "store/rows.h"
#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>

/* Every statement the backend runs, prepared once per connection (see sqlite/sql.c): those
 * of the operations written once (enum mni_stmt, store/driver.h), then the backend's own. */
enum sq_stmt_id {
    SQ_BEGIN = MNI_STMT_COUNT, SQ_BEGIN_READ, SQ_COMMIT, SQ_ROLLBACK, SQ_BUMP_SEQ,
    SQ_SAVEPOINT, SQ_RELEASE, SQ_ROLLBACK_TO,
    SQ_MEMORY_INSERT, SQ_MEMORY_KEYWORD_ADD, SQ_MEMORY_DIGEST_ADD, SQ_MEMORY_GET, SQ_MEMORY_LIST, SQ_MEMORY_LIST_BY_IDENTITY,
    SQ_MEMORY_LIST_BY_SESSION,
    SQ_MEMORY_COUNT, SQ_MEMORY_COUNT_BY_IDENTITY,
    SQ_MEMORY_SCAN, SQ_MEMORY_SCAN_BY_IDENTITY, SQ_MEMORY_KEYWORD, SQ_MEMORY_KEYWORD_ROW,
    SQ_MEMORY_WORD_COUNTS, SQ_MEMORY_WORD_DOCS, SQ_MEMORY_KEYWORD_MERGE, SQ_MEMORY_GET_KEY,
    SQ_MEMORY_FIND, SQ_MEMORY_FIND_CONTENT,
    SQ_SEQ_GET, SQ_MEMORY_CHANGES, SQ_MEMORY_SEQS, SQ_MEMORY_DIGEST,
    SQ_FEED_PRUNE, SQ_FEED_HORIZON_PUT, SQ_FEED_HORIZON_GET,
    /* embedding cache (sqlite/embed.c) */
    SQ_EMBED_CACHE_GET,
    /* embedding jobs (sqlite/jobs.c) */
    SQ_JOB_ENQUEUE, SQ_JOB_CLAIM, SQ_JOB_CLAIMED, SQ_JOB_STORE, SQ_JOB_ACK,
    SQ_JOB_RELEASE, SQ_JOB_FAIL, SQ_JOB_RETRY_ONE, SQ_JOB_RETRY_FAILED,
    SQ__COUNT
};

struct sq_conn {
    sqlite3 *db;
    sqlite3_stmt *stmt[SQ__COUNT];
};

/* The handle's writers (sqlite/writer.c): whose turn it is, and the transaction they share. */
struct sq_writer {
    pthread_mutex_t mu;
    pthread_cond_t turn;       /* the turn is free */
    pthread_cond_t done;       /* a group committed */
    struct sq_conn *conn;      /* the open group's connection, in its transaction; NULL: none */
    int active;                /* a writer has the turn */
    int waiting;               /* writers waiting for it */
    int members;               /* writes in the open group so far */
    int grouped;               /* the active write may hand the group on (sq_write_begin) */
    int savepoint;             /* the active write is in a savepoint (it joined a group) */
    struct follower *followers; /* writers of the open group waiting for its commit */
};

struct sq_store {
    struct mni_store base;
    char *path;
    int readonly;
    int busy_ms;
    int recognised;  /* passed sq_schema_prepare's checks: connections may switch it to WAL */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct sq_conn *conns;
    int nconns;
    int *idle;       /* stack of idle connection indexes */
    int nidle;
    struct sq_writer writer;
    int writer_ready;  /* writer's mutex and conditions were made */
    /* The background checkpointer (sqlite/checkpoint.c). */
    pthread_t ckpt_thread;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    struct sq_conn ckpt_conn;
    int ckpt_started, ckpt_pending, ckpt_stop;
};

/* Starts the checkpointer of a read-write store; sq_checkpoint_attach hands it the WAL
 * events of a new connection; sq_checkpoint_stop ends it (before the pool closes). */
int sq_checkpoint_start(struct sq_store *s);
void sq_checkpoint_attach(struct sq_store *s, sqlite3 *db);
void sq_checkpoint_stop(struct sq_store *s);

/* The pool: a connection belongs to one thread between get and put. */
int sq_conn_get(struct sq_store *s, struct sq_conn **out);
void sq_conn_put(struct sq_store *s, struct sq_conn *c);
int sq_conn_open(struct sq_store *s, struct sq_conn *c);
void sq_conn_close(struct sq_conn *c);
/* Registers the keyword ranking's scoring function, manushya_bm25, on db (sqlite/rank.c):
 * an SQLite result code. */
int sq_rank_register(sqlite3 *db);

/* The statement, reset and with its bindings cleared, or NULL after recording an error. */
/* id: an enum mni_stmt or sq_stmt_id. */
sqlite3_stmt *sq_stmt(struct sq_store *s, struct sq_conn *c, int id);
/* Binds the parameters every memory query shares (see sqlite/sql.c): ?1 the tenant, ?3 the
 * flags, ?4 the time, ?5 the type, ?6 the identity. */
void sq_bind_query(sqlite3_stmt *st, const char *tenant_id, const struct mni_store_query *q);
const char *sq_sql(int id);

/* Records the connection's last SQLite error as an MN_E* code with a message that says what
 * was being done; returns the code. */
int sq_fail(struct sq_store *s, sqlite3 *db, int src, const char *doing);

/* Transactions: BEGIN IMMEDIATE (the write lock up front, so two writers never deadlock on an
 * upgrade), COMMIT, ROLLBACK. sq_end commits when rc is MN_OK, else rolls back; returns rc or
 * the commit's failure. */
int sq_begin(struct sq_store *s, struct sq_conn *c);
int sq_end(struct sq_store *s, struct sq_conn *c, int rc);
/* The change sequence's current value, read on c (in c's transaction, if it has one). */
int sq_seq_read(struct sq_store *s, struct sq_conn *c, int64_t *seq);
/* Reserves n sequence numbers; *last receives the highest. Inside a transaction. */
int sq_bump_seq(struct sq_store *s, struct sq_conn *c, int64_t n, int64_t *last);
/* Runs a prepared statement that returns no rows. */
int sq_exec(struct sq_store *s, struct sq_conn *c, sqlite3_stmt *st, const char *doing);

/* Reads rows into an array of public structs (mn_tenant, mn_identity, ...). read fills item
 * from the current row and returns 1 to keep it, 0 to skip it (a filter), or -MN_E* on failure;
 * clear frees what read allocated. */
struct sq_reader {
    size_t size;
    int (*read)(sqlite3_stmt *st, void *item, void *ctx);
    void (*clear)(void *item);
    void *ctx;
};
/* The statement's current row for the shared mappers. */
struct mni_row sq_row(sqlite3_stmt *st);

/* Steps q to the end, calling fn for each row: nonzero stops (a negative -MN_E* fails, its
 * message recorded by fn or left to the caller); a step's failure is recorded naming doing.
 * Resets q. */
typedef int (*sq_row_fn)(void *ctx, sqlite3_stmt *q);
int sq_each(struct sq_store *s, struct sq_conn *c, sqlite3_stmt *q, sq_row_fn fn, void *ctx,
            const char *doing);
/* Steps q to the end, or until limit rows (0 = no limit) were kept; *more says whether another
 * kept row followed. *items is a malloc'd array of *count structs. Resets q. */
int sq_collect(struct sq_store *s, struct sq_conn *c, sqlite3_stmt *q, const struct sq_reader *r,
               size_t limit, void **items, size_t *count, int *more, const char *doing);
/* The first row as one malloc'd struct; MN_ENOTFOUND (with no message set) when there is none. */
int sq_fetch_one(struct sq_store *s, struct sq_conn *c, sqlite3_stmt *q, const struct sq_reader *r,
                 void **out, const char *doing);
/* A whole write: refuses a read-only store, waits for its turn among the handle's writers
 * (sqlite/writer.c), has a savepoint in the writers' transaction and reserves nseq sequence
 * numbers (the last in *last_seq; nseq 0: none, and last_seq may be NULL). sq_write_end keeps
 * the write (rc == MN_OK) or undoes it, and returns once it is committed: rc, or the commit's
 * failure. grouped: the write may share its COMMIT with the writes waiting behind it (group
 * commit); only for writes that hold no lock of their own across sq_write_end. */
int sq_write_begin(struct sq_store *s, int grouped, struct sq_conn **c, int64_t nseq,
                   int64_t *last_seq);
int sq_write_end(struct sq_store *s, struct sq_conn *c, int rc);
/* The queue under sq_write_begin and sq_write_end (sqlite/writer.c): sq_writer_enter waits for
 * the turn (at most busy_ms) and returns the transaction's connection with this writer's
 * savepoint; sq_writer_leave ends the savepoint and hands the group on or commits it. */
struct sq_writer;
int sq_writer_init(struct sq_writer *w);
void sq_writer_destroy(struct sq_writer *w);
int sq_writer_enter(struct sq_store *s, int grouped, struct sq_conn **c);
int sq_writer_leave(struct sq_store *s, struct sq_conn *c, int rc);
/* Runs a statement that returns no rows (id: an enum mni_stmt or sq_stmt_id) with a's
 * arguments bound to ?1..: on c inside the caller's write, or, when c is NULL, on a
 * connection of its own (refused on a read-only store). *changed (may be NULL) receives how
 * many rows it changed; taken not NULL: a taken unique key is MN_EEXISTS with that message. */
int sq_run(struct sq_store *s, struct sq_conn *c, int id, const struct mni_args *a,
           int64_t *changed, const char *taken, const char *doing);
/* The operations written once (store/driver.h) run through it (sqlite/driver.c). */
extern const struct mni_driver sq_driver;
/* The driver's find_ids (store/driver.h): what a batch of adds repeats, in one read
 * (sqlite/dedup.c). */
int sq_find_ids(struct mni_store *st, struct mni_tx *tx, const char *tenant_id,
                const struct mni_find *wants, size_t n, int64_t now, char **ids,
                int64_t *keys, int64_t *seen_seq, const char *doing);

/* A memory row (MEMORY_COLUMNS) into m; the embedding only when with_embedding. MN_ENOMEM. */
int sq_memory_read(sqlite3_stmt *st, mn_memory *m, int with_embedding);

/* Column helpers: a malloc'd copy of a text column (NULL for NULL). */
char *sq_text(sqlite3_stmt *st, int col);
/* Binds text, or NULL when v is NULL. */
int sq_bind_text(sqlite3_stmt *st, int idx, const char *v);
/* Binds a's arguments (may be NULL: none) to ?1.. in order. */
void sq_bind_args(struct sq_store *s, sqlite3_stmt *st, const struct mni_args *a);

/* Schema: creates or migrates the database on c; reads or records the embedding dimension. */
int sq_schema_prepare(struct sq_store *s, struct sq_conn *c, const char *embedder, int *dim);
int sq_schema_version_on(struct sq_store *s, struct sq_conn *c, int *version);

/* The backend's own ops (store/driver.h): memories in sqlite/memory.c, the change feed and
 * settings in sqlite/feed.c, the embedding cache in sqlite/embed.c, jobs in sqlite/jobs.c. */
MNI_BACKEND_OPS_DECLARE(sq);
int sq_memory_keyword_merge(struct mni_store *st, int64_t *steps);
const char *sq_file_path(struct mni_store *st);
int sq_index_dir(struct mni_store *st, char **dir);
/* Embedding jobs (sqlite/jobs.c). sq_job_enqueue runs inside the caller's transaction:
 * the job of memory id (tenant) is (re)queued. */
int sq_job_enqueue(struct sq_store *s, struct sq_conn *c, const char *tenant_id,
                   const char *memory_id, int64_t now);
/* Tells the handle, after a commit, that the tenant's memories changed (an index follows). */
void sq_changed(struct sq_store *s, const char *tenant_id);

#endif
