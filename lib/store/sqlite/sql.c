/* Every SQL statement of the SQLite backend. All are fixed text with bound parameters: no SQL
 * is ever built from input. In memory queries ?1 is the tenant, ?3 the MN_WITH_* flags, ?4 the
 * current time (for expiry), ?5 the type filter (NULL = any), ?6 the identity. */
#include "store/sqlite/sqlite.h"

/* After the embedding: the status and error of the memory's embedding job, NULL without
 * one (embedded); then the caller's key. */
#define MEMORY_COLUMNS \
    "key, id, tenant_id, identity_id, text, type, metadata, importance, version, created_at, " \
    "updated_at, expires_at, deleted, seq, embedding, " \
    "(SELECT status FROM embed_jobs WHERE memory_key = memories.key), " \
    "(SELECT error FROM embed_jobs WHERE memory_key = memories.key), external_key, session"
#define VISIBLE \
    " (?3 & 1 OR deleted = 0) AND (?3 & 2 OR expires_at = 0 OR expires_at > ?4) "
/* The filter's lists and ranges (sq_bind_query): ?20..?22 JSON arrays of sessions, types and
 * identities (NULL = any), ?23..?26 created_at and updated_at in [after, before), ?27..?28
 * importance in [min, max]. */
#define FILTERS \
    "AND (?20 IS NULL OR session IN (SELECT value FROM json_each(?20))) " \
    "AND (?21 IS NULL OR type IN (SELECT value FROM json_each(?21))) " \
    "AND (?22 IS NULL OR identity_id IN (SELECT value FROM json_each(?22))) " \
    "AND created_at >= ?23 AND created_at < ?24 AND updated_at >= ?25 AND updated_at < ?26 " \
    "AND importance >= ?27 AND importance <= ?28 "
#define POLICY_COLUMNS \
    "id, tenant_id, role, rule, priority, active, description, created_at, updated_at"
#define IDENTITY_COLUMNS \
    "id, tenant_id, external_id, role, claims, active, created_at, updated_at"
#define APIKEY_COLUMNS \
    "id, tenant_id, identity_id, scopes, created_at, expires_at, last_used_at"
#define AUDIT_COLUMNS \
    "seq, at, identity_id, apikey_id, action, resources, outcome, policy_id, context, " \
    "prev_hash, hash"
#define AUDIT_LAST \
    "SELECT seq, hash FROM audit_log WHERE tenant_id = ?1 ORDER BY seq DESC LIMIT 1"

/* The rows of memories_by_content that hold an add's content (?1 tenant, ?2 owner, ?4 type, ?5
 * hash, ?6 now): live and unexpired, searched by the index's key, the hash's first 8 digits
 * and the owner id's last 4 characters (024_content_index_shorter.sql). The whole hash and
 * the whole owner id are compared as +content_hash and +identity_id, or SQLite would put ?5
 * and ?2 for them in the index's expressions (constant propagation) and no longer search by
 * them. */
#define CONTENT_TWIN                                                                          \
    "substr(content_hash, 1, 8) = substr(?5, 1, 8) AND substr(identity_id, -4) = "           \
    "substr(?2, -4) AND +identity_id = ?2 AND tenant_id = ?1 AND type = ?4 AND "             \
    "+content_hash = ?5 AND deleted = 0 AND (expires_at = 0 OR expires_at > ?6)"

