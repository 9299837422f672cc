/*
 * Secrets out of every message (core/secrets.h). The handle learns the secrets it is given
 * (URLs' passwords, secret parameters, the embedder's API key) as written and %-decoded, since
 * a message may quote either form: libpq repeats a URI it cannot parse as written, and the
 * server behind it sees the decoded one. mni_redact then hides every occurrence of them. What
 * the handle could not know (a URL or a token that reached a message some other way) is
 * caught by the same rules applied to the text itself.
 */
#include "core/secrets.h"
#include "core/url.h"
#include "manushya.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A URL in a parameter of a URL in a parameter ... is followed this deep. */
#define MNI_URL_NESTING_MAX 4

/* Called for each secret found in a URL: len bytes at at, in the URL or in a decoded copy of
 * one of its parameters (a URL within it). */
typedef void (*found_fn)(void *ctx, const char *at, size_t len);

/* Parameter names holding any of these words (case aside) hold secrets: password,
 * sslpassword, passfile, api_key, apikey, access_token, client_secret, sig, auth, ... */
static const char *const secret_words[] = {
    "pass", "pwd", "secret", "token", "key", "sig", "auth", "cred",
};

static int secret_name(const char *name, size_t len)
{
    char *d = mni_pct_decode(name, len, 0); /* pass%77ord is password to libpq */
    int hit = !d; /* out of memory: rather hide a value than show a secret */
    for (size_t i = 0; !hit && i < sizeof secret_words / sizeof *secret_words; i++)
        hit = strcasestr(d, secret_words[i]) != NULL;
    free(d);
    return hit;
}

static size_t url_secrets(const char *url, size_t n, int depth, found_fn found, void *ctx);

/* A parameter's value that is a URL holding secrets (read_url=postgres%3A%2F%2F...): its
 * secrets, in a decoded copy, and the value itself. How many were found. */
static size_t nested_secrets(const char *v, size_t len, int depth, found_fn found, void *ctx)
{
    if (depth >= MNI_URL_NESTING_MAX)
        return 0;
    char *d = mni_pct_decode(v, len, 0);
    size_t k = !d ? 1 : strstr(d, "://") ? url_secrets(d, strlen(d), depth + 1, found, ctx) : 0;
    free(d);
    if (k)
        found(ctx, v, len);
    return k;
}

/* Calls found for each secret of the URL url[0..n): see mni_secrets_add_url. How many. */
static size_t url_secrets(const char *url, size_t n, int depth, found_fn found, void *ctx)
{
    const char *sep = memmem(url, n, "://", 3);
    if (!sep)
        return 0;
    const char *rest = sep + 3, *end = url + n;
    const char *at = mni_url_userinfo_end(rest, (size_t)(end - rest));
    size_t k = 0;
    if (at > rest) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        /* redis://SECRET@host: Redis before 6 had no users, so a user alone is a password. */
        size_t scheme = (size_t)(sep - url);
        int redis = (scheme == 5 || (scheme == 6 && (url[5] == 's' || url[5] == 'S'))) &&
                    strncasecmp(url, "redis", 5) == 0;
        const char *pw = colon ? colon + 1 : redis ? rest : at;
        if (pw < at) {
            found(ctx, pw, (size_t)(at - pw));
            k++;
        }
    }
    const char *from = at ? at : rest;
    const char *q = memchr(from, '?', (size_t)(end - from));
    for (const char *p = q ? q + 1 : end, *amp; p < end; p = amp + 1) {
        amp = memchr(p, '&', (size_t)(end - p));
        if (!amp)
            amp = end;
        const char *eq = memchr(p, '=', (size_t)(amp - p));
        if (!eq || eq + 1 == amp)
            continue;
        if (secret_name(p, (size_t)(eq - p))) {
            found(ctx, eq + 1, (size_t)(amp - eq - 1));
            k++;
        } else {
            k += nested_secrets(eq + 1, (size_t)(amp - eq - 1), depth, found, ctx);
        }
    }
    return k;
}

int mni_secrets_add(struct mni_secrets *s, const char *v, size_t len)
{
    if (!len)
        return MN_OK;
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i]) == len && memcmp(s->v[i], v, len) == 0)
            return MN_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **bigger = realloc(s->v, cap * sizeof *bigger);
        if (!bigger)
            return MN_ENOMEM;
        s->v = bigger;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strndup(v, len)))
        return MN_ENOMEM;
    s->n++;
    return MN_OK;
}

struct learning {
    struct mni_secrets *s;
    int rc;
};

