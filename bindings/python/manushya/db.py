"""Database (a libmanushya handle) and Actor (who the calls are made for), with the memories,
identities, policies, API keys and rate limits an actor reaches.

Ownership: every result the library allocates is copied into a dataclass and freed with its
mn_*_free function at once, in a `finally`, exactly once; no C pointer ever reaches the caller.
Inputs are encoded into ctypes structs that keep their bytes alive for the call (the library
copies what it keeps).

Threads: one Database may be used by many threads at once, as the C handle may (ctypes releases
the GIL during each call, so calls run in parallel). Error messages are read on the thread whose
call failed, right after it (mn_errmsg is per thread). close() must not race with calls in
flight on the same Database; a call after close() raises InvalidArgument.
"""

import ctypes
import functools
import json
import threading
from ctypes import POINTER, byref, c_char_p, c_float, c_int, c_size_t, c_void_p
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, \
    Union

from . import _lib
from . import _structs as S
from .errors import InvalidArgument, RateLimited, error_for
from .types import (ApiKey, Decision, HistoryEntry, Identity, Limit, Memory, NewApiKey, Page,
                    Policy, PutResult, RateLimitResult, RateLimitStats, Tenant, from_struct)

MN_ELIMITED = 6
WITH_DELETED, WITH_EXPIRED, WITH_EMBEDDING = 0x1, 0x2, 0x4
SET_TEXT, SET_TYPE, SET_METADATA, SET_IMPORTANCE, SET_EMBEDDING = 0x1, 0x2, 0x4, 0x8, 0x10
SEARCH_MODES = {"auto": 0, "vector": 1, "keyword": 2, "hybrid": 3}
PUT_OUTCOMES = ("created", "updated", "unchanged")
METRICS_FORMATS = {"prometheus": 0, "json": 1}
HEALTH_PROBE_EMBED = 0x1

# mn_config fields a Python program cannot give: C function pointers and the struct's version.
_CONFIG_NOT_SETTABLE = {"version", "log_fn", "log_ctx", "embedder_plugin"}
CONFIG_KEYS = tuple(f[0] for f in S.mn_config._fields_ if f[0] not in _CONFIG_NOT_SETTABLE)

JSON = Union[str, Mapping[str, Any], Sequence[Any]]
_UNSET: Any = object()


def _b(s: Optional[str]) -> Optional[bytes]:
    """A str argument as the UTF-8 bytes the library takes (None stays NULL)."""
    return None if s is None else s.encode("utf-8")


def _json(v: Optional[JSON]) -> Optional[bytes]:
    """JSON argument: text as given, or a dict/list serialised compactly."""
    if v is None:
        return None
    if isinstance(v, str):
        return v.encode("utf-8")
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _floats(v: Optional[Sequence[float]]):
    """(float array, its length) for a vector argument; (None, 0) for none."""
    if v is None:
        return None, 0
    return (c_float * len(v))(*v), len(v)


def _memory(m) -> Memory:
    emb = list(m.embedding[:m.dim]) if m.embedding else None
    return from_struct(Memory, m, embedding=emb)


def _filter(identity=None, type=None, metadata=None, with_deleted=False, with_expired=False,
            with_embedding=False):
    """A pointer to an mn_filter, or None when nothing is filtered."""
    flags = ((WITH_DELETED if with_deleted else 0) | (WITH_EXPIRED if with_expired else 0) |
             (WITH_EMBEDDING if with_embedding else 0))
    if identity is None and type is None and metadata is None and not flags:
        return None
    return ctypes.pointer(S.mn_filter(identity=_b(identity), type=_b(type),
                                      metadata=_json(metadata), flags=flags))


def _converter(convert):
    """convert as a function of a C struct: a dataclass is filled by from_struct."""
    return functools.partial(from_struct, convert) if isinstance(convert, type) else convert


def _pages(fetch: Callable[[Optional[str]], Page]) -> Iterator[Memory]:
    """Every item of every page, fetching the next page (by its cursor) when one runs out."""
    cursor = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def open(url: str, **config: Any) -> "Database":  # noqa: A001 (manushya.open, as io.open)
    """Opens (creating and migrating if needed) the store named by url: a SQLite path
    ("sqlite:PATH" or PATH) or "postgres://...". config sets mn_config fields by their C
    names and values (embed_dim=64, pool_size=8, redis_url="redis://...", index=1 for
    MN_INDEX_NONE); an unknown key is a TypeError. A context manager: `with` closes it."""
    return Database(url, **config)


