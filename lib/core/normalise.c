/* Normalising a text for deduplication: see core/normalise.h. */
#include "core/normalise.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The code point at p (n bytes left) and its length in *used; a byte that does not start a
 * well-formed sequence is returned as itself, length 1. */
static uint32_t decode(const unsigned char *p, size_t n, size_t *used)
{
    *used = 1;
    if (p[0] < 0x80)
        return p[0];
    size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
    if (!len || len > n)
        return p[0];
    uint32_t c = p[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return p[0];
        c = c << 6 | (p[i] & 0x3f);
    }
    *used = len;
    return c;
}

static size_t encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3f));
    out[2] = (char)(0x80 | (c >> 6 & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

static int is_space(uint32_t c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/* Simple lowercase of the letters whose case maps by a fixed offset. */
static uint32_t lower(uint32_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7) ||
        (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) || (c >= 0x410 && c <= 0x42f))
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40f)
        return c + 0x50;
    return c;
}

char *mni_normalise(const char *text, size_t *len)
{
    size_t n = strlen(text);
    /* Lowercasing never lengthens a character's encoding in these ranges. */
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)text;
    size_t o = 0, used;
    int space = 0;
    for (size_t i = 0; i < n; i += used) {
        /* ASCII other than white space, most of most texts: no decoding, no encoding. */
        if (p[i] > ' ' && p[i] < 0x80) {
            if (space)
                out[o++] = ' ';
            space = 0;
            out[o++] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + ('a' - 'A') : p[i]);
            used = 1;
            continue;
        }
        uint32_t c = decode(p + i, n - i, &used);
        if (is_space(c)) {
            space = o > 0;
            continue;
        }
        if (space)
            out[o++] = ' ';
        space = 0;
        if (used == 1 && c == p[i] && c >= 0x80)
            out[o++] = (char)c; /* not UTF-8: kept */
        else
            o += encode(lower(c), out + o);
    }
    out[o] = '\0';
    *len = o;
    return out;
}
