-- The embedding cache (as sql/sqlite/005_embed_cache.sql): vectors a remote embedder made,
-- content-addressed, so that the same text is never sent to the model twice. Scoped by tenant
-- (scope is the tenant id, '' for calls made for no tenant), and partitioned by it. Vectors are
-- dim float32 in native byte order. Rows are only ever added.
CREATE TABLE embed_cache (
    scope      text COLLATE "C" NOT NULL,
    model      text COLLATE "C" NOT NULL,
    dim        int NOT NULL,
    hash       bytea NOT NULL,   -- SHA-256 of the text's bytes
    vector     bytea NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (scope, model, dim, hash)
) PARTITION BY HASH (scope);
SELECT mn_make_partitions('embed_cache');
