/*
 * One line of `manushya memory import` (cli/import_line.c), then the library's own checks of
 * the fields it gives (api/validate.c), as mn_memory_add_many makes them.
 * Input: the line's bytes (any, newlines and NUL bytes included).
 * Checks, besides no crash or leak: a line read as a memory has its text and no NUL byte
 * (which would cut it short unseen), and metadata the library keeps exactly as the line wrote
 * it; a blank or bad one leaves nothing to free.
 */
#include "fuzz.h"
#include "import_line.h"
#include "api/validate.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_str(data, size), *canon = NULL, msg[256];
    mn_memory_input in;
    cJSON *doc;
    char *meta;
    const char *why;
    if (cli_import_line(line, size, &in, &doc, &meta, &why, msg, sizeof msg) == 1) {
        fuzz_assert(in.text != NULL, "a memory was read without its text");
        fuzz_assert(memchr(line, '\0', size) == NULL, "a line with a NUL byte was read");
        (void)mni_check_text(NULL, "text", in.text, 65536);
        if (in.type)
            (void)mni_check_name(NULL, "type", in.type, 64);
        if (in.importance != MN_IMPORTANCE_DEFAULT)
            (void)mni_check_importance(NULL, "importance", in.importance);
        /* The metadata goes in as the line wrote it, already compact: the library keeps it so. */
        if (in.metadata) {
            fuzz_assert(mni_check_json_object(NULL, "metadata", in.metadata, NULL, &canon) ==
                            MN_OK && strcmp(canon, in.metadata) == 0,
                        "the line's metadata is not kept as the line wrote it");
            free(canon);
        }
        cJSON_Delete(doc);
        mn_free(meta);
    } else {
        fuzz_assert(doc == NULL && meta == NULL, "a blank or bad line left something to free");
    }
    free(line);
    return 0;
}
