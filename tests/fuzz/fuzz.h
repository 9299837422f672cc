/*
 * What the libFuzzer harnesses (tests/fuzz/fuzz_*.c) share. Each harness defines
 * LLVMFuzzerTestOneInput and keeps nothing between inputs: whatever an input allocates is freed
 * before it returns (LeakSanitizer checks), and files live in memory (memfd), not on disk.
 * An input that breaks a property the harness checks aborts (a crash, kept by libFuzzer).
 */
#ifndef MNI_TESTS_FUZZ_H
#define MNI_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a malloc'd NUL-terminated string (bytes past a NUL are then unseen by C strings). */
char *fuzz_str(const uint8_t *data, size_t size);
/* data cut at its first newline into two malloc'd strings: *first before it, *rest after it
 * ("" when there is none). Text inputs give the harnesses two parts, one a line. */
void fuzz_split(const uint8_t *data, size_t size, char **first, char **rest);
/* An in-memory file holding data, named by path (/proc/self/fd/N, size >= 32 bytes) for
 * loaders that take a path; returns its descriptor, to close, or aborts. */
int fuzz_file(const uint8_t *data, size_t size, char *path, size_t pathlen);
/* Aborts with a message when cond is false: a property the harness checks. */
void fuzz_assert(int cond, const char *what);

#endif
