/* The block of changes past the graph (index/vindex_block.h): what a fill reads, what a search
 * sees (each key's latest change, newest first, nothing the graph has applied) and takes (the
 * depth nearest by sign code, with int8 scores), prune, reset, and the limits a fill keeps
 * to (a fill with more room resumes where a capped one stopped). On an index-less handle, so
 * that nothing else reads the feed: the test plays the follower, moving applied itself. */
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

/* What a search saw: every key's changes, newest first (first), the candidates it asked about
 * (keep: each key's latest change unless gone, nearest by sign code first), and what it took. */
struct seen {
    size_t firsts, newest;   /* first's calls, and those for a key's newest change */
    size_t calls, live, deleted, taken; /* keep's calls, of them live or deleted; take's */
    int64_t last_seq; /* the order: newest first */
    int ordered, scores_match;
    int odd_only;     /* keep turns the odd keys down */
    int64_t keys[4 * N];
    float query[DIM];
    uint64_t query_bits[MNI_SIGN_WORDS(DIM)];
    int kept_dist[4 * N];     /* sign code distances of the kept */
    int64_t kept_key[4 * N], taken_key[4 * N]; /* in the order kept, taken */
    float taken_score[4 * N];
    size_t kept, no_vec; /* no_vec: taken without a float vector (a chunk of codes only) */
};

static int hamming_to(const struct seen *s, const float *v)
{
    uint64_t bits[MNI_SIGN_WORDS(DIM)];
    mni_sign_bits(v, DIM, bits);
    uint32_t d;
    mni_hamming_scalar(s->query_bits, bits, MNI_SIGN_WORDS(DIM), 1, &d);
    return d;
}

/* Tells a key's newest change from its older ones. */
static int seen_first(void *ctx, int64_t key)
{
    struct seen *s = ctx;
    for (size_t i = 0; i < s->firsts; i++)
        if (s->keys[i] == key) {
            s->keys[s->firsts++] = key;
            return 0;
        }
    s->keys[s->firsts++] = key;
    s->newest++;
    return 1;
}

/* Keeps the live changes (of the even keys only when odd_only). */
static int seen_keep(void *ctx, const struct mni_change *c)
{
    struct seen *s = ctx;
    ck_assert(!c->gone);
    ck_assert(c->embedding || !s->odd_only); /* a block of codes only is not asked for odd_only */
    if (c->deleted)
        s->deleted++;
    else
        s->live++;
    s->ordered &= c->seq <= s->last_seq;
    s->last_seq = c->seq;
    s->calls++;
    int keep = !c->deleted && !(s->odd_only && c->key % 2);
    if (keep) {
        s->kept_key[s->kept] = c->key;
        s->kept_dist[s->kept++] = c->embedding ? hamming_to(s, c->embedding) : -1;
    }
    return keep;
}

