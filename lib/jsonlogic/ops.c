/* JSON Logic operations that build values or loop: missing, missing_some, in, cat, substr,
 * merge, map/filter/reduce/all/none/some, arithmetic. Called by the evaluator
 * (jsonlogic/eval.c); each follows json-logic-js. */
#include "jsonlogic/impl.h"

#include <math.h>
#include <string.h>

/* ---- missing ------------------------------------------------------------------------------- */

/* The keys of keys (an array value) whose value in data is missing, null or "". */
static jl_val missing_keys(jl_ctx *c, const jl_val *keys, const jl_val *data)
{
    size_t n = jl_arr_len(keys), k = 0;
    jl_val *out = jl_alloc(c, n * sizeof *out);
    if (!out)
        return jl_undef();
    jl_iter it;
    jl_val key;
    jl_iter_init(&it, keys);
    while (jl_iter_next(&it, &key) && !c->err) {
        jl_val v;
        int found;
        if (jl_is_arr(&key)) { /* {"var": [name, default]} */
            jl_iter kt;
            jl_val name = jl_undef(), dflt = jl_undef();
            jl_iter_init(&kt, &key);
            if (jl_iter_next(&kt, &name))
                jl_iter_next(&kt, &dflt);
            v = jl_var_value(c, data, &name, &found);
            if (!found)
                v = dflt.t == JV_UNDEF ? jl_null() : dflt;
        } else {
            v = jl_var_value(c, data, &key, &found);
        }
        if (v.t == JV_NULL || (v.t == JV_STR && v.len == 0))
            out[k++] = key;
    }
    jl_val r = {JV_ARR, k, {.a = out}};
    return r;
}

/* ---- helpers ------------------------------------------------------------------------------- */

/* Evaluates the arguments of n into an arena array. */
jl_val *jl_eval_args(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_val *v = jl_alloc(c, (size_t)n->nargs * sizeof *v);
    if (!v)
        return NULL;
    for (uint32_t i = 0; i < n->nargs; i++)
        v[i] = jl_ev(c, n->first + i, data);
    return v;
}

/* ToIntegerOrInfinity */
static double to_integer(double x)
{
    return isnan(x) ? 0 : trunc(x);
}

/* String.prototype.substr(start, length) over n code points: [*from, *to). */
static void substr_range(size_t n, double start, int has_len, double length, size_t *from,
                         size_t *to)
{
    double N = (double)n, s = to_integer(start), l;
    if (s < 0)
        s = N + s < 0 ? 0 : N + s;
    else if (s > N)
        s = N;
    l = has_len ? to_integer(length) : N;
    if (l < 0)
        l = 0;
    if (l > N)
        l = N;
    double e = s + l < N ? s + l : N;
    *from = (size_t)s;
    *to = (size_t)(e > s ? e : s);
}

jl_val jl_op_substr(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_val src = jl_ev(c, n->first, data), start = jl_ev(c, n->first + 1, data);
    jl_val end = n->nargs > 2 ? jl_ev(c, n->first + 2, data) : jl_undef();
    if (c->err)
        return jl_undef();
    char nb[JL_NUMBUF];
    size_t len;
    const char *s = jl_to_str(c, &src, nb, &len);
    if (!s)
        return jl_undef();
    size_t cps = jl_cp_count(s, len), from, to;
    jl_val zero = jl_num(0);
    if (end.t != JV_UNDEF && jl_compare(c, &end, &zero) == JL_CMP_LT) {
        /* json-logic-js: temp = substr(start); temp.substr(0, temp.length + end) */
        if (end.t != JV_NUM) /* a string (or array) end: temp.length + end concatenates: NaN */
            return jl_str("", 0);
        size_t f0, t0;
        substr_range(cps, jl_to_num(c, &start), 0, 0, &f0, &t0);
        size_t tl = t0 - f0, f1, t1;
        substr_range(tl, 0, 1, (double)tl + end.u.n, &f1, &t1);
        from = f0 + f1;
        to = f0 + t1;
    } else {
        substr_range(cps, jl_to_num(c, &start), end.t != JV_UNDEF, jl_to_num(c, &end), &from,
                     &to);
    }
    if (from == 0 && to == cps && src.t == JV_STR)
        return src;
    size_t bf = 0, k = 0;
    while (k < from) {
        bf = jl_cp_next(s, len, bf);
        k++;
    }
    size_t bt = bf;
    while (k < to) {
        bt = jl_cp_next(s, len, bt);
        k++;
    }
    char *p = jl_alloc(c, bt - bf + 1);
    if (!p)
        return jl_undef();
    memcpy(p, s + bf, bt - bf);
    p[bt - bf] = '\0';
    return jl_str(p, bt - bf);
}

