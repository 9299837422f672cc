/* Error reporting: every failing call records a code and a message for mn_errmsg(); trouble
 * the library carries on through goes to the log. Both have the handle's secrets taken out
 * (core/secrets.h). */
#ifndef MNI_CORE_ERROR_H
#define MNI_CORE_ERROR_H

#include "manushya.h"
#include "core/secrets.h"

/* What reporting needs of a handle: struct mn_db (api/handle.h) starts with one, so that this
 * layer, below the handle's, reads it without knowing the rest of the handle. */
struct mni_report {
    struct mni_secrets secrets;                 /* kept out of every message and log line */
    void (*log_fn)(void *ctx, const char *msg); /* mn_config.log_fn; NULL: stderr */
    void *log_ctx;
};

/* Internal result codes: passed between the library's own layers, never returned by a public
 * call (the layer that receives one turns it into an MN_* code). They sit in a range of their
 * own, far above the public codes, so that no public code added later can take their value,
 * and mn_strerror() knows none of them. */
enum {
    MNI_RC_INTERNAL = 1000,
    MNI_EBUSY_VERSION = MNI_RC_INTERNAL, /* memory_update: someone else changed the row first;
                                          * reload and retry */
};

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

/* A public call given no handle: MN_EINVAL, reported with db NULL. call: the call's name. */
int mni_err_no_db(const char *call);

/* Sets what mn_retry_after_ms() reports for the failure just recorded (an MN_ELIMITED). */
void mni_err_retry_after(int64_t ms);

/* A successful call must not leave a failure behind (mn_errcode reports the last failure).
 * Work that may fail and be recovered from (a rate limit that fails open, a cache that cannot
 * be read, a job whose failure is the job's and not the call's) takes a mark before it and,
 * when it recovered, forgets the failures recorded since: the thread's last failure is again
 * the one it was at the mark. Marks cost nothing; forgetting is exact for up to
 * MNI_ERR_KEPT - 1 failures since the mark (beyond that the older one is gone and the thread
 * is left with none). */
typedef unsigned long mni_errmark;
#define MNI_ERR_KEPT 4
mni_errmark mni_err_mark(void);
void mni_err_forget(mni_errmark mark);

/* Called as a handle closes: the calling thread's last failure, when it names db, is dropped,
 * so that a handle opened later at the same address does not report it as its own. */
void mni_err_forget_db(const mn_db *db);

#endif
