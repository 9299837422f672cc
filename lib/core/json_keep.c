/*
 * JSON a caller gives us to keep (metadata, claims, a rule, a context): read so that what is
 * stored, and what every later reader sees, is what the caller wrote.
 *
 * cJSON parses the text first (its messages say where the syntax breaks). Then the text is
 * walked once more, in step with cJSON's tree, to refuse what cJSON would silently change:
 * an integer a double cannot hold (2^53 + 1 reads as 2^53), a number out of a double's range
 * (1e999 reads as infinity, printed as null), \u0000 (cuts a C string, a key with it), a key
 * given twice (cJSON keeps the first, PostgreSQL's jsonb the last). The same walk writes the
 * compact form: the text without the whitespace between tokens, every string and number byte
 * for byte as written; it is that form that is stored.
 */
#include "core/json.h"
#include "manushya.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reader {
    const char *text;  /* the whole text, for byte offsets in messages */
    const char *p;     /* the next byte to read */
    char *out;         /* the compact form being written */
    size_t n;          /* bytes written to out */
    const char *what;  /* "metadata", "claims", ... */
    char *err;
    size_t errlen;
};

/* Where a value sits, for messages: the chain of keys (and array indices) down to it. */
struct place {
    const struct place *up;
    const char *key;   /* NULL: an array element */
    size_t index;
};

static size_t format_path(char *buf, size_t size, const struct place *at)
{
    if (!at || !at->up)
        return 0;
    size_t n = format_path(buf, size, at->up);
    int w = at->key ? snprintf(buf + n, size - n, "%s%s", n ? "." : "", at->key)
                    : snprintf(buf + n, size - n, "[%zu]", at->index);
    return w < 0 ? n : n + (size_t)w < size ? n + (size_t)w : size - 1;
}

static int fail(struct reader *r, const struct place *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "metadata: key "a.b[2]": <reason>"; the top level has no key. */
static int fail(struct reader *r, const struct place *at, const char *fmt, ...)
{
    char path[160] = "", reason[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (format_path(path, sizeof path, at))
        snprintf(r->err, r->errlen, "%s: key \"%s\": %s", r->what, path, reason);
    else
        snprintf(r->err, r->errlen, "%s: %s", r->what, reason);
    return MN_EINVAL;
}

/* Where the text stops being the JSON that cJSON's tree says it is: only where cJSON is more
 * lenient than RFC 8259 (other whitespace, "01", "1.", raw control bytes in strings). */
static int not_json(struct reader *r, const char *at, const char *why)
{
    snprintf(r->err, r->errlen, "%s is not valid JSON (byte %zu: %s); give a JSON object such "
             "as {\"topic\":\"travel\"}", r->what, (size_t)(at - r->text), why);
    return MN_EINVAL;
}

static void skip_space(struct reader *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
        r->p++;
}

static void copy(struct reader *r, const char *from, size_t len)
{
    memcpy(r->out + r->n, from, len);
    r->n += len;
}

/* The punctuation c, after any whitespace. */
static int expect(struct reader *r, char c)
{
    skip_space(r);
    if (*r->p != c) {
        char why[16];
        snprintf(why, sizeof why, "'%c' expected", c);
        return not_json(r, r->p, why);
    }
    copy(r, r->p++, 1);
    return MN_OK;
}

static int read_string(struct reader *r, const struct place *at, int is_key)
{
    skip_space(r);
    const char *s = r->p;
    if (*s != '"')
        return not_json(r, s, "a string expected");
    for (const char *q = s + 1;; q++) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            copy(r, s, (size_t)(q + 1 - s));
            r->p = q + 1;
            return MN_OK;
        }
        if (c < 0x20)
            return not_json(r, q, c ? "a control byte in a string; escape it (\\n, \\u0001)"
                                    : "the string has no closing '\"'");
        if (c != '\\')
            continue;
        q++;
        if (*q == 'u' && strncmp(q + 1, "0000", 4) == 0) {
            if (is_key) /* named as written: read, it would stop at the NUL */
                return fail(r, at, "the key \"%.*s...\" holds \\u0000 (NUL), which a C "
                            "string cannot carry; remove it", (int)(q + 5 - s - 1 < 64 ?
                            q + 5 - s - 1 : 64), s + 1);
            return fail(r, at, "the string holds \\u0000 (NUL), which a C string cannot "
                        "carry; remove it");
        }
        if (*q == 'u')
            q += 4; /* cJSON checked the hex digits and the surrogate pairs */
        else if (!*q)
            q--;
    }
}

