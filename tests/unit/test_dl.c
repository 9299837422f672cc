/*
 * Optional libraries loaded on first use (lib/core/dl.h): a library that is missing, or that
 * lacks a function, is MN_EUNSUPPORTED with a message naming it (and stays so); one that loads
 * gives its functions, and its setup runs once; and an embedded handle that opens, writes and
 * searches never loads libpq or libcurl (the reason for all this: their ~30 libraries cost
 * every process start ~10 ms of the dynamic loader's time).
 */
#include "support/harness.h"
#include "core/dl.h"

#include <stdio.h>
#include <string.h>

#define NONE(F) F(return, int, mn_no_such_function_here, (void), ())
#define WRAP_NONE(kw, ret, name, params, args) MNI_DL_WRAP(none, kw, ret, name, params, args)
MNI_DL_DEFINE(none, "libmanushya-no-such-library.so.9", NULL, NONE, WRAP_NONE)

START_TEST(missing_library_is_unsupported)
{
    for (int i = 0; i < 2; i++) { /* the answer is kept */
        ck_assert_int_eq(mni_dl_load(&none), MN_EUNSUPPORTED);
        ck_assert_msg(strstr(none.why, "cannot load libmanushya-no-such-library.so.9"), "%s",
                      none.why);
    }
}
END_TEST

#define LACKING(F)                                                                               \
    F(return, double, cos, (double x), (x))                                                      \
    F(return, int, mn_no_such_function_here, (void), ())
static const char *const lacking_names[] = { "cos", "mn_no_such_function_here" };
static void *lacking_fns[2];

START_TEST(missing_function_is_unsupported)
{
    struct mni_dl dl = { "libm.so.6", lacking_names, 2, lacking_fns, NULL, 0, "" };
    ck_assert_int_eq(mni_dl_load(&dl), MN_EUNSUPPORTED);
    ck_assert_msg(strstr(dl.why, "libm.so.6 lacks mn_no_such_function_here"), "%s", dl.why);
    ck_assert_ptr_null(lacking_fns[0]); /* nothing half-loaded */
}
END_TEST

static int setups;
static int count_setup(void)
{
    setups++;
    return 0;
}
static const char *const libm_names[] = { "cos" };
static void *libm_fns[1];

START_TEST(loaded_functions_and_setup_once)
{
    struct mni_dl dl = { "libm.so.6", libm_names, 1, libm_fns, count_setup, 0, "" };
    ck_assert_int_eq(mni_dl_load(&dl), MN_OK);
    ck_assert_int_eq(mni_dl_load(&dl), MN_OK);
    ck_assert_int_eq(setups, 1);
    double (*f)(double) = (double (*)(double))mni_dl_fn(&dl, 0);
    ck_assert(f(0.0) == 1.0);
}
END_TEST

static int mapped(const char *name)
{
    const char *maps = th_read_file("/proc/self/maps", NULL);
    ck_assert_ptr_nonnull(maps);
    return strstr(maps, name) != NULL;
}

START_TEST(embedded_handle_loads_neither)
{
    mn_db *db = th_open_fresh();
    th_tenant(db, "acme");
    const mn_actor sys = {.version = MN_ACTOR_VERSION, .tenant = "acme"};
    th_add(db, &sys, th_identity(db, "acme", "alice"), "the meeting notes");
    mn_search_options so = MN_SEARCH_OPTIONS_INIT;
    so.query = "meeting";
    so.k = 1;
    mn_memories *res = NULL;
    TH_OK(db, mn_memory_search(db, &sys, &so, &res));
    ck_assert_uint_eq(res->count, 1);
    mn_memories_free(res);
    mn_close(db);
    ck_assert(mapped("libsqlite3.so")); /* the maps are read right */
    ck_assert_msg(!mapped("libpq.so"), "libpq was loaded");
    ck_assert_msg(!mapped("libcurl.so"), "libcurl was loaded");
}
END_TEST

static Suite *dl_suite(void)
{
    Suite *s = suite_create("dl");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, missing_library_is_unsupported);
    tcase_add_test(tc, missing_function_is_unsupported);
    tcase_add_test(tc, loaded_functions_and_setup_once);
    tcase_add_test(tc, embedded_handle_loads_neither);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    mn_global_init();
    th_init();
    return th_run(dl_suite());
}
