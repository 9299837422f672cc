/* The vector index that follows the store (lib/index/vindex.c), through the public API: recall
 * against exact search (a second handle opened with MN_INDEX_NONE on the same file) with and
 * without filters, after deletes and updates; what must never be returned; persistence and
 * recovery from missing, damaged and stale files; writes by another handle; concurrent search
 * and add. Vectors are the caller's (dim 64), drawn around random cluster centres, so that
 * recall means something. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manushya.h"
#include "api/handle.h"
#include "core/bytes.h"
#include "core/hash.h"
#include "index/vindex.h"
#include "store/store.h"
#include "support/harness.h"

#define DIM 64
#define NCENTRES 40
#define K 10

/* ---- vectors --------------------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = (*s += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static double rng_gauss(uint64_t *s)
{
    double u = rng_unit(s) + 1e-12, v = rng_unit(s);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static void normalise(float *v)
{
    double n = 0;
    for (int i = 0; i < DIM; i++)
        n += (double)v[i] * v[i];
    n = sqrt(n);
    for (int i = 0; i < DIM; i++)
        v[i] = (float)(v[i] / n);
}

static float centres[NCENTRES][DIM];

static void make_centres(void)
{
    uint64_t s = 42;
    for (int c = 0; c < NCENTRES; c++) {
        for (int i = 0; i < DIM; i++)
            centres[c][i] = (float)rng_gauss(&s);
        normalise(centres[c]);
    }
}

/* A unit vector near a random centre. */
static void clustered(uint64_t *s, float *v)
{
    int c = (int)(rng_next(s) % NCENTRES);
    for (int i = 0; i < DIM; i++)
        v[i] = centres[c][i] + 0.35f * (float)rng_gauss(s) / sqrtf(DIM) * 2.0f;
    normalise(v);
}

/* ---- a corpus -------------------------------------------------------------------------------- */

/* Owners and types with skewed shares, so that filters of many selectivities exist:
 * identities i50 (50%), i20, i10, i2, i05 (0.5%), i01 (0.1%), rest; types fact (70%), event,
 * note (4%), rare (1%). */
static const char *owner_of(uint64_t h)
{
    unsigned r = (unsigned)(h % 1000);
    return r < 500 ? "i50" : r < 700 ? "i20" : r < 800 ? "i10" : r < 820 ? "i2"
           : r < 825 ? "i05" : r < 826 ? "i01" : "rest";
}

static const char *type_of(uint64_t h)
{
    unsigned r = (unsigned)((h >> 20) % 100);
    return r < 70 ? "fact" : r < 95 ? "event" : r < 99 ? "note" : "rare";
}

static const char *const OWNERS[] = { "i50", "i20", "i10", "i2", "i05", "i01", "rest" };

struct world {
    const char *path;
    mn_db *db;   /* the index */
    mn_db *ex;   /* the same file, exact scans (MN_INDEX_NONE) */
    const char *tenant_id;
    mn_actor sys;
    uint64_t seed;
    size_t n;
    const char *ids[12000]; /* kept strings */
};

static mn_db *open_index(const char *path)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = DIM};
    return th_open(path, &cfg);
}

static mn_db *open_exact(const char *path)
{
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = DIM, .index = MN_INDEX_NONE};
    mn_db *db = th_open(path, &cfg);
    ck_assert_ptr_null(db->index);
    return db;
}

static void world_open(struct world *w, const char *path)
{
    memset(w, 0, sizeof *w);
    w->path = path;
    w->db = open_index(path);
    w->tenant_id = th_tenant(w->db, "acme");
    for (size_t i = 0; i < sizeof OWNERS / sizeof *OWNERS; i++)
        th_identity(w->db, "acme", OWNERS[i]);
    w->ex = open_exact(path);
    w->sys = (mn_actor)TH_ACTOR(.tenant = "acme");
    w->seed = 7;
}

/* Adds n memories (batches of 500), with metadata {"g": i % 20}. */
static void world_add(struct world *w, mn_db *db, size_t n)
{
    const size_t batch = 500;
    mn_memory_input *in = calloc(batch, sizeof *in);
    float *vecs = malloc(batch * DIM * sizeof *vecs);
    char (*texts)[32] = malloc(batch * sizeof *texts);
    char (*metas)[32] = malloc(batch * sizeof *metas);
    ck_assert_uint_le(w->n + n, sizeof w->ids / sizeof *w->ids);
    for (size_t done = 0; done < n;) {
        size_t m = n - done < batch ? n - done : batch;
        for (size_t j = 0; j < m; j++) {
            size_t i = w->n + done + j;
            mn_memory_input_init(&in[j], MN_MEMORY_INPUT_VERSION);
            uint64_t h = rng_next(&w->seed);
            clustered(&w->seed, vecs + j * DIM);
            snprintf(texts[j], sizeof texts[j], "memory %zu", i);
            snprintf(metas[j], sizeof metas[j], "{\"g\":%zu}", i % 20);
            in[j] = (mn_memory_input)TH_IN(.identity = owner_of(h), .text = texts[j],
                                           .type = type_of(h), .metadata = metas[j],
                                           .embedding = vecs + j * DIM, .dim = DIM);
        }
        char **ids = NULL;
        TH_OK(db, mn_memory_add_many(db, &w->sys, in, m, &ids, NULL));
        for (size_t j = 0; j < m; j++)
            w->ids[w->n + done + j] = th_fmt("%s", ids[j]);
        mn_strings_free(ids, m);
        done += m;
    }
    w->n += n;
    free(in);
    free(vecs);
    free(texts);
    free(metas);
}

static void world_close(struct world *w)
{
    mn_close(w->db);
    mn_close(w->ex);
    w->db = w->ex = NULL;
}

static void sync_index(mn_db *db, const char *tenant_id)
{
    ck_assert_ptr_nonnull(db->index);
    ck_assert_int_eq(mni_vindex_sync(db->index, tenant_id, 120000), MN_OK);
}

static struct mni_vindex_stats stats_of(mn_db *db, const char *tenant_id)
{
    struct mni_vindex_stats st;
    mni_vindex_stats(db->index, tenant_id, &st);
    return st;
}

static mn_memories *search(mn_db *db, const mn_actor *a, const float *q, const mn_filter *f,
                              int k)
{
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .vector = q, .dim = DIM, .k = k};
    if (f)
        so.filter = f;
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, a, &so, &l));
    return l;
}

/* Mean recall@K of the index against the exact handle over nq queries with filter f. */
static double recall(struct world *w, const mn_filter *f, int nq, uint64_t seed)
{
    double sum = 0;
    int counted = 0;
    for (int qi = 0; qi < nq; qi++) {
        float q[DIM];
        clustered(&seed, q);
        mn_memories *a = search(w->db, &w->sys, q, f, K);
        mn_memories *e = search(w->ex, &w->sys, q, f, K);
        ck_assert_uint_le(a->count, K);
        if (e->count) {
            size_t hit = 0;
            for (size_t i = 0; i < e->count; i++)
                for (size_t j = 0; j < a->count; j++)
                    hit += strcmp(e->items[i]->id, a->items[j]->id) == 0;
            sum += (double)hit / (double)e->count;
            counted++;
        }
        /* Results are best first, and what the filter asks. */
        for (size_t j = 0; j < a->count; j++) {
            if (j)
                ck_assert(a->items[j]->similarity <= a->items[j - 1]->similarity + 1e-6);
            if (f && f->type)
                ck_assert_str_eq(a->items[j]->type, f->type);
        }
        mn_memories_free(a);
        mn_memories_free(e);
    }
    return counted ? sum / counted : 1.0;
}

/* ---- tests ------------------------------------------------------------------------------------- */

