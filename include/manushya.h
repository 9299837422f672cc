/*
 * manushya.h — libmanushya, secure long-term memory for AI agents.
 *
 * The one public header. Every symbol has the mn_ (functions, types) or MN_ (macros, constants)
 * prefix. The header compiles as C99 and as C++.
 *
 * Conventions, as in SQLite, libcurl and hiredis:
 *  - Handles are opaque (mn_db). Open with mn_open(), close with mn_close().
 *  - Every call returns an int code: MN_OK on success, an MN_E* code otherwise (only those
 *    listed below). After a failure, mn_errmsg(db) says what was wrong and what to do
 *    (mn_errmsg(NULL) for calls without a handle); mn_strerror(rc) names the code.
 *  - Inputs are borrowed: the library copies what it keeps. Results the library allocates are the
 *    caller's and are freed with the matching mn_*_free() function (all accept NULL).
 *  - Config and option structs are initialised with their MN_*_INIT macro or mn_*_init(); a
 *    zero field means "default" (the one exception, mn_memory_input.importance, says so).
 *  - JSON the caller gives (metadata, claims, rules, resource data, a context, a filter) is kept
 *    as written: stored is the text less the whitespace between tokens, each string and number
 *    byte for byte. What a reader would not see as written is MN_EINVAL naming the key: an
 *    integer a double cannot hold (past 2^53: give 64-bit ids as strings), a number beyond a
 *    double's range (1e999) or too small for one, \u0000, a key given twice.
 *  - Every data call acts for an actor (tenant + identity). Tenants never see each other's data.
 *
 * Structs that grow (the ABI rules; libmanushya(3), COMPATIBILITY):
 *  - A struct the caller fills, or that the library fills in the caller's memory (mn_config,
 *    mn_actor, mn_filter, the options, inputs and changes, mn_ann_params, the stats and
 *    mn_ratelimit_result), starts with `unsigned version`. Initialise it with its MN_*_INIT
 *    macro or its mn_*_init(s, MN_*_VERSION) function, then set the fields you need. Such a
 *    struct only ever grows at the end, each new field under a new version; the library reads
 *    (and writes) only the bytes of the version the caller's struct says, and takes a field the
 *    caller's version lacks as its default. A version of 0 (never initialised), or one newer
 *    than the library knows, is MN_EINVAL with a message naming the struct.
 *  - Results the library allocates (mn_memory, mn_tenant, ...) only ever grow at the end and are
 *    reached through pointers: lists hold { count, items } where items[i] points to one
 *    result, so a program never steps through them with the size it was compiled with.
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
#define MN_DEPRECATED(why) __attribute__((deprecated(why)))
#else
#define MN_API
#define MN_DEPRECATED(why)
#endif

#define MN_VERSION_MAJOR 1
#define MN_VERSION_MINOR 13
#define MN_VERSION_PATCH 0
#define MN_VERSION "1.13.0"
/* MN_VERSION_NUMBER is 10000*major + 100*minor + patch, for compile-time comparisons.
 *
 * Compatibility (libmanushya(3), ABI AND COMPATIBILITY): a major version is one SONAME,
 * libmanushya.so.MAJOR, and within it releases only add: new functions, new fields at the end
 * of structs (known by their version field), new MN_* codes and flags. A program built against
 * this header runs against any later library of the same major version; one that needs what a
 * minor release added checks at run time that the library it loaded has it:
 *     if (mn_version_number() < MN_VERSION_NUMBER) the library is older than this header.
 * What is to go is first marked MN_DEPRECATED (the compiler warns where it is used) for at
 * least one minor release, and removed only at the next major version. */
#define MN_VERSION_NUMBER (MN_VERSION_MAJOR * 10000 + MN_VERSION_MINOR * 100 + MN_VERSION_PATCH)

/* The initialiser of a versioned struct: its version, every other field zero (designated in C,
 * so that -Wmissing-field-initializers stays quiet). */
#ifdef __cplusplus
#define MN_INIT_(v) { v }
#else
#define MN_INIT_(v) { .version = (v) }
#endif

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
    MN_ERANGE = 11,      /* a computation ran past its limits (JSON Logic); out-of-range
                          * arguments are MN_EINVAL. Since 1.5 also: a change feed read
                          * from before its horizon (mn_feed_read: resync) */
    MN_EKEY = 12         /* since 1.2: the database is encrypted and its master key is
                          * missing, unreadable or not the one that opens it */
};

/* ---- Library ------------------------------------------------------------------------------ */
MN_API const char *mn_version(void);      /* "1.0.0" */
MN_API int mn_version_number(void);       /* MN_VERSION_NUMBER of the library actually loaded */
MN_API int mn_global_init(void);          /* SQLite, libsodium, libcurl; idempotent, thread-safe */
MN_API const char *mn_strerror(int rc);   /* static text naming the code */
MN_API void mn_free(void *p);             /* frees memory the library returned as plain char*/

/* What this build of the library has. The SQLite store, the HNSW index and the local embedder
 * are always there; the backends below are build switches (make WITH_POSTGRES=0 ...). Asking a
 * build for a backend it was made without (a postgres:// URL, mn_config.redis_url, the openai
 * embedder) fails with MN_EUNSUPPORTED, and mn_errmsg() names the switch that would add it. */
#define MN_FEATURE_POSTGRES   (1u << 0) /* postgres:// store (WITH_POSTGRES, libpq) */
#define MN_FEATURE_REDIS      (1u << 1) /* Redis rate-limit counters (WITH_REDIS, hiredis) */
#define MN_FEATURE_HTTP_EMBED (1u << 2) /* the openai HTTP embedder (WITH_CURL, libcurl) */
MN_API unsigned mn_features(void);        /* the MN_FEATURE_* bits of this build */
/* "postgres", "redis" or "http-embed" for one MN_FEATURE_* bit; NULL for anything else. */
MN_API const char *mn_feature_name(unsigned feature);

/* ---- Handle ------------------------------------------------------------------------------- */
typedef struct mn_db mn_db;

/* Flags for mn_config.flags */
#define MN_OPEN_READONLY 0x1  /* open an existing database read-only */
#define MN_OPEN_NOCREATE 0x2  /* fail with MN_ENOTFOUND if the database does not exist */
#define MN_OPEN_MIGRATE 0x4   /* PostgreSQL: create or migrate the schema even when the URL says
                               * migrate=no (what `manushya migrate` does) */
#define MN_OPEN_ENCRYPT 0x8   /* since 1.2: a new database seals its memories (see "Encryption
                               * at rest" below); an existing one keeps what it was created with */

struct mn_embedder; /* an embedder plug-in: see "Embedder plug-ins" below */

typedef struct mn_config {
    unsigned version;        /* MN_CONFIG_VERSION (see "Structs that grow" at the top) */
    unsigned flags;          /* MN_OPEN_* */
    const char *embedder;    /* "local" (default, offline), "openai" (below), or "external":
                              * the library embeds nothing, every vector comes from the caller
                              * (see "Embedder plug-ins" below) */
    int embed_dim;           /* embedding dimension; default 384. Fixed per database at creation.
                              * 1..65536 (local embedder: 8..65536); PostgreSQL with pgvector
                              * (vector=pgvector): at most 4000, indexed as halfvec beyond 2000 */
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
    /* ---- Embedding over HTTP and the embedding cache ----
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
    /* ---- Rate limiting (see "Rate limits" below). 0 = the default ---- */
    int ratelimit;           /* MN_RATELIMIT_AUTO (0): counters in Redis when redis_url is
                              * set, else in this handle (MN_RATELIMIT_MEMORY);
                              * MN_RATELIMIT_REDIS; MN_RATELIMIT_OFF: nothing limited */
    const char *redis_url;   /* redis://[[user]:password@]host[:port][/db] */
    int ratelimit_fail_closed; /* Redis unreachable: 0 = allow the call (fail-open, default,
                              * counted in mn_ratelimit_stats), 1 = refuse it (MN_EBACKEND) */
    int ratelimit_refresh_ms; /* a tenant's limits and an actor's role are read again after
                              * this long (changes made by other processes): default 1000 */
    size_t ratelimit_max_bytes; /* memory bound of the in-process counters: default 64 MiB;
                              * a counter takes about 600 bytes whatever its limit */
    int redis_pool_max;      /* Redis connections at most: default 50 */
    int redis_connect_timeout_ms; /* default 5000 */
    int redis_timeout_ms;    /* wait for each reply: default 5000 */
    int redis_health_check_s; /* an idle connection is PINGed before use after: default 30 */
    int redis_retries;       /* a command whose connection failed or timed out is retried on
                              * a new connection this many times: default 1; -1 = never */
    /* Where the library reports trouble it carries on through (Redis unreachable while
     * failing open: once per redis_health_check_s, not per call), secrets hidden as in
     * mn_errmsg. NULL = stderr. */
    void (*log_fn)(void *ctx, const char *msg);
    void *log_ctx;
    /* ---- Asynchronous embedding (see "Asynchronous embedding" below). 0 = the
     * default ---- */
    int embed_async;         /* 1: add, add_many and a text update commit the memory without
                              * its vector, with an embedding job in the same transaction, and
                              * return without waiting for the embedder; 0: embed inline */
    int embed_workers;       /* threads of this handle that run embedding jobs (of every
                              * process on the store): 0 = none, jobs wait for a `manushya
                              * worker` process or mn_job_run(); at most 64 */
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
    /* ---- Bring your own embedder (see "Embedder plug-ins" below) ----
     * The handle embeds through this plug-in instead of a built-in embedder: embedder must then
     * be NULL, and embed_dim 0 or the plug-in's dim. mn_open copies the struct. */
    const struct mn_embedder *embedder_plugin;
    /* ---- version 2 (1.2) ---- */
    const char *master_key_file; /* encryption at rest (see "Encryption at rest" below): the
                              * master key of an encrypted database (64 hex digits, a file
                              * only its owner and group may read); NULL = the file
                              * MANUSHYA_MASTER_KEY_FILE names. Read at mn_open only */
    int metrics;             /* MN_METRICS_AUTO (0): the handle keeps metrics (mn_metrics_write);
                              * MN_METRICS_OFF: none (mn_metrics_write is MN_EUNSUPPORTED) */
    /* scheduled maintenance (see "Maintenance" below) */
    int maintenance;         /* 1: a thread of the handle runs the maintenance tasks that are
                              * due (mn_maintenance_run(db, MN_MAINT_ALL, NULL)) every
                              * maintenance_poll_ms; 0: none (the default) */
    int maintenance_poll_ms; /* how often that thread looks: default 60000, 10..86400000 */
    int audit_retention_days; /* MN_MAINT_AUDIT removes audit entries older than this many
                              * days (mn_audit_prune); 0: keep them forever (the default) */
    /* read-through caches (see "Caches" below) */
    int cache;               /* MN_CACHE_AUTO (0): in Redis for a PostgreSQL store when
                              * redis_url is set, else none; MN_CACHE_MEMORY: in this handle
                              * (other processes' writes seen within cache_local_ms);
                              * MN_CACHE_REDIS; MN_CACHE_OFF: none */
    size_t cache_max_bytes;  /* memory bound of the in-process cache: default 64 MiB */
    int cache_local_ms;      /* an in-process entry is used for this long at most, since the
                              * writes of other processes do not reach it: default 1000,
                              * 1..3600000 */
    /* ---- version 3 ---- */
    /* deduplication (see mn_memory_put below) */
    int dedup;               /* MN_DEDUP_EXACT (0, the default): adding a memory whose
                              * normalised text equals a live one of the same owner and type
                              * adds nothing; MN_DEDUP_OFF: every add adds; MN_DEDUP_NEAR: also
                              * when their vectors' cosine similarity is dedup_threshold or more */
    double dedup_threshold;  /* MN_DEDUP_NEAR's similarity: default 0.95, 0 < t <= 1 */
    /* search ranking and the relevance floor: the handle's defaults for mn_search_options'
     * fields of the same meaning (see "Ranking" below), which a call's own value overrides */
    int64_t search_recency_half_life_ms; /* 0: no recency adjustment (the default) */
    double search_recency_weight;        /* 0..1; 0: 0.5 once a half-life is set */
    double search_importance_weight;     /* 0..1; 0: no importance adjustment (the default) */
    double search_min_relevance;         /* the floor of a hit's similarity, -1..1: 0 = the
                                          * embedder's (0.15 for "local", none for the
                                          * others); MN_SEARCH_OFF = no floor */
    int search_mode;         /* what MN_SEARCH_AUTO means for this handle: MN_SEARCH_HYBRID
                              * (0 = the default: it finds what either mode finds, and a rare
                              * word first), MN_SEARCH_VECTOR or MN_SEARCH_KEYWORD */
    /* ---- version 4 (since 1.4) ---- rate limits (see "Rate limits" below) */
    int ratelimit_scope;     /* whose calls share a counter: MN_RATELIMIT_PER_TENANT (0, the
                              * default: a tenant's limit is a budget of the tenant) or
                              * MN_RATELIMIT_PER_IDENTITY (each identity its own counters) */
    int ratelimit_defaults;  /* which calls the built-in limits hold: MN_RATELIMIT_DEFAULTS_AUTO
                              * (0, the default): calls made by API key only;
                              * MN_RATELIMIT_DEFAULTS_GUIDE: every identity's calls (1.3's
                              * behaviour); MN_RATELIMIT_DEFAULTS_NONE: none (only the limits
                              * a tenant sets with mn_limit_set) */
    /* ---- version 5 (since 1.5) ---- the HNSW index's int8 codes (see mn_ann_params) */
    int hnsw_quantize;       /* MN_ANN_FLOAT32 (0, the default) or MN_ANN_INT8: searches walk
                              * int8 codes (dim + 4 bytes more per vector, kept with its links
                              * in whole 64-byte lines) and score their best
                              * candidates again from the floats. An index saved with the other
                              * choice is rebuilt at open */
    int hnsw_rerank;         /* MN_ANN_INT8: candidates scored again from the floats: 0 = all
                              * ef of them; else at least k; 1..100000 */
} mn_config;
#define MN_CONFIG_VERSION 5
#define MN_CONFIG_INIT MN_INIT_(MN_CONFIG_VERSION)
MN_API int mn_config_init(mn_config *s, unsigned version);