class Database:
    """A libmanushya handle. Use `with manushya.open(url) as db:`, or call close()."""

    def __init__(self, url: str, **config: Any):
        self._lib = _lib.lib()
        cfg = S.mn_config()
        for key, value in config.items():
            if key not in CONFIG_KEYS:
                raise TypeError("manushya.open() got an unknown config key %r; known keys: %s"
                                % (key, ", ".join(CONFIG_KEYS)))
            try:
                setattr(cfg, key, _b(value) if isinstance(value, str) else value)
            except TypeError as e:  # ctypes: "int expected instead of str"
                raise TypeError("manushya.open(): config key %r: %s" % (key, e)) from None
        self._close_lock = threading.Lock()
        handle = c_void_p()
        rc = self._lib.mn_open(byref(handle), _b(url), byref(cfg))
        if rc != 0:
            err = self._error(rc, handle)
            self._lib.mn_close(handle)  # set even on failure, for its message; NULL is fine
            raise err
        self._handle: Optional[c_void_p] = handle
        self.tenants = Tenants(self)

    # ---- the handle --------------------------------------------------------------------------
    def close(self) -> None:
        """Closes the handle; closing again does nothing."""
        with self._close_lock:
            handle, self._handle = self._handle, None
        if handle:
            self._lib.mn_close(handle)

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_handle", None):
            self.close()

    @property
    def closed(self) -> bool:
        return self._handle is None

    def _h(self) -> c_void_p:
        h = self._handle
        if h is None:
            raise InvalidArgument("manushya: the database is closed; open it again with "
                                  "manushya.open()", 2)
        return h

    def _error(self, rc: int, handle=None):
        h = self._handle if handle is None else handle
        msg = self._lib.mn_errmsg(h)
        err = error_for(rc, msg.decode("utf-8", "replace") if msg else "error %d" % rc)
        if isinstance(err, RateLimited):
            err.retry_after_ms = self._lib.mn_retry_after_ms(h)
        return err

    def _call(self, name: str, *args) -> int:
        """Calls mn_NAME(handle, *args); raises the exception for its code unless MN_OK. The
        message is read here, on the calling thread, right after the call."""
        h = self._h()
        rc = getattr(self._lib, name)(h, *args)
        if rc != 0:
            raise self._error(rc, h)
        return rc

    def _take(self, name: str, ctype, convert, *args):
        """Calls mn_NAME(handle, *args, &out) for a result of ctype the library allocates;
        returns convert(*out) (convert: a function, or a dataclass filled by from_struct) and
        frees the result with its free function, exactly once."""
        convert = _converter(convert)
        out = POINTER(ctype)()
        try:
            self._call(name, *args, byref(out))
            return convert(out.contents)
        finally:
            _free(self._lib, ctype)(out)

    def _take_list(self, name: str, ctype, convert_item, *args) -> list:
        """_take for a { count, items } list: the items converted."""
        convert_item = _converter(convert_item)
        return self._take(name, ctype,
                          lambda l: [convert_item(l.items[i].contents) for i in range(l.count)],
                          *args)

    def _take_text(self, name: str, *args, trailing=()) -> str:
        """Calls mn_NAME(handle, *args, &text, *trailing) for text freed with mn_free."""
        out = c_void_p()
        try:
            self._call(name, *args, byref(out), *trailing)
            return ctypes.string_at(out).decode("utf-8", "replace")
        finally:
            self._lib.mn_free(out)

    @property
    def embed_dim(self) -> int:
        return self._lib.mn_embed_dim(self._h())

    @property
    def url(self) -> str:
        """The URL the handle was opened with, its secrets replaced by "***"."""
        return self._lib.mn_db_url(self._h()).decode("utf-8", "replace")

    def actor(self, tenant: Optional[str] = None, identity: Optional[str] = None, *,
              api_key: Optional[str] = None, context: Optional[JSON] = None) -> "Actor":
        """Who the calls are made for: a tenant (id or name) and an identity (id or
        external_id; None: the tenant's trusted system actor), or an API key alone."""
        return Actor(self, tenant, identity, api_key, context)

    def health(self, probe_embed: bool = False) -> Dict[str, Any]:
        """mn_health: {"status": "ok|degraded|failing", "checks": [...]}."""
        flags = HEALTH_PROBE_EMBED if probe_embed else 0
        return json.loads(self._take_text("mn_health", flags, trailing=(None,)))

    def metrics(self, format: str = "prometheus") -> str:
        """The handle's metrics as Prometheus text ("prometheus") or JSON text ("json")."""
        if format not in METRICS_FORMATS:
            raise InvalidArgument("manushya: metrics format %r is not one of %s"
                                  % (format, ", ".join(METRICS_FORMATS)), 2)
        return self._take_text("mn_metrics_write", METRICS_FORMATS[format])

    def rate_limit_stats(self) -> RateLimitStats:
        """The rate-limit decisions this handle made since it was opened."""
        out = S.mn_ratelimit_stats()
        self._call("mn_ratelimit_stats_get", byref(out))
        return from_struct(RateLimitStats, out)


