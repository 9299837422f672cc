/* JSON Logic values: the arena, and JavaScript's conversions between values, equality and
 * comparison as json-logic-js relies on them (ECMA-262 ToString, ToNumber, ==, ===, <). Number
 * and text primitives are in jsonlogic/text.c. */
#include "jsonlogic/impl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== arena =================================================================================== */

#define JL_ALIGN 16
#define JL_CHUNK_MIN 8192
#define JL_CHUNK_MAX (4u << 20)

void jl_arena_init(jl_arena *a, void *buf, size_t buflen, size_t limit)
{
    a->head = a->cur = NULL;
    a->p = a->end = NULL;
    a->total = 0;
    a->limit = limit;
    a->inline_chunk.next = NULL;
    if (buf && buflen >= 2 * JL_ALIGN) {
        uintptr_t b = ((uintptr_t)buf + JL_ALIGN - 1) & ~(uintptr_t)(JL_ALIGN - 1);
        size_t cap = (buflen - (size_t)(b - (uintptr_t)buf)) & ~(size_t)(JL_ALIGN - 1);
        a->inline_chunk.base = (char *)b;
        a->inline_chunk.cap = cap;
        a->inline_chunk.owned = 0;
        a->head = a->cur = &a->inline_chunk;
        a->p = a->inline_chunk.base;
        a->end = a->p + cap;
    }
}

void jl_arena_free(jl_arena *a)
{
    if (a->total == 0) /* nothing was malloc'd: the caller's buffer was enough */
        return;
    jl_chunk *k = a->head;
    while (k) {
        jl_chunk *next = k->next;
        if (k->owned)
            free(k);
        k = next;
    }
    a->head = a->cur = NULL;
    a->p = a->end = NULL;
    a->total = 0;
}

