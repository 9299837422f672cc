/* Unit tests of lib/core: UUIDv7 ids, JSON canonical form and jsonb-style containment, retry
 * backoff, and the library-level calls (version, error names, free functions). */
#include <check.h>
#include <cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backoff.h"
#include "core/error.h"
#include "core/json.h"
#include "core/normalise.h"
#include "core/uuid.h"
#include "manushya.h"
#include "support/harness.h"

/* ==== uuid =================================================================================== */

static int64_t uuid_ms(const char *u)
{
    /* the first 48 bits: 8 hex + 4 hex */
    char hex[13];
    memcpy(hex, u, 8);
    memcpy(hex + 8, u + 9, 4);
    hex[12] = '\0';
    return (int64_t)strtoll(hex, NULL, 16);
}

START_TEST(uuid_format)
{
    char u[MNI_UUID_LEN + 1];
    memset(u, 'X', sizeof u);
    int64_t t0 = th_now_ms();
    int64_t ms = mni_uuid7(u);
    int64_t t1 = th_now_ms();
    ck_assert_int_eq(strlen(u), 36);
    ck_assert_msg(th_is_uuid7(u), "%s", u);
    ck_assert(mni_uuid_valid(u));
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ck_assert_int_eq(u[i], '-');
        else
            ck_assert_msg((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'),
                          "not lowercase hex at %d: %s", i, u);
    }
    ck_assert_int_eq(u[14], '7');
    ck_assert_ptr_nonnull(strchr("89ab", u[19]));
    ck_assert_msg(ms >= t0 && ms <= t1 + 1, "ms %lld outside [%lld, %lld]", (long long)ms,
                  (long long)t0, (long long)t1);
    ck_assert_int_eq(uuid_ms(u), ms);
}
END_TEST

START_TEST(uuid_monotonic)
{
    enum { N = 200000 };
    char prev[MNI_UUID_LEN + 1], cur[MNI_UUID_LEN + 1];
    int64_t prev_ms = mni_uuid7(prev);
    ck_assert_int_gt(prev_ms, 0);
    for (int i = 0; i < N; i++) {
        int64_t ms = mni_uuid7(cur);
        ck_assert_msg(strcmp(cur, prev) > 0, "not increasing at %d: %s after %s", i, cur, prev);
        ck_assert_msg(ms >= prev_ms, "timestamp went back at %d", i);
        ck_assert_int_eq(uuid_ms(cur), ms);
        ck_assert(cur[14] == '7' && strchr("89ab", cur[19]));
        memcpy(prev, cur, sizeof cur);
        prev_ms = ms;
    }
    /* Even a burst far above 4096 ids per millisecond never lets the id's time run far ahead. */
    ck_assert_msg(prev_ms <= th_now_ms() + 1000, "ids ran %lld ms ahead of the clock",
                  (long long)(prev_ms - th_now_ms()));
}
END_TEST

/* A batch (more ids than one draw of random bits, not a multiple of it) is what as many
 * single calls make: valid, increasing, on from the ids before it and before the ids after. */
START_TEST(uuid_many)
{
    enum { N = 1000 };
    static char ids[N][MNI_UUID_LEN + 1];
    char before[MNI_UUID_LEN + 1], after[MNI_UUID_LEN + 1];
    ck_assert_int_eq(mni_uuid7_many(ids, 0), 0);
    mni_uuid7(before);
    int64_t ms = mni_uuid7_many(ids, N);
    mni_uuid7(after);
    ck_assert_int_eq(uuid_ms(ids[N - 1]), ms);
    for (int i = 0; i < N; i++) {
        ck_assert_msg(th_is_uuid7(ids[i]) && mni_uuid_valid(ids[i]), "%d: %s", i, ids[i]);
        ck_assert_msg(strcmp(ids[i], i ? ids[i - 1] : before) > 0, "not increasing at %d", i);
    }
    ck_assert(strcmp(after, ids[N - 1]) > 0);
    /* The random tails (the last 12 digits) differ: every id drew bits of its own. */
    for (int i = 1; i < N; i++)
        ck_assert_msg(strcmp(ids[i] + 24, ids[i - 1] + 24) != 0, "id %d repeats the random "
                      "bits of id %d: %s", i, i - 1, ids[i]);
}
END_TEST

