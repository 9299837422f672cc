/*
 * Internals shared by the JSON Logic compiler (jsonlogic/compile.c), evaluator (jsonlogic/eval.c,
 * jsonlogic/ops.c) and value model (jsonlogic/value.c, jsonlogic/text.c). Not for use outside
 * lib/policy/jsonlogic*.
 */
#ifndef MNI_POLICY_JSONLOGIC_IMPL_H
#define MNI_POLICY_JSONLOGIC_IMPL_H

#include "manushya.h"
#include "jsonlogic/jsonlogic.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- arena -----------------------------------------------------------------------------------
 * Bump allocation in chunks that never move, so pointers into it stay valid until it is freed.
 * A mark/release pair drops everything allocated after the mark (chunks are kept for reuse): an
 * operation that turns its arguments into a scalar releases what computing them allocated. */
typedef struct jl_chunk {
    struct jl_chunk *next;
    char *base;
    size_t cap;
    int owned; /* malloc'd (freed with the arena), or the caller's buffer */
} jl_chunk;

typedef struct jl_arena {
    jl_chunk *head; /* every chunk, in order of use */
    jl_chunk *cur;  /* the chunk being filled; NULL before the first allocation */
    char *p, *end;  /* free space of cur */
    size_t total;   /* bytes malloc'd */
    size_t limit;   /* most bytes it may malloc */
    jl_chunk inline_chunk;
} jl_arena;

typedef struct jl_mark {
    jl_chunk *cur;
    char *p;
} jl_mark;

/* buf (may be NULL) is used first and never freed. */
void jl_arena_init(jl_arena *a, void *buf, size_t buflen, size_t limit);
void jl_arena_free(jl_arena *a);

/* ---- values --------------------------------------------------------------------------------
 * A JavaScript value as json-logic-js sees it. Strings are always NUL-terminated at s[len].
 * Arrays are either borrowed cJSON arrays (data, literal objects) or jl_val arrays in an arena.
 * Objects are borrowed cJSON objects or reduce frames ({current, accumulator}). */
enum jl_type {
    JV_UNDEF, /* JavaScript's undefined: a missing argument, {"and":[]} */
    JV_NULL,
    JV_BOOL,
    JV_NUM,
    JV_STR,
    JV_ARR,   /* u.a[0..len) */
    JV_JARR,  /* u.j, a cJSON array */
    JV_JOBJ,  /* u.j, a cJSON object */
    JV_FRAME  /* u.f, the data of one reduce step */
};

struct jl_frame;

typedef struct jl_val {
    int t;
    size_t len;
    union {
        int b;
        double n;
        const char *s;
        const struct jl_val *a;
        const cJSON *j;
        const struct jl_frame *f;
    } u;
} jl_val;

typedef struct jl_frame {
    jl_val current, accumulator;
} jl_frame;

struct jl_node;

/* One evaluation (or the compiler, which builds constants with the same functions). */
typedef struct jl_ctx {
    jl_arena *ar;
    const struct jl_node *nodes; /* the rule being evaluated */
    int err;         /* first failure: MN_ENOMEM or MN_ERANGE; MN_OK while all is well */
    char *msg;       /* its message (may be NULL) */
    size_t msglen;
    uint64_t steps, max_steps;
} jl_ctx;

