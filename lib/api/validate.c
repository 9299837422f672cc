#include "api/validate.h"
#include "core/error.h"
#include "api/handle.h"
#include "core/json.h"
#include "core/uuid.h"
#include "core/vector.h"

#include <string.h>

int mni_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    while (s < end) {
        unsigned c = *s;
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            s++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3, cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - s) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i] & 0x3f);
        }
        /* Overlong forms, UTF-16 surrogates, and code points past Unicode. */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        s += n + 1;
    }
    return 1;
}

int mni_check_text(mn_db *db, const char *what, const char *text, size_t max_bytes)
{
    if (!text)
        return mni_seterr(db, MN_EINVAL, "%s is missing; a memory needs text", what);
    size_t len = strlen(text);
    if (strspn(text, " \t\r\n\f\v") == len)
        return mni_seterr(db, MN_EINVAL, "%s is empty; a memory needs text", what);
    if (len > max_bytes)
        return mni_seterr(db, MN_EINVAL, "%s is %zu bytes, over the limit of %zu "
                         "(mn_config.max_text_bytes); split it or raise the limit", what, len,
                         max_bytes);
    if (!mni_utf8_valid(text, len))
        return mni_seterr(db, MN_EINVAL, "%s is not valid UTF-8; convert it to UTF-8", what);
    return MN_OK;
}

int mni_check_name(mn_db *db, const char *what, const char *s, size_t max)
{
    if (!s || !*s)
        return mni_seterr(db, MN_EINVAL, "%s is empty; give 1..%zu bytes", what, max);
    size_t len = strlen(s);
    if (len > max)
        return mni_seterr(db, MN_EINVAL, "%s is %zu bytes long; at most %zu are allowed", what,
                         len, max);
    if (!mni_utf8_valid(s, len))
        return mni_seterr(db, MN_EINVAL, "%s is not valid UTF-8", what);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return mni_seterr(db, MN_EINVAL, "%s contains a control character (byte 0x%02x); "
                             "use printable characters", what, *p);
    return MN_OK;
}

int mni_check_importance(mn_db *db, const char *what, double v)
{
    if (!(v >= 0.0 && v <= 1.0)) /* also catches NaN */
        return mni_seterr(db, MN_EINVAL, "%s is %g; give a number from 0 to 1", what, v);
    return MN_OK;
}

int mni_check_not_an_id(mn_db *db, const char *what, const char *name)
{
    if (mni_uuid_valid(name))
        return mni_seterr(db, MN_EINVAL, "%s \"%s\" has the form of an id (a UUID); ids and "
                         "names are looked up together, so it could stand for another tenant's "
                         "or identity's id: choose a name that is not a UUID", what, name);
    return MN_OK;
}

int mni_check_memory_id(mn_db *db, const char *what, const char *id, char out[MNI_UUID_LEN + 1])
{
    if (!id)
        return mni_seterr(db, MN_EINVAL, "%s is NULL; give a memory id", what);
    if (!mni_uuid_valid(id))
        return mni_seterr(db, MN_EINVAL, "%s \"%.64s\" is not a valid id (a UUID such as "
                         "01890a5d-ac96-774b-bcce-b302099a8057)", what, id);
    mni_uuid_lower(id, out);
    return MN_OK;
}

int mni_check_json_object(mn_db *db, const char *what, const char *text, cJSON **tree,
                         char **compact)
{
    char err[MNI_ERRMSG_MAX - 64];
    if (!text)
        text = "{}";
    /* cJSON passes any bytes through strings; stored JSON must be UTF-8 (RFC 8259). */
    if (!mni_utf8_valid(text, strlen(text)))
        return mni_seterr(db, MN_EINVAL, "%s is not valid UTF-8; convert it to UTF-8", what);
    int rc = mni_json_object_read(text, what, tree, compact, err, sizeof err);
    return rc == MN_OK ? MN_OK : mni_seterr(db, rc, "%s", err);
}

int mni_check_vector(mn_db *db, const char *what, const float *v, int dim, float *out)
{
    if (!v)
        return mni_seterr(db, MN_EINVAL, "%s is NULL", what);
    if (dim != db->dim)
        return mni_seterr(db, MN_EINVAL, "%s has %d dimensions but the database stores %d; give "
                         "a vector of %d floats", what, dim, db->dim, db->dim);
    int at = 0, fault = mni_vec_normalise(v, dim, out, &at);
    if (fault == MNI_VEC_NONFINITE)
        return mni_seterr(db, MN_EINVAL, "%s has a non-finite value (%g) at index %d; every "
                         "component must be a finite number", what, (double)v[at], at);
    if (fault != MNI_VEC_OK)
        return mni_seterr(db, MN_EINVAL, "%s %s", what, mni_vec_fault_text(fault));
    return MN_OK;
}
