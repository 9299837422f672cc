-- Encryption at rest (lib/store/vault.c): each tenant's data keys, wrapped (sealed) by the
-- master key, which is never stored. A tenant's newest version seals new values; older ones
-- stay until a re-key has sealed everything again. Erasing a tenant deletes its keys: every
-- copy of its sealed values, backups included, can then no longer be opened.
CREATE TABLE data_keys (
    tenant_id  TEXT NOT NULL,           -- '' for values of no tenant (the embedding cache's)
    version    INTEGER NOT NULL,        -- 1, 2, ... as the tenant's key rotates
    wrapped    TEXT NOT NULL,           -- the key sealed by the master key
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, version)
) WITHOUT ROWID;
