/* Error reporting: every failing call records a code and a message for mn_errmsg(); trouble
 * the library carries on through goes to the log. Both have the handle's secrets taken out
 * (core/secrets.h). */
#ifndef MNI_CORE_ERROR_H
#define MNI_CORE_ERROR_H

#include "manushya.h"

/* Records rc and the formatted message for the calling thread on db (db may be NULL), and
 * returns rc, so that failures read `return mni_seterr(db, MN_EINVAL, "...", ...);`. */
int mni_seterr(const mn_db *db, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Puts the formatted prefix before the calling thread's current message (after a failure). */
void mni_errprefix(const mn_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes the formatted line to mn_config.log_fn (NULL: stderr), for trouble the library
 * carries on through. */
void mni_log(const mn_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Size of an error message, terminator included; longer messages are cut. */
#define MNI_ERRMSG_MAX 512

/* Records rc with a message made only when it is read (mn_errmsg, mni_errprefix): fmt(buf,
 * size, arg) on a copy of the argsize (<= MNI_ERRARG_MAX) bytes at arg. For failures that are a
 * normal answer on a hot path (a rate-limit denial), where formatting a message nobody reads
 * would cost more than the work itself. */
typedef void (*mni_errfmt_fn)(char *buf, size_t size, const void *arg);
#define MNI_ERRARG_MAX 128
int mni_seterr_lazy(const mn_db *db, int rc, mni_errfmt_fn fmt, const void *arg, size_t argsize);

#endif