START_TEST(recall_with_and_without_filters)
{
    struct world w;
    world_open(&w, th_tmppath("recall.db"));
    world_add(&w, w.db, 8000);
    sync_index(w.db, w.tenant_id);
    struct mni_vindex_stats st0 = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st0.count, 8000);
    ck_assert_int_gt(st0.seq, 0);

    struct {
        mn_filter f;
        const char *what;
    } cases[] = {
        {MN_FILTER_INIT, "no filter (100%)"},
        {{.version = MN_FILTER_VERSION, .identity = "i50"}, "identity 50%"},
        {{.version = MN_FILTER_VERSION, .type = "event"}, "type 25%"},
        {{.version = MN_FILTER_VERSION, .identity = "i20"}, "identity 20%"},
        {{.version = MN_FILTER_VERSION, .identity = "i10"}, "identity 10%"},
        {{.version = MN_FILTER_VERSION, .identity = "i2"}, "identity 2%"},
        {{.version = MN_FILTER_VERSION, .type = "rare"}, "type 1%"},
        {{.version = MN_FILTER_VERSION, .identity = "i05"}, "identity 0.5%"},
        {{.version = MN_FILTER_VERSION, .identity = "i01"}, "identity 0.1%"},
        {{.version = MN_FILTER_VERSION, .identity = "i20", .type = "note"},
         "identity and type 0.8%"},
        {{.version = MN_FILTER_VERSION, .identity = "i50", .type = "fact"},
         "identity and type 35%"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        struct mni_vindex_stats b = stats_of(w.db, w.tenant_id);
        double r = recall(&w, &cases[c].f, 40, 1000 + c);
        struct mni_vindex_stats a = stats_of(w.db, w.tenant_id);
        if (getenv("MN_TEST_VERBOSE"))
            fprintf(stderr, "recall@10 %.3f  %-24s graph %zu exact %zu\n", r, cases[c].what,
                    a.graph - b.graph, a.exact - b.exact);
        ck_assert_msg(r >= 0.95, "%s: recall@10 %.3f", cases[c].what, r);
    }
    struct mni_vindex_stats st = stats_of(w.db, w.tenant_id);
    /* Both plans served, and the index (not the fallback) answered. */
    ck_assert_uint_gt(st.graph, 0);
    ck_assert_uint_gt(st.exact, 0);
    ck_assert_uint_ge(st.searches, 400);
    ck_assert_uint_eq(st.fallback, st0.fallback);
    world_close(&w);
}
END_TEST

START_TEST(recall_after_deletes_and_updates)
{
    struct world w;
    world_open(&w, th_tmppath("churn.db"));
    world_add(&w, w.db, 5000);
    sync_index(w.db, w.tenant_id);
    uint64_t s = 99;
    /* 10% soft-deleted, 10% hard-deleted (one batch), 10% given new vectors, then a few
     * restored. */
    const char **hard = th_keep(calloc(500, sizeof *hard));
    size_t nhard = 0;
    char *gone = th_keep(calloc(w.n, 1)); /* 1 soft, 2 hard */
    for (size_t i = 0; i < w.n; i++) {
        unsigned r = (unsigned)(rng_next(&s) % 10);
        if (r == 0) {
            TH_OK(w.db, mn_memory_delete(w.db, &w.sys, w.ids[i], MN_DELETE_SOFT));
            gone[i] = 1;
        } else if (r == 1 && nhard < 500) {
            hard[nhard++] = w.ids[i];
            gone[i] = 2;
        } else if (r == 2) {
            float v[DIM];
            clustered(&s, v);
            mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                                    .set = MN_MEMORY_SET_EMBEDDING,
                                    .embedding = v,
                                    .dim = DIM};
            TH_OK(w.db, mn_memory_update(w.db, &w.sys, w.ids[i], &ch, NULL));
        }
    }
    TH_OK(w.db, mn_memory_delete_many(w.db, &w.sys, hard, nhard, MN_DELETE_HARD));
    size_t restored = 0;
    for (size_t i = 0; i < w.n && restored < 50; i++)
        if (gone[i] == 1) {
            TH_OK(w.db, mn_memory_restore(w.db, &w.sys, w.ids[i]));
            gone[i] = 0;
            restored++;
        }
    /* Before the index caught up (changes scored from the feed) and after. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            sync_index(w.db, w.tenant_id);
        ck_assert_msg(recall(&w, NULL, 40, 5) >= 0.95, "pass %d", pass);
        mn_filter f = {.version = MN_FILTER_VERSION, .identity = "i10"};
        ck_assert_msg(recall(&w, &f, 40, 6) >= 0.95, "pass %d, identity", pass);
        /* Deleted memories never come back, unless asked for (soft ones). */
        for (int qi = 0; qi < 30; qi++) {
            float q[DIM];
            clustered(&s, q);
            mn_memories *l = search(w.db, &w.sys, q, NULL, 50);
            for (size_t j = 0; j < l->count; j++)
                for (size_t i = 0; i < w.n; i++)
                    if (gone[i] && strcmp(w.ids[i], l->items[j]->id) == 0)
                        ck_abort_msg("deleted memory %zu returned", i);
            mn_memories_free(l);
        }
        mn_filter with = {.version = MN_FILTER_VERSION, .flags = MN_WITH_DELETED};
        ck_assert_msg(recall(&w, &with, 30, 8) >= 0.95, "pass %d, with deleted", pass);
    }
    struct mni_vindex_stats st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.count, 5000 - nhard);
    world_close(&w);
}
END_TEST

/* Expiry is decided at query time; even a row whose expires_at was edited behind the index's
 * back (no seq bump) is checked again when read. */
START_TEST(expired_never_returned)
{
    struct world w;
    world_open(&w, th_tmppath("expiry.db"));
    world_add(&w, w.db, 3000);
    sync_index(w.db, w.tenant_id);
    float q[DIM];
    uint64_t s = 3;
    clustered(&s, q);
    mn_memories *l = search(w.db, &w.sys, q, NULL, K);
    ck_assert_uint_eq(l->count, K);
    const char *top[K];
    for (size_t i = 0; i < K; i++)
        top[i] = th_fmt("%s", l->items[i]->id);
    mn_memories_free(l);
    sqlite3 *raw = NULL;
    ck_assert_int_eq(sqlite3_open(w.path, &raw), SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);
    for (size_t i = 0; i < K; i += 2) {
        char *sql = sqlite3_mprintf("UPDATE memories SET expires_at = 1 WHERE id = %Q", top[i]);
        ck_assert_int_eq(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_free(sql);
    }
    sqlite3_close(raw);
    l = search(w.db, &w.sys, q, NULL, K);
    ck_assert_uint_eq(l->count, K); /* widened past the expired ones */
    for (size_t j = 0; j < l->count; j++)
        for (size_t i = 0; i < K; i += 2)
            ck_assert_str_ne(l->items[j]->id, top[i]);
    mn_memories_free(l);
    mn_filter f = {.version = MN_FILTER_VERSION, .flags = MN_WITH_EXPIRED};
    l = search(w.db, &w.sys, q, &f, K);
    for (size_t i = 0; i < K; i++)
        ck_assert_str_eq(l->items[i]->id, top[i]);
    mn_memories_free(l);
    world_close(&w);
}
END_TEST

START_TEST(metadata_filter)
{
    struct world w;
    world_open(&w, th_tmppath("meta.db"));
    world_add(&w, w.db, 4000);
    sync_index(w.db, w.tenant_id);
    mn_filter f = {.version = MN_FILTER_VERSION, .metadata = "{\"g\":7}"}; /* 5% */
    ck_assert(recall(&w, &f, 30, 11) >= 0.95);
    mn_filter g = {
        .version = MN_FILTER_VERSION, .metadata = "{\"g\":7}", .identity = "i2"}; /* 0.1% */
    ck_assert(recall(&w, &g, 30, 12) >= 0.95);
    float q[DIM];
    uint64_t s = 5;
    clustered(&s, q);
    mn_memories *l = search(w.db, &w.sys, q, &f, K);
    ck_assert_uint_eq(l->count, K);
    for (size_t i = 0; i < l->count; i++)
        ck_assert(th_json_contains(l->items[i]->metadata, "{\"g\":7}"));
    mn_memories_free(l);
    world_close(&w);
}
END_TEST

/* Results of a fixed query set, as "id,id,...;" lines. */
static const char *result_sig(mn_db *db, const mn_actor *a, int nq)
{
    uint64_t s = 77;
    char *sig = th_keep(calloc(1, (size_t)nq * K * 40 + 1));
    for (int qi = 0; qi < nq; qi++) {
        float q[DIM];
        clustered(&s, q);
        mn_memories *l = search(db, a, q, NULL, K);
        for (size_t i = 0; i < l->count; i++) {
            strcat(sig, l->items[i]->id);
            strcat(sig, ",");
        }
        strcat(sig, ";");
        mn_memories_free(l);
    }
    return sig;
}

static const char *index_file(struct world *w, const char *ext)
{
    return th_fmt("%s.index/%s.%s", w->path, w->tenant_id, ext);
}

START_TEST(persistence_round_trip)
{
    struct world w;
    world_open(&w, th_tmppath("persist.db"));
    world_add(&w, w.db, 3000);
    sync_index(w.db, w.tenant_id);
    const char *before = result_sig(w.db, &w.sys, 20);
    world_close(&w);
    ck_assert(th_file_exists(index_file(&w, "hnsw")));
    ck_assert(th_file_exists(index_file(&w, "attr")));
    uint64_t h1 = th_file_hash(index_file(&w, "hnsw"));

    /* Reopened: the partition comes from its files, not from the store. */
    w.db = open_index(w.path);
    const char *after = result_sig(w.db, &w.sys, 20);
    struct mni_vindex_stats st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.loaded, 1);
    ck_assert_uint_eq(st.quick, 1); /* checked by the store's digest, no row read */
    ck_assert_uint_eq(st.missing + st.rejected, 0);
    ck_assert_uint_eq(st.count, 3000);
    ck_assert_uint_eq(st.applied, 0); /* nothing to catch up */
    ck_assert_uint_eq(st.fallback, 0);
    ck_assert_str_eq(before, after);
    /* Nothing changed: closing leaves the files as they were. */
    mn_close(w.db);
    ck_assert_uint_eq(th_file_hash(index_file(&w, "hnsw")), h1);

    /* Writes after the save are caught up from the feed on the next open. */
    w.db = open_index(w.path);
    w.ex = open_exact(w.path);
    world_add(&w, w.ex, 200); /* through the exact handle: the index handle hears nothing */
    ck_assert(recall(&w, NULL, 20, 3) >= 0.95);
    sync_index(w.db, w.tenant_id);
    st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.loaded, 1);
    ck_assert_uint_eq(st.quick, 1); /* the 200 changes since the files square the digest */
    ck_assert_uint_eq(st.count, 3200);
    ck_assert_uint_eq(st.applied, 200);
    world_close(&w);

    /* A read-only handle loads the files and never writes. */
    uint64_t hh = th_file_hash(index_file(&w, "hnsw")), ha = th_file_hash(index_file(&w, "attr"));
    mn_config ro = {.version = MN_CONFIG_VERSION, .flags = MN_OPEN_READONLY};
    mn_db *r = th_open(w.path, &ro);
    mn_actor sys = TH_ACTOR(.tenant = "acme");
    result_sig(r, &sys, 5);
    ck_assert_uint_eq(stats_of(r, w.tenant_id).loaded, 1);
    mn_close(r);
    ck_assert_uint_eq(th_file_hash(index_file(&w, "hnsw")), hh);
    ck_assert_uint_eq(th_file_hash(index_file(&w, "attr")), ha);
}
END_TEST

