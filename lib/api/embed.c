#include "api/embed.h"
#include "api/metrics.h"
#include "api/abi_structs.h"
#include "api/validate.h"
#include "core/error.h"
#include "api/embed_cache.h"
#include "api/handle.h"
#include "core/vector.h"

#include <stdlib.h>
#include <string.h>

#define MNI_PLUGIN_NAME_MAX 64
#define MNI_PLUGIN_MODEL_MAX 256

static int check_plugin(mn_db *db, const mn_config *c, const mn_embedder *p)
{
    if (c->embedder && *c->embedder)
        return mni_seterr(db, MN_EINVAL, "mn_config sets both embedder (\"%.64s\") and "
                          "embedder_plugin; set only one of them", c->embedder);
    int rc = mni_check_name(db, "mn_embedder.name", p->name, MNI_PLUGIN_NAME_MAX);
    if (rc == MN_OK)
        rc = mni_check_name(db, "mn_embedder.model", p->model, MNI_PLUGIN_MODEL_MAX);
    if (rc != MN_OK)
        return rc;
    if (!p->embed)
        return mni_seterr(db, MN_EINVAL, "the embedder plug-in \"%s\" has no embed function; "
                          "set mn_embedder.embed", p->name);
    if (p->dim < 1 || p->dim > MNI_VEC_MAX_DIM)
        return mni_seterr(db, MN_EINVAL, "the embedder plug-in \"%s\" has dim %d; give the "
                          "dimension of its vectors, 1..%d", p->name, p->dim, MNI_VEC_MAX_DIM);
    if (c->embed_dim && c->embed_dim != p->dim)
        return mni_seterr(db, MN_EINVAL, "mn_config.embed_dim is %d but the embedder plug-in "
                          "\"%s\" makes %d-dimensional vectors; leave embed_dim at 0 or give %d",
                          c->embed_dim, p->name, p->dim, p->dim);
    return MN_OK;
}

int mni_plugin_take(mn_db *db, mn_config *c)
{
    mn_embedder p;
    int rc = mni_abi_read(db, &mni_abi_embedder, c->embedder_plugin, 0, &p, sizeof p);
    if (rc == MN_OK)
        rc = check_plugin(db, c, &p);
    if (rc != MN_OK)
        return rc;
    mn_embedder *copy = malloc(sizeof *copy);
    char *name = strdup(p.name), *model = strdup(p.model);
    if (!copy || !name || !model) {
        free(copy);
        free(name);
        free(model);
        return mni_seterr(db, MN_ENOMEM, "out of memory taking the embedder plug-in");
    }
    *copy = p;
    copy->name = name;
    copy->model = model;
    db->plugin = copy;
    db->embed_ops = &mni_embedder_plugin;
    c->embedder = name;
    c->embed_dim = p.dim;
    c->embedder_plugin = NULL; /* borrowed for mn_open only */
    return MN_OK;
}

void mni_plugin_release(mn_db *db)
{
    mn_embedder *p = db->plugin;
    if (!p)
        return;
    if (db->plugin_owned && p->destroy)
        p->destroy(p->ctx);
    free((char *)p->name);
    free((char *)p->model);
    free(p);
    db->plugin = NULL;
}

int mni_embed_texts(mn_db *db, const char *scope, const char *const *texts, size_t n,
                   float *out, size_t *zero)
{
    size_t zero_unused;
    size_t small[64] = { 0 }, *lens = n <= 64 ? small : malloc(n * sizeof *lens);
    if (!lens)
        return mni_seterr(db, MN_ENOMEM, "out of memory embedding %zu texts", n);
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(texts[i]);
    int rc = mni_embed_cached(db, scope, texts, lens, n, out, zero ? zero : &zero_unused);
    if (lens != small)
        free(lens);
    return rc;
}

static int embed_many(mn_db *db, const char *const *texts, size_t n, float *out, int dim)
{
    if (!db)
        return mni_err_no_db("mn_embed"); /* as its other messages: it serves mn_embed too */
    if ((!texts && n) || !out)
        return mni_seterr(db, MN_EINVAL, "mn_embed: %s is NULL", out ? "texts" : "out");
    if (dim != db->dim)
        return mni_seterr(db, MN_EINVAL, "mn_embed: dim is %d but the database embeds into %d "
                         "dimensions (mn_embed_dim)", dim, db->dim);
    for (size_t i = 0; i < n; i++) {
        if (!texts[i])
            return mni_seterr(db, MN_EINVAL, "mn_embed: text %zu is NULL", i);
        if (!mni_utf8_valid(texts[i], strlen(texts[i])))
            return mni_seterr(db, MN_EINVAL, "mn_embed: text %zu is not valid UTF-8", i);
    }
    size_t zero;
    int rc = n ? mni_embed_texts(db, NULL, texts, n, out, &zero) : MN_OK; /* for no tenant */
    if (rc != MN_OK && zero < n && n > 1)
        mni_errprefix(db, "mn_embed: text %zu: ", zero);
    return rc;
}

int mn_embed_many(mn_db *db, const char *const *texts, size_t n, float *out, int dim)
{
    MNI_TIMED(db, embed, embed_many(db, texts, n, out, dim));
}

int mn_embed(mn_db *db, const char *text, float *out, int dim)
{
    return mn_embed_many(db, &text, 1, out, dim);
}

int mn_embed_stats_get(mn_db *db, mn_embed_stats *out)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_embedder_stats es = {0};
    if (db->embed_ops->stats)
        db->embed_ops->stats(db->embedder, &es);
    mn_embed_stats s = {
        .version = MN_EMBED_STATS_VERSION,
        .embedder = db->cfg.embedder,
        .model = db->embed_ops->cache_key(db->embedder),
        .dim = db->dim,
        .cached = db->embed_cached,
        .cache_hits = __atomic_load_n(&db->embed_hits, __ATOMIC_RELAXED),
        .cache_misses = __atomic_load_n(&db->embed_misses, __ATOMIC_RELAXED),
        .texts = es.texts,
        .requests = es.requests,
        .retries = es.retries,
        .max_inflight = es.max_inflight,
        .max_batch = es.max_batch,
    };
    return mni_abi_write(db, &mni_abi_embed_stats, out, &s);
}
