/*
 * manushya.h — libmanushya, secure long-term memory for AI agents.
 *
 * The one public header. Every symbol has the mn_ (functions, types) or MN_ (macros, constants)
 * prefix. The header compiles as C99 and as C++.
 *
 * Conventions, as in SQLite, libcurl and hiredis:
 *  - Handles are opaque (mn_db). Open with mn_open(), close with mn_close().
 *  - Every call returns an int code: MN_OK on success, an MN_E* code otherwise. After a failure,
 *    mn_errmsg(db) says what was wrong and what to do; mn_strerror(rc) names the code.
 *  - Inputs are borrowed: the library copies what it keeps. Results the library allocates are the
 *    caller's and are freed with the matching mn_*_free() function (all accept NULL).
 *  - Config and option structs are zero-initialised by the caller; a zero field means "default".
 *  - Every data call acts for an actor (tenant + identity). Tenants never see each other's data.
 *
 * Thread safety: one mn_db may be used by many threads at once. Calls on a handle are safe in
 * parallel (reads run concurrently over a pool of connections; writes are serialised by the
 * store). mn_errmsg() is per thread: it reports the last failure of the calling thread on that
 * handle. mn_close() must not race with other calls on the same handle. Several processes may
 * open the same SQLite file (WAL mode, busy timeout). Call mn_global_init() once before any
 * thread opens a handle (mn_open() calls it if you did not; it is idempotent).
 */
#ifndef MANUSHYA_H
#define MANUSHYA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MN_API __attribute__((visibility("default")))
#else
#define MN_API
#endif

#define MN_VERSION_MAJOR 0
#define MN_VERSION_MINOR 1
#define MN_VERSION_PATCH 0
#define MN_VERSION "0.1.0"
/* MN_VERSION_NUMBER is 10000*major + 100*minor + patch, for compile-time comparisons. */
#define MN_VERSION_NUMBER (MN_VERSION_MAJOR * 10000 + MN_VERSION_MINOR * 100 + MN_VERSION_PATCH)

/* ---- Result codes ------------------------------------------------------------------------ */
enum {
    MN_OK = 0,
    MN_ERROR = 1,        /* generic failure (rare; a more precise code is used where known) */
    MN_EINVAL = 2,       /* bad argument or input: nothing was changed */
    MN_ENOTFOUND = 3,    /* no such tenant, identity, memory, ... */
    MN_EEXISTS = 4,      /* unique name already taken */
    MN_EDENIED = 5,      /* the policy engine refused the actor */
    MN_ELIMITED = 6,     /* rate limited: retry later */
    MN_EBACKEND = 7,     /* the store or a server failed (I/O, busy past timeout, network) */
    MN_ENOMEM = 8,       /* out of memory */
    MN_EUNSUPPORTED = 9, /* not supported by this build, backend or URL */
    MN_ECORRUPT = 10,    /* the database or a file is not ours, damaged or from a newer version */
    MN_ERANGE = 11       /* a computation ran past its limits (JSON Logic); out-of-range
                          * arguments are MN_EINVAL */
};

/* ---- Library ------------------------------------------------------------------------------ */
MN_API const char *mn_version(void);      /* "0.1.0" */
MN_API int mn_version_number(void);       /* MN_VERSION_NUMBER of the library actually loaded */
MN_API int mn_global_init(void);          /* SQLite, libsodium, libcurl; idempotent, thread-safe */
MN_API const char *mn_strerror(int rc);   /* static text naming the code */
MN_API void mn_free(void *p);             /* frees memory the library returned as plain char*/

/* ---- Handle ------------------------------------------------------------------------------- */
typedef struct mn_db mn_db;

/* Flags for mn_config.flags */
#define MN_OPEN_READONLY 0x1  /* open an existing database read-only */
#define MN_OPEN_NOCREATE 0x2  /* fail with MN_ENOTFOUND if the database does not exist */
#define MN_OPEN_MIGRATE 0x4   /* PostgreSQL: create or migrate the schema even when the URL says
                               * migrate=no (what `manushya migrate` does) */

