/* Plain and blind words of the keyword index (keywords.h). */
#include "store/keywords.h"
#include "core/error.h"
#include "core/words.h"

#include <cJSON.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define WORDS_SUBKEY_ID 2
#define WORDS_SUBKEY_CTX "mnwords_" /* crypto_kdf: 8 bytes */
#define BLIND_BYTES 8               /* 64 bits: collisions within a tenant's words are rare */
#define BLIND_LEN (2 * BLIND_BYTES)

struct blinder {
    unsigned char key[crypto_generichash_KEYBYTES];
    char *out;
    size_t n, cap;
};

/* Appends word's blind word: letters only, so that every backend's parser takes it whole. */
static int blind_word(void *ctx, const char *word, size_t len)
{
    struct blinder *b = ctx;
    if (b->n + BLIND_LEN + 2 > b->cap) {
        size_t cap = b->cap * 2 + BLIND_LEN + 2;
        char *p = realloc(b->out, cap);
        if (!p)
            return 1;
        b->out = p;
        b->cap = cap;
    }
    unsigned char h[BLIND_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *)word, len, b->key, sizeof b->key);
    if (b->n)
        b->out[b->n++] = ' ';
    for (size_t i = 0; i < sizeof h; i++) {
        b->out[b->n++] = (char)('a' + (h[i] >> 4));
        b->out[b->n++] = (char)('a' + (h[i] & 15));
    }
    b->out[b->n] = '\0';
    return 0;
}

int mni_keywords_blind(struct mni_store *s, const struct mni_data_key *k, const char *text,
                       char **out)
{
    struct blinder b = { .out = calloc(1, 1), .cap = 1 };
    crypto_kdf_derive_from_key(b.key, sizeof b.key, WORDS_SUBKEY_ID, WORDS_SUBKEY_CTX, k->key);
    int stop = b.out ? mni_words_each(text, blind_word, &b) : 1;
    sodium_memzero(b.key, sizeof b.key);
    if (stop) {
        free(b.out);
        *out = NULL;
        return mni_seterr(s->db, MN_ENOMEM, "out of memory indexing a memory's words");
    }
    *out = b.out;
    return MN_OK;
}

struct collect {
    char **words;
    size_t n;
};

static int collect_word(void *ctx, const char *word, size_t len)
{
    struct collect *c = ctx;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->words[i], word) == 0)
            return 0;
    if (c->n == MNI_QUERY_WORDS_MAX)
        return 0;
    char *copy = malloc(len + 1);
    if (!copy)
        return 1;
    memcpy(copy, word, len + 1);
    c->words[c->n++] = copy;
    return 0;
}

int mni_keywords_query(struct mni_store *s, const char *tenant_id, const char *query,
                       char ***words, size_t *n)
{
    struct collect c = { calloc(MNI_QUERY_WORDS_MAX, sizeof(char *)), 0 };
    int rc = c.words && !mni_words_each(query, collect_word, &c) ? MN_OK
             : mni_seterr(s->db, MN_ENOMEM, "out of memory reading the query's words");
    struct mni_data_key k;
    if (rc == MN_OK && s->vault && c.n)
        rc = mni_vault_write_key(s, NULL, tenant_id, &k);
    for (size_t i = 0; rc == MN_OK && s->vault && i < c.n; i++) {
        char *blind;
        rc = mni_keywords_blind(s, &k, c.words[i], &blind);
        if (rc == MN_OK) {
            free(c.words[i]);
            c.words[i] = blind;
        }
    }
    if (s->vault)
        sodium_memzero(&k, sizeof k);
    if (rc != MN_OK) {
        mni_keywords_free(c.words, c.n);
        c.words = NULL;
        c.n = 0;
    }
    *words = c.words;
    *n = c.n;
    return rc;
}

void mni_keywords_free(char **words, size_t n)
{
    for (size_t i = 0; words && i < n; i++)
        free(words[i]);
    free(words);
}

char *mni_keywords_join(const char *const *words, size_t n, const char *quote, const char *sep)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(words[i]) + 2 * strlen(quote) + strlen(sep);
    char *out = malloc(len), *p = out;
    for (size_t i = 0; out && i < n; i++)
        p += sprintf(p, "%s%s%s%s", i ? sep : "", quote, words[i], quote);
    if (out)
        *p = '\0';
    return out;
}

char *mni_keywords_json(const char *const *words, size_t n)
{
    cJSON *a = cJSON_CreateStringArray(words, (int)n);
    char *out = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return out;
}

size_t mni_keywords_cap(size_t want)
{
    return want > MNI_KEYWORD_CANDIDATES / 4 ? 4 * want : MNI_KEYWORD_CANDIDATES;
}

size_t mni_keywords_bound(const char **words, size_t *docs, size_t n, size_t want, size_t *cap)
{
    *cap = mni_keywords_cap(want);
    for (size_t i = 1; i < n; i++) /* rarest first, ties in the query's order (n <= 32) */
        for (size_t j = i; j > 0 && docs[j] < docs[j - 1]; j--) {
            size_t d = docs[j];
            const char *w = words[j];
            docs[j] = docs[j - 1], words[j] = words[j - 1];
            docs[j - 1] = d, words[j - 1] = w;
        }
    size_t kept = n ? 1 : 0, read = n ? docs[0] : 0;
    while (kept < n && read + docs[kept] <= *cap)
        read += docs[kept++];
    return kept;
}
