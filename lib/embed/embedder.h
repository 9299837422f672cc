/*
 * The embedder interface: turns text into unit-length vectors. A backend fills a
 * struct mni_embedder_ops; the handle picks one by name at mn_open() (mni_embedder_find).
 */
#ifndef MNI_EMBED_EMBEDDER_H
#define MNI_EMBED_EMBEDDER_H

#include "manushya.h"

#include <stddef.h>
#include <stdint.h>

#include "manushya.h"

typedef struct mni_embedder mni_embedder;

/* What an instance is made with. Zero fields mean the backend's defaults; a backend ignores
 * the fields it has no use for (the local embedder needs only dim). Strings are borrowed for
 * the duration of create(). */
struct mni_embedder_config {
    int dim;             /* vector dimension; 0 = the backend's default_dim */
    const char *url;     /* base URL of the server, e.g. http://127.0.0.1:8080/v1 */
    const char *model;   /* model name sent to the server */
    const char *api_key; /* NULL: read from the environment (MANUSHYA_EMBED_API_KEY, then
                          * OPENAI_API_KEY) */
    int timeout_ms;      /* per request; default 30000 */
    int retries;         /* retries of a transient failure; default 3, < 0 = none */
    int backoff_ms;      /* first retry's base delay, doubled each retry; default 500 */
    int batch;           /* inputs per request; default 100 */
    int inflight;        /* requests in flight at once; default 4 */
    const mn_embedder *plugin; /* the caller's plug-in, checked (mni_embedder_plugin only); it
                          * outlives the instance */
};

/* What an instance has done so far (all counters since create). */
struct mni_embedder_stats {
    uint64_t texts;         /* texts embedded */
    uint64_t requests;      /* HTTP requests sent, retries included */
    uint64_t retries;       /* of them, retries */
    uint64_t max_inflight;  /* most requests in flight at once */
    uint64_t max_batch;     /* most inputs in one request */
};

struct mni_embedder_ops {
    const char *name;
    /* The dimension used when the config and the database leave it open. */
    int default_dim;
    /* 1: the instance can take any dimension, so an existing database's dimension wins over
     * default_dim (local hashing). 0: the dimension is the model's: a database of another
     * dimension is an error, not something to adapt to. */
    int any_dim;
    /* 1: embedding costs more than a store lookup, so results go through the embedding cache
     * (embed/cache.c); the local embedder is faster than the lookup would be. */
    int cacheable;
    /* Creates an instance (*out may stay NULL when embed is NULL). On failure returns an MN_E*
     * code and writes a message into err (errlen bytes). */
    int (*create)(const struct mni_embedder_config *cfg, mni_embedder **out, char *err,
                  size_t errlen);
    /* NULL: the backend embeds nothing (external), and is never asked to (mni_embed_check).
     * Embeds n texts (texts[i] of lens[i] bytes; the handle passes them NUL-terminated, which
     * the plug-in relies on) into
     * out[i*dim .. i*dim+dim-1], each L2-normalised (all zeros only for text without features).
     * Must be safe to call from several threads at once on one instance. On failure out is
     * unspecified. */
    int (*embed)(mni_embedder *e, const char *const *texts, const size_t *lens, size_t n,
                 float *out, char *err, size_t errlen);
    /* The cache's name for the vectors this instance makes ("local", or the model name): two
     * instances with the same key make the same vectors for the same text. */
    const char *(*cache_key)(const mni_embedder *e);
    /* Optional (NULL: no counters). */
    void (*stats)(const mni_embedder *e, struct mni_embedder_stats *out);
    /* Optional: the API key the instance sends (NULL: none), which the handle then keeps out
     * of every message, however a server echoes it. */
    const char *(*api_key)(const mni_embedder *e);
    void (*destroy)(mni_embedder *e); /* NULL when create makes no instance */
    /* Optional: what the backend needs once per process before any create (mn_global_init);
     * MN_OK or MN_ERROR. */
    int (*global_init)(void);
};

/* The embedder called name into *out. MN_EINVAL for a name no embedder has (the message lists
 * this build's), MN_EUNSUPPORTED for one this build left out (the message names the switch);
 * explained on db, which may be NULL. */
int mni_embedder_find(const mn_db *db, const char *name, const struct mni_embedder_ops **out);
/* Runs every built embedder's global_init; MN_OK or the first failure. */
int mni_embedders_global_init(void);

extern const struct mni_embedder_ops mni_embedder_local;
extern const struct mni_embedder_ops mni_embedder_openai;
extern const struct mni_embedder_ops mni_embedder_external;
/* The caller's plug-in (mn_config.embedder_plugin): never found by name. */
extern const struct mni_embedder_ops mni_embedder_plugin;

#endif
