/* bench_text.h — deterministic synthetic memory texts for manushya bench (bench_text.c). */
#ifndef MANUSHYA_CLI_BENCH_TEXT_H
#define MANUSHYA_CLI_BENCH_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_TEXT_MAX 192 /* every generated text fits */

/* Writes synthetic memory text number i into buf; the same i always gives the same text. */
void bench_text(uint64_t i, char *buf, size_t size);
/* The memory type used for memory number i. */
const char *bench_type(uint64_t i);

#endif
