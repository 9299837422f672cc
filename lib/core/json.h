/* JSON helpers shared by the API layer and the store backends. */
#ifndef MNI_CORE_JSON_H
#define MNI_CORE_JSON_H

#include <cJSON.h>
#include <stddef.h>

/* Reads text, a JSON object a caller gives to be kept (metadata, claims, a rule, a context).
 * what names it in messages ("metadata", "claims"). MN_EINVAL, with the reason in err, when
 * text is not valid JSON (RFC 8259) or not an object, or holds what a reader would not see as
 * written (mni_json_keep). On MN_OK, *tree (when tree is not NULL) holds the parse and *compact
 * (when compact is not NULL) the compact form (malloc'd). */
int mni_json_object_read(const char *text, const char *what, cJSON **tree, char **compact,
                        char *err, size_t errlen);

/* Checks text, whose parse by cJSON is tree, for what cJSON would not keep as written, and
 * refuses it (MN_EINVAL, naming the key): an integer a double cannot hold exactly (past 2^53,
 * e.g. a 64-bit id), a number beyond a double's range or too small for one (1e999, 1e-999),
 * \u0000 in a key or a string, a key given twice in an object, and what cJSON accepts but
 * RFC 8259 does not ("01", "1.", raw control bytes). On MN_OK *compact (when compact is not
 * NULL; malloc'd) is the compact form: text without the whitespace between tokens, each string
 * and number byte for byte as written. */
int mni_json_keep(const char *text, const cJSON *tree, const char *what, char **compact,
                 char *err, size_t errlen);

/* The text of the value of the index-th member (0 = the first) of an object in compact form
 * (as mni_json_keep writes it): *len bytes at *value. index must be below the member count. */
void mni_json_member_text(const char *compact, size_t index, const char **value, size_t *len);

/* base with over merged into it, both objects in compact form (as mni_json_keep writes
 * them): base's members in order, each with over's value when over has its key, then over's
 * other members; keys and values as written. malloc'd; NULL when out of memory. */
char *mni_json_merge(const char *base, const char *over);

/* Containment as PostgreSQL's jsonb @> defines it: every key of an object in needle is in
 * haystack with a contained value; every element of an array in needle is contained in some
 * element of haystack's array; scalars are equal. */
int mni_json_contains(const cJSON *haystack, const cJSON *needle);

/* A metadata filter (mn_filter.metadata): containment as above, where a value written
 * {"$in": [v1, v2, ...]} (an object whose only key is "$in") matches when the haystack's value
 * contains one of them (for scalars: equals). mni_json_filter_check says what is wrong with a
 * filter's "$in" (not alone in its object, not a non-empty array), or NULL when nothing is. */
int mni_json_filter_matches(const cJSON *haystack, const cJSON *filter);
const char *mni_json_filter_check(const cJSON *filter);

#endif
