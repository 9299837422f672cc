/* Internals of the openai embedder, shared by its files (openai*.c). */
#ifndef MNI_EMBED_OPENAI_H
#define MNI_EMBED_OPENAI_H

#include "embed/embedder.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct mni_embedder {
    int dim;
    int send_dim;           /* ask the server for dim dimensions ("dimensions" field) */
    char *endpoint;         /* base URL + "/embeddings" */
    char *where;            /* the base URL for messages, its secrets hidden (mni_redact) */
    char *model;
    struct curl_slist *headers; /* Content-Type, and Authorization when there is a key */
    const char *key;        /* the key, within the Authorization header; NULL: none */
    long timeout_ms;
    int retries, backoff_ms, batch, inflight;
    /* Connections and DNS answers are kept between calls and shared by every thread. */
    CURLSH *share;
    pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];
    /* Counters (atomics). */
    uint64_t texts, requests, nretries, max_inflight, max_batch;
};

/* The request body for texts[0..n-1]: malloc'd JSON, or NULL when out of memory. */
char *mni_openai_request(const mni_embedder *e, const char *const *texts, const size_t *lens,
                        size_t n);
/* Checks a 2xx answer for n inputs and writes its vectors, L2-normalised, into out[0..n*dim-1].
 * MN_OK, or MN_EBACKEND with the reason in err. */
int mni_openai_parse(const mni_embedder *e, const char *body, size_t len, size_t n, float *out,
                    char *err, size_t errlen);
/* The message of an error answer: error.message of the JSON body, else the start of the body
 * with control characters replaced. Written into msg. */
void mni_openai_server_message(const char *body, size_t len, char *msg, size_t msglen);

/* Runs the requests for texts (the multi loop with retries, openai_http.c). */
int mni_openai_run(mni_embedder *e, const char *const *texts, const size_t *lens, size_t n,
                  float *out, char *err, size_t errlen);

#endif
