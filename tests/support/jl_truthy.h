/* JSON Logic truthiness of a cJSON value (NULL counts as null: falsy), written from the
 * specification apart from the evaluator's: the oracle the JSON Logic tests and fuzzer check
 * the evaluator's own truthiness against. */
#ifndef TH_JL_TRUTHY_H
#define TH_JL_TRUTHY_H

#include <cJSON.h>
#include <math.h>

static inline int th_jl_truthy(const cJSON *v)
{
    if (!v)
        return 0;
    switch (v->type & 0xFF) {
    case cJSON_True:
        return 1;
    case cJSON_Number:
        return v->valuedouble != 0 && !isnan(v->valuedouble);
    case cJSON_String:
        return v->valuestring && v->valuestring[0];
    case cJSON_Array:
        return v->child != NULL;
    case cJSON_Object:
        return 1;
    default:
        return 0;
    }
}

#endif
