-- An add looks for its content twin (lib/store/sqlite/sql.c, SQ_MEMORY_FIND_CONTENT) by this
-- index, and every new memory enters it at a random place (the order of its hash): a batch of
-- 1000 rewrote most of the index's pages, in the WAL at every commit. 011_dedup.sql's entries
-- (tenant, owner, type, 64 hex digits of hash) took 143 bytes a memory; the owner and the
-- hash's first 16 hex digits (64 bits) take 58 and find the same rows: the rest (tenant, type,
-- whole hash) is checked on the few rows they name. The owner stays in the key so that a text
-- many owners share (its hash is the same for all of them) is not a long walk for each.
DROP INDEX memories_by_content;
CREATE INDEX memories_by_content ON memories (identity_id, substr(content_hash, 1, 16));
