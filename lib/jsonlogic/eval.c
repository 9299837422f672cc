/* JSON Logic evaluator: walks a compiled rule against data, the way json-logic-js applies it.
 * Here: the dispatch, var, comparisons, logic, and the entry points; the other operations are
 * in jsonlogic/ops.c. */
#include "jsonlogic/impl.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define SCRATCH_BYTES 2048

/* ---- var ------------------------------------------------------------------------------------- */

static int key_is(const char *s, size_t len, const char *lit, size_t litlen)
{
    return len == litlen && memcmp(s, lit, len) == 0;
}

/* data[key] as JavaScript reads it, for the values JSON can hold. 0 when undefined. */
static int member(jl_ctx *c, const jl_val *v, const char *s, size_t len, uint32_t idx, jl_val *out)
{
    switch (v->t) {
    case JV_JOBJ:
        for (const cJSON *e = v->u.j->child; e; e = e->next) {
            const char *k = e->string;
            if (!k)
                continue;
            size_t i = 0;
            while (i < len && k[i] == s[i]) /* stops at k's NUL too: s holds none */
                i++;
            if (i == len && k[i] == '\0') {
                *out = jl_from_cjson(e);
                return 1;
            }
        }
        return 0;
    case JV_JARR:
        if (idx != JL_NOIDX) {
            const cJSON *e = v->u.j->child;
            for (uint32_t i = 0; e && i < idx; i++)
                e = e->next;
            if (!e)
                return 0;
            *out = jl_from_cjson(e);
            return 1;
        }
        if (key_is(s, len, "length", 6)) {
            *out = jl_num((double)jl_arr_len(v));
            return 1;
        }
        return 0;
    case JV_ARR:
        if (idx != JL_NOIDX) {
            if (idx >= v->len || v->u.a[idx].t == JV_UNDEF)
                return 0;
            *out = v->u.a[idx];
            return 1;
        }
        if (key_is(s, len, "length", 6)) {
            *out = jl_num((double)v->len);
            return 1;
        }
        return 0;
    case JV_FRAME:
        if (key_is(s, len, "current", 7)) {
            *out = v->u.f->current;
            return out->t != JV_UNDEF;
        }
        if (key_is(s, len, "accumulator", 11)) {
            *out = v->u.f->accumulator;
            return out->t != JV_UNDEF;
        }
        return 0;
    case JV_STR:
        if (idx != JL_NOIDX) {
            size_t i = 0, k = 0;
            while (i < v->len && k < idx) {
                i = jl_cp_next(v->u.s, v->len, i);
                k++;
            }
            if (i >= v->len)
                return 0;
            size_t j = jl_cp_next(v->u.s, v->len, i);
            char *p = jl_alloc(c, j - i + 1);
            if (!p)
                return 0;
            memcpy(p, v->u.s + i, j - i);
            p[j - i] = '\0';
            *out = jl_str(p, j - i);
            return 1;
        }
        if (key_is(s, len, "length", 6)) {
            *out = jl_num((double)jl_cp_count(v->u.s, v->len));
            return 1;
        }
        return 0;
    default:
        return 0;
    }
}

/* Follows a dotted path computed at run time. 0 when not found. */
static int walk_path(jl_ctx *c, const jl_val *data, const char *p, size_t len, jl_val *out)
{
    jl_val cur = *data;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && p[i] != '.')
            continue;
        if (cur.t == JV_NULL || cur.t == JV_UNDEF)
            return 0;
        if (!member(c, &cur, p + start, i - start, jl_index_of(p + start, i - start), &cur))
            return 0;
        start = i + 1;
    }
    *out = cur;
    return 1;
}

/* {"var": [name, default]} with name already evaluated; *found says whether it was there. */
jl_val jl_var_value(jl_ctx *c, const jl_val *data, const jl_val *name, int *found)
{
    *found = 1;
    if (name->t == JV_UNDEF || name->t == JV_NULL || (name->t == JV_STR && name->len == 0))
        return *data;
    char nb[JL_NUMBUF];
    size_t len;
    const char *s = jl_to_str(c, name, nb, &len);
    jl_val out;
    if (s && walk_path(c, data, s, len, &out))
        return out;
    *found = 0;
    return jl_null();
}

