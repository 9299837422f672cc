#!/usr/bin/env python3
"""quickstart.py -- libmanushya from Python through ctypes, with nothing to compile.

The library is plain C with an FFI-friendly API: opaque handles, int result codes, structs of
pointers and numbers, and an mn_*_free() function for everything it allocates. This program
declares the few structs it uses exactly as include/manushya.h lays them out, then:

  opens a fresh database in a temporary directory, creates a tenant and an agent identity,
  adds memories (one at a time and a batch with mn_memory_add_many), searches them by text and
  with a filter, lists them, and frees every result with its mn_*_free() function.

Usage:
    python3 examples/ffi/quickstart.py [PATH/TO/libmanushya.so]
The library path comes from the first argument, else $MANUSHYA_LIB, else ./build/libmanushya.so
(`make` builds it there). An installed library is found by name: libmanushya.so.1.

    python3 examples/ffi/quickstart.py --layout
prints the size and field offsets of each declared struct, so that a test can compare them with
what a C compiler says (tests/ffi/test_ffi.sh does).

Rules worth knowing when binding from any language:
  - Set restype/argtypes for every function: without them ctypes truncates 64-bit pointers.
  - Strings go in as UTF-8 bytes and are borrowed: the library copies what it keeps.
  - Strings and structs that come back belong to the caller until passed to their free function.
    Reading a c_char_p field copies the text into a Python bytes object; the C memory stays
    valid until the free call, which must happen exactly once.
  - Structs the caller fills start with `unsigned version` (manushya.h, "Structs that grow"):
    the Versioned classes below set it; every other field zero means "default" (importance:
    MN_IMPORTANCE_DEFAULT, which mn_memory_input sets).
  - Lists hand out pointers: items[i] is a POINTER(mn_memory) (read it with .contents).
  - mn_errmsg() is per thread: read it on the thread whose call failed.
"""

import ctypes
import os
import shutil
import sys
import tempfile
from ctypes import (POINTER, Structure, byref, c_char_p, c_double, c_float, c_int, c_int64,
                    c_size_t, c_uint, c_void_p)

MN_OK = 0
MN_EEXISTS = 4
MN_WITH_DELETED, MN_WITH_EXPIRED, MN_WITH_EMBEDDING = 0x1, 0x2, 0x4
MN_IMPORTANCE_DEFAULT = -1.0


# ---- Structs, field for field as in include/manushya.h -------------------------------------
class Versioned(Structure):
    """A struct whose first field is its version (1, unless the class says otherwise)."""
    VERSION = 1
    DEFAULTS = {}

    def __init__(self, **fields):
        super().__init__(version=self.VERSION, **dict(self.DEFAULTS, **fields))


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
                ("embed_status", c_int),   # asynchronous embedding
                ("embed_error", c_char_p),
                ("external_key", c_char_p),  # deduplication and upsert
                ("recency_factor", c_double),  # ranking (search results)
                ("importance_factor", c_double),
                ("score", c_double),
                ("vector_score", c_double),  # why a search hit ranks where it does
                ("vector_rank", c_int),
                ("keyword_score", c_double),
                ("keyword_rank", c_int),
                ("fused_score", c_double)]


class mn_memories(Structure):
    _fields_ = [("count", c_size_t),
                ("items", POINTER(POINTER(mn_memory))),
                ("next_cursor", c_char_p)]


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
                ("external_key", c_char_p),  # version 2: deduplication and upsert
                ("id", c_char_p)]


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
                ("recency_half_life_ms", c_int64),  # version 2: ranking and paging
                ("recency_weight", c_double),
                ("importance_weight", c_double),
                ("cursor", c_char_p),
                ("mode", c_int),            # search modes: 0 = the handle's (hybrid)
                ("vector_weight", c_double),
                ("keyword_weight", c_double),
                ("rrf_k", c_int),
                ("flags", c_uint)]


STRUCTS = [mn_actor, mn_tenant, mn_identity, mn_memory, mn_memories, mn_memory_input,
           mn_filter, mn_list_options, mn_search_options]


