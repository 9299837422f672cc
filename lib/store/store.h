/*
 * The store interface. A backend (sqlite, later postgres) fills a struct mni_store_ops; mn_open
 * picks one from the URL scheme. Nothing above this interface names a backend.
 *
 * The API layer validates input, resolves actors to tenant and identity ids, embeds text and
 * makes ids and timestamps; a backend only persists and queries. Every function takes the
 * tenant id and must never touch another tenant's rows. Errors are reported with mni_seterr()
 * on s->db. Every change bumps the store-wide sequence (seq) and is reported through
 * mni_store_changed, so that an index can follow.
 */
#ifndef MNI_STORE_STORE_H
#define MNI_STORE_STORE_H

#include "manushya.h"

#include <cJSON.h>
#include <stdint.h>

/* Called after a committed change to the tenant's memories (the handle's vector index
 * follows through it); the store never calls up into the layers above it otherwise. */
typedef void (*mni_changed_fn)(void *ctx, const char *tenant_id);

struct mni_driver;
struct mni_audit;
struct mni_audit_query;
struct mni_metrics;
struct mni_webhook_task;
struct mni_webhook_result;

/* An API key as stored: what the public struct shows, and the hash only the API reads. */
struct mni_apikey_row {
    mn_apikey key;
    char *hash;                /* hex */
    int identity_active;       /* the key's identity may act (it exists and is active) */
};

/* Common head of every backend's store struct. */
struct mni_store {
    const struct mni_store_ops *ops;
    const struct mni_driver *driver; /* runs the operations written once (store/driver.h) */
    mn_db *db;                 /* errors are set on it (mni_seterr); the store never looks inside */
    unsigned flags;            /* mn_config.flags (MN_OPEN_*), set by the backend's open */
    int dim;                   /* the database's embedding dimension, set by mni_store_open */
    mni_changed_fn changed;    /* NULL: nobody follows */
    void *changed_ctx;
    struct mni_vault *vault;   /* encryption at rest (store/vault.h); NULL: a plain store */
    /* Metrics (core/metrics.h): the handle's, or NULL; set by mni_store_set_metrics after the
     * open. The backend's open sets pool_kind (MNI_POOL_*) and pool_max, the connections its
     * pools may hold; its pools count takes, waits and timeouts on metrics. */
    struct mni_metrics *_Atomic metrics; /* atomic: the checkpointer thread reads it */
    int pool_kind, pool_max;
    int schema_latest;         /* the last migration this library has, set by the open */
};

/* The store's figures for metrics and health (mni_store_ops.stats). */
struct mni_store_stats {
    int64_t jobs_pending, jobs_failed;
    int64_t jobs_oldest_ms;    /* created_at of the oldest pending job, 0: none */
    int64_t tenants;
};

/* What list, scan and get select. */
struct mni_store_query {
    const char *identity_id;   /* NULL = any */
    const char *type;          /* NULL = any */
    const cJSON *metadata;     /* containment filter, NULL = none */
    unsigned flags;            /* MN_WITH_* */
    int64_t now;               /* for expiry */
    const char *before_id;     /* list: only ids below this (the cursor) */
    int limit;                 /* list: page size */
    /* Any-of lists (mn_filter version 2): n strings each, and the same as a JSON array of
     * strings (what a backend binds); NULL / 0 = any. A filter's single session is a list of
     * one. identities holds identity ids. */
    const char *const *sessions, *const *types, *const *identities;
    size_t n_sessions, n_types, n_identities;
    const char *sessions_json, *types_json, *identities_json;
    /* Ranges: created_at and updated_at in [after, before), 0 = unbounded on that side;
     * importance in [importance_min, importance_max] when importance_bounded. */
    int64_t created_after, created_before, updated_after, updated_before;
    int importance_bounded;
    double importance_min, importance_max;
};

/* Whether q has a range. */
static inline int mni_query_has_range(const struct mni_store_query *q)
{
    return q->created_after || q->created_before || q->updated_after || q->updated_before ||
           q->importance_bounded;
}
/* Whether q has a condition beyond identity, type, flags and metadata (a list or a range). */
static inline int mni_query_has_more(const struct mni_store_query *q)
{
    return q->sessions_json || q->types_json || q->identities_json || mni_query_has_range(q);
}
/* The bounds a backend binds for q's ranges: an unbounded side becomes the widest value. */
#define MNI_QUERY_BEFORE(t) ((t) ? (t) : INT64_MAX)
#define MNI_QUERY_IMPORTANCE_MIN(q) ((q)->importance_bounded ? (q)->importance_min : -1.0)
#define MNI_QUERY_IMPORTANCE_MAX(q) ((q)->importance_bounded ? (q)->importance_max : 2.0)

