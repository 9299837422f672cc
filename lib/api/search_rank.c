/* Ranking and paging of search results: see search_rank.h. A hit's score is its relevance
 * times a recency factor and an importance factor, each at most 1 (manushya.h, "Ranking"), so
 * no hit scores above its relevance: once the page's last hit scores at least the relevance of
 * the worst candidate read, no unread candidate can enter the page. */
#include "api/search_rank.h"

#include "api/abi_structs.h"
#include "api/handle.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/hash.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The recency weight when only a half-life is given. */
#define MNI_RECENCY_WEIGHT_DEFAULT 0.5
/* The first try of a later page asks for the results before it, up to this many. */
#define MNI_RANK_OFFSET_HINT_MAX 100000

/* A cursor: "c2", then in hex the search's fingerprint, recency's clock, the results of the
 * pages so far and the bits of the last result's score and similarity (16 digits each), then
 * its id. */
#define MNI_CURSOR_TAG "c2"
#define MNI_CURSOR_LEN (2 + 5 * 16 + MNI_UUID_LEN)

/* A call's value over the handle's: 0 takes the handle's; MN_SEARCH_OFF stays, meaning off. */
static double either(double call, double handle)
{
    return call != 0 ? call : handle;
}

double mni_rank_floor(const mn_db *db, const mn_search_options *opt, int mode)
{
    if (mode == MN_SEARCH_KEYWORD)
        return MN_SEARCH_OFF;
    double floor = either(opt->min_similarity, db->cfg.search_min_relevance);
    if (floor != 0)
        return floor;
    /* Only the local embedder's scale is known; a plug-in may call itself "local" too. */
    return !db->plugin && strcmp(db->cfg.embedder, "local") == 0 ? MNI_LOCAL_FLOOR
                                                                   : MN_SEARCH_OFF;
}

/* Checks one set of ranking values, a call's (of struct mn_search_options, fields named as
 * there) or the handle's defaults (mn_config, each name prefixed search_). */
static int check_values(mn_db *db, const char *where, const char *prefix, int64_t half_life,
                        double recency_weight, double importance_weight)
{
    if (half_life < 0 && half_life != MN_SEARCH_OFF)
        return mni_seterr(db, MN_EINVAL, "%s.%srecency_half_life_ms is %" PRId64 "; give "
                         "milliseconds > 0, 0 for the default or MN_SEARCH_OFF (-1)", where,
                         prefix, half_life);
    const char *names[] = { "recency_weight", "importance_weight" };
    double values[] = { recency_weight, importance_weight };
    for (int i = 0; i < 2; i++)
        if (!(values[i] >= 0 && values[i] <= 1) && values[i] != MN_SEARCH_OFF)
            return mni_seterr(db, MN_EINVAL, "%s.%s%s is %g; give a weight from 0 to 1, 0 for "
                             "the default or MN_SEARCH_OFF (-1)", where, prefix, names[i],
                             values[i]);
    return MN_OK;
}

int mni_rank_settle(mn_db *db)
{
    const mn_config *c = &db->cfg;
    if (!(c->search_min_relevance >= -1 && c->search_min_relevance <= 1))
        return mni_seterr(db, MN_EINVAL, "mn_config.search_min_relevance is %g; give a "
                         "similarity from -1 to 1, 0 for the embedder's or MN_SEARCH_OFF (-1) "
                         "for no floor", c->search_min_relevance);
    return check_values(db, "mn_config", "search_", c->search_recency_half_life_ms,
                        c->search_recency_weight, c->search_importance_weight);
}

static void hash_text(struct mni_hash64_state *h, const char *s)
{
    /* The terminator keeps "ab","c" apart from "a","bc"; NULL hashes as one byte 0xff. */
    static const unsigned char none = 0xff;
    if (s)
        mni_hash64_update(h, s, strlen(s) + 1);
    else
        mni_hash64_update(h, &none, 1);
}

/* The fingerprint of what the search asks for: its query, mode and fusion, filter, floor and
 * ranking. Neither
 * k nor ef: a page may be of another size, or searched wider, than the one before. */
