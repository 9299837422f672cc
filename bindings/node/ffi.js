'use strict';
// ffi.js: loads libmanushya through koffi and declares its structs and functions, each exactly
// as include/manushya.h lays it out. index.js builds the public API on top; nothing here is
// public.
//
// Structs the caller fills start with `unsigned version` ("Structs that grow" in manushya.h):
// each is declared at the version bound here (VERSIONS), and the library reads only that many
// bytes, whatever later fields a newer library has. Results the library allocates (mn_memory,
// ...) only grow at the end and are reached through pointers: reading the prefix declared here
// is safe against a newer library.
const koffi = require('koffi');

// The major version this package binds, and the oldest library with every struct version below.
const MAJOR = 1;
const MIN_VERSION_NUMBER = 10300;

function loadLibrary() {
  const name = process.env.MANUSHYA_LIBRARY || 'libmanushya.so.1';
  try {
    return koffi.load(name);
  } catch (err) {
    throw new Error(`manushya: cannot load ${name} (${err.message}): install libmanushya ` +
      '(make install) or set MANUSHYA_LIBRARY to the path of libmanushya.so.1');
  }
}

const lib = loadLibrary();

// Checked before anything else is bound: a library of another major version may lack symbols.
(function checkVersion() {
  const number = lib.func('int mn_version_number(void)')();
  if (Math.floor(number / 10000) !== MAJOR || number < MIN_VERSION_NUMBER) {
    const version = lib.func('const char *mn_version(void)')();
    throw new Error(`manushya: the library loaded is libmanushya ${version}, this package ` +
      `needs ${MAJOR}.x from ${MAJOR}.${(MIN_VERSION_NUMBER / 100) % 100} on: install a ` +
      'matching libmanushya or point MANUSHYA_LIBRARY at one');
  }
})();

// ---- Structs ---------------------------------------------------------------------------------
// VERSIONS: the version each caller-filled struct is declared at (its MN_*_VERSION today).
const VERSIONS = {
  mn_config: 3, mn_actor: 2, mn_filter: 1, mn_list_options: 1, mn_search_options: 2,
  mn_memory_input: 2, mn_memory_changes: 1, mn_policy_input: 1, mn_apikey_input: 1,
  mn_ratelimit_result: 1,
};

const str = 'const char *';
const structs = {}; // name: the koffi type
const fields = {};  // name: its members, in order
function struct(name, members) {
  structs[name] = koffi.struct(name, members);
  fields[name] = Object.keys(members);
}

koffi.opaque('mn_db');

struct('mn_config', {
  version: 'unsigned int', flags: 'unsigned int', embedder: str, embed_dim: 'int',
  max_text_bytes: 'size_t', busy_timeout_ms: 'int', pool_size: 'int', index: 'int',
  hnsw_m: 'int', hnsw_ef_construction: 'int', hnsw_ef_search: 'int', embed_url: str,
  embed_model: str, embed_timeout_ms: 'int', embed_cache: 'int', ratelimit: 'int',
  redis_url: str, ratelimit_fail_closed: 'int', ratelimit_refresh_ms: 'int',
  ratelimit_max_bytes: 'size_t', redis_pool_max: 'int', redis_connect_timeout_ms: 'int',
  redis_timeout_ms: 'int', redis_health_check_s: 'int', redis_retries: 'int',
  log_fn: 'void *', log_ctx: 'void *', embed_async: 'int', embed_workers: 'int',
  embed_batch: 'int', embed_max_attempts: 'int', embed_retry_ms: 'int', embed_lease_ms: 'int',
  embed_poll_ms: 'int', embed_retries: 'int', embedder_plugin: 'void *',
  // version 2
  master_key_file: str, metrics: 'int', maintenance: 'int', maintenance_poll_ms: 'int',
  audit_retention_days: 'int', cache: 'int', cache_max_bytes: 'size_t', cache_local_ms: 'int',
  // version 3
  dedup: 'int', dedup_threshold: 'double', search_recency_half_life_ms: 'int64_t',
  search_recency_weight: 'double', search_importance_weight: 'double',
  search_min_relevance: 'double', search_mode: 'int',
});

struct('mn_actor', {
  version: 'unsigned int', tenant: str, identity: str, context: str, api_key: str,
});

struct('mn_tenant', { id: str, name: str, created_at: 'int64_t' });
struct('mn_tenants', { count: 'size_t', items: 'void *' });

