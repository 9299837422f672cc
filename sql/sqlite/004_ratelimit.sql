-- Rate limits: a tenant's own limits, replacing the built-in defaults for the
-- endpoints it names. Every process reads them again at most mn_config.ratelimit_refresh_ms
-- (default 1 s) after they change. The counters themselves are not here: they live in the
-- process (in-process limiter) or in Redis.
CREATE TABLE ratelimit_limits (
    tenant_id   TEXT NOT NULL,
    endpoint    TEXT NOT NULL,              -- "resource:action", e.g. "memory:create"
    max_calls   INTEGER NOT NULL CHECK (max_calls > 0),
    window_ms   INTEGER NOT NULL CHECK (window_ms > 0),
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, endpoint)
) WITHOUT ROWID;
