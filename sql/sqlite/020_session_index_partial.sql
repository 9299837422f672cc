-- The session index holds only the memories that belong to a conversation. The one statement
-- that reads it asks for one session (session = ?, sqlite/sql.c: SQ_MEMORY_LIST_BY_SESSION),
-- which implies session IS NOT NULL, so SQLite still uses it; every memory added without a
-- session (most of them) no longer pays for an entry in a fifth index on the add path.
DROP INDEX memories_by_session;
CREATE INDEX memories_by_session ON memories (tenant_id, identity_id, session, created_at, id)
    WHERE session IS NOT NULL;
