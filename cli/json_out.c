/*
 * json_out.c — the --json shapes of the API's structs. Field names here are an interface:
 * scripts read them, so they only ever gain fields. Timestamps are integers, milliseconds since
 * the Unix epoch (as in the API); expires_at is null for "never". metadata and claims are
 * embedded as JSON objects, not as strings holding JSON; so is a policy's rule. Neither goes
 * through a double: integers print as the integers they are, stored JSON as it was stored.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

cJSON *cli_json_raw(const char *text)
{
    if (!text)
        return cJSON_CreateNull();
    /* Stored JSON was checked when written (its values read exactly); a re-print through
     * cJSON would still respell them (1.0 as 1, 2^63 as 9.2233720368547758e+18). */
    cJSON *j = cJSON_Parse(text);
    int valid = j != NULL;
    cJSON_Delete(j);
    return valid ? cJSON_CreateRaw(text) : cJSON_CreateString(text);
}

cJSON *cli_json_int(int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return cJSON_CreateRaw(buf);
}

cJSON *cli_json_number(double v, int sig)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%.*g", sig, v);
    return cJSON_CreateNumber(strtod(buf, NULL));
}

static void add_int(cJSON *o, const char *k, int64_t v)
{
    cJSON_AddItemToObject(o, k, cli_json_int(v));
}

static void add_str(cJSON *o, const char *k, const char *v)
{
    cJSON_AddItemToObject(o, k, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

cJSON *cli_json_feed_entry(const mn_feed_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    add_int(o, "seq", e->seq);
    add_str(o, "kind", mn_feed_kind_name(e->kind));
    add_str(o, "id", e->memory_id);
    add_int(o, "version", e->version);
    add_str(o, "identity_id", e->identity_id);
    add_str(o, "type", e->type);
    add_str(o, "session", e->session);
    add_int(o, "expires_at", e->expires_at);
    return o;
}

cJSON *cli_json_memory(const mn_memory *m)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "id", m->id);
    add_str(o, "tenant_id", m->tenant_id);
    add_str(o, "identity_id", m->identity_id);
    add_str(o, "text", m->text);
    add_str(o, "type", m->type);
    cJSON_AddItemToObject(o, "metadata", cli_json_raw(m->metadata));
    cJSON_AddItemToObject(o, "importance", cli_json_number(m->importance, 6));
    add_int(o, "version", m->version);
    add_int(o, "created_at", m->created_at);
    add_int(o, "updated_at", m->updated_at);
    if (m->expires_at)
        add_int(o, "expires_at", m->expires_at);
    else
        cJSON_AddNullToObject(o, "expires_at");
    cJSON_AddBoolToObject(o, "deleted", m->deleted != 0);
    /* Asynchronous embedding: "done", "pending" or "failed", and the last error. */
    add_str(o, "embed_status", cli_embed_status_name(m->embed_status));
    add_str(o, "embed_error", m->embed_error);
    add_str(o, "external_key", m->external_key);
    add_str(o, "session", m->session);
    return o;
}

cJSON *cli_json_tenant(const mn_tenant *t)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "id", t->id);
    add_str(o, "name", t->name);
    add_int(o, "created_at", t->created_at);
    return o;
}

cJSON *cli_json_identity(const mn_identity *i)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "id", i->id);
    add_str(o, "tenant_id", i->tenant_id);
    add_str(o, "external_id", i->external_id);
    add_str(o, "role", i->role);
    cJSON_AddItemToObject(o, "claims", cli_json_raw(i->claims));
    cJSON_AddBoolToObject(o, "active", i->active != 0);
    add_int(o, "created_at", i->created_at);
    add_int(o, "updated_at", i->updated_at);
    return o;
}

/* rule is embedded as the JSON object it is; description is "" when there is none. */
cJSON *cli_json_policy(const mn_policy *p)
{
    cJSON *o = cJSON_CreateObject();
    add_str(o, "id", p->id);
    add_str(o, "tenant_id", p->tenant_id);
    add_str(o, "role", p->role);
    cJSON_AddItemToObject(o, "rule", cli_json_raw(p->rule));
    cJSON_AddNumberToObject(o, "priority", p->priority);
    cJSON_AddBoolToObject(o, "active", p->active != 0);
    add_str(o, "description", p->description ? p->description : "");
    add_int(o, "created_at", p->created_at);
    add_int(o, "updated_at", p->updated_at);
    return o;
}

/* policy_id is null when no policy decided (a deny for want of an allow, or the system actor). */
cJSON *cli_json_decision(const mn_decision *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "allowed", d->allowed != 0);
    add_str(o, "policy_id", d->policy_id);
    add_str(o, "reason", d->reason ? d->reason : "");
    return o;
}

/* resources and context are embedded as the JSON they are; a NULL field is null. */
cJSON *cli_json_audit_entry(const mn_audit_entry *e)
{
    cJSON *o = cJSON_CreateObject();
    add_int(o, "seq", e->seq);
    add_int(o, "at", e->at);
    add_str(o, "identity_id", e->identity_id);
    add_str(o, "apikey_id", e->apikey_id);
    add_str(o, "action", e->action);
    cJSON_AddItemToObject(o, "resources", cli_json_raw(e->resources));
    add_str(o, "outcome", e->outcome);
    add_str(o, "policy_id", e->policy_id);
    cJSON_AddItemToObject(o, "context", cli_json_raw(e->context));
    add_str(o, "prev_hash", e->prev_hash);
    add_str(o, "hash", e->hash);
    return o;
}

