-- API keys (as sql/sqlite/007_apikeys.sql): only the keyed hash of each key is kept. Not
-- partitioned by tenant: a key is looked up by its public id alone, before its tenant is known.
CREATE TABLE apikeys (
    id           text COLLATE "C" PRIMARY KEY,
    tenant_id    text COLLATE "C" NOT NULL,
    identity_id  text COLLATE "C" NOT NULL,
    hash         text NOT NULL,
    scopes       text,
    created_at   bigint NOT NULL,
    expires_at   bigint NOT NULL,               -- 0 = never
    last_used_at bigint NOT NULL DEFAULT 0
);
CREATE INDEX apikeys_by_identity ON apikeys (tenant_id, identity_id);
