/* input.c — see input.h. */
#include "input.h"

#include <stdio.h>
#include <string.h>

const char *cli_nul_at(const char *buf, size_t len, char *why, size_t size)
{
    const char *nul = memchr(buf, '\0', len);
    if (!nul)
        return NULL;
    snprintf(why, size, "byte %zu is NUL (\\0), which no text may hold; remove it",
             (size_t)(nul - buf) + 1);
    return why;
}
