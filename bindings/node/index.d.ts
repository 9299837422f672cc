// Type declarations of the manushya package (index.js). Times are milliseconds since the Unix
// epoch; JSON the library keeps (metadata, claims, rules, contexts) is given as a value (or
// JSON text) and returned parsed.

/** JSON as given to the library: a value, or its JSON text. */
export type Json = string | { [key: string]: unknown } | unknown[];

/** The fields of mn_config (libmanushya(3)) in camelCase; 0 or absent means the default. */
export interface Config {
  flags?: number;
  embedder?: 'local' | 'openai' | 'external';
  embedDim?: number;
  maxTextBytes?: number;
  busyTimeoutMs?: number;
  poolSize?: number;
  index?: number;
  hnswM?: number;
  hnswEfConstruction?: number;
  hnswEfSearch?: number;
  embedUrl?: string;
  embedModel?: string;
  embedTimeoutMs?: number;
  embedCache?: number;
  ratelimit?: number;
  redisUrl?: string;
  ratelimitFailClosed?: number;
  ratelimitRefreshMs?: number;
  ratelimitMaxBytes?: number;
  redisPoolMax?: number;
  redisConnectTimeoutMs?: number;
  redisTimeoutMs?: number;
  redisHealthCheckS?: number;
  redisRetries?: number;
  embedAsync?: number;
  embedWorkers?: number;
  embedBatch?: number;
  embedMaxAttempts?: number;
  embedRetryMs?: number;
  embedLeaseMs?: number;
  embedPollMs?: number;
  embedRetries?: number;
  masterKeyFile?: string;
  metrics?: number;
  maintenance?: number;
  maintenancePollMs?: number;
  auditRetentionDays?: number;
  cache?: number;
  cacheMaxBytes?: number;
  cacheLocalMs?: number;
  dedup?: number;
  dedupThreshold?: number;
  searchRecencyHalfLifeMs?: number;
  searchRecencyWeight?: number;
  searchImportanceWeight?: number;
  searchMinRelevance?: number;
  searchMode?: number;
}

/** The constants Config's fields take (manushya.h). */
export const constants: {
  readonly OPEN_READONLY: number; readonly OPEN_NOCREATE: number;
  readonly OPEN_MIGRATE: number; readonly OPEN_ENCRYPT: number;
  readonly INDEX_AUTO: number; readonly INDEX_NONE: number;
  readonly EMBED_CACHE_AUTO: number; readonly EMBED_CACHE_OFF: number;
  readonly RATELIMIT_AUTO: number; readonly RATELIMIT_OFF: number;
  readonly RATELIMIT_MEMORY: number; readonly RATELIMIT_REDIS: number;
  readonly METRICS_AUTO: number; readonly METRICS_OFF: number;
  readonly CACHE_AUTO: number; readonly CACHE_OFF: number;
  readonly CACHE_MEMORY: number; readonly CACHE_REDIS: number;
  readonly DEDUP_EXACT: number; readonly DEDUP_OFF: number; readonly DEDUP_NEAR: number;
  readonly SEARCH_OFF: number;
};

/** The library's version, e.g. "1.3.0", and its number (10000*major + 100*minor + patch). */
export const version: string;
export const versionNumber: number;

/** Opens (creating and migrating if needed) the store: a SQLite path or a postgres:// URL. */
export function open(url: string, config?: Config): Database;

export interface Tenant { id: string; name: string; createdAt: number; }

export interface Identity {
  id: string; tenantId: string; externalId: string; role: string;
  claims: { [key: string]: unknown }; active: boolean; createdAt: number; updatedAt: number;
}

export interface Memory {
  id: string; tenantId: string; identityId: string; text: string; type: string;
  metadata: { [key: string]: unknown }; importance: number; version: number;
  createdAt: number; updatedAt: number; /** 0: never */ expiresAt: number;
  deleted: boolean; seq: number;
  /** Only when asked for (withEmbedding). */
  embedding: Float32Array | null;
  embedStatus: 'done' | 'pending' | 'failed'; embedError: string | null;
  externalKey: string | null;
  /** Search results only: similarity to the query, the ranking and why. */
  similarity: number; score: number; recencyFactor: number; importanceFactor: number;
  vectorScore: number; vectorRank: number; keywordScore: number; keywordRank: number;
  fusedScore: number;
}

/** One page of list or search: nextCursor (null on the last page) asks for the next. */
export interface Page { items: Memory[]; nextCursor: string | null; }

export interface MemoryInput {
  text: string; type?: string; metadata?: Json;
  /** 0..1; absent: the default, 0.5 */
  importance?: number; ttlDays?: number; embedding?: Float32Array;
  /** The owner (id or external id); absent: the actor's identity. */
  identity?: string; externalKey?: string; id?: string;
}

export type Outcome = 'created' | 'updated' | 'unchanged';

export interface Filter {
  identity?: string; type?: string; metadata?: Json;
  withDeleted?: boolean; withExpired?: boolean; withEmbedding?: boolean;
}

export interface ListOptions extends Filter { limit?: number; cursor?: string | null; }

export interface SearchOptions extends Filter {
  vector?: Float32Array; k?: number; minSimilarity?: number; ef?: number;
  recencyHalfLifeMs?: number; recencyWeight?: number; importanceWeight?: number;
  cursor?: string | null; mode?: 'auto' | 'vector' | 'keyword' | 'hybrid';
  vectorWeight?: number; keywordWeight?: number; rrfK?: number; explain?: boolean;
}

