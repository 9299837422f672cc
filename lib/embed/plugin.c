/*
 * The caller's own embedder (mn_config.embedder_plugin) behind the embedder interface: the
 * instance calls the plug-in's batch callback and holds what it returns to the same standard as
 * a caller's vectors (finite; all zeros are refused by embed/cache.c, as for every embedder),
 * normalising them. Its failures are the plug-in's,
 * so they are MN_EBACKEND and name it. The plug-in struct (checked and copied by the handle,
 * api/embed.c) outlives every instance made with it.
 */
#include "embed/embedder.h"

#include "core/error.h"
#include "core/vector.h"

#include <manushya.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mni_embedder {
    const mn_embedder *plugin;
    uint64_t texts, calls, max_batch; /* atomics */
};

static int plugin_create(const struct mni_embedder_config *cfg, mni_embedder **out, char *err,
                         size_t errlen)
{
    /* cfg->dim is the plug-in's: api/embed.c made embed_dim that. */
    mni_embedder *e = calloc(1, sizeof *e);
    *out = e;
    if (!e) {
        snprintf(err, errlen, "the embedder plug-in \"%s\": out of memory", cfg->plugin->name);
        return MN_ENOMEM;
    }
    e->plugin = cfg->plugin;
    return MN_OK;
}

static void count_batch(mni_embedder *e, size_t n)
{
    __atomic_fetch_add(&e->calls, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&e->texts, (uint64_t)n, __ATOMIC_RELAXED);
    uint64_t seen = __atomic_load_n(&e->max_batch, __ATOMIC_RELAXED);
    while (seen < n && !__atomic_compare_exchange_n(&e->max_batch, &seen, (uint64_t)n, 1,
                                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static int plugin_embed(mni_embedder *e, const char *const *texts, const size_t *lens, size_t n,
                        float *out, char *err, size_t errlen)
{
    (void)lens; /* the plug-in reads NUL-terminated texts */
    if (n == 0)
        return MN_OK;
    const mn_embedder *p = e->plugin;
    char msg[MNI_ERRMSG_MAX] = "";
    int failed = p->embed(p->ctx, texts, n, out, msg, sizeof msg);
    count_batch(e, n);
    msg[sizeof msg - 1] = '\0'; /* whatever the plug-in left there */
    if (failed) {
        snprintf(err, errlen, "the embedder plug-in \"%s\" failed: %s", p->name,
                 *msg ? msg : "(it gave no message)");
        return MN_EBACKEND;
    }
    for (size_t i = 0; i < n; i++) {
        float *v = out + i * (size_t)p->dim;
        int at = 0, fault = mni_vec_normalise(v, p->dim, v, &at);
        /* All zeros stay as they are: the embedding layer refuses them for every embedder
         * alike, naming it (embed/cache.c), and a query of them finds nothing. */
        if (fault == MNI_VEC_ZERO) {
            memset(v, 0, (size_t)p->dim * sizeof *v); /* -0 or too small to square: 0 */
            continue;
        }
        if (fault != MNI_VEC_OK) {
            snprintf(err, errlen, "the embedder plug-in \"%s\" returned a vector that %s for "
                     "text %zu of %zu; fix the plug-in", p->name, mni_vec_fault_text(fault), i, n);
            return MN_EBACKEND;
        }
    }
    return MN_OK;
}

static const char *plugin_cache_key(const mni_embedder *e)
{
    return e->plugin->model;
}

static void plugin_stats(const mni_embedder *e, struct mni_embedder_stats *s)
{
    s->texts = __atomic_load_n(&e->texts, __ATOMIC_RELAXED);
    s->requests = __atomic_load_n(&e->calls, __ATOMIC_RELAXED);
    s->max_batch = __atomic_load_n(&e->max_batch, __ATOMIC_RELAXED);
}

static void plugin_destroy(mni_embedder *e)
{
    free(e);
}

/* Not in the registry: a handle uses it only for mn_config.embedder_plugin, never by name. */
const struct mni_embedder_ops mni_embedder_plugin = {
    .name = "plugin",
    .cacheable = 1,
    .create = plugin_create,
    .embed = plugin_embed,
    .cache_key = plugin_cache_key,
    .stats = plugin_stats,
    .destroy = plugin_destroy,
};
