/*
 * test_cxx.cc — include/manushya.hpp, the C++ interface, against the built shared library and
 * a real SQLite file, and again on PostgreSQL when MN_PG_URL names the test server (a schema
 * of its own per database, vectors searched by the library's index): RAII and moves (the sanitizer build's leak checker sees every result
 * freed), both error forms (exceptions and result<T>), the paging ranges, the builders'
 * JSON (escaping checked by what the library reads back) and each group of calls.
 */
#include <manushya.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <unistd.h>

/* Last: Check defines a macro fail, a name the standard headers use. */
#include <check.h>

namespace mn = manushya;

static std::filesystem::path tmpdir;

static void make_tmpdir()
{
    std::string t = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                    "/mn-cxx.XXXXXX";
    if (!mkdtemp(t.data())) {
        std::perror("test_cxx: mkdtemp");
        std::exit(EXIT_FAILURE);
    }
    tmpdir = t;
}

static void remove_tmpdir() { std::filesystem::remove_all(tmpdir); }

/* The backend of the running case: set by its fixture. */
static bool on_postgres;
static void use_sqlite() { on_postgres = false; }
static void use_postgres() { on_postgres = true; }

/* A fresh database with tenant "acme" and identities "ana" and "ben" (agents). */
static mn::db fresh_db(const char *name)
{
    std::string url = (tmpdir / name).string();
    if (on_postgres) {
        std::string schema = std::string("cxx_") + name + "_" + std::to_string(getpid());
        std::replace(schema.begin(), schema.end(), '.', '_');
        url = std::string(std::getenv("MN_PG_URL")) + "?schema=" + schema + "&vector=local";
    }
    mn::db d(url);
    d.tenant_create("acme");
    d.identity_create(mn::actor::system("acme"), "ana");
    d.identity_create(mn::actor::system("acme"), "ben");
    return d;
}

START_TEST(raii_and_moves)
{
    static_assert(!std::is_copy_constructible_v<mn::db>, "db is not copyable");
    static_assert(std::is_nothrow_move_constructible_v<mn::db>, "db moves");
    static_assert(!std::is_copy_constructible_v<mn::memory>, "results are not copyable");
    static_assert(!std::is_copy_constructible_v<mn::memories>, "lists are not copyable");

    mn::db a = fresh_db("moves.db");
    mn_db *h = a.handle();
    mn::db b(std::move(a));
    ck_assert_ptr_eq(b.handle(), h);
    ck_assert_ptr_null(a.handle()); /* NOLINT: the moved-from handle is empty */

    mn::memory m = b.add(mn::actor::of("acme", "ana"), mn::memory_input("tea over coffee"));
    const mn_memory *raw = &m.raw();
    mn::memory moved = std::move(m);
    ck_assert_ptr_eq(&moved.raw(), raw);
    ck_assert(moved.text() == "tea over coffee");

    /* Move-assigning over a live handle closes the old one (the leak checker would see it). */
    mn::db c = fresh_db("moves2.db");
    c = std::move(b);
    ck_assert_ptr_eq(c.handle(), h);
    ck_assert(c.get(mn::actor::of("acme", "ana"), moved.id()).text() == "tea over coffee");
}
END_TEST

