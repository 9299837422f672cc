/* Versioned structs across the ABI: see abi.h. */
#include "core/abi.h"

#include <string.h>

#include "core/error.h"

/* The caller's version of the struct at p, checked. */
static int version_of(const mn_db *db, const struct mni_abi_struct *t, const void *p,
                      unsigned *version)
{
    memcpy(version, p, sizeof *version);
    if (*version == 0)
        return mni_seterr(db, MN_EINVAL, "%s.version is 0: initialise the struct with the "
                          "library's %s initialiser (its _INIT macro or _init() function)",
                          t->name, t->name);
    if (*version > t->current)
        return mni_seterr(db, MN_EINVAL, "%s.version is %u, newer than this library knows (%u): "
                          "the program was built against a newer manushya.h than the "
                          "libmanushya it runs with (%s); install that library version",
                          t->name, *version, t->current, mn_version());
    return MN_OK;
}

int mni_abi_read(const mn_db *db, const struct mni_abi_struct *t, const void *src, int null_ok,
                 void *dst, size_t dst_size)
{
    unsigned v;
    memset(dst, 0, dst_size);
    if (!src) {
        if (!null_ok)
            return mni_seterr(db, MN_EINVAL, "%s is NULL", t->name);
        memcpy(dst, &t->current, sizeof t->current);
        return MN_OK;
    }
    int rc = version_of(db, t, src, &v);
    if (rc != MN_OK)
        return rc;
    memcpy(dst, src, t->sizes[v - 1]);
    return MN_OK;
}

int mni_abi_read_array(const mn_db *db, const struct mni_abi_struct *t, const void *src,
                       size_t n, void *dst, size_t dst_size, size_t *bad)
{
    unsigned first = 0;
    size_t stride = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = (const char *)src + i * stride;
        unsigned v = 0;
        int rc = MN_OK;
        /* The version first: an element of another one must not be read in its size. */
        if (i > 0) {
            memcpy(&v, s, sizeof v);
            if (v != first)
                rc = mni_seterr(db, MN_EINVAL, "%s[%zu].version is %u but [0]'s is %u: an "
                                "array's structs are all of one version", t->name, i, v, first);
        }
        if (rc == MN_OK)
            rc = mni_abi_read(db, t, i ? s : src, 0, (char *)dst + i * dst_size, dst_size);
        if (rc != MN_OK) {
            if (bad)
                *bad = i;
            return rc;
        }
        if (i == 0) {
            memcpy(&first, src, sizeof first);
            stride = t->sizes[first - 1];
        }
    }
    return MN_OK;
}

int mni_abi_write(const mn_db *db, const struct mni_abi_struct *t, void *dst, const void *src)
{
    unsigned v;
    if (!dst)
        return mni_seterr(db, MN_EINVAL, "%s is NULL", t->name);
    int rc = version_of(db, t, dst, &v);
    if (rc != MN_OK)
        return rc;
    memcpy((char *)dst + sizeof v, (const char *)src + sizeof v, t->sizes[v - 1] - sizeof v);
    return MN_OK;
}

int mni_abi_init(const struct mni_abi_struct *t, void *dst, unsigned version)
{
    if (!dst)
        return mni_seterr(NULL, MN_EINVAL, "%s_init: the struct is NULL", t->name);
    if (version == 0 || version > t->current)
        return mni_seterr(NULL, MN_EINVAL, "%s_init: version %u is unknown to this library "
                          "(it knows 1 to %u)", t->name, version, t->current);
    memset(dst, 0, t->sizes[version - 1]);
    memcpy(dst, &version, sizeof version);
    return MN_OK;
}
