/*
 * The words the keyword index holds and a keyword search looks for (core/words.h). A plain
 * store indexes the text itself and is asked for the query's words. An encrypted store keeps
 * no word in the clear: each is replaced by a blind word, BLAKE2b of the word under a key
 * derived from the tenant's newest data key, written as 16 letters a..p; its rows carry those
 * (mni_memory_row.words) and its queries are blinded alike. That reveals which of a tenant's
 * memories share a word, and how often a word occurs, never the word itself; tenants' blind
 * words differ.
 */
#ifndef MNI_STORE_KEYWORDS_H
#define MNI_STORE_KEYWORDS_H

#include "store/vault.h"

/* A query looks for at most this many distinct words (the first ones). */
#define MNI_QUERY_WORDS_MAX 32

/* The blind words of text under data key k, joined by spaces (malloc'd; "" when the text has
 * no word). MN_ENOMEM. */
int mni_keywords_blind(struct mni_store *s, const struct mni_data_key *k, const char *text,
                       char **out);
/* The distinct words of a query as the tenant's keyword index holds them: *words (an array of
 * *n strings, free with mni_keywords_free) is empty when the query has no word. */
int mni_keywords_query(struct mni_store *s, const char *tenant_id, const char *query,
                       char ***words, size_t *n);
void mni_keywords_free(char **words, size_t n);
/* The words as one backend query: each between quote and quote, sep between two (malloc'd,
 * NULL when out of memory). The words hold letters and digits only, so nothing needs escaping. */
char *mni_keywords_join(const char *const *words, size_t n, const char *quote, const char *sep);
/* The words as a JSON array of strings (malloc'd, NULL when out of memory). */
char *mni_keywords_json(const char *const *words, size_t n);

#endif
