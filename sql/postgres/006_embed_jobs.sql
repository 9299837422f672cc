-- Asynchronous embedding (as sql/sqlite/006_embed_jobs.sql): a memory added or
-- re-texted with mn_config.embed_async is committed without its vector and with its embedding
-- job, in the same transaction, so that no job is lost between two systems. Workers (threads of
-- a handle, or `manushya worker` processes on any machine) claim due jobs with
-- SELECT ... FOR UPDATE SKIP LOCKED, so that several never take the same job and none waits
-- for another; each vector is written with a new seq and the job deleted in that same
-- transaction. One job per memory: a newer text replaces the pending job.
--
-- Partitioned by tenant like the memories, every key leading with tenant_id. Rows exist only
-- while a memory waits for its vector (or failed to get one), so the table stays as small as
-- the backlog; a claim looks at every tenant's due jobs by design (workers serve all tenants).
CREATE TABLE embed_jobs (
    tenant_id  text COLLATE "C" NOT NULL,
    memory_key bigint NOT NULL,      -- memories.key
    status     int NOT NULL,         -- 1 pending, 2 failed (MN_EMBED_PENDING, MN_EMBED_FAILED)
    attempts   int NOT NULL,         -- claims so far
    run_after  bigint NOT NULL,      -- ms: not claimed before (the backoff, or a claim's lease)
    claim      text COLLATE "C",     -- the claim holding it, until its lease runs out
    error      text,                 -- the last failed attempt's error
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (tenant_id, memory_key)
) PARTITION BY HASH (tenant_id);
CREATE INDEX embed_jobs_due ON embed_jobs (tenant_id, status, run_after);
SELECT mn_make_partitions('embed_jobs');

-- A memory that is gone needs no vector: every way of removing rows (delete, purge, an
-- identity's cascade, hand-written SQL) drops its job, as the tombstone trigger of
-- 003_index_feed.sql records the delete.
CREATE FUNCTION mn_drop_embed_job() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM embed_jobs WHERE tenant_id = OLD.tenant_id AND memory_key = OLD.key;
    RETURN NULL;
END $$;
CREATE TRIGGER memories_drop_embed_job AFTER DELETE ON memories
    FOR EACH ROW EXECUTE FUNCTION mn_drop_embed_job();
