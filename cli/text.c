/*
 * text.c — how stored and user text reaches a terminal. A memory's text, a tenant's name, an
 * error message quoting input: any of them may hold ESC, BEL or C1 codes that would rewrite the
 * operator's screen, or bytes that are not UTF-8. Every human-readable line with such data goes
 * through cli_print_text; JSON too, which the escapes it makes keep valid.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The length (2..4) of the valid UTF-8 sequence of a character >= 0x80 at s, or 0 when s does
 * not start one (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, or a
 * sequence cut short: the NUL that ends s fails the test of its byte, so nothing past it is
 * read). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
    size_t n;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        lo = s[0] == 0xE0 ? 0xA0 : lo;
        hi = s[0] == 0xED ? 0x9F : hi;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        lo = s[0] == 0xF0 ? 0x90 : lo;
        hi = s[0] == 0xF4 ? 0x8F : hi;
    } else {
        return 0;
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* What the character at s shows as, in piece (8 bytes): itself, an escape, or U+FFFD for a
 * byte that is not UTF-8. Returns the piece's length; *used is the bytes of s it stands for. A
 * piece is one character, or its escape's characters (all ASCII): *chars says how many. */
static size_t shown(const unsigned char *s, char *piece, size_t *used, size_t *chars)
{
    size_t n;
    *used = 1;
    if (*s < 0x20) { /* C0: bytes, as C writes them; JSON text never holds one raw */
        const char *named = *s == '\n' ? "\\n" : *s == '\t' ? "\\t" : *s == '\r' ? "\\r" : NULL;
        n = named ? (size_t)snprintf(piece, 8, "%s", named)
                  : (size_t)snprintf(piece, 8, "\\x%02x", *s);
    } else if (*s == 0x7F || (*s == 0xC2 && s[1] >= 0x80 && s[1] < 0xA0)) {
        /* DEL and the C1 code points, as JSON writes them, so that JSON text stays valid */
        *used = *s == 0x7F ? 1 : 2;
        n = (size_t)snprintf(piece, 8, "\\u%04x", *s == 0x7F ? 0x7F : s[1]);
    } else if (*s < 0x80) {
        piece[0] = (char)*s;
        n = 1;
    } else if ((*used = utf8_len(s)) != 0) {
        memcpy(piece, s, *used);
        *chars = 1;
        return *used;
    } else {
        *used = 1;
        memcpy(piece, "\xEF\xBF\xBD", 3); /* U+FFFD REPLACEMENT CHARACTER */
        *chars = 1;
        return 3;
    }
    *chars = n;
    return n;
}

size_t cli_print_text(FILE *f, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0; /* characters shown */
    if (!max)
        max = SIZE_MAX;
    while (*p) {
        size_t run = 0; /* printable ASCII, the common case, goes out in one write */
        while (p[run] >= 0x20 && p[run] < 0x7F && n + run < max)
            run++;
        if (run) {
            if (f)
                fwrite(p, 1, run, f);
            p += run;
            n += run;
            continue;
        }
        char piece[8];
        size_t used, chars, len = shown(p, piece, &used, &chars);
        if (n + chars > max) { /* a character (or escape) is never cut in two */
            if (f)
                fputs("...", f);
            return n + 3;
        }
        if (f)
            fwrite(piece, 1, len, f);
        p += used;
        n += chars;
    }
    return n;
}

void cli_print_cell(FILE *f, const char *s, size_t width)
{
    for (size_t n = cli_print_text(f, s, 0); n < width; n++)
        fputc(' ', f);
}

void cli_print_fields(const cli_field *fields, size_t n, int width)
{
    for (size_t i = 0; i < n; i++) {
        printf("%-*s", width, fields[i].label);
        cli_print_text(stdout, fields[i].value ? fields[i].value : "", 0);
        putchar('\n');
    }
}

void cli_vprint(FILE *f, const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) {
        fputs("(out of memory formatting a message)", f);
        return;
    }
    cli_print_text(f, s, 0);
    free(s);
}

void cli_line(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vprint(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
}