_FREE_FUNCTIONS = {S.mn_tenant: "mn_tenant_free", S.mn_tenants: "mn_tenants_free",
                   S.mn_identity: "mn_identity_free", S.mn_identities: "mn_identities_free",
                   S.mn_memory: "mn_memory_free", S.mn_memories: "mn_memories_free",
                   S.mn_history: "mn_history_free", S.mn_policy: "mn_policy_free",
                   S.mn_policies: "mn_policies_free", S.mn_decision: "mn_decision_free",
                   S.mn_apikey: "mn_apikey_free", S.mn_apikeys: "mn_apikeys_free",
                   S.mn_limit: "mn_limit_free", S.mn_limits: "mn_limits_free"}


def _free(lib, ctype):
    """The library's free function for a result of ctype (each accepts NULL)."""
    return getattr(lib, _FREE_FUNCTIONS[ctype])


class Tenants:
    """Tenants: host operations (no actor, no policy)."""

    def __init__(self, db: Database):
        self._db = db

    def create(self, name: str) -> Tenant:
        return self._db._take("mn_tenant_create", S.mn_tenant,
                              Tenant, _b(name))

    def get(self, id_or_name: str) -> Tenant:
        return self._db._take("mn_tenant_get", S.mn_tenant,
                              Tenant, _b(id_or_name))

    def list(self) -> List[Tenant]:
        return self._db._take_list("mn_tenant_list", S.mn_tenants,
                                   Tenant)

    def delete(self, id_or_name: str) -> None:
        """Erases the tenant and everything of it (mn_tenant_delete)."""
        self._db._call("mn_tenant_delete", _b(id_or_name))


class Actor:
    """Calls made for one actor. Cheap to make; safe across threads like its Database."""

    def __init__(self, db: Database, tenant, identity, api_key, context):
        self.db = db
        self._c = S.mn_actor(tenant=_b(tenant), identity=_b(identity), api_key=_b(api_key),
                             context=_json(context))
        self.tenant, self.identity = tenant, identity
        self.memories = Memories(self)
        self.identities = Identities(self)
        self.policies = Policies(self)
        self.api_keys = ApiKeys(self)
        self.rate_limits = RateLimits(self)

    def __repr__(self) -> str:
        who = "api key" if self._c.api_key else "%s/%s" % (self.tenant, self.identity or "system")
        return "<manushya.Actor %s>" % who

    def _call(self, name: str, *args) -> int:
        return self.db._call(name, byref(self._c), *args)

    def _take(self, name: str, ctype, convert, *args):
        return self.db._take(name, ctype, convert, byref(self._c), *args)

    def _take_list(self, name: str, ctype, convert_item, *args) -> list:
        return self.db._take_list(name, ctype, convert_item, byref(self._c), *args)


