-- The keyword ranking's bound (lib/store/sqlite/keyword.c, store/keywords.h): how many memories
-- hold each word of a query, read from the FTS5 index's own term records (a walk of the word's
-- entries, some 30 ns each: 1.3 ms for a word in 39,067 rows, far less than ranking them), so
-- that a ranking looks for the query's rarest words and reads a bounded number of
-- candidates. The counts are store-wide (every tenant's rows, deleted ones
-- until purged): an estimate of the work a word costs, not of one tenant's matches.
CREATE VIRTUAL TABLE memory_fts_docs USING fts5vocab(memory_fts, 'row');
