/* Policies: evaluating a rule's conditions for one request (roles, identity claims, client ip,
 * time of day / day of week / date range in UTC, memory types, metadata, "when"), and the
 * addresses and ranges ip conditions are made of. */
#include "policy/policy_impl.h"

#include "core/json.h"
#include "manushya.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define DAY_MS 86400000LL

/* ---- addresses ------------------------------------------------------------------------------- */

/* Dotted-quad IPv4 as inet_pton reads it (four decimal parts 0..255, no leading zeros). */
static int parse_v4(const char *s, uint8_t v4[4])
{
    for (int i = 0; i < 4; i++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned v = 0, n = 0;
        for (; *s >= '0' && *s <= '9' && n < 4; s++, n++)
            v = v * 10 + (unsigned)(*s - '0');
        if (v > 255 || n > 3 || (n > 1 && s[-(int)n] == '0'))
            return -1;
        v4[i] = (uint8_t)v;
        if (*s != (i < 3 ? '.' : '\0'))
            return -1;
        s += i < 3;
    }
    return 0;
}

int pl_parse_ip(const char *s, uint8_t out[16], int *is_v4)
{
    if (!s || strlen(s) > 45)
        return -1;
    uint8_t v4[4];
    if (parse_v4(s, v4) == 0) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        memcpy(out, mapped, 12);
        memcpy(out + 12, v4, 4);
        *is_v4 = 1;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        *is_v4 = 0;
        return 0;
    }
    return -1;
}

int pl_parse_cidr(const char *s, pl_net *out)
{
    if (!s)
        return -1;
    const char *slash = strchr(s, '/');
    char addr[64];
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof addr)
        return -1;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    int v4;
    if (pl_parse_ip(addr, out->addr, &v4) != 0)
        return -1;
    int max = v4 ? 32 : 128, bits = max;
    if (slash) {
        const char *p = slash + 1;
        size_t n = strlen(p);
        if (n == 0 || n > 3)
            return -1;
        bits = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] < '0' || p[i] > '9')
                return -1;
            bits = bits * 10 + (p[i] - '0');
        }
        if (bits > max || (n > 1 && p[0] == '0'))
            return -1;
    }
    out->bits = v4 ? bits + 96 : bits;
    /* no address bits past the prefix: "10.0.0.1/8" is most likely a mistake */
    for (int i = out->bits; i < 128; i++)
        if (out->addr[i / 8] & (0x80 >> (i % 8)))
            return -2;
    return 0;
}

