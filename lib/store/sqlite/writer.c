/* The writers of one handle, queued in the library.
 *
 * SQLite lets one connection write at a time. Left to SQLite, the handle's writers would each
 * take a connection and wait in its busy handler, which sleeps (up to 100 ms a turn) instead of
 * waking when the lock is free: under concurrent writes most of a write's time goes to
 * sleeping. Here the handle's writers wait their turn on a condition variable instead (up to
 * busy_timeout_ms, as SQLite would have), and the busy handler is left to other processes.
 *
 * Group commit. A turn is a part of a transaction that the writers share (a savepoint, for each
 * write but the one that opened the transaction, whose failure may undo it all): when a
 * grouped write (a memory add) ends while others wait, it releases its savepoint and hands the
 * open transaction to the next writer instead of committing, then waits for the commit. The
 * writer that finds nobody waiting (or the group full) commits everyone's work in one COMMIT
 * and tells each its result. Durability is unchanged: no call returns before its commit. A
 * failed write rolls back to its own savepoint (the first, the whole transaction, which holds
 * its work alone), so its neighbours' work stays; only a failed
 * COMMIT (or an error after which SQLite dropped the whole transaction: disk full, I/O) fails
 * the whole group, each with the message of that failure.
 *
 * Only grouped writes hand off: a write that holds a lock of its own across the commit (the
 * master key's rotation holds the vault's) would otherwise wait for a commit that a writer
 * needing that lock has to make. Any writer may join an open group and then commits it. */
#include "store/sqlite/sqlite.h"
#include "core/error.h"
#include "core/metrics.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* At most this many writes share one COMMIT, so that none waits behind an unbounded group. */
#define SQ_GROUP_MAX 64

int sq_writer_init(struct sq_writer *w)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0)
        return -1;
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int rc = pthread_mutex_init(&w->mu, NULL) || pthread_cond_init(&w->turn, &a) ||
             pthread_cond_init(&w->done, &a);
    pthread_condattr_destroy(&a);
    return rc ? -1 : 0;
}

void sq_writer_destroy(struct sq_writer *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->turn);
    pthread_cond_destroy(&w->done);
}

/* Waits (w->mu held) until no writer is active, at most busy_ms; 0, or -1 when the time ran out
 * with another writer still active. */
