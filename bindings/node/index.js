'use strict';
// manushya: secure long-term memory for AI agents, from Node.js. The public API over ffi.js.
//
// CommonJS, so that `require('manushya')` and `import manushya from 'manushya'` both work on
// Node 18 and later, and koffi (CommonJS too) is found through NODE_PATH like any dependency.
//
// Every call is synchronous, on the calling thread, as libmanushya's calls are: mn_errmsg()
// is per thread, so the message of a failure is read on the thread that failed, right after.
// (koffi's async calls would run on a worker thread of its own, whose message this thread
// cannot read: none is offered.) Worker threads (worker_threads) each open a Database of their
// own: the library is thread-safe, and several handles may open one database.
//
// Results are plain objects (types in index.d.ts), copied out of the library's structs; each
// struct is freed once with its mn_*_free() function before the call returns.
const { koffi, C, structs, fields, VERSIONS } = require('./ffi');
const { classes: errorClasses, errorFor } = require('./errors');

const OUTCOMES = ['created', 'updated', 'unchanged'];
const EMBED_STATUS = ['done', 'pending', 'failed'];
const SEARCH_MODES = { auto: 0, vector: 1, keyword: 2, hybrid: 3 };
const WITH_DELETED = 0x1;
const WITH_EXPIRED = 0x2;
const WITH_EMBEDDING = 0x4;
const SIZE_MAX = 2n ** 64n - 1n;

// The constants mn_config's fields take (see include/manushya.h).
const constants = Object.freeze({
  OPEN_READONLY: 0x1, OPEN_NOCREATE: 0x2, OPEN_MIGRATE: 0x4, OPEN_ENCRYPT: 0x8,
  INDEX_AUTO: 0, INDEX_NONE: 1,
  EMBED_CACHE_AUTO: 0, EMBED_CACHE_OFF: 1,
  RATELIMIT_AUTO: 0, RATELIMIT_OFF: 1, RATELIMIT_MEMORY: 2, RATELIMIT_REDIS: 3,
  METRICS_AUTO: 0, METRICS_OFF: 1,
  CACHE_AUTO: 0, CACHE_OFF: 1, CACHE_MEMORY: 2, CACHE_REDIS: 3,
  DEDUP_EXACT: 0, DEDUP_OFF: 1, DEDUP_NEAR: 2,
  SEARCH_OFF: -1,
});

// ---- Arguments -------------------------------------------------------------------------------
function invalid(message) {
  return errorFor(2, `manushya: ${message}`);
}

// Checks that obj (an options object, may be undefined) names only the keys allowed.
function options(obj, allowed, what) {
  if (obj === undefined || obj === null) return {};
  if (typeof obj !== 'object' || Array.isArray(obj)) throw invalid(`${what} must be an object`);
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw invalid(`${what} has no option "${key}": use ${allowed.join(', ')}`);
    }
  }
  return obj;
}

