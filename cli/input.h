/* input.h — input text the CLI reads (stdin, import lines): a NUL byte is refused, never let
 * cut a text short (C strings end at it). Without a database, so the fuzzer reaches it too. */
#ifndef MANUSHYA_CLI_INPUT_H
#define MANUSHYA_CLI_INPUT_H

#include <stddef.h>

/* NULL when buf[0..len) holds no NUL byte; else why, which then says where the first one is. */
const char *cli_nul_at(const char *buf, size_t len, char *why, size_t size);

#endif