/* The int8 score stands for the exact one. */
static void seen_take(void *ctx, int64_t key, const float *vec, float score)
{
    struct seen *s = ctx;
    if (vec)
        s->scores_match &= fabsf(score - mni_ip_scalar(s->query, vec, DIM)) < 0.03f;
    else
        s->no_vec++;
    s->taken_score[s->taken] = score;
    s->taken_key[s->taken++] = key;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* A search taking depth entries (SIZE_MAX: all it keeps). */
static struct seen search(struct vx_block *b, const int64_t *applied, size_t depth, int odd_only)
{
    struct seen s = {.last_seq = INT64_MAX, .ordered = 1, .scores_match = 1,
                     .odd_only = odd_only};
    vec_of(1000, 0, s.query);
    int8_t code[DIM];
    mni_sign_bits(s.query, DIM, s.query_bits);
    struct vx_block_query q = { code, mni_quantize_i8(s.query, DIM, code), s.query_bits, depth };
    ck_assert_int_eq(vx_block_search(b, applied, &q, seen_first, seen_keep, seen_take, &s),
                     MN_OK);
    return s;
}

static struct seen scan(struct vx_block *b, const int64_t *applied)
{
    struct seen s = search(b, applied, SIZE_MAX, 0);
    ck_assert_uint_eq(s.taken, s.kept);
    return s;
}

/* At a depth, the depth nearest kept by sign code are taken, at the farthest distance taken
 * the newest: the very entries a scan that asks keep about every candidate (newest first)
 * chooses, in the same order, however few of them keep was asked about. */
static void check_depth(struct vx_block *b, const int64_t *applied, size_t depth, int odd_only)
{
    struct seen all = search(b, applied, SIZE_MAX, odd_only);
    struct seen s = search(b, applied, depth, odd_only);
    ck_assert_uint_ge(all.kept, depth);
    ck_assert_uint_eq(s.taken, depth);
    ck_assert_uint_le(s.calls, all.calls);
    ck_assert(s.scores_match);
    int sorted[4 * N];
    memcpy(sorted, all.kept_dist, all.kept * sizeof *sorted);
    qsort(sorted, all.kept, sizeof *sorted, cmp_int);
    int farthest = sorted[depth - 1];
    size_t nearer = 0, want = 0;
    for (size_t i = 0; i < all.kept; i++)
        nearer += all.kept_dist[i] < farthest;
    size_t at_farthest = depth - nearer;
    for (size_t i = 0; i < all.kept; i++) {
        if (all.kept_dist[i] > farthest)
            continue;
        if (all.kept_dist[i] == farthest) {
            if (!at_farthest)
                continue;
            at_farthest--;
        }
        ck_assert_uint_lt(want, depth);
        ck_assert_int_eq(s.taken_key[want], all.kept_key[i]);
        want++;
    }
    ck_assert_uint_eq(want, depth);
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
    ck_assert_uint_eq(s.firsts, N);
    ck_assert_uint_eq(s.calls, N);
    ck_assert_uint_eq(s.live, N);
    ck_assert(s.ordered);
    ck_assert(s.scores_match);

    /* Changes since: 10 new vectors, 5 soft deletes, 5 hard deletes. first hears of every
     * change; keep is asked about each key's latest change once, never a gone one (the older
     * entries come after and are not candidates). */
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
    ck_assert_uint_eq(s.firsts, N + 20);
    ck_assert_uint_eq(s.newest, N);
    ck_assert_uint_eq(s.calls, N - 5);
    ck_assert_uint_eq(s.live, N - 10);
    ck_assert_uint_eq(s.deleted, 5);
    ck_assert(s.ordered);
    ck_assert(s.scores_match);
    /* At a depth of 40, and of 40 when keep turns half the keys down (the bands asked grow). */
    check_depth(&b, &applied, 40, 0);
    check_depth(&b, &applied, 40, 1);
    check_depth(&b, &applied, 1, 1);

    /* The graph applied everything up to seq0: the scan stops there, and a prune drops the
     * chunks of the first read. */
    applied = seq0;
    s = scan(&b, &applied);
    ck_assert_uint_eq(s.firsts, 20);
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
    /* A fill given more room (a search's, past the follower's cap) reads on from where the
     * capped one stopped, to the end: every change once, the newest of each key first. */
    ck_assert_int_eq(vx_block_fill(&b, st, w.tenant_id, DIM, seq1, &applied, 1000, SIZE_MAX,
                                   &covered), MN_OK);
    ck_assert(covered);
    s = scan(&b, &applied);
    ck_assert_uint_eq(s.firsts, N);
    ck_assert_uint_eq(s.live, N - 10);
    ck_assert(s.ordered);
    vx_block_reset(&b, 0);
    ck_assert_int_eq(vx_block_fill(&b, st, w.tenant_id, DIM, seq1, &applied, 1000, SIZE_MAX,
                                   &covered), MN_OK);
    ck_assert(covered);
    s = scan(&b, &applied);
    ck_assert_uint_eq(s.firsts, N); /* the feed now: 295 rows and 5 tombstones */
    ck_assert_uint_eq(s.calls, N - 5);
    ck_assert_uint_eq(s.deleted, 5);

    /* A block past floats_below holds the codes only: a search takes the same entries with
     * the same int8 scores, without their float vectors (the caller reads those). A block
     * given 1 byte keeps the floats of its first chunk only: both kinds in one search. */
    for (size_t floats = 0; floats < 2; floats++) {
        struct vx_block lean;
        ck_assert_int_eq(vx_block_init(&lean), MN_OK);
        lean.floats_below = floats;
        ck_assert_int_eq(vx_block_fill(&lean, st, w.tenant_id, DIM, seq1, &applied, 100,
                                       SIZE_MAX, &covered), MN_OK);
        ck_assert_int_eq(vx_block_fill(&lean, st, w.tenant_id, DIM, seq1, &applied, 1000,
                                       SIZE_MAX, &covered), MN_OK);
        ck_assert(covered);
        struct seen full = search(&b, &applied, 40, 0), codes = search(&lean, &applied, 40, 0);
        ck_assert_uint_eq(full.no_vec, 0);
        ck_assert_uint_eq(codes.taken, full.taken);
        ck_assert_uint_eq(codes.calls, full.calls);
        for (size_t i = 0; i < full.taken; i++) {
            ck_assert_int_eq(codes.taken_key[i], full.taken_key[i]);
            ck_assert_float_eq(codes.taken_score[i], full.taken_score[i]);
        }
        if (floats)
            ck_assert(codes.no_vec > 0 && codes.no_vec < codes.taken);
        else
            ck_assert_uint_eq(codes.no_vec, codes.taken);
        vx_block_free(&lean);
    }

    /* The cap: fills of 10 entries at a time stop once the block holds 4,000 bytes, and a
     * block of codes only (here 16 floats of 64 bytes fewer a change) takes more changes
     * under it before the reads stop; neither reaches the end of the feed. */
    size_t held[2];
    for (size_t floats = 0; floats < 2; floats++) {
        struct vx_block capped;
        ck_assert_int_eq(vx_block_init(&capped), MN_OK);
        capped.floats_below = floats ? SIZE_MAX : 0;
        for (int i = 0; i < 40; i++)
            ck_assert_int_eq(vx_block_fill(&capped, st, w.tenant_id, DIM, seq1, &applied, 10,
                                           4000, &covered), MN_OK);
        ck_assert(!covered);
        held[floats] = vx_block_entries(&capped);
        vx_block_free(&capped);
    }
    ck_assert_uint_gt(held[1], 0);
    ck_assert_uint_gt(held[0], held[1]);
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