def _memory_input(text: str, type: Optional[str] = None, metadata: Optional[JSON] = None,
                  importance: Optional[float] = None, ttl_days: int = 0,
                  embedding: Optional[Sequence[float]] = None,
                  external_key: Optional[str] = None, id: Optional[str] = None,
                  identity: Optional[str] = None) -> S.mn_memory_input:
    vec, dim = _floats(embedding)
    fields = dict(text=_b(text), type=_b(type), metadata=_json(metadata), ttl_days=ttl_days,
                  embedding=vec, dim=dim, external_key=_b(external_key), id=_b(id),
                  identity=_b(identity))
    if importance is not None:
        fields["importance"] = importance
    return S.mn_memory_input(**fields)


def _inputs(items: Iterable[Union[str, Mapping[str, Any]]]):
    """An mn_memory_input array from texts or dicts of add()'s keywords."""
    ins = [_memory_input(i) if isinstance(i, str) else _memory_input(**i) for i in items]
    return (S.mn_memory_input * len(ins))(*ins), len(ins)


class Memories:
    """An actor's memories: add, put, get, list, search, update, delete, restore, history."""

    def __init__(self, actor: Actor):
        self._a = actor

    def add(self, text: str, **fields: Any) -> Memory:
        """Adds a memory (or finds the one it repeats: see put). fields: type, metadata (dict
        or JSON text), importance (0..1), ttl_days, embedding, external_key, id, identity
        (the owner; default the actor)."""
        return self._a._take("mn_memory_add", S.mn_memory, _memory,
                             byref(_memory_input(text, **fields)))

    def put(self, text: str, **fields: Any) -> PutResult:
        """add() that says what happened: "created", "updated" (an id or external_key the owner
        had) or "unchanged" (deduplicated)."""
        outcome = c_int()
        memory = self._a._take("mn_memory_put", S.mn_memory, _memory,
                               byref(_memory_input(text, **fields)), byref(outcome))
        return PutResult(PUT_OUTCOMES[outcome.value], memory)

    def add_many(self, items: Iterable[Union[str, Mapping[str, Any]]]) -> List[str]:
        """Adds all or none in one transaction; items are texts or dicts of add()'s keywords
        (text included). Returns the ids in order. On failure the exception's failed_index is
        the bad item's index (None when the failure was not one item's)."""
        arr, n = _inputs(items)
        ids = POINTER(c_char_p)()
        failed = c_size_t(0)
        lib = self._a.db._lib
        try:
            self._a._call("mn_memory_add_many", arr, n, byref(ids), byref(failed))
        except Exception as e:
            e.failed_index = None if failed.value == ctypes.c_size_t(-1).value else failed.value
            raise
        try:
            return [ids[i].decode("utf-8") for i in range(n)]
        finally:
            lib.mn_strings_free(ids, n)

    def get(self, id: str, *, with_deleted: bool = False, with_expired: bool = False,
            with_embedding: bool = False) -> Memory:
        flags = ((WITH_DELETED if with_deleted else 0) | (WITH_EXPIRED if with_expired else 0) |
                 (WITH_EMBEDDING if with_embedding else 0))
        return self._a._take("mn_memory_get", S.mn_memory, _memory, _b(id), flags)

    def _page(self, opts, name: str) -> Page:
        return self._a._take(name, S.mn_memories,
                             lambda l: Page([_memory(l.items[i].contents) for i in range(l.count)],
                                            l.next_cursor.decode() if l.next_cursor else None),
                             byref(opts))

    def list_page(self, *, limit: int = 0, cursor: Optional[str] = None,
                  **filter: Any) -> Page:
        """One page, newest first: limit (default 50, at most 1000) memories from cursor.
        filter: identity, type, metadata (contained), with_deleted, with_expired,
        with_embedding."""
        opts = S.mn_list_options(filter=_filter(**filter), limit=limit, cursor=_b(cursor))
        return self._page(opts, "mn_memory_list")

    def list(self, *, page_size: int = 0, **filter: Any) -> Iterator[Memory]:
        """Every memory the filter selects, newest first, fetched a page at a time."""
        return _pages(lambda cursor: self.list_page(limit=page_size, cursor=cursor, **filter))

    def search_page(self, query: Optional[str] = None, *, vector: Optional[Sequence[float]] = None,
                    k: int = 10, cursor: Optional[str] = None, mode: str = "auto",
                    min_similarity: float = 0.0, ef: int = 0, recency_half_life_ms: int = 0,
                    recency_weight: float = 0.0, importance_weight: float = 0.0,
                    vector_weight: float = 0.0, keyword_weight: float = 0.0, rrf_k: int = 0,
                    **filter: Any) -> Page:
        """One page of k hits, best first, by query text or vector (exactly one). mode:
        "auto", "vector", "keyword", "hybrid". The numeric options are mn_search_options' (0:
        the handle's default; -1 turns an adjustment off). filter: as list_page()."""
        if mode not in SEARCH_MODES:
            raise InvalidArgument("manushya: search mode %r is not one of %s"
                                  % (mode, ", ".join(SEARCH_MODES)), 2)
        vec, dim = _floats(vector)
        opts = S.mn_search_options(query=_b(query), vector=vec, dim=dim, k=k,
                                   min_similarity=min_similarity, filter=_filter(**filter),
                                   ef=ef, recency_half_life_ms=recency_half_life_ms,
                                   recency_weight=recency_weight,
                                   importance_weight=importance_weight, cursor=_b(cursor),
                                   mode=SEARCH_MODES[mode], vector_weight=vector_weight,
                                   keyword_weight=keyword_weight, rrf_k=rrf_k)
        return self._page(opts, "mn_memory_search")

    def search(self, query: Optional[str] = None, **options: Any) -> List[Memory]:
        """The best k hits (default 10): search_page()'s first page."""
        return self.search_page(query, **options).items

    def search_iter(self, query: Optional[str] = None, **options: Any) -> Iterator[Memory]:
        """Every hit, best first, fetched k at a time with the cursor."""
        return _pages(lambda cursor: self.search_page(query, cursor=cursor, **options))

    def update(self, id: str, *, text: Optional[str] = _UNSET, type: Optional[str] = _UNSET,
               metadata: Optional[JSON] = _UNSET, importance: float = _UNSET,
               embedding: Optional[Sequence[float]] = _UNSET) -> Memory:
        """Changes the fields given (at least one); a new version, recorded in the history."""
        ch = S.mn_memory_changes()
        if text is not _UNSET:
            ch.set |= SET_TEXT
            ch.text = _b(text)
        if type is not _UNSET:
            ch.set |= SET_TYPE
            ch.type = _b(type)
        if metadata is not _UNSET:
            ch.set |= SET_METADATA
            ch.metadata = _json(metadata)
        if importance is not _UNSET:
            ch.set |= SET_IMPORTANCE
            ch.importance = importance
        if embedding is not _UNSET:
            ch.set |= SET_EMBEDDING
            ch.embedding, ch.dim = _floats(embedding)
        return self._a._take("mn_memory_update", S.mn_memory, _memory, _b(id), byref(ch))

    def delete(self, id: str, *, hard: bool = False) -> None:
        """Soft-deletes (restorable), or with hard=True removes it and its history."""
        self._a._call("mn_memory_delete", _b(id), 1 if hard else 0)

    def restore(self, id: str) -> None:
        self._a._call("mn_memory_restore", _b(id))

    def history(self, id: str) -> List[HistoryEntry]:
        """The memory's changes, oldest first."""
        return self._a._take_list("mn_memory_history", S.mn_history,
                                  HistoryEntry, _b(id))


