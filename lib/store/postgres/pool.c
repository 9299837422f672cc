/* The connection pool of the PostgreSQL backend. pool_size connections stay open once made;
 * up to pool_overflow more are made under load and closed when given back. A checkout waits at
 * most pool_timeout_ms. A connection is checked before it is handed out: one the server closed
 * (a restart, an idle timeout) shows as a readable socket and is replaced without a round trip;
 * one idle longer than health_check seconds is pinged; one older than pool_recycle seconds is
 * replaced. So after a server restart only the calls in flight fail, and the next ones reconnect.
 * pool_idle caps the connections kept open while idle (0: each call connects, for a server
 * that takes one connection at a time, like PGlite's socket server).
 * A connection belongs to one thread between pgs_get and pgs_put. */
#include "store/postgres/pg.h"
#include "core/metrics.h"
#include "core/clock.h"
#include "core/error.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int pgs_pool_init(struct pgs_store *s, struct pgs_pool *p, const char *conninfo,
                  const char *what)
{
    memset(p, 0, sizeof *p);
    p->conninfo = conninfo;
    p->what = what;
    p->nconns = s->opt.pool_size + s->opt.pool_overflow;
    s->base.pool_kind = MNI_POOL_POSTGRES;
    s->base.pool_max += p->nconns;
    p->conns = calloc((size_t)p->nconns, sizeof *p->conns);
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    return p->conns ? MN_OK : mni_seterr(s->base.db, MN_ENOMEM, "out of memory opening the pool");
}

static void conn_close(struct pgs_conn *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    memset(c->prepared, 0, sizeof c->prepared);
}

void pgs_pool_close(struct pgs_pool *p)
{
    if (!p->conns)
        return;
    for (int i = 0; i < p->nconns; i++)
        conn_close(&p->conns[i]);
    free(p->conns);
    p->conns = NULL;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}

/* Whether an open connection is still usable, cheaply: the server's goodbye (or EOF) makes the
 * socket readable while the connection is idle. */
static int conn_alive(struct pgs_store *s, struct pgs_conn *c, int64_t now)
{
    if (PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        return 0;
    if (s->opt.pool_recycle_s && now - c->born_ms > (int64_t)s->opt.pool_recycle_s * 1000)
        return 0;
    struct pollfd pfd = { PQsocket(c->pg), POLLIN, 0 };
    if (pfd.fd < 0)
        return 0;
    int r = poll(&pfd, 1, 0);
    if (r > 0) {
        /* Readable while idle: EOF, an error, or a notice. Only a notice leaves it usable. */
        if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK)
            return 0;
        PGnotify *n;
        while ((n = PQnotifies(c->pg)))
            PQfreemem(n);
    }
    if (s->opt.health_check_s && now - c->used_ms > (int64_t)s->opt.health_check_s * 1000) {
        PGresult *res = PQexec(c->pg, "");
        int ok = res && PQresultStatus(res) == PGRES_EMPTY_QUERY;
        PQclear(res);
        return ok && PQstatus(c->pg) == CONNECTION_OK;
    }
    return 1;
}

/* The server's notices (NOTICE: ... already exists) are not the application's output. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg, (void)message;
}

/* Connects with our sessions' defaults where the URL (options=...) and the environment
 * (PGOPTIONS) give none: jit=off. PostgreSQL compiles a statement whose estimated cost passes
 * jit_above_cost with LLVM before it runs it, and the keyword search's statement on a tenant
 * of 100,000 memories passes it: 80 ms of a fresh session's time for a statement that then
 * runs in a few; none of ours runs long enough to win that back. In the startup packet, it
 * costs no round trip; the URL's options, listed after it, replace it. */
static PGconn *connect_to(const char *conninfo)
{
    const char *keys[] = { "options", "dbname", NULL };
    const char *values[] = { "-c jit=off", conninfo, NULL };
    int skip = getenv("PGOPTIONS") != NULL;
    return PQconnectdbParams(keys + skip, values + skip, 1);
}

