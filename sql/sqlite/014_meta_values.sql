-- meta.value without type affinity. 001 declared it "ANY", which outside a STRICT table is
-- NUMERIC affinity: a text that looks like a number was stored as one, so an index token such as
-- "3226e28582699434" came back as "Inf" and the saved index no longer matched its database.
-- Rebuilt under the same name (no ALTER TABLE RENAME, which would re-check the triggers that
-- read meta.seq against a table that is gone for a moment); the values keep their storage
-- class: the counters stay integers, what was text stays text.
CREATE TABLE meta_before_014 AS SELECT key, value FROM meta;
DROP TABLE meta;
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value
) WITHOUT ROWID;
INSERT INTO meta (key, value) SELECT key, value FROM meta_before_014;
DROP TABLE meta_before_014;
