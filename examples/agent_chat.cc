/*
 * agent_chat.cc — an agent that remembers three users, with the C++ interface (manushya.hpp).
 *
 * Three users talk to one agent, turns interleaved. For each turn the agent recalls what it
 * knows of that user (their preferences, and their earlier messages that match the turn, by
 * search), answers with it, and remembers the turn: a preference as an upsert under its
 * external_key (a change of mind updates the one memory), anything else as a message of the
 * user's conversation (its session), of which it keeps the last two at the end. Each user is
 * an identity of the tenant and the agent acts as that identity: the library shows a user's
 * memories to no one else, which the program checks at every turn. It prints the transcript
 * and exits 0, or 1 naming what went wrong.
 *
 * Build against the installed library:
 *     c++ -std=c++17 examples/agent_chat.cc $(pkg-config --cflags --libs manushya) -o agent_chat
 * Run:
 *     ./agent_chat              a fresh database in a temporary directory, removed at exit
 *     ./agent_chat chat.db      uses (and keeps) chat.db
 */
#include <manushya.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace mn = manushya;

/* One user's conversation with the agent: who the agent acts as (the user's identity, whose
 * calls see only its own memories) and the conversation (session) its memories belong to. */
struct conversation {
    std::string user;
    std::string id;

    mn::actor as() const { return mn::actor::of("chat", user); }
    mn::filter scope() const { return mn::filter().session(id); }
    mn::memory_input note(std::string_view text) const { return mn::memory_input(text).session(id); }
};

struct turn {
    const char *user;
    const char *text;
    const char *preference; /* the preference this turn states (its external_key), or NULL */
};

static const turn script[] = {
    {"asha", "I am vegetarian, so no meat or fish for me", "diet"},
    {"ben", "I prefer strong coffee in the morning", "drink"},
    {"chen", "I am planning a trip to Kyoto in April", nullptr},
    {"asha", "Can you suggest a recipe for dinner with fish?", nullptr},
    {"ben", "Actually I switched to green tea in the morning", "drink"},
    {"chen", "What should I pack for the trip?", nullptr},
    {"asha", "My sister Meera visits on Friday for dinner", nullptr},
    {"ben", "What do I like to drink in the morning?", nullptr},
    {"chen", "Remind me where my trip goes", nullptr},
    {"asha", "Who comes to dinner on Friday?", nullptr},
};

/* Fails the program when a memory shown to conv's user is not theirs. */
static void check_owner(const mn::memory_view &m, const std::string &owner_id, const conversation &conv)
{
    if (m.identity_id() != owner_id) {
        std::fprintf(stderr, "agent_chat: %s was shown a memory of another user: %.*s\n",
                     conv.user.c_str(), static_cast<int>(m.text().size()), m.text().data());
        std::exit(EXIT_FAILURE);
    }
}

/* One turn: recall, answer, remember. */
static void chat(const mn::db &db, const conversation &conv, const std::string &owner_id, const turn &t)
{
    std::printf("%-5s> %s\n", conv.user.c_str(), t.text);

    bool recalled = false;
    for (mn::memory_view m : db.each(conv.as(), mn::list_options().where(conv.scope().type("preference")))) {
        check_owner(m, owner_id, conv);
        std::printf("agent> knows: %.*s\n", static_cast<int>(m.text().size()), m.text().data());
        recalled = true;
    }
    for (mn::memory_view m : db.search(conv.as(), mn::search_options(t.text).k(2).where(conv.scope().type("message")))) {
        check_owner(m, owner_id, conv);
        std::printf("agent> recalls: %.*s\n", static_cast<int>(m.text().size()), m.text().data());
        recalled = true;
    }
    if (!recalled)
        std::printf("agent> (nothing recalled yet)\n");

    if (t.preference) {
        mn::put_result p = db.put(conv.as(), conv.note(t.text).type("preference").external_key(t.preference).importance(0.9));
        std::printf("agent> %s preference \"%s\" (v%lld)\n",
                    p.outcome == MN_PUT_CREATED ? "noted" : p.outcome == MN_PUT_UPDATED ? "updated" : "kept",
                    t.preference, static_cast<long long>(p.item.version()));
    } else {
        db.add(conv.as(), conv.note(t.text).type("message"));
    }
}

int main(int argc, char **argv)
{
    std::filesystem::path dir;
    std::string path;
    if (argc > 1) {
        path = argv[1];
    } else {
        const char *base = std::getenv("TMPDIR");
        std::string t = std::string(base && *base ? base : "/tmp") + "/manushya-chat-XXXXXX";
        if (!mkdtemp(t.data())) {
            std::perror("agent_chat: mkdtemp");
            return EXIT_FAILURE;
        }
        dir = t;
        path = (dir / "chat.db").string();
    }

    int status = EXIT_SUCCESS;
    try {
        mn::db db(path);
        mn::actor host = mn::actor::system("chat");
        if (db.try_tenant_create("chat").code() == mn::errc::exists)
            std::printf("(reusing %s)\n", path.c_str());

        /* Each user an identity; the agent acts as it (role "agent": by the default policies
         * an identity reads and writes its own memories only). */
        std::vector<conversation> convs;
        std::vector<std::string> owner_ids;
        for (const char *u : {"asha", "ben", "chen"}) {
            mn::result<mn::identity> made = db.try_identity_create(host, u);
            mn::identity who = made.ok() ? std::move(made.value()) : db.identity_get(host, u);
            convs.push_back(conversation{u, std::string("chat-with-") + u});
            owner_ids.emplace_back(who.id());
        }

        for (const turn &t : script) {
            size_t i = 0;
            while (convs[i].user != t.user)
                i++;
            chat(db, convs[i], owner_ids[i], t);
        }

        /* What the agent keeps of each user. */
        std::printf("---\n");
        for (size_t i = 0; i < convs.size(); i++) {
            size_t n = 0;
            for (mn::memory_view m : db.each(convs[i].as(), mn::list_options().where(convs[i].scope()))) {
                check_owner(m, owner_ids[i], convs[i]);
                if (m.type() == "preference")
                    std::printf("%s: preference %.*s = %.*s (v%lld)\n", convs[i].user.c_str(),
                                static_cast<int>(m.external_key().size()), m.external_key().data(),
                                static_cast<int>(m.text().size()), m.text().data(),
                                static_cast<long long>(m.version()));
                n++;
            }
            std::printf("%s: %zu memories\n", convs[i].user.c_str(), n);
        }
        /* Each conversation keeps its last two messages (keep-the-last-N). */
        for (const conversation &c : convs)
            std::printf("%s: %zu older message(s) dropped\n", c.user.c_str(),
                        db.trim(c.as(), c.scope().type("message"), 2));
        /* Searching with no filter at all, a user still finds only their own memories. */
        for (size_t i = 0; i < convs.size(); i++) {
            mn::memories hits = db.search(convs[i].as(), mn::search_options("vegetarian coffee tea Kyoto trip dinner").k(20));
            for (mn::memory_view m : hits)
                check_owner(m, owner_ids[i], convs[i]);
            std::printf("%s: a search without a filter finds %zu hit(s), all their own\n", convs[i].user.c_str(), hits.size());
        }
    } catch (const mn::error &e) {
        std::fprintf(stderr, "agent_chat: %s\n", e.what());
        status = EXIT_FAILURE;
    }
    if (!dir.empty())
        std::filesystem::remove_all(dir);
    return status;
}