int jl_fail(jl_ctx *c, int rc, const char *fmt, ...)
{
    if (c->err == MN_OK) {
        c->err = rc;
        if (c->msg && c->msglen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->msg, c->msglen, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

static void *alloc_slow(jl_ctx *c, size_t n)
{
    jl_arena *a = c->ar;
    jl_chunk *next = a->cur ? a->cur->next : a->head;
    if (!next || next->cap < n) {
        size_t cap = a->total < JL_CHUNK_MIN ? JL_CHUNK_MIN : a->total;
        if (cap > JL_CHUNK_MAX)
            cap = JL_CHUNK_MAX;
        if (cap < n)
            cap = n;
        if (a->total > a->limit || cap > a->limit - a->total) {
            cap = n;
            if (a->total > a->limit || cap > a->limit - a->total) {
                jl_fail(c, MN_ERANGE, "JSON Logic evaluation needs more than %zu bytes of memory; "
                        "simplify the rule or raise the limit", a->limit);
                return NULL;
            }
        }
        if (cap > SIZE_MAX - sizeof(jl_chunk) - JL_ALIGN) {
            jl_fail(c, MN_ENOMEM, "out of memory evaluating JSON Logic");
            return NULL;
        }
        jl_chunk *k = malloc(sizeof(jl_chunk) + cap + JL_ALIGN);
        if (!k) {
            jl_fail(c, MN_ENOMEM, "out of memory evaluating JSON Logic");
            return NULL;
        }
        uintptr_t b = ((uintptr_t)(k + 1) + JL_ALIGN - 1) & ~(uintptr_t)(JL_ALIGN - 1);
        k->base = (char *)b;
        k->cap = cap;
        k->owned = 1;
        if (a->cur) {
            k->next = a->cur->next;
            a->cur->next = k;
        } else {
            k->next = a->head;
            a->head = k;
        }
        a->total += cap;
        next = k;
    }
    a->cur = next;
    a->p = next->base + n;
    a->end = next->base + next->cap;
    return next->base;
}

void *jl_alloc(jl_ctx *c, size_t n)
{
    if (n > SIZE_MAX / 2) {
        jl_fail(c, MN_ERANGE, "JSON Logic evaluation needs more than %zu bytes of memory; "
                "simplify the rule or raise the limit", c->ar->limit);
        return NULL;
    }
    n = n ? (n + JL_ALIGN - 1) & ~(size_t)(JL_ALIGN - 1) : JL_ALIGN;
    jl_arena *a = c->ar;
    if (a->cur && (size_t)(a->end - a->p) >= n) {
        void *r = a->p;
        a->p += n;
        return r;
    }
    return alloc_slow(c, n);
}

/* ==== values ================================================================================== */

size_t jl_arr_len(const jl_val *v)
{
    if (v->t == JV_ARR)
        return v->len;
    if (v->t != JV_JARR)
        return 0;
    size_t n = 0;
    for (const cJSON *e = v->u.j->child; e; e = e->next)
        n++;
    return n;
}

/* ==== strings ================================================================================= */

static int jl_sb_put(jl_ctx *c, jl_sb *b, const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (n > SIZE_MAX / 4 || b->len + n + 1 > b->cap) {
        if (n > SIZE_MAX / 4) {
            jl_fail(c, MN_ERANGE, "JSON Logic string too long");
            return -1;
        }
        size_t need = b->len + n + 1;
        jl_arena *a = c->ar;
        size_t extra = (need - b->cap + JL_ALIGN - 1) & ~(size_t)(JL_ALIGN - 1);
        if (b->p && b->p + b->cap == a->p && (size_t)(a->end - a->p) >= extra) {
            a->p += extra; /* the buffer is the arena's last allocation: grow it in place */
            b->cap += extra;
        } else {
            size_t cap = b->cap * 2 > need ? b->cap * 2 : need;
            if (cap < 64)
                cap = 64;
            cap = (cap + JL_ALIGN - 1) & ~(size_t)(JL_ALIGN - 1);
            char *np = jl_alloc(c, cap);
            if (!np)
                return -1;
            if (b->len)
                memcpy(np, b->p, b->len);
            b->p = np;
            b->cap = cap;
        }
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

jl_val jl_sb_take(jl_ctx *c, jl_sb *b)
{
    (void)c;
    if (!b->p)
        return jl_str("", 0);
    b->p[b->len] = '\0';
    return jl_str(b->p, b->len);
}

static int join_array(jl_ctx *c, jl_sb *b, const jl_val *arr, int depth);

int jl_sb_join_elem(jl_ctx *c, jl_sb *b, const jl_val *v, int depth)
{
    if (v->t == JV_UNDEF || v->t == JV_NULL)
        return 0;
    if (jl_is_arr(v))
        return join_array(c, b, v, depth + 1);
    char nb[JL_NUMBUF];
    size_t n;
    const char *s = jl_to_str(c, v, nb, &n);
    return s ? jl_sb_put(c, b, s, n) : -1;
}

static int join_array(jl_ctx *c, jl_sb *b, const jl_val *arr, int depth)
{
    if (depth > MNI_JL_MAX_VALUE_DEPTH) {
        jl_fail(c, MN_ERANGE, "JSON Logic value nested deeper than %d levels",
                MNI_JL_MAX_VALUE_DEPTH);
        return -1;
    }
    jl_iter it;
    jl_val e;
    int first = 1;
    jl_iter_init(&it, arr);
    while (jl_iter_next(&it, &e)) {
        if (!first && jl_sb_put(c, b, ",", 1))
            return -1;
        first = 0;
        if (jl_sb_join_elem(c, b, &e, depth))
            return -1;
    }
    return 0;
}

const char *jl_to_str(jl_ctx *c, const jl_val *v, char nb[JL_NUMBUF], size_t *len)
{
    switch (v->t) {
    case JV_UNDEF:
        *len = 9;
        return "undefined";
    case JV_NULL:
        *len = 4;
        return "null";
    case JV_BOOL:
        *len = v->u.b ? 4 : 5;
        return v->u.b ? "true" : "false";
    case JV_NUM:
        *len = jl_num_fmt(v->u.n, nb);
        return nb;
    case JV_STR:
        *len = v->len;
        return v->u.s;
    case JV_ARR:
    case JV_JARR: {
        jl_sb b = {0};
        if (join_array(c, &b, v, 1))
            return NULL;
        jl_val s = jl_sb_take(c, &b);
        *len = s.len;
        return s.u.s;
    }
    default:
        *len = 15;
        return "[object Object]";
    }
}

/* ToPrimitive: arrays and objects become their strings (arena); others are themselves. */
static int to_prim(jl_ctx *c, const jl_val *v, jl_val *out)
{
    if (v->t < JV_ARR) {
        *out = *v;
        return 0;
    }
    size_t n;
    const char *s = jl_to_str(c, v, NULL, &n);
    if (!s)
        return -1;
    *out = jl_str(s, n);
    return 0;
}

double jl_to_num(jl_ctx *c, const jl_val *v)
{
    switch (v->t) {
    case JV_NULL:
        return 0;
    case JV_BOOL:
        return v->u.b;
    case JV_NUM:
        return v->u.n;
    case JV_STR:
        return jl_str_to_num(v->u.s, v->len);
    case JV_ARR:
    case JV_JARR: {
        jl_val p;
        return to_prim(c, v, &p) ? NAN : jl_str_to_num(p.u.s, p.len);
    }
    default:
        return NAN;
    }
}

double jl_to_float(jl_ctx *c, const jl_val *v)
{
    switch (v->t) {
    case JV_NUM:
        return v->u.n == 0 ? 0.0 : v->u.n; /* parseFloat(String(-0)) is 0 */
    case JV_STR:
        return jl_parse_float(v->u.s, v->len);
    case JV_ARR:
    case JV_JARR: {
        jl_val p;
        return to_prim(c, v, &p) ? NAN : jl_parse_float(p.u.s, p.len);
    }
    default:
        return NAN; /* "undefined", "null", "true", "[object Object]" */
    }
}

/* ==== equality and order ======================================================================= */

static int same_ref(const jl_val *a, const jl_val *b)
{
    if (a->t != b->t)
        return 0;
    switch (a->t) {
    case JV_ARR:
        return a->u.a == b->u.a && a->len == b->len;
    case JV_JARR:
    case JV_JOBJ:
        return a->u.j == b->u.j;
    case JV_FRAME:
        return a->u.f == b->u.f;
    default:
        return 0;
    }
}

static int is_object(int t)
{
    return t >= JV_ARR;
}

int jl_strict_eq(const jl_val *a, const jl_val *b)
{
    if (is_object(a->t) || is_object(b->t))
        return same_ref(a, b);
    if (a->t != b->t)
        return 0;
    switch (a->t) {
    case JV_UNDEF:
    case JV_NULL:
        return 1;
    case JV_BOOL:
        return a->u.b == b->u.b;
    case JV_NUM:
        return a->u.n == b->u.n;
    case JV_STR:
        return a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0;
    default:
        return 0;
    }
}

int jl_loose_eq(jl_ctx *c, const jl_val *a0, const jl_val *b0)
{
    jl_val a = *a0, b = *b0;
    for (int round = 0; round < 4; round++) {
        int oa = is_object(a.t), ob = is_object(b.t);
        if (oa && ob)
            return same_ref(&a, &b);
        if (!oa && !ob && a.t == b.t)
            return jl_strict_eq(&a, &b);
        int na = a.t == JV_UNDEF || a.t == JV_NULL, nb = b.t == JV_UNDEF || b.t == JV_NULL;
        if (na || nb)
            return na && nb;
        if (a.t == JV_NUM && b.t == JV_STR)
            return a.u.n == jl_str_to_num(b.u.s, b.len);
        if (a.t == JV_STR && b.t == JV_NUM)
            return jl_str_to_num(a.u.s, a.len) == b.u.n;
        if (a.t == JV_BOOL) {
            a = jl_num(a.u.b);
            continue;
        }
        if (b.t == JV_BOOL) {
            b = jl_num(b.u.b);
            continue;
        }
        /* one object, one number or string: compare the object's primitive */
        if (oa && to_prim(c, &a, &a))
            return 0;
        if (ob && to_prim(c, &b, &b))
            return 0;
    }
    return 0;
}

int jl_compare(jl_ctx *c, const jl_val *a, const jl_val *b)
{
    double x, y;
    if (a->t == JV_NUM && b->t == JV_NUM) {
        x = a->u.n;
        y = b->u.n;
    } else {
        jl_val pa, pb;
        if (to_prim(c, a, &pa) || to_prim(c, b, &pb))
            return JL_CMP_UNORD;
        if (pa.t == JV_STR && pb.t == JV_STR)
            return jl_str_cmp(pa.u.s, pa.len, pb.u.s, pb.len);
        x = jl_to_num(c, &pa);
        y = jl_to_num(c, &pb);
    }
    if (isnan(x) || isnan(y))
        return JL_CMP_UNORD;
    return x < y ? JL_CMP_LT : x > y ? JL_CMP_GT : JL_CMP_EQ;
}

/* ==== to cJSON ================================================================================= */

cJSON *jl_to_cjson(jl_ctx *c, const jl_val *v, int depth)
{
    cJSON *r = NULL;
    if (depth > MNI_JL_MAX_VALUE_DEPTH) {
        jl_fail(c, MN_ERANGE, "JSON Logic result nested deeper than %d levels",
                MNI_JL_MAX_VALUE_DEPTH);
        return NULL;
    }
    switch (v->t) {
    case JV_BOOL:
        r = cJSON_CreateBool(v->u.b);
        break;
    case JV_NUM:
        r = cJSON_CreateNumber(v->u.n == 0 ? 0.0 : v->u.n);
        break;
    case JV_STR:
        r = cJSON_CreateString(v->u.s);
        break;
    case JV_JARR:
    case JV_JOBJ:
        r = cJSON_Duplicate(v->u.j, 1);
        if (r && r->string) { /* a member of the data: the copy stands alone */
            if (!(r->type & cJSON_StringIsConst))
                cJSON_free(r->string);
            r->string = NULL;
            r->type &= ~cJSON_StringIsConst;
        }
        break;
    case JV_ARR:
        r = cJSON_CreateArray();
        for (size_t i = 0; r && i < v->len; i++) {
            cJSON *e = jl_to_cjson(c, &v->u.a[i], depth + 1);
            if (!e || !cJSON_AddItemToArray(r, e)) {
                cJSON_Delete(e);
                cJSON_Delete(r);
                return c->err ? NULL : (jl_fail(c, MN_ENOMEM, "out of memory"), NULL);
            }
        }
        break;
    case JV_FRAME: {
        static const char *const keys[2] = {"current", "accumulator"};
        const jl_val *vals[2] = {&v->u.f->current, &v->u.f->accumulator};
        r = cJSON_CreateObject();
        for (int i = 0; r && i < 2; i++) {
            cJSON *e = jl_to_cjson(c, vals[i], depth + 1);
            if (!e || !cJSON_AddItemToObject(r, keys[i], e)) {
                cJSON_Delete(e);
                cJSON_Delete(r);
                return c->err ? NULL : (jl_fail(c, MN_ENOMEM, "out of memory"), NULL);
            }
        }
        break;
    }
    default:
        r = cJSON_CreateNull();
        break;
    }
    if (!r)
        jl_fail(c, MN_ENOMEM, "out of memory building the JSON Logic result");
    return r;
}
