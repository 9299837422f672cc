/* Picks the store backend from a URL's scheme, opens it, and what all backends share. */
#include "store/store.h"

#include <stdlib.h>
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

int mni_store_open(const struct mni_store_ops *ops, mn_db *db, const char *target,
                   const mn_config *cfg, int *dim, mni_changed_fn changed, void *changed_ctx,
                   struct mni_store **out)
{
    int rc = ops->open(db, target, cfg, dim, out);
    if (rc == MN_OK) {
        (*out)->dim = *dim;
        (*out)->changed = changed;
        (*out)->changed_ctx = changed_ctx;
    }
    return rc;
}

void mni_store_changed(struct mni_store *s, const char *tenant_id)
{
    if (s->changed)
        s->changed(s->changed_ctx, tenant_id);
}

void mni_embed_task_clear(void *task)
{
    struct mni_embed_task *t = task;
    free(t->tenant_id);
    free(t->memory_id);
    free(t->text);
}

void mni_embed_tasks_free(struct mni_embed_task *t, size_t n)
{
    if (!t)
        return;
    for (size_t i = 0; i < n; i++)
        mni_embed_task_clear(&t[i]);
    free(t);
}
