/* Policies: managing a tenant's access rules, and asking for a decision. */
#include "api/access.h"
#include "api/actor.h"
#include "api/validate.h"
#include "core/clock.h"
#include "core/error.h"
#include "api/handle.h"
#include "core/uuid.h"
#include "policy/decision_key.h"
#include "policy/policy.h"
#include "api/limiter.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define MNI_ROLE_MAX 64
#define MNI_DESCRIPTION_MAX 1024

/* Checks the fields set in in; for an add, role and rule are required. */
static int check_input(mn_db *db, const mn_policy_input *in, int adding)
{
    if (adding && !in->role)
        return mni_seterr(db, MN_EINVAL, "the policy has no role; give a role name or \"*\"");
    if (adding && !in->rule)
        return mni_seterr(db, MN_EINVAL, "the policy has no rule; give a JSON object with "
                         "effect, actions and resource");
    if (!adding && !in->role && !in->rule && !in->description && !in->has_priority &&
        !in->has_active)
        return mni_seterr(db, MN_EINVAL, "the update changes nothing; set role, rule, "
                         "description, priority or active");
    int rc = in->role ? mni_check_name(db, "role", in->role, MNI_ROLE_MAX) : MN_OK;
    if (rc == MN_OK && in->description && *in->description)
        rc = mni_check_name(db, "description", in->description, MNI_DESCRIPTION_MAX);
    if (rc == MN_OK && in->has_active && in->active != 0 && in->active != 1)
        rc = mni_seterr(db, MN_EINVAL, "active is %d; give 0 or 1", in->active);
    if (rc == MN_OK && in->rule) {
        char err[MNI_ERRMSG_MAX - 32];
        if (!mni_utf8_valid(in->rule, strlen(in->rule)))
            rc = mni_seterr(db, MN_EINVAL, "the rule is not valid UTF-8");
        else if ((rc = mni_policy_rule_check(in->rule, err, sizeof err)) != MN_OK)
            mni_seterr(db, rc, "bad rule: %s", err);
    }
    return rc;
}

/* The rule as stored: compact JSON. */
static int canonical_rule(mn_db *db, const char *rule, char **out)
{
    return mni_check_json_object(db, "the rule", rule, out);
}

int mn_policy_add(mn_db *db, const mn_actor *actor, const mn_policy_input *in, mn_policy **out)
{
    if (!db)
        return MN_EINVAL;
    struct mni_who who = {0};
    char *rule = NULL;
    int rc = mni_require(db, in, "the policy input");
    if (rc == MN_OK)
        rc = check_input(db, in, 1);
    if (rc == MN_OK)
        rc = canonical_rule(db, in->rule, &rule);
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_access_check(db, &who, "create", "policy", NULL);
    char id[MNI_UUID_LEN + 1];
    if (rc == MN_OK) {
        mn_policy p = { .id = id, .tenant_id = who.tenant->id, .role = (char *)in->role,
                        .rule = rule, .priority = in->has_priority ? in->priority : 0,
                        .active = in->has_active ? in->active : 1,
                        .description = (char *)(in->description ? in->description : "") };
        p.created_at = p.updated_at = mni_uuid7(id);
        rc = db->store->ops->policy_insert(db->store, &p);
    }
    if (rc == MN_OK && out)
        rc = db->store->ops->policy_get(db->store, who.tenant->id, id, out);
    mni_who_release(&who);
    free(rule);
    return rc;
}

/* Resolves the actor and the policy id, and checks that the actor may `action` policies. */
static int begin(mn_db *db, const mn_actor *actor, const char *id, const char *action,
                 struct mni_who *who, char key[MNI_UUID_LEN + 1])
{
    int rc = id ? mni_check_memory_id(db, "the policy id", id, key) : MN_OK;
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, who);
    if (rc == MN_OK)
        rc = mni_access_check(db, who, action, "policy", NULL);
    return rc;
}

int mn_policy_get(mn_db *db, const mn_actor *actor, const char *id, mn_policy **out)
{
    if (!db)
        return MN_EINVAL;
    struct mni_who who = {0};
    char key[MNI_UUID_LEN + 1];
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = mni_require(db, id, "the policy id");
    if (rc == MN_OK)
        rc = begin(db, actor, id, "read", &who, key);
    if (rc == MN_OK)
        rc = db->store->ops->policy_get(db->store, who.tenant->id, key, out);
    mni_who_release(&who);
    return rc;
}

