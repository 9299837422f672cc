/* Picks the store backend from a URL's scheme. */
#include "store/store.h"

#include <string.h>

/* A scheme and its backend; postgresql:// is libpq's other spelling of postgres://. */
static const struct {
    const char *scheme;
    const struct mni_store_ops *ops;
} backends[] = {
    { "sqlite", &mni_store_sqlite },
    { "postgres", &mni_store_postgres },
    { "postgresql", &mni_store_postgres },
};

const struct mni_store_ops *mni_store_find(const char *url, const char **target)
{
    /* "sqlite:PATH" and "sqlite://PATH" both name a file; so does a bare path. */
    const char *colon = strchr(url, ':');
    size_t n = colon ? (size_t)(colon - url) : 0;
    int has_scheme = colon && n > 0 && strspn(url, "abcdefghijklmnopqrstuvwxyz0123456789+.-") == n;
    if (!has_scheme || (strncmp(colon, "://", 3) != 0 && strncmp(url, "sqlite:", 7) != 0)) {
        *target = url;
        return &mni_store_sqlite;
    }
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++) {
        if (strlen(backends[i].scheme) == n && strncmp(url, backends[i].scheme, n) == 0) {
            const char *rest = colon + 1;
            if (strncmp(rest, "//", 2) == 0)
                rest += 2;
            *target = rest;
            return backends[i].ops;
        }
    }
    *target = NULL;
    return NULL;
}