static int wait_turn(struct sq_store *s)
{
    struct sq_writer *w = &s->writer;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += s->busy_ms / 1000;
    until.tv_nsec += (long)(s->busy_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    w->waiting++;
    /* After a timeout the turn is taken if it is free all the same: a writer that handed the
     * group over counted on a waiter to carry it on. */
    while (w->active)
        if (pthread_cond_timedwait(&w->turn, &w->mu, &until) == ETIMEDOUT && w->active)
            break;
    w->waiting--;
    if (w->active)
        return -1;
    w->active = 1;
    return 0;
}

static int run_fixed(struct sq_store *s, struct sq_conn *c, int id, const char *doing)
{
    sqlite3_stmt *st = sq_stmt(s, c, id);
    return st ? sq_exec(s, c, st, doing) : MN_EBACKEND;
}

int sq_writer_enter(struct sq_store *s, int grouped, struct sq_conn **out)
{
    struct sq_writer *w = &s->writer;
    *out = NULL;
    pthread_mutex_lock(&w->mu);
    if (wait_turn(s) != 0) {
        pthread_mutex_unlock(&w->mu);
        return sq_fail(s, NULL, SQLITE_BUSY, "waiting for the other writers of this handle");
    }
    /* Only the active writer changes w->conn: it may be read unlocked from here on. */
    struct sq_conn *c = w->conn;
    pthread_mutex_unlock(&w->mu);
    int opens = c == NULL, rc = MN_OK;
    if (opens) {
        rc = sq_conn_get(s, &c);
        if (rc == MN_OK && (rc = sq_begin(s, c)) != MN_OK)
            sq_conn_put(s, c);
    }
    /* A write that joins an open group runs in a savepoint, so that its failure undoes its own
     * work and keeps its neighbours'. The write that opens the transaction needs none: nothing
     * else is in it yet, so its failure rolls the whole of it back (end_savepoint). A savepoint
     * is not free: SQLite first copies every page a write changes into the savepoint's
     * journal, and a batch of adds changes hundreds of 16 KiB pages. */
    if (rc == MN_OK && !opens &&
        (rc = run_fixed(s, c, SQ_SAVEPOINT, "starting a write")) != MN_OK) {
        /* The group's earlier writers wait for its commit: this writer makes it. */
        pthread_mutex_lock(&w->mu);
        w->grouped = 0;
        w->savepoint = 1; /* whose undoing fails harmlessly: the group's work stays */
        pthread_mutex_unlock(&w->mu);
        return sq_writer_leave(s, c, rc);
    }
    pthread_mutex_lock(&w->mu);
    if (rc == MN_OK) {
        if (opens) {
            w->conn = c;
            w->members = 0;
        }
        w->members++;
        w->grouped = grouped;
        w->savepoint = !opens;
        *out = c;
    } else {
        /* No group was opened: the turn passes on. */
        w->active = 0;
        pthread_cond_signal(&w->turn);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* Ends this writer's savepoint: kept when rc is MN_OK, else undone. Returns rc or the
 * release's failure. A writer that opened the transaction has no savepoint: its failure rolls
 * the transaction back, which holds its work alone. */
static int end_savepoint(struct sq_store *s, struct sq_conn *c, int rc)
{
    if (sqlite3_get_autocommit(c->db))
        return rc; /* SQLite dropped the transaction, savepoint and all */
    if (!s->writer.savepoint)
        return rc == MN_OK ? rc : sq_end(s, c, rc);
    if (rc != MN_OK) {
        sqlite3_stmt *st = sq_stmt(s, c, SQ_ROLLBACK_TO);
        if (st) { /* rc, already recorded, is what the caller sees */
            sqlite3_step(st);
            sqlite3_reset(st);
        }
    }
    int released = run_fixed(s, c, SQ_RELEASE, "ending a write");
    return rc != MN_OK ? rc : released;
}

/* A writer that handed the group on, waiting for its commit. */
struct follower {
    struct follower *next;
    int done, rc;
    char msg[MNI_ERRMSG_MAX];
};

int sq_writer_leave(struct sq_store *s, struct sq_conn *c, int rc)
{
    struct sq_writer *w = &s->writer;
    rc = end_savepoint(s, c, rc);
    int dropped = sqlite3_get_autocommit(c->db);
    pthread_mutex_lock(&w->mu);
    if (w->grouped && !dropped && w->waiting > 0 && w->members < SQ_GROUP_MAX) {
        /* Hand the transaction on; the last writer of the group commits it. */
        struct follower me = { w->followers, 0, MN_OK, "" };
        w->followers = &me;
        w->active = 0;
        mni_metrics_inc(s->base.metrics, MNI_S_STORE_GROUPED_WRITES);
        pthread_cond_signal(&w->turn);
        while (!me.done)
            pthread_cond_wait(&w->done, &w->mu);
        pthread_mutex_unlock(&w->mu);
        if (rc == MN_OK && me.rc != MN_OK)
            rc = mni_seterr(s->base.db, me.rc, "%s", me.msg);
        return rc;
    }
    struct follower *group = w->followers;
    w->followers = NULL;
    w->conn = NULL;
    pthread_mutex_unlock(&w->mu);
    if (dropped && rc == MN_OK)
        rc = mni_seterr(s->base.db, MN_EBACKEND, "SQLite rolled back the transaction of a "
                        "write of %s; retry", s->path);
    /* A dropped transaction took the group's earlier work with it: they fail with this error. */
    int group_rc = sq_end(s, c, dropped ? rc : MN_OK);
    if (!dropped)
        mni_metrics_inc(s->base.metrics, MNI_S_STORE_COMMITS);
    const char *why = group_rc != MN_OK ? mn_errmsg(s->base.db) : "";
    sq_conn_put(s, c);
    pthread_mutex_lock(&w->mu);
    for (struct follower *f = group; f; f = f->next) {
        f->rc = group_rc;
        snprintf(f->msg, sizeof f->msg, "%s", why);
        f->done = 1;
    }
    w->active = 0;
    pthread_cond_broadcast(&w->done);
    pthread_cond_signal(&w->turn);
    pthread_mutex_unlock(&w->mu);
    return rc != MN_OK ? rc : group_rc;
}