static void learn(void *ctx, const char *at, size_t len)
{
    struct learning *l = ctx;
    char *d = mni_pct_decode(at, len, 0);
    if (l->rc == MN_OK)
        l->rc = mni_secrets_add(l->s, at, len);
    if (l->rc == MN_OK)
        l->rc = d ? mni_secrets_add(l->s, d, strlen(d)) : MN_ENOMEM;
    free(d);
}

int mni_secrets_add_url(struct mni_secrets *s, const char *url)
{
    struct learning l = {s, MN_OK};
    if (url)
        url_secrets(url, strlen(url), 0, learn, &l);
    return l.rc;
}

void mni_secrets_free(struct mni_secrets *s)
{
    for (size_t i = 0; i < s->n; i++) {
        explicit_bzero(s->v[i], strlen(s->v[i]));
        free(s->v[i]);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- redaction ------------------------------------------------------------------------------ */

struct hiding {
    const char *text;
    size_t n;
    unsigned char *hide; /* hide[i]: text[i] is (part of) a secret */
};

static void hide_span(void *ctx, const char *at, size_t len)
{
    struct hiding *h = ctx;
    uintptr_t from = (uintptr_t)at, text = (uintptr_t)h->text;
    if (from >= text && from + len <= text + h->n) /* not a decoded copy's */
        memset(h->hide + (from - text), 1, len);
}

static void hide_known(struct hiding *h, const struct mni_secrets *s)
{
    for (size_t i = 0; s && i < s->n; i++) {
        size_t len = strlen(s->v[i]);
        for (const char *p = h->text; (p = memmem(p, h->n - (size_t)(p - h->text), s->v[i],
                                                  len)) != NULL; p++)
            hide_span(h, p, len);
    }
}

/* Every URL in the text: scheme://, up to a space, a quote, a bracket or the punctuation that
 * ends a sentence's last word. */
static void hide_urls(struct hiding *h)
{
    static const char scheme_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789+.-";
    for (const char *p = h->text; (p = strstr(p, "://")) != NULL; p += 3) {
        const char *start = p, *end = p + strcspn(p, " \t\r\n\"'<>`()");
        while (start > h->text && strchr(scheme_chars, start[-1]))
            start--;
        while (end > p && strchr(".,;:", end[-1]))
            end--;
        if (start < p)
            url_secrets(start, (size_t)(end - start), 0, hide_span, h);
    }
}

/* "Bearer TOKEN", as an Authorization header a server echoes back. A token is 8 characters
 * or more: "the bearer of" says nothing secret. */
static void hide_bearer(struct hiding *h)
{
    static const char token_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789-._~+/=";
    for (const char *p = h->text; (p = strpbrk(p, "bB")) != NULL;) {
        if (strncasecmp(p++, "bearer", 6) != 0)
            continue;
        p += 5;
        size_t space = strspn(p, " \t"), len = strspn(p + space, token_chars);
        if (space && len >= 8)
            hide_span(h, p + space, len);
    }
}

/* An API key's secret, mk_<16 hex>_<64 hex>: its public id may show, its secret never. The
 * keys a handle verifies are many and come and go, so they are known by their shape. */
static void hide_api_keys(struct hiding *h)
{
    static const char hex[] = "0123456789abcdef";
    for (const char *p = h->text; (p = strstr(p, "mk_")) != NULL; p += 3) {
        const char *secret = p + 3 + 16;
        if (strspn(p + 3, hex) == 16 && *secret == '_' && strspn(secret + 1, hex) >= 64)
            hide_span(h, secret + 1, strspn(secret + 1, hex));
    }
}

void mni_redact(const struct mni_secrets *s, const char *in, char *out, size_t size)
{
    if (!size)
        return;
    unsigned char small[1024]; /* an error message's: no allocation */
    struct hiding h = {in, strlen(in), small};
    if (h.n >= sizeof small && !(h.hide = malloc(h.n))) {
        snprintf(out, size, "(a message left out: no memory to check it for secrets)");
        return;
    }
    memset(h.hide, 0, h.n);
    hide_known(&h, s);
    hide_urls(&h);
    hide_bearer(&h);
    hide_api_keys(&h);
    size_t o = 0;
    for (size_t i = 0; i < h.n && o + 1 < size;) {
        const unsigned char *next = memchr(h.hide + i, 1, h.n - i);
        size_t run = (next ? (size_t)(next - h.hide) : h.n) - i;
        if (run > size - 1 - o)
            run = size - 1 - o;
        memcpy(out + o, in + i, run);
        o += run;
        i += run;
        for (const char *star = "***"; next && *star && o + 1 < size; star++)
            out[o++] = *star;
        while (i < h.n && h.hide[i])
            i++;
    }
    out[o] = '\0';
    if (h.hide != small)
        free(h.hide);
}