#define MN_RATELIMIT_AUTO 0
#define MN_RATELIMIT_OFF 1
#define MN_RATELIMIT_MEMORY 2
#define MN_RATELIMIT_REDIS 3
/* mn_config.ratelimit_scope (since 1.4) */
#define MN_RATELIMIT_PER_TENANT 0
#define MN_RATELIMIT_PER_IDENTITY 1
/* mn_config.ratelimit_defaults (since 1.4) */
#define MN_RATELIMIT_DEFAULTS_AUTO 0
#define MN_RATELIMIT_DEFAULTS_GUIDE 1
#define MN_RATELIMIT_DEFAULTS_NONE 2

#define MN_EMBED_CACHE_AUTO 0
#define MN_EMBED_CACHE_OFF 1

#define MN_INDEX_AUTO 0
#define MN_INDEX_NONE 1

#define MN_METRICS_AUTO 0
#define MN_METRICS_OFF 1

#define MN_CACHE_AUTO 0
#define MN_CACHE_OFF 1
#define MN_CACHE_MEMORY 2
#define MN_CACHE_REDIS 3

#define MN_DEDUP_EXACT 0
#define MN_DEDUP_OFF 1
#define MN_DEDUP_NEAR 2

/*
 * Opens (creating and migrating if needed) the store named by url:
 *   sqlite:PATH, sqlite://PATH or a bare PATH    embedded SQLite file
 * cfg may be NULL for defaults. On failure *out is still set when memory allowed, so that
 * mn_errmsg(*out) can explain; the caller must mn_close() it either way.
 */
MN_API int mn_open(mn_db **out, const char *url, const mn_config *cfg);
MN_API void mn_close(mn_db *db);
/* Message and code of the calling thread's last failure, when that failure was on db; otherwise
 * "not an error" and MN_OK. Like errno, they report the last failure, not the last call: a
 * successful call leaves them as they were, and never leaves a failure behind (work a call
 * recovered from inside, such as rate limiting that failed open or a cache it could not read,
 * is not reported). So read them right after the call that failed. Each thread keeps its own.
 * Calls without a handle (mn_ann_*, mn_jsonlogic_apply, mn_json_compact, mn_*_init, an mn_open
 * that could not allocate one) report with db NULL: mn_errmsg(NULL).
 * Secrets are never shown: a message, a log line (mn_config.log_fn) and mn_db_url() have
 * "***" for every secret the handle was given (the password of each of its URLs, a URL's
 * parameters whose names say secret, such as password, sslpassword, key or token, read_url
 * when its URL holds one, each as written and %-decoded; the embedder's API key), and for the
 * password of any URL and any "Bearer" token that reach a message some other way (a server
 * echoing a request). */
MN_API const char *mn_errmsg(const mn_db *db);
MN_API int mn_errcode(const mn_db *db);
/* When the calling thread's last failure on db is MN_ELIMITED: the milliseconds to wait until
 * the call would fit (-1: it never will, it asks for more than the limit itself); otherwise 0. */
MN_API int64_t mn_retry_after_ms(const mn_db *db);
/* The URL db was opened with (also when mn_open failed), as messages may show it: its
 * secrets replaced by "***", as above. Valid until mn_close; NULL when db is NULL or was
 * given no URL. */
MN_API const char *mn_db_url(const mn_db *db);
MN_API int mn_embed_dim(const mn_db *db);
/* The schema version of the open database: the number of the last migration applied. */
MN_API int mn_schema_version(mn_db *db, int *version);

/* ---- Actors ------------------------------------------------------------------------------- */
/* Who a call is made for. tenant: tenant id or name (required). identity: identity id or
 * external_id; NULL (and only NULL: "" is MN_EINVAL) means the tenant's trusted system actor
 * (host programs acting for the tenant itself). An unknown tenant or identity is MN_ENOTFOUND;
 * a deactivated identity may not act (MN_EDENIED). Ids are matched as stored (lowercase);
 * names exactly.
 * Or, instead of tenant and identity (both then NULL, else MN_EINVAL), an API key (see "API
 * keys" below): the call acts for the key's identity in its tenant, and every access check
 * also wants the key's scopes to hold the call's "resource:action" (else MN_EDENIED naming the
 * scope missing). A key that is wrong, unknown, revoked or expired is MN_EDENIED, with one
 * message whichever it is. */
typedef struct mn_actor {
    unsigned version;        /* MN_ACTOR_VERSION (see "Structs that grow" at the top) */
    const char *tenant;
    const char *identity;
    const char *context;  /* JSON object the policies may test, e.g. {"ip": "203.0.113.9"};
                           * NULL = {} */
    /* ---- version 2 (1.1) ---- */
    const char *api_key;  /* "mk_..." as mn_apikey_create made it, or NULL */
} mn_actor;
#define MN_ACTOR_VERSION 2
#define MN_ACTOR_INIT MN_INIT_(MN_ACTOR_VERSION)
MN_API int mn_actor_init(mn_actor *s, unsigned version);

/* ---- Tenants ------------------------------------------------------------------------------ */
typedef struct mn_tenant {
    char *id;            /* UUIDv7 */
    char *name;
    int64_t created_at;  /* milliseconds since the Unix epoch, UTC */
} mn_tenant;

typedef struct mn_tenants {
    size_t count;
    mn_tenant **items;
} mn_tenants;

/* name: 1..128 bytes of letters, digits, '-', '_', '.', not shaped like a UUID (names and ids
 * are looked up together, an id first); unique (else MN_EEXISTS). out may be NULL. */
MN_API int mn_tenant_create(mn_db *db, const char *name, mn_tenant **out);
MN_API int mn_tenant_get(mn_db *db, const char *id_or_name, mn_tenant **out);
MN_API int mn_tenant_list(mn_db *db, mn_tenants **out);
/* Erases the tenant (id or name) and everything of it, all or nothing in one store
 * transaction: its memories and their history, identities, API keys, policies, rate-limit
 * overrides, embedding jobs, the embedding cache of its scope and its change feed; then,
 * after the commit, its part of the vector index, in memory and its files. A host operation,
 * as mn_tenant_create: no actor, no policy. Later calls for it are MN_ENOTFOUND, as for any
 * unknown tenant. NULL or "" is MN_EINVAL, an unknown tenant MN_ENOTFOUND; both change
 * nothing. SQLite zeroes what a delete frees (secure_delete) and empties its WAL after the
 * erase; PostgreSQL keeps dead rows until VACUUM, and backups keep what they hold: both are
 * the operator's (libmanushya(3), ERASURE). Since 1.1. */
MN_API int mn_tenant_delete(mn_db *db, const char *id_or_name);
MN_API void mn_tenant_free(mn_tenant *t);
MN_API void mn_tenants_free(mn_tenants *l);

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

typedef struct mn_identities {
    size_t count;
    mn_identity **items;
} mn_identities;

/* role defaults to "agent" when NULL; claims (a JSON object) to "{}". external_id and role:
 * 1..256 and 1..64 bytes of UTF-8 without control characters; an external_id shaped like a
 * UUID is MN_EINVAL (it could stand for another identity's id). out may be NULL. */
MN_API int mn_identity_create(mn_db *db, const mn_actor *actor, const char *external_id,
                              const char *role, const char *claims, mn_identity **out);
MN_API int mn_identity_get(mn_db *db, const mn_actor *actor, const char *id_or_external_id,
                           mn_identity **out);
MN_API int mn_identity_list(mn_db *db, const mn_actor *actor, mn_identities **out);
MN_API int mn_identity_deactivate(mn_db *db, const mn_actor *actor, const char *id_or_external_id);
/* Erases the identity and everything of it, all or nothing: every memory it owns, their
 * history and embedding jobs, its API keys; then the tenant's part of the vector index is
 * dropped, in memory and its files, and built again from the store at its next use (a graph
 * keeps deleted vectors until it is rebuilt). Needs "delete" on the identity. The tenant's
 * embedding cache is kept (it is keyed by text, not by owner): mn_tenant_delete erases it. */
MN_API int mn_identity_delete(mn_db *db, const mn_actor *actor, const char *id_or_external_id);
MN_API void mn_identity_free(mn_identity *i);
MN_API void mn_identities_free(mn_identities *l);

/* ---- API keys (since 1.1) ----------------------------------------------------------------
 * A key lets a program act for an identity without naming its tenant and identity: a server
 * takes it as a bearer token (mn_apikey_verify, or mn_actor.api_key on each call). It reads
 * mk_<id>_<secret>: id, 16 hex digits, is public (lists show it, messages may); secret, 64 hex
 * digits, is 256 random bits. The key is returned once, by mn_apikey_create: the store keeps
 * only a BLAKE2b hash of it keyed with a random secret of the database's own, so neither a copy
 * of the database nor a list shows a key again. Messages and log lines never show a key's
 * secret ("mk_<id>_***").
 * A key never allows more than its identity's policies do: its scopes, when it has any, narrow
 * them to the "resource:action" pairs named (resources and actions as the policies name them:
 * memory:create, memory:read, memory:update, memory:delete, memory:list, memory:search,
 * identity:create|read|update|delete|list, policy:create|read|update|delete|list,
 * ratelimit:read|update|delete, apikey:create|read|delete, audit:read|update|delete). A list or search
 * wants both its action and memory:read, as the policies do.
 * Who may create, list and revoke keys: the tenant's system actor, or an identity whose
 * policies allow "create", "read" and "delete" on resource "apikey" (the default admin policy
 * does). Verification is cached per handle by key id for about a second: a key revoked
 * through another handle or process stops working within that time, through this handle at
 * once. Deleting an identity revokes its keys. */
typedef struct mn_apikey {
    char *id;             /* the public id: 16 hex digits, the key's mk_<id>_ prefix */
    char *tenant_id;
    char *identity_id;    /* the identity the key acts for */
    char *scopes;         /* JSON array of "resource:action", or NULL: whatever the identity's
                           * policies allow */
    int64_t created_at;   /* ms since the epoch */
    int64_t expires_at;   /* 0 = never */
    int64_t last_used_at; /* 0 = never; recorded at most once a minute per key */
} mn_apikey;

typedef struct mn_apikeys {
    size_t count;
    mn_apikey **items;    /* oldest first */
} mn_apikeys;

/* A new API key (mn_apikey_create). */
typedef struct mn_apikey_input {
    unsigned version;       /* MN_APIKEY_INPUT_VERSION (see "Structs that grow" at the top) */
    const char *identity;   /* required: id or external_id of the identity it acts for */
    const char *scopes;     /* JSON array of 1 or more "resource:action" (above), or NULL */
    int64_t expires_at;     /* ms since the epoch, in the future; 0 = never */
} mn_apikey_input;
#define MN_APIKEY_INPUT_VERSION 1
#define MN_APIKEY_INPUT_INIT MN_INIT_(MN_APIKEY_INPUT_VERSION)
MN_API int mn_apikey_input_init(mn_apikey_input *s, unsigned version);

/* Makes a key for in->identity: *key_out (free it with mn_free) is the key, shown this once;
 * out (may be NULL) what lists show of it. An unknown identity is MN_ENOTFOUND; an unknown
 * scope, an empty array or a past expiry MN_EINVAL. Needs "create" on "apikey". */
MN_API int mn_apikey_create(mn_db *db, const mn_actor *actor, const mn_apikey_input *in,
                            char **key_out, mn_apikey **out);
/* The tenant's keys, or the keys of one identity (id or external_id; NULL: all), oldest first;
 * never a key itself. Needs "read" on "apikey". */
MN_API int mn_apikey_list(mn_db *db, const mn_actor *actor, const char *identity,
                          mn_apikeys **out);
/* Revokes the key with that public id (MN_ENOTFOUND when the tenant has none). Needs "delete"
 * on "apikey". */
MN_API int mn_apikey_revoke(mn_db *db, const mn_actor *actor, const char *id);
/* Checks a key a client presented: MN_OK with what it is in *out (may be NULL); MN_EINVAL when
 * key is not shaped like one; MN_EDENIED, with one message and the same work, when it is wrong,
 * unknown, revoked or expired, or its identity was deactivated (within about a second of it).
 * Records its use (at most once a minute). */
