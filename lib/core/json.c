#include "core/json.h"
#include "manushya.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(const cJSON *v)
{
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    return "a value";
}

int mni_json_object_read(const char *text, const char *what, cJSON **tree, char **compact,
                        char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithOpts(text, &end, 1);
    if (!v) {
        /* cJSON reports where parsing stopped; that is where the text stops being JSON. */
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        snprintf(err, errlen, "%s is not valid JSON (parsing stopped at byte %zu); give a JSON "
                 "object such as {\"topic\":\"travel\"}", what, at);
        return MN_EINVAL;
    }
    int rc = MN_OK;
    if (!cJSON_IsObject(v)) {
        snprintf(err, errlen, "%s must be a JSON object, not %s; wrap it, e.g. {\"value\":...}",
                 what, kind_name(v));
        rc = MN_EINVAL;
    }
    if (rc == MN_OK)
        rc = mni_json_keep(text, v, what, compact, err, errlen);
    if (rc == MN_OK && tree)
        *tree = v;
    else
        cJSON_Delete(v);
    return rc;
}

/* {"$in": [...]}: an object whose only key is "$in". */
static const cJSON *any_of(const cJSON *v)
{
    return cJSON_IsObject(v) && v->child && !v->child->next && v->child->string &&
           strcmp(v->child->string, "$in") == 0 ? v->child : NULL;
}

static int contains(const cJSON *haystack, const cJSON *needle, int with_in);

static int array_has(const cJSON *haystack, const cJSON *needle)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, haystack)
        if (contains(h, needle, 0))
            return 1;
    return 0;
}

/* mni_json_contains, and with with_in mni_json_filter_matches: the same walk. */
static int contains(const cJSON *haystack, const cJSON *needle, int with_in)
{
    const cJSON *in = with_in ? any_of(needle) : NULL;
    if (in) {
        const cJSON *e;
        cJSON_ArrayForEach(e, in)
            if (contains(haystack, e, 0))
                return 1;
        return 0;
    }
    if (cJSON_IsObject(needle)) {
        if (!cJSON_IsObject(haystack))
            return 0;
        const cJSON *n;
        cJSON_ArrayForEach(n, needle) {
            const cJSON *h = cJSON_GetObjectItemCaseSensitive(haystack, n->string);
            if (!h || !contains(h, n, with_in))
                return 0;
        }
        return 1;
    }
    if (cJSON_IsArray(needle)) {
        if (!cJSON_IsArray(haystack))
            return 0;
        const cJSON *n;
        cJSON_ArrayForEach(n, needle)
            if (!array_has(haystack, n))
                return 0;
        return 1;
    }
    if (cJSON_IsArray(haystack) && !cJSON_IsArray(needle))
        return 0;
    return cJSON_Compare(haystack, needle, 1);
}

int mni_json_contains(const cJSON *haystack, const cJSON *needle)
{
    return contains(haystack, needle, 0);
}

int mni_json_filter_matches(const cJSON *haystack, const cJSON *filter)
{
    return contains(haystack, filter, 1);
}

const char *mni_json_filter_check(const cJSON *filter)
{
    if (!cJSON_IsObject(filter))
        return NULL;
    const cJSON *n;
    cJSON_ArrayForEach(n, filter) {
        if (strcmp(n->string, "$in") == 0 &&
            (filter->child->next || !cJSON_IsArray(n) || !n->child))
            return "\"$in\" must be the only key of its object and hold a non-empty array, "
                   "e.g. {\"topic\": {\"$in\": [\"travel\", \"food\"]}}";
        const char *bad = mni_json_filter_check(n);
        if (bad)
            return bad;
    }
    return NULL;
}
