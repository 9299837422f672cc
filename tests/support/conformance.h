/*
 * The store conformance suite: what every backend must do, through the public API only.
 *
 * A backend's test file calls
 *     Suite *s = mni_conformance_suite("sqlite", make_url, 1);
 * where make_url returns the URL of a new, empty database each time it is called (the suite
 * copies the string at once, so a static buffer is fine). every_mode 1: each test that searches
 * runs once per search mode (vector, keyword, hybrid); 0: once, in the default mode (for a
 * configuration of a backend whose modes another registration covers). The same suite then runs against
 * sqlite now and postgres later. Several backends may be registered in one runner (each call
 * returns its own Suite); at most 8 per process.
 */
#ifndef MNI_TESTS_CONFORMANCE_H
#define MNI_TESTS_CONFORMANCE_H

#include <check.h>

Suite *mni_conformance_suite(const char *name, const char *(*make_url)(void), int every_mode);
/* The same, with only every parts-th test from the part-th (0-based): a slow backend's suite
 * split over several processes and servers, each registering its own part. */
Suite *mni_conformance_suite_part(const char *name, const char *(*make_url)(void), int every_mode,
                                  int part, int parts);

#endif