MN_API int mn_apikey_verify(mn_db *db, const char *key, mn_apikey **out);
MN_API void mn_apikey_free(mn_apikey *k);
MN_API void mn_apikeys_free(mn_apikeys *l);

/* ---- Webhooks (since 1.5) -----------------------------------------------------------------
 * A tenant's subscriptions: each names an http:// or https:// URL and the events it wants,
 * of memory.created, memory.updated, memory.deleted, policy.changed, identity.created,
 * identity.deleted. A change that commits writes one delivery per matching subscription into
 * the store's outbox in its own transaction (a change that rolls back sends nothing); a
 * tenant without subscriptions pays one indexed statement per change. Deliveries are made by
 * mn_webhook_run (or the threads of mn_webhook_start: `manushya serve`, `manushya worker`):
 * claimed for a lease, POSTed as JSON
 *     {"id": "<event id>", "type": "memory.created", "created_at": <ms>, "tenant_id": "...",
 *      "data": {"ids": [...], "identity_id": "..." | null}}
 * with the headers Manushya-Event-Id (the event id, a UUID: the same on every attempt, so a
 * receiver drops what it already has; at-least-once), Manushya-Event, Manushya-Delivery and
 *     Manushya-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 * A receiver recomputes v1 over the raw body with its secret, compares in constant time, and
 * refuses a t older than its replay window (5 minutes is usual). A 2xx answer delivers; any
 * other answer, a timeout or a failed connection is retried after mn_webhook_options.retry_ms,
 * doubling with jitter (at most an hour), until max_attempts: the delivery is then dead
 * (MN_DELIVERY_DEAD) until mn_webhook_retry. A worker killed mid-delivery leaves it to be
 * claimed again when its lease runs out. Bodies name ids, never a memory's text.
 * The secret (whsec_ and 64 hex digits) is returned once, by mn_webhook_add; an encrypted
 * database keeps it sealed under the tenant's data key. Managing webhooks needs "create",
 * "read", "update" (test, retry) or "delete" on resource "webhook" (the default admin policy
 * allows them); each change is in the audit log. */
typedef struct mn_webhook {
    char *id;             /* UUID */
    char *tenant_id;
    char *url;
    char *events;         /* JSON array of the event names it receives */
    int64_t created_at;   /* ms since the epoch */
} mn_webhook;

typedef struct mn_webhooks {
    size_t count;
    mn_webhook **items;   /* oldest first */
} mn_webhooks;

/* A new subscription (mn_webhook_add). */
typedef struct mn_webhook_input {
    unsigned version;       /* MN_WEBHOOK_INPUT_VERSION (see "Structs that grow" at the top) */
    const char *url;        /* required: http:// or https://, at most 2048 bytes */
    const char *events;     /* required: JSON array of 1 or more event names (above) */
} mn_webhook_input;
#define MN_WEBHOOK_INPUT_VERSION 1
#define MN_WEBHOOK_INPUT_INIT MN_INIT_(MN_WEBHOOK_INPUT_VERSION)
MN_API int mn_webhook_input_init(mn_webhook_input *s, unsigned version);

#define MN_DELIVERY_PENDING 1   /* waiting for its (next) attempt, or held by a worker */
#define MN_DELIVERY_DONE 2      /* the receiver answered 2xx */
#define MN_DELIVERY_DEAD 3      /* its attempts ran out */

typedef struct mn_webhook_delivery {
    int64_t id;           /* 1, 2, ... in the database */
    char *webhook_id;
    char *event_id;       /* the idempotency id: Manushya-Event-Id and the body's "id" */
    char *event;          /* "memory.created", ..., or "webhook.test" */
    int status;           /* MN_DELIVERY_* */
    int attempts;         /* made so far (a claim counts) */
    int64_t next_at;      /* pending: not tried before this (ms since the epoch) */
    int http_status;      /* the last answer's status, 0: none */
    char *error;          /* the last failed attempt's reason, or NULL */
    int64_t created_at, updated_at;
} mn_webhook_delivery;

typedef struct mn_webhook_deliveries {
    size_t count;
    mn_webhook_delivery **items; /* newest first */
} mn_webhook_deliveries;

/* How deliveries are made (mn_webhook_run, mn_webhook_start); zero fields take the default. */
typedef struct mn_webhook_options {
    unsigned version;     /* MN_WEBHOOK_OPTIONS_VERSION */
    int batch;            /* deliveries claimed at once: default 10, at most 1000 */
    int max_attempts;     /* attempts before a delivery is dead: default 8 */
    int retry_ms;         /* wait after the first failure, doubling: default 1000 */
    int timeout_ms;       /* one request's time limit, connection included: default 10000 */
    int lease_ms;         /* a claim's lease, over batch * timeout_ms: default 300000 */
    int poll_ms;          /* mn_webhook_start: idle threads look this often: default 1000 */
    int threads;          /* mn_webhook_start: delivery threads: default 1, at most 64 */
} mn_webhook_options;
#define MN_WEBHOOK_OPTIONS_VERSION 1
#define MN_WEBHOOK_OPTIONS_INIT MN_INIT_(MN_WEBHOOK_OPTIONS_VERSION)
MN_API int mn_webhook_options_init(mn_webhook_options *s, unsigned version);

/* Subscribes the actor's tenant: *secret_out (free it with mn_free) is the signing secret,
 * shown this once; out (may be NULL) what lists show. A URL that is not http(s), an unknown
 * or repeated event, an empty array: MN_EINVAL, nothing stored. Needs "create" on "webhook". */
MN_API int mn_webhook_add(mn_db *db, const mn_actor *actor, const mn_webhook_input *in,
                          char **secret_out, mn_webhook **out);
/* The tenant's subscriptions, oldest first, never a secret. Needs "read" on "webhook". */
MN_API int mn_webhook_list(mn_db *db, const mn_actor *actor, mn_webhooks **out);
/* Removes a subscription and its deliveries (MN_ENOTFOUND when the tenant has none with that
 * id). Needs "delete" on "webhook". */
MN_API int mn_webhook_remove(mn_db *db, const mn_actor *actor, const char *id);
/* Queues a "webhook.test" event to that subscription alone; *delivery_id (may be NULL) is its
 * delivery. Needs "update" on "webhook". */
MN_API int mn_webhook_test(mn_db *db, const mn_actor *actor, const char *id,
                           int64_t *delivery_id);
/* The tenant's deliveries, newest first: of one subscription (webhook_id; NULL: all), with
 * that status (MN_DELIVERY_*, 0: any), at most limit (0 = 100, at most 10000). Needs "read"
 * on "webhook". */
MN_API int mn_webhook_deliveries_list(mn_db *db, const mn_actor *actor,
                                      const char *webhook_id, int status, int limit,
                                      mn_webhook_deliveries **out);
/* Makes the dead delivery delivery_id (0: every dead one of the tenant) due now, attempts
 * back to 0; *retried (may be NULL) counts them. An id that is not a dead delivery of the
 * tenant is MN_ENOTFOUND. Needs "update" on "webhook". */
MN_API int mn_webhook_retry(mn_db *db, const mn_actor *actor, int64_t delivery_id,
                            size_t *retried);
/* Makes one batch of due deliveries of every tenant in the calling thread (opt may be NULL:
 * the defaults). *delivered and *failed (either may be NULL) count them; both 0: none was
 * due. MN_EUNSUPPORTED in a build without libcurl. */
MN_API int mn_webhook_run(mn_db *db, const mn_webhook_options *opt, size_t *delivered,
                          size_t *failed);
/* Starts opt->threads background threads on the handle making deliveries until mn_close
 * (each finishes the delivery in hand). MN_EINVAL when they run already, or for a read-only
 * handle. */
MN_API int mn_webhook_start(mn_db *db, const mn_webhook_options *opt);
MN_API void mn_webhook_free(mn_webhook *w);
MN_API void mn_webhooks_free(mn_webhooks *l);
MN_API void mn_webhook_deliveries_free(mn_webhook_deliveries *l);

/* ---- Audit log (since 1.2) ----------------------------------------------------------------
 * Every change (and every denial of the policies) appends an entry to its tenant's audit log,
 * in the change's own transaction: a change that fails or rolls back leaves none. An entry
 * says when, who (identity, or NULL for the system actor, and the API key it was made by),
 * the action ("memory:create", ...), the ids acted on (a bulk call: one entry, all its ids),
 * the outcome ("ok" or "denied"), the deciding policy and the actor's context. Entries chain
 * per tenant by BLAKE2b hash, each over its fields and the hash of the one before. Reading the
 * log (verify, list) needs "read" on "audit", setting its retention "update", pruning it
 * "delete" (the system actor may). */
typedef struct mn_audit_entry {
    int64_t seq;          /* 1, 2, ... per tenant */
    int64_t at;           /* ms since the epoch */
    char *identity_id;    /* NULL: the tenant's system actor */
    char *apikey_id;      /* the API key the call was made by, or NULL */
    char *action;         /* "resource:action", e.g. "memory:create" */
    char *resources;      /* JSON array of the ids acted on */
    char *outcome;        /* "ok" or "denied" */
    char *policy_id;      /* the policy that allowed or denied the call; NULL for the system
                           * actor (trusted, not decided) and a denial no policy made */
    char *context;        /* the actor's context (JSON), or NULL */
    char *prev_hash;      /* hex: the hash of the entry before ("" before the first) */
    char *hash;           /* hex: BLAKE2b over the fields above and prev_hash */
} mn_audit_entry;

typedef struct mn_audit_entries {
    size_t count;
    mn_audit_entry **items; /* by seq */
} mn_audit_entries;

/* What mn_audit_list shows; a zero field (NULL, 0) selects any. */
typedef struct mn_audit_filter {
    unsigned version;       /* MN_AUDIT_FILTER_VERSION (see "Structs that grow" at the top) */
    const char *identity;   /* who acted: an identity id or external_id */
    const char *action;     /* "memory:create", or a prefix: "memory:" for every memory action */
    const char *resource;   /* an id among those the entry names */
    const char *outcome;    /* "ok" or "denied" */
    int64_t since;          /* entries at or after this time (ms since the epoch) */
    int64_t until;          /* entries before this time */
    int64_t after_seq;      /* entries past this seq: the last seq of the previous page */
    int limit;              /* default 100, at most 1000 */
} mn_audit_filter;
#define MN_AUDIT_FILTER_VERSION 1
#define MN_AUDIT_FILTER_INIT MN_INIT_(MN_AUDIT_FILTER_VERSION)
MN_API int mn_audit_filter_init(mn_audit_filter *s, unsigned version);

/* Walks the actor's tenant's chain from its first entry (or retention's checkpoint): MN_OK when
 * intact (or empty), with *checked (may be NULL) the entries walked; MN_ECORRUPT when an entry
 * was edited, deleted or moved, the message naming the first bad seq and *checked the intact
 * entries before it. Entries appended during the walk are left for the next one. The chain is
 * not keyed: it shows edits made without recomputing it. On SQLite, whose chain ends at its
 * last entry (no head row), the last entries deleted show only to one comparing *checked with
 * a count kept elsewhere. Needs "read" on "audit". */
MN_API int mn_audit_verify(mn_db *db, const mn_actor *actor, int64_t *checked);
/* The actor's tenant's entries that filter (NULL: all) selects, by seq, a page at a time:
 * fewer than the limit means the last page; the next starts after the last seq shown. An
 * identity filter naming no identity of the tenant is taken as an id (the entries of an
 * identity deleted since). Needs "read" on "audit". */
MN_API int mn_audit_list(mn_db *db, const mn_actor *actor, const mn_audit_filter *filter,
                         mn_audit_entries **out);
/* Removes the oldest entries, those made more than older_than_ms ago (up to the first that is
 * not), once the chain verifies (MN_ECORRUPT otherwise, removing nothing); an age below the
 * tenant's retention (below) is MN_EINVAL. The last entry removed stays as the chain's
 * checkpoint: verify starts from its hash, so the entries kept still verify and tampering
 * with them still shows. The prune is itself an entry ("audit:prune", naming the last seq
 * removed). *removed (may be NULL): how many went. Needs "delete" on "audit". */
MN_API int mn_audit_prune(mn_db *db, const mn_actor *actor, int64_t older_than_ms,
                          int64_t *removed);
/* The tenant's retention: its entries are kept keep_ms at least, and mn_audit_prune refuses a
 * shorter age (MN_EINVAL); 0 (the default) sets no minimum. Setting it is an entry itself
 * ("audit:retention") and needs "update" on "audit"; reading it needs "read". */
MN_API int mn_audit_retention_set(mn_db *db, const mn_actor *actor, int64_t keep_ms);
MN_API int mn_audit_retention_get(mn_db *db, const mn_actor *actor, int64_t *keep_ms);
MN_API void mn_audit_entry_free(mn_audit_entry *e);
MN_API void mn_audit_entries_free(mn_audit_entries *l);

