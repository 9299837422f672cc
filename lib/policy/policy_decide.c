/* Policies: deciding requests against a compiled set (deny-overrides, highest priority first,
 * no applying allow = deny), and explaining why. */
#include "policy/policy_impl.h"

#include "manushya.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The policies of the request's role (or of "*"), in order, as indices into ps->p. */
static const uint32_t *candidates(const mni_policyset *ps, const char *role, size_t *n)
{
    int id = pl_name_id(ps, role);
    if (id >= 0 && ps->by_role[id]) {
        *n = ps->by_role_n[id];
        return ps->by_role[id];
    }
    *n = ps->any_role_n;
    return ps->any_role;
}

/* Action and resource (the role is matched by candidates()). */
static int matches(const struct pl_policy *p, int action, int resource)
{
    if (p->resource_id != PL_ANY && p->resource_id != resource)
        return 0;
    if (p->r.actions_any)
        return 1;
    for (size_t i = 0; i < p->r.nactions; i++)
        if (p->action_ids[i] == action)
            return 1;
    return 0;
}

/* Appends s to a reason, cutting at its end (snprintf costs more than the decision). */
typedef struct text {
    char *p, *end;
} text;

static void put(text *t, const char *s)
{
    size_t n = strlen(s), room = (size_t)(t->end - t->p);
    if (n > room)
        n = room;
    memcpy(t->p, s, n);
    t->p += n;
    *t->p = '\0';
}

static void put4(text *t, const char *a, const char *b, const char *c, const char *d)
{
    put(t, a);
    put(t, b);
    put(t, c);
    put(t, d);
}