// JSON the library takes: text as written, or any other value serialised.
function jsonArg(value) {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function vectorArg(value, what) {
  if (value === undefined || value === null) return null;
  if (!(value instanceof Float32Array)) throw invalid(`${what} must be a Float32Array`);
  return value;
}

const camelToSnake = (key) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const CONFIG_KEYS = fields.mn_config
  .filter((f) => !['version', 'log_fn', 'log_ctx', 'embedder_plugin'].includes(f))
  .map((f) => f.replace(/_([a-z])/g, (_, c) => c.toUpperCase()));

function configArg(config) {
  const cfg = { version: VERSIONS.mn_config };
  for (const [key, value] of Object.entries(options(config, CONFIG_KEYS, 'the config'))) {
    cfg[camelToSnake(key)] = value;
  }
  return cfg;
}

// ---- Results ---------------------------------------------------------------------------------
const parseJson = (text) => (text === null || text === undefined ? null : JSON.parse(text));

// Decodes the struct ptr points to with convert, then frees it with free; null stays null.
function take(ptr, type, free, convert) {
  if (!ptr) return null;
  try {
    return convert(koffi.decode(ptr, structs[type]));
  } finally {
    free(ptr);
  }
}

// The same for a list { count, items, ... }: the items converted, and the list struct itself.
function takeList(ptr, type, itemType, free, convert) {
  if (!ptr) return { items: [], list: null };
  try {
    const list = koffi.decode(ptr, structs[type]);
    const count = Number(list.count);
    const pointers = count ? koffi.decode(list.items, 'void *', count) : [];
    return { items: pointers.map((p) => convert(koffi.decode(p, structs[itemType]))), list };
  } finally {
    free(ptr);
  }
}

// NUL-terminated strings at pointers[0 .. n-1] (from mn_*_many).
function takeStrings(ptr, n) {
  if (!ptr) return [];
  try {
    return n ? koffi.decode(ptr, 'void *', n).map((p) => koffi.decode.string(p)) : [];
  } finally {
    C.mn_strings_free(ptr, n);
  }
}

const tenantOf = (t) => ({ id: t.id, name: t.name, createdAt: t.created_at });

const identityOf = (i) => ({
  id: i.id, tenantId: i.tenant_id, externalId: i.external_id, role: i.role,
  claims: parseJson(i.claims), active: i.active !== 0, createdAt: i.created_at,
  updatedAt: i.updated_at,
});

const apiKeyOf = (k) => ({
  id: k.id, tenantId: k.tenant_id, identityId: k.identity_id, scopes: parseJson(k.scopes),
  createdAt: k.created_at, expiresAt: k.expires_at, lastUsedAt: k.last_used_at,
});

const memoryOf = (m) => ({
  id: m.id, tenantId: m.tenant_id, identityId: m.identity_id, text: m.text, type: m.type,
  metadata: parseJson(m.metadata), importance: m.importance, version: m.version,
  createdAt: m.created_at, updatedAt: m.updated_at, expiresAt: m.expires_at,
  deleted: m.deleted !== 0, seq: m.seq,
  embedding: m.embedding ? Float32Array.from(koffi.decode(m.embedding, 'float', m.dim)) : null,
  embedStatus: EMBED_STATUS[m.embed_status], embedError: m.embed_error,
  externalKey: m.external_key,
  similarity: m.similarity, score: m.score, recencyFactor: m.recency_factor,
  importanceFactor: m.importance_factor, vectorScore: m.vector_score,
  vectorRank: m.vector_rank, keywordScore: m.keyword_score, keywordRank: m.keyword_rank,
  fusedScore: m.fused_score,
});

const historyOf = (h) => ({
  version: h.version, changedAt: h.changed_at, changedBy: h.changed_by,
  before: parseJson(h.before), after: parseJson(h.after),
});

const policyOf = (p) => ({
  id: p.id, tenantId: p.tenant_id, role: p.role, rule: parseJson(p.rule), priority: p.priority,
  active: p.active !== 0, description: p.description, createdAt: p.created_at,
  updatedAt: p.updated_at,
});

const decisionOf = (d) => ({ allowed: d.allowed !== 0, policyId: d.policy_id, reason: d.reason });

const limitOf = (l) => ({
  endpoint: l.endpoint, limit: l.limit, windowMs: l.window_ms, overridden: l.overridden !== 0,
});

function memoriesPage(ptr) {
  const { items, list } = takeList(ptr, 'mn_memories', 'mn_memory', C.mn_memories_free, memoryOf);
  return { items, nextCursor: list ? list.next_cursor : null };
}

// ---- Handle ----------------------------------------------------------------------------------
// A Database dropped without close() is closed when collected: a safety net, not a substitute.
const unclosed = new FinalizationRegistry((ptr) => C.mn_close(ptr));

class Database {
  constructor(ptr) {
    this._ptr = ptr;
    this.tenants = new Tenants(this);
    unclosed.register(this, ptr, this);
  }

  // The handle, or a clear error once closed.
  _handle() {
    if (!this._ptr) throw invalid('the database is closed: open it again');
    return this._ptr;
  }

  // Throws the error of rc, with the library's message, when rc is not MN_OK.
  _check(rc) {
    if (rc === 0) return;
    const err = errorFor(rc, C.mn_errmsg(this._ptr));
    if (err instanceof errorClasses.RateLimitedError) {
      err.retryAfterMs = Number(C.mn_retry_after_ms(this._ptr));
    }
    throw err;
  }

  get embedDim() {
    return C.mn_embed_dim(this._handle());
  }

  // An actor: a tenant (id or name) and an identity (id or external_id; none: the tenant's
  // trusted system actor), or an API key alone: db.actor({ apiKey }).
  actor(tenant, opts) {
    if (tenant !== null && typeof tenant === 'object') return new Actor(this, null, tenant);
    return new Actor(this, tenant, opts);
  }

  // Releases the handle; later calls throw. Closing twice does nothing.
  close() {
    if (!this._ptr) return;
    unclosed.unregister(this);
    C.mn_close(this._ptr);
    this._ptr = null;
  }
}

function open(url, config) {
  if (typeof url !== 'string' || url === '') throw invalid('open() needs a URL or a path');
  const cfg = configArg(config);
  const out = [null];
  const rc = C.mn_open(out, url, cfg);
  if (rc !== 0) {
    // The handle is set even on failure (when memory allowed), to say why; then closed.
    const err = errorFor(rc, C.mn_errmsg(out[0]));
    if (out[0]) C.mn_close(out[0]);
    throw err;
  }
  return new Database(out[0]);
}

class Tenants {
  constructor(db) { this._db = db; }

  _take(call) {
    const out = [null];
    this._db._check(call(out));
    return take(out[0], 'mn_tenant', C.mn_tenant_free, tenantOf);
  }

  create(name) { return this._take((out) => C.mn_tenant_create(this._db._handle(), name, out)); }
  get(idOrName) { return this._take((out) => C.mn_tenant_get(this._db._handle(), idOrName, out)); }

  list() {
    const out = [null];
    this._db._check(C.mn_tenant_list(this._db._handle(), out));
    return takeList(out[0], 'mn_tenants', 'mn_tenant', C.mn_tenants_free, tenantOf).items;
  }

  delete(idOrName) { this._db._check(C.mn_tenant_delete(this._db._handle(), idOrName)); }
}

// ---- Actor -----------------------------------------------------------------------------------
class Actor {
  constructor(db, tenant, opts) {
    const o = options(opts, ['identity', 'apiKey', 'context'], 'the actor');
    this.db = db;
    this._actor = {
      version: VERSIONS.mn_actor, tenant: tenant ?? null, identity: o.identity ?? null,
      context: jsonArg(o.context), api_key: o.apiKey ?? null,
    };
    this.memories = new Memories(this);
    this.identities = new Identities(this);
    this.policies = new Policies(this);
    this.apiKeys = new ApiKeys(this);
    this.rateLimits = new RateLimits(this);
  }

  // Calls fn(db, actor, ...args) and throws on failure.
  _call(fn, ...args) {
    this.db._check(fn(this.db._handle(), this._actor, ...args));
  }

  // The same for a call whose last argument receives one result of type, decoded and freed.
  _one(fn, type, free, convert, ...args) {
    const out = [null];
    this._call(fn, ...args, out);
    return take(out[0], type, free, convert);
  }

  _list(fn, type, itemType, free, convert, ...args) {
    const out = [null];
    this._call(fn, ...args, out);
    return takeList(out[0], type, itemType, free, convert).items;
  }
}

class Identities {
  constructor(actor) { this._a = actor; }

  create(externalId, opts) {
    const o = options(opts, ['role', 'claims'], 'identities.create()');
    return this._a._one(C.mn_identity_create, 'mn_identity', C.mn_identity_free, identityOf,
      externalId, o.role ?? null, jsonArg(o.claims));
  }

  get(id) {
    return this._a._one(C.mn_identity_get, 'mn_identity', C.mn_identity_free, identityOf, id);
  }

  list() {
    return this._a._list(C.mn_identity_list, 'mn_identities', 'mn_identity',
      C.mn_identities_free, identityOf);
  }

  deactivate(id) { this._a._call(C.mn_identity_deactivate, id); }
  delete(id) { this._a._call(C.mn_identity_delete, id); }
}

// ---- Memories --------------------------------------------------------------------------------
const INPUT_KEYS = ['text', 'type', 'metadata', 'importance', 'ttlDays', 'embedding', 'identity',
  'externalKey', 'id'];

function memoryInput(input) {
  const o = typeof input === 'string' ? { text: input } : options(input, INPUT_KEYS, 'a memory');
  const embedding = vectorArg(o.embedding, 'embedding');
  return {
    version: VERSIONS.mn_memory_input, identity: o.identity ?? null, text: o.text ?? null,
    type: o.type ?? null, metadata: jsonArg(o.metadata),
    importance: o.importance ?? -1, // MN_IMPORTANCE_DEFAULT
    ttl_days: o.ttlDays ?? 0, embedding, dim: embedding ? embedding.length : 0,
    external_key: o.externalKey ?? null, id: o.id ?? null,
  };
}

const FILTER_KEYS = ['identity', 'type', 'metadata', 'withDeleted', 'withExpired',
  'withEmbedding'];

// The mn_filter of an options object, or null when it filters nothing.
function filterArg(o) {
  const flags = (o.withDeleted ? WITH_DELETED : 0) | (o.withExpired ? WITH_EXPIRED : 0) |
    (o.withEmbedding ? WITH_EMBEDDING : 0);
  if (o.identity == null && o.type == null && o.metadata == null && !flags) return null;
  return {
    version: VERSIONS.mn_filter, identity: o.identity ?? null, type: o.type ?? null,
    metadata: jsonArg(o.metadata), flags,
  };
}

const LIST_KEYS = [...FILTER_KEYS, 'limit', 'cursor'];
const SEARCH_KEYS = [...FILTER_KEYS, 'vector', 'k', 'minSimilarity', 'ef', 'recencyHalfLifeMs',
  'recencyWeight', 'importanceWeight', 'cursor', 'mode', 'vectorWeight', 'keywordWeight', 'rrfK',
  'explain'];

function searchArg(query, opts) {
  const o = options(opts, SEARCH_KEYS, 'search()');
  const vector = vectorArg(o.vector, 'vector');
  const mode = SEARCH_MODES[o.mode ?? 'auto'];
  if (mode === undefined) {
    throw invalid(`search() has no mode "${o.mode}": use ${Object.keys(SEARCH_MODES).join(', ')}`);
  }
  return {
    version: VERSIONS.mn_search_options, query: query ?? null, vector,
    dim: vector ? vector.length : 0, k: o.k ?? 0, min_similarity: o.minSimilarity ?? 0,
    filter: filterArg(o), ef: o.ef ?? 0, recency_half_life_ms: o.recencyHalfLifeMs ?? 0,
    recency_weight: o.recencyWeight ?? 0, importance_weight: o.importanceWeight ?? 0,
    cursor: o.cursor ?? null, mode, vector_weight: o.vectorWeight ?? 0,
    keyword_weight: o.keywordWeight ?? 0, rrf_k: o.rrfK ?? 0, flags: o.explain ? 1 : 0,
  };
}

// Every item of every page, fetching the next page with next_cursor as it goes.
function* pages(fetch, opts) {
  let cursor = opts && opts.cursor;
  do {
    const page = fetch({ ...opts, cursor });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor);
}

const MEMORY_SET = { text: 0x1, type: 0x2, metadata: 0x4, importance: 0x8, embedding: 0x10 };

class Memories {
  constructor(actor) { this._a = actor; }

  // Adds a memory (a text, or an object), or finds the one it repeats: that memory.
  add(input) { return this.put(input).memory; }

  // The same, with what became of it: outcome 'created', 'updated' or 'unchanged'.
  put(input) {
    const outcome = [0];
    const out = [null];
    this._a._call(C.mn_memory_put, memoryInput(input), outcome, out);
    const memory = take(out[0], 'mn_memory', C.mn_memory_free, memoryOf);
    return { outcome: OUTCOMES[outcome[0]], memory };
  }

  // All or none: the ids, in order. On failure the error's .index names the bad input.
  addMany(inputs) { return this.putMany(inputs).ids; }

  putMany(inputs) {
    if (!Array.isArray(inputs) || inputs.length === 0) {
      throw invalid('addMany() and putMany() need a non-empty array of memories');
    }
    const structsIn = inputs.map(memoryInput);
    const ids = [null];
    const outcomes = new Int32Array(inputs.length);
    const failed = [0];
    try {
      this._a._call(C.mn_memory_put_many, structsIn, inputs.length, ids, outcomes, failed);
    } catch (err) {
      if (BigInt(failed[0]) !== SIZE_MAX) err.index = Number(failed[0]);
      throw err;
    }
    return {
      ids: takeStrings(ids[0], inputs.length),
      outcomes: Array.from(outcomes, (o) => OUTCOMES[o]),
    };
  }

  get(id, opts) {
    const o = options(opts, ['withEmbedding'], 'get()');
    return this._a._one(C.mn_memory_get, 'mn_memory', C.mn_memory_free, memoryOf, id,
      o.withEmbedding ? WITH_EMBEDDING : 0);
  }

  // One page, newest first: { items, nextCursor } (nextCursor null on the last page).
  list(opts) {
    const o = options(opts, LIST_KEYS, 'list()');
    const opt = {
      version: VERSIONS.mn_list_options, filter: filterArg(o), limit: o.limit ?? 0,
      cursor: o.cursor ?? null,
    };
    const out = [null];
    this._a._call(C.mn_memory_list, opt, out);
    return memoriesPage(out[0]);
  }

  // Every memory list(opts) selects, page after page.
  listAll(opts) { return pages((o) => this.list(o), opts); }

  // One page of hits, best first, for a query text (or opts.vector, with query null).
  search(query, opts) {
    const out = [null];
    this._a._call(C.mn_memory_search, searchArg(query, opts), out);
    return memoriesPage(out[0]);
  }

  searchAll(query, opts) { return pages((o) => this.search(query, o), opts); }

  // Changes the fields changes names (text, type, metadata, importance, embedding).
  update(id, changes) {
    const o = options(changes, Object.keys(MEMORY_SET), 'update()');
    const set = Object.keys(o).reduce((bits, key) => bits | MEMORY_SET[key], 0);
    const embedding = vectorArg(o.embedding, 'embedding');
    const c = {
      version: VERSIONS.mn_memory_changes, set, text: o.text ?? null, type: o.type ?? null,
      metadata: jsonArg(o.metadata), importance: o.importance ?? 0, embedding,
      dim: embedding ? embedding.length : 0,
    };
    return this._a._one(C.mn_memory_update, 'mn_memory', C.mn_memory_free, memoryOf, id, c);
  }

  // Soft by default (restorable); { hard: true } removes it and its history for good.
  delete(id, opts) {
    const o = options(opts, ['hard'], 'delete()');
    this._a._call(C.mn_memory_delete, id, o.hard ? 1 : 0);
  }

  restore(id) { this._a._call(C.mn_memory_restore, id); }

  history(id) {
    return this._a._list(C.mn_memory_history, 'mn_history', 'mn_history_entry',
      C.mn_history_free, historyOf, id);
  }
}

// ---- Policies, API keys, rate limits -----------------------------------------------------------
class Policies {
  constructor(actor) { this._a = actor; }

  add(policy) {
    const o = options(policy, ['role', 'rule', 'description', 'priority', 'inactive'], 'a policy');
    const input = {
      version: VERSIONS.mn_policy_input, role: o.role ?? null, rule: jsonArg(o.rule),
      description: o.description ?? null, priority: o.priority ?? 0, inactive: o.inactive ? 1 : 0,
    };
    return this._a._one(C.mn_policy_add, 'mn_policy', C.mn_policy_free, policyOf, input);
  }

  list() {
    return this._a._list(C.mn_policy_list, 'mn_policies', 'mn_policy', C.mn_policies_free,
      policyOf);
  }

  delete(id) { this._a._call(C.mn_policy_delete, id); }

  // Whether the actor may do action on resource (resourceData describes it), without doing it.
  test(action, resource, resourceData) {
    return this._a._one(C.mn_policy_test, 'mn_decision', C.mn_decision_free, decisionOf,
      action, resource, jsonArg(resourceData));
  }
}

class ApiKeys {
  constructor(actor) { this._a = actor; }

  // A new key for the identity: { key, apiKey }; key ("mk_...") is shown this once.
  create(identity, opts) {
    const o = options(opts, ['scopes', 'expiresAt'], 'apiKeys.create()');
    const input = {
      version: VERSIONS.mn_apikey_input, identity: identity ?? null, scopes: jsonArg(o.scopes),
      expires_at: o.expiresAt ?? 0,
    };
    const keyOut = [null];
    const out = [null];
    this._a._call(C.mn_apikey_create, input, keyOut, out);
    let key;
    try {
      key = koffi.decode.string(keyOut[0]);
    } finally {
      C.mn_free(keyOut[0]);
    }
    return { key, apiKey: take(out[0], 'mn_apikey', C.mn_apikey_free, apiKeyOf) };
  }

  // The tenant's keys, or one identity's; never a key itself.
  list(identity) {
    return this._a._list(C.mn_apikey_list, 'mn_apikeys', 'mn_apikey', C.mn_apikeys_free,
      apiKeyOf, identity ?? null);
  }

  revoke(id) { this._a._call(C.mn_apikey_revoke, id); }
}

class RateLimits {
  constructor(actor) { this._a = actor; }

  // Whether n calls (default 1) to endpoint ("memory:create", ...) would be admitted now,
  // counting nothing.
  status(endpoint, n = 1) {
    const r = { version: VERSIONS.mn_ratelimit_result };
    this._a._call(C.mn_ratelimit_peek, endpoint, n, r);
    return {
      allowed: r.allowed !== 0, checked: r.checked !== 0, limit: r.limit, remaining: r.remaining,
      windowMs: r.window_ms, resetAt: r.reset_at, retryAfterMs: r.retry_after_ms,
    };
  }

  // Sets the tenant's own limit for endpoint (or "*"): limit calls per windowMs.
  set(endpoint, limit, windowMs) { this._a._call(C.mn_limit_set, endpoint, limit, windowMs); }

  // Back to the built-in limit.
  unset(endpoint) { this._a._call(C.mn_limit_delete, endpoint); }

  // The tenant's limits, built in and its own, by endpoint.
  limits() {
    return this._a._list(C.mn_limit_list, 'mn_limits', 'mn_limit', C.mn_limits_free, limitOf);
  }
}

module.exports = {
  open,
  version: C.mn_version(),
  versionNumber: C.mn_version_number(),
  constants,
  Database,
  Actor,
  ...errorClasses,
};
