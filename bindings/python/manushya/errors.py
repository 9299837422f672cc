"""One exception class per MN_E* code of libmanushya, all under manushya.Error.

Each carries .code (the MN_E* number) and .message (what mn_errmsg said: what was wrong and what
to do). A failed call changed nothing, as the library promises.
"""

from typing import Dict, Optional, Type


class Error(Exception):
    """A libmanushya call failed. MN_ERROR itself (rare) is raised as this class."""
    code = 1

    def __init__(self, message: str, code: Optional[int] = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidArgument(Error, ValueError):
    """MN_EINVAL: bad argument or input; nothing was changed."""
    code = 2


class NotFound(Error, LookupError):
    """MN_ENOTFOUND: no such tenant, identity, memory, ..."""
    code = 3


class AlreadyExists(Error):
    """MN_EEXISTS: a unique name is already taken."""
    code = 4


class Denied(Error):
    """MN_EDENIED: the policies refused the actor (the message names the deciding policy)."""
    code = 5


class RateLimited(Error):
    """MN_ELIMITED: rate limited; retry_after_ms says when the call would fit (-1: never)."""
    code = 6
    retry_after_ms = 0


class BackendError(Error):
    """MN_EBACKEND: the store or a server failed (I/O, busy past timeout, network)."""
    code = 7


class OutOfMemory(Error, MemoryError):
    """MN_ENOMEM."""
    code = 8


class Unsupported(Error):
    """MN_EUNSUPPORTED: not supported by this build, backend or URL."""
    code = 9


class Corrupt(Error):
    """MN_ECORRUPT: the database or a file is not ours, damaged or from a newer version."""
    code = 10


class OutOfRange(Error):
    """MN_ERANGE: a computation ran past its limits (JSON Logic)."""
    code = 11


class MasterKeyError(Error):
    """MN_EKEY: the database is encrypted and its master key is missing, unreadable or wrong."""
    code = 12


BY_CODE: Dict[int, Type[Error]] = {c.code: c for c in (
    Error, InvalidArgument, NotFound, AlreadyExists, Denied, RateLimited, BackendError,
    OutOfMemory, Unsupported, Corrupt, OutOfRange, MasterKeyError)}


def error_for(code: int, message: str) -> Error:
    """The exception for an MN_E* code; an unknown (newer) code is a plain Error."""
    return BY_CODE.get(code, Error)(message, code)