/* A number as RFC 8259 writes it, whose value cJSON read as d: refused when d is not what
 * the caller wrote in a way that matters (an integer that changes, out of range). */
static int read_number(struct reader *r, const struct place *at, double d)
{
    const char *s = r->p, *q = s;
    int integer = 1, nonzero = 0;
    q += *q == '-';
    if (*q == '0' ? q[1] >= '0' && q[1] <= '9' : *q < '1' || *q > '9')
        return not_json(r, q, "a number starts with one digit 0, or with 1-9");
    for (nonzero = *q++ != '0'; *q >= '0' && *q <= '9'; q++)
        ;
    if (*q == '.') {
        integer = 0;
        if (*++q < '0' || *q > '9')
            return not_json(r, q, "a digit must follow the decimal point");
        for (; *q >= '0' && *q <= '9'; q++)
            nonzero |= *q != '0';
    }
    if (*q == 'e' || *q == 'E') { /* cJSON checked that digits follow */
        integer = 0;
        for (q += 1 + (q[1] == '+' || q[1] == '-'); *q >= '0' && *q <= '9'; q++)
            ;
    }
    int len = (int)(q - s);
    if (isinf(d))
        return fail(r, at, "%.*s is beyond a double's range (it would read as infinity); give "
                    "a smaller number, or a string", len < 40 ? len : 40, s);
    if (d == 0 && nonzero)
        return fail(r, at, "%.*s is too small for a double (it would read as 0); give 0, or a "
                    "string", len < 40 ? len : 40, s);
    /* Integers of up to 15 digits are exact in a double; past that, the digits must survive. */
    char exact[400];
    if (integer && len > 15 &&
        ((size_t)snprintf(exact, sizeof exact, "%.0f", d) != (size_t)len ||
         memcmp(exact, s, (size_t)len) != 0))
        return fail(r, at, "%.*s is an integer a double cannot hold exactly (it would read as "
                    "%.40s); give it as a string (\"%.*s\")", len < 40 ? len : 40, s, exact,
                    len < 40 ? len : 40, s);
    copy(r, s, (size_t)len);
    r->p = q;
    return MN_OK;
}

static int name_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key given twice: JSON readers disagree on which one counts, so neither is kept. */
static int check_unique_keys(struct reader *r, const cJSON *obj, const struct place *at)
{
    size_t n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, obj)
        n++;
    if (n < 2)
        return MN_OK;
    const char **names = malloc(n * sizeof *names);
    if (!names) {
        snprintf(r->err, r->errlen, "out of memory reading %s", r->what);
        return MN_ENOMEM;
    }
    n = 0;
    cJSON_ArrayForEach(c, obj)
        names[n++] = c->string;
    qsort(names, n, sizeof *names, name_order);
    int rc = MN_OK;
    for (size_t i = 1; i < n && rc == MN_OK; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            struct place dup = {at, names[i], 0};
            rc = fail(r, &dup, "the key is given twice; give it once");
        }
    free(names);
    return rc;
}

static int read_value(struct reader *r, const cJSON *v, const struct place *at);

static int read_members(struct reader *r, const cJSON *obj, const struct place *at)
{
    int rc = check_unique_keys(r, obj, at);
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, obj) {
        struct place here = {at, c->string, 0};
        if (rc == MN_OK && i++)
            rc = expect(r, ',');
        if (rc == MN_OK)
            rc = read_string(r, at, 1);
        if (rc == MN_OK)
            rc = expect(r, ':');
        if (rc == MN_OK)
            rc = read_value(r, c, &here);
        if (rc != MN_OK)
            return rc;
    }
    return expect(r, '}');
}

static int read_elements(struct reader *r, const cJSON *arr, const struct place *at)
{
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, arr) {
        struct place here = {at, NULL, i};
        int rc = i++ ? expect(r, ',') : MN_OK;
        if (rc == MN_OK)
            rc = read_value(r, c, &here);
        if (rc != MN_OK)
            return rc;
    }
    return expect(r, ']');
}

static int read_literal(struct reader *r, const char *word)
{
    size_t len = strlen(word);
    if (strncmp(r->p, word, len) != 0)
        return not_json(r, r->p, "a value expected");
    copy(r, r->p, len);
    r->p += len;
    return MN_OK;
}

