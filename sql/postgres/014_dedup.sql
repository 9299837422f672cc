-- Deduplication and upsert (as sql/sqlite/012_dedup.sql): the hash of the normalised text,
-- NULL until the library hashes a row written before this migration, and the caller's key of
-- a memory, unique per identity. The indexes, made on the parent, exist on every partition.
ALTER TABLE memories ADD COLUMN content_hash text COLLATE "C";
ALTER TABLE memories ADD COLUMN external_key text COLLATE "C";
CREATE INDEX memories_by_content ON memories (tenant_id, identity_id, type, content_hash);
CREATE INDEX memories_unhashed ON memories (tenant_id) WHERE content_hash IS NULL;
CREATE UNIQUE INDEX memories_by_external_key ON memories (tenant_id, identity_id, external_key)
    WHERE external_key IS NOT NULL;
