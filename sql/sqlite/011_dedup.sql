-- Deduplication and upsert (lib/api/memory_put.c). content_hash: BLAKE2b-256 (hex) of the
-- memory's normalised text (lib/core/normalise.c), keyed in an encrypted database so that it
-- tells nothing beyond equality (store/vault.h); NULL for rows written before this migration,
-- which the library hashes when it opens the database (store/op_dedup.c). external_key: the
-- caller's name of the memory, unique per identity, NULL for none.
ALTER TABLE memories ADD COLUMN content_hash TEXT;
ALTER TABLE memories ADD COLUMN external_key TEXT;
CREATE INDEX memories_by_content ON memories (tenant_id, identity_id, type, content_hash);
CREATE INDEX memories_unhashed ON memories (tenant_id) WHERE content_hash IS NULL;
CREATE UNIQUE INDEX memories_by_external_key ON memories (tenant_id, identity_id, external_key)
    WHERE external_key IS NOT NULL;
