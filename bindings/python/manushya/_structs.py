"""The C structs the package passes to and reads from libmanushya, field for field as
include/manushya.h lays them out.

Structs the caller fills start with `unsigned version` and are declared at the version this
package binds (the library accepts older versions of them: manushya.h, "Structs that grow"),
so a newer library keeps working with this package. Structs the library fills (mn_memory,
mn_tenant, ...) only grow at the end and are reached through pointers: reading the prefix
declared here is safe whatever the library appends.

`python3 -m manushya._structs --layout` prints each struct's size and field offsets, and
`--layout-c` a C program printing the same from the compiler: the package's tests compile it
against the header and compare the two.
"""

import ctypes
import sys
from ctypes import (POINTER, Structure, c_char_p, c_double, c_float, c_int, c_int64, c_size_t,
                    c_uint, c_uint64, c_void_p)

MN_IMPORTANCE_DEFAULT = -1.0


class Versioned(Structure):
    """A struct whose first field is its version: VERSION, the version bound here."""
    VERSION = 1
    DEFAULTS: dict = {}

    def __init__(self, **fields):
        super().__init__(version=self.VERSION, **dict(self.DEFAULTS, **fields))


class mn_config(Versioned):
    VERSION = 3
    _fields_ = [("version", c_uint),
                ("flags", c_uint),
                ("embedder", c_char_p),
                ("embed_dim", c_int),
                ("max_text_bytes", c_size_t),
                ("busy_timeout_ms", c_int),
                ("pool_size", c_int),
                ("index", c_int),
                ("hnsw_m", c_int),
                ("hnsw_ef_construction", c_int),
                ("hnsw_ef_search", c_int),
                ("embed_url", c_char_p),
                ("embed_model", c_char_p),
                ("embed_timeout_ms", c_int),
                ("embed_cache", c_int),
                ("ratelimit", c_int),
                ("redis_url", c_char_p),
                ("ratelimit_fail_closed", c_int),
                ("ratelimit_refresh_ms", c_int),
                ("ratelimit_max_bytes", c_size_t),
                ("redis_pool_max", c_int),
                ("redis_connect_timeout_ms", c_int),
                ("redis_timeout_ms", c_int),
                ("redis_health_check_s", c_int),
                ("redis_retries", c_int),
                ("log_fn", c_void_p),
                ("log_ctx", c_void_p),
                ("embed_async", c_int),
                ("embed_workers", c_int),
                ("embed_batch", c_int),
                ("embed_max_attempts", c_int),
                ("embed_retry_ms", c_int),
                ("embed_lease_ms", c_int),
                ("embed_poll_ms", c_int),
                ("embed_retries", c_int),
                ("embedder_plugin", c_void_p),
                ("master_key_file", c_char_p),  # version 2
                ("metrics", c_int),
                ("maintenance", c_int),
                ("maintenance_poll_ms", c_int),
                ("audit_retention_days", c_int),
                ("cache", c_int),
                ("cache_max_bytes", c_size_t),
                ("cache_local_ms", c_int),
                ("dedup", c_int),  # version 3
                ("dedup_threshold", c_double),
                ("search_recency_half_life_ms", c_int64),
                ("search_recency_weight", c_double),
                ("search_importance_weight", c_double),
                ("search_min_relevance", c_double),
                ("search_mode", c_int)]


class mn_actor(Versioned):
    VERSION = 2
    _fields_ = [("version", c_uint),
                ("tenant", c_char_p),
                ("identity", c_char_p),
                ("context", c_char_p),
                ("api_key", c_char_p)]


class mn_tenant(Structure):
    _fields_ = [("id", c_char_p),
                ("name", c_char_p),
                ("created_at", c_int64)]


class mn_identity(Structure):
    _fields_ = [("id", c_char_p),
                ("tenant_id", c_char_p),
                ("external_id", c_char_p),
                ("role", c_char_p),
                ("claims", c_char_p),
                ("active", c_int),
                ("created_at", c_int64),
                ("updated_at", c_int64)]


class mn_memory(Structure):
    _fields_ = [("id", c_char_p),
                ("tenant_id", c_char_p),
                ("identity_id", c_char_p),
                ("text", c_char_p),
                ("type", c_char_p),
                ("metadata", c_char_p),
                ("importance", c_double),
                ("version", c_int64),
                ("created_at", c_int64),
                ("updated_at", c_int64),
                ("expires_at", c_int64),
                ("deleted", c_int),
                ("seq", c_int64),
                ("similarity", c_double),
                ("embedding", POINTER(c_float)),
                ("dim", c_int),
                ("embed_status", c_int),
                ("embed_error", c_char_p),
                ("external_key", c_char_p),
                ("recency_factor", c_double),
                ("importance_factor", c_double),
                ("score", c_double),
                ("vector_score", c_double),
                ("vector_rank", c_int),
                ("keyword_score", c_double),
                ("keyword_rank", c_int),
                ("fused_score", c_double)]


class mn_memory_input(Versioned):
    VERSION = 2
    DEFAULTS = {"importance": MN_IMPORTANCE_DEFAULT}
    _fields_ = [("version", c_uint),
                ("identity", c_char_p),
                ("text", c_char_p),
                ("type", c_char_p),
                ("metadata", c_char_p),
                ("importance", c_double),
                ("ttl_days", c_int),
                ("embedding", POINTER(c_float)),
                ("dim", c_int),
                ("external_key", c_char_p),  # version 2
                ("id", c_char_p)]


class mn_memory_changes(Versioned):
    _fields_ = [("version", c_uint),
                ("set", c_uint),
                ("text", c_char_p),
                ("type", c_char_p),
                ("metadata", c_char_p),
                ("importance", c_double),
                ("embedding", POINTER(c_float)),
                ("dim", c_int)]


