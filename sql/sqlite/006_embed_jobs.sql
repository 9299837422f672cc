-- Asynchronous embedding: a memory added or re-texted with mn_config.embed_async is
-- committed without its vector, and its embedding job in the same transaction, so that no job
-- is lost between two systems. Workers (threads of a handle, or `manushya worker`) claim due
-- jobs, embed them in batches and write each vector with a new seq, deleting the job in that
-- same transaction. One job per memory: a newer text replaces the pending job.
CREATE TABLE embed_jobs (
    memory_key INTEGER PRIMARY KEY,   -- memories.key
    tenant_id  TEXT NOT NULL,
    status     INTEGER NOT NULL,      -- 1 pending, 2 failed (MN_EMBED_PENDING, MN_EMBED_FAILED)
    attempts   INTEGER NOT NULL,      -- claims so far
    run_after  INTEGER NOT NULL,      -- ms: not claimed before (the backoff, or a claim's lease)
    claim      TEXT,                  -- the claim holding it, until its lease runs out
    error      TEXT,                  -- the last failed attempt's error
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX embed_jobs_due ON embed_jobs (status, run_after);
CREATE INDEX embed_jobs_by_tenant ON embed_jobs (tenant_id, status, memory_key);
CREATE INDEX embed_jobs_by_claim ON embed_jobs (claim) WHERE claim IS NOT NULL;

-- A memory that is gone needs no vector: every way of removing rows drops its job.
CREATE TRIGGER memories_drop_embed_job AFTER DELETE ON memories BEGIN
    DELETE FROM embed_jobs WHERE memory_key = old.key;
END;