class Identities:
    def __init__(self, actor: Actor):
        self._a = actor

    def create(self, external_id: str, role: Optional[str] = None,
               claims: Optional[JSON] = None) -> Identity:
        """A new identity of the actor's tenant (role default "agent", claims {})."""
        return self._a._take("mn_identity_create", S.mn_identity,
                             Identity, _b(external_id), _b(role),
                             _json(claims))

    def get(self, id_or_external_id: str) -> Identity:
        return self._a._take("mn_identity_get", S.mn_identity,
                             Identity, _b(id_or_external_id))

    def list(self) -> List[Identity]:
        return self._a._take_list("mn_identity_list", S.mn_identities,
                                  Identity)

    def deactivate(self, id_or_external_id: str) -> None:
        self._a._call("mn_identity_deactivate", _b(id_or_external_id))

    def delete(self, id_or_external_id: str) -> None:
        """Erases the identity and every memory it owns."""
        self._a._call("mn_identity_delete", _b(id_or_external_id))


class Policies:
    def __init__(self, actor: Actor):
        self._a = actor

    def add(self, role: str, rule: JSON, *, description: Optional[str] = None,
            priority: int = 0, active: bool = True) -> Policy:
        """A policy for role ("*": every role); rule in the policy rule format
        (libmanushya(3), POLICIES), as a dict or JSON text."""
        inp = S.mn_policy_input(role=_b(role), rule=_json(rule), description=_b(description),
                                priority=priority, inactive=0 if active else 1)
        return self._a._take("mn_policy_add", S.mn_policy, Policy,
                             byref(inp))

    def get(self, id: str) -> Policy:
        return self._a._take("mn_policy_get", S.mn_policy, Policy,
                             _b(id))

    def list(self) -> List[Policy]:
        """The tenant's policies, highest priority first."""
        return self._a._take_list("mn_policy_list", S.mn_policies,
                                  Policy)

    def delete(self, id: str) -> None:
        self._a._call("mn_policy_delete", _b(id))

    def test(self, action: str, resource: str, data: Optional[JSON] = None) -> Decision:
        """Whether the actor may do action on resource (a dry run of the decision)."""
        return self._a._take("mn_policy_test", S.mn_decision,
                             Decision, _b(action), _b(resource),
                             _json(data))


