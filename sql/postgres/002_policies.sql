-- Policies: per-tenant access rules (as sql/sqlite/002_policies.sql). policy_gen counts every
-- change to a tenant's policies, so caches of compiled policies and decisions know at once
-- when they are stale.
ALTER TABLE tenants ADD COLUMN policy_gen bigint NOT NULL DEFAULT 0;

CREATE TABLE policies (
    tenant_id   text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    role        text NOT NULL,
    rule        text NOT NULL,     -- JSON object, see libmanushya(3) POLICIES
    priority    int NOT NULL,      -- higher is consulted first
    active      int NOT NULL,
    description text NOT NULL,
    created_at  bigint NOT NULL,
    updated_at  bigint NOT NULL,
    PRIMARY KEY (tenant_id, id)
) PARTITION BY HASH (tenant_id);
CREATE INDEX policies_by_tenant ON policies (tenant_id, priority DESC, id);
SELECT mn_make_partitions('policies');