typedef struct mn_config {
    unsigned flags;          /* MN_OPEN_* */
    const char *embedder;    /* "local" (default, offline) */
    int embed_dim;           /* embedding dimension; default 384. Fixed per database at creation */
    size_t max_text_bytes;   /* largest memory text accepted; default 65536 */
    int busy_timeout_ms;     /* wait for other writers up to this long; default 5000 */
    int pool_size;           /* connections for concurrent readers; default 4 (always 1 for
                              * SQLite's ":memory:", where each would see its own database) */
    /* Vector search. MN_INDEX_AUTO (0): an HNSW index per tenant, kept beside the database
     * file (PATH.index/) and following every write, serves search; MN_INDEX_NONE: every search
     * scans the tenant's vectors exactly. The other knobs: 0 = the default. */
    int index;               /* MN_INDEX_AUTO or MN_INDEX_NONE */
    int hnsw_m;              /* links per node (2m on the bottom layer): default 16, 2..100 */
    int hnsw_ef_construction; /* candidates kept while inserting: default 64, 1..100000 */
    int hnsw_ef_search;      /* candidates kept while searching: default 40, 1..100000 */
    /* ---- Embedding over HTTP and the embedding cache (issue 7) ----
     * embedder "openai" speaks OpenAI's POST /v1/embeddings to any compatible server (OpenAI,
     * Ollama, vLLM, llama.cpp, TEI). Its API key comes from the environment:
     * MANUSHYA_EMBED_API_KEY, else OPENAI_API_KEY (none: no Authorization header). Its
     * dimension is the model's: embed_dim (default 1536, text-embedding-3-small's) must match
     * the database's, and a chosen embed_dim is sent to the server as "dimensions". */
    const char *embed_url;   /* base URL; default https://api.openai.com/v1 */
    const char *embed_model; /* default "text-embedding-3-small" */
    int embed_timeout_ms;    /* per request; default 30000 */
    int embed_cache;         /* MN_EMBED_CACHE_AUTO (0): a remote embedder's vectors are kept in
                              * the store by (model, SHA-256 of the text), so no text is sent
                              * twice; MN_EMBED_CACHE_OFF: never */
    /* ---- Rate limiting (issue 5; see "Rate limits" below). 0 = the default ---- */
    int ratelimit;           /* MN_RATELIMIT_AUTO (0): counters in Redis when redis_url is
                              * set, else in this handle (MN_RATELIMIT_MEMORY);
                              * MN_RATELIMIT_REDIS; MN_RATELIMIT_OFF: nothing limited */
    const char *redis_url;   /* redis://[[user]:password@]host[:port][/db] */
    int ratelimit_fail_closed; /* Redis unreachable: 0 = allow the call (fail-open, default,
                              * counted in mn_ratelimit_stats), 1 = refuse it (MN_EBACKEND) */
    int ratelimit_refresh_ms; /* a tenant's limits and an actor's role are read again after
                              * this long (changes made by other processes): default 1000 */
    size_t ratelimit_max_bytes; /* memory bound of the in-process counters: default 64 MiB */
    int redis_pool_max;      /* Redis connections at most: default 50 */
    int redis_connect_timeout_ms; /* default 5000 */
    int redis_timeout_ms;    /* wait for each reply: default 5000 */
    int redis_health_check_s; /* an idle connection is PINGed before use after: default 30 */
    int redis_retries;       /* a command whose connection failed or timed out is retried on
                              * a new connection this many times: default 1; -1 = never */
    /* Where the library reports trouble it carries on through (Redis unreachable while
     * failing open: once per redis_health_check_s, not per call). NULL = stderr. */
    void (*log_fn)(void *ctx, const char *msg);
    void *log_ctx;
    /* ---- Asynchronous embedding (issue 7; see "Asynchronous embedding" below). 0 = the
     * default ---- */
    int embed_async;         /* 1: add, add_many and a text update commit the memory without
                              * its vector, with an embedding job in the same transaction, and
                              * return without waiting for the embedder; 0: embed inline */
    int embed_workers;       /* threads of this handle that run embedding jobs (of every
                              * process on the store): 0 = none, jobs wait for a `manushya
                              * worker` process or mn_embed_jobs_run(); at most 64 */
    int embed_batch;         /* jobs claimed and embedded together: default 100, at most 10000 */
    int embed_max_attempts;  /* attempts before a job stays failed: default 5 */
    int embed_retry_ms;      /* delay before a failed job's 2nd attempt, doubled after each
                              * later one, at most 1 h, each wait drawn between half of it and
                              * all of it (jobs failing together spread out): default 1000 */
    int embed_lease_ms;      /* a claimed job goes back to the queue after this long when its
                              * worker died without finishing: default 300000 (5 min) */
    int embed_poll_ms;       /* idle workers look for due jobs this often: default 1000 */
    int embed_retries;       /* the HTTP embedder's retries of a transient failure within one
                              * attempt: default 3; -1 = none */
} mn_config;

#define MN_RATELIMIT_AUTO 0
#define MN_RATELIMIT_OFF 1
#define MN_RATELIMIT_MEMORY 2
#define MN_RATELIMIT_REDIS 3

#define MN_EMBED_CACHE_AUTO 0
#define MN_EMBED_CACHE_OFF 1

#define MN_INDEX_AUTO 0
#define MN_INDEX_NONE 1

/*
 * Opens (creating and migrating if needed) the store named by url:
 *   sqlite:PATH, sqlite://PATH or a bare PATH    embedded SQLite file
 * cfg may be NULL for defaults. On failure *out is still set when memory allowed, so that
 * mn_errmsg(*out) can explain; the caller must mn_close() it either way.
 */
MN_API int mn_open(mn_db **out, const char *url, const mn_config *cfg);
MN_API void mn_close(mn_db *db);
/* Message and code of the calling thread's last failure, when that failure was on db (db may
 * be NULL: a failure of mn_open that could not allocate a handle); otherwise "not an error"
 * and MN_OK. Each thread keeps one last failure; successful calls leave it as it was. */
