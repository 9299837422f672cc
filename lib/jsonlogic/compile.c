/* JSON Logic compiler: cJSON rule -> array of nodes, with operators resolved, argument counts
 * checked, var paths split and constants built once. */
#include "jsonlogic/impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JL_MAX_NODES (1u << 24)
#define JL_PATH_MAX 384

static const struct jl_opdef {
    const char *name;
    int op;
    int min, max; /* argument counts; max -1: any */
} opdefs[] = {
    {"var", JL_VARD, 0, 2},      {"missing", JL_MISSING, 0, -1}, {"missing_some", JL_MISSING_SOME, 2, 2},
    {"if", JL_IF, 0, -1},        {"?:", JL_IF, 0, -1},           {"==", JL_EQ, 2, 2},
    {"===", JL_SEQ, 2, 2},       {"!=", JL_NE, 2, 2},            {"!==", JL_SNE, 2, 2},
    {"!", JL_NOT, 1, 1},         {"!!", JL_NOTNOT, 1, 1},        {"or", JL_OR, 0, -1},
    {"and", JL_AND, 0, -1},      {">", JL_GT, 2, 2},             {">=", JL_GE, 2, 2},
    {"<", JL_LT, 2, 3},          {"<=", JL_LE, 2, 3},            {"max", JL_MAX, 0, -1},
    {"min", JL_MIN, 0, -1},      {"+", JL_ADD, 0, -1},           {"-", JL_SUB, 1, 2},
    {"*", JL_MUL, 1, -1},        {"/", JL_DIV, 2, 2},            {"%", JL_MOD, 2, 2},
    {"map", JL_MAP, 2, 2},       {"filter", JL_FILTER, 2, 2},    {"reduce", JL_REDUCE, 2, 3},
    {"all", JL_ALL, 2, 2},       {"none", JL_NONE, 2, 2},        {"some", JL_SOME, 2, 2},
    {"merge", JL_MERGE, 0, -1},  {"in", JL_IN, 2, 2},            {"cat", JL_CAT, 0, -1},
    {"substr", JL_SUBSTR, 2, 3}, {"log", JL_LOG, 1, 1},
};

typedef struct jl_comp {
    mni_jl *r;
    uint32_t cap;
    jl_ctx cx; /* builds constants in r->mem */
    char path[JL_PATH_MAX];
    size_t plen;
    int ptrunc;
    char *err;
    size_t errlen;
    int rc;
    unsigned flags; /* MNI_JL_* */
} jl_comp;

/* ---- errors with the JSON path of the node -------------------------------------------------- */

typedef struct path_save {
    size_t plen;
    int ptrunc;
} path_save;

static path_save path_get(const jl_comp *k)
{
    path_save s = {k->plen, k->ptrunc};
    return s;
}

static void path_set(jl_comp *k, path_save s)
{
    k->plen = s.plen;
    k->ptrunc = s.ptrunc;
    k->path[k->plen] = '\0';
}

static void path_add(jl_comp *k, const char *s, size_t n)
{
    if (k->ptrunc)
        return;
    if (k->plen + n >= sizeof k->path - 4) {
        k->ptrunc = 1;
        return;
    }
    memcpy(k->path + k->plen, s, n);
    k->plen += n;
    k->path[k->plen] = '\0';
}

static void path_index(jl_comp *k, size_t i)
{
    char b[32];
    int n = snprintf(b, sizeof b, "[%zu]", i);
    path_add(k, b, (size_t)n);
}

/* .key for plain keys (operators included: $.and[1].==), ["key"] for the others. Long keys are
 * cut at 40 bytes. */
