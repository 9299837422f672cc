/*
 * frozen.c — a program built against the frozen 1.0 header (tests/abi/manushya-1.0.h, a copy
 * of include/manushya.h as released) and run against the library as it is built now: every
 * later build of the same major version must run it unchanged. tests/abi/test_frozen.sh builds
 * it with -Itests/abi only, so nothing newer can leak in, and links it to the built .so.
 *
 * It does what a program does: open a database, make a tenant and an identity, add three
 * memories, list them, search them, get one, free every result, close. Each result is checked
 * field by field, so a layout the library and this header disagree on shows up here.
 *
 * Usage: frozen DIR    (a directory for the database; exit 0 when every check passed)
 */
#include "manushya-1.0.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void expect(int ok, const char *what)
{
    printf("%s - %s\n", ok ? "ok" : "not ok", what);
    if (!ok)
        failures++;
}

static int call(mn_db *db, int rc, const char *what)
{
    if (rc != MN_OK)
        printf("# %s: %s: %s\n", what, mn_strerror(rc), mn_errmsg(db));
    expect(rc == MN_OK, what);
    return rc == MN_OK;
}

static const char *const texts[] = {
    "The customer prefers green tea over coffee",
    "The customer's order shipped on Monday",
    "The customer speaks Hindi and English",
};
#define NTEXTS (sizeof texts / sizeof texts[0])

/* 1 when text is one of the texts added. */
static int is_added_text(const char *text)
{
    for (size_t i = 0; i < NTEXTS; i++) {
        if (text && strcmp(text, texts[i]) == 0)
            return 1;
    }
    return 0;
}

/* Checks what every memory this program added must hold, as the library filled it. */
static int memory_ok(const mn_memory *m, int dim)
{
    return m && m->id && strlen(m->id) == 36 && m->tenant_id && m->identity_id &&
           is_added_text(m->text) && m->type && strcmp(m->type, "preference") == 0 &&
           m->metadata && strcmp(m->metadata, "{\"source\":\"frozen\"}") == 0 &&
           m->importance == 0.75 && m->version == 1 && m->created_at > 0 &&
           m->updated_at >= m->created_at && m->expires_at == 0 && !m->deleted &&
           m->embedding == NULL && (m->dim == 0 || m->dim == dim);
}

int main(int argc, char **argv)
{
    char path[4096];
    mn_db *db = NULL;
    mn_tenant *tenant = NULL;
    mn_identity *agent = NULL;
    mn_memory *added[NTEXTS] = {NULL};
    mn_memory *got = NULL;
    mn_memories *page = NULL, *hits = NULL;

    if (argc != 2 || snprintf(path, sizeof path, "%s/frozen.db", argv[1]) >= (int)sizeof path) {
        fprintf(stderr, "usage: frozen DIR\n");
        return 2;
    }
    printf("# header %s, library %s\n", MN_VERSION, mn_version());
    expect(mn_version_number() / 10000 == MN_VERSION_MAJOR,
           "the library has the header's major version");
    expect(mn_version_number() >= MN_VERSION_NUMBER, "the library is not older than the header");

    if (!call(db, mn_open(&db, path, NULL), "mn_open"))
        goto out;
    int dim = mn_embed_dim(db);
    expect(dim == 384, "mn_embed_dim is the default 384");
    if (!call(db, mn_tenant_create(db, "frozen", &tenant), "mn_tenant_create"))
        goto out;
    expect(strcmp(tenant->name, "frozen") == 0 && strlen(tenant->id) == 36,
           "the tenant as created");

    const mn_actor system = {.version = MN_ACTOR_VERSION, .tenant = "frozen", .identity = NULL};
    if (!call(db, mn_identity_create(db, &system, "agent", "agent", NULL, &agent),
              "mn_identity_create"))
        goto out;
    expect(strcmp(agent->external_id, "agent") == 0 && strcmp(agent->role, "agent") == 0,
           "the identity as created");

    const mn_actor me = {.version = MN_ACTOR_VERSION, .tenant = "frozen", .identity = "agent"};
    for (size_t i = 0; i < NTEXTS; i++) {
        const mn_memory_input in = {.version = MN_MEMORY_INPUT_VERSION, .text = texts[i],
                                    .type = "preference",
                                    .metadata = "{\"source\":\"frozen\"}", .importance = 0.75};
        if (!call(db, mn_memory_add(db, &me, &in, &added[i]), "mn_memory_add"))
            goto out;
        expect(memory_ok(added[i], dim) && strcmp(added[i]->text, texts[i]) == 0 &&
                   strcmp(added[i]->identity_id, agent->id) == 0,
               "the added memory as returned");
    }

    const mn_list_options lo = {.version = MN_LIST_OPTIONS_VERSION, .limit = 10};
    if (!call(db, mn_memory_list(db, &me, &lo, &page), "mn_memory_list"))
        goto out;
    int listed_ok = page->count == NTEXTS && page->next_cursor == NULL;
    for (size_t i = 0; listed_ok && i < page->count; i++)
        listed_ok = memory_ok(page->items[i], dim);
    expect(listed_ok, "the list has the three memories, each as added");

    const mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "green tea",
                                  .k = 2};
    if (!call(db, mn_memory_search(db, &me, &so, &hits), "mn_memory_search"))
        goto out;
    expect(hits->count >= 1 && memory_ok(hits->items[0], dim) &&
               strcmp(hits->items[0]->text, texts[0]) == 0 && hits->items[0]->similarity > 0,
           "the search finds the tea memory first");
    expect(hits->count <= 2, "the search returns at most k hits");

    if (!call(db, mn_memory_get(db, &me, added[1]->id, 0, &got), "mn_memory_get"))
        goto out;
    expect(memory_ok(got, dim) && strcmp(got->id, added[1]->id) == 0 &&
               strcmp(got->text, texts[1]) == 0,
           "the memory got by id");

out:
    mn_memory_free(got);
    mn_memories_free(hits);
    mn_memories_free(page);
    for (size_t i = 0; i < NTEXTS; i++)
        mn_memory_free(added[i]);
    mn_identity_free(agent);
    mn_tenant_free(tenant);
    mn_close(db);
    printf("# %d failed\n", failures);
    return failures ? 1 : 0;
}
