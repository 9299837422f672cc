-- Scheduled maintenance (as sql/sqlite/010_maintenance.sql): one row per task, its lease and
-- its last run's outcome. Not partitioned: a handful of rows of no tenant.
CREATE TABLE maintenance (
    task        text COLLATE "C" PRIMARY KEY,
    holder      text,
    lease_until bigint NOT NULL DEFAULT 0,
    last_run_at bigint NOT NULL DEFAULT 0,
    last_ok_at  bigint,
    last_items  bigint,
    last_ms     bigint,
    last_error  text
);
