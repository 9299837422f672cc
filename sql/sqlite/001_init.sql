-- libmanushya SQLite schema, version 1.
-- Times are milliseconds since the Unix epoch (UTC). Ids are UUIDv7 text, so ordering by id is
-- ordering by creation time. Every row carries tenant_id; every query names it.

-- Database-wide settings: embed_dim, embedder, seq (the store-wide change counter).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value ANY
) WITHOUT ROWID;

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE identities (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    external_id TEXT NOT NULL,
    role        TEXT NOT NULL,
    claims      TEXT NOT NULL,
    active      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, external_id)
) WITHOUT ROWID;

-- key is the rowid: a compact integer label for vector indexes.
-- embedding: dim little-endian float32, L2-normalised.
CREATE TABLE memories (
    key         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    tenant_id   TEXT NOT NULL,
    identity_id TEXT NOT NULL,
    text        TEXT NOT NULL,
    type        TEXT NOT NULL,
    metadata    TEXT NOT NULL,
    importance  REAL NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,   -- 0 = never
    deleted     INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    embedding   BLOB
);
CREATE INDEX memories_by_tenant ON memories (tenant_id, id);
CREATE INDEX memories_by_identity ON memories (tenant_id, identity_id, id);
CREATE INDEX memories_by_seq ON memories (seq);

CREATE TABLE memory_history (
    key        INTEGER PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    memory_id  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    changed_at INTEGER NOT NULL,
    changed_by TEXT,
    before     TEXT NOT NULL,
    after      TEXT NOT NULL
);
CREATE INDEX memory_history_by_memory ON memory_history (tenant_id, memory_id, version);

INSERT INTO meta (key, value) VALUES ('seq', 0);
