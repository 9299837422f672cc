/*
 * What the two backends compute alike, written once above them: the operations that differ
 * between SQLite and PostgreSQL only in how a statement is run (store/op_*.c) go through a
 * small driver that each backend gives (sqlite/driver.c, postgres/driver.c).
 *
 * The statements those operations run are named by one enum; each backend keeps their text in
 * its own dialect, indexed by it (its sql.c), with the parameters in the order documented
 * here. Arguments are bound, never spliced into SQL. Rows come back as struct mni_row, which
 * the shared mappers of store/rows.h read.
 */
#ifndef MNI_STORE_DRIVER_H
#define MNI_STORE_DRIVER_H

#include "store/audit.h"
#include "store/rows.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* The statements the shared operations run; a backend numbers its own after MNI_STMT_COUNT.
 * Parameters: tenant (t), id, ... as listed. */
enum mni_stmt {
    MNI_TENANT_INSERT,          /* id, name, created_at */
    MNI_TENANT_GET,             /* id or name: tenant columns */
    MNI_TENANT_LIST,            /* none: tenant columns, by name */
    MNI_TENANT_LIST_UNRULED,    /* none: tenants that never had a policy, by name */
    /* t: erasing a tenant (store/op_tenant.c), in this order: the history (found through
     * the memories), the memories (their embedding jobs go with them, and they leave
     * tombstones), the change feed's tombstones, API keys, identities, policies, rate-limit
     * overrides, the embedding cache of its scope, its entries of meta (index, feed, re-key),
     * its data keys, its audit log (whose entries name what was erased; the erasure's own
     * entry then starts a new chain, the fact alone), then the tenant itself. */
    MNI_TENANT_DELETE_HISTORY,
    MNI_TENANT_DELETE_MEMORIES,
    MNI_TENANT_DELETE_FEED,
    MNI_TENANT_DELETE_APIKEYS,
    MNI_TENANT_DELETE_IDENTITIES,
    MNI_TENANT_DELETE_POLICIES,
    MNI_TENANT_DELETE_LIMITS,
    MNI_TENANT_DELETE_EMBED_CACHE,
    MNI_TENANT_DELETE_META,
    MNI_TENANT_DELETE_AUDIT,
    MNI_TENANT_DELETE_AUDIT_HEAD, /* its head row, or its checkpoint where there is none */
    MNI_TENANT_DELETE_DATAKEYS, /* with them every sealed copy of its values, backups too */
    MNI_TENANT_DELETE_WEBHOOKS, /* its subscriptions and their deliveries (two statements) */
    MNI_TENANT_DELETE_DELIVERIES,
    MNI_TENANT_DELETE,
    MNI_ACTOR_GET,              /* tenant id or name: the tenant and its policy generation */
    MNI_POLICY_INSERT,          /* the policy columns, in order */
    MNI_POLICY_GET,             /* t, id */
    MNI_POLICY_LIST,            /* t: highest priority first */
    MNI_POLICY_UPDATE,          /* the policy columns but created_at */
    MNI_POLICY_DELETE,          /* t, id */
    MNI_POLICY_GEN_BUMP,        /* t */
    MNI_IDENTITY_INSERT,        /* the identity columns, in order */
    MNI_IDENTITY_GET,           /* t, id or external_id */
    MNI_IDENTITY_LIST,          /* t: by external_id */
    MNI_IDENTITY_SET_ACTIVE,    /* t, id, active, now */
    MNI_IDENTITY_DELETE,        /* t, id (and the two below, run first) */
    MNI_IDENTITY_DELETE_MEMORIES,
    MNI_IDENTITY_DELETE_HISTORY,
    MNI_IDENTITY_DELETE_APIKEYS,
    MNI_HISTORY_LIST,           /* t, memory id: history columns, by version */
    /* t, id, text, type, metadata, importance, version, updated_at, seq, embedding,
     * expected version, content hash, external key (NULL: kept), words (the keyword index's:
     * store/store.h): only a live row that still has it */
    MNI_MEMORY_UPDATE,
    MNI_HISTORY_INSERT,         /* t, memory id, version, changed_at, changed_by, before, after */
    MNI_MEMORY_SOFT_DELETE,     /* t, id, now, seq: a live row */
    MNI_MEMORY_RESTORE,         /* t, id, now, seq: a soft-deleted row */
    MNI_MEMORY_HARD_DELETE,     /* t, id */
    MNI_HISTORY_DELETE,         /* t, memory id */
    MNI_MEMORY_EXPIRED,         /* t, now: the ids of the expired memories */
    MNI_JOB_DROP,               /* t, memory id: its embedding job */
    MNI_JOB_LIST,               /* t, status (0 = any), limit: job columns, by memory key */
    MNI_RATELIMIT_PUT,          /* t, endpoint, max_calls, window_ms, now */
    MNI_RATELIMIT_LIST,         /* t: limit columns, by endpoint */
    MNI_RATELIMIT_DELETE,       /* t, endpoint */
    MNI_EMBED_CACHE_PUT,        /* scope, model, dim, hash, vector, now */
    /* scope, before: model, dim, lowercase hex hash of the entries made before */
    MNI_EMBED_CACHE_OLD,
    MNI_EMBED_CACHE_DELETE,     /* scope, model, dim, hash */
    MNI_MEMORY_TEXTS,           /* t, after key, limit: key, id, text, by key */
    MNI_META_ADD,               /* key, value: only when the key is not set yet */
    MNI_META_GET,               /* key: value */
    MNI_META_PUT,               /* key, value: set or replaced */
    MNI_META_DELETE,            /* key */
    /* id, t, identity id, hash, scopes, created_at, expires_at */
    MNI_APIKEY_INSERT,
    /* id: the apikey columns (id, tenant_id, identity_id, scopes, created_at, expires_at,
     * last_used_at), then the hash */
    MNI_APIKEY_GET,
    MNI_APIKEY_LIST,            /* t, identity id or NULL: the apikey columns, oldest first */
    MNI_APIKEY_DELETE,          /* t, id */
    MNI_APIKEY_TOUCH,           /* id, now, before: last_used_at = now when it is <= before */
    /* t: the audit chain (store/op_audit.c). HEAD returns the chain's head (seq, hash) in the
     * appending write, and keeps any other appender from reading the same head until the write
     * ends. With the driver's audit_head_row, the head is a row of its own, made by HEAD if
     * missing and locked by it; without, HEAD reads the last entry of the log (no row when
     * none is left), the backend's one write lock serialising appenders. */
    MNI_AUDIT_HEAD,
    /* t, seq, at, identity id, API key id, action, resources, outcome, policy id, context,
     * prev_hash, hash */
    MNI_AUDIT_INSERT,
    MNI_AUDIT_HEAD_SET,         /* t, seq, hash: only where the driver has audit_head_row */
    MNI_AUDIT_HEAD_GET,         /* t: seq, hash, as HEAD but in a read; no row when empty */
    /* t: retention's checkpoint, the last entry pruned (seq, hash); no row before a prune. */
    MNI_AUDIT_CHECKPOINT_GET,
    MNI_AUDIT_CHECKPOINT_SET,   /* t, seq, hash: the checkpoint moves to seq (only forward) */
    /* t, before (ms): the entry (seq, hash) that ends the chain's oldest run of entries made
     * before `before`; no row when the oldest entry is not that old. */
    MNI_AUDIT_PRUNE_END,
    MNI_AUDIT_PRUNE,            /* t, seq: removes the entries up to seq */
    /* t: the tenant's retention (ms, its meta entry 'audit_retention:' t); no row: none set */
    MNI_AUDIT_RETENTION_GET,
    MNI_AUDIT_RETENTION_SET,    /* t, ms (as text): sets it */
    /* t, action prefix, identity id, resource id, outcome (each NULL: any), since, until
     * (at < until), after seq, limit (0: all): the entry columns (seq .. hash as INSERT has
     * them), by seq */
    MNI_AUDIT_LIST,
    /* Encryption at rest (store/vault.c, store/op_rekey.c): data keys wrapped by the master
     * key, and re-sealing a tenant's values under its newest key. */
    MNI_DATAKEY_ADD,            /* t, version, wrapped, now: only when not there yet */
    MNI_DATAKEY_LIST,           /* t: version, wrapped, by version */
    /* t: version, wrapped of the newest, held against MNI_DATAKEY_DROP_BELOW until the write
     * ends (PostgreSQL: FOR SHARE; SQLite: its one write lock) */
    MNI_DATAKEY_NEWEST,
    MNI_DATAKEY_ALL,            /* none: tenant_id, version, wrapped (every tenant's) */
    MNI_DATAKEY_SET,            /* t, version, wrapped */
    MNI_DATAKEY_DROP_BELOW,     /* t, version: the older ones */
    MNI_REKEY_MEMORIES,         /* t, after key, limit: key, id, text, metadata, by key */
    MNI_REKEY_MEMORY_SET,       /* t, key, text, metadata, old text, old metadata, content
                                 * hash: unchanged since read; words (NULL: kept): the keyword
                                 * index's */
    MNI_REKEY_HISTORY,          /* t, after key, limit: key, memory id, version, before,
                                 * after, by key */
    MNI_REKEY_HISTORY_SET,      /* t, key, before, after */
    /* none: pending jobs, failed jobs, the oldest pending job's created_at (0: none), tenants */
    MNI_STORE_STATS,
    /* Scheduled maintenance (store/op_maintenance.c): table maintenance, a row per task of no
     * tenant. TAKE: task, holder, now, lease until, force (0/1), interval (ms): makes or
     * takes the task's row, holder and lease set and last_run_at = now, only when its lease
     * ran out and (force or its interval passed since last_run_at): one row changed means
     * the lease is the holder's. */
    MNI_MAINT_TAKE,
    MNI_MAINT_GET,              /* task: holder, lease_until, last_run_at */
    /* task, holder, now, items, ms, error (NULL: it succeeded, last_ok_at = now): releases
     * the lease the holder still has and records the run */
    MNI_MAINT_DONE,
    /* Deduplication and upsert (store/op_dedup.c). */
    MNI_MEMORY_UNHASHED,        /* limit: tenant_id, id, text of rows without content_hash */
    MNI_MEMORY_HASH_SET,        /* t, id, content hash */
    /* Webhooks (store/op_webhook.c): subscriptions and the outbox of their deliveries. */
    MNI_WEBHOOK_INSERT,         /* id, t, url, events (bits), secret, created_at */
    MNI_WEBHOOK_LIST,           /* t: id, tenant_id, url, events, created_at, oldest first */
    MNI_WEBHOOK_DELETE,         /* t, id (MNI_WEBHOOK_DROP_DELIVERIES run first) */
    MNI_WEBHOOK_DROP_DELIVERIES, /* t, id */
    /* t, event bit, event id, event name, body, now, webhook id (NULL: any): a pending
     * delivery for each of the tenant's subscriptions (that one) that wants the event */
    MNI_WEBHOOK_ENQUEUE,
    MNI_WEBHOOK_DELIVERY_ID,    /* t, webhook id, event id: the delivery's id */
    /* t, webhook id (NULL: any), status (0: any), limit: the delivery columns, newest first */
    MNI_WEBHOOK_DELIVERIES,
    /* t, delivery id (0: every dead one), now: a dead delivery due now, attempts 0 */
    MNI_WEBHOOK_RETRY,
    /* claim, now, lease until, limit: marks up to limit due deliveries of any tenant with the
     * claim (attempts + 1), due again when the lease runs out; SKIP LOCKED where there is */
    MNI_WEBHOOK_CLAIM,
    /* claim: id, tenant_id, webhook_id, event_id, event, body, attempts, url, secret, by id */
    MNI_WEBHOOK_CLAIMED,
    /* id, claim, status, http status, error, next_at, now: only while the claim holds it */
    MNI_WEBHOOK_SETTLE,
    MNI_REKEY_WEBHOOKS,         /* t: id, secret of the tenant's webhooks (re-keying) */
    MNI_REKEY_WEBHOOK_SET,      /* t, id, secret */
    MNI_STMT_COUNT
};

