/* Unit tests of the JSON Logic engine (lib/policy/jsonlogic*): the official suite case by case,
 * JavaScript semantics the suite does not reach, compile errors with their paths, limits,
 * reuse of one compiled rule, a deterministic fuzz loop, and evaluation from several threads. */
#include <check.h>
#include <cJSON.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manushya.h"
#include "jsonlogic/jsonlogic.h"
#include "support/harness.h"
#include "support/jl_truthy.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* Compiles rule text, asserting success. */
static mni_jl *compile_ok(const char *rule)
{
    char err[512];
    mni_jl *r = NULL;
    int rc = mni_jl_compile_text(rule, &r, err, sizeof err);
    ck_assert_msg(rc == MN_OK, "compile %s: rc %d: %s", rule, rc, err);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* Evaluates rule text on data text and returns the result printed compactly (kept). */
static const char *eval_text(const char *rule, const char *data)
{
    mni_jl *r = compile_ok(rule);
    cJSON *d = data ? cJSON_Parse(data) : NULL;
    ck_assert_msg(!data || d, "bad test data %s", data);
    cJSON *res = NULL;
    char err[512];
    int rc = mni_jl_eval(r, d, &res, err, sizeof err);
    ck_assert_msg(rc == MN_OK, "eval %s on %s: rc %d: %s", rule, data ? data : "null", rc, err);
    /* the fast path agrees on truthiness */
    int t = -1;
    ck_assert_int_eq(mni_jl_test(r, d, &t, err, sizeof err), MN_OK);
    ck_assert_msg(t == th_jl_truthy(res) ||
                      (cJSON_IsNumber(res) && (isinf(res->valuedouble) || isnan(res->valuedouble))),
                  "%s: mni_jl_test says %d", rule, t);
    char *s = cJSON_PrintUnformatted(res);
    ck_assert_ptr_nonnull(s);
    cJSON_Delete(res);
    cJSON_Delete(d);
    mni_jl_free(r);
    return th_keep(s);
}

/* The canonical compact form of JSON text. */
static const char *canon(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    ck_assert_msg(j != NULL, "bad expected JSON %s", json);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return th_keep(s);
}

#define EXPECT(rule, data, want)                                                                \
    do {                                                                                        \
        const char *got_ = eval_text(rule, data);                                               \
        const char *want_ = canon(want);                                                        \
        ck_assert_msg(strcmp(got_, want_) == 0, "%s on %s: got %s, want %s", rule,              \
                      (const char *)(data) ? (const char *)(data) : "null", got_, want_);       \
    } while (0)

/* Evaluates and returns the numeric result (NAN, INFINITY included). */
static double eval_num(const char *rule, const char *data)
{
    mni_jl *r = compile_ok(rule);
    cJSON *d = data ? cJSON_Parse(data) : NULL;
    cJSON *res = NULL;
    char err[512];
    ck_assert_int_eq(mni_jl_eval(r, d, &res, err, sizeof err), MN_OK);
    ck_assert_msg(cJSON_IsNumber(res), "%s: not a number", rule);
    double v = res->valuedouble;
    cJSON_Delete(res);
    cJSON_Delete(d);
    mni_jl_free(r);
    return v;
}

/* Asserts that rule text fails to compile with rc and exactly msg. */
static void compile_err(const char *rule, int want_rc, const char *want_msg)
{
    char err[512];
    mni_jl *r = (mni_jl *)1;
    int rc = mni_jl_compile_text(rule, &r, err, sizeof err);
    ck_assert_msg(rc == want_rc, "compile %.200s: rc %d, want %d (%s)", rule, rc, want_rc, err);
    ck_assert_ptr_null(r);
    if (want_msg)
        ck_assert_msg(strcmp(err, want_msg) == 0, "compile %.200s:\n got  %s\n want %s", rule,
                      err, want_msg);
}

/* ---- the official suite -------------------------------------------------------------------- */

static const char *suite_path(void)
{
    const char *top = getenv("MN_TOP");
    return th_fmt("%s/tests/data/jsonlogic/tests.json", top && *top ? top : ".");
}

START_TEST(official_suite)
{
    const char *path = suite_path();
    char *text = th_read_file(path, NULL);
    ck_assert_msg(text != NULL, "cannot read %s (set MN_TOP to the repository root)", path);
    cJSON *all = cJSON_Parse(text);
    ck_assert_msg(cJSON_IsArray(all), "%s is not a JSON array", path);
    int cases = 0, passed = 0;
    const char *section = "";
    const cJSON *item;
    cJSON_ArrayForEach(item, all) {
        if (cJSON_IsString(item)) {
            section = item->valuestring;
            continue;
        }
        ck_assert_msg(cJSON_IsArray(item) && cJSON_GetArraySize(item) == 3, "bad case in %s",
                      section);
        cases++;
        const cJSON *rule = cJSON_GetArrayItem(item, 0), *data = cJSON_GetArrayItem(item, 1),
                    *want = cJSON_GetArrayItem(item, 2);
        char *rule_s = cJSON_PrintUnformatted(rule), *data_s = cJSON_PrintUnformatted(data);
        char err[512] = "";
        mni_jl *r = NULL;
        cJSON *got = NULL;
        int ok = 0, t = -1;
        int rc = mni_jl_compile(rule, &r, err, sizeof err);
        if (rc == MN_OK)
            rc = mni_jl_eval(r, data, &got, err, sizeof err);
        if (rc == MN_OK)
            rc = mni_jl_test(r, data, &t, err, sizeof err);
        if (rc == MN_OK)
            ok = cJSON_Compare(got, want, 1) && t == th_jl_truthy(want);
        /* the same through the text interface, evaluated twice on one compiled rule */
        mni_jl *r2 = NULL;
        if (ok && mni_jl_compile_text(rule_s, &r2, err, sizeof err) == MN_OK) {
            for (int k = 0; k < 2 && ok; k++) {
                cJSON *again = NULL;
                ok = mni_jl_eval(r2, data, &again, err, sizeof err) == MN_OK &&
                     cJSON_Compare(again, want, 1);
                cJSON_Delete(again);
            }
        } else if (ok) {
            ok = 0;
        }
        if (ok) {
            passed++;
        } else {
            char *got_s = got ? cJSON_PrintUnformatted(got) : NULL;
            char *want_s = cJSON_PrintUnformatted(want);
            fprintf(stderr, "FAIL [%s] %s on %s: got %s, want %s (rc %d %s)\n", section, rule_s,
                    data_s, got_s ? got_s : "-", want_s, rc, err);
            free(got_s);
            free(want_s);
        }
        free(rule_s);
        free(data_s);
        cJSON_Delete(got);
        mni_jl_free(r);
        mni_jl_free(r2);
    }
    cJSON_Delete(all);
    fprintf(stderr, "jsonlogic official suite: %d/%d cases passed\n", passed, cases);
    ck_assert_int_ge(cases, 278);
    ck_assert_int_eq(passed, cases);
}
END_TEST

/* ---- semantics beyond the suite ------------------------------------------------------------ */

START_TEST(loose_and_strict_equality)
{
    EXPECT("{\"==\":[null,0]}", NULL, "false");
    EXPECT("{\"==\":[null,null]}", NULL, "true");
    EXPECT("{\"==\":[null,{\"and\":[]}]}", NULL, "true"); /* null == undefined */
    EXPECT("{\"===\":[null,{\"and\":[]}]}", NULL, "false");
    EXPECT("{\"==\":[false,\"0\"]}", NULL, "true");
    EXPECT("{\"==\":[true,\"1\"]}", NULL, "true");
    EXPECT("{\"==\":[true,\"true\"]}", NULL, "false");
    EXPECT("{\"==\":[\"\",0]}", NULL, "true");
    EXPECT("{\"==\":[\" 12 \",12]}", NULL, "true");
    EXPECT("{\"==\":[\"0x10\",16]}", NULL, "true");
    EXPECT("{\"==\":[\"1e3\",1000]}", NULL, "true");
    EXPECT("{\"==\":[\"abc\",\"abc\"]}", NULL, "true");
    EXPECT("{\"==\":[\"1\",\"1.0\"]}", NULL, "false");
    EXPECT("{\"==\":[[],false]}", NULL, "true");
    EXPECT("{\"==\":[[1],\"1\"]}", NULL, "true");
    EXPECT("{\"==\":[[1,2],\"1,2\"]}", NULL, "true");
    EXPECT("{\"==\":[[1],[1]]}", NULL, "false"); /* two arrays: identity */
    EXPECT("{\"==\":[{\"var\":\"a\"},{\"var\":\"a\"}]}", "{\"a\":[1]}", "true");
    EXPECT("{\"===\":[{\"var\":\"a\"},{\"var\":\"a\"}]}", "{\"a\":{\"b\":1}}", "true");
    EXPECT("{\"==\":[{\"var\":\"a\"},{\"var\":\"b\"}]}", "{\"a\":[1],\"b\":[1]}", "false");
    EXPECT("{\"==\":[{\"var\":\"o\"},\"[object Object]\"]}", "{\"o\":{}}", "true");
    EXPECT("{\"==\":[{\"/\":[0,0]},{\"/\":[0,0]}]}", NULL, "false"); /* NaN */
    EXPECT("{\"!=\":[{\"/\":[0,0]},{\"/\":[0,0]}]}", NULL, "true");
    EXPECT("{\"===\":[1,1.0]}", NULL, "true");
    EXPECT("{\"===\":[0,{\"-\":[0]}]}", NULL, "true"); /* 0 === -0 */
    EXPECT("{\"!==\":[\"a\",\"a\"]}", NULL, "false");
}
END_TEST

START_TEST(ordering)
{
    EXPECT("{\"<\":[\"a\",\"b\"]}", NULL, "true");
    EXPECT("{\"<\":[\"10\",\"9\"]}", NULL, "true");  /* two strings: text order */
    EXPECT("{\"<\":[\"10\",9]}", NULL, "false");     /* else numbers */
    EXPECT("{\"<\":[[10],[9]]}", NULL, "true");      /* arrays become strings */
    EXPECT("{\">\":[null,-1]}", NULL, "true");
    EXPECT("{\">=\":[null,0]}", NULL, "true");
    EXPECT("{\"<\":[{\"var\":\"nope\"},1]}", "{}", "true");
    EXPECT("{\"<\":[\"abc\",1]}", NULL, "false");
    EXPECT("{\">=\":[\"abc\",1]}", NULL, "false");   /* NaN: neither */
    EXPECT("{\"<=\":[{\"and\":[]},1]}", NULL, "false"); /* undefined is NaN */
    EXPECT("{\"<\":[1,{\"var\":\"x\"},3]}", "{\"x\":2}", "true");
    EXPECT("{\"<\":[1,{\"var\":\"x\"},3]}", "{\"x\":3}", "false");
    EXPECT("{\"<=\":[1,1,1]}", NULL, "true");
    EXPECT("{\"<\":[1,2,{\"and\":[]}]}", NULL, "true"); /* an undefined third: two-argument */
    EXPECT("{\"<\":[\"a\",\"\\u00e9\"]}", NULL, "true");
    /* UTF-16 order: U+FFFF sorts after U+1F600 (a surrogate pair), unlike UTF-8 bytes */
    EXPECT("{\"<\":[\"\\uffff\",\"\\ud83d\\ude00\"]}", NULL, "false");
    EXPECT("{\">\":[\"\\uffff\",\"\\ud83d\\ude00\"]}", NULL, "true");
    EXPECT("{\"<\":[\"\\ud83d\\ude00\",\"\\ud83d\\ude01\"]}", NULL, "true");
    EXPECT("{\"<\":[\"ab\",\"abc\"]}", NULL, "true");
}
END_TEST

START_TEST(arithmetic)
{
    EXPECT("{\"+\":[\"3abc\",1]}", NULL, "4");  /* parseFloat */
    EXPECT("{\"+\":[\" .5e1x\"]}", NULL, "5");
    EXPECT("{\"+\":[\"0x10\"]}", NULL, "0");
    EXPECT("{\"-\":[\"0x10\",0]}", NULL, "16"); /* Number */
    EXPECT("{\"+\":[]}", NULL, "0");
    EXPECT("{\"*\":[\"2\",\"3\"]}", NULL, "6");
    EXPECT("{\"*\":[\"1\"]}", NULL, "\"1\"");   /* one argument: returned as it is */
    EXPECT("{\"-\":[[5],[2]]}", NULL, "3");
    EXPECT("{\"-\":[\"5\"]}", NULL, "-5");
    EXPECT("{\"-\":[true,null]}", NULL, "1");
    EXPECT("{\"%\":[-7,3]}", NULL, "-1");
    EXPECT("{\"%\":[7.5,2]}", NULL, "1.5");
    EXPECT("{\"/\":[1,8]}", NULL, "0.125");
    EXPECT("{\"max\":[1,\"7\",3]}", NULL, "7");
    EXPECT("{\"min\":[1,\"-7\",3]}", NULL, "-7");
    EXPECT("{\"-\":[0]}", NULL, "0");           /* -0 prints as 0 */
    ck_assert(isnan(eval_num("{\"-\":[[1,2],0]}", NULL)));
    ck_assert(isnan(eval_num("{\"+\":[null]}", NULL)));
    ck_assert(isnan(eval_num("{\"%\":[7,0]}", NULL)));
    ck_assert(isnan(eval_num("{\"max\":[1,\"x\"]}", NULL)));
    ck_assert(isinf(eval_num("{\"/\":[1,0]}", NULL)));
    ck_assert(eval_num("{\"max\":[]}", NULL) == -INFINITY);
    ck_assert(eval_num("{\"min\":[]}", NULL) == INFINITY);
    ck_assert(eval_num("{\"+\":[\"Infinity\"]}", NULL) == INFINITY);
    ck_assert(eval_num("{\"/\":[1,{\"*\":[-1,0]}]}", NULL) == -INFINITY);
    ck_assert(eval_num("{\"/\":[1,{\"*\":[-1,0,1]}]}", NULL) == INFINITY); /* parseFloat(-0) */
    ck_assert(eval_num("{\"/\":[1,{\"-\":[0]}]}", NULL) == -INFINITY);
    EXPECT("{\"!!\":{\"/\":[0,0]}}", NULL, "false");
    EXPECT("{\"!!\":{\"/\":[1,0]}}", NULL, "true");
}
END_TEST

START_TEST(strings)
{
    EXPECT("{\"cat\":[null,\"a\",[1,[2,null]],true,0.5,1e21,{\"and\":[]}]}", NULL,
           "\"a1,2,true0.51e+21\"");
    EXPECT("{\"cat\":[0.1,\"|\",1e-7,\"|\",123456789012345680000,\"|\",1.5e300,\"|\",0.000001]}",
           NULL, "\"0.1|1e-7|123456789012345680000|1.5e+300|0.000001\"");
    EXPECT("{\"cat\":[{\"/\":[1,3]},\"|\",{\"/\":[2,3]},\"|\",1152921504606846976]}", NULL,
           "\"0.3333333333333333|0.6666666666666666|1152921504606847000\"");
    EXPECT("{\"cat\":[{\"/\":[0,0]},{\"/\":[-1,0]},-2.5e-7,100]}", NULL,
           "\"NaN-Infinity-2.5e-7100\"");
    /* shortest round-trip digits for denormals and next to powers of two (2^-1017) */
    EXPECT("{\"cat\":[5e-324,\"|\",1.5e-323,\"|\",2.2250738585072014e-308,\"|\","
           "7.120236347223045e-307,\"|\",1.7976931348623157e308]}", NULL,
           "\"5e-324|1.5e-323|2.2250738585072014e-308|7.120236347223045e-307|"
           "1.7976931348623157e+308\"");
    EXPECT("{\"cat\":[{\"var\":\"\"}]}", "{\"a\":1}", "\"[object Object]\"");
    EXPECT("{\"cat\":[]}", NULL, "\"\"");
    EXPECT("{\"in\":[\"\",\"abc\"]}", NULL, "true");
    EXPECT("{\"in\":[\"a\",\"\"]}", NULL, "false");
    EXPECT("{\"in\":[1,\"a1\"]}", NULL, "true");
    EXPECT("{\"in\":[null,\"nullable\"]}", NULL, "true");
    EXPECT("{\"in\":[1,[\"1\"]]}", NULL, "false"); /* strict */
    EXPECT("{\"in\":[1,[0,1]]}", NULL, "true");
    EXPECT("{\"in\":[\"x\",5]}", NULL, "false");
    EXPECT("{\"in\":[\"x\",null]}", NULL, "false");
    EXPECT("{\"in\":[\"x\",{\"var\":\"o\"}]}", "{\"o\":{\"x\":1}}", "false");
    EXPECT("{\"in\":[{\"var\":\"r\"},{\"var\":\"roles\"}]}",
           "{\"r\":\"admin\",\"roles\":[\"agent\",\"admin\"]}", "true");
    EXPECT("{\"substr\":[\"h\\u00e9llo\",1,3]}", NULL, "\"\\u00e9ll\"");
    EXPECT("{\"substr\":[\"h\\u00e9llo\",-2]}", NULL, "\"lo\"");
    EXPECT("{\"substr\":[\"abc\",1,\"-1\"]}", NULL, "\"\"");
    EXPECT("{\"substr\":[12345,1,2]}", NULL, "\"23\"");
    EXPECT("{\"substr\":[\"abc\",5]}", NULL, "\"\"");
    EXPECT("{\"substr\":[\"abc\",-10,2]}", NULL, "\"ab\"");
    EXPECT("{\"substr\":[\"abc\",\"1\"]}", NULL, "\"bc\"");
    EXPECT("{\"substr\":[\"abcdef\",1,-10]}", NULL, "\"\"");
    EXPECT("{\"substr\":[null,1]}", NULL, "\"ull\"");
    EXPECT("{\"substr\":[\"abc\",0,1.9]}", NULL, "\"a\"");
    EXPECT("{\"substr\":[\"\\ud83d\\ude00x\",1]}", NULL, "\"x\""); /* code points */
}
END_TEST

START_TEST(vars)
{
    EXPECT("{\"var\":\"a.0.b\"}", "{\"a\":[{\"b\":5}]}", "5");
    EXPECT("{\"var\":[\"a.b\",\"d\"]}", "{\"a\":{\"b\":null}}", "null"); /* found: null */
    EXPECT("{\"var\":[\"a.b.c\",\"d\"]}", "{\"a\":{\"b\":null}}", "\"d\"");
    EXPECT("{\"var\":1.5}", "{\"1\":{\"5\":\"x\"}}", "\"x\"");
    EXPECT("{\"var\":\"x.length\"}", "{\"x\":[1,2,3]}", "3");
    EXPECT("{\"var\":\"s.length\"}", "{\"s\":\"h\\u00e9llo\"}", "5");
    EXPECT("{\"var\":\"s.1\"}", "{\"s\":\"h\\u00e9llo\"}", "\"\\u00e9\"");
    EXPECT("{\"var\":\"s.9\"}", "{\"s\":\"abc\"}", "null");
    EXPECT("{\"var\":\"a.01\"}", "{\"a\":[1,2]}", "null");
    EXPECT("{\"var\":\"a.-1\"}", "{\"a\":[1,2]}", "null");
    EXPECT("{\"var\":\"a.5\"}", "{\"a\":[1,2]}", "null");
    EXPECT("{\"var\":\"a.length\"}", "{\"a\":{\"length\":\"own\"}}", "\"own\"");
    EXPECT("{\"var\":\"A\"}", "{\"a\":1}", "null"); /* case-sensitive */
    EXPECT("{\"var\":\"\"}", "{\"a\":1}", "{\"a\":1}");
    EXPECT("{\"var\":\"a\"}", "[1]", "null");
    EXPECT("{\"var\":\"n.x\"}", "{\"n\":5}", "null");
    EXPECT("{\"var\":\"a..b\"}", "{\"a\":{\"\":{\"b\":4}}}", "4");
    EXPECT("{\"var\":[[\"a\",\"b\"]]}", "{\"a,b\":9}", "9"); /* String(["a","b"]) */
    EXPECT("{\"var\":{\"cat\":[\"a\",\".b\"]}}", "{\"a\":{\"b\":7}}", "7");
    EXPECT("{\"var\":[{\"var\":\"k\"},\"dflt\"]}", "{\"k\":\"zz\"}", "\"dflt\"");
    EXPECT("{\"var\":[{\"var\":\"k\"},\"dflt\"]}", "{\"k\":\"a\",\"a\":false}", "false");
    EXPECT("{\"var\":[{\"var\":\"k\"}]}", "{\"k\":null,\"a\":1}", "{\"k\":null,\"a\":1}");
    EXPECT("{\"var\":[\"x\",{\"and\":[]}]}", "{}", "null");
    EXPECT("{\"var\":\"0\"}", "[[1]]", "[1]");
    EXPECT("{\"var\":0}", "\"str\"", "\"s\"");
}
END_TEST

START_TEST(collections)
{
    EXPECT("{\"missing\":[\"a\",\"b\",\"c\"]}", "{\"a\":\"\",\"b\":0,\"c\":false}", "[\"a\"]");
    EXPECT("{\"missing\":[[\"a\",\"b\"]]}", "{}", "[\"a\",\"b\"]");
    EXPECT("{\"missing\":[1,\"0\"]}", "[\"x\"]", "[1]");
    EXPECT("{\"missing\":[[[\"a\",\"dflt\"]]]}", "{}", "[]"); /* a [name, default] key */
    EXPECT("{\"missing_some\":[1,[[\"a\",\"b\"]]]}", "{\"a\":1}", "[\"b\"]"); /* 1 option */
    EXPECT("{\"missing_some\":[3,[\"a\",\"b\"]]}", "{\"a\":1}", "[\"b\"]");
    EXPECT("{\"missing_some\":[0,[\"a\"]]}", "{}", "[]");
    EXPECT("{\"missing_some\":[\"1\",[\"a\",\"b\"]]}", "{\"b\":1}", "[]");
    EXPECT("{\"reduce\":[[1,2,3],{\"var\":\"\"},0]}", NULL,
           "{\"current\":3,\"accumulator\":{\"current\":2,\"accumulator\":"
           "{\"current\":1,\"accumulator\":0}}}");
    EXPECT("{\"reduce\":[5,{\"var\":\"current\"},7]}", NULL, "7");
    EXPECT("{\"reduce\":[5,{\"var\":\"current\"}]}", NULL, "null");
    EXPECT("{\"reduce\":[[1,2],{\"var\":\"current\"}]}", NULL, "2");
    EXPECT("{\"reduce\":[[\"a\",\"b\",\"c\"],{\"cat\":[{\"var\":\"accumulator\"},{\"var\":\"current\"}]},\"\"]}",
           NULL, "\"abc\"");
    EXPECT("{\"reduce\":[{\"var\":\"xs\"},{\"merge\":[{\"var\":\"accumulator\"},[{\"var\":\"current.n\"}]]},[]]}",
           "{\"xs\":[{\"n\":1},{\"n\":2}]}", "[1,2]");
    EXPECT("{\"map\":[[1,2,3],{\"+\":[{\"var\":\"\"},1]}]}", NULL, "[2,3,4]");
    EXPECT("{\"map\":[\"abc\",{\"var\":\"\"}]}", NULL, "[]");
    EXPECT("{\"map\":[[1,2],{\"var\":\"nope\"}]}", NULL, "[null,null]");
    EXPECT("{\"map\":[[[1,2],[3]],{\"map\":[{\"var\":\"\"},{\"*\":[{\"var\":\"\"},10]}]}]}", NULL,
           "[[10,20],[30]]");
    EXPECT("{\"filter\":[[\"a\",\"\",\"b\",null,0,[]],{\"var\":\"\"}]}", NULL, "[\"a\",\"b\"]");
    EXPECT("{\"filter\":[{\"var\":\"xs\"},{\"==\":[{\"var\":\"t\"},\"x\"]}]}",
           "{\"xs\":[{\"t\":\"x\",\"i\":1},{\"t\":\"y\"},{\"t\":\"x\",\"i\":3}]}",
           "[{\"t\":\"x\",\"i\":1},{\"t\":\"x\",\"i\":3}]");
    EXPECT("{\"all\":[\"abc\",true]}", NULL, "false");
    EXPECT("{\"none\":[null,true]}", NULL, "true");
    EXPECT("{\"some\":[[0,0,1],{\"var\":\"\"}]}", NULL, "true");
    EXPECT("{\"merge\":[[1,[2]],3,null,{\"var\":\"a\"}]}", "{\"a\":[4,5]}", "[1,[2],3,null,4,5]");
    EXPECT("{\"merge\":[{\"and\":[]}]}", NULL, "[null]");
    EXPECT("[1,{\"and\":[]},[{\"var\":\"a\"}]]", "{\"a\":2}", "[1,null,[2]]");
}
END_TEST

START_TEST(logic_and_literals)
{
    EXPECT("{\"?:\":[false,1,true,2,3]}", NULL, "2");
    EXPECT("{\"if\":[{\"var\":\"a\"},\"x\",{\"var\":\"b\"},\"y\",\"z\"]}", "{\"b\":[0]}", "\"y\"");
    EXPECT("{\"or\":[0,\"\",null]}", NULL, "null");
    EXPECT("{\"or\":[0,\"\",[]]}", NULL, "[]");
    EXPECT("{\"and\":[]}", NULL, "null");
    EXPECT("{\"or\":[]}", NULL, "null");
    EXPECT("{\"and\":[1,\"a\",[1]]}", NULL, "[1]");
    EXPECT("{\"!\":{\"var\":\"\"}}", "{}", "false"); /* objects are truthy */
    EXPECT("{\"!\":[\"0\"]}", NULL, "false");
    EXPECT("{\"!!\":[[0]]}", NULL, "true");
    EXPECT("{\"if\":[true,{\"a\":1,\"b\":{\"var\":\"x\"}}]}", NULL, "{\"a\":1,\"b\":{\"var\":\"x\"}}");
    EXPECT("{}", NULL, "{}");
    EXPECT("{\"a\":{\"==\":[1,1]},\"b\":2}", NULL, "{\"a\":{\"==\":[1,1]},\"b\":2}");
    EXPECT("{\"log\":{\"var\":\"a\"}}", "{\"a\":1}", "1");
    EXPECT("{\"log\":[[1,2]]}", NULL, "[1,2]");
    EXPECT("\"\\u00e9\"", NULL, "\"\\u00e9\"");
}
END_TEST

START_TEST(truthy_of_cjson)
{
    const char *falsy[] = {"false", "null", "0", "-0", "\"\"", "[]"};
    const char *truthy[] = {"true", "1", "-1", "0.5", "\"0\"", "\" \"", "[0]", "{}", "[[]]"};
    for (size_t i = 0; i < sizeof falsy / sizeof *falsy; i++) {
        cJSON *j = cJSON_Parse(falsy[i]);
        ck_assert_msg(!th_jl_truthy(j), "%s is falsy", falsy[i]);
        cJSON_Delete(j);
    }
    for (size_t i = 0; i < sizeof truthy / sizeof *truthy; i++) {
        cJSON *j = cJSON_Parse(truthy[i]);
        ck_assert_msg(th_jl_truthy(j), "%s is truthy", truthy[i]);
        cJSON_Delete(j);
    }
    ck_assert(!th_jl_truthy(NULL));
    cJSON *nan = cJSON_CreateNumber(NAN);
    ck_assert(!th_jl_truthy(nan));
    cJSON_Delete(nan);
}
END_TEST

START_TEST(numbers_ignore_locale)
{
    /* a host program with a comma locale must not change how numbers read or print */
    if (!setlocale(LC_ALL, "de_DE.UTF-8") && !setlocale(LC_ALL, "fr_FR.UTF-8"))
        return; /* no such locale installed: nothing to prove */
    EXPECT("{\"cat\":[0.5,\"|\",{\"/\":[1,3]},\"|\",1e-7]}", NULL, "\"0.5|0.3333333333333333|1e-7\"");
    EXPECT("{\"+\":[\"1.5\",\"2.25\"]}", NULL, "3.75");
    EXPECT("{\"==\":[\"0.5\",0.5]}", NULL, "true");
    setlocale(LC_ALL, "C");
}
END_TEST

/* ---- compile errors ------------------------------------------------------------------------- */

static char *nest(const char *open, const char *leaf, const char *close, int n)
{
    size_t lo = strlen(open), ll = strlen(leaf), lc = strlen(close);
    char *s = malloc(lo * (size_t)n + ll + lc * (size_t)n + 1), *p = s;
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < n; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, leaf, ll);
    p += ll;
    for (int i = 0; i < n; i++, p += lc)
        memcpy(p, close, lc);
    *p = '\0';
    return th_keep(s);
}