export interface MemoryChanges {
  text?: string; type?: string; metadata?: Json; importance?: number; embedding?: Float32Array;
}

export interface HistoryEntry {
  version: number; changedAt: number; changedBy: string | null;
  before: { [key: string]: unknown }; after: { [key: string]: unknown };
}

export interface Policy {
  id: string; tenantId: string; role: string; rule: { [key: string]: unknown };
  priority: number; active: boolean; description: string; createdAt: number; updatedAt: number;
}

export interface PolicyInput {
  role: string; rule: Json; description?: string; priority?: number; inactive?: boolean;
}

export interface Decision { allowed: boolean; policyId: string | null; reason: string; }

export interface ApiKey {
  id: string; tenantId: string; identityId: string; scopes: string[] | null;
  createdAt: number; /** 0: never */ expiresAt: number; lastUsedAt: number;
}

export interface RateLimitStatus {
  allowed: boolean; checked: boolean; limit: number; remaining: number; windowMs: number;
  resetAt: number; retryAfterMs: number;
}

export interface Limit { endpoint: string; limit: number; windowMs: number; overridden: boolean; }

export class Database {
  private constructor();
  readonly tenants: Tenants;
  /** The embedding dimension of the database. */
  readonly embedDim: number;
  /** An actor: a tenant (id or name) and, optionally, an identity; none: the system actor. */
  actor(tenant: string, opts?: { identity?: string; context?: Json }): Actor;
  /** An actor by an API key ("mk_..."). */
  actor(opts: { apiKey: string; context?: Json }): Actor;
  /** Releases the handle; later calls throw. A second close does nothing. */
  close(): void;
}

export interface Tenants {
  create(name: string): Tenant;
  get(idOrName: string): Tenant;
  list(): Tenant[];
  delete(idOrName: string): void;
}

export class Actor {
  private constructor();
  readonly db: Database;
  readonly memories: Memories;
  readonly identities: Identities;
  readonly policies: Policies;
  readonly apiKeys: ApiKeys;
  readonly rateLimits: RateLimits;
}

export interface Memories {
  add(input: string | MemoryInput): Memory;
  put(input: string | MemoryInput): { outcome: Outcome; memory: Memory };
  /** All or none; on failure the error's index names the bad input. */
  addMany(inputs: Array<string | MemoryInput>): string[];
  putMany(inputs: Array<string | MemoryInput>): { ids: string[]; outcomes: Outcome[] };
  get(id: string, opts?: { withEmbedding?: boolean }): Memory;
  list(opts?: ListOptions): Page;
  listAll(opts?: ListOptions): Generator<Memory, void, undefined>;
  /** query null: search by opts.vector. */
  search(query: string | null, opts?: SearchOptions): Page;
  searchAll(query: string | null, opts?: SearchOptions): Generator<Memory, void, undefined>;
  update(id: string, changes: MemoryChanges): Memory;
  delete(id: string, opts?: { hard?: boolean }): void;
  restore(id: string): void;
  history(id: string): HistoryEntry[];
}

export interface Identities {
  create(externalId: string, opts?: { role?: string; claims?: Json }): Identity;
  get(idOrExternalId: string): Identity;
  list(): Identity[];
  deactivate(idOrExternalId: string): void;
  delete(idOrExternalId: string): void;
}

export interface Policies {
  add(policy: PolicyInput): Policy;
  list(): Policy[];
  delete(id: string): void;
  test(action: string, resource: string, resourceData?: Json): Decision;
}

export interface ApiKeys {
  /** key ("mk_...") is shown this once. */
  create(identity: string, opts?: { scopes?: string[]; expiresAt?: number }):
    { key: string; apiKey: ApiKey };
  list(identity?: string): ApiKey[];
  revoke(id: string): void;
}

export interface RateLimits {
  status(endpoint: string, n?: number): RateLimitStatus;
  limits(): Limit[];
  set(endpoint: string, limit: number, windowMs: number): void;
  unset(endpoint: string): void;
}

/** Every failure: code is the MN_E* number, message the library's. */
export class ManushyaError extends Error {
  constructor(code: number, message: string);
  readonly code: number;
  /** addMany/putMany: the index of the bad input. */
  index?: number;
}
export class GenericError extends ManushyaError { static readonly code: 1; }
export class InvalidArgumentError extends ManushyaError { static readonly code: 2; }
export class NotFoundError extends ManushyaError { static readonly code: 3; }
export class AlreadyExistsError extends ManushyaError { static readonly code: 4; }
export class DeniedError extends ManushyaError { static readonly code: 5; }
export class RateLimitedError extends ManushyaError {
  static readonly code: 6;
  /** When the call would fit; -1: never (more than the limit itself). */
  retryAfterMs: number;
}
export class BackendError extends ManushyaError { static readonly code: 7; }
export class OutOfMemoryError extends ManushyaError { static readonly code: 8; }
export class UnsupportedError extends ManushyaError { static readonly code: 9; }
export class CorruptError extends ManushyaError { static readonly code: 10; }
export class LimitExceededError extends ManushyaError { static readonly code: 11; }
export class MasterKeyError extends ManushyaError { static readonly code: 12; }
