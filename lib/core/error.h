/* Error reporting: every failing call records a code and a message for mn_errmsg(). */
#ifndef MN_CORE_ERROR_H
#define MN_CORE_ERROR_H

#include "manushya.h"

/* Records rc and the formatted message for the calling thread on db (db may be NULL), and
 * returns rc, so that failures read `return mn_seterr(db, MN_EINVAL, "...", ...);`. */
int mn_seterr(const mn_db *db, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Puts the formatted prefix before the calling thread's current message (after a failure). */
void mn_errprefix(const mn_db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Size of an error message, terminator included; longer messages are cut. */
#define MN_ERRMSG_MAX 512

#endif
