/* Picks the store backend from a URL's scheme, opens it, and what all backends share. */
#include "store/store.h"
#include "store/vault.h"
#include "core/metrics.h"
#include "core/error.h"
#include "core/features.h"

#include "build_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MNI_WITH_POSTGRES
#define POSTGRES (&mni_store_postgres)
#else
#define POSTGRES NULL
#endif

/* A scheme and its backend (NULL: left out of this build, which feature would add it);
 * postgresql:// is libpq's other spelling of postgres://. */
static const struct {
    const char *scheme;
    const struct mni_store_ops *ops;
    unsigned feature;
} backends[] = {
    { "sqlite", &mni_store_sqlite, 0 },
    { "postgres", POSTGRES, MN_FEATURE_POSTGRES },
    { "postgresql", POSTGRES, MN_FEATURE_POSTGRES },
};

int mni_store_find(const mn_db *db, const char *url, const struct mni_store_ops **ops,
                  const char **target)
{
    /* "sqlite:PATH" and "sqlite://PATH" both name a file; so does a bare path. */
    const char *colon = strchr(url, ':');
    size_t n = colon ? (size_t)(colon - url) : 0;
    int has_scheme = colon && n > 0 && strspn(url, "abcdefghijklmnopqrstuvwxyz0123456789+.-") == n;
    if (!has_scheme || (strncmp(colon, "://", 3) != 0 && strncmp(url, "sqlite:", 7) != 0)) {
        *target = url;
        *ops = &mni_store_sqlite;
        return MN_OK;
    }
    for (size_t i = 0; i < sizeof backends / sizeof *backends; i++) {
        if (strlen(backends[i].scheme) == n && strncmp(url, backends[i].scheme, n) == 0) {
            if (!backends[i].ops) {
                char what[32];
                snprintf(what, sizeof what, "%s://", backends[i].scheme);
                return mni_unbuilt(db, backends[i].feature, what);
            }
            const char *rest = colon + 1;
            if (strncmp(rest, "//", 2) == 0)
                rest += 2;
            *target = rest;
            *ops = backends[i].ops;
            return MN_OK;
        }
    }
    /* Only the scheme: the rest of the URL may hold a password. */
    return mni_seterr(db, MN_EUNSUPPORTED, "no store backend for the URL scheme \"%.*s\" in this "
                     "build; use sqlite:PATH or a file path", (int)(n > 32 ? 32 : n), url);
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

int mni_store_opened(struct mni_store *s, int rc, struct mni_store **out)
{
    if (rc != MN_OK)
        s->ops->close(s);
    else
        *out = s;
    return rc;
}

void mni_store_set_metrics(struct mni_store *s, struct mni_metrics *m)
{
    s->metrics = m;
    mni_metrics_add(m, MNI_S_POOL_SIZE + (unsigned)s->pool_kind, s->pool_max);
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

int mni_embed_tasks_claimed(struct mni_store *s, int rc, struct mni_embed_task **out,
                            size_t *n)
{
    if (rc == MN_OK)
        rc = mni_vault_open_tasks(s, *out, *n);
    if (rc != MN_OK) {
        mni_embed_tasks_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}