MN_API const char *mn_errmsg(const mn_db *db);
MN_API int mn_errcode(const mn_db *db);
MN_API int mn_embed_dim(const mn_db *db);
/* The schema version of the open database: the number of the last migration applied. */
MN_API int mn_schema_version(mn_db *db, int *version);

/* ---- Actors ------------------------------------------------------------------------------- */
/* Who a call is made for. tenant: tenant id or name (required). identity: identity id or
 * external_id; NULL means the tenant's trusted system actor (host programs acting for the
 * tenant itself). An unknown tenant or identity is MN_ENOTFOUND; a deactivated identity may
 * not act (MN_EDENIED). Ids are matched as stored (lowercase); names exactly. */
typedef struct mn_actor {
    const char *tenant;
    const char *identity;
    const char *context;  /* JSON object the policies may test, e.g. {"ip": "203.0.113.9"};
                           * NULL = {} */
} mn_actor;

/* ---- Tenants ------------------------------------------------------------------------------ */
typedef struct mn_tenant {
    char *id;            /* UUIDv7 */
    char *name;
    int64_t created_at;  /* milliseconds since the Unix epoch, UTC */
} mn_tenant;

typedef struct mn_tenant_list {
    size_t count;
    mn_tenant *items;
} mn_tenant_list;

/* name: 1..128 bytes of letters, digits, '-', '_', '.'; unique (else MN_EEXISTS).
 * out may be NULL. */
MN_API int mn_tenant_create(mn_db *db, const char *name, mn_tenant **out);
MN_API int mn_tenant_get(mn_db *db, const char *id_or_name, mn_tenant **out);
MN_API int mn_tenant_list_all(mn_db *db, mn_tenant_list **out);
MN_API void mn_tenant_free(mn_tenant *t);
MN_API void mn_tenant_list_free(mn_tenant_list *l);

/* ---- Identities --------------------------------------------------------------------------- */
typedef struct mn_identity {
    char *id;            /* UUIDv7 */
    char *tenant_id;
    char *external_id;   /* unique per tenant */
    char *role;
    char *claims;        /* JSON object text */
    int active;
    int64_t created_at;
    int64_t updated_at;
} mn_identity;

typedef struct mn_identity_list {
    size_t count;
    mn_identity *items;
} mn_identity_list;

/* role defaults to "agent" when NULL; claims (a JSON object) to "{}". external_id and role:
 * 1..256 and 1..64 bytes of UTF-8 without control characters. out may be NULL. */
MN_API int mn_identity_create(mn_db *db, const mn_actor *actor, const char *external_id,
                              const char *role, const char *claims, mn_identity **out);
MN_API int mn_identity_get(mn_db *db, const mn_actor *actor, const char *id_or_external_id,
                           mn_identity **out);
MN_API int mn_identity_list_all(mn_db *db, const mn_actor *actor, mn_identity_list **out);
MN_API int mn_identity_deactivate(mn_db *db, const mn_actor *actor, const char *id_or_external_id);
/* Deletes the identity and, with it, every memory it owns (and their history). */
MN_API int mn_identity_delete(mn_db *db, const mn_actor *actor, const char *id_or_external_id);
MN_API void mn_identity_free(mn_identity *i);
MN_API void mn_identity_list_free(mn_identity_list *l);

/* ---- Memories ----------------------------------------------------------------------------- */
typedef struct mn_memory {
    char *id;             /* UUIDv7 */
    char *tenant_id;
    char *identity_id;
    char *text;
    char *type;
    char *metadata;       /* JSON object text */
    double importance;    /* 0..1 */
    int64_t version;      /* 1 at creation, +1 per update */
    int64_t created_at;   /* ms since epoch */
    int64_t updated_at;
    int64_t expires_at;   /* 0 = never */
    int deleted;          /* soft-deleted (restorable) */
    int64_t seq;          /* store-wide change sequence of the last change */
    double similarity;    /* cosine similarity to the query; search results only */
    float *embedding;     /* L2-normalised; NULL unless asked for (MN_WITH_EMBEDDING) */
    int dim;
    /* ---- asynchronous embedding (issue 7) ---- */
    int embed_status;     /* MN_EMBED_DONE (0), or MN_EMBED_PENDING / MN_EMBED_FAILED: the
                           * memory has no vector yet and is in no search result */
    char *embed_error;    /* the last failed attempt's message (a pending job is being
                           * retried), else NULL */
} mn_memory;

#define MN_EMBED_DONE 0
#define MN_EMBED_PENDING 1
#define MN_EMBED_FAILED 2

typedef struct mn_memory_list {
    size_t count;
    mn_memory *items;
    char *next_cursor;    /* pass to the next mn_memory_list() call; NULL at the end */
} mn_memory_list;

