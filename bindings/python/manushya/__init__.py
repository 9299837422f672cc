"""manushya: secure long-term memory for AI agents, from Python.

A pure-Python package over libmanushya through ctypes: nothing to compile but the library.

    import manushya
    with manushya.open("sqlite:memories.db") as db:
        db.tenants.create("acme")
        bot = db.actor("acme", "support-bot")
        ...

The library is found by $MANUSHYA_LIBRARY, else libmanushya.so.1 on the loader's path. Every
MN_E* code is an exception class under manushya.Error (see manushya.errors); results are
dataclasses (see manushya.types). A Database is safe across threads, as the C handle is.
"""

from . import _lib
from .db import CONFIG_KEYS, Actor, Database, open
from .errors import (AlreadyExists, BackendError, Corrupt, Denied, Error, InvalidArgument,
                     MasterKeyError, NotFound, OutOfMemory, OutOfRange, RateLimited,
                     Unsupported)
from .types import (ApiKey, Decision, HistoryEntry, Identity, Limit, Memory, NewApiKey, Page,
                    Policy, PutResult, RateLimitResult, RateLimitStats, Tenant)

__version__ = "1.3.0"
EMBED_DONE, EMBED_PENDING, EMBED_FAILED = 0, 1, 2


def library_version() -> str:
    """The version of the libmanushya loaded, e.g. "1.3.0"."""
    return _lib.lib().mn_version().decode()


__all__ = ["open", "Database", "Actor", "CONFIG_KEYS", "library_version", "Error",
           "InvalidArgument", "NotFound", "AlreadyExists", "Denied", "RateLimited",
           "BackendError", "OutOfMemory", "Unsupported", "Corrupt", "OutOfRange",
           "MasterKeyError", "Tenant", "Identity", "Memory", "Page", "PutResult",
           "HistoryEntry", "Policy", "Decision", "ApiKey", "NewApiKey", "RateLimitResult",
           "Limit", "RateLimitStats", "EMBED_DONE", "EMBED_PENDING", "EMBED_FAILED"]
