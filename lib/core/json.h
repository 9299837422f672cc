/* JSON helpers shared by the API layer and the store backends. */
#ifndef MNI_CORE_JSON_H
#define MNI_CORE_JSON_H

#include <cJSON.h>
#include <stddef.h>

/* Parses text as a JSON object and returns it re-printed compactly in *out (malloc'd).
 * what names the input in the message ("metadata", "claims"). MN_EINVAL, with the reason in
 * err, when text is not valid JSON or not an object. */
int mni_json_object_canon(const char *text, const char *what, char **out, char *err, size_t errlen);

/* Parses text (which must be a JSON object) into *out. Same errors as mni_json_object_canon. */
int mni_json_object_parse(const char *text, const char *what, cJSON **out, char *err, size_t errlen);

/* Containment as PostgreSQL's jsonb @> defines it: every key of an object in needle is in
 * haystack with a contained value; every element of an array in needle is contained in some
 * element of haystack's array; scalars are equal. */
int mni_json_contains(const cJSON *haystack, const cJSON *needle);

#endif