/* ---- Change feed (since 1.5) ---------------------------------------------------------------
 * What changed among the memories after a point, so that a host can keep caches and indexes of
 * its own in step: every change to a memory stamps it with the store-wide change sequence
 * (mn_memory.seq), and the feed returns, in seq order, each memory changed after after_seq as
 * its last change left it. It is a state feed, not an event log: a memory changed twice after
 * after_seq appears once, with its latest state and seq (every event is in the audit log).
 * A consumer applies entries in order (created, updated, restored: upsert; deleted: hide or
 * drop; purged: drop), keeps the page's next_seq, and reads again from there.
 *
 * Policy-filtered as reads are: an identity sees the changes to the memories it may list and
 * read (a purged memory is checked with what the feed keeps of it: its id, owner and type;
 * no metadata, importance 0). Like a list it reads the identity's own memories by default
 * (selected by the store's query), every memory it may read with MN_ALL_READABLE; the
 * tenant's system actor sees the whole tenant. Needs "list" on "memory".
 *
 * Deletions are kept for a while: maintenance (MN_MAINT_FEED) prunes the records of purged
 * memories once the vector index has applied them, and raises the feed's horizon. Reading
 * from an after_seq below the horizon (other than 0) is MN_ERANGE: purges since are no longer
 * known, so the consumer must resync (read from 0, or list everything, and follow on from the
 * next_seq it gets). after_seq 0 is never refused: a consumer with nothing misses nothing. */
#define MN_FEED_CREATED 1   /* added (its last change; version 1) */
#define MN_FEED_UPDATED 2   /* changed (text, type, metadata, importance, vector) */
#define MN_FEED_DELETED 3   /* soft-deleted (mn_memory_restore can bring it back) */
#define MN_FEED_RESTORED 4  /* restored after a soft delete */
#define MN_FEED_PURGED 5    /* hard-deleted (or purged on expiry): gone for good */

typedef struct mn_feed_query {
    unsigned version;   /* MN_FEED_QUERY_VERSION (see "Structs that grow" at the top) */
    int64_t after_seq;  /* changes after this seq: 0 = from the start; then a page's next_seq */
    int limit;          /* entries per page: default 100, at most 1000 */
    unsigned flags;     /* MN_ALL_READABLE, or 0 */
} mn_feed_query;
#define MN_FEED_QUERY_VERSION 1
#define MN_FEED_QUERY_INIT MN_INIT_(MN_FEED_QUERY_VERSION)
MN_API int mn_feed_query_init(mn_feed_query *s, unsigned version);

typedef struct mn_feed_entry {
    char *memory_id;
    int kind;             /* MN_FEED_* */
    int64_t version;      /* the memory's version (a purged memory's last) */
    int64_t seq;          /* the seq of its last change */
    char *identity_id;    /* its owner */
    char *type;
    char *session;        /* its conversation, else NULL */
    int64_t expires_at;   /* 0 = never (and for a purged memory) */
} mn_feed_entry;

typedef struct mn_feed_page {
    size_t count;
    mn_feed_entry **items; /* by seq */
    int64_t next_seq;      /* the after_seq of the next read: the last seq this page covered */
    int more;              /* 1 when changes past next_seq were there already (read again at
                            * once); 0: the consumer is up to date */
} mn_feed_page;

/* A page of the changes after q->after_seq (q NULL: from 0, default limit, own memories). A
 * page holds up to limit entries whenever that many follow; changes the actor may not see are
 * skipped and the page filled from those after them, reading at most MN_LIST_READ_MAX hidden
 * ones per call (then the page is shorter, even empty, with more set and next_seq past them).
 * One change that touches many memories at once (an identity deleted with its memories) shares
 * one seq: a page never splits a seq, so it may then hold more than limit entries. after_seq
 * below the horizon: MN_ERANGE (above); beyond the store's seq: MN_EINVAL. */
MN_API int mn_feed_read(mn_db *db, const mn_actor *actor, const mn_feed_query *q,
                        mn_feed_page **out);
/* "created", "updated", "deleted", "restored" or "purged"; NULL for anything else. */
MN_API const char *mn_feed_kind_name(int kind);
MN_API void mn_feed_page_free(mn_feed_page *p);

/* ---- Encryption at rest (since 1.2) -------------------------------------------------------
 * A database created with MN_OPEN_ENCRYPT seals, with XChaCha20-Poly1305, each memory's text
 * and metadata and its history's before and after, under a data key of its tenant; data keys
 * are kept wrapped by the master key, a 32-byte key in a file of its own (mn_config.
 * master_key_file, else MANUSHYA_MASTER_KEY_FILE), never stored in the database. A value is
 * bound to its tenant, record and column: moved to another row it does not open
 * (MN_ECORRUPT). Opening an encrypted database without its master key, or with another, is
 * MN_EKEY. Filters, policies, search and export see the plain values as before.
 * In the clear stay: ids, types, importance, times, versions, owners, policies, the
 * embeddings and the vector index made of them (from which similar texts can be told apart,
 * and a text guessed by whoever can embed it), and the audit log. mn_tenant_delete destroys
 * the tenant's data keys: every copy of its sealed values, backups included, is then
 * unreadable. */
/* Writes a new random master key, 64 hex digits, to a new file at path (mode 0600; an
 * existing file is never replaced: MN_EEXISTS). Errors through mn_errmsg(NULL). */
MN_API int mn_master_key_create(const char *path);
/* 1 when db's database is encrypted, else 0. */
MN_API int mn_db_encrypted(const mn_db *db);
/* Wraps every data key with the master key in new_key_file instead of the current one, in
 * one transaction; no value is sealed again. The check that tells the key at open follows,
 * so from then on the database opens with the new key only: other processes must reopen
 * with it. */
MN_API int mn_master_key_rotate(mn_db *db, const char *new_key_file);
/* One step of sealing every value of a tenant again under a new data key: the first call
 * makes the key (every write uses it from then on), each next re-seals up to batch rows
 * (1..100000) in a write of its own, and the last destroys the old keys and sets *done to 1.
 * Online: other calls go on meanwhile. Resumable: where it stands is stored with each batch,
 * so after a crash (or in another process) the next call goes on from there. */
MN_API int mn_tenant_rekey(mn_db *db, const char *id_or_name, size_t batch, int *done);

/* ---- Maintenance (since 1.2) ----------------------------------------------------------------
 * The housekeeping a long-running deployment needs, as tasks run on intervals: by
 * mn_maintenance_run, by a thread of the handle (mn_config.maintenance) or by `manushya
 * worker`. Each task runs when it is due: its interval has passed since it last started in
 * any process on the database. A task is held by one process at a time through a lease kept
 * in the database (for 15 minutes at most: a holder that died frees it then): while one
 * runs it, every other skips it (MN_MAINT_BUSY). What each task does, and its interval:
 *   MN_MAINT_PURGE_EXPIRED  every hour: mn_memory_purge_expired for every tenant
 *   MN_MAINT_EMBED_CACHE    daily: mn_embed_cache_prune of entries unused for 24 h
 *   MN_MAINT_FEED           every 10 min: drops the change feed's tombstones that the
 *                           handle's vector index applied a run ago (its partitions kept
 *                           without files; those with files drop them when MN_MAINT_INDEX
 *                           saves them), or all of them on a PostgreSQL database with
 *                           pgvector, which no index of ours follows; a handle without an
 *                           index keeps them (other processes' indexes may need them)
 *   MN_MAINT_INDEX          every 10 min: saves the handle's vector index as mn_close does
 *                           (its checkpoint files; the tombstones the previous one needed go)
 *   MN_MAINT_AUDIT          daily: mn_audit_prune of entries older than
 *                           mn_config.audit_retention_days for every tenant (0: MN_MAINT_OFF)
 *   MN_MAINT_KEYWORDS       every 10 min (since 1.7): merges the SQLite keyword index's
 *                           segments into one, a write of a bounded size at a time (a
 *                           search reads every segment: an index written in many batches is
 *                           up to twice as slow to search); nothing to do when it is one
 *                           already, or on PostgreSQL (its GIN index needs no merging)
 * A task that fails for one tenant goes on with the others; its rc and mn_errmsg are the
 * first failure's. */
#define MN_MAINT_PURGE_EXPIRED (1u << 0)
#define MN_MAINT_EMBED_CACHE   (1u << 1)
#define MN_MAINT_FEED          (1u << 2)
#define MN_MAINT_INDEX         (1u << 3)
#define MN_MAINT_AUDIT         (1u << 4)
#define MN_MAINT_KEYWORDS      (1u << 5) /* since 1.7 (MN_MAINTENANCE_REPORT_VERSION 2) */
#define MN_MAINT_ALL           0x3fu
#define MN_MAINT_FORCE         (1u << 16) /* run the tasks chosen now, due or not (a task
                                           * another process holds is still skipped) */
#define MN_MAINT_NTASKS        6          /* tasks[i] of a report is the task of bit 1u << i */

/* What became of one task in a run. */
#define MN_MAINT_NOT_ASKED 0  /* not among the tasks chosen */
#define MN_MAINT_RAN       1  /* ran (rc says how it went) */
#define MN_MAINT_BUSY      2  /* skipped: another process holds its lease and runs it */
#define MN_MAINT_NOT_DUE   3  /* skipped: its interval has not passed since it last ran */
#define MN_MAINT_OFF       4  /* skipped: its setting turns it off (audit_retention_days 0) */

typedef struct mn_maintenance_task {
    int status;               /* MN_MAINT_NOT_ASKED .. MN_MAINT_OFF */
    int rc;                   /* MN_OK, or the task's first failure */
    int64_t items;            /* memories purged, cache entries removed, tenants whose
                               * tombstones were pruned, index partitions saved, audit
                               * entries removed, keyword index merge steps */
    int64_t elapsed_ns;       /* how long it ran (0 unless it ran) */
} mn_maintenance_task;

typedef struct mn_maintenance_report {
    unsigned version;         /* MN_MAINTENANCE_REPORT_VERSION (see "Structs that grow") */
    mn_maintenance_task tasks[MN_MAINT_NTASKS]; /* by bit: tasks[0] MN_MAINT_PURGE_EXPIRED */
} mn_maintenance_report;
#define MN_MAINTENANCE_REPORT_VERSION 2 /* 2: tasks[5], MN_MAINT_KEYWORDS */
#define MN_MAINTENANCE_REPORT_INIT MN_INIT_(MN_MAINTENANCE_REPORT_VERSION)
MN_API int mn_maintenance_report_init(mn_maintenance_report *s, unsigned version);
/* Runs the tasks (MN_MAINT_* bits, with MN_MAINT_FORCE to run them due or not) that are due
 * and held by no other process, in bit order, in the calling thread; out (may be NULL)
 * receives what became of each. MN_OK when every task that ran succeeded, else the first
 * failure's code (the other tasks still ran). Unknown bits, or no task, are MN_EINVAL, as is
 * a read-only handle; nothing is run then. */
MN_API int mn_maintenance_run(mn_db *db, unsigned tasks, mn_maintenance_report *out);
/* "purge", "cache", "feed", "index" or "audit" for one task bit; NULL for anything else. */
MN_API const char *mn_maintenance_task_name(unsigned task);

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
    double similarity;    /* cosine similarity to the query; search results only (in
                           * keyword mode too: the query text's similarity to the memory) */
    float *embedding;     /* L2-normalised; NULL unless asked for (MN_WITH_EMBEDDING) */
    int dim;
    /* ---- asynchronous embedding ---- */
    int embed_status;     /* MN_EMBED_DONE (0), or MN_EMBED_PENDING / MN_EMBED_FAILED: the
                           * memory has no vector yet and is in no search result */
    char *embed_error;    /* the last failed attempt's message (a pending job is being
                           * retried), else NULL */
    /* ---- deduplication and upsert ---- */
    char *external_key;   /* the caller's key (mn_memory_input.external_key), else NULL */
    /* ---- ranking (search results only; see "Ranking" below) ---- */
    double recency_factor;    /* what recency multiplied the relevance by: 1 = nothing */
    double importance_factor; /* what importance multiplied it by: 1 = nothing */
    double score;             /* the final ranking score, results best first by it */
    /* ---- 1.3: why a search hit ranks where it does (search results only, every mode) ---- */
    double vector_score;  /* cosine similarity, when the vector ranking found it */
    int vector_rank;      /* 1-based place in the vector ranking (equal scores share
                           * the first of their places); 0: not found by it */
    double keyword_score; /* keyword relevance (BM25, higher is better), when found by words */
    int keyword_rank;     /* the same in the keyword ranking */
    double fused_score;   /* the relevance that ranking adjusts into score: the
                           * reciprocal-rank fusion in hybrid mode, else the single mode's
                           * score */
    /* ---- since 1.4: conversations ---- */
    char *session;        /* the conversation it belongs to (mn_memory_input.session), else
                           * NULL */
} mn_memory;

#define MN_EMBED_DONE 0
#define MN_EMBED_PENDING 1
#define MN_EMBED_FAILED 2

typedef struct mn_memories {
    size_t count;
    mn_memory **items;
    char *next_cursor;    /* pass to the next mn_memory_list() or mn_memory_search() call
                           * (as its cursor, with the same other options); NULL at the end */
} mn_memories;