/* Typed arguments of one statement, bound as $1.. in order. A text or blob is borrowed: it
 * must live until the statement ran. */
enum mni_arg_type { MNI_ARG_TEXT, MNI_ARG_INT, MNI_ARG_REAL, MNI_ARG_BLOB, MNI_ARG_VEC };
struct mni_arg {
    enum mni_arg_type type;
    const void *p;             /* text (NULL binds SQL NULL) or blob */
    size_t len;                /* blob bytes */
    int64_t i;
    double d;
};
#define MNI_MAX_ARGS 16
struct mni_args {
    int n;
    struct mni_arg v[MNI_MAX_ARGS];
};
void mni_arg_text(struct mni_args *a, const char *v);
void mni_arg_int(struct mni_args *a, int64_t v);
void mni_arg_real(struct mni_args *a, double v);
void mni_arg_blob(struct mni_args *a, const void *p, size_t len);
/* An embedding of the store's dimension, stored the backend's way; NULL binds SQL NULL. */
void mni_arg_vec(struct mni_args *a, const float *vec);

/* A backend's connection inside a write transaction; only the backend knows what it is. */
struct mni_tx;

/* Called for each row of a read: nonzero stops the read (a negative -MN_E* fails it). */
typedef int (*mni_row_fn)(void *ctx, const struct mni_row *r);