static jl_val var_static(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_val cur = *data;
    const jl_seg *seg = n->u.path.segs;
    for (uint32_t i = 0; i < n->u.path.n; i++, seg++) {
        if (cur.t == JV_JOBJ) { /* the common case; a static segment is NUL-terminated */
            const cJSON *e = cur.u.j->child;
            while (e && !(e->string && e->string[0] == seg->s[0] && strcmp(e->string, seg->s) == 0))
                e = e->next;
            if (!e)
                goto not_found;
            cur = jl_from_cjson(e);
        } else if (cur.t == JV_NULL || cur.t == JV_UNDEF ||
                   !member(c, &cur, seg->s, seg->len, seg->idx, &cur)) {
            goto not_found;
        }
    }
    return cur;
not_found:
    if (n->nargs) {
        jl_val d = jl_ev(c, n->first, data);
        return d.t == JV_UNDEF ? jl_null() : d;
    }
    return jl_null();
}

static jl_val var_dynamic(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_val name = jl_ev(c, n->first, data);
    int found;
    jl_val v = jl_var_value(c, data, &name, &found);
    if (found || c->err)
        return v;
    if (n->nargs > 1) {
        jl_val d = jl_ev(c, n->first + 1, data);
        return d.t == JV_UNDEF ? jl_null() : d;
    }
    return jl_null();
}

static jl_val op_compare(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_mark m = jl_mark_get(c);
    jl_val a = jl_ev(c, n->first, data), b = jl_ev(c, n->first + 1, data);
    int r;
    int eq_op = n->op == JL_EQ || n->op == JL_SEQ || n->op == JL_NE || n->op == JL_SNE;
    if (eq_op && a.t == b.t && (a.t == JV_STR || a.t == JV_NUM)) {
        /* the common case: two strings or two numbers, where == and === agree */
        r = a.t == JV_NUM ? a.u.n == b.u.n
                          : a.len == b.len && memcmp(a.u.s, b.u.s, a.len) == 0;
        if (n->op == JL_NE || n->op == JL_SNE)
            r = !r;
    } else {
        switch (n->op) {
        case JL_EQ:
            r = jl_loose_eq(c, &a, &b);
            break;
        case JL_NE:
            r = !jl_loose_eq(c, &a, &b);
            break;
        case JL_SEQ:
            r = jl_strict_eq(&a, &b);
            break;
        case JL_SNE:
            r = !jl_strict_eq(&a, &b);
            break;
        case JL_GT:
            r = jl_compare(c, &a, &b) == JL_CMP_GT;
            break;
        case JL_GE: {
            int k = jl_compare(c, &a, &b);
            r = k == JL_CMP_GT || k == JL_CMP_EQ;
            break;
        }
        default: { /* < <=, and the "between" forms */
            int le = n->op == JL_LE;
            int k = jl_compare(c, &a, &b);
            r = k == JL_CMP_LT || (le && k == JL_CMP_EQ);
            if (n->nargs > 2) {
                jl_val x = jl_ev(c, n->first + 2, data);
                if (x.t != JV_UNDEF && r) {
                    k = jl_compare(c, &b, &x);
                    r = k == JL_CMP_LT || (le && k == JL_CMP_EQ);
                }
            }
            break;
        }
        }
    }
    jl_release(c, m);
    return c->err ? jl_undef() : jl_bool(r);
}

/* ---- the evaluator ------------------------------------------------------------------------- */

