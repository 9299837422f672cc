/*
 * The local embedder: offline, deterministic feature hashing.
 *
 * A text becomes a bag of features, each hashed (64-bit, seeded per feature kind) into one of
 * dim buckets with a sign taken from another hash bit, so that colliding features cancel on
 * average instead of piling up. Features:
 *   - word unigrams                      weight 1.0
 *   - word bigrams (consecutive words)   weight 0.7
 *   - character trigrams of each word padded with begin/end markers ("<ca", "cat", "at>")
 *                                        weight 0.4
 * The weights make whole words dominate: a word of ~5 characters brings ~5 trigrams, so at
 * 0.4 its trigrams together weigh about as much as the word itself (5 * 0.4^2 = 0.8 of the
 * unigram's squared weight); they only carry near matches (plural, typos, inflections).
 * A feature seen tf times contributes weight * (1 + ln tf), so repetition helps but does not
 * swamp the rest. The vector is then L2-normalised. Text without features (empty, or only
 * separators) gives all zeros, whose cosine similarity to anything is 0.
 *
 * Normalisation is locale-free: ASCII letters are folded to lower case, every other ASCII byte
 * that is not a letter or digit separates words, and bytes >= 0x80 are word characters (UTF-8
 * sequences are kept whole as one character for trigrams; non-ASCII letters are not folded).
 * Invalid UTF-8 never fails: a stray byte simply counts as a character of its own.
 *
 * Term frequencies are counted in a small open-addressing table on the stack, which a long
 * text outgrows onto the heap; an instance holds only its dimension, so any number of threads
 * may embed with one instance at once.
 */
#include "embed/embedder.h"
#include "core/vector.h"

#include <manushya.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fewer buckets than this and every text collides with every other; the most is any
 * database's (hashing into buckets costs the same at any width). */
#define MNI_LOCAL_DIM_MIN 8
#define MNI_LOCAL_DIM_MAX MNI_VEC_MAX_DIM

#define MNI_W_UNIGRAM 1.0f
#define MNI_W_BIGRAM 0.7f
#define MNI_W_TRIGRAM 0.4f

/* Seeds keep the kinds apart: "ab" the word and "ab" a bigram must not share a hash. */
#define MNI_SEED_UNIGRAM UINT64_C(0x9e3779b97f4a7c15)
#define MNI_SEED_BIGRAM UINT64_C(0xc2b2ae3d27d4eb4f)
#define MNI_SEED_TRIGRAM UINT64_C(0x165667b19e3779f9)

#define MNI_FNV_BASIS UINT64_C(0xcbf29ce484222325)
#define MNI_FNV_PRIME UINT64_C(0x100000001b3)
/* Odd 64-bit multiplier for chaining 32-bit symbols (characters) into a trigram hash. */
#define MNI_SYM_MUL UINT64_C(0xff51afd7ed558ccd)

/* Word-boundary markers for trigrams. A packed character starts with a letter, digit or a byte
 * >= 0x80, so these values never occur as characters. */
#define MNI_CH_BEGIN 1u
#define MNI_CH_END 2u

/* 1024 slots * 16 bytes = 16 KiB of stack: enough for texts of a few hundred bytes, which is
 * what memories mostly are. */
#define MNI_TF_STACK_SLOTS 1024
#define MNI_TF_MIN_SLOTS 16

struct mni_embedder {
    int dim;
};

struct mni_tf_slot {
    uint64_t key; /* 0 = empty; real keys are never 0 (mni_tf_add remaps) */
    uint32_t count;
    float weight;
};

struct mni_tf {
    struct mni_tf_slot *slots;
    size_t cap; /* power of two */
    size_t used;
    struct mni_tf_slot *heap; /* == slots once the table has left the stack, else NULL */
};

/* Per-word scanning state: hash of the word so far, the two previous characters of the padded
 * word, and the UTF-8 character being assembled. */
struct mni_scan {
    uint64_t word_hash;
    uint64_t prev_word_hash;
    int have_prev_word;
    uint32_t c1, c2;   /* previous two characters, c2 the older; 0 = none yet */
    uint32_t cur;      /* bytes of the character being assembled, first byte lowest */
    unsigned cur_len;  /* bytes in cur; 0 = none */
    unsigned cur_need; /* continuation bytes still expected */
};

/* murmur3's fmix64: a full-avalanche finaliser, so that bucket, sign and table slot, taken
 * from different bits, behave as independent. */
static inline uint64_t mni_fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

/* Lower-cased word byte, or 0 for a separator. */
static inline unsigned mni_fold(unsigned char b)
{
    if (b >= 0x80u || (unsigned)(b - 'a') < 26u || (unsigned)(b - '0') < 10u)
        return b;
    if ((unsigned)(b - 'A') < 26u)
        return b | 0x20u;
    return 0;
}

