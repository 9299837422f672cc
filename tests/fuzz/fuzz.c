/* Helpers of the libFuzzer harnesses (fuzz.h). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void *need(void *p)
{
    fuzz_assert(p != NULL, "out of memory in the harness");
    return p;
}

char *fuzz_str(const uint8_t *data, size_t size)
{
    char *s = need(malloc(size + 1));
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_split(const uint8_t *data, size_t size, char **first, char **rest)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    *first = fuzz_str(data, n);
    *rest = nl ? fuzz_str(nl + 1, size - n - 1) : fuzz_str(data, 0);
}

int fuzz_file(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
    int fd = memfd_create("fuzz", 0);
    fuzz_assert(fd >= 0, "memfd_create failed");
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        fuzz_assert(w > 0, "writing the in-memory file failed");
        off += (size_t)w;
    }
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    return fd;
}

void fuzz_assert(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz: property broken: %s\n", what);
        abort();
    }
}
