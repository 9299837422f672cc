/*
 * Metadata filters: the filter's text as list and search read it (mni_filter_metadata_parse,
 * api/filter.c), matched against a memory's metadata as the stores keep it (canonical JSON,
 * mni_check_json_object) with mni_json_contains, jsonb @>.
 * Input: the filter's text, a newline, the metadata's text.
 * Checks, besides no crash or leak: every metadata object contains itself and the empty
 * filter; the filter contains itself when it parses. Objects with a key given twice are left
 * out of the first and last: cJSON keeps both members and finds a key by its first, so
 * {"a":1,"a":2} does not contain itself (PostgreSQL's jsonb keeps the last member only).
 */
#include "fuzz.h"
#include "api/filter.h"
#include "api/validate.h"
#include "core/json.h"

#include <manushya.h>

#include <stdlib.h>
#include <string.h>

/* 1 when an object in v has a key twice. */
static int key_twice(const cJSON *v)
{
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(v))
            for (const cJSON *d = c->next; d; d = d->next)
                if (strcmp(c->string, d->string) == 0)
                    return 1;
        if (key_twice(c))
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *filter_text, *meta_text, *canon = NULL, err[256];
    fuzz_split(data, size, &filter_text, &meta_text);
    cJSON *filter = NULL, *meta = NULL, *empty = cJSON_CreateObject();
    if (mni_filter_metadata_parse(filter_text, &filter, err, sizeof err) == MN_OK &&
        !key_twice(filter))
        fuzz_assert(mni_json_contains(filter, filter), "a filter does not contain itself");
    if (mni_check_json_object(NULL, "metadata", meta_text, &canon) == MN_OK &&
        (meta = cJSON_Parse(canon)) != NULL) {
        fuzz_assert(key_twice(meta) || mni_json_contains(meta, meta),
                    "metadata does not contain itself");
        fuzz_assert(mni_json_contains(meta, empty), "metadata does not contain {}");
        if (filter)
            (void)mni_json_contains(meta, filter);
    }
    cJSON_Delete(empty);
    cJSON_Delete(meta);
    cJSON_Delete(filter);
    free(canon);
    free(filter_text);
    free(meta_text);
    return 0;
}