static int fingerprint(mn_db *db, const mn_search_options *opt, const struct mni_rank *r,
                       uint64_t *out)
{
    mn_filter f;
    int rc = mni_abi_read(db, &mni_abi_filter, opt->filter, 1, &f, sizeof f);
    if (rc != MN_OK)
        return rc;
    struct mni_hash64_state h;
    mni_hash64_init(&h, 0);
    hash_text(&h, opt->query);
    /* A vector of another dimension is refused later, with its own message. */
    if (opt->vector && opt->dim == db->dim)
        mni_hash64_update(&h, opt->vector, (size_t)opt->dim * sizeof *opt->vector);
    hash_text(&h, f.identity);
    hash_text(&h, f.type);
    hash_text(&h, f.metadata);
    double floor = mni_rank_floor(db, opt, opt->mode);
    double knobs[] = { floor, r->recency_weight, r->importance_weight, opt->vector_weight,
                       opt->keyword_weight };
    const int modes[] = { opt->mode, opt->rrf_k };
    mni_hash64_update(&h, &f.flags, sizeof f.flags);
    mni_hash64_update(&h, knobs, sizeof knobs);
    mni_hash64_update(&h, modes, sizeof modes);
    mni_hash64_update(&h, &r->half_life_ms, sizeof r->half_life_ms);
    *out = mni_hash64_final(&h);
    return MN_OK;
}

/* 16 hex digits at s into *v; 0 when they are not. */
static int hex16(const char *s, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < 16; i++) {
        int c = s[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                                                                 : -1;
        if (d < 0)
            return 0;
        *v = *v << 4 | (uint64_t)d;
    }
    return 1;
}

static int bad_cursor(mn_db *db, const char *cursor, const char *why)
{
    return mni_seterr(db, MN_EINVAL, "cursor \"%.64s%s\" %s; pass next_cursor as a search with "
                     "the same options returned it, or NULL for the first page", cursor,
                     strlen(cursor) > 64 ? "..." : "", why);
}

static int read_cursor(mn_db *db, const char *cursor, struct mni_rank *r)
{
    uint64_t query, now, offset, bits, sim_bits;
    const char *p = cursor + 2;
    if (strlen(cursor) != MNI_CURSOR_LEN || strncmp(cursor, MNI_CURSOR_TAG, 2) != 0 ||
        !hex16(p, &query) || !hex16(p + 16, &now) || !hex16(p + 32, &offset) ||
        !hex16(p + 48, &bits) || !hex16(p + 64, &sim_bits) || !mni_uuid_valid(p + 80))
        return bad_cursor(db, cursor, "is not one that a search returned");
    if (query != r->query)
        return bad_cursor(db, cursor, "belongs to another search (another query, filter, floor "
                         "or ranking)");
    r->paged = 1;
    r->now = (int64_t)now;
    r->offset = (size_t)offset;
    memcpy(&r->after.score, &bits, sizeof bits);
    memcpy(&r->after.similarity, &sim_bits, sizeof sim_bits);
    memcpy(r->after_id, p + 80, MNI_UUID_LEN + 1);
    r->after.id = r->after_id;
    return MN_OK;
}

int mni_rank_begin(mn_db *db, const mn_search_options *opt, size_t k, struct mni_rank *r)
{
    memset(r, 0, sizeof *r);
    int rc = check_values(db, "mn_search_options", "", opt->recency_half_life_ms,
                          opt->recency_weight, opt->importance_weight);
    if (rc != MN_OK)
        return rc;
    const mn_config *c = &db->cfg;
    r->k = k;
    int64_t half_life = opt->recency_half_life_ms ? opt->recency_half_life_ms
                                                  : c->search_recency_half_life_ms;
    double recency = either(opt->recency_weight, c->search_recency_weight);
    if (half_life > 0 && recency != MN_SEARCH_OFF) {
        r->half_life_ms = half_life;
        r->recency_weight = recency ? recency : MNI_RECENCY_WEIGHT_DEFAULT;
    }
    r->importance_weight = fmax(either(opt->importance_weight, c->search_importance_weight), 0);
    r->now = mni_now_ms();
    rc = fingerprint(db, opt, r, &r->query);
    return rc == MN_OK && opt->cursor ? read_cursor(db, opt->cursor, r) : rc;
}