/* A new memory (mn_memory_add, mn_memory_add_many). Its one default that is not zero:
 * importance, whose default is written MN_IMPORTANCE_DEFAULT (-1), which MN_MEMORY_INPUT_INIT
 * and mn_memory_input_init() set (any other value outside 0..1 is MN_EINVAL). */
typedef struct mn_memory_input {
    unsigned version;       /* MN_MEMORY_INPUT_VERSION (see "Structs that grow" at the top) */
    const char *identity;   /* owner: id or external_id; NULL = the actor's identity */
    const char *text;       /* required; at most mn_config.max_text_bytes, UTF-8 */
    const char *type;       /* 1..64 bytes; default "fact" */
    const char *metadata;   /* JSON object text; default "{}" */
    double importance;      /* 0..1, or MN_IMPORTANCE_DEFAULT: the default, 0.5 */
    int ttl_days;           /* > 0: expires that many days after the add; 0 = never; < 0 invalid */
    const float *embedding; /* optional caller-supplied vector of mn_embed_dim() floats */
    int dim;                /* number of floats in embedding */
    /* ---- version 2 ---- */
    const char *external_key; /* the caller's name of the memory, 1..256 bytes, unique per
                              * owner; NULL: none. Adding with a key the owner's memory has
                              * already updates that memory (see mn_memory_put) */
    const char *id;          /* the id to keep (a memory exported elsewhere), NULL: a new
                              * UUIDv7. An id the owner's memory has already updates that
                              * memory, as a key does; another owner's is MN_EEXISTS */
    /* ---- version 3 (since 1.4): conversations and finer expiry. At most one of ttl_days,
     * ttl_ms and expires_at may be set (else MN_EINVAL naming them) ---- */
    const char *session;     /* the conversation (session) id, 1..MN_SESSION_MAX bytes of
                              * UTF-8; NULL: none. Filterable (mn_filter.session, sessions),
                              * indexed per owner and session in created order */
    int64_t ttl_ms;          /* > 0: expires that many ms after the add; 0 = never; < 0 invalid */
    int64_t expires_at;      /* > 0: expires at this time (ms since epoch), which must be in the
                              * future; 0 = never; < 0 invalid */
} mn_memory_input;
#define MN_SESSION_MAX 256
#define MN_IMPORTANCE_DEFAULT (-1.0)
#define MN_MEMORY_INPUT_VERSION 3
#ifdef __cplusplus
#define MN_MEMORY_INPUT_INIT { MN_MEMORY_INPUT_VERSION, NULL, NULL, NULL, NULL, \
                               MN_IMPORTANCE_DEFAULT, 0, NULL, 0, NULL, NULL, NULL, 0, 0 }
#else
#define MN_MEMORY_INPUT_INIT { .version = MN_MEMORY_INPUT_VERSION, \
                               .importance = MN_IMPORTANCE_DEFAULT }
#endif
MN_API int mn_memory_input_init(mn_memory_input *s, unsigned version);

/* What mn_memory_update changes: the fields whose MN_MEMORY_SET_* bit is in set, at least one
 * (an empty mask is MN_EINVAL). A memory's owner and ttl_days never change: there are no bits
 * for them, and an unknown bit is MN_EINVAL. */
#define MN_MEMORY_SET_TEXT 0x1       /* text (not NULL); re-embedded unless SET_EMBEDDING */
#define MN_MEMORY_SET_TYPE 0x2       /* type (not NULL) */
#define MN_MEMORY_SET_METADATA 0x4   /* metadata (not NULL), replacing the old object */
#define MN_MEMORY_SET_IMPORTANCE 0x8 /* importance, 0..1 */
#define MN_MEMORY_SET_EMBEDDING 0x10 /* embedding and dim: the caller's vector */
typedef struct mn_memory_changes {
    unsigned version;       /* MN_MEMORY_CHANGES_VERSION (see "Structs that grow" at the top) */
    unsigned set;           /* MN_MEMORY_SET_*: which of the fields below to change */
    const char *text;
    const char *type;
    const char *metadata;
    double importance;
    const float *embedding;
    int dim;
} mn_memory_changes;
#define MN_MEMORY_CHANGES_VERSION 1
#define MN_MEMORY_CHANGES_INIT MN_INIT_(MN_MEMORY_CHANGES_VERSION)
MN_API int mn_memory_changes_init(mn_memory_changes *s, unsigned version);

/* Flags for the filter */
#define MN_WITH_DELETED 0x1    /* include soft-deleted memories */
#define MN_WITH_EXPIRED 0x2    /* include expired memories */
#define MN_WITH_EMBEDDING 0x4  /* fill mn_memory.embedding */
/* Since 1.4: whose memories a list, search or export made as an identity reads. By default
 * its own (the memories it owns), selected by the store query and the vector index's filter
 * like an owner named in mn_filter.identity, so pages and k are filled from them alone. With
 * this flag: every memory the identity may read (its policies decide), the behaviour before
 * 1.4. Naming an owner (mn_filter.identity) reads that owner's memories, as before. The
 * tenant's system actor (no identity) reads the whole tenant either way. */
#define MN_ALL_READABLE 0x8

typedef struct mn_filter {
    unsigned version;        /* MN_FILTER_VERSION (see "Structs that grow" at the top) */
    const char *identity;  /* owner id or external_id; one that does not exist is MN_ENOTFOUND
                            * for the system actor, and matches nothing for an identity (which
                            * learns no more than for an owner it may not see) */
    const char *type;
    const char *metadata;  /* JSON object: a memory matches when its metadata contains it.
                            * Since 1.4 a key's value may be {"$in": [v1, v2, ...]}: the
                            * memory's value of that key equals one of them (an object whose
                            * only key is "$in" is always read so; {"$in": x} with x not a
                            * non-empty array is MN_EINVAL) */
    unsigned flags;        /* MN_WITH_*, MN_ALL_READABLE */
    /* ---- version 2 (since 1.4): conversations, any-of and ranges. Every condition set must
     * hold (AND); a list matches any of its values (OR). A single field and its list may not
     * both be set (type and types, identity and identities, session and sessions:
     * MN_EINVAL). The store tests them all in its query (and the vector index's filter),
     * in list, search (every mode), count, delete_where, trim and export alike ---- */
    const char *session;   /* one conversation */
    const char *const *types;      size_t n_types;      /* any of these types */
    const char *const *identities; size_t n_identities; /* any of these owners (as identity) */
    const char *const *sessions;   size_t n_sessions;   /* any of these conversations */
    int64_t created_after, created_before; /* ms since epoch; 0 = unbounded; after is */
    int64_t updated_after, updated_before; /* inclusive (>=), before exclusive (<) */
    double importance_min, importance_max; /* inclusive, 0..1; both 0 = unbounded; 0 alone
                            * bounds nothing on its side. "Exactly 0" (or "at most 0"):
                            * importance_max = MN_IMPORTANCE_ZERO */
} mn_filter;
#define MN_IMPORTANCE_ZERO (-2.0)
#define MN_FILTER_VERSION 2
#define MN_FILTER_INIT MN_INIT_(MN_FILTER_VERSION)
MN_API int mn_filter_init(mn_filter *s, unsigned version);

/* Adds a memory, or finds the one it repeats (mn_memory_put); out (may be NULL) receives the
 * memory added or found. */
MN_API int mn_memory_add(mn_db *db, const mn_actor *actor, const mn_memory_input *in,
                         mn_memory **out /* may be NULL */);
/* Adds all or none, in one transaction. in[0 .. n-1] are of one version (the array's stride is
 * that version's size; another version in the array is MN_EINVAL). ids (may be NULL) receives
 * n ids, freed with mn_strings_free(ids, n): an input that repeats a memory (mn_memory_put)
 * gets that memory's id. On failure *failed_index (may be NULL) is the index of the bad input,
 * or (size_t)-1 when the failure was not one input's (unknown actor, store error). */
MN_API int mn_memory_add_many(mn_db *db, const mn_actor *actor, const mn_memory_input *in,
                              size_t n, char ***ids, size_t *failed_index);

/* Since 1.2: deduplication and upsert. mn_memory_add and mn_memory_add_many are these calls
 * without the outcome.
 *  - An input with an id or an external_key that its owner's memory already has is an update
 *    of that memory: its text, type, metadata (replaced) and importance (when given) become the
 *    input's, with a new version, a history entry and a "memory:update" audit entry, as
 *    mn_memory_update would make; nothing is written when nothing differs. Its expiry stays.
 *    The id or key of a soft-deleted or expired memory is MN_EEXISTS (restore, or delete it
 *    for good, first), as is the id of another owner's memory. Two adds of a new key racing:
 *    one adds, the other updates. A new id is kept as given.
 *  - Else, with mn_config.dedup MN_DEDUP_EXACT (the default), an input whose normalised text
 *    equals that of a live memory of the same owner and type is that memory: its metadata is
 *    merged into the memory's (the input's top-level keys are added, replacing the values of
 *    keys both have), a new version when that changes it, else nothing is written. Text,
 *    type, importance and expiry stay the memory's. Normalised: trimmed, every run of white
 *    space (Unicode's) one space, letters lowercased (ASCII, Latin-1, Greek and Cyrillic).
 *    MN_DEDUP_NEAR finds the memory by its vector instead when no text equals: the most
 *    similar live memory of the same owner and type at dedup_threshold or more (it needs the
 *    vector at the add: with embed_async, only equal texts are found).
 *  - Inputs of one batch that repeat each other are one memory, whose id and outcome each
 *    gets: the last input of an id or key wins; duplicates merge their metadata in order.
 * Updating needs "update" on the memory found (as it is and as it will be), finding it
 * unchanged "read". *outcome (may be NULL) is MN_PUT_CREATED, MN_PUT_UPDATED or
 * MN_PUT_UNCHANGED; outcomes (may be NULL) receives n of them. */
#define MN_PUT_CREATED 0
#define MN_PUT_UPDATED 1
#define MN_PUT_UNCHANGED 2
MN_API int mn_memory_put(mn_db *db, const mn_actor *actor, const mn_memory_input *in,
                         int *outcome, mn_memory **out);
MN_API int mn_memory_put_many(mn_db *db, const mn_actor *actor, const mn_memory_input *in,
                              size_t n, char ***ids, int *outcomes, size_t *failed_index);
MN_API int mn_memory_get(mn_db *db, const mn_actor *actor, const char *id, unsigned flags,
                         mn_memory **out);

typedef struct mn_list_options {
    unsigned version;        /* MN_LIST_OPTIONS_VERSION (see "Structs that grow" at the top) */
    const mn_filter *filter; /* NULL = every live memory */
    int limit;            /* default 50, at most 1000 */
    const char *cursor;   /* from a previous next_cursor, or NULL for the newest */
} mn_list_options;
#define MN_LIST_OPTIONS_VERSION 1
#define MN_LIST_OPTIONS_INIT MN_INIT_(MN_LIST_OPTIONS_VERSION)
MN_API int mn_list_options_init(mn_list_options *s, unsigned version);
/* Newest first. A page holds limit memories the actor may read whenever that many follow:
 * memories a policy hides are skipped and the page filled from the ones after them. The work
 * is bounded: one call reads at most 10000 rows (MN_LIST_READ_MAX) past those it returns; when
 * that bound is hit the page is shorter (even empty) and next_cursor says where to go on. */
#define MN_LIST_READ_MAX 10000
MN_API int mn_memory_list(mn_db *db, const mn_actor *actor, const mn_list_options *opt,
                          mn_memories **out);

/* Changes what changes->set names (text, type, metadata, importance, embedding; a new text
 * without a vector of the caller's is embedded again); bumps the version and records
 * before/after in the history. Deleted or expired memories are MN_ENOTFOUND. */
MN_API int mn_memory_update(mn_db *db, const mn_actor *actor, const char *id,
                            const mn_memory_changes *changes, mn_memory **out /* may be NULL */);

#define MN_DELETE_SOFT 0  /* hidden, restorable with mn_memory_restore() */
#define MN_DELETE_HARD 1  /* gone from every table, history included */
MN_API int mn_memory_delete(mn_db *db, const mn_actor *actor, const char *id, int mode);
/* All or none: fails without deleting anything if an id is invalid or not found. */
MN_API int mn_memory_delete_many(mn_db *db, const mn_actor *actor, const char *const *ids,
                                 size_t n, int mode);
/* Since 1.4: counting and deleting by filter, and keeping the last N of a conversation.
 *  - mn_memory_count: *count receives how many memories mn_memory_list would return with
 *    this filter, over every page. An actor for whom no policy looks at memory data (the
 *    system actor, or an identity whose policies decide by action alone) gets one count
 *    from the store (since 1.5), unless the filter has a metadata condition; otherwise the
 *    matching rows are read and each checked as list does,
 *    so the work grows with the matches (no MN_LIST_READ_MAX bound: the answer is exact).
 *  - mn_memory_delete_where: deletes (mode MN_DELETE_SOFT or MN_DELETE_HARD) every memory
 *    the filter matches that the actor may read, all or none: one of them the actor may not
 *    delete is MN_EDENIED and nothing is deleted. Audited as mn_memory_delete_many (one
 *    "memory:delete" entry for the batch). A filter with no condition (NULL, or only flags)
 *    would delete everything and is MN_EINVAL unless mode has MN_DELETE_ALL_MATCHING.
 *    *deleted (may be NULL) counts them.
 *  - mn_memory_trim: of the memories the filter matches (that the actor may read), keeps the
 *    newest keep (by created_at, then id) and deletes the rest as delete_where does, all or
 *    none. "Keep the last N of a conversation": a filter with session set. The same rule
 *    about a filter without a condition applies. */
