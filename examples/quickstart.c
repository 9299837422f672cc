/*
 * quickstart.c — a first program with libmanushya.
 *
 * Opens an embedded database, creates a tenant and an agent identity, stores a few memories,
 * searches them by text, lists them, updates one and prints its history.
 *
 * Build against the installed library:
 *     cc examples/quickstart.c $(pkg-config --cflags --libs manushya) -o quickstart
 * Run:
 *     ./quickstart              uses a fresh database in a temporary directory, removed at exit
 *     ./quickstart my.db        uses (and keeps) my.db; running it again adds to it
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp() */

#include <manushya.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Every libmanushya call returns MN_OK or an MN_E* code. On failure, mn_strerror() names the
 * code and mn_errmsg() explains this thread's last failure on the handle. */
static int check(mn_db *db, int rc, const char *what)
{
    if (rc != MN_OK)
        fprintf(stderr, "quickstart: %s failed: %s: %s\n", what, mn_strerror(rc), mn_errmsg(db));
    return rc;
}

/* Removes the temporary database and the files SQLite keeps beside it (WAL mode). */
static void remove_temp_db(const char *dir, const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char buf[4096];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (snprintf(buf, sizeof buf, "%s%s", path, suffixes[i]) < (int)sizeof buf)
            (void)remove(buf);
    }
    (void)rmdir(dir);
}

