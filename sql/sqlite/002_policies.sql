-- Policies: per-tenant access rules. policy_gen counts every change to a tenant's
-- policies, so caches of compiled policies and decisions know at once when they are stale.
ALTER TABLE tenants ADD COLUMN policy_gen INTEGER NOT NULL DEFAULT 0;

CREATE TABLE policies (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    role        TEXT NOT NULL,
    rule        TEXT NOT NULL,     -- JSON object, see libmanushya(3) POLICIES
    priority    INTEGER NOT NULL,  -- higher is consulted first
    active      INTEGER NOT NULL,
    description TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX policies_by_tenant ON policies (tenant_id, priority DESC, id);
