/*
 * The embedder interface: turns text into unit-length vectors. A backend fills a
 * struct mn_embedder_ops; the handle picks one by name at mn_open() (mn_embedder_find).
 */
#ifndef MN_EMBED_EMBEDDER_H
#define MN_EMBED_EMBEDDER_H

#include <stddef.h>

typedef struct mn_embedder mn_embedder;

struct mn_embedder_ops {
    const char *name;
    /* Creates an instance producing dim-dimensional vectors. On failure returns an MN_E* code
     * and writes a message into err (errlen bytes). */
    int (*create)(int dim, mn_embedder **out, char *err, size_t errlen);
    /* Embeds n texts (texts[i] of lens[i] bytes, not necessarily NUL-terminated) into
     * out[i*dim .. i*dim+dim-1], each L2-normalised (all zeros only for text without features).
     * Must be safe to call from several threads at once on one instance. */
    int (*embed)(mn_embedder *e, const char *const *texts, const size_t *lens, size_t n,
                 float *out, char *err, size_t errlen);
    void (*destroy)(mn_embedder *e);
};

/* NULL when no embedder has that name. */
const struct mn_embedder_ops *mn_embedder_find(const char *name);

extern const struct mn_embedder_ops mn_embedder_local;

#endif