/* What lists show of a key; the key itself when key is not NULL. */
cJSON *cli_json_apikey(const mn_apikey *k, const char *key)
{
    cJSON *o = cJSON_CreateObject();
    if (key)
        cJSON_AddStringToObject(o, "key", key);
    cJSON_AddStringToObject(o, "id", k->id);
    cJSON_AddStringToObject(o, "tenant_id", k->tenant_id);
    cJSON_AddStringToObject(o, "identity_id", k->identity_id);
    cJSON_AddItemToObject(o, "scopes", k->scopes ? cli_json_raw(k->scopes) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "created_at", cli_json_int(k->created_at));
    cJSON_AddItemToObject(o, "expires_at", cli_json_int(k->expires_at));
    cJSON_AddItemToObject(o, "last_used_at", cli_json_int(k->last_used_at));
    return o;
}

/* A job of asynchronous embedding; next_at and error are null when there is none. */
cJSON *cli_json_job(const mn_job *j)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "memory_id", j->memory_id);
    cJSON_AddStringToObject(o, "tenant_id", j->tenant_id);
    cJSON_AddStringToObject(o, "status", cli_embed_status_name(j->status));
    cJSON_AddNumberToObject(o, "attempts", j->attempts);
    if (j->next_at)
        cJSON_AddItemToObject(o, "next_at", cli_json_int(j->next_at));
    else
        cJSON_AddNullToObject(o, "next_at");
    if (j->error)
        cJSON_AddStringToObject(o, "error", j->error);
    else
        cJSON_AddNullToObject(o, "error");
    cJSON_AddItemToObject(o, "created_at", cli_json_int(j->created_at));
    cJSON_AddItemToObject(o, "updated_at", cli_json_int(j->updated_at));
    return o;
}

int cli_json_emit(cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!s)
        return cli_error("out of memory formatting JSON");
    cli_print_text(stdout, s, 0); /* C1 codes as \u0080..: the same JSON, terminal-safe */
    putchar('\n');
    cJSON_free(s);
    return CLI_EXIT_OK;
}

cJSON *cli_json_search_hit(const mn_memory *m, int explain)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", m->id);
    cJSON_AddStringToObject(o, "text", m->text);
    cJSON_AddStringToObject(o, "type", m->type);
    cJSON_AddItemToObject(o, "metadata", cli_json_raw(m->metadata));
    cJSON_AddItemToObject(o, "similarity", cli_json_number(m->similarity, 6));
    cJSON_AddItemToObject(o, "recency_factor", cli_json_number(m->recency_factor, 6));
    cJSON_AddItemToObject(o, "importance_factor", cli_json_number(m->importance_factor, 6));
    cJSON_AddItemToObject(o, "score", cli_json_number(m->score, 6));
    cJSON_AddItemToObject(o, "importance", cli_json_number(m->importance, 6));
    if (m->identity_id)
        cJSON_AddStringToObject(o, "identity_id", m->identity_id);
    else
        cJSON_AddNullToObject(o, "identity_id");
    cJSON_AddItemToObject(o, "created_at", cli_json_int(m->created_at));
    if (explain) {
        cJSON *e = cJSON_AddObjectToObject(o, "explain");
        cJSON_AddItemToObject(e, "vector_score", cli_json_number(m->vector_score, 6));
        cJSON_AddNumberToObject(e, "vector_rank", m->vector_rank);
        cJSON_AddItemToObject(e, "keyword_score", cli_json_number(m->keyword_score, 6));
        cJSON_AddNumberToObject(e, "keyword_rank", m->keyword_rank);
        cJSON_AddItemToObject(e, "fused_score", cli_json_number(m->fused_score, 6));
    }
    return o;
}

/* A webhook subscription; the secret only in the answer that made it. */
cJSON *cli_json_webhook(const mn_webhook *w, const char *secret)
{
    cJSON *o = cJSON_CreateObject();
    if (secret)
        cJSON_AddStringToObject(o, "secret", secret);
    cJSON_AddStringToObject(o, "id", w->id);
    cJSON_AddStringToObject(o, "tenant_id", w->tenant_id);
    cJSON_AddStringToObject(o, "url", w->url);
    cJSON_AddItemToObject(o, "events", cli_json_raw(w->events));
    cJSON_AddItemToObject(o, "created_at", cli_json_int(w->created_at));
    return o;
}

static const char *const delivery_status_names[] = {"any", "pending", "done", "dead"};

const char *cli_delivery_status_name(int status)
{
    return status >= MN_DELIVERY_PENDING && status <= MN_DELIVERY_DEAD
               ? delivery_status_names[status] : "pending";
}

int cli_delivery_status_of(const char *name)
{
    for (int i = 0; i <= MN_DELIVERY_DEAD; i++)
        if (strcmp(delivery_status_names[i], name) == 0)
            return i;
    return -1;
}

/* A webhook delivery; next_at and error are null when there is none. */
cJSON *cli_json_delivery(const mn_webhook_delivery *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "id", cli_json_int(d->id));
    cJSON_AddStringToObject(o, "webhook_id", d->webhook_id);
    cJSON_AddStringToObject(o, "event_id", d->event_id);
    cJSON_AddStringToObject(o, "event", d->event);
    cJSON_AddStringToObject(o, "status", cli_delivery_status_name(d->status));
    cJSON_AddNumberToObject(o, "attempts", d->attempts);
    cJSON_AddItemToObject(o, "next_at", d->next_at ? cli_json_int(d->next_at) : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "http_status", d->http_status);
    cJSON_AddItemToObject(o, "error", d->error ? cJSON_CreateString(d->error) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "created_at", cli_json_int(d->created_at));
    cJSON_AddItemToObject(o, "updated_at", cli_json_int(d->updated_at));
    return o;
}