START_TEST(compile_errors)
{
    compile_err("{\"and\":[true,{\"=~\":[1,2]}]}", MN_EINVAL, "$.and[1]: unknown operator \"=~\"");
    compile_err("{\"!\":{\"foo\":1}}", MN_EINVAL, "$.!: unknown operator \"foo\"");
    compile_err("{\"or\":[{\"a b\\\"\":1}]}", MN_EINVAL, "$.or[0]: unknown operator \"a b\"\"");
    compile_err("{\"method\":[\"a\",\"toUpperCase\"]}", MN_EINVAL, "$: unknown operator \"method\"");
    compile_err("{\"==\":[1]}", MN_EINVAL, "$: \"==\" takes exactly 2 arguments, not 1");
    compile_err("{\"==\":[1,2,3]}", MN_EINVAL, "$: \"==\" takes exactly 2 arguments, not 3");
    compile_err("{\"if\":[true,{\"!\":[1,2]}]}", MN_EINVAL,
                "$.if[1]: \"!\" takes exactly 1 argument, not 2");
    compile_err("{\"var\":[\"a\",1,2]}", MN_EINVAL, "$: \"var\" takes 0 to 2 arguments, not 3");
    compile_err("{\"*\":[]}", MN_EINVAL, "$: \"*\" takes at least 1 argument, not 0");
    compile_err("{\"substr\":[\"a\"]}", MN_EINVAL, "$: \"substr\" takes 2 to 3 arguments, not 1");
    compile_err("{\"missing_some\":[1]}", MN_EINVAL,
                "$: \"missing_some\" takes exactly 2 arguments, not 1");
    compile_err("{\"map\":{\"var\":\"x\"}}", MN_EINVAL,
                "$: \"map\" takes exactly 2 arguments, not 1");
    compile_err("{\"<\":[1,2,3,4]}", MN_EINVAL, "$: \"<\" takes 2 to 3 arguments, not 4");
    compile_err("{\"-\":[]}", MN_EINVAL, "$: \"-\" takes 1 to 2 arguments, not 0");
    compile_err("[1,{\"filter\":[[1],{\"in\":[1]}]}]", MN_EINVAL,
                "$[1].filter[1]: \"in\" takes exactly 2 arguments, not 1");
    compile_err("{\"reduce\":[[],{\"+\":[1]},0,1]}", MN_EINVAL,
                "$: \"reduce\" takes 2 to 3 arguments, not 4");
    compile_err("{\"if\":[{\"x\\ny\":1}]}", MN_EINVAL, "$.if[0]: unknown operator \"x?y\"");
    compile_err("{\"\":[1]}", MN_EINVAL, "$: unknown operator \"\"");
    /* not JSON, NULL */
    compile_err("{\"==\":[1,", MN_EINVAL, NULL);
    compile_err("", MN_EINVAL, NULL);
    char err[256];
    mni_jl *r = NULL;
    ck_assert_int_eq(mni_jl_compile_text(NULL, &r, err, sizeof err), MN_EINVAL);
    ck_assert_int_eq(mni_jl_compile(NULL, &r, err, sizeof err), MN_EINVAL);
    ck_assert_int_eq(mni_jl_compile_text("1", &r, NULL, 0), MN_OK); /* err may be NULL */
    mni_jl_free(r);
    ck_assert_int_eq(mni_jl_compile_text("{\"x\":1}", &r, NULL, 0), MN_EINVAL);
    ck_assert_int_eq(mni_jl_eval(NULL, NULL, NULL, err, sizeof err), MN_EINVAL);
    mni_jl_free(NULL);
    /* a raw cJSON node is not a value */
    cJSON *raw = cJSON_CreateRaw("1");
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, raw);
    ck_assert_int_eq(mni_jl_compile(arr, &r, err, sizeof err), MN_EINVAL);
    ck_assert_str_eq(err, "$[0]: not a JSON value (a raw or invalid cJSON node)");
    cJSON_Delete(arr);
}
END_TEST

