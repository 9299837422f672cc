/* The master key file (master_key.h). */
#include "crypto/master_key.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEX_LEN (2 * MNI_KEY_BYTES)

const char *mni_master_key_path(const char *path)
{
    if (path && *path)
        return path;
    const char *env = getenv("MANUSHYA_MASTER_KEY_FILE");
    return env && *env ? env : NULL;
}

int mni_master_key_read(mn_db *db, const char *path, unsigned char key[MNI_KEY_BYTES])
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mni_seterr(db, MN_EKEY, "cannot open the master key file %s: %s", path,
                          strerror(errno));
    struct stat st;
    char buf[HEX_LEN + 3];
    ssize_t n = -1;
    int rc = MN_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = mni_seterr(db, MN_EKEY, "the master key file %s is not a regular file", path);
    else if (st.st_mode & S_IRWXO)
        rc = mni_seterr(db, MN_EKEY, "the master key file %s can be read by anyone; make it "
                        "private (chmod 600) before it is used", path);
    else if ((n = read(fd, buf, sizeof buf - 1)) < 0)
        rc = mni_seterr(db, MN_EKEY, "cannot read the master key file %s: %s", path,
                        strerror(errno));
    close(fd);
    if (rc != MN_OK)
        return rc;
    /* 64 hex digits, a newline after them allowed. */
    size_t len = (size_t)n;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    size_t got = 0;
    if (len != HEX_LEN ||
        sodium_hex2bin(key, MNI_KEY_BYTES, buf, len, NULL, &got, NULL) != 0 ||
        got != MNI_KEY_BYTES)
        rc = mni_seterr(db, MN_EKEY, "the master key file %s does not hold a key: it must be "
                        "%d hex digits (mn_master_key_create writes one)", path, HEX_LEN);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

int mni_master_key_create(mn_db *db, const char *path)
{
    unsigned char key[MNI_KEY_BYTES];
    char hex[HEX_LEN + 2];
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    sodium_memzero(key, sizeof key);
    hex[HEX_LEN] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    int rc = MN_OK;
    if (fd < 0)
        rc = mni_seterr(db, errno == EEXIST ? MN_EEXISTS : MN_EBACKEND,
                        "cannot create the master key file %s: %s%s", path, strerror(errno),
                        errno == EEXIST ? " (a key file is never overwritten: give a new name)"
                                        : "");
    else if (write(fd, hex, HEX_LEN + 1) != HEX_LEN + 1 || fsync(fd) != 0)
        rc = mni_seterr(db, MN_EBACKEND, "cannot write the master key file %s: %s", path,
                        strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == MN_OK)
        rc = mni_seterr(db, MN_EBACKEND, "cannot write the master key file %s: %s", path,
                        strerror(errno));
    if (fd >= 0 && rc != MN_OK)
        unlink(path);
    sodium_memzero(hex, sizeof hex);
    return rc;
}