struct mni_driver {
    /* Runs a reading statement, each row to fn (valid during the call only): in tx, or on a
     * connection for reads when tx is NULL. Errors are recorded naming doing. */
    int (*read)(struct mni_store *s, struct mni_tx *tx, enum mni_stmt id,
                const struct mni_args *a, mni_row_fn fn, void *ctx, const char *doing);
    /* Runs a changing statement in tx, or as a transaction of its own when tx is NULL;
     * *changed (may be NULL) receives how many rows it changed. taken not NULL: a taken
     * unique key is MN_EEXISTS with taken as its message. */
    int (*exec)(struct mni_store *s, struct mni_tx *tx, enum mni_stmt id,
                const struct mni_args *a, int64_t *changed, const char *taken,
                const char *doing);
    /* Starts a write and reserves nseq change numbers (the last in *last_seq; nseq 0: none,
     * and last_seq may be NULL); end commits when rc is MN_OK, else rolls back, and returns
     * rc or the commit's failure. */
    int (*begin)(struct mni_store *s, int64_t nseq, int64_t *last_seq, struct mni_tx **tx);
    int (*end)(struct mni_store *s, struct mni_tx *tx, int rc);
    /* In tx: reserves n more change numbers, the last in *last. */
    int (*bump_seq)(struct mni_store *s, struct mni_tx *tx, int64_t n, int64_t *last);
    /* In tx: (re)queues the embedding job of row, just written with seq. */
    int (*job_enqueue)(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                       const struct mni_memory_row *row, int64_t seq);
    /* After a committed erase: pushes what was deleted out of the places a delete leaves it
     * in (SQLite: old page images in the WAL), as far as the store can; best effort, as the
     * delete itself is already done. NULL: nothing to do (PostgreSQL: VACUUM is the
     * operator's). */
    void (*erased)(struct mni_store *s);
    /* Nonzero: the audit chain's head is a row of its own (audit_heads), locked by
     * MNI_AUDIT_HEAD and advanced by MNI_AUDIT_HEAD_SET: writers run concurrently
     * (PostgreSQL). Zero: the head is the log's last entry, or retention's checkpoint when
     * no entry is left, read under a lock that already serialises every write (SQLite), and
     * MNI_AUDIT_HEAD_SET is never run. */
    int audit_head_row;
    /* For each of the n wants (n > 0, their hashes filled where type is set), the id and key
     * of the memory it names into ids[i] (malloc'd; NULL when none) and keys[i]: the key's
     * holder, else (type set) the oldest live, unexpired memory of that content. In tx, or
     * when tx is NULL in one read of its own for the whole batch, not one per want: on
     * PostgreSQL each read is a round trip, on SQLite a read transaction, whose locks cost
     * more than the lookup. seen_seq (NULL whenever tx is not): the store's change number
     * that read saw, 0 when the driver cannot tell (a write may not then trust it, see
     * mni_op_memory_claims). */
    int (*find_ids)(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                    const struct mni_find *wants, size_t n, int64_t now, char **ids,
                    int64_t *keys, int64_t *seen_seq, const char *doing);
};