jl_val jl_op_in(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_val a = jl_ev(c, n->first, data), b = jl_ev(c, n->first + 1, data);
    if (c->err)
        return jl_undef();
    if (b.t == JV_STR) {
        if (b.len == 0) /* !b: an empty string has no indexOf in json-logic-js */
            return jl_bool(0);
        char nb[JL_NUMBUF];
        size_t len;
        const char *s = jl_to_str(c, &a, nb, &len);
        if (!s)
            return jl_undef();
        return jl_bool(len == 0 || memmem(b.u.s, b.len, s, len) != NULL);
    }
    if (b.t == JV_ARR && a.t == JV_STR) { /* a string in a literal list */
        for (size_t i = 0; i < b.len; i++) {
            const jl_val *e = &b.u.a[i];
            if (e->t == JV_STR && e->len == a.len && memcmp(e->u.s, a.u.s, a.len) == 0)
                return jl_bool(1);
        }
        return jl_bool(0);
    }
    if (jl_is_arr(&b)) {
        jl_iter it;
        jl_val e;
        jl_iter_init(&it, &b);
        while (jl_iter_next(&it, &e))
            if (jl_strict_eq(&a, &e))
                return jl_bool(1);
    }
    return jl_bool(0);
}

jl_val jl_op_merge(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_val *v = jl_eval_args(c, n, data);
    if (!v || c->err)
        return jl_undef();
    size_t total = 0;
    for (uint32_t i = 0; i < n->nargs; i++)
        total += jl_is_arr(&v[i]) ? jl_arr_len(&v[i]) : 1;
    jl_val *out = jl_alloc(c, total * sizeof *out);
    if (!out)
        return jl_undef();
    size_t k = 0;
    for (uint32_t i = 0; i < n->nargs; i++) {
        if (jl_is_arr(&v[i])) {
            jl_iter it;
            jl_iter_init(&it, &v[i]);
            while (jl_iter_next(&it, &out[k]))
                k++;
        } else {
            out[k++] = v[i];
        }
    }
    jl_val r = {JV_ARR, k, {.a = out}};
    return r;
}

jl_val jl_op_cat(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_sb b = {0};
    for (uint32_t i = 0; i < n->nargs && !c->err; i++) {
        jl_val v = jl_ev(c, n->first + i, data);
        if (!c->err)
            jl_sb_join_elem(c, &b, &v, 0);
    }
    return c->err ? jl_undef() : jl_sb_take(c, &b);
}

jl_val jl_op_missing_some(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_val need = jl_ev(c, n->first, data), opts = jl_ev(c, n->first + 1, data);
    if (c->err)
        return jl_undef();
    /* json-logic-js: apply({"missing": options}): an array of options is the argument list,
     * whose first element, when an array, is the list of keys */
    jl_val keys = opts, one = opts;
    if (jl_is_arr(&opts)) {
        jl_iter it;
        jl_val first;
        jl_iter_init(&it, &opts);
        if (jl_iter_next(&it, &first) && jl_is_arr(&first))
            keys = first;
    } else {
        keys.t = JV_ARR;
        keys.len = 1;
        keys.u.a = &one;
    }
    jl_val miss = missing_keys(c, &keys, data);
    if (c->err)
        return jl_undef();
    double have = jl_is_arr(&opts) ? (double)jl_arr_len(&opts)
                : opts.t == JV_STR ? (double)jl_cp_count(opts.u.s, opts.len) : NAN;
    jl_val present = jl_num(have - (double)miss.len);
    int cmp = jl_compare(c, &present, &need);
    if (cmp == JL_CMP_GT || cmp == JL_CMP_EQ) {
        jl_val empty = {JV_ARR, 0, {.a = miss.u.a}};
        return empty;
    }
    return miss;
}

