-- Keyword search (lib/store/sqlite/keyword.c): an FTS5 index of every memory, keyed by the
-- memory's key, that triggers keep in step with every write in the writer's transaction.
-- External content: the index keeps no copy of the text, only its words' postings.
-- words: NULL in a plain database (the text itself is indexed); in an encrypted one the blind
-- index of the text (store/keywords.c: keyed hashes of its words), the only words the index
-- then ever sees.
ALTER TABLE memories ADD COLUMN words TEXT;
CREATE VIEW memory_words AS SELECT key, coalesce(words, text) AS words FROM memories;
CREATE VIRTUAL TABLE memory_fts USING fts5(words, content = 'memory_words',
                                           content_rowid = 'key', tokenize = 'unicode61');
CREATE TRIGGER memory_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memory_fts (rowid, words) VALUES (new.key, coalesce(new.words, new.text));
END;
CREATE TRIGGER memory_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, words)
        VALUES ('delete', old.key, coalesce(old.words, old.text));
END;
CREATE TRIGGER memory_fts_update AFTER UPDATE OF text, words ON memories BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, words)
        VALUES ('delete', old.key, coalesce(old.words, old.text));
    INSERT INTO memory_fts (rowid, words) VALUES (new.key, coalesce(new.words, new.text));
END;
-- The memories written before this migration.
INSERT INTO memory_fts (memory_fts) VALUES ('rebuild');