int pl_net_contains(const pl_net *n, const uint8_t ip[16])
{
    int full = n->bits / 8, rest = n->bits % 8;
    if (memcmp(n->addr, ip, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (n->addr[full] & mask) == (ip[full] & mask);
}

/* ---- what "when" reads ----------------------------------------------------------------------- */

static int pl_path_on_resource(const char *p)
{
    if (!p || !p[0])
        return 1; /* the whole data */
    if (strncmp(p, "resource", 8) != 0 || (p[8] && p[8] != '.'))
        return 0;
    if (!p[8] || !p[9])
        return 1; /* resource itself, or "resource." */
    const char *rest = p + 9;
    return !(strncmp(rest, "kind", 4) == 0 && (!rest[4] || rest[4] == '.'));
}

/* Argument i (0-based) of an operation's argument value a (a single value is argument 0). */
static const cJSON *arg(const cJSON *a, int i)
{
    if (!cJSON_IsArray(a))
        return i == 0 ? a : NULL;
    const cJSON *e = a->child;
    while (e && i-- > 0)
        e = e->next;
    return e;
}

/* missing/missing_some keys: any key on the resource, or anything that is not a plain key. */
static int keys_on_resource(const cJSON *k)
{
    if (cJSON_IsString(k))
        return pl_path_on_resource(k->valuestring);
    if (cJSON_IsArray(k)) {
        for (const cJSON *e = k->child; e; e = e->next)
            if (keys_on_resource(e))
                return 1;
        return 0;
    }
    return cJSON_IsObject(k) || cJSON_IsNull(k);
}

int pl_logic_on_resource(const cJSON *j)
{
    if (cJSON_IsArray(j)) {
        for (const cJSON *e = j->child; e; e = e->next)
            if (pl_logic_on_resource(e))
                return 1;
        return 0;
    }
    if (!cJSON_IsObject(j) || !j->child || j->child->next)
        return 0; /* a literal */
    const char *op = j->child->string;
    const cJSON *a = j->child;
    if (strcmp(op, "var") == 0) {
        const cJSON *p = arg(a, 0);
        if (!p || cJSON_IsNull(p) || cJSON_IsObject(p) || cJSON_IsArray(p))
            return 1; /* the whole data, or a path computed at run time */
        if (cJSON_IsString(p) && pl_path_on_resource(p->valuestring))
            return 1;
        return pl_logic_on_resource(arg(a, 1)); /* the default */
    }
    if (strcmp(op, "missing") == 0 || strcmp(op, "missing_some") == 0)
        return keys_on_resource(a);
    /* inside these, var reads the current element, not the request's data */
    if (strcmp(op, "map") == 0 || strcmp(op, "filter") == 0 || strcmp(op, "all") == 0 ||
        strcmp(op, "none") == 0 || strcmp(op, "some") == 0)
        return pl_logic_on_resource(arg(a, 0));
    if (strcmp(op, "reduce") == 0)
        return pl_logic_on_resource(arg(a, 0)) || pl_logic_on_resource(arg(a, 2));
    return pl_logic_on_resource(a);
}

/* ---- one request ----------------------------------------------------------------------------- */

void pl_state_init(pl_state *st, const struct mni_request *rq)
{
    st->rq = rq;
    st->ip_state = 0;
    st->time_ready = 0;
    st->data_ready = 0;
    st->valid_until_ms = INT64_MAX;
    st->rc = MN_OK;
    st->msg[0] = '\0';
}

static void time_ready(pl_state *st)
{
    if (st->time_ready)
        return;
    int64_t now = st->rq->now_ms;
    int64_t day = now / DAY_MS;
    if (now % DAY_MS < 0)
        day--;
    st->day = day;
    st->day_start_ms = day * DAY_MS;
    st->minute = (int)((now - st->day_start_ms) / 60000);
    st->wday = (int)(((day + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
    st->time_ready = 1;
}

static void until(pl_state *st, int64_t t)
{
    if (t < st->valid_until_ms)
        st->valid_until_ms = t;
}

/* The next instant after now at which the UTC time of day is minute m. */
static int64_t next_minute(const pl_state *st, int m)
{
    int64_t at = st->day_start_ms + (int64_t)m * 60000;
    return at > st->rq->now_ms ? at : at + DAY_MS;
}

static int time_holds(const pl_rule *r, pl_state *st)
{
    time_ready(st);
    if (r->has_tod) {
        until(st, next_minute(st, r->tod_start));
        until(st, next_minute(st, r->tod_end));
        int m = st->minute;
        int in = r->tod_start < r->tod_end ? m >= r->tod_start && m < r->tod_end
                                           : m >= r->tod_start || m < r->tod_end;
        if (!in)
            return PF_TOD;
    }
    if (r->days || r->has_dates)
        until(st, st->day_start_ms + DAY_MS);
    if (r->days && !(r->days & (1u << st->wday)))
        return PF_DAY;
    if (r->has_dates && (st->day < r->date_start || st->day > r->date_end))
        return PF_DATE;
    return PF_NONE;
}

const cJSON *pl_context_ip(const struct mni_request *rq)
{
    return cJSON_IsObject(rq->context) ? cJSON_GetObjectItemCaseSensitive(rq->context, "ip")
                                       : NULL;
}

static int ip_holds(const pl_rule *r, pl_state *st)
{
    if (!st->ip_state) {
        const cJSON *ip = pl_context_ip(st->rq);
        int v4;
        st->ip_text = cJSON_IsString(ip) ? ip->valuestring : NULL;
        st->ip_state = !ip ? PF_IP_NONE
                       : st->ip_text && pl_parse_ip(st->ip_text, st->ip, &v4) == 0 ? 1
                                                                                  : PF_IP_BAD;
    }
    /* An address that is there but unreadable ("10.1.2.3:8080", a number) fails closed: it
     * meets every deny's ip_restrictions and no allow's, so that a client cannot slip past a
     * deny by spelling its address oddly. */
    if (st->ip_state == PF_IP_BAD && r->effect == PL_DENY)
        return PF_NONE;
    if (st->ip_state != 1)
        return st->ip_state;
    for (size_t i = 0; i < r->nnets; i++)
        if (pl_net_contains(&r->nets[i], st->ip))
            return PF_NONE;
    return PF_IP;
}

static cJSON *node(cJSON *n, int type, const char *key, cJSON *next)
{
    memset(n, 0, sizeof *n);
    n->type = type;
    n->string = (char *)key;
    n->next = next;
    return n;
}

/* {"actor":{"id","role","claims"},"action","resource":{"kind",...data},"context"} on the stack,
 * borrowing the request's objects' members (their own nodes are never modified). */
static const cJSON *data(pl_state *st)
{
    if (st->data_ready)
        return &st->nodes[0];
    const struct mni_request *rq = st->rq;
    cJSON *n = st->nodes;
    node(&n[8], cJSON_Object, "context", NULL);
    if (cJSON_IsObject(rq->context))
        n[8].child = rq->context->child;
    node(&n[7], cJSON_String, "kind",
         cJSON_IsObject(rq->resource_data) ? rq->resource_data->child : NULL);
    n[7].valuestring = (char *)rq->resource;
    node(&n[6], cJSON_Object, "resource", &n[8])->child = &n[7];
    node(&n[5], cJSON_String, "action", &n[6])->valuestring = (char *)rq->action;
    node(&n[4], cJSON_Object, "claims", NULL);
    if (cJSON_IsObject(rq->claims))
        n[4].child = rq->claims->child;
    node(&n[3], rq->role ? cJSON_String : cJSON_NULL, "role", &n[4])->valuestring =
        (char *)rq->role;
    node(&n[2], rq->identity_id ? cJSON_String : cJSON_NULL, "id", &n[3])->valuestring =
        (char *)rq->identity_id;
    node(&n[1], cJSON_Object, "actor", &n[5])->child = &n[2];
    node(&n[0], cJSON_Object, NULL, NULL)->child = &n[1];
    n[1].prev = &n[8];
    n[2].prev = &n[4];
    st->data_ready = 1;
    return &n[0];
}

static int when_holds(const pl_rule *r, pl_state *st)
{
    static const mni_jl_limits lim = {MNI_POLICY_WHEN_MAX_BYTES, MNI_POLICY_WHEN_MAX_STEPS};
    int truthy = 0;
    int rc = mni_jl_eval_ex(r->when, data(st), &lim, NULL, &truthy, st->msg, sizeof st->msg);
    if (rc != MN_OK) {
        st->rc = rc;
        return PF_ERROR;
    }
    return truthy ? PF_NONE : PF_WHEN;
}

int pl_cond_actor(const pl_rule *r, pl_state *st)
{
    const struct mni_request *rq = st->rq;
    if (r->roles) {
        size_t i = 0;
        while (i < r->nroles && !(rq->role && strcmp(r->roles[i], rq->role) == 0))
            i++;
        if (i == r->nroles)
            return PF_ROLES;
    }
    if (r->claims) {
        static const cJSON empty = {NULL, NULL, NULL, cJSON_Object, NULL, 0, 0, NULL};
        if (!mni_json_contains(cJSON_IsObject(rq->claims) ? rq->claims : &empty, r->claims))
            return PF_CLAIMS;
    }
    int f;
    if (r->has_ip && (f = ip_holds(r, st)) != PF_NONE)
        return f;
    if (r->has_time && (f = time_holds(r, st)) != PF_NONE)
        return f;
    if (r->when && !r->when_on_resource)
        return when_holds(r, st);
    return PF_NONE;
}

int pl_cond_resource(const pl_rule *r, pl_state *st)
{
    const cJSON *rd = st->rq->resource_data;
    if (r->types) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(rd, "type");
        size_t i = 0;
        while (i < r->ntypes && !(cJSON_IsString(t) && strcmp(r->types[i], t->valuestring) == 0))
            i++;
        if (i == r->ntypes)
            return PF_TYPE;
    }
    if (r->meta) {
        static const cJSON empty = {NULL, NULL, NULL, cJSON_Object, NULL, 0, 0, NULL};
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(rd, "metadata");
        if (!mni_json_contains(cJSON_IsObject(m) ? m : &empty, r->meta))
            return PF_META;
    }
    if (r->when && r->when_on_resource)
        return when_holds(r, st);
    return PF_NONE;
}
