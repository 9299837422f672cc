/* Every SQL statement of the PostgreSQL backend: fixed text with bound parameters, prepared
 * once per connection. No SQL is ever built from input. In memory queries $1 is the tenant,
 * $3 the MN_WITH_* flags, $4 the current time (for expiry), $5 the type filter and $6 the
 * identity filter (NULL = any). Every statement on a tenant's rows names tenant_id, which also
 * picks the one partition to read. */
#include "store/postgres/pg.h"

/* After the embedding: the status and error of the memory's embedding job, NULL without
 * one (embedded), a lookup by the job's primary key; then the caller's key. */
#define MEMORY_COLUMNS \
    "key, id, tenant_id, identity_id, text, type, metadata, importance, version, created_at, " \
    "updated_at, expires_at, deleted, seq, embedding, " \
    "(SELECT status FROM embed_jobs j WHERE j.tenant_id = memories.tenant_id AND " \
    "j.memory_key = memories.key), " \
    "(SELECT error FROM embed_jobs j WHERE j.tenant_id = memories.tenant_id AND " \
    "j.memory_key = memories.key), external_key, session"
#define VISIBLE \
    " ($3::int & 1 <> 0 OR deleted = 0) AND ($3::int & 2 <> 0 OR expires_at = 0 OR " \
    "expires_at > $4::bigint) "
/* With the filter's lists and ranges (pgs_bind_filters): $8..$10 JSON arrays of sessions,
 * types and identities (NULL = any), $11..$14 created_at and updated_at in [after, before),
 * $15..$16 importance in [min, max]. */
#define SELECTED \
    VISIBLE "AND ($5::text IS NULL OR type = $5::text) AND ($6::text IS NULL OR " \
    "identity_id = $6::text) " \
    "AND ($8::jsonb IS NULL OR session IN (SELECT jsonb_array_elements_text($8::jsonb))) " \
    "AND ($9::jsonb IS NULL OR type IN (SELECT jsonb_array_elements_text($9::jsonb))) " \
    "AND ($10::jsonb IS NULL OR identity_id IN " \
    "(SELECT jsonb_array_elements_text($10::jsonb))) " \
    "AND created_at >= $11::bigint AND created_at < $12::bigint " \
    "AND updated_at >= $13::bigint AND updated_at < $14::bigint " \
    "AND importance >= $15::float8 AND importance <= $16::float8 "
/* The keyword ranking's candidates (PGS_MEMORY_KEYWORD): at most $17 of the selected rows
 * matching the tsquery $2, as c, and the tsquery $18 that ranks them as q. */
#define KEYWORD_CANDIDATES \
    "(SELECT key, fts FROM memories WHERE tenant_id = $1 AND " \
    "fts @@ to_tsquery('simple'::regconfig, $2) AND" SELECTED "AND embedding IS NOT NULL " \
    "LIMIT $17::bigint) c, to_tsquery('simple'::regconfig, $18) q "
#define POLICY_COLUMNS \
    "id, tenant_id, role, rule, priority, active, description, created_at, updated_at"
#define IDENTITY_COLUMNS \
    "id, tenant_id, external_id, role, claims, active, created_at, updated_at"
#define APIKEY_COLUMNS \
    "id, tenant_id, identity_id, scopes, created_at, expires_at, last_used_at"
#define AUDIT_COLUMNS \
    "seq, at, identity_id, apikey_id, action, resources, outcome, policy_id, context, " \
    "prev_hash, hash"