/* What of a memory q's conditions other than metadata, flags and expiry look at. */
struct mni_query_fields {
    const char *identity_id, *type, *session; /* session NULL: none */
    int64_t created_at, updated_at;
    double importance;
};
/* Whether q's identity, type, lists and ranges select a memory with these fields
 * (store/query_fields.c): the one test of them in C, for rows and for feed changes alike. */
int mni_query_selects_fields(const struct mni_store_query *q, const struct mni_query_fields *f);
/* Whether q's ranges (created, updated, importance) hold these values. */
static inline int mni_query_ranges_hold(const struct mni_store_query *q, int64_t created_at,
                                        int64_t updated_at, double importance)
{
    return created_at >= q->created_after && created_at < MNI_QUERY_BEFORE(q->created_before) &&
           updated_at >= q->updated_after && updated_at < MNI_QUERY_BEFORE(q->updated_before) &&
           importance >= MNI_QUERY_IMPORTANCE_MIN(q) && importance <= MNI_QUERY_IMPORTANCE_MAX(q);
}

/* A memory row as written; the backend assigns seq. */
struct mni_memory_row {
    const char *id;
    const char *identity_id;
    const char *text;
    const char *type;
    const char *metadata;      /* compact JSON object */
    double importance;
    int64_t version;
    int64_t created_at, updated_at, expires_at;
    const float *embedding;    /* unit vector of the database's dimension */
    /* Asynchronous embedding: embedding is NULL, and the backend enqueues the row's
     * embedding job (replacing a pending one) in the same transaction. A row written with an
     * embedding drops any pending job of its memory. */
    int embed_job;
    /* Deduplication and upsert: the caller's key (NULL: none). The backend stores the
     * content hash of text (store/vault.h) with every row it writes. */
    const char *external_key;
    /* The keyword index's words for the text (an encrypted store's blind index, store/
     * keywords.c), set by mni_vault_seal_rows; NULL: the backend indexes the text itself. */
    const char *words;
    const char *session;       /* the conversation, NULL: none */
    /* The content hash of text that the add's lookup made (memory_find_many), which a plain
     * store's write takes instead of hashing the text again (mni_op_memory_claims); NULL:
     * the backend hashes the text. */
    const char *content_hash;
};

/* The length of a content hash in hex (store/vault.h). */
#define MNI_CONTENT_HASH_HEX 64

/* What an add looks for in the store (memory_find_many): the memory of identity_id that
 * holds key (in any state), or else (type set) the oldest live, unexpired one of that type
 * whose text normalises as text does (the same content hash). */
struct mni_find {
    const char *identity_id;
    const char *key;    /* NULL: none */
    const char *type;   /* NULL: not by content */
    const char *text;
    char hash[MNI_CONTENT_HASH_HEX + 1]; /* text's content hash (type set), filled by it */
};

/* An existing memory's next version, written by an add that found it (an upsert, a
 * duplicate's merge): as memory_update writes it. */
struct mni_memory_rewrite {
    struct mni_memory_row row;
    int64_t expected_version;
    const char *changed_by, *before, *after;
};

/* What one add writes, in one transaction: new rows, and rewrites of the memories it found.
 * A new row whose key another row of its owner holds, or (dedup) whose content a live one of
 * its owner and type has, by now (a writer that committed since the add looked), fails the
 * write with MNI_EBUSY_VERSION, as a rewrite whose memory moved does: the add looks again.
 * au_create (the new rows) and au_update (the rewrites) are appended; either may be NULL. */
struct mni_memory_writes {
    const struct mni_memory_row *rows;
    size_t n;
    const unsigned char *dedup;  /* n flags (NULL: none): check row i's content */
    const struct mni_memory_rewrite *rewrites;
    size_t nrewrites;
    int64_t now;
    const struct mni_audit *au_create, *au_update;
    /* The store's change number as the lookup that planned this write saw it
     * (memory_find_many), 0 when unknown: a write that finds the store unchanged since
     * knows that lookup's answer (no row holds a new row's key or content) still holds. */
    int64_t seen_seq;
};

