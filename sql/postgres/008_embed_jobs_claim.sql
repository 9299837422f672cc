-- The order a claim takes jobs in (lib/store/pg_sql.c, PGS_JOB_CLAIM): the longest-waiting due
-- jobs of any tenant, ORDER BY run_after, memory_key among status = 1. The index of
-- 006_embed_jobs.sql leads with tenant_id and cannot give that order across tenants, so every
-- claim read and sorted all pending jobs: fine for a backlog of thousands, slow for millions.
-- This one gives the order in each partition; the planner merges the partitions' ordered scans
-- and stops at the claim's LIMIT. Partial: failed jobs, which no claim takes, stay out. It is
-- the one index that does not lead with tenant_id: workers serve every tenant by design.
CREATE INDEX embed_jobs_claim_order ON embed_jobs (run_after, memory_key) WHERE status = 1;
