-- sql/postgres/tuning.sql — server settings and maintenance queries for libmanushya on
-- PostgreSQL 15+ (with or without pgvector).
--
-- NOT a migration: `manushya migrate` never runs this file. An administrator reads it, adjusts
-- the numbers to the machine, and runs the parts they want with psql as a superuser:
--     psql -d DB -v ON_ERROR_STOP=1 -f sql/postgres/tuning.sql
--
-- It starts from the Manushya.ai performance guide and corrects it where the guide is wrong;
-- each correction is marked "Guide:". The README's "PostgreSQL tuning" section says which
-- settings matter for which workload.

------------------------------------------------------------------------------------------------
-- 1. Settings that need a RESTART (postmaster context).
--
-- Guide: it ends with SELECT pg_reload_conf() and "restart" in a comment. A reload does NOT
-- apply these: ALTER SYSTEM only writes postgresql.auto.conf, and shared_buffers,
-- max_connections, wal_buffers and the worker counts take effect at the next server start.
-- Check with:  SELECT name, setting, pending_restart FROM pg_settings WHERE pending_restart;
--
-- Guide: ALTER SYSTEM SET shared_preload_libraries = 'pgvector'. Wrong twice: the library is
-- named "vector", and pgvector needs no preloading at all — CREATE EXTENSION vector loads it on
-- first use. Setting a wrong name there stops the server from starting. Leave it alone.
------------------------------------------------------------------------------------------------

-- Connections: libmanushya pools its own (20 + 30 overflow per process by default), so size
-- this to processes x (pool_size + pool_overflow) plus room for maintenance, and prefer a
-- pgbouncer in front over raising it: each backend costs several MB even when idle.
ALTER SYSTEM SET max_connections = 200;