/* A claimed embedding job: the memory as it was when claimed. */
struct mni_embed_task {
    int64_t key;               /* the memory's store key */
    int64_t version;           /* its version when claimed: the vector is stored only if the
                                * memory still has it */
    int attempts;              /* this one included */
    char *tenant_id, *memory_id, *text;
};
void mni_embed_tasks_free(struct mni_embed_task *t, size_t n);
/* How a claim ends: rc, the tasks' texts opened (an encrypted store), and the tasks freed
 * (*out NULL, *n 0) when rc is a failure. */
int mni_embed_tasks_claimed(struct mni_store *s, int rc, struct mni_embed_task **out,
                            size_t *n);

/* Called by scan for every selected memory: its store key and its unit vector, dim floats in
 * native byte order that may sit at any address (read them with mni_ip or memcpy). */
typedef void (*mni_scan_fn)(void *ctx, int64_t key, const void *vec);
/* Called by memory_search for every hit: its store key and cosine similarity. */
typedef void (*mni_hit_fn)(void *ctx, int64_t key, float similarity);
/* memory_keyword_search's flags. */
#define MNI_KEYWORDS_ALL  1u /* memories holding every word, not any */
#define MNI_KEYWORDS_TIES 2u /* past want, every match tied with the last one given */

/* One entry of the change feed (memory_changes): a memory as its last change left it, or the
 * tombstone of a hard-deleted one. Strings and the vector are valid during the call only. */
struct mni_change {
    int64_t key, seq;
    int gone;                  /* hard-deleted: only key, seq and the memory's id, owner,
                                * type, session and version are set (id NULL in a tombstone
                                * older than the public feed) */
    int deleted;               /* soft-deleted */
    int restored;              /* the last change was a restore */
    int64_t expires_at;        /* 0 = never */
    int64_t version;
    const char *id, *identity_id, *type, *session; /* session: NULL when none */
    const char *metadata;      /* as stored (sealed in an encrypted store); NULL when gone */
    double importance;
    const void *embedding;     /* dim floats at any address, NULL when gone */
    int64_t created_at, updated_at;
};
/* Nonzero stops the read. */
typedef int (*mni_change_fn)(void *ctx, const struct mni_change *c);
typedef void (*mni_seq_fn)(void *ctx, int64_t key, int64_t seq);

/* A (key, seq) pair's term in the store's digest (memory_digest), in [0, MNI_DIGEST_P): x^2 mod
 * p, x = (key * 48271 + seq * 16807 + 1) mod p, in 64-bit integers without overflow. The
 * backends' schemas compute the same (sql/sqlite/019_memory_digest.sql,
 * sql/postgres/020_memory_digest.sql): the three must not drift. Squaring makes the sum of
 * terms no linear function of the keys and seqs, so unrelated differences do not cancel. */
#define MNI_DIGEST_P 2147483647LL
/* v mod p for 0 <= v < 2^62: p = 2^31 - 1, so 2^31 = 1 (mod p) and the bits above the 31st fold
 * onto the rest by an add. An index checks its files by summing a term for each of their keys
 * (100,000 at 100k memories): folding costs a fraction of the divisions' sequences. */
static inline int64_t mni_digest_mod(uint64_t v)
{
    v = (v & (uint64_t)MNI_DIGEST_P) + (v >> 31);
    v = (v & (uint64_t)MNI_DIGEST_P) + (v >> 31);
    return (int64_t)(v >= (uint64_t)MNI_DIGEST_P ? v - (uint64_t)MNI_DIGEST_P : v);
}
static inline int64_t mni_digest_term(int64_t key, int64_t seq)
{
    if (key < 0 || seq < 0) { /* C's remainder of a negative number, as the schemas' */
        int64_t x = ((key % MNI_DIGEST_P) * 48271 + (seq % MNI_DIGEST_P) * 16807 + 1) %
                    MNI_DIGEST_P;
        return x * x % MNI_DIGEST_P;
    }
    int64_t x = mni_digest_mod((uint64_t)mni_digest_mod((uint64_t)key) * 48271 +
                               (uint64_t)mni_digest_mod((uint64_t)seq) * 16807 + 1);
    return mni_digest_mod((uint64_t)(x * x));
}