static void path_key(jl_comp *k, const char *key)
{
    char b[64];
    size_t n = 0, len = strlen(key);
    int plain = len > 0;
    for (size_t i = 0; i < len && plain; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (ch <= ' ' || ch >= 0x7F || ch == '.' || ch == '[' || ch == ']' || ch == '"' ||
            ch == '\\')
            plain = 0;
    }
    b[n++] = plain ? '.' : '[';
    if (!plain)
        b[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (n > 44) {
            memcpy(b + n, "...", 3);
            n += 3;
            break;
        }
        if (ch == '"' || ch == '\\') {
            b[n++] = '\\';
            b[n++] = (char)ch;
        } else if (ch < ' ' || ch == 0x7F) {
            n += (size_t)snprintf(b + n, sizeof b - n, "\\u%04x", ch);
        } else {
            b[n++] = (char)ch;
        }
    }
    if (!plain) {
        b[n++] = '"';
        b[n++] = ']';
    }
    path_add(k, b, n);
}

static int cerr(jl_comp *k, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cerr(jl_comp *k, int rc, const char *fmt, ...)
{
    if (k->rc != MN_OK)
        return k->rc;
    k->rc = rc;
    if (k->err && k->errlen) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(k->err, k->errlen, "%s%s: %s", k->path, k->ptrunc ? "..." : "", msg);
    }
    return rc;
}

static int oom(jl_comp *k)
{
    return cerr(k, MN_ENOMEM, "out of memory compiling the rule");
}

/* ---- nodes and constants -------------------------------------------------------------------- */

/* n consecutive new nodes; returns the first index, or UINT32_MAX on failure. */
static uint32_t new_nodes(jl_comp *k, uint32_t n)
{
    mni_jl *r = k->r;
    if (n > JL_MAX_NODES - r->nnodes) {
        cerr(k, MN_EINVAL, "rule too large (more than %u operations and values)", JL_MAX_NODES);
        return UINT32_MAX;
    }
    if (r->nnodes + n > k->cap) {
        uint32_t cap = k->cap ? k->cap : 16;
        while (cap < r->nnodes + n)
            cap *= 2;
        jl_node *nn = realloc(r->nodes, (size_t)cap * sizeof *nn);
        if (!nn) {
            oom(k);
            return UINT32_MAX;
        }
        r->nodes = nn;
        k->cap = cap;
    }
    uint32_t first = r->nnodes;
    memset(r->nodes + first, 0, (size_t)n * sizeof *r->nodes);
    r->nnodes += n;
    return first;
}

static int is_logic(const cJSON *j)
{
    return cJSON_IsObject(j) && j->child && !j->child->next;
}

/* 1 if j holds no operation (an array whose elements hold none, a literal or a literal object).
 * Past the depth limit: 0, so that the compiler reports the depth. */
static int is_container(const cJSON *j)
{
    return cJSON_IsArray(j) || cJSON_IsObject(j);
}

static int is_const(const cJSON *j, int depth)
{
    if (is_container(j) && depth > MNI_JL_MAX_DEPTH)
        return 0;
    if (is_logic(j))
        return 0;
    if (cJSON_IsArray(j))
        for (const cJSON *e = j->child; e; e = e->next)
            if (!is_const(e, depth + 1))
                return 0;
    return 1;
}

static int depth_error(jl_comp *k)
{
    return cerr(k, MN_EINVAL, "nested deeper than %d levels (the limit for a rule)",
                MNI_JL_MAX_DEPTH);
}

/* Checks the nesting of a literal object's contents (kept as they are, never evaluated). */
static int check_depth(jl_comp *k, const cJSON *j, int depth)
{
    if (depth > MNI_JL_MAX_DEPTH)
        return depth_error(k);
    size_t i = 0;
    for (const cJSON *e = j->child; e; e = e->next, i++) {
        path_save s = path_get(k);
        if (cJSON_IsObject(j))
            path_key(k, e->string ? e->string : "");
        else
            path_index(k, i);
        int rc = is_container(e) ? check_depth(k, e, depth + 1) : MN_OK;
        path_set(k, s);
        if (rc)
            return rc;
    }
    return MN_OK;
}

