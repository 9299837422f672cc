/* The block of changes past the graph (index/vindex_block.h): what a fill reads, what a scan
 * gives (each key's latest change, newest first, nothing the graph has applied), prune, reset,
 * and the limits a fill keeps to. On an index-less handle, so that nothing else reads the feed:
 * the test plays the follower, moving applied itself. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manushya.h"
#include "api/handle.h"
#include "index/distance.h"
#include "index/vindex_block.h"
#include "store/store.h"
#include "support/harness.h"

#define DIM 16
#define N 300

struct world {
    mn_db *db;
    mn_actor sys;
    const char *tenant_id;
    char *ids[N];
};

static void vec_of(int i, int version, float *v)
{
    for (int d = 0; d < DIM; d++)
        v[d] = (float)((i * 7 + d * 3 + version * 11) % 17) - 8.0f;
    float n = 0;
    for (int d = 0; d < DIM; d++)
        n += v[d] * v[d];
    for (int d = 0; d < DIM; d++)
        v[d] /= sqrtf(n);
}

static void world_open(struct world *w)
{
    memset(w, 0, sizeof *w);
    mn_config cfg = {.version = MN_CONFIG_VERSION, .embed_dim = DIM, .index = MN_INDEX_NONE};
    w->db = th_open(th_tmppath("block.db"), &cfg);
    w->tenant_id = th_tenant(w->db, "acme");
    th_identity(w->db, "acme", "agent");
    w->sys = (mn_actor)TH_ACTOR(.tenant = "acme");
    mn_memory_input in[N];
    float vecs[N][DIM];
    char texts[N][16];
    for (int i = 0; i < N; i++) {
        vec_of(i, 0, vecs[i]);
        snprintf(texts[i], sizeof texts[i], "m%d", i);
        in[i] = (mn_memory_input)TH_IN(.identity = "agent", .text = texts[i],
                                       .embedding = vecs[i], .dim = DIM);
    }
    char **ids = NULL;
    TH_OK(w->db, mn_memory_add_many(w->db, &w->sys, in, N, &ids, NULL));
    for (int i = 0; i < N; i++)
        w->ids[i] = th_keep(strdup(ids[i]));
    mn_strings_free(ids, N);
}

static int64_t seq_now(struct world *w)
{
    int64_t seq;
    TH_OK(w->db, w->db->store->ops->seq_get(w->db->store, &seq));
    return seq;
}

/* What a scan gave: each key's first (= latest) change. */
struct seen {
    size_t calls, live, gone, deleted;
    int64_t last_seq; /* the order: newest first */
    int ordered, codes_match;
    int64_t keys[4 * N];
};

static int seen_fn(void *ctx, const struct mni_change *c, const int8_t *code, float scale)
{
    struct seen *s = ctx;
    for (size_t i = 0; i < s->calls; i++)
        if (s->keys[i] == c->key)
            goto counted; /* an older change of a key already seen */
    if (c->gone)
        s->gone++;
    else if (c->deleted)
        s->deleted++;
    else
        s->live++;
counted:
    s->ordered &= c->seq <= s->last_seq;
    s->last_seq = c->seq;
    s->keys[s->calls++] = c->key;
    if (!c->gone) {
        /* The code stands for the vector: its self-similarity is about 1. */
        int8_t q[DIM];
        float qs = mni_quantize_i8(c->embedding, DIM, q);
        float approx = qs * scale * (float)mni_dot8_scalar(q, code, DIM);
        s->codes_match &= approx > 0.98f && approx < 1.02f;
    }
    return 0;
}

static struct seen scan(struct vx_block *b, const int64_t *applied)
{
    struct seen s = {.last_seq = INT64_MAX, .ordered = 1, .codes_match = 1};
    vx_block_scan(b, applied, seen_fn, &s);
    return s;
}