struct mni_store_ops {
    const char *scheme;
    /* target is the URL without its scheme. *dim: the dimension the caller wants for a new
     * database (0 = default); on return, the database's dimension. */
    int (*open)(mn_db *db, const char *target, const mn_config *cfg, int *dim,
                struct mni_store **out);
    void (*close)(struct mni_store *s);
    int (*schema_version)(struct mni_store *s, int *version);

    /* Inserts the tenant and its first policies in one transaction. */
    int (*tenant_insert)(struct mni_store *s, const mn_tenant *t, const mn_policy *policies,
                         size_t npolicies);
    int (*tenant_get)(struct mni_store *s, const char *id_or_name, mn_tenant **out);
    int (*tenant_list)(struct mni_store *s, mn_tenants **out);
    /* Tenants that never had a policy (made before policies existed). */
    int (*tenant_list_unruled)(struct mni_store *s, mn_tenants **out);
    /* Erases the tenant and every row of it, all or nothing: memories, history, the change
     * feed, identities, API keys, policies, rate-limit overrides, embedding jobs, the
     * embedding cache of its scope. MN_ENOTFOUND when the tenant is gone already. Calls no
     * change hook: there is nothing left to follow (the caller drops the index's part). */
    int (*tenant_delete)(struct mni_store *s, const char *tenant_id,
                         const struct mni_audit *au);

    /* Policies. Every change advances the tenant's policy generation in the same transaction. */
    int (*policy_insert)(struct mni_store *s, const mn_policy *p,
                         const struct mni_audit *au);
    int (*policy_get)(struct mni_store *s, const char *tenant_id, const char *id, mn_policy **out);
    /* Highest priority first. */
    int (*policy_list)(struct mni_store *s, const char *tenant_id, mn_policies **out);
    /* Replaces the stored row with p (same id and tenant). */
    int (*policy_update)(struct mni_store *s, const mn_policy *p,
                         const struct mni_audit *au);
    int (*policy_delete)(struct mni_store *s, const char *tenant_id, const char *id,
                         const struct mni_audit *au);
    /* Resolves an actor in one read: the tenant (id or name), its policy generation and, when
     * identity is not NULL, the identity (id or external_id). MN_ENOTFOUND naming which. */
    int (*actor_get)(struct mni_store *s, const char *tenant, const char *identity,
                     mn_tenant **t, mn_identity **i, int64_t *policy_gen);

    int (*identity_insert)(struct mni_store *s, const mn_identity *i,
                           const struct mni_audit *au);
    int (*identity_get)(struct mni_store *s, const char *tenant_id, const char *id_or_external,
                        mn_identity **out);
    int (*identity_list)(struct mni_store *s, const char *tenant_id, mn_identities **out);
    int (*identity_set_active)(struct mni_store *s, const char *tenant_id, const char *id,
                               int active, int64_t now,
                               const struct mni_audit *au);
    /* Removes the identity, its memories (their embedding jobs go with them), their history
     * and its API keys, all or nothing. */
    int (*identity_delete)(struct mni_store *s, const char *tenant_id, const char *id,
                           const struct mni_audit *au);

