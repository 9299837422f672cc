-- The public change feed (as sql/sqlite/015_public_feed.sql): a tombstone keeps the memory id,
-- owner, type, session and last version of the memory it stands for (nothing of its content),
-- and a row says whether its last change was a restore. Keys are never reused here, so a
-- tombstone stays one per (tenant, key). Tombstones written before this migration have no
-- memory id and the public feed skips them.
ALTER TABLE memory_tombstones ADD COLUMN memory_id text COLLATE "C";
ALTER TABLE memory_tombstones ADD COLUMN identity_id text COLLATE "C";
ALTER TABLE memory_tombstones ADD COLUMN type text COLLATE "C";
ALTER TABLE memory_tombstones ADD COLUMN session text;
ALTER TABLE memory_tombstones ADD COLUMN version bigint NOT NULL DEFAULT 0;
ALTER TABLE memories ADD COLUMN restored boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION mn_tombstone() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO memory_tombstones (tenant_id, key, seq, memory_id, identity_id, type, session,
                                   version)
    VALUES (OLD.tenant_id, OLD.key, (SELECT value FROM change_seq), OLD.id, OLD.identity_id,
            OLD.type, OLD.session, OLD.version)
    ON CONFLICT (tenant_id, key) DO UPDATE SET seq = EXCLUDED.seq,
        memory_id = EXCLUDED.memory_id, identity_id = EXCLUDED.identity_id,
        type = EXCLUDED.type, session = EXCLUDED.session, version = EXCLUDED.version;
    RETURN NULL;
END $$;
