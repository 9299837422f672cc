/* Per-thread error state. A handle is shared by threads, so a message kept in the handle would
 * be overwritten by another thread's failure before the first thread read it. Each thread keeps
 * the last failure it saw instead, tagged with the handle it happened on.
 *
 * Every message is kept, and every log line written, only once mni_redact has taken the
 * handle's secrets out of it (core/secrets.h). */
#include "core/error.h"
#include "core/handle.h"
#include "core/secrets.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local struct {
    const mn_db *db;
    int rc;
    char msg[MNI_ERRMSG_MAX];
    mni_errfmt_fn lazy;         /* set: msg is still to be made from arg (mni_seterr_lazy) */
    _Alignas(max_align_t) unsigned char arg[MNI_ERRARG_MAX];
} last;

static const struct mni_secrets *secrets_of(const mn_db *db)
{
    return db ? &db->secrets : NULL;
}

/* Keeps text (malloc'd, the whole of it: cut before its secrets are out, one cut in two
 * would go unrecognised; NULL when formatting it failed) as the calling thread's message. */
static void keep(const mn_db *db, char *text)
{
    mni_redact(secrets_of(db), text ? text : "(a message left out: out of memory)", last.msg,
              sizeof last.msg);
    free(text);
}

/* vasprintf's string, or NULL. */
static char *format(const char *fmt, va_list ap)
{
    char *s;
    return vasprintf(&s, fmt, ap) < 0 ? NULL : s;
}

/* Makes a lazy message now that it is read. The handle may be gone by then (mn_errmsg only
 * compares it), so only the rules that need no handle's secrets apply: lazy messages are
 * denials, made of names the library checked, never of URLs or keys. */
static void make_lazy(void)
{
    if (last.lazy) {
        char msg[MNI_ERRMSG_MAX];
        last.lazy(msg, sizeof msg, last.arg);
        mni_redact(NULL, msg, last.msg, sizeof last.msg);
        last.lazy = NULL;
    }
}

int mni_seterr(const mn_db *db, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    keep(db, format(fmt, ap));
    va_end(ap);
    last.db = db;
    last.rc = rc;
    last.lazy = NULL;
    return rc;
}

int mni_seterr_lazy(const mn_db *db, int rc, mni_errfmt_fn fmt, const void *arg, size_t argsize)
{
    memcpy(last.arg, arg, argsize < sizeof last.arg ? argsize : sizeof last.arg);
    last.lazy = fmt;
    last.db = db;
    last.rc = rc;
    return rc;
}

void mni_errprefix(const mn_db *db, const char *fmt, ...)
{
    make_lazy();
    va_list ap;
    va_start(ap, fmt);
    char *prefix = format(fmt, ap), *msg = NULL;
    va_end(ap);
    if (prefix && asprintf(&msg, "%s%s", prefix, last.msg) < 0)
        msg = NULL;
    free(prefix);
    keep(db, msg);
    last.db = db;
}

void mni_log(const mn_db *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = format(fmt, ap), line[MNI_ERRMSG_MAX + 256];
    va_end(ap);
    mni_redact(secrets_of(db), text ? text : "(a log line left out: out of memory)", line,
              sizeof line);
    free(text);
    if (db->cfg.log_fn)
        db->cfg.log_fn(db->cfg.log_ctx, line);
    else
        fprintf(stderr, "libmanushya: %s\n", line);
}

const char *mn_errmsg(const mn_db *db)
{
    if (last.db != db || last.rc == MN_OK)
        return "not an error";
    make_lazy();
    return last.msg;
}

int mn_errcode(const mn_db *db)
{
    return last.db == db ? last.rc : MN_OK;
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