    /* Writes w in one transaction: all or none. */
    int (*memory_insert)(struct mni_store *s, const char *tenant_id,
                         const struct mni_memory_writes *w);
    /* For each of the n wants, the memory it names (out[i], NULL when none), with its
     * embedding: one read for the batch (PostgreSQL: one statement, not a round trip per
     * input); *seen_seq the store's change number that read saw, 0 when the store cannot
     * tell (struct mni_memory_writes). */
    int (*memory_find_many)(struct mni_store *s, const char *tenant_id, struct mni_find *wants,
                            size_t n, int64_t now, mn_memory **out, int64_t *seen_seq);
    /* Hashes the rows written before content hashes were kept (store/op_dedup.c). */
    int (*memory_hash_backfill)(struct mni_store *s, size_t *hashed);
    int (*memory_get)(struct mni_store *s, const char *tenant_id, const char *id,
                      const struct mni_store_query *q, mn_memory **out);
    /* How many memories q selects, by one count in the store; q has no metadata filter (the
     * caller walks memory_list for that). */
    int (*memory_count)(struct mni_store *s, const char *tenant_id,
                        const struct mni_store_query *q, size_t *count);
    /* Newest first, at most q->limit rows; next_cursor set when more may follow. */
    int (*memory_list)(struct mni_store *s, const char *tenant_id, const struct mni_store_query *q,
                       mn_memories **out);
    /* Replaces the row if its version is still expected_version, and records the history entry
     * (before/after JSON) in the same transaction. MNI_EBUSY_VERSION (core/error.h) when the
     * version moved. */
    int (*memory_update)(struct mni_store *s, const char *tenant_id,
                         const struct mni_memory_row *row, int64_t expected_version,
                         const char *changed_by, const char *before, const char *after,
                         const struct mni_audit *au);
    /* All or none: MN_ENOTFOUND (naming the id) when one id is missing or already deleted. */
    int (*memory_delete)(struct mni_store *s, const char *tenant_id, const char *const *ids,
                         size_t n, int mode, int64_t now,
                         const struct mni_audit *au);
    int (*memory_restore)(struct mni_store *s, const char *tenant_id, const char *id, int64_t now,
                          const struct mni_audit *au);
    int (*memory_purge_expired)(struct mni_store *s, const char *tenant_id, int64_t now,
                                size_t *purged,
                                const struct mni_audit *au);
    int (*memory_history)(struct mni_store *s, const char *tenant_id, const char *id,
                          mn_history **out);

    /* Exact search support: calls fn for every selected memory with a vector. */
    int (*memory_scan)(struct mni_store *s, const char *tenant_id, const struct mni_store_query *q,
                       mni_scan_fn fn, void *ctx);
    /* The memories with these keys, in the same order; a key whose row vanished since, or
     * that flags and now do not let through (deleted, expired: the store has the last word,
     * whatever an index believed), is skipped, so which[i] (n entries, caller's) receives the
     * index in keys of items[i]. */
    int (*memory_get_keys)(struct mni_store *s, const char *tenant_id, const int64_t *keys,
                           size_t n, unsigned flags, int64_t now, mn_memories **out,
                           size_t *which);

    /* Keyword search: the memories q selects (identity, type, deleted, expired; metadata is
     * the caller's to test) that have a vector and any of the n words (all of them with
     * MNI_KEYWORDS_ALL; store/keywords.c), best first, ties by key: the want best, and with
     * MNI_KEYWORDS_TIES every one tied with the last of them too, so that any match not given
     * scores below the last given (the caller then knows where the ranking stops without
     * asking for more). fn gets each one's key and relevance (BM25 or ts_rank, higher is
     * better). */
    int (*memory_keyword_search)(struct mni_store *s, const char *tenant_id,
                                 const struct mni_store_query *q, const char *const *words,
                                 size_t n, unsigned flags, size_t want, mni_hit_fn fn,
                                 void *ctx);
    /* For each of the n words, how many of the memories q selects (metadata aside) hold it,
     * counted up to cap, into counts[i]: one statement for them all. */
    int (*memory_keyword_counts)(struct mni_store *s, const char *tenant_id,
                                 const struct mni_store_query *q, const char *const *words,
                                 size_t n, size_t cap, size_t *counts);
    /* Merges the keyword index's parts into one, a write of a bounded size at a time, until
     * nothing is left to merge or a bounded number of writes have (the next call goes on);
     * *steps counts the writes that merged something (0: it was compact). NULL: the backend's
     * index needs no merging (PostgreSQL's GIN). */
    int (*memory_keyword_merge)(struct mni_store *s, int64_t *steps);

