/*
 * The requests of the openai embedder: texts cut into batches, up to e->inflight requests at
 * once on one curl multi handle, each retried on a transient failure (429, 5xx, a timeout, a
 * dropped connection) with exponential backoff and jitter, waiting at least what Retry-After
 * asks. Other answers (4xx, or a 2xx that fails the checks of openai_json.c) end the call at
 * once: retrying cannot fix them.
 */
#include "embed/openai.h"
#include "core/backoff.h"

#include <manushya.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MNI_BODY_MAX ((size_t)256 << 20)  /* an answer larger than this is not an embedding */
#define MNI_RETRY_AFTER_MAX_MS 60000      /* Retry-After is honoured up to a minute */
#define MNI_BACKOFF_MAX_MS 60000          /* and our own backoff waits a minute at the most */
#define MNI_POLL_MAX_MS 1000

struct req {
    size_t first, n;       /* texts[first .. first+n-1] */
    char *payload;         /* request body, made once, sent by every attempt */
    CURL *h;               /* set while in flight */
    int attempt;           /* attempts started */
    int done;
    double not_before;     /* monotonic seconds: a retry waits until then */
    long retry_after_ms;   /* from the last answer; -1 = none */
    char *body;
    size_t len, cap;
    int too_big;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count_max(uint64_t *max, uint64_t v)
{
    uint64_t cur = __atomic_load_n(max, __ATOMIC_RELAXED);
    while (v > cur && !__atomic_compare_exchange_n(max, &cur, v, 1, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED))
        ;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct req *q = ud;
    size_t n = size * nmemb;
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap : 64 * 1024;
        while (cap < q->len + n + 1)
            cap *= 2;
        char *b = cap <= MNI_BODY_MAX ? realloc(q->body, cap) : NULL;
        if (!b) {
            q->too_big = cap > MNI_BODY_MAX;
            return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
        }
        q->body = b;
        q->cap = cap;
    }
    memcpy(q->body + q->len, p, n);
    q->len += n;
    q->body[q->len] = '\0';
    return n;
}

/* Retry-After: a number of seconds or an HTTP date. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct req *q = ud;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n <= sizeof name - 1 || strncasecmp(p, name, sizeof name - 1) != 0)
        return n;
    char v[64];
    size_t vl = n - (sizeof name - 1);
    if (vl >= sizeof v)
        vl = sizeof v - 1;
    memcpy(v, p + sizeof name - 1, vl);
    v[vl] = '\0';
    char *s = v + strspn(v, " \t"), *end;
    double secs = strtod(s, &end);
    if (end == s) {
        time_t at = curl_getdate(s, NULL);
        secs = at < 0 ? -1 : difftime(at, time(NULL));
    }
    if (secs >= 0)
        q->retry_after_ms = secs * 1000 > MNI_RETRY_AFTER_MAX_MS ? MNI_RETRY_AFTER_MAX_MS
                                                                 : (long)(secs * 1000);
    return n;
}

static int start(mni_embedder *e, CURLM *m, struct req *q)
{
    CURL *h = curl_easy_init();
    if (!h)
        return MN_ENOMEM;
    q->len = 0;
    q->too_big = 0;
    q->retry_after_ms = -1;
    curl_easy_setopt(h, CURLOPT_URL, e->endpoint);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SHARE, e->share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, e->headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->payload);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(q->payload));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, q);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, e->timeout_ms);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "libmanushya/" MN_VERSION);
    curl_easy_setopt(h, CURLOPT_PRIVATE, q);
    if (curl_multi_add_handle(m, h) != CURLM_OK) {
        curl_easy_cleanup(h);
        return MN_ENOMEM;
    }
    q->h = h;
    q->attempt++;
    __atomic_fetch_add(&e->requests, 1, __ATOMIC_RELAXED);
    if (q->attempt > 1)
        __atomic_fetch_add(&e->nretries, 1, __ATOMIC_RELAXED);
    count_max(&e->max_batch, q->n);
    return MN_OK;
}

/* Failures of the transfer itself that another attempt may not meet. */
static int transient(CURLcode res)
{
    switch (res) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_COULDNT_CONNECT:
        return 1;
    default:
        return 0;
    }
}

__attribute__((format(printf, 5, 6)))
static int fail(const mni_embedder *e, char *err, size_t errlen, int rc, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (err && errlen)
        snprintf(err, errlen, "openai embedder (model %s at %s): %s", e->model, e->where, why);
    return rc;
}

