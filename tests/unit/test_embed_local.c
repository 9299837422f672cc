/* Unit tests of the local (feature-hashing) embedder and the embedder registry. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "embed/embedder.h"
#include "manushya.h"

#define DIM 384

/* create() with only a dimension set, as the handle does for the local embedder. */
static int create_dim(int dim, mni_embedder **e, char *err, size_t errlen)
{
    struct mni_embedder_config cfg = {.dim = dim};
    return mni_embedder_local.create(&cfg, e, err, errlen);
}

static mni_embedder *make(int dim)
{
    mni_embedder *e = NULL;
    char err[256] = "";
    int rc = create_dim(dim, &e, err, sizeof err);
    ck_assert_msg(rc == MN_OK, "create(%d): rc %d: %s", dim, rc, err);
    ck_assert_ptr_nonnull(e);
    return e;
}

static void embed_len(mni_embedder *e, const char *text, size_t len, float *out)
{
    char err[256] = "";
    int rc = mni_embedder_local.embed(e, &text, &len, 1, out, err, sizeof err);
    ck_assert_msg(rc == MN_OK, "embed: rc %d: %s", rc, err);
}

static void embed(mni_embedder *e, const char *text, float *out)
{
    embed_len(e, text, strlen(text), out);
}

static double dot(const float *a, const float *b, int dim)
{
    double s = 0;
    for (int i = 0; i < dim; i++)
        s += (double)a[i] * b[i];
    return s;
}

static double norm(const float *a, int dim)
{
    return sqrt(dot(a, a, dim));
}

static int all_zero(const float *a, int dim)
{
    for (int i = 0; i < dim; i++)
        if (a[i] != 0.0f)
            return 0;
    return 1;
}

START_TEST(test_registry)
{
    const struct mni_embedder_ops *ops = NULL;
    ck_assert_int_eq(mni_embedder_find(NULL, "local", &ops), MN_OK);
    ck_assert_ptr_eq(ops, &mni_embedder_local);
    ck_assert_str_eq(mni_embedder_local.name, "local");
    const char *unknown[] = {"nope", "", "LOCAL", NULL};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        ck_assert_int_eq(mni_embedder_find(NULL, unknown[i], &ops), MN_EINVAL);
        ck_assert_ptr_null(ops);
    }
}
END_TEST

START_TEST(test_deterministic)
{
    mni_embedder *e1 = make(DIM), *e2 = make(DIM);
    float a[DIM], b[DIM], c[DIM];
    const char *t = "Daniel prefers an aisle seat on flights longer than two hours.";
    embed(e1, t, a);
    embed(e1, t, b);
    embed(e2, t, c);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_mem_eq(a, c, sizeof a);
    mni_embedder_local.destroy(e1);
    mni_embedder_local.destroy(e2);
}
END_TEST

START_TEST(test_unit_norm)
{
    static const char *const texts[] = {
        "a", "hello", "I love coffee in the morning", "x y z x y z x y z",
        "The quarterly tax filing deadline is April 15th, 2026.",
        "word word word word word word word word word word word word",
    };
    mni_embedder *e = make(DIM);
    float v[DIM];
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        embed(e, texts[i], v);
        ck_assert_msg(fabs(norm(v, DIM) - 1.0) < 1e-5, "norm of \"%s\" is %f", texts[i],
                      norm(v, DIM));
    }
    mni_embedder_local.destroy(e);
}
END_TEST

START_TEST(test_zero_without_features)
{
    mni_embedder *e = make(DIM);
    float v[DIM];
    embed(e, "", v);
    ck_assert(all_zero(v, DIM));
    embed(e, "  ... !!! --- ??? ,;:()[]{} \t\n\r", v);
    ck_assert(all_zero(v, DIM));
    embed_len(e, NULL, 0, v);
    ck_assert(all_zero(v, DIM));
    embed_len(e, "\0\0\0", 3, v);
    ck_assert(all_zero(v, DIM));
    mni_embedder_local.destroy(e);
}
END_TEST

START_TEST(test_case_and_separators)
{
    mni_embedder *e = make(DIM);
    float a[DIM], b[DIM];
    embed(e, "Hello World, COFFEE time", a);
    embed(e, "hello world coffee TIME", b);
    ck_assert_mem_eq(a, b, sizeof a);
    /* Any run of non-alphanumeric ASCII (NUL included) is one separator. */
    embed(e, "coffee tea", a);
    embed_len(e, "  coffee,\0--tea!!", 17, b);
    ck_assert_mem_eq(a, b, sizeof a);
    /* Word order matters a little (bigrams), so these differ but stay close. */
    embed(e, "tea coffee", b);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    ck_assert(dot(a, b, DIM) > 0.5);
    mni_embedder_local.destroy(e);
}
END_TEST

