/* Versioned structs across the ABI. A struct the caller fills (or the library fills in the
 * caller's memory) starts with `unsigned version`; fields are only ever appended, and each
 * version's size is known here. The library works on its own full-size copy: it reads only the
 * bytes the caller's version has (later fields stay zero, which means "the default"), and
 * writes back only those. So a program built against an older header keeps working against a
 * newer library, and one built against a newer header gets a clear error from an older one. */
#ifndef MNI_CORE_ABI_H
#define MNI_CORE_ABI_H

#include <stddef.h>

#include "manushya.h"

/* One public struct: its name for messages, its newest version, and sizes[v - 1], the bytes
 * that version v of it has (sizes[current - 1] == sizeof the struct). */
struct mni_abi_struct {
    const char *name;
    unsigned current;
    const size_t *sizes;
};

/* Copies the caller's struct src (whose first field is its version) into dst, the library's
 * full copy of dst_size bytes, zeroing what the caller's version lacks. src NULL with
 * null_ok: dst is the defaults (zero, version current). MN_EINVAL, recorded on db, for NULL
 * (unless null_ok), a version of 0 ("not initialised") or one newer than this library's. */
int mni_abi_read(const mn_db *db, const struct mni_abi_struct *t, const void *src, int null_ok,
                 void *dst, size_t dst_size);

/* mni_abi_read for an array of n structs of one version, the caller's stride being that
 * version's size: src[i] into ((char *)dst)[i * dst_size]. MN_EINVAL as mni_abi_read, or when
 * an element's version differs from the first's; *bad (may be NULL) is then its index. */
int mni_abi_read_array(const mn_db *db, const struct mni_abi_struct *t, const void *src,
                       size_t n, void *dst, size_t dst_size, size_t *bad);

/* Copies the library's full struct src into the caller's dst, as many bytes as dst's version
 * has, keeping dst's version. MN_EINVAL as mni_abi_read. */
int mni_abi_write(const mn_db *db, const struct mni_abi_struct *t, void *dst, const void *src);

/* Zeroes the caller's struct as version `version` of it has it and sets the version:
 * what every mn_*_init() does. MN_EINVAL for a version this library does not know. */
int mni_abi_init(const struct mni_abi_struct *t, void *dst, unsigned version);

#endif
