/*
 * Sealed values as an encrypted database holds them (crypto/seal.c): text read from a column
 * that someone past the library may have written anything into.
 * Input: a line, the stored text; the rest, a plain value.
 * Checks, besides no crash or leak: a text that is not a value sealed with this key and this
 * associated data never opens; the plain value sealed opens to itself, and not with another
 * associated data.
 */
#include "fuzz.h"
#include "crypto/seal.h"

#include <stdlib.h>
#include <string.h>

static const unsigned char key[MNI_KEY_BYTES] = { 1, 2, 3, 4, 5, 6, 7, 8 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *stored, *plain;
    fuzz_split(data, size, &stored, &plain);
    char ad[64];
    size_t ad_len = mni_seal_ad(ad, sizeof ad, "tenant", "record", "text");
    uint32_t version;
    (void)mni_sealed_version(stored, &version);
    char *opened = NULL;
    size_t len = 0;
    /* Forging a tag is out of a fuzzer's reach: an input opens only if it is a seal of ours,
     * which the corpus may hold; then it must open to a NUL-terminated value. */
    if (mni_unseal(key, stored, ad, ad_len, &opened, &len) == 0)
        fuzz_assert(opened[len] == '\0', "an opened value is not terminated");
    free(opened);

    char *sealed = mni_seal(key, 7, ad, ad_len, plain, strlen(plain));
    fuzz_assert(sealed != NULL, "sealing failed");
    fuzz_assert(mni_sealed_version(sealed, &version) && version == 7,
                "a sealed value does not tell its key version");
    fuzz_assert(mni_unseal(key, sealed, ad, ad_len, &opened, &len) == 0 &&
                    len == strlen(plain) && memcmp(opened, plain, len) == 0,
                "a sealed value does not open to itself");
    free(opened);
    char other[64];
    size_t other_len = mni_seal_ad(other, sizeof other, "tenant", "record", "metadata");
    fuzz_assert(mni_unseal(key, sealed, other, other_len, &opened, NULL) == 1,
                "a sealed value opens in another column");
    free(sealed);
    free(stored);
    free(plain);
    return 0;
}
