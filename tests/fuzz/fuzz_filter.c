/*
 * Metadata filters: the filter's text as list and search read it, and a memory's metadata as
 * the stores keep it, both through mni_check_json_object (api/validate.c), matched with
 * mni_json_contains, jsonb @>.
 * Input: the filter's text, a newline, the metadata's text.
 * Checks, besides no crash or leak: every metadata object contains itself and the empty
 * filter; the filter contains itself when it is accepted (a key given twice is refused, so no
 * accepted object has two members of one name).
 */
#include "fuzz.h"
#include "api/validate.h"
#include "core/json.h"

#include <manushya.h>

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *filter_text, *meta_text;
    fuzz_split(data, size, &filter_text, &meta_text);
    cJSON *filter = NULL, *meta = NULL, *empty = cJSON_CreateObject();
    if (mni_check_json_object(NULL, "the metadata filter", filter_text, &filter, NULL) == MN_OK)
        fuzz_assert(mni_json_contains(filter, filter), "a filter does not contain itself");
    if (mni_check_json_object(NULL, "metadata", meta_text, &meta, NULL) == MN_OK) {
        fuzz_assert(mni_json_contains(meta, meta), "metadata does not contain itself");
        fuzz_assert(mni_json_contains(meta, empty), "metadata does not contain {}");
        if (filter)
            (void)mni_json_contains(meta, filter);
    }
    cJSON_Delete(empty);
    cJSON_Delete(meta);
    cJSON_Delete(filter);
    free(filter_text);
    free(meta_text);
    return 0;
}
