#include "core/atomic_file.h"
#include "manushya.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mni_atomic_file_open(struct mni_atomic_file *a, const char *path)
{
    static unsigned counter; /* with the pid: unique among this machine's writers */
    memset(a, 0, sizeof *a);
    size_t len = strlen(path) + 48;
    a->tmp = malloc(len);
    if (!a->tmp)
        return MN_ENOMEM;
    for (;;) {
        unsigned n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
        snprintf(a->tmp, len, "%s.tmp.%ld.%u", path, (long)getpid(), n);
        /* O_EXCL: a leftover of a crashed writer that had our pid is never written into. */
        int fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd >= 0)
            a->f = fdopen(fd, "wb");
        if (!a->f) {
            int err = errno;
            if (fd >= 0) {
                close(fd);
                unlink(a->tmp);
            }
            free(a->tmp);
            a->tmp = NULL;
            errno = err;
            return MN_EBACKEND;
        }
        a->path = path;
        return MN_OK;
    }
}

int mni_atomic_file_commit(struct mni_atomic_file *a, int failed)
{
    failed |= fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
    failed |= fclose(a->f) != 0;
    if (failed || rename(a->tmp, a->path) != 0) {
        unlink(a->tmp);
        failed = 1;
    }
    free(a->tmp);
    memset(a, 0, sizeof *a);
    return failed ? MN_EBACKEND : MN_OK;
}
