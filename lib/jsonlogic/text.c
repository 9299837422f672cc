/* JSON Logic text primitives: UTF-8 stepping, JavaScript's number <-> string conversions
 * (Number::toString, StringToNumber, parseFloat), array indices, and string order by UTF-16 code
 * units. Independent of the host program's locale. */
#include "jsonlogic/impl.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t jl_index_of(const char *s, size_t len)
{
    if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
        return JL_NOIDX;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return JL_NOIDX;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v < 0xFFFFFFFFu ? (uint32_t)v : JL_NOIDX; /* 2^32-1 is not an array index */
}

/* ==== UTF-8 =================================================================================== */

/* Length of the UTF-8 sequence at s[i] (1 for an invalid byte) and its code point. */
static size_t utf8_seq(const char *s, size_t len, size_t i, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s + i;
    size_t left = len - i;
    unsigned c = u[0];
    size_t n;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
    } else {
        *cp = c;
        return 1;
    }
    if (left < n) {
        *cp = c;
        return 1;
    }
    for (size_t k = 1; k < n; k++) {
        if ((u[k] & 0xC0) != 0x80) {
            *cp = c;
            return 1;
        }
        v = (v << 6) | (u[k] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF))) {
        *cp = c;
        return 1;
    }
    *cp = v;
    return n;
}

size_t jl_cp_next(const char *s, size_t len, size_t i)
{
    uint32_t cp;
    return i + utf8_seq(s, len, i, &cp);
}

size_t jl_cp_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        if ((unsigned char)s[i] < 0x80)
            i++;
        else
            i = jl_cp_next(s, len, i);
    }
    return n;
}

/* Bytes of the JavaScript white space or line terminator at s (0 if none): the characters
 * Number() and parseFloat() skip. */
static size_t js_space(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0)
        return 0;
    if (u[0] == ' ' || (u[0] >= 9 && u[0] <= 13))
        return 1;
    if (n >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
        return 2; /* U+00A0 */
    if (n < 3)
        return 0;
    if (u[0] == 0xE1 && u[1] == 0x9A && u[2] == 0x80)
        return 3; /* U+1680 */
    if (u[0] == 0xE2 && u[1] == 0x80 &&
        (u[2] <= 0x8A || u[2] == 0xA8 || u[2] == 0xA9 || u[2] == 0xAF) && u[2] >= 0x80)
        return 3; /* U+2000..200A, U+2028, U+2029, U+202F */
    if (u[0] == 0xE2 && u[1] == 0x81 && u[2] == 0x9F)
        return 3; /* U+205F */
    if (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80)
        return 3; /* U+3000 */
    if (u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
        return 3; /* U+FEFF */
    return 0;
}

/* ==== numbers ================================================================================= */

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* strtod in the C locale, whatever the host program set with setlocale(). */
static double c_strtod(const char *s, char **end)
{
    pthread_once(&c_locale_once, c_locale_init);
    return c_locale ? strtod_l(s, end, c_locale) : strtod(s, end);
}

/* x rounded to p significant digits: d (NUL-terminated), x ~ d[0].d[1..] * 10^e. */
static void digits_at(double x, int p, char d[20], int *e)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
    /* d[.ddd]e[+-]xx, with whatever decimal point the locale prints */
    int k = 0;
    const char *q = tmp;
    for (; *q && *q != 'e' && *q != 'E'; q++)
        if (*q >= '0' && *q <= '9' && k < 19)
            d[k++] = *q;
    d[k] = '\0';
    *e = *q ? atoi(q + 1) : 0;
}

static int reads_back(const char *d, int e, double x)
{
    char canon[48];
    snprintf(canon, sizeof canon, "%c.%se%d", d[0], d + 1, e);
    return c_strtod(canon, NULL) == x;
}

/* The p-digit neighbour of d one unit in the last place up (dir 1) or down (dir -1). */
static void step_digits(char d[20], int p, int *e, int dir)
{
    int i = p - 1;
    if (dir > 0) {
        while (i >= 0 && d[i] == '9')
            d[i--] = '0';
        if (i >= 0) {
            d[i]++;
        } else { /* 99..9 + 1 = 100..0, one decade up */
            d[0] = '1';
            (*e)++;
        }
    } else {
        while (i >= 0 && d[i] == '0')
            d[i--] = '9';
        d[i]--; /* d[0] is never '0' */
        if (d[0] == '0') { /* 100..0 - 1 = 99..9, one decade down */
            memmove(d, d + 1, (size_t)p - 1);
            d[p - 1] = '9';
            (*e)--;
        }
    }
}