/* The digest's term, folded modulo 2^31 - 1, is the schemas' formula (x^2 mod p of x = (key *
 * 48271 + seq * 16807 + 1) mod p, by C's remainders), at the edges and at random. */
static int64_t digest_term_by_division(int64_t key, int64_t seq)
{
    int64_t x = ((key % MNI_DIGEST_P) * 48271 + (seq % MNI_DIGEST_P) * 16807 + 1) % MNI_DIGEST_P;
    return x * x % MNI_DIGEST_P;
}

START_TEST(digest_term_folds_as_it_divides)
{
    const int64_t edges[] = { 0, 1, 2, MNI_DIGEST_P - 1, MNI_DIGEST_P, MNI_DIGEST_P + 1,
                              2 * MNI_DIGEST_P, ((int64_t)1 << 31), ((int64_t)1 << 62),
                              INT64_MAX, INT64_MAX - 1, -1, -MNI_DIGEST_P, INT64_MIN + 1 };
    size_t ne = sizeof edges / sizeof *edges;
    for (size_t i = 0; i < ne; i++)
        for (size_t j = 0; j < ne; j++)
            ck_assert_int_eq(mni_digest_term(edges[i], edges[j]),
                             digest_term_by_division(edges[i], edges[j]));
    uint64_t seed = 11;
    for (int i = 0; i < 1000000; i++) {
        int64_t key = (int64_t)(rng_next(&seed) >> (i % 40)), seq = (int64_t)(rng_next(&seed) >> 1);
        ck_assert_int_eq(mni_digest_term(key, seq), digest_term_by_division(key, seq));
    }
    uint64_t big = UINT64_MAX;
    ck_assert_int_eq(mni_digest_mod(big), (int64_t)(big % (uint64_t)MNI_DIGEST_P));
}
END_TEST

/* A search's read-ahead of the files (mni_vindex_prefetch, which mn_memory_search starts once
 * it knows the tenant): one unused (asked twice, then the handle closes) is waited for and
 * freed; one used serves the search as a load on its own does, checked by the digest. */
START_TEST(prefetched_files)
{
    struct world w;
    world_open(&w, th_tmppath("prefetch.db"));
    world_add(&w, w.db, 2000);
    sync_index(w.db, w.tenant_id);
    const char *before = result_sig(w.db, &w.sys, 10);
    world_close(&w);

    w.db = open_index(w.path);
    mni_vindex_prefetch(w.db->index, w.tenant_id);
    mni_vindex_prefetch(w.db->index, w.tenant_id);
    mni_vindex_prefetch(w.db->index, "no-such-tenant"); /* no files: nothing to read */
    mn_close(w.db);

    w.db = open_index(w.path);
    mni_vindex_prefetch(w.db->index, w.tenant_id);
    ck_assert_str_eq(result_sig(w.db, &w.sys, 10), before);
    struct mni_vindex_stats st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.loaded, 1);
    ck_assert_uint_eq(st.quick, 1);
    ck_assert_uint_eq(st.missing + st.rejected + st.fallback, 0);
    ck_assert_uint_eq(st.count, 2000);
    /* Loaded now: another read-ahead does nothing. */
    mni_vindex_prefetch(w.db->index, w.tenant_id);
    ck_assert_str_eq(result_sig(w.db, &w.sys, 10), before);
    ck_assert_uint_eq(stats_of(w.db, w.tenant_id).loaded, 1);
    mn_close(w.db);
}
END_TEST

/* Vectors of 3072 dimensions (text-embedding-3-large's), the local embedder's here: the
 * partition answers from its graph, and by an exact scan when a filter leaves few; it is
 * saved on close and read back from its files on the next open, answering the same. */
#define WIDE_DIM 3072
#define WIDE_N MNI_VINDEX_SAVE_MIN /* the fewest a partition is saved with */

/* Searches for every 50th text (each must come first); the ids found, with
 * those of a search of the few identity's memories (every 20th), in one string. */
static const char *wide_searches(mn_db *db, const mn_actor *sys, char texts[][48],
                                 const char **ids)
{
    const char *sig = "";
    for (int at = 0; at < WIDE_N; at += 50) {
        mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = texts[at],
                                .k = K};
        mn_memories *l = NULL;
        TH_OK(db, mn_memory_search(db, sys, &so, &l));
        ck_assert_uint_eq(l->count, K);
        ck_assert_msg(strcmp(l->items[0]->id, ids[at]) == 0, "\"%s\": first is \"%s\"",
                      texts[at], l->items[0]->text);
        for (size_t i = 0; i < l->count; i++)
            sig = th_fmt("%s%s ", sig, l->items[i]->id);
        mn_memories_free(l);
    }
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .query = texts[20], .k = K,
                            .filter = &(mn_filter){.version = MN_FILTER_VERSION,
                                                   .identity = "few"}};
    mn_memories *l = NULL;
    TH_OK(db, mn_memory_search(db, sys, &so, &l));
    ck_assert_uint_eq(l->count, K);
    ck_assert_str_eq(l->items[0]->id, ids[20]);
    for (size_t i = 0; i < l->count; i++)
        sig = th_fmt("%s%s ", sig, l->items[i]->id);
    mn_memories_free(l);
    return sig;
}

