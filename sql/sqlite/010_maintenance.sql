-- Scheduled maintenance (lib/api/maintenance.c, lib/store/op_maintenance.c): one row per
-- task, shared by every process on the database. A process runs a task only after taking its
-- lease (one conditional upsert: the lease has run out and the task is due), so that of
-- several workers one runs it and the others skip; the run's outcome is kept for operators.
-- Holds no tenant's rows.
CREATE TABLE maintenance (
    task        TEXT PRIMARY KEY,       -- "purge", "cache", "feed", "index", "audit"
    holder      TEXT,                   -- the run that took the lease last (random token)
    lease_until INTEGER NOT NULL DEFAULT 0, -- ms since the epoch; 0: released
    last_run_at INTEGER NOT NULL DEFAULT 0, -- when the last run started (its interval counts
                                            -- from here)
    last_ok_at  INTEGER,                -- when a run last ended without failure
    last_items  INTEGER,                -- what the last run purged, removed or saved
    last_ms     INTEGER,                -- how long it took
    last_error  TEXT                    -- its failure, NULL when it succeeded
) WITHOUT ROWID;