struct('mn_identity', {
  id: str, tenant_id: str, external_id: str, role: str, claims: str, active: 'int',
  created_at: 'int64_t', updated_at: 'int64_t',
});
struct('mn_identities', { count: 'size_t', items: 'void *' });

struct('mn_apikey', {
  id: str, tenant_id: str, identity_id: str, scopes: str, created_at: 'int64_t',
  expires_at: 'int64_t', last_used_at: 'int64_t',
});
struct('mn_apikeys', { count: 'size_t', items: 'void *' });
struct('mn_apikey_input', {
  version: 'unsigned int', identity: str, scopes: str, expires_at: 'int64_t',
});

struct('mn_memory', {
  id: str, tenant_id: str, identity_id: str, text: str, type: str, metadata: str,
  importance: 'double', version: 'int64_t', created_at: 'int64_t', updated_at: 'int64_t',
  expires_at: 'int64_t', deleted: 'int', seq: 'int64_t', similarity: 'double',
  embedding: 'void *', dim: 'int', embed_status: 'int', embed_error: str, external_key: str,
  recency_factor: 'double', importance_factor: 'double', score: 'double',
  vector_score: 'double', vector_rank: 'int', keyword_score: 'double', keyword_rank: 'int',
  fused_score: 'double',
});
struct('mn_memories', { count: 'size_t', items: 'void *', next_cursor: str });

// Inputs hold their vectors as void *: the caller's Float32Array, or a pointer from alloc().
struct('mn_memory_input', {
  version: 'unsigned int', identity: str, text: str, type: str, metadata: str,
  importance: 'double', ttl_days: 'int', embedding: 'void *', dim: 'int',
  // version 2
  external_key: str, id: str,
});
struct('mn_memory_changes', {
  version: 'unsigned int', set: 'unsigned int', text: str, type: str, metadata: str,
  importance: 'double', embedding: 'void *', dim: 'int',
});
struct('mn_filter', {
  version: 'unsigned int', identity: str, type: str, metadata: str, flags: 'unsigned int',
});
struct('mn_list_options', {
  version: 'unsigned int', filter: 'mn_filter *', limit: 'int', cursor: str,
});
struct('mn_search_options', {
  version: 'unsigned int', query: str, vector: 'void *', dim: 'int', k: 'int',
  min_similarity: 'double', filter: 'mn_filter *', ef: 'int',
  // version 2
  recency_half_life_ms: 'int64_t', recency_weight: 'double', importance_weight: 'double',
  cursor: str, mode: 'int', vector_weight: 'double', keyword_weight: 'double', rrf_k: 'int',
  flags: 'unsigned int',
});

struct('mn_history_entry', {
  version: 'int64_t', changed_at: 'int64_t', changed_by: str, before: str, after: str,
});
struct('mn_history', { count: 'size_t', items: 'void *' });

struct('mn_policy', {
  id: str, tenant_id: str, role: str, rule: str, priority: 'int', active: 'int',
  description: str, created_at: 'int64_t', updated_at: 'int64_t',
});
struct('mn_policies', { count: 'size_t', items: 'void *' });
struct('mn_policy_input', {
  version: 'unsigned int', role: str, rule: str, description: str, priority: 'int',
  inactive: 'int',
});
struct('mn_decision', { allowed: 'int', policy_id: str, reason: str });

struct('mn_ratelimit_result', {
  version: 'unsigned int', allowed: 'int', checked: 'int', limit: 'int64_t',
  remaining: 'int64_t', window_ms: 'int64_t', reset_at: 'int64_t', retry_after_ms: 'int64_t',
});
struct('mn_limit', { endpoint: str, limit: 'int64_t', window_ms: 'int64_t', overridden: 'int' });
struct('mn_limits', { count: 'size_t', items: 'void *' });

