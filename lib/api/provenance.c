/*
 * Which embedder a database's vectors come from. Vectors of two embedders, or of two models,
 * live in different spaces: a search would compare them as if they did not, and give nonsense
 * without any error. So a database records its embedder (the store, at creation: the setting
 * "embedder") and its model (here: "embed_model"), and a handle that would embed with another
 * one is refused at open. Databases made before the model was recorded get it from the first
 * handle of their embedder that opens them (for "local", always "local").
 *
 * The "external" embedder embeds nothing, so it may open any database: every vector it stores
 * is the caller's, and every call that would embed is refused (embed/cache.c).
 */
#include "api/provenance.h"
#include "core/error.h"
#include "api/handle.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

int mni_embed_provenance_check(mn_db *db)
{
    const struct mni_store_ops *ops = db->store->ops;
    const char *name = db->cfg.embedder, *model = db->embed_ops->cache_key(db->embedder);
    char *had_name = NULL, *had_model = NULL;
    int rc = ops->meta_get(db->store, "embedder", &had_name);
    if (rc == MN_OK)
        rc = ops->meta_get(db->store, "embed_model", &had_model);
    int same_name = rc == MN_OK && had_name && strcmp(had_name, name) == 0;
    if (rc == MN_OK && same_name && !had_model && !(db->cfg.flags & MN_OPEN_READONLY)) {
        rc = ops->meta_put(db->store, "embed_model", model);
        if (rc == MN_OK && !(had_model = strdup(model)))
            rc = mni_seterr(db, MN_ENOMEM, "out of memory reading the database settings");
    }
    if (rc == MN_OK && db->embed_ops->embed &&
        (!same_name || (had_model && strcmp(had_model, model) != 0)))
        rc = mni_seterr(db, MN_EINVAL, "the database's vectors come from the \"%s\" embedder "
                        "(model \"%s\"), this handle's would come from \"%s\" (model \"%s\"): "
                        "the two cannot be compared. Open it with the database's embedder and "
                        "model, or with embedder \"external\" and pass the vectors yourself, or "
                        "use a new database", had_name ? had_name : "?",
                        had_model ? had_model : "not recorded", name, model);
    free(had_name);
    free(had_model);
    return rc;
}