jl_val jl_ev_op(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    if (++c->steps > c->max_steps) {
        jl_fail(c, MN_ERANGE, "JSON Logic evaluation took more than %llu steps; simplify the "
                "rule or raise the limit", (unsigned long long)c->max_steps);
        return jl_undef();
    }
    if (c->err)
        return jl_undef();
    switch (n->op) {
    case JL_VAR:
        return var_static(c, n, data);
    case JL_VARD:
        return var_dynamic(c, n, data);
    case JL_ARRAY: {
        jl_val *v = jl_eval_args(c, n, data);
        if (!v)
            return jl_undef();
        jl_val r = {JV_ARR, n->nargs, {.a = v}};
        return r;
    }
    case JL_EQ: case JL_SEQ: case JL_NE: case JL_SNE:
    case JL_GT: case JL_GE: case JL_LT: case JL_LE:
        return op_compare(c, n, data);
    case JL_AND:
    case JL_OR: {
        jl_val cur = jl_undef();
        int want = n->op == JL_OR;
        for (uint32_t i = 0; i < n->nargs; i++) {
            jl_mark m = jl_mark_get(c);
            cur = jl_ev(c, n->first + i, data);
            if (jl_truthy(&cur) == want || i + 1 == n->nargs || c->err)
                return cur;
            jl_release(c, m);
        }
        return cur;
    }
    case JL_NOT:
    case JL_NOTNOT: {
        jl_mark m = jl_mark_get(c);
        jl_val v = jl_ev(c, n->first, data);
        int t = jl_truthy(&v);
        jl_release(c, m);
        return jl_bool(n->op == JL_NOT ? !t : t);
    }
    case JL_IF: {
        uint32_t i = 0;
        for (; i + 1 < n->nargs; i += 2) {
            jl_mark m = jl_mark_get(c);
            jl_val cond = jl_ev(c, n->first + i, data);
            int t = jl_truthy(&cond);
            jl_release(c, m);
            if (t)
                return jl_ev(c, n->first + i + 1, data);
        }
        return i < n->nargs ? jl_ev(c, n->first + i, data) : jl_null();
    }
    case JL_IN: {
        jl_mark m = jl_mark_get(c);
        jl_val r = jl_op_in(c, n, data);
        jl_release(c, m);
        return r;
    }
    case JL_ADD: case JL_SUB: case JL_MUL: case JL_DIV: case JL_MOD: case JL_MAX: case JL_MIN:
        return jl_op_arith(c, n, data);
    case JL_MAP: case JL_FILTER: case JL_REDUCE: case JL_ALL: case JL_NONE: case JL_SOME:
        return jl_op_scoped(c, n, data);
    case JL_MISSING:
        return jl_op_missing(c, n, data);
    case JL_MISSING_SOME:
        return jl_op_missing_some(c, n, data);
    case JL_MERGE:
        return jl_op_merge(c, n, data);
    case JL_CAT:
        return jl_op_cat(c, n, data);
    case JL_SUBSTR:
        return jl_op_substr(c, n, data);
    case JL_LOG:
        return jl_ev(c, n->first, data);
    default:
        jl_fail(c, MN_EINVAL, "corrupt JSON Logic rule (operation %d)", n->op);
        return jl_undef();
    }
}

int mni_jl_eval_ex(const mni_jl *r, const cJSON *data, const mni_jl_limits *lim, cJSON **result,
                  int *truthy, char *err, size_t errlen)
{
    if (result)
        *result = NULL;
    if (truthy)
        *truthy = 0;
    if (!r || !r->nodes) {
        if (err && errlen)
            snprintf(err, errlen, "mni_jl_eval: the rule is NULL");
        return MN_EINVAL;
    }
    union {
        max_align_t align;
        char b[SCRATCH_BYTES];
    } scratch;
    jl_arena ar;
    jl_arena_init(&ar, scratch.b, sizeof scratch.b,
                  lim && lim->max_bytes ? lim->max_bytes : MNI_JL_MAX_BYTES);
    jl_ctx c;
    memset(&c, 0, sizeof c);
    c.ar = &ar;
    c.nodes = r->nodes;
    c.msg = err;
    c.msglen = errlen;
    c.max_steps = lim && lim->max_steps ? lim->max_steps : MNI_JL_MAX_STEPS;
    jl_val d = jl_from_cjson(data);
    jl_val v = jl_ev(&c, 0, &d);
    if (c.err == MN_OK) {
        if (truthy)
            *truthy = jl_truthy(&v);
        if (result)
            *result = jl_to_cjson(&c, &v, 0);
    }
    jl_arena_free(&ar);
    return c.err;
}

int mni_jl_eval(const mni_jl *r, const cJSON *data, cJSON **result, char *err, size_t errlen)
{
    if (!result) {
        if (err && errlen)
            snprintf(err, errlen, "mni_jl_eval: result is NULL");
        return MN_EINVAL;
    }
    return mni_jl_eval_ex(r, data, NULL, result, NULL, err, errlen);
}

int mni_jl_test(const mni_jl *r, const cJSON *data, int *truthy, char *err, size_t errlen)
{
    if (!truthy) {
        if (err && errlen)
            snprintf(err, errlen, "mni_jl_test: truthy is NULL");
        return MN_EINVAL;
    }
    return mni_jl_eval_ex(r, data, NULL, NULL, truthy, err, errlen);
}
