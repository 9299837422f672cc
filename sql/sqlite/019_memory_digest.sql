-- A digest of each tenant's (key, seq) pairs, kept current by the writing statement itself, so
-- that a vector index saved at seq S can be checked against the store without reading every
-- row (index/vindex.c): the file's pairs, less those the feed shows changed since S, plus the
-- feed's current rows, must give the same count and sum. A mismatch only sends the check back
-- to reading every row, so the digest needs no stronger guarantee than that.
--
-- A pair's term, in [0, 2^31 - 1): x^2 mod p, x = (key * 48271 + seq * 16807 + 1) mod p,
-- p = 2^31 - 1, computed without overflow in 64-bit integers (SQLite turns an overflowing
-- integer product into a float). The same function is mni_digest_term (store/store.h).
ALTER TABLE memories ADD COLUMN digest INTEGER GENERATED ALWAYS AS (
    (((key % 2147483647) * 48271 + (seq % 2147483647) * 16807 + 1) % 2147483647) *
    (((key % 2147483647) * 48271 + (seq % 2147483647) * 16807 + 1) % 2147483647) % 2147483647
) VIRTUAL;

-- n: the tenant's rows; sum: their terms, mod p.
CREATE TABLE memory_digest (
    tenant_id TEXT PRIMARY KEY,
    n         INTEGER NOT NULL,
    sum       INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO memory_digest (tenant_id, n, sum)
    SELECT tenant_id, count(*), sum(digest) % 2147483647 FROM memories GROUP BY tenant_id;

-- Adds are summed by the writer, one statement per write (SQ_MEMORY_DIGEST_ADD in
-- store/sqlite/sql.c, beside the keyword index's, 017): a trigger on insert would give every
-- row a statement journal of its own, which cost ingest seven times its CPU.
CREATE TRIGGER memories_digest_delete AFTER DELETE ON memories BEGIN
    UPDATE memory_digest SET n = n - 1, sum = (sum - old.digest + 2147483647) % 2147483647
    WHERE tenant_id = old.tenant_id;
END;
-- A row that changes tenant (no code does; hand-written SQL might) moves between digests.
CREATE TRIGGER memories_digest_update AFTER UPDATE OF key, seq, tenant_id ON memories
WHEN old.digest IS NOT new.digest OR old.tenant_id IS NOT new.tenant_id BEGIN
    UPDATE memory_digest SET n = n - 1, sum = (sum - old.digest + 2147483647) % 2147483647
    WHERE tenant_id = old.tenant_id;
    INSERT INTO memory_digest (tenant_id, n, sum) VALUES (new.tenant_id, 1, new.digest)
    ON CONFLICT (tenant_id) DO UPDATE SET n = n + 1, sum = (sum + excluded.sum) % 2147483647;
END;
