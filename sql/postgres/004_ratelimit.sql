-- Rate limits (as sql/sqlite/004_ratelimit.sql): a tenant's own limits, replacing the built-in
-- defaults for the endpoints it names. The counters are not here: they live in the process or
-- in Redis.
CREATE TABLE ratelimit_limits (
    tenant_id   text COLLATE "C" NOT NULL,
    endpoint    text COLLATE "C" NOT NULL,      -- "resource:action", e.g. "memory:create"
    max_calls   bigint NOT NULL CHECK (max_calls > 0),
    window_ms   bigint NOT NULL CHECK (window_ms > 0),
    updated_at  bigint NOT NULL,
    PRIMARY KEY (tenant_id, endpoint)
) PARTITION BY HASH (tenant_id);
SELECT mn_make_partitions('ratelimit_limits');
