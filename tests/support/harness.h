/*
 * Shared test harness for the Check suites: temporary directories removed at exit, opening a
 * fresh database, creating tenants/identities/memories in one line, counting rows through the
 * public API, and a snapshot of a whole store to prove that a failed call changed nothing.
 *
 * Every helper asserts (ck_assert) on unexpected failures, so tests read as a list of steps.
 * Strings the helpers return are owned by the harness and stay valid until the process exits.
 */
#ifndef MNI_TESTS_HARNESS_H
#define MNI_TESTS_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "manushya.h"

/* ---- memory and strings --------------------------------------------------------------------- */
/* Hands p to the harness, which frees it at exit; returns p. */
void *th_keep(void *p);
/* A printf-formatted string kept by the harness. */
const char *th_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 1 if msg contains one of the '|'-separated words (case-insensitive). */
int th_has_word(const char *msg, const char *words);

/* 1 if this build has the MN_FEATURE_* bit feature; otherwise prints "# skip: what: this build
 * has no NAME" (so that a build without a backend shows what it did not test) and returns 0. */
int th_built_with(unsigned feature, const char *what);

/* ---- files and directories ------------------------------------------------------------------ */
/* Makes the temporary root in the runner process (call it in main() before srunner_run_all; th_run
 * does). Every test's directories go under it and it is removed when the runner exits, failed
 * tests included. TH_KEEP_TMP=1 in the environment keeps it. */
void th_init(void);
/* A new empty directory under $TMPDIR (or /tmp), inside the root (see th_init). */
const char *th_tmpdir(void);
/* A path for a file that does not exist yet: th_tmpdir()/name. */
const char *th_tmppath(const char *name);
/* A server of the test's own: runs tests/servers/KIND.sh WHAT DIR (KIND postgres or redis, WHAT
 * start, pause or stop; DIR a th_tmpdir()). A test that stops its server must not stop the
 * shared one, which the units running at the same time use. Returns the URL that start prints
 * (its MN_..._URL= line), NULL for the others. The runner stops every server started this way
 * when it exits, so that a test that fails before its own stop leaves none running. */
const char *th_server(const char *kind, const char *what, const char *dir);
/* "sqlite:" + a fresh path: a URL for a new, empty embedded database. */
const char *th_sqlite_url(void);
/* Whole-file helpers. th_read_file returns a kept buffer (NUL-terminated) or NULL. */
char *th_read_file(const char *path, size_t *len);
void th_write_file(const char *path, const void *data, size_t len);
int th_file_exists(const char *path);
/* Files in dirname(path) whose names start with basename(path) followed by ".tmp": leftovers
 * of a save (the library names its temporary files PATH.tmp.PID.N). */
int th_tmp_leftovers(const char *path);
/* FNV-1a of a file's bytes (0 if it does not exist). */
uint64_t th_file_hash(const char *path);
/* n pseudo-random bytes from a fixed seed (reproducible). */
void th_random_bytes(void *buf, size_t n, uint32_t seed);

/* The stores a case runs on, as a loop test (tcase_add_loop_test(tc, fn, 0, TH_NSTORES)): 0
 * SQLite, 1 PostgreSQL on the test server (MN_PG_URL, which tests/run.sh sets; a fresh schema
 * per database, vector=local). th_store_url(i): the URL of a new, empty database of store i,
 * or NULL, saying "# skip: ..." on stdout, when MN_PG_URL is not set. */
#define TH_NSTORES 2
const char *th_store_url(int i);

/* ---- a cacheable embedder ----------------------------------------------------------------------- */
/* A plug-in embedder with a model, so that the embedding cache is used (the local embedder's
 * vectors are never cached): a few bits of each text's FNV hash, TH_HASH_DIM dimensions. */
#define TH_HASH_DIM 8
extern const mn_embedder th_hash_embedder;
/* Its vector of one text into out (TH_HASH_DIM floats). */
void th_hash_embed(const char *text, float *out);

/* ---- opening ---------------------------------------------------------------------------------- */
/* Opens url (asserting MN_OK). cfg may be NULL. */
mn_db *th_open(const char *url, const mn_config *cfg);
/* A new embedded database in a fresh temporary directory. */
mn_db *th_open_fresh(void);
/* Asserts rc == MN_OK, printing the call, the code and mn_errmsg(db) otherwise. */
/* Initialisers of versioned structs for arrays: TH_IN(.text = "x"), TH_ACTOR(.tenant = "t"),
 * TH_CONFIG(.pool_size = 2). */
#define TH_IN(...)                                                                                 \
    {                                                                                              \
        .version = MN_MEMORY_INPUT_VERSION, .importance = MN_IMPORTANCE_DEFAULT, __VA_ARGS__       \
    }
