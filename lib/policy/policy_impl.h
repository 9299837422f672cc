/*
 * Internals of the policy engine, shared by policy_rule.c (parsing and validating one rule),
 * policy_cond.c (evaluating conditions for one request) and policy_decide.c (sets and
 * decisions). Not for use outside lib/policy.
 */
#ifndef MNI_POLICY_POLICY_IMPL_H
#define MNI_POLICY_POLICY_IMPL_H

#include "jsonlogic/jsonlogic.h"
#include "policy/policy.h"

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define PL_DENY 0
#define PL_ALLOW 1

/* An address range: addr is the IPv6 form (IPv4 as ::ffff:a.b.c.d, its prefix + 96). */
typedef struct pl_net {
    uint8_t addr[16];
    int bits;
} pl_net;

/* One compiled rule. Every pointer is owned by the rule (pl_rule_clear frees them). */
typedef struct pl_rule {
    int effect;             /* PL_ALLOW or PL_DENY */
    int actions_any;        /* "*" */
    char **actions;
    size_t nactions;
    int resource_any;       /* "*" */
    char *resource;
    char **roles;           /* conditions.roles (NULL: no such condition) */
    size_t nroles;
    int has_tod;            /* time_of_day: [tod_start, tod_end) in minutes of the UTC day */
    int tod_start, tod_end; /* tod_start > tod_end wraps midnight */
    unsigned days;          /* days_of_week: bit d set for day d (0 = Sunday); 0: no condition */
    int has_dates;          /* date_range, days since 1970-01-01, both ends included */
    int64_t date_start, date_end;
    int has_ip;             /* ip_restrictions: allowed_ips (as /32, /128) and allowed_ranges */
    pl_net *nets;
    size_t nnets;
    char **types;           /* resource_conditions.memory_types (NULL: no such condition) */
    size_t ntypes;
    cJSON *meta;            /* resource_conditions.metadata_requirements (NULL: none) */
    cJSON *claims;          /* custom_conditions.identity_claims (NULL: none) */
    mni_jl *when;            /* NULL: none */
    int when_on_resource;   /* "when" may read the resource's data (not only resource.kind) */
    int on_resource;        /* some condition reads the resource's data */
    int has_time;           /* has_tod || days || has_dates */
} pl_rule;

/* ---- parsing (policy_rule.c, policy_rule_cond.c) --------------------------------------------- */

/* Where a parse error goes. */
typedef struct pl_pctx {
    char *err;
    size_t errlen;
} pl_pctx;

