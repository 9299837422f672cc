/* A webhook request over libcurl (webhook.h): one POST, its answer's status, no redirects
 * followed (a receiver that moved says so by failing), the body of the answer discarded. */
#include "webhook/webhook.h"
#include "core/curl.h"
#include "manushya.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/* Adds "name: value" to *list; 0 when out of memory. */
static int header(struct curl_slist **list, const char *name, const char *value)
{
    char line[256];
    snprintf(line, sizeof line, "%s: %s", name, value);
    struct curl_slist *l = curl_slist_append(*list, line);
    if (l)
        *list = l;
    return l != NULL;
}

int mni_webhook_post(const struct mni_webhook_request *r, int *http_status, char *err,
                     size_t errlen)
{
    *http_status = 0;
    if (mni_curl_load("a webhook delivery", err, errlen) != MN_OK)
        return 1;
    char sig[MNI_WEBHOOK_SIGNATURE_MAX], delivery[24];
    mni_webhook_sign(r->secret, (int64_t)time(NULL), r->body, sig);
    snprintf(delivery, sizeof delivery, "%lld", (long long)r->delivery_id);
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    int ok = c && header(&h, "Content-Type", "application/json") &&
             header(&h, "Manushya-Event-Id", r->event_id) &&
             header(&h, "Manushya-Event", r->event) &&
             header(&h, "Manushya-Delivery", delivery) &&
             header(&h, "Manushya-Signature", sig) && header(&h, "Expect", "");
    if (!ok) {
        snprintf(err, errlen, "out of memory making the request");
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        return 1;
    }
    curl_easy_setopt(c, CURLOPT_URL, r->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "libmanushya-webhooks/" MN_VERSION);
    CURLcode res = curl_easy_perform(c);
    long status = 0;
    if (res == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    *http_status = (int)status;
    int failed = res != CURLE_OK || status < 200 || status > 299;
    if (res != CURLE_OK)
        snprintf(err, errlen, "%s", curl_easy_strerror(res));
    else if (failed)
        snprintf(err, errlen, "the receiver answered HTTP %ld", status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return failed;
}
