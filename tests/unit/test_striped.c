/* The striped hash table (core/striped.h): finding, replacing, deleting, the per-stripe bound
 * (cleared without a full callback, made room in with one), sweeps, growth under many keys,
 * every entry freed once, and threads on one table. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/striped.h"
#include "manushya.h"
#include "support/harness.h"

struct item {
    struct mni_striped_node node;
    uint64_t key;
    int value;
};

static long live; /* items allocated and not yet freed */

static struct item *item_new(uint64_t key, int value)
{
    struct item *it = malloc(sizeof *it);
    ck_assert_ptr_nonnull(it);
    it->key = key;
    it->value = value;
    it->node.hash = mni_hash64(&key, sizeof key, 0);
    __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
    return it;
}

static void item_free(struct mni_striped_node *node, void *ctx)
{
    (void)ctx;
    free(MNI_STRIPED_ENTRY(node, struct item, node));
    __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
}

static int item_eq(const struct mni_striped_node *node, const void *key)
{
    return MNI_STRIPED_ENTRY(node, struct item, node)->key == *(const uint64_t *)key;
}

/* The value under key, or -1. */
static int lookup(struct mni_striped *t, uint64_t key)
{
    uint64_t h = mni_hash64(&key, sizeof key, 0);
    struct mni_striped_stripe *s = mni_striped_at(t, h);
    mni_striped_lock(s);
    struct mni_striped_node *n = mni_striped_find(t, s, h, item_eq, &key);
    int v = n ? MNI_STRIPED_ENTRY(n, struct item, node)->value : -1;
    mni_striped_unlock(s);
    return v;
}

static void add(struct mni_striped *t, uint64_t key, int value)
{
    struct item *it = item_new(key, value);
    struct mni_striped_stripe *s = mni_striped_at(t, it->node.hash);
    mni_striped_lock(s);
    ck_assert_int_eq(mni_striped_add(t, s, &it->node, NULL), MN_OK);
    mni_striped_unlock(s);
}

static size_t entries(const struct mni_striped *t)
{
    size_t n = 0;
    for (uint64_t i = 0; i <= t->mask; i++)
        n += t->stripes[i].n;
    return n;
}

START_TEST(find_put_delete_and_grow)
{
    struct mni_striped t;
    live = 0;
    ck_assert_int_eq(mni_striped_init(&t, 5, SIZE_MAX, item_free, NULL, NULL), MN_OK);
    ck_assert_uint_eq(t.mask, 7); /* 5 stripes rounded up to 8 */
    enum { N = 20000 };
    for (uint64_t k = 0; k < N; k++)
        add(&t, k, (int)k);
    ck_assert_uint_eq(entries(&t), N);
    for (uint64_t k = 0; k < N; k++)
        ck_assert_int_eq(lookup(&t, k), (int)k);
    ck_assert_int_eq(lookup(&t, N), -1);
    /* Buckets doubled with the entries: no stripe has more entries than twice its buckets. */
    for (uint64_t i = 0; i <= t.mask; i++)
        ck_assert_uint_le(t.stripes[i].n, 2 * t.stripes[i].nbuckets);
    /* put replaces the entry with the key (the old one freed), or adds one. */
    uint64_t k7 = 7, kn = N + 1;
    mni_striped_put(&t, &item_new(7, 700)->node, item_eq, &k7, NULL);
    mni_striped_put(&t, &item_new(N + 1, 1)->node, item_eq, &kn, NULL);
    ck_assert_int_eq(lookup(&t, 7), 700);
    ck_assert_int_eq(lookup(&t, N + 1), 1);
    ck_assert_int_eq(live, N + 1);
    /* delete unlinks and frees. */
    uint64_t h = mni_hash64(&k7, sizeof k7, 0);
    struct mni_striped_stripe *s = mni_striped_at(&t, h);
    mni_striped_lock(s);
    mni_striped_delete(&t, s, mni_striped_find(&t, s, h, item_eq, &k7));
    mni_striped_unlock(s);
    ck_assert_int_eq(lookup(&t, 7), -1);
    ck_assert_int_eq(live, N);
    mni_striped_destroy(&t);
    ck_assert_int_eq(live, 0);
}
END_TEST

/* Drops the odd values; counts what it sees. */
static int drop_odd(struct mni_striped_node *node, void *arg)
{
    ++*(size_t *)arg;
    return MNI_STRIPED_ENTRY(node, struct item, node)->value % 2 != 0;
}

