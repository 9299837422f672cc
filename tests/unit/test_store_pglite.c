/* The PostgreSQL backend's pgvector path, over PGlite with pgvector 0.8 (tests/servers/
 * pglite.sh, MN_PGLITE_URL): the conformance suite with vectors in vector(dim) columns and
 * search answered by the server's HNSW indexes. PGlite serves one connection at a time, so
 * every handle has a pool of one that it closes after each call (pool_idle=0), and retries a
 * refused connection while another handle's call runs. Each database is a fresh schema.
 * Most of the suite's time is the server's (one WebAssembly PostgreSQL on one core), so when
 * pglite.sh started a second server (MN_PGLITE_URL_2) the tests are split in two halves, run
 * at the same time by this process and a child, each against its own server. */
#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manushya.h"
#include "support/conformance.h"
#include "support/harness.h"

static const char *server_url; /* this process's server: MN_PGLITE_URL or MN_PGLITE_URL_2 */

static const char *server(void)
{
    ck_assert_msg(server_url && *server_url, "MN_PGLITE_URL is not set: run through `make "
                  "check` (tests/run.sh starts tests/servers/pglite.sh)");
    return server_url;
}

static const char *url_for(const char *schema, const char *options)
{
    return th_fmt("%s&schema=%s&pool_size=1&pool_overflow=0&pool_idle=0&connect_retry_ms=10000"
                  "%s%s", server(), schema,
                  options ? "&" : "", options ? options : "");
}

static const char *fresh_schema(void)
{
    static unsigned n;
    return th_fmt("l%ld_%u_%lld", (long)getpid(), n++, (long long)th_now_ms() % 100000000);
}

static const char *make_url(void)
{
    return url_for(fresh_schema(), "vector=pgvector");
}

/* With pgvector present, vector=auto picks it, and the server answers searches: filtered ones
 * too (iterative scans), with the similarity the local embedder gives. */
START_TEST(auto_picks_pgvector_and_filters)
{
    mn_db *db = th_open(url_for(fresh_schema(), NULL), NULL);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    th_identity(db, "acme", "bob");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    mn_actor b = TH_ACTOR(.tenant = "acme", .identity = "bob");
    /* Many of bob's memories close to the query, one of alice's: a filter on alice must still
     * find hers (an index scan that stopped at ef_search candidates would return none). */
    for (int i = 0; i < 60; i++)
        th_add(db, &b, NULL, th_fmt("the lighthouse keeper's log, entry %d", i));
    const char *mine = th_add(db, &a, NULL, "a lighthouse on the northern cape");
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION,
                            .query = "lighthouse keeper",
                            .k = 3,
                            .ef = 10,
                            .filter =
                                &(mn_filter){.version = MN_FILTER_VERSION, .identity = "alice"}};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &a, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, mine);
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

/* Asynchronous embedding with pgvector columns: the pending memory is in no server-side search
 * result, and the job's vector, written in pgvector's binary format, is the embedder's own. */
START_TEST(async_embedding_into_pgvector)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_async = 1};
    mn_db *db = th_open(make_url(), &cfg);
    th_tenant(db, "acme");
    th_identity(db, "acme", "alice");
    mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
    const char *id = th_add(db, &a, NULL, "a lighthouse on the northern cape");
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = "lighthouse", .k = 5};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, &a, &so, &l));
    ck_assert_uint_eq(l->count, 0);
    mn_memories_free(l);
    mn_memory *m = th_get(db, &a, id, 0);
    ck_assert_int_eq(m->embed_status, MN_EMBED_PENDING);
    mn_memory_free(m);
    size_t done = 0, failed = 0;
    TH_OK(db, mn_job_run(db, 0, &done, &failed));
    ck_assert_uint_eq(done, 1);
    ck_assert_uint_eq(failed, 0);
    m = th_get(db, &a, id, MN_WITH_EMBEDDING);
    ck_assert_int_eq(m->embed_status, MN_EMBED_DONE);
    ck_assert_ptr_nonnull(m->embedding);
    ck_assert_mem_eq(m->embedding, th_embed(db, "a lighthouse on the northern cape"),
                     (size_t)m->dim * sizeof(float));
    mn_memory_free(m);
    TH_OK(db, mn_memory_search(db, &a, &so, &l));
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, id);
    mn_memories_free(l);
    mn_close(db);
}
END_TEST

/* A connection of the test's own, once PGlite takes one (it serves one at a time, and the
 * handle's last may still be closing). */
static PGconn *connect_raw(void)
{
    PGconn *c = PQconnectdb(server());
    for (int i = 0; PQstatus(c) != CONNECTION_OK && i < 100; i++) {
        PQfinish(c);
        usleep(100 * 1000);
        c = PQconnectdb(server());
    }
    ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    return c;
}

/* The plan PostgreSQL makes for the library's search (postgres/sql.c: ORDER BY
 * mn_search_key(embedding) <=> mn_search_key($2)) of the tenant in the schema, with
 * sequential scans and sorts off so that a table of a few rows still shows which index can
 * serve it. */