/* A new memory, or the changes of an update (NULL / unset fields = unchanged). */
typedef struct mn_memory_input {
    const char *identity;   /* owner: id or external_id; NULL = the actor's identity */
    const char *text;       /* required for add; at most mn_config.max_text_bytes, UTF-8 */
    const char *type;       /* 1..64 bytes; default "fact" */
    const char *metadata;   /* JSON object text; default "{}" */
    int has_importance;     /* set to use importance; otherwise 0.5 on add, unchanged on update */
    double importance;      /* 0..1 */
    int ttl_days;           /* > 0: expires that many days after the add; 0 = never; < 0 invalid */
    const float *embedding; /* optional caller-supplied vector of mn_embed_dim() floats */
    int dim;                /* number of floats in embedding */
} mn_memory_input;

/* Flags for the filter */
#define MN_WITH_DELETED 0x1    /* include soft-deleted memories */
#define MN_WITH_EXPIRED 0x2    /* include expired memories */
#define MN_WITH_EMBEDDING 0x4  /* fill mn_memory.embedding */

typedef struct mn_filter {
    const char *identity;  /* owner id or external_id */
    const char *type;
    const char *metadata;  /* JSON object: a memory matches when its metadata contains it */
    unsigned flags;        /* MN_WITH_* */
} mn_filter;

MN_API int mn_memory_add(mn_db *db, const mn_actor *actor, const mn_memory_input *in,
                         mn_memory **out /* may be NULL */);
/* Adds all or none, in one transaction. ids (may be NULL) receives n ids, freed with
 * mn_strings_free(ids, n). On failure *failed_index (may be NULL) is the index of the bad
 * input, or (size_t)-1 when the failure was not one input's (unknown actor, store error). */
MN_API int mn_memory_add_many(mn_db *db, const mn_actor *actor, const mn_memory_input *in,
                              size_t n, char ***ids, size_t *failed_index);
MN_API int mn_memory_get(mn_db *db, const mn_actor *actor, const char *id, unsigned flags,
                         mn_memory **out);

typedef struct mn_list_options {
    mn_filter filter;
    int limit;            /* default 50, at most 1000 */
    const char *cursor;   /* from a previous next_cursor, or NULL for the newest */
} mn_list_options;
/* Newest first. */
MN_API int mn_memory_list_page(mn_db *db, const mn_actor *actor, const mn_list_options *opt,
                               mn_memory_list **out);

/* Changes text, type, metadata and/or importance (and the embedding when the text changes or
 * one is supplied); bumps the version and records before/after in the history. The owner
 * (identity) and ttl_days cannot change: set them and the call fails with MN_EINVAL, as it
 * does when nothing is set. Deleted or expired memories are MN_ENOTFOUND. */
MN_API int mn_memory_update(mn_db *db, const mn_actor *actor, const char *id,
                            const mn_memory_input *changes, mn_memory **out /* may be NULL */);

#define MN_DELETE_SOFT 0  /* hidden, restorable with mn_memory_restore() */
#define MN_DELETE_HARD 1  /* gone from every table, history included */
MN_API int mn_memory_delete(mn_db *db, const mn_actor *actor, const char *id, int mode);
/* All or none: fails without deleting anything if an id is invalid or not found. */
MN_API int mn_memory_delete_many(mn_db *db, const mn_actor *actor, const char *const *ids,
                                 size_t n, int mode);
/* MN_ENOTFOUND unless the memory exists and is soft-deleted. */
MN_API int mn_memory_restore(mn_db *db, const mn_actor *actor, const char *id);
/* Hard-deletes the tenant's memories whose expiry has passed; *purged (may be NULL) counts them */
MN_API int mn_memory_purge_expired(mn_db *db, const mn_actor *actor, size_t *purged);

typedef struct mn_history_entry {
    int64_t version;      /* the version this change produced */
    int64_t changed_at;
    char *changed_by;     /* identity id of the actor, or NULL for the system actor */
    char *before;         /* JSON object: text, type, metadata, importance */
    char *after;
} mn_history_entry;

typedef struct mn_history {
    size_t count;
    mn_history_entry *items;  /* oldest first */
} mn_history;

MN_API int mn_memory_history(mn_db *db, const mn_actor *actor, const char *id, mn_history **out);

MN_API void mn_memory_free(mn_memory *m);
MN_API void mn_memory_list_free(mn_memory_list *l);
MN_API void mn_history_free(mn_history *h);
MN_API void mn_strings_free(char **s, size_t n);

/* ---- Search ------------------------------------------------------------------------------- */
typedef struct mn_search_options {
    const char *query;       /* text, embedded with the handle's embedder ... */
    const float *vector;     /* ... or a vector of dim floats (then query is ignored) */
    int dim;
    int k;                   /* default 10, at most 1000 */
    double min_similarity;   /* drop hits below this; 0 (the default) keeps every hit */
    mn_filter filter;
    int ef;                  /* index candidates (more: better recall, slower): 0 = the
                              * handle's hnsw_ef_search; at most 100000 */
} mn_search_options;

/* Results best first, in out->items with similarity set; next_cursor is NULL. A query text
 * without a single word to match (only punctuation, say) is MN_EINVAL. filter.flags may ask
 * for deleted or expired memories too. Unknown flag bits anywhere are MN_EINVAL. */
