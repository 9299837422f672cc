-- Vectors wider than pgvector can index (vector=pgvector only). pgvector's HNSW takes vector
-- columns of at most 2000 dimensions, halfvec (16-bit floats) of at most 4000. The column
-- stays vector(dim), so stored embeddings keep their full precision; a database of more than
-- 2000 dimensions indexes the column cast to halfvec(dim) instead (an expression index: no
-- second copy in the table). The candidates the index finds are then scored and ranked by the
-- full-precision distance (postgres/search.c).
--
-- A search names the indexed expression through mn_search_key, which PostgreSQL inlines
-- before it matches indexes: the identity at up to 2000 dimensions, the cast beyond. So one
-- search statement serves both without the dimension in its text.
DO $$
DECLARE
    dim int := (SELECT atttypmod FROM pg_attribute
                WHERE attrelid = 'memories'::regclass AND attname = 'embedding');
BEGIN
    IF (SELECT value FROM meta WHERE key = 'vector') <> 'pgvector' THEN
        RETURN;
    END IF;
    IF dim <= 2000 THEN
        CREATE FUNCTION mn_search_key(v vector) RETURNS vector
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT v';
        RETURN;
    END IF;
    IF to_regtype('halfvec') IS NULL THEN
        RAISE EXCEPTION 'vectors of % dimensions need pgvector''s halfvec type to be indexed '
                        '(pgvector 0.7 or later); upgrade pgvector, or use vector=local', dim;
    END IF;
    EXECUTE format('CREATE FUNCTION mn_search_key(v vector) RETURNS halfvec '
                   'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
                   format('SELECT v::halfvec(%s)', dim));
    EXECUTE format('CREATE INDEX memories_hnsw ON memories USING hnsw '
                   '((embedding::halfvec(%s)) halfvec_cosine_ops) '
                   'WITH (m = 16, ef_construction = 64)', dim);
END $$;