class ApiKeys:
    def __init__(self, actor: Actor):
        self._a = actor

    def create(self, identity: str, *, scopes: Optional[Sequence[str]] = None,
               expires_at: int = 0) -> NewApiKey:
        """A key acting for identity, narrowed to scopes ("memory:read", ...) when given. The
        key itself is in the result this once: the store keeps only a hash of it."""
        inp = S.mn_apikey_input(identity=_b(identity),
                                scopes=None if scopes is None else _json(list(scopes)),
                                expires_at=expires_at)
        key = c_void_p()
        try:
            info = self._a._take("mn_apikey_create", S.mn_apikey,
                                 ApiKey, byref(inp), byref(key))
            return NewApiKey(ctypes.string_at(key).decode("ascii"), info)
        finally:
            self._a.db._lib.mn_free(key)

    def list(self, identity: Optional[str] = None) -> List[ApiKey]:
        """The tenant's keys (or one identity's), oldest first; never a key itself."""
        return self._a._take_list("mn_apikey_list", S.mn_apikeys,
                                  ApiKey, _b(identity))

    def revoke(self, id: str) -> None:
        """Revokes the key with that public id (the 16 hex digits after "mk_")."""
        self._a._call("mn_apikey_revoke", _b(id))


class RateLimits:
    def __init__(self, actor: Actor):
        self._a = actor

    def _decide(self, name: str, endpoint: str, n: int) -> RateLimitResult:
        out = S.mn_ratelimit_result()
        try:
            self._a._call(name, _b(endpoint), n, byref(out))
        except RateLimited:
            pass  # refused: the result says so (allowed False, retry_after_ms)
        return from_struct(RateLimitResult, out)

    def hit(self, endpoint: str, n: int = 1) -> RateLimitResult:
        """Counts n calls to endpoint ("resource:action") when they fit; .allowed says whether
        they did (a refusal is a result, not an exception)."""
        return self._decide("mn_ratelimit_hit", endpoint, n)

    def peek(self, endpoint: str, n: int = 1) -> RateLimitResult:
        """Whether n calls would be admitted now, counting nothing."""
        return self._decide("mn_ratelimit_peek", endpoint, n)

    def reset(self, endpoint: str) -> None:
        self._a._call("mn_ratelimit_reset", _b(endpoint))

    def limits(self) -> List[Limit]:
        """The tenant's limits, built in and its own, by endpoint."""
        return self._a._take_list("mn_limit_list", S.mn_limits, Limit)

    def set_limit(self, endpoint: str, limit: int, window_ms: int) -> None:
        self._a._call("mn_limit_set", _b(endpoint), limit, window_ms)

    def delete_limit(self, endpoint: str) -> None:
        """Back to the built-in limit."""
        self._a._call("mn_limit_delete", _b(endpoint))
