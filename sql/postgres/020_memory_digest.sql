-- A digest of each tenant's (key, seq) pairs, kept current by the writing statement itself (as
-- sql/sqlite/019_memory_digest.sql), so that a vector index saved at seq S (vector=local with
-- index_dir=) is checked against the store without reading every row (index/vindex.c). A
-- mismatch only sends the check back to reading every row.
--
-- A pair's term, in [0, 2^31 - 1): x^2 mod p, x = (key * 48271 + seq * 16807 + 1) mod p,
-- p = 2^31 - 1, without overflow in bigint. The same function is mni_digest_term
-- (lib/store/store.h).
CREATE FUNCTION mn_digest_term(key bigint, seq bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((key % 2147483647) * 48271 + (seq % 2147483647) * 16807 + 1) % 2147483647 *
           (((key % 2147483647) * 48271 + (seq % 2147483647) * 16807 + 1) % 2147483647)
           % 2147483647
$$;

-- n: the tenant's rows; sum: their terms, mod p. Writers already take change_seq's one row
-- in turn, so this table's rows add no contention.
CREATE TABLE memory_digest (
    tenant_id text COLLATE "C" PRIMARY KEY,
    n         bigint NOT NULL,
    sum       bigint NOT NULL
);
INSERT INTO memory_digest (tenant_id, n, sum)
    SELECT tenant_id, count(*), sum(mn_digest_term(key, seq)) % 2147483647
    FROM memories GROUP BY tenant_id;

-- Per statement, from its transition tables: a batch of a thousand inserts is one upsert per
-- tenant, not a thousand. The rows going (old) count negatively, those coming (new) positively.
CREATE FUNCTION mn_digest() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO memory_digest (tenant_id, n, sum)
        SELECT tenant_id, count(*), sum(mn_digest_term(key, seq)) % 2147483647
        FROM new_rows GROUP BY tenant_id
        ON CONFLICT (tenant_id) DO UPDATE
        SET n = memory_digest.n + EXCLUDED.n,
            sum = (memory_digest.sum + EXCLUDED.sum) % 2147483647;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE memory_digest d SET n = d.n - o.n, sum = ((d.sum - o.sum) % 2147483647
                                                         + 2147483647) % 2147483647
        FROM (SELECT tenant_id, count(*) AS n, sum(mn_digest_term(key, seq)) % 2147483647 AS sum
              FROM old_rows GROUP BY tenant_id) o
        WHERE d.tenant_id = o.tenant_id;
    ELSE
        INSERT INTO memory_digest AS d (tenant_id, n, sum)
        SELECT tenant_id, sum(n), ((sum(t) % 2147483647) + 2147483647) % 2147483647
        FROM (SELECT tenant_id, 1 AS n, mn_digest_term(key, seq) AS t FROM new_rows
              UNION ALL
              SELECT tenant_id, -1, -mn_digest_term(key, seq) FROM old_rows) c
        GROUP BY tenant_id
        ON CONFLICT (tenant_id) DO UPDATE
        SET n = d.n + EXCLUDED.n, sum = (d.sum + EXCLUDED.sum) % 2147483647;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER memories_digest_insert AFTER INSERT ON memories
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mn_digest();
CREATE TRIGGER memories_digest_delete AFTER DELETE ON memories
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION mn_digest();
CREATE TRIGGER memories_digest_update AFTER UPDATE ON memories
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION mn_digest();