/* What j is, for a condition's error: "an array", "an object with 2 keys (\"==\", \"!\", ...)". */
static const char *shape(const cJSON *j, char *buf, size_t len)
{
    if (cJSON_IsObject(j) && !j->child)
        return "an empty object";
    if (cJSON_IsObject(j)) {
        const cJSON *a = j->child, *b = a->next;
        snprintf(buf, len, "an object with %d keys (\"%.24s\", \"%.24s\"%s)",
                 cJSON_GetArraySize(j), a->string ? a->string : "", b->string ? b->string : "",
                 b->next ? ", ..." : "");
        return buf;
    }
    return cJSON_IsArray(j) ? "an array" : cJSON_IsString(j) ? "a string"
           : cJSON_IsNumber(j) ? "a number" : cJSON_IsNull(j) ? "null" : "a value";
}

/* A literal object in a condition: refused, since it would count as true (MNI_JL_CONDITION). */
static int literal_object_error(jl_comp *k, const cJSON *j)
{
    char buf[96];
    return cerr(k, MN_EINVAL, "%s is not an operation, which has exactly one key (its operator, "
                "as in {\"==\": [a, b]}); a literal object would count as true here",
                shape(j, buf, sizeof buf));
}

static int make_const(jl_comp *k, const cJSON *j, int depth, jl_val *out)
{
    if (is_container(j) && depth > MNI_JL_MAX_DEPTH)
        return depth_error(k);
    switch (j->type & 0xFF) {
    case cJSON_False:
    case cJSON_True:
    case cJSON_NULL:
    case cJSON_Number:
        *out = jl_from_cjson(j);
        return MN_OK;
    case cJSON_String: {
        const char *s = j->valuestring ? j->valuestring : "";
        size_t n = strlen(s);
        char *p = jl_alloc(&k->cx, n + 1);
        if (!p)
            return oom(k);
        memcpy(p, s, n + 1);
        *out = jl_str(p, n);
        return MN_OK;
    }
    case cJSON_Array: {
        size_t n = (size_t)cJSON_GetArraySize(j), i = 0;
        jl_val *a = jl_alloc(&k->cx, n * sizeof *a);
        if (!a)
            return oom(k);
        for (const cJSON *e = j->child; e; e = e->next, i++) {
            path_save s = path_get(k);
            path_index(k, i);
            int rc = make_const(k, e, depth + 1, &a[i]);
            path_set(k, s);
            if (rc)
                return rc;
        }
        out->t = JV_ARR;
        out->len = n;
        out->u.a = a;
        return MN_OK;
    }
    case cJSON_Object: {
        if (k->flags & MNI_JL_CONDITION)
            return literal_object_error(k, j);
        int rc = check_depth(k, j, depth);
        if (rc)
            return rc;
        cJSON *dup = cJSON_Duplicate(j, 1);
        if (!dup)
            return oom(k);
        if (dup->string) {
            if (!(dup->type & cJSON_StringIsConst))
                cJSON_free(dup->string);
            dup->string = NULL;
            dup->type &= ~cJSON_StringIsConst;
        }
        if (!k->r->objs && !(k->r->objs = cJSON_CreateArray())) {
            cJSON_Delete(dup);
            return oom(k);
        }
        if (!cJSON_AddItemToArray(k->r->objs, dup)) {
            cJSON_Delete(dup);
            return oom(k);
        }
        out->t = JV_JOBJ;
        out->len = 0;
        out->u.j = dup;
        return MN_OK;
    }
    default:
        return cerr(k, MN_EINVAL, "not a JSON value (a raw or invalid cJSON node)");
    }
}