int main(int argc, char **argv)
{
    char tmpdir[4096] = "";
    char path[4096];
    int status = EXIT_FAILURE, rc;

    mn_db *db = NULL;
    mn_tenant *tenant = NULL;
    mn_identity *agent = NULL;
    mn_memory *first = NULL, *updated = NULL;
    mn_memories *hits = NULL, *page = NULL;
    mn_history *history = NULL;

    /* 1. Pick the database file: argv[1], or a new temporary directory. */
    if (argc > 1) {
        if (snprintf(path, sizeof path, "%s", argv[1]) >= (int)sizeof path) {
            fprintf(stderr, "quickstart: database path too long\n");
            return EXIT_FAILURE;
        }
    } else {
        const char *base = getenv("TMPDIR");
        if (snprintf(tmpdir, sizeof tmpdir, "%s/manushya-quickstart-XXXXXX",
                     base && *base ? base : "/tmp") >= (int)sizeof tmpdir) {
            fprintf(stderr, "quickstart: TMPDIR path too long\n");
            return EXIT_FAILURE;
        }
        if (!mkdtemp(tmpdir)) {
            perror("quickstart: mkdtemp");
            return EXIT_FAILURE;
        }
        if (snprintf(path, sizeof path, "%s/memories.db", tmpdir) >= (int)sizeof path) {
            fprintf(stderr, "quickstart: database path too long\n");
            (void)rmdir(tmpdir);
            return EXIT_FAILURE;
        }
    }
    printf("libmanushya %s, database %s\n", mn_version(), path);

    /* 2. Open it. A NULL config means every default: the offline "local" embedder, 384
     * dimensions. Even on failure mn_open() usually returns a handle, so that mn_errmsg() can
     * say what went wrong; it must be closed either way (mn_close(NULL) is a no-op). */
    rc = mn_open(&db, path, NULL);
    if (check(db, rc, "mn_open") != MN_OK)
        goto out;

    /* 3. A tenant owns everything below it; tenants never see each other's data. Reusing a
     * database from an earlier run, the tenant already exists: fetch it instead. */
    rc = mn_tenant_create(db, "acme", &tenant);
    if (rc == MN_EEXISTS)
        rc = mn_tenant_get(db, "acme", &tenant);
    if (check(db, rc, "tenant") != MN_OK)
        goto out;
    printf("tenant   %s (%s)\n", tenant->name, tenant->id);

    /* 4. Every data call is made for an actor. With identity == NULL it is the tenant's trusted
     * system actor, used here to create the agent identity. */
    const mn_actor system = {.version = MN_ACTOR_VERSION, .tenant = "acme", .identity = NULL};
    rc = mn_identity_create(db, &system, "support-bot", "agent", "{\"team\":\"support\"}", &agent);
    if (rc == MN_EEXISTS)
        rc = mn_identity_get(db, &system, "support-bot", &agent);
    if (check(db, rc, "identity") != MN_OK)
        goto out;
    printf("identity %s role=%s (%s)\n", agent->external_id, agent->role, agent->id);

    /* From here on the agent acts for itself; its memories are owned by its identity. */
    const mn_actor me = {.version = MN_ACTOR_VERSION, .tenant = "acme", .identity = "support-bot"};

    /* 5. Add memories. Structs start from their MN_*_INIT: every field left as it is takes its
     * default (type "fact", metadata "{}", importance 0.5, no expiry). Strings are borrowed:
     * the library copies what it keeps. */
    static const struct {
        const char *text, *type, *metadata;
        double importance;
    } facts[] = {
        {"The customer prefers green tea over coffee", "preference", "{\"topic\":\"drinks\"}", 0.8},
        {"The customer's order #1042 shipped on Monday", "event", "{\"topic\":\"orders\"}", 0.6},
        {"The customer speaks Hindi and English", "fact", "{\"topic\":\"language\"}", 0.7},
        {"Refunds are processed within five working days", "policy", "{\"topic\":\"refunds\"}", 0.5},
    };
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        mn_memory_input in = MN_MEMORY_INPUT_INIT;
        in.text = facts[i].text;
        in.type = facts[i].type;
        in.metadata = facts[i].metadata;
        in.importance = facts[i].importance;

        mn_memory *m = NULL;
        rc = mn_memory_add(db, &me, &in, &m);
        if (check(db, rc, "mn_memory_add") != MN_OK)
            goto out;
        printf("added    %s v%" PRId64 " [%s] %s\n", m->id, m->version, m->type, m->text);
        if (!first)
            first = m; /* kept for the update below */
        else
            mn_memory_free(m);
    }

    /* 6. Search by text. The query is embedded with the handle's embedder; the local one
     * matches words, not meaning. Results come best first with similarity set. */
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = "what does the customer like to drink? tea or coffee";
    so.k = 3;
    rc = mn_memory_search(db, &me, &so, &hits);
    if (check(db, rc, "mn_memory_search") != MN_OK)
        goto out;
    printf("search   \"%s\": %zu hit(s)\n", so.query, hits->count);
    for (size_t i = 0; i < hits->count; i++) {
        const mn_memory *m = hits->items[i];
        printf("  hit %zu similarity %.3f [%s] %s\n", i + 1, m->similarity, m->type, m->text);
    }

    /* 7. List, newest first, one page. A filter narrows it: an mn_filter (MN_FILTER_INIT, then
     * e.g. f.type = "fact" or f.metadata = "{\"topic\":\"orders\"}") with lo.filter = &f.
     * Pass page->next_cursor as lo.cursor to fetch the next page; it is NULL after the last
     * one. */
    mn_list_options lo = MN_LIST_OPTIONS_INIT;
    lo.limit = 10;
    rc = mn_memory_list(db, &me, &lo, &page);
    if (check(db, rc, "mn_memory_list") != MN_OK)
        goto out;
    printf("list     %zu memories%s\n", page->count, page->next_cursor ? ", more follow" : "");
    for (size_t i = 0; i < page->count; i++) {
        const mn_memory *m = page->items[i];
        printf("  %s v%" PRId64 " importance %.2f [%s] %s %s\n", m->id, m->version,
               m->importance, m->type, m->text, m->metadata);
    }

    /* 8. Update the first memory: only the fields named in change.set change. The version goes
     * up and the history keeps the before and after of every change. */
    mn_memory_changes change = MN_MEMORY_CHANGES_INIT;
    change.set = MN_MEMORY_SET_TEXT | MN_MEMORY_SET_IMPORTANCE;
    change.text = "The customer prefers green tea, no sugar, over coffee";
    change.importance = 0.9;
    rc = mn_memory_update(db, &me, first->id, &change, &updated);
    if (check(db, rc, "mn_memory_update") != MN_OK)
        goto out;
    printf("updated  %s v%" PRId64 " %s\n", updated->id, updated->version, updated->text);

    rc = mn_memory_history(db, &me, first->id, &history);
    if (check(db, rc, "mn_memory_history") != MN_OK)
        goto out;
    printf("history  %zu change(s)\n", history->count);
    for (size_t i = 0; i < history->count; i++) {
        const mn_history_entry *h = history->items[i];
        printf("  v%" PRId64 " by %s\n    before %s\n    after  %s\n", h->version,
               h->changed_by ? h->changed_by : "(system)", h->before ? h->before : "null",
               h->after ? h->after : "null");
    }

    status = EXIT_SUCCESS;

out:
    /* 9. Free every result with its own mn_*_free() (all accept NULL), then close. */
    mn_history_free(history);
    mn_memory_free(updated);
    mn_memory_free(first);
    mn_memories_free(page);
    mn_memories_free(hits);
    mn_identity_free(agent);
    mn_tenant_free(tenant);
    mn_close(db);
    if (tmpdir[0])
        remove_temp_db(tmpdir, path);
    return status;
}
