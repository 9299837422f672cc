/* Sealed values (seal.h). */
#include "crypto/seal.h"
#include "core/bytes.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_LEN (sizeof MNI_SEAL_PREFIX - 1)
#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG crypto_aead_xchacha20poly1305_ietf_ABYTES
#define HEAD (4 + NONCE)
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* Nonces: a random 16-byte prefix per thread and a counter after it, unique for a key with
 * overwhelming odds as random nonces are (XChaCha20's are 24 bytes), without a getrandom
 * system call per value. A forked child must not go on with its parent's prefix: fork bumps
 * a generation that makes every thread draw a new one. */
static _Atomic unsigned fork_generation = 1;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forked(void)
{
    atomic_fetch_add(&fork_generation, 1);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, forked);
}

static void next_nonce(unsigned char nonce[NONCE])
{
    static _Thread_local unsigned char prefix[NONCE - 8];
    static _Thread_local uint64_t counter;
    static _Thread_local unsigned generation;
    unsigned now = atomic_load_explicit(&fork_generation, memory_order_relaxed);
    if (generation != now) {
        pthread_once(&atfork_once, register_atfork);
        randombytes_buf(prefix, sizeof prefix);
        counter = 0;
        generation = now;
    }
    memcpy(nonce, prefix, sizeof prefix);
    mni_store64(nonce + sizeof prefix, counter++);
}

size_t mni_seal_ad(char *buf, size_t size, const char *owner, const char *record,
                   const char *column)
{
    const char *part[] = { owner, record, column };
    size_t at = 0;
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(part[i]) + 1;
        if (n > size - at)
            return 0;
        memcpy(buf + at, part[i], n);
        at += n;
    }
    return at;
}

char *mni_seal(const unsigned char key[MNI_KEY_BYTES], uint32_t key_version, const void *ad,
               size_t ad_len, const void *plain, size_t len)
{
    size_t raw_len = HEAD + len + TAG;
    unsigned char *raw = malloc(raw_len);
    size_t b64_len = sodium_base64_ENCODED_LEN(raw_len, B64);
    char *out = raw ? malloc(PREFIX_LEN + b64_len) : NULL;
    if (out) {
        mni_store32(raw, key_version);
        next_nonce(raw + 4);
        crypto_aead_xchacha20poly1305_ietf_encrypt(raw + HEAD, NULL, plain, len, ad, ad_len,
                                                   NULL, raw + 4, key);
        memcpy(out, MNI_SEAL_PREFIX, PREFIX_LEN);
        sodium_bin2base64(out + PREFIX_LEN, b64_len, raw, raw_len, B64);
    }
    free(raw);
    return out;
}

/* The raw bytes of a sealed text (malloc'd, *n of them), NULL when it has not the form of one
 * (*oom set when it had but memory ran out). */
static unsigned char *decode(const char *text, size_t *n, int *oom)
{
    *oom = 0;
    if (strncmp(text, MNI_SEAL_PREFIX, PREFIX_LEN) != 0)
        return NULL;
    text += PREFIX_LEN;
    size_t b64_len = strlen(text);
    unsigned char *raw = malloc(b64_len / 4 * 3 + 3);
    if (!raw) {
        *oom = 1;
        return NULL;
    }
    if (sodium_base642bin(raw, b64_len / 4 * 3 + 3, text, b64_len, NULL, n, NULL, B64) != 0 ||
        *n < HEAD + TAG) {
        free(raw);
        return NULL;
    }
    return raw;
}

int mni_sealed_version(const char *text, uint32_t *key_version)
{
    /* The version is in the first 4 bytes: decoding the first 8 characters is enough. */
    if (strncmp(text, MNI_SEAL_PREFIX, PREFIX_LEN) != 0 || strlen(text + PREFIX_LEN) < 8)
        return 0;
    unsigned char b[6];
    size_t n;
    if (sodium_base642bin(b, sizeof b, text + PREFIX_LEN, 8, NULL, &n, NULL, B64) != 0 || n < 4)
        return 0;
    *key_version = mni_load32(b);
    return 1;
}

int mni_unseal(const unsigned char key[MNI_KEY_BYTES], const char *text, const void *ad,
               size_t ad_len, char **plain, size_t *len)
{
    *plain = NULL;
    size_t n;
    int oom;
    unsigned char *raw = decode(text, &n, &oom);
    if (!raw)
        return oom ? -1 : 1;
    size_t plain_len = n - HEAD - TAG;
    char *p = malloc(plain_len + 1);
    int rc = p ? 0 : -1;
    if (p && crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)p, NULL, NULL,
                                                        raw + HEAD, n - HEAD, ad, ad_len,
                                                        raw + 4, key) != 0)
        rc = 1;
    free(raw);
    if (rc != 0) {
        free(p);
        return rc;
    }
    p[plain_len] = '\0';
    *plain = p;
    if (len)
        *len = plain_len;
    return 0;
}
