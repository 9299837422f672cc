"""Finding and loading libmanushya.so.1, and the C signature of every function the package
calls (without restype/argtypes ctypes would truncate 64-bit pointers).

Where the library comes from: the file $MANUSHYA_LIBRARY names, else libmanushya.so.1 as the
dynamic loader finds it (LD_LIBRARY_PATH, the ld.so cache: an installed library). It must be of
the major version this package binds (1) and at least REQUIRED (the structs declared in
_structs.py are those of 1.3).
"""

import ctypes
import os
import threading
from ctypes import POINTER, c_char_p, c_int, c_int64, c_size_t, c_uint, c_void_p

from . import _structs as S

SONAME = "libmanushya.so.1"
REQUIRED = 10300  # MN_VERSION_NUMBER of 1.3.0

_db = c_void_p  # mn_db * is opaque: a plain pointer is all Python needs
_actor = POINTER(S.mn_actor)
_str = c_char_p


def _res(t):
    """An out-parameter for a result the library allocates: T **."""
    return POINTER(POINTER(t))


SIGNATURES = {
    "mn_version": (c_char_p, []),
    "mn_version_number": (c_int, []),
    "mn_errmsg": (c_char_p, [_db]),
    "mn_errcode": (c_int, [_db]),
    "mn_retry_after_ms": (c_int64, [_db]),
    "mn_free": (None, [c_void_p]),
    "mn_open": (c_int, [POINTER(c_void_p), _str, POINTER(S.mn_config)]),
    "mn_close": (None, [_db]),
    "mn_db_url": (c_char_p, [_db]),
    "mn_embed_dim": (c_int, [_db]),
    "mn_tenant_create": (c_int, [_db, _str, _res(S.mn_tenant)]),
    "mn_tenant_get": (c_int, [_db, _str, _res(S.mn_tenant)]),
    "mn_tenant_list": (c_int, [_db, _res(S.mn_tenants)]),
    "mn_tenant_delete": (c_int, [_db, _str]),
    "mn_tenant_free": (None, [POINTER(S.mn_tenant)]),
    "mn_tenants_free": (None, [POINTER(S.mn_tenants)]),
    "mn_identity_create": (c_int, [_db, _actor, _str, _str, _str, _res(S.mn_identity)]),
    "mn_identity_get": (c_int, [_db, _actor, _str, _res(S.mn_identity)]),
    "mn_identity_list": (c_int, [_db, _actor, _res(S.mn_identities)]),
    "mn_identity_deactivate": (c_int, [_db, _actor, _str]),
    "mn_identity_delete": (c_int, [_db, _actor, _str]),
    "mn_identity_free": (None, [POINTER(S.mn_identity)]),
    "mn_identities_free": (None, [POINTER(S.mn_identities)]),
    "mn_memory_add": (c_int, [_db, _actor, POINTER(S.mn_memory_input), _res(S.mn_memory)]),
    "mn_memory_add_many": (c_int, [_db, _actor, POINTER(S.mn_memory_input), c_size_t,
                                   POINTER(POINTER(c_char_p)), POINTER(c_size_t)]),
    "mn_memory_put": (c_int, [_db, _actor, POINTER(S.mn_memory_input), POINTER(c_int),
                              _res(S.mn_memory)]),
    "mn_memory_get": (c_int, [_db, _actor, _str, c_uint, _res(S.mn_memory)]),
    "mn_memory_list": (c_int, [_db, _actor, POINTER(S.mn_list_options), _res(S.mn_memories)]),
    "mn_memory_search": (c_int, [_db, _actor, POINTER(S.mn_search_options),
                                 _res(S.mn_memories)]),
    "mn_memory_update": (c_int, [_db, _actor, _str, POINTER(S.mn_memory_changes),
                                 _res(S.mn_memory)]),
    "mn_memory_delete": (c_int, [_db, _actor, _str, c_int]),
    "mn_memory_restore": (c_int, [_db, _actor, _str]),
    "mn_memory_history": (c_int, [_db, _actor, _str, _res(S.mn_history)]),
    "mn_memory_free": (None, [POINTER(S.mn_memory)]),
    "mn_memories_free": (None, [POINTER(S.mn_memories)]),
    "mn_history_free": (None, [POINTER(S.mn_history)]),
    "mn_strings_free": (None, [POINTER(c_char_p), c_size_t]),
    "mn_policy_add": (c_int, [_db, _actor, POINTER(S.mn_policy_input), _res(S.mn_policy)]),
    "mn_policy_get": (c_int, [_db, _actor, _str, _res(S.mn_policy)]),
    "mn_policy_list": (c_int, [_db, _actor, _res(S.mn_policies)]),
    "mn_policy_delete": (c_int, [_db, _actor, _str]),
    "mn_policy_test": (c_int, [_db, _actor, _str, _str, _str, _res(S.mn_decision)]),
    "mn_policy_free": (None, [POINTER(S.mn_policy)]),
    "mn_policies_free": (None, [POINTER(S.mn_policies)]),
    "mn_decision_free": (None, [POINTER(S.mn_decision)]),
    "mn_apikey_create": (c_int, [_db, _actor, POINTER(S.mn_apikey_input), POINTER(c_void_p),
                                 _res(S.mn_apikey)]),
    "mn_apikey_list": (c_int, [_db, _actor, _str, _res(S.mn_apikeys)]),
    "mn_apikey_revoke": (c_int, [_db, _actor, _str]),
    "mn_apikey_free": (None, [POINTER(S.mn_apikey)]),
    "mn_apikeys_free": (None, [POINTER(S.mn_apikeys)]),
    "mn_ratelimit_hit": (c_int, [_db, _actor, _str, c_int64, POINTER(S.mn_ratelimit_result)]),
    "mn_ratelimit_peek": (c_int, [_db, _actor, _str, c_int64, POINTER(S.mn_ratelimit_result)]),
    "mn_ratelimit_reset": (c_int, [_db, _actor, _str]),
    "mn_limit_list": (c_int, [_db, _actor, _res(S.mn_limits)]),
    "mn_limit_set": (c_int, [_db, _actor, _str, c_int64, c_int64]),
    "mn_limit_delete": (c_int, [_db, _actor, _str]),
    "mn_limit_free": (None, [POINTER(S.mn_limit)]),
    "mn_limits_free": (None, [POINTER(S.mn_limits)]),
    "mn_ratelimit_stats_get": (c_int, [_db, POINTER(S.mn_ratelimit_stats)]),
    "mn_metrics_write": (c_int, [_db, c_int, POINTER(c_void_p)]),
    "mn_health": (c_int, [_db, c_uint, POINTER(c_void_p), POINTER(c_int)]),
}

