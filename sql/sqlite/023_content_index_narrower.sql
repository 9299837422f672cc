-- The content index (022_content_index_narrow.sql) without the owner's whole id: each new
-- memory enters it at a random place (its hash's order), so a batch of adds rewrites nearly
-- every page of it into the WAL once the index has a few hundred pages (at 100,000 memories,
-- deduplication off, an add cost 45 us of CPU with it and 34 without it). Its entries took about
-- 60 bytes, 36 of them the owner's id; the hash's first 16 hex digits and the owner id's last
-- 8 characters (random bits of a UUIDv7) take about 30, so half as many pages. The lookup
-- (lib/store/sqlite/sql.c, CONTENT_TWIN) still searches by both, so a text that many owners
-- share is no long walk; the whole owner id, like the tenant, type and whole hash, is
-- checked on the few rows the index names.
DROP INDEX memories_by_content;
CREATE INDEX memories_by_content ON memories (substr(content_hash, 1, 16),
                                              substr(identity_id, -8));
