-- The keyword ranking's bound (lib/store/sqlite/keyword.c, store/keywords.h) counts each word's
-- memories with a MATCH of the word that stops past the bound: cheaper than the term records
-- of 018_keyword_docs.sql, which FTS5 walks whole (a word's every entry, in every segment).
-- Nothing reads them any more.
DROP TABLE memory_fts_docs;
