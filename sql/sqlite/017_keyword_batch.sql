-- Keyword index of added memories, a batch at a time (sqlite/memory.c, sq_memory_insert).
-- With the insert trigger of 012_keywords.sql every INSERT INTO memories was a statement that
-- wrote two tables, so SQLite opened a statement savepoint for it, and FTS5 flushes its
-- pending words into a new segment at every savepoint: each added row became a segment of its
-- own, merged again and again as the index grew (84 s for 100,000 memories). The writer now
-- indexes a write's new rows with one INSERT ... SELECT after them, in the same transaction:
-- one flush per write. Updates and deletes keep their triggers (they are not the hot path).
DROP TRIGGER memory_fts_insert;