MN_API int mn_memory_search(mn_db *db, const mn_actor *actor, const mn_search_options *opt,
                            mn_memory_list **out);

/* ---- Policies ------------------------------------------------------------------------------
 * Every call made for an identity is decided by the tenant's active policies for the
 * identity's role; a denied call fails with MN_EDENIED and mn_errmsg() names the deciding policy
 * (or says none allowed it). The system actor (mn_actor.identity NULL) is trusted: policies do
 * not apply to it. List and search return only the memories the identity may read.
 * Rule format, actions, resources and the default policies of a new tenant: libmanushya(3),
 * POLICIES. Decisions are cached for 300 s; any change to a tenant's policies invalidates its
 * cached decisions at once (also in other processes). */
typedef struct mn_policy {
    char *id;             /* UUIDv7 */
    char *tenant_id;
    char *role;           /* the role it applies to, or "*" for every role */
    char *rule;           /* JSON object */
    int priority;         /* higher is consulted first */
    int active;
    char *description;
    int64_t created_at;
    int64_t updated_at;
} mn_policy;

typedef struct mn_policy_list {
    size_t count;
    mn_policy *items;     /* highest priority first */
} mn_policy_list;

/* A new policy, or the changes of an update (NULL / unset = unchanged). */
typedef struct mn_policy_input {
    const char *role;         /* required for add: 1..64 bytes, or "*" */
    const char *rule;         /* required for add: JSON object in the policy rule format */
    const char *description;  /* default "" */
    int has_priority;         /* set to use priority; otherwise 0 on add */
    int priority;
    int has_active;           /* set to use active; otherwise 1 (active) on add */
    int active;
} mn_policy_input;

MN_API int mn_policy_add(mn_db *db, const mn_actor *actor, const mn_policy_input *in,
                         mn_policy **out /* may be NULL */);
MN_API int mn_policy_get(mn_db *db, const mn_actor *actor, const char *id, mn_policy **out);
MN_API int mn_policy_list_all(mn_db *db, const mn_actor *actor, mn_policy_list **out);
MN_API int mn_policy_update(mn_db *db, const mn_actor *actor, const char *id,
                            const mn_policy_input *changes, mn_policy **out /* may be NULL */);
MN_API int mn_policy_delete(mn_db *db, const mn_actor *actor, const char *id);
MN_API void mn_policy_free(mn_policy *p);
MN_API void mn_policy_list_free(mn_policy_list *l);

typedef struct mn_decision {
    int allowed;
    char *policy_id;      /* the deciding policy; NULL when none applied (deny) or the actor is
                           * the trusted system actor (allow) */
    char *reason;         /* why, in words */
} mn_decision;

/* Decides, without doing it, whether actor may perform action ("create", "read", "update",
 * "delete", "list", "search", ...) on resource ("memory", "identity", "policy", ...).
 * resource_data (a JSON object, may be NULL) describes the resource, e.g. a memory's
 * {"type": "fact", "metadata": {...}, "identity_id": "..."}. MN_OK with the verdict in *out,
 * whether allowed or not: a dry run of the decision the call itself would get. */
MN_API int mn_policy_test(mn_db *db, const mn_actor *actor, const char *action,
                          const char *resource, const char *resource_data, mn_decision **out);
MN_API void mn_decision_free(mn_decision *d);

/* Evaluates a JSON Logic rule (jsonlogic.com; the language of policy "when" clauses) against
 * data, both JSON text (data NULL = null), and sets *result to the result as JSON text (free
 * it with mn_free). Needs no handle: on failure (MN_EINVAL for bad JSON or a bad rule, whose
 * message gives the JSON path of the bad node; MN_ERANGE past the evaluation limits) err
 * receives the message (errlen bytes). */
MN_API int mn_jsonlogic_apply(const char *rule, const char *data, char **result, char *err,
                              size_t errlen);

/* ---- Vector index (standalone) ------------------------------------------------------------ */
/* An approximate nearest-neighbour index (HNSW) over vectors the caller gives, apart from any
 * database: int64 keys (any value), float vectors of the dimension fixed at creation, copied.
 * Similarity is the inner product, which is each hit's score (higher is nearer). The index
 * does NOT normalise: for cosine similarity pass unit vectors, queries included.
 *
 * Thread safety: calls on one mn_ann may run in parallel from any threads, except
 * mn_ann_free, which must not race with anything. Searches run alongside one another and
 * alongside adds, updates and deletes, which wait only on the nodes they rewrite (and, for a
 * moment, when the index grows its arrays or frees deleted nodes' room). mn_ann_save holds
 * writers back, not searches, while it runs.
 *
 * Errors: each call returns MN_OK or a code: MN_EINVAL (a NULL, out-of-range or non-finite
 * argument: nothing changed), MN_EEXISTS (add of a present key), MN_ENOTFOUND (delete of an
 * absent key; load of a missing file), MN_ENOMEM, MN_ERANGE (index full: 2^31 - 1 vectors),
 * MN_EBACKEND (I/O), MN_ECORRUPT (load of a file that is damaged, truncated or not an index).
 * There is no handle to ask for a message, so the calls that may fail for reasons beyond the
 * code (create, save, load) write one into err (errlen bytes; err may be NULL), as
 * mn_jsonlogic_apply does. */