/* Turns a var whose path argument is a constant into a JL_VAR with pre-split segments. */
static int static_var(jl_comp *k, jl_node *n)
{
    const jl_val *a = n->nargs ? &k->r->nodes[n->first].u.k : NULL;
    uint32_t dflt = n->first + 1, ndflt = n->nargs > 1 ? 1 : 0;
    n->op = JL_VAR;
    n->u.path.segs = NULL;
    n->u.path.n = 0;
    if (a && !(a->t == JV_UNDEF || a->t == JV_NULL || (a->t == JV_STR && a->len == 0))) {
        char nb[JL_NUMBUF];
        size_t len;
        const char *s = jl_to_str(&k->cx, a, nb, &len);
        if (!s)
            return oom(k);
        char *copy = jl_alloc(&k->cx, len + 1);
        if (!copy)
            return oom(k);
        memcpy(copy, s, len);
        copy[len] = '\0';
        uint32_t nseg = 1;
        for (size_t i = 0; i < len; i++)
            nseg += copy[i] == '.';
        jl_seg *segs = jl_alloc(&k->cx, nseg * sizeof *segs);
        if (!segs)
            return oom(k);
        size_t start = 0;
        uint32_t si = 0;
        for (size_t i = 0; i <= len; i++) {
            if (i == len || copy[i] == '.') {
                copy[i] = '\0';
                segs[si].s = copy + start;
                segs[si].len = i - start;
                segs[si].idx = jl_index_of(copy + start, i - start);
                si++;
                start = i + 1;
            }
        }
        n->u.path.segs = segs;
        n->u.path.n = nseg;
    }
    n->first = dflt;
    n->nargs = ndflt;
    return MN_OK;
}

static const struct jl_opdef *find_op(const char *name)
{
    for (size_t i = 0; i < sizeof opdefs / sizeof opdefs[0]; i++)
        if (strcmp(opdefs[i].name, name) == 0)
            return &opdefs[i];
    return NULL;
}

static int arity_error(jl_comp *k, const struct jl_opdef *d, int got)
{
    char want[48];
    if (d->min == d->max)
        snprintf(want, sizeof want, "exactly %d argument%s", d->min, d->min == 1 ? "" : "s");
    else if (d->max < 0)
        snprintf(want, sizeof want, "at least %d argument%s", d->min, d->min == 1 ? "" : "s");
    else
        snprintf(want, sizeof want, "%d to %d arguments", d->min, d->max);
    return cerr(k, MN_EINVAL, "\"%s\" takes %s, not %d", d->name, want, got);
}

static int compile_into(jl_comp *k, const cJSON *j, uint32_t slot, int depth)
{
    if (is_container(j) && depth > MNI_JL_MAX_DEPTH)
        return depth_error(k);
    if (is_const(j, depth)) {
        jl_val v;
        int rc = make_const(k, j, depth, &v);
        if (rc)
            return rc;
        k->r->nodes[slot].op = JL_CONST;
        k->r->nodes[slot].u.k = v;
        return MN_OK;
    }
    if (cJSON_IsArray(j)) {
        int n = cJSON_GetArraySize(j), i = 0;
        uint32_t first = new_nodes(k, (uint32_t)n);
        if (first == UINT32_MAX)
            return k->rc;
        for (const cJSON *e = j->child; e; e = e->next, i++) {
            path_save s = path_get(k);
            path_index(k, (size_t)i);
            int rc = compile_into(k, e, first + (uint32_t)i, depth + 1);
            path_set(k, s);
            if (rc)
                return rc;
        }
        jl_node *nd = &k->r->nodes[slot];
        nd->op = JL_ARRAY;
        nd->first = first;
        nd->nargs = (uint32_t)n;
        return MN_OK;
    }
    /* an operation: an object with one key */
    const cJSON *body = j->child;
    const char *name = body->string ? body->string : "";
    const struct jl_opdef *d = find_op(name);
    if (!d) {
        char shown[64];
        size_t len = strlen(name);
        snprintf(shown, sizeof shown, "%.48s%s", name, len > 48 ? "..." : "");
        for (char *p = shown; *p; p++)
            if ((unsigned char)*p < ' ')
                *p = '?';
        return cerr(k, MN_EINVAL, "unknown operator \"%s\"", shown);
    }
    int is_list = cJSON_IsArray(body);
    int n = is_list ? cJSON_GetArraySize(body) : 1;
    if (n < d->min || (d->max >= 0 && n > d->max))
        return arity_error(k, d, n);
    path_save s0 = path_get(k);
    path_key(k, name);
    uint32_t first = new_nodes(k, (uint32_t)n);
    int rc = first == UINT32_MAX ? k->rc : MN_OK;
    const cJSON *e = is_list ? body->child : body;
    for (int i = 0; rc == MN_OK && i < n; i++, e = e->next) {
        path_save s = path_get(k);
        if (is_list)
            path_index(k, (size_t)i);
        rc = compile_into(k, e, first + (uint32_t)i, depth + 1);
        path_set(k, s);
    }
    path_set(k, s0);
    if (rc)
        return rc;
    jl_node *nd = &k->r->nodes[slot];
    nd->op = d->op;
    nd->first = first;
    nd->nargs = (uint32_t)n;
    if (d->op == JL_VARD && (n == 0 || k->r->nodes[first].op == JL_CONST))
        return static_var(k, nd);
    return MN_OK;
}

