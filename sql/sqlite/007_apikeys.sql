-- API keys (lib/api/apikey*.c). A key is mk_<id>_<secret>; the store keeps only the keyed
-- BLAKE2b hash of the whole key (hex), under a per-database secret (meta 'apikey_secret'), so
-- that a copy of the database yields no key. id is the public part, by which a key is found
-- whatever its tenant. scopes: a JSON array of "resource:action", NULL for all its identity's
-- policies allow. last_used_at is written at most once a minute per key (0: never used).
CREATE TABLE apikeys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    identity_id  TEXT NOT NULL,
    hash         TEXT NOT NULL,
    scopes       TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,          -- 0 = never
    last_used_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX apikeys_by_identity ON apikeys (tenant_id, identity_id);
