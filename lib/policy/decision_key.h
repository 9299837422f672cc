/*
 * Decision keys: the decision cache's key for an access decision, as every caller builds it
 * (api/access.c for the API's checks; `manushya bench policy` measures the same code).
 *
 * Who asks, made once per call (mni_dkey_who_init):
 *   actor    tenant id, identity id, role and claims text, NUL-separated;
 *   context  the context's JSON text ("" for none);
 * both interned as one scope of the cache (mni_dcache_scope), whose 8-byte id then stands in
 * for them at the head of every key of the call.
 * What is asked, per decision (mni_dkey_build):
 *   what     the scope id, action, resource and, for a stored memory, its id and version,
 *            tagged so that no other kind of target can pass for it, in one small buffer;
 *   data     the resource's JSON text, only when the target is given as data.
 * So a key is one part, or two with data. Without a scope (out of memory) the actor's and the
 * context's parts come first instead, three or four parts in all: the two forms never meet.
 * A stored memory is keyed by id and version rather than by its JSON: ids are never reused
 * and every change to what policies see of a memory (type, metadata, importance; the owner
 * never changes) is an update, which bumps the version. So a hit needs no JSON at all.
 */
#ifndef MNI_POLICY_DECISION_KEY_H
#define MNI_POLICY_DECISION_KEY_H

#include "policy/decision_cache.h"

#include <cJSON.h>
#include <stdint.h>

#define MNI_DKEY_NAME_MAX 64 /* the longest action or resource name, in bytes */
#define MNI_DKEY_ID_MAX 36   /* a memory id (a UUID) */

typedef struct mni_dkey_who {
    char *actor; /* the actor part's bytes (malloc'd) */
    mni_dcache_part actor_part, context_part;
    uint64_t scope; /* their scope in the cache; 0: none */
} mni_dkey_who;

/* Makes w for the actor and the context text (NULL: none; kept by the caller while w is in
 * use), interned in cache c (may be NULL: no scope). MN_ENOMEM or MN_OK; free w with
 * mni_dkey_who_free either way. */
int mni_dkey_who_init(mni_dkey_who *w, mni_dcache *c, const char *tenant_id, const char *identity_id,
                     const char *role, const char *claims, const char *context);
void mni_dkey_who_free(mni_dkey_who *w);

typedef struct mni_dkey {
    mni_dcache_part parts[4];
    size_t nparts;
    unsigned char what[sizeof(uint64_t) + 2 * (MNI_DKEY_NAME_MAX + 1) + 1 + MNI_DKEY_ID_MAX + 1 +
                       sizeof(int64_t)];
    char *data_text; /* printed data, freed by mni_dkey_release */
} mni_dkey;

/* Builds k for who doing action on resource, the target being data (JSON; may be NULL), or the
 * stored memory memory_id at memory_version when memory_id is not NULL (data is then ignored).
 * MN_EINVAL when a name is longer than MNI_DKEY_NAME_MAX or the id longer than MNI_DKEY_ID_MAX;
 * MN_ENOMEM. k must stay where it is while its parts are used (one points into it); release it
 * with mni_dkey_release either way. */
int mni_dkey_build(mni_dkey *k, const mni_dkey_who *who, const char *action, const char *resource,
                  const cJSON *data, const char *memory_id, int64_t memory_version);
void mni_dkey_release(mni_dkey *k);

/* How much of a cached verdict's explanation (deciding policy, reason) a caller reads. */
enum mni_dkey_explain {
    MNI_DKEY_EXPLAIN_NONE,    /* only the verdict: a list or search filtering what it shows */
    MNI_DKEY_EXPLAIN_DENIALS, /* the deciding policy (an audit entry names it), and the
                               * reason of a denial, for its error: a check */
    MNI_DKEY_EXPLAIN_ALL      /* always: a dry run that shows why */
};

/* Looks k up in c as mni_dcache_get does, copying the policy id and reason only as far as
 * `explain` asks; a verdict without allowed_bits set is a denial. The common hit, an allow,
 * then never touches the reason's bytes (a check copies its policy id, 36 bytes). 1: hit (*verdict set; policy_id and reason set, or
 * "" when not asked for). 0: miss. */
int mni_dkey_lookup(mni_dcache *c, const mni_dkey *k, uint64_t generation, int64_t now_ms,
                   enum mni_dkey_explain explain, int allowed_bits, int *verdict,
                   char *policy_id, size_t idlen, char *reason, size_t reasonlen);

#endif
