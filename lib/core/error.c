/* Per-thread error state. A handle is shared by threads, so a message kept in the handle would
 * be overwritten by another thread's failure before the first thread read it. Each thread keeps
 * the last failure it saw instead, tagged with the handle it happened on. */
#include "core/error.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct {
    const mn_db *db;
    int rc;
    char msg[MNI_ERRMSG_MAX];
    mni_errfmt_fn lazy;         /* set: msg is still to be made from arg (mni_seterr_lazy) */
    _Alignas(max_align_t) unsigned char arg[MNI_ERRARG_MAX];
} last;

/* Makes a lazy message now that it is read. */
static void make_lazy(void)
{
    if (last.lazy) {
        last.lazy(last.msg, sizeof last.msg, last.arg);
        last.lazy = NULL;
    }
}

int mni_seterr(const mn_db *db, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last.msg, sizeof last.msg, fmt, ap);
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
    char msg[MNI_ERRMSG_MAX];
    make_lazy();
    memcpy(msg, last.msg, sizeof msg);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last.msg, sizeof last.msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof last.msg)
        snprintf(last.msg + n, sizeof last.msg - (size_t)n, "%s", msg);
    last.db = db;
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
