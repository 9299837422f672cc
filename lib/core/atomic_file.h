/* Writing a file whole or not at all. The data goes to a new file beside the target, named
 * uniquely per writer (so that two processes saving the same file at once never write into
 * each other's), which is synced and then renamed over the target: a reader sees the old file
 * or the new one, never half of one. */
#ifndef MNI_CORE_ATOMIC_FILE_H
#define MNI_CORE_ATOMIC_FILE_H

#include <stdio.h>

struct mni_atomic_file {
    FILE *f;          /* write here */
    char *tmp;        /* its name: PATH.tmp.PID.N */
    const char *path; /* the target, as given (not copied) */
};

/* Creates the temporary file. MN_ENOMEM or MN_EBACKEND (errno tells why); nothing to undo. */
int mni_atomic_file_open(struct mni_atomic_file *a, const char *path);
/* Flushes, syncs, closes and renames it over the target; when failed is nonzero, or any step
 * fails, removes it instead and returns MN_EBACKEND. Releases a either way. */
int mni_atomic_file_commit(struct mni_atomic_file *a, int failed);

#endif