_lock = threading.Lock()
_loaded = None


def _load_file():
    path = os.environ.get("MANUSHYA_LIBRARY")
    where = path if path else SONAME + " (the dynamic loader's path)"
    try:
        return ctypes.CDLL(path or SONAME), where
    except OSError as e:
        raise ImportError(
            "manushya: cannot load libmanushya from %s: %s; install libmanushya (make install), "
            "or set MANUSHYA_LIBRARY to the path of libmanushya.so.1" % (where, e)) from None


def check_version(number, where):
    """Raises ImportError unless number (an MN_VERSION_NUMBER) is REQUIRED or a later release
    of the same major version."""
    if number // 10000 != REQUIRED // 10000 or number < REQUIRED:
        raise ImportError(
            "manushya: %s is libmanushya %d.%d.%d; this package needs %d.%d or a later %d.x"
            % (where, number // 10000, number // 100 % 100, number % 100,
               REQUIRED // 10000, REQUIRED // 100 % 100, REQUIRED // 10000))


def lib():
    """The loaded library with its signatures declared; loaded at the first call."""
    global _loaded
    with _lock:
        if _loaded is None:
            so, where = _load_file()
            so.mn_version_number.restype = c_int
            check_version(so.mn_version_number(), where)
            for name, (res, args) in SIGNATURES.items():
                fn = getattr(so, name)
                fn.restype = res
                fn.argtypes = args
            _loaded = so
        return _loaded
