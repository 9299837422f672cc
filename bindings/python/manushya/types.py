"""The results of libmanushya calls as dataclasses: plain Python values copied out of the C
structs (which the package frees at once). Times are milliseconds since the Unix epoch, UTC;
JSON fields (metadata, claims, rules, history states) are parsed into dicts and lists."""

import ctypes
import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    created_at: int


@dataclass(frozen=True)
class Identity:
    id: str
    tenant_id: str
    external_id: str
    role: str
    claims: Dict[str, Any]
    active: bool
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Memory:
    id: str
    tenant_id: str
    identity_id: str
    text: str
    type: str
    metadata: Dict[str, Any]
    importance: float
    version: int
    created_at: int
    updated_at: int
    expires_at: int               # 0: never
    deleted: bool
    seq: int
    embed_status: int             # EMBED_DONE, EMBED_PENDING or EMBED_FAILED
    embed_error: Optional[str]
    external_key: Optional[str]
    embedding: Optional[List[float]] = None  # only when asked for (with_embedding=True)
    # search results only: why a hit ranks where it does (manushya.h, "Ranking")
    similarity: float = 0.0
    score: float = 0.0
    recency_factor: float = 0.0
    importance_factor: float = 0.0
    vector_score: float = 0.0
    vector_rank: int = 0
    keyword_score: float = 0.0
    keyword_rank: int = 0
    fused_score: float = 0.0


@dataclass(frozen=True)
class Page:
    """One page of a list or search: pass next_cursor back (as cursor=) for the next one;
    None at the end."""
    items: List[Memory]
    next_cursor: Optional[str]


@dataclass(frozen=True)
class PutResult:
    outcome: str                  # "created", "updated" or "unchanged"
    memory: Memory


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    changed_at: int
    changed_by: Optional[str]     # identity id, None for the system actor
    before: Optional[Dict[str, Any]]
    after: Optional[Dict[str, Any]]


@dataclass(frozen=True)
class Policy:
    id: str
    tenant_id: str
    role: str
    rule: Dict[str, Any]
    priority: int
    active: bool
    description: str
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    policy_id: Optional[str]
    reason: str


@dataclass(frozen=True)
class ApiKey:
    id: str
    tenant_id: str
    identity_id: str
    scopes: Optional[List[str]]
    created_at: int
    expires_at: int               # 0: never
    last_used_at: int             # 0: never


@dataclass(frozen=True)
class NewApiKey:
    key: str                      # "mk_<id>_<secret>": shown this once, never stored
    info: ApiKey


@dataclass(frozen=True)
class RateLimitResult:
    allowed: bool
    checked: bool                 # False: the counters were unreachable (fail-open/closed)
    limit: int
    remaining: int
    window_ms: int
    reset_at: int
    retry_after_ms: int


@dataclass(frozen=True)
class Limit:
    endpoint: str
    limit: int
    window_ms: int
    overridden: bool


@dataclass(frozen=True)
class RateLimitStats:
    allowed: int
    denied: int
    fail_open: int
    fail_closed: int


_JSON_FIELDS = {"claims", "metadata", "rule", "before", "after", "scopes"}
_PLAIN, _TEXT, _JSON, _BOOL = range(4)
_plans: Dict[Any, List[Any]] = {}


def _plan(cls, ctype):
    """How each field of cls that ctype holds is read: (name, _PLAIN/_TEXT/_JSON/_BOOL)."""
    held = {f[0]: f[1] for f in ctype._fields_}
    plan = []
    for f in dataclasses.fields(cls):
        if f.name not in held:
            continue
        if held[f.name] is ctypes.c_char_p:
            kind = _JSON if f.name in _JSON_FIELDS else _TEXT
        else:
            kind = _BOOL if f.type is bool else _PLAIN
        plan.append((f.name, kind))
    return plan


def from_struct(cls, s, **extra):
    """cls filled from the C struct s field by field: C strings decoded, JSON parsed, ints
    that say yes/no made bools; extra gives fields the struct does not hold, or holds in a form
    of its own (a vector), as they are. The plan of each (cls, struct) pair is made once."""
    plan = _plans.get((cls, type(s)))
    if plan is None:
        plan = _plans[(cls, type(s))] = _plan(cls, type(s))
    values = extra
    for name, kind in plan:
        if name in values:
            continue
        v = getattr(s, name)
        if kind == _TEXT and v is not None:
            v = v.decode("utf-8", "replace")
        elif kind == _JSON and v is not None:
            v = json.loads(v)
        elif kind == _BOOL:
            v = bool(v)
        values[name] = v
    return cls(**values)


__all__ = ["Tenant", "Identity", "Memory", "Page", "PutResult", "HistoryEntry", "Policy",
           "Decision", "ApiKey", "NewApiKey", "RateLimitResult", "Limit", "RateLimitStats"]
