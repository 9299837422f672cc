/* mn_json_compact: the library's reading of caller JSON (core/json.h), offered to callers. */
#include "api/validate.h"
#include "core/error.h"
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

int mn_json_compact(const char *json, const char *key, char **out)
{
    if (!json || !out)
        return mni_seterr(NULL, MN_EINVAL, "mn_json_compact: give the JSON text and out");
    *out = NULL;
    char *compact = NULL;
    cJSON *tree = NULL;
    int rc = mni_check_json_object(NULL, "the JSON text", json, key ? &tree : NULL, &compact);
    if (rc != MN_OK)
        return rc;
    if (!key) {
        *out = compact;
        return MN_OK;
    }
    /* No key is given twice (the read refuses it): the first of that name is the one. */
    size_t index = 0;
    const cJSON *m = tree->child;
    for (; m && strcmp(m->string, key) != 0; m = m->next)
        index++;
    if (!m) {
        rc = mni_seterr(NULL, MN_ENOTFOUND, "the JSON object has no member \"%.64s\"", key);
    } else {
        const char *value;
        size_t len;
        mni_json_member_text(compact, index, &value, &len);
        if (!(*out = strndup(value, len)))
            rc = mni_seterr(NULL, MN_ENOMEM, "out of memory");
    }
    cJSON_Delete(tree);
    free(compact);
    return rc;
}