static void civil(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Copies a constant message (snprintf costs more than most decisions). */
static void say(char *buf, size_t len, const char *msg)
{
    size_t n = strlen(msg);
    if (n >= len)
        n = len - 1;
    memcpy(buf, msg, n);
    buf[n] = '\0';
}

/* Writes, for people, why condition fail of r did not hold ("ip 1.2.3.4 is not allowed"). */
static void pl_fail_text(int f, const pl_rule *r, const pl_state *st, char *buf, size_t len)
{
    static const char *const days[7] = {"sunday", "monday", "tuesday", "wednesday",
                                        "thursday", "friday", "saturday"};
    const struct mni_request *rq = st->rq;
    const cJSON *t;
    int y, m, d, y2, m2, d2;
    if (!len)
        return;
    switch (f) {
    case PF_ROLES:
        snprintf(buf, len, "role %.40s is not in its conditions.roles", rq->role ? rq->role : "");
        break;
    case PF_TOD:
        snprintf(buf, len, "%02d:%02d UTC is outside %02d:%02d-%02d:%02d", st->minute / 60,
                 st->minute % 60, r->tod_start / 60, r->tod_start % 60, r->tod_end / 60,
                 r->tod_end % 60);
        break;
    case PF_DAY:
        snprintf(buf, len, "%s (UTC) is not in its days_of_week", days[st->wday]);
        break;
    case PF_DATE:
        civil(st->day, &y, &m, &d);
        civil(r->date_start, &y2, &m2, &d2);
        snprintf(buf, len, "%04d-%02d-%02d (UTC) is outside its date_range starting %04d-%02d-%02d",
                 y, m, d, y2, m2, d2);
        break;
    case PF_IP_NONE:
        say(buf, len, "it restricts ips and the request has no context.ip");
        break;
    case PF_IP_BAD:
        if (st->ip_text)
            snprintf(buf, len, "context.ip \"%.45s\" is not an IP address", st->ip_text);
        else
            snprintf(buf, len, "context.ip is %s, not an IP address",
                     pl_kind(pl_context_ip(rq)));
        break;
    case PF_IP:
        snprintf(buf, len, "ip %.45s is not in its allowed ips or ranges", st->ip_text);
        break;
    case PF_CLAIMS:
        say(buf, len, "the identity's claims do not contain its identity_claims");
        break;
    case PF_TYPE:
        t = cJSON_GetObjectItemCaseSensitive(rq->resource_data, "type");
        snprintf(buf, len, "memory type \"%.40s\" is not in its memory_types",
                 cJSON_IsString(t) ? t->valuestring : "");
        break;
    case PF_META:
        say(buf, len, "the metadata does not contain its metadata_requirements");
        break;
    case PF_WHEN:
        say(buf, len, "its \"when\" is false");
        break;
    default: {
        /* A long message is cut to the buffer: the reason is for people, a prefix will do. */
        say(buf, len, "its \"when\" failed: ");
        size_t at = strlen(buf);
        say(buf + at, len - at, st->msg);
        break;
    }
    }
}

int mni_policyset_decide(const mni_policyset *ps, const struct mni_request *rq, struct mni_verdict *v)
{
    text t = {v->reason, v->reason + sizeof v->reason - 1};
    v->allowed = 0;
    v->policy_id = NULL;
    v->partial = 0;
    v->valid_until_ms = INT64_MAX;
    v->reason[0] = '\0';
    if (!ps || !rq || !rq->action || !rq->resource) {
        put(&t, "denied: no policy set, action or resource given");
        return MN_EINVAL;
    }
    if (rq->resource_data && !cJSON_IsObject(rq->resource_data)) {
        put(&t, "denied: the resource data is not a JSON object");
        return MN_EINVAL;
    }
    pl_state st;
    pl_state_init(&st, rq);
    const struct pl_policy *allow = NULL, *miss = NULL;
    int assumed_allow = 0, assumed_deny = 0, miss_fail = PF_NONE;
    int action = pl_name_id(ps, rq->action), resource = pl_name_id(ps, rq->resource);
    size_t n;
    const uint32_t *list = candidates(ps, rq->role, &n);
    for (size_t i = 0; i < n; i++) {
        const struct pl_policy *p = &ps->p[list[i]];
        if ((allow && p->r.effect == PL_ALLOW) || !matches(p, action, resource))
            continue;
        int f = pl_cond_actor(&p->r, &st), assumed = 0;
        if (f == PF_NONE && p->r.on_resource) {
            if (rq->resource_data)
                f = pl_cond_resource(&p->r, &st);
            else
                assumed = 1; /* decided resource by resource later */
        }
        if (f == PF_ERROR) {
            v->policy_id = p->id;
            put4(&t, "denied: policy ", p->id, ": its \"when\" failed: ", st.msg);
            return st.rc;
        }
        if (f != PF_NONE) {
            if (p->r.effect == PL_ALLOW && !miss) {
                miss = p;
                miss_fail = f;
            }
        } else if (p->r.effect == PL_DENY && assumed) {
            assumed_deny = 1;
        } else if (p->r.effect == PL_DENY) {
            v->policy_id = p->id;
            v->valid_until_ms = st.valid_until_ms;
            put4(&t, "denied by policy ", p->id, " (deny ", rq->action);
            put4(&t, " on ", rq->resource, ", role ", p->role);
            put(&t, ")");
            if (p->r.has_ip && st.ip_state == PF_IP_BAD) {
                char why[96];
                pl_fail_text(PF_IP_BAD, &p->r, &st, why, sizeof why);
                put4(&t, ": ", why, ", which meets its ip_restrictions (fail closed)", "");
            }
            return MN_OK;
        } else {
            allow = p;
            assumed_allow = assumed;
        }
    }
    v->valid_until_ms = st.valid_until_ms;
    if (allow) {
        v->allowed = 1;
        v->policy_id = allow->id;
        v->partial = assumed_allow || assumed_deny;
        put4(&t, "allowed by policy ", allow->id,
             v->partial ? " (subject to each resource's own conditions)" : "", "");
        return MN_OK;
    }
    put4(&t, "no policy allows ", rq->action, " on ", rq->resource);
    put4(&t, " for role ", rq->role ? rq->role : "(none)", "", "");
    if (miss) {
        char why[160];
        pl_fail_text(miss_fail, &miss->r, &st, why, sizeof why);
        put4(&t, " (policy ", miss->id, " does not apply: ", why);
        put(&t, ")");
    }
    return MN_OK;
}

int mni_policyset_per_resource(const mni_policyset *ps, const char *role, const char *action,
                              const char *resource)
{
    if (!ps || !action || !resource)
        return 0;
    size_t n;
    const uint32_t *list = candidates(ps, role, &n);
    int a = pl_name_id(ps, action), r = pl_name_id(ps, resource);
    for (size_t i = 0; i < n; i++) {
        const struct pl_policy *p = &ps->p[list[i]];
        if (!p->r.on_resource || !matches(p, a, r))
            continue;
        size_t k = 0;
        while (p->r.roles && k < p->r.nroles && !(role && strcmp(p->r.roles[k], role) == 0))
            k++;
        if (!p->r.roles || k < p->r.nroles)
            return 1;
    }
    return 0;
}