#define MN_DELETE_ALL_MATCHING 0x100 /* or'ed into mode: a filter without condition is meant */
MN_API int mn_memory_count(mn_db *db, const mn_actor *actor, const mn_filter *filter,
                           size_t *count);
MN_API int mn_memory_delete_where(mn_db *db, const mn_actor *actor, const mn_filter *filter,
                                  int mode, size_t *deleted /* may be NULL */);
MN_API int mn_memory_trim(mn_db *db, const mn_actor *actor, const mn_filter *filter,
                          size_t keep, int mode, size_t *deleted /* may be NULL */);
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
    mn_history_entry **items; /* oldest first */
} mn_history;

MN_API int mn_memory_history(mn_db *db, const mn_actor *actor, const char *id, mn_history **out);

MN_API void mn_memory_free(mn_memory *m);
MN_API void mn_memories_free(mn_memories *l);
MN_API void mn_history_free(mn_history *h);
MN_API void mn_strings_free(char **s, size_t n);

/* ---- Search ------------------------------------------------------------------------------- */
typedef struct mn_search_options {
    unsigned version;        /* MN_SEARCH_OPTIONS_VERSION (see "Structs that grow" at the top) */
    const char *query;       /* text, embedded with the handle's embedder ... */
    const float *vector;     /* ... or a vector of dim floats: exactly one of the two */
    int dim;
    int k;                   /* default 10, at most 1000 */
    double min_similarity;   /* the relevance floor: drop hits whose similarity is below
                              * this, -1..1. 0 = the handle's search_min_relevance (by default
                              * 0.15 with the local embedder, none with the others);
                              * MN_SEARCH_OFF (-1) = no floor, every hit */
    const mn_filter *filter; /* NULL = every live memory */
    int ef;                  /* index candidates (more: better recall, slower): 0 = the
                              * handle's hnsw_ef_search; at most 100000 */
    /* ---- version 2 ---- ranking (see "Ranking" below) and paging. In each ranking field
     * 0 takes the handle's default (mn_config.search_*) and MN_SEARCH_OFF turns the
     * adjustment off for this call whatever the handle says */
    int64_t recency_half_life_ms; /* recency: a memory last changed this long ago counts
                              * half as recent as a new one (> 0) */
    double recency_weight;   /* 0..1: how much of the score recency may take (0.5 when only
                              * a half-life is set) */
    double importance_weight; /* 0..1: how much of the score importance may take */
    const char *cursor;      /* a previous result's next_cursor: the next k results of the
                              * same search; NULL = the first page */
    /* hybrid search (see "Search modes" below) */
    int mode;                /* MN_SEARCH_AUTO (0): the handle's mn_config.search_mode, or
                              * MN_SEARCH_VECTOR, MN_SEARCH_KEYWORD, MN_SEARCH_HYBRID */
    double vector_weight;    /* hybrid: weight of the vector ranking in the fusion; 0 = 1.0 */
    double keyword_weight;   /* hybrid: weight of the keyword ranking; 0 = 1.0 */
    int rrf_k;               /* hybrid: the k of reciprocal rank fusion; 0 = 60, 1..10000 */
    unsigned flags;          /* MN_SEARCH_EXPLAIN */
} mn_search_options;
#define MN_SEARCH_OFF (-1)
#define MN_SEARCH_OPTIONS_VERSION 2
#define MN_SEARCH_OPTIONS_INIT MN_INIT_(MN_SEARCH_OPTIONS_VERSION)
MN_API int mn_search_options_init(mn_search_options *s, unsigned version);

/* Search modes (mn_search_options.mode, mn_config.search_mode):
 *  - MN_SEARCH_VECTOR: nearest by the embedding (cosine similarity).
 *  - MN_SEARCH_KEYWORD: the memories that share words with the query text, best BM25 first
 *    (SQLite FTS5; PostgreSQL tsvector and ts_rank). Words are runs of letters and digits,
 *    compared without case; a memory matches when it has any of the query's words. Needs a
 *    query text.
 *  - MN_SEARCH_HYBRID: both, fused by reciprocal rank: each hit scores
 *    vector_weight / (rrf_k + vector_rank) + keyword_weight / (rrf_k + keyword_rank), a term
 *    counting only when that mode found it. A memory that holds every rare word of the query
 *    (a word at most 3 of the memories searched hold: an order number, a name, a code) gains
 *    vector_weight + keyword_weight on top, more than any such sum, and so comes first even
 *    when the embedder does not know the word. Needs a query text.
 *  - MN_SEARCH_AUTO: the handle's default (mn_config.search_mode), which is MN_SEARCH_HYBRID
 *    unless set: a search by vector alone is a vector search.
 * The keyword index follows every write in the same transaction. In an encrypted database it
 * holds no words but keyed hashes of them (BLAKE2b under a key derived from the tenant's data
 * key): it reveals which of a tenant's memories share a word, never the word. Filters,
 * policies, expiry, soft deletes and tenants apply alike in every mode; similarity is the
 * cosine of query and memory in every mode (the floor: "Ranking" below). */
#define MN_SEARCH_AUTO 0
#define MN_SEARCH_VECTOR 1
#define MN_SEARCH_KEYWORD 2
#define MN_SEARCH_HYBRID 3
/* mn_search_options.flags */
#define MN_SEARCH_EXPLAIN 0x1u   /* no change to the results; set to say that the caller reads
                                  * the explanation fields of mn_memory (they are filled in
                                  * every mode regardless) */

/* Ranking. A hit's relevance is its fused_score (in vector mode its similarity to the query;
 * see "Search modes" above); its score is the relevance times two factors, each 1 unless its
 * adjustment is on:
 *     recency_factor    = 1 - recency_weight + recency_weight * 0.5^(age / recency_half_life_ms)
 *     importance_factor = 1 - importance_weight + importance_weight * importance
 * where age is the time since the memory was last changed (updated_at). Results are best
 * first by score, ties by similarity then id; mn_memory carries similarity, both factors and
 * score, which explain the order. A factor never exceeds 1, so the best k by score are found exactly among
 * the hits by relevance (the search widens until no further hit could get in, at most 4096
 * candidates). Use recency when newer memories supersede older ones (an agent's notes on a
 * user whose plans change: half-life 7 days, weight 0.5); use importance when the agent rates
 * what it stores (a user's allergy at 1.0 over small talk at 0.2: weight 0.3). Both are off
 * by default.
 *
 * The relevance floor (min_similarity) keeps unrelated memories out: with the local embedder a
 * query's related memories (they share a word) score 0.14 and up (99.5% above 0.15) while 94% of
 * unrelated ones stay below 0.15. Another embedder's similarities have their own scale: set
 * mn_config.search_min_relevance for it. The floor is of the vector similarity: it drops the
 * hits only the vector ranking found, never a keyword match (none in keyword mode).
 *
 * Paging: with next_cursor set, the next call with the same options and cursor = next_cursor
 * returns the following k results. The order is stable for the same query and data: a cursor
 * holds the clock recency was computed with and the place of the page's last hit. A cursor of
 * another search, or text that is no cursor, is MN_EINVAL.
 *
 * Results best first, in out->items with similarity, the explanation fields and score set;
 * next_cursor set when more may follow. Both query and vector set (or neither) is MN_EINVAL.
 * A query text without a single word to match (only punctuation, say: the embedder makes an all-zero vector of it) finds nothing: MN_OK with no
 * items. (Storing such a text is refused: see mn_memory_add.) filter->flags may ask for deleted
 * or expired memories too. Unknown flag bits anywhere are MN_EINVAL. */
MN_API int mn_memory_search(mn_db *db, const mn_actor *actor, const mn_search_options *opt,
                            mn_memories **out);

/* Since 1.4: batch search. n searches (1..1000) for one actor in one call: opts[0 .. n-1] are
 * of one version (the array's stride is that version's size, as for mn_memory_add_many). The
 * query texts of all of them go to the embedder in one batch (one request to an HTTP
 * embedder); then each search runs with its own query or vector, filter, k, mode, ranking and
 * cursor, and *out receives n result lists in the order of opts, each what mn_memory_search
 * would return for its options (free them with mn_memories_free_many(*out, n)). The rate
 * limiter counts n searches (memory:search), all or none; the actor's access is decided once,
 * as each of n calls would decide it. All or nothing: a bad search is MN_EINVAL, mn_errmsg
 * starting "search I: ", and *out is NULL. */
MN_API int mn_memory_search_many(mn_db *db, const mn_actor *actor, const mn_search_options *opts,
                                 size_t n, mn_memories ***out);
MN_API void mn_memories_free_many(mn_memories **l, size_t n);

/* ---- Policies ------------------------------------------------------------------------------
 * Every call made for an identity is decided by the tenant's active policies for the
 * identity's role; a denied call fails with MN_EDENIED and mn_errmsg() names the deciding policy
 * (or says none allowed it). The system actor (mn_actor.identity NULL) is trusted: policies do
 * not apply to it. List and search return only the memories the identity may read.
 * Rule format, actions, resources and the default policies of a new tenant: libmanushya(3),
 * POLICIES. Decisions are cached for 300 s; any change to a tenant's policies invalidates its
 * cached decisions at once: in every handle of the process, and in other processes at once
 * with the Redis cache (or none), within mn_config.cache_local_ms with the in-process one
 * (see "Caches" below). */
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

typedef struct mn_policies {
    size_t count;
    mn_policy **items;    /* highest priority first */
} mn_policies;

/* A new policy (mn_policy_add). */
typedef struct mn_policy_input {
    unsigned version;         /* MN_POLICY_INPUT_VERSION (see "Structs that grow" at the top) */
    const char *role;         /* required: 1..64 bytes, or "*" */
    const char *rule;         /* required: JSON object in the policy rule format */
    const char *description;  /* default "" */
    int priority;             /* default 0 */
    int inactive;             /* 1: added switched off (mn_policy.active 0); 0 (default): on */
} mn_policy_input;
#define MN_POLICY_INPUT_VERSION 1
#define MN_POLICY_INPUT_INIT MN_INIT_(MN_POLICY_INPUT_VERSION)
MN_API int mn_policy_input_init(mn_policy_input *s, unsigned version);

/* What mn_policy_update changes: the fields whose MN_POLICY_SET_* bit is in set, at least one
 * (an empty mask or an unknown bit is MN_EINVAL). */
#define MN_POLICY_SET_ROLE 0x1        /* role (not NULL) */
#define MN_POLICY_SET_RULE 0x2        /* rule (not NULL) */
#define MN_POLICY_SET_DESCRIPTION 0x4 /* description (NULL = "") */
#define MN_POLICY_SET_PRIORITY 0x8    /* priority */
#define MN_POLICY_SET_ACTIVE 0x10     /* active: 0 or 1 */
typedef struct mn_policy_changes {
    unsigned version;         /* MN_POLICY_CHANGES_VERSION (see "Structs that grow" at the top) */
    unsigned set;             /* MN_POLICY_SET_*: which of the fields below to change */
    const char *role;
    const char *rule;
    const char *description;
    int priority;
    int active;
} mn_policy_changes;
#define MN_POLICY_CHANGES_VERSION 1
#define MN_POLICY_CHANGES_INIT MN_INIT_(MN_POLICY_CHANGES_VERSION)
MN_API int mn_policy_changes_init(mn_policy_changes *s, unsigned version);

MN_API int mn_policy_add(mn_db *db, const mn_actor *actor, const mn_policy_input *in,
                         mn_policy **out /* may be NULL */);
MN_API int mn_policy_get(mn_db *db, const mn_actor *actor, const char *id, mn_policy **out);
MN_API int mn_policy_list(mn_db *db, const mn_actor *actor, mn_policies **out);
MN_API int mn_policy_update(mn_db *db, const mn_actor *actor, const char *id,
                            const mn_policy_changes *changes, mn_policy **out /* may be NULL */);
MN_API int mn_policy_delete(mn_db *db, const mn_actor *actor, const char *id);
MN_API void mn_policy_free(mn_policy *p);
MN_API void mn_policies_free(mn_policies *l);

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

/* Checks that json is a JSON object the library keeps exactly as written wherever it takes JSON
 * (metadata, claims, contexts, rules): UTF-8 RFC 8259 text with no key given twice, no NUL
 * (\u0000), and no number a double would change (an integer past 2^53 whose digits it cannot
 * hold, a non-finite one such as 1e999). Sets *out (free it with mn_free) to its compact form,
 * what the library stores: the text without the white space between tokens, every string and
 * number as written. With key not NULL, *out is that member's value instead (MN_ENOTFOUND when
 * the object has none). Needs no handle: MN_EINVAL's message, naming the path of what is wrong,
 * is mn_errmsg(NULL). */
MN_API int mn_json_compact(const char *json, const char *key, char **out);

