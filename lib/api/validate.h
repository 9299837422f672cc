/* Input checks shared by the API calls. Each returns MN_OK or records an error whose message
 * starts with `what` (e.g. "memory 3: text") and says what to do. */
#ifndef MNI_API_VALIDATE_H
#define MNI_API_VALIDATE_H

#include "manushya.h"
#include "core/uuid.h"

#include <cJSON.h>

#include <stddef.h>

int mni_check_text(mn_db *db, const char *what, const char *text, size_t max_bytes);
/* A short name: 1..max bytes of UTF-8 without control characters. */
int mni_check_name(mn_db *db, const char *what, const char *s, size_t max);
int mni_check_importance(mn_db *db, const char *what, double v);
/* A tenant name or external_id that is not shaped like an id: names and ids are looked up
 * together and an id wins, so a name spelling another row's id would stand for that row. */
int mni_check_not_an_id(mn_db *db, const char *what, const char *name);
/* An id (a UUID, any case) of a memory, policy, ..., written in its canonical spelling. */
int mni_check_memory_id(mn_db *db, const char *what, const char *id, char out[MNI_UUID_LEN + 1]);
/* A JSON object kept as written (mni_json_object_read): its parse into *tree and its compact
 * form into *compact (malloc'd), each when not NULL. NULL text is "{}". */
int mni_check_json_object(mn_db *db, const char *what, const char *text, cJSON **tree,
                         char **compact);
/* dim floats, all finite and not all zero, normalised into out. */
int mni_check_vector(mn_db *db, const char *what, const float *v, int dim, float *out);

/* 1 if s holds valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). */
int mni_utf8_valid(const char *s, size_t len);

#endif