START_TEST(fill_scan_prune_reset)
{
    struct world w;
    world_open(&w);
    struct mni_store *st = w.db->store;
    struct vx_block b;
    ck_assert_int_eq(vx_block_init(&b), MN_OK);
    int64_t applied = 0, seq0 = seq_now(&w);
    int covered = 0;

    /* At most 100 entries a fill: three fills for the 300 rows (pages of one transaction's
     * seq: the cursor resumes after the last key read). */
    ck_assert_int_eq(vx_block_fill(&b, st, w.tenant_id, DIM, seq0, &applied, 100, SIZE_MAX,
                                   &covered), MN_OK);
    ck_assert(!covered);
    ck_assert_uint_eq(vx_block_entries(&b), 100);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(vx_block_fill(&b, st, w.tenant_id, DIM, seq0, &applied, 100, SIZE_MAX,
                                       &covered), MN_OK);
    ck_assert_int_eq(vx_block_fill(&b, st, w.tenant_id, DIM, seq0, &applied, 100, SIZE_MAX,
                                   &covered), MN_OK);
    ck_assert(covered);
    ck_assert_uint_eq(vx_block_entries(&b), N);
    struct seen s = scan(&b, &applied);
    ck_assert_uint_eq(s.calls, N);
    ck_assert_uint_eq(s.live, N);
    ck_assert(s.ordered);
    ck_assert(s.codes_match);

    /* Changes since: 10 new vectors, 5 soft deletes, 5 hard deletes. A scan gives each key's
     * latest change only once (the older entries come after and are ignored). */
    for (int i = 0; i < 10; i++) {
        float v[DIM];
        vec_of(i, 1, v);
        mn_memory_changes ch = {.version = MN_MEMORY_CHANGES_VERSION,
                                .set = MN_MEMORY_SET_EMBEDDING, .embedding = v, .dim = DIM};
        TH_OK(w.db, mn_memory_update(w.db, &w.sys, w.ids[i], &ch, NULL));
    }
    for (int i = 10; i < 15; i++)
        TH_OK(w.db, mn_memory_delete(w.db, &w.sys, w.ids[i], MN_DELETE_SOFT));
    const char *hard[5];
    for (int i = 0; i < 5; i++)
        hard[i] = w.ids[15 + i];
    TH_OK(w.db, mn_memory_delete_many(w.db, &w.sys, hard, 5, MN_DELETE_HARD));
    int64_t seq1 = seq_now(&w);
    ck_assert_int_eq(vx_block_fill(&b, st, w.tenant_id, DIM, seq1, &applied, 1000, SIZE_MAX,
                                   &covered), MN_OK);
    ck_assert(covered);
    s = scan(&b, &applied);
    ck_assert_uint_eq(s.calls, N + 20);
    ck_assert_uint_eq(s.live, N - 10);
    ck_assert_uint_eq(s.deleted, 5);
    ck_assert_uint_eq(s.gone, 5);
    ck_assert(s.ordered);
    ck_assert(s.codes_match);

    /* The graph applied everything up to seq0: the scan stops there, and a prune drops the
     * chunks of the first read. */
    applied = seq0;
    s = scan(&b, &applied);
    ck_assert_uint_eq(s.calls, 20);
    vx_block_prune(&b, applied);
    ck_assert_uint_eq(vx_block_entries(&b), 20);
    /* Past everything read: an empty block, and the next fill starts after the graph. */
    applied = seq1;
    ck_assert_int_eq(vx_block_fill(&b, st, w.tenant_id, DIM, seq1, &applied, 1000, SIZE_MAX,
                                   &covered), MN_OK);
    ck_assert(covered);
    ck_assert_uint_eq(vx_block_entries(&b), 0);

    /* A reset (the graph rebuilt from nothing) reads the feed from its seq again; a fill reads
     * nothing more once the block holds the bytes given. */
    applied = 0;
    vx_block_reset(&b, 0);
    ck_assert_int_eq(vx_block_fill(&b, st, w.tenant_id, DIM, seq1, &applied, 100, SIZE_MAX,
                                   &covered), MN_OK);
    ck_assert_int_eq(vx_block_fill(&b, st, w.tenant_id, DIM, seq1, &applied, 1000, 1, &covered),
                     MN_OK);
    ck_assert(!covered);
    ck_assert_uint_eq(vx_block_entries(&b), 100);
    vx_block_reset(&b, 0);
    ck_assert_int_eq(vx_block_fill(&b, st, w.tenant_id, DIM, seq1, &applied, 1000, SIZE_MAX,
                                   &covered), MN_OK);
    ck_assert(covered);
    s = scan(&b, &applied);
    ck_assert_uint_eq(s.calls, N); /* the feed now: 295 rows and 5 tombstones */
    ck_assert_uint_eq(s.gone, 5);
    ck_assert_uint_eq(s.deleted, 5);
    vx_block_free(&b);
    mn_close(w.db);
}
END_TEST

int main(void)
{
    mn_global_init();
    Suite *s = suite_create("vindex_block");
    TCase *tc = tcase_create("vindex_block");
    tcase_add_test(tc, fill_scan_prune_reset);
    suite_add_tcase(s, tc);
    return th_run(s);
}
