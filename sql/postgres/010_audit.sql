-- The audit log (as sql/sqlite/008_audit.sql): entries chained per tenant by hash. The head
-- row of a tenant is locked by the appending transaction (an upsert), so that two processes
-- never append the same seq.
CREATE TABLE audit_log (
    tenant_id   text COLLATE "C" NOT NULL,
    seq         bigint NOT NULL,
    at          bigint NOT NULL,
    identity_id text COLLATE "C",
    apikey_id   text COLLATE "C",
    action      text COLLATE "C" NOT NULL,
    resources   text NOT NULL,
    outcome     text NOT NULL,
    policy_id   text COLLATE "C",
    context     text,
    prev_hash   text NOT NULL,
    hash        text NOT NULL,
    PRIMARY KEY (tenant_id, seq)
) PARTITION BY HASH (tenant_id);
SELECT mn_make_partitions('audit_log');
CREATE TABLE audit_heads (
    tenant_id   text COLLATE "C" PRIMARY KEY,
    seq         bigint NOT NULL,
    hash        text NOT NULL,
    pruned      bigint NOT NULL,           -- retention's checkpoint: the last entry removed
    pruned_hash text NOT NULL              -- and its hash ('' when none was)
) PARTITION BY HASH (tenant_id);
SELECT mn_make_partitions('audit_heads');
