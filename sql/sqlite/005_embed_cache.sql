-- The embedding cache: vectors a remote embedder made, content-addressed, so that
-- the same text is never sent to the model twice. Scoped by tenant so that a tenant cannot
-- learn, from how fast its call returns, which texts another tenant embedded; '' is the scope
-- of calls made for no tenant (mn_embed). Vectors are dim floats in native byte order, as in
-- memories.embedding. Rows are never changed, only added (INSERT OR IGNORE).
CREATE TABLE embed_cache (
    scope      TEXT NOT NULL,
    model      TEXT NOT NULL,
    dim        INTEGER NOT NULL,
    hash       BLOB NOT NULL,   -- SHA-256 of the text's bytes
    vector     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, model, dim, hash)
) WITHOUT ROWID;
