/* Delivering a webhook event: its signature and its HTTP POST. This layer knows no handle and
 * no store (api/webhook_run.c claims and records the deliveries). */
#ifndef MNI_WEBHOOK_WEBHOOK_H
#define MNI_WEBHOOK_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

/* "t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>", Stripe's scheme: the secret's bytes as
 * the key, so that a receiver verifies with the string it was shown. */
#define MNI_WEBHOOK_SIGNATURE_MAX 96
void mni_webhook_sign(const char *secret, int64_t t, const char *body,
                      char out[MNI_WEBHOOK_SIGNATURE_MAX]);

/* What one POST carries. */
struct mni_webhook_request {
    const char *url, *body, *secret;
    const char *event_id, *event;
    int64_t delivery_id;
    int timeout_ms;
};

/* POSTs r, signed now: 0 when the receiver answered 2xx; else nonzero with why in err. 
 * *http_status: the answer's status, 0 when there was none (a timeout, a refused
 * connection). Not built without libcurl (MNI_WITH_CURL). */
int mni_webhook_post(const struct mni_webhook_request *r, int *http_status, char *err,
                     size_t errlen);

#endif