static int read_value(struct reader *r, const cJSON *v, const struct place *at)
{
    skip_space(r);
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        int rc = expect(r, cJSON_IsObject(v) ? '{' : '[');
        return rc != MN_OK ? rc : cJSON_IsObject(v) ? read_members(r, v, at)
                                                     : read_elements(r, v, at);
    }
    if (cJSON_IsString(v))
        return read_string(r, at, 0);
    if (cJSON_IsNumber(v))
        return read_number(r, at, v->valuedouble);
    return read_literal(r, cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : "null");
}

int mni_json_keep(const char *text, const cJSON *tree, const char *what, char **compact,
                 char *err, size_t errlen)
{
    struct reader r = {text, text, malloc(strlen(text) + 1), 0, what, err, errlen};
    if (!r.out) {
        snprintf(err, errlen, "out of memory reading %s", what);
        return MN_ENOMEM;
    }
    struct place top = {NULL, NULL, 0};
    int rc = read_value(&r, tree, &top);
    skip_space(&r);
    if (rc == MN_OK && *r.p)
        rc = not_json(&r, r.p, "the text goes on after the JSON value");
    if (rc != MN_OK) {
        free(r.out);
        return rc;
    }
    r.out[r.n] = '\0';
    if (compact)
        *compact = r.out;
    else
        free(r.out);
    return MN_OK;
}

/* The end of the value at p in compact JSON (no whitespace between tokens). */
static const char *skip_compact(const char *p)
{
    int depth = 0;
    do {
        if (*p == '"') {
            for (p++; *p != '"'; p++)
                p += *p == '\\';
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            depth--;
        } else if (!depth) {
            while (*p && *p != ',' && *p != '}' && *p != ']')
                p++;
            return p;
        }
        p++;
    } while (depth > 0);
    return p;
}

void mni_json_member_text(const char *compact, size_t index, const char **value, size_t *len)
{
    const char *p = compact + 1; /* past '{' */
    for (size_t i = 0; i < index; i++)
        p = skip_compact(skip_compact(p) + 1) + 1; /* key ':' value ',' */
    *value = skip_compact(p) + 1;
    *len = (size_t)(skip_compact(*value) - *value);
}

/* One member of a compact object: its key as written (quotes included) and its value. */
struct member {
    const char *key, *value;
    size_t key_len, value_len;
    const char *name;          /* the key as cJSON decoded it */
};

/* The members of compact, whose parse is tree, into m (as many as tree has). */
static void members(const char *compact, const cJSON *tree, struct member *m)
{
    const char *p = compact + 1;
    size_t i = 0;
    for (const cJSON *c = tree->child; c; c = c->next, i++) {
        m[i].key = p;
        m[i].key_len = (size_t)(skip_compact(p) - p);
        m[i].value = p + m[i].key_len + 1;
        m[i].value_len = (size_t)(skip_compact(m[i].value) - m[i].value);
        m[i].name = c->string;
        p = m[i].value + m[i].value_len + 1;
    }
}

static void put_member(char **o, const struct member *key, const struct member *value, int first)
{
    if (!first)
        *(*o)++ = ',';
    memcpy(*o, key->key, key->key_len);
    *o += key->key_len;
    *(*o)++ = ':';
    memcpy(*o, value->value, value->value_len);
    *o += value->value_len;
}

char *mni_json_merge(const char *base, const char *over)
{
    cJSON *bt = cJSON_Parse(base), *ot = cJSON_Parse(over);
    int nb = bt ? cJSON_GetArraySize(bt) : 0, no = ot ? cJSON_GetArraySize(ot) : 0;
    struct member *bm = malloc(((size_t)nb + 1) * sizeof *bm);
    struct member *om = malloc(((size_t)no + 1) * sizeof *om);
    char *out = bt && ot && bm && om ? malloc(strlen(base) + strlen(over) + 3) : NULL;
    if (out) {
        members(base, bt, bm);
        members(over, ot, om);
        char *o = out;
        *o++ = '{';
        int first = 1;
        for (int i = 0; i < nb; i++, first = 0) {
            const struct member *v = &bm[i];
            for (int j = 0; j < no; j++)
                if (strcmp(om[j].name, bm[i].name) == 0)
                    v = &om[j];
            put_member(&o, &bm[i], v, first);
        }
        for (int j = 0; j < no; j++) {
            int known = 0;
            for (int i = 0; i < nb && !known; i++)
                known = strcmp(om[j].name, bm[i].name) == 0;
            if (!known) {
                put_member(&o, &om[j], &om[j], first);
                first = 0;
            }
        }
        *o++ = '}';
        *o = '\0';
    }
    cJSON_Delete(bt);
    cJSON_Delete(ot);
    free(bm);
    free(om);
    return out;
}
