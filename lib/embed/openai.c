/*
 * The openai embedder: any server speaking OpenAI's POST /v1/embeddings (OpenAI, Ollama, vLLM,
 * llama.cpp's server, Hugging Face TEI, ...). This file makes and ends instances; the requests
 * are in openai_http.c, the JSON in openai_json.c.
 *
 * The API key comes from the config or the environment (MANUSHYA_EMBED_API_KEY, then
 * OPENAI_API_KEY). It lives only in the Authorization header curl sends, is never put in a
 * message, and is wiped when the instance ends. The handle learns it (api_key) to keep it out
 * of its messages even when a server's answer echoes it.
 */
#include "embed/openai.h"
#include "core/curl.h"
#include "core/secrets.h"

#include <manushya.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MNI_OPENAI_URL "https://api.openai.com/v1"
#define MNI_OPENAI_MODEL "text-embedding-3-small"
#define MNI_OPENAI_DIM 1536
#define MNI_OPENAI_DIM_MAX 65536
#define MNI_OPENAI_MODEL_MAX 256
#define MNI_OPENAI_URL_MAX 2048

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* No control characters (they would end a header or a log line) and not empty. */
static int printable(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n >= max)
            return 0;
    return n > 0;
}

static void lock_share(CURL *h, curl_lock_data data, curl_lock_access access, void *ud)
{
    (void)h;
    (void)access;
    pthread_mutex_lock(&((mni_embedder *)ud)->share_mu[data]);
}

static void unlock_share(CURL *h, curl_lock_data data, void *ud)
{
    (void)h;
    pthread_mutex_unlock(&((mni_embedder *)ud)->share_mu[data]);
}

static void openai_destroy(mni_embedder *e)
{
    if (!e)
        return;
    if (e->share) {
        curl_share_cleanup(e->share);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&e->share_mu[i]);
    }
    for (struct curl_slist *h = e->headers; h; h = h->next)
        memset(h->data, 0, strlen(h->data)); /* the key */
    curl_slist_free_all(e->headers);
    free(e->endpoint);
    free(e->where);
    free(e->model);
    free(e);
}

/* Checks the base URL and derives the endpoint and the URL messages may show. */
static int set_url(mni_embedder *e, const char *url, char *err, size_t errlen)
{
    size_t n = strlen(url);
    if (!printable(url, MNI_OPENAI_URL_MAX) || strchr(url, ' ') ||
        (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)) {
        set_err(err, errlen, "openai embedder: the embedding URL must be an http:// or https:// "
                "base URL of at most %d bytes without spaces, e.g. http://127.0.0.1:11434/v1",
                MNI_OPENAI_URL_MAX);
        return MN_EINVAL;
    }
    while (n && url[n - 1] == '/')
        n--;
    e->endpoint = malloc(n + sizeof "/embeddings");
    /* A password or a key in the URL is not for messages, even those made without a handle. */
    size_t size = strlen(url) * 3 + 1; /* each character may become "***" */
    e->where = malloc(size);
    if (!e->endpoint || !e->where)
        return MN_ENOMEM;
    mni_redact(NULL, url, e->where, size);
    memcpy(e->endpoint, url, n);
    memcpy(e->endpoint + n, "/embeddings", sizeof "/embeddings");
    return MN_OK;
}

/* Content-Type, and the Authorization header when a key is configured. */
static int set_headers(mni_embedder *e, const char *key, const char *from, char *err,
                       size_t errlen)
{
    e->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!e->headers)
        return MN_ENOMEM;
    if (!key || !*key)
        return MN_OK; /* local servers (Ollama, llama.cpp, TEI) need none */
    if (!printable(key, 4096)) {
        set_err(err, errlen, "openai embedder: the API key from %s has control characters or "
                "is too long; set it to the key alone", from);
        return MN_EINVAL;
    }
    size_t n = strlen(key) + sizeof "Authorization: Bearer ";
    char *h = malloc(n);
    if (!h)
        return MN_ENOMEM;
    snprintf(h, n, "Authorization: Bearer %s", key);
    struct curl_slist *l = curl_slist_append(e->headers, h);
    memset(h, 0, n);
    free(h);
    if (!l)
        return MN_ENOMEM;
    e->headers = l;
    e->key = l->next->data + strlen("Authorization: Bearer "); /* after Content-Type */
    return MN_OK;
}

