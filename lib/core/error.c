/* Per-thread error state. A handle is shared by threads, so a message kept in the handle would
 * be overwritten by another thread's failure before the first thread read it. Each thread keeps
 * the last failure it saw instead, tagged with the handle it happened on.
 *
 * The last few failures are kept in a ring, the newest at seq: forgetting the failures of work
 * that was recovered from (mni_err_forget) steps back to the one before, without a copy.
 *
 * Every message is kept, and every log line written, only once mni_redact has taken the
 * handle's secrets out of it (core/secrets.h). */
#include "core/error.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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

/* A handle starts with its struct mni_report (api/handle.h). */
static const struct mni_report *report_of(const mn_db *db)
{
    return (const struct mni_report *)db;
}

static const struct mni_secrets *secrets_of(const mn_db *db)
{
    return db ? &report_of(db)->secrets : NULL;
}

/* A message formatted whole: cut before its secrets are out, one cut in two would go
 * unrecognised. In buf when it fits, else malloc'd. */
struct whole {
    char buf[1024];
    char *text; /* buf, a malloc'd string, or NULL when out of memory */
};

static void format(struct whole *w, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(w->buf, sizeof w->buf, fmt, ap);
    w->text = n >= 0 && (size_t)n < sizeof w->buf ? w->buf : NULL;
    if (n >= 0 && !w->text && vasprintf(&w->text, fmt, again) < 0)
        w->text = NULL;
    va_end(again);
}

__attribute__((format(printf, 2, 3)))
static void format_args(struct whole *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format(w, fmt, ap);
    va_end(ap);
}

static void let_go(struct whole *w)
{
    if (w->text != w->buf)
        free(w->text);
}

/* Writes w, its secrets hidden, into out (size bytes), and lets w go. */
static void redact(const mn_db *db, struct whole *w, char *out, size_t size)
{
    mni_redact(secrets_of(db), w->text ? w->text : "(a message left out: out of memory)", out,
              size);
    let_go(w);
}

/* Makes a lazy message now that it is read. The handle may be gone by then (mn_errmsg only
 * compares it), so only the rules that need no handle's secrets apply: lazy messages are
 * denials, made of names the library checked, never of URLs or keys. */
static void make_lazy(struct failure *f)
{
    if (f->lazy) {
        char msg[MNI_ERRMSG_MAX];
        f->lazy(msg, sizeof msg, f->arg);
        mni_redact(NULL, msg, f->msg, sizeof f->msg);
        f->lazy = NULL;
    }
}

int mni_seterr(const mn_db *db, int rc, const char *fmt, ...)
{
    struct whole w;
    va_list ap;
    va_start(ap, fmt);
    format(&w, fmt, ap);
    va_end(ap);
    struct failure *f = record(db, rc);
    redact(db, &w, f->msg, sizeof f->msg);
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
    make_lazy(f);
    struct whole prefix, msg;
    va_list ap;
    va_start(ap, fmt);
    format(&prefix, fmt, ap);
    va_end(ap);
    format_args(&msg, "%s%s", prefix.text ? prefix.text : "", f->msg);
    let_go(&prefix);
    redact(db, &msg, f->msg, sizeof f->msg);
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

void mni_err_forget_db(const mn_db *db)
{
    struct failure *f = last();
    if (f->db == db)
        *f = (struct failure){ .rc = MN_OK };
}

void mni_log(const mn_db *db, const char *fmt, ...)
{
    struct whole w;
    char line[MNI_ERRMSG_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    format(&w, fmt, ap);
    va_end(ap);
    redact(db, &w, line, sizeof line);
    const struct mni_report *r = report_of(db);
    if (r->log_fn)
        r->log_fn(r->log_ctx, line);
    else
        fprintf(stderr, "libmanushya: %s\n", line);
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
    case MN_EKEY: return "master key missing or wrong";
    default: return "unknown error code";
    }
}
