-- The audit log (lib/store/op_audit.c): one entry per change (and per denial), written in the
-- change's own transaction. Entries chain per tenant: hash is BLAKE2b over the entry's fields
-- and prev_hash, so an edited, deleted or reordered entry breaks the chain (mn_audit_verify).
-- Entries outlive the tenant they name: erasure keeps the fact that it happened.
CREATE TABLE audit_log (
    tenant_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL,           -- 1, 2, ... per tenant
    at          INTEGER NOT NULL,           -- ms since the epoch
    identity_id TEXT,                       -- NULL: the tenant's system actor
    apikey_id   TEXT,                       -- the key the call was made by, if any
    action      TEXT NOT NULL,              -- "memory:create", ...
    resources   TEXT NOT NULL,              -- JSON array of ids
    outcome     TEXT NOT NULL,              -- "ok" or "denied"
    policy_id   TEXT,                       -- the deciding policy, if any
    context     TEXT,                       -- the actor's context JSON
    prev_hash   TEXT NOT NULL,              -- hex; '' before the first entry
    hash        TEXT NOT NULL,              -- hex
    PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;
-- No head table (PostgreSQL has one): a write holds SQLite's one write lock, so the head of a
-- tenant's chain is its last entry, read through the primary key (tenant_id, seq) in the
-- appending transaction.
-- Retention (mn_audit_prune) removes a chain's oldest entries and keeps the last one removed
-- as its checkpoint: verifying starts from its hash, and appending does when no entry is left.
CREATE TABLE audit_checkpoints (
    tenant_id   TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,           -- the last entry removed
    hash        TEXT NOT NULL               -- its hash
) WITHOUT ROWID;