/* Evaluates a JSON Logic rule (jsonlogic.com; the language of policy "when" clauses) against
 * data, both JSON text (data NULL = null), and sets *result to the result as JSON text (free
 * it with mn_free). Needs no handle: a failure (MN_EINVAL for bad JSON or a bad rule, whose
 * message gives the JSON path of the bad node; MN_ERANGE past the evaluation limits) is
 * reported by mn_errcode(NULL) and mn_errmsg(NULL). */
MN_API int mn_jsonlogic_apply(const char *rule, const char *data, char **result);

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
 * There is no handle: mn_errcode(NULL) and mn_errmsg(NULL) report a failure of any of them,
 * as for mn_jsonlogic_apply. */
typedef struct mn_ann mn_ann;

typedef struct mn_ann_params { /* 0 = the default */
    unsigned version;        /* MN_ANN_PARAMS_VERSION (see "Structs that grow" at the top) */
    int m;               /* links per node (2m on the bottom layer): 0 = 16; 2 .. 100 */
    int ef_construction; /* candidates kept while inserting: 0 = 64; 1 .. 100000 */
    int ef_search;       /* candidates kept by a search that passes ef <= 0: 0 = 40 */
    uint64_t seed;       /* of the layer draw: one seed and one insertion order, one graph */
    /* ---- version 2 (since 1.5) ---- */
    int quantize;        /* MN_ANN_FLOAT32 (0, the default) or MN_ANN_INT8 (below) */
    int rerank;          /* MN_ANN_INT8: candidates scored again from the float vectors before
                          * the k best are returned: 0 = all ef of them; else at least k;
                          * 1 .. 100000 */
} mn_ann_params;
#define MN_ANN_PARAMS_VERSION 2
/* mn_ann_params.quantize (since 1.5). MN_ANN_INT8 keeps an int8 code of each vector (one scale
 * per vector: dim + 4 bytes) beside it; a search walks the graph scoring codes, then scores its
 * best candidates (rerank) from the floats: the hits and their scores are exact inner products,
 * only which vectors are found may differ from float search at the same ef (a little lower
 * recall at equal ef, for fewer bytes read per step). Saved and loaded with the index. */
#define MN_ANN_FLOAT32 0
#define MN_ANN_INT8 1
#define MN_ANN_PARAMS_INIT MN_INIT_(MN_ANN_PARAMS_VERSION)
MN_API int mn_ann_params_init(mn_ann_params *s, unsigned version);

/* A search filter: 1 to let key into the results, 0 to keep it out. Rejected vectors are still
 * walked through, so the search stays connected; it widens until it holds ef accepted ones,
 * which costs about ef / (fraction accepted) distance computations. It is called from the
 * searching thread while the index is read-locked: it must not call into the same index. */
typedef int (*mn_ann_accept_fn)(void *ctx, int64_t key);

/* p may be NULL (all defaults). dim: 1 .. 65536. */
MN_API int mn_ann_create(int dim, const mn_ann_params *p, mn_ann **out);
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
/* Bytes the index holds in memory of its own: vectors, links, codes, key table, search
 * scratch. Not what an index loaded with MN_ANN_LOAD_MAP reads from its file. */
MN_API size_t mn_ann_bytes(const mn_ann *a);
/* Writes a new file beside path (path.tmp.PID.N), then renames it over path: a reader never
 * sees half a file, and two processes saving at once never mix their bytes. The file is
 * checksummed and canonical (the same index, the same bytes), in this machine's byte order. */
MN_API int mn_ann_save(const mn_ann *a, const char *path);
/* Reads a file mn_ann_save wrote, checking its checksums and its whole structure before use:
 * a damaged, truncated or foreign file is MN_ECORRUPT, never a crash. Files of 1.5 - 1.7
 * load too (an int8 index then codes its vectors again, which reads them all). */
MN_API int mn_ann_load(const char *path, mn_ann **out);
/* mn_ann_load with flags: 0 (the same as mn_ann_load) or MN_ANN_LOAD_MAP (since 1.8). */
MN_API int mn_ann_load_v2(const char *path, unsigned flags, mn_ann **out);
/* MN_ANN_LOAD_MAP: the file is not copied but stays mapped, read where a search needs it:
 * the float vectors (dim x 4 bytes each) and, since 1.10, the links and int8 codes (of a file
 * of 1.8 or later, or of a float index). The load reads and checks the header, the keys and
 * each node's state and level (10 bytes a vector; a damaged one is MN_ECORRUPT there), not
 * the checksums nor the links, which would read everything: a search of a damaged file gives
 * wrong results, never a crash nor a hang. The mapped pages are the page cache's (shared with
 * every process mapping the file, evicted under memory pressure and read again), not counted
 * by mn_ann_bytes. The first call that writes (add, update, add_many, delete), looks a key up
 * (contains) or saves first copies the file into memory of the index's own, checking on the
 * way all that mn_ann_load checks: checksums, links, codes, unique keys (MN_ECORRUPT if they
 * do not match, and nothing changed; mn_ann_contains then returns 0); from then on the index
 * is as mn_ann_load makes it. Contract: while mapped, the file must not be truncated or
 * rewritten in place (a read past a truncation ends the process with SIGBUS); deleting it,
 * or replacing it by rename as mn_ann_save does (saving over it is safe), is fine. */
#define MN_ANN_LOAD_MAP 0x1u

/* ---- Embeddings --------------------------------------------------------------------------- */
/* Embeds text with the handle's embedder into out[0 .. dim-1]; dim must be mn_embed_dim(db).
 * The local embedder hashes words, word pairs and character trigrams: it matches words, not
 * meaning. A vector of all zeros, from any embedder (the local one's for text without words,
 * such as "!!!"), has no direction to compare: it is MN_EINVAL, whose message names the
 * embedder, its model and the text, and is never cached. The same holds wherever a text is
 * embedded to be stored: an add or update (nothing is stored; a batch names the input) and an
 * asynchronous embedding job (that job alone fails, with that error). A search query without
 * words is no failure: it finds nothing (mn_memory_search). */
MN_API int mn_embed(mn_db *db, const char *text, float *out, int dim);

/* Embeds n texts at once into out[i*dim .. i*dim+dim-1] (n * dim floats): a remote embedder
 * sends them in batches, several requests in flight. All or nothing. */
MN_API int mn_embed_many(mn_db *db, const char *const *texts, size_t n, float *out, int dim);

/* What the handle's embedder and embedding cache did since mn_open. */
typedef struct mn_embed_stats {
    unsigned version;        /* MN_EMBED_STATS_VERSION (see "Structs that grow" at the top) */
    const char *embedder;     /* "local", "openai", "external", or the plug-in's name; valid
                               * while the handle is open */
    const char *model;        /* the model name ("local" for the local embedder, "external"
                               * for none) */
    int dim;
    int cached;               /* 1 when vectors go through the embedding cache */
    uint64_t cache_hits;      /* texts whose vector came from the cache, or from the same
                               * text earlier in the same call */
    uint64_t cache_misses;    /* texts the embedder had to embed (with the cache on) */
    uint64_t texts;           /* texts the embedder embedded */
    uint64_t requests;        /* HTTP requests sent, retries included (openai); calls of a
                               * plug-in's embed */
    uint64_t retries;         /* of them, retries of a transient failure */
    uint64_t max_inflight;    /* most requests in flight at once */
    uint64_t max_batch;       /* most texts in one request (or plug-in call) */
} mn_embed_stats;
#define MN_EMBED_STATS_VERSION 1
#define MN_EMBED_STATS_INIT MN_INIT_(MN_EMBED_STATS_VERSION)
MN_API int mn_embed_stats_init(mn_embed_stats *s, unsigned version);
MN_API int mn_embed_stats_get(mn_db *db, mn_embed_stats *out);
/* Since 1.2. Removes the embedding cache's entries that no memory uses (no memory of their
 * tenant has their text; those of calls made for no tenant, mn_embed: every one) and that
 * were made more than older_than_ms ago (>= 0: the grace that keeps an entry a write in
 * flight is about to use); *removed (may be NULL) counts them. A host call, a tenant at a
 * time; the embedding cache works on meanwhile. */
MN_API int mn_embed_cache_prune(mn_db *db, int64_t older_than_ms, size_t *removed);

/* ---- Embedder plug-ins ---------------------------------------------------------------------
 * Bring your own embedder: a model in the host process (ONNX, llama.cpp, ...) or a service the
 * library does not speak. Fill an mn_embedder (start from MN_EMBEDDER_INIT or mn_embedder_init)
 * and set mn_config.embedder_plugin: add, add_many, a text update, search by query, mn_embed,
 * the embedding jobs and the embedding cache (keyed by the plug-in's model) all go through it.
 *
 * embed() gets n NUL-terminated UTF-8 texts and writes n * dim floats to out, text i at
 * out[i * dim]; the vectors need not be unit length (the library normalises them). It returns
 * 0 on success, anything else on failure, with a message in errbuf (errlen bytes): the call
 * then fails with MN_EBACKEND, its message naming the plug-in and quoting errbuf, and changes
 * nothing. A vector with a NaN or infinite component is refused the same way; one of all
 * zeros is MN_EINVAL naming the plug-in, as from every embedder (mn_embed), so a text it makes
 * one of is never stored, and a search query it makes one of finds nothing.
 * embed() is called from every thread that makes a call on the handle, at the same time, and
 * from the handle's embedding workers (mn_config.embed_workers): it must be thread-safe (or
 * take a lock of its own). It must not call back into the handle.
 *
 * Ownership: name and model are copied by mn_open; ctx stays the caller's while the handle
 * is open. When mn_open succeeds, mn_close calls destroy(ctx) once (destroy may be NULL);
 * when it fails, destroy is never called and ctx is still the caller's.
 *
 * Which embedder made a database's vectors is recorded in it at creation (the embedder's name
 * and model; a database made before this record: "local", or the first embedder that opens
 * it): opening it with another embedder or model is MN_EINVAL, so that vectors of two
 * embedders, which cannot be compared, never mix. A handle with embedder "external" may open
 * any database: it embeds nothing, and a call that would need it (add, add_many or a text
 * update without an embedding, search by query text, mn_embed, embedding jobs, embed_async,
 * embed_workers) is MN_EINVAL: pass the vectors yourself. A text update that brings its own
 * embedding keeps that vector. */
typedef struct mn_embedder {
    unsigned version;    /* MN_EMBEDDER_VERSION */
    const char *name;    /* names the plug-in in messages, mn_embed_stats and the database's
                          * record: 1..64 bytes of UTF-8 without control characters */
    const char *model;   /* the model whose vectors it makes: 1..256 bytes of UTF-8 without
                          * control characters. Keys the embedding cache; a database made
                          * with one model refuses handles of another */
    int dim;             /* the vectors' dimension: 1..65536 */
    void *ctx;           /* passed to embed and destroy */
    int (*embed)(void *ctx, const char *const *texts, size_t n, float *out, char *errbuf,
                 size_t errlen);
    void (*destroy)(void *ctx); /* may be NULL */
} mn_embedder;

#define MN_EMBEDDER_VERSION 1
#define MN_EMBEDDER_INIT MN_INIT_(MN_EMBEDDER_VERSION)
/* Zeroes e as that version of the struct has it and sets its version (MN_EMBEDDER_VERSION). */
MN_API int mn_embedder_init(mn_embedder *e, unsigned version);

/* ---- Asynchronous embedding ---------------------------------------------------------------------
 * With mn_config.embed_async, a memory whose text needs embedding is committed with an
 * embedding job in the same transaction and the call returns at once; get and list show it
 * with embed_status MN_EMBED_PENDING, and search leaves it out until its vector is stored.
 * Workers (mn_config.embed_workers threads of a handle, a `manushya worker` process, or a host
 * calling mn_job_run) claim due jobs of every tenant for a lease (embed_lease_ms), embed
 * them in batches (embed_batch) through the embedding cache of each job's tenant, and store
 * each vector with a new seq, deleting the job in that same transaction: a worker killed
 * mid-batch loses nothing, and its jobs come back when the lease runs out. A job whose memory
 * changed meanwhile (a new text, a hard delete) never overwrites the newer state. A failed
 * attempt is retried after about embed_retry_ms, doubling (jittered: mn_config), until
 * embed_max_attempts: then the job stays MN_EMBED_FAILED, with its error, until
 * mn_job_retry. */
typedef struct mn_job {
    char *memory_id;
    char *tenant_id;
    int status;           /* MN_EMBED_PENDING or MN_EMBED_FAILED */
    int attempts;         /* attempts so far (claims: an attempt cut short counts) */
    int64_t next_at;      /* pending: not tried before this time (ms since the epoch) */
    char *error;          /* the last failed attempt's message, or NULL */
    int64_t created_at, updated_at;
} mn_job;

typedef struct mn_jobs {
    size_t count;
    mn_job **items;       /* oldest memory first */
} mn_jobs;

/* The tenant's embedding jobs with that status (MN_EMBED_PENDING, MN_EMBED_FAILED, or -1 for
 * both), at most limit (0 = 100, at most 10000). An identity needs "list" on "memory". */
MN_API int mn_job_list(mn_db *db, const mn_actor *actor, int status, int limit,
                       mn_jobs **out);