/* The digits JavaScript prints for x (x > 0, finite): the fewest that read back as x, and of
 * those the closest to x. x = 0.d1d2...dk * 10^n; returns k. */
static int shortest_digits(double x, char digits[20], int *n)
{
    int e, p = 1, k;
    if (x >= 2.2250738585072014e-308) {
        /* any decimal of up to 15 digits survives a round trip through a normal double, so if
         * the 15-digit rounding reads back, the shortest form is it without trailing zeros */
        digits_at(x, 15, digits, &e);
        if (reads_back(digits, e, x))
            goto trim;
        p = 16;
    }
    for (; p < 17; p++) {
        digits_at(x, p, digits, &e);
        if (reads_back(digits, e, x))
            goto trim;
        /* the closest p digits do not read back; near a power of two a neighbour may */
        for (int dir = -1; dir <= 1; dir += 2) {
            char nd[20];
            int ne = e;
            memcpy(nd, digits, sizeof nd);
            step_digits(nd, p, &ne, dir);
            if (reads_back(nd, ne, x)) {
                memcpy(digits, nd, sizeof nd);
                e = ne;
                goto trim;
            }
        }
    }
    digits_at(x, 17, digits, &e); /* 17 digits always read back */
trim:
    k = (int)strlen(digits);
    while (k > 1 && digits[k - 1] == '0')
        digits[--k] = '\0';
    *n = e + 1;
    return k;
}

size_t jl_num_fmt(double x, char buf[JL_NUMBUF])
{
    char *o = buf;
    if (isnan(x)) {
        memcpy(buf, "NaN", 4);
        return 3;
    }
    if (isinf(x)) {
        if (x > 0) {
            memcpy(buf, "Infinity", 9);
            return 8;
        }
        memcpy(buf, "-Infinity", 10);
        return 9;
    }
    if (x == 0) {
        memcpy(buf, "0", 2);
        return 1;
    }
    if (x < 0) {
        *o++ = '-';
        x = -x;
    }
    if (x < 9007199254740992.0 && x == floor(x)) {
        char rev[20];
        int k = 0;
        uint64_t u = (uint64_t)x;
        while (u) {
            rev[k++] = (char)('0' + u % 10);
            u /= 10;
        }
        while (k)
            *o++ = rev[--k];
        *o = '\0';
        return (size_t)(o - buf);
    }
    char d[20];
    int n;
    int k = shortest_digits(x, d, &n);
    if (k <= n && n <= 21) {
        memcpy(o, d, (size_t)k);
        o += k;
        for (int i = k; i < n; i++)
            *o++ = '0';
    } else if (0 < n && n <= 21) {
        memcpy(o, d, (size_t)n);
        o += n;
        *o++ = '.';
        memcpy(o, d + n, (size_t)(k - n));
        o += k - n;
    } else if (-6 < n && n <= 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -n; i++)
            *o++ = '0';
        memcpy(o, d, (size_t)k);
        o += k;
    } else {
        *o++ = d[0];
        if (k > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)(k - 1));
            o += k - 1;
        }
        o += snprintf(o, (size_t)(buf + JL_NUMBUF - o), "e%c%d", n - 1 >= 0 ? '+' : '-',
                      n - 1 >= 0 ? n - 1 : 1 - n);
    }
    *o = '\0';
    return (size_t)(o - buf);
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Length of the longest StrDecimalLiteral (without Infinity) at the start of p, 0 if none. */
static size_t decimal_prefix(const char *p, size_t n)
{
    size_t i = 0, d = 0;
    if (i < n && (p[i] == '+' || p[i] == '-'))
        i++;
    while (i < n && is_digit(p[i]))
        i++, d++;
    if (i < n && p[i] == '.') {
        size_t j = i + 1, f = 0;
        while (j < n && is_digit(p[j]))
            j++, f++;
        if (d == 0 && f == 0)
            return 0;
        i = j;
    } else if (d == 0) {
        return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t j = i + 1, e = 0;
        if (j < n && (p[j] == '+' || p[j] == '-'))
            j++;
        while (j < n && is_digit(p[j]))
            j++, e++;
        if (e)
            i = j;
    }
    return i;
}