START_TEST(wide_vectors_graph_and_files)
{
    struct world w = {.path = th_tmppath("wide.db")};
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = WIDE_DIM};
    w.db = th_open(w.path, &cfg);
    w.tenant_id = th_tenant(w.db, "acme");
    th_identity(w.db, "acme", "many");
    th_identity(w.db, "acme", "few");
    mn_actor sys = TH_ACTOR(.tenant = "acme");
    static char texts[WIDE_N][48];
    const char *ids[WIDE_N];
    static mn_memory_input in[WIDE_N];
    for (int i = 0; i < WIDE_N; i++) {
        static const char *const words[] = {
            "amber", "basalt", "cedar", "delta", "ember", "fjord", "granite", "heron",
            "iris", "juniper", "kestrel", "lagoon", "marble", "nettle", "onyx", "pelican",
            "quartz", "raven", "sorrel", "tundra", "umber", "violet", "willow", "yarrow"};
        int n = (int)(sizeof words / sizeof *words);
        snprintf(texts[i], sizeof texts[i], "%s %s %s %s %d", words[i % n],
                 words[i * 7 % (n - 1)], words[i * 13 % (n - 5)], words[i / n % n], i);
        in[i] = (mn_memory_input)TH_IN(.identity = i % 20 ? "many" : "few", .text = texts[i]);
    }
    char **got = NULL;
    TH_OK(w.db, mn_memory_add_many(w.db, &sys, in, WIDE_N, &got, NULL));
    for (int i = 0; i < WIDE_N; i++)
        ids[i] = th_fmt("%s", got[i]);
    mn_strings_free(got, WIDE_N);
    sync_index(w.db, w.tenant_id);
    const char *before = wide_searches(w.db, &sys, texts, ids);
    struct mni_vindex_stats st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.count, WIDE_N);
    ck_assert_uint_gt(st.graph, 0);
    ck_assert_uint_gt(st.exact, 0);
    ck_assert_uint_eq(st.fallback, 0);
    mn_close(w.db);
    ck_assert(th_file_exists(index_file(&w, "hnsw")));

    w.db = th_open(w.path, NULL);
    ck_assert_int_eq(mn_embed_dim(w.db), WIDE_DIM);
    ck_assert_str_eq(wide_searches(w.db, &sys, texts, ids), before);
    st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.loaded, 1);
    ck_assert_uint_eq(st.missing + st.rejected, 0);
    ck_assert_uint_eq(st.applied, 0);
    ck_assert_uint_gt(st.graph, 0);
    mn_close(w.db);
}
END_TEST

/* Opens the index handle on w->path, searches, and checks that the partition was rebuilt
 * (reason: rejected or missing) and answers as the exact handle does. */
static void expect_rebuilt(struct world *w, int missing, const char *what)
{
    w->db = open_index(w->path);
    w->ex = open_exact(w->path);
    mn_memories_free(search(w->db, &w->sys, centres[0], NULL, K)); /* loads */
    /* A damaged vector section is found after the load, when the worker copies it (before it
     * changes anything): the counts are final once it has caught up. */
    sync_index(w->db, w->tenant_id);
    struct mni_vindex_stats st = stats_of(w->db, w->tenant_id);
    ck_assert_msg(st.loaded == 0 && st.rejected == (size_t)!missing &&
                  st.missing == (size_t)missing,
                  "%s: loaded %zu rejected %zu missing %zu", what, st.loaded, st.rejected,
                  st.missing);
    ck_assert_uint_eq(stats_of(w->db, w->tenant_id).count, w->n);
    double r = recall(w, NULL, 20, 21);
    ck_assert_msg(r >= 0.95, "%s: recall %.3f", what, r);
    world_close(w);
    /* Saved again on close: the next open trusts the new files. */
    w->db = open_index(w->path);
    mn_memories_free(search(w->db, &w->sys, centres[0], NULL, K));
    ck_assert_msg(stats_of(w->db, w->tenant_id).loaded == 1, "%s: not saved again", what);
    mn_close(w->db);
    w->db = NULL;
}

/* The attribute file's layout (index/vindex_attr.c): a header of 88 bytes with the payload's
 * checksum at 64 and its own at 80; the records, 72 bytes each, key first, end the file. */
#define ATTR_HDR 88
#define ATTR_REC 72

static void fix_attr_sums(char *b, size_t len)
{
    unsigned char *u = (unsigned char *)b;
    mni_store64(u + 64, mni_hash64(u + ATTR_HDR, len - ATTR_HDR, 0));
    mni_store64(u + 80, mni_hash64(u, 80, 0));
}

START_TEST(damaged_files_are_rebuilt)
{
    struct world w;
    world_open(&w, th_tmppath("damage.db"));
    world_add(&w, w.db, 2000);
    sync_index(w.db, w.tenant_id);
    world_close(&w);
    const char *g = index_file(&w, "hnsw"), *a = index_file(&w, "attr");
    size_t len;

    /* A flipped byte in the graph: in its vectors, in its lists (both mapped at load, checked
     * when the worker makes the graph its own); the graph truncated. */
    char *b = th_read_file(g, &len);
    b[65536 + 100] ^= 0x40;
    th_write_file(g, b, len);
    expect_rebuilt(&w, 0, "graph vector byte flipped");
    b = th_read_file(g, &len);
    b[len - 100] ^= 0x40;
    th_write_file(g, b, len);
    expect_rebuilt(&w, 0, "graph list byte flipped");
    b = th_read_file(g, &len);
    th_write_file(g, b, len - 4096);
    expect_rebuilt(&w, 0, "graph truncated");
    /* The attributes truncated. */
    b = th_read_file(a, &len);
    th_write_file(a, b, len - 7);
    expect_rebuilt(&w, 0, "attributes truncated");
    /* A flipped byte in the attributes' records (the last one's importance), the checksums
     * left as they were: only the payload's checksum tells, checked on the opening thread
     * while another parses the file, which finds nothing wrong. */
    b = th_read_file(a, &len);
    b[len - ATTR_REC + 48] ^= 0x40;
    th_write_file(a, b, len);
    expect_rebuilt(&w, 0, "attributes record byte flipped");
    /* A key twice in the attributes (the last record's key in the one before), with the
     * checksums the saver would write: the load's key map refuses it. */
    b = th_read_file(a, &len);
    memcpy(b + len - 2 * ATTR_REC, b + len - ATTR_REC, 8);
    fix_attr_sums(b, len);
    th_write_file(a, b, len);
    expect_rebuilt(&w, 0, "attributes with a key twice");
    /* The graph gone, the attributes left. */
    ck_assert_int_eq(unlink(g), 0);
    expect_rebuilt(&w, 0, "graph missing");
    /* The attributes of another save (another seq). */
    b = th_read_file(a, &len);
    char *old_attr = th_keep(malloc(len));
    memcpy(old_attr, b, len);
    size_t old_len = len;
    w.db = open_index(w.path);
    world_add(&w, w.db, 10);
    sync_index(w.db, w.tenant_id);
    mn_close(w.db);
    th_write_file(a, old_attr, old_len);
    expect_rebuilt(&w, 0, "attributes of another save");
    /* Both gone. */
    ck_assert_int_eq(unlink(g), 0);
    ck_assert_int_eq(unlink(a), 0);
    expect_rebuilt(&w, 1, "both missing");
    /* Garbage of the right size. */
    b = th_read_file(g, &len);
    char *junk = th_keep(malloc(len));
    th_random_bytes(junk, len, 5);
    th_write_file(g, junk, len);
    expect_rebuilt(&w, 0, "graph replaced by noise");
}
END_TEST

static void copy_file(const char *from, const char *to)
{
    size_t len;
    char *b = th_read_file(from, &len);
    if (b)
        th_write_file(to, b, len);
    else
        unlink(to);
}

/* A closed database and its WAL, as a backup would take them (or put them back). */
static void copy_db(const char *from, const char *to)
{
    copy_file(from, to);
    copy_file(th_fmt("%s-wal", from), th_fmt("%s-wal", to));
    unlink(th_fmt("%s-shm", to));
}