// ---- Functions -------------------------------------------------------------------------------
// Results come back through `_Out_ T **out` (a one-element array receives the pointer) and are
// decoded then freed by index.js, each once.
const C = {};
[
  'const char *mn_version(void)',
  'int mn_version_number(void)',
  'const char *mn_strerror(int rc)',
  'void mn_free(void *p)',
  'int mn_open(_Out_ mn_db **out, const char *url, const mn_config *cfg)',
  'void mn_close(mn_db *db)',
  'const char *mn_errmsg(const mn_db *db)',
  'int64_t mn_retry_after_ms(const mn_db *db)',
  'int mn_embed_dim(const mn_db *db)',

  'int mn_tenant_create(mn_db *db, const char *name, _Out_ void **out)',
  'int mn_tenant_get(mn_db *db, const char *id_or_name, _Out_ void **out)',
  'int mn_tenant_list(mn_db *db, _Out_ void **out)',
  'int mn_tenant_delete(mn_db *db, const char *id_or_name)',
  'void mn_tenant_free(void *t)',
  'void mn_tenants_free(void *l)',

  'int mn_identity_create(mn_db *db, const mn_actor *actor, const char *external_id, ' +
    'const char *role, const char *claims, _Out_ void **out)',
  'int mn_identity_get(mn_db *db, const mn_actor *actor, const char *id, _Out_ void **out)',
  'int mn_identity_list(mn_db *db, const mn_actor *actor, _Out_ void **out)',
  'int mn_identity_deactivate(mn_db *db, const mn_actor *actor, const char *id)',
  'int mn_identity_delete(mn_db *db, const mn_actor *actor, const char *id)',
  'void mn_identity_free(void *i)',
  'void mn_identities_free(void *l)',

  'int mn_apikey_create(mn_db *db, const mn_actor *actor, const mn_apikey_input *in, ' +
    '_Out_ void **key_out, _Out_ void **out)',
  'int mn_apikey_list(mn_db *db, const mn_actor *actor, const char *identity, _Out_ void **out)',
  'int mn_apikey_revoke(mn_db *db, const mn_actor *actor, const char *id)',
  'void mn_apikey_free(void *k)',
  'void mn_apikeys_free(void *l)',

  'int mn_memory_put(mn_db *db, const mn_actor *actor, const mn_memory_input *in, ' +
    '_Out_ int *outcome, _Out_ void **out)',
  'int mn_memory_put_many(mn_db *db, const mn_actor *actor, const mn_memory_input *in, ' +
    'size_t n, _Out_ void **ids, int *outcomes, _Out_ size_t *failed_index)',
  'int mn_memory_get(mn_db *db, const mn_actor *actor, const char *id, unsigned int flags, ' +
    '_Out_ void **out)',
  'int mn_memory_list(mn_db *db, const mn_actor *actor, const mn_list_options *opt, ' +
    '_Out_ void **out)',
  'int mn_memory_search(mn_db *db, const mn_actor *actor, const mn_search_options *opt, ' +
    '_Out_ void **out)',
  'int mn_memory_update(mn_db *db, const mn_actor *actor, const char *id, ' +
    'const mn_memory_changes *changes, _Out_ void **out)',
  'int mn_memory_delete(mn_db *db, const mn_actor *actor, const char *id, int mode)',
  'int mn_memory_restore(mn_db *db, const mn_actor *actor, const char *id)',
  'int mn_memory_history(mn_db *db, const mn_actor *actor, const char *id, _Out_ void **out)',
  'void mn_memory_free(void *m)',
  'void mn_memories_free(void *l)',
  'void mn_history_free(void *h)',
  'void mn_strings_free(void *s, size_t n)',

  'int mn_policy_add(mn_db *db, const mn_actor *actor, const mn_policy_input *in, ' +
    '_Out_ void **out)',
  'int mn_policy_list(mn_db *db, const mn_actor *actor, _Out_ void **out)',
  'int mn_policy_delete(mn_db *db, const mn_actor *actor, const char *id)',
  'int mn_policy_test(mn_db *db, const mn_actor *actor, const char *action, ' +
    'const char *resource, const char *resource_data, _Out_ void **out)',
  'void mn_policy_free(void *p)',
  'void mn_policies_free(void *l)',
  'void mn_decision_free(void *d)',

  'int mn_ratelimit_peek(mn_db *db, const mn_actor *actor, const char *endpoint, int64_t n, ' +
    '_Inout_ mn_ratelimit_result *out)',
  'int mn_limit_list(mn_db *db, const mn_actor *actor, _Out_ void **out)',
  'int mn_limit_set(mn_db *db, const mn_actor *actor, const char *endpoint, int64_t limit, ' +
    'int64_t window_ms)',
  'int mn_limit_delete(mn_db *db, const mn_actor *actor, const char *endpoint)',
  'void mn_limits_free(void *l)',
].forEach((proto) => {
  const fn = lib.func(proto);
  C[fn.info.name] = fn;
});


module.exports = { koffi, C, structs, fields, VERSIONS };