typedef struct mn_ann mn_ann;

typedef struct mn_ann_params { /* zero-initialise; 0 = the default */
    int m;               /* links per node (2m on the bottom layer): 0 = 16; 2 .. 100 */
    int ef_construction; /* candidates kept while inserting: 0 = 64; 1 .. 100000 */
    int ef_search;       /* candidates kept by a search that passes ef <= 0: 0 = 40 */
    uint64_t seed;       /* of the layer draw: one seed and one insertion order, one graph */
} mn_ann_params;

/* A search filter: 1 to let key into the results, 0 to keep it out. Rejected vectors are still
 * walked through, so the search stays connected; it widens until it holds ef accepted ones,
 * which costs about ef / (fraction accepted) distance computations. It is called from the
 * searching thread while the index is read-locked: it must not call into the same index. */
typedef int (*mn_ann_accept_fn)(void *ctx, int64_t key);

/* p may be NULL (all defaults). dim: 1 .. 65536. */
MN_API int mn_ann_create(int dim, const mn_ann_params *p, mn_ann **out, char *err,
                         size_t errlen);
MN_API void mn_ann_free(mn_ann *a);
/* vec: dim finite floats. MN_EEXISTS if key is present (mn_ann_update replaces). */
MN_API int mn_ann_add(mn_ann *a, int64_t key, const float *vec);
/* Replaces key's vector, or adds it when absent; a concurrent search may miss the key for
 * that moment, never sees both vectors. */
MN_API int mn_ann_update(mn_ann *a, int64_t key, const float *vec);
/* Adds n rows (keys[i], vecs + i * dim) from `threads` threads (<= 1: the calling one; at most
 * 64). Every value is checked first (MN_EINVAL changes nothing); then the first failure (e.g.
 * MN_EEXISTS for a key present or repeated) stops it and is returned, and the rows already
 * added stay. */
MN_API int mn_ann_add_many(mn_ann *a, const int64_t *keys, const float *vecs, size_t n,
                           int threads);
/* The key is never returned once this returns; the graph around it is repaired and its room
 * reused, so recall and memory hold up after many deletes. MN_ENOTFOUND if absent. */
MN_API int mn_ann_delete(mn_ann *a, int64_t key);
MN_API int mn_ann_contains(const mn_ann *a, int64_t key); /* 1 if present, else 0 */
/* The k nearest keys to q (dim finite floats), best first (equal scores: smaller key first),
 * into keys[0 .. *n - 1] and their inner products into scores (which may be NULL); *n < k
 * when the index holds fewer. ef is the candidate list (more: better recall, slower): <= 0
 * for the index's ef_search; the search uses max(ef, k). */
MN_API int mn_ann_search(const mn_ann *a, const float *q, size_t k, int ef, int64_t *keys,
                         float *scores, size_t *n);
/* The same among the keys accept lets through (accept NULL: all). */
MN_API int mn_ann_search_filtered(const mn_ann *a, const float *q, size_t k, int ef,
                                  mn_ann_accept_fn accept, void *ctx, int64_t *keys,
                                  float *scores, size_t *n);
MN_API size_t mn_ann_count(const mn_ann *a); /* keys present */
MN_API int mn_ann_dim(const mn_ann *a);
/* Bytes the index holds: vectors, links, key table, search scratch. */
MN_API size_t mn_ann_bytes(const mn_ann *a);
/* Writes a new file beside path (path.tmp.PID.N), then renames it over path: a reader never
 * sees half a file, and two processes saving at once never mix their bytes. The file is
 * checksummed and canonical (the same index, the same bytes), in this machine's byte order. */
MN_API int mn_ann_save(const mn_ann *a, const char *path, char *err, size_t errlen);
/* Reads a file mn_ann_save wrote, checking its checksums and its whole structure before use:
 * a damaged, truncated or foreign file is MN_ECORRUPT, never a crash. */
MN_API int mn_ann_load(const char *path, mn_ann **out, char *err, size_t errlen);

/* ---- Embeddings --------------------------------------------------------------------------- */
/* Embeds text with the handle's embedder into out[0 .. dim-1]; dim must be mn_embed_dim(db).
 * The local embedder hashes words, word pairs and character trigrams: it matches words, not
 * meaning. */
MN_API int mn_embed(mn_db *db, const char *text, float *out, int dim);

/* Embeds n texts at once into out[i*dim .. i*dim+dim-1] (n * dim floats): a remote embedder
 * sends them in batches, several requests in flight. All or nothing. */
MN_API int mn_embed_many(mn_db *db, const char *const *texts, size_t n, float *out, int dim);