START_TEST(depth_limit)
{
    char want[1024];
    /* 64 levels of "!" compile, 65 do not; the message names the node at level 65 */
    mni_jl *r = compile_ok(nest("{\"!\":", "true", "}", MNI_JL_MAX_DEPTH - 1));
    int t;
    char err[512];
    ck_assert_int_eq(mni_jl_test(r, NULL, &t, err, sizeof err), MN_OK);
    ck_assert_int_eq(t, 0); /* 63 negations of true */
    mni_jl_free(r);
    mni_jl_free(compile_ok(nest("{\"!\":", "{\"var\":\"x\"}", "}", MNI_JL_MAX_DEPTH - 1)));
    strcpy(want, "$");
    for (int i = 0; i < MNI_JL_MAX_DEPTH; i++)
        strcat(want, ".!");
    strcat(want, ": nested deeper than 64 levels (the limit for a rule)");
    compile_err(nest("{\"!\":", "{\"var\":\"x\"}", "}", MNI_JL_MAX_DEPTH), MN_EINVAL, want);
    /* arrays and literal objects count too; scalars do not */
    mni_jl_free(compile_ok(nest("{\"!\":", "true", "}", MNI_JL_MAX_DEPTH)));
    mni_jl_free(compile_ok(nest("[", "1", "]", MNI_JL_MAX_DEPTH)));
    strcpy(want, "$");
    for (int i = 0; i < MNI_JL_MAX_DEPTH; i++)
        strcat(want, "[0]");
    strcat(want, ": nested deeper than 64 levels (the limit for a rule)");
    compile_err(nest("[", "1", "]", MNI_JL_MAX_DEPTH + 1), MN_EINVAL, want);
    compile_err(nest("[", "{\"var\":\"a\"}", "]", MNI_JL_MAX_DEPTH), MN_EINVAL, NULL);
    mni_jl_free(compile_ok(nest("[", "{\"var\":\"a\"}", "]", MNI_JL_MAX_DEPTH - 1)));
    mni_jl_free(compile_ok(nest("{\"a\":1,\"b\":", "1", "}", MNI_JL_MAX_DEPTH)));
    strcpy(want, "$");
    for (int i = 0; i < MNI_JL_MAX_DEPTH; i++)
        strcat(want, ".b");
    strcat(want, ": nested deeper than 64 levels (the limit for a rule)");
    compile_err(nest("{\"a\":1,\"b\":", "1", "}", MNI_JL_MAX_DEPTH + 1), MN_EINVAL, want);
    /* far deeper than the limit, and deeper than cJSON parses: an error, never a crash */
    compile_err(nest("{\"and\":[", "1", "]}", 900), MN_EINVAL, NULL);
    compile_err(nest("[", "1", "]", 5000), MN_EINVAL, NULL);
    /* a deep rule built in memory, past cJSON's parser limit */
    cJSON *root = cJSON_CreateArray(), *cur = root;
    for (int i = 0; i < 3000; i++) {
        cJSON *next = cJSON_CreateArray();
        cJSON_AddItemToArray(cur, next);
        cur = next;
    }
    ck_assert_int_eq(mni_jl_compile(root, &r, err, sizeof err), MN_EINVAL);
    cJSON_Delete(root);
}
END_TEST