/* ---- reading through the driver (store/query.c) ---- */
/* The rows of id into a public list's items (*count pointers to structs of size bytes that
 * map fills; clear frees what it filled). */
int mni_query_list(struct mni_store *s, enum mni_stmt id, const struct mni_args *a,
                   const struct mni_row_map *map, size_t size, void (*clear)(void *),
                   void ***items, size_t *count, const char *doing);
/* The first row as one malloc'd struct; MN_ENOTFOUND (no message set) when there is none. */
int mni_query_one(struct mni_store *s, enum mni_stmt id, const struct mni_args *a,
                  const struct mni_row_map *map, size_t size, void (*clear)(void *),
                  void **out, const char *doing);

/* Erases in one write (store/steps.c): reserves nseq change numbers (a delete's tombstones
 * take the last), runs the n statements of steps, each with the arguments a, appends au (the
 * audit entry: the fact of the erasure, never what it erased), commits, then
 * lets the backend push the deleted rows out (the driver's erased). All or nothing: MN_ENOTFOUND,
 * rolled back with no message set, when the last statement (the row erased) changed no row. */
int mni_erase(struct mni_store *s, int64_t nseq, const enum mni_stmt *steps, size_t n,
              const struct mni_args *a, const char *doing, const struct mni_audit *au);

/* Runs one changing statement as a write of its own, appending au (store/audit.h) when it
 * changed a row (changed may be NULL: always). The rest as the driver's exec. */
