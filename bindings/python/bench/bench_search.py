#!/usr/bin/env python3
"""bench_search.py -- what the Python package adds to one search call, measured in one run:

  1. C:       mn_memory_search from a C program (bindings/bench/search_call.c), the same database and queries;
  2. ctypes:  the same C call through ctypes from Python, its result freed unread;
  3. package: actor.memories.search(query, k=k), the result converted to dataclasses; and
     within each such call, its time less that of the C call it makes (paired: the package's
     own work, ctypes' included, free of the load a shared machine adds to the search itself).

On a fresh SQLite database of N generated memories (local embedder, the default search mode),
one call at a time, queries in turn, the three ways alternating in rounds; prints the
parameters and p50/p99 of each in microseconds.
Run by `make bench-python`; asserts nothing.

    python3 bench_search.py --c-program PATH [--memories N] [--calls N] [--rounds N] [--k K]
The library: $MANUSHYA_LIBRARY, else libmanushya.so.1 on the loader's path.
"""

import argparse
import ctypes
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import manushya  # noqa: E402  (this source tree's package, first)
from manushya import _structs  # noqa: E402

# Made-up words of two syllables (2000 of them): each memory holds 8, so a word is in about 40
# of 10000 memories, as names and topics are; a query holds 3.
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
WORDS = sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in "nrs"})[:2000]


def percentiles(samples):
    s = sorted(samples)
    return s[len(s) // 2], s[len(s) * 99 // 100]


class TimedLibrary:
    """The loaded library, with the time of each mn_memory_search call recorded: wraps the
    package's handle on the library so that a package call's own C call is timed inside it."""

    def __init__(self, lib):
        self._lib, self.last_us = lib, 0.0

    def __getattr__(self, name):
        return getattr(self._lib, name)

    def mn_memory_search(self, *args):
        t0 = time.perf_counter_ns()
        rc = self._lib.mn_memory_search(*args)
        self.last_us = (time.perf_counter_ns() - t0) / 1000.0
        return rc


def timed(fn, queries, calls, inner=None):
    """Latencies of fn(query) over calls calls after a tenth more to warm up; with inner, also
    each call's latency less the inner C call's (inner.last_us)."""
    us, less_inner = [], []
    for i in range(-(calls // 10), calls):
        q = queries[(i + calls) % len(queries)]
        t0 = time.perf_counter_ns()
        fn(q)
        t = (time.perf_counter_ns() - t0) / 1000.0
        if i >= 0:
            us.append(t)
            if inner:
                less_inner.append(t - inner.last_us)
    return us, less_inner


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--c-program", required=True, help="search_call built from search_call.c")
    ap.add_argument("--memories", type=int, default=10000)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--k", type=int, default=10)
    a = ap.parse_args()

    rnd = random.Random(42)
    texts = [" ".join(rnd.choice(WORDS) for _ in range(8)) for _ in range(a.memories)]
    queries = [" ".join(rnd.choice(WORDS) for _ in range(3)) for _ in range(100)]
    per_round = max(1, a.calls // a.rounds)
    tmp = tempfile.mkdtemp(prefix="manushya-bench-python-")
    try:
        url = "sqlite:" + os.path.join(tmp, "bench.db")
        # Rate limits off: an identity may add 1000 memories and search 2000 times an hour.
        with manushya.open(url, ratelimit=1) as db:
            db.tenants.create("bench")
            db.actor("bench").identities.create("bench-agent")
            me = db.actor("bench", "bench-agent")
            for i in range(0, len(texts), 1000):
                me.memories.add_many(texts[i:i + 1000])
        print("bench-python: %d memories of 8 words among %d (SQLite file, local embedder, "
              "default search mode), k=%d, %d queries of 3 words in turn; %d rounds of %d "
              "calls of each way (C, ctypes, package) after a tenth more to warm up"
              % (a.memories, len(WORDS), a.k, len(queries), a.rounds, per_round))
        print("library %s, Python %s, load average %.1f on %d CPUs"
              % (manushya.library_version(), sys.version.split()[0], os.getloadavg()[0],
                 os.cpu_count()))

        c_us, raw_us, pkg_us, pkg_less_c = [], [], [], []
        with manushya.open(url, ratelimit=1) as db:
            me = db.actor("bench", "bench-agent")
            me.memories.search(queries[0], k=a.k)  # the index loaded before timing
            timing = TimedLibrary(db._lib)
            db._lib = timing
            raw = ctypes.POINTER(_structs.mn_memories)()
            opts = _structs.mn_search_options(k=a.k)

            def raw_search(q):
                opts.query = q.encode()
                rc = timing._lib.mn_memory_search(db._h(), ctypes.byref(me._c),
                                                  ctypes.byref(opts), ctypes.byref(raw))
                timing._lib.mn_memories_free(raw)
                assert rc == 0

            # Rounds alternate the three ways, so that a shared machine's load falls on each.
            for _ in range(a.rounds):
                out = subprocess.run([a.c_program, url, "bench", "bench-agent", str(a.k),
                                      str(per_round)] + queries,
                                     check=True, capture_output=True, text=True).stdout
                c_us += [float(x) for x in out.split()]
                raw_us += timed(raw_search, queries, per_round)[0]
                us, less = timed(lambda q: me.memories.search(q, k=a.k), queries, per_round,
                                 timing)
                pkg_us += us
                pkg_less_c += less
        for name, us in (("C        mn_memory_search", c_us),
                         ("ctypes   mn_memory_search", raw_us),
                         ("package  actor.memories.search", pkg_us),
                         ("package  less its own C call", pkg_less_c)):
            p50, p99 = percentiles(us)
            print("%-34s p50 %8.1f us   p99 %8.1f us" % (name, p50, p99))
        (c50, _), (p50, _) = percentiles(c_us), percentiles(pkg_us)
        print("package overhead per search call: p50 %.1f us (paired, within each call), "
              "%.1f%% of the C call's p50 %.1f us"
              % (percentiles(pkg_less_c)[0], 100.0 * percentiles(pkg_less_c)[0] / c50, c50))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