/* ---- limits during evaluation -------------------------------------------------------------- */

static int eval_rc(const char *rule, const mni_jl_limits *lim, int want_result, char *err,
                   size_t errlen)
{
    mni_jl *r = compile_ok(rule);
    cJSON *res = NULL;
    int t;
    int rc = mni_jl_eval_ex(r, NULL, lim, want_result ? &res : NULL, &t, err, errlen);
    if (rc != MN_OK)
        ck_assert_ptr_null(res);
    cJSON_Delete(res);
    mni_jl_free(r);
    return rc;
}

START_TEST(eval_limits)
{
    char err[512];
    /* a reduce that doubles an array 40 times hits the memory limit */
    const char *xs = "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,"
                     "29,30,31,32,33,34,35,36,37,38,39,40]";
    const char *dbl = th_fmt("{\"reduce\":[%s,{\"merge\":[{\"var\":\"accumulator\"},"
                             "{\"var\":\"accumulator\"}]},[1]]}", xs);
    ck_assert_int_eq(eval_rc(dbl, NULL, 1, err, sizeof err), MN_ERANGE);
    ck_assert_msg(strstr(err, "memory") != NULL, "%s", err);
    const char *cat = th_fmt("{\"reduce\":[%s,{\"cat\":[{\"var\":\"accumulator\"},"
                             "{\"var\":\"accumulator\"}]},\"ab\"]}", xs);
    mni_jl_limits small = {1 << 20, 0};
    ck_assert_int_eq(eval_rc(cat, &small, 0, err, sizeof err), MN_ERANGE);
    /* steps */
    const char *r100 = "[0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,"
                       "7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,"
                       "4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9,0,1,2,3,4,5,6,7,8,9]";
    const char *loops = th_fmt("{\"some\":[%s,{\"some\":[%s,{\"some\":[%s,{\"==\":[{\"var\":\"\"},"
                               "-1]}]}]}]}", r100, r100, r100);
    mni_jl_limits steps = {0, 100000};
    ck_assert_int_eq(eval_rc(loops, &steps, 0, err, sizeof err), MN_ERANGE);
    ck_assert_msg(strstr(err, "steps") != NULL, "%s", err);
    ck_assert_int_eq(eval_rc(loops, NULL, 0, err, sizeof err), MN_OK); /* 1M steps: fine */
    /* a result nested 2000 deep: testing it is fine, building it as cJSON is refused */
    const char *deep = "{\"reduce\":[{\"map\":[{\"var\":\"\"},1]},[{\"var\":\"accumulator\"}],[]]}";
    mni_jl *r = compile_ok(deep);
    cJSON *data = cJSON_CreateArray();
    for (int i = 0; i < 2000; i++)
        cJSON_AddItemToArray(data, cJSON_CreateNumber(i));
    cJSON *res = NULL;
    int t = 0;
    ck_assert_int_eq(mni_jl_test(r, data, &t, err, sizeof err), MN_OK);
    ck_assert_int_eq(t, 1);
    ck_assert_int_eq(mni_jl_eval(r, data, &res, err, sizeof err), MN_ERANGE);
    ck_assert_ptr_null(res);
    mni_jl_free(r);
    /* ... and so is printing it with cat */
    r = compile_ok("{\"cat\":{\"reduce\":[{\"var\":\"\"},[{\"var\":\"accumulator\"}],[]]}}");
    ck_assert_int_eq(mni_jl_test(r, data, &t, err, sizeof err), MN_ERANGE);
    mni_jl_free(r);
    /* a sum over a long array keeps its scratch memory flat */
    r = compile_ok("{\"reduce\":[{\"var\":\"\"},{\"+\":[{\"var\":\"accumulator\"},"
                   "{\"var\":\"current\"}]},0]}");
    for (int i = 2000; i < 200000; i++)
        cJSON_AddItemToArray(data, cJSON_CreateNumber(i));
    mni_jl_limits tiny = {64 * 1024, 0};
    ck_assert_int_eq(mni_jl_eval_ex(r, data, &tiny, &res, NULL, err, sizeof err), MN_OK);
    ck_assert(cJSON_IsNumber(res) && res->valuedouble == 199999.0 * 200000.0 / 2);
    cJSON_Delete(res);
    mni_jl_free(r);
    cJSON_Delete(data);
}
END_TEST

