/* A webhook request's signature (webhook.h). */
#include "webhook/webhook.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

void mni_webhook_sign(const char *secret, int64_t t, const char *body,
                      char out[MNI_WEBHOOK_SIGNATURE_MAX])
{
    char stamp[24];
    int n = snprintf(stamp, sizeof stamp, "%lld.", (long long)t);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char hex[2 * sizeof mac + 1];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)stamp, (unsigned long long)n);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, MNI_WEBHOOK_SIGNATURE_MAX, "t=%lld,v1=%s", (long long)t, hex);
}
