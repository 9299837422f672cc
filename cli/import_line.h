/* import_line.h — one line of `manushya memory import` (import_line.c), parsed without a
 * database so that the fuzzer (tests/fuzz) reaches it as the command does. */
#ifndef MANUSHYA_CLI_IMPORT_LINE_H
#define MANUSHYA_CLI_IMPORT_LINE_H

#include <manushya.h>

#include <cJSON.h>
#include <stddef.h>

/* Reads line (len bytes, NUL-terminated as getline leaves it) into *in. Returns 1 for a memory:
 * *doc then holds the parsed line, which in's strings point into, and *meta the metadata as the
 * line wrote it (compact) for in->metadata, or NULL; the caller frees them (cJSON_Delete, mn_free).
 * Returns 0 for a blank line and -1 for a bad one, *why then saying what is wrong (a constant
 * or msg); nothing is left to free in either case. */
int cli_import_line(const char *line, size_t len, mn_memory_input *in, cJSON **doc, char **meta,
                    const char **why, char *msg, size_t msglen);

#endif
