/*
 * The JSON of the embeddings API: the request body, and the checks an answer must pass before
 * a single vector of it is used (count, every index once, dimension, finite numbers).
 */
#include "embed/openai.h"

#include <manushya.h>

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *mni_openai_request(const mni_embedder *e, const char *const *texts, const size_t *lens,
                        size_t n)
{
    cJSON *o = cJSON_CreateObject(), *input = NULL;
    int ok = o && cJSON_AddStringToObject(o, "model", e->model) &&
             cJSON_AddStringToObject(o, "encoding_format", "float") &&
             (!e->send_dim || cJSON_AddNumberToObject(o, "dimensions", e->dim)) &&
             (input = cJSON_AddArrayToObject(o, "input")) != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        /* cJSON wants NUL-terminated strings; the texts need not be. */
        char *t = malloc(lens[i] + 1);
        cJSON *s = NULL;
        if (t) {
            memcpy(t, texts[i], lens[i]);
            t[lens[i]] = '\0';
            s = cJSON_CreateString(t);
            free(t);
        }
        ok = s && cJSON_AddItemToArray(input, s);
        if (!ok)
            cJSON_Delete(s);
    }
    char *body = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return body;
}

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* Copies one embedding (checked: dim finite numbers) into v and L2-normalises it. */
static int read_vector(const mni_embedder *e, const cJSON *arr, size_t item, float *v, char *err,
                       size_t errlen)
{
    if (!cJSON_IsArray(arr))
        return fail(err, errlen, MN_EBACKEND, "item %zu of the answer has no \"embedding\" "
                    "array of numbers (the embedder asks for encoding_format \"float\")", item);
    int got = cJSON_GetArraySize(arr);
    if (got != e->dim)
        return fail(err, errlen, MN_EBACKEND, "the server's vector %zu has %d dimensions, but "
                    "model %s is configured with %d (--embed-dim / mn_config.embed_dim)", item,
                    got, e->model, e->dim);
    double sum = 0;
    int k = 0;
    for (const cJSON *x = arr->child; x; x = x->next, k++) {
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) ||
            !isfinite((float)x->valuedouble))
            return fail(err, errlen, MN_EBACKEND, "the server's vector %zu has a value at "
                        "position %d that is not a finite number", item, k);
        v[k] = (float)x->valuedouble;
        sum += (double)v[k] * v[k];
    }
    if (sum > 0) {
        /* In double: for tiny values 1 / norm overflows a float (1e-45 -> inf, then NaN). */
        double inv = 1.0 / sqrt(sum);
        for (k = 0; k < e->dim; k++)
            v[k] = (float)(v[k] * inv);
    }
    return MN_OK;
}

int mni_openai_parse(const mni_embedder *e, const char *body, size_t len, size_t n, float *out,
                    char *err, size_t errlen)
{
    cJSON *o = cJSON_ParseWithLength(body, len);
    if (!o)
        return fail(err, errlen, MN_EBACKEND, "the server answered with something that is not "
                    "JSON (%zu bytes)", len);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
    int rc = MN_OK;
    unsigned char *seen = calloc(n ? n : 1, 1);
    if (!seen)
        rc = fail(err, errlen, MN_ENOMEM, "out of memory reading the server's answer");
    else if (!cJSON_IsArray(data))
        rc = fail(err, errlen, MN_EBACKEND, "the server's answer has no \"data\" array");
    else if ((size_t)cJSON_GetArraySize(data) != n)
        rc = fail(err, errlen, MN_EBACKEND, "the server returned %d embeddings for %zu inputs",
                  cJSON_GetArraySize(data), n);
    size_t item = 0;
    for (const cJSON *d = data ? data->child : NULL; rc == MN_OK && d; d = d->next, item++) {
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(d, "index");
        /* The answer may come in any order: "index" says which input a vector belongs to. */
        if (!cJSON_IsNumber(ix) || ix->valuedouble < 0 || ix->valuedouble >= (double)n ||
            ix->valuedouble != (double)(size_t)ix->valuedouble)
            rc = fail(err, errlen, MN_EBACKEND, "item %zu of the server's answer has no valid "
                      "\"index\" (0..%zu)", item, n - 1);
        else if (seen[(size_t)ix->valuedouble]++)
            rc = fail(err, errlen, MN_EBACKEND, "the server's answer has index %zu twice",
                      (size_t)ix->valuedouble);
        else
            rc = read_vector(e, cJSON_GetObjectItemCaseSensitive(d, "embedding"), item,
                             out + (size_t)ix->valuedouble * (size_t)e->dim, err, errlen);
    }
    free(seen);
    cJSON_Delete(o);
    return rc;
}

void mni_openai_server_message(const char *body, size_t len, char *msg, size_t msglen)
{
    if (!msglen)
        return;
    cJSON *o = cJSON_ParseWithLength(body, len);
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *m = cJSON_IsObject(error) ? cJSON_GetObjectItemCaseSensitive(error, "message")
                                           : error; /* some servers: {"error": "text"} */
    const char *text = cJSON_IsString(m) ? m->valuestring : body;
    size_t tlen = cJSON_IsString(m) ? strlen(text) : len;
    size_t w = 0;
    /* At most 200 bytes, one line: an HTML error page must not flood the message. */
    for (size_t i = 0; i < tlen && w + 1 < msglen && w < 200; i++) {
        unsigned char ch = (unsigned char)text[i];
        msg[w++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    msg[w] = '\0';
    if (!w)
        snprintf(msg, msglen, "(no message)");
    cJSON_Delete(o);
}