static int conn_open(struct pgs_store *s, struct pgs_pool *p, struct pgs_conn *c)
{
    /* connect_retry_ms: a server that refuses for a moment (restarting; PGlite while its one
     * connection is still closing) gets more tries, the first soon: PGlite's previous
     * connection is gone within a millisecond or two, and a handle that connects for every call
     * (pool_idle=0) would otherwise wait the longest nap at each. */
    int64_t until = mni_mono_ms() + s->opt.connect_retry_ms;
    long nap_ms = 1;
    for (;;) {
        c->pg = connect_to(p->conninfo);
        if (!c->pg || PQstatus(c->pg) == CONNECTION_OK || mni_mono_ms() >= until)
            break;
        PQfinish(c->pg);
        c->pg = NULL;
        struct timespec nap = { 0, nap_ms * 1000000 };
        nanosleep(&nap, NULL);
        if (nap_ms < 50)
            nap_ms = nap_ms * 2 > 50 ? 50 : nap_ms * 2;
    }
    if (!c->pg)
        return mni_seterr(s->base.db, MN_ENOMEM, "out of memory connecting to PostgreSQL");
    if (PQstatus(c->pg) != CONNECTION_OK) {
        /* libpq's first line, whole: one that repeats a URI it could not parse holds the
         * password, which mni_seterr takes out (core/secrets.h) before it cuts the message. */
        const char *why = PQerrorMessage(c->pg);
        int rc = mni_seterr(s->base.db, MN_EBACKEND, "cannot connect to %s (PostgreSQL): %.*s; "
                           "check that the server runs and the URL's host, port, user and "
                           "database", p->what, (int)strcspn(why, "\n"), why);
        conn_close(c);
        return rc;
    }
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    int64_t now = mni_mono_ms();
    c->born_ms = c->used_ms = now;
    int rc = pgs_conn_setup(s, c);
    if (rc != MN_OK)
        conn_close(c);
    return rc;
}

int pgs_get(struct pgs_store *s, struct pgs_pool *p, struct pgs_conn **out)
{
    *out = NULL;
    int64_t deadline = mni_mono_ms() + s->opt.pool_timeout_ms;
    struct timespec until = { (time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000 };
    pthread_mutex_lock(&p->mu);
    struct pgs_conn *c = NULL;
    int waited = 0;
    for (;;) {
        /* An open idle connection first; else a free slot to open one in. */
        struct pgs_conn *slot = NULL;
        for (int i = 0; i < p->nconns && !c; i++) {
            struct pgs_conn *x = &p->conns[i];
            if (x->busy)
                continue;
            if (x->pg)
                c = x;
            else if (!slot)
                slot = x;
        }
        if (!c)
            c = slot;
        if (c)
            break;
        if (!waited++)
            mni_metrics_inc(s->base.metrics, MNI_S_POOL_WAITS + MNI_POOL_POSTGRES);
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->mu);
            mni_metrics_inc(s->base.metrics, MNI_S_POOL_TIMEOUTS + MNI_POOL_POSTGRES);
            return mni_seterr(s->base.db, MN_EBACKEND, "no connection to %s came free within "
                             "%d ms: all %d (pool_size %d + pool_overflow %d) are in use; raise "
                             "pool_size, pool_overflow or pool_timeout_ms in the URL, or make "
                             "fewer calls at once", p->what, s->opt.pool_timeout_ms, p->nconns,
                             s->opt.pool_size, s->opt.pool_overflow);
        }
    }
    c->busy = 1;
    mni_metrics_inc(s->base.metrics, MNI_S_POOL_IN_USE + MNI_POOL_POSTGRES);
    int was_open = c->pg != NULL;
    if (!was_open)
        p->nopen++;
    pthread_mutex_unlock(&p->mu);
    int rc = MN_OK;
    if (was_open && !conn_alive(s, c, mni_mono_ms()))
        conn_close(c);
    if (!c->pg)
        rc = conn_open(s, p, c);
    if (rc != MN_OK) {
        pgs_put(s, p, c);
        return rc;
    }
    *out = c;
    return MN_OK;
}

void pgs_put(struct pgs_store *s, struct pgs_pool *p, struct pgs_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&p->mu);
    int idle = 0;
    for (int i = 0; i < p->nconns; i++)
        idle += p->conns[i].pg && !p->conns[i].busy;
    int keep = c->pg && PQstatus(c->pg) == CONNECTION_OK &&
               PQtransactionStatus(c->pg) == PQTRANS_IDLE && p->nopen <= s->opt.pool_size &&
               idle < s->opt.pool_idle;
    pthread_mutex_unlock(&p->mu);
    /* Closing talks to the server: not under the lock. */
    if (!keep)
        conn_close(c);
    else
        c->used_ms = mni_mono_ms();
    pthread_mutex_lock(&p->mu);
    if (!keep)
        p->nopen--;
    c->busy = 0;
    mni_metrics_add(s->base.metrics, MNI_S_POOL_IN_USE + MNI_POOL_POSTGRES, -1);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

struct pgs_pool *pgs_reads(struct pgs_store *s)
{
    return s->has_replica ? &s->replica : &s->primary;
}