/* "Infinity", "+Infinity" or "-Infinity" at the start of p: its length, 0 if none. */
static size_t infinity_prefix(const char *p, size_t n, int *neg)
{
    size_t i = 0;
    *neg = 0;
    if (n > 0 && (p[0] == '+' || p[0] == '-')) {
        *neg = p[0] == '-';
        i = 1;
    }
    if (n - i >= 8 && memcmp(p + i, "Infinity", 8) == 0)
        return i + 8;
    return 0;
}

/* p (whose decimal literal is its first k bytes, followed by a byte that cannot continue it) */
static double decimal_value(const char *p, size_t k)
{
    char *end;
    double v = c_strtod(p, &end);
    if (end != p + k) /* strtod read "0x..." as hexadecimal: JavaScript stops at the x */
        return p[0] == '-' ? -0.0 : 0.0;
    return v;
}

double jl_str_to_num(const char *s, size_t len)
{
    size_t b = 0, e = len, k;
    while (b < e && (k = js_space(s + b, e - b)))
        b += k;
    while (e > b) {
        if (js_space(s + e - 1, 1))
            e--;
        else if (e - b >= 2 && js_space(s + e - 2, 2) == 2)
            e -= 2;
        else if (e - b >= 3 && js_space(s + e - 3, 3) == 3)
            e -= 3;
        else
            break;
    }
    const char *p = s + b;
    size_t n = e - b;
    if (n == 0)
        return 0;
    if (n > 2 && p[0] == '0') {
        int radix = (p[1] == 'x' || p[1] == 'X') ? 16 : (p[1] == 'o' || p[1] == 'O') ? 8
                  : (p[1] == 'b' || p[1] == 'B') ? 2 : 0;
        if (radix) {
            double v = 0;
            for (size_t i = 2; i < n; i++) {
                int d = is_digit(p[i]) ? p[i] - '0'
                      : (p[i] >= 'a' && p[i] <= 'f') ? p[i] - 'a' + 10
                      : (p[i] >= 'A' && p[i] <= 'F') ? p[i] - 'A' + 10 : 99;
                if (d >= radix)
                    return NAN;
                v = v * radix + d;
            }
            return v;
        }
    }
    int neg;
    if (infinity_prefix(p, n, &neg) == n)
        return neg ? -INFINITY : INFINITY;
    k = decimal_prefix(p, n);
    if (k == 0 || k != n)
        return NAN;
    return decimal_value(p, k);
}

double jl_parse_float(const char *s, size_t len)
{
    size_t b = 0, k;
    while (b < len && (k = js_space(s + b, len - b)))
        b += k;
    const char *p = s + b;
    size_t n = len - b;
    int neg;
    if (infinity_prefix(p, n, &neg))
        return neg ? -INFINITY : INFINITY;
    k = decimal_prefix(p, n);
    if (k == 0)
        return NAN;
    return decimal_value(p, k);
}

/* ==== order ================================================================================== */

/* The UTF-16 code unit JavaScript would see first for code point cp. */
static uint32_t utf16_lead(uint32_t cp)
{
    return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10);
}

/* Strings compare by UTF-16 code units in JavaScript; for UTF-8 that is byte order except that
 * characters above U+FFFF (surrogates, 0xD800..) sort before U+E000..U+FFFF. */
int jl_str_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    size_t n = la < lb ? la : lb, i = 0;
    while (i < n && a[i] == b[i])
        i++;
    if (i == n)
        return la < lb ? JL_CMP_LT : la > lb ? JL_CMP_GT : JL_CMP_EQ;
    size_t s = i;
    while (s > 0 && i - s < 3 && ((unsigned char)a[s] & 0xC0) == 0x80)
        s--;
    uint32_t ca, cb;
    utf8_seq(a, la, s, &ca);
    utf8_seq(b, lb, s, &cb);
    uint32_t ka = utf16_lead(ca), kb = utf16_lead(cb);
    if (ka != kb)
        return ka < kb ? JL_CMP_LT : JL_CMP_GT;
    if (ca != cb)
        return ca < cb ? JL_CMP_LT : JL_CMP_GT;
    return (unsigned char)a[i] < (unsigned char)b[i] ? JL_CMP_LT : JL_CMP_GT;
}