static int openai_create(const struct mni_embedder_config *cfg, mni_embedder **out, char *err,
                         size_t errlen)
{
    static const struct mni_embedder_config none;
    if (!out) {
        set_err(err, errlen, "openai embedder: no place for the instance (out is NULL)");
        return MN_EINVAL;
    }
    *out = NULL;
    int rc = mni_curl_load("the openai embedder", err, errlen);
    if (rc != MN_OK)
        return rc;
    if (!cfg)
        cfg = &none;
    if (cfg->dim < 0 || cfg->dim > MNI_OPENAI_DIM_MAX) {
        set_err(err, errlen, "openai embedder: dimension %d is out of range; give the model's "
                "dimension, 1..%d (1536 for text-embedding-3-small)", cfg->dim, MNI_OPENAI_DIM_MAX);
        return MN_ERANGE;
    }
    const char *model = cfg->model && *cfg->model ? cfg->model : MNI_OPENAI_MODEL;
    if (!printable(model, MNI_OPENAI_MODEL_MAX)) {
        set_err(err, errlen, "openai embedder: the model name must be 1..%d bytes without "
                "control characters", MNI_OPENAI_MODEL_MAX);
        return MN_EINVAL;
    }
    mni_embedder *e = calloc(1, sizeof *e);
    if (!e) {
        set_err(err, errlen, "openai embedder: out of memory");
        return MN_ENOMEM;
    }
    e->dim = cfg->dim ? cfg->dim : MNI_OPENAI_DIM;
    e->send_dim = cfg->dim != 0; /* a chosen dimension is asked for (text-embedding-3-*) */
    e->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
    e->retries = cfg->retries < 0 ? 0 : cfg->retries ? cfg->retries : 3;
    e->backoff_ms = cfg->backoff_ms > 0 ? cfg->backoff_ms : 500;
    e->batch = cfg->batch > 0 ? cfg->batch : 100;
    e->inflight = cfg->inflight > 0 ? cfg->inflight : 4;
    e->model = strdup(model);
    rc = e->model ? set_url(e, cfg->url && *cfg->url ? cfg->url : MNI_OPENAI_URL, err, errlen)
                  : MN_ENOMEM;
    const char *key = cfg->api_key, *from = "the configuration";
    if (!key && (key = getenv("MANUSHYA_EMBED_API_KEY")) != NULL && *key)
        from = "MANUSHYA_EMBED_API_KEY";
    else if (!cfg->api_key && (key = getenv("OPENAI_API_KEY")) != NULL)
        from = "OPENAI_API_KEY";
    if (rc == MN_OK)
        rc = set_headers(e, key, from, err, errlen);
    if (rc == MN_OK && !(e->share = curl_share_init()))
        rc = MN_ENOMEM;
    if (rc == MN_OK) {
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_init(&e->share_mu[i], NULL);
        curl_share_setopt(e->share, CURLSHOPT_LOCKFUNC, lock_share);
        curl_share_setopt(e->share, CURLSHOPT_UNLOCKFUNC, unlock_share);
        curl_share_setopt(e->share, CURLSHOPT_USERDATA, e);
        curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(e->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    }
    if (rc != MN_OK) {
        if (rc == MN_ENOMEM)
            set_err(err, errlen, "openai embedder: out of memory");
        openai_destroy(e);
        return rc;
    }
    *out = e;
    return MN_OK;
}

static int openai_embed(mni_embedder *e, const char *const *texts, const size_t *lens, size_t n,
                        float *out, char *err, size_t errlen)
{
    if (n == 0)
        return MN_OK;
    if (!e || !texts || !lens || !out) {
        set_err(err, errlen, "openai embedder: NULL instance, texts, lengths or output");
        return MN_EINVAL;
    }
    /* Empty texts have no features: zeros, as the local embedder gives, without asking a
     * server that would refuse them. The rest go out in one compact list. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += lens[i] > 0;
    int rc;
    if (m == n) {
        rc = mni_openai_run(e, texts, lens, n, out, err, errlen);
    } else {
        const char **t = malloc(m * sizeof *t + 1);
        size_t *l = malloc(m * sizeof *l + 1);
        float *v = malloc(m * (size_t)e->dim * sizeof *v + 1);
        rc = t && l && v ? MN_OK : MN_ENOMEM;
        for (size_t i = 0, j = 0; rc == MN_OK && i < n; i++)
            if (lens[i]) {
                t[j] = texts[i];
                l[j++] = lens[i];
            }
        if (rc == MN_OK && m)
            rc = mni_openai_run(e, t, l, m, v, err, errlen);
        for (size_t i = 0, j = 0; rc == MN_OK && i < n; i++) {
            float *o = out + i * (size_t)e->dim;
            if (lens[i])
                memcpy(o, v + j++ * (size_t)e->dim, (size_t)e->dim * sizeof *o);
            else
                memset(o, 0, (size_t)e->dim * sizeof *o);
        }
        if (rc == MN_ENOMEM)
            set_err(err, errlen, "openai embedder: out of memory");
        free(t);
        free(l);
        free(v);
    }
    if (rc == MN_OK)
        __atomic_fetch_add(&e->texts, (uint64_t)n, __ATOMIC_RELAXED);
    return rc;
}

static const char *openai_cache_key(const mni_embedder *e)
{
    return e->model;
}

static const char *openai_api_key(const mni_embedder *e)
{
    return e->key;
}

static void openai_stats(const mni_embedder *e, struct mni_embedder_stats *s)
{
    s->texts = __atomic_load_n(&e->texts, __ATOMIC_RELAXED);
    s->requests = __atomic_load_n(&e->requests, __ATOMIC_RELAXED);
    s->retries = __atomic_load_n(&e->nretries, __ATOMIC_RELAXED);
    s->max_inflight = __atomic_load_n(&e->max_inflight, __ATOMIC_RELAXED);
    s->max_batch = __atomic_load_n(&e->max_batch, __ATOMIC_RELAXED);
}

const struct mni_embedder_ops mni_embedder_openai = {
    .name = "openai",
    .default_dim = MNI_OPENAI_DIM,
    .any_dim = 0,
    .cacheable = 1,
    .create = openai_create,
    .embed = openai_embed,
    .cache_key = openai_cache_key,
    .stats = openai_stats,
    .api_key = openai_api_key,
    .destroy = openai_destroy,
};
