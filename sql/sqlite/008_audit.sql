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
-- The head of each tenant's chain: the last entry's seq and hash, read and advanced in the
-- appending transaction, and the seq up to which retention pruned the chain.
CREATE TABLE audit_heads (
    tenant_id   TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    hash        TEXT NOT NULL,
    pruned      INTEGER NOT NULL
) WITHOUT ROWID;