/* map, filter, all, none, some, reduce */
jl_val jl_op_scoped(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_val arr = jl_ev(c, n->first, data);
    uint32_t logic = n->first + 1;
    if (c->err)
        return jl_undef();
    int is_arr = jl_is_arr(&arr);
    size_t len = is_arr ? jl_arr_len(&arr) : 0;
    jl_iter it;
    jl_val e;
    jl_iter_init(&it, &arr);
    switch (n->op) {
    case JL_MAP:
    case JL_FILTER: {
        jl_val *out = jl_alloc(c, len * sizeof *out);
        size_t k = 0;
        if (!out)
            return jl_undef();
        while (jl_iter_next(&it, &e) && !c->err) {
            jl_mark m = jl_mark_get(c);
            jl_val r = jl_ev(c, logic, &e);
            if (n->op == JL_MAP) {
                if (jl_is_flat(&r))
                    jl_release(c, m);
                out[k++] = r;
            } else {
                int t = jl_truthy(&r);
                jl_release(c, m);
                if (t)
                    out[k++] = e;
            }
        }
        jl_val r = {JV_ARR, k, {.a = out}};
        return r;
    }
    case JL_ALL:
    case JL_NONE:
    case JL_SOME: {
        if (len == 0)
            return jl_bool(n->op == JL_NONE);
        int want = n->op == JL_ALL ? 0 : 1; /* the truthiness that decides early */
        while (jl_iter_next(&it, &e) && !c->err) {
            jl_mark m = jl_mark_get(c);
            jl_val r = jl_ev(c, logic, &e);
            int t = jl_truthy(&r);
            jl_release(c, m);
            if (t == want)
                return jl_bool(n->op == JL_SOME);
        }
        return jl_bool(n->op != JL_SOME);
    }
    default: { /* JL_REDUCE */
        jl_val acc = n->nargs > 2 ? jl_ev(c, n->first + 2, data) : jl_undef();
        if (acc.t == JV_UNDEF)
            acc = jl_null();
        while (is_arr && jl_iter_next(&it, &e) && !c->err) {
            jl_mark m = jl_mark_get(c);
            jl_frame *f = jl_alloc(c, sizeof *f);
            if (!f)
                return jl_undef();
            f->current = e;
            f->accumulator = acc;
            jl_val fv = {JV_FRAME, 0, {.f = f}};
            acc = jl_ev(c, logic, &fv);
            if (jl_is_flat(&acc))
                jl_release(c, m);
        }
        return acc;
    }
    }
}

jl_val jl_op_arith(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_mark m = jl_mark_get(c);
    double r;
    switch (n->op) {
    case JL_ADD:
        r = 0;
        for (uint32_t i = 0; i < n->nargs; i++) {
            jl_val v = jl_ev(c, n->first + i, data);
            r = r + jl_to_float(c, &v);
        }
        break;
    case JL_MUL: {
        if (n->nargs == 1) /* [x].reduce(f) without an initial value is x itself */
            return jl_ev(c, n->first, data);
        jl_val v = jl_ev(c, n->first, data);
        r = jl_to_float(c, &v);
        for (uint32_t i = 1; i < n->nargs; i++) {
            v = jl_ev(c, n->first + i, data);
            r = (r == 0 ? 0.0 : r) * jl_to_float(c, &v);
        }
        break;
    }
    case JL_MAX:
    case JL_MIN: {
        int mx = n->op == JL_MAX;
        r = mx ? -INFINITY : INFINITY;
        for (uint32_t i = 0; i < n->nargs; i++) {
            jl_val v = jl_ev(c, n->first + i, data);
            double x = jl_to_num(c, &v);
            if (isnan(x) || isnan(r))
                r = NAN;
            else if (mx ? (x > r || (x == 0 && r == 0 && !signbit(x)))
                        : (x < r || (x == 0 && r == 0 && signbit(x))))
                r = x;
        }
        break;
    }
    default: { /* - / % */
        jl_val a = jl_ev(c, n->first, data);
        jl_val b = n->nargs > 1 ? jl_ev(c, n->first + 1, data) : jl_undef();
        double x = jl_to_num(c, &a);
        if (b.t == JV_UNDEF && n->op == JL_SUB) {
            r = -x;
        } else {
            double y = jl_to_num(c, &b);
            r = n->op == JL_SUB ? x - y : n->op == JL_DIV ? x / y : fmod(x, y);
        }
        break;
    }
    }
    jl_release(c, m);
    return c->err ? jl_undef() : jl_num(r);
}

jl_val jl_op_missing(jl_ctx *c, const jl_node *n, const jl_val *data)
{
    jl_val *v = jl_eval_args(c, n, data);
    if (!v || c->err)
        return jl_undef();
    /* many keys as arguments, or one argument that is the list of keys */
    jl_val keys = {JV_ARR, n->nargs, {.a = v}};
    if (n->nargs > 0 && jl_is_arr(&v[0]))
        keys = v[0];
    return missing_keys(c, &keys, data);
}