    /* ---- the change feed a derived index follows (index/vindex.c) ---- */
    /* The store-wide seq: every change committed so far has a seq <= *seq. */
    int (*seq_get)(struct mni_store *s, int64_t *seq);
    /* The tenant's changes with (seq, key) > (after_seq, after_key) and seq <= upto_seq, in
     * (seq, key) order, at most limit (0 = all): each memory's current row (whatever changed
     * it last) and each hard-deleted memory's tombstone. fn returning nonzero stops the read
     * (MN_OK). after_key INT64_MAX: every change past after_seq. owner (NULL: any) keeps the
     * changes of that identity's memories. */
    int (*memory_changes)(struct mni_store *s, const char *tenant_id, const char *owner,
                          int64_t after_seq,
                          int64_t after_key, int64_t upto_seq, size_t limit, mni_change_fn fn,
                          void *ctx);
    /* (key, seq) of each of the tenant's memories whose last change has seq <= upto_seq. */
    int (*memory_seqs)(struct mni_store *s, const char *tenant_id, int64_t upto_seq,
                       mni_seq_fn fn, void *ctx);
    /* The digest of the tenant's (key, seq) pairs that the store keeps current in each
     * writing transaction: *n rows, *sum the sum of their mni_digest_term mod MNI_DIGEST_P.
     * It lets an index check its saved files in O(changes) instead of reading every pair
     * (index/vindex.c). NULL: the backend keeps none (the index reads every pair). */
    int (*memory_digest)(struct mni_store *s, const char *tenant_id, int64_t *n, int64_t *sum);
    /* Tombstones are kept only until every index has had time to apply them: feed_prune drops
     * the tenant's tombstones with seq <= upto_seq and raises the tenant's horizon to it (one
     * transaction); feed_horizon reads it (0: nothing pruned yet). An index that applied less
     * than the horizon has missed deletes and must be rebuilt (index/vindex.c). A backend may
     * leave both NULL: its tombstones then stay. */
    int (*feed_prune)(struct mni_store *s, const char *tenant_id, int64_t upto_seq);
    int (*feed_horizon)(struct mni_store *s, const char *tenant_id, int64_t *seq);
    /* The file the store lives in, beside which derived files may be kept; NULL when there is
     * none (or it must not be written beside). */
    const char *(*file_path)(struct mni_store *s);
    /* The directory the vector index keeps its files in (index/vindex.c), the same for every
     * process on this machine that opens this database, into *dir (malloc'd; NULL: none, the
     * index lives in memory only). It need not exist yet. */
    int (*index_dir)(struct mni_store *s, char **dir);
    /* Database-wide settings (the meta table): *value malloc'd, NULL when key is unset. */
    int (*meta_get)(struct mni_store *s, const char *key, char **value);
    int (*meta_put)(struct mni_store *s, const char *key, const char *value);
    /* Sets key to value unless it is set already (a value two processes race to make: each
     * reads back the one that won). */
    int (*meta_add)(struct mni_store *s, const char *key, const char *value);

    /* ---- API keys (api/apikey*.c) ----
     * Found by their public id alone (get: MN_ENOTFOUND, no message, when there is none), the
     * rest by tenant. hash is the key's keyed hash (hex), which only get reads back. list:
     * identity_id NULL for every key of the tenant. delete: MN_ENOTFOUND naming the id. touch
     * records a use at now unless one was recorded after before (nothing is an error). */
    int (*apikey_insert)(struct mni_store *s, const mn_apikey *k, const char *hash,
                         const struct mni_audit *au);
    int (*apikey_get)(struct mni_store *s, const char *id, struct mni_apikey_row **out);
    int (*apikey_list)(struct mni_store *s, const char *tenant_id, const char *identity_id,
                       mn_apikeys **out);
    int (*apikey_delete)(struct mni_store *s, const char *tenant_id, const char *id,
                         const struct mni_audit *au);
    int (*apikey_touch)(struct mni_store *s, const char *id, int64_t now, int64_t before);

    /* ---- rate-limit overrides (ratelimit/limits.c) ----
     * A tenant's own limits per endpoint. A backend without them leaves these NULL: callers
     * then answer MN_EUNSUPPORTED. put replaces the endpoint's row; list returns the tenant's
     * rows by endpoint, with overridden = 1; delete is MN_ENOTFOUND when there was none. */
    int (*ratelimit_limit_put)(struct mni_store *s, const char *tenant_id, const char *endpoint,
                               int64_t max_calls, int64_t window_ms, int64_t now,
                               const struct mni_audit *au);
    int (*ratelimit_limit_list)(struct mni_store *s, const char *tenant_id,
                                mn_limits **out);
    int (*ratelimit_limit_delete)(struct mni_store *s, const char *tenant_id, const char *endpoint,
                                  const struct mni_audit *au);

