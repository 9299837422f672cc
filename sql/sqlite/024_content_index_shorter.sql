-- The content index (023_content_index_narrower.sql) with shorter keys: the hash's first 8 hex
-- digits (32 bits) and the owner id's last 4 characters instead of 16 and 8. Its entries go in
-- at random places (the hash's order), so every batch of adds rewrites nearly every page of it
-- into the WAL, a cost that grows with the database (at 100,000 memories, about a quarter of
-- an add's CPU); an entry took about 34 bytes, 24 of them the key, and now takes about 22, so
-- about a third fewer pages. The key only narrows the search: the whole hash, owner, tenant and
-- type are checked on the rows it names (lib/store/sqlite/sql.c, CONTENT_TWIN). 32 bits keep
-- such false leads rare (an owner with 100 million memories: one lookup in 40 reads a row it
-- did not need), and the owner's 4 characters (random bits of its UUIDv7) still part the
-- owners of a text that many share.
DROP INDEX memories_by_content;
CREATE INDEX memories_by_content ON memories (substr(content_hash, 1, 8),
                                              substr(identity_id, -4));