START_TEST(sweep_drops_what_it_is_told)
{
    struct mni_striped t;
    live = 0;
    ck_assert_int_eq(mni_striped_init(&t, 1, SIZE_MAX, item_free, NULL, NULL), MN_OK);
    for (uint64_t k = 0; k < 100; k++)
        add(&t, k, (int)k);
    size_t seen = 0;
    mni_striped_lock(&t.stripes[0]);
    ck_assert_uint_eq(mni_striped_sweep(&t, &t.stripes[0], drop_odd, &seen), 50);
    mni_striped_unlock(&t.stripes[0]);
    ck_assert_uint_eq(seen, 100);
    for (uint64_t k = 0; k < 100; k++)
        ck_assert_int_eq(lookup(&t, k), k % 2 ? -1 : (int)k);
    ck_assert_int_eq(live, 50);
    mni_striped_destroy(&t);
    ck_assert_int_eq(live, 0);
}
END_TEST

START_TEST(full_stripe_without_callback_starts_over)
{
    struct mni_striped t;
    live = 0;
    ck_assert_int_eq(mni_striped_init(&t, 1, 10, item_free, NULL, NULL), MN_OK);
    for (uint64_t k = 0; k < 10; k++)
        add(&t, k, (int)k);
    ck_assert_uint_eq(entries(&t), 10);
    add(&t, 10, 10); /* the eleventh: the stripe is cleared first */
    ck_assert_uint_eq(entries(&t), 1);
    ck_assert_int_eq(lookup(&t, 10), 10);
    ck_assert_int_eq(lookup(&t, 0), -1);
    ck_assert_int_eq(live, 1);
    mni_striped_destroy(&t);
    ck_assert_int_eq(live, 0);
}
END_TEST

/* Makes room by dropping the smallest value (the oldest, here); counts its calls. */
static int calls;
static int drop_min_seen(struct mni_striped_node *node, void *arg)
{
    return MNI_STRIPED_ENTRY(node, struct item, node)->value == *(int *)arg;
}

static void drop_oldest(struct mni_striped *t, struct mni_striped_stripe *s, void *arg)
{
    (void)arg;
    calls++;
    int min = INT32_MAX;
    for (size_t b = 0; b < s->nbuckets; b++)
        for (struct mni_striped_node *n = s->buckets[b]; n; n = n->next) {
            int v = MNI_STRIPED_ENTRY(n, struct item, node)->value;
            min = v < min ? v : min;
        }
    mni_striped_sweep(t, s, drop_min_seen, &min);
}

START_TEST(full_stripe_with_callback_makes_room)
{
    struct mni_striped t;
    live = 0;
    calls = 0;
    ck_assert_int_eq(mni_striped_init(&t, 1, 4, item_free, drop_oldest, NULL), MN_OK);
    for (uint64_t k = 0; k < 10; k++)
        add(&t, k, (int)k);
    ck_assert_int_eq(calls, 6);
    ck_assert_uint_eq(entries(&t), 4);
    for (uint64_t k = 0; k < 10; k++)
        ck_assert_int_eq(lookup(&t, k), k < 6 ? -1 : (int)k);
    ck_assert_int_eq(live, 4);
    mni_striped_destroy(&t);
    ck_assert_int_eq(live, 0);
}
END_TEST

/* Threads each put and read their own keys of one table: none is lost or mixed up. */
#define THREADS 4
#define PER_THREAD 5000
static struct mni_striped shared;

static void *worker(void *arg)
{
    uint64_t base = (uint64_t)(uintptr_t)arg * PER_THREAD;
    for (uint64_t k = base; k < base + PER_THREAD; k++) {
        mni_striped_put(&shared, &item_new(k, (int)k)->node, item_eq, &k, NULL);
        if (lookup(&shared, k) != (int)k)
            return (void *)1;
    }
    return NULL;
}

START_TEST(threads_share_one_table)
{
    live = 0;
    ck_assert_int_eq(mni_striped_init(&shared, 16, SIZE_MAX, item_free, NULL, NULL), MN_OK);
    pthread_t th[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < THREADS; i++) {
        void *bad;
        pthread_join(th[i], &bad);
        ck_assert_ptr_null(bad);
    }
    ck_assert_uint_eq(entries(&shared), THREADS * PER_THREAD);
    for (uint64_t k = 0; k < THREADS * PER_THREAD; k++)
        ck_assert_int_eq(lookup(&shared, k), (int)k);
    mni_striped_destroy(&shared);
    ck_assert_int_eq(live, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("striped");
    TCase *tc = tcase_create("table");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, find_put_delete_and_grow);
    tcase_add_test(tc, sweep_drops_what_it_is_told);
    tcase_add_test(tc, full_stripe_without_callback_starts_over);
    tcase_add_test(tc, full_stripe_with_callback_makes_room);
    tcase_add_test(tc, threads_share_one_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(suite());
}