    /* ---- the audit log (store/op_audit.c) ----
     * Every change above takes the audit entry (store/audit.h) of the call that makes it and
     * appends it in the change's own write, only when the change commits; NULL records
     * nothing (a write no caller made). record appends one entry in a write of its own (a
     * denial, which changes nothing else). verify walks the tenant's chain: MN_ECORRUPT naming
     * the first entry edited, deleted or out of place, MN_OK when intact (or empty); *checked:
     * the entries found intact (before the bad one). */
    int (*audit_record)(struct mni_store *s, const struct mni_audit *au);
    int (*audit_verify)(struct mni_store *s, const char *tenant_id, int64_t *checked);
    /* The tenant's entries q selects, by seq (store/audit.h). */
    int (*audit_list)(struct mni_store *s, const char *tenant_id,
                      const struct mni_audit_query *q, mn_audit_entries **out);
    /* In one write: removes the chain's oldest run of entries made before `before` (ms),
     * moves the checkpoint to the last one removed, and appends au; *removed counts them. */
    int (*audit_prune)(struct mni_store *s, const char *tenant_id, int64_t before,
                       int64_t *removed, const struct mni_audit *au);
    /* The tenant's retention: how long its entries are kept before a prune may remove them
     * (ms; 0 when none was set). set records it, appending au in the same write. */
    int (*audit_retention_get)(struct mni_store *s, const char *tenant_id, int64_t *keep_ms);
    int (*audit_retention_set)(struct mni_store *s, const char *tenant_id, int64_t keep_ms,
                               const struct mni_audit *au);

    /* ---- embedding cache (embed/cache.c) ----
     * Vectors by (scope, model, dim, SHA-256 of the text); scope is a tenant id, or "" for
     * calls made for no tenant. A backend without a cache leaves both NULL: texts are then
     * always embedded. get copies each cached vector (dim floats) to out + i*dim and sets
     * hit[i] to 1, leaving misses (hit[i] = 0) alone; put adds the n vectors in one
     * transaction, keeping rows already there. Neither bumps seq: no memory changes. */
    int (*embed_cache_get)(struct mni_store *s, const char *scope, const char *model, int dim,
                           const unsigned char *hashes, size_t n, float *out,
                           unsigned char *hit);
    int (*embed_cache_put)(struct mni_store *s, const char *scope, const char *model, int dim,
                           const unsigned char *hashes, size_t n, const float *vecs,
                           int64_t now);

    /* ---- embedding jobs (jobs/) ----
     * Enqueued by memory_insert / memory_update (mni_memory_row.embed_job). A backend without
     * them leaves these NULL: mn_open then refuses embed_async. claim marks up to limit due
     * jobs of any tenant with the claim token and a lease until now + lease_ms (attempts + 1)
     * and returns them with their memories' text and version (*out malloc'd, by tenant).
     * done stores vecs[i] (dim floats) on the memory of each task still held by the claim
     * whose version is unchanged, with a new seq, deleting its job, all in one transaction;
     * a task whose version moved (a change that kept the text) goes back to the queue; one
     * whose job was replaced or dropped is skipped. *stored counts the vectors written.
     * fail records error on each task still held: next_at[i] > 0 makes it due again then,
     * 0 leaves it failed. list: the tenant's jobs (status 0 = any). retry: makes memory_id's
     * job (NULL: every failed one) due at now with attempts 0; MN_ENOTFOUND when memory_id
     * has none. */
    int (*embed_jobs_claim)(struct mni_store *s, const char *claim, int64_t now,
                            int64_t lease_ms, size_t limit, struct mni_embed_task **out,
                            size_t *n);
    int (*embed_jobs_done)(struct mni_store *s, const char *claim,
                           const struct mni_embed_task *t, size_t n, const float *vecs,
                           int64_t now, size_t *stored);
    int (*embed_jobs_fail)(struct mni_store *s, const char *claim,
                           const struct mni_embed_task *t, size_t n, const char *error,
                           const int64_t *next_at, int64_t now);
    int (*embed_jobs_list)(struct mni_store *s, const char *tenant_id, int status, int limit,
                           mn_jobs **out);
    int (*embed_jobs_retry)(struct mni_store *s, const char *tenant_id, const char *memory_id,
                            int64_t now, size_t *retried);

    /* ---- server-side vector search (postgres with pgvector) ----
     * The want memories nearest to vec (a unit vector) among the tenant's that q selects
     * (flags, now, type, identity; not metadata: the caller tests it), each through fn with
     * its cosine similarity. ef: candidates the server keeps (0 = its default). Set only by a
     * store that searches itself: the handle then keeps no vector index of its own. */
    int (*memory_search)(struct mni_store *s, const char *tenant_id,
                         const struct mni_store_query *q, const float *vec, size_t want, int ef,
                         mni_hit_fn fn, void *ctx);