def print_layout():
    """One line per struct: name, size, then field:offset pairs (compared with C by the test)."""
    for s in STRUCTS:
        fields = " ".join("%s:%d" % (f[0], getattr(s, f[0]).offset) for f in s._fields_)
        print("%s %d %s" % (s.__name__, ctypes.sizeof(s), fields))


# ---- Loading the library and declaring the functions used ----------------------------------
def load(path):
    lib = ctypes.CDLL(path)
    db_p = c_void_p  # mn_db * is opaque: a plain pointer is all Python needs
    sigs = {
        "mn_version": (c_char_p, []),
        "mn_version_number": (c_int, []),
        "mn_strerror": (c_char_p, [c_int]),
        "mn_open": (c_int, [POINTER(c_void_p), c_char_p, c_void_p]),
        "mn_close": (None, [db_p]),
        "mn_errmsg": (c_char_p, [db_p]),
        "mn_embed_dim": (c_int, [db_p]),
        "mn_tenant_create": (c_int, [db_p, c_char_p, POINTER(POINTER(mn_tenant))]),
        "mn_tenant_get": (c_int, [db_p, c_char_p, POINTER(POINTER(mn_tenant))]),
        "mn_tenant_free": (None, [POINTER(mn_tenant)]),
        "mn_identity_create": (c_int, [db_p, POINTER(mn_actor), c_char_p, c_char_p, c_char_p,
                                       POINTER(POINTER(mn_identity))]),
        "mn_identity_free": (None, [POINTER(mn_identity)]),
        "mn_memory_add": (c_int, [db_p, POINTER(mn_actor), POINTER(mn_memory_input),
                                  POINTER(POINTER(mn_memory))]),
        "mn_memory_add_many": (c_int, [db_p, POINTER(mn_actor), POINTER(mn_memory_input),
                                       c_size_t, POINTER(POINTER(c_char_p)), POINTER(c_size_t)]),
        "mn_memory_list": (c_int, [db_p, POINTER(mn_actor), POINTER(mn_list_options),
                                        POINTER(POINTER(mn_memories))]),
        "mn_memory_search": (c_int, [db_p, POINTER(mn_actor), POINTER(mn_search_options),
                                     POINTER(POINTER(mn_memories))]),
        "mn_memory_free": (None, [POINTER(mn_memory)]),
        "mn_memories_free": (None, [POINTER(mn_memories)]),
        "mn_strings_free": (None, [POINTER(c_char_p), c_size_t]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    return lib


class MnError(Exception):
    pass


def s(b):
    """C string (bytes or None) to str."""
    return None if b is None else b.decode("utf-8", "replace")


def main(argv):
    if len(argv) > 1 and argv[1] == "--layout":
        print_layout()
        return 0
    path = (argv[1] if len(argv) > 1 else
            os.environ.get("MANUSHYA_LIB") or os.path.join("build", "libmanushya.so"))
    try:
        lib = load(path)
    except OSError as e:
        print("quickstart.py: cannot load %s: %s\n"
              "  build it with `make`, or pass the library's path (or set MANUSHYA_LIB)"
              % (path, e), file=sys.stderr)
        return 1

    db = c_void_p()

    def check(rc, what):
        if rc != MN_OK:
            raise MnError("%s failed: %s: %s" % (what, s(lib.mn_strerror(rc)),
                                                 s(lib.mn_errmsg(db))))

    print("libmanushya %s (number %d) loaded from %s"
          % (s(lib.mn_version()), lib.mn_version_number(), path))

    tmpdir = tempfile.mkdtemp(prefix="manushya-ffi-")
    try:
        # 1. Open. NULL config: every default (the offline local embedder, 384 dimensions). On
        # failure the handle is usually still set, for mn_errmsg; close it either way.
        dbpath = os.path.join(tmpdir, "memories.db")
        rc = lib.mn_open(byref(db), ("sqlite:" + dbpath).encode(), None)
        try:
            check(rc, "mn_open")
            print("database %s, %d dimensions" % (dbpath, lib.mn_embed_dim(db)))
            run(lib, db, check)
        finally:
            lib.mn_close(db)
    except MnError as e:
        print("quickstart.py: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    print("ok")
    return 0


def run(lib, db, check):
    # 2. A tenant, and an agent identity created by the tenant's system actor (identity NULL).
    t = POINTER(mn_tenant)()
    check(lib.mn_tenant_create(db, b"acme", byref(t)), "mn_tenant_create")
    print("tenant %s (%s)" % (s(t.contents.name), s(t.contents.id)))
    lib.mn_tenant_free(t)

    system = mn_actor(tenant=b"acme", identity=None)
    ident = POINTER(mn_identity)()
    check(lib.mn_identity_create(db, byref(system), b"support-bot", b"agent",
                                 b'{"team":"support"}', byref(ident)), "mn_identity_create")
    print("identity %s role=%s (%s)" % (s(ident.contents.external_id), s(ident.contents.role),
                                        s(ident.contents.id)))
    lib.mn_identity_free(ident)

    me = mn_actor(tenant=b"acme", identity=b"support-bot")

    # 3. One memory, with the stored row returned.
    inp = mn_memory_input(text=b"The customer prefers green tea over coffee",
                          type=b"preference", metadata=b'{"topic":"drinks"}',
                          importance=0.8)
    m = POINTER(mn_memory)()
    check(lib.mn_memory_add(db, byref(me), byref(inp), byref(m)), "mn_memory_add")
    print("added %s v%d [%s] %s" % (s(m.contents.id), m.contents.version, s(m.contents.type),
                                    s(m.contents.text)))
    lib.mn_memory_free(m)

    # 4. A batch, all or none. The ids come back as a char ** freed with mn_strings_free.
    batch = [
        (b"The customer's order #1042 shipped on Monday", b"event", b'{"topic":"orders"}'),
        (b"The customer speaks Hindi and English", b"fact", b'{"topic":"language"}'),
        (b"Refunds are processed within five working days", b"fact", b'{"topic":"refunds"}'),
        (b"The customer asked for a call back about order #1042 on Friday", b"task",
         b'{"topic":"orders"}'),
    ]
    arr = (mn_memory_input * len(batch))(*(mn_memory_input(text=text, type=typ, metadata=meta)
                                            for text, typ, meta in batch))
    ids = POINTER(c_char_p)()
    failed = c_size_t(0)
    rc = lib.mn_memory_add_many(db, byref(me), arr, len(batch), byref(ids), byref(failed))
    if rc != MN_OK:
        check(rc, "mn_memory_add_many (input %d)" % failed.value)
    print("added %d more: %s" % (len(batch), ", ".join(s(ids[i]) for i in range(len(batch)))))
    lib.mn_strings_free(ids, len(batch))

    # 5. Search by text; hits come best first with similarity set.
    def search(query, k, type_=None, metadata=None):
        f = mn_filter(type=type_, metadata=metadata)
        so = mn_search_options(query=query, k=k, filter=ctypes.pointer(f))
        hits = POINTER(mn_memories)()
        check(lib.mn_memory_search(db, byref(me), byref(so), byref(hits)), "mn_memory_search")
        try:
            lst = hits.contents
            print('search "%s"%s: %d hit(s)' % (s(query),
                                              " metadata %s" % s(metadata) if metadata else "",
                                              lst.count))
            for i in range(lst.count):
                h = lst.items[i].contents
                print("  hit %d similarity %.3f [%s] %s" % (i + 1, h.similarity, s(h.type),
                                                            s(h.text)))
        finally:
            lib.mn_memories_free(hits)

    search(b"what does the customer like to drink? tea or coffee", 3)
    search(b"order 1042", 5, metadata=b'{"topic":"orders"}')

    # 6. List one page, newest first, only facts.
    facts = mn_filter(type=b"fact")
    lo = mn_list_options(limit=10, filter=ctypes.pointer(facts))
    page = POINTER(mn_memories)()
    check(lib.mn_memory_list(db, byref(me), byref(lo), byref(page)), "mn_memory_list")
    try:
        print("list type=fact: %d memories%s" % (page.contents.count,
                                                ", more follow" if page.contents.next_cursor
                                                else ""))
        for i in range(page.contents.count):
            it = page.contents.items[i].contents
            print("  %s importance %.2f %s %s" % (s(it.id), it.importance, s(it.text),
                                                  s(it.metadata)))
    finally:
        lib.mn_memories_free(page)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
