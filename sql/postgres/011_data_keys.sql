-- Encryption at rest (as sql/sqlite/009_data_keys.sql): each tenant's data keys, wrapped by
-- the master key, which is never stored. Not partitioned: a small table, read by tenant.
CREATE TABLE data_keys (
    tenant_id  text COLLATE "C" NOT NULL,
    version    bigint NOT NULL,
    wrapped    text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, version)
);
