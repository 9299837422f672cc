/* Policies: compiling a tenant's policies into a set (rules parsed, sorted by priority, names
 * interned so that decisions compare integers), and checking a single rule. */
#include "policy/policy_impl.h"

#include "manushya.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mni_policy_rule_check(const char *rule_json, char *err, size_t errlen)
{
    pl_rule r;
    int rc = pl_rule_parse(rule_json, &r, err, errlen);
    pl_rule_clear(&r);
    return rc;
}

static int by_priority(const void *a, const void *b)
{
    const struct pl_policy *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    if (x->r.effect != y->r.effect)
        return x->r.effect == PL_DENY ? -1 : 1;
    return strcmp(x->id, y->id);
}

void mni_policyset_free(mni_policyset *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->p[i].id);
        free(ps->p[i].role);
        free(ps->p[i].action_ids);
        pl_rule_clear(&ps->p[i].r);
    }
    for (size_t i = 0; ps->by_role && i < ps->nnames; i++)
        free(ps->by_role[i]);
    free(ps->by_role);
    free(ps->by_role_n);
    free(ps->any_role);
    free(ps->names);
    free(ps->slots);
    free(ps->p);
    free(ps);
}

/* ---- names ----------------------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

int pl_name_id(const mni_policyset *ps, const char *s)
{
    if (!s || !ps->slots)
        return PL_NONAME;
    for (size_t i = (size_t)fnv1a(s) & ps->slot_mask;; i = (i + 1) & ps->slot_mask) {
        int id = ps->slots[i];
        if (id < 0)
            return PL_NONAME;
        if (strcmp(ps->names[id], s) == 0)
            return id;
    }
}

/* The id of s, added if new; "*" is PL_ANY. The table has room (sized for every name). */
static int intern(mni_policyset *ps, const char *s)
{
    if (strcmp(s, "*") == 0)
        return PL_ANY;
    int id = pl_name_id(ps, s);
    if (id != PL_NONAME)
        return id;
    size_t i = (size_t)fnv1a(s) & ps->slot_mask;
    while (ps->slots[i] >= 0)
        i = (i + 1) & ps->slot_mask;
    ps->slots[i] = (int)ps->nnames;
    ps->names[ps->nnames] = s;
    return (int)ps->nnames++;
}

static int build_index(mni_policyset *ps)
{
    size_t most = 0;
    for (size_t i = 0; i < ps->n; i++)
        most += 2 + ps->p[i].r.nactions;
    size_t slots = 16;
    while (slots < most * 2)
        slots <<= 1;
    ps->slots = malloc(slots * sizeof *ps->slots);
    ps->names = malloc(most * sizeof *ps->names);
    ps->any_role = malloc((ps->n + 1) * sizeof *ps->any_role);
    if (!ps->slots || !ps->names || !ps->any_role)
        return MN_ENOMEM;
    memset(ps->slots, 0xff, slots * sizeof *ps->slots);
    ps->slot_mask = slots - 1;
    for (size_t i = 0; i < ps->n; i++) {
        struct pl_policy *q = &ps->p[i];
        q->role_id = intern(ps, q->role);
        q->resource_id = intern(ps, q->r.resource);
        if (q->r.nactions && !(q->action_ids = malloc(q->r.nactions * sizeof *q->action_ids)))
            return MN_ENOMEM;
        for (size_t k = 0; k < q->r.nactions; k++)
            q->action_ids[k] = intern(ps, q->r.actions[k]);
        if (q->role_id == PL_ANY)
            ps->any_role[ps->any_role_n++] = (uint32_t)i;
    }
    ps->by_role = calloc(ps->nnames + 1, sizeof *ps->by_role);
    ps->by_role_n = calloc(ps->nnames + 1, sizeof *ps->by_role_n);
    if (!ps->by_role || !ps->by_role_n)
        return MN_ENOMEM;
    for (size_t i = 0; i < ps->n; i++) {
        int role = ps->p[i].role_id;
        if (role < 0 || ps->by_role[role])
            continue;
        uint32_t *list = malloc(ps->n * sizeof *list);
        if (!list)
            return MN_ENOMEM;
        size_t k = 0;
        for (size_t j = 0; j < ps->n; j++)
            if (ps->p[j].role_id == role || ps->p[j].role_id == PL_ANY)
                list[k++] = (uint32_t)j;
        ps->by_role[role] = list;
        ps->by_role_n[role] = k;
    }
    return MN_OK;
}

/* ---- compiling ------------------------------------------------------------------------------- */

static int fail(char *err, size_t errlen, int rc, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return rc;
}

int mni_policyset_compile(const struct mni_policy_src *p, size_t n, mni_policyset **out, char *err,
                         size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!out || (n && !p))
        return fail(err, errlen, MN_EINVAL, "mni_policyset_compile: out or the policies are NULL");
    *out = NULL;
    mni_policyset *ps = calloc(1, sizeof *ps);
    size_t active = 0;
    for (size_t i = 0; i < n; i++)
        active += p[i].active != 0;
    if (!ps || (active && !(ps->p = calloc(active, sizeof *ps->p)))) {
        free(ps);
        return fail(err, errlen, MN_ENOMEM, "out of memory compiling the policies");
    }
    for (size_t i = 0; i < n; i++) {
        if (!p[i].active)
            continue;
        const char *id = p[i].id && p[i].id[0] ? p[i].id : NULL;
        char msg[400];
        int rc = MN_OK;
        if (!id)
            rc = fail(msg, sizeof msg, MN_EINVAL, "id: missing");
        else if (!p[i].role || !p[i].role[0])
            rc = fail(msg, sizeof msg, MN_EINVAL, "role: missing; give a role name or \"*\"");
        else
            rc = pl_rule_parse(p[i].rule, &ps->p[ps->n].r, msg, sizeof msg);
        if (rc == MN_OK) {
            struct pl_policy *q = &ps->p[ps->n++];
            q->id = strdup(id);
            q->role = strdup(p[i].role);
            q->priority = p[i].priority;
            if (!q->id || !q->role)
                rc = fail(msg, sizeof msg, MN_ENOMEM, "out of memory");
        }
        if (rc != MN_OK) {
            if (err && errlen)
                snprintf(err, errlen, "policy %.64s: %s", id ? id : "(without id)", msg);
            mni_policyset_free(ps);
            return rc;
        }
    }
    if (ps->n > 1)
        qsort(ps->p, ps->n, sizeof *ps->p, by_priority);
    if (build_index(ps) != MN_OK) {
        mni_policyset_free(ps);
        return fail(err, errlen, MN_ENOMEM, "out of memory compiling the policies");
    }
    *out = ps;
    return MN_OK;
}