START_TEST(test_similarity_ranks)
{
    mni_embedder *e = make(DIM);
    float q[DIM], near[DIM], far[DIM], morph[DIM];
    embed(e, "I love coffee in the morning", q);
    embed(e, "coffee in the morning is what I love", near);
    embed(e, "quarterly tax filing deadline", far);
    embed(e, "loving coffees every morning", morph);
    double s_near = dot(q, near, DIM), s_far = dot(q, far, DIM), s_morph = dot(q, morph, DIM);
    ck_assert_msg(s_near > 0.7, "paraphrase similarity %f", s_near);
    ck_assert_msg(fabs(s_far) < 0.2, "unrelated similarity %f", s_far);
    /* Character trigrams carry inflections: shared stems still score well above unrelated. */
    ck_assert_msg(s_morph > s_far + 0.2, "inflected %f vs unrelated %f", s_morph, s_far);
    ck_assert_msg(s_near > s_morph, "paraphrase %f vs inflected %f", s_near, s_morph);
    mni_embedder_local.destroy(e);
}
END_TEST

START_TEST(test_batch_equals_single)
{
    static const char *const texts[] = {
        "first text about travel plans to Japan", "", "second: the dog needs a vet visit",
        "!!!", "third text, a bit longer, about the kitchen renovation budget and tiles",
    };
    enum { N = sizeof texts / sizeof texts[0] };
    size_t lens[N];
    for (size_t i = 0; i < N; i++)
        lens[i] = strlen(texts[i]);
    mni_embedder *e = make(DIM);
    float *batch = malloc(sizeof(float) * N * DIM);
    ck_assert_ptr_nonnull(batch);
    char err[256] = "";
    ck_assert_int_eq(mni_embedder_local.embed(e, texts, lens, N, batch, err, sizeof err), MN_OK);
    for (size_t i = 0; i < N; i++) {
        float one[DIM];
        embed(e, texts[i], one);
        ck_assert_mem_eq(batch + i * DIM, one, sizeof one);
    }
    /* n == 0 does nothing and succeeds. */
    ck_assert_int_eq(mni_embedder_local.embed(e, texts, lens, 0, batch, err, sizeof err), MN_OK);
    free(batch);
    mni_embedder_local.destroy(e);
}
END_TEST

START_TEST(test_dims)
{
    static const int dims[] = {8, 384, 1536, 3072, 4096, 65536};
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++) {
        int dim = dims[d];
        mni_embedder *e = make(dim);
        float *a = malloc(sizeof(float) * (size_t)dim), *b = malloc(sizeof(float) * (size_t)dim);
        ck_assert(a && b);
        embed(e, "Sofia has a piano recital on Saturday at 3pm", a);
        ck_assert_msg(fabs(norm(a, dim) - 1.0) < 1e-5, "dim %d norm %f", dim, norm(a, dim));
        embed(e, "Sofia has a piano recital on Saturday at 3pm", b);
        ck_assert_mem_eq(a, b, sizeof(float) * (size_t)dim);
        free(a);
        free(b);
        mni_embedder_local.destroy(e);
    }
}
END_TEST

START_TEST(test_invalid_dim)
{
    static const int bad[] = {-1, 7, 65537, 1 << 30}; /* 0 means the default, 384 */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mni_embedder *e = (mni_embedder *)&e; /* non-NULL sentinel: create must clear it */
        char err[256] = "";
        ck_assert_int_eq(create_dim(bad[i], &e, err, sizeof err), MN_ERANGE);
        ck_assert_ptr_null(e);
        ck_assert_msg(strstr(err, "8..65536") != NULL, "message: %s", err);
    }
    /* A NULL or empty message buffer is allowed. */
    mni_embedder *e = NULL;
    ck_assert_int_eq(create_dim(3, &e, NULL, 0), MN_ERANGE);
}
END_TEST

START_TEST(test_invalid_args)
{
    mni_embedder *e = make(DIM);
    float v[DIM];
    const char *texts[] = {NULL};
    size_t lens[] = {4};
    char err[256] = "";
    ck_assert_int_eq(mni_embedder_local.embed(e, texts, lens, 1, v, err, sizeof err), MN_EINVAL);
    ck_assert(strlen(err) > 0);
    ck_assert_int_eq(mni_embedder_local.embed(e, texts, lens, 1, NULL, NULL, 0), MN_EINVAL);
    mni_embedder_local.destroy(e);
}
END_TEST