/* ==== normalise ============================================================================== */

/* ASCII (the fast path) and the rest alike: trimmed, white space one ASCII space, upper case
 * lowered, bytes that are not UTF-8 kept. */
START_TEST(normalise_forms)
{
    static const struct { const char *in, *out; } cases[] = {
        {"  Hello \t\n World  ", "hello world"},
        {"Meeting WITH Priya at 14:00!", "meeting with priya at 14:00!"},
        {"\xc3\x84\xc3\x96\xc3\x9c Stra\xc3\x9f" "e", "\xc3\xa4\xc3\xb6\xc3\xbc stra\xc3\x9f" "e"},
        {"\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91", "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1"},
        {"\xd0\x81 \xd0\x9f", "\xd1\x91 \xd0\xbf"},          /* Ё П -> ё п */
        {"a\xc2\xa0\xe3\x80\x80" "B", "a b"},                  /* no-break, ideographic space */
        {"x\xffY\x7f", "x\xffy\x7f"},
        {" \t ", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 0;
        char *n = mni_normalise(cases[i].in, &len);
        ck_assert_ptr_nonnull(n);
        ck_assert_msg(strcmp(n, cases[i].out) == 0, "case %zu: \"%s\" gave \"%s\"", i,
                      cases[i].in, n);
        ck_assert_uint_eq(len, strlen(cases[i].out));
        free(n);
    }
}
END_TEST

#define UT_THREADS 4
#define UT_PER 20000

static void *uuid_thread(void *p)
{
    char *out = p;
    for (int i = 0; i < UT_PER; i++) {
        mni_uuid7(out + (size_t)i * 37);
        /* increasing within one thread */
        if (i > 0 && strcmp(out + (size_t)i * 37, out + (size_t)(i - 1) * 37) <= 0)
            return (void *)1;
    }
    return NULL;
}

static int cmp_str37(const void *a, const void *b)
{
    return strcmp(a, b);
}

START_TEST(uuid_threads_unique)
{
    char *all = malloc((size_t)UT_THREADS * UT_PER * 37);
    ck_assert_ptr_nonnull(all);
    pthread_t th[UT_THREADS];
    for (int t = 0; t < UT_THREADS; t++)
        ck_assert_int_eq(
            pthread_create(&th[t], NULL, uuid_thread, all + (size_t)t * UT_PER * 37), 0);
    for (int t = 0; t < UT_THREADS; t++) {
        void *r = NULL;
        ck_assert_int_eq(pthread_join(th[t], &r), 0);
        ck_assert_msg(r == NULL, "thread %d: ids not increasing", t);
    }
    qsort(all, (size_t)UT_THREADS * UT_PER, 37, cmp_str37);
    for (size_t i = 1; i < (size_t)UT_THREADS * UT_PER; i++)
        ck_assert_msg(strcmp(all + i * 37, all + (i - 1) * 37) != 0, "duplicate %s",
                      all + i * 37);
    free(all);
}
END_TEST

START_TEST(uuid_valid)
{
    ck_assert(mni_uuid_valid("01890a5d-ac96-774b-bcce-b302099a8057"));
    ck_assert(mni_uuid_valid("01890A5D-AC96-774B-BCCE-B302099A8057"));
    ck_assert(mni_uuid_valid("00000000-0000-0000-0000-000000000000"));
    ck_assert(mni_uuid_valid("ffffffff-ffff-ffff-ffff-ffffffffffff"));
    const char *bad[] = {
        NULL,
        "",
        "01890a5d-ac96-774b-bcce-b302099a805",    /* 35 */
        "01890a5d-ac96-774b-bcce-b302099a80571",  /* 37 */
        "01890a5dac96-774b-bcce-b302099a80571",   /* dash missing */
        "01890a5d-ac96-774b-bcce_b302099a8057",   /* wrong separator */
        "01890a5d-ac96-774b-bcceb-302099a8057",   /* dash misplaced */
        "01890a5g-ac96-774b-bcce-b302099a8057",   /* not hex */
        " 1890a5d-ac96-774b-bcce-b302099a8057",
        "01890a5d-ac96-774b-bcce-b302099a805\n",
        "{1890a5d-ac96-774b-bcce-b302099a805}",
        "01890a5d-ac96-774b-bcce-b302099a80\xc3\xa9",
        "not-a-uuid",
        "acme",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!mni_uuid_valid(bad[i]), "accepted #%zu: %s", i, bad[i] ? bad[i] : "NULL");
    /* A NUL in the middle: the string is short. */
    char withnul[37];
    memcpy(withnul, "01890a5d-ac96-774b-bcce-b302099a8057", 37);
    withnul[20] = '\0';
    ck_assert(!mni_uuid_valid(withnul));
}
END_TEST

/* ==== json =================================================================================== */

START_TEST(json_canon)
{
    char err[256];
    char *out = NULL;
    ck_assert_int_eq(mni_json_object_read(" { \"a\" : 1 , \"b\" : [ 1, 2 ], \"c\":{\"d\":null} } ",
                                         "metadata", NULL, &out, err, sizeof err),
                     MN_OK);
    ck_assert_str_eq(out, "{\"a\":1,\"b\":[1,2],\"c\":{\"d\":null}}");
    free(out);
    ck_assert_int_eq(mni_json_object_read("{}", "metadata", NULL, &out, err, sizeof err), MN_OK);
    ck_assert_str_eq(out, "{}");
    free(out);
    /* Key order is kept; strings with escapes and unicode round-trip. */
    ck_assert_int_eq(mni_json_object_read("{\"z\":\"caf\\u00e9 \\\"q\\\" \xe6\x9d\xb1\",\"a\":true}",
                                         "metadata", NULL, &out, err, sizeof err),
                     MN_OK);
    cJSON *v = cJSON_Parse(out);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(cJSON_GetObjectItem(v, "z")->valuestring, "caf\xc3\xa9 \"q\" \xe6\x9d\xb1");
    ck_assert_str_eq(v->child->string, "z");
    cJSON_Delete(v);
    free(out);
    /* Canonical form is a fixed point. */
    ck_assert_int_eq(mni_json_object_read("{\"n\":2.5,\"m\":-3,\"e\":1e3}", "x", NULL, &out, err,
                                          sizeof err),
                     MN_OK);
    char *again = NULL;
    ck_assert_int_eq(mni_json_object_read(out, "x", NULL, &again, err, sizeof err), MN_OK);
    ck_assert_str_eq(out, again);
    free(out);
    free(again);
}
END_TEST

START_TEST(json_canon_rejects)
{
    struct {
        const char *text;
        const char *word;
    } cases[] = {
        {"[]", "object"},       {"[1,2]", "object"},     {"1", "object"},
        {"\"s\"", "object"},    {"null", "object"},      {"true", "object"},
        {"", "valid JSON"},     {"{", "valid JSON"},     {"{\"a\":}", "valid JSON"},
        {"{} x", "valid JSON"}, {"{'a':1}", "valid JSON"}, {"{\"a\":1,}", "valid JSON"},
        {"   ", "valid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[256] = "";
        char *out = (char *)&out;
        int rc = mni_json_object_read(cases[i].text, "metadata", NULL, &out, err, sizeof err);
        ck_assert_msg(rc == MN_EINVAL, "\"%s\": rc %d", cases[i].text, rc);
        ck_assert_msg(strstr(err, "metadata") && strstr(err, cases[i].word),
                      "\"%s\": message %s", cases[i].text, err);
        cJSON *v = (cJSON *)&v;
        rc = mni_json_object_read(cases[i].text, "claims", &v, NULL, err, sizeof err);
        ck_assert_int_eq(rc, MN_EINVAL);
        ck_assert_msg(strstr(err, "claims"), "message %s", err);
    }
    /* NULL text, and tiny or absent message buffers, are handled. */
    char err[8];
    char *out = NULL;
    ck_assert_int_eq(mni_json_object_read(NULL, "metadata", NULL, &out, err, sizeof err), MN_EINVAL);
    ck_assert_int_eq(strlen(err), 7);
    ck_assert_int_eq(mni_json_object_read("[", "metadata", NULL, &out, NULL, 0), MN_EINVAL);
}
END_TEST

/* The compact form keeps every string and number as written: digits a double would respell
 * (2^63, 1.0, 1E2), escapes, -0; only the whitespace between tokens goes. */
START_TEST(json_keep_exact)
{
    const char *text = " { \"id\" : 9007199254740992 , \"big\": 9223372036854775808,"
                       " \"neg\": -9007199254740993e0, \"f\": 1.0, \"e\": 1E2, \"z\": -0,"
                       " \"s\": \"caf\\u00e9 \\/ \\\"q\\\"\", \"a\": [ 1.50 , true, null ] } ";
    const char *want = "{\"id\":9007199254740992,\"big\":9223372036854775808,"
                       "\"neg\":-9007199254740993e0,\"f\":1.0,\"e\":1E2,\"z\":-0,"
                       "\"s\":\"caf\\u00e9 \\/ \\\"q\\\"\",\"a\":[1.50,true,null]}";
    char err[256] = "", *out = NULL;
    cJSON *v = NULL;
    ck_assert_msg(mni_json_object_read(text, "metadata", &v, &out, err, sizeof err) == MN_OK,
                  "%s", err);
    ck_assert_str_eq(out, want);
    ck_assert(cJSON_GetObjectItem(v, "big")->valuedouble == 9223372036854775808.0);
    cJSON_Delete(v);
    free(out);
}
END_TEST

/* What a reader would not see as written is refused, naming the key (the path to it). */
START_TEST(json_keep_refuses)
{
    struct {
        const char *text, *words[2];
    } cases[] = {
        {"{\"id\":9007199254740993}", {"key \"id\"", "9007199254740993"}},
        {"{\"a\":{\"ids\":[1,-12345678901234567890]}}", {"key \"a.ids[1]\"", "string"}},
        {"{\"x\":1e999}", {"key \"x\"", "infinity"}},
        {"{\"x\":-1.5E+400}", {"key \"x\"", "infinity"}},
        {"{\"x\":1e-999}", {"key \"x\"", "read as 0"}},
        {"{\"note\":\"a\\u0000b\"}", {"key \"note\"", "\\u0000"}},
        {"{\"a\\u0000b\":1}", {"a\\u0000", "NUL"}},
        {"{\"a\":1,\"b\":2,\"a\":3}", {"key \"a\"", "twice"}},
        {"{\"a\":1,\"\\u0061\":2}", {"key \"a\"", "twice"}},
        {"{\"o\":[{\"k\":1,\"k\":1}]}", {"key \"o[0].k\"", "twice"}},
        {"{\"a\":01}", {"valid JSON", "byte 5"}},
        {"{\"a\":1.}", {"valid JSON", "decimal point"}},
        {"{\"a\":\"tab\there\"}", {"valid JSON", "control byte"}},
        {"{\x01\"a\":1}", {"valid JSON", "byte 1"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[512] = "", *out = (char *)&out;
        cJSON *v = (cJSON *)&v;
        int rc = mni_json_object_read(cases[i].text, "metadata", &v, &out, err, sizeof err);
        ck_assert_msg(rc == MN_EINVAL, "%s: rc %d", cases[i].text, rc);
        ck_assert_msg(strncmp(err, "metadata", 8) == 0 && strstr(err, cases[i].words[0]) &&
                      strstr(err, cases[i].words[1]), "%s: message %s", cases[i].text, err);
        /* Nothing is handed out on failure. */
        ck_assert_ptr_eq(out, (char *)&out);
        ck_assert_ptr_eq(v, (cJSON *)&v);
    }
}
END_TEST

START_TEST(json_member_text)
{
    const char *compact = "{\"a\":{\"b\":[1,\"}]\\\"\"]},\"s\":\"x,y\",\"n\":-1.5e3,\"m\":{}}";
    const char *want[] = {"{\"b\":[1,\"}]\\\"\"]}", "\"x,y\"", "-1.5e3", "{}"};
    for (size_t i = 0; i < 4; i++) {
        const char *at;
        size_t len;
        mni_json_member_text(compact, i, &at, &len);
        ck_assert_int_eq(len, strlen(want[i]));
        ck_assert(memcmp(at, want[i], len) == 0);
    }
}
END_TEST

static int contains(const char *hay, const char *needle)
{
    cJSON *h = cJSON_Parse(hay), *n = cJSON_Parse(needle);
    ck_assert_msg(h && n, "bad test JSON: %s / %s", hay, needle);
    int r = mni_json_contains(h, n);
    cJSON_Delete(h);
    cJSON_Delete(n);
    return r;
}

/* The public reading of caller JSON: the compact form, a member's value as written, and a
 * refusal whose message (mn_errmsg(NULL)) names the path. */
START_TEST(json_compact_public)
{
    char *out = NULL;
    ck_assert_int_eq(mn_json_compact(" { \"id\" : 9223372036854775808 , \"m\" : { \"x\" : 1.50 } } ",
                                     NULL, &out), MN_OK);
    ck_assert_str_eq(out, "{\"id\":9223372036854775808,\"m\":{\"x\":1.50}}");
    mn_free(out);
    ck_assert_int_eq(mn_json_compact("{\"a\":1, \"m\": {\"x\" : [1, 2.0]}}", "m", &out), MN_OK);
    ck_assert_str_eq(out, "{\"x\":[1,2.0]}");
    mn_free(out);
    ck_assert_int_eq(mn_json_compact("{\"a\":1}", "m", &out), MN_ENOTFOUND);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(mn_json_compact("{\"a\":{\"b\":1,\"b\":2}}", NULL, &out), MN_EINVAL);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(mn_errcode(NULL), MN_EINVAL);
    ck_assert_ptr_nonnull(strstr(mn_errmsg(NULL), "a.b"));
    ck_assert_int_eq(mn_json_compact("{\"n\":9007199254740993}", NULL, &out), MN_EINVAL);
    ck_assert_int_eq(mn_json_compact("[1]", NULL, &out), MN_EINVAL);
    ck_assert_int_eq(mn_json_compact("{\"tag\xd7s\":1}", NULL, &out), MN_EINVAL);
    ck_assert_int_eq(mn_json_compact(NULL, NULL, &out), MN_EINVAL);
}
END_TEST

START_TEST(json_contains_objects)
{
    ck_assert(contains("{}", "{}"));
    ck_assert(contains("{\"a\":1}", "{}"));
    ck_assert(!contains("{}", "{\"a\":1}"));
    ck_assert(contains("{\"a\":1,\"b\":2}", "{\"a\":1}"));
    ck_assert(contains("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}"));
    ck_assert(!contains("{\"a\":1,\"b\":2}", "{\"a\":2}"));
    ck_assert(!contains("{\"a\":1}", "{\"a\":1,\"b\":2}"));
    /* nested objects: partial match at any depth */
    ck_assert(contains("{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":1}}"));
    ck_assert(contains("{\"a\":{\"b\":{\"c\":{\"d\":4,\"e\":5}}}}", "{\"a\":{\"b\":{\"c\":{\"e\":5}}}}"));
    ck_assert(contains("{\"a\":{\"b\":1}}", "{\"a\":{}}"));
    ck_assert(!contains("{\"a\":{\"b\":1}}", "{\"a\":{\"b\":2}}"));
    ck_assert(!contains("{\"a\":{\"b\":1}}", "{\"b\":1}"));
    ck_assert(!contains("{\"a\":1}", "{\"a\":{}}"));
    /* keys are case-sensitive */
    ck_assert(!contains("{\"A\":1}", "{\"a\":1}"));
    /* scalars: type and value */
    ck_assert(contains("{\"a\":\"x\"}", "{\"a\":\"x\"}"));
    ck_assert(!contains("{\"a\":\"1\"}", "{\"a\":1}"));
    ck_assert(!contains("{\"a\":1}", "{\"a\":\"1\"}"));
    ck_assert(!contains("{\"a\":true}", "{\"a\":1}"));
    ck_assert(!contains("{\"a\":false}", "{\"a\":true}"));
    ck_assert(contains("{\"a\":false}", "{\"a\":false}"));
    ck_assert(contains("{\"a\":null}", "{\"a\":null}"));
    ck_assert(!contains("{\"a\":null}", "{\"a\":false}"));
    ck_assert(!contains("{}", "{\"a\":null}"));
    /* numbers compare by value, as jsonb numeric does */
    ck_assert(contains("{\"a\":1}", "{\"a\":1.0}"));
    ck_assert(contains("{\"a\":100}", "{\"a\":1e2}"));
    ck_assert(!contains("{\"a\":1}", "{\"a\":1.5}"));
    ck_assert(contains("{\"s\":\"caf\xc3\xa9\"}", "{\"s\":\"caf\\u00e9\"}"));
}
END_TEST

START_TEST(json_contains_arrays)
{
    /* every needle element is in the haystack array, order and duplicates ignored */
    ck_assert(contains("{\"t\":[1,2,3]}", "{\"t\":[3,1]}"));
    ck_assert(contains("{\"t\":[1,2,3]}", "{\"t\":[1,1]}"));
    ck_assert(contains("{\"t\":[1,2,3]}", "{\"t\":[]}"));
    ck_assert(contains("{\"t\":[]}", "{\"t\":[]}"));
    ck_assert(!contains("{\"t\":[1,2,3]}", "{\"t\":[4]}"));
    ck_assert(!contains("{\"t\":[1,2,3]}", "{\"t\":[1,4]}"));
    ck_assert(!contains("{\"t\":[]}", "{\"t\":[1]}"));
    ck_assert(contains("{\"t\":[\"a\",\"b\"]}", "{\"t\":[\"b\"]}"));
    /* a scalar is not an array and an array is not a scalar (below the top level) */
    ck_assert(!contains("{\"t\":[1]}", "{\"t\":1}"));
    ck_assert(!contains("{\"t\":1}", "{\"t\":[1]}"));
    ck_assert(!contains("{\"t\":{}}", "{\"t\":[]}"));
    ck_assert(!contains("{\"t\":[]}", "{\"t\":{}}"));
    /* arrays of objects: each needle object is contained in some element */
    ck_assert(contains("{\"t\":[{\"a\":1,\"b\":2},{\"c\":3}]}", "{\"t\":[{\"a\":1}]}"));
    ck_assert(contains("{\"t\":[{\"a\":1,\"b\":2},{\"c\":3}]}", "{\"t\":[{\"c\":3},{\"b\":2}]}"));
    ck_assert(!contains("{\"t\":[{\"a\":1},{\"b\":2}]}", "{\"t\":[{\"a\":1,\"b\":2}]}"));
    /* nested arrays */
    ck_assert(contains("{\"t\":[[1,2],[3]]}", "{\"t\":[[1]]}"));
    ck_assert(contains("{\"t\":[[1,2],[3]]}", "{\"t\":[[3],[2,1]]}"));
    ck_assert(!contains("{\"t\":[[1,2],[3]]}", "{\"t\":[[1,3]]}"));
    ck_assert(!contains("{\"t\":[[1,2]]}", "{\"t\":[1]}"));
    /* mixed types inside one array */
    ck_assert(contains("{\"t\":[1,\"1\",true,null]}", "{\"t\":[null,\"1\"]}"));
    ck_assert(!contains("{\"t\":[1,\"1\"]}", "{\"t\":[true]}"));
    /* top level arrays (not used for metadata, but defined) */
    ck_assert(contains("[1,2,3]", "[2]"));
    ck_assert(!contains("[1,2,3]", "{}"));
    ck_assert(!contains("{}", "[]"));
}
END_TEST

START_TEST(json_parse)
{
    char err[256];
    cJSON *v = NULL;
    ck_assert_int_eq(mni_json_object_read("{\"a\":[1]}", "metadata", &v, NULL, err, sizeof err), MN_OK);
    ck_assert(cJSON_IsObject(v));
    ck_assert(cJSON_IsArray(cJSON_GetObjectItem(v, "a")));
    cJSON_Delete(v);
    /* A deeply nested object parses or is refused, but does not crash. */
    static char deep[32768];
    size_t n = 0;
    for (int i = 0; i < 5000; i++)
        n += (size_t)sprintf(deep + n, "{\"a\":");
    deep[n++] = '1';
    for (int i = 0; i < 5000; i++)
        deep[n++] = '}';
    deep[n] = '\0';
    v = NULL;
    int rc = mni_json_object_read(deep, "metadata", &v, NULL, err, sizeof err);
    ck_assert(rc == MN_OK || rc == MN_EINVAL);
    cJSON_Delete(v);
}
END_TEST

/* ==== library calls ========================================================================== */

/* ==== backoff ================================================================================ */

START_TEST(backoff_bounds)
{
    uint64_t salt = 0, rng = mni_backoff_seed(&salt);
    ck_assert_uint_ne(rng, 0);
    for (int failures = 1; failures <= 40; failures++) {
        int64_t full = 100;
        for (int i = 1; i < failures && full < 60000; i++)
            full *= 2;
        full = full < 60000 ? full : 60000; /* the cap */
        int64_t lo = INT64_MAX, hi = 0;
        for (int k = 0; k < 2000; k++) {
            int64_t d = mni_backoff_ms(100, failures, 60000, &rng);
            ck_assert_msg(d >= full / 2 && d <= full, "failure %d: %lld not in [%lld, %lld]",
                          failures, (long long)d, (long long)(full / 2), (long long)full);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
        /* jittered: the draws cover most of the range */
        ck_assert_int_lt(lo, full / 2 + full / 8 + 1);
        ck_assert_int_gt(hi, full - full / 8 - 1);
    }
    ck_assert_int_eq(mni_backoff_ms(0, 1, 60000, &rng), 0);
    ck_assert_int_eq(mni_backoff_ms(-5, 3, 60000, &rng), 0);
    ck_assert_int_le(mni_backoff_ms(INT64_MAX / 4, 1000, INT64_MAX, &rng), INT64_MAX);
    int64_t one = mni_backoff_ms(1, 1, 60000, &rng);
    ck_assert(one == 0 || one == 1);
}
END_TEST

START_TEST(library_calls)
{
    ck_assert_str_eq(mn_version(), MN_VERSION);
    ck_assert_int_eq(mn_version_number(), MN_VERSION_NUMBER);
    ck_assert_int_eq(MN_VERSION_NUMBER, MN_VERSION_MAJOR * 10000 + MN_VERSION_MINOR * 100 +
                                            MN_VERSION_PATCH);
    ck_assert_int_eq(mn_global_init(), MN_OK);
    ck_assert_int_eq(mn_global_init(), MN_OK);
    /* Every code has its own name. */
    for (int a = MN_OK; a <= MN_ERANGE; a++) {
        ck_assert_ptr_nonnull(mn_strerror(a));
        ck_assert_int_gt(strlen(mn_strerror(a)), 0);
        for (int b = MN_OK; b < a; b++)
            ck_assert_str_ne(mn_strerror(a), mn_strerror(b));
    }
    ck_assert_ptr_nonnull(mn_strerror(-1));
    ck_assert_ptr_nonnull(mn_strerror(12345));
    /* ... and none of them is "unknown", which the internal codes are: those stay apart. */
    for (int a = MN_OK; a <= MN_ERANGE; a++)
        ck_assert_str_ne(mn_strerror(a), mn_strerror(-1));
    ck_assert_int_gt(MNI_RC_INTERNAL, MN_ERANGE);
    ck_assert_int_ge(MNI_EBUSY_VERSION, MNI_RC_INTERNAL);
    ck_assert_str_eq(mn_strerror(MNI_EBUSY_VERSION), mn_strerror(-1));
    /* Every free function accepts NULL. */
    mn_free(NULL);
    mn_close(NULL);
    mn_tenant_free(NULL);
    mn_tenants_free(NULL);
    mn_identity_free(NULL);
    mn_identities_free(NULL);
    mn_memory_free(NULL);
    mn_memories_free(NULL);
    mn_history_free(NULL);
    mn_strings_free(NULL, 0);
    mn_strings_free(NULL, 5);
    /* Before any failure, no error. */
    ck_assert_int_eq(mn_errcode(NULL), MN_OK);
}
END_TEST

/* mn_errcode/mn_errmsg: the calling thread's last failure on a handle, errno-like. */
START_TEST(error_channel)
{
    mn_db *db = th_open_fresh();
    mn_tenant *t = NULL;
    TH_RC(db, mn_tenant_get(db, "nobody", &t), MN_ENOTFOUND);
    /* A successful call leaves the failure reported. */
    th_tenant(db, "acme");
    ck_assert_int_eq(mn_errcode(db), MN_ENOTFOUND);
    ck_assert_msg(strstr(mn_errmsg(db), "\"nobody\""), "%s", mn_errmsg(db));
    ck_assert_int_eq(mn_retry_after_ms(db), 0);
    /* It is db's: no handle and calls without one see none. */
    ck_assert_int_eq(mn_errcode(NULL), MN_OK);
    ck_assert_str_eq(mn_errmsg(NULL), "not an error");

    /* Failures recorded by work a call recovered from are forgotten: the last failure is again
     * the one before (a lazy message included). */
    mni_errmark mark = mni_err_mark();
    mni_seterr(db, MN_EBACKEND, "recovered from");
    mni_seterr(db, MN_ENOMEM, "recovered from too");
    mni_err_forget(mark);
    ck_assert_int_eq(mn_errcode(db), MN_ENOTFOUND);
    ck_assert_msg(strstr(mn_errmsg(db), "\"nobody\""), "%s", mn_errmsg(db));
    /* More failures than the ring keeps: better none than one that was recovered from. */
    mark = mni_err_mark();
    for (int i = 0; i < MNI_ERR_KEPT; i++)
        mni_seterr(db, MN_EBACKEND, "recovered from, %d", i);
    mni_err_forget(mark);
    ck_assert_int_eq(mn_errcode(db), MN_OK);
    ck_assert_str_eq(mn_errmsg(db), "not an error");
    /* Forgetting when nothing failed changes nothing. */
    TH_RC(db, mn_tenant_get(db, "nobody", &t), MN_ENOTFOUND);
    mark = mni_err_mark();
    mni_err_forget(mark);
    ck_assert_int_eq(mn_errcode(db), MN_ENOTFOUND);
    mn_close(db);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("uuid");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, uuid_format);
    tcase_add_test(tc, uuid_monotonic);
    tcase_add_test(tc, uuid_many);
    tcase_add_test(tc, uuid_threads_unique);
    tcase_add_test(tc, uuid_valid);
    tcase_add_test(tc, normalise_forms);
    suite_add_tcase(s, tc);
    tc = tcase_create("json");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, json_canon);
    tcase_add_test(tc, json_canon_rejects);
    tcase_add_test(tc, json_keep_exact);
    tcase_add_test(tc, json_keep_refuses);
    tcase_add_test(tc, json_member_text);
    tcase_add_test(tc, json_compact_public);
    tcase_add_test(tc, json_contains_objects);
    tcase_add_test(tc, json_contains_arrays);
    tcase_add_test(tc, json_parse);
    suite_add_tcase(s, tc);
    tc = tcase_create("backoff");
    tcase_add_test(tc, backoff_bounds);
    suite_add_tcase(s, tc);
    tc = tcase_create("library");
    tcase_add_test(tc, library_calls);
    tcase_add_test(tc, error_channel);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(core_suite());
}