-- About 25% of RAM (the guide's figure; 256MB is its small-server value, 512MB for 2 GB RAM).
-- Vector search is memory-bound: the HNSW index of the hot tenants should fit here, or at
-- least in shared_buffers + the OS cache (effective_cache_size below).
ALTER SYSTEM SET shared_buffers = '512MB';

-- -1 (the default) already means 1/32 of shared_buffers, capped at 16MB; the guide's explicit
-- 16MB is the same thing for shared_buffers >= 512MB.
ALTER SYSTEM SET wal_buffers = '16MB';

-- Parallel workers. Guide: max_parallel_workers_per_gather = 4 and max_parallel_workers = 8
-- regardless of the machine. More workers than cores only adds contention, and HNSW index
-- scans are never parallel anyway: these help exact scans (no index, or filters that make the
-- planner skip it) and index builds. Use the number of cores.
ALTER SYSTEM SET max_worker_processes = 8;        -- restart; >= the two below
ALTER SYSTEM SET max_parallel_workers = 4;        -- reload is enough for this one

------------------------------------------------------------------------------------------------
-- 2. Settings a reload applies.
------------------------------------------------------------------------------------------------

-- About 75% of RAM: a planner hint (no memory is allocated), it makes index scans look cheap.
ALTER SYSTEM SET effective_cache_size = '2GB';

-- Guide: work_mem = 32MB "for complex vector queries". work_mem is per sort/hash node per
-- query, so 200 connections x 32MB x a few nodes can exhaust RAM. HNSW searches do not use it;
-- exact top-k (ORDER BY embedding <=> $1 LIMIT k without an index) is a bounded top-N sort
-- that needs little. 16MB is plenty; raise it per session for reports, not globally.
ALTER SYSTEM SET work_mem = '16MB';

-- HNSW builds are much faster when the graph fits in maintenance_work_mem (pgvector prints a
-- notice when it does not). Budget roughly (dim * 4 + m * 2 * 4 + 100) bytes per vector:
-- ~1.8 KB at 384 dims, so 1M vectors need ~2GB. Set it per session for big builds:
--     SET maintenance_work_mem = '2GB';
ALTER SYSTEM SET maintenance_work_mem = '512MB';
-- pgvector >= 0.6 builds HNSW indexes in parallel.
ALTER SYSTEM SET max_parallel_maintenance_workers = 2;
ALTER SYSTEM SET max_parallel_workers_per_gather = 2;

-- Spread checkpoint writes (the default since PostgreSQL 14 already is 0.9).
ALTER SYSTEM SET checkpoint_completion_target = 0.9;
-- Bulk ingest writes a lot of WAL (each 384-dim vector is 1.5 KB): fewer, larger checkpoints.
ALTER SYSTEM SET max_wal_size = '4GB';

-- SSD storage: random reads cost about the same as sequential ones, and many can be in flight.
ALTER SYSTEM SET random_page_cost = 1.1;
ALTER SYSTEM SET effective_io_concurrency = 200;
ALTER SYSTEM SET default_statistics_target = 100;  -- the default; listed because the guide does

-- Guide: parallel_tuple_cost = 0.1 and parallel_setup_cost = 1000.0 are PostgreSQL's defaults;
-- setting them changes nothing.

SELECT pg_reload_conf();
SELECT name, setting, unit, pending_restart FROM pg_settings WHERE pending_restart;

------------------------------------------------------------------------------------------------
-- 3. Vector search settings: per session or per query, not server-wide.
--
-- Guide: CREATE INDEX ... USING hnsw ... WITH (m = 16, ef_construction = 64, ef = 40).
-- There is no "ef" index option (the statement fails with 'unrecognized parameter "ef"'): the
-- search-time candidate list is the hnsw.ef_search setting. libmanushya sets it per query
-- (SET LOCAL hnsw.ef_search, from mn_config.hnsw_ef_search or the search's ef), so a server
-- default only matters for other clients:
--     ALTER DATABASE manushya SET hnsw.ef_search = 40;
--
-- Filtered searches (identity, type, metadata) on pgvector < 0.8 return fewer than k rows when
-- the filter rejects most of the ef_search candidates. pgvector 0.8 adds iterative scans, which
-- libmanushya turns on for filtered queries where available:
--     SET LOCAL hnsw.iterative_scan = relaxed_order;  SET LOCAL hnsw.max_scan_tuples = 20000;
------------------------------------------------------------------------------------------------

------------------------------------------------------------------------------------------------
-- 4. Indexes.
--
-- libmanushya's migrations create the HNSW index (m = 16, ef_construction = 64,
-- vector_cosine_ops) on each partition of memories. To rebuild one with other parameters
-- without blocking writes, work partition by partition:
--
-- Guide: CREATE INDEX CONCURRENTLY ... ON memories. PostgreSQL cannot build an index
-- concurrently on a partitioned table; build it on each partition CONCURRENTLY, then create
-- the parent index ON ONLY the parent and ATTACH each partition's index to it.
--
-- Guide: its search query filters on "similarity(vector, $1) > $2". pgvector has no
-- similarity() function, and a WHERE on the distance prevents the HNSW index from serving the
-- ORDER BY. Order by the distance operator (<=> is cosine distance = 1 - cosine similarity),
-- limit, and filter the threshold outside:
--     SELECT * FROM (SELECT id, 1 - (embedding <=> $1) AS score FROM memories
--                    WHERE tenant_id = $2 AND deleted_at IS NULL
--                    ORDER BY embedding <=> $1 LIMIT $3) s WHERE score >= $4;
-- (Column names as in sql/postgres/; libmanushya's prepared statements already do this.)
--
-- Guide: "LIKE memories INCLUDING ALL ... PARTITION BY HASH (tenant_id)" fails when the
-- primary key is (id) alone: a partitioned table's unique keys must contain the partition key.
-- libmanushya's keys all start with tenant_id, which is also what Citus needs to co-locate a
-- tenant's rows.
------------------------------------------------------------------------------------------------

------------------------------------------------------------------------------------------------
-- 5. Maintenance.
------------------------------------------------------------------------------------------------

-- Index use and size, per partition.
SELECT relname AS partition, indexrelname AS index, idx_scan, idx_tup_read, idx_tup_fetch,
       pg_size_pretty(pg_relation_size(indexrelid)) AS size
FROM pg_stat_user_indexes
WHERE relname LIKE 'memories%'
ORDER BY relname, indexrelname;

-- Dead rows per partition: updates and deletes leave them; autovacuum removes them and repairs
-- the HNSW graph. Run VACUUM (ANALYZE) after a big purge instead of waiting.
SELECT relname, n_live_tup, n_dead_tup, last_autovacuum, last_autoanalyze
FROM pg_stat_user_tables
WHERE relname LIKE 'memories%'
ORDER BY relname;

-- Guide: "REINDEX INDEX CONCURRENTLY idx_memories_vector_hnsw" as regular maintenance. HNSW
-- indexes do not need periodic rebuilds: VACUUM removes deleted entries and repairs the graph.
-- A REINDEX is worth it before vacuuming after a very large delete (pgvector's advice: vacuum
-- of an HNSW index is slow, a rebuild first makes it fast). On a partitioned table, REINDEX
-- CONCURRENTLY (PostgreSQL 14+) rebuilds each partition's index in turn without blocking writes:
--     REINDEX TABLE CONCURRENTLY memories;
--     VACUUM (ANALYZE) memories;
ANALYZE memories;