size_t mni_rank_want(const struct mni_rank *r)
{
    /* One past the page tells whether more follow. The offset only sizes the first try (a
     * cursor made up to hold a huge one must not make the search allocate for it). */
    return (r->offset < MNI_RANK_OFFSET_HINT_MAX ? r->offset : MNI_RANK_OFFSET_HINT_MAX) +
           r->k + 1;
}

static int adjusting(const struct mni_rank *r)
{
    return r->half_life_ms > 0 || r->importance_weight > 0;
}

static void adjust(const struct mni_rank *r, mn_memory *m)
{
    m->recency_factor = m->importance_factor = 1;
    if (r->half_life_ms > 0) {
        /* A memory changed after the first page's clock (or by a skewed clock) is new. */
        double age = r->now > m->updated_at ? (double)(r->now - m->updated_at) : 0;
        m->recency_factor = 1 - r->recency_weight +
                            r->recency_weight * exp2(-age / (double)r->half_life_ms);
    }
    if (r->importance_weight > 0)
        m->importance_factor = 1 - r->importance_weight + r->importance_weight * m->importance;
    m->score *= m->recency_factor * m->importance_factor;
}

static struct mni_rank_place place_of(const mn_memory *m)
{
    return (struct mni_rank_place){m->score, m->similarity, m->id};
}

/* Best first by score; ties by similarity (in hybrid mode two hits that the rankings put in
 * swapped places fuse to equal scores: the nearer in meaning goes first), then by id. */
static int before(struct mni_rank_place a, struct mni_rank_place b)
{
    if (a.score != b.score)
        return a.score > b.score;
    if (a.similarity != b.similarity)
        return a.similarity > b.similarity;
    return strcmp(a.id, b.id) < 0;
}

static int by_rank(const void *pa, const void *pb)
{
    const mn_memory *a = *(mn_memory *const *)pa, *b = *(mn_memory *const *)pb;
    return before(place_of(a), place_of(b)) ? -1 : before(place_of(b), place_of(a)) ? 1 : 0;
}

static int set_cursor(mn_db *db, const struct mni_rank *r, mn_memories *l, const mn_memory *last)
{
    char *c = malloc(MNI_CURSOR_LEN + 1);
    if (!c)
        return mni_seterr(db, MN_ENOMEM, "out of memory searching");
    uint64_t bits, sim_bits;
    memcpy(&bits, &last->score, sizeof bits);
    memcpy(&sim_bits, &last->similarity, sizeof sim_bits);
    snprintf(c, MNI_CURSOR_LEN + 1, MNI_CURSOR_TAG "%016" PRIx64 "%016" PRIx64 "%016" PRIx64
             "%016" PRIx64 "%016" PRIx64 "%s", r->query, (uint64_t)r->now,
             (uint64_t)(r->offset + r->k), bits, sim_bits, last->id);
    l->next_cursor = c;
    return MN_OK;
}

int mni_rank_page(mn_db *db, const struct mni_rank *r, mn_memories *l, double least,
                  size_t want, int exhausted, int *done)
{
    for (size_t i = 0; i < l->count; i++)
        adjust(r, l->items[i]);
    if (l->count > 1)
        qsort(l->items, l->count, sizeof *l->items, by_rank);
    /* What the pages before showed comes first in this order. */
    size_t shown = 0;
    while (r->paged && shown < l->count && !before(r->after, place_of(l->items[shown])))
        mn_memory_free(l->items[shown++]);
    if (shown) {
        memmove(l->items, l->items + shown, (l->count - shown) * sizeof *l->items);
        l->count -= shown;
    }
    /* An unread candidate scores at most its relevance (at most least), or at most 0 when
     * that is negative and a factor below 1 pulls it towards 0. One that scores as much may
     * still come first (ties go by similarity, then id): only a better score closes the page. */
    double best_unread = adjusting(r) ? fmax(least, 0) : least;
    size_t k = r->k;
    *done = exhausted || (l->count >= k && l->items[k - 1]->score > best_unread) ||
            (adjusting(r) && want >= r->offset + k + MNI_RANK_POOL_MAX);
    if (!*done)
        return MN_OK;
    int more = l->count > k || (l->count == k && !exhausted);
    for (size_t i = k; i < l->count; i++)
        mn_memory_free(l->items[i]);
    if (l->count > k)
        l->count = k;
    return more && k ? set_cursor(db, r, l, l->items[k - 1]) : MN_OK;
}
