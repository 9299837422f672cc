"""Memories through the package: add, put, add_many, get, list (paged by the cursor), search
(one page and every page), update, delete, restore and history, on each backend."""

import pytest

import manushya

TEXTS = ["The customer prefers green tea over coffee",
         "Order #1042 shipped on Monday",
         "The customer speaks Hindi and English",
         "Refunds take five working days",
         "Call back about order #1042 on Friday"]


def test_add_returns_the_stored_memory_as_a_dataclass(bot):
    m = bot.memories.add("The customer prefers green tea", type="preference",
                         metadata={"topic": "drinks"}, importance=0.8)
    assert isinstance(m, manushya.Memory)
    assert (m.text, m.type, m.metadata, m.importance, m.version) == \
        ("The customer prefers green tea", "preference", {"topic": "drinks"}, 0.8, 1)
    assert m.deleted is False and m.embedding is None and m.external_key is None
    got = bot.memories.get(m.id, with_embedding=True)
    assert got.text == m.text and len(got.embedding) == bot.db.embed_dim


def test_defaults_and_json_text_metadata(bot):
    m = bot.memories.add("plain", metadata='{"a": 1}')
    assert (m.type, m.importance, m.metadata, m.expires_at) == ("fact", 0.5, {"a": 1}, 0)


def test_put_says_what_happened(bot):
    first = bot.memories.put("likes tea", external_key="drink")
    again = bot.memories.put("likes coffee", external_key="drink")
    same = bot.memories.put("likes coffee", external_key="drink")
    assert [first.outcome, again.outcome, same.outcome] == ["created", "updated", "unchanged"]
    assert first.memory.id == again.memory.id == same.memory.id
    assert again.memory.version == 2 and again.memory.text == "likes coffee"


def test_add_many_is_all_or_none_and_names_the_bad_item(bot):
    ids = bot.memories.add_many(TEXTS[:2] + [{"text": TEXTS[2], "type": "fact"}])
    assert len(ids) == 3 and len(set(ids)) == 3
    assert [bot.memories.get(i).text for i in ids] == TEXTS[:3]
    with pytest.raises(manushya.InvalidArgument) as e:
        bot.memories.add_many(["fine", {"text": "bad", "importance": 7.0}, "fine too"])
    assert e.value.failed_index == 1
    assert "importance" in e.value.message
    assert len(list(bot.memories.list())) == 3  # nothing of the failed batch was added
    with pytest.raises(manushya.NotFound) as e:  # not one item's failure: an unknown actor
        bot.db.actor(bot.tenant, "nobody").memories.add_many(["x"])
    assert e.value.failed_index is None


def test_list_pages_with_the_cursor(bot):
    ids = bot.memories.add_many("memory number %d" % i for i in range(7))
    page = bot.memories.list_page(limit=3)
    assert len(page.items) == 3 and page.next_cursor
    page2 = bot.memories.list_page(limit=3, cursor=page.next_cursor)
    assert not {m.id for m in page.items} & {m.id for m in page2.items}
    every = [m.id for m in bot.memories.list(page_size=3)]
    assert sorted(every) == sorted(ids) and len(every) == 7  # newest first, each once
    assert every == list(reversed(ids))


def test_list_filters(bot):
    bot.memories.add("a fact", type="fact", metadata={"topic": "x"})
    bot.memories.add("a task", type="task", metadata={"topic": "y"})
    assert [m.text for m in bot.memories.list(type="task")] == ["a task"]
    assert [m.text for m in bot.memories.list(metadata={"topic": "x"})] == ["a fact"]


def test_search_ranks_and_pages(bot):
    bot.memories.add_many(TEXTS)
    hits = bot.memories.search("what does the customer drink, tea or coffee?", k=2)
    assert hits[0].text == TEXTS[0]
    assert hits[0].similarity > 0 and hits[0].score > 0 and hits[0].vector_rank == 1
    orders = bot.memories.search("order 1042", k=1, mode="keyword")
    assert orders[0].text in (TEXTS[1], TEXTS[4])
    every = list(bot.memories.search_iter("order 1042", k=1, mode="keyword"))
    assert sorted(m.text for m in every) == sorted([TEXTS[1], TEXTS[4]])
    with pytest.raises(manushya.InvalidArgument, match="search mode"):
        bot.memories.search("x", mode="fuzzy")


def test_search_by_vector(bot):
    m = bot.memories.add("vector me")
    vec = bot.memories.get(m.id, with_embedding=True).embedding
    hits = bot.memories.search(vector=vec, k=1)
    assert hits[0].id == m.id and hits[0].similarity == pytest.approx(1.0, abs=1e-5)


def test_update_delete_restore_history(bot):
    m = bot.memories.add("first text", metadata={"v": 1})
    u = bot.memories.update(m.id, text="second text", importance=0.9)
    assert (u.text, u.importance, u.version, u.metadata) == ("second text", 0.9, 2, {"v": 1})
    bot.memories.delete(m.id)
    with pytest.raises(manushya.NotFound):
        bot.memories.get(m.id)
    assert bot.memories.get(m.id, with_deleted=True).deleted is True
    bot.memories.restore(m.id)
    assert bot.memories.get(m.id).deleted is False
    history = bot.memories.history(m.id)
    assert isinstance(history[0], manushya.HistoryEntry)
    assert any(h.before and h.before["text"] == "first text" and h.after["text"] == "second text"
               for h in history)
    bot.memories.delete(m.id, hard=True)
    with pytest.raises(manushya.NotFound):
        bot.memories.get(m.id, with_deleted=True)


def test_update_needs_a_field(bot):
    m = bot.memories.add("x y z")
    with pytest.raises(manushya.InvalidArgument):
        bot.memories.update(m.id)
    assert bot.memories.get(m.id).version == 1
