#include "api/embed.h"
#include "api/validate.h"
#include "core/error.h"
#include "core/handle.h"

#include <stdlib.h>
#include <string.h>

int mn_embed_texts(mn_db *db, const char *const *texts, size_t n, float *out)
{
    size_t small[64] = { 0 }, *lens = n <= 64 ? small : malloc(n * sizeof *lens);
    if (!lens)
        return mn_seterr(db, MN_ENOMEM, "out of memory embedding %zu texts", n);
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(texts[i]);
    char err[MN_ERRMSG_MAX];
    int rc = db->embed_ops->embed(db->embedder, texts, lens, n, out, err, sizeof err);
    if (lens != small)
        free(lens);
    return rc == MN_OK ? MN_OK : mn_seterr(db, rc, "%s", err);
}

int mn_embed(mn_db *db, const char *text, float *out, int dim)
{
    if (!db)
        return MN_EINVAL;
    if (!text || !out)
        return mn_seterr(db, MN_EINVAL, "mn_embed: %s is NULL", text ? "out" : "text");
    if (dim != db->dim)
        return mn_seterr(db, MN_EINVAL, "mn_embed: dim is %d but the database embeds into %d "
                         "dimensions (mn_embed_dim)", dim, db->dim);
    if (!mn_utf8_valid(text, strlen(text)))
        return mn_seterr(db, MN_EINVAL, "mn_embed: the text is not valid UTF-8");
    return mn_embed_texts(db, &text, 1, out);
}