/* Makes the job of memory_id (NULL: every failed job of the tenant) due now, attempts back to
 * 0. *retried (may be NULL) counts them; a memory_id without a job is MN_ENOTFOUND. An
 * identity needs "update" on "memory". */
MN_API int mn_job_retry(mn_db *db, const mn_actor *actor, const char *memory_id,
                        size_t *retried);
/* Runs one batch in the calling thread: claims up to max_jobs due jobs of any tenant (0 = the
 * handle's embed_batch), embeds and stores them. *done and *failed (either may be NULL)
 * count the vectors stored and the failed attempts; both 0: nothing was due. */
MN_API int mn_job_run(mn_db *db, size_t max_jobs, size_t *done, size_t *failed);
MN_API void mn_jobs_free(mn_jobs *l);

/* ---- Rate limits ---------------------------------------------------------------------------
 * Whether an actor may make a call now, by a sliding window counted in 60 sub-windows: n
 * calls are admitted when the calls admitted for the tenant and endpoint in the sub-windows
 * that the window ending now touches, plus n, are at most `limit`, however many threads or
 * processes ask at once. So no window ever admits more than the limit, and a call is refused
 * at worst where an exact log of the calls' times would admit it one sub-window later: an
 * admitted call stops counting at most 1/60 of the window (a minute of an hour, a second of a
 * minute) after it leaves the window. Each counter is 61 counts whatever its limit, and a
 * decision costs the same whatever the limit and n. (A log of the calls' times is exact but
 * costs memory and time in proportion to the limit; GCRA or a token bucket keep one number
 * but admit up to twice the limit within one window.)
 *
 * Endpoints are named "resource:action": two parts of 1..32 lowercase letters, digits, '_' and
 * '-' (anything else is MN_EINVAL). Built-in limits per tenant, from the Manushya.ai guide:
 * memory:create 1000/h, memory:search 2000/h, identity:create 100/h, policy:test 500/h,
 * webhook:create 50/h; any other endpoint 1000/h ("*"). A tenant may replace any of them,
 * "*" included, with mn_limit_set. A tenant and endpoint have one counter, shared by
 * its identities (in Redis the key ratelimit:{TENANT_ID}:ENDPOINT:WINDOW); the actor's role
 * multiplies the limit it is held to: admin x2, system x5, any other role x1. Since 1.4,
 * mn_config.ratelimit_scope MN_RATELIMIT_PER_IDENTITY gives each identity its own counter of
 * every limit (ratelimit:{TENANT_ID}:IDENTITY_ID:ENDPOINT:WINDOW; the system actor keeps the
 * tenant's): one busy agent then never stops the others. Per tenant stays the default: a
 * limit a tenant sets is its budget (of embedder calls, say), which per-identity counters
 * would multiply by the number of identities.
 *
 * Since 1.4 the built-in limits hold, by default (mn_config.ratelimit_defaults
 * MN_RATELIMIT_DEFAULTS_AUTO), only calls made by API key (mn_actor.api_key): a client outside
 * the host program, whose calls they protect the host from. Calls the host program makes as
 * an identity (mn_actor.identity) are its own work, which a guide's service-wide 1000 adds an
 * hour would stop (an ingest of 20000 memories as one agent): they are held only to the limits
 * the tenant sets (mn_limit_set, "*" included). MN_RATELIMIT_DEFAULTS_GUIDE holds every
 * identity's calls to the built-in limits too (1.3's behaviour); MN_RATELIMIT_DEFAULTS_NONE
 * none (API keys too). mn_ratelimit_hit and _peek, the host's own checks, apply the built-in
 * limits whatever this says.
 *
 * The library limits its own calls made for an identity: mn_memory_add and _add_many
 * (memory:create; a batch of n counts n, all or none), mn_memory_search (memory:search),
 * mn_identity_create (identity:create), mn_policy_test (policy:test). A refused call fails with
 * MN_ELIMITED, changes nothing, and mn_retry_after_ms (and mn_errmsg) says when to retry. The tenant's trusted system
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
    unsigned version;        /* MN_RATELIMIT_RESULT_VERSION (see "Structs that grow" at the top) */
    int allowed;             /* 1: admitted (by mn_ratelimit_hit: and counted) */
    int checked;             /* 0: the counters were unreachable; allowed says the fail mode
                              * (n over the limit is refused all the same) */
    int64_t limit;           /* the limit applied: the endpoint's, times the role multiplier */
    int64_t remaining;       /* calls still admitted in the window after this decision */
    int64_t window_ms;
    int64_t reset_at;        /* ms since the epoch when the oldest counted calls stop counting
                              * (places free up: at most a sub-window, 1/60 of the window,
                              * after they left it); 0 when none is counted */
    int64_t retry_after_ms;  /* refused: the wait until n calls fit, if no other is admitted
                              * meanwhile; -1 when n is more than the limit itself (it never
                              * fits); 0 when admitted */
} mn_ratelimit_result;
#define MN_RATELIMIT_RESULT_VERSION 1
#define MN_RATELIMIT_RESULT_INIT MN_INIT_(MN_RATELIMIT_RESULT_VERSION)
MN_API int mn_ratelimit_result_init(mn_ratelimit_result *s, unsigned version);

typedef struct mn_limit {
    char *endpoint;          /* "memory:create", ..., or "*": every endpoint not named */
    int64_t limit;           /* calls per window, before the role multiplier */
    int64_t window_ms;
    int overridden;          /* 1: the tenant's own; 0: built in */
} mn_limit;

typedef struct mn_limits {
    size_t count;
    mn_limit **items;     /* by endpoint */
} mn_limits;

typedef struct mn_ratelimit_stats {
    unsigned version;        /* MN_RATELIMIT_STATS_VERSION (see "Structs that grow" at the top) */
    uint64_t allowed, denied; /* decisions of the counters */
    uint64_t fail_open;       /* calls allowed unchecked: the counters were unreachable */
    uint64_t fail_closed;     /* calls refused for the same reason (ratelimit_fail_closed) */
} mn_ratelimit_stats;
#define MN_RATELIMIT_STATS_VERSION 1
#define MN_RATELIMIT_STATS_INIT MN_INIT_(MN_RATELIMIT_STATS_VERSION)
MN_API int mn_ratelimit_stats_init(mn_ratelimit_stats *s, unsigned version);

/* Counts n (>= 1) calls of the actor to endpoint when they all fit: MN_OK when admitted,
 * MN_ELIMITED when not (nothing counted; the retry-after in out and mn_retry_after_ms). out
 * may be NULL. An actor's tenant and role are cached for ratelimit_refresh_ms. */
MN_API int mn_ratelimit_hit(mn_db *db, const mn_actor *actor, const char *endpoint, int64_t n,
                            mn_ratelimit_result *out);
/* Whether n calls would be admitted now, counting nothing: MN_OK, the answer in *out. */
MN_API int mn_ratelimit_peek(mn_db *db, const mn_actor *actor, const char *endpoint, int64_t n,
                             mn_ratelimit_result *out);
/* Forgets the calls counted for the tenant and endpoint (policy: "delete" on "ratelimit"). */
MN_API int mn_ratelimit_reset(mn_db *db, const mn_actor *actor, const char *endpoint);
/* The tenant's limits: built in and its own, by endpoint ("read" on "ratelimit"). */
MN_API int mn_limit_list(mn_db *db, const mn_actor *actor, mn_limits **out);
/* The limit endpoint has for the tenant ("read" on "ratelimit"). */
MN_API int mn_limit_get(mn_db *db, const mn_actor *actor, const char *endpoint,
                        mn_limit **out);
/* Sets the tenant's own limit for endpoint (or "*"): 1..1000000000 calls per window_ms of
 * 1..2678400000 (31 days) ("update" on "ratelimit"). MN_EUNSUPPORTED when the store keeps no
 * limits. */
MN_API int mn_limit_set(mn_db *db, const mn_actor *actor, const char *endpoint,
                        int64_t limit, int64_t window_ms);
/* Back to the built-in limit ("update" on "ratelimit"); MN_ENOTFOUND when none was set. */
MN_API int mn_limit_delete(mn_db *db, const mn_actor *actor, const char *endpoint);
/* This handle's decisions since mn_open (the library's own calls and mn_ratelimit_hit). */
MN_API int mn_ratelimit_stats_get(mn_db *db, mn_ratelimit_stats *out);
MN_API void mn_limit_free(mn_limit *l);
MN_API void mn_limits_free(mn_limits *l);

/* ---- Caches (since 1.2) ------------------------------------------------------------------------
 * Reads that repeat are answered from a cache (mn_config.cache): in this handle, or in Redis,
 * shared by every process on the store. Cached: who an actor is (its tenant, identity and the
 * tenant's policy generation), read by every data call, for 30 minutes; a memory read by id
 * (mn_memory_get without MN_WITH_EMBEDDING) for an hour, the access check still made on every
 * read; search results for 30 minutes when every memory found is the actor's to read without
 * a decision per memory (the call's own decision and rate limit are still made), never past
 * the first expiry among them; an encrypted database's memories never go to Redis. A cached value is never stale: its
 * key carries a generation that every write of what it depends on (identities, policies, tenants;
 * the tenant's memories, their embedding jobs) moves on before the write returns, in Redis for
 * every process. An in-process cache learns of other processes' writes only by age: its entries
 * live cache_local_ms at most. Redis unreachable is a cache miss, counted (failures) and logged
 * once per redis_health_check_s, never an error. */
typedef struct mn_cache_stats {
    unsigned version;        /* MN_CACHE_STATS_VERSION (see "Structs that grow" at the top) */
    int backend;             /* MN_CACHE_MEMORY, MN_CACHE_REDIS or MN_CACHE_OFF */
    uint64_t hits, misses;   /* lookups of this handle that found their entry, and did not */
    uint64_t evictions;      /* live entries dropped to make room (in process) */
    uint64_t failures;       /* Redis commands that failed (each a miss or a dropped put) */
    uint64_t entries, bytes; /* held now (in process; 0 for Redis) */
} mn_cache_stats;
#define MN_CACHE_STATS_VERSION 1
#define MN_CACHE_STATS_INIT MN_INIT_(MN_CACHE_STATS_VERSION)
MN_API int mn_cache_stats_init(mn_cache_stats *s, unsigned version);
/* What the handle's cache did since mn_open. */
MN_API int mn_cache_stats_get(mn_db *db, mn_cache_stats *out);
/* Drops every cached entry (in Redis: of this database, for every process). MN_EBACKEND when
 * Redis could not be reached. */
MN_API int mn_cache_clear(mn_db *db);

/* ---- Metrics and health (since 1.2) ---------------------------------------------------------
 * A handle counts what it does (unless mn_config.metrics is MN_METRICS_OFF): its public calls
 * by operation and result code, their latencies, policy and rate-limit decisions, embedder
 * calls, the search path taken, its connection pools, its caches, maintenance runs; and it
 * reports, when asked, the state of its vector index, embedding jobs and store. Counters are
 * kept per thread and summed when read: keeping them costs no shared memory write per call.
 * Names follow Prometheus's conventions (manushya_..._total counters, _seconds histograms in
 * base units); labels take a fixed set of values (an operation, a result code, a pool, a
 * cache), never an id or a text. libmanushya(3), METRICS, lists them all. */
#define MN_METRICS_PROMETHEUS 0 /* the Prometheus text exposition format (version 0.0.4) */
#define MN_METRICS_JSON 1       /* {"metrics":[{"name","type","help","series":[...]}]} */
/* Renders the handle's metrics in format into *out (NUL-terminated, free it with mn_free).
 * Reading the store's figures (embedding jobs, tenants) makes one query. MN_EUNSUPPORTED when
 * the handle keeps no metrics, MN_EINVAL for an unknown format. */
MN_API int mn_metrics_write(mn_db *db, int format, char **out);

/* Flags of mn_health */
#define MN_HEALTH_PROBE_EMBED 0x1 /* also embed a short text (a request to a remote embedder) */
/* What mn_health says of the whole and of each check */
#define MN_HEALTH_OK 0        /* healthy */
#define MN_HEALTH_DEGRADED 1  /* working, but something needs attention */
#define MN_HEALTH_FAILING 2   /* calls fail or will */
/* Checks the handle's dependencies: the store (reachable, its latency), its schema (current),
 * Redis (reachable, when the handle uses it), the embedder (with MN_HEALTH_PROBE_EMBED), the
 * vector index's lag, the embedding-job backlog (pending, failed, oldest age) and, for a
 * SQLite file, the disk space left beside it. *status (may be NULL) is the worst of the checks
 * (MN_HEALTH_*); *json (may be NULL; free it with mn_free) reads
 *   {"status":"ok|degraded|failing","checks":[{"name":"store","status":"ok","reason":"...",
 *    ...figures...}, ...]}
 * each check with the reason for its status. MN_OK whenever the checks ran, whatever they
 * found; MN_EINVAL for unknown flags, MN_ENOMEM. */
MN_API int mn_health(mn_db *db, unsigned flags, char **json, int *status);

#ifdef __cplusplus
}
#endif
#endif /* MANUSHYA_H */