START_TEST(exceptions_carry_code_and_message)
{
    mn::db d = fresh_db("exc.db");
    mn::actor ana = mn::actor::of("acme", "ana");
    try {
        (void)d.get(ana, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
        ck_abort_msg("get of an unknown id did not throw");
    } catch (const mn::error &e) {
        ck_assert_int_eq(static_cast<int>(e.code()), MN_ENOTFOUND);
        ck_assert(!e.message().empty());
        ck_assert(std::string(e.what()).find(e.message()) != std::string::npos);
    }
    /* A std::runtime_error to whoever catches those. */
    try {
        d.tenant_create("acme");
        ck_abort_msg("a second tenant acme did not throw");
    } catch (const std::runtime_error &e) {
        ck_assert(std::string(e.what()).find("acme") != std::string::npos);
    }
    /* Opening what is not a database: the constructor throws. */
    std::filesystem::create_directories(tmpdir / "dir.db");
    try {
        mn::db bad((tmpdir / "nodir" / "x.db").string());
        ck_abort_msg("opening a file in a missing directory did not throw");
    } catch (const mn::error &e) {
        ck_assert_int_ne(static_cast<int>(e.code()), MN_OK);
    }
}
END_TEST

START_TEST(results_without_exceptions)
{
    mn::db d = fresh_db("result.db");
    mn::actor ana = mn::actor::of("acme", "ana");

    mn::result<mn::memory> added = d.try_add(ana, mn::memory_input("green tea"));
    ck_assert(added.ok());
    ck_assert(static_cast<bool>(added));
    ck_assert_int_eq(static_cast<int>(added.code()), MN_OK);
    ck_assert(added.message().empty());
    ck_assert(added->text() == "green tea");

    mn::result<mn::memory> missing = d.try_get(ana, "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    ck_assert(!missing.ok());
    ck_assert(missing.code() == mn::errc::not_found);
    ck_assert_str_eq(missing.message().c_str(), mn_errmsg(d.handle()));
    bool threw = false;
    try {
        (void)missing.value();
    } catch (const mn::error &e) {
        threw = e.code() == mn::errc::not_found;
    }
    ck_assert(threw);

    /* result<void>. */
    mn::result<void> gone = d.try_remove(ana, added->id());
    ck_assert(gone.ok());
    mn::result<void> again = d.try_restore(ana, "not-an-id");
    ck_assert(!again.ok());
    ck_assert(again.code() == mn::errc::invalid || again.code() == mn::errc::not_found);

    /* A NUL inside a string is refused before the C API could cut the text there: nothing
     * is added, and the message names the argument. */
    mn::memories before = d.list(ana);
    std::string with_nul("tea\0coffee", 10);
    mn::result<mn::memory> cut = d.try_add(ana, mn::memory_input(with_nul));
    ck_assert(cut.code() == mn::errc::invalid);
    ck_assert(cut.message().find("text") != std::string::npos);
    ck_assert(cut.message().find("NUL") != std::string::npos);
    std::string id_nul = std::string(added->id()) + std::string("\0x", 2);
    ck_assert(d.try_get(ana, id_nul).code() == mn::errc::invalid);
    ck_assert_uint_eq(d.list(ana).size(), before.size());

    /* Rate limited by a limit the tenant sets (the library's built-in ones leave a host's
     * own calls alone, so the adds before it were not counted): the wait comes with the
     * failure. */
    d.limit_set(mn::actor::system("acme"), "memory:create", 1, 3600000);
    ck_assert(d.try_add(ana, mn::memory_input("first under the limit")).ok());
    mn::result<mn::memory> limited = d.try_add(ana, mn::memory_input("second under the limit"));
    ck_assert(limited.code() == mn::errc::limited);
    ck_assert_int_gt(limited.retry_after_ms(), 0);
}
END_TEST

START_TEST(paging_ranges)
{
    mn::db d = fresh_db("pages.db");
    mn::actor ana = mn::actor::of("acme", "ana"), ben = mn::actor::of("acme", "ben");
    std::vector<mn::memory_input> in;
    for (int i = 0; i < 7; i++)
        in.push_back(mn::memory_input("ana's tea note number " + std::to_string(i)));
    std::vector<std::string> ids = d.add_many(ana, in);
    ck_assert_uint_eq(ids.size(), 7);
    d.add(ben, mn::memory_input("ben's tea note"));

    /* Pages of 3 of ana's: 3 + 3 + 1, newest first, every id once. */
    mn::memory_range all = d.each(ana, mn::list_options().limit(3).where(mn::filter().identity("ana")));
    std::vector<std::string> seen;
    for (mn::memory_view m : all)
        seen.emplace_back(m.id());
    ck_assert(all.ok());
    ck_assert_uint_eq(all.pages(), 3);
    std::vector<std::string> want(ids.rbegin(), ids.rend());
    ck_assert(seen == want);

    /* The range works with the standard algorithms; ana sees her own notes only (the default
     * agent policies). */
    mn::memory_range again = d.each(ana, mn::list_options().limit(2));
    ck_assert_int_eq(std::count_if(again.begin(), again.end(),
                                   [](mn::memory_view m) { return m.text().find("ana's") == 0; }),
                     7);
    ck_assert_uint_eq(again.pages(), 4);

    /* Search, k = 2 a page: every hit of ana's notes. */
    mn::memory_range hits = d.search_each(ana, mn::search_options("tea note").k(2).where(mn::filter().identity("ana")));
    size_t n = 0;
    for (mn::memory_view m : hits) {
        ck_assert(m.identity_id() == d.identity_get(ana, "ana").id());
        n++;
    }
    ck_assert(hits.ok());
    ck_assert_uint_eq(n, 7);
    ck_assert_uint_ge(hits.pages(), 4);

    /* A page that fails ends the range: try_each keeps the failure, each throws it. */
    mn::actor nobody = mn::actor::of("acme", "nobody");
    mn::memory_range failed = d.try_each(nobody);
    ck_assert(failed.begin() == failed.end());
    ck_assert(!failed.ok());
    ck_assert(failed.error().code == mn::errc::not_found);
    bool threw = false;
    try {
        for (mn::memory_view m : d.each(nobody))
            (void)m;
    } catch (const mn::error &e) {
        threw = e.code() == mn::errc::not_found;
    }
    ck_assert(threw);

    /* One page by hand: the cursor continues it. */
    mn::memories p1 = d.list(ana, mn::list_options().limit(5));
    ck_assert_uint_eq(p1.size(), 5);
    ck_assert(!p1.next_cursor().empty());
    mn::memories p2 = d.list(ana, mn::list_options().limit(5).cursor(p1.next_cursor()));
    ck_assert_uint_eq(p2.size(), 2);
    ck_assert(p2.next_cursor().empty());
    ck_assert(p1[4].id() != p2[0].id());
}
END_TEST

START_TEST(metadata_builder_escapes)
{
    /* The text, exactly. */
    mn::metadata nested;
    nested.set("deep", true);
    mn::metadata m;
    m.set("s", "plain").set("n", 3).set("x", 0.5).set("b", false).set("z", nullptr)
        .set("o", nested).set("l", std::vector<std::string>{"a", "b\"c"}).set("n", -7);
    const std::string text = m.str();
    ck_assert_str_eq(text.c_str(),
                     "{\"s\":\"plain\",\"n\":-7,\"x\":0.5,\"b\":false,\"z\":null,"
                     "\"o\":{\"deep\":true},\"l\":[\"a\",\"b\\\"c\"]}");
    ck_assert(mn::metadata().str() == "{}");
    const std::string quoted = mn::metadata::quote("q\"b\\n\nt\tc\x01" "e\x1f\xc3\xa9");
    ck_assert_str_eq(quoted.c_str(),
                     "\"q\\\"b\\\\n\\nt\\tc\\u0001e\\u001f\xc3\xa9\"");

    /* What the library reads back is what was set: a value with every kind of character to
     * escape, in a key that needs escaping too, stored and then found by an equal filter. */
    mn::db d = fresh_db("meta.db");
    mn::actor ana = mn::actor::of("acme", "ana");
    const std::string tricky = "say \"hi\"\\ then\nnew line\ttab \x01 caf\xc3\xa9 </script>";
    const std::string key = "k\"ey\\";
    mn::memory stored = d.add(ana, mn::memory_input("tricky metadata").metadata(mn::metadata().set(key, tricky).set("n", 42)));
    char *value = nullptr;
    ck_assert_int_eq(mn_json_compact(std::string(stored.metadata()).c_str(), key.c_str(), &value), MN_OK);
    ck_assert(value == mn::metadata::quote(tricky));
    mn_free(value);
    mn::memories found = d.list(ana, mn::list_options().where(mn::filter().metadata(mn::metadata().set(key, tricky))));
    ck_assert_uint_eq(found.size(), 1);
    ck_assert(found[0].id() == stored.id());
    ck_assert_uint_eq(d.list(ana, mn::list_options().where(mn::filter().metadata(mn::metadata().set(key, "say")))).size(), 0);

    /* What JSON cannot hold fails the call that takes it, naming the problem. */
    mn::result<mn::memory> nan = d.try_add(ana, mn::memory_input("nan").metadata(mn::metadata().set("v", std::nan(""))));
    ck_assert(nan.code() == mn::errc::invalid);
}
END_TEST

/* Conversations, filter lists (their pointers survive copies of the filter), count, trim,
 * delete by filter, batch search, and the own-memory default scope. */
START_TEST(sessions_filters_and_batches)
{
    mn::db d = fresh_db("sessions.db");
    mn::actor ana = mn::actor::of("acme", "ana"), ben = mn::actor::of("acme", "ben");
    for (const char *t : {"tea in the morning", "coffee after lunch", "a walk at noon"})
        d.add(ana, mn::memory_input(t).session("day-1"));
    d.add(ana, mn::memory_input("a trip to Kyoto").session("trip").ttl_ms(3600000));
    d.add(ben, mn::memory_input("ben's own note about tea").session("day-1"));

    mn::filter both = mn::filter().sessions({"day-1", "trip"});
    mn::filter copy = both; /* the copy points at its own strings */
    both = mn::filter().session("nothing");
    ck_assert_uint_eq(d.count(ana, copy), 4);                            /* ana's own only */
    ck_assert_uint_eq(d.count(ana, mn::filter().session("day-1").all_readable()), 3);
    ck_assert_uint_eq(d.count(ana, both), 0);
    mn::memory m = d.get(ana, d.search(ana, mn::search_options("Kyoto").k(1))[0].id());
    ck_assert(m.session() == "trip");
    ck_assert(m.expires_at() > m.created_at());

    std::vector<mn::memories> pages = d.search_many(
        ana, {mn::search_options("tea").k(5), mn::search_options("Kyoto").where(mn::filter().session("trip"))});
    ck_assert_uint_eq(pages.size(), 2);
    for (mn::memory_view h : pages[0])
        ck_assert(h.identity_id() == pages[1][0].identity_id()); /* never ben's */
    ck_assert(pages[1][0].text() == "a trip to Kyoto");

    ck_assert_uint_eq(d.trim(ana, mn::filter().session("day-1"), 1), 2); /* keeps the newest */
    ck_assert_uint_eq(d.count(ana, mn::filter().session("day-1")), 1);
    mn::result<size_t> none = d.try_remove_where(ana, mn::filter());
    ck_assert(!none.ok() && none.code() == mn::errc::invalid);           /* no condition */
    ck_assert_uint_eq(d.remove_where(ana, mn::filter().session("trip")), 1);
    ck_assert_uint_eq(d.count(ana), 1);
    ck_assert(!d.try_count(ana, mn::filter().sessions({std::string_view("a\0b", 3)})).ok());
}
END_TEST

START_TEST(memories_calls)
{
    mn::db d = fresh_db("calls.db");
    mn::actor ana = mn::actor::of("acme", "ana"), ben = mn::actor::of("acme", "ben");

    /* put: an external_key names the memory; the second put updates it. */
    mn::put_result p1 = d.put(ana, mn::memory_input("likes tea").type("preference").external_key("drink"));
    ck_assert_int_eq(p1.outcome, MN_PUT_CREATED);
    mn::put_result p2 = d.put(ana, mn::memory_input("likes coffee").type("preference").external_key("drink"));
    ck_assert_int_eq(p2.outcome, MN_PUT_UPDATED);
    ck_assert(p2.item.id() == p1.item.id());
    ck_assert_int_eq(p2.item.version(), 2);
    ck_assert(p2.item.external_key() == "drink");
    std::vector<int> outcomes;
    std::vector<std::string> ids = d.put_many(ana, {mn::memory_input("likes coffee").type("preference").external_key("drink"),
                                                    mn::memory_input("speaks Hindi")},
                                              outcomes);
    ck_assert_uint_eq(ids.size(), 2);
    ck_assert(ids[0] == p1.item.id());
    ck_assert_int_eq(outcomes[0], MN_PUT_UNCHANGED);
    ck_assert_int_eq(outcomes[1], MN_PUT_CREATED);

    /* update, history. */
    mn::memory u = d.update(ana, p1.item.id(), mn::memory_changes().text("likes masala chai").importance(0.9));
    ck_assert(u.text() == "likes masala chai");
    ck_assert_double_eq_tol(u.importance(), 0.9, 1e-9);
    mn::history h = d.memory_history(ana, u.id());
    ck_assert_uint_eq(h.size(), 2);
    ck_assert(h[1].after().find("masala") != std::string_view::npos);

    /* ben may not see ana's memory (the default agent policies). */
    ck_assert(!d.try_get(ben, u.id()).ok());

    /* delete, restore, delete_many. */
    d.remove(ana, u.id());
    ck_assert(d.try_get(ana, u.id()).code() == mn::errc::not_found);
    ck_assert(d.get(ana, u.id(), MN_WITH_DELETED).deleted());
    d.restore(ana, u.id());
    ck_assert(!d.get(ana, u.id()).deleted());
    d.remove_many(ana, {std::string(u.id()), ids[1]}, MN_DELETE_HARD);
    ck_assert(d.list(ana).empty());
    ck_assert(d.try_remove_many(ana, {"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}).code() == mn::errc::not_found);

    /* Search: hits best first, similarity set. */
    d.add(ana, mn::memory_input("the order 1042 shipped on monday").type("event"));
    d.add(ana, mn::memory_input("refunds take five days").type("policy"));
    mn::memories hits = d.search(ana, mn::search_options("when did order 1042 ship").k(1));
    ck_assert_uint_eq(hits.size(), 1);
    ck_assert(hits[0].text().find("1042") != std::string_view::npos);
    ck_assert_double_gt(hits[0].similarity(), 0);
    ck_assert_uint_eq(d.list(ana, mn::list_options().where(mn::filter().type("policy"))).size(), 1);
}
END_TEST

START_TEST(identities_policies_keys_limits)
{
    mn::db d = fresh_db("admin.db");
    mn::actor sys = mn::actor::system("acme");

    mn::identity carol = d.identity_create(sys, "carol", "agent", mn::metadata().set("team", "support").str());
    ck_assert(carol.external_id() == "carol");
    ck_assert(carol.claims().find("support") != std::string_view::npos);
    ck_assert_uint_eq(d.identity_list(sys).size(), 3);
    d.identity_deactivate(sys, "carol");
    ck_assert(!d.identity_get(sys, "carol").active());
    ck_assert(d.try_add(mn::actor::of("acme", "carol"), mn::memory_input("x")).code() == mn::errc::denied);
    d.identity_delete(sys, "carol");
    ck_assert(d.try_identity_get(sys, "carol").code() == mn::errc::not_found);

    /* Policies: a deny for role agent on memory search, tested and then removed. */
    size_t before = d.policy_list(sys).size();
    mn::policy deny = d.policy_add(sys, mn::policy_input("agent", "{\"effect\":\"deny\",\"actions\":[\"search\"],\"resource\":\"memory\"}")
                                            .priority(1000).description("no search"));
    ck_assert_uint_eq(d.policy_list(sys).size(), before + 1);
    mn::decision no = d.policy_test(mn::actor::of("acme", "ana"), "search", "memory");
    ck_assert(!no.allowed());
    ck_assert(no.policy_id() == deny.id());
    mn::policy off = d.policy_update(sys, deny.id(), mn::policy_changes().active(false).description("off for now"));
    ck_assert(!off.active());
    ck_assert(off.description() == "off for now");
    ck_assert(d.policy_test(mn::actor::of("acme", "ana"), "search", "memory").policy_id() != deny.id());
    ck_assert(d.policy_get(sys, deny.id()).priority() == 1000);
    d.policy_delete(sys, deny.id());
    ck_assert(d.policy_test(mn::actor::of("acme", "ana"), "search", "memory").policy_id() != deny.id());

    /* API keys: a key acts as its identity. */
    mn::new_apikey k = d.apikey_create(sys, mn::apikey_input("ana").scopes({"memory:create", "memory:read", "memory:list"}));
    ck_assert(k.key.rfind("mk_", 0) == 0);
    mn::memory by_key = d.add(mn::actor::by_key(k.key), mn::memory_input("added by key"));
    ck_assert(by_key.identity_id() == d.identity_get(sys, "ana").id());
    ck_assert(d.apikey_verify(k.key).id() == k.info.id());
    ck_assert_uint_eq(d.apikey_list(sys, "ana").size(), 1);
    ck_assert(d.try_search(mn::actor::by_key(k.key), mn::search_options("key")).code() == mn::errc::denied);
    d.apikey_revoke(sys, k.info.id());
    ck_assert(d.try_apikey_verify(k.key).code() == mn::errc::denied);

    /* Rate-limit status and limits. */
    mn_ratelimit_result r = d.ratelimit_peek(mn::actor::of("acme", "ana"), "memory:create");
    ck_assert(r.allowed);
    ck_assert_int_eq(r.limit, 1000);
    d.limit_set(sys, "app:export", 5, 60000);
    bool found = false;
    for (mn::limit_view l : d.limit_list(sys))
        found = found || (l.endpoint() == "app:export" && l.limit() == 5 && l.overridden());
    ck_assert(found);
    ck_assert_int_eq(d.ratelimit_hit(mn::actor::of("acme", "ana"), "app:export", 5).remaining, 0);
    ck_assert(d.try_ratelimit_hit(mn::actor::of("acme", "ana"), "app:export").code() == mn::errc::limited);

    /* Metrics and health. */
    ck_assert(d.metrics().find("manushya_") != std::string::npos);
    ck_assert(d.health().find("\"status\"") != std::string::npos);
    ck_assert(d.tenant_list().size() == 1);
    ck_assert(d.tenant_get("acme").name() == "acme");
}
END_TEST

/* One db, actor and options shared by threads at once: the calls only read them. */
START_TEST(threads_share_db_actor_and_options)
{
    mn::db d = fresh_db("threads.db");
    const mn::actor ana = mn::actor::of("acme", "ana");
    const mn::search_options tea = mn::search_options("green tea").k(50).where(mn::filter().identity("ana"));
    const int threads = 4, adds = 10;
    std::vector<std::thread> pool;
    std::vector<int> good(threads, 0);
    for (int t = 0; t < threads; t++)
        pool.emplace_back([&, t] {
            for (int i = 0; i < adds; i++) {
                mn::result<mn::memory> m =
                    d.try_add(ana, mn::memory_input("green tea note " + std::to_string(t) + " " + std::to_string(i)));
                mn::result<mn::memories> hits = d.try_search(ana, tea);
                good[t] += m.ok() && hits.ok() && !hits->empty();
            }
        });
    for (auto &th : pool)
        th.join();
    for (int t = 0; t < threads; t++)
        ck_assert_int_eq(good[t], adds);
    ck_assert_uint_eq(d.search(ana, tea).size(), static_cast<size_t>(threads * adds));
}
END_TEST

/* The value of a temporary result is moved out: a loop over it holds no dangling reference
 * (the sanitizer build would see one), and a builder field set again loses its old problem. */
START_TEST(temporaries_and_reset_fields)
{
    mn::db d = fresh_db("temps.db");
    mn::actor ana = mn::actor::of("acme", "ana");
    d.add(ana, mn::memory_input("one"));
    d.add(ana, mn::memory_input("two"));
    size_t n = 0;
    for (mn::memory_view m : d.try_list(ana).value())
        n += !m.text().empty();
    ck_assert_uint_eq(n, 2);

    mn::memory_input in(std::string("bad\0text", 8));
    ck_assert(d.try_add(ana, in).code() == mn::errc::invalid);
    in.text("good text");
    ck_assert(d.try_add(ana, in).ok());
}
END_TEST

int main(void)
{
    make_tmpdir();
    Suite *s = suite_create("cxx");
    for (bool pg : {false, true}) {
        if (pg && !std::getenv("MN_PG_URL")) {
            std::printf("test_cxx: postgres case skipped: no MN_PG_URL (tests/run.sh starts the server)\n");
            continue;
        }
        TCase *tc = tcase_create(pg ? "postgres" : "sqlite");
        tcase_add_checked_fixture(tc, pg ? use_postgres : use_sqlite, nullptr);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, raii_and_moves);
        tcase_add_test(tc, exceptions_carry_code_and_message);
        tcase_add_test(tc, results_without_exceptions);
        tcase_add_test(tc, paging_ranges);
        tcase_add_test(tc, metadata_builder_escapes);
        tcase_add_test(tc, memories_calls);
        tcase_add_test(tc, sessions_filters_and_batches);
        tcase_add_test(tc, identities_policies_keys_limits);
        tcase_add_test(tc, threads_share_db_actor_and_options);
        tcase_add_test(tc, temporaries_and_reset_fields);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_tmpdir();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
