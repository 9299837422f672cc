-- The change feed's horizon (as sqlite_feed.c keeps it in meta): tombstones of hard-deleted
-- memories are pruned once every index has had time to apply them, and the tenant's horizon
-- says up to which seq they were. An index that applied less than it has missed deletes and
-- is rebuilt (index/vindex.c). A per-tenant counter, beside policy_gen; it only rises.
ALTER TABLE tenants ADD COLUMN feed_horizon bigint NOT NULL DEFAULT 0;