/* What the handle's embedder and embedding cache did since mn_open (issue 7). */
typedef struct mn_embed_stats {
    const char *embedder;     /* "local", "openai"; valid while the handle is open */
    const char *model;        /* the model name ("local" for the local embedder) */
    int dim;
    int cached;               /* 1 when vectors go through the embedding cache */
    uint64_t cache_hits;      /* texts whose vector came from the cache, or from the same
                               * text earlier in the same call */
    uint64_t cache_misses;    /* texts the embedder had to embed (with the cache on) */
    uint64_t texts;           /* texts the embedder embedded */
    uint64_t requests;        /* HTTP requests sent, retries included (openai) */
    uint64_t retries;         /* of them, retries of a transient failure */
    uint64_t max_inflight;    /* most requests in flight at once */
    uint64_t max_batch;       /* most texts in one request */
} mn_embed_stats;
MN_API int mn_embed_stats_get(mn_db *db, mn_embed_stats *out);

/* ---- Asynchronous embedding (issue 7) -----------------------------------------------------
 * With mn_config.embed_async, a memory whose text needs embedding is committed with an
 * embedding job in the same transaction and the call returns at once; get and list show it
 * with embed_status MN_EMBED_PENDING, and search leaves it out until its vector is stored.
 * Workers (mn_config.embed_workers threads of a handle, a `manushya worker` process, or a host
 * calling mn_embed_jobs_run) claim due jobs of every tenant for a lease (embed_lease_ms), embed
 * them in batches (embed_batch) through the embedding cache of each job's tenant, and store
 * each vector with a new seq, deleting the job in that same transaction: a worker killed
 * mid-batch loses nothing, and its jobs come back when the lease runs out. A job whose memory
 * changed meanwhile (a new text, a hard delete) never overwrites the newer state. A failed
 * attempt is retried after about embed_retry_ms, doubling (jittered: mn_config), until
 * embed_max_attempts: then the job stays MN_EMBED_FAILED, with its error, until
 * mn_embed_jobs_retry. */
typedef struct mn_embed_job {
    char *memory_id;
    char *tenant_id;
    int status;           /* MN_EMBED_PENDING or MN_EMBED_FAILED */
    int attempts;         /* attempts so far (claims: an attempt cut short counts) */
    int64_t next_at;      /* pending: not tried before this time (ms since the epoch) */
    char *error;          /* the last failed attempt's message, or NULL */
    int64_t created_at, updated_at;
} mn_embed_job;

typedef struct mn_embed_job_list {
    size_t count;
    mn_embed_job *items;  /* oldest memory first */
} mn_embed_job_list;

/* The tenant's embedding jobs with that status (MN_EMBED_PENDING, MN_EMBED_FAILED, or -1 for
 * both), at most limit (0 = 100, at most 10000). An identity needs "list" on "memory". */
MN_API int mn_embed_jobs_list(mn_db *db, const mn_actor *actor, int status, int limit,
                              mn_embed_job_list **out);
/* Makes the job of memory_id (NULL: every failed job of the tenant) due now, attempts back to
 * 0. *retried (may be NULL) counts them; a memory_id without a job is MN_ENOTFOUND. An
 * identity needs "update" on "memory". */
MN_API int mn_embed_jobs_retry(mn_db *db, const mn_actor *actor, const char *memory_id,
                               size_t *retried);
/* Runs one batch in the calling thread: claims up to max_jobs due jobs of any tenant (0 = the
 * handle's embed_batch), embeds and stores them. *done and *failed (either may be NULL)
 * count the vectors stored and the failed attempts; both 0: nothing was due. */
MN_API int mn_embed_jobs_run(mn_db *db, size_t max_jobs, size_t *done, size_t *failed);
MN_API void mn_embed_job_list_free(mn_embed_job_list *l);

/* ---- Rate limits ---------------------------------------------------------------------------
 * Whether an actor may make a call now, by an exact sliding window: a call is admitted when
 * fewer than `limit` calls were admitted for the tenant and endpoint in the window that ends
 * now, however many threads or processes ask at once. The counters keep a log of the admitted
 * calls' times, not an estimate. (GCRA or a token bucket keep one number per key but admit up
 * to twice the limit within one window; "1000 per hour" is meant exactly, so the log is kept.)
 *
 * Endpoints are named "resource:action": two parts of 1..32 lowercase letters, digits, '_' and
 * '-' (anything else is MN_EINVAL). Built-in limits per tenant, from the Manushya.ai guide:
 * memory:create 1000/h, memory:search 2000/h, identity:create 100/h, policy:test 500/h,
 * webhook:create 50/h; any other endpoint 1000/h ("*"). A tenant may replace any of them,
 * "*" included, with mn_ratelimit_set_limit. A tenant and endpoint have one counter, shared by
 * its identities (in Redis the key ratelimit:{TENANT_ID}:ENDPOINT:WINDOW); the actor's role
 * multiplies the limit it is held to: admin x2, system x5, any other role x1.
 *
 * The library limits its own calls made for an identity: mn_memory_add and _add_many
 * (memory:create; a batch of n counts n, all or none), mn_memory_search (memory:search),
 * mn_identity_create (identity:create), mn_policy_test (policy:test). A refused call fails with
 * MN_ELIMITED, changes nothing, and mn_errmsg says when to retry. The tenant's trusted system
 * actor (mn_actor.identity NULL) is the host program itself: the library does not limit its
 * calls; hosts limit their own endpoints with mn_ratelimit_hit (there it is role "system").
 *
 * Counters (mn_config.ratelimit; by default in Redis when redis_url is set, else in the
 * handle): MN_RATELIMIT_MEMORY keeps them in the handle (exact across its threads;
 * lock-striped, bounded by ratelimit_max_bytes); MN_RATELIMIT_REDIS in a Redis
 * server shared by every process (one Lua script, one round trip per decision, time from the
 * server's clock). When Redis cannot be reached, calls are allowed (fail-open, the default;
 * counted in the stats and logged once per interval) or refused with MN_EBACKEND
 * (ratelimit_fail_closed). MN_RATELIMIT_OFF limits nothing (and mn_ratelimit_hit/peek/reset
 * fail with MN_EUNSUPPORTED). A limit set through a handle applies at once there, and in other
 * processes within ratelimit_refresh_ms. Every function here is thread-safe. */