int mn_policy_list_all(mn_db *db, const mn_actor *actor, mn_policy_list **out)
{
    if (!db)
        return MN_EINVAL;
    struct mni_who who = {0};
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = begin(db, actor, NULL, "list", &who, NULL);
    if (rc == MN_OK)
        rc = db->store->ops->policy_list(db->store, who.tenant->id, out);
    mni_who_release(&who);
    return rc;
}

int mn_policy_update(mn_db *db, const mn_actor *actor, const char *id,
                     const mn_policy_input *changes, mn_policy **out)
{
    if (!db)
        return MN_EINVAL;
    struct mni_who who = {0};
    char key[MNI_UUID_LEN + 1], *rule = NULL;
    mn_policy *cur = NULL;
    int rc = mni_require(db, changes, "the changes");
    if (rc == MN_OK)
        rc = mni_require(db, id, "the policy id");
    if (rc == MN_OK)
        rc = check_input(db, changes, 0);
    if (rc == MN_OK && changes->rule)
        rc = canonical_rule(db, changes->rule, &rule);
    if (rc == MN_OK)
        rc = begin(db, actor, id, "update", &who, key);
    if (rc == MN_OK)
        rc = db->store->ops->policy_get(db->store, who.tenant->id, key, &cur);
    if (rc == MN_OK) {
        mn_policy p = *cur;
        if (changes->role)
            p.role = (char *)changes->role;
        if (rule)
            p.rule = rule;
        if (changes->description)
            p.description = (char *)changes->description;
        if (changes->has_priority)
            p.priority = changes->priority;
        if (changes->has_active)
            p.active = changes->active;
        p.updated_at = mni_now_ms();
        rc = db->store->ops->policy_update(db->store, &p);
    }
    if (rc == MN_OK && out)
        rc = db->store->ops->policy_get(db->store, who.tenant->id, key, out);
    mn_policy_free(cur);
    mni_who_release(&who);
    free(rule);
    return rc;
}

int mn_policy_delete(mn_db *db, const mn_actor *actor, const char *id)
{
    if (!db)
        return MN_EINVAL;
    struct mni_who who = {0};
    char key[MNI_UUID_LEN + 1];
    int rc = mni_require(db, id, "the policy id");
    if (rc == MN_OK)
        rc = begin(db, actor, id, "delete", &who, key);
    if (rc == MN_OK)
        rc = db->store->ops->policy_delete(db->store, who.tenant->id, key);
    mni_who_release(&who);
    return rc;
}

int mn_policy_test(mn_db *db, const mn_actor *actor, const char *action, const char *resource,
                   const char *resource_data, mn_decision **out)
{
    if (!db)
        return MN_EINVAL;
    struct mni_who who = {0};
    cJSON *data = NULL;
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = mni_check_name(db, "action", action, MNI_DKEY_NAME_MAX);
    if (rc == MN_OK)
        rc = mni_check_name(db, "resource", resource, MNI_DKEY_NAME_MAX);
    if (rc == MN_OK && resource_data) {
        char *canon = NULL;
        rc = mni_check_json_object(db, "resource_data", resource_data, &canon);
        if (rc == MN_OK && !(data = cJSON_Parse(canon)))
            rc = mni_seterr(db, MN_ENOMEM, "out of memory");
        free(canon);
    }
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_ratelimit_enforce(db, &who, "policy:test", 1);
    mn_decision *d = rc == MN_OK ? calloc(1, sizeof *d) : NULL;
    if (rc == MN_OK && !d)
        rc = mni_seterr(db, MN_ENOMEM, "out of memory");
    if (rc == MN_OK)
        rc = mni_access_decide(db, &who, action, resource, data, &d->allowed, &d->policy_id,
                              &d->reason);
    if (rc != MN_OK) {
        mn_decision_free(d);
        d = NULL;
    }
    if (out)
        *out = d;
    cJSON_Delete(data);
    mni_who_release(&who);
    return rc;
}

void mn_decision_free(mn_decision *d)
{
    if (!d)
        return;
    free(d->policy_id);
    free(d->reason);
    free(d);
}
