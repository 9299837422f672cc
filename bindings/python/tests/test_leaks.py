"""Every result is freed: 10000 calls that each allocate results (get, list, search) leave the
process's resident memory flat once warmed up. A result never freed costs at least a few
hundred bytes a call (a memory's strings), 10000 of them megabytes."""

import os

import pytest

import manushya


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_rss_stays_flat_over_10000_calls(tmp_path):
    if os.environ.get("MN_SANITIZED"):
        pytest.skip("sanitized build: ASan's allocator keeps freed memory in quarantine")
    with manushya.open(str(tmp_path / "leak.db"), ratelimit=1) as db:  # MN_RATELIMIT_OFF
        db.tenants.create("acme")
        db.actor("acme").identities.create("bot")
        me = db.actor("acme", "bot")
        ids = me.memories.add_many("memory %d about tea and coffee" % i for i in range(20))

        def calls(n):
            for i in range(n):
                me.memories.get(ids[i % 20])
                me.memories.list_page(limit=5)
                me.memories.search("tea", k=5)

        calls(1000)  # warm-up: caches, pools and Python's own arenas
        before = rss_bytes()
        calls(3334)  # 10002 calls
        grown = rss_bytes() - before
    assert grown < 2 * 1024 * 1024, "resident memory grew by %d bytes" % grown