typedef struct mn_ratelimit_result {
    int allowed;             /* 1: admitted (by mn_ratelimit_hit: and counted) */
    int checked;             /* 0: the counters were unreachable; allowed says the fail mode */
    int64_t limit;           /* the limit applied: the endpoint's, times the role multiplier */
    int64_t remaining;       /* calls still admitted in the window after this decision */
    int64_t window_ms;
    int64_t reset_at;        /* ms since the epoch when the oldest counted call leaves the
                              * window (a place frees up); 0 when none is counted */
    int64_t retry_after_ms;  /* refused: the wait until n calls fit; -1 when n is more than the
                              * limit itself; 0 when admitted */
} mn_ratelimit_result;

typedef struct mn_ratelimit_limit {
    char *endpoint;          /* "memory:create", ..., or "*": every endpoint not named */
    int64_t limit;           /* calls per window, before the role multiplier */
    int64_t window_ms;
    int overridden;          /* 1: the tenant's own; 0: built in */
} mn_ratelimit_limit;

typedef struct mn_ratelimit_limit_list {
    size_t count;
    mn_ratelimit_limit *items; /* by endpoint */
} mn_ratelimit_limit_list;

typedef struct mn_ratelimit_stats {
    uint64_t allowed, denied; /* decisions of the counters */
    uint64_t fail_open;       /* calls allowed unchecked: the counters were unreachable */
    uint64_t fail_closed;     /* calls refused for the same reason (ratelimit_fail_closed) */
} mn_ratelimit_stats;

/* Counts n (>= 1) calls of the actor to endpoint when they all fit: MN_OK when admitted,
 * MN_ELIMITED when not (nothing counted; the retry-after in mn_errmsg and out). out may be
 * NULL. An actor's tenant and role are cached for ratelimit_refresh_ms. */
MN_API int mn_ratelimit_hit(mn_db *db, const mn_actor *actor, const char *endpoint, int64_t n,
                            mn_ratelimit_result *out);
/* Whether n calls would be admitted now, counting nothing: MN_OK, the answer in *out. */
MN_API int mn_ratelimit_peek(mn_db *db, const mn_actor *actor, const char *endpoint, int64_t n,
                             mn_ratelimit_result *out);
/* Forgets the calls counted for the tenant and endpoint (policy: "delete" on "ratelimit"). */
MN_API int mn_ratelimit_reset(mn_db *db, const mn_actor *actor, const char *endpoint);
/* The tenant's limits: built in and its own, by endpoint ("read" on "ratelimit"). */
MN_API int mn_ratelimit_list(mn_db *db, const mn_actor *actor, mn_ratelimit_limit_list **out);
/* The limit endpoint has for the tenant ("read" on "ratelimit"). */
MN_API int mn_ratelimit_get_limit(mn_db *db, const mn_actor *actor, const char *endpoint,
                                  mn_ratelimit_limit **out);
/* Sets the tenant's own limit for endpoint (or "*"): 1..1000000000 calls per window_ms of
 * 1..2678400000 (31 days) ("update" on "ratelimit"). MN_EUNSUPPORTED when the store keeps no
 * limits. */
MN_API int mn_ratelimit_set_limit(mn_db *db, const mn_actor *actor, const char *endpoint,
                                  int64_t limit, int64_t window_ms);
/* Back to the built-in limit ("update" on "ratelimit"); MN_ENOTFOUND when none was set. */
MN_API int mn_ratelimit_delete_limit(mn_db *db, const mn_actor *actor, const char *endpoint);
/* This handle's decisions since mn_open (the library's own calls and mn_ratelimit_hit). */
MN_API int mn_ratelimit_stats_get(mn_db *db, mn_ratelimit_stats *out);
MN_API void mn_ratelimit_limit_free(mn_ratelimit_limit *l);
MN_API void mn_ratelimit_limit_list_free(mn_ratelimit_limit_list *l);

#ifdef __cplusplus
}
#endif
#endif /* MANUSHYA_H */
