/* JSON Logic for callers: one rule, one datum, one result, as JSON text. */
#include "manushya.h"
#include "jsonlogic/jsonlogic.h"

#include <stdio.h>
#include <stdlib.h>

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return rc;
}

int mn_jsonlogic_apply(const char *rule, const char *data, char **result, char *err,
                       size_t errlen)
{
    if (!rule || !result)
        return fail(err, errlen, MN_EINVAL, rule ? "result is NULL" : "the rule is NULL");
    *result = NULL;
    cJSON *datum = NULL;
    if (data && !(datum = cJSON_Parse(data)))
        return fail(err, errlen, MN_EINVAL, "the data is not valid JSON");
    mni_jl *compiled = NULL;
    cJSON *value = NULL;
    int rc = mni_jl_compile_text(rule, &compiled, err, errlen);
    if (rc == MN_OK)
        rc = mni_jl_eval(compiled, datum, &value, err, errlen);
    if (rc == MN_OK && !(*result = cJSON_PrintUnformatted(value)))
        rc = fail(err, errlen, MN_ENOMEM, "out of memory printing the result");
    cJSON_Delete(value);
    cJSON_Delete(datum);
    mni_jl_free(compiled);
    return rc;
}