static const char *const sql[SQ__COUNT] = {
    [SQ_BEGIN] = "BEGIN IMMEDIATE",
    [SQ_BEGIN_READ] = "BEGIN",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT write",
    [SQ_RELEASE] = "RELEASE write",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO write",
    [SQ_BUMP_SEQ] = "UPDATE meta SET value = value + ?1 WHERE key = 'seq' RETURNING value",

    [MNI_TENANT_INSERT] = "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)",
    [MNI_TENANT_GET] = "SELECT id, name, created_at FROM tenants WHERE id = ?1 OR name = ?1 "
                      "ORDER BY id = ?1 DESC LIMIT 1",
    [MNI_TENANT_LIST] = "SELECT id, name, created_at FROM tenants ORDER BY name",
    [MNI_TENANT_LIST_UNRULED] = "SELECT id, name, created_at FROM tenants t WHERE policy_gen = 0 "
                               "AND NOT EXISTS (SELECT 1 FROM policies p WHERE p.tenant_id = t.id) "
                               "ORDER BY name",

    /* Erasing a tenant (store/op_tenant.c): the embedding jobs go with the memories and
     * leave no row behind, the memories leave tombstones, which go next. */
    [MNI_TENANT_DELETE_HISTORY] = "DELETE FROM memory_history WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE_MEMORIES] = "DELETE FROM memories WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE_FEED] = "DELETE FROM memory_tombstones WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE_APIKEYS] = "DELETE FROM apikeys WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE_IDENTITIES] = "DELETE FROM identities WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE_POLICIES] = "DELETE FROM policies WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE_LIMITS] = "DELETE FROM ratelimit_limits WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE_EMBED_CACHE] = "DELETE FROM embed_cache WHERE scope = ?1",
    [MNI_TENANT_DELETE_DATAKEYS] = "DELETE FROM data_keys WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE_WEBHOOKS] = "DELETE FROM webhooks WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE_DELIVERIES] = "DELETE FROM webhook_deliveries WHERE tenant_id = ?1",
    /* The token of its index files, its feed horizon, its re-key's state and its audit log's
     * retention. */
    [MNI_TENANT_DELETE_META] = "DELETE FROM meta WHERE key IN ('index:' || ?1, "
                               "'feed_horizon:' || ?1, 'rekey:' || ?1, 'audit_retention:' || ?1)",
    [MNI_TENANT_DELETE_AUDIT] = "DELETE FROM audit_log WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE_AUDIT_HEAD] = "DELETE FROM audit_checkpoints WHERE tenant_id = ?1",
    [MNI_TENANT_DELETE] = "DELETE FROM tenants WHERE id = ?1",

    [MNI_POLICY_INSERT] = "INSERT INTO policies (" POLICY_COLUMNS ") "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [MNI_POLICY_GET] = "SELECT " POLICY_COLUMNS " FROM policies WHERE tenant_id = ?1 AND id = ?2",
    [MNI_POLICY_LIST] = "SELECT " POLICY_COLUMNS " FROM policies WHERE tenant_id = ?1 "
                       "ORDER BY priority DESC, id",
    [MNI_POLICY_UPDATE] = "UPDATE policies SET role = ?3, rule = ?4, priority = ?5, active = ?6, "
                         "description = ?7, updated_at = ?8 WHERE id = ?1 AND tenant_id = ?2",
    [MNI_POLICY_DELETE] = "DELETE FROM policies WHERE tenant_id = ?1 AND id = ?2",
    /* The tenant (columns 0-3); an id wins over a name that happens to look the same. Index
     * lookups only (no OR, no sort): this runs on every call the actor cache misses. */
    [MNI_ACTOR_GET] = "SELECT * FROM (SELECT id, name, created_at, policy_gen FROM tenants "
                     "WHERE id = ?1 UNION ALL SELECT id, name, created_at, policy_gen FROM "
                     "tenants WHERE name = ?1) LIMIT 1",
    [MNI_POLICY_GEN_BUMP] = "UPDATE tenants SET policy_gen = policy_gen + 1 WHERE id = ?1",

    [MNI_IDENTITY_INSERT] = "INSERT INTO identities (" IDENTITY_COLUMNS ") "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    /* An id wins over an external_id that happens to look the same. */
    [MNI_IDENTITY_GET] = "SELECT " IDENTITY_COLUMNS " FROM identities "
                        "WHERE tenant_id = ?1 AND (id = ?2 OR external_id = ?2) "
                        "ORDER BY id = ?2 DESC LIMIT 1",
    [MNI_IDENTITY_LIST] = "SELECT " IDENTITY_COLUMNS " FROM identities WHERE tenant_id = ?1 "
                         "ORDER BY external_id",
    [MNI_IDENTITY_SET_ACTIVE] = "UPDATE identities SET active = ?3, updated_at = ?4 "
                               "WHERE tenant_id = ?1 AND id = ?2",
    [MNI_IDENTITY_DELETE] = "DELETE FROM identities WHERE tenant_id = ?1 AND id = ?2",
    [MNI_IDENTITY_DELETE_APIKEYS] = "DELETE FROM apikeys WHERE tenant_id = ?1 AND identity_id = ?2",
    [MNI_IDENTITY_DELETE_MEMORIES] = "DELETE FROM memories WHERE tenant_id = ?1 AND identity_id = ?2",
    [MNI_IDENTITY_DELETE_HISTORY] = "DELETE FROM memory_history WHERE tenant_id = ?1 AND memory_id IN "
                                   "(SELECT id FROM memories WHERE tenant_id = ?1 AND identity_id = ?2)",

    [SQ_MEMORY_INSERT] = "INSERT INTO memories (id, tenant_id, identity_id, text, type, metadata, "
                         "importance, version, created_at, updated_at, expires_at, deleted, seq, "
                         "embedding, content_hash, external_key, words, session) VALUES (?1, ?2, "
                         "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, ?12, ?13, ?14, ?15, ?16, ?17)",
    /* The keyword index of an add's new rows (sqlite/memory.c): those of the tenant ?1 with the
     * write's fresh seqs ?2..?3, found by memories_by_tenant_seq. */
    [SQ_MEMORY_KEYWORD_ADD] = "INSERT INTO memory_fts (rowid, words) SELECT key, "
                              "coalesce(words, text) FROM memories WHERE tenant_id = ?1 AND "
                              "seq BETWEEN ?2 AND ?3",
    /* The same rows' terms into the tenant's digest (sql/sqlite/019_memory_digest.sql). */
    [SQ_MEMORY_DIGEST_ADD] = "INSERT INTO memory_digest (tenant_id, n, sum) SELECT ?1, count(*), "
                             "coalesce(sum(digest), 0) % 2147483647 FROM memories WHERE "
                             "tenant_id = ?1 AND seq BETWEEN ?2 AND ?3 ON CONFLICT (tenant_id) "
                             "DO UPDATE SET n = n + excluded.n, "
                             "sum = (sum + excluded.sum) % 2147483647",
    [SQ_MEMORY_GET] = "SELECT " MEMORY_COLUMNS " FROM memories WHERE id = ?2 AND tenant_id = ?1 AND"
                      VISIBLE,
    /* ?2 is the cursor: ids below it (the caller binds "~", above every id, for the first page) */
    [SQ_MEMORY_LIST] = "SELECT " MEMORY_COLUMNS " FROM memories WHERE tenant_id = ?1 AND id < ?2 AND"
                       VISIBLE "AND (?5 IS NULL OR type = ?5) " FILTERS "ORDER BY id DESC",
    [SQ_MEMORY_LIST_BY_IDENTITY] = "SELECT " MEMORY_COLUMNS " FROM memories WHERE tenant_id = ?1 "
                                   "AND identity_id = ?6 AND id < ?2 AND" VISIBLE
                                   "AND (?5 IS NULL OR type = ?5) " FILTERS "ORDER BY id DESC",
    /* One conversation of one owner (?29): the session index, in created order. */
    [SQ_MEMORY_LIST_BY_SESSION] = "SELECT " MEMORY_COLUMNS " FROM memories WHERE tenant_id = ?1 "
                                  "AND identity_id = ?6 AND session = ?29 AND id < ?2 AND"
                                  VISIBLE "AND (?5 IS NULL OR type = ?5) " FILTERS
                                  "ORDER BY id DESC",
    /* How many the list statements would return, every page (sqlite/memory.c). */
    [SQ_MEMORY_COUNT] = "SELECT count(*) FROM memories WHERE tenant_id = ?1 AND" VISIBLE
                        "AND (?5 IS NULL OR type = ?5) " FILTERS,
    [SQ_MEMORY_COUNT_BY_IDENTITY] = "SELECT count(*) FROM memories WHERE tenant_id = ?1 "
                                    "AND identity_id = ?6 AND" VISIBLE
                                    "AND (?5 IS NULL OR type = ?5) " FILTERS,
    [MNI_MEMORY_UPDATE] = "UPDATE memories SET text = ?3, type = ?4, metadata = ?5, importance = ?6, "
                         "version = ?7, updated_at = ?8, seq = ?9, embedding = ?10, "
                         "content_hash = ?12, external_key = COALESCE(?13, external_key), "
                         "words = ?14, restored = 0 "
                         "WHERE tenant_id = ?1 AND id = ?2 AND version = ?11 AND deleted = 0",
    [MNI_HISTORY_INSERT] = "INSERT INTO memory_history (tenant_id, memory_id, version, changed_at, "
                          "changed_by, before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [MNI_HISTORY_LIST] = "SELECT version, changed_at, changed_by, before, after FROM memory_history "
                        "WHERE tenant_id = ?1 AND memory_id = ?2 ORDER BY version",
    [MNI_MEMORY_SOFT_DELETE] = "UPDATE memories SET deleted = 1, updated_at = ?3, seq = ?4 "
                              "WHERE tenant_id = ?1 AND id = ?2 AND deleted = 0",
    [MNI_MEMORY_HARD_DELETE] = "DELETE FROM memories WHERE tenant_id = ?1 AND id = ?2",
    [MNI_HISTORY_DELETE] = "DELETE FROM memory_history WHERE tenant_id = ?1 AND memory_id = ?2",
    [MNI_MEMORY_RESTORE] = "UPDATE memories SET deleted = 0, restored = 1, updated_at = ?3, "
                          "seq = ?4 "
                          "WHERE tenant_id = ?1 AND id = ?2 AND deleted = 1",
    [MNI_MEMORY_EXPIRED] = "SELECT id FROM memories WHERE tenant_id = ?1 AND expires_at > 0 "
                          "AND expires_at <= ?2",
    /* ?7: whether a metadata filter needs the metadata column and the id (which an encrypted
     * value is bound to); reading them costs time. */
    [SQ_MEMORY_SCAN] = "SELECT key, embedding, CASE WHEN ?7 THEN metadata END, "
                       "CASE WHEN ?7 THEN id END FROM memories WHERE tenant_id = ?1 AND"
                       VISIBLE "AND (?5 IS NULL OR type = ?5) " FILTERS
                       "AND embedding IS NOT NULL",
    [SQ_MEMORY_SCAN_BY_IDENTITY] = "SELECT key, embedding, CASE WHEN ?7 THEN metadata END, "
                                   "CASE WHEN ?7 THEN id END FROM memories "
                                   "WHERE tenant_id = ?1 AND identity_id = ?6 AND" VISIBLE
                                   "AND (?5 IS NULL OR type = ?5) " FILTERS
                                   "AND embedding IS NOT NULL",
    /* The keyword ranking comes in two statements (sqlite/keyword.c): the index takes the ?2
     * newest matches of ?1, the FTS5 query (words, quoted, joined by OR or AND), and orders
     * them by BM25 (lower for the better match: the score is its negation), ties by key; then
     * each, best first, is checked against its row until enough pass. Joined in one
     * statement, every match's row would be read before the first result, most of them for
     * candidates beyond the limit. ?2 bounds the work (store/keywords.h): FTS5 walks a word's
     * matches by rowid and stops there, scoring only those. */
    /* ?3: how many rows hold each phrase of ?1 (sqlite/rank.c) */
    [SQ_MEMORY_KEYWORD] = "SELECT rowid, score FROM (SELECT rowid, manushya_bm25(memory_fts, ?3) "
                          "AS score FROM memory_fts WHERE memory_fts MATCH ?1 ORDER BY rowid DESC "
                          "LIMIT ?2) ORDER BY score DESC, rowid",
    /* ?2: a key the keyword index matched; a row when q selects that memory. */
    [SQ_MEMORY_KEYWORD_ROW] = "SELECT 1 FROM memories WHERE key = ?2 AND tenant_id = ?1 AND"
                              VISIBLE "AND (?5 IS NULL OR type = ?5) "
                              "AND (?6 IS NULL OR identity_id = ?6) " FILTERS
                              "AND embedding IS NOT NULL",
    /* ?2: a JSON array of words (letters and digits only: store/keywords.h), each quoted
     * into an FTS5 query of its own; ?7: the count's cap. Rows: the word's index, its count. */
    [SQ_MEMORY_WORD_COUNTS] = "SELECT w.key, (SELECT count(*) FROM (SELECT 1 FROM memory_fts "
                              "CROSS JOIN memories m ON m.key = memory_fts.rowid "
                              "WHERE memory_fts MATCH '\"' || w.value || '\"' AND "
                              "m.tenant_id = ?1 AND" VISIBLE "AND (?5 IS NULL OR type = ?5) "
                              "AND (?6 IS NULL OR identity_id = ?6) " FILTERS
                              "AND embedding IS NOT NULL LIMIT ?7)) FROM json_each(?2) w",
    /* ?1: a JSON array of words; rows: each word's index and how many rows of the whole
     * index hold it, counted up to ?2 (0: none): one MATCH of the word, which stops there,
     * walking the keys upwards. A count that reaches ?2 is given as the key it reached there,
     * negated, for an estimate (sqlite/keyword.c word_docs), next to the lowest and highest
     * key of all. */
    [SQ_MEMORY_WORD_DOCS] = "SELECT w.key, (SELECT CASE WHEN count(*) < ?2 THEN count(*) "
                            "ELSE -max(rowid) END FROM (SELECT rowid FROM memory_fts "
                            "WHERE memory_fts MATCH '\"' || w.value || '\"' LIMIT ?2)), "
                            "(SELECT min(key) FROM memories), (SELECT max(key) FROM memories) "
                            "FROM json_each(?1) w",
    /* One step of merging the keyword index's segments: ?1 negative, FTS5 merges every
     * segment whatever its level, writing about -?1 pages (sq_memory_keyword_merge). */
    [SQ_MEMORY_KEYWORD_MERGE] = "INSERT INTO memory_fts (memory_fts, rank) VALUES ('merge', ?1)",
    [SQ_MEMORY_GET_KEY] = "SELECT " MEMORY_COLUMNS " FROM memories WHERE key = ?2 AND tenant_id = ?1 "
                          "AND" VISIBLE,

    /* The change feed (sqlite/feed.c): ?2, ?3 the (seq, key) cursor, ?4 the highest seq, ?5 the
     * page size (-1 = all), ?6 the owner (NULL = any). Both halves walk a (tenant_id, seq)
     * index; SQLite merges them. A tombstone written before 015_public_feed.sql has no id. */
    [SQ_SEQ_GET] = "SELECT value FROM meta WHERE key = 'seq'",
    [SQ_MEMORY_CHANGES] = "SELECT key, seq, 0, deleted, expires_at, identity_id, type, embedding, "
                          "id, version, session, restored, metadata, importance, created_at, updated_at "
                          "FROM memories WHERE tenant_id = ?1 AND (seq, key) > (?2, ?3) "
                          "AND seq <= ?4 AND (?6 IS NULL OR identity_id = ?6) "
                          "UNION ALL SELECT key, seq, 1, 0, 0, identity_id, type, NULL, "
                          "NULLIF(memory_id, ''), version, session, 0, NULL, 0, 0, 0 "
                          "FROM memory_tombstones WHERE tenant_id = ?1 AND (seq, key) > (?2, ?3) "
                          "AND seq <= ?4 AND (?6 IS NULL OR identity_id = ?6) "
                          "ORDER BY 2, 1 LIMIT ?5",
    [SQ_MEMORY_SEQS] = "SELECT key, seq FROM memories WHERE tenant_id = ?1 AND seq <= ?2",
    [SQ_MEMORY_DIGEST] = "SELECT n, sum FROM memory_digest WHERE tenant_id = ?1",
    [SQ_FEED_PRUNE] = "DELETE FROM memory_tombstones WHERE tenant_id = ?1 AND seq <= ?2",
    /* The horizon only rises (two pruners may finish in either order). */
    [SQ_FEED_HORIZON_PUT] = "INSERT INTO meta (key, value) VALUES ('feed_horizon:' || ?1, ?2) "
                            "ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER), "
                            "excluded.value)",
    [SQ_FEED_HORIZON_GET] = "SELECT CAST(value AS INTEGER) FROM meta "
                            "WHERE key = 'feed_horizon:' || ?1",
    [MNI_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [MNI_META_PUT] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
    [MNI_META_DELETE] = "DELETE FROM meta WHERE key = ?1",
    [MNI_META_ADD] = "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
    [MNI_MAINT_TAKE] = "INSERT INTO maintenance (task, holder, lease_until, last_run_at) "
                       "VALUES (?1, ?2, ?4, ?3) ON CONFLICT (task) DO UPDATE SET "
                       "holder = excluded.holder, lease_until = excluded.lease_until, "
                       "last_run_at = excluded.last_run_at WHERE maintenance.lease_until < ?3 "
                       "AND (?5 = 1 OR maintenance.last_run_at <= ?3 - ?6)",
    /* What an add repeats (sqlite/dedup.c): ?2 the identity, ?3 the key (NULL: none), ?4 the
     * type (NULL: not by content), ?5 the content hash, ?6 now; the id and key of the key's
     * holder, else the oldest live, unexpired memory of that content. The content by
     * memories_by_content, named: without statistics SQLite would walk the owner's memories
     * in id order (memories_by_identity gives the ORDER BY) and test each. The first id by
     * min(), not ORDER BY id LIMIT 1: the index is not in id order, so that would build a
     * temporary b-tree for every lookup; min() of nothing is NULL, no row (CONTENT_TWIN: the
     * rows searched). */
    [SQ_MEMORY_FIND] = "SELECT id, key FROM memories WHERE id = coalesce((SELECT id FROM "
                       "memories WHERE tenant_id = ?1 AND identity_id = ?2 AND "
                       "external_key = ?3), (SELECT min(id) FROM memories INDEXED BY "
                       "memories_by_content WHERE ?4 IS NOT NULL AND " CONTENT_TWIN "))",
    /* SQ_MEMORY_FIND for an input without a key, by content alone, the parameters numbered
     * alike: one search of memories_by_content instead of three. The key is the min() row's
     * (SQLite takes a bare column from the row that min() picked); NULL id: none. */
    [SQ_MEMORY_FIND_CONTENT] = "SELECT min(id), key FROM memories INDEXED BY "
                               "memories_by_content WHERE " CONTENT_TWIN,
    [MNI_MEMORY_UNHASHED] = "SELECT tenant_id, id, text FROM memories WHERE content_hash IS NULL "
                           "LIMIT ?1",
    [MNI_MEMORY_HASH_SET] = "UPDATE memories SET content_hash = ?3 WHERE tenant_id = ?1 AND id = ?2 "
                            "AND content_hash IS NULL",
    [MNI_MAINT_GET] = "SELECT holder, lease_until, last_run_at FROM maintenance WHERE task = ?1",
    [MNI_MAINT_DONE] = "UPDATE maintenance SET lease_until = 0, last_ok_at = CASE WHEN ?6 IS "
                       "NULL THEN ?3 ELSE last_ok_at END, last_items = ?4, last_ms = ?5, "
                       "last_error = ?6 WHERE task = ?1 AND holder = ?2",

    /* Data keys and re-keying (store/vault.c, store/op_rekey.c). */
    [MNI_DATAKEY_ADD] = "INSERT OR IGNORE INTO data_keys (tenant_id, version, wrapped, "
                        "created_at) VALUES (?1, ?2, ?3, ?4)",
    [MNI_DATAKEY_LIST] = "SELECT version, wrapped FROM data_keys WHERE tenant_id = ?1 "
                         "ORDER BY version",
    [MNI_DATAKEY_NEWEST] = "SELECT version, wrapped FROM data_keys WHERE tenant_id = ?1 "
                           "ORDER BY version DESC LIMIT 1",
    [MNI_DATAKEY_ALL] = "SELECT tenant_id, version, wrapped FROM data_keys",
    [MNI_DATAKEY_SET] = "UPDATE data_keys SET wrapped = ?3 WHERE tenant_id = ?1 AND version = ?2",
    [MNI_DATAKEY_DROP_BELOW] = "DELETE FROM data_keys WHERE tenant_id = ?1 AND version < ?2",
    [MNI_REKEY_MEMORIES] = "SELECT key, id, text, metadata FROM memories WHERE tenant_id = ?1 "
                           "AND key > ?2 ORDER BY key LIMIT ?3",
    [MNI_REKEY_MEMORY_SET] = "UPDATE memories SET text = ?3, metadata = ?4, content_hash = ?7, "
                             "words = coalesce(?8, words) WHERE tenant_id = ?1 "
                             "AND key = ?2 AND text = ?5 AND metadata = ?6",
    [MNI_REKEY_HISTORY] = "SELECT key, memory_id, version, before, after FROM memory_history "
                          "WHERE tenant_id = ?1 AND key > ?2 ORDER BY key LIMIT ?3",
    [MNI_REKEY_HISTORY_SET] = "UPDATE memory_history SET before = ?3, after = ?4 "
                              "WHERE tenant_id = ?1 AND key = ?2",

    /* API keys (store/op_apikey.c). */
    [MNI_APIKEY_INSERT] = "INSERT INTO apikeys (id, tenant_id, identity_id, hash, scopes, "
                         "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [MNI_APIKEY_GET] = "SELECT " APIKEY_COLUMNS ", hash, (SELECT active FROM identities i "
                       "WHERE i.tenant_id = apikeys.tenant_id AND i.id = apikeys.identity_id) "
                       "FROM apikeys WHERE id = ?1",
    [MNI_APIKEY_LIST] = "SELECT " APIKEY_COLUMNS " FROM apikeys WHERE tenant_id = ?1 AND "
                       "(?2 IS NULL OR identity_id = ?2) ORDER BY created_at, id",
    [MNI_APIKEY_DELETE] = "DELETE FROM apikeys WHERE tenant_id = ?1 AND id = ?2",
    [MNI_APIKEY_TOUCH] = "UPDATE apikeys SET last_used_at = ?2 WHERE id = ?1 AND "
                        "last_used_at <= ?3",

    /* The audit chain (store/op_audit.c). The write already holds SQLite's one write lock, so
     * the head is the chain's last entry, one seek down the primary key (tenant_id, seq): no
     * head row to keep (the driver has no audit_head_row). Retention's checkpoint is a row of
     * audit_checkpoints. */
    [MNI_AUDIT_HEAD] = AUDIT_LAST,
    [MNI_AUDIT_INSERT] = "INSERT INTO audit_log (tenant_id, " AUDIT_COLUMNS ") VALUES "
                         "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [MNI_AUDIT_HEAD_GET] = AUDIT_LAST,
    [MNI_AUDIT_CHECKPOINT_GET] = "SELECT seq, hash FROM audit_checkpoints WHERE tenant_id = ?1",
    [MNI_AUDIT_CHECKPOINT_SET] = "INSERT INTO audit_checkpoints (tenant_id, seq, hash) "
                                 "VALUES (?1, ?2, ?3) ON CONFLICT (tenant_id) DO UPDATE SET "
                                 "seq = excluded.seq, hash = excluded.hash "
                                 "WHERE excluded.seq > seq",
    [MNI_AUDIT_PRUNE_END] = "SELECT seq, hash FROM audit_log WHERE tenant_id = ?1 AND seq < "
                            "coalesce((SELECT min(seq) FROM audit_log WHERE tenant_id = ?1 "
                            "AND at >= ?2), 9223372036854775807) ORDER BY seq DESC LIMIT 1",
    [MNI_AUDIT_PRUNE] = "DELETE FROM audit_log WHERE tenant_id = ?1 AND seq <= ?2",
    [MNI_AUDIT_RETENTION_GET] = "SELECT CAST(value AS INTEGER) FROM meta "
                                "WHERE key = 'audit_retention:' || ?1",
    [MNI_AUDIT_RETENTION_SET] = "INSERT OR REPLACE INTO meta (key, value) "
                                "VALUES ('audit_retention:' || ?1, ?2)",
    [MNI_AUDIT_LIST] = "SELECT " AUDIT_COLUMNS " FROM audit_log WHERE tenant_id = ?1 AND "
                       "(?2 IS NULL OR substr(action, 1, length(?2)) = ?2) AND "
                       "(?3 IS NULL OR identity_id = ?3) AND "
                       "(?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(resources) "
                       "WHERE value = ?4)) AND (?5 IS NULL OR outcome = ?5) AND "
                       "at >= ?6 AND at < ?7 AND seq > ?8 ORDER BY seq "
                       "LIMIT CASE WHEN ?9 > 0 THEN ?9 ELSE -1 END",
    [MNI_RATELIMIT_PUT] = "INSERT OR REPLACE INTO ratelimit_limits (tenant_id, endpoint, max_calls, "
                         "window_ms, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [MNI_RATELIMIT_LIST] = "SELECT endpoint, max_calls, window_ms FROM ratelimit_limits "
                          "WHERE tenant_id = ?1 ORDER BY endpoint",
    [MNI_RATELIMIT_DELETE] = "DELETE FROM ratelimit_limits WHERE tenant_id = ?1 AND endpoint = ?2",
    [SQ_EMBED_CACHE_GET] = "SELECT vector FROM embed_cache WHERE scope = ?1 AND model = ?2 "
                           "AND dim = ?3 AND hash = ?4",
    [MNI_EMBED_CACHE_OLD] = "SELECT model, dim, lower(hex(hash)) FROM embed_cache WHERE scope = ?1 "
                            "AND created_at < ?2",
    [MNI_EMBED_CACHE_DELETE] = "DELETE FROM embed_cache WHERE scope = ?1 AND model = ?2 AND "
                               "dim = ?3 AND hash = ?4",
    [MNI_MEMORY_TEXTS] = "SELECT key, id, text FROM memories WHERE tenant_id = ?1 AND key > ?2 "
                         "ORDER BY key LIMIT ?3",
    [MNI_EMBED_CACHE_PUT] = "INSERT OR IGNORE INTO embed_cache (scope, model, dim, hash, vector, "
                           "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",

    /* Embedding jobs (sqlite/jobs.c). Status 1 pending, 2 failed. ?1 tenant, ?2
     * memory id, ?3 now in enqueue/drop. A new text replaces a pending or failed job. */
    [SQ_JOB_ENQUEUE] = "INSERT INTO embed_jobs (memory_key, tenant_id, status, attempts, "
                       "run_after, created_at, updated_at) SELECT key, tenant_id, 1, 0, ?3, ?3, "
                       "?3 FROM memories WHERE tenant_id = ?1 AND id = ?2 "
                       "ON CONFLICT (memory_key) DO UPDATE SET status = 1, attempts = 0, "
                       "run_after = ?3, claim = NULL, error = NULL, updated_at = ?3",
    [MNI_JOB_DROP] = "DELETE FROM embed_jobs WHERE memory_key = "
                    "(SELECT key FROM memories WHERE tenant_id = ?1 AND id = ?2)",
    /* ?1 claim, ?2 now, ?3 lease end, ?4 limit: the longest-waiting due jobs. */
    [SQ_JOB_CLAIM] = "UPDATE embed_jobs SET claim = ?1, run_after = ?3, attempts = attempts + 1, "
                     "updated_at = ?2 WHERE memory_key IN (SELECT memory_key FROM embed_jobs "
                     "WHERE status = 1 AND run_after <= ?2 ORDER BY run_after, memory_key "
                     "LIMIT ?4)",
    [SQ_JOB_CLAIMED] = "SELECT j.memory_key, m.version, j.attempts, m.tenant_id, m.id, m.text "
                       "FROM embed_jobs j JOIN memories m ON m.key = j.memory_key "
                       "WHERE j.claim = ?1 ORDER BY m.tenant_id, j.memory_key",
    /* ?1 key, ?2 version, ?3 claim, ?4 vector, ?5 seq: only while the claim holds the job. */
    [SQ_JOB_STORE] = "UPDATE memories SET embedding = ?4, seq = ?5 WHERE key = ?1 AND "
                     "version = ?2 AND EXISTS (SELECT 1 FROM embed_jobs WHERE memory_key = ?1 "
                     "AND claim = ?3)",
    [SQ_JOB_ACK] = "DELETE FROM embed_jobs WHERE memory_key = ?1 AND claim = ?2",
    /* The memory changed but kept its text: due again, this claim not counted. */
    [SQ_JOB_RELEASE] = "UPDATE embed_jobs SET claim = NULL, run_after = ?3, "
                       "attempts = attempts - 1, updated_at = ?3 "
                       "WHERE memory_key = ?1 AND claim = ?2",
    /* ?4 next attempt (0: failed for good), ?5 error. */
    [SQ_JOB_FAIL] = "UPDATE embed_jobs SET claim = NULL, status = CASE WHEN ?4 > 0 THEN 1 "
                    "ELSE 2 END, run_after = ?4, error = ?5, updated_at = ?3 "
                    "WHERE memory_key = ?1 AND claim = ?2",
    /* ?2 status (0 = any), ?3 limit. */
    [MNI_STORE_STATS] = "SELECT COALESCE(SUM(CASE WHEN status = 1 THEN 1 ELSE 0 END), 0), "
                        "COALESCE(SUM(CASE WHEN status = 2 THEN 1 ELSE 0 END), 0), "
                        "COALESCE(MIN(CASE WHEN status = 1 THEN created_at END), 0), "
                        "(SELECT COUNT(*) FROM tenants) FROM embed_jobs",
    [MNI_JOB_LIST] = "SELECT m.id, j.tenant_id, j.status, j.attempts, j.run_after, j.error, "
                    "j.created_at, j.updated_at FROM embed_jobs j JOIN memories m "
                    "ON m.key = j.memory_key WHERE j.tenant_id = ?1 AND (?2 = 0 OR "
                    "j.status = ?2) ORDER BY j.memory_key LIMIT ?3",
    [SQ_JOB_RETRY_ONE] = "UPDATE embed_jobs SET status = 1, attempts = 0, run_after = ?3, "
                         "claim = NULL, updated_at = ?3 WHERE memory_key = (SELECT key FROM "
                         "memories WHERE tenant_id = ?1 AND id = ?2)",
    [SQ_JOB_RETRY_FAILED] = "UPDATE embed_jobs SET status = 1, attempts = 0, run_after = ?3, "
                            "claim = NULL, updated_at = ?3 WHERE tenant_id = ?1 AND status = 2",
    /* Webhooks (store/op_webhook.c). */
    [MNI_WEBHOOK_INSERT] = "INSERT INTO webhooks (id, tenant_id, url, events, secret, "
                           "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [MNI_WEBHOOK_LIST] = "SELECT id, tenant_id, url, events, created_at FROM webhooks "
                         "WHERE tenant_id = ?1 ORDER BY created_at, id",
    [MNI_WEBHOOK_DELETE] = "DELETE FROM webhooks WHERE tenant_id = ?1 AND id = ?2",
    [MNI_WEBHOOK_DROP_DELIVERIES] = "DELETE FROM webhook_deliveries WHERE tenant_id = ?1 AND "
                                    "webhook_id = ?2",
    [MNI_WEBHOOK_ENQUEUE] = "INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, "
                            "event, body, status, next_at, created_at, updated_at) "
                            "SELECT ?1, id, ?3, ?4, ?5, 1, ?6, ?6, ?6 FROM webhooks "
                            "WHERE tenant_id = ?1 AND (events & ?2) <> 0 AND "
                            "(?7 IS NULL OR id = ?7)",
    [MNI_WEBHOOK_DELIVERY_ID] = "SELECT id FROM webhook_deliveries WHERE tenant_id = ?1 AND "
                                "webhook_id = ?2 AND event_id = ?3",
    [MNI_WEBHOOK_DELIVERIES] = "SELECT id, webhook_id, event_id, event, status, attempts, "
                               "next_at, http_status, error, created_at, updated_at "
                               "FROM webhook_deliveries WHERE tenant_id = ?1 AND (?2 IS NULL "
                               "OR webhook_id = ?2) AND (?3 = 0 OR status = ?3) "
                               "ORDER BY id DESC LIMIT ?4",
    [MNI_WEBHOOK_RETRY] = "UPDATE webhook_deliveries SET status = 1, attempts = 0, next_at = ?3, "
                          "claim = NULL, updated_at = ?3 WHERE tenant_id = ?1 AND status = 3 "
                          "AND (?2 = 0 OR id = ?2)",
    /* SQLite's one write lock serialises claimers. */
    [MNI_WEBHOOK_CLAIM] = "UPDATE webhook_deliveries SET claim = ?1, next_at = ?3, "
                          "attempts = attempts + 1, updated_at = ?2 WHERE id IN (SELECT id "
                          "FROM webhook_deliveries WHERE status = 1 AND next_at <= ?2 "
                          "ORDER BY next_at, id LIMIT ?4)",
    [MNI_WEBHOOK_CLAIMED] = "SELECT d.id, d.tenant_id, d.webhook_id, d.event_id, d.event, "
                            "d.body, d.attempts, w.url, w.secret FROM webhook_deliveries d "
                            "JOIN webhooks w ON w.id = d.webhook_id WHERE d.claim = ?1 "
                            "ORDER BY d.id",
    [MNI_WEBHOOK_SETTLE] = "UPDATE webhook_deliveries SET status = ?3, http_status = ?4, "
                           "error = ?5, next_at = ?6, claim = NULL, updated_at = ?7 "
                           "WHERE id = ?1 AND claim = ?2",
    [MNI_REKEY_WEBHOOKS] = "SELECT id, secret FROM webhooks WHERE tenant_id = ?1 ORDER BY id",
    [MNI_REKEY_WEBHOOK_SET] = "UPDATE webhooks SET secret = ?3 WHERE tenant_id = ?1 AND id = ?2",
};

const char *sq_sql(int id)
{
    return sql[id];
}