/* ---- one compiled rule, many data ------------------------------------------------------------ */

static const char *policy_rule =
    "{\"and\":["
    "{\"in\":[{\"var\":\"actor.role\"},[\"admin\",\"agent\"]]},"
    "{\"in\":[{\"var\":\"action\"},[\"read\",\"search\",\"list\"]]},"
    "{\"==\":[{\"var\":\"resource.type\"},\"memory\"]},"
    "{\"or\":["
    "{\"==\":[{\"var\":\"resource.owner\"},{\"var\":\"actor.id\"}]},"
    "{\"==\":[{\"var\":\"actor.role\"},\"admin\"]}]},"
    "{\"<=\":[9,{\"var\":\"context.hour\"},17]},"
    "{\"!\":{\"in\":[\"secret\",{\"var\":[\"resource.tags\",[]]}]}}"
    "]}";

static const char *roles[] = {"admin", "agent", "viewer"};
static const char *actions[] = {"read", "search", "write", "list"};

static cJSON *policy_data(unsigned i)
{
    cJSON *d = cJSON_CreateObject(), *actor = cJSON_AddObjectToObject(d, "actor"),
          *res = cJSON_AddObjectToObject(d, "resource"), *ctx = cJSON_AddObjectToObject(d, "context");
    cJSON_AddStringToObject(actor, "role", roles[i % 3]);
    cJSON_AddStringToObject(actor, "id", (i / 3) % 2 ? "u1" : "u2");
    cJSON_AddStringToObject(d, "action", actions[(i / 6) % 4]);
    cJSON_AddStringToObject(res, "type", (i / 24) % 5 ? "memory" : "policy");
    cJSON_AddStringToObject(res, "owner", "u1");
    cJSON *tags = cJSON_AddArrayToObject(res, "tags");
    cJSON_AddItemToArray(tags, cJSON_CreateString("work"));
    if ((i / 120) % 4 == 0)
        cJSON_AddItemToArray(tags, cJSON_CreateString("secret"));
    cJSON_AddNumberToObject(ctx, "hour", (double)((i / 480) % 24));
    return d;
}

