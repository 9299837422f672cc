/* Policies: managing a tenant's access rules, and asking for a decision. */
#include "api/cache.h"
#include "api/audit.h"
#include "api/abi_structs.h"
#include "api/metrics.h"
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

#define MNI_POLICY_SET_ALL (MN_POLICY_SET_ROLE | MN_POLICY_SET_RULE | MN_POLICY_SET_DESCRIPTION | \
                            MN_POLICY_SET_PRIORITY | MN_POLICY_SET_ACTIVE)

/* Checks a policy's fields, an add's or an update's: role, rule and description when not NULL,
 * active (0 or 1). */
static int check_fields(mn_db *db, const char *role, const char *rule, const char *description,
                        int active)
{
    int rc = role ? mni_check_name(db, "role", role, MNI_ROLE_MAX) : MN_OK;
    if (rc == MN_OK && description && *description)
        rc = mni_check_name(db, "description", description, MNI_DESCRIPTION_MAX);
    if (rc == MN_OK && active != 0 && active != 1)
        rc = mni_seterr(db, MN_EINVAL, "active is %d; give 0 or 1", active);
    if (rc == MN_OK && rule) {
        char err[MNI_ERRMSG_MAX - 32];
        if (!mni_utf8_valid(rule, strlen(rule)))
            rc = mni_seterr(db, MN_EINVAL, "the rule is not valid UTF-8");
        else if ((rc = mni_policy_rule_check(rule, err, sizeof err)) != MN_OK)
            mni_seterr(db, rc, "bad rule: %s", err);
    }
    return rc;
}

/* The rule as stored: compact JSON. */
static int canonical_rule(mn_db *db, const char *rule, char **out)
{
    return mni_check_json_object(db, "the rule", rule, NULL, out);
}

