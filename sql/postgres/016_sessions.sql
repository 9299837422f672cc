-- Conversations: the session a memory belongs to (NULL: none), so that "a conversation's
-- memories" and "the last N of a conversation" (mn_memory_trim) are index scans of the owner's
-- rows of that session in created order. An index on the parent makes one on each partition.
ALTER TABLE memories ADD COLUMN session text;
CREATE INDEX memories_by_session ON memories (tenant_id, identity_id, session, created_at, id);
