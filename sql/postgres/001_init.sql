-- libmanushya PostgreSQL schema, version 1: the data model of sql/sqlite/001_init.sql.
-- Times are milliseconds since the Unix epoch (UTC). Ids are UUIDv7 text in the "C" collation,
-- so that ordering by id is ordering by creation time whatever the server's locale.
--
-- Tables holding a tenant's rows are partitioned by HASH (tenant_id); every primary key and
-- index starts with tenant_id, so a tenant's rows sit in one partition and the schema also
-- distributes on Citus (tenants and meta are the small reference tables).
--
-- The migration runner (lib/store/pg_schema.c) sets, for its transaction only:
--   manushya.partitions  the number of hash partitions of a new database
--   manushya.vector      'local' (vectors as bytea, searched by libmanushya's own index)
--                        or 'pgvector' (vector(dim), searched by the server)
--   manushya.dim         the embedding dimension

CREATE TABLE meta (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO meta (key, value) VALUES
    ('partitions', current_setting('manushya.partitions')),
    ('vector', current_setting('manushya.vector'));

-- The store-wide change counter (one row). Writers that change memories take it with
-- UPDATE ... RETURNING, which also orders their commits (see pg_exec.c).
CREATE TABLE change_seq (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    value bigint NOT NULL
);
INSERT INTO change_seq (value) VALUES (0);

-- Makes the hash partitions of a partitioned table, as many as meta says.
CREATE FUNCTION mn_make_partitions(parent text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    n int := (SELECT value::int FROM meta WHERE key = 'partitions');
BEGIN
    FOR i IN 0 .. n - 1 LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                       parent || '_p' || i, parent, n, i);
    END LOOP;
END $$;

CREATE TABLE tenants (
    id         text COLLATE "C" PRIMARY KEY,
    name       text COLLATE "C" NOT NULL UNIQUE,
    created_at bigint NOT NULL
);

CREATE TABLE identities (
    tenant_id   text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    external_id text COLLATE "C" NOT NULL,
    role        text NOT NULL,
    claims      text NOT NULL,
    active      int NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, external_id)
) PARTITION BY HASH (tenant_id);
SELECT mn_make_partitions('identities');

-- key: a compact integer label for vector indexes, never reused.
CREATE SEQUENCE memory_keys;
CREATE TABLE memories (
    tenant_id   text COLLATE "C" NOT NULL,
    key         bigint NOT NULL DEFAULT nextval('memory_keys'),
    id          text COLLATE "C" NOT NULL,
    identity_id text COLLATE "C" NOT NULL,
    text        text NOT NULL,
    type        text COLLATE "C" NOT NULL,
    metadata    text NOT NULL,
    importance  double precision NOT NULL,
    version     bigint NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    expires_at  bigint NOT NULL,   -- 0 = never
    deleted     int NOT NULL,
    seq         bigint NOT NULL,
    PRIMARY KEY (tenant_id, key),
    UNIQUE (tenant_id, id)
) PARTITION BY HASH (tenant_id);
CREATE INDEX memories_by_identity ON memories (tenant_id, identity_id, id);
SELECT mn_make_partitions('memories');

-- The embedding: unit vectors of the database's dimension.
DO $$
BEGIN
    IF current_setting('manushya.vector') = 'pgvector' THEN
        EXECUTE format('ALTER TABLE memories ADD COLUMN embedding vector(%s)',
                       current_setting('manushya.dim')::int);
        -- One HNSW graph per partition (an index on the parent makes one on each), with the
        -- performance guide's parameters; ef_search is a per-query setting, not an option here.
        -- pgvector indexes vector columns of up to 2000 dimensions: wider ones are indexed as
        -- halfvec by 013_wide_vectors.sql.
        IF current_setting('manushya.dim')::int <= 2000 THEN
            CREATE INDEX memories_hnsw ON memories USING hnsw (embedding vector_cosine_ops)
                WITH (m = 16, ef_construction = 64);
        END IF;
    ELSE
        ALTER TABLE memories ADD COLUMN embedding bytea;   -- dim native-order float32
    END IF;
END $$;

CREATE SEQUENCE memory_history_keys;
CREATE TABLE memory_history (
    tenant_id  text COLLATE "C" NOT NULL,
    key        bigint NOT NULL DEFAULT nextval('memory_history_keys'),
    memory_id  text COLLATE "C" NOT NULL,
    version    bigint NOT NULL,
    changed_at bigint NOT NULL,
    changed_by text,
    before     text NOT NULL,
    after      text NOT NULL,
    PRIMARY KEY (tenant_id, key)
) PARTITION BY HASH (tenant_id);
CREATE INDEX memory_history_by_memory ON memory_history (tenant_id, memory_id, version);
SELECT mn_make_partitions('memory_history');