void mni_jl_free(mni_jl *r)
{
    if (!r)
        return;
    free(r->nodes);
    jl_arena_free(&r->mem);
    cJSON_Delete(r->objs);
    free(r);
}

int mni_jl_compile(const cJSON *rule, mni_jl **out, char *err, size_t errlen)
{
    return mni_jl_compile_ex(rule, 0, out, err, errlen);
}

int mni_jl_compile_ex(const cJSON *rule, unsigned flags, mni_jl **out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out) {
        if (err && errlen)
            snprintf(err, errlen, "mni_jl_compile: out is NULL");
        return MN_EINVAL;
    }
    *out = NULL;
    if (!rule) {
        if (err && errlen)
            snprintf(err, errlen, "$: the rule is NULL; give a JSON value");
        return MN_EINVAL;
    }
    mni_jl *r = calloc(1, sizeof *r);
    if (!r) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory compiling the rule");
        return MN_ENOMEM;
    }
    jl_arena_init(&r->mem, NULL, 0, SIZE_MAX);
    jl_comp k;
    memset(&k, 0, sizeof k);
    k.r = r;
    k.cx.ar = &r->mem;
    k.cx.max_steps = UINT64_MAX;
    k.err = err;
    k.errlen = errlen;
    k.flags = flags;
    k.path[0] = '$';
    k.plen = 1;
    int rc = MN_OK;
    if ((flags & MNI_JL_CONDITION) && !cJSON_IsBool(rule) && !is_logic(rule)) {
        char buf[96];
        rc = cJSON_IsObject(rule) ? literal_object_error(&k, rule)
             : cerr(&k, MN_EINVAL, "a condition is one operation, such as {\"==\": [a, b]}, or "
                    "true or false; not %s", shape(rule, buf, sizeof buf));
    }
    if (rc == MN_OK)
        rc = new_nodes(&k, 1) == UINT32_MAX ? k.rc : compile_into(&k, rule, 0, 1);
    if (rc == MN_OK && k.cx.err)
        rc = oom(&k);
    if (rc != MN_OK) {
        mni_jl_free(r);
        return rc;
    }
    if (r->nnodes < k.cap) {
        jl_node *nn = realloc(r->nodes, (size_t)r->nnodes * sizeof *nn);
        if (nn)
            r->nodes = nn;
    }
    *out = r;
    return MN_OK;
}

int mni_jl_compile_text(const char *json, mni_jl **out, char *err, size_t errlen)
{
    if (out)
        *out = NULL;
    if (!json) {
        if (err && errlen)
            snprintf(err, errlen, "the rule text is NULL; give a JSON value");
        return MN_EINVAL;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(json, &end, 1);
    if (!j) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        if (err && errlen)
            snprintf(err, errlen, "the rule is not valid JSON (parsing stopped at byte %zu)", at);
        return MN_EINVAL;
    }
    int rc = mni_jl_compile(j, out, err, errlen);
    cJSON_Delete(j);
    return rc;
}