/* Writes "path: message" and returns MN_EINVAL. */
int pl_bad(pl_pctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pl_oom(pl_pctx *c); /* MN_ENOMEM with a message */
const char *pl_kind(const cJSON *v); /* "an object", "a string", ... */
/* v quoted for a message (strings cut at 60 bytes; other values named by kind). */
const char *pl_quoted(const cJSON *v, char *buf, size_t len);
void pl_subpath(char *out, size_t len, const char *path, const char *key); /* path.key */
void pl_subindex(char *out, size_t len, const char *path, size_t i);       /* path[i] */
/* Every member of o is one of names (NULL-terminated), at most once; list names them for
 * people. */
int pl_keys_known(pl_pctx *c, const cJSON *o, const char *path, const char *const *names,
                  const char *list);
int pl_need_object(pl_pctx *c, const cJSON *v, const char *path);
/* A non-empty array of non-empty strings copied into *out, *n; star: "*" alone (or as an
 * element) is accepted and sets *any. */
int pl_strings(pl_pctx *c, const cJSON *v, const char *path, int star, int *any, char ***out,
               size_t *n);
/* An object, duplicated into *out. */
int pl_dup_object(pl_pctx *c, const cJSON *v, const char *path, cJSON **out);
/* The "conditions" object into r. */
int pl_parse_conditions(pl_pctx *c, pl_rule *r, const cJSON *v);

/* Parses and validates rule text into *r (zeroed first). MN_EINVAL with the JSON path of the
 * bad field in err, MN_ENOMEM. On failure *r holds nothing to free. */
int pl_rule_parse(const char *json, pl_rule *r, char *err, size_t errlen);
void pl_rule_clear(pl_rule *r);

/* Parsers shared with the tests of edge cases (0 on success, -1 on a bad value). */
int pl_parse_hhmm(const char *s, int *minutes);
int pl_parse_date(const char *s, int64_t *days);
int pl_parse_ip(const char *s, uint8_t out[16], int *is_v4);
/* "addr/bits" or a bare address; -2 when host bits are set past the prefix. */
int pl_parse_cidr(const char *s, pl_net *out);
int pl_net_contains(const pl_net *n, const uint8_t ip[16]);

/* ---- one request's evaluation ---------------------------------------------------------------- */

/* Why a condition did not hold (or PF_NONE). */
enum pl_fail {
    PF_NONE = 0,
    PF_ROLES,      /* actor's role not in conditions.roles */
    PF_TOD,        /* outside time_of_day */
    PF_DAY,        /* not one of days_of_week */
    PF_DATE,       /* outside date_range */
    PF_IP_NONE,    /* no context.ip */
    PF_IP_BAD,     /* context.ip is not an address (only an allow fails so: a deny applies) */
    PF_IP,         /* ip not allowed */
    PF_CLAIMS,     /* identity_claims not contained */
    PF_TYPE,       /* memory type not allowed */
    PF_META,       /* metadata_requirements not contained */
    PF_WHEN,       /* "when" is falsy */
    PF_ERROR       /* "when" failed to evaluate: st->rc, st->msg */
};

/* The request as conditions see it, with what is worked out lazily once per decision. */
typedef struct pl_state {
    const struct mni_request *rq;
    int ip_state;           /* 0: not looked at; 1: ip parsed; PF_IP_NONE or PF_IP_BAD */
    uint8_t ip[16];
    const char *ip_text;    /* context.ip when it is a string */
    int time_ready;
    int minute;             /* of the UTC day */
    int wday;               /* 0 = Sunday */
    int64_t day;            /* days since the epoch */
    int64_t day_start_ms;   /* now_ms at 00:00 UTC of that day */
    int64_t valid_until_ms; /* the earliest instant a time condition looked at may change */
    int data_ready;         /* the data of "when" is built */
    cJSON nodes[9];         /* {actor:{id,role,claims},action,resource:{kind,...},context} */
    int rc;                 /* PF_ERROR: the code and message */
    char msg[160];
} pl_state;

void pl_state_init(pl_state *st, const struct mni_request *rq);
/* The request's context.ip as given (any JSON value), or NULL when there is none. */
const cJSON *pl_context_ip(const struct mni_request *rq);
/* Conditions that do not read the resource's data (roles, time, ip, claims, a "when" that does
 * not read the resource). PF_NONE when they all hold. */
int pl_cond_actor(const pl_rule *r, pl_state *st);
/* Conditions on the resource's data (memory_types, metadata_requirements, a "when" that reads
 * the resource). rq->resource_data must not be NULL. */
int pl_cond_resource(const pl_rule *r, pl_state *st);

/* ---- sets (policy_set.c, policy_decide.c) ---------------------------------------------------- */

#define PL_ANY (-1)    /* a policy's "*" */
#define PL_NONAME (-2) /* a request's role/action/resource that no policy names */

struct pl_policy {
    char *id;
    char *role;
    int priority;
    int role_id;     /* name id of role, or PL_ANY */
    int resource_id; /* name id of the rule's resource, or PL_ANY */
    int *action_ids; /* name ids of the rule's actions (r.nactions of them; "*" is PL_ANY) */
    pl_rule r;
};

/* The policies, sorted, and an index over the names they use (roles, actions, resources), so
 * that a decision compares small integers instead of strings. */
struct mni_policyset {
    size_t n;
    struct pl_policy *p;     /* priority descending; at equal priority denies first, then by id */
    const char **names;      /* distinct names, borrowed from the policies */
    size_t nnames;
    int *slots;              /* open addressing over names: a name id or -1 */
    size_t slot_mask;
    uint32_t **by_role;      /* per name id: the policies of that role or of "*" (NULL if the
                              * name is no policy's role), in order */
    size_t *by_role_n;
    uint32_t *any_role;      /* the policies of role "*" */
    size_t any_role_n;
};

/* The name id of s in ps, or PL_NONAME (s may be NULL). */
int pl_name_id(const mni_policyset *ps, const char *s);

/* 1 when JSON Logic j may read the resource's data (conservative). */
int pl_logic_on_resource(const cJSON *j);

#endif