int mni_op_audited_exec(struct mni_store *s, enum mni_stmt id, const struct mni_args *a,
                        int64_t *changed, const char *taken, const char *doing,
                        const struct mni_audit *au);

/* ---- the operations written once (store/op_*.c), for a backend's ops table ---- */
int mni_op_tenant_insert(struct mni_store *s, const mn_tenant *t, const mn_policy *policies,
                         size_t npolicies);
int mni_op_tenant_get(struct mni_store *s, const char *id_or_name, mn_tenant **out);
int mni_op_tenant_list(struct mni_store *s, mn_tenants **out);
int mni_op_tenant_list_unruled(struct mni_store *s, mn_tenants **out);
int mni_op_tenant_delete(struct mni_store *s, const char *tenant_id,
                         const struct mni_audit *au);
int mni_op_actor_get(struct mni_store *s, const char *tenant, const char *identity,
                     mn_tenant **t, mn_identity **i, int64_t *policy_gen);
int mni_op_policy_insert(struct mni_store *s, const mn_policy *p,
                         const struct mni_audit *au);
int mni_op_policy_get(struct mni_store *s, const char *tenant_id, const char *id,
                      mn_policy **out);
int mni_op_policy_list(struct mni_store *s, const char *tenant_id, mn_policies **out);
int mni_op_policy_update(struct mni_store *s, const mn_policy *p,
                         const struct mni_audit *au);
int mni_op_policy_delete(struct mni_store *s, const char *tenant_id, const char *id,
                         const struct mni_audit *au);
/* Inserts p in the caller's write, without advancing the generation (a new tenant's). */
int mni_op_policy_insert_in(struct mni_store *s, struct mni_tx *tx, const mn_policy *p);
int mni_op_identity_insert(struct mni_store *s, const mn_identity *i,
                           const struct mni_audit *au);
int mni_op_identity_get(struct mni_store *s, const char *tenant_id, const char *id_or_external,
                        mn_identity **out);
int mni_op_identity_list(struct mni_store *s, const char *tenant_id, mn_identities **out);
int mni_op_identity_set_active(struct mni_store *s, const char *tenant_id, const char *id,
                               int active, int64_t now,
                               const struct mni_audit *au);
int mni_op_identity_delete(struct mni_store *s, const char *tenant_id, const char *id,
                           const struct mni_audit *au);
int mni_op_memory_history(struct mni_store *s, const char *tenant_id, const char *id,
                          mn_history **out);
int mni_op_memory_update(struct mni_store *s, const char *tenant_id,
                         const struct mni_memory_row *row, int64_t expected_version,
                         const char *changed_by, const char *before, const char *after,
                         const struct mni_audit *au);
int mni_op_memory_delete(struct mni_store *s, const char *tenant_id, const char *const *ids,
                         size_t n, int mode, int64_t now,
                         const struct mni_audit *au);
int mni_op_memory_restore(struct mni_store *s, const char *tenant_id, const char *id,
                          int64_t now,
                          const struct mni_audit *au);
/* Ends an add's write (a backend's memory_insert, which wrote the new rows with rc): the
 * rewrites with seqs from first_seq on, the audit entries, the commit (or rollback) and the
 * change hook (store/op_change.c). */
int mni_op_memory_insert_end(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                             const struct mni_memory_writes *w, int64_t first_seq, int rc);
/* Deduplication (store/op_dedup.c): the content hash of row i of w into hashes (n of them),
 * after checking, in the add's write tx, that no row of the store already holds its key or
 * (w->dedup[i]) its content: MNI_EBUSY_VERSION when one does. seq: the store's change number
 * before this write's own when the write holds the store's only write lock (SQLite), else 0;
 * equal to w->seen_seq, nothing was written since the lookup that planned the write, whose
 * answer then stands without a second lookup. Every write that can make a lookup find a
 * row it did not (add, update, restore, hashing, re-keying) moves the change number. */
int mni_op_memory_claims(struct mni_store *s, struct mni_tx *tx, const char *tenant_id,
                         const struct mni_memory_writes *w, int64_t seq,
                         char (*hashes)[MNI_CONTENT_HASH_HEX + 1]);
int mni_op_memory_find_many(struct mni_store *s, const char *tenant_id,
                            struct mni_find *wants, size_t n, int64_t now, mn_memory **out,
                            int64_t *seen_seq);
int mni_op_memory_hash_backfill(struct mni_store *s, size_t *hashed);
int mni_op_memory_purge_expired(struct mni_store *s, const char *tenant_id, int64_t now,
                                size_t *purged,
                                const struct mni_audit *au);