int mn_policy_add(mn_db *db, const mn_actor *actor, const mn_policy_input *input,
                  mn_policy **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    char *rule = NULL;
    mn_policy_input copy;
    const mn_policy_input *in = &copy;
    int rc = mni_abi_read(db, &mni_abi_policy_input, input, 0, &copy, sizeof copy);
    if (rc == MN_OK && !in->role)
        rc = mni_seterr(db, MN_EINVAL, "the policy has no role; give a role name or \"*\"");
    if (rc == MN_OK && !in->rule)
        rc = mni_seterr(db, MN_EINVAL, "the policy has no rule; give a JSON object with "
                        "effect, actions and resource");
    if (rc == MN_OK && in->inactive != 0 && in->inactive != 1)
        rc = mni_seterr(db, MN_EINVAL, "inactive is %d; give 0 or 1", in->inactive);
    if (rc == MN_OK)
        rc = check_fields(db, in->role, in->rule, in->description, 0);
    if (rc == MN_OK)
        rc = canonical_rule(db, in->rule, &rule);
    if (rc == MN_OK)
        rc = mni_who_resolve(db, actor, &who);
    if (rc == MN_OK)
        rc = mni_access_check(db, &who, "create", "policy", NULL);
    char id[MNI_UUID_LEN + 1];
    if (rc == MN_OK) {
        mn_policy p = { .id = id, .tenant_id = who.tenant->id, .role = (char *)in->role,
                        .rule = rule, .priority = in->priority, .active = !in->inactive,
                        .description = (char *)(in->description ? in->description : "") };
        p.created_at = p.updated_at = mni_uuid7(id);
        const char *ids[] = { id };
        struct mni_audit_call au;
        if ((rc = mni_audit_call(db, &who, "policy:create", ids, 1, &au)) == MN_OK)
            rc = db->store->ops->policy_insert(db->store, &p, &au.au);
        mni_cache_bump(db, MNI_SCOPE_DIRECTORY); /* cached actors hold the policy generation */
        mni_audit_call_release(&au);
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
        return mni_err_no_db(__func__);
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

int mn_policy_list(mn_db *db, const mn_actor *actor, mn_policies **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = begin(db, actor, NULL, "list", &who, NULL);
    if (rc == MN_OK)
        rc = db->store->ops->policy_list(db->store, who.tenant->id, out);
    mni_who_release(&who);
    return rc;
}

/* The fields of c that set names, checked; a field it does not name is NULL (or 0) after. */
static int check_changes(mn_db *db, mn_policy_changes *c)
{
    if (c->set & ~(unsigned)MNI_POLICY_SET_ALL)
        return mni_seterr(db, MN_EINVAL, "mn_policy_changes.set has unknown bits 0x%x; use "
                         "MN_POLICY_SET_*", c->set & ~(unsigned)MNI_POLICY_SET_ALL);
    if (!c->set)
        return mni_seterr(db, MN_EINVAL, "the update changes nothing; name the fields to change "
                         "in mn_policy_changes.set (MN_POLICY_SET_ROLE, ...)");
    if ((c->set & MN_POLICY_SET_ROLE) && !c->role)
        return mni_seterr(db, MN_EINVAL, "mn_policy_changes.set names role but role is NULL; "
                         "give a role name or \"*\"");
    if ((c->set & MN_POLICY_SET_RULE) && !c->rule)
        return mni_seterr(db, MN_EINVAL, "mn_policy_changes.set names rule but rule is NULL; "
                         "give a JSON object with effect, actions and resource");
    if (!(c->set & MN_POLICY_SET_ROLE))
        c->role = NULL;
    if (!(c->set & MN_POLICY_SET_RULE))
        c->rule = NULL;
    if (c->set & MN_POLICY_SET_DESCRIPTION && !c->description)
        c->description = "";
    if (!(c->set & MN_POLICY_SET_DESCRIPTION))
        c->description = NULL;
    return check_fields(db, c->role, c->rule, c->description,
                        c->set & MN_POLICY_SET_ACTIVE ? c->active : 0);
}

int mn_policy_update(mn_db *db, const mn_actor *actor, const char *id,
                     const mn_policy_changes *in, mn_policy **out)
{
    if (!db)
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    char key[MNI_UUID_LEN + 1], *rule = NULL;
    mn_policy *cur = NULL;
    mn_policy_changes copy;
    const mn_policy_changes *changes = &copy;
    int rc = mni_abi_read(db, &mni_abi_policy_changes, in, 0, &copy, sizeof copy);
    if (rc == MN_OK)
        rc = mni_require(db, id, "the policy id");
    if (rc == MN_OK)
        rc = check_changes(db, &copy);
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
        if (changes->set & MN_POLICY_SET_PRIORITY)
            p.priority = changes->priority;
        if (changes->set & MN_POLICY_SET_ACTIVE)
            p.active = changes->active;
        p.updated_at = mni_now_ms();
        const char *ids[] = { key };
        struct mni_audit_call au;
        if ((rc = mni_audit_call(db, &who, "policy:update", ids, 1, &au)) == MN_OK)
            rc = db->store->ops->policy_update(db->store, &p, &au.au);
        mni_cache_bump(db, MNI_SCOPE_DIRECTORY);
        mni_audit_call_release(&au);
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
        return mni_err_no_db(__func__);
    struct mni_who who = {0};
    char key[MNI_UUID_LEN + 1];
    int rc = mni_require(db, id, "the policy id");
    if (rc == MN_OK)
        rc = begin(db, actor, id, "delete", &who, key);
    const char *ids[] = { key };
    struct mni_audit_call au = {0};
    if (rc == MN_OK)
        rc = mni_audit_call(db, &who, "policy:delete", ids, 1, &au);
    if (rc == MN_OK)
        rc = db->store->ops->policy_delete(db->store, who.tenant->id, key, &au.au);
    mni_cache_bump(db, MNI_SCOPE_DIRECTORY);
    mni_audit_call_release(&au);
    mni_who_release(&who);
    return rc;
}

static int policy_test(mn_db *db, const mn_actor *actor, const char *action, const char *resource,
                       const char *resource_data, mn_decision **out)
{
    if (!db)
        return mni_err_no_db("mn_policy_test");
    struct mni_who who = {0};
    cJSON *data = NULL;
    int rc = mni_require(db, out, "out");
    if (rc == MN_OK)
        rc = mni_check_name(db, "action", action, MNI_DKEY_NAME_MAX);
    if (rc == MN_OK)
        rc = mni_check_name(db, "resource", resource, MNI_DKEY_NAME_MAX);
    if (rc == MN_OK && resource_data)
        rc = mni_check_json_object(db, "resource_data", resource_data, &data, NULL);
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

int mn_policy_test(mn_db *db, const mn_actor *actor, const char *action, const char *resource,
                   const char *resource_data, mn_decision **out)
{
    MNI_TIMED(db, policy_test, policy_test(db, actor, action, resource, resource_data, out));
}

void mn_decision_free(mn_decision *d)
{
    if (!d)
        return;
    free(d->policy_id);
    free(d->reason);
    free(d);
}