static int mni_tf_grow(struct mni_tf *t)
{
    size_t cap = t->cap * 2;
    struct mni_tf_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return MN_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].key)
            continue;
        size_t j = (size_t)t->slots[i].key & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->heap);
    t->slots = t->heap = slots;
    t->cap = cap;
    return MN_OK;
}

static inline int mni_tf_add(struct mni_tf *t, uint64_t key, float weight)
{
    if (!key)
        key = 1;
    size_t mask = t->cap - 1;
    size_t i = (size_t)key & mask;
    while (t->slots[i].key) {
        if (t->slots[i].key == key) {
            if (t->slots[i].count != UINT32_MAX)
                t->slots[i].count++;
            return MN_OK;
        }
        i = (i + 1) & mask;
    }
    /* Keep the load at most 1/2 so probes stay short. */
    if ((t->used + 1) * 2 > t->cap) {
        int rc = mni_tf_grow(t);
        if (rc != MN_OK)
            return rc;
        mask = t->cap - 1;
        i = (size_t)key & mask;
        while (t->slots[i].key)
            i = (i + 1) & mask;
    }
    t->slots[i].key = key;
    t->slots[i].count = 1;
    t->slots[i].weight = weight;
    t->used++;
    return MN_OK;
}

static inline uint64_t mni_trigram_key(uint32_t a, uint32_t b, uint32_t c)
{
    uint64_t h = MNI_SEED_TRIGRAM;
    h = (h ^ a) * MNI_SYM_MUL;
    h = (h ^ b) * MNI_SYM_MUL;
    h = (h ^ c) * MNI_SYM_MUL;
    return mni_fmix64(h);
}

/* Appends one complete character of the padded word; emits the trigram it closes. */
static inline int mni_push_char(struct mni_tf *t, struct mni_scan *s, uint32_t c)
{
    int rc = MN_OK;
    if (s->c2)
        rc = mni_tf_add(t, mni_trigram_key(s->c2, s->c1, c), MNI_W_TRIGRAM);
    s->c2 = s->c1;
    s->c1 = c;
    return rc;
}

static inline int mni_flush_char(struct mni_tf *t, struct mni_scan *s)
{
    if (!s->cur_len)
        return MN_OK;
    uint32_t c = s->cur;
    s->cur = 0;
    s->cur_len = s->cur_need = 0;
    return mni_push_char(t, s, c);
}

/* Feeds one (folded) word byte, grouping UTF-8 sequences into single characters. */
static inline int mni_word_byte(struct mni_tf *t, struct mni_scan *s, unsigned b)
{
    s->word_hash = (s->word_hash ^ b) * MNI_FNV_PRIME;
    if (b >= 0x80u && b < 0xc0u && s->cur_need) {
        s->cur |= (uint32_t)b << (8 * s->cur_len);
        s->cur_len++;
        if (--s->cur_need == 0)
            return mni_flush_char(t, s);
        return MN_OK;
    }
    int rc = mni_flush_char(t, s); /* an unfinished sequence ends here */
    if (rc != MN_OK)
        return rc;
    if (b < 0xc0u || b >= 0xf8u)
        return mni_push_char(t, s, b); /* ASCII, or a byte that cannot start a sequence */
    s->cur = b;
    s->cur_len = 1;
    s->cur_need = b >= 0xf0u ? 3 : b >= 0xe0u ? 2 : 1;
    return MN_OK;
}

static inline void mni_word_begin(struct mni_scan *s)
{
    s->word_hash = MNI_FNV_BASIS;
    s->c2 = 0;
    s->c1 = MNI_CH_BEGIN;
}

static int mni_word_end(struct mni_tf *t, struct mni_scan *s)
{
    int rc = mni_flush_char(t, s);
    if (rc == MN_OK)
        rc = mni_push_char(t, s, MNI_CH_END);
    if (rc == MN_OK)
        rc = mni_tf_add(t, mni_fmix64(s->word_hash ^ MNI_SEED_UNIGRAM), MNI_W_UNIGRAM);
    if (rc == MN_OK && s->have_prev_word) {
        uint64_t k = mni_fmix64(mni_fmix64(s->prev_word_hash ^ MNI_SEED_BIGRAM) + s->word_hash);
        rc = mni_tf_add(t, k, MNI_W_BIGRAM);
    }
    s->prev_word_hash = s->word_hash;
    s->have_prev_word = 1;
    return rc;
}

static int mni_count_features(struct mni_tf *t, const unsigned char *p, size_t len)
{
    struct mni_scan s = {0};
    int in_word = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned b = mni_fold(p[i]);
        int rc = MN_OK;
        if (b) {
            if (!in_word) {
                mni_word_begin(&s);
                in_word = 1;
            }
            rc = mni_word_byte(t, &s, b);
        } else if (in_word) {
            in_word = 0;
            rc = mni_word_end(t, &s);
        }
        if (rc != MN_OK)
            return rc;
    }
    return in_word ? mni_word_end(t, &s) : MN_OK;
}

