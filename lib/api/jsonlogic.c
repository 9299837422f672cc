/* JSON Logic for callers: one rule, one datum, one result, as JSON text. There is no handle:
 * failures are the calling thread's with db NULL (mn_errmsg(NULL) reads them). */
#include "manushya.h"
#include "core/error.h"
#include "jsonlogic/jsonlogic.h"

#include <stdlib.h>

int mn_jsonlogic_apply(const char *rule, const char *data, char **result)
{
    if (!rule || !result)
        return mni_seterr(NULL, MN_EINVAL, "mn_jsonlogic_apply: %s is NULL",
                          rule ? "result" : "the rule");
    *result = NULL;
    cJSON *datum = NULL;
    if (data && !(datum = cJSON_Parse(data)))
        return mni_seterr(NULL, MN_EINVAL, "the data is not valid JSON");
    mni_jl *compiled = NULL;
    cJSON *value = NULL;
    char err[MNI_ERRMSG_MAX];
    int rc = mni_jl_compile_text(rule, &compiled, err, sizeof err);
    if (rc == MN_OK)
        rc = mni_jl_eval(compiled, datum, &value, err, sizeof err);
    if (rc != MN_OK)
        mni_seterr(NULL, rc, "%s", err);
    else if (!(*result = cJSON_PrintUnformatted(value)))
        rc = mni_seterr(NULL, MN_ENOMEM, "out of memory printing the result");
    cJSON_Delete(value);
    cJSON_Delete(datum);
    mni_jl_free(compiled);
    return rc;
}
