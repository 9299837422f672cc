/*
 * The normalised text of a memory, which deduplication compares (api/memory.c): trimmed, each
 * run of white space (Unicode's White_Space) one ASCII space, and upper-case letters of ASCII,
 * Latin-1, Greek and Cyrillic lowercased. Bytes that are not valid UTF-8 are kept as they are
 * (texts are checked to be UTF-8 before they get here).
 */
#ifndef MNI_CORE_NORMALISE_H
#define MNI_CORE_NORMALISE_H

#include <stddef.h>

/* The normalised form of text, malloc'd (*len its length), or NULL when out of memory. */
char *mni_normalise(const char *text, size_t *len);

#endif
