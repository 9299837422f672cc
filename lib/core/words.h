/*
 * The words of a text, as keyword search sees them: runs of ASCII letters and digits and of
 * non-ASCII bytes (so a UTF-8 letter stays inside its word), ASCII folded to lower case. This
 * is what SQLite's unicode61 tokenizer and PostgreSQL's "simple" configuration find in a text
 * for ASCII, so that a query split here matches what the backends indexed; the blind index of
 * an encrypted store (store/keywords.c) hashes exactly these words.
 */
#ifndef MNI_CORE_WORDS_H
#define MNI_CORE_WORDS_H

#include <stddef.h>

/* Longer words are cut to this many bytes (on both sides of a comparison alike). */
#define MNI_WORD_MAX 64

/* Calls fn with each word of text in order (word NUL-terminated, valid during the call);
 * fn returning nonzero stops, and is returned. */
typedef int (*mni_word_fn)(void *ctx, const char *word, size_t len);
int mni_words_each(const char *text, mni_word_fn fn, void *ctx);

#endif