#define TH_CONFIG(...) {.version = MN_CONFIG_VERSION, __VA_ARGS__}
#define TH_ACTOR(...)                                                                              \
    {                                                                                              \
        .version = MN_ACTOR_VERSION, __VA_ARGS__                                                   \
    }
/* The update that sets what in gives: text, type, metadata and embedding when not NULL,
 * importance when not MN_IMPORTANCE_DEFAULT. */
mn_memory_changes th_changes_of(const mn_memory_input *in);

#define TH_OK(db, call)                                                                        \
    do {                                                                                       \
        int th_rc_ = (call);                                                                   \
        ck_assert_msg(th_rc_ == MN_OK, "%s: rc %d (%s): %s", #call, th_rc_,                    \
                      mn_strerror(th_rc_), mn_errmsg(db));                                     \
    } while (0)

/* Asserts that call returns want; a failure must also be what mn_errcode(db) reports, with a
 * message, under a code mn_strerror() knows (one error channel, documented codes only). */
#define TH_RC(db, call, want)                                                                  \
    do {                                                                                       \
        int th_rc_ = (call), th_want_ = (want);                                                \
        ck_assert_msg(th_rc_ == th_want_, "%s: rc %d (%s), want %d (%s): %s", #call, th_rc_,   \
                      mn_strerror(th_rc_), th_want_, mn_strerror(th_want_), mn_errmsg(db));    \
        if (th_rc_ != MN_OK)                                                                   \
            th_assert_reported(#call, db, th_rc_);                                             \
    } while (0)
/* Asserts that the failure rc of call is the calling thread's last one on db, as above. */
void th_assert_reported(const char *call, const mn_db *db, int rc);

/* Milliseconds since the Unix epoch. */
int64_t th_now_ms(void);
/* 1 if s is a lowercase UUID whose version nibble is 7. */
int th_is_uuid7(const char *s);

/* ---- creating things -------------------------------------------------------------------------- */
/* Creates a tenant; returns its id. */
const char *th_tenant(mn_db *db, const char *name);
/* Creates an identity (role "admin": store tests act across owners) in the tenant (id or name);
 * returns its id. */
const char *th_identity(mn_db *db, const char *tenant, const char *external_id);
/* Adds a memory owned by owner (id or external_id; NULL = the actor's identity); returns id. */
const char *th_add(mn_db *db, const mn_actor *actor, const char *owner, const char *text);
/* Adds a memory from a full input; returns its id. */
const char *th_add_in(mn_db *db, const mn_actor *actor, const mn_memory_input *in);
/* Fetches a memory (asserting MN_OK); free with mn_memory_free. */
mn_memory *th_get(mn_db *db, const mn_actor *actor, const char *id, unsigned flags);

/* ---- counting --------------------------------------------------------------------------------- */
size_t th_count_tenants(mn_db *db);
size_t th_count_identities(mn_db *db, const mn_actor *actor);
/* Visible memories for the actor under the filter flags, by paging through the whole list. */
size_t th_count_memories(mn_db *db, const mn_actor *actor, unsigned flags);
/* Every id the list returns, newest first, over all pages (kept array, *n set). */
const char **th_list_ids(mn_db *db, const mn_actor *actor, const mn_filter *filter, int limit,
                         size_t *n);
/* 1 if the list contains id. */
int th_ids_contain(const char **ids, size_t n, const char *id);

/* A fingerprint of a whole store: every tenant, identity, memory (deleted and expired included)
 * and history entry, with their versions and change sequence. */
typedef struct th_state {
    size_t tenants, identities, memories, history;
    uint64_t hash;
} th_state;
void th_state_get(mn_db *db, th_state *out);
void th_assert_state_eq(const th_state *before, const th_state *after, const char *what);

/* ---- vectors and JSON ------------------------------------------------------------------------- */
/* Seconds on the monotonic clock, for measuring how long something took. */
double th_seconds(void);
double th_dot(const float *a, const float *b, int dim);
double th_norm(const float *a, int dim);
/* A kept embedding of text by db's embedder (asserting MN_OK). */
float *th_embed(mn_db *db, const char *text);
/* 1 if JSON texts a and b are equal (parsed). */
int th_json_eq(const char *a, const char *b);
/* 1 if JSON object text hay contains needle (jsonb @> semantics). */
int th_json_contains(const char *hay, const char *needle);
/* The string value of key in the JSON object text (kept), or NULL. */
const char *th_json_str(const char *json, const char *key);
/* The number value of key, or NAN. */
double th_json_num(const char *json, const char *key);
/* In Prometheus text: the value of the sample line that starts with series (name and labels)
 * followed by ' ', or -1 when there is none. */
double th_metric_sample(const char *text, const char *series);
/* The value of key printed compactly (kept): an object stays an object; a string holding JSON is
 * returned as the string's content. NULL if absent. */
const char *th_json_obj(const char *json, const char *key);

/* Runs a suite and returns the process exit status. */
int th_run(Suite *s);

#endif