static int policy_expect(unsigned i)
{
    int role = (int)(i % 3), owner = (i / 3) % 2, action = (int)((i / 6) % 4);
    int memory = (i / 24) % 5 != 0, secret = (i / 120) % 4 == 0, hour = (int)((i / 480) % 24);
    return role != 2 && action != 2 && memory && (owner || role == 0) && hour >= 9 && hour <= 17 &&
           !secret;
}

START_TEST(reuse_one_rule)
{
    mni_jl *r = compile_ok(policy_rule);
    char err[256];
    int allowed = 0;
    for (unsigned i = 0; i < 480 * 24; i++) {
        cJSON *d = policy_data(i);
        int t = -1;
        ck_assert_int_eq(mni_jl_test(r, d, &t, err, sizeof err), MN_OK);
        ck_assert_msg(t == policy_expect(i), "case %u: got %d", i, t);
        cJSON *res = NULL;
        ck_assert_int_eq(mni_jl_eval(r, d, &res, err, sizeof err), MN_OK);
        ck_assert(cJSON_IsBool(res) && cJSON_IsTrue(res) == t);
        allowed += t;
        cJSON_Delete(res);
        cJSON_Delete(d);
    }
    ck_assert_int_gt(allowed, 0);
    mni_jl_free(r);
}
END_TEST

/* ---- threads ----------------------------------------------------------------------------- */

#define TH_N 4
#define TH_ITERS 20000

struct th_arg {
    const mni_jl *rule;
    const mni_jl *map;
    int id, bad;
};

