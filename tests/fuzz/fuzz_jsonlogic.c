/*
 * JSON Logic: compile a rule from text, then apply it to data (policy/jsonlogic.h).
 * Input: the rule's JSON text, a newline, the data's JSON text (invalid or absent data is null).
 * Checks: compiling and applying never crash, leak or run away (the evaluation's step and
 * memory limits are lowered so that a runaway rule fails fast with MN_ERANGE), and the
 * truthiness of the evaluation equals th_jl_truthy of the result it builds.
 */
#include "fuzz.h"
#include "jsonlogic/jsonlogic.h"
#include "../support/jl_truthy.h"

#include <manushya.h>

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *rule_text, *data_text, err[256];
    fuzz_split(data, size, &rule_text, &data_text);
    mni_jl *rule = NULL;
    if (mni_jl_compile_text(rule_text, &rule, err, sizeof err) == MN_OK) {
        cJSON *d = cJSON_Parse(data_text), *result = NULL;
        const mni_jl_limits lim = { 1 << 20, 20000 };
        int truthy = -1;
        if (mni_jl_eval_ex(rule, d, &lim, &result, &truthy, err, sizeof err) == MN_OK) {
            fuzz_assert(truthy == th_jl_truthy(result),
                        "the evaluation's truthiness differs from its result's");
            cJSON_free(cJSON_PrintUnformatted(result));
        }
        cJSON_Delete(result);
        cJSON_Delete(d);
        mni_jl_free(rule);
    }
    free(rule_text);
    free(data_text);
    return 0;
}