/* A request came back: its vectors are stored, or it is scheduled again, or the call fails. */
static int finish(mni_embedder *e, struct req *q, CURLcode res, float *out, uint64_t *rng,
                  char *err, size_t errlen)
{
    long status = 0;
    curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &status);
    char why[400];
    int retryable;
    if (res == CURLE_WRITE_ERROR && q->too_big)
        return fail(e, err, errlen, MN_EBACKEND, "the answer is larger than %zu MiB",
                    MNI_BODY_MAX >> 20);
    if (res != CURLE_OK) {
        retryable = transient(res);
        if (res == CURLE_OPERATION_TIMEDOUT)
            snprintf(why, sizeof why, "no complete answer within %ld ms", e->timeout_ms);
        else
            snprintf(why, sizeof why, "%s", curl_easy_strerror(res));
    } else if (status >= 200 && status < 300) {
        int rc = mni_openai_parse(e, q->body ? q->body : "", q->len, q->n,
                                 out + q->first * (size_t)e->dim, why, sizeof why);
        if (rc != MN_OK)
            return fail(e, err, errlen, rc, "HTTP %ld: %s", status, why);
        q->done = 1;
        return MN_OK;
    } else {
        char msg[256];
        mni_openai_server_message(q->body ? q->body : "", q->len, msg, sizeof msg);
        snprintf(why, sizeof why, "HTTP %ld: %s", status, msg);
        retryable = status == 429 || status >= 500;
    }
    if (!retryable || q->attempt > e->retries) {
        if (q->attempt > 1)
            return fail(e, err, errlen, MN_EBACKEND, "%s (gave up after %d attempts)", why,
                        q->attempt);
        return fail(e, err, errlen, MN_EBACKEND, "%s", why);
    }
    /* Backoff doubles per attempt, with jitter (core/backoff.h); never sooner than the server
     * asked. */
    double delay = (double)mni_backoff_ms(e->backoff_ms, q->attempt, MNI_BACKOFF_MAX_MS, rng);
    if (q->retry_after_ms >= 0 && delay < (double)q->retry_after_ms)
        delay = (double)q->retry_after_ms;
    q->not_before = mono() + delay / 1000.0;
    return MN_OK;
}

int mni_openai_run(mni_embedder *e, const char *const *texts, const size_t *lens, size_t n,
                  float *out, char *err, size_t errlen)
{
    if (err && errlen)
        *err = '\0';
    size_t nreq = (n + (size_t)e->batch - 1) / (size_t)e->batch;
    struct req *r = calloc(nreq, sizeof *r);
    CURLM *m = curl_multi_init();
    int rc = r && m ? MN_OK : MN_ENOMEM;
    for (size_t i = 0; rc == MN_OK && i < nreq; i++) {
        r[i].first = i * (size_t)e->batch;
        r[i].n = n - r[i].first < (size_t)e->batch ? n - r[i].first : (size_t)e->batch;
        r[i].payload = mni_openai_request(e, texts + r[i].first, lens + r[i].first, r[i].n);
        if (!r[i].payload)
            rc = MN_ENOMEM;
    }
    uint64_t rng = mni_backoff_seed(r);
    size_t left = nreq;
    int running = 0;
    while (rc == MN_OK && left) {
        double now = mono(), next = INFINITY;
        for (size_t i = 0; rc == MN_OK && i < nreq; i++) {
            if (r[i].done || r[i].h)
                continue;
            if (r[i].not_before <= now && running < e->inflight) {
                rc = start(e, m, &r[i]);
                running += rc == MN_OK;
            } else if (r[i].not_before > now && r[i].not_before < next) {
                next = r[i].not_before;
            }
        }
        count_max(&e->max_inflight, (uint64_t)running);
        int still, finished = 0;
        if (rc == MN_OK && curl_multi_perform(m, &still) != CURLM_OK)
            rc = MN_EBACKEND;
        CURLMsg *msg;
        int queued;
        while (rc == MN_OK && (msg = curl_multi_info_read(m, &queued))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct req *q = NULL;
            CURLcode res = msg->data.result;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&q);
            rc = finish(e, q, res, out, &rng, err, errlen);
            curl_multi_remove_handle(m, q->h);
            curl_easy_cleanup(q->h);
            q->h = NULL;
            running--;
            finished = 1;
            left -= (size_t)q->done;
        }
        if (rc != MN_OK || !left || finished)
            continue; /* a free slot may take a waiting request at once */
        long wait = MNI_POLL_MAX_MS;
        if (running < e->inflight && next < INFINITY) {
            double ms = (next - mono()) * 1000.0 + 1;
            wait = ms < 0 ? 0 : ms < MNI_POLL_MAX_MS ? (long)ms : MNI_POLL_MAX_MS;
        }
        if (curl_multi_poll(m, NULL, 0, (int)wait, NULL) != CURLM_OK)
            rc = MN_EBACKEND;
    }
    if (rc == MN_ENOMEM)
        fail(e, err, errlen, rc, "out of memory sending %zu texts", n);
    else if (rc == MN_EBACKEND && err && errlen && !*err)
        fail(e, err, errlen, rc, "curl's multi interface failed");
    for (size_t i = 0; r && i < nreq; i++) {
        if (r[i].h) {
            curl_multi_remove_handle(m, r[i].h);
            curl_easy_cleanup(r[i].h);
        }
        free(r[i].payload);
        free(r[i].body);
    }
    free(r);
    if (m)
        curl_multi_cleanup(m);
    return rc;
}
