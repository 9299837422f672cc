/* Decision keys (decision_key.h). */
#include "policy/decision_key.h"

#include "manushya.h"

#include <stdlib.h>
#include <string.h>

int mni_dkey_who_init(mni_dkey_who *w, mni_dcache *c, const char *tenant_id, const char *identity_id,
                     const char *role, const char *claims, const char *context)
{
    memset(w, 0, sizeof *w);
    const char *fields[] = { tenant_id, identity_id, role, claims };
    size_t total = 0, n = sizeof fields / sizeof *fields;
    for (size_t i = 0; i < n; i++)
        total += strlen(fields[i]) + 1;
    if (!(w->actor = malloc(total)))
        return MN_ENOMEM;
    for (size_t i = 0, at = 0; i < n; i++) {
        size_t l = strlen(fields[i]) + 1; /* with the NUL: the fields' boundaries count */
        memcpy(w->actor + at, fields[i], l);
        at += l;
    }
    w->actor_part = mni_dcache_part_of(w->actor, total);
    context = context ? context : "";
    w->context_part = mni_dcache_part_of(context, strlen(context));
    const mni_dcache_part both[] = { w->actor_part, w->context_part };
    w->scope = c ? mni_dcache_scope(c, both, 2) : 0;
    return MN_OK;
}

void mni_dkey_who_free(mni_dkey_who *w)
{
    free(w->actor);
    memset(w, 0, sizeof *w);
}

int mni_dkey_build(mni_dkey *k, const mni_dkey_who *who, const char *action, const char *resource,
                  const cJSON *data, const char *memory_id, int64_t memory_version)
{
    k->data_text = NULL;
    k->nparts = 0;
    size_t al = strnlen(action, MNI_DKEY_NAME_MAX + 1);
    size_t rl = strnlen(resource, MNI_DKEY_NAME_MAX + 1);
    size_t il = memory_id ? strnlen(memory_id, MNI_DKEY_ID_MAX + 1) : 0;
    if (al > MNI_DKEY_NAME_MAX || rl > MNI_DKEY_NAME_MAX || il > MNI_DKEY_ID_MAX)
        return MN_EINVAL;
    unsigned char *w = k->what;
    if (who->scope) {
        memcpy(w, &who->scope, sizeof who->scope);
        w += sizeof who->scope;
    } else {
        k->parts[k->nparts++] = who->actor_part;
        k->parts[k->nparts++] = who->context_part;
    }
    memcpy(w, action, al + 1);
    w += al + 1;
    memcpy(w, resource, rl + 1);
    w += rl + 1;
    if (memory_id) {
        *w++ = 'm';
        memcpy(w, memory_id, il + 1);
        w += il + 1;
        memcpy(w, &memory_version, sizeof memory_version);
        w += sizeof memory_version;
    } else {
        *w++ = data ? 'd' : '-';
        if (data && !(k->data_text = cJSON_PrintUnformatted(data)))
            return MN_ENOMEM;
    }
    k->parts[k->nparts++] = mni_dcache_part_of(k->what, (size_t)(w - k->what));
    if (k->data_text)
        k->parts[k->nparts++] = mni_dcache_part_of(k->data_text, strlen(k->data_text));
    return MN_OK;
}

void mni_dkey_release(mni_dkey *k)
{
    cJSON_free(k->data_text);
    k->data_text = NULL;
}

int mni_dkey_lookup(mni_dcache *c, const mni_dkey *k, uint64_t generation, int64_t now_ms,
                   enum mni_dkey_explain explain, int allowed_bits, int *verdict,
                   char *policy_id, size_t idlen, char *reason, size_t reasonlen)
{
    int all = explain == MNI_DKEY_EXPLAIN_ALL, ids = explain != MNI_DKEY_EXPLAIN_NONE;
    if (policy_id && idlen)
        policy_id[0] = '\0';
    if (reason && reasonlen)
        reason[0] = '\0';
    if (!mni_dcache_get(c, k->parts, k->nparts, generation, now_ms, verdict,
                       ids ? policy_id : NULL, ids ? idlen : 0, all ? reason : NULL,
                       all ? reasonlen : 0))
        return 0;
    if (all || explain == MNI_DKEY_EXPLAIN_NONE || (*verdict & allowed_bits))
        return 1;
    /* A denial to explain: read it again with its reason (gone meanwhile: a miss). */
    return mni_dcache_get(c, k->parts, k->nparts, generation, now_ms, verdict, policy_id, idlen,
                         reason, reasonlen);
}