int jl_fail(jl_ctx *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* n bytes (at least 1, 16-aligned) or NULL with c->err set. */
void *jl_alloc(jl_ctx *c, size_t n);

static inline jl_val jl_undef(void) { jl_val v = {JV_UNDEF, 0, {0}}; return v; }
static inline jl_val jl_null(void) { jl_val v = {JV_NULL, 0, {0}}; return v; }
static inline jl_val jl_bool(int b) { jl_val v = {JV_BOOL, 0, {.b = b != 0}}; return v; }
static inline jl_val jl_num(double n) { jl_val v = {JV_NUM, 0, {.n = n}}; return v; }
static inline jl_val jl_str(const char *s, size_t len)
{
    jl_val v = {JV_STR, len, {.s = s}};
    return v;
}
static inline int jl_is_arr(const jl_val *v) { return v->t == JV_ARR || v->t == JV_JARR; }
/* 1 for values that hold no pointer into an evaluation arena (safe across a release). */
static inline int jl_is_flat(const jl_val *v)
{
    return v->t <= JV_NUM || v->t == JV_JARR || v->t == JV_JOBJ;
}

/* Marks the arena; a release drops everything allocated since. */
static inline jl_mark jl_mark_get(const jl_ctx *c)
{
    jl_mark m = {c->ar->cur, c->ar->p};
    return m;
}

static inline void jl_release(jl_ctx *c, jl_mark m)
{
    jl_arena *a = c->ar;
    a->cur = m.cur;
    if (m.cur) {
        a->p = m.p;
        a->end = m.cur->base + m.cur->cap;
    } else {
        a->p = a->end = NULL;
    }
}

static inline jl_val jl_from_cjson(const cJSON *j)
{
    jl_val v = {JV_NULL, 0, {0}};
    if (!j)
        return v;
    switch (j->type & 0xFF) {
    case cJSON_False:
        return jl_bool(0);
    case cJSON_True:
        return jl_bool(1);
    case cJSON_Number:
        return jl_num(j->valuedouble);
    case cJSON_String:
        return j->valuestring ? jl_str(j->valuestring, strlen(j->valuestring)) : jl_str("", 0);
    case cJSON_Array:
        v.t = JV_JARR;
        v.u.j = j;
        return v;
    case cJSON_Object:
        v.t = JV_JOBJ;
        v.u.j = j;
        return v;
    default:
        return v;
    }
}

static inline int jl_truthy(const jl_val *v)
{
    switch (v->t) {
    case JV_BOOL:
        return v->u.b;
    case JV_NUM:
        return v->u.n != 0 && !isnan(v->u.n);
    case JV_STR:
    case JV_ARR:
        return v->len > 0;
    case JV_JARR:
        return v->u.j->child != NULL;
    case JV_JOBJ:
    case JV_FRAME:
        return 1;
    default:
        return 0;
    }
}

/* Array length (0 for non-arrays). */
size_t jl_arr_len(const jl_val *v);

/* Iterates the elements of an array value. */
typedef struct jl_iter {
    const cJSON *j;
    const jl_val *a;
    size_t i, n;
} jl_iter;

static inline void jl_iter_init(jl_iter *it, const jl_val *arr)
{
    memset(it, 0, sizeof *it);
    if (arr->t == JV_ARR) {
        it->a = arr->u.a;
        it->n = arr->len;
    } else if (arr->t == JV_JARR) {
        it->j = arr->u.j->child;
    }
}

static inline int jl_iter_next(jl_iter *it, jl_val *out)
{
    if (it->a) {
        if (it->i >= it->n)
            return 0;
        *out = it->a[it->i++];
        return 1;
    }
    if (!it->j)
        return 0;
    *out = jl_from_cjson(it->j);
    it->j = it->j->next;
    return 1;
}

/* JavaScript conversions. */
#define JL_NUMBUF 32
size_t jl_num_fmt(double x, char buf[JL_NUMBUF]);         /* Number::toString */
double jl_str_to_num(const char *s, size_t len);          /* Number(string) */
double jl_parse_float(const char *s, size_t len);         /* parseFloat(string) */
/* String(v). Uses nb for numbers and the arena for arrays; NULL on failure (c->err set). */
const char *jl_to_str(jl_ctx *c, const jl_val *v, char nb[JL_NUMBUF], size_t *len);
double jl_to_num(jl_ctx *c, const jl_val *v);            /* Number(v) */
double jl_to_float(jl_ctx *c, const jl_val *v);          /* parseFloat(v) */

/* A string being built in the arena (NUL-terminated when taken). */
typedef struct jl_sb {
    char *p;
    size_t len, cap;
} jl_sb;
/* Appends v as Array.prototype.join shows an element: null and undefined as "". */
int jl_sb_join_elem(jl_ctx *c, jl_sb *b, const jl_val *v, int depth);
jl_val jl_sb_take(jl_ctx *c, jl_sb *b);

int jl_loose_eq(jl_ctx *c, const jl_val *a, const jl_val *b);
int jl_strict_eq(const jl_val *a, const jl_val *b);
/* Abstract relational comparison: JL_CMP_LT, _EQ, _GT, or _UNORD (a NaN was involved). */
enum { JL_CMP_LT = -1, JL_CMP_EQ = 0, JL_CMP_GT = 1, JL_CMP_UNORD = 2 };
int jl_compare(jl_ctx *c, const jl_val *a, const jl_val *b);

/* Compares two strings as JavaScript's < does (UTF-16 code units): JL_CMP_LT, _EQ or _GT. */
int jl_str_cmp(const char *a, size_t la, const char *b, size_t lb);

/* UTF-8 helpers: code points are counted the same way everywhere (an invalid byte is one). */
size_t jl_cp_next(const char *s, size_t len, size_t i);
size_t jl_cp_count(const char *s, size_t len);

/* A new cJSON copy of v (NULL with c->err set on failure). */
cJSON *jl_to_cjson(jl_ctx *c, const jl_val *v, int depth);

/* ---- compiled rules ------------------------------------------------------------------------- */
enum jl_op {
    JL_CONST, /* u.k */
    JL_ARRAY, /* an array literal with logic inside: evaluates its elements */
    JL_VAR,   /* a var whose path is known at compile time: u.path; arg 0 (if any) the default */
    JL_VARD,  /* a var whose path is computed: arg 0 the path, arg 1 the default */
    JL_MISSING, JL_MISSING_SOME,
    JL_IF,
    JL_EQ, JL_SEQ, JL_NE, JL_SNE,
    JL_NOT, JL_NOTNOT, JL_OR, JL_AND,
    JL_GT, JL_GE, JL_LT, JL_LE,
    JL_MAX, JL_MIN, JL_ADD, JL_SUB, JL_MUL, JL_DIV, JL_MOD,
    JL_MAP, JL_FILTER, JL_REDUCE, JL_ALL, JL_NONE, JL_SOME,
    JL_MERGE, JL_IN, JL_CAT, JL_SUBSTR, JL_LOG,
    JL_NOPS
};

/* One segment of a var path: a key, and the array index it spells (JL_NOIDX if none). */
#define JL_NOIDX UINT32_MAX
typedef struct jl_seg {
    const char *s;
    size_t len;
    uint32_t idx;
} jl_seg;

/* Nodes live in one array; the arguments of a node are nodes[first .. first + nargs). */
typedef struct jl_node {
    int op;
    uint32_t nargs, first;
    union {
        jl_val k; /* JL_CONST */
        struct {
            const jl_seg *segs;
            uint32_t n; /* 0: the whole data */
        } path;       /* JL_VAR */
    } u;
} jl_node;

struct mni_jl {
    jl_node *nodes; /* nodes[0] is the root */
    uint32_t nnodes;
    jl_arena mem;   /* constant strings and arrays, var paths */
    cJSON *objs;    /* copies of literal objects, kept alive for JV_JOBJ constants */
};

/* Parses a JSON array index the way JavaScript does ("0", "17"; not "01", "-1", "1.0"). */
uint32_t jl_index_of(const char *s, size_t len);

/* ---- evaluation (jsonlogic/eval.c, jsonlogic/ops.c) ------------------------------------------- */
jl_val jl_ev_op(jl_ctx *c, const jl_node *n, const jl_val *data);

/* Evaluates node ni against data; constants (most arguments) without a call. */
static inline jl_val jl_ev(jl_ctx *c, uint32_t ni, const jl_val *data)
{
    const jl_node *n = &c->nodes[ni];
    if (n->op == JL_CONST)
        return n->u.k;
    return jl_ev_op(c, n, data);
}

/* {"var": [name, default]} with name already evaluated; *found says whether it was there. */
jl_val jl_var_value(jl_ctx *c, const jl_val *data, const jl_val *name, int *found);
/* The arguments of n, evaluated into an arena array (NULL on failure). */
jl_val *jl_eval_args(jl_ctx *c, const jl_node *n, const jl_val *data);
/* The operations of jsonlogic/ops.c. */
jl_val jl_op_missing(jl_ctx *c, const jl_node *n, const jl_val *data);
jl_val jl_op_missing_some(jl_ctx *c, const jl_node *n, const jl_val *data);
jl_val jl_op_in(jl_ctx *c, const jl_node *n, const jl_val *data);
jl_val jl_op_cat(jl_ctx *c, const jl_node *n, const jl_val *data);
jl_val jl_op_substr(jl_ctx *c, const jl_node *n, const jl_val *data);
jl_val jl_op_merge(jl_ctx *c, const jl_node *n, const jl_val *data);
jl_val jl_op_scoped(jl_ctx *c, const jl_node *n, const jl_val *data); /* map filter reduce all none some */
jl_val jl_op_arith(jl_ctx *c, const jl_node *n, const jl_val *data);  /* + - * / % max min */

#endif