static void mni_project(const struct mni_tf *t, float *out, int dim)
{
    memset(out, 0, (size_t)dim * sizeof *out);
    for (size_t i = 0; i < t->cap; i++) {
        const struct mni_tf_slot *f = &t->slots[i];
        if (!f->key)
            continue;
        float w = f->count == 1 ? f->weight : f->weight * (1.0f + logf((float)f->count));
        /* High 32 bits pick the bucket (multiply-shift range reduction), bit 31 the sign. */
        size_t bucket = (size_t)(((f->key >> 32) * (uint64_t)dim) >> 32);
        out[bucket] += (f->key & UINT64_C(0x80000000)) ? -w : w;
    }
    double sum = 0;
    for (int i = 0; i < dim; i++)
        sum += (double)out[i] * out[i];
    if (sum <= 0)
        return;
    float inv = (float)(1.0 / sqrt(sum));
    for (int i = 0; i < dim; i++)
        out[i] *= inv;
}

static size_t mni_initial_slots(size_t len)
{
    /* A text of len bytes has at most 2*len+1 distinct features: at most len trigrams (one per
     * character), and one unigram and one bigram per word, of which there are at most
     * (len+1)/2. Sizing for that at load 1/2 means a short text never grows the table and
     * clears only the slots it could use. */
    if (len >= MNI_TF_STACK_SLOTS / 4)
        return MNI_TF_STACK_SLOTS;
    size_t need = 2 * (2 * len + 1);
    size_t cap = MNI_TF_MIN_SLOTS;
    while (cap < need)
        cap *= 2;
    return cap;
}

static int mni_embed_one(const unsigned char *p, size_t len, float *out, int dim)
{
    struct mni_tf_slot stack[MNI_TF_STACK_SLOTS];
    struct mni_tf t = {.slots = stack, .cap = mni_initial_slots(len)};
    memset(stack, 0, t.cap * sizeof *stack);
    int rc = mni_count_features(&t, p, len);
    if (rc == MN_OK)
        mni_project(&t, out, dim);
    free(t.heap);
    return rc;
}

static void mni_set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static int mni_local_create(const struct mni_embedder_config *cfg, mni_embedder **out, char *err,
                           size_t errlen)
{
    if (!out) {
        mni_set_err(err, errlen, "local embedder: no place for the instance (out is NULL)");
        return MN_EINVAL;
    }
    *out = NULL;
    int dim = cfg && cfg->dim ? cfg->dim : mni_embedder_local.default_dim;
    if (dim < MNI_LOCAL_DIM_MIN || dim > MNI_LOCAL_DIM_MAX) {
        if (err && errlen)
            snprintf(err, errlen,
                     "local embedder: dimension %d is out of range; use %d..%d (384 is usual)",
                     dim, MNI_LOCAL_DIM_MIN, MNI_LOCAL_DIM_MAX);
        return MN_ERANGE;
    }
    mni_embedder *e = malloc(sizeof *e);
    if (!e) {
        mni_set_err(err, errlen, "local embedder: out of memory");
        return MN_ENOMEM;
    }
    e->dim = dim;
    *out = e;
    return MN_OK;
}

static int mni_local_embed(mni_embedder *e, const char *const *texts, const size_t *lens, size_t n,
                          float *out, char *err, size_t errlen)
{
    if (n == 0)
        return MN_OK;
    if (!e || !texts || !lens || !out) {
        mni_set_err(err, errlen, "local embedder: NULL instance, texts, lengths or output");
        return MN_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!texts[i] && lens[i]) {
            if (err && errlen)
                snprintf(err, errlen, "local embedder: text %zu is NULL but its length is %zu",
                         i, lens[i]);
            return MN_EINVAL;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int rc = mni_embed_one((const unsigned char *)texts[i], lens[i], out + i * (size_t)e->dim,
                              e->dim);
        if (rc != MN_OK) {
            if (err && errlen)
                snprintf(err, errlen,
                         "local embedder: out of memory counting the features of text %zu "
                         "(%zu bytes)", i, lens[i]);
            return rc;
        }
    }
    return MN_OK;
}

static const char *mni_local_cache_key(const mni_embedder *e)
{
    (void)e;
    return "local";
}

static void mni_local_destroy(mni_embedder *e)
{
    free(e);
}

const struct mni_embedder_ops mni_embedder_local = {
    .name = "local",
    .default_dim = 384,
    .any_dim = 1,
    .create = mni_local_create,
    .embed = mni_local_embed,
    .cache_key = mni_local_cache_key,
    .destroy = mni_local_destroy,
};