/* The database goes back to a backup: index files ahead of it, or of another timeline. */
START_TEST(stale_files_are_rebuilt)
{
    struct world w;
    world_open(&w, th_tmppath("stale.db"));
    world_add(&w, w.db, 2000);
    sync_index(w.db, w.tenant_id);
    world_close(&w);
    const char *backup = th_tmppath("backup.db");
    copy_db(w.path, backup);

    /* 300 more, saved with the index at a higher seq; then the backup comes back. */
    w.db = open_index(w.path);
    world_add(&w, w.db, 300);
    sync_index(w.db, w.tenant_id);
    mn_close(w.db);
    copy_db(backup, w.path);
    w.n -= 300;
    expect_rebuilt(&w, 0, "index ahead of the database");

    /* Again, but the restored database is written past the files' seq before the index opens
     * (another timeline with the same seqs and keys). */
    w.db = open_index(w.path);
    world_add(&w, w.db, 300);
    sync_index(w.db, w.tenant_id);
    mn_close(w.db);
    copy_db(backup, w.path);
    w.n -= 300;
    w.ex = open_exact(w.path);
    world_add(&w, w.ex, 400);
    mn_close(w.ex);
    w.ex = NULL;
    expect_rebuilt(&w, 0, "database restored and written past the files");
}
END_TEST

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *raw = NULL;
    ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);
    ck_assert_int_eq(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
}

/* The store's digest of its (key, seq) pairs stands for reading them all when it matches the
 * files; when it does not, every row is read, and that decides. */
START_TEST(digest_mismatch_reads_every_row)
{
    struct world w;
    world_open(&w, th_tmppath("digest.db"));
    world_add(&w, w.db, 2000);
    sync_index(w.db, w.tenant_id);
    world_close(&w);

    /* A digest that is off (not the rows): the full check finds the files right. */
    raw_exec(w.path, "UPDATE memory_digest SET sum = (sum + 1) % 2147483647");
    w.db = open_index(w.path);
    mn_memories_free(search(w.db, &w.sys, centres[0], NULL, K));
    struct mni_vindex_stats st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.loaded, 1);
    ck_assert_uint_eq(st.quick, 0);
    ck_assert_uint_eq(st.missing + st.rejected, 0);
    mn_close(w.db);
    raw_exec(w.path, "UPDATE memory_digest SET sum = (sum + 2147483646) % 2147483647");

    /* A row changed behind the feed's back (its seq moved below the files' without a change
     * of the store's seq): the triggers keep the digest, which no longer squares, and the rows
     * show the file wrong. */
    raw_exec(w.path, "UPDATE memories SET seq = 1 WHERE key = (SELECT max(key) FROM memories)");
    expect_rebuilt(&w, 0, "row changed behind the feed's back");
    /* And the files saved again are trusted on the digest alone. */
    w.db = open_index(w.path);
    mn_memories_free(search(w.db, &w.sys, centres[0], NULL, K));
    ck_assert_uint_eq(stats_of(w.db, w.tenant_id).quick, 1);
    mn_close(w.db);
}
END_TEST

/* A check of the files that cannot read the store (here the feed's table is away; on a server,
 * a connection lost) says nothing of them: they are neither rejected nor overwritten by the
 * close, and the next open that can read the store loads them. */
START_TEST(unreadable_store_keeps_the_files)
{
    struct world w;
    world_open(&w, th_tmppath("unread.db"));
    world_add(&w, w.db, 2000);
    sync_index(w.db, w.tenant_id);
    world_close(&w);
    uint64_t hh = th_file_hash(index_file(&w, "hnsw")), ha = th_file_hash(index_file(&w, "attr"));

    raw_exec(w.path, "ALTER TABLE memory_tombstones RENAME TO tombstones_away");
    w.db = open_index(w.path);
    mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION, .vector = centres[0],
                            .dim = DIM, .k = K};
    mn_memories *l = NULL;
    mn_memory_search(w.db, &w.sys, &so, &l); /* the store's answer, whatever it is */
    mn_memories_free(l);
    struct mni_vindex_stats st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.loaded + st.rejected + st.missing, 0);
    mn_close(w.db);
    ck_assert_uint_eq(th_file_hash(index_file(&w, "hnsw")), hh);
    ck_assert_uint_eq(th_file_hash(index_file(&w, "attr")), ha);

    raw_exec(w.path, "ALTER TABLE tombstones_away RENAME TO memory_tombstones");
    w.db = open_index(w.path);
    mn_memories_free(search(w.db, &w.sys, centres[0], NULL, K));
    st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.loaded, 1);
    ck_assert_uint_eq(st.quick, 1);
    ck_assert_uint_eq(st.rejected, 0);
    mn_close(w.db);
}
END_TEST

/* Another handle (as another process would) writes; the first handle's next search sees it. */
START_TEST(writes_of_another_handle)
{
    struct world w;
    world_open(&w, th_tmppath("two.db"));
    world_add(&w, w.db, 2000);
    sync_index(w.db, w.tenant_id);
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = DIM};
    mn_db *other = th_open(w.path, &cfg);
    float v[DIM];
    memcpy(v, centres[3], sizeof v);
    mn_memory_input in = TH_IN(.identity = "i01", .text = "needle", .embedding = v, .dim = DIM);
    mn_memory *m = NULL;
    TH_OK(other, mn_memory_add(other, &w.sys, &in, &m));
    const char *id = th_fmt("%s", m->id);
    mn_memory_free(m);

    mn_memories *l = search(w.db, &w.sys, centres[3], NULL, 1);
    ck_assert_uint_eq(l->count, 1);
    ck_assert_str_eq(l->items[0]->id, id);
    ck_assert_double_eq_tol(l->items[0]->similarity, 1.0, 1e-5);
    mn_memories_free(l);
    mn_filter f = {.version = MN_FILTER_VERSION, .identity = "i01"};
    l = search(w.db, &w.sys, centres[3], &f, 1);
    ck_assert_str_eq(l->items[0]->id, id);
    mn_memories_free(l);

    /* Moved elsewhere by the other handle. */
    mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                            .set = MN_MEMORY_SET_EMBEDDING,
                            .embedding = centres[4],
                            .dim = DIM};
    TH_OK(other, mn_memory_update(other, &w.sys, id, &ch, NULL));
    l = search(w.db, &w.sys, centres[4], NULL, 1);
    ck_assert_str_eq(l->items[0]->id, id);
    mn_memories_free(l);
    sync_index(w.db, w.tenant_id);
    l = search(w.db, &w.sys, centres[3], NULL, K);
    for (size_t i = 0; i < l->count; i++)
        ck_assert(strcmp(l->items[i]->id, id) != 0 || l->items[i]->similarity < 0.99);
    mn_memories_free(l);
    l = search(w.db, &w.sys, centres[4], NULL, 1);
    ck_assert_str_eq(l->items[0]->id, id);
    mn_memories_free(l);

    /* Soft-deleted, restored, hard-deleted by the other handle. */
    TH_OK(other, mn_memory_delete(other, &w.sys, id, MN_DELETE_SOFT));
    l = search(w.db, &w.sys, centres[4], NULL, 1);
    ck_assert_str_ne(l->items[0]->id, id);
    mn_memories_free(l);
    TH_OK(other, mn_memory_restore(other, &w.sys, id));
    l = search(w.db, &w.sys, centres[4], NULL, 1);
    ck_assert_str_eq(l->items[0]->id, id);
    mn_memories_free(l);
    TH_OK(other, mn_memory_delete(other, &w.sys, id, MN_DELETE_HARD));
    f.flags = MN_WITH_DELETED;
    l = search(w.db, &w.sys, centres[4], &f, 1);
    ck_assert(l->count == 0 || strcmp(l->items[0]->id, id) != 0);
    mn_memories_free(l);
    sync_index(w.db, w.tenant_id);
    ck_assert_uint_eq(stats_of(w.db, w.tenant_id).count, 2000);

    /* An identity deleted with its memories (one seq for all their tombstones). */
    TH_OK(other, mn_identity_delete(other, &w.sys, "i2"));
    mn_filter fi = {.version = MN_FILTER_VERSION, .type = "fact"};
    ck_assert(recall(&w, &fi, 20, 9) >= 0.95);
    sync_index(w.db, w.tenant_id);
    ck_assert_uint_eq(stats_of(w.db, w.tenant_id).count, th_count_memories(w.ex, &w.sys, 0));
    mn_close(other);
    world_close(&w);
}
END_TEST