class mn_filter(Versioned):
    _fields_ = [("version", c_uint),
                ("identity", c_char_p),
                ("type", c_char_p),
                ("metadata", c_char_p),
                ("flags", c_uint)]


class mn_list_options(Versioned):
    _fields_ = [("version", c_uint),
                ("filter", POINTER(mn_filter)),
                ("limit", c_int),
                ("cursor", c_char_p)]


class mn_search_options(Versioned):
    VERSION = 2
    _fields_ = [("version", c_uint),
                ("query", c_char_p),
                ("vector", POINTER(c_float)),
                ("dim", c_int),
                ("k", c_int),
                ("min_similarity", c_double),
                ("filter", POINTER(mn_filter)),
                ("ef", c_int),
                ("recency_half_life_ms", c_int64),  # version 2
                ("recency_weight", c_double),
                ("importance_weight", c_double),
                ("cursor", c_char_p),
                ("mode", c_int),
                ("vector_weight", c_double),
                ("keyword_weight", c_double),
                ("rrf_k", c_int),
                ("flags", c_uint)]


class mn_history_entry(Structure):
    _fields_ = [("version", c_int64),
                ("changed_at", c_int64),
                ("changed_by", c_char_p),
                ("before", c_char_p),
                ("after", c_char_p)]


class mn_policy(Structure):
    _fields_ = [("id", c_char_p),
                ("tenant_id", c_char_p),
                ("role", c_char_p),
                ("rule", c_char_p),
                ("priority", c_int),
                ("active", c_int),
                ("description", c_char_p),
                ("created_at", c_int64),
                ("updated_at", c_int64)]


class mn_policy_input(Versioned):
    _fields_ = [("version", c_uint),
                ("role", c_char_p),
                ("rule", c_char_p),
                ("description", c_char_p),
                ("priority", c_int),
                ("inactive", c_int)]


class mn_decision(Structure):
    _fields_ = [("allowed", c_int),
                ("policy_id", c_char_p),
                ("reason", c_char_p)]


class mn_apikey(Structure):
    _fields_ = [("id", c_char_p),
                ("tenant_id", c_char_p),
                ("identity_id", c_char_p),
                ("scopes", c_char_p),
                ("created_at", c_int64),
                ("expires_at", c_int64),
                ("last_used_at", c_int64)]


class mn_apikey_input(Versioned):
    _fields_ = [("version", c_uint),
                ("identity", c_char_p),
                ("scopes", c_char_p),
                ("expires_at", c_int64)]


class mn_ratelimit_result(Versioned):
    _fields_ = [("version", c_uint),
                ("allowed", c_int),
                ("checked", c_int),
                ("limit", c_int64),
                ("remaining", c_int64),
                ("window_ms", c_int64),
                ("reset_at", c_int64),
                ("retry_after_ms", c_int64)]


class mn_limit(Structure):
    _fields_ = [("endpoint", c_char_p),
                ("limit", c_int64),
                ("window_ms", c_int64),
                ("overridden", c_int)]


class mn_ratelimit_stats(Versioned):
    _fields_ = [("version", c_uint),
                ("allowed", c_uint64),
                ("denied", c_uint64),
                ("fail_open", c_uint64),
                ("fail_closed", c_uint64)]


def list_of(item, name, cursor=False):
    """A result list: { size_t count; ITEM **items; [char *next_cursor;] }."""
    fields = [("count", c_size_t), ("items", POINTER(POINTER(item)))]
    if cursor:
        fields.append(("next_cursor", c_char_p))
    return type(name, (Structure,), {"_fields_": fields})


mn_tenants = list_of(mn_tenant, "mn_tenants")
mn_identities = list_of(mn_identity, "mn_identities")
mn_memories = list_of(mn_memory, "mn_memories", cursor=True)
mn_history = list_of(mn_history_entry, "mn_history")
mn_policies = list_of(mn_policy, "mn_policies")
mn_apikeys = list_of(mn_apikey, "mn_apikeys")
mn_limits = list_of(mn_limit, "mn_limits")

STRUCTS = [mn_config, mn_actor, mn_tenant, mn_tenants, mn_identity, mn_identities, mn_memory,
           mn_memories, mn_memory_input, mn_memory_changes, mn_filter, mn_list_options,
           mn_search_options, mn_history_entry, mn_history, mn_policy, mn_policies,
           mn_policy_input, mn_decision, mn_apikey, mn_apikeys, mn_apikey_input,
           mn_ratelimit_result, mn_limit, mn_limits, mn_ratelimit_stats]


def layout():
    """One line per struct: name, size, then field:offset pairs, as ctypes lays them out."""
    return ["%s %d %s" % (s.__name__, ctypes.sizeof(s),
                          " ".join("%s:%d" % (f[0], getattr(s, f[0]).offset)
                                   for f in s._fields_))
            for s in STRUCTS]


def layout_c():
    """A C program printing layout()'s lines as the compiler lays the header's structs out."""
    lines = ["#include <manushya.h>", "#include <stddef.h>", "#include <stdio.h>",
             "int main(void)", "{"]
    for s in STRUCTS:
        name = s.__name__
        fmt = "%s %%zu" % name + "".join(" %s:%%zu" % f[0] for f in s._fields_) + "\\n"
        args = ["sizeof(%s)" % name] + ["offsetof(%s, %s)" % (name, f[0]) for f in s._fields_]
        lines.append('    printf("%s", %s);' % (fmt, ", ".join(args)))
    lines += ["    return 0;", "}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] == ["--layout"]:
        print("\n".join(layout()))
    elif sys.argv[1:] == ["--layout-c"]:
        sys.stdout.write(layout_c())
    else:
        sys.exit("usage: python3 -m manushya._structs --layout | --layout-c")
