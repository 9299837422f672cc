-- The change feed a vector index follows (as sql/sqlite/003_index_feed.sql). Every change to a
-- memory stamps the row with the store-wide seq; a hard delete removes the row, so it leaves a
-- tombstone with the seq of the deleting transaction. An index that has applied every change
-- up to seq S catches up by reading its tenant's rows and tombstones with seq > S.
CREATE INDEX memories_by_seq ON memories (tenant_id, seq);

CREATE TABLE memory_tombstones (
    tenant_id text COLLATE "C" NOT NULL,
    key       bigint NOT NULL,
    seq       bigint NOT NULL,
    PRIMARY KEY (tenant_id, key)
) PARTITION BY HASH (tenant_id);
CREATE INDEX memory_tombstones_by_seq ON memory_tombstones (tenant_id, seq);
SELECT mn_make_partitions('memory_tombstones');

-- Written by the deleting statement itself, so that every way of removing rows (delete, purge,
-- an identity's cascade, hand-written SQL) leaves one; change_seq holds the seq that the
-- transaction reserved before deleting. search_path is fixed to the schema the function was
-- made in, so that it finds the tables whatever the session's path.
CREATE FUNCTION mn_tombstone() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO memory_tombstones (tenant_id, key, seq)
    VALUES (OLD.tenant_id, OLD.key, (SELECT value FROM change_seq))
    ON CONFLICT (tenant_id, key) DO UPDATE SET seq = EXCLUDED.seq;
    RETURN NULL;
END $$;
CREATE TRIGGER memories_tombstone AFTER DELETE ON memories
    FOR EACH ROW EXECUTE FUNCTION mn_tombstone();