static int count_tombstones(const char *path)
{
    sqlite3 *raw = NULL;
    sqlite3_stmt *q = NULL;
    ck_assert_int_eq(sqlite3_open(path, &raw), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(raw, "SELECT count(*) FROM memory_tombstones", -1, &q,
                                        NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    int n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(raw);
    return n;
}

static void hard_delete(struct world *w, size_t from, size_t n)
{
    for (size_t i = from; i < from + n; i++)
        TH_OK(w->db, mn_memory_delete(w->db, &w->sys, w->ids[i], MN_DELETE_HARD));
    sync_index(w->db, w->tenant_id);
}

/* Tombstones are pruned one save after the files that needed them; an index of another handle
 * that lags behind the pruned feed rebuilds itself rather than keep deleted memories. */
START_TEST(tombstones_pruned_laggards_rebuild)
{
    struct world w;
    world_open(&w, th_tmppath("prune.db"));
    world_add(&w, w.db, 2000);
    sync_index(w.db, w.tenant_id);
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = DIM};
    mn_db *lag = th_open(w.path, &cfg);
    sync_index(lag, w.tenant_id); /* built now; it hears of nothing more until it searches */
    ck_assert_uint_eq(stats_of(lag, w.tenant_id).count, 2000);

    hard_delete(&w, 0, 10);
    ck_assert_int_eq(mni_vindex_save(w.db->index), MN_OK); /* the first files: nothing pruned */
    ck_assert_int_eq(count_tombstones(w.path), 10);
    hard_delete(&w, 10, 5);
    ck_assert_int_eq(mni_vindex_save(w.db->index), MN_OK); /* prunes what the first needed */
    ck_assert_int_eq(count_tombstones(w.path), 5);

    sync_index(lag, w.tenant_id);
    struct mni_vindex_stats st = stats_of(lag, w.tenant_id);
    ck_assert_uint_eq(st.resets, 1);
    ck_assert_uint_eq(st.count, 1985);
    ck_assert_uint_eq(stats_of(w.db, w.tenant_id).resets, 0);
    mn_close(lag);

    /* The files written last cover the horizon: trusted at the next open. */
    world_close(&w);
    w.db = open_index(w.path);
    sync_index(w.db, w.tenant_id);
    st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.loaded, 1);
    ck_assert_uint_eq(st.rejected, 0);
    ck_assert_uint_eq(st.count, 1985);
    mn_close(w.db);
}
END_TEST

static int count_gone(void *ctx, const struct mni_change *c)
{
    *(int *)ctx += c->gone;
    return 0;
}

/* A database that is not a file keeps no index files; its checkpoints (every so many changes,
 * and mni_vindex_save) still prune the tombstones one checkpoint back. */
START_TEST(tombstones_pruned_without_files)
{
    struct world w;
    world_open(&w, ":memory:");
    mn_close(w.ex); /* another handle on :memory: is another database */
    w.ex = NULL;
    world_add(&w, w.db, 1000);
    sync_index(w.db, w.tenant_id);
    struct mni_store *st = w.db->store;
    int gone = 0;
    hard_delete(&w, 0, 10);
    ck_assert_int_eq(mni_vindex_save(w.db->index), MN_OK);
    hard_delete(&w, 10, 5);
    ck_assert_int_eq(mni_vindex_save(w.db->index), MN_OK);
    ck_assert_int_eq(st->ops->memory_changes(st, w.tenant_id, NULL, 0, INT64_MAX, INT64_MAX, 0,
                                             count_gone, &gone), MN_OK);
    ck_assert_int_eq(gone, 5);
    ck_assert_uint_eq(stats_of(w.db, w.tenant_id).count, 985);
    mn_close(w.db);
}
END_TEST

/* The feed itself: rows in seq order, tombstones of hard deletes (a whole identity's under one
 * seq), read in pages smaller than one seq's worth. */
struct feed {
    int64_t last_seq, last_key;
    size_t rows, gone;
    int ordered;
};

static int feed_fn(void *ctx, const struct mni_change *c)
{
    struct feed *f = ctx;
    if (c->seq < f->last_seq || (c->seq == f->last_seq && c->key <= f->last_key))
        f->ordered = 0;
    f->last_seq = c->seq;
    f->last_key = c->key;
    f->rows += !c->gone;
    f->gone += c->gone != 0;
    ck_assert(c->gone ? c->embedding == NULL : c->embedding != NULL);
    return 0;
}

START_TEST(change_feed_pages)
{
    struct world w;
    world_open(&w, th_tmppath("feed.db"));
    world_add(&w, w.db, 1500);
    struct mni_store *s = w.db->store;
    int64_t seq0;
    TH_OK(w.db, s->ops->seq_get(s, &seq0));
    mn_actor sys = w.sys;
    TH_OK(w.db, mn_identity_delete(w.db, &sys, "i20"));
    size_t left = th_count_memories(w.db, &sys, MN_WITH_DELETED);
    int64_t seq1;
    TH_OK(w.db, s->ops->seq_get(s, &seq1));
    ck_assert_int_eq(seq1, seq0 + 1);
    /* All at once, and by pages of 7 with the (seq, key) cursor. */
    struct feed all = { -1, 0, 0, 0, 1 };
    TH_OK(w.db, s->ops->memory_changes(s, w.tenant_id, NULL, 0, INT64_MAX, seq1, 0, feed_fn, &all));
    ck_assert(all.ordered);
    ck_assert_uint_eq(all.rows, left);
    ck_assert_uint_eq(all.rows + all.gone, 1500);
    struct feed paged = { -1, 0, 0, 0, 1 };
    int64_t after = 0, after_key = INT64_MAX;
    for (;;) {
        struct feed page = { -1, 0, 0, 0, 1 };
        TH_OK(w.db, s->ops->memory_changes(s, w.tenant_id, NULL, after, after_key, seq1, 7, feed_fn,
                                           &page));
        paged.rows += page.rows;
        paged.gone += page.gone;
        if (page.rows + page.gone < 7)
            break;
        after = page.last_seq;
        after_key = page.last_key;
    }
    ck_assert_uint_eq(paged.rows, all.rows);
    ck_assert_uint_eq(paged.gone, all.gone);
    /* Only the tombstones are past seq0. */
    struct feed tail = { -1, 0, 0, 0, 1 };
    TH_OK(w.db, s->ops->memory_changes(s, w.tenant_id, NULL, seq0, INT64_MAX, seq1, 0, feed_fn,
                                       &tail));
    ck_assert_uint_eq(tail.rows, 0);
    ck_assert_uint_eq(tail.gone, all.gone);
    ck_assert_int_eq(tail.last_seq, seq1);
    /* Another tenant's feed is its own. */
    th_tenant(w.db, "globex");
    struct feed other = { -1, 0, 0, 0, 1 };
    mn_tenant *t = NULL;
    TH_OK(w.db, mn_tenant_get(w.db, "globex", &t));
    TH_OK(w.db, s->ops->memory_changes(s, t->id, NULL, 0, INT64_MAX, seq1, 0, feed_fn, &other));
    mn_tenant_free(t);
    ck_assert_uint_eq(other.rows + other.gone, 0);
    world_close(&w);
}
END_TEST

struct thread_arg {
    struct world *w;
    int adder;
    int rounds;
    int failures;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    uint64_t s = 1234 + (uint64_t)a->rounds * 7 + (uint64_t)(size_t)a;
    for (int r = 0; r < a->rounds; r++) {
        if (a->adder) {
            float v[DIM];
            clustered(&s, v);
            char text[32];
            snprintf(text, sizeof text, "concurrent %d", r);
            mn_memory_input in =
                TH_IN(.identity = "rest", .text = text, .embedding = v, .dim = DIM);
            if (mn_memory_add(a->w->db, &a->w->sys, &in, NULL) != MN_OK)
                a->failures++;
        } else {
            float q[DIM];
            clustered(&s, q);
            mn_filter so_filter = MN_FILTER_INIT;
            mn_search_options so = {.version = MN_SEARCH_OPTIONS_VERSION,
                                    .vector = q,
                                    .dim = DIM,
                                    .k = K,
                                    .ef = 20 + r % 50,
                                    .filter = &so_filter};
            if (r % 3 == 1)
                so_filter.identity = "i10";
            mn_memories *l = NULL;
            if (mn_memory_search(a->w->db, &a->w->sys, &so, &l) != MN_OK || l->count == 0)
                a->failures++;
            mn_memories_free(l);
        }
    }
    return NULL;
}

