/* Per-thread error state. A handle is shared by threads, so a message kept in the handle would
 * be overwritten by another thread's failure before the first thread read it. Each thread keeps
 * the last failure it saw instead, tagged with the handle it happened on.
 *
 * The last few failures are kept in a ring, the newest at seq: forgetting the failures of work
 * that was recovered from (mni_err_forget) steps back to the one before, without a copy. */
#include "core/error.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct failure {
    const mn_db *db;
    int rc;
    int64_t retry_after_ms;     /* MN_ELIMITED: mn_retry_after_ms() */
    char msg[MNI_ERRMSG_MAX];
    mni_errfmt_fn lazy;         /* set: msg is still to be made from arg (mni_seterr_lazy) */
    _Alignas(max_align_t) unsigned char arg[MNI_ERRARG_MAX];
};

static _Thread_local struct failure ring[MNI_ERR_KEPT];
static _Thread_local unsigned long seq; /* failures recorded; ring[0] (seq 0) is "none yet" */

static struct failure *last(void)
{
    return &ring[seq % MNI_ERR_KEPT];
}

/* Starts a new failure in the ring. */
static struct failure *record(const mn_db *db, int rc)
{
    seq++;
    struct failure *f = last();
    f->db = db;
    f->rc = rc;
    f->retry_after_ms = 0;
    f->lazy = NULL;
    return f;
}

/* Makes a lazy message now that it is read. */
static void make_lazy(struct failure *f)
{
    if (f->lazy) {
        f->lazy(f->msg, sizeof f->msg, f->arg);
        f->lazy = NULL;
    }
}

int mni_seterr(const mn_db *db, int rc, const char *fmt, ...)
{
    struct failure *f = record(db, rc);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof f->msg, fmt, ap);
    va_end(ap);
    return rc;
}

int mni_seterr_lazy(const mn_db *db, int rc, mni_errfmt_fn fmt, const void *arg, size_t argsize)
{
    struct failure *f = record(db, rc);
    memcpy(f->arg, arg, argsize < sizeof f->arg ? argsize : sizeof f->arg);
    f->lazy = fmt;
    return rc;
}

int mni_err_no_db(const char *call)
{
    return mni_seterr(NULL, MN_EINVAL, "%s: the handle is NULL; pass the mn_db that mn_open "
                      "made", call);
}

void mni_err_retry_after(int64_t ms)
{
    last()->retry_after_ms = ms;
}

void mni_errprefix(const mn_db *db, const char *fmt, ...)
{
    struct failure *f = last();
    char msg[MNI_ERRMSG_MAX];
    make_lazy(f);
    memcpy(msg, f->msg, sizeof msg);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(f->msg, sizeof f->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof f->msg)
        snprintf(f->msg + n, sizeof f->msg - (size_t)n, "%s", msg);
    f->db = db;
}

mni_errmark mni_err_mark(void)
{
    return seq;
}

void mni_err_forget(mni_errmark mark)
{
    if (seq - mark < MNI_ERR_KEPT) {
        seq = mark;
        return;
    }
    /* The failure at the mark was overwritten: better none than one the work recovered from. */
    seq++;
    *last() = (struct failure){ .rc = MN_OK };
}

const char *mn_errmsg(const mn_db *db)
{
    struct failure *f = last();
    if (f->db != db || f->rc == MN_OK)
        return "not an error";
    make_lazy(f);
    return f->msg;
}

int mn_errcode(const mn_db *db)
{
    const struct failure *f = last();
    return f->db == db ? f->rc : MN_OK;
}

int64_t mn_retry_after_ms(const mn_db *db)
{
    const struct failure *f = last();
    return f->db == db && f->rc == MN_ELIMITED ? f->retry_after_ms : 0;
}

const char *mn_strerror(int rc)
{
    switch (rc) {
    case MN_OK: return "not an error";
    case MN_ERROR: return "error";
    case MN_EINVAL: return "invalid argument";
    case MN_ENOTFOUND: return "not found";
    case MN_EEXISTS: return "already exists";
    case MN_EDENIED: return "access denied by policy";
    case MN_ELIMITED: return "rate limited";
    case MN_EBACKEND: return "storage backend failure";
    case MN_ENOMEM: return "out of memory";
    case MN_EUNSUPPORTED: return "not supported";
    case MN_ECORRUPT: return "database corrupt or not a manushya database";
    case MN_ERANGE: return "value out of range";
    default: return "unknown error code";
    }
}