static void *th_main(void *p)
{
    struct th_arg *a = p;
    char err[256];
    for (unsigned i = 0; i < TH_ITERS; i++) {
        unsigned k = (unsigned)a->id * 7919u + i;
        cJSON *d = policy_data(k);
        int t = -1;
        if (mni_jl_test(a->rule, d, &t, err, sizeof err) != MN_OK || t != policy_expect(k))
            a->bad++;
        cJSON_Delete(d);
        if (i % 16 == 0) { /* a rule that builds strings and arrays in its arena */
            cJSON *xs = cJSON_CreateArray();
            for (unsigned j = 0; j < 20; j++)
                cJSON_AddItemToArray(xs, cJSON_CreateNumber(j + k % 5));
            cJSON *res = NULL;
            if (mni_jl_eval(a->map, xs, &res, err, sizeof err) != MN_OK || !cJSON_IsString(res))
                a->bad++;
            else {
                char want[256];
                int n = snprintf(want, sizeof want, "%u-%u|", (k % 5) * 2, (19 + k % 5) * 2);
                for (unsigned j = 0; j < 20; j++)
                    n += snprintf(want + n, sizeof want - (size_t)n, "%sn%u", j ? "," : "",
                                  j + k % 5);
                if (strcmp(res->valuestring, want) != 0)
                    a->bad++;
            }
            cJSON_Delete(res);
            cJSON_Delete(xs);
        }
    }
    return NULL;
}

START_TEST(threads_share_a_rule)
{
    mni_jl *rule = compile_ok(policy_rule);
    mni_jl *map = compile_ok("{\"cat\":[{\"*\":[{\"var\":\"0\"},2]},\"-\",{\"*\":[{\"var\":\"19\"},2]},"
                            "\"|\",{\"map\":[{\"var\":\"\"},{\"cat\":[\"n\",{\"var\":\"\"}]}]}]}");
    pthread_t th[TH_N];
    struct th_arg args[TH_N];
    for (int i = 0; i < TH_N; i++) {
        args[i] = (struct th_arg){rule, map, i, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, th_main, &args[i]), 0);
    }
    for (int i = 0; i < TH_N; i++) {
        pthread_join(th[i], NULL);
        ck_assert_msg(args[i].bad == 0, "thread %d: %d wrong results", i, args[i].bad);
    }
    mni_jl_free(rule);
    mni_jl_free(map);
}
END_TEST

/* ---- fuzz ------------------------------------------------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (uint32_t)(rng_state % n) : 0;
}

static const struct {
    const char *name;
    int min, max;
} fz_ops[] = {
    {"var", 0, 2},    {"var", 1, 1},     {"var", 1, 2},    {"missing", 0, 3}, {"missing_some", 2, 2},
    {"if", 0, 5},     {"?:", 3, 3},      {"==", 2, 2},     {"===", 2, 2},     {"!=", 2, 2},
    {"!==", 2, 2},    {"!", 1, 1},       {"!!", 1, 1},     {"or", 0, 3},      {"and", 0, 3},
    {">", 2, 2},      {">=", 2, 2},      {"<", 2, 3},      {"<=", 2, 3},      {"max", 0, 3},
    {"min", 0, 3},    {"+", 0, 3},       {"-", 1, 2},      {"*", 1, 3},       {"/", 2, 2},
    {"%", 2, 2},      {"map", 2, 2},     {"filter", 2, 2}, {"reduce", 2, 3},  {"all", 2, 2},
    {"none", 2, 2},   {"some", 2, 2},    {"merge", 0, 3},  {"in", 2, 2},      {"cat", 0, 3},
    {"substr", 2, 3}, {"log", 1, 1},     {"nope", 0, 2},   {"method", 2, 3},  {"", 1, 1},
};
static const char *fz_strs[] = {"", "0", "1", "a", "b", "a.b", "x.0", "length", "current",
                                "accumulator", "current.a", "0x10", " 12 ", "-1", "1e400",
                                "h\xc3\xa9llo", "\xf0\x9f\x98\x80", "\xef\xbf\xbf", ".", "..",
                                "a..b", "Infinity", "NaN", "\xff\xfe", "abc,def", "2.5"};

static cJSON *fz_value(int depth)
{
    switch (rnd(depth > 3 ? 6 : 9)) {
    case 0:
        return cJSON_CreateNull();
    case 1:
        return cJSON_CreateBool((cJSON_bool)rnd(2));
    case 2: {
        static const double nums[] = {0, -0.0, 1, -1, 2, 3, 0.5, 1e21, -1e-7, 1e308, 9007199254740993.0,
                                      4294967295.0, 17, 100};
        double v = rnd(8) == 0 ? NAN : rnd(8) == 0 ? INFINITY : nums[rnd(14)];
        return cJSON_CreateNumber(v);
    }
    case 3:
    case 4:
        return cJSON_CreateString(fz_strs[rnd(sizeof fz_strs / sizeof *fz_strs)]);
    case 5:
        return cJSON_CreateNumber((double)rnd(5));
    case 6:
    case 7: {
        cJSON *a = cJSON_CreateArray();
        for (uint32_t i = rnd(5); i > 0; i--)
            cJSON_AddItemToArray(a, fz_value(depth + 1));
        return a;
    }
    default: {
        cJSON *o = cJSON_CreateObject();
        for (uint32_t i = rnd(4); i > 0; i--)
            cJSON_AddItemToObject(o, fz_strs[rnd(12)], fz_value(depth + 1));
        return o;
    }
    }
}

static cJSON *fz_rule(int depth)
{
    if (depth > 9 || rnd(10) < 3)
        return fz_value(depth + 4);
    if (rnd(12) == 0) { /* an array of rules */
        cJSON *a = cJSON_CreateArray();
        for (uint32_t i = rnd(4); i > 0; i--)
            cJSON_AddItemToArray(a, fz_rule(depth + 1));
        return a;
    }
    if (rnd(40) == 0) { /* something that grows each step: the limits must stop it */
        cJSON *o = cJSON_Parse("{\"reduce\":[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,"
                               "21,22,23,24,25],{\"merge\":[{\"var\":\"accumulator\"},"
                               "{\"var\":\"accumulator\"}]},[1]]}");
        return o;
    }
    cJSON *o = cJSON_CreateObject();
    uint32_t which = rnd(sizeof fz_ops / sizeof *fz_ops);
    const char *op = fz_ops[which].name;
    uint32_t n = rnd(8) == 0 ? rnd(6)
                            : (uint32_t)fz_ops[which].min +
                                  rnd((uint32_t)(fz_ops[which].max - fz_ops[which].min + 1));
    if (n == 1 && rnd(3) == 0) {
        cJSON_AddItemToObject(o, op, fz_rule(depth + 1)); /* unary form */
    } else {
        cJSON *args = cJSON_CreateArray();
        for (uint32_t i = 0; i < n; i++)
            cJSON_AddItemToArray(args, fz_rule(depth + 1));
        cJSON_AddItemToObject(o, op, args);
    }
    return o;
}

