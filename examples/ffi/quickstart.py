#!/usr/bin/env python3
"""quickstart.py -- libmanushya from Python, with nothing to compile.

Uses the Python package in bindings/python (ctypes over the shared library: it declares the
header's structs once, in bindings/python/manushya/_structs.py, checked against the C compiler
by tests/python/test_python.sh). This program:

  opens a fresh database in a temporary directory, creates a tenant and an agent identity,
  adds memories (one at a time and a batch), searches them by text and with a filter, and lists
  them. Every result comes back as a dataclass; the package frees the C results itself.

Usage:
    python3 examples/ffi/quickstart.py [PATH/TO/libmanushya.so.1]
The library path comes from the first argument, else $MANUSHYA_LIBRARY, else
./build/libmanushya.so.1 when `make` built it there, else libmanushya.so.1 on the loader's path
(an installed library). The package is imported as installed (pip install ./bindings/python),
else from this source tree.
"""

import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.join(HERE, "..", "..")


def find_library(argv):
    if len(argv) > 1:
        return argv[1]
    if os.environ.get("MANUSHYA_LIBRARY"):
        return os.environ["MANUSHYA_LIBRARY"]
    built = os.path.join("build", "libmanushya.so.1")
    return built if os.path.exists(built) else None


def main(argv):
    library = find_library(argv)
    if library:
        os.environ["MANUSHYA_LIBRARY"] = library  # read when the package first loads it
    try:
        import manushya
    except ImportError:
        sys.path.insert(0, os.path.join(TOP, "bindings", "python"))
        import manushya
    try:
        print("libmanushya %s loaded from %s"
              % (manushya.library_version(), library or "the loader's path"))
    except ImportError as e:
        print("quickstart.py: %s\n  build it with `make`, or pass the library's path" % e,
              file=sys.stderr)
        return 1

    tmpdir = tempfile.mkdtemp(prefix="manushya-ffi-")
    try:
        # Defaults: the offline local embedder, 384 dimensions.
        with manushya.open("sqlite:" + os.path.join(tmpdir, "memories.db")) as db:
            print("database %s, %d dimensions" % (db.url, db.embed_dim))
            run(db)
    except manushya.Error as e:
        print("quickstart.py: %s" % e, file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    print("ok")
    return 0


def run(db):
    # 1. A tenant, and an agent identity created by the tenant's system actor (no identity).
    t = db.tenants.create("acme")
    print("tenant %s (%s)" % (t.name, t.id))
    ident = db.actor("acme").identities.create("support-bot", "agent", {"team": "support"})
    print("identity %s role=%s (%s)" % (ident.external_id, ident.role, ident.id))

    me = db.actor("acme", "support-bot")

    # 2. One memory, with the stored row returned.
    m = me.memories.add("The customer prefers green tea over coffee", type="preference",
                        metadata={"topic": "drinks"}, importance=0.8)
    print("added %s v%d [%s] %s" % (m.id, m.version, m.type, m.text))

    # 3. A batch, all or none; the ids come back in order.
    ids = me.memories.add_many([
        {"text": "The customer's order #1042 shipped on Monday", "type": "event",
         "metadata": {"topic": "orders"}},
        {"text": "The customer speaks Hindi and English", "type": "fact",
         "metadata": {"topic": "language"}},
        {"text": "Refunds are processed within five working days", "type": "fact",
         "metadata": {"topic": "refunds"}},
        {"text": "The customer asked for a call back about order #1042 on Friday",
         "type": "task", "metadata": {"topic": "orders"}},
    ])
    print("added %d more: %s" % (len(ids), ", ".join(ids)))

    # 4. Search by text; hits come best first with their similarity.
    for query, k, metadata in [("what does the customer like to drink? tea or coffee", 3, None),
                               ("order 1042", 5, {"topic": "orders"})]:
        hits = me.memories.search(query, k=k, metadata=metadata)
        shown = " metadata " + json.dumps(metadata, separators=(",", ":")) if metadata else ""
        print('search "%s"%s: %d hit(s)' % (query, shown, len(hits)))
        for i, h in enumerate(hits):
            print("  hit %d similarity %.3f [%s] %s" % (i + 1, h.similarity, h.type, h.text))

    # 5. List one page, newest first, only facts.
    page = me.memories.list_page(limit=10, type="fact")
    print("list type=fact: %d memories%s" % (len(page.items),
                                            ", more follow" if page.next_cursor else ""))
    for it in page.items:
        print("  %s importance %.2f %s %s" % (it.id, it.importance, it.text, it.metadata))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