int mni_op_ratelimit_limit_put(struct mni_store *s, const char *tenant_id,
                               const char *endpoint, int64_t max_calls, int64_t window_ms,
                               int64_t now,
                               const struct mni_audit *au);
int mni_op_ratelimit_limit_list(struct mni_store *s, const char *tenant_id, mn_limits **out);
int mni_op_ratelimit_limit_delete(struct mni_store *s, const char *tenant_id,
                                  const char *endpoint,
                                  const struct mni_audit *au);
int mni_op_embed_jobs_list(struct mni_store *s, const char *tenant_id, int status, int limit,
                           mn_jobs **out);
int mni_op_meta_add(struct mni_store *s, const char *key, const char *value);
/* One step of re-keying a tenant (store/op_rekey.c): the first makes its new data key, each
 * next re-seals up to batch rows, the last destroys the old keys and appends au (*done 1). */
int mni_op_rekey_step(struct mni_store *s, const char *tenant_id, size_t batch,
                      const struct mni_audit *au, int *done);
int mni_op_stats(struct mni_store *s, struct mni_store_stats *out);
int mni_op_apikey_insert(struct mni_store *s, const mn_apikey *k, const char *hash,
                         const struct mni_audit *au);
int mni_op_apikey_get(struct mni_store *s, const char *id, struct mni_apikey_row **out);
int mni_op_apikey_list(struct mni_store *s, const char *tenant_id, const char *identity_id,
                       mn_apikeys **out);
int mni_op_apikey_delete(struct mni_store *s, const char *tenant_id, const char *id,
                         const struct mni_audit *au);
int mni_op_apikey_touch(struct mni_store *s, const char *id, int64_t now, int64_t before);
int mni_op_audit_record(struct mni_store *s, const struct mni_audit *au);
int mni_op_audit_verify(struct mni_store *s, const char *tenant_id, int64_t *checked);
int mni_op_audit_list(struct mni_store *s, const char *tenant_id,
                      const struct mni_audit_query *q, mn_audit_entries **out);
int mni_op_audit_prune(struct mni_store *s, const char *tenant_id, int64_t before,
                       int64_t *removed, const struct mni_audit *au);
int mni_op_audit_retention_get(struct mni_store *s, const char *tenant_id, int64_t *keep_ms);
int mni_op_audit_retention_set(struct mni_store *s, const char *tenant_id, int64_t keep_ms,
                               const struct mni_audit *au);
int mni_op_embed_cache_put(struct mni_store *s, const char *scope, const char *model, int dim,
                           const unsigned char *hashes, size_t n, const float *vecs,
                           int64_t now);
/* Removes the embedding cache's entries made before `before` that no memory uses (no memory
 * of their scope has their text; the scope of no tenant: every one), a tenant at a time;
 * *removed counts them. */
int mni_op_embed_cache_prune(struct mni_store *s, int64_t before, size_t *removed);
/* Scheduled maintenance's lease on a task (store/op_maintenance.c). take: *taken 1 when the
 * lease is now holder's until lease_until (the task ran out its lease and is due, or force);
 * else 0, and *busy 1 when another holder's lease still runs (0: not due). done: records the
 * run (error NULL: success) and releases the lease if holder still has it. */
int mni_op_maint_take(struct mni_store *s, const char *task, const char *holder, int64_t now,
                      int64_t lease_until, int force, int64_t interval_ms, int *taken,
                      int *busy);
int mni_op_maint_done(struct mni_store *s, const char *task, const char *holder, int64_t now,
                      int64_t items, int64_t ms, const char *error);

int mni_op_webhook_insert(struct mni_store *s, const mn_webhook *w, unsigned events,
                          const char *secret, const struct mni_audit *au);
int mni_op_webhook_list(struct mni_store *s, const char *tenant_id, mn_webhooks **out);
int mni_op_webhook_delete(struct mni_store *s, const char *tenant_id, const char *id,
                          const struct mni_audit *au);
int mni_op_webhook_test(struct mni_store *s, const char *tenant_id, const char *id,
                        const char *event_id, const char *body, int64_t now,
                        int64_t *delivery, const struct mni_audit *au);
int mni_op_webhook_deliveries(struct mni_store *s, const char *tenant_id,
                              const char *webhook_id, int status, int limit,
                              mn_webhook_deliveries **out);
int mni_op_webhook_retry(struct mni_store *s, const char *tenant_id, int64_t id, int64_t now,
                         size_t *retried, const struct mni_audit *au);