static const char *search_plan(const char *schema, const char *tenant_id)
{
    PGconn *c = connect_raw();
    const char *p[] = { schema }, *t[] = { tenant_id };
    PQclear(PQexec(c, "DISCARD ALL"));
    PQclear(PQexecParams(c, "SELECT set_config('search_path', $1 || ', public', false), "
                         "set_config('enable_seqscan', 'off', false), "
                         "set_config('enable_sort', 'off', false)", 1, NULL, p, NULL, NULL, 0));
    PGresult *r = PQexecParams(c, "EXPLAIN SELECT key FROM memories WHERE tenant_id = $1 "
                               "ORDER BY mn_search_key(embedding) <=> "
                               "mn_search_key((SELECT embedding FROM memories LIMIT 1)) LIMIT 5",
                               1, NULL, t, NULL, NULL, 0);
    ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "explain: %s", PQerrorMessage(c));
    const char *plan = "";
    for (int i = 0; i < PQntuples(r); i++)
        plan = th_fmt("%s%s\n", plan, PQgetvalue(r, i, 0));
    PQclear(r);
    PQclear(PQexec(c, "DISCARD ALL"));
    PQfinish(c);
    return plan;
}

/* pgvector's HNSW takes vector of up to 2000 dimensions and halfvec of up to 4000: at 3072 the
 * partitions' index is on the column cast to halfvec(3072) (the column keeps full floats), at
 * 384 on the column itself, and in both the search statement is one the index serves. */
START_TEST(wide_vectors_index_as_halfvec)
{
    static const struct {
        int dim;
        const char *opclass, *order;
    } cases[] = {
        { 3072, "halfvec_cosine_ops", "::halfvec(3072)" },
        { 384, "vector_cosine_ops", "Order By: (embedding <=>" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *schema = fresh_schema();
        mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = cases[i].dim};
        mn_db *db = th_open(url_for(schema, "vector=pgvector"), &cfg);
        const char *tid = th_tenant(db, "acme");
        th_identity(db, "acme", "alice");
        mn_actor a = TH_ACTOR(.tenant = "acme", .identity = "alice");
        th_add(db, &a, NULL, "a lighthouse on the northern cape");
        mn_close(db);
        const char *plan = search_plan(schema, tid);
        ck_assert_msg(strstr(plan, "Index Scan using memories_p") &&
                      strstr(plan, cases[i].order), "dim %d: plan\n%s", cases[i].dim, plan);
        PGconn *c = connect_raw();
        const char *p[] = { schema };
        PGresult *r = PQexecParams(c, "SELECT indexdef FROM pg_indexes WHERE schemaname = $1 "
                                   "AND indexname = 'memories_hnsw'", 1, NULL, p, NULL, NULL, 0);
        ck_assert_int_eq(PQntuples(r), 1);
        ck_assert_msg(strstr(PQgetvalue(r, 0, 0), cases[i].opclass), "dim %d: %s",
                      cases[i].dim, PQgetvalue(r, 0, 0));
        PQclear(r);
        PQfinish(c);
    }
}
END_TEST

/* Wider than pgvector indexes: refused before anything is made, naming vector=local, which
 * takes it. */
START_TEST(wider_than_pgvector_indexes)
{
    const char *schema = fresh_schema();
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = 4001};
    const char *opts[] = { "vector=pgvector", NULL };
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
        mn_db *db = NULL;
        ck_assert_int_eq(mn_open(&db, url_for(schema, opts[i]), &cfg), MN_EUNSUPPORTED);
        ck_assert_msg(strstr(mn_errmsg(db), "4000") && strstr(mn_errmsg(db), "4001") &&
                      strstr(mn_errmsg(db), "vector=local"), "%s", mn_errmsg(db));
        mn_close(db);
    }
    /* Nothing was made: the schema is still new, for any dimension. */
    mn_db *db = th_open(url_for(schema, "vector=local"), &cfg);
    ck_assert_int_eq(mn_embed_dim(db), 4001);
    mn_close(db);
}
END_TEST

static Suite *pglite_suite(void)
{
    Suite *s = suite_create("pglite");
    TCase *tc = tcase_create("pgvector");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, auto_picks_pgvector_and_filters);
    tcase_add_test(tc, async_embedding_into_pgvector);
    tcase_add_test(tc, wide_vectors_index_as_halfvec);
    tcase_add_test(tc, wider_than_pgvector_indexes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *second = getenv("MN_PGLITE_URL_2");
    int parts = second && *second ? 2 : 1, part = 0;
    pid_t child = -1;
    fflush(stdout);
    if (parts == 2 && (child = fork()) == 0)
        part = 1;
    else if (child < 0)
        parts = 1; /* no second process: the whole suite here, on the first server */
    server_url = part ? second : getenv("MN_PGLITE_URL");
    mn_global_init();
    th_init();
    /* The modes run on PostgreSQL itself (test_store_pg); here pgvector's own search, once. */
    char name[64];
    snprintf(name, sizeof name, "pglite-pgvector-%d-of-%d", part + 1, parts);
    SRunner *sr = srunner_create(mni_conformance_suite_part(name, make_url, 0, part, parts));
    if (part == parts - 1)
        srunner_add_suite(sr, pglite_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (part)
        exit(failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
    int st = 0;
    if (child > 0 && (waitpid(child, &st, 0) != child || !WIFEXITED(st) ||
                      WEXITSTATUS(st) != EXIT_SUCCESS)) {
        printf("the second half (process %ld) failed\n", (long)child);
        failed++;
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
