"""One Database from many threads at once, as the C handle allows: every thread's adds are
there afterwards, and each thread's failures carry that thread's message."""

import threading

import manushya


def test_threads_share_a_database(db, bot):
    errors = []

    def work(n):
        try:
            for i in range(20):
                bot.memories.add("thread %d memory %d" % (n, i))
                bot.memories.search("thread %d" % n, k=3)
                try:
                    bot.memories.get("not-a-uuid-%d" % n)
                except manushya.Error as e:
                    assert "not-a-uuid-%d" % n in e.message or e.code in (2, 3)
        except Exception as e:  # reported below: an assertion in a thread is otherwise lost
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list(bot.memories.list(page_size=100))) == 80