int mni_op_webhook_claim(struct mni_store *s, const char *claim, int64_t now,
                         int64_t lease_until, size_t limit, struct mni_webhook_task **out,
                         size_t *n);
int mni_op_webhook_settle(struct mni_store *s, const char *claim,
                          const struct mni_webhook_task *t, const struct mni_webhook_result *r);
/* In tx, for the audit entry au just appended: queues the event its change raises (none for
 * most actions, a denial, or a tenant without a subscription that wants it) to each
 * subscription that wants it (store/op_webhook.c). */
int mni_webhook_outbox(struct mni_store *s, struct mni_tx *tx, const struct mni_audit *au);
/* The column a webhook's secret is sealed for (store/vault.h), re-sealed by a re-key. */
#define MNI_WEBHOOK_SECRET_COLUMN "webhook_secret"
/* An event's body, as a receiver gets it: data is its "data" (a JSON value). malloc'd; NULL
 * when out of memory. */
char *mni_webhook_body(const char *event_id, const char *type, const char *tenant_id,
                       int64_t at, const char *data);

/* The entries of a backend's ops table that the operations above fill, alike in both. */
#define MNI_DRIVER_OPS \
    .tenant_insert = mni_op_tenant_insert, \
    .tenant_get = mni_op_tenant_get, \
    .tenant_list = mni_op_tenant_list, \
    .tenant_list_unruled = mni_op_tenant_list_unruled, \
    .tenant_delete = mni_op_tenant_delete, \
    .policy_insert = mni_op_policy_insert, \
    .policy_get = mni_op_policy_get, \
    .policy_list = mni_op_policy_list, \
    .policy_update = mni_op_policy_update, \
    .policy_delete = mni_op_policy_delete, \
    .actor_get = mni_op_actor_get, \
    .identity_insert = mni_op_identity_insert, \
    .identity_get = mni_op_identity_get, \
    .identity_list = mni_op_identity_list, \
    .identity_set_active = mni_op_identity_set_active, \
    .identity_delete = mni_op_identity_delete, \
    .memory_history = mni_op_memory_history, \
    .memory_update = mni_op_memory_update, \
    .memory_delete = mni_op_memory_delete, \
    .memory_restore = mni_op_memory_restore, \
    .memory_find_many = mni_op_memory_find_many, \
    .memory_hash_backfill = mni_op_memory_hash_backfill, \
    .memory_purge_expired = mni_op_memory_purge_expired, \
    .ratelimit_limit_put = mni_op_ratelimit_limit_put, \
    .ratelimit_limit_list = mni_op_ratelimit_limit_list, \
    .ratelimit_limit_delete = mni_op_ratelimit_limit_delete, \
    .embed_cache_put = mni_op_embed_cache_put, \
    .embed_jobs_list = mni_op_embed_jobs_list, \
    .stats = mni_op_stats, \
    .meta_add = mni_op_meta_add, \
    .apikey_insert = mni_op_apikey_insert, \
    .apikey_get = mni_op_apikey_get, \
    .apikey_list = mni_op_apikey_list, \
    .apikey_delete = mni_op_apikey_delete, \
    .apikey_touch = mni_op_apikey_touch, \
    .audit_record = mni_op_audit_record, \
    .audit_verify = mni_op_audit_verify, \
    .audit_list = mni_op_audit_list, \
    .audit_prune = mni_op_audit_prune, \
    .audit_retention_get = mni_op_audit_retention_get, \
    .audit_retention_set = mni_op_audit_retention_set, \
    .webhook_insert = mni_op_webhook_insert, \
    .webhook_list = mni_op_webhook_list, \
    .webhook_delete = mni_op_webhook_delete, \
    .webhook_test = mni_op_webhook_test, \
    .webhook_deliveries = mni_op_webhook_deliveries, \
    .webhook_retry = mni_op_webhook_retry, \
    .webhook_claim = mni_op_webhook_claim, \
    .webhook_settle = mni_op_webhook_settle

/* The ops each backend writes itself (its own SQL, connections, transactions and vector
 * formats), named PREFIX_NAME: declared once for both with MNI_BACKEND_OPS_DECLARE(PREFIX)
 * in the backend's header, and listed in its ops table with MNI_BACKEND_OPS(PREFIX), which
 * adds open, close, schema_version, file_path and index_dir (the backend's store.c declares
 * those). */