static const char *const sql[PGS__COUNT] = {
    [PGS_BUMP_SEQ] = "UPDATE change_seq SET value = value + $1::bigint RETURNING value",

    [MNI_TENANT_INSERT] = "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)",
    [MNI_TENANT_GET] = "SELECT id, name, created_at FROM tenants WHERE id = $1 OR name = $1 "
                       "ORDER BY id = $1 DESC LIMIT 1",
    [MNI_TENANT_LIST] = "SELECT id, name, created_at FROM tenants ORDER BY name",
    [MNI_TENANT_LIST_UNRULED] = "SELECT id, name, created_at FROM tenants t WHERE policy_gen = 0 "
                                "AND NOT EXISTS (SELECT 1 FROM policies p "
                                "WHERE p.tenant_id = t.id) ORDER BY name",

    /* Erasing a tenant (store/op_tenant.c): the embedding jobs go with the memories
     * (trigger), the memories leave tombstones, which go next. Its feed horizon is a column
     * of its row; meta can only hold the token of index files, which this backend does not
     * write, but an erase leaves nothing of the tenant wherever it came from. */
    [MNI_TENANT_DELETE_HISTORY] = "DELETE FROM memory_history WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_MEMORIES] = "DELETE FROM memories WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_FEED] = "DELETE FROM memory_tombstones WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_APIKEYS] = "DELETE FROM apikeys WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_IDENTITIES] = "DELETE FROM identities WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_POLICIES] = "DELETE FROM policies WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_LIMITS] = "DELETE FROM ratelimit_limits WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_EMBED_CACHE] = "DELETE FROM embed_cache WHERE scope = $1",
    [MNI_TENANT_DELETE_DATAKEYS] = "DELETE FROM data_keys WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_WEBHOOKS] = "DELETE FROM webhooks WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_DELIVERIES] = "DELETE FROM webhook_deliveries WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_META] = "DELETE FROM meta WHERE key IN ('index:' || $1::text, "
                               "'rekey:' || $1::text, 'audit_retention:' || $1::text)",
    [MNI_TENANT_DELETE_AUDIT] = "DELETE FROM audit_log WHERE tenant_id = $1",
    [MNI_TENANT_DELETE_AUDIT_HEAD] = "DELETE FROM audit_heads WHERE tenant_id = $1",
    [MNI_TENANT_DELETE] = "DELETE FROM tenants WHERE id = $1",

    [MNI_POLICY_INSERT] = "INSERT INTO policies (" POLICY_COLUMNS ") "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    [MNI_POLICY_GET] = "SELECT " POLICY_COLUMNS " FROM policies WHERE tenant_id = $1 AND id = $2",
    [MNI_POLICY_LIST] = "SELECT " POLICY_COLUMNS " FROM policies WHERE tenant_id = $1 "
                        "ORDER BY priority DESC, id",
    [MNI_POLICY_UPDATE] = "UPDATE policies SET role = $3, rule = $4, priority = $5, active = $6, "
                          "description = $7, updated_at = $8 WHERE id = $1 AND tenant_id = $2",
    [MNI_POLICY_DELETE] = "DELETE FROM policies WHERE tenant_id = $1 AND id = $2",
    [MNI_POLICY_GEN_BUMP] = "UPDATE tenants SET policy_gen = policy_gen + 1 WHERE id = $1",
    /* The tenant (columns 0-3); an id wins over a name that happens to look the same. */
    [MNI_ACTOR_GET] = "SELECT id, name, created_at, policy_gen FROM (SELECT id, name, "
                      "created_at, policy_gen, 0 AS o FROM tenants WHERE id = $1 UNION ALL "
                      "SELECT id, name, created_at, policy_gen, 1 FROM tenants WHERE name = $1) "
                      "u ORDER BY o LIMIT 1",

    [MNI_IDENTITY_INSERT] = "INSERT INTO identities (" IDENTITY_COLUMNS ") "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    [MNI_IDENTITY_GET] = "SELECT " IDENTITY_COLUMNS " FROM identities "
                         "WHERE tenant_id = $1 AND (id = $2 OR external_id = $2) "
                         "ORDER BY id = $2 DESC LIMIT 1",
    [MNI_IDENTITY_LIST] = "SELECT " IDENTITY_COLUMNS " FROM identities WHERE tenant_id = $1 "
                          "ORDER BY external_id",
    [MNI_IDENTITY_SET_ACTIVE] = "UPDATE identities SET active = $3, updated_at = $4 "
                                "WHERE tenant_id = $1 AND id = $2",
    [MNI_IDENTITY_DELETE] = "DELETE FROM identities WHERE tenant_id = $1 AND id = $2",
    [MNI_IDENTITY_DELETE_APIKEYS] = "DELETE FROM apikeys WHERE tenant_id = $1 AND identity_id = $2",
    [MNI_IDENTITY_DELETE_MEMORIES] = "DELETE FROM memories WHERE tenant_id = $1 "
                                     "AND identity_id = $2",
    [MNI_IDENTITY_DELETE_HISTORY] = "DELETE FROM memory_history WHERE tenant_id = $1 AND "
                                    "memory_id IN (SELECT id FROM memories WHERE tenant_id = $1 "
                                    "AND identity_id = $2)",

    /* Memories go in by COPY (postgres/memory.c); row by row where the server has no COPY. */
    [PGS_MEMORY_INSERT] = "INSERT INTO memories (id, tenant_id, identity_id, text, type, "
                          "metadata, importance, version, created_at, updated_at, expires_at, "
                          "deleted, seq, embedding, content_hash, external_key, words, session) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, "
                          "$14, $15, $16, $17)",
    [PGS_MEMORY_GET] = "SELECT " MEMORY_COLUMNS " FROM memories WHERE tenant_id = $1 AND "
                       "id = $2 AND" VISIBLE,
    /* $2: the cursor (ids below it; NULL for the first page); $7: the page size plus one, or
     * NULL when a metadata filter (tested here, row by row) decides what a page holds. */
    [PGS_MEMORY_LIST] = "SELECT " MEMORY_COLUMNS " FROM memories WHERE tenant_id = $1 AND "
                        "($2::text IS NULL OR id < $2::text) AND" SELECTED
                        "ORDER BY id DESC LIMIT $7::bigint",
    /* How many PGS_MEMORY_LIST would return, every page: $2 and $7 as there (NULL: from the
     * newest, no limit). */
    [PGS_MEMORY_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM memories WHERE tenant_id = $1 AND "
                         "($2::text IS NULL OR id < $2::text) AND" SELECTED
                         "LIMIT $7::bigint) m",
    [MNI_MEMORY_UPDATE] = "UPDATE memories SET text = $3, type = $4, metadata = $5, "
                          "importance = $6, version = $7, updated_at = $8, seq = $9, "
                          "embedding = $10, content_hash = $12, "
                          "external_key = COALESCE($13, external_key), words = $14, "
                          "restored = false "
                          "WHERE tenant_id = $1 AND id = $2 AND version = $11 AND deleted = 0",
    [MNI_HISTORY_INSERT] = "INSERT INTO memory_history (tenant_id, memory_id, version, "
                           "changed_at, changed_by, before, after) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [MNI_HISTORY_LIST] = "SELECT version, changed_at, changed_by, before, after "
                         "FROM memory_history WHERE tenant_id = $1 AND memory_id = $2 "
                         "ORDER BY version",
    [MNI_DATAKEY_NEWEST] = "SELECT version, wrapped FROM data_keys WHERE tenant_id = $1 "
                           "ORDER BY version DESC LIMIT 1 FOR SHARE",
    [MNI_MEMORY_SOFT_DELETE] = "UPDATE memories SET deleted = 1, updated_at = $3, seq = $4 "
                               "WHERE tenant_id = $1 AND id = $2 AND deleted = 0",
    [MNI_MEMORY_HARD_DELETE] = "DELETE FROM memories WHERE tenant_id = $1 AND id = $2",
    [MNI_HISTORY_DELETE] = "DELETE FROM memory_history WHERE tenant_id = $1 AND memory_id = $2",
    [MNI_MEMORY_RESTORE] = "UPDATE memories SET deleted = 0, restored = true, "
                           "updated_at = $3, seq = $4 "
                           "WHERE tenant_id = $1 AND id = $2 AND deleted = 1",
    [MNI_MEMORY_EXPIRED] = "SELECT id FROM memories WHERE tenant_id = $1 AND expires_at > 0 "
                           "AND expires_at <= $2",
    /* $2: whether a metadata filter needs the metadata column (reading it costs time); $7
     * NULL (every row). */
    [PGS_MEMORY_SCAN] = "SELECT key, embedding, CASE WHEN $2::bool THEN metadata END, "
                        "CASE WHEN $2::bool THEN id END FROM memories WHERE tenant_id = $1 AND" SELECTED
                        "AND embedding IS NOT NULL LIMIT $7::bigint",
    [PGS_MEMORY_GET_KEYS] = "SELECT " MEMORY_COLUMNS " FROM memories WHERE tenant_id = $1 AND "
                            "key = ANY ($2::bigint[]) AND" VISIBLE,

    /* The change feed: $2, $3 the (seq, key) cursor, $4 the highest seq, $5 the page size
     * (NULL = all), $6 the owner (NULL = any). A tombstone written before 017_public_feed.sql
     * has no memory id. */
    /* What a batch of adds repeats (postgres/dedup.c): $2 a JSON array of {"n": input,
     * "i": identity, "k": key, "t": type, "h": content hash}, $3 now; per input that finds
     * one, its n and the id and key found: the key's holder, else (t set) the oldest live,
     * unexpired memory of that content. */
    [PGS_MEMORY_FIND_MANY] =
        "SELECT r.n, coalesce(k.id, c.id), coalesce(k.key, c.key) "
        "FROM jsonb_to_recordset($2::jsonb) AS r(n int, i text COLLATE \"C\", "
        "k text COLLATE \"C\", t text COLLATE \"C\", h text COLLATE \"C\") "
        "LEFT JOIN LATERAL (SELECT m.id, m.key FROM memories m WHERE m.tenant_id = $1 AND "
        "m.identity_id = r.i AND m.external_key = r.k) k ON true "
        "LEFT JOIN LATERAL (SELECT m.id, m.key FROM memories m WHERE k.id IS NULL AND "
        "r.t IS NOT NULL AND m.tenant_id = $1 AND m.identity_id = r.i AND m.type = r.t AND "
        "m.content_hash = r.h AND m.deleted = 0 AND (m.expires_at = 0 OR "
        "m.expires_at > $3::bigint) ORDER BY m.id LIMIT 1) c ON true "
        "WHERE coalesce(k.id, c.id) IS NOT NULL",
    [PGS_SEQ_GET] = "SELECT value FROM change_seq",
    [PGS_MEMORY_CHANGES] = "SELECT key, seq, 0 AS gone, deleted, expires_at, identity_id, type, "
                           "embedding, id, version, session, restored::int, metadata, importance, "
                           "created_at, updated_at "
                           "FROM memories WHERE tenant_id = $1 AND "
                           "(seq, key) > ($2::bigint, $3::bigint) AND seq <= $4::bigint "
                           "AND ($6::text IS NULL OR identity_id = $6::text) "
                           "UNION ALL SELECT key, seq, 1, 0, 0, identity_id, type, NULL, "
                           "memory_id, version, session, 0, NULL, 0, 0, 0 "
                           "FROM memory_tombstones WHERE tenant_id = $1 AND "
                           "(seq, key) > ($2::bigint, $3::bigint) AND seq <= $4::bigint "
                           "AND ($6::text IS NULL OR identity_id = $6::text) "
                           "ORDER BY 2, 1 LIMIT $5::bigint",
    [PGS_MEMORY_SEQS] = "SELECT key, seq FROM memories WHERE tenant_id = $1 AND seq <= $2",
    [PGS_MEMORY_DIGEST] = "SELECT n, sum FROM memory_digest WHERE tenant_id = $1",
    /* Pruning the feed (postgres/feed.c): $2 the seq up to which tombstones go. The horizon only
     * rises (two pruners may finish in either order). */
    [PGS_FEED_PRUNE] = "DELETE FROM memory_tombstones WHERE tenant_id = $1 AND seq <= $2",
    [PGS_FEED_HORIZON_PUT] = "UPDATE tenants SET feed_horizon = GREATEST(feed_horizon, "
                             "$2::bigint) WHERE id = $1",
    [PGS_FEED_HORIZON_GET] = "SELECT feed_horizon FROM tenants WHERE id = $1",
    [MNI_META_GET] = "SELECT value FROM meta WHERE key = $1",
    [MNI_META_PUT] = "INSERT INTO meta (key, value) VALUES ($1, $2) "
                     "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    [MNI_META_DELETE] = "DELETE FROM meta WHERE key = $1",
    [MNI_META_ADD] = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    [MNI_MAINT_TAKE] = "INSERT INTO maintenance (task, holder, lease_until, last_run_at) "
                       "VALUES ($1, $2, $4::bigint, $3::bigint) ON CONFLICT (task) DO UPDATE "
                       "SET holder = EXCLUDED.holder, lease_until = EXCLUDED.lease_until, "
                       "last_run_at = EXCLUDED.last_run_at WHERE maintenance.lease_until < "
                       "$3::bigint AND ($5::int = 1 OR maintenance.last_run_at <= "
                       "$3::bigint - $6::bigint)",
    [MNI_MEMORY_UNHASHED] = "SELECT tenant_id, id, text FROM memories WHERE content_hash IS NULL "
                           "LIMIT $1::bigint",
    [MNI_MEMORY_HASH_SET] = "UPDATE memories SET content_hash = $3 WHERE tenant_id = $1 AND id = $2 "
                            "AND content_hash IS NULL",
    [MNI_MAINT_GET] = "SELECT holder, lease_until, last_run_at FROM maintenance WHERE task = $1",
    [MNI_MAINT_DONE] = "UPDATE maintenance SET lease_until = 0, last_ok_at = CASE WHEN "
                       "$6::text IS NULL THEN $3::bigint ELSE last_ok_at END, last_items = "
                       "$4::bigint, last_ms = $5::bigint, last_error = $6::text "
                       "WHERE task = $1 AND holder = $2",

    /* Data keys and re-keying (store/vault.c, store/op_rekey.c). */
    [MNI_DATAKEY_ADD] = "INSERT INTO data_keys (tenant_id, version, wrapped, created_at) "
                        "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    [MNI_DATAKEY_LIST] = "SELECT version, wrapped FROM data_keys WHERE tenant_id = $1 "
                         "ORDER BY version",
    [MNI_DATAKEY_ALL] = "SELECT tenant_id, version, wrapped FROM data_keys",
    [MNI_DATAKEY_SET] = "UPDATE data_keys SET wrapped = $3 WHERE tenant_id = $1 AND version = $2",
    [MNI_DATAKEY_DROP_BELOW] = "DELETE FROM data_keys WHERE tenant_id = $1 AND version < $2",
    [MNI_REKEY_MEMORIES] = "SELECT key, id, text, metadata FROM memories WHERE tenant_id = $1 "
                           "AND key > $2 ORDER BY key LIMIT $3",
    [MNI_REKEY_MEMORY_SET] = "UPDATE memories SET text = $3, metadata = $4, content_hash = $7, "
                             "words = coalesce($8::text, words) WHERE tenant_id = $1 "
                             "AND key = $2 AND text = $5 AND metadata = $6",
    [MNI_REKEY_HISTORY] = "SELECT key, memory_id, version, before, after FROM memory_history "
                          "WHERE tenant_id = $1 AND key > $2 ORDER BY key LIMIT $3",
    [MNI_REKEY_HISTORY_SET] = "UPDATE memory_history SET before = $3, after = $4 "
                              "WHERE tenant_id = $1 AND key = $2",

    /* API keys (store/op_apikey.c). */
    [MNI_APIKEY_INSERT] = "INSERT INTO apikeys (id, tenant_id, identity_id, hash, scopes, "
                          "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [MNI_APIKEY_GET] = "SELECT " APIKEY_COLUMNS ", hash, (SELECT active FROM identities i "
                       "WHERE i.tenant_id = apikeys.tenant_id AND i.id = apikeys.identity_id) "
                       "FROM apikeys WHERE id = $1",
    [MNI_APIKEY_LIST] = "SELECT " APIKEY_COLUMNS " FROM apikeys WHERE tenant_id = $1 AND "
                        "($2::text IS NULL OR identity_id = $2) ORDER BY created_at, id",
    [MNI_APIKEY_DELETE] = "DELETE FROM apikeys WHERE tenant_id = $1 AND id = $2",
    [MNI_APIKEY_TOUCH] = "UPDATE apikeys SET last_used_at = $2 WHERE id = $1 AND "
                         "last_used_at <= $3",

    /* The audit chain (store/op_audit.c). The upsert locks the tenant's head row until the
     * write ends: a second appender, in any process, waits for it and then reads the new head.
     * The row also holds retention's checkpoint (pruned, pruned_hash). */
    [MNI_AUDIT_HEAD] = "INSERT INTO audit_heads (tenant_id, seq, hash, pruned, pruned_hash) "
                       "VALUES ($1, 0, '', 0, '') ON CONFLICT (tenant_id) DO UPDATE "
                       "SET seq = audit_heads.seq RETURNING seq, hash",
    [MNI_AUDIT_INSERT] = "INSERT INTO audit_log (tenant_id, " AUDIT_COLUMNS ") VALUES "
                         "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    [MNI_AUDIT_HEAD_SET] = "UPDATE audit_heads SET seq = $2, hash = $3 WHERE tenant_id = $1",
    [MNI_AUDIT_HEAD_GET] = "SELECT seq, hash FROM audit_heads WHERE tenant_id = $1 AND seq > 0",
    [MNI_AUDIT_CHECKPOINT_GET] = "SELECT pruned, pruned_hash FROM audit_heads "
                                 "WHERE tenant_id = $1 AND pruned > 0",
    [MNI_AUDIT_CHECKPOINT_SET] = "UPDATE audit_heads SET pruned = $2, pruned_hash = $3 "
                                 "WHERE tenant_id = $1 AND pruned < $2",
    [MNI_AUDIT_PRUNE_END] = "SELECT seq, hash FROM audit_log WHERE tenant_id = $1 AND seq < "
                            "coalesce((SELECT min(seq) FROM audit_log WHERE tenant_id = $1 "
                            "AND at >= $2::bigint), 9223372036854775807) "
                            "ORDER BY seq DESC LIMIT 1",
    [MNI_AUDIT_PRUNE] = "DELETE FROM audit_log WHERE tenant_id = $1 AND seq <= $2",
    [MNI_AUDIT_RETENTION_GET] = "SELECT value::bigint FROM meta "
                                "WHERE key = 'audit_retention:' || $1::text",
    [MNI_AUDIT_RETENTION_SET] = "INSERT INTO meta (key, value) VALUES ('audit_retention:' || "
                                "$1::text, $2) ON CONFLICT (key) DO UPDATE SET value = "
                                "excluded.value",
    [MNI_AUDIT_LIST] = "SELECT " AUDIT_COLUMNS " FROM audit_log WHERE tenant_id = $1 AND "
                       "($2::text IS NULL OR left(action, length($2)) = $2) AND "
                       "($3::text IS NULL OR identity_id = $3) AND "
                       "($4::text IS NULL OR resources::jsonb ? $4) AND "
                       "($5::text IS NULL OR outcome = $5) AND "
                       "at >= $6 AND at < $7 AND seq > $8 ORDER BY seq "
                       "LIMIT NULLIF($9::bigint, 0)",

    /* $2: the words joined by " | " (a tsquery of words only: store/keywords.c), the rarest
     * of the query's (store/keywords.h), which find the candidates; $18 every word of the
     * query, which ts_rank scores them by; $7: how many; $17: how many candidates to rank at
     * most (NULL: all), the first ones the partition's GIN index on fts finds: the scan
     * stops there, and only they are ranked. */
    [PGS_MEMORY_KEYWORD] = "SELECT key, ts_rank(fts, q) FROM " KEYWORD_CANDIDATES
                           "ORDER BY 2 DESC, key LIMIT $7::bigint",
    /* The same, and every row tied with the last of them (MNI_KEYWORDS_TIES: store.h). */
    [PGS_MEMORY_KEYWORD_TIES] = "SELECT key, ts_rank(fts, q) FROM " KEYWORD_CANDIDATES
                                "ORDER BY 2 DESC FETCH FIRST ($7::bigint) ROWS WITH TIES",
    /* $2: a JSON array of words (letters and digits only: store/keywords.h), each a tsquery
     * of its own; $7: the count's cap. Rows: the word's index (from 0), its count. */
    [PGS_MEMORY_WORD_COUNTS] = "SELECT w.n - 1, (SELECT count(*) FROM (SELECT 1 FROM memories "
                               "WHERE tenant_id = $1 AND fts @@ to_tsquery('simple'::regconfig, "
                               "w.v) AND" SELECTED "AND embedding IS NOT NULL LIMIT $7::bigint) x) "
                               "FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY w(v, n)",
    /* pgvector: the nearest rows by cosine distance, through the partition's HNSW index on
     * mn_search_key(embedding) (the column, or beyond 2000 dimensions the column as halfvec:
     * sql/postgres/013_wide_vectors.sql); the similarity is the full-precision one. $2 is the
     * query vector, $7 how many. */
    [PGS_MEMORY_SEARCH] = "SELECT key, 1 - (embedding <=> $2) FROM memories "
                          "WHERE tenant_id = $1 AND" SELECTED "AND embedding IS NOT NULL "
                          "ORDER BY mn_search_key(embedding) <=> mn_search_key($2) "
                          "LIMIT $7::bigint",
    /* A setting for the current transaction only (hnsw.ef_search, hnsw.iterative_scan). */
    [PGS_SET_LOCAL] = "SELECT set_config($1, $2, true)",

    /* Rate-limit overrides (store/op_limit.c) and the embedding cache (postgres/embed.c,
     * store/op_embed.c). */
    [MNI_RATELIMIT_PUT] = "INSERT INTO ratelimit_limits (tenant_id, endpoint, max_calls, "
                          "window_ms, updated_at) VALUES ($1, $2, $3, $4, $5) "
                          "ON CONFLICT (tenant_id, endpoint) DO UPDATE SET "
                          "max_calls = EXCLUDED.max_calls, window_ms = EXCLUDED.window_ms, "
                          "updated_at = EXCLUDED.updated_at",
    [MNI_RATELIMIT_LIST] = "SELECT endpoint, max_calls, window_ms FROM ratelimit_limits "
                           "WHERE tenant_id = $1 ORDER BY endpoint",
    [MNI_RATELIMIT_DELETE] = "DELETE FROM ratelimit_limits WHERE tenant_id = $1 "
                             "AND endpoint = $2",
    /* $4: the hashes, one array; rows come back with their index in it. */
    [PGS_EMBED_CACHE_GET] = "SELECT h.i, c.vector FROM unnest($4::bytea[]) WITH ORDINALITY "
                            "AS h (hash, i) JOIN embed_cache c ON c.scope = $1 AND "
                            "c.model = $2 AND c.dim = $3 AND c.hash = h.hash",
    [MNI_EMBED_CACHE_OLD] = "SELECT model, dim, encode(hash, 'hex') FROM embed_cache WHERE scope = $1 "
                            "AND created_at < $2",
    [MNI_EMBED_CACHE_DELETE] = "DELETE FROM embed_cache WHERE scope = $1 AND model = $2 AND "
                               "dim = $3 AND hash = $4",
    [MNI_MEMORY_TEXTS] = "SELECT key, id, text FROM memories WHERE tenant_id = $1 AND key > $2 "
                         "ORDER BY key LIMIT $3",
    [MNI_EMBED_CACHE_PUT] = "INSERT INTO embed_cache (scope, model, dim, hash, vector, "
                            "created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",

    /* Embedding jobs (postgres/jobs.c). Status 1 pending, 2 failed. Enqueue: the jobs of
     * the tenant's memories just written with these seqs ($2, an array), due at once; a new
     * text replaces a pending or failed job. */
    [PGS_JOB_ENQUEUE] = "INSERT INTO embed_jobs (tenant_id, memory_key, status, attempts, "
                        "run_after, created_at, updated_at) SELECT tenant_id, key, 1, 0, "
                        "updated_at, updated_at, updated_at FROM memories WHERE tenant_id = $1 "
                        "AND seq = ANY ($2::bigint[]) ON CONFLICT (tenant_id, memory_key) DO "
                        "UPDATE SET status = 1, attempts = 0, run_after = EXCLUDED.run_after, "
                        "claim = NULL, error = NULL, updated_at = EXCLUDED.updated_at",
    [MNI_JOB_DROP] = "DELETE FROM embed_jobs WHERE tenant_id = $1 AND memory_key = "
                     "(SELECT key FROM memories WHERE tenant_id = $1 AND id = $2)",
    /* $1 claim, $2 now, $3 lease end, $4 limit: the longest-waiting due jobs of any tenant
     * (workers serve them all). SKIP LOCKED: concurrent claimers, in other processes too,
     * take disjoint jobs and never wait for each other. The memories' text and version come
     * in the same round trip, by tenant. */
    [PGS_JOB_CLAIM] = "WITH claimed AS (UPDATE embed_jobs SET claim = $1, run_after = $3, "
                      "attempts = attempts + 1, updated_at = $2 WHERE (tenant_id, memory_key) "
                      "IN (SELECT tenant_id, memory_key FROM embed_jobs WHERE status = 1 AND "
                      "run_after <= $2 ORDER BY run_after, memory_key LIMIT $4 "
                      "FOR UPDATE SKIP LOCKED) RETURNING tenant_id, memory_key, attempts) "
                      "SELECT c.memory_key, m.version, c.attempts, m.tenant_id, m.id, m.text "
                      "FROM claimed c JOIN memories m ON m.tenant_id = c.tenant_id AND "
                      "m.key = c.memory_key ORDER BY m.tenant_id, c.memory_key",
    /* $2 key, $3 version, $4 claim, $5 vector, $6 seq: only while the claim holds the job,
     * which stays locked to the commit (no claim can take it meanwhile). */
    [PGS_JOB_STORE] = "UPDATE memories SET embedding = $5, seq = $6 WHERE tenant_id = $1 AND "
                      "key = $2 AND version = $3 AND EXISTS (SELECT 1 FROM embed_jobs WHERE "
                      "tenant_id = $1 AND memory_key = $2 AND claim = $4 FOR UPDATE)",
    [PGS_JOB_ACK] = "DELETE FROM embed_jobs WHERE tenant_id = $1 AND memory_key = $2 AND "
                    "claim = $3",
    /* The memory changed but kept its text: due again at $4, this claim not counted. */
    [PGS_JOB_RELEASE] = "UPDATE embed_jobs SET claim = NULL, run_after = $4, "
                        "attempts = attempts - 1, updated_at = $4 WHERE tenant_id = $1 AND "
                        "memory_key = $2 AND claim = $3",
    /* $4 now, $5 next attempt (0: failed for good), $6 error. */
    [PGS_JOB_FAIL] = "UPDATE embed_jobs SET claim = NULL, status = CASE WHEN $5::bigint > 0 "
                     "THEN 1 ELSE 2 END, run_after = $5, error = $6, updated_at = $4 "
                     "WHERE tenant_id = $1 AND memory_key = $2 AND claim = $3",
    /* $2 status (0 = any), $3 limit. */
    [MNI_STORE_STATS] = "SELECT COALESCE(SUM(CASE WHEN status = 1 THEN 1 ELSE 0 END), 0)::bigint, "
                        "COALESCE(SUM(CASE WHEN status = 2 THEN 1 ELSE 0 END), 0)::bigint, "
                        "COALESCE(MIN(CASE WHEN status = 1 THEN created_at END), 0)::bigint, "
                        "(SELECT COUNT(*) FROM tenants)::bigint FROM embed_jobs",
    [MNI_JOB_LIST] = "SELECT m.id, j.tenant_id, j.status, j.attempts, j.run_after, j.error, "
                     "j.created_at, j.updated_at FROM embed_jobs j JOIN memories m "
                     "ON m.tenant_id = j.tenant_id AND m.key = j.memory_key "
                     "WHERE j.tenant_id = $1 AND ($2::int = 0 OR j.status = $2::int) "
                     "ORDER BY j.memory_key LIMIT $3::bigint",
    [PGS_JOB_RETRY_ONE] = "UPDATE embed_jobs SET status = 1, attempts = 0, run_after = $3, "
                          "claim = NULL, updated_at = $3 WHERE tenant_id = $1 AND memory_key = "
                          "(SELECT key FROM memories WHERE tenant_id = $1 AND id = $2)",
    [PGS_JOB_RETRY_FAILED] = "UPDATE embed_jobs SET status = 1, attempts = 0, run_after = $2, "
                             "claim = NULL, updated_at = $2 WHERE tenant_id = $1 AND status = 2",
    /* Webhooks (store/op_webhook.c). */
    [MNI_WEBHOOK_INSERT] = "INSERT INTO webhooks (id, tenant_id, url, events, secret, "
                           "created_at) VALUES ($1, $2, $3, $4::int, $5, $6::bigint)",
    [MNI_WEBHOOK_LIST] = "SELECT id, tenant_id, url, events, created_at FROM webhooks "
                         "WHERE tenant_id = $1 ORDER BY created_at, id",
    [MNI_WEBHOOK_DELETE] = "DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2",
    [MNI_WEBHOOK_DROP_DELIVERIES] = "DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND "
                                    "webhook_id = $2",
    [MNI_WEBHOOK_ENQUEUE] = "INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, "
                            "event, body, status, next_at, created_at, updated_at) "
                            "SELECT $1, id, $3, $4, $5, 1, $6::bigint, $6::bigint, $6::bigint "
                            "FROM webhooks WHERE tenant_id = $1 AND (events & $2::int) <> 0 "
                            "AND ($7::text IS NULL OR id = $7::text)",
    [MNI_WEBHOOK_DELIVERY_ID] = "SELECT id FROM webhook_deliveries WHERE tenant_id = $1 AND "
                                "webhook_id = $2 AND event_id = $3",
    [MNI_WEBHOOK_DELIVERIES] = "SELECT id, webhook_id, event_id, event, status, attempts, "
                               "next_at, http_status, error, created_at, updated_at "
                               "FROM webhook_deliveries WHERE tenant_id = $1 AND ($2::text IS "
                               "NULL OR webhook_id = $2::text) AND ($3::int = 0 OR status = "
                               "$3::int) ORDER BY id DESC LIMIT $4::bigint",
    [MNI_WEBHOOK_RETRY] = "UPDATE webhook_deliveries SET status = 1, attempts = 0, "
                          "next_at = $3::bigint, claim = NULL, updated_at = $3::bigint "
                          "WHERE tenant_id = $1 AND status = 3 AND ($2::bigint = 0 OR "
                          "id = $2::bigint)",
    /* SKIP LOCKED: concurrent claimers, in other processes too, take different rows. */
    [MNI_WEBHOOK_CLAIM] = "UPDATE webhook_deliveries SET claim = $1, next_at = $3::bigint, "
                          "attempts = attempts + 1, updated_at = $2::bigint WHERE id IN "
                          "(SELECT id FROM webhook_deliveries WHERE status = 1 AND "
                          "next_at <= $2::bigint ORDER BY next_at, id LIMIT $4::bigint "
                          "FOR UPDATE SKIP LOCKED)",
    [MNI_WEBHOOK_CLAIMED] = "SELECT d.id, d.tenant_id, d.webhook_id, d.event_id, d.event, "
                            "d.body, d.attempts, w.url, w.secret FROM webhook_deliveries d "
                            "JOIN webhooks w ON w.id = d.webhook_id WHERE d.claim = $1 "
                            "ORDER BY d.id",
    [MNI_WEBHOOK_SETTLE] = "UPDATE webhook_deliveries SET status = $3::int, http_status = "
                           "$4::int, error = $5, next_at = $6::bigint, claim = NULL, "
                           "updated_at = $7::bigint WHERE id = $1::bigint AND claim = $2",
    [MNI_REKEY_WEBHOOKS] = "SELECT id, secret FROM webhooks WHERE tenant_id = $1 ORDER BY id",
    [MNI_REKEY_WEBHOOK_SET] = "UPDATE webhooks SET secret = $3 WHERE tenant_id = $1 AND id = $2",
};

const char *pgs_sql(int id)
{
    return sql[id];
}