/* The changes past the graph are scored from the block: sign codes choose, int8 codes pick,
 * floats score. On memories gathered around a centre of their own, written by another handle
 * (this one hears of them at its next search, which finds them all past its graph), the
 * nearest ten are all in the block: the search must give the exact scan's ten, in its order,
 * with its similarities, however the cheaper codes ranked them. */
/* Rounds of 1000 memories near a centre added through another handle, past the graph of
 * w.db's index, whose block keeps float vectors up to floats bytes (vindex_block.h): each
 * round, a search near the centre is served with the block and gives the exact scan's top k
 * (ids, order, similarities). */
static void check_overlay_exact(size_t floats)
{
    struct world w;
    world_open(&w, th_tmppath("overlay.db"));
    world_add(&w, w.db, 1000);
    sync_index(w.db, w.tenant_id);
    mni_vindex_set_block_floats(w.db->index, floats);
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = DIM, .index = MN_INDEX_NONE};
    mn_db *other = th_open(w.path, &cfg);
    enum { ROUNDS = 8, BATCH = 1000 };
    mn_memory_input *in = calloc(BATCH, sizeof *in);
    float *vecs = malloc(BATCH * DIM * sizeof *vecs);
    char (*texts)[32] = malloc(BATCH * sizeof *texts);
    uint64_t seed = 99;
    for (int r = 0; r < ROUNDS; r++) {
        float centre[DIM], q[DIM];
        for (int d = 0; d < DIM; d++)
            centre[d] = (float)rng_gauss(&seed);
        normalise(centre);
        for (int j = 0; j < BATCH; j++) {
            float *v = vecs + j * DIM;
            for (int d = 0; d < DIM; d++)
                v[d] = centre[d] + 0.15f * (float)rng_gauss(&seed);
            normalise(v);
            snprintf(texts[j], sizeof texts[j], "near %d.%d", r, j); /* not deduplicated */
            in[j] = (mn_memory_input)TH_IN(.identity = "i50", .text = texts[j], .embedding = v,
                                           .dim = DIM);
        }
        char **ids = NULL;
        TH_OK(other, mn_memory_add_many(other, &w.sys, in, BATCH, &ids, NULL));
        mn_strings_free(ids, BATCH);
        for (int d = 0; d < DIM; d++)
            q[d] = centre[d] + 0.1f * (float)rng_gauss(&seed);
        normalise(q);
        struct mni_vindex_stats before = stats_of(w.db, w.tenant_id);
        mn_memories *a = search(w.db, &w.sys, q, NULL, K);
        struct mni_vindex_stats after = stats_of(w.db, w.tenant_id);
        ck_assert_uint_eq(after.overlay, before.overlay + 1);
        ck_assert_uint_eq(after.fallback, before.fallback);
        mn_memories *e = search(w.ex, &w.sys, q, NULL, K);
        ck_assert_uint_eq(a->count, K);
        ck_assert_uint_eq(e->count, K);
        for (size_t i = 0; i < K; i++) {
            ck_assert_str_eq(a->items[i]->id, e->items[i]->id);
            ck_assert_double_eq_tol(a->items[i]->similarity, e->items[i]->similarity, 1e-6);
        }
        mn_memories_free(a);
        mn_memories_free(e);
    }
    free(in);
    free(vecs);
    free(texts);
    mn_close(other);
    world_close(&w);
}

START_TEST(overlay_top_k_is_exact)
{
    check_overlay_exact(SIZE_MAX);
}
END_TEST

/* The block of a large lag holds the codes only: the candidates' vectors come from the store. */
START_TEST(overlay_codes_only_top_k_is_exact)
{
    check_overlay_exact(0);
}
END_TEST

/* Its first chunk with floats, the later ones codes only: both kinds in one search. */
START_TEST(overlay_mixed_top_k_is_exact)
{
    check_overlay_exact(1);
}
END_TEST

START_TEST(concurrent_search_and_add)
{
    struct world w;
    world_open(&w, th_tmppath("threads.db"));
    world_add(&w, w.db, 2000);
    pthread_t t[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){ &w, i == 0, i == 0 ? 400 : 300, 0 };
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(args[i].failures, 0);
    }
    sync_index(w.db, w.tenant_id);
    ck_assert_uint_eq(stats_of(w.db, w.tenant_id).count, 2400);
    ck_assert(recall(&w, NULL, 20, 4) >= 0.95);
    world_close(&w);
}
END_TEST

START_TEST(config_and_options)
{
    const char *path = th_tmppath("cfg.db");
    mn_config bad[] = { TH_CONFIG(.index = 2),   TH_CONFIG(.index = -1),
                        TH_CONFIG(.hnsw_m = 1),  TH_CONFIG(.hnsw_m = 101),
                        TH_CONFIG(.hnsw_ef_construction = -1),
                        TH_CONFIG(.hnsw_ef_search = 100001),
                        TH_CONFIG(.hnsw_quantize = 2),
                        TH_CONFIG(.hnsw_quantize = MN_ANN_INT8, .hnsw_rerank = -1),
                        TH_CONFIG(.hnsw_quantize = MN_ANN_INT8, .hnsw_rerank = 100001),
                        TH_CONFIG(.hnsw_rerank = 10) };
    const char *names[] = { "index", "index", "hnsw_m", "hnsw_m", "hnsw_ef_construction",
                            "hnsw_ef_search", "hnsw_quantize is 2", "hnsw_rerank is -1",
                            "hnsw_rerank is 100001", "applies to MN_ANN_INT8 only" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mn_db *db = NULL;
        ck_assert_int_eq(mn_open(&db, path, &bad[i]), MN_EINVAL);
        ck_assert_msg(strstr(mn_errmsg(db), names[i]), "%s", mn_errmsg(db));
        mn_close(db);
    }
    /* Other parameters: files built with another M are not trusted. */
    struct world w;
    world_open(&w, th_tmppath("params.db"));
    world_add(&w, w.db, 1200);
    sync_index(w.db, w.tenant_id);
    float q[DIM];
    memcpy(q, centres[1], sizeof q);
    mn_search_options so = {
        .version = MN_SEARCH_OPTIONS_VERSION, .vector = q, .dim = DIM, .k = 5, .ef = -1};
    mn_memories *l = NULL;
    TH_RC(w.db, mn_memory_search(w.db, &w.sys, &so, &l), MN_EINVAL);
    so.ef = 100001;
    TH_RC(w.db, mn_memory_search(w.db, &w.sys, &so, &l), MN_EINVAL);
    so.ef = 500;
    TH_OK(w.db, mn_memory_search(w.db, &w.sys, &so, &l));
    ck_assert_uint_eq(l->count, 5);
    mn_memories_free(l);
    world_close(&w);
    mn_config m8 = {
        .version = MN_CONFIG_VERSION, .embed_dim = DIM, .hnsw_m = 8, .hnsw_ef_search = 100};
    w.db = th_open(w.path, &m8);
    w.ex = open_exact(w.path);
    mn_memories_free(search(w.db, &w.sys, q, NULL, K));
    ck_assert_uint_eq(stats_of(w.db, w.tenant_id).rejected, 1);
    sync_index(w.db, w.tenant_id);
    ck_assert(recall(&w, NULL, 20, 31) >= 0.95);
    world_close(&w);
    /* int8 codes: float files are rebuilt with codes; those files are trusted by the next
     * handle that asks for codes (another rerank is a search setting, not a rebuild) */
    for (int round = 0; round < 2; round++) {
        mn_config q8 = { .version = MN_CONFIG_VERSION, .embed_dim = DIM, .hnsw_m = 8,
                         .hnsw_ef_search = 100, .hnsw_quantize = MN_ANN_INT8,
                         .hnsw_rerank = round ? 30 : 0 };
        w.db = th_open(w.path, &q8);
        w.ex = open_exact(w.path);
        mn_memories_free(search(w.db, &w.sys, q, NULL, K));
        ck_assert_uint_eq(stats_of(w.db, w.tenant_id).rejected, round ? 0 : 1);
        sync_index(w.db, w.tenant_id);
        ck_assert(recall(&w, NULL, 20, 31 + round) >= 0.95);
        world_close(&w);
    }
}
END_TEST

/* ---- filters the attributes hold: sessions, lists, times, importance ----------------------- */