#define MNI_BACKEND_OPS_DECLARE(p) \
    int p##_memory_insert(struct mni_store *st, const char *tenant_id, \
                          const struct mni_memory_writes *w); \
    int p##_memory_get(struct mni_store *st, const char *tenant_id, const char *id, \
                       const struct mni_store_query *q, mn_memory **out); \
    int p##_memory_list(struct mni_store *st, const char *tenant_id, \
                        const struct mni_store_query *q, mn_memories **out); \
    int p##_memory_count(struct mni_store *st, const char *tenant_id, \
                         const struct mni_store_query *q, size_t *count); \
    int p##_memory_scan(struct mni_store *st, const char *tenant_id, \
                        const struct mni_store_query *q, mni_scan_fn fn, void *ctx); \
    int p##_memory_get_keys(struct mni_store *st, const char *tenant_id, const int64_t *keys, \
                            size_t n, unsigned flags, int64_t now, mn_memories **out, \
                            size_t *which); \
    int p##_memory_keyword_search(struct mni_store *st, const char *tenant_id, \
                                  const struct mni_store_query *q, const char *const *words, \
                                  size_t n, unsigned flags, size_t want, mni_hit_fn fn, \
                                  void *ctx); \
    int p##_memory_keyword_counts(struct mni_store *st, const char *tenant_id, \
                                  const struct mni_store_query *q, const char *const *words, \
                                  size_t n, size_t cap, size_t *counts); \
    int p##_seq_get(struct mni_store *st, int64_t *seq); \
    int p##_memory_changes(struct mni_store *st, const char *tenant_id, const char *owner, \
                           int64_t after_seq, \
                           int64_t after_key, int64_t upto_seq, size_t limit, \
                           mni_change_fn fn, void *ctx); \
    int p##_memory_seqs(struct mni_store *st, const char *tenant_id, int64_t upto_seq, \
                        mni_seq_fn fn, void *ctx); \
    int p##_memory_digest(struct mni_store *st, const char *tenant_id, int64_t *n, \
                          int64_t *sum); \
    int p##_meta_get(struct mni_store *st, const char *key, char **value); \
    int p##_meta_put(struct mni_store *st, const char *key, const char *value); \
    int p##_feed_prune(struct mni_store *st, const char *tenant_id, int64_t upto_seq); \
    int p##_feed_horizon(struct mni_store *st, const char *tenant_id, int64_t *seq); \
    int p##_embed_cache_get(struct mni_store *st, const char *scope, const char *model, \
                            int dim, const unsigned char *hashes, size_t n, float *out, \
                            unsigned char *hit); \
    int p##_embed_jobs_claim(struct mni_store *st, const char *claim, int64_t now, \
                             int64_t lease_ms, size_t limit, struct mni_embed_task **out, \
                             size_t *n); \
    int p##_embed_jobs_done(struct mni_store *st, const char *claim, \
                            const struct mni_embed_task *t, size_t n, const float *vecs, \
                            int64_t now, size_t *stored); \
    int p##_embed_jobs_fail(struct mni_store *st, const char *claim, \
                            const struct mni_embed_task *t, size_t n, const char *error, \
                            const int64_t *next_at, int64_t now); \
    int p##_embed_jobs_retry(struct mni_store *st, const char *tenant_id, \
                             const char *memory_id, int64_t now, size_t *retried)

#define MNI_BACKEND_OPS(p) \
    .open = p##_open, \
    .close = p##_close, \
    .schema_version = p##_schema_version, \
    .file_path = p##_file_path, \
    .index_dir = p##_index_dir, \
    .memory_insert = p##_memory_insert, \
    .memory_get = p##_memory_get, \
    .memory_list = p##_memory_list, \
    .memory_count = p##_memory_count, \
    .memory_scan = p##_memory_scan, \
    .memory_get_keys = p##_memory_get_keys, \
    .memory_keyword_search = p##_memory_keyword_search, \
    .memory_keyword_counts = p##_memory_keyword_counts, \
    .seq_get = p##_seq_get, \
    .memory_changes = p##_memory_changes, \
    .memory_seqs = p##_memory_seqs, \
    .memory_digest = p##_memory_digest, \
    .meta_get = p##_meta_get, \
    .meta_put = p##_meta_put, \
    .feed_prune = p##_feed_prune, \
    .feed_horizon = p##_feed_horizon, \
    .embed_cache_get = p##_embed_cache_get, \
    .embed_jobs_claim = p##_embed_jobs_claim, \
    .embed_jobs_done = p##_embed_jobs_done, \
    .embed_jobs_fail = p##_embed_jobs_fail, \
    .embed_jobs_retry = p##_embed_jobs_retry

#endif
