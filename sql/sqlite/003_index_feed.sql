-- The change feed a vector index follows. Every change to a memory already stamps the
-- row with the store-wide seq; a hard delete removes the row, so it leaves a tombstone with the
-- seq of the deleting transaction. An index that has applied every change up to seq S catches
-- up by reading the rows and tombstones of its tenant with seq > S, in seq order.

-- A hard-deleted memory: its key and the seq of the delete, nothing of its content. One row per
-- (tenant, key): a key SQLite hands out again after a delete replaces the older tombstone.
CREATE TABLE memory_tombstones (
    tenant_id TEXT NOT NULL,
    key       INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) WITHOUT ROWID;
CREATE INDEX memory_tombstones_by_seq ON memory_tombstones (tenant_id, seq);

-- Written by the deleting statement itself, so that every way of removing rows (delete, purge,
-- an identity's cascade, even hand-written SQL) leaves one; meta.seq is the seq that the
-- transaction reserved before deleting.
CREATE TRIGGER memories_tombstone AFTER DELETE ON memories BEGIN
    INSERT OR REPLACE INTO memory_tombstones (tenant_id, key, seq)
    VALUES (old.tenant_id, old.key, (SELECT value FROM meta WHERE key = 'seq'));
END;

-- The feed is read per tenant: (tenant_id, seq) serves it, and replaces the store-wide index.
CREATE INDEX memories_by_tenant_seq ON memories (tenant_id, seq);
DROP INDEX memories_by_seq;