START_TEST(test_utf8)
{
    static const char *const texts[] = {
        "Café crème brûlée à Paris",
        "日本語のテキスト、東京で寿司",
        "emoji 😀🎉 mixed with words",
        "invalid \xff\xfe bytes \x80\x80 and cut \xe6\x97 sequence \xf0\x9f\x98",
        "\xc3",
    };
    mni_embedder *e = make(DIM);
    float a[DIM], b[DIM];
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        embed(e, texts[i], a);
        embed(e, texts[i], b);
        ck_assert_mem_eq(a, b, sizeof a);
        ck_assert_msg(fabs(norm(a, DIM) - 1.0) < 1e-5, "norm of text %zu: %f", i, norm(a, DIM));
    }
    /* Multibyte characters are word characters: the same word matches itself... */
    embed(e, "東京 trip", a);
    embed(e, "東京 sushi", b);
    ck_assert(dot(a, b, DIM) > 0.2);
    /* ...and a text cut in the middle of a character still embeds. */
    embed_len(e, "東京", 4, a);
    ck_assert(!all_zero(a, DIM));
    mni_embedder_local.destroy(e);
}
END_TEST

START_TEST(test_long_text)
{
    enum { LEN = 1 << 20 };
    char *t = malloc(LEN);
    ck_assert_ptr_nonnull(t);
    /* Mostly distinct words (numbers spelt as letters), so the count table must grow. */
    size_t n = 0;
    for (unsigned i = 0; n + 16 < LEN; i++) {
        unsigned x = i * 2654435761u;
        for (int k = 0; k < 6; k++, x /= 26)
            t[n++] = (char)('a' + x % 26);
        t[n++] = ' ';
    }
    memset(t + n, 'z', LEN - n);
    mni_embedder *e = make(DIM);
    float a[DIM], b[DIM];
    embed_len(e, t, LEN, a);
    for (int i = 0; i < DIM; i++)
        ck_assert(isfinite(a[i]));
    ck_assert(fabs(norm(a, DIM) - 1.0) < 1e-5);
    embed_len(e, t, LEN, b);
    ck_assert_mem_eq(a, b, sizeof a);
    /* One single 1 MiB word. */
    memset(t, 'q', LEN);
    embed_len(e, t, LEN, a);
    ck_assert(fabs(norm(a, DIM) - 1.0) < 1e-5);
    free(t);
    mni_embedder_local.destroy(e);
}
END_TEST

#define THREADS 4
#define ROUNDS 200

static const char *const thread_texts[] = {
    "Hannah works night shifts at the children's hospital on weekends",
    "Remind Daniel to renew his passport before the Japan trip in October",
    "Biscuit the beagle is allergic to chicken-based dog food",
    "The Airflow to Dagster migration is due at the end of Q3",
    "Prefers oat milk in his flat white; lactose intolerant",
    "naïve café 東京 😀 and a long tail of words to make the table work a little harder",
};
#define NTEXTS (sizeof thread_texts / sizeof thread_texts[0])

struct thread_arg {
    mni_embedder *e;
    const float *expect;
    int mismatches;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    float v[DIM];
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < NTEXTS; i++) {
            const char *t = thread_texts[(i + (size_t)r) % NTEXTS];
            size_t len = strlen(t);
            if (mni_embedder_local.embed(a->e, &t, &len, 1, v, NULL, 0) != MN_OK ||
                memcmp(v, a->expect + ((i + (size_t)r) % NTEXTS) * DIM, sizeof v) != 0)
                a->mismatches++;
        }
    }
    return NULL;
}

START_TEST(test_threads)
{
    mni_embedder *e = make(DIM);
    static float expect[NTEXTS * DIM];
    for (size_t i = 0; i < NTEXTS; i++)
        embed(e, thread_texts[i], expect + i * DIM);
    pthread_t th[THREADS];
    struct thread_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (struct thread_arg){.e = e, .expect = expect};
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(args[i].mismatches, 0);
    }
    mni_embedder_local.destroy(e);
}
END_TEST

static Suite *embed_local_suite(void)
{
    Suite *s = suite_create("embed_local");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_registry);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_unit_norm);
    tcase_add_test(tc, test_zero_without_features);
    tcase_add_test(tc, test_case_and_separators);
    tcase_add_test(tc, test_similarity_ranks);
    tcase_add_test(tc, test_batch_equals_single);
    tcase_add_test(tc, test_dims);
    tcase_add_test(tc, test_invalid_dim);
    tcase_add_test(tc, test_invalid_args);
    tcase_add_test(tc, test_utf8);
    tcase_add_test(tc, test_long_text);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(embed_local_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