/* n memories in sessions "s0".."s199" (about n / 200 each; every 8th memory in none), of the
 * owners and types world_add draws, importance spread over 0..1. */
static void add_in_sessions(struct world *w, size_t n, const char *only_session)
{
    mn_memory_input in[250];
    float vecs[250 * DIM];
    char texts[250][32], sessions[250][16];
    for (size_t done = 0; done < n;) {
        size_t m = n - done < 250 ? n - done : 250;
        for (size_t j = 0; j < m; j++) {
            uint64_t h = rng_next(&w->seed);
            clustered(&w->seed, vecs + j * DIM);
            snprintf(texts[j], sizeof texts[j], "memory %zu", w->n + done + j);
            snprintf(sessions[j], sizeof sessions[j], "s%u", (unsigned)((h >> 40) % 200));
            in[j] = (mn_memory_input)TH_IN(.identity = owner_of(h), .text = texts[j],
                                           .type = type_of(h), .embedding = vecs + j * DIM,
                                           .dim = DIM);
            in[j].importance = (double)((h >> 8) % 1001) / 1000.0;
            in[j].session = only_session ? only_session : (h >> 50) % 8 ? sessions[j] : NULL;
        }
        TH_OK(w->db, mn_memory_add_many(w->db, &w->sys, in, m, NULL, NULL));
        done += m;
    }
    w->n += n;
}

/* The index's and the exact scan's answers to nq queries with filter f: the same ids in the
 * same order (exact), or (graph) a recall@K of at least 0.95 and nothing the exact scan would
 * not have found (every answer of both within the filter: the rows decide). */
static void expect_as_exact(struct world *w, const mn_filter *f, int nq, int exact,
                            const char *what)
{
    uint64_t seed = 4242;
    double sum = 0;
    for (int qi = 0; qi < nq; qi++) {
        float q[DIM];
        clustered(&seed, q);
        mn_memories *a = search(w->db, &w->sys, q, f, K);
        mn_memories *e = search(w->ex, &w->sys, q, f, K);
        size_t hit = 0;
        for (size_t i = 0; i < e->count; i++)
            for (size_t j = 0; j < a->count; j++)
                hit += strcmp(e->items[i]->id, a->items[j]->id) == 0;
        sum += e->count ? (double)hit / (double)e->count : 1.0;
        if (exact) {
            ck_assert_msg(a->count == e->count, "%s: %zu hits, the exact scan %zu", what,
                          a->count, e->count);
            for (size_t i = 0; i < a->count; i++)
                ck_assert_msg(strcmp(a->items[i]->id, e->items[i]->id) == 0,
                              "%s: hit %zu differs from the exact scan's", what, i);
        }
        mn_memories_free(a);
        mn_memories_free(e);
    }
    ck_assert_msg(sum / nq >= 0.95, "%s: recall@10 %.3f", what, sum / nq);
}

/* Session, list, time and importance filters are the index's own: it serves them (by graph or
 * by an exact scan of the keys it accepts) and answers as the exact scan of the store does;
 * changes it has not applied yet are filtered alike, and the attributes survive a save. */
START_TEST(index_filters_sessions_ranges)
{
    struct world w;
    world_open(&w, th_tmppath("ifilt.db"));
    add_in_sessions(&w, 3000, NULL);
    usleep(20000);
    int64_t t0 = th_now_ms();
    usleep(20000);
    add_in_sessions(&w, 3000, NULL);
    sync_index(w.db, w.tenant_id);
    const char *two[] = {"s3", "s77"}, *types[] = {"note", "rare"};
    const char *owners[] = {"i2", "i05"};
    struct {
        mn_filter f;
        int exact; /* few keys pass: the plan is the exact scan, the answer identical */
        const char *what;
    } cases[] = {
        {{.version = MN_FILTER_VERSION, .session = "s7"}, 1, "session (0.4%)"},
        {{.version = MN_FILTER_VERSION, .sessions = two, .n_sessions = 2}, 1, "sessions IN"},
        {{.version = MN_FILTER_VERSION, .session = "s9", .identity = "i50"}, 1,
         "session and owner"},
        {{.version = MN_FILTER_VERSION, .types = types, .n_types = 2}, 0, "types IN (5%)"},
        {{.version = MN_FILTER_VERSION, .identities = owners, .n_identities = 2}, 0,
         "identities IN (2.5%)"},
        {{.version = MN_FILTER_VERSION, .created_after = t0}, 0, "created after (50%)"},
        {{.version = MN_FILTER_VERSION, .created_before = t0}, 0, "created before (50%)"},
        {{.version = MN_FILTER_VERSION, .updated_after = t0, .importance_min = 0.9}, 0,
         "updated after and importance >= 0.9 (5%)"},
        {{.version = MN_FILTER_VERSION, .importance_min = 0.3, .importance_max = 0.301}, 1,
         "importance in [0.3, 0.301] (0.2%)"},
        {{.version = MN_FILTER_VERSION, .session = "nope"}, 1, "unknown session"},
    };
    struct mni_vindex_stats st0 = stats_of(w.db, w.tenant_id);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        expect_as_exact(&w, &cases[c].f, 20, cases[c].exact, cases[c].what);
    struct mni_vindex_stats st = stats_of(w.db, w.tenant_id);
    /* Every search was the index's, by both plans; none was handed back to the store. */
    ck_assert_uint_eq(st.searches - st0.searches, 20 * (sizeof cases / sizeof *cases));
    ck_assert_uint_gt(st.graph, st0.graph);
    ck_assert_uint_gt(st.exact, st0.exact);
    ck_assert_uint_eq(st.fallback, st0.fallback);

    /* Changes past the index (through the exact handle: this one hears nothing) are scored
     * from the feed with the same filter. */
    mn_db *db = w.db;
    w.db = w.ex;
    add_in_sessions(&w, 100, "fresh");
    w.db = db;
    mn_filter fresh = {.version = MN_FILTER_VERSION, .session = "fresh", .importance_min = 0.5};
    expect_as_exact(&w, &fresh, 10, 1, "session of changes past the index");

    /* Saved and read back: the same answers from the files. */
    sync_index(w.db, w.tenant_id);
    world_close(&w);
    w.db = open_index(w.path);
    w.ex = open_exact(w.path);
    expect_as_exact(&w, &cases[0].f, 10, 1, "session, from the files");
    expect_as_exact(&w, &fresh, 10, 1, "fresh session, from the files");
    expect_as_exact(&w, &cases[5].f, 10, 0, "created after, from the files");
    st = stats_of(w.db, w.tenant_id);
    ck_assert_uint_eq(st.loaded, 1);
    ck_assert_uint_eq(st.rejected, 0);
    ck_assert_uint_eq(st.fallback, 0);
    world_close(&w);
}
END_TEST

static Suite *vindex_suite(void)
{
    Suite *s = suite_create("vindex");
    TCase *tc = tcase_create("vindex");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, recall_with_and_without_filters);
    tcase_add_test(tc, recall_after_deletes_and_updates);
    tcase_add_test(tc, expired_never_returned);
    tcase_add_test(tc, metadata_filter);
    tcase_add_test(tc, persistence_round_trip);
    tcase_add_test(tc, prefetched_files);
    tcase_add_test(tc, digest_term_folds_as_it_divides);
    tcase_add_test(tc, wide_vectors_graph_and_files);
    tcase_add_test(tc, damaged_files_are_rebuilt);
    tcase_add_test(tc, stale_files_are_rebuilt);
    tcase_add_test(tc, digest_mismatch_reads_every_row);
    tcase_add_test(tc, unreadable_store_keeps_the_files);
    tcase_add_test(tc, writes_of_another_handle);
    tcase_add_test(tc, tombstones_pruned_laggards_rebuild);
    tcase_add_test(tc, tombstones_pruned_without_files);
    tcase_add_test(tc, change_feed_pages);
    tcase_add_test(tc, overlay_top_k_is_exact);
    tcase_add_test(tc, overlay_codes_only_top_k_is_exact);
    tcase_add_test(tc, overlay_mixed_top_k_is_exact);
    tcase_add_test(tc, concurrent_search_and_add);
    tcase_add_test(tc, config_and_options);
    tcase_add_test(tc, index_filters_sessions_ranges);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    mn_global_init();
    make_centres();
    return th_run(vindex_suite());
}