    /* ---- metrics and health (api/metrics.c, api/health.c) ----
     * The store-wide figures of struct mni_store_stats, in one read. */
    int (*stats)(struct mni_store *s, struct mni_store_stats *out);

    /* ---- webhooks (store/op_webhook.c; both backends through the driver) ----
     * insert stores w (its events as bits) with its secret, sealed in an encrypted store.
     * delete removes the tenant's subscription id with its deliveries: MN_ENOTFOUND naming
     * it. test queues body as event_id ("webhook.test") to subscription id alone, *delivery
     * its delivery. retry: the dead delivery id (0: every dead one) due at now, *retried
     * counting them. claim: up to limit due deliveries of any tenant, held by claim until
     * lease_until, with their subscription's url and opened secret (*out malloc'd). settle
     * records a claimed delivery's attempt if the claim still holds it. The outbox itself is
     * written by the audit log's append (mni_webhook_outbox), in the change's write. */
    int (*webhook_insert)(struct mni_store *s, const mn_webhook *w, unsigned events,
                          const char *secret, const struct mni_audit *au);
    int (*webhook_list)(struct mni_store *s, const char *tenant_id, mn_webhooks **out);
    int (*webhook_delete)(struct mni_store *s, const char *tenant_id, const char *id,
                          const struct mni_audit *au);
    int (*webhook_test)(struct mni_store *s, const char *tenant_id, const char *id,
                        const char *event_id, const char *body, int64_t now,
                        int64_t *delivery, const struct mni_audit *au);
    int (*webhook_deliveries)(struct mni_store *s, const char *tenant_id,
                              const char *webhook_id, int status, int limit,
                              mn_webhook_deliveries **out);
    int (*webhook_retry)(struct mni_store *s, const char *tenant_id, int64_t id, int64_t now,
                         size_t *retried, const struct mni_audit *au);
    int (*webhook_claim)(struct mni_store *s, const char *claim, int64_t now,
                         int64_t lease_until, size_t limit, struct mni_webhook_task **out,
                         size_t *n);
    int (*webhook_settle)(struct mni_store *s, const char *claim,
                          const struct mni_webhook_task *t, const struct mni_webhook_result *r);
};

/* A claimed delivery: what its POST needs. */
struct mni_webhook_task {
    int64_t id;
    int attempts;              /* this one included */
    char *tenant_id, *webhook_id, *event_id, *event, *body, *url, *secret;
};
void mni_webhook_tasks_free(struct mni_webhook_task *t, size_t n);
/* How an attempt ended. */
struct mni_webhook_result {
    int status;                /* MN_DELIVERY_*: DONE, PENDING (again at next_at) or DEAD */
    int http_status;           /* 0: no answer */
    const char *error;         /* NULL when delivered */
    int64_t next_at, now;
};

/* The dimension of a new database when the open wants none (*dim 0). */
#define MNI_DEFAULT_DIM 384

/* The backend for a URL (its scheme, or sqlite for a bare path) into *ops; *target receives the
 * rest. MN_EUNSUPPORTED, explained on db, for a scheme no backend has or this build left out. */
int mni_store_find(const mn_db *db, const char *url, const struct mni_store_ops **ops,
                  const char **target);
/* Opens a store with ops->open and sets what every backend shares: the dimension and the
 * change hook (changed may be NULL). */
int mni_store_open(const struct mni_store_ops *ops, mn_db *db, const char *target,
                   const mn_config *cfg, int *dim, mni_changed_fn changed, void *changed_ctx,
                   struct mni_store **out);
/* How a backend's open ends: on a failure (rc) s is closed with its ops' close; else *out
 * receives it. Returns rc. */
int mni_store_opened(struct mni_store *s, int rc, struct mni_store **out);
/* Hands the store the handle's metrics (NULL: none) and counts its pools' size there. */
void mni_store_set_metrics(struct mni_store *s, struct mni_metrics *m);
/* A backend committed a change to the tenant's memories. */
void mni_store_changed(struct mni_store *s, const char *tenant_id);
/* Frees what a claimed embedding task holds, not the task itself (a row-reader hook). */
void mni_embed_task_clear(void *task);

extern const struct mni_store_ops mni_store_sqlite;
extern const struct mni_store_ops mni_store_postgres;   /* postgres:// and postgresql:// */

#endif
