-- The public change feed (mn_feed_read) reads the same rows and tombstones as a vector index,
-- and reports each change by memory id, owner, type, session and version, so a tombstone keeps
-- those of the memory it stands for (nothing of its content), and a row says whether its last
-- change was a restore (a live row's other kinds follow from its version).
--
-- A key SQLite hands out again after a delete must not replace the tombstone of the memory
-- that had it before (a consumer behind both deletes would miss the first): tombstones are
-- one per (tenant, key, memory). Those written before this migration have no memory id ('')
-- and the public feed skips them: their memories were gone before any consumer could follow.
DROP TRIGGER memories_tombstone;
CREATE TABLE memory_tombstones_new (
    tenant_id   TEXT NOT NULL,
    key         INTEGER NOT NULL,
    memory_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    identity_id TEXT,
    type        TEXT,
    session     TEXT,
    version     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, key, memory_id)
) WITHOUT ROWID;
INSERT INTO memory_tombstones_new (tenant_id, key, memory_id, seq)
    SELECT tenant_id, key, '', seq FROM memory_tombstones;
DROP TABLE memory_tombstones;
ALTER TABLE memory_tombstones_new RENAME TO memory_tombstones;
CREATE INDEX memory_tombstones_by_seq ON memory_tombstones (tenant_id, seq);

CREATE TRIGGER memories_tombstone AFTER DELETE ON memories BEGIN
    INSERT OR REPLACE INTO memory_tombstones (tenant_id, key, memory_id, seq, identity_id, type,
                                              session, version)
    VALUES (old.tenant_id, old.key, old.id, (SELECT value FROM meta WHERE key = 'seq'),
            old.identity_id, old.type, old.session, old.version);
END;

ALTER TABLE memories ADD COLUMN restored INTEGER NOT NULL DEFAULT 0;
