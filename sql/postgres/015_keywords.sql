-- Keyword search (lib/store/postgres/keyword.c): a tsvector of every memory, computed by the
-- server in the writer's own statement, with a GIN index on each partition (an index on the
-- parent makes one on each). Existing rows are computed by the ALTER.
-- words: NULL in a plain database (the text's words are indexed: runs of letters and digits,
-- as lib/core/words.c splits a query); in an encrypted one the blind index of the text
-- (store/keywords.c: keyed hashes of its words), the only words the index then ever sees.
ALTER TABLE memories ADD COLUMN words text;
ALTER TABLE memories ADD COLUMN fts tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig,
                coalesce(words, regexp_replace(text, '[^[:alnum:]]+', ' ', 'g')))) STORED;
CREATE INDEX memories_fts ON memories USING gin (fts);