/* A copy of rule with one random node replaced (by a random rule, or a wrapped copy). */
static cJSON *fz_mutate(const cJSON *rule)
{
    cJSON *copy = cJSON_Duplicate(rule, 1);
    /* pick a random node by walking down */
    cJSON *parent = NULL, *cur = copy;
    while ((cJSON_IsArray(cur) || cJSON_IsObject(cur)) && cur->child && rnd(3) != 0) {
        int n = cJSON_GetArraySize(cur);
        parent = cur;
        cur = cJSON_GetArrayItem(cur, (int)rnd((uint32_t)n));
    }
    cJSON *repl;
    switch (rnd(4)) {
    case 0:
        repl = fz_rule(3);
        break;
    case 1: { /* wrap in a random operation */
        repl = cJSON_CreateObject();
        cJSON *args = cJSON_CreateArray();
        cJSON_AddItemToArray(args, cJSON_Duplicate(cur, 1));
        cJSON_AddItemToArray(args, fz_rule(5));
        cJSON_AddItemToObject(repl, fz_ops[rnd(sizeof fz_ops / sizeof *fz_ops)].name, args);
        break;
    }
    case 2:
        repl = fz_value(2);
        break;
    default: /* the same arguments under another operator */
        if (cJSON_IsObject(cur) && cur->child) {
            repl = cJSON_CreateObject();
            cJSON_AddItemToObject(repl, fz_ops[rnd(sizeof fz_ops / sizeof *fz_ops)].name,
                                  cJSON_Duplicate(cur->child, 1));
        } else {
            repl = fz_value(1);
        }
        break;
    }
    if (!parent) {
        cJSON_Delete(copy);
        return repl;
    }
    int i = 0;
    for (cJSON *e = parent->child; e != cur; e = e->next)
        i++;
    cJSON_ReplaceItemInArray(parent, i, repl); /* works for object members too */
    return copy;
}

/* Compiles rule and evaluates it on data in every way; only MN_OK, MN_EINVAL (compile) and
 * MN_ERANGE (limits) are acceptable. Returns 1 if it compiled. */
static int fz_check(const cJSON *rule, const cJSON *data, const mni_jl_limits *lim, int *limited)
{
    char err[512];
    mni_jl *r = NULL;
    int rc = mni_jl_compile(rule, &r, err, sizeof err);
    ck_assert_msg(rc == MN_OK || rc == MN_EINVAL, "compile rc %d", rc);
    if (rc != MN_OK) {
        ck_assert(err[0] == '$' && r == NULL);
        return 0;
    }
    cJSON *res = NULL;
    int t = -1;
    rc = mni_jl_eval_ex(r, data, lim, &res, &t, err, sizeof err);
    ck_assert_msg(rc == MN_OK || rc == MN_ERANGE, "eval rc %d: %s", rc, err);
    if (rc == MN_OK) {
        ck_assert_ptr_nonnull(res);
        char *s = cJSON_PrintUnformatted(res);
        ck_assert_ptr_nonnull(s);
        free(s);
        int t2 = -1;
        ck_assert_int_eq(mni_jl_eval_ex(r, data, lim, NULL, &t2, err, sizeof err), MN_OK);
        ck_assert_int_eq(t, t2);
    } else {
        ck_assert_ptr_null(res);
        (*limited)++;
    }
    cJSON_Delete(res);
    mni_jl_free(r);
    return 1;
}

START_TEST(fuzz_never_crashes)
{
    rng_state = 0x9E3779B97F4A7C15ull;
    int tried = 0, compiled = 0, limited = 0;
    char err[512];
    mni_jl_limits lim = {256 * 1024, 20000};
    /* random rules on random data */
    for (int it = 0; it < 4000; it++) {
        cJSON *rule = fz_rule(0);
        for (int k = 0; k < 2; k++) {
            cJSON *data = fz_value(0);
            tried++;
            compiled += fz_check(rule, data, &lim, &limited);
            cJSON_Delete(data);
        }
        /* the same rule as text, mangled */
        char *text = cJSON_PrintUnformatted(rule);
        size_t len = strlen(text);
        for (int m = (int)rnd(4); m >= 0 && len > 0; m--)
            text[rnd((uint32_t)len)] = "{}[]\",:01a\\"[rnd(11)];
        mni_jl *r2 = NULL;
        int rc = mni_jl_compile_text(text, &r2, err, sizeof err);
        ck_assert(rc == MN_OK || rc == MN_EINVAL);
        if (rc == MN_OK) {
            int t;
            rc = mni_jl_eval_ex(r2, rule, &lim, NULL, &t, err, sizeof err);
            ck_assert(rc == MN_OK || rc == MN_ERANGE);
        }
        mni_jl_free(r2);
        free(text);
        cJSON_Delete(rule);
    }
    /* mutants of the official suite's rules, on the suite's data and on random data */
    char *suite = th_read_file(suite_path(), NULL);
    ck_assert_ptr_nonnull(suite);
    cJSON *all = cJSON_Parse(suite);
    const cJSON *item;
    cJSON_ArrayForEach(item, all) {
        if (!cJSON_IsArray(item))
            continue;
        const cJSON *rule = cJSON_GetArrayItem(item, 0), *data = cJSON_GetArrayItem(item, 1);
        for (int k = 0; k < 8; k++) {
            cJSON *m = fz_mutate(rule), *rdata = fz_value(0);
            tried += 2;
            compiled += fz_check(m, data, &lim, &limited);
            compiled += fz_check(m, rdata, &lim, &limited);
            cJSON_Delete(m);
            cJSON_Delete(rdata);
        }
    }
    cJSON_Delete(all);
    /* random bytes as rule text */
    char buf[64];
    for (int it = 0; it < 2000; it++) {
        size_t n = rnd(sizeof buf - 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = rnd(2) ? "{}[]\":,0123456789.-+eEtruefalsn \\"[rnd(34)] : (char)(1 + rnd(255));
        buf[n] = '\0';
        mni_jl *r = NULL;
        int rc = mni_jl_compile_text(buf, &r, err, sizeof err);
        ck_assert(rc == MN_OK || rc == MN_EINVAL);
        if (rc == MN_OK) {
            cJSON *res = NULL;
            rc = mni_jl_eval(r, NULL, &res, err, sizeof err);
            ck_assert(rc == MN_OK || rc == MN_ERANGE);
            cJSON_Delete(res);
        }
        mni_jl_free(r);
    }
    fprintf(stderr, "jsonlogic fuzz: %d evaluations tried, %d compiled, %d stopped by limits\n",
            tried, compiled, limited);
    ck_assert_int_gt(compiled, tried / 3);
    ck_assert_int_gt(limited, 0);
}
END_TEST

static Suite *jsonlogic_suite(void)
{
    Suite *s = suite_create("jsonlogic");
    TCase *tc = tcase_create("conformance");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, official_suite);
    suite_add_tcase(s, tc);
    tc = tcase_create("semantics");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, loose_and_strict_equality);
    tcase_add_test(tc, ordering);
    tcase_add_test(tc, arithmetic);
    tcase_add_test(tc, strings);
    tcase_add_test(tc, vars);
    tcase_add_test(tc, collections);
    tcase_add_test(tc, logic_and_literals);
    tcase_add_test(tc, truthy_of_cjson);
    tcase_add_test(tc, numbers_ignore_locale);
    suite_add_tcase(s, tc);
    tc = tcase_create("compile");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, compile_errors);
    tcase_add_test(tc, depth_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("robustness");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, eval_limits);
    tcase_add_test(tc, reuse_one_rule);
    tcase_add_test(tc, threads_share_a_rule);
    tcase_add_test(tc, fuzz_never_crashes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return th_run(jsonlogic_suite());
}
