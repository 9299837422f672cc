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
/* The keyword ranking's bound (any-word search: the backends' memory_keyword_search). A
 * ranking reads at most this many candidates from the keyword index, or four per place asked
 * for when that is more, whatever the corpus: a common word ("the", "to") is held by a good
 * share of every store, and ranking every memory that holds any word of an ordinary sentence
 * cost time in proportion to the store (176 ms at 100k memories). */
#define MNI_KEYWORD_CANDIDATES 1000

/* The bound for a ranking of the want best: the most candidates it reads. */
size_t mni_keywords_cap(size_t want);
/* Settles which words a ranking of the want best matches looks for, given docs[i], how many
 * memories hold words[i] (an estimate the backend gets cheaply; 0 for a word absent; it may
 * stop counting past the bound, at mni_keywords_cap(want) + 1: the words kept are the same): the
 * rarest, in rarity order, while the memories holding them add up to at most the bound
 * (above), and always the rarest one. words and docs are reordered in place, those kept
 * first; returns how many are kept, and *cap, the bound: the most candidates to read. When
 * the rarest word alone is held by more, the ranking reads cap of the memories holding it
 * (PostgreSQL: the first its index gives; SQLite: the newest holding every word first). The candidates, found by the
 * kept words, are scored by every word: a common word beside rarer ones finds nothing, but
 * still ranks the memories holding it above those that do not. */
size_t mni_keywords_bound(const char **words, size_t *docs, size_t n, size_t want, size_t *cap);

/* The words as a JSON array of strings (malloc'd, NULL when out of memory). */
char *mni_keywords_json(const char *const *words, size_t n);

#endif
