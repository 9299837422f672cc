/*
 * JSON Logic (jsonlogic.com): compile a rule once, evaluate it many times.
 *
 * A rule is compiled from cJSON (or JSON text) into an immutable tree: operators are resolved to
 * codes, argument counts checked, `var` paths split into segments, constant sub-trees (literal
 * numbers, strings, arrays of literals) built once. Evaluation walks that tree against a cJSON
 * data value without re-parsing anything; scalars and borrowed parts of the data are never
 * copied, and what an evaluation must build (strings of cat/substr, arrays of map/merge/...)
 * lives in a per-call arena that starts on the stack.
 *
 * Semantics are those of the reference implementation, json-logic-js (JavaScript):
 *  - truthiness: false, null, 0, NaN, "" and [] are falsy; everything else ("0", {}) is truthy;
 *  - == / != are JavaScript's loose equality (1 == "1", 0 == "", false == "0", [1] == "1",
 *    null == undefined but null != 0); === / !== are strict; arrays and objects compare by
 *    identity, as in JavaScript (two references to the same data node are equal);
 *  - < <= > >= compare two strings by UTF-16 code units and everything else as numbers
 *    (Number(x)); the three-argument forms of < and <= are "between";
 *  - + and * convert with parseFloat ("3abc" -> 3), - / % and comparisons with Number();
 *  - numbers print as JavaScript does (cat, substr, in, var paths): 1, 0.5, 1e+21, NaN;
 *  - results: undefined becomes null, -0 becomes 0; NaN and +-Infinity stay numbers in the cJSON
 *    result (cJSON prints them as null, like JSON.stringify).
 * Deliberate differences, each safer or saner for a policy engine and all outside the official
 * suite: strings are counted and cut in Unicode code points, not UTF-16 units (substr, "length";
 * they agree on the BMP); `var` sees the data's own members only (array indices, object keys,
 * plus "length" of arrays and strings and the characters of strings) and never JavaScript's
 * prototype properties; keys given to missing/missing_some are never evaluated as logic; an
 * object member is found by its first occurrence when a key is duplicated (cJSON's rule; JSON.parse
 * keeps the last); a literal array made only of literals is built once at compile time and so is
 * "the same array" (===) each time that one node is evaluated; log writes nothing; where
 * json-logic-js throws a TypeError at run time (missing_some given null instead of a list of
 * keys) the result is defined instead (the missing keys). Checked against json-logic-js 2.0.5
 * by differential testing on random rules.
 *
 * Arguments: as in json-logic-js, a non-array value is one argument ({"var":"a"} is
 * {"var":["a"]}). Objects with exactly one key are operations; objects with zero or several keys
 * are literal values, returned as they are. Argument counts checked at compile time:
 *   exactly 1: ! !! log            exactly 2: == === != !== > >= / % in map filter all none some
 *   2 or 3: < <= reduce substr     missing_some: 2     0 to 2: var     1 or 2: -     at least 1: *
 *   any number: if ?: and or max min + merge cat missing
 *
 * Limits: a rule nests at most MNI_JL_MAX_DEPTH levels (the outermost value is level 1; every
 * operation, array or object inside another adds one; an operation's argument list is not a
 * level of its own: {"and":[{"var":"a"}]} has 2). An evaluation may use at most
 * MNI_JL_MAX_BYTES of scratch memory and MNI_JL_MAX_STEPS node evaluations (defaults; see
 * mni_jl_limits), and builds or prints values nested at most MNI_JL_MAX_VALUE_DEPTH deep; past
 * them it fails with MN_ERANGE instead of running away (a reduce that doubles an array each step).
 *
 * Errors: every function returns MN_OK, MN_EINVAL (bad rule: the message starts with the JSON
 * path of the bad node, `$` the rule itself, `.key` a member (operators included), `["key"]` one
 * with unusual characters, `[i]` an array element: `$.and[1]: unknown operator "=~"`,
 * `$.if[0]: "!" takes exactly 1 argument, not 2`), MN_ENOMEM, or for evaluations MN_ERANGE (a
 * limit above). err/errlen receive the message (err may be NULL).
 *
 * Thread safety: a compiled rule is immutable; any number of threads may evaluate it at once.
 */
#ifndef MNI_POLICY_JSONLOGIC_H
#define MNI_POLICY_JSONLOGIC_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define MNI_JL_MAX_DEPTH 64                         /* rule nesting, checked at compile time */
#define MNI_JL_MAX_BYTES ((size_t)64 * 1024 * 1024)  /* default scratch memory per evaluation */
#define MNI_JL_MAX_STEPS ((uint64_t)50 * 1000 * 1000) /* default node evaluations per evaluation */
#define MNI_JL_MAX_VALUE_DEPTH 256                  /* nesting of values built or printed */

typedef struct mni_jl mni_jl;

/* Compiles rule (borrowed: nothing of it is kept) into *out. */
int mni_jl_compile(const cJSON *rule, mni_jl **out, char *err, size_t errlen);
/* Flags of mni_jl_compile_ex. MNI_JL_CONDITION: the rule is a condition (a policy's "when"), so
 * it must be one operation or true or false, and every object in it an operation. An object
 * with zero or several keys is otherwise a literal value, always truthy: in a condition that is
 * a typo ({"==": [a, b], "!": c}, {}) that would hold for everyone, so it is an error. */
#define MNI_JL_CONDITION 1u
int mni_jl_compile_ex(const cJSON *rule, unsigned flags, mni_jl **out, char *err, size_t errlen);
/* Parses JSON text and compiles it. */
int mni_jl_compile_text(const char *json, mni_jl **out, char *err, size_t errlen);
/* Frees a compiled rule (NULL is fine). It must not be in use by another thread. */
void mni_jl_free(mni_jl *r);

/* Evaluates r against data (borrowed; NULL means null) and sets *result to a new cJSON value
 * the caller frees with cJSON_Delete. */
int mni_jl_eval(const mni_jl *r, const cJSON *data, cJSON **result, char *err, size_t errlen);
/* Evaluates r against data and sets *truthy to the JSON Logic truthiness (0/1) of the result,
 * without building it as cJSON: the fast path for decisions. */
int mni_jl_test(const mni_jl *r, const cJSON *data, int *truthy, char *err, size_t errlen);

/* Per-evaluation limits for mni_jl_eval_ex; a zero field means the default. */
typedef struct mni_jl_limits {
    size_t max_bytes;   /* scratch memory; default MNI_JL_MAX_BYTES */
    uint64_t max_steps; /* node evaluations; default MNI_JL_MAX_STEPS */
} mni_jl_limits;
/* Both of the above in one call, with limits (NULL for the defaults): result and/or truthy may
 * be NULL when not wanted. */
int mni_jl_eval_ex(const mni_jl *r, const cJSON *data, const mni_jl_limits *lim, cJSON **result,
                  int *truthy, char *err, size_t errlen);

#endif
